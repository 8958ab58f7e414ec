//! `BackupStorageLocation` (`backupstoragelocations.velero.io`, short name `bsl`): an object
//! store bucket (and prefix) where backups are kept.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::SecretKeySelector;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Duration;
use crate::serde_helpers::{is_false, null_as_default};
use crate::string_enum::string_enum;

/// Where and how to reach a backup store (`spec` of a `BackupStorageLocation`).
#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "velero.io",
    version = "v1",
    kind = "BackupStorageLocation",
    namespaced,
    status = "BackupStorageLocationStatus",
    derive = "PartialEq",
    shortname = "bsl",
    doc = "A place in object storage where Velero keeps backups.",
    printcolumn = r#"{"name": "Provider", "type": "string", "jsonPath": ".spec.provider", "description": "The object storage provider"}"#,
    printcolumn = r#"{"name": "Bucket", "type": "string", "jsonPath": ".spec.objectStorage.bucket", "description": "The bucket backups are kept in"}"#,
    printcolumn = r#"{"name": "Phase", "type": "string", "jsonPath": ".status.phase", "description": "Available or Unavailable"}"#,
    printcolumn = r#"{"name": "Last Validated", "type": "date", "jsonPath": ".status.lastValidationTime", "description": "When the location was last checked"}"#,
    printcolumn = r#"{"name": "Access Mode", "type": "string", "jsonPath": ".spec.accessMode", "description": "ReadWrite or ReadOnly"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name": "Default", "type": "boolean", "jsonPath": ".spec.default", "description": "Whether backups go here when they name no location"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct BackupStorageLocationSpec {
    /// The object storage provider, such as `aws` or `velero.io/aws`.
    pub provider: String,

    /// Provider-specific settings (region, endpoint URL, path style, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<BTreeMap<String, String>>,

    /// The key of a Secret holding the provider's credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::secret_key_selector")]
    pub credential: Option<SecretKeySelector>,

    /// The bucket, prefix and CA bundle.
    pub object_storage: ObjectStorageLocation,

    /// Whether backups that name no location go here.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_false"
    )]
    pub default: bool,

    /// Whether godwit may write here or only read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_mode: Option<AccessMode>,

    /// How often to sync backups from the store into the cluster (Go duration; `0s` disables).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_sync_period: Option<Duration>,

    /// How often to check the store is reachable (Go duration; `0s` disables).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_frequency: Option<Duration>,
}

/// The bucket a location uses (`spec.objectStorage`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectStorageLocation {
    /// The bucket.
    pub bucket: String,

    /// The path inside the bucket under which Velero's layout starts; empty for the root.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub prefix: String,

    /// A CA bundle for TLS to the store (base64 on the wire).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::bytes")]
    pub ca_cert: Option<ByteString>,
}

string_enum! {
    /// Whether a location can be written (`spec.accessMode`).
    pub enum AccessMode {
        /// Backups can be read, written and deleted.
        ReadWrite = "ReadWrite",
        /// Backups can only be read.
        ReadOnly = "ReadOnly",
    }
}

string_enum! {
    /// Whether a location is reachable (`status.phase`).
    pub enum BackupStorageLocationPhase {
        /// The store answered the last validation.
        Available = "Available",
        /// The store did not answer the last validation.
        Unavailable = "Unavailable",
    }
}

/// What the server last saw of a location (`status` of a `BackupStorageLocation`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupStorageLocationStatus {
    /// Available or Unavailable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<BackupStorageLocationPhase>,

    /// When backups were last synced from the store into the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::time")]
    pub last_synced_time: Option<Time>,

    /// When the store was last checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::time")]
    pub last_validation_time: Option<Time>,

    /// Why the location is unavailable, when it is.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub message: String,

    /// Deprecated by Velero and no longer updated.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub last_synced_revision: String,

    /// Deprecated by Velero in favour of `spec.accessMode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_mode: Option<AccessMode>,
}

impl BackupStorageLocation {
    /// The access mode, `ReadWrite` when unset as in Velero.
    pub fn access_mode(&self) -> AccessMode {
        self.spec
            .access_mode
            .clone()
            .unwrap_or(AccessMode::ReadWrite)
    }
}
