//! The command line: what a person types. `backup` and `restore` drive the server through
//! Velero's custom resources, as Velero's CLI does; `migrate`, `restore plan --local-dir` and
//! `backup inspect` work without any server.

pub mod backup;
pub mod cluster;
pub mod describe;
pub mod filters;
pub mod location;
pub mod migrate;
pub mod restore;
pub mod storage_version;
pub mod wait;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The top level: `godwit <command>`.
#[derive(Debug, Parser)]
#[command(
    name = "godwit",
    version,
    about = "Back up Kubernetes applications and restore or migrate them into other clusters, \
             across API versions; compatible with Velero",
    after_help = "Examples:\n  \
        # Copy namespace shop from one cluster to another, choosing API versions per resource\n  \
        godwit migrate --from-kubeconfig old.yaml --to-kubeconfig new.yaml --include-namespaces shop\n\n  \
        # With a godwit (or Velero) server running: back up, then restore\n  \
        godwit backup create nightly --include-namespaces shop --wait\n  \
        godwit restore create --from-backup nightly --wait"
)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Every top-level command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Work with backups.
    Backup(backup::BackupCommand),
    /// Work with restores.
    Restore(restore::RestoreCommand),
    /// Back up from one cluster and restore into another in one go, no server needed.
    Migrate(Box<migrate::MigrateArgs>),
    /// Retire old versions of CRDs: rewrite their objects at the storage version, then trim
    /// status.storedVersions.
    StorageVersion(storage_version::StorageVersionCommand),
    /// Run the godwit server (Velero's controllers).
    #[command(after_help = "Examples:\n  \
        godwit server --namespace velero --features EnableAPIGroupVersions")]
    Server(crate::server::ServerArgs),
    /// Install the CRDs and the godwit server into a cluster.
    #[command(after_help = "Examples:\n  \
        # Install into namespace velero, keeping backups in a directory of the node\n  \
        godwit install --default-local-dir /var/lib/godwit --features EnableAPIGroupVersions\n\n  \
        # Print the manifests instead of applying them\n  \
        godwit install --dry-run -o yaml")]
    Install(crate::install::InstallArgs),
}

/// Runs a parsed command line. The exit code is a failure when a job ended in any phase but
/// `Completed`.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Backup(command) => backup::run(command).await,
        Command::Restore(command) => restore::run(command).await,
        Command::Migrate(args) => migrate::run(*args).await,
        Command::StorageVersion(command) => storage_version::run(command).await,
        Command::Server(args) => crate::server::run(args).await.map(|()| ExitCode::SUCCESS),
        Command::Install(args) => crate::install::run(args).await.map(|()| ExitCode::SUCCESS),
    }
}

/// Turns a clap error into one line naming the flag and the way out (clap's own text spans
/// several lines: its first paragraph is joined). Help and version output are not errors.
pub fn one_line_usage_error(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    let paragraph: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|line| !line.is_empty())
        .collect();
    let mut line = paragraph.join(" ");
    if !line.contains("--help") {
        line.push_str("; see --help");
    }
    line
}
