//! Parsing the plugin ConfigMaps: good, malformed and ambiguous ones.

use serde_json::{Value, json};

use super::*;

fn fixture(name: &str) -> Vec<Value> {
    let all: Value = godwit_fixtures::read_json(&format!("objects/{name}"));
    all.as_array().cloned().unwrap()
}

fn config_map(name: &str, label: &str, data: Value) -> Value {
    json!({"metadata": {"name": name, "namespace": "velero",
        "labels": {PLUGIN_CONFIG_LABEL: "", label: RESTORE_ITEM_ACTION}}, "data": data})
}

#[test]
fn reads_the_three_mappings_and_ignores_other_config_maps() {
    let (configs, problems) = PluginConfigs::from_config_maps(&fixture("configmaps-plugin.json"));
    assert_eq!(problems, []);
    assert_eq!(configs.storage_class.get("gp2"), Some("gp3"));
    assert_eq!(configs.storage_class.get("io2"), Some("io2-fast"));
    assert_eq!(configs.storage_class.get("standard"), None);
    assert_eq!(
        configs.node.get("ip-10-0-1-23.ec2.internal"),
        Some("node-a.target.internal")
    );
    assert_eq!(configs.image_name.rules().len(), 2);
}

#[test]
fn needs_both_labels() {
    let no_plugin_label = json!({"metadata": {"name": "x", "labels": {CHANGE_STORAGE_CLASS: RESTORE_ITEM_ACTION}}, "data": {"a": "b"}});
    let other_kind = config_map("y", CHANGE_STORAGE_CLASS, json!({"a": "b"}));
    let other_kind = {
        let mut cm = other_kind;
        cm["metadata"]["labels"][CHANGE_STORAGE_CLASS] = json!("BackupItemAction");
        cm
    };
    let (configs, problems) = PluginConfigs::from_config_maps(&[no_plugin_label, other_kind]);
    assert_eq!((configs, problems), (PluginConfigs::default(), vec![]));
}

#[test]
fn malformed_entries_become_problems() {
    let (configs, problems) =
        PluginConfigs::from_config_maps(&fixture("configmaps-plugin-malformed.json"));
    assert_eq!(
        configs.storage_class,
        [("st1", "sc1")].into_iter().collect()
    );
    assert_eq!(
        configs.node,
        [("worker-node-3", "node-b.target.internal")]
            .into_iter()
            .collect()
    );
    let rules: Vec<(&str, &str)> = configs
        .image_name
        .rules()
        .iter()
        .map(|r| (r.from.as_str(), r.to.as_str()))
        .collect();
    assert_eq!(rules, [("quay.io/acme", "registry.target.io/acme")]);
    // The messages themselves are in the snapshot of the actions' malformed-entry test.
    assert_eq!(problems.len(), 7, "{problems:#?}");
}

#[test]
fn unusable_data() {
    let check = |data: Value, expected: &[&str]| {
        let cm = config_map("sc", CHANGE_STORAGE_CLASS, data);
        let (_, problems) = PluginConfigs::from_config_maps(&[cm]);
        let got: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(got, expected);
    };
    check(Value::Null, &[]);
    check(json!({}), &[]);
    check(
        json!(["gp2=gp3"]),
        &["ignoring ConfigMap velero/sc: data is not a map of strings; fix its data"],
    );
    check(
        json!({"gp2": {"to": "gp3"}}),
        &[
            "ignoring entry \"gp2\" of ConfigMap velero/sc: the value is not a string; fix or remove the entry",
        ],
    );
    check(
        json!({"-gp2": "gp3"}),
        &[
            "ignoring entry \"-gp2\" of ConfigMap velero/sc: the old name \"-gp2\" must start and end with a letter or digit; fix or remove the entry",
        ],
    );
    check(
        json!({"gp2": "x".repeat(254)}),
        &[&format!(
            "ignoring entry \"gp2\" of ConfigMap velero/sc: the new name {:?} is longer than 253 characters; fix or remove the entry",
            "x".repeat(254)
        )],
    );
}

#[test]
fn two_config_maps_for_one_action_turn_it_off() {
    let a = config_map("a", CHANGE_STORAGE_CLASS, json!({"gp2": "gp3"}));
    let b = config_map("b", CHANGE_STORAGE_CLASS, json!({"gp2": "io2"}));
    let node = config_map("n", CHANGE_PVC_NODE_SELECTOR, json!({"n1": "n2"}));
    let (configs, problems) = PluginConfigs::from_config_maps(&[a, node, b]);
    assert!(configs.storage_class.is_empty());
    assert_eq!(configs.node.get("n1"), Some("n2"));
    let got: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "found more than one ConfigMap labelled velero.io/change-storage-class=RestoreItemAction (velero/a, velero/b); the action is off for this restore: keep only one"
        ]
    );
}

/// The examples of Velero's change_image_name_action.go, applied to `1.1.1.1:5000/abc:test`.
#[test]
fn image_rules() {
    let check = |rule: &str, image: &str, expected: Option<&str>| {
        let data = json!({ "case": rule });
        let (mapping, problems) = ImageNameMapping::from_data("velero/images", &data);
        assert_eq!(problems, [], "{rule}");
        assert_eq!(
            mapping.rewrite(image).as_deref(),
            expected,
            "{rule} on {image}"
        );
    };
    let image = "1.1.1.1:5000/abc:test";
    check(
        "1.1.1.1:5000,2.2.2.2:3000",
        image,
        Some("2.2.2.2:3000/abc:test"),
    );
    check("5000,3000", image, Some("1.1.1.1:3000/abc:test"));
    check("abc:test,edf:test", image, Some("1.1.1.1:5000/edf:test"));
    check(
        "1.1.1.1:5000/abc:test,2.2.2.2:3000/edf:test",
        image,
        Some("2.2.2.2:3000/edf:test"),
    );
    check(
        " abc:test , edf:test ",
        image,
        Some("1.1.1.1:5000/edf:test"),
    );
    check("nginx,httpd", image, None);
    // Every occurrence is replaced; the new part may hold commas; an empty new part deletes.
    check("a,b", "a/a:a", Some("b/b:b"));
    check("abc,x,y", image, Some("1.1.1.1:5000/x,y:test"));
    check(
        "docker.io/, ",
        "docker.io/library/nginx",
        Some("library/nginx"),
    );
}

#[test]
fn image_rules_are_tried_in_key_order() {
    let data = json!({"b": "abc,second", "a": "test,first"});
    let (mapping, _) = ImageNameMapping::from_data("velero/images", &data);
    assert_eq!(mapping.rewrite("abc:test").as_deref(), Some("abc:first"));
}

#[test]
fn malformed_image_rules() {
    let check = |rule: &str, why: &str| {
        let data = json!({ "case": rule });
        let (mapping, problems) = ImageNameMapping::from_data("velero/images", &data);
        assert!(mapping.is_empty(), "{rule}");
        let got: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [format!(
                "ignoring entry \"case\" of ConfigMap velero/images: {rule:?} {why}; fix or remove the entry"
            )]
        );
    };
    check("abc", "has no ',' between the old and the new part");
    check("abc,", "has nothing after the ','");
    check(",abc", "has an empty old part");
    check("  ,abc", "has an empty old part");
}
