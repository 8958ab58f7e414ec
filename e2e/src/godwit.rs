//! Driving godwit as a user would: `godwit server` processes pointed at each cluster's
//! kubeconfig (or, with `--in-cluster`, `godwit install`), and `godwit backup|restore ...`
//! commands.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context as _, anyhow};
use tokio::process::{Child, Command};

use crate::clusters::Cluster;

/// The godwit binary.
#[derive(Debug, Clone)]
pub struct Godwit {
    /// Its path.
    pub binary: PathBuf,
}

/// What a godwit command printed and how it ended.
#[derive(Debug, Clone)]
pub struct CliOutput {
    /// The command line, for messages.
    pub command: String,
    /// Whether it exited 0.
    pub success: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl CliOutput {
    /// Both streams, trimmed, for an error message.
    pub fn transcript(&self) -> String {
        format!(
            "`{}` {}: {} {}",
            self.command,
            if self.success { "succeeded" } else { "failed" },
            self.stdout.trim(),
            self.stderr.trim()
        )
    }
}

/// A running `godwit server`, killed when dropped.
pub struct Server {
    /// The process.
    pub child: Child,
    /// Where it logs.
    pub log: PathBuf,
}

impl Godwit {
    /// Runs `godwit ARGS --kubeconfig <cluster> --namespace <server namespace>`.
    pub async fn run(
        &self,
        cluster: &Cluster,
        server_namespace: &str,
        args: &[&str],
    ) -> anyhow::Result<CliOutput> {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .arg("--kubeconfig")
            .arg(&cluster.kubeconfig)
            .args(["--namespace", server_namespace])
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null());
        let line = format!("godwit {} ({})", args.join(" "), cluster.side);
        println!("$ {line}");
        self.execute(line, &mut command).await
    }

    /// Runs `godwit ARGS` with no cluster (`backup inspect`).
    pub async fn run_local(&self, args: &[&str]) -> anyhow::Result<CliOutput> {
        let line = format!("godwit {}", args.join(" "));
        println!("$ {line}");
        let mut command = Command::new(&self.binary);
        command.args(args).stdin(Stdio::null());
        self.execute(line, &mut command).await
    }

    /// Runs `godwit install --crds-only` against `cluster` (it reads `KUBECONFIG`).
    pub async fn install_crds(&self, cluster: &Cluster) -> anyhow::Result<CliOutput> {
        let line = format!("godwit install --crds-only ({})", cluster.side);
        println!("$ {line}");
        let mut command = Command::new(&self.binary);
        command
            .args(["install", "--crds-only"])
            .env("KUBECONFIG", &cluster.kubeconfig)
            .stdin(Stdio::null());
        self.execute(line, &mut command).await
    }

    /// Deploys a godwit server into `cluster` with `godwit install` (it reads `KUBECONFIG`):
    /// image `image`, EnableAPIGroupVersions, and a default local storage location in the
    /// node directory `node_storage`.
    pub async fn install_server(
        &self,
        cluster: &Cluster,
        server_namespace: &str,
        image: &str,
        node_storage: &str,
    ) -> anyhow::Result<CliOutput> {
        let args = install_args(server_namespace, image, node_storage);
        let line = format!("godwit {} ({})", args.join(" "), cluster.side);
        println!("$ {line}");
        let mut command = Command::new(&self.binary);
        command
            .args(&args)
            .env("KUBECONFIG", &cluster.kubeconfig)
            .stdin(Stdio::null());
        self.execute(line, &mut command).await
    }

    /// Runs a prepared godwit command to the end and keeps what it printed under `line`.
    async fn execute(&self, line: String, command: &mut Command) -> anyhow::Result<CliOutput> {
        let output = command
            .output()
            .await
            .with_context(|| format!("cannot run {}", self.binary.display()))?;
        Ok(CliOutput {
            command: line,
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    /// Starts `godwit server` out of cluster against `cluster`, with EnableAPIGroupVersions and
    /// a default local storage location in `storage` (shared by both sides).
    pub fn start_server(
        &self,
        cluster: &Cluster,
        server_namespace: &str,
        storage: &Path,
        work_dir: &Path,
    ) -> anyhow::Result<Server> {
        let log = work_dir.join(format!("godwit-server-{}.log", cluster.side));
        let file = std::fs::File::create(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let stderr = file
            .try_clone()
            .context("cannot share the server log file")?;
        let child = Command::new(&self.binary)
            .arg("server")
            .args(server_args(server_namespace, storage))
            .env("KUBECONFIG", &cluster.kubeconfig)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
            )
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {} server", self.binary.display()))?;
        println!(
            "godwit server ({}) in namespace {server_namespace}, log {}",
            cluster.side,
            log.display()
        );
        Ok(Server { child, log })
    }
}

/// The command line of `godwit install` for one side of an `--in-cluster` run.
pub fn install_args(server_namespace: &str, image: &str, node_storage: &str) -> Vec<String> {
    [
        "install",
        "--namespace",
        server_namespace,
        "--image",
        image,
        "--default-local-dir",
        node_storage,
        "--features",
        "EnableAPIGroupVersions",
        // The lifecycle row expires the backup and waits for it to go.
        "--garbage-collection-frequency",
        "1s",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// The flags of `godwit server` for one side.
pub fn server_args(server_namespace: &str, storage: &Path) -> Vec<String> {
    vec![
        "--namespace".to_owned(),
        server_namespace.to_owned(),
        "--features=EnableAPIGroupVersions".to_owned(),
        "--default-local-dir".to_owned(),
        storage.display().to_string(),
        // The target learns of the source's backup by syncing the shared location.
        "--backup-sync-period".to_owned(),
        "1s".to_owned(),
        // The lifecycle row expires the backup and waits for it to go.
        "--garbage-collection-frequency".to_owned(),
        "1s".to_owned(),
        // Two servers on one machine: any free port for /healthz and /metrics.
        "--metrics-address".to_owned(),
        "127.0.0.1:0".to_owned(),
    ]
}

impl Server {
    /// An error if the server has exited, naming its log.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(anyhow!(
                "godwit server exited ({status}); last lines of {}:\n{}",
                self.log.display(),
                tail(&self.log, 15)
            )),
            Err(err) => Err(anyhow!("cannot check the godwit server process: {err}")),
        }
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        // Killing is fine: a server holds nothing that is not already in the cluster or store.
        let _ = self.child.kill().await;
    }
}

/// The last `lines` lines of a file (empty when unreadable).
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
