//! The run against kubesim: a CRD whose storage version moved is migrated in pages and can then
//! drop the old version; a stale version that is not served is refused with nothing changed; a
//! dry run writes nothing.

// Helpers of tests: a failure is the test's failure.
#![allow(clippy::unwrap_used)]

use godwit_crd_migration::{Options, Outcome, Refusal, migrate};
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};
use serde_json::{Value, json};

const GROUP: &str = "sv.example.io";
const NAMESPACE: &str = "default";

fn crds(client: &kube::Client) -> Api<DynamicObject> {
    let resource = ApiResource {
        group: "apiextensions.k8s.io".into(),
        version: "v1".into(),
        api_version: "apiextensions.k8s.io/v1".into(),
        kind: "CustomResourceDefinition".into(),
        plural: "customresourcedefinitions".into(),
    };
    Api::all_with(client.clone(), &resource)
}

fn widgets(client: &kube::Client, plural: &str, version: &str) -> Api<DynamicObject> {
    let resource = ApiResource {
        group: GROUP.into(),
        version: version.into(),
        api_version: format!("{GROUP}/{version}"),
        kind: "Widget".into(),
        plural: plural.into(),
    };
    Api::namespaced_with(client.clone(), NAMESPACE, &resource)
}

fn versions(list: &[(&str, bool, bool)]) -> Value {
    list.iter()
        .map(|(name, served, storage)| {
            json!({"name": name, "served": served, "storage": storage,
                   "schema": {"openAPIV3Schema": {"type": "object",
                              "x-kubernetes-preserve-unknown-fields": true}}})
        })
        .collect()
}

/// Creates `<plural>.sv.example.io` stored at v1beta1, `count` objects, then makes v1 the
/// storage version with v1beta1's `served` as given.
async fn set_up(client: &kube::Client, plural: &str, count: usize, v1beta1_served: bool) {
    let name = format!("{plural}.{GROUP}");
    let crd: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": name},
        "spec": {"group": GROUP, "names": {"plural": plural, "kind": "Widget"},
                 "scope": "Namespaced", "versions": versions(&[("v1beta1", true, true)])},
    }))
    .unwrap();
    crds(client)
        .create(&PostParams::default(), &crd)
        .await
        .unwrap();
    let api = widgets(client, plural, "v1beta1");
    for index in 0..count {
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": format!("{GROUP}/v1beta1"), "kind": "Widget",
            "metadata": {"name": format!("w{index:02}")}, "size": index,
        }))
        .unwrap();
        api.create(&PostParams::default(), &object).await.unwrap();
    }
    let mut crd = crds(client).get(&name).await.unwrap();
    crd.data["spec"]["versions"] =
        versions(&[("v1beta1", v1beta1_served, false), ("v1", true, true)]);
    let crd = crds(client)
        .replace(&name, &PostParams::default(), &crd)
        .await
        .unwrap();
    assert_eq!(
        crd.data["status"]["storedVersions"],
        json!(["v1beta1", "v1"])
    );
}

async fn resource_versions(client: &kube::Client, plural: &str) -> Vec<String> {
    widgets(client, plural, "v1")
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|object| object.metadata.resource_version.unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn migrates_in_pages_then_the_old_version_can_go() {
    let server = godwit_kubesim::start(godwit_kubesim::Options::default())
        .await
        .unwrap();
    let client = server.client().unwrap();
    set_up(&client, "widgets", 25, true).await;
    let name = format!("widgets.{GROUP}");
    let options = Options {
        page_size: 7,
        ..Options::default()
    };

    // A dry run counts and writes nothing.
    let before = resource_versions(&client, "widgets").await;
    let dry = Options {
        dry_run: true,
        ..options.clone()
    };
    match migrate(&client, &name, &dry, |_| {}).await.unwrap() {
        Outcome::WouldMigrate { migration, objects } => {
            assert_eq!(objects, 25);
            assert_eq!(migration.stale_versions, ["v1beta1"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(resource_versions(&client, "widgets").await, before);

    // Before the migration, the CRD cannot drop v1beta1.
    let mut dropped = crds(&client).get(&name).await.unwrap();
    dropped.data["spec"]["versions"] = versions(&[("v1", true, true)]);
    let refused = crds(&client)
        .replace(&name, &PostParams::default(), &dropped)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("missing from spec.versions"),
        "{refused}"
    );

    let mut seen = Vec::new();
    let outcome = migrate(&client, &name, &options, |progress| {
        seen.push((progress.done, progress.total));
    })
    .await
    .unwrap();
    let Outcome::Migrated(report) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(report.objects_rewritten, 25);
    assert_eq!(report.versions_removed, ["v1beta1"]);
    assert_eq!(seen.len(), 25);
    assert_eq!(seen.last(), Some(&(25, Some(25))));
    let after = resource_versions(&client, "widgets").await;
    assert!(
        before.iter().zip(&after).all(|(b, a)| b != a),
        "every object written again"
    );
    let crd = crds(&client).get(&name).await.unwrap();
    assert_eq!(crd.data["status"]["storedVersions"], json!(["v1"]));

    // Now v1beta1 can go, and every object still reads at v1.
    let mut dropped = crd;
    dropped.data["spec"]["versions"] = versions(&[("v1", true, true)]);
    crds(&client)
        .replace(&name, &PostParams::default(), &dropped)
        .await
        .unwrap();
    assert_eq!(resource_versions(&client, "widgets").await.len(), 25);

    // Run again: nothing to do.
    let again = migrate(&client, &name, &options, |_| {}).await.unwrap();
    assert!(matches!(again, Outcome::NothingToDo { .. }), "{again:?}");
}

#[tokio::test]
async fn a_stale_version_that_is_not_served_is_refused() {
    let server = godwit_kubesim::start(godwit_kubesim::Options::default())
        .await
        .unwrap();
    let client = server.client().unwrap();
    set_up(&client, "gadgets", 3, false).await;
    let name = format!("gadgets.{GROUP}");
    let before = resource_versions(&client, "gadgets").await;
    let outcome = migrate(&client, &name, &Options::default(), |_| {})
        .await
        .unwrap();
    match outcome {
        Outcome::Refused {
            refusal: Refusal::StaleVersionNotServed { version, .. },
            objects_rewritten: 0,
        } => assert_eq!(version, "v1beta1"),
        other => panic!("{other:?}"),
    }
    assert_eq!(resource_versions(&client, "gadgets").await, before);
    let crd = crds(&client).get(&name).await.unwrap();
    assert_eq!(
        crd.data["status"]["storedVersions"],
        json!(["v1beta1", "v1"])
    );

    let missing = migrate(
        &client,
        "nothings.sv.example.io",
        &Options::default(),
        |_| {},
    )
    .await;
    assert_eq!(
        missing.unwrap_err().to_string(),
        "customresourcedefinition nothings.sv.example.io not found; check the name with \
         `kubectl get crd`"
    );
}

#[tokio::test]
async fn a_write_answered_page_not_found_is_an_error_not_a_gone_object() {
    let server = godwit_kubesim::start(godwit_kubesim::Options::default())
        .await
        .unwrap();
    let client = server.client().unwrap();
    set_up(&client, "gizmos", 4, true).await;
    let name = format!("gizmos.{GROUP}");
    // A server that does not serve v1 for writes yet (one behind a load balancer, say): the
    // list works, each object's PUT answers a bare 404 that says nothing about the object.
    server.faults().add(godwit_kubesim::FaultRule {
        fault: godwit_kubesim::Fault::PageNotFound,
        fraction: 1.0,
        path_contains: Some("/gizmos/".to_owned()),
        method: Some("PUT".to_owned()),
    });
    let before = resource_versions(&client, "gizmos").await;
    let error = migrate(&client, &name, &Options::default(), |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(error, godwit_crd_migration::Error::Update { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("status.storedVersions left as it is"),
        "{error}"
    );
    server.faults().clear();
    assert_eq!(resource_versions(&client, "gizmos").await, before);
    let crd = crds(&client).get(&name).await.unwrap();
    assert_eq!(
        crd.data["status"]["storedVersions"],
        json!(["v1beta1", "v1"])
    );
}
