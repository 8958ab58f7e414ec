//! Snapshots of `describe` and `get` output for fixture resources (no cluster).

use serde_json::json;

use super::*;

fn yaml<T: serde::de::DeserializeOwned>(fixture: &str) -> T {
    let text = String::from_utf8(godwit_fixtures::read(fixture)).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

fn results() -> ResultsFile {
    serde_json::from_value(json!({
        "warnings": {
            "velero": ["line \"pods v1\" of restoreResourcesVersionPriority has no '='; skipped"],
            "cluster": [],
            "namespaces": {
                "shop": [
                    "configmaps shop/settings already exists and differs from the backup; left as it is",
                    "services shop/web: node port 30080 was assigned automatically; dropped"
                ]
            }
        },
        "errors": {
            "velero": [],
            "cluster": ["customresourcedefinitions rockbands.music.example.io: not established after 60s"],
            "namespaces": {}
        }
    }))
    .unwrap()
}

#[test]
fn restore_describe_shows_versions_rules_and_grouped_results() {
    let restore: Restore = yaml("velero/restore-with-version-choices.yaml");
    insta::assert_snapshot!(
        "restore_completed",
        render_restore(&restore, Some(&Ok(results())))
    );
}

#[test]
fn restore_describe_with_filters_and_unreadable_results() {
    let restore: Restore = serde_json::from_value(json!({
        "apiVersion": "velero.io/v1",
        "kind": "Restore",
        "metadata": {"name": "nightly-20261121060000", "namespace": "velero", "labels": {"team": "shop"}},
        "spec": {
            "backupName": "nightly",
            "includedNamespaces": ["shop", "db"],
            "excludedResources": ["secrets"],
            "namespaceMapping": {"shop": "shop-copy"},
            "orLabelSelectors": [{"matchLabels": {"app": "web"}}, {"matchLabels": {"app": "db"}}],
            "existingResourcePolicy": "update",
            "preserveNodePorts": true,
            "includeClusterResources": false
        },
        "status": {
            "phase": "PartiallyFailed",
            "warnings": 2,
            "errors": 1,
            "startTimestamp": "2026-11-21T06:00:00Z",
            "completionTimestamp": "2026-11-21T06:00:09Z",
            "progress": {"totalItems": 7, "itemsRestored": 7}
        }
    }))
    .unwrap();
    let unreadable: Results = Err("restore-nightly-20261121060000-results.gz not found".into());
    insta::assert_snapshot!(
        "restore_partially_failed",
        render_restore(&restore, Some(&unreadable))
    );
}

#[test]
fn restore_describe_of_a_refused_restore() {
    let restore: Restore = serde_json::from_value(json!({
        "apiVersion": "velero.io/v1",
        "kind": "Restore",
        "metadata": {"name": "r", "namespace": "velero"},
        "spec": {"backupName": "missing"},
        "status": {
            "phase": "FailedValidation",
            "validationErrors": ["backup missing not found in /backups; run `godwit backup get` to list backups"]
        }
    }))
    .unwrap();
    insta::assert_snapshot!("restore_failed_validation", render_restore(&restore, None));
}

#[test]
fn backup_describe_follows_velero() {
    let backup: Backup = yaml("velero/backup.yaml");
    insta::assert_snapshot!("backup_completed", render_backup(&backup));
}

#[test]
fn get_tables() {
    let backup: Backup = yaml("velero/backup.yaml");
    let now = Time(jiff::Timestamp::from_second(1_741_910_400).unwrap()); // 2025-03-14
    let restore: Restore = yaml("velero/restore-with-version-choices.yaml");
    insta::assert_snapshot!(
        "get_tables",
        format!(
            "{}\n{}",
            backups_table(&[backup], &now),
            restores_table(&[restore])
        )
    );
}

#[test]
fn rules_read_as_sentences() {
    let check = |rule: &str, expected: &str| assert_eq!(rule_text(rule), expected);
    check("userPriority", "user priority (priority 0)");
    check("targetPreferred", "target preferred version (priority 1)");
    check("sourcePreferred", "source preferred version (priority 2)");
    check(
        "commonNonPreferred",
        "highest common non-preferred version (priority 3)",
    );
    check("somethingNew", "somethingNew");
}

fn pod(
    name: &str,
    annotations: serde_json::Value,
    volumes: serde_json::Value,
) -> serde_json::Value {
    let mounts: Vec<serde_json::Value> = volumes
        .as_array()
        .unwrap()
        .iter()
        .map(|v| json!({"name": v["name"], "mountPath": "/mnt"}))
        .collect();
    json!({
        "metadata": {"namespace": "shop", "name": name, "annotations": annotations},
        "spec": {"nodeName": "node-1", "containers": [{"name": "app", "volumeMounts": mounts}], "volumes": volumes},
        "status": {"phase": "Running"},
    })
}

#[test]
fn backup_details_list_resources_and_the_volumes_velero_would_take() {
    let backup: Backup = yaml("velero/backup.yaml");
    let rules = godwit_backup::Rules::default();
    let mut pods = godwit_backup::Collector::new(rules);
    pods.add_pod(&pod(
        "web-0",
        json!({godwit_backup::VOLUMES_TO_BACKUP_ANNOTATION: "data, cache"}),
        json!([
            {"name": "data", "persistentVolumeClaim": {"claimName": "data-web-0"}},
            {"name": "cache", "emptyDir": {}},
            {"name": "settings", "configMap": {"name": "settings"}},
            {"name": "kube-api-access-x7b2q", "projected": {"sources": []}},
        ]),
    ));
    pods.add_pod(&pod(
        "web-1",
        json!({}),
        json!([{"name": "logs", "hostPath": {"path": "/var/log"}}]),
    ));
    let resource_list = BTreeMap::from([
        (
            "v1/Pod".to_owned(),
            vec!["shop/web-0".to_owned(), "shop/web-1".to_owned()],
        ),
        ("apps/v1/Deployment".to_owned(), vec!["shop/web".to_owned()]),
    ]);
    let details = BackupDetails {
        resource_list: Some(Ok(resource_list)),
        pod_volumes: Ok(pods.finish()),
    };
    insta::assert_snapshot!("backup_details", render_backup_details(&backup, &details));
}

#[test]
fn backup_details_say_what_could_not_be_read() {
    let mut backup: Backup = yaml("velero/backup.yaml");
    backup.spec.default_volumes_to_fs_backup = Some(true);
    let details = BackupDetails {
        resource_list: None,
        pod_volumes: Err("cannot read the tarball of backup b: not found".to_owned()),
    };
    let text = render_backup_details(&backup, &details);
    for line in [
        "Resource List:  <backup resource list not found>",
        "godwit does not back up volume data: the contents of these volumes are NOT in this backup.",
        "Mode:  opt-out, every volume but those a pod names in backup.velero.io/backup-volumes-excludes (defaultVolumesToFsBackup: true)",
        "<error reading the backup's pods: cannot read the tarball of backup b: not found>",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
    let empty = BackupDetails {
        resource_list: Some(Err("access denied".to_owned())),
        pod_volumes: Ok(godwit_backup::PodVolumeReport::default()),
    };
    let text = render_backup_details(&backup, &empty);
    assert!(
        text.contains("Resource List:  <error getting backup resource list: access denied>"),
        "{text}"
    );
    assert!(text.contains("<no pod volumes in this backup>"), "{text}");
}

#[test]
fn fs_backup_mode_follows_velero_defaults() {
    let spec = |fs: Option<bool>, restic: Option<bool>| godwit_api::BackupSpec {
        default_volumes_to_fs_backup: fs,
        default_volumes_to_restic: restic,
        ..Default::default()
    };
    assert!(!fs_backup_mode(&spec(None, None)).0);
    assert!(fs_backup_mode(&spec(Some(true), None)).0);
    assert!(!fs_backup_mode(&spec(Some(false), None)).0);
    // Velero remaps a true defaultVolumesToRestic over whatever defaultVolumesToFsBackup says.
    assert!(fs_backup_mode(&spec(Some(false), Some(true))).0);
    assert!(!fs_backup_mode(&spec(None, Some(false))).0);
}
