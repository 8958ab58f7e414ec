//! Deleting a Restore deletes its files too (its log and results in object storage), as
//! Velero's restore finalizer controller does: the server puts Velero's finalizer on every
//! Restore it runs, together with an annotation naming the storage location its files went to,
//! and when such a Restore is deleted (`godwit restore delete`, `velero restore delete`,
//! `kubectl delete restore`), deletes `restores/<name>/` there, then lifts the finalizer.
//!
//! A Restore whose location is gone or unusable is let go after a few tries, with an error in
//! the server's log naming what was left behind: a finalizer nobody can lift would keep the
//! Restore forever.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt as _;
use godwit_api::{BackupStorageLocation, Restore};
use kube::api::Patch;
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Api, ResourceExt as _};

use super::{Context, locations};

/// Velero's finalizer on Restores whose files in object storage must go with them.
pub(crate) const RESTORE_FINALIZER: &str = "restores.velero.io/external-resources-finalizer";

/// The annotation naming the BackupStorageLocation a Restore's files were written to.
pub(crate) const LOCATION_ANNOTATION: &str = "godwit.io/storage-location";

/// How many times deleting a Restore's files is tried before the Restore is let go.
const ATTEMPTS: u32 = 3;

/// The metadata to merge into a Restore the server starts running: the finalizer added to the
/// ones it has, and the location annotation.
pub(crate) fn started_metadata(restore: &Restore, location: &str) -> serde_json::Value {
    let mut finalizers = restore.finalizers().to_vec();
    if !finalizers.iter().any(|f| f == RESTORE_FINALIZER) {
        finalizers.push(RESTORE_FINALIZER.to_owned());
    }
    serde_json::json!({
        "finalizers": finalizers,
        "annotations": { LOCATION_ANNOTATION: location },
    })
}

/// Whether a Restore is being deleted and waits for this server.
pub(crate) fn awaits_cleanup(restore: &Restore) -> bool {
    restore.metadata.deletion_timestamp.is_some()
        && restore.finalizers().iter().any(|f| f == RESTORE_FINALIZER)
}

/// Runs until the watch fails.
pub(crate) async fn run(context: Arc<Context>) -> anyhow::Result<()> {
    let api: Api<Restore> = Api::namespaced(context.client.clone(), &context.namespace);
    let stream = watcher(api.clone(), watcher::Config::default())
        .default_backoff()
        .applied_objects();
    let mut stream = std::pin::pin!(stream);
    while let Some(event) = stream.next().await {
        match event {
            Ok(restore) if awaits_cleanup(&restore) => {
                let name = restore.name_any();
                if let Err(err) = clean_up(&context, &api, &restore).await {
                    tracing::error!(restore = %name, error = %format!("{err:#}"), "cannot finish deleting the restore");
                }
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "restore watch failed; retrying"),
        }
    }
    anyhow::bail!("the restore watch ended")
}

async fn clean_up(context: &Context, api: &Api<Restore>, restore: &Restore) -> anyhow::Result<()> {
    let name = restore.name_any();
    let location = restore
        .annotations()
        .get(LOCATION_ANNOTATION)
        .cloned()
        .unwrap_or_default();
    let mut problem = None;
    if location.is_empty() {
        problem = Some(format!(
            "Restore {name} names no storage location ({LOCATION_ANNOTATION}); its files, if any, \
             are left in object storage"
        ));
    } else {
        for attempt in 1..=ATTEMPTS {
            match delete_files(context, &location, &name).await {
                Ok(()) => {
                    problem = None;
                    break;
                }
                Err(err) => {
                    problem = Some(format!(
                        "cannot delete restore {name}'s files in BackupStorageLocation \
                         {location}; they are left in object storage: {err:#}"
                    ));
                    if attempt < ATTEMPTS {
                        tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
                    }
                }
            }
        }
    }
    match &problem {
        Some(problem) => tracing::error!(restore = %name, "{problem}"),
        None => tracing::info!(restore = %name, %location, "deleted the restore's files"),
    }
    let finalizers: Vec<String> = restore
        .finalizers()
        .iter()
        .filter(|f| *f != RESTORE_FINALIZER)
        .cloned()
        .collect();
    let patch = serde_json::json!({"metadata": {
        "finalizers": finalizers,
        "resourceVersion": restore.resource_version(),
    }});
    match api
        .patch(&name, &crate::writes::patch_params(), &Patch::Merge(patch))
        .await
    {
        Ok(_) => Ok(()),
        // Changed meanwhile: the watch brings the new version, which is handled then.
        Err(kube::Error::Api(status)) if status.code == 409 || status.code == 404 => Ok(()),
        Err(err) => Err(err).with_context(|| format!("cannot lift the finalizer of {name}")),
    }
}

async fn delete_files(context: &Context, location: &str, restore: &str) -> anyhow::Result<()> {
    let locations: Api<BackupStorageLocation> =
        Api::namespaced(context.client.clone(), &context.namespace);
    let location = locations
        .get_opt(location)
        .await
        .context("cannot read the BackupStorageLocation")?
        .with_context(|| format!("BackupStorageLocation {location} does not exist"))?;
    let store = locations::open_store(context, &location).await?;
    store
        .delete_restore(restore)
        .await
        .with_context(|| format!("cannot delete restores/{restore}/"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use godwit_api::RestoreSpec;

    use super::*;

    #[test]
    fn a_started_restore_gets_the_finalizer_once_and_the_location() {
        let mut restore = Restore::new("r", RestoreSpec::default());
        restore.metadata.finalizers = Some(vec!["someone/else".to_owned()]);
        let metadata = started_metadata(&restore, "default");
        assert_eq!(
            metadata,
            serde_json::json!({
                "finalizers": ["someone/else", RESTORE_FINALIZER],
                "annotations": {LOCATION_ANNOTATION: "default"},
            })
        );
        restore.metadata.finalizers = Some(vec![RESTORE_FINALIZER.to_owned()]);
        assert_eq!(
            started_metadata(&restore, "default")["finalizers"],
            serde_json::json!([RESTORE_FINALIZER])
        );
    }

    #[test]
    fn only_deleted_restores_with_the_finalizer_await_cleanup() {
        let mut restore = Restore::new("r", RestoreSpec::default());
        assert!(!awaits_cleanup(&restore));
        restore.metadata.finalizers = Some(vec![RESTORE_FINALIZER.to_owned()]);
        assert!(!awaits_cleanup(&restore));
        restore.metadata.deletion_timestamp = Some(jobs_now());
        assert!(awaits_cleanup(&restore));
        restore.metadata.finalizers = Some(vec!["someone/else".to_owned()]);
        assert!(!awaits_cleanup(&restore));
    }

    fn jobs_now() -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time {
        crate::jobs::now()
    }
}
