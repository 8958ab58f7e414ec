//! CustomResourceDefinitions: status conditions and storedVersions, multi-version discovery,
//! preferred version, `None` conversion, unserved versions and the status subresource.

use futures::future::join_all;
use serde_json::{Value, json};

use crate::support::{
    Cluster, VOLATILE, assert_page_not_found, cluster, eventually, is_timestamp, sample,
    unique_group, without,
};

/// The recorded three-version CRD (v1 storage with status, v2beta1 served, v1alpha1 unserved),
/// moved to `group`.
fn widget_crd(group: &str) -> Value {
    let recorded = sample("crd-create.body", &[("resp.example.io", group)]);
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": recorded["metadata"]["name"]},
        "spec": recorded["spec"],
    })
}

/// A CRD with the given `(name, served, storage)` versions and nothing else set.
fn crd(group: &str, plural: &str, kind: &str, versions: &[(&str, bool, bool)]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|(name, served, storage)| {
            json!({
                "name": name,
                "served": served,
                "storage": storage,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": true,
                }},
            })
        })
        .collect();
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {
            "group": group,
            "names": {"plural": plural, "kind": kind},
            "scope": "Namespaced",
            "versions": versions,
        },
    })
}

/// `value` with `lastTransitionTime` taken out of every status condition (after checking it is a
/// timestamp).
fn without_transition_times(value: &Value) -> Value {
    let mut value = value.clone();
    if let Some(conditions) = value
        .pointer_mut("/status/conditions")
        .and_then(Value::as_array_mut)
    {
        for condition in conditions {
            let time = condition["lastTransitionTime"].as_str().unwrap_or_default();
            assert!(is_timestamp(time), "lastTransitionTime {time:?}");
            if let Some(object) = condition.as_object_mut() {
                object.remove("lastTransitionTime");
            }
        }
    }
    value
}

fn widgets_path(group: &str, version: &str, namespace: &str) -> String {
    format!("/apis/{group}/{version}/namespaces/{namespace}/widgets")
}

#[tokio::test]
async fn crd_status_conditions_and_stored_versions() {
    let cluster = cluster().await;
    let group = unique_group("resp");
    let (created, established) = cluster.create_crd(&widget_crd(&group)).await;

    let created = created.json();
    let recorded_create = sample("crd-create.body", &[("resp.example.io", &group)]);
    assert_eq!(created["spec"], recorded_create["spec"]);
    assert_eq!(created["metadata"]["generation"], 1);
    assert_eq!(created["status"]["storedVersions"], json!(["v1"]));

    let recorded = sample("crd-get-established.body", &[("resp.example.io", &group)]);
    assert_eq!(
        without_transition_times(&without(&established, VOLATILE)),
        without_transition_times(&without(&recorded, VOLATILE)),
        "an established CRD reads as the real server shows it"
    );
}

#[tokio::test]
async fn crd_storage_version_change_extends_stored_versions() {
    let cluster = cluster().await;
    let group = unique_group("store");
    let crd = widget_crd(&group);
    let name = crd["metadata"]["name"].as_str().unwrap().to_string();
    cluster.create_crd(&crd).await;
    let path = format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}");

    let mut versions = crd["spec"]["versions"].clone();
    for version in versions.as_array_mut().unwrap() {
        let storage = version["name"] == "v2beta1";
        version["storage"] = json!(storage);
    }
    let patch = json!({"spec": {"versions": versions}});
    let patched = cluster
        .raw_typed("PATCH", &path, &patch, "application/merge-patch+json")
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let patched = patched.json();
    assert_eq!(
        patched["status"]["storedVersions"],
        json!(["v1", "v2beta1"]),
        "a new storage version is added to storedVersions at once"
    );
    assert_eq!(patched["metadata"]["generation"], 2);

    // Retiring v1: once every object is rewritten, storedVersions is trimmed via /status.
    let trim = json!({"status": {"storedVersions": ["v2beta1"]}});
    let trimmed = cluster
        .raw_typed(
            "PATCH",
            &format!("{path}/status"),
            &trim,
            "application/merge-patch+json",
        )
        .await;
    assert_eq!(trimmed.status, 200, "{}", trimmed.body);
    assert_eq!(
        trimmed.json()["status"]["storedVersions"],
        json!(["v2beta1"])
    );
}

#[tokio::test]
async fn crd_discovery_matches_the_real_server() {
    let cluster = cluster().await;
    let group = unique_group("disc");
    cluster.create_crd(&widget_crd(&group)).await;
    let replacements = [("resp.example.io", group.as_str())];

    let got = cluster.raw("GET", &format!("/apis/{group}"), None).await;
    assert_eq!(got.status, 200, "{}", got.body);
    let group_doc = got.json();
    assert_eq!(group_doc, sample("disc-apis-group.body", &replacements));

    let mut hashes = Vec::new();
    for (version, recorded) in [
        ("v1", "disc-apis-group-v1.body"),
        ("v2beta1", "disc-apis-group-v2beta1.body"),
    ] {
        let got = cluster
            .raw("GET", &format!("/apis/{group}/{version}"), None)
            .await;
        assert_eq!(got.status, 200, "{}", got.body);
        let list = got.json();
        let hash = list["resources"][0]["storageVersionHash"].clone();
        assert!(
            hash.as_str().is_some_and(|h| !h.is_empty()),
            "{group}/{version} widgets has a storageVersionHash: {list}"
        );
        hashes.push(hash);
        // The hash depends on the group name, which is unique per run.
        let pointer = ["/resources/0/storageVersionHash"];
        assert_eq!(
            without(&list, &pointer),
            without(&sample(recorded, &replacements), &pointer),
            "/apis/{group}/{version}"
        );
    }
    assert_eq!(hashes[0], hashes[1], "one storage version, one hash");

    let unserved = format!("/apis/{group}/v1alpha1");
    assert_page_not_found(&cluster.raw("GET", &unserved, None).await, &unserved);

    let all = cluster.raw("GET", "/apis", None).await.json();
    let listed = all["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["name"] == group.as_str())
        .unwrap_or_else(|| panic!("/apis lacks {group}"))
        .clone();
    assert_eq!(listed, without(&group_doc, &["/kind", "/apiVersion"]));
}

/// One CRD's versions and the discovery the real server derives from them.
struct PreferredCase {
    base: &'static str,
    versions: &'static [(&'static str, bool, bool)],
    discovered: &'static [&'static str],
}

const PREFERRED_CASES: &[PreferredCase] = &[
    // Storage v1, yet v2 is served and ranks higher: v2 is preferred.
    PreferredCase {
        base: "pref-a",
        versions: &[
            ("v1", true, true),
            ("v2", true, false),
            ("v10alpha1", true, false),
            ("v2beta1", false, false),
        ],
        discovered: &["v2", "v1", "v10alpha1"],
    },
    // Storage beta, GA served: GA is preferred.
    PreferredCase {
        base: "pref-b",
        versions: &[
            ("v1beta1", true, true),
            ("v1", true, false),
            ("v1alpha1", true, false),
        ],
        discovered: &["v1", "v1beta1", "v1alpha1"],
    },
    // Numbers compare as numbers; names that are not kube-like come last, in string order; an
    // unserved GA version does not count.
    PreferredCase {
        base: "pref-c",
        versions: &[
            ("v1alpha1", true, true),
            ("foo10", true, false),
            ("v1beta2", true, false),
            ("foo1", true, false),
            ("v1beta10", true, false),
            ("v1", false, false),
        ],
        discovered: &["v1beta10", "v1beta2", "v1alpha1", "foo1", "foo10"],
    },
];

async fn check_preferred(cluster: &Cluster, case: &PreferredCase) {
    let group = unique_group(case.base);
    let definition = crd(&group, "gadgets", "Gadget", case.versions);
    let (created, established) = cluster.create_crd(&definition).await;
    let storage = case
        .versions
        .iter()
        .find(|(_, _, storage)| *storage)
        .map(|(name, _, _)| *name)
        .unwrap();
    assert_eq!(
        created.json()["status"]["storedVersions"],
        json!([storage]),
        "{group}"
    );
    // Defaults the real server fills in.
    let names = &established["spec"]["names"];
    assert_eq!(names["singular"], "gadget", "{group}");
    assert_eq!(names["listKind"], "GadgetList", "{group}");
    assert_eq!(
        established["spec"]["conversion"],
        json!({"strategy": "None"})
    );
    assert_eq!(established["status"]["acceptedNames"], *names, "{group}");

    let got = cluster.raw("GET", &format!("/apis/{group}"), None).await;
    assert_eq!(got.status, 200, "{}", got.body);
    let group_doc = got.json();
    let versions: Vec<Value> = case
        .discovered
        .iter()
        .map(|version| json!({"groupVersion": format!("{group}/{version}"), "version": version}))
        .collect();
    let expected = json!({
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": versions,
        "preferredVersion": versions[0],
    });
    assert_eq!(group_doc, expected, "{group}");
}

#[tokio::test]
async fn crd_preferred_version_is_the_highest_served_not_the_storage_version() {
    let cluster = cluster().await;
    join_all(
        PREFERRED_CASES
            .iter()
            .map(|case| check_preferred(&cluster, case)),
    )
    .await;
}

#[tokio::test]
async fn none_conversion_changes_only_the_api_version() {
    let cluster = cluster().await;
    let group = unique_group("conv");
    cluster.create_crd(&widget_crd(&group)).await;
    let namespace = cluster.namespace("conv").await;
    let replacements = [
        ("resp.example.io", group.as_str()),
        ("resp-demo", namespace.as_str()),
    ];

    let widget = json!({
        "apiVersion": format!("{group}/v2beta1"),
        "kind": "Widget",
        "metadata": {"name": "w1"},
        "spec": {"size": 3},
    });
    let created = cluster
        .raw(
            "POST",
            &widgets_path(&group, "v2beta1", &namespace),
            Some(&widget),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let created = created.json();
    assert_eq!(
        without(&created, VOLATILE),
        without(&sample("cr-create-v2beta1.body", &replacements), VOLATILE)
    );

    let at_v1 = cluster
        .raw(
            "GET",
            &format!("{}/w1", widgets_path(&group, "v1", &namespace)),
            None,
        )
        .await;
    assert_eq!(at_v1.status, 200, "{}", at_v1.body);
    let at_v1 = at_v1.json();
    assert_eq!(at_v1["apiVersion"], format!("{group}/v1"));
    assert_eq!(
        without(&at_v1, &["/apiVersion"]),
        without(&created, &["/apiVersion"]),
        "reading at another version changes apiVersion only (managedFields included)"
    );
    assert_eq!(
        without(&at_v1, VOLATILE),
        without(&sample("cr-get-v1.body", &replacements), VOLATILE)
    );

    let listed = cluster
        .raw("GET", &widgets_path(&group, "v1", &namespace), None)
        .await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let listed = listed.json();
    assert_eq!(listed["kind"], "WidgetList");
    assert_eq!(listed["apiVersion"], format!("{group}/v1"));
    assert_eq!(listed["items"][0]["apiVersion"], format!("{group}/v1"));
    assert_eq!(listed["items"][0]["kind"], "Widget");
    assert_eq!(listed["items"][0]["spec"], json!({"size": 3}));

    let unserved_get = format!("{}/w1", widgets_path(&group, "v1alpha1", &namespace));
    assert_page_not_found(
        &cluster.raw("GET", &unserved_get, None).await,
        &unserved_get,
    );
    let unserved_post = widgets_path(&group, "v1alpha1", &namespace);
    let mut at_alpha = widget.clone();
    at_alpha["apiVersion"] = json!(format!("{group}/v1alpha1"));
    at_alpha["metadata"]["name"] = json!("w2");
    assert_page_not_found(
        &cluster.raw("POST", &unserved_post, Some(&at_alpha)).await,
        &unserved_post,
    );
}

#[tokio::test]
async fn custom_resource_already_exists_names_its_group() {
    let cluster = cluster().await;
    let group = unique_group("dup");
    cluster.create_crd(&widget_crd(&group)).await;
    let namespace = cluster.namespace("dup").await;
    let path = widgets_path(&group, "v1", &namespace);
    let widget = json!({
        "apiVersion": format!("{group}/v1"),
        "kind": "Widget",
        "metadata": {"name": "w1"},
        "spec": {"size": 1},
    });
    let first = cluster.raw("POST", &path, Some(&widget)).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let second = cluster.raw("POST", &path, Some(&widget)).await;
    assert_eq!(second.status, 409, "{}", second.body);
    let expected = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": format!("widgets.{group} \"w1\" already exists"),
        "reason": "AlreadyExists",
        "details": {"name": "w1", "group": group, "kind": "widgets"},
        "code": 409,
    });
    assert_eq!(second.json(), expected);
}

#[tokio::test]
async fn status_subresource_splits_spec_and_status() {
    let cluster = cluster().await;
    let group = unique_group("status");
    cluster.create_crd(&widget_crd(&group)).await;
    let namespace = cluster.namespace("status").await;
    let path = format!("{}/w1", widgets_path(&group, "v1", &namespace));
    let merge = "application/merge-patch+json";

    let widget = json!({
        "apiVersion": format!("{group}/v1"),
        "kind": "Widget",
        "metadata": {"name": "w1"},
        "spec": {"size": 1},
        "status": {"phase": "Ignored"},
    });
    let created = cluster
        .raw(
            "POST",
            &widgets_path(&group, "v1", &namespace),
            Some(&widget),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let created = created.json();
    assert!(
        created.get("status").is_none(),
        "with a status subresource, create drops status: {created}"
    );
    assert_eq!(created["metadata"]["generation"], 1);

    let status_patch = json!({"spec": {"size": 99}, "status": {"phase": "Ready"}});
    let patched = cluster
        .raw_typed("PATCH", &format!("{path}/status"), &status_patch, merge)
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let patched = patched.json();
    assert_eq!(patched["status"], json!({"phase": "Ready"}));
    assert_eq!(
        patched["spec"],
        json!({"size": 1}),
        "/status ignores spec changes"
    );
    assert_eq!(
        patched["metadata"]["generation"], 1,
        "status changes leave generation"
    );

    let spec_patch = json!({"spec": {"size": 2}, "status": {"phase": "Other"}});
    let patched = cluster.raw_typed("PATCH", &path, &spec_patch, merge).await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let patched = patched.json();
    assert_eq!(patched["spec"], json!({"size": 2}));
    assert_eq!(
        patched["status"],
        json!({"phase": "Ready"}),
        "the main resource ignores status changes"
    );
    assert_eq!(
        patched["metadata"]["generation"], 2,
        "a spec change bumps generation"
    );

    let got = cluster.raw("GET", &format!("{path}/status"), None).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.json(), patched, "GET /status returns the whole object");

    // v2beta1 of this CRD has no status subresource: the custom resource handler answers as
    // if the object were missing.
    let no_status = format!("{}/w1/status", widgets_path(&group, "v2beta1", &namespace));
    let got = cluster.raw("GET", &no_status, None).await;
    assert_eq!(got.status, 404, "{}", got.body);
    assert_eq!(
        got.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": format!("widgets.{group} \"w1\" not found"), "reason": "NotFound",
               "details": {"name": "w1", "group": group, "kind": "widgets"}, "code": 404}),
        "{no_status}"
    );
}

#[tokio::test]
async fn crd_objects_through_kube_dynamic_api() {
    use kube::api::{Api, ApiResource, DynamicObject, PostParams};
    use kube::discovery::pinned_group;

    let cluster = cluster().await;
    let group = unique_group("dyn");
    cluster.create_crd(&widget_crd(&group)).await;
    let namespace = cluster.namespace("dyn").await;

    let discovered = kube::discovery::group(&cluster.client, &group)
        .await
        .unwrap();
    assert_eq!(discovered.preferred_version(), Some("v1"));
    let pinned = pinned_group(
        &cluster.client,
        &kube::core::GroupVersion::gv(&group, "v2beta1"),
    )
    .await
    .unwrap();
    let (resource, _) = pinned.recommended_kind("Widget").unwrap();
    assert_eq!(resource.plural, "widgets");

    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client.clone(), &namespace, &resource);
    let mut widget = DynamicObject::new("w1", &resource).data(json!({"spec": {"size": 5}}));
    widget.metadata.namespace = Some(namespace.clone());
    let created = api.create(&PostParams::default(), &widget).await.unwrap();
    assert_eq!(created.data["spec"]["size"], 5);

    let v1 = ApiResource {
        group: group.clone(),
        version: "v1".into(),
        api_version: format!("{group}/v1"),
        kind: "Widget".into(),
        plural: "widgets".into(),
    };
    let at_v1: Api<DynamicObject> = Api::namespaced_with(cluster.client.clone(), &namespace, &v1);
    let got = at_v1.get("w1").await.unwrap();
    assert_eq!(
        got.types.as_ref().unwrap().api_version,
        format!("{group}/v1")
    );
    assert_eq!(got.metadata.uid, created.metadata.uid);
    assert_eq!(got.data["spec"]["size"], 5);
}

/// `body` of an error answer, parsed, with the code checked.
fn error_body(raw: &crate::support::Raw, code: u16, what: &str) -> Value {
    assert_eq!(raw.status, code, "{what}: {}", raw.body);
    raw.json()
}

/// The retirement of a stored version, as the API server guards it (SPEC.md section 8): an
/// unchanged write stores an object again at the new storage version, a write of the CRD
/// cannot drop a version `status.storedVersions` still lists, `/status` writes of
/// `storedVersions` are not validated (only an empty list is defaulted), and an object left at
/// a version removed from `spec.versions` can no longer be read, listed, written or deleted.
#[tokio::test]
async fn stored_versions_guard_the_retirement_of_a_version() {
    let cluster = cluster().await;
    let group = unique_group("stored");
    let namespace = cluster.namespace("stored").await;
    let name = format!("widgets.{group}");
    let crd_path = format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}");
    let status_path = format!("{crd_path}/status");
    let at = |version: &str| widgets_path(&group, version, &namespace);
    cluster
        .create_crd(&crd(
            &group,
            "widgets",
            "Widget",
            &[("v1beta1", true, true)],
        ))
        .await;
    for object in ["a", "b"] {
        let body = json!({"apiVersion": format!("{group}/v1beta1"), "kind": "Widget",
                          "metadata": {"name": object}, "x": 1});
        let created = cluster.raw("POST", &at("v1beta1"), Some(&body)).await;
        assert_eq!(created.status, 201, "{}", created.body);
    }

    // v1 becomes the storage version; both stay served.
    let old_hash = cluster
        .raw("GET", &format!("/apis/{group}/v1beta1"), None)
        .await
        .json()["resources"][0]["storageVersionHash"]
        .clone();
    let mut current = cluster.raw("GET", &crd_path, None).await.json();
    current["spec"]["versions"] = crd(
        &group,
        "widgets",
        "Widget",
        &[("v1beta1", true, false), ("v1", true, true)],
    )["spec"]["versions"]
        .clone();
    let updated = cluster.raw("PUT", &crd_path, Some(&current)).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(
        updated.json()["status"]["storedVersions"],
        json!(["v1beta1", "v1"])
    );

    // An unchanged write of `a` stores it again (new resourceVersion); a second one, with
    // nothing left to change, is skipped. A real server takes a moment to encode at the new
    // storage version (until then the write is skipped too): its discovery says when.
    let a_path = format!("{}/a", at("v1"));
    eventually("discovery to show v1 as the storage version", || async {
        let listed = cluster.raw("GET", &format!("/apis/{group}/v1"), None).await;
        let changed = listed.status == 200 && {
            let hash = &listed.json()["resources"][0]["storageVersionHash"];
            hash.is_string() && *hash != old_hash
        };
        changed.then_some(())
    })
    .await;
    let a = eventually("a to be served at v1", || async {
        let got = cluster.raw("GET", &a_path, None).await;
        (got.status == 200).then(|| got.json())
    })
    .await;
    let rewritten = cluster.raw("PUT", &a_path, Some(&a)).await;
    assert_eq!(rewritten.status, 200, "{}", rewritten.body);
    let rewritten = rewritten.json();
    assert_ne!(
        rewritten["metadata"]["resourceVersion"], a["metadata"]["resourceVersion"],
        "an object stored at v1beta1 is written again at v1"
    );
    assert_eq!(
        rewritten["metadata"]["managedFields"], a["metadata"]["managedFields"],
        "an unchanged write adds no field manager"
    );
    let again = cluster.raw("PUT", &a_path, Some(&rewritten)).await.json();
    assert_eq!(
        again["metadata"]["resourceVersion"], rewritten["metadata"]["resourceVersion"],
        "an object already at the storage version is not written again"
    );

    // The CRD cannot drop v1beta1 while storedVersions lists it.
    let mut dropped = cluster.raw("GET", &crd_path, None).await.json();
    dropped["spec"]["versions"] = json!([dropped["spec"]["versions"][1].clone()]);
    let refused = cluster.raw("PUT", &crd_path, Some(&dropped)).await;
    let message = "Invalid value: \"v1beta1\": missing from spec.versions; v1beta1 was \
                   previously a storage version, and must remain in spec.versions until a \
                   storage migration ensures no data remains persisted in v1beta1 and removes \
                   v1beta1 from status.storedVersions";
    assert_eq!(
        error_body(&refused, 422, "dropping a stored version"),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": format!("CustomResourceDefinition.apiextensions.k8s.io \"{name}\" is invalid: status.storedVersions[0]: {message}"),
               "reason": "Invalid",
               "details": {"name": name, "group": "apiextensions.k8s.io",
                           "kind": "CustomResourceDefinition",
                           "causes": [{"reason": "FieldValueInvalid", "message": message,
                                       "field": "status.storedVersions[0]"}]},
               "code": 422})
    );

    // /status writes: an empty list becomes the storage version; anything else is taken as
    // written, even without the storage version or with a version the CRD never had.
    let write_status = |stored: Value| {
        let cluster = &cluster;
        let crd_path = &crd_path;
        let status_path = &status_path;
        async move {
            let mut current = cluster.raw("GET", crd_path, None).await.json();
            current["status"]["storedVersions"] = stored;
            cluster.raw("PUT", status_path, Some(&current)).await
        }
    };
    for (stored, kept) in [
        (json!([]), json!(["v1"])),
        (json!(["v1beta1"]), json!(["v1beta1"])),
        (json!(["v1", "v9"]), json!(["v1", "v9"])),
        (json!(["v1beta1", "v1"]), json!(["v1beta1", "v1"])),
    ] {
        let written = write_status(stored.clone()).await;
        assert_eq!(written.status, 200, "{stored}: {}", written.body);
        assert_eq!(written.json()["status"]["storedVersions"], kept, "{stored}");
    }
    // The CRD's resourceVersion is a precondition of a /status write.
    let mut stale = cluster.raw("GET", &crd_path, None).await.json();
    stale["metadata"]["resourceVersion"] = json!("1");
    let conflict = cluster.raw("PUT", &status_path, Some(&stale)).await;
    assert_eq!(
        error_body(&conflict, 409, "a stale /status write")["reason"],
        "Conflict"
    );

    // Trimmed without rewriting `b` (still stored at v1beta1), v1beta1 can go, and `b` with it.
    let trimmed = write_status(json!(["v1"])).await;
    assert_eq!(trimmed.status, 200, "{}", trimmed.body);
    let mut dropped = cluster.raw("GET", &crd_path, None).await.json();
    dropped["spec"]["versions"] = json!([dropped["spec"]["versions"][1].clone()]);
    let updated = cluster.raw("PUT", &crd_path, Some(&dropped)).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    let undecodable = json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure",
        "message": format!("request to convert CR from an invalid group/version: {group}/v1beta1"),
        "code": 500});
    let b_path = format!("{}/b", at("v1"));
    // A real server drops v1beta1 from its handlers a moment after the write.
    let got = eventually("b to be unreadable once v1beta1 is gone", || async {
        let got = cluster.raw("GET", &b_path, None).await;
        (got.status == 500).then_some(got)
    })
    .await;
    assert_eq!(error_body(&got, 500, "GET b"), undecodable);
    let got = cluster.raw("GET", &a_path, None).await;
    assert_eq!(got.status, 200, "a, rewritten at v1, reads: {}", got.body);
    let page = cluster
        .raw("GET", &format!("{}?limit=10", at("v1")), None)
        .await;
    assert_eq!(error_body(&page, 500, "a page holding b"), undecodable);
    let first = cluster
        .raw("GET", &format!("{}?limit=1", at("v1")), None)
        .await;
    assert_eq!(first.status, 200, "a page before b: {}", first.body);
    let plain = crate::support::raw(
        &cluster.client_without_retries().await,
        "GET",
        &at("v1"),
        None,
        "application/json",
    )
    .await;
    let plain = error_body(&plain, 429, "an unpaged list holding b");
    assert_eq!(plain["reason"], "TooManyRequests");
    assert_eq!(
        plain["message"],
        format!(
            "storage is (re)initializing: failed to list {group}/v1, Kind=Widget: request to \
             convert CR from an invalid group/version: {group}/v1beta1"
        )
    );
    let body = json!({"apiVersion": format!("{group}/v1"), "kind": "Widget",
                      "metadata": {"name": "b"}, "x": 2});
    let put = cluster.raw("PUT", &b_path, Some(&body)).await;
    assert_eq!(error_body(&put, 500, "PUT b"), undecodable);
    let delete = cluster.raw("DELETE", &b_path, None).await;
    assert_eq!(error_body(&delete, 500, "DELETE b"), undecodable);
}
