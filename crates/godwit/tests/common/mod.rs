//! What the server tests share: a kubesim with godwit's CRDs, a `godwit server` subprocess
//! (killed with SIGKILL when dropped, as a crash would), polling helpers and resource builders.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use godwit_api::{Backup, BackupSpec, Restore, RestoreSpec};
use godwit_kubesim::{Options, Running};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{ObjectMeta, PostParams};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

pub const SERVER_NAMESPACE: &str = "velero";
/// Every wait in these tests ends by then.
pub const DEADLINE: Duration = Duration::from_secs(90);

/// A kubesim with godwit's CRDs and the server namespace.
pub struct Cluster {
    pub sim: Running,
    pub client: kube::Client,
    pub kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

pub async fn cluster() -> Cluster {
    let sim = godwit_kubesim::start(Options::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).unwrap();
    let client = sim.client().unwrap();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in godwit_api::crds() {
        crds.create(&PostParams::default(), &crd).await.unwrap();
    }
    create_namespace(&client, SERVER_NAMESPACE).await;
    Cluster {
        sim,
        client,
        kubeconfig,
        _dir: dir,
    }
}

pub async fn create_namespace(client: &kube::Client, name: &str) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    namespaces
        .create(&PostParams::default(), &namespace)
        .await
        .unwrap();
}

pub async fn create_config_maps(client: &kube::Client, namespace: &str, count: usize) {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    for index in 0..count {
        let config_map = ConfigMap {
            metadata: ObjectMeta {
                name: Some(format!("settings-{index}")),
                labels: Some([("app".to_owned(), "shop".to_owned())].into()),
                ..ObjectMeta::default()
            },
            data: Some([("index".to_owned(), index.to_string())].into()),
            ..ConfigMap::default()
        };
        api.create(&PostParams::default(), &config_map)
            .await
            .unwrap();
    }
}

/// A running `godwit server`; killed (SIGKILL) when dropped.
pub struct Server {
    pub child: Child,
    pub metrics: SocketAddr,
    pub log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn start_server(
    cluster: &Cluster,
    store: &Path,
    log_dir: &Path,
    extra: &[&str],
) -> Server {
    start_server_with_env(cluster, store, log_dir, extra, &[]).await
}

/// [`start_server`] with extra environment variables (`TMPDIR`, to see what the server leaves
/// behind in its temporary folder).
pub async fn start_server_with_env(
    cluster: &Cluster,
    store: &Path,
    log_dir: &Path,
    extra: &[&str],
    env: &[(&str, &Path)],
) -> Server {
    let metrics: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let log = log_dir.join(format!("server-{}.log", metrics.port()));
    let child = Command::new(env!("CARGO_BIN_EXE_godwit"))
        .args(["server", "--namespace", SERVER_NAMESPACE])
        .arg("--default-local-dir")
        .arg(store)
        .args(["--metrics-address", &metrics.to_string()])
        .args([
            "--features=EnableAPIGroupVersions",
            "--backup-sync-period",
            "1s",
        ])
        .args(extra)
        .env("KUBECONFIG", &cluster.kubeconfig)
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut server = Server {
        child,
        metrics,
        log,
    };
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Ok(body) = http_get(metrics, "/healthz").await
            && body.ends_with("ok")
        {
            return server;
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("the server exited with {status}:\n{}", server.log());
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server did not answer /healthz:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A bare HTTP/1.1 GET; returns the body when the status is 200.
pub async fn http_get(address: SocketAddr, path: &str) -> Result<String, String> {
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(|err| err.to_string())?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|err| err.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .map_err(|err| err.to_string())?;
    let (head, body) = response.split_once("\r\n\r\n").ok_or("no end of headers")?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(head.to_owned());
    }
    Ok(body.trim().to_owned())
}

/// Polls until `done` accepts the object, or fails the test with the server's log.
pub async fn wait_for<K>(api: &Api<K>, name: &str, server: &Server, done: impl Fn(&K) -> bool) -> K
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut last = None;
    loop {
        if let Ok(Some(object)) = api.get_opt(name).await {
            if done(&object) {
                return object;
            }
            last = Some(object);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name} did not get there; last seen {last:#?}\nserver log:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Polls until the object is gone, or fails the test with the server's log.
pub async fn wait_gone<K>(api: &Api<K>, name: &str, server: &Server)
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while api.get_opt(name).await.unwrap().is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name} was never deleted\nserver log:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn phase_of_backup(backup: &Backup) -> String {
    backup
        .phase()
        .map(|phase| phase.as_str().to_owned())
        .unwrap_or_default()
}

pub fn phase_of_restore(restore: &Restore) -> String {
    restore
        .phase()
        .map(|phase| phase.as_str().to_owned())
        .unwrap_or_default()
}

pub fn backup_of(name: &str, namespace: &str) -> Backup {
    Backup::new(
        name,
        BackupSpec {
            included_namespaces: Some(vec![namespace.to_owned()]),
            ..BackupSpec::default()
        },
    )
}

pub fn restore_of(name: &str, backup: &str) -> Restore {
    Restore::new(
        name,
        RestoreSpec {
            backup_name: backup.to_owned(),
            ..RestoreSpec::default()
        },
    )
}

/// Runs the `godwit` CLI against the cluster (server namespace, its kubeconfig) off the async
/// runtime; fails the test, with both outputs, when it does not succeed.
pub async fn godwit(cluster: &Cluster, args: &[&str]) -> String {
    godwit_beside(cluster, None, args).await
}

/// [`godwit`], with the server's log in the failure message when `server` is given.
pub async fn godwit_beside(cluster: &Cluster, server: Option<&Server>, args: &[&str]) -> String {
    let kubeconfig = cluster.kubeconfig.clone();
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_godwit"))
            .args(&args)
            .args(["--namespace", SERVER_NAMESPACE])
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}{}",
        String::from_utf8_lossy(&output.stderr),
        server.map_or(String::new(), |server| format!(
            "\nserver log:\n{}",
            server.log()
        ))
    );
    stdout
}
