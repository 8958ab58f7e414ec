//! Helpers of the executor tests: kubesim servers with CRD profiles, a small "backup engine"
//! that reads objects from a source kubesim at every served version and writes them with
//! godwit-tarball's writer, and dynamic API handles.

#![allow(clippy::unwrap_used, dead_code)]

use godwit_kubesim::{Options, Profile, Running};
use godwit_tarball::{BackupWriter, ExtractedBackup, Item, Limits, extract};
use godwit_versioning::GroupResource;
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use serde_json::{Value, json};

pub async fn kubesim(profile: Profile) -> Running {
    godwit_kubesim::start(Options {
        profile,
        ..Options::default()
    })
    .await
    .unwrap()
}

/// A namespaced `rockbands` CRD of `group` serving `versions`, stored at `storage`.
pub fn rockbands_crd(group: &str, versions: &[&str], storage: &str) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| {
            json!({"name": v, "served": true, "storage": *v == storage,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}})
        })
        .collect();
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("rockbands.{group}")},
        "spec": {"group": group, "scope": "Namespaced",
            "names": {"plural": "rockbands", "singular": "rockband", "kind": "RockBand", "listKind": "RockBandList"},
            "versions": versions}})
}

pub fn resource(group: &str, version: &str, plural: &str, kind: &str) -> ApiResource {
    ApiResource {
        group: group.to_owned(),
        version: version.to_owned(),
        api_version: if group.is_empty() {
            version.to_owned()
        } else {
            format!("{group}/{version}")
        },
        kind: kind.to_owned(),
        plural: plural.to_owned(),
    }
}

pub fn api(
    client: &kube::Client,
    resource: &ApiResource,
    namespace: Option<&str>,
) -> Api<DynamicObject> {
    match namespace {
        Some(namespace) => Api::namespaced_with(client.clone(), namespace, resource),
        None => Api::all_with(client.clone(), resource),
    }
}

pub fn crds() -> ApiResource {
    resource(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
    )
}

pub fn rockbands(group: &str, version: &str) -> ApiResource {
    resource(group, version, "rockbands", "RockBand")
}

pub fn configmaps() -> ApiResource {
    resource("", "v1", "configmaps", "ConfigMap")
}

pub fn namespaces() -> ApiResource {
    resource("", "v1", "namespaces", "Namespace")
}

/// Creates any object from JSON.
pub async fn create(client: &kube::Client, resource: &ApiResource, object: Value) -> DynamicObject {
    let namespace = object["metadata"]["namespace"].as_str().map(str::to_owned);
    let body: DynamicObject = serde_json::from_value(object).unwrap();
    api(client, resource, namespace.as_deref())
        .create(&PostParams::default(), &body)
        .await
        .unwrap()
}

/// Creates a CRD and waits until it is Established.
pub async fn install_crd(client: &kube::Client, crd: Value) {
    let name = crd["metadata"]["name"].as_str().unwrap().to_owned();
    create(client, &crds(), crd).await;
    let api = api(client, &crds(), None);
    for _ in 0..100 {
        let live = serde_json::to_value(api.get(&name).await.unwrap()).unwrap();
        let established = live["status"]["conditions"].as_array().is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Established" && c["status"] == "True")
        });
        if established {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("CRD {name} never became established");
}

pub async fn create_namespace(client: &kube::Client, name: &str, labels: Value) {
    create(
        client,
        &namespaces(),
        json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "labels": labels}}),
    )
    .await;
}

/// What to back up: a group-resource, its versions as the source serves them (preferred
/// first), its kind and the objects by namespace and name.
pub struct Backed {
    pub group_resource: &'static str,
    pub kind: &'static str,
    pub versions: Vec<&'static str>,
    pub objects: Vec<(Option<&'static str>, String)>,
}

/// Reads every listed object from the source at every listed version and writes a backup
/// tarball (the preferred version is the first), then extracts it.
pub async fn take_backup(
    source: &kube::Client,
    what: &[Backed],
) -> (tempfile::TempDir, ExtractedBackup) {
    let mut writer = BackupWriter::new(Vec::new()).unwrap();
    for backed in what {
        let gr = GroupResource::parse(backed.group_resource).unwrap();
        for version in &backed.versions {
            let resource = resource(&gr.group, version, &gr.resource, backed.kind);
            for (namespace, name) in &backed.objects {
                let object = api(source, &resource, *namespace).get(name).await.unwrap();
                let item = Item {
                    group_resource: &gr,
                    namespace: *namespace,
                    name,
                    version,
                    preferred_version: backed.versions[0],
                };
                writer
                    .append(&item, &serde_json::to_value(object).unwrap())
                    .unwrap();
            }
        }
    }
    let (bytes, _) = writer.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let backup = extract(
        bytes.as_slice(),
        &dir.path().join("backup"),
        &Limits::default(),
    )
    .unwrap();
    (dir, backup)
}

/// The version godwit wrote an object at: the `apiVersion` of its own `managedFields` entry
/// (the API server answers a read at whatever version is asked, so the object's `apiVersion`
/// proves nothing).
pub fn written_version(object: &Value) -> Option<String> {
    object["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .rev()
        .filter(|entry| entry["manager"] == godwit_restore::FIELD_MANAGER)
        .filter(|entry| entry["subresource"].as_str().unwrap_or("").is_empty())
        .filter_map(|entry| entry["apiVersion"].as_str())
        .map(|api_version| {
            api_version
                .rsplit_once('/')
                .map_or(api_version, |(_, version)| version)
                .to_owned()
        })
        .next()
}

/// A client of godwit's (`godwit-client`: its retry policy, kube's off) for a kubesim.
pub async fn godwit_client(
    sim: &Running,
    policy: godwit_client::RequestPolicy,
    retries: &godwit_client::Retries,
) -> kube::Client {
    godwit_client::from_kubeconfig_yaml(&sim.kubeconfig_yaml(), policy, retries)
        .await
        .unwrap()
}
