use super::*;

fn writer<'a>(manager: &'a str, subresource: Option<&'a str>) -> Writer<'a> {
    Writer {
        manager,
        api_version: "v1",
        subresource,
        now: "2026-11-21T05:06:46Z",
    }
}

/// The fieldsV1 of an object as a whole.
fn check(object: Value, custom: bool, expected: Value) {
    let set = field_set(&object, custom);
    let tree = to_fields_v1(&set);
    assert_eq!(tree, expected, "{object}");
    assert_eq!(from_fields_v1(&tree), set, "round trip of {tree}");
}

#[test]
fn field_sets_follow_the_built_in_shapes() {
    check(
        json!({"kind": "ConfigMap", "metadata": {"name": "c1", "uid": "u", "labels": {"a": "b"}}, "data": {"k": "v"}}),
        false,
        json!({"f:data": {".": {}, "f:k": {}}, "f:metadata": {"f:labels": {".": {}, "f:a": {}}}}),
    );
    check(
        json!({"spec": {"type": "NodePort", "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30080}], "selector": {"app": "x"}}}),
        false,
        json!({"f:spec": {"f:type": {}, "f:selector": {".": {}, "f:app": {}}, "f:ports": {".": {},
            "k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}, "f:protocol": {}, "f:nodePort": {}}}}}),
    );
    check(
        json!({"metadata": {"finalizers": ["a", "b"]}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i", "args": ["x"]}]}},
               "selector": {"matchLabels": {"app": "x"}}}}),
        false,
        json!({"f:metadata": {"f:finalizers": {".": {}, "v:\"a\"": {}, "v:\"b\"": {}}},
               "f:spec": {"f:selector": {"f:matchLabels": {".": {}, "f:app": {}}},
                          "f:template": {"f:spec": {"f:containers": {".": {}, "k:{\"name\":\"c\"}": {".": {}, "f:name": {}, "f:image": {}, "f:args": {}}}}}}}),
    );
    // Custom resources are schemaless: every object is a map.
    check(
        json!({"apiVersion": "x/v1", "kind": "W", "metadata": {"name": "w"}, "spec": {"size": 3, "tags": ["a"], "inner": {"x": 1}}}),
        true,
        json!({"f:spec": {".": {}, "f:size": {}, "f:tags": {}, "f:inner": {".": {}, "f:x": {}}}}),
    );
}

fn fields_of(object: &Value, manager: &str) -> Option<Value> {
    object["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager)
        .map(|e| e["fieldsV1"].clone())
}

#[test]
fn updates_move_changed_fields_to_their_writer() {
    let mut created = json!({"metadata": {"name": "c", "labels": {"a": "b"}}, "data": {"k": "v"}});
    record(None, &mut created, &writer("curl", None), false, None, None);
    assert_eq!(
        created["metadata"]["managedFields"][0]["operation"],
        "Update"
    );
    assert_eq!(
        created["metadata"]["managedFields"][0]["fieldsType"],
        "FieldsV1"
    );

    // Same manager adds fields: its set grows.
    let mut patched = created.clone();
    patched["data"]["k2"] = json!("v2");
    record(
        Some(&created),
        &mut patched,
        &writer("curl", None),
        false,
        None,
        None,
    );
    assert_eq!(
        fields_of(&patched, "curl"),
        Some(
            json!({"f:data": {".": {}, "f:k": {}, "f:k2": {}}, "f:metadata": {"f:labels": {".": {}, "f:a": {}}}})
        )
    );

    // Another manager changes k: k moves to it.
    let mut taken = patched.clone();
    taken["data"]["k"] = json!("changed");
    record(
        Some(&patched),
        &mut taken,
        &writer("kubectl-edit", None),
        false,
        None,
        None,
    );
    assert_eq!(
        fields_of(&taken, "kubectl-edit"),
        Some(json!({"f:data": {"f:k": {}}}))
    );
    assert_eq!(
        fields_of(&taken, "curl"),
        Some(
            json!({"f:data": {".": {}, "f:k2": {}}, "f:metadata": {"f:labels": {".": {}, "f:a": {}}}})
        )
    );

    // Removing a field drops it from everyone; a manager left with nothing disappears.
    let mut removed = taken.clone();
    removed["data"].as_object_mut().unwrap().remove("k");
    record(
        Some(&taken),
        &mut removed,
        &writer("curl", None),
        false,
        None,
        None,
    );
    assert_eq!(fields_of(&removed, "kubectl-edit"), None);

    // A no-op keeps the entry and its time.
    let mut same = removed.clone();
    record(
        Some(&removed),
        &mut same,
        &Writer {
            now: "later",
            ..writer("curl", None)
        },
        false,
        None,
        None,
    );
    assert_eq!(
        same["metadata"]["managedFields"],
        removed["metadata"]["managedFields"]
    );
}

#[test]
fn status_writes_get_their_own_entry() {
    let before = json!({"metadata": {"name": "d"}, "spec": {"replicas": 1}, "status": {}});
    let mut after = before.clone();
    after["status"] = json!({"replicas": 1, "conditions": [{"type": "Ready", "status": "True"}]});
    record(
        Some(&before),
        &mut after,
        &writer("controller", Some("status")),
        false,
        Some("status"),
        None,
    );
    let entry = &after["metadata"]["managedFields"][0];
    assert_eq!(entry["subresource"], "status");
    assert_eq!(
        entry["fieldsV1"],
        json!({"f:status": {"f:replicas": {}, "f:conditions": {".": {},
        "k:{\"type\":\"Ready\"}": {".": {}, "f:type": {}, "f:status": {}}}}})
    );
}

#[test]
fn managers_come_from_the_query_or_the_user_agent() {
    assert_eq!(
        manager_name(Some("kubectl-create"), Some("kubectl/v1.33.1")),
        "kubectl-create"
    );
    assert_eq!(
        manager_name(None, Some("kubectl/v1.33.1 (linux/amd64)")),
        "kubectl"
    );
    assert_eq!(manager_name(Some(""), Some("curl/8.5")), "curl");
    assert_eq!(manager_name(None, None), "unknown");
}
