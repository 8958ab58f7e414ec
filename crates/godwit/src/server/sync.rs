//! Backup sync, as Velero's backup sync controller does it: every backup found in a location's
//! store but missing from the cluster is created as a Backup resource (from its
//! `velero-backup.json`), so a second cluster sharing the store can restore it.
//!
//! A stored backup is skipped, with a warning naming it, when its directory name is no Kubernetes
//! object name (see `godwit_storage::BackupStore::list_backups`), its `velero-backup.json` is
//! not a Backup of that name in a format godwit reads (`jobs::stored_backup`), or it never
//! finished: a half-written or tampered backup never becomes a Backup resource.
//!
//! Not done (unlike Velero): deleting Backups whose files vanished from the store.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use godwit_api::{Backup, BackupStorageLocation, BackupStorageLocationPhase};
use kube::api::{ListParams, ObjectMeta};
use kube::{Api, ResourceExt as _};

use super::{Context, locations};

/// The Backup resource to create for a backup read from `location`'s store, or `None` when the
/// stored backup never finished (it would otherwise look new and be run again).
pub(crate) fn synced_backup(stored: Backup, namespace: &str, location: &str) -> Option<Backup> {
    if !stored.is_terminal_phase() {
        return None;
    }
    let mut labels = stored.metadata.labels.clone().unwrap_or_default();
    labels.insert(
        godwit_api::labels::STORAGE_LOCATION.to_owned(),
        location.to_owned(),
    );
    let mut backup = Backup {
        metadata: ObjectMeta {
            name: stored.metadata.name.clone(),
            namespace: Some(namespace.to_owned()),
            labels: Some(labels),
            annotations: stored.metadata.annotations.clone(),
            ..ObjectMeta::default()
        },
        spec: stored.spec,
        status: stored.status,
    };
    backup.spec.storage_location = location.to_owned();
    Some(backup)
}

/// Syncs every available location once.
pub(crate) async fn sync_once(context: &Context) -> anyhow::Result<()> {
    let locations_api: Api<BackupStorageLocation> =
        Api::namespaced(context.client.clone(), &context.namespace);
    let backups_api: Api<Backup> = Api::namespaced(context.client.clone(), &context.namespace);
    let locations = locations_api
        .list(&ListParams::default())
        .await
        .context("cannot list BackupStorageLocations")?;
    let in_cluster: BTreeSet<String> = backups_api
        .list(&ListParams::default())
        .await
        .context("cannot list Backups")?
        .items
        .iter()
        .map(|backup| backup.name_any())
        .collect();
    for location in &locations.items {
        let available = location
            .status
            .as_ref()
            .and_then(|status| status.phase.as_ref())
            == Some(&BackupStorageLocationPhase::Available);
        if !available {
            continue;
        }
        if let Err(err) = sync_location(context, &backups_api, location, &in_cluster).await {
            tracing::warn!(location = %location.name_any(), error = %format!("{err:#}"), "backup sync failed");
        }
    }
    Ok(())
}

async fn sync_location(
    context: &Context,
    backups_api: &Api<Backup>,
    location: &BackupStorageLocation,
    in_cluster: &BTreeSet<String>,
) -> anyhow::Result<()> {
    let location_name = location.name_any();
    let store = locations::open_store(context, location).await?;
    for name in store.list_backups().await? {
        if in_cluster.contains(&name) {
            continue;
        }
        // One unreadable backup must not keep the others out.
        let bytes = match store.get_backup_metadata(&name).await {
            Ok(bytes) => bytes,
            Err(err) => {
                tracing::warn!(backup = %name, location = %location_name, error = %err, "skipping a stored backup whose velero-backup.json cannot be read");
                continue;
            }
        };
        let stored = match crate::jobs::stored_backup(&name, &bytes) {
            Ok(stored) => stored,
            Err(problem) => {
                tracing::warn!(backup = %name, location = %location_name, "skipping a stored backup: {problem}");
                continue;
            }
        };
        let Some(backup) = synced_backup(stored, &context.namespace, &location_name) else {
            tracing::warn!(backup = %name, "skipping a stored backup that never finished");
            continue;
        };
        match backups_api
            .create(&crate::writes::post_params(), &backup)
            .await
        {
            Ok(_) => {
                tracing::info!(backup = %name, location = %location_name, "synced a backup from object storage")
            }
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            Err(err) => return Err(err).with_context(|| format!("cannot create Backup {name}")),
        }
    }
    Ok(())
}

/// Syncs again every `period` (never when it is zero).
pub(crate) async fn sync_periodically(
    context: Arc<Context>,
    period: Duration,
) -> anyhow::Result<()> {
    if period.is_zero() {
        std::future::pending::<()>().await;
    }
    loop {
        tokio::time::sleep(period).await;
        if let Err(err) = sync_once(&context).await {
            tracing::warn!(error = %format!("{err:#}"), "backup sync failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use godwit_api::{BackupPhase, BackupSpec, BackupStatus};

    use super::*;

    fn stored(phase: Option<&str>) -> Backup {
        let mut backup = Backup::new("nightly", BackupSpec::default());
        backup.metadata.namespace = Some("velero-source".to_owned());
        backup.metadata.uid = Some("1234".to_owned());
        backup.metadata.resource_version = Some("99".to_owned());
        backup.spec.storage_location = "elsewhere".to_owned();
        backup.status = Some(BackupStatus {
            phase: phase.map(BackupPhase::parse),
            ..BackupStatus::default()
        });
        backup
    }

    #[test]
    fn finished_backups_are_synced_into_this_namespace_and_location() {
        let backup = synced_backup(stored(Some("Completed")), "velero", "default").unwrap();
        assert_eq!(backup.metadata.name.as_deref(), Some("nightly"));
        assert_eq!(backup.metadata.namespace.as_deref(), Some("velero"));
        assert_eq!(backup.metadata.uid, None);
        assert_eq!(backup.metadata.resource_version, None);
        assert_eq!(backup.spec.storage_location, "default");
        assert_eq!(
            backup.labels().get(godwit_api::labels::STORAGE_LOCATION),
            Some(&"default".to_owned())
        );
        assert_eq!(backup.phase(), Some(&BackupPhase::Completed));
    }

    #[test]
    fn unfinished_backups_are_not_synced() {
        for phase in [None, Some("New"), Some("InProgress")] {
            assert!(
                synced_backup(stored(phase), "velero", "default").is_none(),
                "{phase:?}"
            );
        }
        assert!(synced_backup(stored(Some("PartiallyFailed")), "velero", "default").is_some());
    }
}
