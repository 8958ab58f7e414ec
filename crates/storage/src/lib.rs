//! Backup storage locations with Velero's object layout (`backups/<name>/`, `restores/<name>/`
//! under an optional prefix), over a local directory or S3 and S3-compatible servers.
//!
//! A backup is listed only when its `velero-backup.json` exists, and [`BackupStore::put_backup`]
//! writes that file last, so an interrupted upload never looks like a complete backup.
//! Binaries call [`install_crypto_provider`] at start: kube and the S3 client both use rustls,
//! and building an https client panics unless one process-wide provider is installed.

mod config;
mod credentials;
mod error;
mod layout;
mod name;
mod s3;
mod store;

pub use config::{
    AwsConfig, AwsCredentials, ChecksumAlgorithm, Encryption, LocationConfig, PROVIDER_AWS,
    PROVIDER_LOCAL, Provider, ServerSideEncryption, SignatureVersion, StorageLocationSpec,
};
pub use error::{Error, Result};
pub use layout::{BackupFile, RestoreFile};
pub use store::{
    BackupStore, BackupUpload, ByteStream, DEFAULT_PART_SIZE, Tarball, TarballDownload,
};

/// Installs rustls's `ring` provider as the process default, unless one is installed already.
/// Safe to call any number of times, from any thread.
pub fn install_crypto_provider() {
    // Err means a provider is already in place, which is all that is needed.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
