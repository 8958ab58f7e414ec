//! No action panics on any input: realistic objects of every kind the actions handle, with
//! arbitrary JSON (wrong types included) put at the field paths the actions read and write, and
//! wholly arbitrary JSON values, go through every action and through `apply_all`.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use godwit_mutators::{Action, Item, PluginConfigs, RestoreContext, UuidSource, apply_all};
use godwit_versioning::GroupResource;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};
use uuid::Uuid;

/// Fixtures and the group-resource each is restored as.
const OBJECTS: &[(&str, &str)] = &[
    ("pods", "pod-deployment.json"),
    ("pods", "pod-legacy-token.json"),
    ("pods", "pod-completed.json"),
    ("pods", "pod-mirror.json"),
    ("services", "service-clusterip.json"),
    ("services", "service-headless.json"),
    ("services", "service-nodeport-last-applied.json"),
    ("services", "service-nodeport-auto.json"),
    ("services", "service-nodeport-server-side.json"),
    ("services", "service-loadbalancer-local.json"),
    ("persistentvolumes", "pv-bound.json"),
    ("persistentvolumeclaims", "pvc-bound.json"),
    ("statefulsets.apps", "statefulset.json"),
    ("jobs.batch", "job.json"),
    ("jobs.batch", "job-finished.json"),
    ("serviceaccounts", "serviceaccount.json"),
    ("secrets", "secret-sa-token.json"),
    ("secrets", "secret-sa-token-manual.json"),
    (
        "customresourcedefinitions.apiextensions.k8s.io",
        "crd-v1.json",
    ),
    ("rolebindings.rbac.authorization.k8s.io", "rolebinding.json"),
    (
        "clusterrolebindings.rbac.authorization.k8s.io",
        "clusterrolebinding.json",
    ),
    ("deployments.apps", "deployment.json"),
    ("cronjobs.batch", "cronjob.json"),
];

/// Every field path an action reads or writes; `*` stands for each element of an array.
const PATHS: &[&[&str]] = &[
    &["metadata"],
    &["metadata", "name"],
    &["metadata", "namespace"],
    &["metadata", "labels"],
    &["metadata", "annotations"],
    &[
        "metadata",
        "annotations",
        "kubectl.kubernetes.io/last-applied-configuration",
    ],
    &[
        "metadata",
        "annotations",
        "volume.kubernetes.io/selected-node",
    ],
    &["metadata", "annotations", "kubernetes.io/config.mirror"],
    &["metadata", "managedFields"],
    &["metadata", "managedFields", "*", "fieldsV1"],
    &["metadata", "managedFields", "*", "fieldsV1", "f:spec"],
    &[
        "metadata",
        "managedFields",
        "*",
        "fieldsV1",
        "f:spec",
        "f:ports",
    ],
    &["apiVersion"],
    &["type"],
    &["data"],
    &["secrets"],
    &["secrets", "*", "name"],
    &["subjects"],
    &["subjects", "*", "namespace"],
    &["status"],
    &["status", "phase"],
    &["status", "completionTime"],
    &["spec"],
    &["spec", "type"],
    &["spec", "clusterIP"],
    &["spec", "ports"],
    &["spec", "ports", "*", "nodePort"],
    &["spec", "ports", "*", "name"],
    &["spec", "ports", "*", "port"],
    &["spec", "externalTrafficPolicy"],
    &["spec", "healthCheckNodePort"],
    &["spec", "claimRef"],
    &["spec", "claimRef", "namespace"],
    &["spec", "storageClassName"],
    &["spec", "volumeName"],
    &["spec", "volumeClaimTemplates"],
    &["spec", "volumeClaimTemplates", "*", "spec"],
    &["spec", "serviceAccountName"],
    &["spec", "priorityClassName"],
    &["spec", "volumes"],
    &["spec", "volumes", "*", "name"],
    &["spec", "volumes", "*", "persistentVolumeClaim"],
    &["spec", "containers"],
    &["spec", "containers", "*", "image"],
    &["spec", "containers", "*", "volumeMounts"],
    &["spec", "initContainers"],
    &["spec", "selector"],
    &["spec", "selector", "matchLabels"],
    &["spec", "template"],
    &["spec", "template", "metadata", "labels"],
    &["spec", "template", "spec", "containers"],
    &["spec", "jobTemplate"],
    &["spec", "preserveUnknownFields"],
    &["spec", "versions"],
    &["spec", "versions", "*", "schema"],
];

/// Keys arbitrary objects are built from: the ones actions look at, and some noise.
const KEYS: &[&str] = &[
    "metadata",
    "name",
    "namespace",
    "labels",
    "annotations",
    "spec",
    "status",
    "phase",
    "ports",
    "nodePort",
    "port",
    "protocol",
    "claimRef",
    "volumes",
    "containers",
    "image",
    "fieldsV1",
    "f:spec",
    "f:ports",
    "f:nodePort",
    "managedFields",
    "selector",
    "matchLabels",
    "template",
    "type",
    "data",
    "secrets",
    "subjects",
    "versions",
    "schema",
    "openAPIV3Schema",
    "kubectl.kubernetes.io/last-applied-configuration",
    "volume.kubernetes.io/selected-node",
];

fn fixture(name: &str) -> Value {
    godwit_fixtures::read_json(&format!("objects/{name}"))
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-z0-9:/.,{}\"-]{0,16}".prop_map(Value::String),
        select(
            &[
                "None",
                "Local",
                "LoadBalancer",
                "ExternalName",
                "Succeeded",
                "Bound",
                "kubernetes.io/service-account-token",
                "apiextensions.k8s.io/v1",
                "shop",
                "gp2",
                "ip-10-0-1-23.ec2.internal",
                "{\"spec\":{\"ports\":[{\"nodePort\":\"x\"}]}}",
                "k:{\"port\":80,\"protocol\":\"TCP\"}",
                "builder-token-x"
            ][..]
        )
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop_oneof![select(KEYS).prop_map(str::to_owned), "[a-z]{1,6}"];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Puts `value` at `path`, turning whatever is in the way into objects; `*` sets every element
/// of an array that is there.
fn put(target: &mut Value, path: &[&str], value: &Value) {
    let Some((first, rest)) = path.split_first() else {
        *target = value.clone();
        return;
    };
    if *first == "*" {
        if let Value::Array(items) = target {
            for item in items {
                put(item, rest, value);
            }
        }
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let slot = target
        .as_object_mut()
        .unwrap()
        .entry(*first)
        .or_insert(Value::Null);
    put(slot, rest, value);
}

fn context(preserve_node_ports: bool) -> RestoreContext {
    let config_maps = fixture("configmaps-plugin.json")
        .as_array()
        .cloned()
        .unwrap();
    let (configs, _) = PluginConfigs::from_config_maps(&config_maps);
    let mut ctx = RestoreContext::new("b".repeat(70), "r").with_plugin_configs(configs);
    ctx.namespace_mapping = BTreeMap::from([("shop".to_owned(), "shop-copy".to_owned())]);
    ctx.preserve_node_ports = preserve_node_ports;
    ctx.existing_pv_names = BTreeSet::from(["pvc-3f1c2a9e-6b7d-4e8f-a0b1-c2d3e4f5a6b7".to_owned()]);
    ctx.storage_classes = Some(BTreeSet::from(["gp3".to_owned()]));
    ctx.service_accounts =
        BTreeMap::from([("ci".to_owned(), BTreeSet::from(["builder".to_owned()]))]);
    ctx.renamed_pvs = BTreeMap::from([(
        "pvc-3f1c2a9e-6b7d-4e8f-a0b1-c2d3e4f5a6b7".to_owned(),
        "velero-clone-1".to_owned(),
    )]);
    ctx.uuid_source = UuidSource::fixed(Uuid::nil());
    ctx
}

/// Runs every action (whether or not it applies) and the pipeline.
fn run_everything(group_resource: &str, object: &Value, backed_up: &Value, ctx: &RestoreContext) {
    let gr = GroupResource::parse(group_resource).unwrap();
    let item = Item {
        group_resource: &gr,
        backed_up,
    };
    for action in Action::ORDER {
        let mut copy = object.clone();
        action.apply(&mut copy, &item, ctx);
    }
    let restored = apply_all(&gr, object.clone(), ctx);
    if restored.skipped.is_none() && object.is_object() {
        assert!(restored.object.is_object());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn wrong_types_at_known_paths(
        which in 0..OBJECTS.len(),
        edits in prop::collection::vec((select(PATHS), json_value()), 1..5),
        backed_up_edits in prop::collection::vec((select(PATHS), json_value()), 0..3),
        preserve in any::<bool>(),
    ) {
        let (group_resource, name) = OBJECTS[which];
        let mut object = fixture(name);
        for (path, value) in &edits {
            put(&mut object, path, value);
        }
        let mut backed_up = object.clone();
        for (path, value) in &backed_up_edits {
            put(&mut backed_up, path, value);
        }
        run_everything(group_resource, &object, &backed_up, &context(preserve));
    }

    #[test]
    fn arbitrary_json(
        which in 0..OBJECTS.len(),
        object in json_value(),
        backed_up in json_value(),
    ) {
        let (group_resource, _) = OBJECTS[which];
        run_everything(group_resource, &object, &backed_up, &context(false));
        run_everything(group_resource, &object, &object, &context(true));
    }

}

proptest! {
    // Each case runs every fixture through every action, so fewer cases suffice.
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_plugin_config_maps(config_maps in prop::collection::vec(json_value(), 0..4), data in json_value()) {
        let labelled: Vec<Value> = ["velero.io/change-storage-class", "velero.io/change-pvc-node-selector", "velero.io/change-image-name"]
            .iter()
            .map(|label| serde_json::json!({"metadata": {"name": "cm", "labels": {"velero.io/plugin-config": "", *label: "RestoreItemAction"}}, "data": data}))
            .chain(config_maps)
            .collect();
        let (configs, _) = PluginConfigs::from_config_maps(&labelled);
        let ctx = context(false).with_plugin_configs(configs);
        for (group_resource, name) in OBJECTS {
            let object = fixture(name);
            run_everything(group_resource, &object, &object, &ctx);
        }
    }
}
