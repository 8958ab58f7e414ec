//! Velero's `velero.io/v1` custom resources as Rust types: [`Backup`], [`Restore`],
//! [`BackupStorageLocation`] and [`DeleteBackupRequest`], with Velero's field names, phases and
//! status fields, so godwit's server can be driven by `kubectl` and the `velero` CLI, plus the
//! CRDs generated from them ([`crds`]) and the label and annotation keys Velero uses
//! ([`labels`]).
//!
//! Reading is lenient the way Velero's own Go client is: unknown fields are kept (in
//! `unknown_fields`) rather than refused, a phase or mode this crate does not know becomes an
//! `Unknown(String)` variant, and `null` reads as the zero value. Writing follows Go's
//! `omitempty`, so an object read from Velero's YAML is written back with the same fields.
//!
//! godwit adds one thing Velero does not have: `status.godwit.versionChoices` on a Restore, the
//! API version restored for each group-resource and the rule that chose it
//! ([`GodwitRestoreStatus`]). Velero's clients skip keys they do not know, so
//! `velero restore describe` is unaffected.

mod backup;
mod backup_storage_location;
mod common;
mod crds;
mod delete_backup_request;
mod duration;
mod error;
pub mod labels;
mod restore;
mod schema;
mod serde_helpers;
mod string_enum;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

pub use backup::{Backup, BackupMetadata, BackupPhase, BackupProgress, BackupSpec, BackupStatus};
pub use backup_storage_location::{
    AccessMode, BackupStorageLocation, BackupStorageLocationPhase, BackupStorageLocationSpec,
    BackupStorageLocationStatus, ObjectStorageLocation,
};
pub use common::{HookStatus, TypedLocalObjectReference};
pub use crds::{crds, file_name};
pub use delete_backup_request::{
    DeleteBackupRequest, DeleteBackupRequestPhase, DeleteBackupRequestSpec,
    DeleteBackupRequestStatus,
};
pub use duration::Duration;
pub use error::Error;
pub use restore::{
    ExistingResourcePolicy, GodwitRestoreStatus, Restore, RestorePhase, RestoreProgress,
    RestoreSpec, RestoreStatus, RestoreStatusSpec, VersionChoice,
};

/// The API group of Velero's resources.
pub const GROUP: &str = "velero.io";
/// The version of Velero's resources.
pub const VERSION: &str = "v1";
/// `apiVersion` of Velero's resources.
pub const API_VERSION: &str = "velero.io/v1";
/// The namespace Velero (and godwit's server) runs in unless told otherwise.
pub const DEFAULT_NAMESPACE: &str = "velero";
