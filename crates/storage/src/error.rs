//! The one error type of godwit-storage.

use std::path::PathBuf;

/// Everything that can go wrong while configuring or using a backup storage location.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A field or `config` key of a BackupStorageLocation is missing or has a bad value.
    #[error("backup storage location {key}: {message}")]
    Config {
        /// The field or key, spelled as in the BackupStorageLocation (`config.s3ForcePathStyle`).
        key: String,
        /// What is wrong and how to fix it.
        message: String,
    },

    /// The `config` map holds keys the provider does not know.
    #[error(
        "backup storage location config has unknown keys {unknown:?} for provider {provider}; \
         valid keys are {valid:?}"
    )]
    UnknownConfigKeys {
        /// The provider, as written in the BackupStorageLocation.
        provider: String,
        /// The unknown keys, sorted.
        unknown: Vec<String>,
        /// The keys the provider accepts.
        valid: Vec<&'static str>,
    },

    /// The provider is neither the AWS (S3-compatible) one nor the local directory.
    #[error(
        "backup storage location provider {provider:?} is not supported; \
         use velero.io/aws (S3 and S3-compatible servers) or godwit.io/local (a directory)"
    )]
    UnsupportedProvider {
        /// The provider, as written in the BackupStorageLocation.
        provider: String,
    },

    /// A backup or restore name is not a valid Kubernetes object name.
    #[error(
        "invalid {kind} name {name:?}: {reason}; use a Kubernetes object name \
         (lower-case letters, digits, '-' and '.', at most 253 characters)"
    )]
    InvalidName {
        /// `backup` or `restore`.
        kind: &'static str,
        /// The name as given.
        name: String,
        /// Which rule it breaks.
        reason: &'static str,
    },

    /// A credentials file could not be read.
    #[error("reading credentials file {}: {source}; check the BackupStorageLocation's credential secret", path.display())]
    CredentialsFile {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },

    /// A credentials file lacks the profile or its keys.
    #[error(
        "credentials file {} has no profile [{profile}] with aws_access_key_id and \
         aws_secret_access_key; add them or set config.profile to a profile the file has",
        path.display()
    )]
    CredentialsProfile {
        /// The file.
        path: PathBuf,
        /// The profile that was looked up.
        profile: String,
    },

    /// A local file (a tarball to upload, a download target, an encryption key) failed.
    #[error("{action} {}: {source}", path.display())]
    LocalFile {
        /// What was being done (`reading tarball`).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// The stream producing a tarball to upload failed.
    #[error("producing the tarball to upload: {source}")]
    TarballStream {
        /// The producer's error.
        source: std::io::Error,
    },

    /// The object store failed or refused a request.
    #[error("{action} {key} in {location}: {source}")]
    ObjectStore {
        /// What was being done (`reading`, `writing`, `listing`, `deleting`).
        action: &'static str,
        /// The object key or prefix.
        key: String,
        /// The storage location (`s3://bucket/prefix`, a directory).
        location: String,
        /// The underlying error (boxed: it is large).
        source: Box<object_store::Error>,
    },

    /// An object that must exist does not.
    #[error("{what} not found in {location} (no object {key})")]
    NotFound {
        /// What was looked for (`backup nightly`, `log of restore nightly-1`).
        what: String,
        /// The object key.
        key: String,
        /// The storage location.
        location: String,
    },

    /// A complete backup of that name is already stored.
    #[error("backup {name} already exists in {location}; delete it first or pick another name")]
    BackupExists {
        /// The backup name.
        name: String,
        /// The storage location.
        location: String,
    },

    /// Storing a backup failed; what was uploaded has been removed where possible.
    #[error(
        "backup {name} was not stored: {source}; {}",
        leftovers_hint(leftovers)
    )]
    PutBackup {
        /// The backup name.
        name: String,
        /// The first failure.
        source: Box<Error>,
        /// Keys that could not be removed after the failure (none when cleanup succeeded).
        leftovers: Vec<String>,
    },

    /// Some objects of a backup or restore could not be deleted.
    #[error(
        "deleting {what} from {location} left {} object(s) behind: {failed:?}; \
         first error: {source}; retry the delete",
        failed.len()
    )]
    DeleteIncomplete {
        /// What was being deleted (`backup nightly`).
        what: String,
        /// The storage location.
        location: String,
        /// Keys that are still there.
        failed: Vec<String>,
        /// The first error (boxed: it is large).
        source: Box<object_store::Error>,
    },

    /// The bucket and prefix hold top-level directories that are not Velero's.
    #[error(
        "backup storage location {location} contains {} invalid top-level director{}: {}; \
         point the location at an empty prefix or one used only by Velero or godwit",
        dirs.len(),
        if dirs.len() == 1 { "y" } else { "ies" },
        first_dirs(dirs)
    )]
    InvalidLayout {
        /// The storage location.
        location: String,
        /// The unexpected directories, sorted.
        dirs: Vec<String>,
    },
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn leftovers_hint(leftovers: &[String]) -> String {
    if leftovers.is_empty() {
        "its partial upload was removed".to_owned()
    } else {
        format!(
            "could not remove {leftovers:?}; they do not form a listed backup, delete them by hand"
        )
    }
}

/// Velero names at most three bad directories; the rest are counted.
fn first_dirs(dirs: &[String]) -> String {
    let shown = dirs.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
    if dirs.len() > 3 {
        format!("{shown}, ...")
    } else {
        shown
    }
}
