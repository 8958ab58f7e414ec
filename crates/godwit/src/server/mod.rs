//! `godwit server`: runs Velero `Backup`, `Restore` and `DeleteBackupRequest` custom resources
//! the way Velero's server does, keeps storage locations validated and backups synced from
//! object storage, deletes a deleted Restore's files and expired backups, and serves
//! `/healthz` and `/metrics`.
//!
//! Scope, on purpose: one backup and one restore run at a time, as in Velero (each engine runs
//! its own requests concurrently, `--concurrency` of them); there is no leader election, so run
//! a single replica. Work left `InProgress` by a crash is marked `Failed` at start, never run
//! twice.

mod controller;
mod deletion;
mod gc;
mod locations;
mod metrics;
mod progress;
mod recovery;
mod restore_deletion;
mod scratch;
mod sync;
mod validation;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use godwit_ordering::Priorities;

use crate::jobs::JobOptions;

pub(crate) use locations::LOCAL_BUCKET;

/// The feature flag that makes backups keep every served version and restores choose one.
const ENABLE_API_GROUP_VERSIONS: &str = "EnableAPIGroupVersions";

/// Flags of `godwit server`, named as Velero's server names them where Velero has them.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// The namespace the server runs in: it watches Backups, Restores and locations there and
    /// reads the `enableapigroupversions` and restore-action ConfigMaps from it.
    #[arg(long = "namespace", default_value = godwit_api::DEFAULT_NAMESPACE)]
    pub server_namespace: String,

    /// Feature flags, comma separated; godwit knows `EnableAPIGroupVersions`.
    #[arg(long, value_delimiter = ',')]
    pub features: Vec<String>,

    /// Restore order: high-priority resources, then a lone `-`, then low-priority ones
    /// (`namespaces,pods,-,clusters.cluster.x-k8s.io`). Velero's list when absent.
    #[arg(long)]
    pub restore_resource_priorities: Option<Priorities>,

    /// Requests a restore keeps in flight at once (a backup lists four at a time).
    #[arg(long, default_value_t = godwit_restore::DEFAULT_REQUESTS_IN_FLIGHT)]
    pub concurrency: usize,

    /// Where `/healthz` and `/metrics` are served.
    #[arg(long, default_value = "127.0.0.1:8085")]
    pub metrics_address: SocketAddr,

    /// Keep backups in this directory: makes sure a BackupStorageLocation named `default` with
    /// provider `godwit.io/local` points here.
    #[arg(long, value_name = "DIR")]
    pub default_local_dir: Option<PathBuf>,

    /// How often backups found in object storage are synced into Backup resources (Go
    /// duration, `0s` turns it off after the sync at start).
    #[arg(long, default_value = "1m", value_parser = parse_duration)]
    pub backup_sync_period: Duration,

    /// How often storage locations are checked (Go duration, `0s` turns it off after the check
    /// at start).
    #[arg(long, default_value = "1m", value_parser = parse_duration)]
    pub store_validation_frequency: Duration,

    /// How often backups past their expiration (`--ttl`) are looked for and deleted (Go
    /// duration, `0s` turns garbage collection off).
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub garbage_collection_frequency: Duration,
}

/// Reads a Go duration such as `30s` or `1m0s`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    godwit_api::Duration::new(text)
        .to_std()
        .map_err(|err| err.to_string())
}

/// What every part of the server shares.
pub(crate) struct Context {
    /// The cluster the server runs in.
    pub client: kube::Client,
    /// The server's namespace.
    pub namespace: String,
    /// Settings handed to every backup and restore.
    pub job_options: JobOptions,
    /// Counters and histograms behind `/metrics`.
    pub metrics: metrics::Metrics,
}

/// Runs the server until SIGINT or SIGTERM, or until a part of it fails.
pub async fn run(args: ServerArgs) -> anyhow::Result<()> {
    for feature in &args.features {
        let feature = feature.trim();
        if !feature.is_empty() && feature != ENABLE_API_GROUP_VERSIONS {
            // Velero's other features (EnableCSI, ...) concern volumes, which godwit leaves alone.
            tracing::warn!(%feature, "ignoring a feature flag godwit does not have");
        }
    }
    // Before any job: its temporary files go into this process's scratch folder, and what
    // killed servers left in theirs is removed.
    let scratch_root = std::env::temp_dir().join(scratch::ROOT);
    for dir in scratch::remove_abandoned(&scratch_root) {
        tracing::info!(folder = %dir.display(), "removed the scratch folder of a server that was killed");
    }
    let scratch = scratch::Scratch::create(&scratch_root)?;
    if let Err(other) = tempfile::env::override_temp_dir(scratch.dir()) {
        tracing::warn!(folder = %other.display(), "temporary files already go elsewhere");
    }
    let config = kube::Config::infer()
        .await
        .context("cannot reach the cluster; set KUBECONFIG or run inside a pod")?;
    let client = crate::writes::client(config).context("cannot build a Kubernetes client")?;
    let context = Arc::new(Context {
        client,
        namespace: args.server_namespace.clone(),
        job_options: JobOptions {
            enable_api_group_versions: args
                .features
                .iter()
                .any(|feature| feature.trim() == ENABLE_API_GROUP_VERSIONS),
            restore_resource_priorities: args.restore_resource_priorities.clone(),
            concurrency: args.concurrency.max(1),
            server_namespace: args.server_namespace.clone(),
        },
        metrics: metrics::Metrics::new(),
    });

    // Health answers from the first moment, so a slow start is not taken for a dead pod.
    let listener = tokio::net::TcpListener::bind(args.metrics_address)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}; pick another --metrics-address",
                args.metrics_address
            )
        })?;
    let address = listener.local_addr().unwrap_or(args.metrics_address);
    tracing::info!(%address, "serving /healthz and /metrics");
    let metrics_server = tokio::spawn(metrics::serve(listener, context.clone()));

    if let Some(dir) = &args.default_local_dir {
        locations::ensure_default_local(&context, dir).await?;
    }
    locations::validate_all(&context).await?;
    // Before any controller starts: whatever was running when the last server died is marked
    // Failed here, so it can never be picked up and run a second time.
    recovery::mark_interrupted(&context).await?;
    if let Err(err) = sync::sync_once(&context).await {
        tracing::warn!(error = %format!("{err:#}"), "backup sync at start failed; will retry");
    }

    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(async move { metrics_server.await.context("the metrics server stopped")? });
    tasks.spawn(locations::validate_periodically(
        context.clone(),
        args.store_validation_frequency,
    ));
    tasks.spawn(sync::sync_periodically(
        context.clone(),
        args.backup_sync_period,
    ));
    tasks.spawn(controller::run_backups(context.clone()));
    tasks.spawn(controller::run_restores(context.clone()));
    tasks.spawn(deletion::run_deletions(context.clone()));
    tasks.spawn(restore_deletion::run(context.clone()));
    tasks.spawn(gc::run(context.clone(), args.garbage_collection_frequency));
    tracing::info!(namespace = %context.namespace, "godwit server started");

    tokio::select! {
        () = shutdown_signal() => {
            tracing::info!("shutting down");
            tasks.abort_all();
            Ok(())
        }
        Some(ended) = tasks.join_next() => {
            tasks.abort_all();
            match ended {
                Ok(Ok(())) => anyhow::bail!("a part of the server stopped unexpectedly"),
                Ok(Err(err)) => Err(err),
                Err(err) => Err(anyhow::anyhow!("a part of the server crashed: {err}")),
            }
        }
    }
}

/// Resolves on SIGINT, or on SIGTERM where there is one (what Kubernetes sends a pod).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "cannot listen for SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
