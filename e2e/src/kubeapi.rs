//! The few Kubernetes API calls the harness makes itself (setting up sources, reading back
//! targets), over dynamic objects so the same code works against kubesim, kind or any cluster.

use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, DynamicObject};
use kube::{Api, Client};
use serde_json::Value;

/// The field manager the harness writes as, so its own writes can be told from the restore's.
pub const FIELD_MANAGER: &str = "godwit-e2e";

/// A client for the current context of a kubeconfig file.
pub async fn client(kubeconfig: &Path) -> anyhow::Result<Client> {
    let config = Kubeconfig::read_from(kubeconfig)
        .map_err(|err| anyhow!("cannot read kubeconfig {}: {err}", kubeconfig.display()))?;
    let config = kube::Config::from_custom_kubeconfig(config, &KubeConfigOptions::default())
        .await
        .map_err(|err| anyhow!("cannot use kubeconfig {}: {err}", kubeconfig.display()))?;
    Client::try_from(config).context("cannot build a Kubernetes client")
}

fn api(client: &Client, resource: &ApiResource, namespace: Option<&str>) -> Api<DynamicObject> {
    match namespace {
        Some(namespace) => Api::namespaced_with(client.clone(), namespace, resource),
        None => Api::all_with(client.clone(), resource),
    }
}

fn namespace_of(body: &Value) -> Option<&str> {
    body.pointer("/metadata/namespace").and_then(Value::as_str)
}

fn name_of(body: &Value) -> &str {
    body.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Creates an object (its namespace, if any, from its metadata).
pub async fn create(client: &Client, resource: &ApiResource, body: &Value) -> anyhow::Result<()> {
    let object: DynamicObject = serde_json::from_value(body.clone())
        .with_context(|| format!("the harness built a bad {} body", resource.kind))?;
    let params = PostParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PostParams::default()
    };
    api(client, resource, namespace_of(body))
        .create(&params, &object)
        .await
        .with_context(|| {
            format!(
                "cannot create {} {}/{}",
                resource.kind,
                namespace_of(body).unwrap_or(""),
                name_of(body)
            )
        })?;
    Ok(())
}

/// Creates an object unless one of that name exists.
pub async fn create_if_missing(
    client: &Client,
    resource: &ApiResource,
    body: &Value,
) -> anyhow::Result<()> {
    match create(client, resource, body).await {
        Ok(()) => Ok(()),
        Err(err) if is_conflict(&err) => Ok(()),
        Err(err) => Err(err),
    }
}

fn is_conflict(err: &anyhow::Error) -> bool {
    matches!(err.downcast_ref::<kube::Error>(), Some(kube::Error::Api(status)) if status.code == 409)
}

/// Merge-patches an object's `status` subresource.
pub async fn patch_status(
    client: &Client,
    resource: &ApiResource,
    namespace: Option<&str>,
    name: &str,
    status: Value,
) -> anyhow::Result<()> {
    api(client, resource, namespace)
        .patch_status(
            name,
            &PatchParams {
                field_manager: Some(FIELD_MANAGER.to_owned()),
                ..PatchParams::default()
            },
            &Patch::Merge(serde_json::json!({ "status": status })),
        )
        .await
        .with_context(|| format!("cannot write the status of {} {name}", resource.kind))?;
    Ok(())
}

/// Appends an entry to an object's `managedFields` (a merge patch of the whole list).
pub async fn add_managed_fields_entry(
    client: &Client,
    resource: &ApiResource,
    namespace: &str,
    name: &str,
    entry: Value,
) -> anyhow::Result<()> {
    let api = api(client, resource, Some(namespace));
    let object = api
        .get(name)
        .await
        .with_context(|| format!("cannot read {} {namespace}/{name}", resource.kind))?;
    let mut entries: Vec<Value> = object
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|entry| serde_json::to_value(entry).ok())
        .collect();
    entries.push(entry);
    api.patch(
        name,
        &PatchParams {
            field_manager: Some(FIELD_MANAGER.to_owned()),
            ..PatchParams::default()
        },
        &Patch::Merge(serde_json::json!({"metadata": {"managedFields": entries}})),
    )
    .await
    .with_context(|| format!("cannot add a managedFields entry to {namespace}/{name}"))?;
    Ok(())
}

/// Reads an object; `None` when it does not exist (or its resource is not served).
pub async fn get(
    client: &Client,
    resource: &ApiResource,
    namespace: Option<&str>,
    name: &str,
) -> anyhow::Result<Option<DynamicObject>> {
    match api(client, resource, namespace).get(name).await {
        Ok(object) => Ok(Some(object)),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
        Err(err) => Err(err).with_context(|| {
            format!(
                "cannot read {} {}/{name} at {}",
                resource.kind,
                namespace.unwrap_or(""),
                resource.api_version
            )
        }),
    }
}

/// Names of the cluster-wide objects of a resource that carry `label_selector`.
pub async fn list_names(
    client: &Client,
    resource: &ApiResource,
    label_selector: &str,
) -> anyhow::Result<Vec<String>> {
    let list = api(client, resource, None)
        .list(&ListParams::default().labels(label_selector))
        .await
        .with_context(|| format!("cannot list {}", resource.plural))?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|object| object.metadata.name)
        .collect())
}

/// Deletes an object; one already gone is fine.
pub async fn delete(
    client: &Client,
    resource: &ApiResource,
    namespace: Option<&str>,
    name: &str,
) -> anyhow::Result<()> {
    match api(client, resource, namespace)
        .delete(name, &DeleteParams::default())
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(err) => Err(err).with_context(|| format!("cannot delete {} {name}", resource.kind)),
    }
}

/// Polls `probe` until it says done, failing with `what` after `timeout`.
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut probe: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    let start = Instant::now();
    let mut last_error = None;
    loop {
        match probe().await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(err) => last_error = Some(format!("{err:#}")),
        }
        if start.elapsed() > timeout {
            return Err(anyhow!(
                "timed out after {}s waiting for {what}{}",
                timeout.as_secs(),
                last_error
                    .map(|err| format!(" (last error: {err})"))
                    .unwrap_or_default()
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits until a CRD is established.
pub async fn wait_established(client: &Client, name: &str) -> anyhow::Result<()> {
    let resource = crate::objects::custom_resource_definitions();
    wait_until(
        &format!("CustomResourceDefinition {name} to be established"),
        Duration::from_secs(60),
        || async {
            let crd = get(client, &resource, None, name).await?;
            Ok(crd.is_some_and(|crd| is_established(&crd.data)))
        },
    )
    .await
}

/// Waits until the API server's discovery lists `plural` in `group_version`: a real server
/// publishes an established CRD (or a version added to one) there a moment later.
pub async fn wait_discovered(
    client: &Client,
    group_version: &str,
    plural: &str,
) -> anyhow::Result<()> {
    wait_until(
        &format!("{plural} to appear in the discovery of {group_version}"),
        Duration::from_secs(60),
        || async {
            let list = client.list_api_group_resources(group_version).await?;
            Ok(list
                .resources
                .iter()
                .any(|resource| resource.name == plural))
        },
    )
    .await
}

/// Waits (up to 60 s) until the controller manager has filled a namespace: its root CA
/// ConfigMap and its `default` ServiceAccount, which two controllers add a moment after the
/// namespace is created.
pub async fn wait_namespace_filled(client: &Client, namespace: &str) -> anyhow::Result<()> {
    use crate::objects::{ROOT_CA_CONFIG_MAP, config_maps, service_accounts};
    wait_until(
        &format!("the controller manager to fill namespace {namespace}"),
        Duration::from_secs(60),
        || async {
            let ca = get(client, &config_maps(), Some(namespace), ROOT_CA_CONFIG_MAP).await?;
            let account = get(client, &service_accounts(), Some(namespace), "default").await?;
            Ok(ca.is_some() && account.is_some())
        },
    )
    .await
}

/// Whether a CRD's status says `Established: True`.
pub fn is_established(crd: &Value) -> bool {
    crd.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|conditions| {
            conditions.iter().any(|condition| {
                condition.get("type").and_then(Value::as_str) == Some("Established")
                    && condition.get("status").and_then(Value::as_str) == Some("True")
            })
        })
}

/// The field manager godwit writes as (`godwit_restore::FIELD_MANAGER`).
pub const GODWIT_FIELD_MANAGER: &str = "godwit";

/// The version godwit last wrote an object at, from its own `managedFields` entry (the API
/// server records the version each write was sent at, and godwit keeps its entry when it puts
/// the backed-up entries back); `None` when no entry of godwit's is there.
pub fn written_version(object: &DynamicObject) -> Option<String> {
    let entries = object
        .metadata
        .managed_fields
        .as_deref()
        .unwrap_or_default();
    entries
        .iter()
        .filter(|entry| entry.manager.as_deref() == Some(GODWIT_FIELD_MANAGER))
        .filter(|entry| entry.subresource.as_deref().unwrap_or("").is_empty())
        .max_by(|a, b| {
            a.time
                .as_ref()
                .map(|t| t.0)
                .cmp(&b.time.as_ref().map(|t| t.0))
        })
        .and_then(|entry| entry.api_version.as_deref())
        .map(|api_version| {
            api_version
                .rsplit_once('/')
                .map_or(api_version, |(_, version)| version)
                .to_owned()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(entries: Value) -> DynamicObject {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "g.example/v1",
            "kind": "Widget",
            "metadata": {"name": "w", "managedFields": entries}
        }))
        .unwrap()
    }

    fn check(entries: Value, expected: Option<&str>) {
        assert_eq!(written_version(&object(entries)).as_deref(), expected);
    }

    #[test]
    fn reads_the_version_of_godwits_write() {
        check(serde_json::json!([]), None);
        // Only godwit's entries count: the harness's, the source's managers' and the target's
        // controllers' do not.
        check(
            serde_json::json!([
                {"manager": "godwit-e2e", "operation": "Update",
                 "apiVersion": "g.example/v1", "time": "2026-01-01T00:00:00Z"},
                {"manager": "kubectl", "operation": "Apply",
                 "apiVersion": "g.example/v1", "time": "2026-01-01T00:00:09Z"},
                {"manager": "unknown", "operation": "Update",
                 "apiVersion": "g.example/v1", "time": "2026-01-01T00:00:09Z"}]),
            None,
        );
        check(
            serde_json::json!([{"manager": "godwit", "operation": "Update",
                "apiVersion": "g.example/v2beta2", "time": "2026-01-01T00:00:00Z"}]),
            Some("v2beta2"),
        );
        // The core group's apiVersion has no slash.
        check(
            serde_json::json!([
                {"manager": "godwit-e2e", "operation": "Update", "apiVersion": "v1",
                 "time": "2026-01-01T00:00:02Z"},
                {"manager": "godwit", "operation": "Update", "apiVersion": "v1",
                 "time": "2026-01-01T00:00:01Z"}]),
            Some("v1"),
        );
        // The latest write wins; status writes are not the restore's.
        check(
            serde_json::json!([
                {"manager": "godwit", "operation": "Update", "apiVersion": "g.example/v1",
                 "time": "2026-01-01T00:00:01Z"},
                {"manager": "godwit", "operation": "Update", "apiVersion": "g.example/v2",
                 "time": "2026-01-01T00:00:05Z"},
                {"manager": "godwit", "operation": "Update", "apiVersion": "g.example/v3",
                 "time": "2026-01-01T00:00:09Z", "subresource": "status"}]),
            Some("v2"),
        );
    }

    #[test]
    fn the_field_manager_is_godwits() {
        assert_eq!(GODWIT_FIELD_MANAGER, godwit_restore::FIELD_MANAGER);
    }

    #[test]
    fn reads_established() {
        assert!(is_established(
            &serde_json::json!({"status": {"conditions": [
            {"type": "NamesAccepted", "status": "True"},
            {"type": "Established", "status": "True"}]}})
        ));
        assert!(!is_established(
            &serde_json::json!({"status": {"conditions": [
            {"type": "Established", "status": "False"}]}})
        ));
        assert!(!is_established(&serde_json::json!({})));
    }
}
