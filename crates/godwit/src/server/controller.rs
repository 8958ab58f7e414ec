//! The Backup and Restore controllers: a watch per kind feeds the names of new resources to one
//! worker per kind, which validates each request, runs it through `jobs`, and moves it through
//! Velero's phases (`New` -> `FailedValidation`, or `InProgress` -> `Completed` /
//! `PartiallyFailed` / `Failed`).
//!
//! Only resources whose phase is empty, `New` or `Queued` are picked up; the worker reads the
//! resource again before starting, so a name queued twice runs once.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use futures::StreamExt as _;
use godwit_api::{
    Backup, BackupPhase, BackupProgress, BackupStatus, BackupStorageLocation, Restore,
    RestorePhase, RestoreProgress, RestoreStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{ListParams, Patch};
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Api, ResourceExt as _};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use super::progress::{self, PROGRESS_PERIOD};
use super::{Context, locations, validation};
use crate::jobs;

/// How long a backup is kept when its spec names no TTL (Velero's default).
const DEFAULT_TTL: &str = "720h0m0s";

/// Whether the controller should pick this backup up.
pub(crate) fn is_new_backup(backup: &Backup) -> bool {
    matches!(
        backup.phase(),
        None | Some(BackupPhase::New | BackupPhase::Queued)
    )
}

/// Whether the controller should pick this restore up.
pub(crate) fn is_new_restore(restore: &Restore) -> bool {
    matches!(
        restore.phase(),
        None | Some(RestorePhase::New | RestorePhase::Queued)
    )
}

/// Watches a kind and sends the names of the objects `is_new` accepts.
pub(super) async fn watch_new<K>(
    api: Api<K>,
    is_new: fn(&K) -> bool,
    queue: mpsc::UnboundedSender<String>,
) -> anyhow::Result<()>
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .applied_objects();
    let mut stream = std::pin::pin!(stream);
    while let Some(event) = stream.next().await {
        match event {
            Ok(object) if is_new(&object) => {
                queue
                    .send(object.name_any())
                    .context("the worker stopped")?;
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "watch failed; retrying"),
        }
    }
    anyhow::bail!("the watch ended")
}

/// Runs the Backup controller until it fails.
pub(crate) async fn run_backups(context: Arc<Context>) -> anyhow::Result<()> {
    run_controller(context, "backup", is_new_backup, process_backup).await
}

/// Runs the Restore controller until it fails.
pub(crate) async fn run_restores(context: Arc<Context>) -> anyhow::Result<()> {
    run_controller(context, "restore", is_new_restore, process_restore).await
}

/// Watches the server namespace for new `K` objects and processes them one at a time; a job that
/// fails or panics after it started is marked `Failed` with the reason.
async fn run_controller<K, Fut>(
    context: Arc<Context>,
    kind: &'static str,
    is_new: fn(&K) -> bool,
    process: fn(Arc<Context>, Api<K>, String) -> Fut,
) -> anyhow::Result<()>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Serialize
        + Send
        + Sync
        + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let api: Api<K> = Api::namespaced(context.client.clone(), &context.namespace);
    let (queue, mut pending) = mpsc::unbounded_channel();
    let watch = watch_new(api.clone(), is_new, queue);
    let work = async {
        while let Some(name) = pending.recv().await {
            // A task of its own: a panic in one job must not stop the controller.
            let job = tokio::spawn(process(context.clone(), api.clone(), name.clone()));
            match job.await {
                Ok(Ok(())) => {}
                Ok(Err(err)) => {
                    let reason = format!("{err:#}");
                    tracing::error!(kind, name = %name, error = %reason, "job failed");
                    fail_if_in_progress(&api, &name, &reason).await;
                }
                Err(err) => {
                    let reason = format!("the server's {kind} worker crashed: {err}");
                    tracing::error!(kind, name = %name, error = %reason, "job crashed");
                    fail_if_in_progress(&api, &name, &reason).await;
                }
            }
        }
        Ok(())
    };
    tokio::try_join!(watch, work).map(|_| ())
}

/// After a job ended in an error of the server's own (not of the request), makes sure the
/// resource does not stay `InProgress` for ever: it is marked `Failed` with the reason.
async fn fail_if_in_progress<K>(api: &Api<K>, name: &str, reason: &str)
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Serialize,
{
    let in_progress = match api.get_opt(name).await {
        Ok(Some(object)) => serde_json::to_value(&object)
            .ok()
            .is_some_and(|value| value["status"]["phase"] == "InProgress"),
        _ => false,
    };
    if !in_progress {
        return;
    }
    let patch = serde_json::json!({
        "status": {
            "phase": "Failed",
            "failureReason": reason,
            "completionTimestamp": jobs::now(),
        }
    });
    if let Err(err) = merge(api, name, &patch).await {
        tracing::error!(name = %name, error = %format!("{err:#}"), "cannot mark it Failed");
    }
}

/// Writes `status` (and whatever else `patch` holds) with a JSON merge patch: Backups and
/// Restores have no status subresource, as in Velero.
async fn merge<K>(api: &Api<K>, name: &str, patch: &serde_json::Value) -> anyhow::Result<K>
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned,
{
    api.patch(name, &crate::writes::patch_params(), &Patch::Merge(patch))
        .await
        .with_context(|| format!("cannot update {name}"))
}

/// Runs `job` with an engine progress callback; the latest value goes into the resource's
/// `status.progress` at most once per [`PROGRESS_PERIOD`], and writing stops when the job ends.
async fn with_progress_in_status<K, P, J, Fut, T>(
    api: &Api<K>,
    name: &str,
    progress_json: fn(&P) -> serde_json::Value,
    job: J,
) -> T
where
    K: kube::Resource
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
    P: Clone + Send + Sync + 'static,
    J: FnOnce(Box<dyn Fn(P) + Send + Sync>) -> Fut,
    Fut: Future<Output = T>,
{
    let (callback, latest) = progress::feed();
    let (stop, stopped) = oneshot::channel();
    let writer_api = api.clone();
    let writer_name = name.to_owned();
    let writer = tokio::spawn(progress::write_throttled(
        latest,
        PROGRESS_PERIOD,
        stopped,
        move |value: P| {
            let api = writer_api.clone();
            let name = writer_name.clone();
            async move {
                let patch = serde_json::json!({ "status": { "progress": progress_json(&value) } });
                if let Err(err) = merge(&api, &name, &patch).await {
                    tracing::debug!(object = %name, error = %format!("{err:#}"), "progress not written");
                }
            }
        },
    ));
    let outcome = job(Box::new(callback)).await;
    let _ = stop.send(());
    let _ = writer.await;
    outcome
}

fn status_patch(status: &impl Serialize) -> serde_json::Value {
    serde_json::json!({ "status": status })
}

/// The merge patch that refuses a request.
pub(crate) fn failed_validation_patch(problems: &[String], now: &Time) -> serde_json::Value {
    serde_json::json!({
        "status": {
            "phase": "FailedValidation",
            "validationErrors": problems,
            "completionTimestamp": now,
        }
    })
}

/// A backup's `status.progress` from the engine's counters: written versions against the
/// objects listed so far (the total grows while listing goes on).
pub(crate) fn backup_progress(progress: &godwit_backup::Progress) -> BackupProgress {
    let written = i64::try_from(progress.items_written).unwrap_or(i64::MAX);
    let listed = i64::try_from(progress.items_listed).unwrap_or(i64::MAX);
    BackupProgress {
        total_items: listed.max(written),
        items_backed_up: written,
    }
}

/// A restore's `status.progress` from the engine's counters.
pub(crate) fn restore_progress(progress: &godwit_restore::Progress) -> RestoreProgress {
    RestoreProgress {
        total_items: i64::try_from(progress.total_items).unwrap_or(i64::MAX),
        items_restored: i64::try_from(progress.items_restored).unwrap_or(i64::MAX),
    }
}

/// When a backup started now expires, from its TTL (Velero's 30 days when unset).
pub(crate) fn expiration(start: &Time, ttl: Option<&godwit_api::Duration>) -> Option<Time> {
    let ttl = ttl
        .cloned()
        .unwrap_or_else(|| godwit_api::Duration::new(DEFAULT_TTL))
        .to_std()
        .ok()?;
    let ttl = jiff::SignedDuration::try_from(ttl).ok()?;
    start.0.checked_add(ttl).ok().map(Time)
}

async fn process_backup(
    context: Arc<Context>,
    api: Api<Backup>,
    name: String,
) -> anyhow::Result<()> {
    backup_job(&context, &api, &name).await
}

async fn backup_job(context: &Context, api: &Api<Backup>, name: &str) -> anyhow::Result<()> {
    let Some(backup) = api.get_opt(name).await.context("cannot read the Backup")? else {
        return Ok(());
    };
    if !is_new_backup(&backup) {
        return Ok(());
    }
    let locations_api: Api<BackupStorageLocation> =
        Api::namespaced(context.client.clone(), &context.namespace);
    let mut locations = locations_api
        .list(&ListParams::default())
        .await
        .context("cannot list BackupStorageLocations")?
        .items;

    let mut problems = validation::backup_spec_problems(&backup.spec);
    // A location created since the last validation round has no phase yet: check it now
    // rather than let the backup find out halfway.
    for location in locations.iter_mut().filter(|location| {
        location
            .status
            .as_ref()
            .and_then(|status| status.phase.as_ref())
            .is_none()
    }) {
        location.status = Some(locations::validate(context, location).await);
    }
    let location = match validation::backup_location(&backup.spec.storage_location, &locations) {
        Ok(location) => {
            problems.extend(validation::location_problems(location));
            Some(location)
        }
        Err(problem) => {
            problems.push(problem);
            None
        }
    };
    let location = match location {
        Some(location) if problems.is_empty() => location,
        _ => {
            tracing::info!(backup = %name, ?problems, "backup failed validation");
            merge(api, name, &failed_validation_patch(&problems, &jobs::now())).await?;
            context.metrics.backup_finished("FailedValidation", None);
            return Ok(());
        }
    };
    let location_name = location.name_any();

    let start = jobs::now();
    let expires = expiration(&start, backup.spec.ttl.as_ref());
    let in_progress = BackupStatus {
        phase: Some(BackupPhase::InProgress),
        version: 1,
        format_version: "1.1.0".to_owned(),
        start_timestamp: Some(start.clone()),
        expiration: expires.clone(),
        ..BackupStatus::default()
    };
    let mut patch = serde_json::json!({
        "metadata": { "labels": { godwit_api::labels::STORAGE_LOCATION: location_name } },
        "spec": { "storageLocation": location_name },
        "status": in_progress,
    });
    if backup.spec.ttl.is_none() {
        patch["spec"]["ttl"] = serde_json::json!(DEFAULT_TTL);
    }
    let running = merge(api, name, &patch).await?;
    tracing::info!(backup = %name, location = %location_name, "backup started");

    let started = Instant::now();
    let outcome = match locations::open_store(context, location).await {
        Ok(store) => {
            with_progress_in_status(
                api,
                name,
                |value: &godwit_backup::Progress| serde_json::json!(backup_progress(value)),
                |callback| {
                    jobs::run_backup(
                        &context.client,
                        &store,
                        &running,
                        &context.job_options,
                        callback,
                    )
                },
            )
            .await
        }
        Err(err) => Err(err),
    };

    let status = match outcome {
        Ok(report) => {
            context.metrics.backup_items(report.item_versions);
            BackupStatus {
                start_timestamp: Some(start),
                expiration: expires,
                ..report.status
            }
        }
        Err(err) => BackupStatus {
            failure_reason: format!("{err:#}"),
            completion_timestamp: Some(jobs::now()),
            phase: Some(BackupPhase::Failed),
            ..in_progress
        },
    };
    let phase = status
        .phase
        .as_ref()
        .map_or("Failed", |phase| phase.as_str())
        .to_owned();
    let ran = phase != BackupPhase::FailedValidation.as_str();
    merge(api, name, &status_patch(&status)).await?;
    context
        .metrics
        .backup_finished(&phase, ran.then(|| started.elapsed()));
    tracing::info!(backup = %name, %phase, warnings = status.warnings, errors = status.errors, "backup ended");
    Ok(())
}

/// Checks a new restore against the server's Backups and locations; `Ok` holds the source
/// backup's name and its location.
async fn validate_restore(
    context: &Context,
    restore: &Restore,
) -> anyhow::Result<Result<(String, BackupStorageLocation), Vec<String>>> {
    let mut problems = validation::restore_spec_problems(&restore.spec);
    let has_source = restore.spec.backup_name.is_empty() != restore.spec.schedule_name.is_empty();
    if !has_source {
        return Ok(Err(problems));
    }
    let backups: Api<Backup> = Api::namespaced(context.client.clone(), &context.namespace);
    let backups = backups
        .list(&ListParams::default())
        .await
        .context("cannot list Backups")?
        .items;
    let backup = match validation::restore_source(&restore.spec, &backups) {
        Ok(backup) => backup,
        Err(problem) => {
            problems.push(problem);
            return Ok(Err(problems));
        }
    };
    let backup_name = backup.name_any();
    let locations: Api<BackupStorageLocation> =
        Api::namespaced(context.client.clone(), &context.namespace);
    let location_name = backup.spec.storage_location.clone();
    let Some(location) = locations
        .get_opt(&location_name)
        .await
        .context("cannot read BackupStorageLocations")?
    else {
        problems.push(format!(
            "Error retrieving backup: backupstoragelocations.velero.io \"{location_name}\" not found"
        ));
        return Ok(Err(problems));
    };
    match locations::open_store(context, &location).await {
        Ok(store) => match store.backup_exists(&backup_name).await {
            Ok(true) => {}
            Ok(false) => problems.push(format!(
                "Error retrieving backup: backup {backup_name} not found in BackupStorageLocation {location_name} ({})",
                store.location()
            )),
            Err(err) => problems.push(format!("Error retrieving backup: {err}")),
        },
        Err(err) => problems.push(format!("Error retrieving backup: {err:#}")),
    }
    if problems.is_empty() {
        Ok(Ok((backup_name, location)))
    } else {
        Ok(Err(problems))
    }
}

async fn process_restore(
    context: Arc<Context>,
    api: Api<Restore>,
    name: String,
) -> anyhow::Result<()> {
    restore_job(&context, &api, &name).await
}

async fn restore_job(context: &Context, api: &Api<Restore>, name: &str) -> anyhow::Result<()> {
    let Some(restore) = api.get_opt(name).await.context("cannot read the Restore")? else {
        return Ok(());
    };
    if !is_new_restore(&restore) {
        return Ok(());
    }
    let (backup_name, location) = match validate_restore(context, &restore).await? {
        Ok(source) => source,
        Err(problems) => {
            tracing::info!(restore = %name, ?problems, "restore failed validation");
            merge(api, name, &failed_validation_patch(&problems, &jobs::now())).await?;
            context.metrics.restore_finished("FailedValidation", None);
            return Ok(());
        }
    };

    let start = jobs::now();
    let in_progress = RestoreStatus {
        phase: Some(RestorePhase::InProgress),
        start_timestamp: Some(start.clone()),
        ..RestoreStatus::default()
    };
    // From here on, deleting the Restore deletes its files too (see restore_deletion).
    let patch = serde_json::json!({
        "metadata": super::restore_deletion::started_metadata(&restore, &location.name_any()),
        "spec": { "backupName": backup_name },
        "status": in_progress,
    });
    let running = merge(api, name, &patch).await?;
    tracing::info!(restore = %name, backup = %backup_name, "restore started");

    let started = Instant::now();
    let outcome = match locations::open_store(context, &location).await {
        Ok(store) => {
            with_progress_in_status(
                api,
                name,
                |value: &godwit_restore::Progress| serde_json::json!(restore_progress(value)),
                |callback| {
                    jobs::run_restore(
                        &context.client,
                        &store,
                        &running,
                        &context.job_options,
                        callback,
                    )
                },
            )
            .await
        }
        Err(err) => Err(err),
    };

    let status = match outcome {
        Ok(report) => {
            context
                .metrics
                .restore_items(u64::try_from(report.counts.total).unwrap_or(u64::MAX));
            RestoreStatus {
                start_timestamp: Some(start),
                ..report.status
            }
        }
        Err(err) => RestoreStatus {
            failure_reason: format!("{err:#}"),
            completion_timestamp: Some(jobs::now()),
            phase: Some(RestorePhase::Failed),
            ..in_progress
        },
    };
    let phase = status
        .phase
        .as_ref()
        .map_or("Failed", |phase| phase.as_str())
        .to_owned();
    let ran = phase != RestorePhase::FailedValidation.as_str();
    merge(api, name, &status_patch(&status)).await?;
    context
        .metrics
        .restore_finished(&phase, ran.then(|| started.elapsed()));
    tracing::info!(restore = %name, %phase, warnings = status.warnings, errors = status.errors, "restore ended");
    Ok(())
}

#[cfg(test)]
mod tests {
    use godwit_api::{BackupSpec, RestoreSpec};

    use super::*;

    #[test]
    fn only_new_requests_are_picked_up() {
        let backup = |phase: Option<&str>| {
            let mut backup = Backup::new("b", BackupSpec::default());
            backup.status = phase.map(|phase| BackupStatus {
                phase: Some(BackupPhase::parse(phase)),
                ..BackupStatus::default()
            });
            is_new_backup(&backup)
        };
        let restore = |phase: Option<&str>| {
            let mut restore = Restore::new("r", RestoreSpec::default());
            restore.status = phase.map(|phase| RestoreStatus {
                phase: Some(RestorePhase::parse(phase)),
                ..RestoreStatus::default()
            });
            is_new_restore(&restore)
        };
        for (phase, expected) in [
            (None, true),
            (Some("New"), true),
            (Some("Queued"), true),
            (Some("InProgress"), false),
            (Some("Completed"), false),
            (Some("FailedValidation"), false),
            (Some("Failed"), false),
        ] {
            assert_eq!(backup(phase), expected, "backup {phase:?}");
            assert_eq!(restore(phase), expected, "restore {phase:?}");
        }
    }

    #[test]
    fn progress_follows_the_engines() {
        let backup = backup_progress(&godwit_backup::Progress {
            items_listed: 10,
            items_written: 4,
            lists_done: 1,
            lists_total: 3,
        });
        assert_eq!((backup.total_items, backup.items_backed_up), (10, 4));
        // With every version kept, more versions are written than objects listed.
        let backup = backup_progress(&godwit_backup::Progress {
            items_listed: 2,
            items_written: 4,
            lists_done: 1,
            lists_total: 1,
        });
        assert_eq!((backup.total_items, backup.items_backed_up), (4, 4));
        let restore = restore_progress(&godwit_restore::Progress {
            total_items: 9,
            items_restored: 3,
        });
        assert_eq!((restore.total_items, restore.items_restored), (9, 3));
    }

    #[test]
    fn expiration_adds_the_ttl_or_thirty_days() {
        let start = Time("2026-01-01T00:00:00Z".parse().unwrap());
        let check = |ttl: Option<&str>, expected: &str| {
            let ttl = ttl.map(godwit_api::Duration::new);
            assert_eq!(
                expiration(&start, ttl.as_ref()).map(|time| time.0.to_string()),
                Some(expected.to_owned())
            );
        };
        check(None, "2026-01-31T00:00:00Z");
        check(Some("1h30m"), "2026-01-01T01:30:00Z");
        assert_eq!(
            expiration(&start, Some(&godwit_api::Duration::new("soon"))),
            None
        );
    }

    #[test]
    fn failed_validation_lists_the_problems() {
        let now = Time("2026-01-01T00:00:00Z".parse().unwrap());
        let patch = failed_validation_patch(&["one".to_owned(), "two".to_owned()], &now);
        assert_eq!(
            patch,
            serde_json::json!({"status": {
                "phase": "FailedValidation",
                "validationErrors": ["one", "two"],
                "completionTimestamp": "2026-01-01T00:00:00Z",
            }})
        );
    }
}
