//! Creates per second of simple ConfigMaps against an in-process kubesim over 127.0.0.1, through
//! the kube client and through a raw keep-alive HTTP/1.1 client (hyper), at several concurrency
//! levels. The raw rows show what the server sustains; the gap to the kube rows is client cost.
//!
//! Run with `cargo bench -p godwit-kubesim --bench creates`. Each row stops after
//! `MAX_CREATES` creates or `MAX_TIME`, whichever comes first. Client and server share the
//! machine's cores, so the server alone is faster than any row shows.

#![allow(clippy::unwrap_used)]

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use godwit_kubesim::{Options, Running};
use hyper::body::{Body as _, Incoming};
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, PostParams};

const CONCURRENCY: &[usize] = &[1, 16, 64];
const MAX_CREATES: u64 = 20_000;
const MAX_TIME: Duration = Duration::from_secs(3);

/// What one row measured.
struct Row {
    client: &'static str,
    concurrency: usize,
    created: u64,
    failed: u64,
    elapsed: Duration,
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let running = godwit_kubesim::start(Options::default()).await.unwrap();
    let client = running.client().unwrap();
    let mut rows = Vec::new();
    for &concurrency in CONCURRENCY {
        let namespace = create_namespace(&client, &format!("bench-kube-{concurrency}")).await;
        rows.push(kube_row(&client, &namespace, concurrency).await);
        let namespace = create_namespace(&client, &format!("bench-raw-{concurrency}")).await;
        rows.push(raw_row(&running, &namespace, concurrency).await);
    }
    println!(
        "{:<10} {:>11} {:>8} {:>7} {:>8} {:>10}",
        "client", "concurrency", "created", "failed", "seconds", "creates/s"
    );
    for row in &rows {
        let seconds = row.elapsed.as_secs_f64();
        println!(
            "{:<10} {:>11} {:>8} {:>7} {:>8.2} {:>10.0}",
            row.client,
            row.concurrency,
            row.created,
            row.failed,
            seconds,
            row.created as f64 / seconds
        );
    }
    running.shutdown().await;
}

async fn create_namespace(client: &kube::Client, name: &str) -> String {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace: Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).unwrap();
    namespaces
        .create(&PostParams::default(), &namespace)
        .await
        .unwrap();
    name.to_string()
}

/// Hands out object numbers until the count or the time is up.
struct Budget {
    next: AtomicU64,
    created: AtomicU64,
    failed: AtomicU64,
    deadline: Instant,
}

impl Budget {
    fn new() -> Arc<Budget> {
        Arc::new(Budget {
            next: AtomicU64::new(0),
            created: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            deadline: Instant::now() + MAX_TIME,
        })
    }

    fn take(&self) -> Option<u64> {
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        (index < MAX_CREATES && Instant::now() < self.deadline).then_some(index)
    }

    fn record(&self, ok: bool) {
        let counter = if ok { &self.created } else { &self.failed };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

fn config_map_json(index: u64) -> String {
    format!(
        r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"cm-{index}"}},"data":{{"k":"v"}}}}"#
    )
}

async fn kube_row(client: &kube::Client, namespace: &str, concurrency: usize) -> Row {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let budget = Budget::new();
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let api = api.clone();
            let budget = budget.clone();
            tokio::spawn(async move {
                while let Some(index) = budget.take() {
                    let object: ConfigMap = serde_json::from_str(&config_map_json(index)).unwrap();
                    let ok = api.create(&PostParams::default(), &object).await.is_ok();
                    budget.record(ok);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    Row {
        client: "kube",
        concurrency,
        created: budget.created.load(Ordering::Relaxed),
        failed: budget.failed.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
    }
}

async fn raw_row(running: &Running, namespace: &str, concurrency: usize) -> Row {
    let budget = Budget::new();
    let port = running.port();
    let authorization = format!("Bearer {}", running.token());
    let path = format!("/api/v1/namespaces/{namespace}/configmaps");
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let budget = budget.clone();
            let authorization = authorization.clone();
            let path = path.clone();
            tokio::spawn(async move {
                // One keep-alive connection per worker, requests one after another on it.
                let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .unwrap();
                stream.set_nodelay(true).unwrap();
                let (mut sender, connection) =
                    hyper::client::conn::http1::handshake::<_, String>(TokioIo::new(stream))
                        .await
                        .unwrap();
                tokio::spawn(connection);
                while let Some(index) = budget.take() {
                    let request = http::Request::post(path.as_str())
                        .header(http::header::HOST, format!("127.0.0.1:{port}"))
                        .header(http::header::AUTHORIZATION, authorization.as_str())
                        .header(http::header::CONTENT_TYPE, "application/json")
                        .header(http::header::ACCEPT, "application/json")
                        .body(config_map_json(index))
                        .unwrap();
                    let ok = match sender.send_request(request).await {
                        Ok(response) => {
                            let created = response.status() == http::StatusCode::CREATED;
                            drain(response.into_body()).await && created
                        }
                        Err(_) => false,
                    };
                    budget.record(ok);
                    if !ok && sender.is_closed() {
                        break;
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    Row {
        client: "raw-http",
        concurrency,
        created: budget.created.load(Ordering::Relaxed),
        failed: budget.failed.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
    }
}

/// Reads a response body to its end (the connection is reusable only then).
async fn drain(mut body: Incoming) -> bool {
    loop {
        match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            None => return true,
            Some(Ok(_)) => {}
            Some(Err(_)) => return false,
        }
    }
}
