//! Tests of the spec conversions: Velero custom resources (as Velero's YAML writes them) into
//! the engines' specs.

use serde_json::json;

use super::*;

fn backup(spec: serde_json::Value) -> Backup {
    serde_json::from_value(json!({
        "apiVersion": "velero.io/v1",
        "kind": "Backup",
        "metadata": {"name": "nightly", "namespace": "velero"},
        "spec": spec,
    }))
    .unwrap()
}

fn restore(spec: serde_json::Value) -> Restore {
    serde_json::from_value(json!({
        "apiVersion": "velero.io/v1",
        "kind": "Restore",
        "metadata": {"name": "nightly-1", "namespace": "velero"},
        "spec": spec,
    }))
    .unwrap()
}

#[test]
fn backup_specs_convert_field_by_field() {
    let check = |spec: serde_json::Value, expected: Result<serde_json::Value, &str>| {
        let got = backup_spec(&backup(spec.clone()));
        match (got, expected) {
            (Ok(got), Ok(want)) => assert_eq!(serde_json::to_value(&got).unwrap(), want, "{spec}"),
            (Err(problems), Err(fragment)) => {
                assert!(problems.join("; ").contains(fragment), "{problems:?}");
            }
            (got, want) => panic!("{spec}: got {got:?}, want {want:?}"),
        }
    };
    let empty = json!({
        "includedNamespaces": [], "excludedNamespaces": [], "includedResources": [],
        "excludedResources": [], "includeClusterResources": null, "labelSelector": null,
        "orLabelSelectors": []
    });
    check(json!({}), Ok(empty.clone()));
    check(
        json!({
            "includedNamespaces": ["shop"],
            "excludedResources": ["secrets"],
            "includeClusterResources": false,
            "labelSelector": {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]
            }
        }),
        Ok(json!({
            "includedNamespaces": ["shop"], "excludedNamespaces": [], "includedResources": [],
            "excludedResources": ["secrets"], "includeClusterResources": false,
            "labelSelector": "app=web,tier notin (db)", "orLabelSelectors": []
        })),
    );
    check(
        json!({"orLabelSelectors": [{"matchLabels": {"app": "a"}}, {"matchExpressions": [{"key": "b", "operator": "Exists"}]}]}),
        Ok(json!({
            "includedNamespaces": [], "excludedNamespaces": [], "includedResources": [],
            "excludedResources": [], "includeClusterResources": null, "labelSelector": null,
            "orLabelSelectors": ["app=a", "b"]
        })),
    );
    check(
        json!({"includedClusterScopedResources": ["storageclasses"]}),
        Err("spec.includedClusterScopedResources is not supported"),
    );
}

#[test]
fn restore_specs_convert_field_by_field() {
    let options = JobOptions {
        enable_api_group_versions: true,
        ..JobOptions::default()
    };
    let spec = restore_spec(
        &restore(json!({
            "backupName": "nightly",
            "includedNamespaces": ["shop"],
            "namespaceMapping": {"shop": "shop-copy"},
            "existingResourcePolicy": "update",
            "preserveNodePorts": true,
            "includeClusterResources": true,
            "labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["a", "b"]}]}
        })),
        &options,
    )
    .unwrap();
    assert_eq!(spec.backup_name, "nightly");
    assert_eq!(spec.restore_name, "nightly-1");
    assert_eq!(spec.included_namespaces, ["shop"]);
    assert_eq!(spec.target_namespace("shop"), "shop-copy");
    assert_eq!(
        spec.existing_resource_policy,
        ExistingResourcePolicy::Update
    );
    assert!(spec.preserve_node_ports);
    assert_eq!(spec.include_cluster_resources, Some(true));
    assert!(spec.enable_api_group_versions);
    let selector = spec.label_selector.unwrap();
    assert_eq!(selector.match_expressions[0].operator, Operator::In);
    assert_eq!(selector.match_expressions[0].values, ["a", "b"]);
}

#[test]
fn invalid_restore_specs_name_every_field() {
    let check = |spec: serde_json::Value, fragments: &[&str]| {
        let problems = restore_spec(&restore(spec.clone()), &JobOptions::default()).unwrap_err();
        let text = problems.join("; ");
        for fragment in fragments {
            assert!(text.contains(fragment), "{spec}: {text}");
        }
    };
    check(json!({}), &["spec.backupName is empty"]);
    check(
        json!({"scheduleName": "daily"}),
        &["spec.scheduleName is not supported"],
    );
    check(
        json!({"backupName": "b", "existingResourcePolicy": "replace"}),
        &["spec.existingResourcePolicy \"replace\" is invalid"],
    );
    check(
        json!({
            "backupName": "b",
            "labelSelector": {"matchExpressions": [{"key": "a", "operator": "Near"}]},
            "orLabelSelectors": [{}, {"matchExpressions": [{"key": "c", "operator": "Gt"}]}]
        }),
        &[
            "spec.labelSelector: operator \"Near\"",
            "spec.orLabelSelectors[1]: operator \"Gt\"",
        ],
    );
}

#[test]
fn selectors_print_as_kubectl_writes_them() {
    let check = |selector: serde_json::Value, expected: &str| {
        let selector: LabelSelector = serde_json::from_value(selector).unwrap();
        assert_eq!(selector_text(&selector), expected);
    };
    check(json!({}), "");
    check(json!({"matchLabels": {"b": "2", "a": "1"}}), "a=1,b=2");
    check(
        json!({"matchExpressions": [
            {"key": "x", "operator": "In", "values": ["1", "2"]},
            {"key": "y", "operator": "DoesNotExist"},
            {"key": "z", "operator": "Exists"}
        ]}),
        "x in (1,2),!y,z",
    );
}

#[test]
fn only_finished_backups_can_be_restored() {
    let check = |phase: Option<&str>, usable: bool| {
        let mut value = json!({
            "apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": "b"}, "spec": {}
        });
        if let Some(phase) = phase {
            value["status"] = json!({"phase": phase});
        }
        let backup: Backup = serde_json::from_value(value).unwrap();
        assert_eq!(unusable_backup(&backup).is_none(), usable, "{phase:?}");
    };
    check(Some("Completed"), true);
    check(Some("PartiallyFailed"), true);
    check(Some("Failed"), false);
    check(Some("InProgress"), false);
    check(None, false);
}

#[test]
fn gzip_round_trips() {
    use std::io::Read as _;
    let packed = gzip(b"line one\nline two").unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&packed[..])
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "line one\nline two");
}

/// The server spawns these jobs on a multi-threaded runtime, so their futures must be `Send`.
#[allow(dead_code)]
fn jobs_are_send(
    client: &kube::Client,
    store: &BackupStore,
    backup: &Backup,
    restore: &Restore,
    options: &JobOptions,
) {
    fn send<T: Send>(_: &T) {}
    send(&run_backup(client, store, backup, options, |_| {}));
    send(&run_restore(client, store, restore, options, |_| {}));
}

#[test]
fn the_source_version_comes_from_velero_annotations_or_older_labels() {
    let with = |metadata: serde_json::Value| -> Backup {
        serde_json::from_value(json!({
            "apiVersion": "velero.io/v1", "kind": "Backup", "metadata": metadata, "spec": {}
        }))
        .unwrap()
    };
    let annotated = with(json!({"name": "b", "annotations": {
        "velero.io/source-cluster-k8s-gitversion": "v1.32.3+rke2r1",
        "velero.io/source-cluster-k8s-major-version": "1",
        "velero.io/source-cluster-k8s-minor-version": "32+"
    }}));
    let version = source_version(&annotated).expect("annotated");
    assert_eq!(
        (version.major, version.minor, version.git_version.as_str()),
        (1, 32, "v1.32.3+rke2r1")
    );
    // Velero before 1.11 wrote labels.
    let labelled = with(json!({"name": "b", "labels": {
        "velero.io/source-cluster-k8s-major-version": "1",
        "velero.io/source-cluster-k8s-minor-version": "20"
    }}));
    let version = source_version(&labelled).expect("labelled");
    assert_eq!((version.major, version.minor), (1, 20));
    assert!(source_version(&with(json!({"name": "b"}))).is_none());
}

#[test]
fn a_backup_asking_for_file_system_backup_is_named() {
    assert_eq!(
        file_system_backup_asked(&backup(json!({"defaultVolumesToFsBackup": true}))),
        Some("spec.defaultVolumesToFsBackup")
    );
    assert_eq!(
        file_system_backup_asked(&backup(json!({"defaultVolumesToRestic": true}))),
        Some("spec.defaultVolumesToRestic")
    );
    assert_eq!(
        file_system_backup_asked(&backup(json!({"defaultVolumesToFsBackup": false}))),
        None
    );
    assert_eq!(file_system_backup_asked(&backup(json!({}))), None);
}

#[test]
fn stored_metadata_must_describe_the_backup_in_a_known_format() {
    let check = |metadata: &str, expected: Result<(), &str>| {
        let result = stored_backup("nightly", metadata.as_bytes()).map(drop);
        match (&result, expected) {
            (Ok(()), Ok(())) => {}
            (Err(message), Err(fragment)) => {
                assert!(
                    message.starts_with("backup nightly: its velero-backup.json "),
                    "{message}"
                );
                assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
            }
            _ => panic!("{metadata}: got {result:?}, expected {expected:?}"),
        }
    };
    let backup = |name: &str, format: &str| {
        json!({
            "apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": name}, "spec": {},
            "status": {"phase": "Completed", "formatVersion": format}
        })
        .to_string()
    };
    check(&backup("nightly", "1.1.0"), Ok(()));
    check(&backup("nightly", "1.0.0"), Ok(()));
    check(&backup("nightly", ""), Ok(()));
    check(
        r#"{"metadata": {"name": "nightly"}, "spec": {}}"#,
        Ok(()), // no status: refused later by `unusable_backup`, naming the phase
    );
    check(
        r#"{"metadata": {"name": "nightly"}}"#,
        Err("is not a Backup (missing field `spec`"),
    );
    check("{\"metadata\": ", Err("is not a Backup (EOF while parsing"));
    check("[1, 2]", Err("is not a Backup (invalid type: integer `1`"));
    check(
        r#"{"metadata": {}, "spec": {}}"#,
        Err("has no metadata.name"),
    );
    check(
        &backup("weekly", "1.1.0"),
        Err("describes backup \"weekly\""),
    );
    check(
        &backup("nightly", "2.0.0"),
        Err("says format version \"2.0.0\", and godwit reads formats 1, 1.0.0, 1.1.0"),
    );
}
