//! The one error type of this crate: what stops a backup as a whole. Problems with single objects
//! do not stop it; they land in [`crate::BackupOutcome`] as warnings and errors.

/// What can stop a backup.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The backup spec is malformed; `field` names the offending field as Velero's API spells it.
    #[error("invalid backup spec: {field}: {message}")]
    InvalidSpec {
        /// The field, such as `spec.labelSelector` or `spec.includedResources[0]`.
        field: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The cluster's discovery could not be read at all (`/api` or `/apis` failed).
    #[error(
        "cannot discover what the cluster serves: {0}; check the kubeconfig and that the API server is reachable"
    )]
    Discovery(#[from] godwit_discovery::Error),
    /// Writing the tarball failed (the destination is full or closed).
    #[error("cannot write the backup tarball: {0}; check the destination has room and is writable")]
    Tarball(#[from] godwit_tarball::Error),
    /// Reading a stored backup tarball failed (damaged, truncated or not a backup tarball).
    #[error("cannot read the backup tarball: {0}; the store may hold a damaged file")]
    ReadTarball(#[source] godwit_tarball::Error),
    /// Writing the resource list failed.
    #[error("cannot write the resource list: {0}")]
    ResourceList(#[source] std::io::Error),
    /// The task writing the tarball stopped unexpectedly.
    #[error("the tarball writer stopped unexpectedly: {0}; the backup is incomplete, run it again")]
    Writer(String),
}
