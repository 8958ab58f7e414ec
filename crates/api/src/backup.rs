//! `Backup` (`backups.velero.io`): what to back up, and how the backup went.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::serde_helpers::{is_zero, null_as_default};
use crate::string_enum::string_enum;
use crate::{Duration, HookStatus, TypedLocalObjectReference};

/// What a Velero backup should capture and where to store it (`spec` of a `Backup`).
#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "velero.io",
    version = "v1",
    kind = "Backup",
    namespaced,
    status = "BackupStatus",
    derive = "PartialEq",
    doc = "A Velero backup: the capture of Kubernetes objects (and their volumes) at a point in time."
)]
#[serde(rename_all = "camelCase")]
pub struct BackupSpec {
    /// Labels to put on the Backup object itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BackupMetadata>,

    /// Namespaces to back up objects from; empty or absent means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included_namespaces: Option<Vec<String>>,

    /// Namespaces not to back up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_namespaces: Option<Vec<String>>,

    /// Resources to back up (`deployments.apps`, `pods`); empty or absent means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included_resources: Option<Vec<String>>,

    /// Resources not to back up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_resources: Option<Vec<String>>,

    /// Cluster-scoped resources to back up; `*` means all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included_cluster_scoped_resources: Option<Vec<String>>,

    /// Cluster-scoped resources not to back up; `*` means all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_cluster_scoped_resources: Option<Vec<String>>,

    /// Namespaced resources to back up; the default is `*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included_namespace_scoped_resources: Option<Vec<String>>,

    /// Namespaced resources not to back up; `*` means all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_namespace_scoped_resources: Option<Vec<String>>,

    /// Only objects whose labels match this selector are backed up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::label_selector")]
    pub label_selector: Option<LabelSelector>,

    /// Objects matching any of these selectors are backed up; not together with `labelSelector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::label_selectors")]
    pub or_label_selectors: Option<Vec<LabelSelector>>,

    /// Whether to snapshot the persistent volumes of the backed-up objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_volumes: Option<bool>,

    /// How long to keep the backup (a Go duration such as `720h0m0s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<Duration>,

    /// Whether cluster-scoped resources are considered; absent means only those related to
    /// backed-up namespaced objects (or all, when every namespace is backed up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_cluster_resources: Option<bool>,

    /// Pre- and post-backup hooks, passed through as Velero wrote them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::opaque_object")]
    pub hooks: Option<serde_json::Value>,

    /// The BackupStorageLocation to store the backup in; empty means the default one.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub storage_location: String,

    /// The VolumeSnapshotLocations to use for volume snapshots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_snapshot_locations: Option<Vec<String>>,

    /// Deprecated by Velero in favour of `defaultVolumesToFsBackup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_volumes_to_restic: Option<bool>,

    /// Whether pod volumes are backed up with file-system backup by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_volumes_to_fs_backup: Option<bool>,

    /// Order of objects per resource: `namespace/name` lists, comma separated, by resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordered_resources: Option<BTreeMap<String, String>>,

    /// How long to wait for a CSI VolumeSnapshot to become ready (Go duration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csi_snapshot_timeout: Option<Duration>,

    /// How long to wait for asynchronous plugin operations (Go duration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_operation_timeout: Option<Duration>,

    /// The ConfigMap holding resource policies for this backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_policy: Option<TypedLocalObjectReference>,

    /// Whether snapshot data is moved to the backup storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_move_data: Option<bool>,

    /// The data mover to use; empty or `velero` means Velero's built-in one.
    #[serde(
        default,
        rename = "datamover",
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub data_mover: String,

    /// Settings for the file-system uploader, passed through as Velero wrote them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::opaque_object")]
    pub uploader_config: Option<serde_json::Value>,

    /// Fields this version of godwit does not know, kept so that writing the object back does
    /// not drop them.
    #[serde(flatten)]
    #[schemars(skip)]
    pub unknown_fields: BTreeMap<String, serde_json::Value>,
}

/// Labels for the Backup object itself (`spec.metadata`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupMetadata {
    /// The labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

string_enum! {
    /// Where a backup is in its life (`status.phase`).
    pub enum BackupPhase {
        /// Created, not yet looked at by the server.
        New = "New",
        /// Waiting in the server's queue for a free worker.
        Queued = "Queued",
        /// Taken off the queue, about to start.
        ReadyToStart = "ReadyToStart",
        /// The request is invalid; the backup will not run.
        FailedValidation = "FailedValidation",
        /// Running.
        InProgress = "InProgress",
        /// Objects are stored; asynchronous plugin operations are still running.
        WaitingForPluginOperations = "WaitingForPluginOperations",
        /// As `WaitingForPluginOperations`, with errors already seen.
        WaitingForPluginOperationsPartiallyFailed = "WaitingForPluginOperationsPartiallyFailed",
        /// Plugin operations are done; objects they changed are being stored again.
        Finalizing = "Finalizing",
        /// As `Finalizing`, with errors already seen.
        FinalizingPartiallyFailed = "FinalizingPartiallyFailed",
        /// Done without errors.
        Completed = "Completed",
        /// Done, with errors for some objects.
        PartiallyFailed = "PartiallyFailed",
        /// Could not be done.
        Failed = "Failed",
        /// The backup and its data are being deleted.
        Deleting = "Deleting",
    }
}

impl BackupPhase {
    /// Whether the server is done with the backup: it ran to an end or was refused. `Deleting`
    /// and unknown phases are not terminal (the object is still changing, or we cannot tell).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            BackupPhase::FailedValidation
                | BackupPhase::Completed
                | BackupPhase::PartiallyFailed
                | BackupPhase::Failed
        )
    }
}

/// How a Velero backup went (`status` of a `Backup`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupStatus {
    /// The major version of the backup format (deprecated by Velero for `formatVersion`).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub version: i64,

    /// The backup format version, such as `1.1.0`.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub format_version: String,

    /// When the backup may be garbage-collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::time")]
    pub expiration: Option<Time>,

    /// Where the backup is in its life.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<BackupPhase>,

    /// Why the request is invalid, when the phase is `FailedValidation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_errors: Option<Vec<String>>,

    /// When the server started the backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::time")]
    pub start_timestamp: Option<Time>,

    /// When the backup ended, also when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::time")]
    pub completion_timestamp: Option<Time>,

    /// Volume snapshots attempted.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub volume_snapshots_attempted: i64,

    /// Volume snapshots completed.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub volume_snapshots_completed: i64,

    /// The error that failed the whole backup.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub failure_reason: String,

    /// How many warnings the backup logged.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub warnings: i64,

    /// How many errors the backup logged.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub errors: i64,

    /// Items to back up and items backed up so far (best effort).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<BackupProgress>,

    /// CSI VolumeSnapshots attempted.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub csi_volume_snapshots_attempted: i64,

    /// CSI VolumeSnapshots completed.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub csi_volume_snapshots_completed: i64,

    /// Asynchronous BackupItemAction operations attempted.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub backup_item_operations_attempted: i64,

    /// Asynchronous BackupItemAction operations completed.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub backup_item_operations_completed: i64,

    /// Asynchronous BackupItemAction operations that ended with an error.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub backup_item_operations_failed: i64,

    /// Hooks run and hooks failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook_status: Option<HookStatus>,

    /// Fields this version of godwit does not know, kept so that writing the object back does
    /// not drop them.
    #[serde(flatten)]
    #[schemars(skip)]
    pub unknown_fields: BTreeMap<String, serde_json::Value>,
}

/// Progress of a backup (`status.progress`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupProgress {
    /// Items to back up; may grow while plugins add related items.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub total_items: i64,

    /// Items written to the tarball so far.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub items_backed_up: i64,
}

impl Backup {
    /// The phase, if the server has set one.
    pub fn phase(&self) -> Option<&BackupPhase> {
        self.status
            .as_ref()
            .and_then(|status| status.phase.as_ref())
    }

    /// Whether the server is done with this backup (see [`BackupPhase::is_terminal`]); a backup
    /// without a phase is new, so not terminal.
    pub fn is_terminal_phase(&self) -> bool {
        self.phase().is_some_and(BackupPhase::is_terminal)
    }
}
