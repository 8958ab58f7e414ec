//! Start-up recovery: a Backup or Restore that a previous server left running can not be
//! resumed (its engine state died with the process), so it is marked `Failed` with Velero's
//! reason before any controller starts, and is never run a second time.

use anyhow::Context as _;
use godwit_api::{Backup, BackupPhase, Restore, RestorePhase};
use kube::api::{ListParams, Patch};
use kube::{Api, ResourceExt as _};

use super::Context;

/// Whether a backup in this phase was being worked on by a server (and so was interrupted).
/// `New` and `Queued` have not started and are left for the controller.
pub(crate) fn backup_was_running(phase: &BackupPhase) -> bool {
    matches!(
        phase,
        BackupPhase::ReadyToStart
            | BackupPhase::InProgress
            | BackupPhase::WaitingForPluginOperations
            | BackupPhase::WaitingForPluginOperationsPartiallyFailed
            | BackupPhase::Finalizing
            | BackupPhase::FinalizingPartiallyFailed
    )
}

/// Whether a restore in this phase was being worked on by a server (and so was interrupted).
pub(crate) fn restore_was_running(phase: &RestorePhase) -> bool {
    matches!(
        phase,
        RestorePhase::ReadyToStart
            | RestorePhase::InProgress
            | RestorePhase::WaitingForPluginOperations
            | RestorePhase::WaitingForPluginOperationsPartiallyFailed
            | RestorePhase::Finalizing
            | RestorePhase::FinalizingPartiallyFailed
    )
}

/// Velero's `failureReason` for work found running at start (`kind` is `backup` or
/// `restore`).
pub(crate) fn interrupted_reason(kind: &str, phase: &str) -> String {
    format!(
        "found a {kind} with status \"{phase}\" during the server starting, mark it as \"Failed\""
    )
}

/// The merge patch that fails an interrupted resource.
fn failed_patch(reason: &str) -> serde_json::Value {
    serde_json::json!({
        "status": {
            "phase": "Failed",
            "failureReason": reason,
            "completionTimestamp": crate::jobs::now(),
        }
    })
}

/// Marks every interrupted Backup and Restore of the server's namespace `Failed`.
pub(crate) async fn mark_interrupted(context: &Context) -> anyhow::Result<()> {
    let backups: Api<Backup> = Api::namespaced(context.client.clone(), &context.namespace);
    let listed = backups
        .list(&ListParams::default())
        .await
        .with_context(|| format!("cannot list Backups in {}", context.namespace))?;
    for backup in &listed.items {
        let Some(phase) = backup.phase().filter(|phase| backup_was_running(phase)) else {
            continue;
        };
        let reason = interrupted_reason("backup", phase.as_str());
        let name = backup.name_any();
        backups
            .patch(
                &name,
                &crate::writes::patch_params(),
                &Patch::Merge(failed_patch(&reason)),
            )
            .await
            .with_context(|| format!("cannot mark Backup {name} Failed"))?;
        context.metrics.backup_finished("Failed", None);
        tracing::warn!(backup = %name, "{reason}");
    }

    let restores: Api<Restore> = Api::namespaced(context.client.clone(), &context.namespace);
    let listed = restores
        .list(&ListParams::default())
        .await
        .with_context(|| format!("cannot list Restores in {}", context.namespace))?;
    for restore in &listed.items {
        let Some(phase) = restore.phase().filter(|phase| restore_was_running(phase)) else {
            continue;
        };
        let reason = interrupted_reason("restore", phase.as_str());
        let name = restore.name_any();
        restores
            .patch(
                &name,
                &crate::writes::patch_params(),
                &Patch::Merge(failed_patch(&reason)),
            )
            .await
            .with_context(|| format!("cannot mark Restore {name} Failed"))?;
        context.metrics.restore_finished("Failed", None);
        tracing::warn!(restore = %name, "{reason}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_phases_are_failed_and_others_are_left() {
        let check = |phase: &str, expected: bool| {
            assert_eq!(
                backup_was_running(&BackupPhase::parse(phase)),
                expected,
                "backup {phase}"
            );
            assert_eq!(
                restore_was_running(&RestorePhase::parse(phase)),
                expected,
                "restore {phase}"
            );
        };
        check("InProgress", true);
        check("ReadyToStart", true);
        check("WaitingForPluginOperations", true);
        check("FinalizingPartiallyFailed", true);
        check("New", false);
        check("Queued", false);
        check("Completed", false);
        check("PartiallyFailed", false);
        check("Failed", false);
        check("FailedValidation", false);
        check("SomethingNew", false);
    }

    #[test]
    fn reason_matches_velero() {
        assert_eq!(
            interrupted_reason("restore", "InProgress"),
            "found a restore with status \"InProgress\" during the server starting, mark it as \"Failed\""
        );
        let patch = failed_patch("why");
        assert_eq!(patch["status"]["phase"], "Failed");
        assert_eq!(patch["status"]["failureReason"], "why");
        assert!(patch["status"]["completionTimestamp"].is_string());
    }
}
