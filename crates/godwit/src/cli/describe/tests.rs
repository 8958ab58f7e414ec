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
