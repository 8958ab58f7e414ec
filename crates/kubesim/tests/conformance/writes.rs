//! Writes: server-set metadata, merge and JSON patches, update, delete and dry run.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use crate::support::{
    VOLATILE, cluster, config_map, create_config_map, is_timestamp, rv_number, sample, unique,
    unused_node_port, without,
};

fn is_uid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| {
            g.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

fn assert_server_metadata(object: &Value) {
    let metadata = &object["metadata"];
    let uid = metadata["uid"].as_str().unwrap_or_default();
    assert!(is_uid(uid), "uid {uid:?}");
    rv_number(&metadata["resourceVersion"]);
    let created = metadata["creationTimestamp"].as_str().unwrap_or_default();
    assert!(is_timestamp(created), "creationTimestamp {created:?}");
}

#[tokio::test]
async fn server_sets_uid_resource_version_and_creation_timestamp() {
    let cluster = cluster().await;
    let namespace = cluster.namespace("meta").await;
    let mut last_rv = 0;
    let mut uids = Vec::new();
    for name in ["c1", "c2", "c3"] {
        let created = create_config_map(
            &cluster,
            &namespace,
            &config_map(name, json!({"a": "b"}), json!({"k": "v"})),
        )
        .await;
        assert_server_metadata(&created);
        let rv = rv_number(&created["metadata"]["resourceVersion"]);
        assert!(rv > last_rv, "resourceVersion grows: {rv} after {last_rv}");
        last_rv = rv;
        uids.push(created["metadata"]["uid"].clone());
        // ConfigMaps have no spec, so no generation.
        assert!(created["metadata"].get("generation").is_none());
    }
    uids.dedup();
    assert_eq!(uids.len(), 3);

    let recorded = sample("cm-create.body", &[("resp-demo", &namespace)]);
    let first = cluster
        .raw(
            "GET",
            &format!("/api/v1/namespaces/{namespace}/configmaps/c1"),
            None,
        )
        .await
        .json();
    assert_eq!(without(&first, VOLATILE), without(&recorded, VOLATILE));

    // Client-supplied system fields are replaced.
    let mut forged = config_map("c4", json!({}), json!({}));
    forged["metadata"]["uid"] = json!("00000000-0000-0000-0000-000000000000");
    forged["metadata"]["creationTimestamp"] = json!("2001-01-01T00:00:00Z");
    let created = create_config_map(&cluster, &namespace, &forged).await;
    assert_ne!(
        created["metadata"]["uid"],
        "00000000-0000-0000-0000-000000000000"
    );
    assert_ne!(
        created["metadata"]["creationTimestamp"],
        "2001-01-01T00:00:00Z"
    );
    assert_server_metadata(&created);
}

#[tokio::test]
async fn namespace_create_matches_the_real_server() {
    let cluster = cluster().await;
    let name = unique("ns-shape");
    let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    let created = cluster.raw("POST", "/api/v1/namespaces", Some(&body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    cluster.remember_namespace(&name);
    let created = created.json();
    assert_server_metadata(&created);
    let recorded = sample("ns-create.body", &[("resp-demo", &name)]);
    assert_eq!(without(&created, VOLATILE), without(&recorded, VOLATILE));
}

#[tokio::test]
async fn generate_name_appends_five_characters() {
    let cluster = cluster().await;
    let namespace = cluster.namespace("gen").await;
    let body = json!({"metadata": {"generateName": "gen-"}, "data": {"k": "v"}});
    let created = create_config_map(&cluster, &namespace, &body).await;
    let name = created["metadata"]["name"].as_str().unwrap();
    let tail = name.strip_prefix("gen-").unwrap();
    assert_eq!(tail.len(), 5, "name {name}");
    assert!(
        tail.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
    assert_eq!(created["metadata"]["generateName"], "gen-");
}

#[tokio::test]
async fn generation_counts_spec_changes() {
    let cluster = cluster().await;
    let namespace = cluster.namespace("generation").await;
    let deployment = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d1"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "d1"}},
            "template": {
                "metadata": {"labels": {"app": "d1"}},
                "spec": {"containers": [{"name": "c", "image": "registry.example/app:1"}]},
            },
        },
    });
    let path = format!("/apis/apps/v1/namespaces/{namespace}/deployments");
    let created = cluster.raw("POST", &path, Some(&deployment)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["metadata"]["generation"], 1);

    let merge = "application/merge-patch+json";
    let object = format!("{path}/d1");
    let labelled = cluster
        .raw_typed(
            "PATCH",
            &object,
            &json!({"metadata": {"labels": {"x": "y"}}}),
            merge,
        )
        .await
        .json();
    assert_eq!(
        labelled["metadata"]["generation"], 1,
        "metadata changes keep generation"
    );
    let scaled = cluster
        .raw_typed("PATCH", &object, &json!({"spec": {"replicas": 3}}), merge)
        .await
        .json();
    assert_eq!(scaled["metadata"]["generation"], 2);
    assert_eq!(scaled["spec"]["replicas"], 3);
}

#[tokio::test]
async fn merge_patch_matches_the_real_server() {
    let cluster = cluster().await;
    let namespace = cluster.namespace("merge").await;
    let created = create_config_map(
        &cluster,
        &namespace,
        &config_map("c1", json!({"a": "b"}), json!({"k": "v"})),
    )
    .await;
    let path = format!("/api/v1/namespaces/{namespace}/configmaps/c1");
    let patch = json!({"metadata": {"labels": {"x": "y"}}, "data": {"k2": "v2"}});
    let patched = cluster
        .raw_typed("PATCH", &path, &patch, "application/merge-patch+json")
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let patched = patched.json();
    let recorded = sample("cm-merge-patch.body", &[("resp-demo", &namespace)]);
    assert_eq!(without(&patched, VOLATILE), without(&recorded, VOLATILE));
    assert_eq!(patched["metadata"]["uid"], created["metadata"]["uid"]);
    assert_eq!(
        patched["metadata"]["creationTimestamp"],
        created["metadata"]["creationTimestamp"]
    );
    assert!(
        rv_number(&patched["metadata"]["resourceVersion"])
            > rv_number(&created["metadata"]["resourceVersion"])
    );

    // null removes a key.
    let removal = json!({"data": {"k": null}});
    let removed = cluster
        .raw_typed("PATCH", &path, &removal, "application/merge-patch+json")
        .await
        .json();
    assert_eq!(removed["data"], json!({"k2": "v2"}));

    // A patch that changes nothing writes nothing.
    let same = cluster
        .raw_typed("PATCH", &path, &removal, "application/merge-patch+json")
        .await
        .json();
    assert_eq!(
        same["metadata"]["resourceVersion"],
        removed["metadata"]["resourceVersion"]
    );

    // Through kube-rs.
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), &namespace);
    let typed = api
        .patch(
            "c1",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"k3": "v3"}})),
        )
        .await
        .unwrap();
    assert_eq!(
        typed.data.unwrap().get("k3").map(String::as_str),
        Some("v3")
    );

    let missing = cluster
        .raw_typed(
            "PATCH",
            &format!("/api/v1/namespaces/{namespace}/configmaps/nope"),
            &patch,
            "application/merge-patch+json",
        )
        .await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert_eq!(missing.json(), sample("cm-get-missing.body", &[]));
}

#[tokio::test]
async fn json_patch() {
    let cluster = cluster().await;
    let namespace = cluster.namespace("jsonpatch").await;
    create_config_map(
        &cluster,
        &namespace,
        &config_map("c1", json!({"a": "b", "keep": "me"}), json!({"k": "v"})),
    )
    .await;
    let path = format!("/api/v1/namespaces/{namespace}/configmaps/c1");
    let patch = json!([
        {"op": "replace", "path": "/data/k", "value": "v2"},
        {"op": "add", "path": "/data/n", "value": "new"},
        {"op": "remove", "path": "/metadata/labels/a"},
        {"op": "test", "path": "/metadata/labels/keep", "value": "me"},
    ]);
    let patched = cluster
        .raw_typed("PATCH", &path, &patch, "application/json-patch+json")
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let patched = patched.json();
    assert_eq!(patched["data"], json!({"k": "v2", "n": "new"}));
    assert_eq!(patched["metadata"]["labels"], json!({"keep": "me"}));

    // A failing test op leaves the object alone.
    let failing = json!([
        {"op": "test", "path": "/data/k", "value": "other"},
        {"op": "replace", "path": "/data/k", "value": "v3"},
    ]);
    let refused = cluster
        .raw_typed("PATCH", &path, &failing, "application/json-patch+json")
        .await;
    assert!(
        refused.status >= 400,
        "a failing test op is an error: {}",
        refused.status
    );
    let current = cluster.raw("GET", &path, None).await.json();
    assert_eq!(current["data"]["k"], "v2");
    assert!(current["data"].get("copied").is_none());
}

#[tokio::test]
async fn update_replaces_the_object() {
    let cluster = cluster().await;
    let namespace = cluster.namespace("update").await;
    let created = create_config_map(
        &cluster,
        &namespace,
        &config_map("c1", json!({"a": "b"}), json!({"k": "v"})),
    )
    .await;
    let path = format!("/api/v1/namespaces/{namespace}/configmaps/c1");
    let mut replacement = created.clone();
    replacement["data"] = json!({"other": "x"});
    let replaced = cluster.raw("PUT", &path, Some(&replacement)).await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    let replaced = replaced.json();
    assert_eq!(replaced["data"], json!({"other": "x"}));
    assert_eq!(replaced["metadata"]["uid"], created["metadata"]["uid"]);

    // ConfigMaps accept an update without resourceVersion (last write wins).
    let unconditional = config_map("c1", json!({}), json!({"last": "write"}));
    let got = cluster.raw("PUT", &path, Some(&unconditional)).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.json()["data"], json!({"last": "write"}));

    // PUT does not create.
    let absent = config_map("c9", json!({}), json!({}));
    let got = cluster
        .raw(
            "PUT",
            &format!("/api/v1/namespaces/{namespace}/configmaps/c9"),
            Some(&absent),
        )
        .await;
    assert_eq!(got.status, 404, "{}", got.body);
}

#[tokio::test]
async fn delete_answers_with_a_success_status() {
    let cluster = cluster().await;
    let namespace = cluster.namespace("delete").await;
    let created = create_config_map(
        &cluster,
        &namespace,
        &config_map("c1", json!({}), json!({"k": "v"})),
    )
    .await;
    let path = format!("/api/v1/namespaces/{namespace}/configmaps/c1");
    let deleted = cluster.raw("DELETE", &path, None).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(
        deleted.json(),
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {
                "name": "c1",
                "kind": "configmaps",
                "uid": created["metadata"]["uid"],
            },
        })
    );
    let gone = cluster.raw("GET", &path, None).await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    let again = cluster.raw("DELETE", &path, None).await;
    assert_eq!(again.status, 404, "{}", again.body);
    assert_eq!(
        again.json(),
        sample("cm-get-missing.body", &[("nope", "c1")])
    );

    // Through kube-rs, and a delete guarded by a wrong uid.
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), &namespace);
    let typed: ConfigMap = serde_json::from_value(config_map("c2", json!({}), json!({}))).unwrap();
    api.create(&PostParams::default(), &typed).await.unwrap();
    let guarded = DeleteParams::default().preconditions(kube::api::Preconditions {
        uid: Some("00000000-0000-0000-0000-000000000000".into()),
        resource_version: None,
    });
    match api.delete("c2", &guarded).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 409, "{status:?}"),
        other => panic!("a wrong uid precondition is a conflict, got {other:?}"),
    }
    let deleted = api.delete("c2", &DeleteParams::default()).await.unwrap();
    assert!(
        deleted.is_right(),
        "ConfigMaps answer a delete with a Status"
    );
    assert!(api.get_opt("c2").await.unwrap().is_none());
}

#[tokio::test]
async fn dry_run_writes_nothing() {
    let cluster = cluster().await;
    let namespace = cluster.namespace("dryrun").await;
    let base = format!("/api/v1/namespaces/{namespace}/configmaps");

    let body = config_map("c1", json!({"a": "b"}), json!({"k": "v"}));
    let dry = cluster
        .raw("POST", &format!("{base}?dryRun=All"), Some(&body))
        .await;
    assert_eq!(dry.status, 201, "{}", dry.body);
    let dry = dry.json();
    assert_eq!(dry["data"], json!({"k": "v"}));
    let uid = dry["metadata"]["uid"].as_str().unwrap_or_default();
    assert!(is_uid(uid), "a dry-run create shows a uid: {dry}");
    assert!(
        dry["metadata"].get("resourceVersion").is_none(),
        "nothing was stored, so no resourceVersion: {dry}"
    );
    let absent = cluster.raw("GET", &format!("{base}/c1"), None).await;
    assert_eq!(absent.status, 404, "{}", absent.body);

    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), &namespace);
    let typed: ConfigMap = serde_json::from_value(body.clone()).unwrap();
    let dry_params = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let dry_typed = api.create(&dry_params, &typed).await.unwrap();
    assert!(dry_typed.metadata.resource_version.is_none());
    assert!(api.get_opt("c1").await.unwrap().is_none());

    create_config_map(&cluster, &namespace, &body).await;
    let patched = api
        .patch(
            "c1",
            &PatchParams::default().dry_run(),
            &Patch::Merge(json!({"data": {"k": "dry"}})),
        )
        .await
        .unwrap();
    assert_eq!(
        patched.data.unwrap().get("k").map(String::as_str),
        Some("dry")
    );
    let stored = api.get("c1").await.unwrap();
    assert_eq!(stored.data.unwrap().get("k").map(String::as_str), Some("v"));

    api.delete("c1", &DeleteParams::default().dry_run())
        .await
        .unwrap();
    assert!(api.get_opt("c1").await.unwrap().is_some());

    // A dry-run duplicate still reports AlreadyExists.
    let duplicate = cluster
        .raw("POST", &format!("{base}?dryRun=All"), Some(&body))
        .await;
    assert_eq!(duplicate.status, 409, "{}", duplicate.body);
    assert_eq!(duplicate.json(), sample("cm-create-duplicate.body", &[]));

    // A dry-run NodePort Service does not keep its port.
    let node_port = unused_node_port(&cluster).await;
    let service = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s1"},
        "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": node_port}]},
    });
    let services = format!("/api/v1/namespaces/{namespace}/services");
    let dry = cluster
        .raw("POST", &format!("{services}?dryRun=All"), Some(&service))
        .await;
    assert_eq!(dry.status, 201, "{}", dry.body);
    let mut real = service.clone();
    real["metadata"]["name"] = json!("s2");
    let created = cluster.raw("POST", &services, Some(&real)).await;
    assert_eq!(created.status, 201, "{}", created.body);
}
