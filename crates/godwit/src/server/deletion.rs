//! The DeleteBackupRequest controller (what `godwit backup delete` and `velero backup delete`
//! create), as Velero's backup deletion controller does it: refuse while the backup runs or its
//! location is read-only; otherwise mark the Backup `Deleting`, delete its files and those of
//! the restores made from it, delete those Restores and, when nothing failed, the Backup; then
//! mark the request `Processed` with any errors.
//!
//! Not done (unlike Velero): volume snapshots (godwit takes none), and clearing out older
//! requests for the same backup.

use std::sync::Arc;

use anyhow::Context as _;
use godwit_api::{
    AccessMode, Backup, BackupPhase, BackupStorageLocation, DeleteBackupRequest,
    DeleteBackupRequestPhase, Restore,
};
use kube::api::{DeleteParams, ListParams, Patch};
use kube::{Api, ResourceExt as _};
use tokio::sync::mpsc;

use super::{Context, locations};

/// Whether the controller should pick this request up.
pub(crate) fn is_new_request(request: &DeleteBackupRequest) -> bool {
    matches!(
        request
            .status
            .as_ref()
            .and_then(|status| status.phase.as_ref()),
        None | Some(DeleteBackupRequestPhase::New)
    )
}

/// Why the backup cannot be deleted now (Velero's wording), if it cannot.
pub(crate) fn refusal(
    backup: Option<&Backup>,
    location: Option<&BackupStorageLocation>,
) -> Option<String> {
    let Some(backup) = backup else {
        return Some("backup not found".to_owned());
    };
    if backup.phase() == Some(&BackupPhase::InProgress) {
        return Some("backup is still in progress".to_owned());
    }
    match location {
        Some(location) if location.access_mode() == AccessMode::ReadOnly => Some(format!(
            "cannot delete backup because backup storage location {} is currently in read-only mode",
            location.name_any()
        )),
        _ => None,
    }
}

/// Runs the controller until it fails.
pub(crate) async fn run_deletions(context: Arc<Context>) -> anyhow::Result<()> {
    let api: Api<DeleteBackupRequest> = Api::namespaced(context.client.clone(), &context.namespace);
    let (queue, mut pending) = mpsc::unbounded_channel();
    let watch = super::controller::watch_new(api.clone(), is_new_request, queue);
    let work = async {
        while let Some(name) = pending.recv().await {
            if let Err(err) = process(&context, &api, &name).await {
                tracing::error!(request = %name, error = %format!("{err:#}"), "backup deletion failed");
            }
        }
        anyhow::Ok(())
    };
    tokio::try_join!(watch, work).map(|_| ())
}

async fn set_status(
    api: &Api<DeleteBackupRequest>,
    name: &str,
    phase: DeleteBackupRequestPhase,
    errors: &[String],
) -> anyhow::Result<()> {
    let mut status = serde_json::json!({ "phase": phase.as_str() });
    if !errors.is_empty() {
        status["errors"] = serde_json::json!(errors);
    }
    api.patch_status(
        name,
        &crate::writes::patch_params(),
        &Patch::Merge(serde_json::json!({ "status": status })),
    )
    .await
    .with_context(|| format!("cannot update DeleteBackupRequest {name}"))?;
    Ok(())
}

async fn process(
    context: &Context,
    api: &Api<DeleteBackupRequest>,
    name: &str,
) -> anyhow::Result<()> {
    let Some(request) = api.get_opt(name).await.context("cannot read the request")? else {
        return Ok(());
    };
    if !is_new_request(&request) {
        return Ok(());
    }
    set_status(api, name, DeleteBackupRequestPhase::InProgress, &[]).await?;
    let backup_name = request.spec.backup_name.clone();
    let backups: Api<Backup> = Api::namespaced(context.client.clone(), &context.namespace);
    let locations: Api<BackupStorageLocation> =
        Api::namespaced(context.client.clone(), &context.namespace);
    let backup = backups
        .get_opt(&backup_name)
        .await
        .context("cannot read the Backup")?;
    let location = match &backup {
        Some(backup) if !backup.spec.storage_location.is_empty() => locations
            .get_opt(&backup.spec.storage_location)
            .await
            .context("cannot read the BackupStorageLocation")?,
        _ => None,
    };
    if let Some(problem) = refusal(backup.as_ref(), location.as_ref()) {
        tracing::info!(backup = %backup_name, %problem, "backup not deleted");
        return set_status(api, name, DeleteBackupRequestPhase::Processed, &[problem]).await;
    }

    let mut errors = Vec::new();
    backups
        .patch(
            &backup_name,
            &crate::writes::patch_params(),
            &Patch::Merge(serde_json::json!({ "status": { "phase": "Deleting" } })),
        )
        .await
        .with_context(|| format!("cannot mark Backup {backup_name} Deleting"))?;
    let store = match &location {
        Some(location) => match locations::open_store(context, location).await {
            Ok(store) => Some(store),
            Err(err) => {
                errors.push(format!("{err:#}"));
                None
            }
        },
        // Nothing to delete in a store nobody can name any more.
        None => None,
    };
    if let Some(store) = &store
        && let Err(err) = store.delete_backup(&backup_name).await
    {
        errors.push(format!("error deleting backup files: {err}"));
    }

    let restores: Api<Restore> = Api::namespaced(context.client.clone(), &context.namespace);
    let made_from_it = restores
        .list(&ListParams::default())
        .await
        .context("cannot list Restores")?
        .items
        .into_iter()
        .filter(|restore| restore.spec.backup_name == backup_name);
    for restore in made_from_it {
        let restore_name = restore.name_any();
        if let Some(store) = &store
            && let Err(err) = store.delete_restore(&restore_name).await
        {
            errors.push(format!(
                "error deleting restore {restore_name}'s files: {err}"
            ));
            continue;
        }
        if let Err(err) = restores
            .delete(&restore_name, &DeleteParams::default())
            .await
        {
            errors.push(format!("error deleting restore {restore_name}: {err}"));
        }
    }

    if errors.is_empty()
        && let Err(err) = backups.delete(&backup_name, &DeleteParams::default()).await
    {
        errors.push(format!("error deleting backup {backup_name}: {err}"));
    }
    tracing::info!(backup = %backup_name, ?errors, "backup deletion processed");
    set_status(api, name, DeleteBackupRequestPhase::Processed, &errors).await
}

#[cfg(test)]
mod tests {
    use godwit_api::{BackupSpec, BackupStatus, BackupStorageLocationSpec};

    use super::*;

    fn backup(phase: &str) -> Backup {
        let mut backup = Backup::new("nightly", BackupSpec::default());
        backup.status = Some(BackupStatus {
            phase: Some(BackupPhase::parse(phase)),
            ..BackupStatus::default()
        });
        backup
    }

    fn location(mode: Option<AccessMode>) -> BackupStorageLocation {
        BackupStorageLocation::new(
            "default",
            BackupStorageLocationSpec {
                access_mode: mode,
                ..BackupStorageLocationSpec::default()
            },
        )
    }

    #[test]
    fn deletions_are_refused_as_velero_refuses_them() {
        let check = |backup: Option<Backup>,
                     location: Option<BackupStorageLocation>,
                     expected: Option<&str>| {
            assert_eq!(
                refusal(backup.as_ref(), location.as_ref()).as_deref(),
                expected
            );
        };
        check(None, None, Some("backup not found"));
        check(
            Some(backup("InProgress")),
            Some(location(None)),
            Some("backup is still in progress"),
        );
        check(
            Some(backup("Completed")),
            Some(location(Some(AccessMode::ReadOnly))),
            Some(
                "cannot delete backup because backup storage location default is currently in read-only mode",
            ),
        );
        check(Some(backup("Completed")), Some(location(None)), None);
        check(Some(backup("Failed")), None, None);
    }

    #[test]
    fn only_new_requests_are_picked_up() {
        let request = |phase: Option<&str>| {
            let mut request = DeleteBackupRequest::new(
                "r",
                godwit_api::DeleteBackupRequestSpec {
                    backup_name: "b".to_owned(),
                },
            );
            request.status = phase.map(|phase| godwit_api::DeleteBackupRequestStatus {
                phase: Some(DeleteBackupRequestPhase::parse(phase)),
                errors: None,
            });
            is_new_request(&request)
        };
        assert!(request(None));
        assert!(request(Some("New")));
        assert!(!request(Some("InProgress")));
        assert!(!request(Some("Processed")));
    }
}
