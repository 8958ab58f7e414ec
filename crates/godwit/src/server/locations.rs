//! BackupStorageLocations: opening the store a location names, the embedded local default
//! (`--default-local-dir`), and the loop that marks each location Available or Unavailable.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use godwit_api::{
    AccessMode, BackupStorageLocation, BackupStorageLocationPhase, BackupStorageLocationSpec,
    BackupStorageLocationStatus, ObjectStorageLocation,
};
use godwit_storage::{BackupStore, LocationConfig, PROVIDER_LOCAL, StorageLocationSpec};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ListParams, Patch};
use kube::{Api, ResourceExt as _};

use super::Context;
use super::validation::DEFAULT_LOCATION;

/// The bucket (a directory under `config.root`) of the embedded local location.
pub(crate) const LOCAL_BUCKET: &str = "godwit";

/// The location `--default-local-dir DIR` makes sure of: `default`, provider `godwit.io/local`,
/// marked default, backups under `DIR/godwit/`.
pub(crate) fn default_local_location(namespace: &str, dir: &Path) -> BackupStorageLocation {
    let mut location = BackupStorageLocation::new(
        DEFAULT_LOCATION,
        BackupStorageLocationSpec {
            provider: PROVIDER_LOCAL.to_owned(),
            config: Some(BTreeMap::from([(
                "root".to_owned(),
                dir.display().to_string(),
            )])),
            object_storage: ObjectStorageLocation {
                bucket: LOCAL_BUCKET.to_owned(),
                ..ObjectStorageLocation::default()
            },
            default: true,
            access_mode: Some(AccessMode::ReadWrite),
            ..BackupStorageLocationSpec::default()
        },
    );
    location.metadata.namespace = Some(namespace.to_owned());
    location
}

/// Creates the local default location unless a location named `default` exists already (a
/// user's own is left alone).
pub(crate) async fn ensure_default_local(context: &Context, dir: &Path) -> anyhow::Result<()> {
    let dir = std::path::absolute(dir)
        .with_context(|| format!("cannot resolve --default-local-dir {}", dir.display()))?;
    let api: Api<BackupStorageLocation> =
        Api::namespaced(context.client.clone(), &context.namespace);
    let location = default_local_location(&context.namespace, &dir);
    match api.create(&crate::writes::post_params(), &location).await {
        Ok(_) => {
            tracing::info!(directory = %dir.display(), "created the default local backup storage location");
            Ok(())
        }
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
        Err(err) => Err(err).with_context(|| {
            format!(
                "cannot create BackupStorageLocation {}/{DEFAULT_LOCATION}; are the CRDs installed (`godwit install`)?",
                context.namespace
            )
        }),
    }
}

/// The storage crate's view of a location's spec; `credentials_file` is where the location's
/// credential Secret was written, as Velero hands it to its plugins.
pub(crate) fn storage_spec(
    location: &BackupStorageLocation,
    credentials_file: Option<&Path>,
) -> StorageLocationSpec {
    let mut config = location.spec.config.clone().unwrap_or_default();
    if let Some(file) = credentials_file {
        config.insert("credentialsFile".to_owned(), file.display().to_string());
    }
    StorageLocationSpec {
        provider: location.spec.provider.clone(),
        bucket: location.spec.object_storage.bucket.clone(),
        prefix: location.spec.object_storage.prefix.clone(),
        ca_cert: location
            .spec
            .object_storage
            .ca_cert
            .as_ref()
            .map(|bytes| bytes.0.clone()),
        config,
    }
}

/// Opens the store a location names, reading its credential Secret when it has one.
pub(crate) async fn open_store(
    context: &Context,
    location: &BackupStorageLocation,
) -> anyhow::Result<BackupStore> {
    let name = location.name_any();
    let credentials_file = match &location.spec.credential {
        Some(selector) => {
            Some(write_credentials(context, &name, &selector.name, &selector.key).await?)
        }
        None => None,
    };
    let config = LocationConfig::from_spec(&storage_spec(location, credentials_file.as_deref()))
        .with_context(|| format!("BackupStorageLocation {name} is not usable"))?;
    BackupStore::open(&config)
        .await
        .with_context(|| format!("cannot open the store of BackupStorageLocation {name}"))
}

/// Writes one key of a Secret to a private file, the way Velero passes credentials to plugins.
async fn write_credentials(
    context: &Context,
    location: &str,
    secret: &str,
    key: &str,
) -> anyhow::Result<PathBuf> {
    let api: Api<Secret> = Api::namespaced(context.client.clone(), &context.namespace);
    let found = api.get(secret).await.with_context(|| {
        format!(
            "cannot read Secret {}/{secret} named by BackupStorageLocation {location}",
            context.namespace
        )
    })?;
    let value = found
        .data
        .as_ref()
        .and_then(|data| data.get(key))
        .with_context(|| {
            format!("Secret {}/{secret} has no key {key:?}; fix spec.credential of BackupStorageLocation {location}", context.namespace)
        })?;
    let dir = std::env::temp_dir().join("godwit-credentials");
    tokio::fs::create_dir_all(&dir)
        .await
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("{}-{location}", context.namespace));
    tokio::fs::write(&path, &value.0)
        .await
        .with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        tokio::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .await
            .with_context(|| format!("cannot restrict {}", path.display()))?;
    }
    Ok(path)
}

/// The status a validation outcome gives a location.
pub(crate) fn validation_status(
    outcome: &Result<(), String>,
    now: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
) -> BackupStorageLocationStatus {
    let (phase, message) = match outcome {
        Ok(()) => (BackupStorageLocationPhase::Available, String::new()),
        Err(message) => (BackupStorageLocationPhase::Unavailable, message.clone()),
    };
    BackupStorageLocationStatus {
        phase: Some(phase),
        last_validation_time: Some(now),
        message,
        ..BackupStorageLocationStatus::default()
    }
}

/// Opens a location's store and checks its layout.
async fn check_location(context: &Context, location: &BackupStorageLocation) -> Result<(), String> {
    let store = open_store(context, location)
        .await
        .map_err(|err| format!("{err:#}"))?;
    store.check_layout().await.map_err(|err| err.to_string())
}

/// Validates every location of the namespace once and writes the outcome to its status.
pub(crate) async fn validate_all(context: &Context) -> anyhow::Result<()> {
    let api: Api<BackupStorageLocation> =
        Api::namespaced(context.client.clone(), &context.namespace);
    let locations = api.list(&ListParams::default()).await.with_context(|| {
        format!(
            "cannot list BackupStorageLocations in {}; are the CRDs installed (`godwit install`)?",
            context.namespace
        )
    })?;
    for location in &locations.items {
        validate(context, location).await;
    }
    Ok(())
}

/// Validates one location and writes the outcome to its status; returns that status.
pub(crate) async fn validate(
    context: &Context,
    location: &BackupStorageLocation,
) -> BackupStorageLocationStatus {
    let api: Api<BackupStorageLocation> =
        Api::namespaced(context.client.clone(), &context.namespace);
    let name = location.name_any();
    let outcome = check_location(context, location).await;
    if let Err(message) = &outcome {
        tracing::warn!(location = %name, %message, "backup storage location is unavailable");
    }
    let status = validation_status(&outcome, crate::jobs::now());
    let patch = serde_json::json!({ "status": status });
    if let Err(err) = api
        .patch_status(&name, &crate::writes::patch_params(), &Patch::Merge(&patch))
        .await
    {
        tracing::warn!(location = %name, error = %err, "cannot update the status of a backup storage location");
    }
    status
}

/// Validates locations again every `period` (never when it is zero).
pub(crate) async fn validate_periodically(
    context: std::sync::Arc<Context>,
    period: Duration,
) -> anyhow::Result<()> {
    if period.is_zero() {
        std::future::pending::<()>().await;
    }
    loop {
        tokio::time::sleep(period).await;
        if let Err(err) = validate_all(&context).await {
            tracing::warn!(error = %format!("{err:#}"), "storage location validation failed");
        }
    }
}

#[cfg(test)]
mod tests;
