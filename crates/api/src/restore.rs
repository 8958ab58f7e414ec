//! `Restore` (`restores.velero.io`): what to restore from which backup, how it went, and
//! godwit's own account of the API version it chose per group-resource.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::serde_helpers::{is_zero, null_as_default};
use crate::string_enum::string_enum;
use crate::{Duration, HookStatus, TypedLocalObjectReference};

/// What a Velero restore should bring back, from which backup (`spec` of a `Restore`).
#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "velero.io",
    version = "v1",
    kind = "Restore",
    namespaced,
    status = "RestoreStatus",
    derive = "PartialEq",
    doc = "A Velero restore: objects from a Velero backup created in a Kubernetes cluster."
)]
#[serde(rename_all = "camelCase")]
pub struct RestoreSpec {
    /// The backup to restore from; may be empty when `scheduleName` is set.
    #[serde(default, deserialize_with = "null_as_default")]
    pub backup_name: String,

    /// Restore from the latest successful backup of this schedule when `backupName` is empty.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub schedule_name: String,

    /// Namespaces to restore objects from; empty or absent means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included_namespaces: Option<Vec<String>>,

    /// Namespaces not to restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_namespaces: Option<Vec<String>>,

    /// Resources to restore; empty or absent means all in the backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included_resources: Option<Vec<String>>,

    /// Resources not to restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_resources: Option<Vec<String>>,

    /// Source namespace to target namespace; namespaces not listed keep their name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_mapping: Option<BTreeMap<String, String>>,

    /// Only objects whose labels match this selector are restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::label_selector")]
    pub label_selector: Option<LabelSelector>,

    /// Objects matching any of these selectors are restored; not together with `labelSelector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::label_selectors")]
    pub or_label_selectors: Option<Vec<LabelSelector>>,

    /// Whether to restore persistent volumes from their snapshots.
    #[serde(
        default,
        rename = "restorePVs",
        skip_serializing_if = "Option::is_none"
    )]
    pub restore_pvs: Option<bool>,

    /// Resources whose `status` is restored too; absent means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_status: Option<RestoreStatusSpec>,

    /// Whether to keep the node ports services had in the backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_node_ports: Option<bool>,

    /// Whether cluster-scoped resources are restored; absent means yes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_cluster_resources: Option<bool>,

    /// Restore hooks, passed through as Velero wrote them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::opaque_object")]
    pub hooks: Option<serde_json::Value>,

    /// What to do with an object that already exists in the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_resource_policy: Option<ExistingResourcePolicy>,

    /// How long to wait for asynchronous plugin operations (Go duration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_operation_timeout: Option<Duration>,

    /// The ConfigMap holding resource modifier rules for this restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_modifier: Option<TypedLocalObjectReference>,

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

/// Which resources get their `status` restored (`spec.restoreStatus`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreStatusSpec {
    /// Resources whose status is restored; empty or absent means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included_resources: Option<Vec<String>>,

    /// Resources whose status is not restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_resources: Option<Vec<String>>,
}

string_enum! {
    /// What a restore does with an object that already exists (`spec.existingResourcePolicy`;
    /// Velero's `PolicyType`).
    pub enum ExistingResourcePolicy {
        /// Leave the live object alone (the default).
        None = "none",
        /// Patch the live object to match the backup.
        Update = "update",
    }
}

string_enum! {
    /// Where a restore is in its life (`status.phase`).
    pub enum RestorePhase {
        /// Created, not yet looked at by the server.
        New = "New",
        /// Waiting in the server's queue for a free worker.
        Queued = "Queued",
        /// Taken off the queue, about to start.
        ReadyToStart = "ReadyToStart",
        /// The request is invalid; the restore will not run.
        FailedValidation = "FailedValidation",
        /// Running.
        InProgress = "InProgress",
        /// Objects are restored; asynchronous plugin operations are still running.
        WaitingForPluginOperations = "WaitingForPluginOperations",
        /// As `WaitingForPluginOperations`, with errors already seen.
        WaitingForPluginOperationsPartiallyFailed = "WaitingForPluginOperationsPartiallyFailed",
        /// Plugin operations are done; the restore is being wrapped up.
        Finalizing = "Finalizing",
        /// As `Finalizing`, with errors already seen.
        FinalizingPartiallyFailed = "FinalizingPartiallyFailed",
        /// Done without errors.
        Completed = "Completed",
        /// Done, with errors for some objects.
        PartiallyFailed = "PartiallyFailed",
        /// Could not be done; `failureReason` says why.
        Failed = "Failed",
    }
}

impl RestorePhase {
    /// Whether the server is done with the restore: it ran to an end or was refused. Unknown
    /// phases are not terminal (we cannot tell).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            RestorePhase::FailedValidation
                | RestorePhase::Completed
                | RestorePhase::PartiallyFailed
                | RestorePhase::Failed
        )
    }
}

/// How a Velero restore went (`status` of a `Restore`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreStatus {
    /// Where the restore is in its life.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<RestorePhase>,

    /// Why the request is invalid, when the phase is `FailedValidation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_errors: Option<Vec<String>>,

    /// How many warnings the restore recorded (the messages are in object storage).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub warnings: i64,

    /// How many errors the restore recorded (the messages are in object storage).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub errors: i64,

    /// The error that failed the whole restore.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub failure_reason: String,

    /// When the server started the restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::time")]
    pub start_timestamp: Option<Time>,

    /// When the restore ended, also when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::time")]
    pub completion_timestamp: Option<Time>,

    /// Items to restore and items restored so far (best effort).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<RestoreProgress>,

    /// Asynchronous RestoreItemAction operations attempted.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub restore_item_operations_attempted: i64,

    /// Asynchronous RestoreItemAction operations completed.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub restore_item_operations_completed: i64,

    /// Asynchronous RestoreItemAction operations that ended with an error.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub restore_item_operations_failed: i64,

    /// Hooks run and hooks failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook_status: Option<HookStatus>,

    /// godwit's own additions (the version restored per group-resource), which Velero's
    /// clients ignore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub godwit: Option<GodwitRestoreStatus>,

    /// Fields this version of godwit does not know, kept so that writing the object back does
    /// not drop them.
    #[serde(flatten)]
    #[schemars(skip)]
    pub unknown_fields: BTreeMap<String, serde_json::Value>,
}

/// Progress of a restore (`status.progress`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreProgress {
    /// Items to restore; may grow while plugins add related items.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub total_items: i64,

    /// Items restored so far.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    pub items_restored: i64,
}

/// godwit's part of a restore's status, under `status.godwit`.
///
/// It is one extra key inside `status`: Velero's CLI and controllers decode Restores leniently
/// and skip keys they do not know, so `velero restore get|describe` work unchanged, while
/// `kubectl get restore -o yaml` shows which version was restored for each group-resource and
/// why. Example:
///
/// ```yaml
/// status:
///   phase: Completed
///   godwit:
///     versionChoices:
///     - groupResource: rockbands.music.example.io
///       version: v2beta2
///       rule: targetPreferred
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GodwitRestoreStatus {
    /// The API version restored for each group-resource of the backup, and the rule that chose
    /// it.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub version_choices: Vec<VersionChoice>,
}

/// The version restored for one group-resource and the rule that chose it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionChoice {
    /// `<resource>.<group>`, or the bare resource for the core group.
    pub group_resource: String,

    /// The version objects were restored at.
    pub version: String,

    /// The rule that chose it: `userPriority`, `targetPreferred`, `sourcePreferred`,
    /// `commonNonPreferred` or `featureFlagOff` (SPEC.md section 4), or `converted` (from a built-in
    /// version the target no longer serves).
    pub rule: String,
}

impl From<&godwit_versioning::Choice> for VersionChoice {
    fn from(choice: &godwit_versioning::Choice) -> Self {
        use godwit_versioning::Rule;
        // Spelled as `Rule` serializes, so the two stay readable side by side.
        let rule = match choice.rule {
            Rule::UserPriority => "userPriority",
            Rule::TargetPreferred => "targetPreferred",
            Rule::SourcePreferred => "sourcePreferred",
            Rule::CommonNonPreferred => "commonNonPreferred",
            Rule::FeatureFlagOff => "featureFlagOff",
            Rule::Converted => "converted",
        };
        VersionChoice {
            group_resource: choice.group_resource.to_string(),
            version: choice.version.clone(),
            rule: rule.to_owned(),
        }
    }
}

impl Restore {
    /// The phase, if the server has set one.
    pub fn phase(&self) -> Option<&RestorePhase> {
        self.status
            .as_ref()
            .and_then(|status| status.phase.as_ref())
    }

    /// Whether the server is done with this restore (see [`RestorePhase::is_terminal`]).
    pub fn is_terminal_phase(&self) -> bool {
        self.phase().is_some_and(RestorePhase::is_terminal)
    }
}
