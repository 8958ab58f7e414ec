//! A fault-injecting proxy in front of an API server, for soaks and tests: it listens on
//! 127.0.0.1 with TLS of its own (a certificate made at start), forwards every request to the
//! upstream (envtest's kube-apiserver, kubesim, any cluster) through a kube client built from
//! the upstream's kubeconfig, and spoils a seeded share of them ([`Schedule`]): 429 with
//! `Retry-After`, 500, 503, a delay before forwarding, or the connection closed before or after
//! the upstream applied the request.
//!
//! It writes a kubeconfig that points at itself and keeps the upstream's user, so any client
//! (godwit, kubectl) can use it unchanged; it authenticates upstream as that user whatever the
//! client sends, so it is for 127.0.0.1 test runs only. Watches pass through untouched (a broken
//! watch is re-established by design, not retried, and nothing here needs that case). It
//! counts what it injected per kind, and records every create the upstream answered `201
//! Created` for, by path and name, so a soak can check on the wire that each object was created
//! exactly once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, anyhow};
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use hyper::body::{Body as _, Incoming};
use hyper_util::rt::TokioIo;
use kube::client::Body;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

pub use crate::fault_schedule::{Fault, FaultKind, Schedule};

/// What the proxy has seen and done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultCounts {
    /// Requests received, watches included.
    pub requests: u64,
    /// Watches passed through without a fault.
    pub watches: u64,
    /// Faults injected, per kind.
    pub faults: BTreeMap<FaultKind, u64>,
    /// Requests the upstream could not be reached for (answered 502); zero in a healthy run.
    pub upstream_errors: u64,
    /// Creates the upstream applied (`201 Created`) whose answer was then dropped: each must
    /// still end as one created object.
    pub creates_unanswered: u64,
}

impl FaultCounts {
    /// Faults injected, all kinds.
    pub fn total(&self) -> u64 {
        self.faults.values().sum()
    }

    /// Faults of one kind.
    pub fn of(&self, kind: FaultKind) -> u64 {
        self.faults.get(&kind).copied().unwrap_or(0)
    }

    /// What happened between `earlier` and these counts.
    pub fn since(&self, earlier: &FaultCounts) -> FaultCounts {
        FaultCounts {
            requests: self.requests - earlier.requests,
            watches: self.watches - earlier.watches,
            faults: FaultKind::ALL
                .iter()
                .map(|kind| (*kind, self.of(*kind) - earlier.of(*kind)))
                .filter(|(_, count)| *count > 0)
                .collect(),
            upstream_errors: self.upstream_errors - earlier.upstream_errors,
            creates_unanswered: self.creates_unanswered - earlier.creates_unanswered,
        }
    }
}

/// A running proxy; stopped when dropped.
pub struct FaultProxy {
    /// `https://127.0.0.1:<port>`.
    pub url: String,
    /// A kubeconfig for the proxy: the upstream's user, the proxy's address and certificate.
    pub kubeconfig: PathBuf,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // The accept loop owns the connections' tasks: aborting it ends them too.
        self.task.abort();
    }
}

struct State {
    upstream: kube::Client,
    schedule: Schedule,
    /// Number of the next eligible (non-watch) request.
    next: AtomicU64,
    requests: AtomicU64,
    watches: AtomicU64,
    upstream_errors: AtomicU64,
    creates_unanswered: AtomicU64,
    faults: [AtomicU64; FaultKind::ALL.len()],
    /// `<path>/<name>` of every create the upstream answered 201 for, with how many times.
    created: Mutex<BTreeMap<String, u32>>,
}

/// Starts a proxy in front of the API server of `upstream_kubeconfig` (its current context),
/// writing the proxy's kubeconfig into `dir`.
pub async fn start(
    upstream_kubeconfig: &Path,
    schedule: Schedule,
    dir: &Path,
) -> anyhow::Result<FaultProxy> {
    let kubeconfig = kube::config::Kubeconfig::read_from(upstream_kubeconfig).map_err(|err| {
        anyhow!(
            "cannot read kubeconfig {}: {err}",
            upstream_kubeconfig.display()
        )
    })?;
    let mut config = kube::Config::from_custom_kubeconfig(
        kubeconfig.clone(),
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .map_err(|err| {
        anyhow!(
            "cannot use kubeconfig {}: {err}",
            upstream_kubeconfig.display()
        )
    })?;
    // What the upstream answers goes back to the client as it is: the client does the retrying.
    config.default_retry = false;
    let upstream = kube::Client::try_from(config).context("cannot build the upstream client")?;

    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .context("cannot make the proxy's certificate")?;
    let ca_pem = certified.cert.pem();
    let acceptor = acceptor(&certified)?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot listen on 127.0.0.1")?;
    let port = listener
        .local_addr()
        .context("cannot read the proxy's port")?
        .port();
    let url = format!("https://127.0.0.1:{port}");
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("fault-proxy.kubeconfig");
    std::fs::write(&path, proxy_kubeconfig(kubeconfig, &url, &ca_pem)?)
        .with_context(|| format!("cannot write {}", path.display()))?;

    let state = Arc::new(State {
        upstream,
        schedule,
        next: AtomicU64::new(0),
        requests: AtomicU64::new(0),
        watches: AtomicU64::new(0),
        upstream_errors: AtomicU64::new(0),
        creates_unanswered: AtomicU64::new(0),
        faults: Default::default(),
        created: Mutex::default(),
    });
    let task = tokio::spawn(accept_loop(listener, acceptor, Arc::clone(&state)));
    Ok(FaultProxy {
        url,
        kubeconfig: path,
        state,
        task,
    })
}

impl FaultProxy {
    /// The counts so far.
    pub fn counts(&self) -> FaultCounts {
        let state = &self.state;
        FaultCounts {
            requests: state.requests.load(Ordering::Relaxed),
            watches: state.watches.load(Ordering::Relaxed),
            faults: FaultKind::ALL
                .iter()
                .zip(&state.faults)
                .map(|(kind, count)| (*kind, count.load(Ordering::Relaxed)))
                .filter(|(_, count)| *count > 0)
                .collect(),
            upstream_errors: state.upstream_errors.load(Ordering::Relaxed),
            creates_unanswered: state.creates_unanswered.load(Ordering::Relaxed),
        }
    }

    /// The creates the upstream answered `201 Created` for whose path starts with `prefix`
    /// (`/api/v1/namespaces/shop/configmaps`), by name, with how many times each was created.
    pub fn created(&self, prefix: &str) -> BTreeMap<String, u32> {
        let created = self
            .state
            .created
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        created
            .iter()
            .filter_map(|(key, count)| {
                let (path, name) = key.rsplit_once('/')?;
                (path == prefix.trim_end_matches('/')).then(|| (name.to_owned(), *count))
            })
            .collect()
    }
}

/// The upstream kubeconfig with its current context's cluster pointed at the proxy; written as
/// JSON, which every kubeconfig reader takes as YAML.
fn proxy_kubeconfig(
    mut kubeconfig: kube::config::Kubeconfig,
    url: &str,
    ca_pem: &str,
) -> anyhow::Result<String> {
    use base64::Engine as _;
    let context_name = kubeconfig
        .current_context
        .clone()
        .ok_or_else(|| anyhow!("the upstream kubeconfig has no current context"))?;
    let cluster_name = kubeconfig
        .contexts
        .iter()
        .find(|context| context.name == context_name)
        .and_then(|context| context.context.as_ref())
        .map(|context| context.cluster.clone())
        .ok_or_else(|| anyhow!("the upstream kubeconfig lacks context {context_name}"))?;
    let cluster = kubeconfig
        .clusters
        .iter_mut()
        .find(|cluster| cluster.name == cluster_name)
        .and_then(|cluster| cluster.cluster.as_mut())
        .ok_or_else(|| anyhow!("the upstream kubeconfig lacks cluster {cluster_name}"))?;
    cluster.server = Some(url.to_owned());
    cluster.certificate_authority = None;
    cluster.certificate_authority_data =
        Some(base64::engine::general_purpose::STANDARD.encode(ca_pem));
    cluster.insecure_skip_tls_verify = None;
    cluster.tls_server_name = None;
    cluster.proxy_url = None;
    Ok(serde_json::to_string_pretty(&kubeconfig)?)
}

fn acceptor(certified: &rcgen::CertifiedKey<rcgen::KeyPair>) -> anyhow::Result<TlsAcceptor> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let cert: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("cannot set up TLS")?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .context("cannot use the proxy's certificate")?;
    // HTTP/1.1 only: one request per connection at a time, so a dropped connection drops one.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

async fn accept_loop(listener: TcpListener, acceptor: TlsAcceptor, state: Arc<State>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let acceptor = acceptor.clone();
                let state = Arc::clone(&state);
                connections.spawn(async move {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        serve(TokioIo::new(stream), state).await;
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve<I>(io: I, state: Arc<State>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let state = Arc::clone(&state);
        async move { handle(&state, request).await }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await;
}

/// The service's error: hyper closes the connection without an answer.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the fault proxy")
    }
}

impl std::error::Error for Dropped {}

async fn handle(state: &State, request: Request<Incoming>) -> Result<Response<Body>, Dropped> {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let (parts, incoming) = request.into_parts();
    let body = collect(incoming).await.map_err(|_| Dropped)?;
    let fault = if is_watch(&parts.uri) {
        state.watches.fetch_add(1, Ordering::Relaxed);
        None
    } else {
        state
            .schedule
            .fault(state.next.fetch_add(1, Ordering::Relaxed))
    };
    if let Some(fault) = &fault
        && let Some(index) = FaultKind::ALL.iter().position(|kind| *kind == fault.kind)
    {
        state.faults[index].fetch_add(1, Ordering::Relaxed);
    }
    match fault {
        Some(Fault {
            kind: FaultKind::TooManyRequests,
            retry_after_secs,
            ..
        }) => return Ok(too_many_requests(retry_after_secs)),
        Some(Fault {
            kind: FaultKind::InternalError,
            ..
        }) => {
            return Ok(status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "an error injected by the fault proxy",
            ));
        }
        Some(Fault {
            kind: FaultKind::Unavailable,
            ..
        }) => {
            return Ok(status(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "unavailable, as the fault proxy says",
            ));
        }
        Some(Fault {
            kind: FaultKind::DropBefore,
            ..
        }) => return Err(Dropped),
        Some(Fault {
            kind: FaultKind::Slow,
            delay,
            ..
        }) => tokio::time::sleep(delay).await,
        Some(Fault {
            kind: FaultKind::DropAfter,
            ..
        })
        | None => {}
    }
    let create = (parts.method == Method::POST).then(|| create_key(parts.uri.path(), &body));
    let mut forward = Request::builder()
        .method(parts.method.clone())
        .uri(parts.uri.path_and_query().map_or("/", |path| path.as_str()))
        .body(Body::from(body))
        .map_err(|_| Dropped)?;
    *forward.headers_mut() = end_to_end(&parts.headers);
    // The upstream client's own credentials stand in for the client's.
    forward.headers_mut().remove(header::AUTHORIZATION);
    let response = match state.upstream.send(forward).await {
        Ok(response) => response,
        Err(err) => {
            state.upstream_errors.fetch_add(1, Ordering::Relaxed);
            return Ok(status(
                StatusCode::BAD_GATEWAY,
                "InternalError",
                &format!("the fault proxy cannot reach the API server: {err}"),
            ));
        }
    };
    let applied = response.status() == StatusCode::CREATED;
    if applied && let Some(key) = create {
        let mut created = state
            .created
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *created.entry(key).or_default() += 1;
    }
    if matches!(fault, Some(fault) if fault.kind == FaultKind::DropAfter) {
        if applied {
            state.creates_unanswered.fetch_add(1, Ordering::Relaxed);
        }
        return Err(Dropped);
    }
    let (mut parts, body) = response.into_parts();
    parts.headers = end_to_end(&parts.headers);
    Ok(Response::from_parts(parts, body))
}

/// A request body, whole (API requests are small).
async fn collect(mut body: Incoming) -> Result<Vec<u8>, hyper::Error> {
    let mut bytes = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        if let Ok(data) = frame?.into_data() {
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

/// Whether a request is a watch (`?watch=true`, or the old `/api/v1/watch/...` and
/// `/apis/<group>/<version>/watch/...` paths).
pub fn is_watch(uri: &http::Uri) -> bool {
    let query = uri.query().unwrap_or("");
    let segments: Vec<&str> = uri.path().trim_start_matches('/').split('/').collect();
    let old_style = matches!(
        segments.as_slice(),
        ["api", _, "watch", ..] | ["apis", _, _, "watch", ..]
    );
    old_style
        || query
            .split('&')
            .any(|pair| pair == "watch=true" || pair == "watch=1")
}

/// `<path>/<metadata.name>` of a create, the key of the created record.
fn create_key(path: &str, body: &[u8]) -> String {
    let name = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|body| {
            body.pointer("/metadata/name")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_default();
    format!("{}/{name}", path.trim_end_matches('/'))
}

/// The headers without the hop-by-hop ones, which belong to one connection.
fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let mut kept = headers.clone();
    for hop in [
        header::CONNECTION,
        header::HOST,
        header::TRANSFER_ENCODING,
        header::TE,
        header::TRAILER,
        header::UPGRADE,
        header::PROXY_AUTHORIZATION,
        header::PROXY_AUTHENTICATE,
    ] {
        kept.remove(hop);
    }
    kept.remove("keep-alive");
    kept
}

fn too_many_requests(retry_after_secs: u64) -> Response<Body> {
    let mut response = status(
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequests",
        "too many requests, as the fault proxy says; try again later",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, retry_after_secs.into());
    response
}

/// An answer with a Kubernetes `Status` body, as kube-apiserver sends for errors.
fn status(code: StatusCode, reason: &str, message: &str) -> Response<Body> {
    let body = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16(),
    });
    let mut response = Response::new(Body::from(body.to_string().into_bytes()));
    *response.status_mut() = code;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watches_are_told_from_other_requests() {
        let check = |uri: &str, expected: bool| {
            assert_eq!(is_watch(&uri.parse().unwrap()), expected, "{uri}");
        };
        check(
            "/api/v1/namespaces/a/configmaps?watch=true&resourceVersion=1",
            true,
        );
        check("/api/v1/watch/namespaces/a/configmaps", true);
        check("/api/v1/namespaces/a/configmaps?limit=500", false);
        check("/apis/apps/v1/watch/namespaces/a/deployments", true);
        check("/api/v1/namespaces/watch/configmaps", false);
        check("/apis/apps/v1/namespaces/watch/deployments", false);
        check("/api/v1/namespaces/a/configmaps?watch=false", false);
    }

    #[test]
    fn creates_are_keyed_by_path_and_name() {
        let body = br#"{"metadata": {"name": "cm-00001", "namespace": "a"}}"#;
        assert_eq!(
            create_key("/api/v1/namespaces/a/configmaps", body),
            "/api/v1/namespaces/a/configmaps/cm-00001"
        );
        assert_eq!(
            create_key("/api/v1/namespaces/", b"not json"),
            "/api/v1/namespaces/"
        );
    }

    #[test]
    fn counts_subtract_per_kind() {
        let earlier = FaultCounts {
            requests: 10,
            watches: 1,
            faults: [(FaultKind::Slow, 2)].into_iter().collect(),
            upstream_errors: 0,
            creates_unanswered: 1,
        };
        let later = FaultCounts {
            requests: 25,
            watches: 1,
            faults: [(FaultKind::Slow, 2), (FaultKind::DropAfter, 3)]
                .into_iter()
                .collect(),
            upstream_errors: 0,
            creates_unanswered: 3,
        };
        let between = later.since(&earlier);
        assert_eq!(between.requests, 15);
        assert_eq!(between.total(), 3);
        assert_eq!(between.of(FaultKind::DropAfter), 3);
        assert_eq!(between.of(FaultKind::Slow), 0);
        assert_eq!(between.creates_unanswered, 2);
    }

    #[test]
    fn the_proxy_kubeconfig_keeps_the_user_and_points_at_the_proxy() {
        let upstream = crate::envtest::kubeconfig_yaml("src", "https://127.0.0.1:1", "t0k3n", "CA");
        let kubeconfig = kube::config::Kubeconfig::from_yaml(&upstream).unwrap();
        let written = proxy_kubeconfig(kubeconfig, "https://127.0.0.1:2", "PROXY CA").unwrap();
        let read = kube::config::Kubeconfig::from_yaml(&written).unwrap();
        let cluster = read.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.server.as_deref(), Some("https://127.0.0.1:2"));
        assert_eq!(
            cluster.certificate_authority_data.as_deref(),
            Some("UFJPWFkgQ0E=")
        );
        assert!(written.contains("t0k3n"), "{written}");
        assert_eq!(read.current_context.as_deref(), Some("envtest-src"));
    }
}
