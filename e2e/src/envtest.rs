//! Real Kubernetes control planes on 127.0.0.1, started from the binaries `cargo xtask envtest
//! install` builds (controller-runtime's envtest layout: `etcd`, `kube-apiserver`,
//! `kube-controller-manager` in one directory).
//!
//! Each control plane is its own etcd (a private data directory, no fsync), kube-apiserver
//! (TLS with a certificate made here, static-token authentication, RBAC authorization,
//! service-account tokens signed by a key made here) and kube-controller-manager (every
//! default controller, so namespaces get their `default` ServiceAccount and `kube-root-ca.crt`
//! ConfigMap as in any real cluster). Ports are free ones picked at start. The control plane is
//! ready when the API server answers `/readyz` and the controller manager has populated the
//! `default` namespace.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use tokio::process::{Child, Command};

/// The binaries a control plane needs, as envtest names them.
pub const BINARIES: [&str; 3] = ["etcd", "kube-apiserver", "kube-controller-manager"];

/// How long a control plane may take to become ready (a cold kube-apiserver start on two busy
/// cores takes 10-20 s; the controller manager's first pass a few more).
const READY_TIMEOUT: Duration = Duration::from_secs(180);

/// The service IP range of every control plane.
const SERVICE_CIDR: &str = "10.96.0.0/16";

/// A running control plane.
pub struct ControlPlane {
    /// A name for messages (`src`, `dst`, ...).
    pub name: String,
    /// The administrator's kubeconfig (token of a `system:masters` user).
    pub kubeconfig: PathBuf,
    /// The API server's URL.
    pub url: String,
    /// What `/version` reports (`v1.36.3`).
    pub version: String,
    /// Where its data, certificates and logs are.
    pub dir: PathBuf,
    /// The processes, in start order.
    processes: Vec<Process>,
}

struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

/// The files a control plane's processes read, made fresh for each.
struct Pki {
    /// The API server's serving certificate, self-signed: also the cluster's CA.
    serving_cert: PathBuf,
    serving_key: PathBuf,
    /// The key service-account tokens are signed with, and its public half.
    service_account_key: PathBuf,
    service_account_public_key: PathBuf,
    /// The PEM of `serving_cert`, for kubeconfigs.
    ca_pem: String,
}

/// Checks that `assets` holds every binary of [`BINARIES`].
pub fn check_assets(assets: &Path) -> anyhow::Result<()> {
    let missing: Vec<&str> = BINARIES
        .iter()
        .copied()
        .filter(|binary| !assets.join(binary).is_file())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    bail!(
        "{} lacks {}; run `cargo xtask envtest install` (it builds them with Go) or point at a \
         directory holding {}",
        assets.display(),
        missing.join(", "),
        BINARIES.join(", ")
    )
}

/// Starts a control plane from the binaries in `assets`, keeping its files under `dir`.
/// `keep`: the processes outlive this one (they are not killed when the handle is dropped).
pub async fn start(
    assets: &Path,
    dir: &Path,
    name: &str,
    keep: bool,
) -> anyhow::Result<ControlPlane> {
    check_assets(assets)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let pki = write_pki(dir)?;
    let admin_token = uuid::Uuid::new_v4().simple().to_string();
    let controller_token = uuid::Uuid::new_v4().simple().to_string();
    let tokens = dir.join("tokens.csv");
    std::fs::write(
        &tokens,
        token_file(&[
            (&admin_token, "godwit-envtest-admin", "system:masters"),
            (
                &controller_token,
                "system:kube-controller-manager",
                "system:masters",
            ),
        ]),
    )
    .with_context(|| format!("cannot write {}", tokens.display()))?;

    let etcd_client = free_port()?;
    let etcd_peer = free_port()?;
    let api_port = free_port()?;
    let url = format!("https://127.0.0.1:{api_port}");
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        kubeconfig_yaml(name, &url, &admin_token, &pki.ca_pem),
    )
    .with_context(|| format!("cannot write {}", kubeconfig.display()))?;
    let controller_kubeconfig = dir.join("kube-controller-manager.kubeconfig");
    std::fs::write(
        &controller_kubeconfig,
        kubeconfig_yaml(name, &url, &controller_token, &pki.ca_pem),
    )
    .with_context(|| format!("cannot write {}", controller_kubeconfig.display()))?;

    let mut plane = ControlPlane {
        name: name.to_owned(),
        kubeconfig,
        url: url.clone(),
        version: String::new(),
        dir: dir.to_path_buf(),
        processes: Vec::new(),
    };
    let etcd_url = format!("http://127.0.0.1:{etcd_client}");
    let peer_url = format!("http://127.0.0.1:{etcd_peer}");
    let data = dir.join("etcd");
    plane.spawn(
        "etcd",
        assets,
        &[
            "--name".into(),
            name.into(),
            "--data-dir".into(),
            data.display().to_string(),
            "--listen-client-urls".into(),
            etcd_url.clone(),
            "--advertise-client-urls".into(),
            etcd_url.clone(),
            "--listen-peer-urls".into(),
            peer_url.clone(),
            "--initial-advertise-peer-urls".into(),
            peer_url.clone(),
            "--initial-cluster".into(),
            format!("{name}={peer_url}"),
            // A throwaway cluster: losing it on a crash costs nothing, syncing costs a lot.
            "--unsafe-no-fsync".into(),
            "--log-level".into(),
            "warn".into(),
        ],
        keep,
    )?;
    let path = |path: &Path| path.display().to_string();
    plane.spawn(
        "kube-apiserver",
        assets,
        &[
            format!("--etcd-servers={etcd_url}"),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            format!("--secure-port={api_port}"),
            format!("--cert-dir={}", path(&dir.join("apiserver-certs"))),
            format!("--tls-cert-file={}", path(&pki.serving_cert)),
            format!("--tls-private-key-file={}", path(&pki.serving_key)),
            format!("--token-auth-file={}", path(&tokens)),
            "--authorization-mode=RBAC".into(),
            format!("--service-account-issuer={url}"),
            format!(
                "--service-account-key-file={}",
                path(&pki.service_account_public_key)
            ),
            format!(
                "--service-account-signing-key-file={}",
                path(&pki.service_account_key)
            ),
            format!("--service-cluster-ip-range={SERVICE_CIDR}"),
            "--allow-privileged=true".into(),
            "--profiling=false".into(),
        ],
        keep,
    )?;
    let client = crate::kubeapi::client(&plane.kubeconfig).await?;
    plane
        .wait("the API server to answer /readyz", || async {
            let request = http::Request::get("/readyz")
                .body(Vec::new())
                .map_err(|err| anyhow!("{err}"))?;
            Ok(client
                .request_text(request)
                .await
                .is_ok_and(|text| text.trim() == "ok"))
        })
        .await?;
    plane.version = client
        .apiserver_version()
        .await
        .context("cannot read /version")?
        .git_version;
    plane.spawn(
        "kube-controller-manager",
        assets,
        &[
            format!("--kubeconfig={}", path(&controller_kubeconfig)),
            // Serving /healthz would need a port and delegated authentication; nothing asks.
            "--secure-port=0".into(),
            "--leader-elect=false".into(),
            "--use-service-account-credentials=false".into(),
            format!("--root-ca-file={}", path(&pki.serving_cert)),
            format!(
                "--service-account-private-key-file={}",
                path(&pki.service_account_key)
            ),
            format!("--service-cluster-ip-range={SERVICE_CIDR}"),
            "--profiling=false".into(),
        ],
        keep,
    )?;
    let client = client.clone();
    plane
        .wait(
            "the controller manager to create ServiceAccount default/default and ConfigMap \
             default/kube-root-ca.crt",
            || {
                let client = client.clone();
                async move {
                    let service_account = crate::kubeapi::get(
                        &client,
                        &crate::objects::service_accounts(),
                        Some("default"),
                        "default",
                    )
                    .await?;
                    let root_ca = crate::kubeapi::get(
                        &client,
                        &crate::objects::config_maps(),
                        Some("default"),
                        "kube-root-ca.crt",
                    )
                    .await?;
                    Ok(service_account.is_some() && root_ca.is_some())
                }
            },
        )
        .await?;
    Ok(plane)
}

impl ControlPlane {
    fn spawn(
        &mut self,
        name: &'static str,
        assets: &Path,
        args: &[String],
        keep: bool,
    ) -> anyhow::Result<()> {
        let log = self.dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let stderr = file.try_clone().context("cannot share a log file")?;
        let binary = assets.join(name);
        let child = Command::new(&binary)
            .args(args)
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(stderr)
            .kill_on_drop(!keep)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        self.processes.push(Process { name, child, log });
        Ok(())
    }

    /// Polls `probe` until it says yes; fails early, with the log's end, when a process exits.
    async fn wait<F, Fut>(&mut self, what: &str, mut probe: F) -> anyhow::Result<()>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = anyhow::Result<bool>>,
    {
        let start = Instant::now();
        let mut last_error = None;
        loop {
            for process in &mut self.processes {
                if let Ok(Some(status)) = process.child.try_wait() {
                    bail!(
                        "{} of control plane {} exited ({status}) while waiting for {what}; last \
                         lines of {}:\n{}",
                        process.name,
                        self.name,
                        process.log.display(),
                        crate::godwit::tail(&process.log, 20)
                    );
                }
            }
            match probe().await {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(err) => last_error = Some(format!("{err:#}")),
            }
            if start.elapsed() > READY_TIMEOUT {
                bail!(
                    "control plane {} not ready: timed out after {}s waiting for {what}{}; logs \
                     in {}",
                    self.name,
                    READY_TIMEOUT.as_secs(),
                    last_error
                        .map(|err| format!(" (last error: {err})"))
                        .unwrap_or_default(),
                    self.dir.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The process ids, start order, for a user who kept the control plane.
    pub fn pids(&self) -> Vec<u32> {
        self.processes
            .iter()
            .filter_map(|process| process.child.id())
            .collect()
    }

    /// Stops every process, newest first. Killing is fine: the data directory is thrown away.
    pub async fn stop(mut self) {
        while let Some(mut process) = self.processes.pop() {
            let _ = process.child.kill().await;
        }
    }
}

/// A TCP port nobody listens on right now.
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(listener.local_addr().context("cannot read a port")?.port())
}

/// Writes the serving certificate and the service-account key pair under `dir/pki`.
fn write_pki(dir: &Path) -> anyhow::Result<Pki> {
    let pki = dir.join("pki");
    std::fs::create_dir_all(&pki).with_context(|| format!("cannot create {}", pki.display()))?;
    let serving =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .context("cannot make the API server's certificate")?;
    let service_account =
        rcgen::KeyPair::generate().context("cannot make the service-account key")?;
    let files = Pki {
        serving_cert: pki.join("apiserver.crt"),
        serving_key: pki.join("apiserver.key"),
        service_account_key: pki.join("sa.key"),
        service_account_public_key: pki.join("sa.pub"),
        ca_pem: serving.cert.pem(),
    };
    for (path, text) in [
        (&files.serving_cert, files.ca_pem.clone()),
        (&files.serving_key, serving.signing_key.serialize_pem()),
        (&files.service_account_key, service_account.serialize_pem()),
        (
            &files.service_account_public_key,
            service_account.public_key_pem(),
        ),
    ] {
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(files)
}

/// kube-apiserver's `--token-auth-file`: `token,user,uid,"group"` per line.
fn token_file(entries: &[(&str, &str, &str)]) -> String {
    entries
        .iter()
        .enumerate()
        .map(|(index, (token, user, group))| format!("{token},{user},{},\"{group}\"\n", index + 1))
        .collect()
}

/// A kubeconfig for one API server and bearer token.
pub fn kubeconfig_yaml(name: &str, url: &str, token: &str, ca_pem: &str) -> String {
    use base64::Engine as _;
    format!(
        "apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - name: envtest-{name}\n  \
           cluster:\n    \
             server: {url}\n    \
             certificate-authority-data: {}\n\
         users:\n\
         - name: envtest-{name}\n  \
           user:\n    \
             token: {token}\n\
         contexts:\n\
         - name: envtest-{name}\n  \
           context:\n    \
             cluster: envtest-{name}\n    \
             user: envtest-{name}\n\
         current-context: envtest-{name}\n",
        base64::engine::general_purpose::STANDARD.encode(ca_pem.as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_kubeconfig_kube_reads() {
        let yaml = kubeconfig_yaml("src", "https://127.0.0.1:6443", "t0ken", "PEM");
        let kubeconfig = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
        assert_eq!(kubeconfig.current_context.as_deref(), Some("envtest-src"));
        let cluster = kubeconfig.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.server.as_deref(), Some("https://127.0.0.1:6443"));
        assert_eq!(cluster.certificate_authority_data.as_deref(), Some("UEVN"));
    }

    #[test]
    fn writes_the_token_file() {
        assert_eq!(
            token_file(&[("a", "admin", "system:masters"), ("b", "kcm", "g")]),
            "a,admin,1,\"system:masters\"\nb,kcm,2,\"g\"\n"
        );
    }

    #[test]
    fn names_missing_binaries() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("etcd"), "").unwrap();
        let err = check_assets(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("lacks kube-apiserver, kube-controller-manager"),
            "{err}"
        );
        assert!(err.contains("cargo xtask envtest install"), "{err}");
    }
}
