use super::*;
use crate::status::ErrorBody;
use crate::watch::EventType;
use std::time::Duration;

fn state() -> State {
    State::new(
        Profile::V1_33,
        30000..=32767,
        "t".to_owned(),
        "CA".to_owned(),
        Snapshot::default(),
        None,
    )
}

fn def(state: &State, group: &str, version: &str, plural: &str) -> Arc<ResourceDef> {
    state.catalog().find(group, version, plural).unwrap()
}

fn object(reply: Reply) -> Value {
    match reply {
        Reply::Object(_, json) => serde_json::from_slice(&json).unwrap(),
        Reply::Json(_, body) => serde_json::from_slice(&body).unwrap(),
    }
}

fn code(reply: &Reply) -> u16 {
    match reply {
        Reply::Object(code, _) | Reply::Json(code, _) => *code,
    }
}

fn status_of(error: &ApiError) -> (u16, Value) {
    match &error.body {
        ErrorBody::Status(body) => (error.code, body.clone()),
        ErrorBody::Text(text) => (error.code, Value::from(*text)),
    }
}

/// Drops what differs run to run (uid, times, resourceVersion, managedFields).
fn normalise(mut value: Value) -> Value {
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in [
            "uid",
            "creationTimestamp",
            "resourceVersion",
            "managedFields",
        ] {
            meta.remove(field);
        }
    }
    if let Some(map) = value.as_object_mut() {
        map.remove("kind");
        map.remove("apiVersion");
    }
    value
}

fn sample(name: &str) -> Value {
    godwit_fixtures::read_json(&format!("apiserver/{name}"))
}

fn with_namespace(state: &mut State, name: &str) {
    let namespaces = def(state, "", "v1", "namespaces");
    state
        .create(
            &namespaces,
            None,
            json!({"metadata": {"name": name}}),
            "test",
            false,
        )
        .unwrap();
}

#[test]
fn a_fresh_cluster_has_the_seeded_objects() {
    let state = state();
    let namespaces = def(&state, "", "v1", "namespaces");
    let list: Value = serde_json::from_slice(
        &state
            .list(&namespaces, None, &ListParams::default())
            .unwrap(),
    )
    .unwrap();
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["default", "kube-node-lease", "kube-public", "kube-system"]
    );
    let services = def(&state, "", "v1", "services");
    let kubernetes = object(state.get(&services, Some("default"), "kubernetes").unwrap());
    assert_eq!(kubernetes["spec"]["clusterIP"], "10.96.0.1");
    let nodes = def(&state, "", "v1", "nodes");
    let node = object(state.get(&nodes, None, "kubesim-node").unwrap());
    assert_eq!(node["status"]["conditions"][0]["type"], "Ready");
}

#[test]
fn namespace_and_config_map_creates_look_like_the_samples() {
    let mut state = state();
    let namespaces = def(&state, "", "v1", "namespaces");
    let ns = object(
        state
            .create(
                &namespaces,
                None,
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "resp-demo"}}),
                "test",
                false,
            )
            .unwrap(),
    );
    assert_eq!(normalise(ns), normalise(sample("ns-create.body")));
    let configmaps = def(&state, "", "v1", "configmaps");
    let body = json!({"metadata": {"name": "c1", "labels": {"a": "b"}}, "data": {"k": "v"}});
    let reply = state
        .create(&configmaps, Some("resp-demo"), body.clone(), "test", false)
        .unwrap();
    assert_eq!(code(&reply), 201);
    assert_eq!(
        normalise(object(reply)),
        normalise(sample("cm-create.body"))
    );
    let duplicate = state
        .create(&configmaps, Some("resp-demo"), body.clone(), "test", false)
        .unwrap_err();
    assert_eq!(
        status_of(&duplicate),
        (409, sample("cm-create-duplicate.body"))
    );
    let missing = state
        .create(&configmaps, Some("no-such-ns"), body, "test", false)
        .unwrap_err();
    assert_eq!(
        status_of(&missing),
        (404, sample("cm-create-missing-namespace.body"))
    );
    let gone = state
        .get(&configmaps, Some("resp-demo"), "nope")
        .unwrap_err();
    assert_eq!(status_of(&gone), (404, sample("cm-get-missing.body")));
}

#[test]
fn server_sets_metadata_and_resource_versions_grow() {
    let mut state = state();
    let deployments = def(&state, "apps", "v1", "deployments");
    let before = state.resource_version();
    let created = object(state.create(&deployments, Some("default"), json!({"metadata": {"generateName": "web-", "uid": "mine", "resourceVersion": "5"}, "spec": {"replicas": 1}, "status": {"replicas": 9}}), "test", false).unwrap());
    let name = created["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("web-") && name.len() == 9, "{name}");
    assert_ne!(created["metadata"]["uid"], "mine");
    assert_eq!(
        created["metadata"]["resourceVersion"],
        (before + 1).to_string()
    );
    assert_eq!(created["metadata"]["generation"], 1);
    assert_eq!(created["metadata"]["namespace"], "default");
    assert_eq!(created["status"], json!({}));
    let required = state
        .create(
            &deployments,
            Some("default"),
            json!({"metadata": {}}),
            "test",
            false,
        )
        .unwrap_err();
    assert_eq!(required.code, 422);
    let wrong_kind = state
        .create(
            &deployments,
            Some("default"),
            json!({"kind": "Pod", "metadata": {"name": "a"}}),
            "test",
            false,
        )
        .unwrap_err();
    assert_eq!(wrong_kind.code, 400);
    let wrong_ns = state
        .create(
            &deployments,
            Some("default"),
            json!({"metadata": {"name": "a", "namespace": "x"}}),
            "test",
            false,
        )
        .unwrap_err();
    assert_eq!(wrong_ns.code, 400);
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}

fn list(
    state: &State,
    def: &ResourceDef,
    ns: Option<&str>,
    labels: &str,
    limit: Option<usize>,
    token: Option<&str>,
) -> Value {
    let params = ListParams {
        labels: LabelSelector::parse(labels).unwrap(),
        fields: FieldSelector::default(),
        limit,
        continue_token: token.map(str::to_owned),
    };
    serde_json::from_slice(&state.list(def, ns, &params).unwrap()).unwrap()
}

#[test]
fn lists_page_with_continue_tokens() {
    let mut state = state();
    with_namespace(&mut state, "resp-demo");
    let configmaps = def(&state, "", "v1", "configmaps");
    for (name, labels) in [
        ("c1", json!({"a": "b"})),
        ("c2", json!({})),
        ("c3", json!({"a": "b"})),
        ("c4", json!({})),
    ] {
        state
            .create(
                &configmaps,
                Some("resp-demo"),
                json!({"metadata": {"name": name, "labels": labels}}),
                "test",
                false,
            )
            .unwrap();
    }
    let rv = state.resource_version().to_string();
    let first = list(&state, &configmaps, Some("resp-demo"), "", Some(2), None);
    assert_eq!(names(&first), ["c1", "c2"]);
    // The namespace also holds the controller manager's kube-root-ca.crt.
    assert_eq!(first["metadata"]["remainingItemCount"], 3);
    assert_eq!(first["metadata"]["resourceVersion"], rv);
    assert_eq!(first["kind"], "ConfigMapList");
    // Built-in list items carry no kind, like the recorded list.
    assert!(first["items"][0].get("kind").is_none());
    let token = first["metadata"]["continue"].as_str().unwrap().to_owned();
    assert_eq!(
        Continue::decode(&token).unwrap(),
        Continue::after(rv.parse().unwrap(), "c2")
    );
    let second = list(
        &state,
        &configmaps,
        Some("resp-demo"),
        "",
        Some(3),
        Some(&token),
    );
    assert_eq!(names(&second), ["c3", "c4", "kube-root-ca.crt"]);
    assert!(second["metadata"].get("continue").is_none());
    assert_eq!(second["metadata"]["resourceVersion"], rv);
    let labelled = list(&state, &configmaps, Some("resp-demo"), "a=b", Some(1), None);
    assert_eq!(names(&labelled), ["c1"]);
    assert!(labelled["metadata"].get("remainingItemCount").is_none());
    let everywhere = list(&state, &configmaps, None, "a=b", None, None);
    assert_eq!(names(&everywhere), ["c1", "c3"]);
    let bad = state.list(
        &configmaps,
        None,
        &ListParams {
            fields: FieldSelector::parse("spec.x=1").unwrap(),
            ..ListParams::default()
        },
    );
    assert_eq!(bad.unwrap_err().code, 400);
}

#[test]
fn replace_and_patch_follow_resource_versions() {
    let mut state = state();
    with_namespace(&mut state, "resp-demo");
    let configmaps = def(&state, "", "v1", "configmaps");
    let created = object(
        state
            .create(
                &configmaps,
                Some("resp-demo"),
                json!({"metadata": {"name": "c1", "labels": {"a": "b"}}, "data": {"k": "v"}}),
                "test",
                false,
            )
            .unwrap(),
    );
    let stale = json!({"metadata": {"name": "c1", "resourceVersion": "1"}, "data": {}});
    let error = state
        .update(
            &configmaps,
            Some("resp-demo"),
            "c1",
            stale,
            None,
            "test",
            false,
        )
        .unwrap_err();
    assert_eq!(status_of(&error), (409, sample("cm-replace-stale.body")));
    let patched = object(
        state
            .patch(
                &configmaps,
                Some("resp-demo"),
                "c1",
                PatchKind::Merge,
                json!({"metadata": {"labels": {"x": "y"}}, "data": {"k2": "v2"}}),
                None,
                "test",
                false,
            )
            .unwrap(),
    );
    assert_eq!(
        normalise(patched.clone()),
        normalise(sample("cm-merge-patch.body"))
    );
    assert_eq!(patched["metadata"]["uid"], created["metadata"]["uid"]);
    // A patch that changes nothing keeps the resourceVersion.
    let again = object(
        state
            .patch(
                &configmaps,
                Some("resp-demo"),
                "c1",
                PatchKind::Merge,
                json!({"data": {"k2": "v2"}}),
                None,
                "test",
                false,
            )
            .unwrap(),
    );
    assert_eq!(
        again["metadata"]["resourceVersion"],
        patched["metadata"]["resourceVersion"]
    );
    // A replace carrying the current version goes through; one without a version too.
    let current = patched["metadata"]["resourceVersion"].clone();
    let replaced = object(
        state
            .update(
                &configmaps,
                Some("resp-demo"),
                "c1",
                json!({"metadata": {"name": "c1", "resourceVersion": current}, "data": {"z": "1"}}),
                None,
                "test",
                false,
            )
            .unwrap(),
    );
    assert_eq!(replaced["data"], json!({"z": "1"}));
    let unconditional = object(
        state
            .update(
                &configmaps,
                Some("resp-demo"),
                "c1",
                json!({"metadata": {"name": "c1"}, "data": {}}),
                None,
                "test",
                false,
            )
            .unwrap(),
    );
    assert_eq!(unconditional["data"], json!({}));
    let json_patch = object(
        state
            .patch(
                &configmaps,
                Some("resp-demo"),
                "c1",
                PatchKind::Json,
                json!([{"op": "add", "path": "/data/j", "value": "p"}]),
                None,
                "test",
                false,
            )
            .unwrap(),
    );
    assert_eq!(json_patch["data"], json!({"j": "p"}));
    let failed = state
        .patch(
            &configmaps,
            Some("resp-demo"),
            "c1",
            PatchKind::Json,
            json!([{"op": "test", "path": "/data/j", "value": "q"}]),
            None,
            "test",
            false,
        )
        .unwrap_err();
    assert_eq!(failed.code, 422);
    let renamed = state
        .update(
            &configmaps,
            Some("resp-demo"),
            "c1",
            json!({"metadata": {"name": "other"}}),
            None,
            "test",
            false,
        )
        .unwrap_err();
    assert_eq!(renamed.code, 400);
    let missing = state
        .patch(
            &configmaps,
            Some("resp-demo"),
            "nope",
            PatchKind::Merge,
            json!({}),
            None,
            "test",
            false,
        )
        .unwrap_err();
    assert_eq!(missing.code, 404);
}

#[test]
fn generation_and_status_subresource_split_spec_from_status() {
    let mut state = state();
    let deployments = def(&state, "apps", "v1", "deployments");
    state
        .create(
            &deployments,
            Some("default"),
            json!({"metadata": {"name": "d"}, "spec": {"replicas": 1}}),
            "test",
            false,
        )
        .unwrap();
    let labelled = object(
        state
            .patch(
                &deployments,
                Some("default"),
                "d",
                PatchKind::Merge,
                json!({"metadata": {"labels": {"a": "b"}}, "status": {"replicas": 5}}),
                None,
                "test",
                false,
            )
            .unwrap(),
    );
    assert_eq!(labelled["metadata"]["generation"], 1);
    assert_eq!(labelled["status"], json!({}));
    let scaled = object(
        state
            .patch(
                &deployments,
                Some("default"),
                "d",
                PatchKind::Merge,
                json!({"spec": {"replicas": 3}}),
                None,
                "test",
                false,
            )
            .unwrap(),
    );
    assert_eq!(scaled["metadata"]["generation"], 2);
    let status = object(
        state
            .patch(
                &deployments,
                Some("default"),
                "d",
                PatchKind::Merge,
                json!({"spec": {"replicas": 9}, "status": {"replicas": 3}}),
                Some("status"),
                "test",
                false,
            )
            .unwrap(),
    );
    assert_eq!(status["status"], json!({"replicas": 3}));
    assert_eq!(status["spec"]["replicas"], 3);
    assert_eq!(status["metadata"]["generation"], 2);
}

fn widgets_crd(state: &mut State) {
    let crds = def(
        state,
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
    );
    let mut crd = sample("crd-create.body");
    let map = crd.as_object_mut().unwrap();
    map.remove("status");
    map["metadata"] = json!({"name": "widgets.resp.example.io"});
    let created = object(state.create(&crds, None, crd, "test", false).unwrap());
    assert_eq!(created["status"], sample("crd-create.body")["status"]);
}

#[test]
fn crds_serve_their_versions_and_convert_by_api_version_only() {
    let mut state = state();
    with_namespace(&mut state, "resp-demo");
    assert!(
        state
            .catalog()
            .find("resp.example.io", "v1", "widgets")
            .is_none()
    );
    widgets_crd(&mut state);
    let crds = def(
        &state,
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
    );
    let established = object(state.get(&crds, None, "widgets.resp.example.io").unwrap());
    let mut status = established["status"].clone();
    for condition in status["conditions"].as_array_mut().unwrap() {
        condition["lastTransitionTime"] = json!("2026-11-21T05:06:54Z");
    }
    assert_eq!(status, sample("crd-get-established.body")["status"]);
    assert_eq!(established["metadata"]["generation"], 1);

    let v2 = def(&state, "resp.example.io", "v2beta1", "widgets");
    let v1 = def(&state, "resp.example.io", "v1", "widgets");
    assert!(
        state
            .catalog()
            .find("resp.example.io", "v1alpha1", "widgets")
            .is_none()
    );
    let created = state.create(&v2, Some("resp-demo"), json!({"apiVersion": "resp.example.io/v2beta1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3}}), "test", false).unwrap();
    let at_v1 = object(state.get(&v1, Some("resp-demo"), "w1").unwrap());
    assert_eq!(normalise(at_v1), normalise(sample("cr-get-v1.body")));
    assert_eq!(
        normalise(object(created)),
        normalise(sample("cr-create-v2beta1.body"))
    );
    // Custom resource list items keep kind and apiVersion, at the listed version.
    let listed = list(&state, &v2, Some("resp-demo"), "", None, None);
    assert_eq!(listed["items"][0]["apiVersion"], "resp.example.io/v2beta1");
    assert_eq!(listed["kind"], "WidgetList");
    let missing_kind = state
        .create(
            &v1,
            Some("resp-demo"),
            json!({"apiVersion": "resp.example.io/v1", "metadata": {"name": "w2"}}),
            "test",
            false,
        )
        .unwrap_err();
    assert_eq!(missing_kind.code, 400);
    let other_version = state.create(&v1, Some("resp-demo"), json!({"apiVersion": "resp.example.io/v2beta1", "kind": "Widget", "metadata": {"name": "w2"}}), "test", false).unwrap_err();
    assert_eq!(other_version.code, 400);

    // Changing the storage version adds it to storedVersions.
    let mut crd = established.clone();
    crd["spec"]["versions"][0]["storage"] = json!(false);
    crd["spec"]["versions"][1]["storage"] = json!(true);
    crd["spec"]["versions"][2]["served"] = json!(true);
    let updated = object(
        state
            .update(
                &crds,
                None,
                "widgets.resp.example.io",
                crd,
                None,
                "test",
                false,
            )
            .unwrap(),
    );
    assert_eq!(
        updated["status"]["storedVersions"],
        json!(["v1", "v2beta1"])
    );
    assert_eq!(updated["metadata"]["generation"], 2);
    assert_eq!(
        state.catalog().group("resp.example.io").unwrap().versions,
        ["v1", "v2beta1", "v1alpha1"]
    );

    // Deleting the CRD removes its objects and what it served.
    let options = DeleteOptions::default();
    let deleted = state
        .delete(&crds, None, "widgets.resp.example.io", &options)
        .unwrap();
    assert_eq!(code(&deleted), 200);
    assert!(state.catalog().group("resp.example.io").is_none());
    assert!(state.store.keys(&v1.group_resource(), "").is_empty());
}

#[test]
fn crd_with_a_status_subresource_ignores_status_on_create_and_update() {
    let mut state = state();
    with_namespace(&mut state, "resp-demo");
    widgets_crd(&mut state);
    let v1 = def(&state, "resp.example.io", "v1", "widgets");
    let created = object(state.create(&v1, Some("resp-demo"), json!({"apiVersion": "resp.example.io/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1}, "status": {"ok": true}}), "test", false).unwrap());
    assert!(created.get("status").is_none());
    let status = object(
        state
            .patch(
                &v1,
                Some("resp-demo"),
                "w",
                PatchKind::Merge,
                json!({"status": {"ok": true}}),
                Some("status"),
                "test",
                false,
            )
            .unwrap(),
    );
    assert_eq!(status["status"], json!({"ok": true}));
    assert_eq!(status["metadata"]["generation"], 1);
    let spec = object(
        state
            .patch(
                &v1,
                Some("resp-demo"),
                "w",
                PatchKind::Merge,
                json!({"spec": {"size": 2}}),
                None,
                "test",
                false,
            )
            .unwrap(),
    );
    assert_eq!(spec["metadata"]["generation"], 2);
    assert_eq!(spec["status"], json!({"ok": true}));
}

#[test]
fn deletes_answer_like_the_api_server_and_namespaces_take_their_objects() {
    let mut state = state();
    with_namespace(&mut state, "team");
    let configmaps = def(&state, "", "v1", "configmaps");
    let pods = def(&state, "", "v1", "pods");
    let cm = object(
        state
            .create(
                &configmaps,
                Some("team"),
                json!({"metadata": {"name": "c"}}),
                "test",
                false,
            )
            .unwrap(),
    );
    state
        .create(
            &pods,
            Some("team"),
            json!({"metadata": {"name": "p"}, "spec": {}}),
            "test",
            false,
        )
        .unwrap();
    let options = DeleteOptions::default();
    let status = object(
        state
            .delete(&configmaps, Some("team"), "c", &options)
            .unwrap(),
    );
    assert_eq!(
        status,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "details": {"name": "c", "kind": "configmaps", "uid": cm["metadata"]["uid"]}})
    );
    let pod = object(
        state
            .delete(
                &pods,
                Some("team"),
                "p",
                &DeleteOptions {
                    dry_run: true,
                    ..options.clone()
                },
            )
            .unwrap(),
    );
    assert_eq!(pod["metadata"]["name"], "p");
    assert!(state.get(&pods, Some("team"), "p").is_ok());
    let precondition = state
        .delete(
            &pods,
            Some("team"),
            "p",
            &DeleteOptions {
                uid: Some("x".into()),
                ..options.clone()
            },
        )
        .unwrap_err();
    assert_eq!(precondition.code, 409);
    let namespaces = def(&state, "", "v1", "namespaces");
    let ns = object(state.delete(&namespaces, None, "team", &options).unwrap());
    assert_eq!(ns["status"]["phase"], "Terminating");
    assert!(state.get(&pods, Some("team"), "p").is_err());
    assert!(state.get(&namespaces, None, "team").is_err());
    assert_eq!(
        state
            .delete(&pods, Some("team"), "p", &options)
            .unwrap_err()
            .code,
        404
    );
}

#[test]
fn finalizers_hold_a_delete_until_they_are_removed() {
    let mut state = state();
    let configmaps = def(&state, "", "v1", "configmaps");
    state
        .create(
            &configmaps,
            Some("default"),
            json!({"metadata": {"name": "f", "finalizers": ["example.io/hold"]}}),
            "test",
            false,
        )
        .unwrap();
    let pending = object(
        state
            .delete(&configmaps, Some("default"), "f", &DeleteOptions::default())
            .unwrap(),
    );
    assert!(pending["metadata"]["deletionTimestamp"].is_string());
    assert!(state.get(&configmaps, Some("default"), "f").is_ok());
    state
        .patch(
            &configmaps,
            Some("default"),
            "f",
            PatchKind::Merge,
            json!({"metadata": {"finalizers": null}}),
            None,
            "test",
            false,
        )
        .unwrap();
    assert_eq!(
        state
            .get(&configmaps, Some("default"), "f")
            .unwrap_err()
            .code,
        404
    );
}

#[test]
fn dry_run_creates_nothing() {
    let mut state = state();
    let configmaps = def(&state, "", "v1", "configmaps");
    let rv = state.resource_version();
    let reply = object(
        state
            .create(
                &configmaps,
                Some("default"),
                json!({"metadata": {"name": "dry"}}),
                "test",
                true,
            )
            .unwrap(),
    );
    assert_eq!(reply["metadata"]["name"], "dry");
    assert!(reply["metadata"].get("resourceVersion").is_none());
    assert_eq!(state.resource_version(), rv);
    assert!(state.get(&configmaps, Some("default"), "dry").is_err());
}

#[test]
fn delete_collection_removes_what_the_selector_picks() {
    let mut state = state();
    let secrets = def(&state, "", "v1", "secrets");
    for (name, app) in [("a", "x"), ("b", "y"), ("c", "x")] {
        state
            .create(
                &secrets,
                Some("default"),
                json!({"metadata": {"name": name, "labels": {"app": app}}}),
                "test",
                false,
            )
            .unwrap();
    }
    let params = ListParams {
        labels: LabelSelector::parse("app=x").unwrap(),
        ..ListParams::default()
    };
    let deleted: Value = serde_json::from_slice(
        &state
            .delete_collection(
                &secrets,
                Some("default"),
                &params,
                &DeleteOptions::default(),
            )
            .unwrap(),
    )
    .unwrap();
    assert_eq!(names(&deleted), ["a", "c"]);
    assert_eq!(
        names(&list(&state, &secrets, Some("default"), "", None, None)),
        ["b"]
    );
}

#[test]
fn services_release_node_ports_on_delete() {
    let mut state = state();
    let services = def(&state, "", "v1", "services");
    let body = json!({"metadata": {"name": "s"}, "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}});
    let created = object(
        state
            .create(&services, Some("default"), body.clone(), "test", false)
            .unwrap(),
    );
    assert_eq!(created["status"], json!({"loadBalancer": {}}));
    let clash = json!({"metadata": {"name": "t"}, "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}});
    assert_eq!(
        state
            .create(&services, Some("default"), clash.clone(), "test", false)
            .unwrap_err()
            .code,
        422
    );
    let deleted = object(
        state
            .delete(&services, Some("default"), "s", &DeleteOptions::default())
            .unwrap(),
    );
    assert_eq!(deleted["kind"], Value::Null);
    assert_eq!(deleted["metadata"]["name"], "s");
    state
        .create(&services, Some("default"), clash, "test", false)
        .unwrap();
}

#[test]
fn watches_start_from_a_version_or_from_the_current_state() {
    let mut state = state();
    let configmaps = def(&state, "", "v1", "configmaps");
    state
        .create(
            &configmaps,
            Some("default"),
            json!({"metadata": {"name": "a"}}),
            "test",
            false,
        )
        .unwrap();
    let rv = state.resource_version();
    state
        .create(
            &configmaps,
            Some("default"),
            json!({"metadata": {"name": "b"}}),
            "test",
            false,
        )
        .unwrap();
    let spec = WatchSpec {
        def: Arc::clone(&configmaps),
        namespace: Some("default".to_owned()),
        labels: LabelSelector::default(),
        fields: FieldSelector::default(),
        bookmarks: true,
        timeout: Duration::from_secs(1),
    };
    let kinds = |lines: &[Vec<u8>]| -> Vec<(String, String)> {
        lines
            .iter()
            .map(|l| {
                let v: Value = serde_json::from_slice(l).unwrap();
                (
                    v["type"].as_str().unwrap().to_owned(),
                    v["object"]["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
            .collect()
    };
    let lines = state.start_watch(&spec, None, None).unwrap().lines;
    assert_eq!(
        kinds(&lines),
        [
            ("ADDED".to_owned(), "a".to_owned()),
            ("ADDED".to_owned(), "b".to_owned()),
            ("ADDED".to_owned(), "kube-root-ca.crt".to_owned())
        ]
    );
    let start = state
        .start_watch(&spec, Some(&rv.to_string()), None)
        .unwrap();
    let (lines, current, mut live) = (start.lines, start.rv, start.events);
    assert_eq!(kinds(&lines), [("ADDED".to_owned(), "b".to_owned())]);
    assert_eq!(current, state.resource_version());
    let lines = state
        .start_watch(&spec, Some(&rv.to_string()), Some(true))
        .unwrap()
        .lines;
    assert_eq!(kinds(&lines).last().unwrap().0, "BOOKMARK");
    assert!(state.start_watch(&spec, Some("1"), None).is_ok());
    state
        .delete(&configmaps, Some("default"), "a", &DeleteOptions::default())
        .unwrap();
    let event = live.try_recv().unwrap();
    assert_eq!(event.event_type, EventType::Deleted);
    assert!(event.rv > current);
}

#[test]
fn persisted_state_comes_back_with_its_counter() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, snapshot) = Journal::open(dir.path()).unwrap();
    let mut first = State::new(
        Profile::V1_33,
        30000..=32767,
        "t".into(),
        "CA".into(),
        snapshot,
        Some(journal),
    );
    widgets_crd(&mut first);
    let services = def(&first, "", "v1", "services");
    first.create(&services, Some("default"), json!({"metadata": {"name": "s"}, "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}}), "test", false).unwrap();
    let configmaps = def(&first, "", "v1", "configmaps");
    first
        .create(
            &configmaps,
            Some("default"),
            json!({"metadata": {"name": "gone"}}),
            "test",
            false,
        )
        .unwrap();
    first
        .delete(
            &configmaps,
            Some("default"),
            "gone",
            &DeleteOptions::default(),
        )
        .unwrap();
    let rv = first.resource_version();
    first.close_journal();

    let (journal, snapshot) = Journal::open(dir.path()).unwrap();
    let mut second = State::new(
        Profile::V1_33,
        30000..=32767,
        "t".into(),
        "CA".into(),
        snapshot,
        Some(journal),
    );
    assert_eq!(second.resource_version(), rv);
    assert!(
        second
            .catalog()
            .find("resp.example.io", "v1", "widgets")
            .is_some()
    );
    let clash = json!({"metadata": {"name": "t"}, "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}});
    assert_eq!(
        second
            .create(&services, Some("default"), clash, "test", false)
            .unwrap_err()
            .code,
        422
    );
    let next = object(
        second
            .create(
                &configmaps,
                Some("default"),
                json!({"metadata": {"name": "new"}}),
                "test",
                false,
            )
            .unwrap(),
    );
    assert_eq!(next["metadata"]["resourceVersion"], (rv + 1).to_string());
    second.close_journal();
}

/// managedFields entries without their times.
fn managed(object: &Value) -> Value {
    let mut entries = object["metadata"]["managedFields"].clone();
    for entry in entries.as_array_mut().into_iter().flatten() {
        assert!(entry["time"].is_string());
        entry.as_object_mut().unwrap().remove("time");
    }
    entries
}

fn check_managed(ours: &Value, sample_name: &str) {
    assert_eq!(
        managed(ours),
        managed(&sample(sample_name)),
        "{sample_name}"
    );
}

#[test]
fn managed_fields_match_the_recorded_ones() {
    let mut state = state();
    let namespaces = def(&state, "", "v1", "namespaces");
    let ns = object(
        state
            .create(
                &namespaces,
                None,
                json!({"metadata": {"name": "resp-demo"}}),
                "curl",
                false,
            )
            .unwrap(),
    );
    check_managed(&ns, "ns-create.body");
    let configmaps = def(&state, "", "v1", "configmaps");
    let cm = object(
        state
            .create(
                &configmaps,
                Some("resp-demo"),
                json!({"metadata": {"name": "c1", "labels": {"a": "b"}}, "data": {"k": "v"}}),
                "curl",
                false,
            )
            .unwrap(),
    );
    check_managed(&cm, "cm-create.body");
    let patched = object(
        state
            .patch(
                &configmaps,
                Some("resp-demo"),
                "c1",
                PatchKind::Merge,
                json!({"metadata": {"labels": {"x": "y"}}, "data": {"k2": "v2"}}),
                None,
                "curl",
                false,
            )
            .unwrap(),
    );
    check_managed(&patched, "cm-merge-patch.body");
    let services = def(&state, "", "v1", "services");
    let node_port = object(state.create(&services, Some("resp-demo"), json!({"metadata": {"name": "s1"}, "spec": {"type": "NodePort", "ports": [{"name": "http", "port": 80, "targetPort": 80, "nodePort": 30080}]}}), "curl", false).unwrap());
    check_managed(&node_port, "svc-create-nodeport.body");
    let headless = object(state.create(&services, Some("resp-demo"), json!({"metadata": {"name": "s4"}, "spec": {"clusterIP": "None", "ports": [{"port": 80, "targetPort": 80}]}}), "curl", false).unwrap());
    check_managed(&headless, "svc-headless.body");
    let crds = def(
        &state,
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
    );
    let mut crd = sample("crd-create.body");
    let map = crd.as_object_mut().unwrap();
    map.remove("status");
    map["metadata"] = json!({"name": "widgets.resp.example.io"});
    let created = object(state.create(&crds, None, crd, "curl", false).unwrap());
    check_managed(&created, "crd-create.body");
    let established = object(state.get(&crds, None, "widgets.resp.example.io").unwrap());
    check_managed(&established, "crd-get-established.body");
    let v2 = def(&state, "resp.example.io", "v2beta1", "widgets");
    let widget = object(state.create(&v2, Some("resp-demo"), json!({"apiVersion": "resp.example.io/v2beta1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3}}), "curl", false).unwrap());
    check_managed(&widget, "cr-create-v2beta1.body");
    let v1 = def(&state, "resp.example.io", "v1", "widgets");
    check_managed(
        &object(state.get(&v1, Some("resp-demo"), "w1").unwrap()),
        "cr-get-v1.body",
    );
}
