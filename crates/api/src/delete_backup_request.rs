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
