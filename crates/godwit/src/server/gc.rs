//! Velero's garbage collection: a backup whose `status.expiration` (set from `--ttl`, 30 days
//! by default) has passed is deleted through a DeleteBackupRequest, the same request `godwit
//! backup delete` makes, so the deletion controller does the work and its refusals apply (a
//! backup still running, a read-only location). A backup a restore is running from waits for
//! the next round, as does one whose deletion is already requested.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use godwit_api::{Backup, BackupPhase, DeleteBackupRequest, Restore, RestorePhase};
use jiff::Timestamp;
use kube::api::ListParams;
use kube::{Api, ResourceExt as _};

use super::Context;

/// What to do with one backup this round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Not expired (or without an expiration): nothing to do.
    Keep,
    /// Expired, but not deleted now, for this reason.
    Wait(String),
    /// Expired: request its deletion.
    Delete,
}

/// The garbage collector's decision for `backup` at `now`, given the namespace's restores and
/// delete requests.
pub(crate) fn verdict(
    backup: &Backup,
    restores: &[Restore],
    requests: &[DeleteBackupRequest],
    now: Timestamp,
) -> Verdict {
    let expiration = backup
        .status
        .as_ref()
        .and_then(|status| status.expiration.as_ref())
        .map(|time| time.0);
    let Some(expiration) = expiration else {
        return Verdict::Keep;
    };
    if expiration > now {
        return Verdict::Keep;
    }
    let name = backup.name_any();
    if matches!(
        backup.phase(),
        Some(
            BackupPhase::New
                | BackupPhase::Queued
                | BackupPhase::InProgress
                | BackupPhase::Deleting
        )
    ) {
        return Verdict::Wait(format!(
            "it is {}",
            backup.phase().map_or("", |phase| phase.as_str())
        ));
    }
    if let Some(restore) = restores.iter().find(|restore| {
        restore.spec.backup_name == name
            && matches!(
                restore.phase(),
                None | Some(RestorePhase::New | RestorePhase::Queued | RestorePhase::InProgress)
            )
    }) {
        return Verdict::Wait(format!("restore {} is using it", restore.name_any()));
    }
    if requests
        .iter()
        .any(|request| request.spec.backup_name == name && request.is_pending())
    {
        return Verdict::Wait("its deletion is already requested".to_owned());
    }
    Verdict::Delete
}

/// Runs a round every `every` (never when zero), until a round fails to reach the cluster.
pub(crate) async fn run(context: Arc<Context>, every: Duration) -> anyhow::Result<()> {
    if every.is_zero() {
        return std::future::pending().await;
    }
    loop {
        if let Err(err) = round(&context).await {
            tracing::warn!(error = %format!("{err:#}"), "garbage collection round failed; will retry");
        }
        tokio::time::sleep(every).await;
    }
}

/// One pass over the namespace's backups.
async fn round(context: &Context) -> anyhow::Result<()> {
    let namespace = &context.namespace;
    let backups: Api<Backup> = Api::namespaced(context.client.clone(), namespace);
    let restores: Api<Restore> = Api::namespaced(context.client.clone(), namespace);
    let requests: Api<DeleteBackupRequest> = Api::namespaced(context.client.clone(), namespace);
    let params = ListParams::default();
    let backups = backups
        .list(&params)
        .await
        .context("cannot list Backups")?
        .items;
    let restores = restores
        .list(&params)
        .await
        .context("cannot list Restores")?
        .items;
    let pending = requests
        .list(&params)
        .await
        .context("cannot list DeleteBackupRequests")?
        .items;
    let now = Timestamp::now();
    for backup in &backups {
        match verdict(backup, &restores, &pending, now) {
            Verdict::Keep => {}
            Verdict::Wait(why) => {
                tracing::info!(backup = %backup.name_any(), %why, "expired backup not deleted yet");
            }
            Verdict::Delete => {
                let request = DeleteBackupRequest::for_backup(backup, namespace);
                requests
                    .create(&crate::writes::post_params(), &request)
                    .await
                    .with_context(|| {
                        format!("cannot request deletion of backup {}", backup.name_any())
                    })?;
                tracing::info!(backup = %backup.name_any(), "expired backup: deletion requested");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use godwit_api::{
        BackupSpec, BackupStatus, DeleteBackupRequestSpec, RestoreSpec, RestoreStatus,
    };

    use super::*;

    fn backup(phase: &str, expiration: Option<&str>) -> Backup {
        let mut backup = Backup::new("nightly", BackupSpec::default());
        backup.status = Some(BackupStatus {
            phase: Some(BackupPhase::parse(phase)),
            expiration: expiration
                .map(|time| serde_json::from_value(serde_json::json!(time)).unwrap()),
            ..BackupStatus::default()
        });
        backup
    }

    fn restore(phase: Option<&str>) -> Restore {
        let mut restore = Restore::new(
            "from-nightly",
            RestoreSpec {
                backup_name: "nightly".to_owned(),
                ..RestoreSpec::default()
            },
        );
        restore.status = phase.map(|phase| RestoreStatus {
            phase: Some(RestorePhase::parse(phase)),
            ..RestoreStatus::default()
        });
        restore
    }

    fn request(backup_name: &str, processed: bool) -> DeleteBackupRequest {
        let mut request = DeleteBackupRequest::new(
            "r",
            DeleteBackupRequestSpec {
                backup_name: backup_name.to_owned(),
            },
        );
        if processed {
            request.status = Some(godwit_api::DeleteBackupRequestStatus {
                phase: Some(godwit_api::DeleteBackupRequestPhase::Processed),
                errors: None,
            });
        }
        request
    }

    #[test]
    fn expired_backups_are_deleted_unless_something_holds_them() {
        let now: Timestamp = "2026-12-06T12:00:00Z".parse().unwrap();
        let past = Some("2026-12-06T11:59:59Z");
        let check = |backup: Backup,
                     restores: &[Restore],
                     requests: &[DeleteBackupRequest],
                     expected: Verdict| {
            assert_eq!(verdict(&backup, restores, requests, now), expected);
        };
        check(backup("Completed", None), &[], &[], Verdict::Keep);
        check(
            backup("Completed", Some("2026-12-06T12:00:01Z")),
            &[],
            &[],
            Verdict::Keep,
        );
        check(backup("Completed", past), &[], &[], Verdict::Delete);
        check(backup("PartiallyFailed", past), &[], &[], Verdict::Delete);
        check(backup("Failed", past), &[], &[], Verdict::Delete);
        check(
            backup("InProgress", past),
            &[],
            &[],
            Verdict::Wait("it is InProgress".to_owned()),
        );
        check(
            backup("Completed", past),
            &[restore(Some("InProgress"))],
            &[],
            Verdict::Wait("restore from-nightly is using it".to_owned()),
        );
        check(
            backup("Completed", past),
            &[restore(None)],
            &[],
            Verdict::Wait("restore from-nightly is using it".to_owned()),
        );
        // Finished restores hold nothing.
        check(
            backup("Completed", past),
            &[restore(Some("Completed"))],
            &[],
            Verdict::Delete,
        );
        check(
            backup("Completed", past),
            &[],
            &[request("nightly", false)],
            Verdict::Wait("its deletion is already requested".to_owned()),
        );
        check(
            backup("Completed", past),
            &[],
            &[request("nightly", true), request("other", false)],
            Verdict::Delete,
        );
    }
}
