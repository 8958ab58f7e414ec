//! Finding and opening a backup storage location from the CLI: a named or the default
//! `BackupStorageLocation` in the server namespace, or a local directory with no server at all.
//!
//! The CLI reads the store itself (logs, results, tarballs) instead of Velero's
//! DownloadRequest round trip through the server, so it must reach the store: a local
//! directory on this machine, or S3 with credentials from this machine's environment (the
//! location's credential Secret is not read).

use std::path::Path;

use anyhow::{Context as _, anyhow};
use godwit_api::BackupStorageLocation;
use godwit_storage::{BackupStore, LocationConfig, StorageLocationSpec};
use kube::Api;

/// Opens a local-directory location (godwit's `godwit.io/local` provider) rooted at `dir`.
pub async fn open_local(dir: &Path) -> anyhow::Result<BackupStore> {
    BackupStore::open(&LocationConfig::local(dir))
        .await
        .with_context(|| format!("cannot open the local backup location {}", dir.display()))
}

/// Opens the location called `name`, or the default one, in the server namespace.
pub async fn open_named(
    client: &kube::Client,
    namespace: &str,
    name: Option<&str>,
) -> anyhow::Result<BackupStore> {
    let api: Api<BackupStorageLocation> = Api::namespaced(client.clone(), namespace);
    let location = match name.filter(|n| !n.is_empty()) {
        Some(name) => api
            .get_opt(name)
            .await
            .with_context(|| format!("cannot read backup storage location {name}"))?
            .ok_or_else(|| {
                anyhow!(
                    "backup storage location {name} not found in namespace {namespace}; \
                     list them with `kubectl get bsl -n {namespace}`"
                )
            })?,
        None => default_location(&api, namespace).await?,
    };
    let config = LocationConfig::from_spec(&storage_spec(&location))?;
    BackupStore::open(&config).await.with_context(|| {
        format!(
            "cannot open backup storage location {}",
            location.metadata.name.as_deref().unwrap_or("")
        )
    })
}

async fn default_location(
    api: &Api<BackupStorageLocation>,
    namespace: &str,
) -> anyhow::Result<BackupStorageLocation> {
    let list = api
        .list(&Default::default())
        .await
        .with_context(|| format!("cannot list backup storage locations in namespace {namespace}; is godwit (or Velero) installed there? pass -n"))?;
    let mut locations = list.items;
    if let Some(position) = locations.iter().position(|l| l.spec.default) {
        return Ok(locations.swap_remove(position));
    }
    match locations.len() {
        1 => Ok(locations.swap_remove(0)),
        0 => Err(anyhow!(
            "no backup storage location in namespace {namespace}; run `godwit install` or pass -n"
        )),
        _ => Err(anyhow!(
            "no default backup storage location in namespace {namespace}; pass --storage-location"
        )),
    }
}

/// The storage crate's view of a location's spec.
pub fn storage_spec(location: &BackupStorageLocation) -> StorageLocationSpec {
    let spec = &location.spec;
    StorageLocationSpec {
        provider: spec.provider.clone(),
        bucket: spec.object_storage.bucket.clone(),
        prefix: spec.object_storage.prefix.clone(),
        ca_cert: spec.object_storage.ca_cert.as_ref().map(|c| c.0.clone()),
        config: spec.config.clone().unwrap_or_default(),
    }
}
