//! `DeleteBackupRequest` (`deletebackuprequests.velero.io`): what `velero backup delete`
//! creates; the server deletes the backup's data and object, then marks the request processed.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::string_enum::string_enum;

/// Which backup to delete (`spec` of a `DeleteBackupRequest`).
#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "velero.io",
    version = "v1",
    kind = "DeleteBackupRequest",
    namespaced,
    status = "DeleteBackupRequestStatus",
    derive = "PartialEq",
    doc = "A request to delete a Velero backup and its data.",
    printcolumn = r#"{"name": "BackupName", "type": "string", "jsonPath": ".spec.backupName", "description": "The backup to delete"}"#,
    printcolumn = r#"{"name": "Status", "type": "string", "jsonPath": ".status.phase", "description": "Where the request is"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct DeleteBackupRequestSpec {
    /// The backup to delete.
    pub backup_name: String,
}

string_enum! {
    /// Where a delete request is (`status.phase`).
    pub enum DeleteBackupRequestPhase {
        /// Not yet looked at.
        New = "New",
        /// Being carried out.
        InProgress = "InProgress",
        /// Done, with or without errors.
        Processed = "Processed",
    }
}

/// How a delete request went (`status` of a `DeleteBackupRequest`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeleteBackupRequestStatus {
    /// Where the request is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<DeleteBackupRequestPhase>,

    /// What went wrong while deleting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
}

impl DeleteBackupRequest {
    /// A request to delete `backup` (Velero's shape: a generated name after the backup's, and
    /// the backup's name and uid as labels).
    pub fn for_backup(backup: &crate::Backup, namespace: &str) -> Self {
        let name = backup.metadata.name.clone().unwrap_or_default();
        let mut labels = std::collections::BTreeMap::new();
        labels.insert(crate::labels::BACKUP_NAME.to_owned(), name.clone());
        if let Some(uid) = &backup.metadata.uid {
            labels.insert(crate::labels::BACKUP_UID.to_owned(), uid.clone());
        }
        DeleteBackupRequest {
            metadata: kube::api::ObjectMeta {
                generate_name: Some(format!("{name}-")),
                namespace: Some(namespace.to_owned()),
                labels: Some(labels),
                ..kube::api::ObjectMeta::default()
            },
            spec: DeleteBackupRequestSpec { backup_name: name },
            status: None,
        }
    }

    /// Whether the request is still to be carried out (not `Processed`).
    pub fn is_pending(&self) -> bool {
        !matches!(
            self.status
                .as_ref()
                .and_then(|status| status.phase.as_ref()),
            Some(DeleteBackupRequestPhase::Processed)
        )
    }
}
