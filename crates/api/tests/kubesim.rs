//! The generated CRDs installed into kubesim (the simulated kube-apiserver): they are accepted
//! and established, discovery shows Velero's names and subresources, and Velero-shaped objects
//! from `fixtures/velero/` go through `Api<Backup>`, `Api<Restore>` and friends unchanged.

#![allow(clippy::unwrap_used)]

use std::fmt::Debug;
use std::time::Duration;

use godwit_api::{
    Backup, BackupStorageLocation, DEFAULT_NAMESPACE, DeleteBackupRequest, Restore, crds,
};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Patch, PatchParams, PostParams};
use kube::core::object::{HasSpec, HasStatus};
use kube::{Api, Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Installs the CRDs as `kubectl apply -f deploy/crds/` would and waits until each is
/// established.
async fn install_crds(client: &Client) {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crds() {
        api.create(&PostParams::default(), &crd).await.unwrap();
    }
    for crd in crds() {
        let name = crd.metadata.name.unwrap();
        let mut established = false;
        for _ in 0..100 {
            let live = api.get(&name).await.unwrap();
            established = live
                .status
                .and_then(|status| status.conditions)
                .unwrap_or_default()
                .iter()
                .any(|condition| condition.type_ == "Established" && condition.status == "True");
            if established {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(established, "{name} never became established");
    }
}

async fn create_namespace(client: &Client, name: &str) {
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            ..Default::default()
        },
        ..Default::default()
    };
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace)
        .await
        .unwrap();
}

/// A fixture as a client would send it: without the fields the API server sets.
fn fixture<K: DeserializeOwned + Resource>(name: &str) -> K {
    let bytes = godwit_fixtures::read(&format!("velero/{name}"));
    let mut object: K = serde_saphyr::from_str(std::str::from_utf8(&bytes).unwrap()).unwrap();
    let meta = object.meta_mut();
    meta.uid = None;
    meta.resource_version = None;
    meta.creation_timestamp = None;
    meta.generation = None;
    object
}

/// What the server gave back has the fixture's name, labels, annotations and finalizers.
fn check_metadata<K: Resource>(got: &K, sent: &K) {
    let (got, sent) = (got.meta(), sent.meta());
    assert_eq!(got.name, sent.name);
    assert_eq!(got.namespace.as_deref(), Some(DEFAULT_NAMESPACE));
    assert_eq!(got.labels, sent.labels);
    assert_eq!(got.annotations, sent.annotations);
    assert_eq!(got.finalizers, sent.finalizers);
    assert!(got.uid.is_some() && got.resource_version.is_some());
}

/// Creates a Backup or Restore (no status subresource, as in Velero: status is written with
/// the object) and reads it back with spec and status intact.
async fn check_created_whole<K>(client: &Client, name: &str)
where
    K: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
        + HasSpec<Spec: PartialEq + Debug>
        + HasStatus<Status: PartialEq + Debug>
        + Clone
        + Debug
        + Serialize
        + DeserializeOwned,
{
    let api: Api<K> = Api::namespaced(client.clone(), DEFAULT_NAMESPACE);
    let sent: K = fixture(name);
    let object_name = sent.meta().name.clone().unwrap();
    let created = api.create(&PostParams::default(), &sent).await.unwrap();
    let read = api.get(&object_name).await.unwrap();
    for got in [&created, &read] {
        check_metadata(got, &sent);
        assert_eq!(got.spec(), sent.spec(), "{name}: spec");
        assert_eq!(got.status(), sent.status(), "{name}: status");
    }
}

/// Creates a BackupStorageLocation or DeleteBackupRequest (status subresource, as in Velero):
/// the create drops the status, which is then written through `/status`.
async fn check_created_then_status<K>(client: &Client, name: &str)
where
    K: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
        + HasSpec<Spec: PartialEq + Debug>
        + HasStatus<Status: PartialEq + Debug + Serialize>
        + Clone
        + Debug
        + Serialize
        + DeserializeOwned,
{
    let api: Api<K> = Api::namespaced(client.clone(), DEFAULT_NAMESPACE);
    let sent: K = fixture(name);
    let object_name = sent.meta().name.clone().unwrap();
    let created = api.create(&PostParams::default(), &sent).await.unwrap();
    check_metadata(&created, &sent);
    assert_eq!(created.spec(), sent.spec(), "{name}: spec");
    assert_eq!(created.status(), None, "{name}: create must not set status");

    let patch = serde_json::json!({ "status": sent.status() });
    api.patch_status(&object_name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let read = api.get(&object_name).await.unwrap();
    check_metadata(&read, &sent);
    assert_eq!(read.spec(), sent.spec(), "{name}: spec");
    assert_eq!(read.status(), sent.status(), "{name}: status");
}

#[tokio::test]
async fn generated_crds_serve_velero_objects_unchanged() {
    let server = godwit_kubesim::start(Default::default()).await.unwrap();
    let client = server.client().unwrap();
    install_crds(&client).await;
    create_namespace(&client, DEFAULT_NAMESPACE).await;

    // Discovery shows what kubectl and the velero CLI look for.
    let resources = client
        .list_api_group_resources("velero.io/v1")
        .await
        .unwrap();
    let names: Vec<_> = resources
        .resources
        .iter()
        .map(|resource| resource.name.as_str())
        .collect();
    for expected in [
        "backups",
        "restores",
        "backupstoragelocations",
        "backupstoragelocations/status",
        "deletebackuprequests",
        "deletebackuprequests/status",
    ] {
        assert!(names.contains(&expected), "{expected} not in {names:?}");
    }
    for absent in ["backups/status", "restores/status"] {
        assert!(!names.contains(&absent), "{absent} in {names:?}");
    }
    let bsl = resources
        .resources
        .iter()
        .find(|resource| resource.name == "backupstoragelocations")
        .unwrap();
    assert_eq!(bsl.short_names.as_deref(), Some(&["bsl".to_owned()][..]));
    assert_eq!(bsl.kind, "BackupStorageLocation");
    assert!(bsl.namespaced);

    check_created_whole::<Backup>(&client, "backup.yaml").await;
    check_created_whole::<Restore>(&client, "restore.yaml").await;
    check_created_whole::<Restore>(&client, "restore-with-version-choices.yaml").await;
    check_created_then_status::<BackupStorageLocation>(&client, "backupstoragelocation.yaml").await;
    check_created_then_status::<DeleteBackupRequest>(&client, "deletebackuprequest.yaml").await;

    let backups: Api<Backup> = Api::namespaced(client.clone(), DEFAULT_NAMESPACE);
    let listed = backups.list(&Default::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert!(listed.items[0].is_terminal_phase());

    server.shutdown().await;
}
