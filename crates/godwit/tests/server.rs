//! End-to-end tests of `godwit server` against kubesim: the server runs as a subprocess and is
//! driven only through Velero's custom resources, as `kubectl` or the CLI would drive it.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use godwit_api::{Backup, BackupStorageLocation, Restore};
use godwit_kubesim::{Fault, FaultRule};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;
use kube::api::{ObjectMeta, PostParams};

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_in_one_cluster_restores_into_another() {
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    let source = cluster().await;
    create_namespace(&source.client, "shop").await;
    create_config_maps(&source.client, "shop", 3).await;
    let secrets: Api<Secret> = Api::namespaced(source.client.clone(), "shop");
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some("token".to_owned()),
            ..ObjectMeta::default()
        },
        string_data: Some([("token".to_owned(), "s3cr3t".to_owned())].into()),
        ..Secret::default()
    };
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let source_server = start_server(&source, &store, work.path(), &[]).await;

    // The embedded default location is created and validated.
    let locations: Api<BackupStorageLocation> =
        Api::namespaced(source.client.clone(), SERVER_NAMESPACE);
    let location = wait_for(&locations, "default", &source_server, |location| {
        location
            .status
            .as_ref()
            .and_then(|status| status.phase.as_ref())
            == Some(&godwit_api::BackupStorageLocationPhase::Available)
    })
    .await;
    assert!(location.spec.default);

    let backups: Api<Backup> = Api::namespaced(source.client.clone(), SERVER_NAMESPACE);
    backups
        .create(&PostParams::default(), &backup_of("shop-backup", "shop"))
        .await
        .unwrap();
    let backup = wait_for(&backups, "shop-backup", &source_server, |backup| {
        backup.is_terminal_phase()
    })
    .await;
    assert_eq!(
        phase_of_backup(&backup),
        "Completed",
        "{backup:#?}\n{}",
        source_server.log()
    );
    let status = backup.status.clone().unwrap();
    assert!(status.start_timestamp.is_some() && status.completion_timestamp.is_some());
    assert!(status.expiration.is_some());
    assert_eq!(status.format_version, "1.1.0");
    assert_eq!(status.errors, 0);
    assert!(
        status.progress.unwrap().items_backed_up >= 5,
        "namespace, 3 config maps, secret"
    );
    assert_eq!(backup.spec.storage_location, "default");

    let files = store.join("godwit/backups/shop-backup");
    for file in [
        "velero-backup.json",
        "shop-backup.tar.gz",
        "shop-backup-logs.gz",
        "shop-backup-resource-list.json.gz",
    ] {
        assert!(files.join(file).is_file(), "{file} missing from the store");
    }
    let stored: Backup =
        serde_json::from_slice(&std::fs::read(files.join("velero-backup.json")).unwrap()).unwrap();
    assert_eq!(phase_of_backup(&stored), "Completed");
    // The source's Kubernetes version, as Velero records it, for a restore's pitfalls.
    let annotations = stored.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(
        annotations
            .get("velero.io/source-cluster-k8s-minor-version")
            .map(String::as_str),
        Some("33"),
        "{annotations:?}"
    );

    // A backup to a location that does not exist is refused with the reason.
    let mut nowhere = backup_of("to-nowhere", "shop");
    nowhere.spec.storage_location = "nowhere".to_owned();
    backups
        .create(&PostParams::default(), &nowhere)
        .await
        .unwrap();
    let refused = wait_for(&backups, "to-nowhere", &source_server, |backup| {
        backup.is_terminal_phase()
    })
    .await;
    assert_eq!(phase_of_backup(&refused), "FailedValidation");
    let problems = refused.status.unwrap().validation_errors.unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("backupstoragelocations.velero.io \"nowhere\" not found"),
        "{problems:?}"
    );
    assert!(!store.join("godwit/backups/to-nowhere").exists());

    // A location whose store cannot be opened is found Unavailable, and refuses backups.
    let broken = BackupStorageLocation::new(
        "broken",
        godwit_api::BackupStorageLocationSpec {
            provider: "example.com/unknown".to_owned(),
            object_storage: godwit_api::ObjectStorageLocation {
                bucket: "bucket".to_owned(),
                ..godwit_api::ObjectStorageLocation::default()
            },
            ..godwit_api::BackupStorageLocationSpec::default()
        },
    );
    locations
        .create(&PostParams::default(), &broken)
        .await
        .unwrap();
    let mut to_broken = backup_of("to-broken", "shop");
    to_broken.spec.storage_location = "broken".to_owned();
    backups
        .create(&PostParams::default(), &to_broken)
        .await
        .unwrap();
    let refused = wait_for(&backups, "to-broken", &source_server, |backup| {
        backup.is_terminal_phase()
    })
    .await;
    assert_eq!(phase_of_backup(&refused), "FailedValidation");
    assert_eq!(
        refused.status.unwrap().validation_errors.unwrap(),
        ["backup can't be created because BackupStorageLocation broken is in Unavailable status"]
    );
    let broken = locations.get("broken").await.unwrap().status.unwrap();
    assert_eq!(
        broken.phase,
        Some(godwit_api::BackupStorageLocationPhase::Unavailable)
    );
    assert!(broken.message.contains("example.com/unknown"), "{broken:?}");

    assert_eq!(
        http_get(source_server.metrics, "/healthz").await.unwrap(),
        "ok"
    );
    let metrics = http_get(source_server.metrics, "/metrics").await.unwrap();
    assert!(
        metrics.contains("godwit_backup_total{phase=\"FailedValidation\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("godwit_backup_total{phase=\"Completed\"} 1"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("godwit_backup_items_total 0\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("godwit_backup_duration_seconds_count 1"),
        "{metrics}"
    );

    // A second cluster and server sharing the store: the backup is synced in and restored.
    let target = cluster().await;
    let target_server = start_server(&target, &store, work.path(), &[]).await;
    let target_backups: Api<Backup> = Api::namespaced(target.client.clone(), SERVER_NAMESPACE);
    let synced = wait_for(&target_backups, "shop-backup", &target_server, |_| true).await;
    assert_eq!(phase_of_backup(&synced), "Completed");

    // The server reads the version priorities from its namespace; a bad line is a warning.
    let config_maps: Api<ConfigMap> = Api::namespaced(target.client.clone(), SERVER_NAMESPACE);
    let priorities = ConfigMap {
        metadata: ObjectMeta {
            name: Some("enableapigroupversions".to_owned()),
            ..ObjectMeta::default()
        },
        data: Some(
            [(
                "restoreResourcesVersionPriority".to_owned(),
                "configmaps=v1\nnot-a-priority-line".to_owned(),
            )]
            .into(),
        ),
        ..ConfigMap::default()
    };
    config_maps
        .create(&PostParams::default(), &priorities)
        .await
        .unwrap();

    let restores: Api<Restore> = Api::namespaced(target.client.clone(), SERVER_NAMESPACE);
    restores
        .create(
            &PostParams::default(),
            &restore_of("shop-restore", "shop-backup"),
        )
        .await
        .unwrap();
    let restore = wait_for(&restores, "shop-restore", &target_server, |restore| {
        restore.is_terminal_phase()
    })
    .await;
    assert_eq!(
        phase_of_restore(&restore),
        "Completed",
        "{restore:#?}\n{}",
        target_server.log()
    );
    let status = restore.status.clone().unwrap();
    assert_eq!(status.errors, 0);
    assert_eq!(status.warnings, 1, "the invalid priority line");
    assert!(status.completion_timestamp.is_some());
    let progress = status.progress.unwrap();
    assert_eq!(progress.items_restored, progress.total_items);
    let restored: Api<ConfigMap> = Api::namespaced(target.client.clone(), "shop");
    let config_map = restored.get("settings-1").await.unwrap();
    assert_eq!(
        config_map
            .metadata
            .labels
            .unwrap()
            .get("velero.io/restore-name"),
        Some(&"shop-restore".to_owned())
    );
    let restore_files = store.join("godwit/restores/shop-restore");
    assert!(restore_files.join("restore-shop-restore-logs.gz").is_file());
    assert!(
        restore_files
            .join("restore-shop-restore-results.gz")
            .is_file()
    );

    // A restore from a backup nobody made is refused with the reason.
    restores
        .create(
            &PostParams::default(),
            &restore_of("from-nowhere", "missing"),
        )
        .await
        .unwrap();
    let refused = wait_for(&restores, "from-nowhere", &target_server, |restore| {
        restore.is_terminal_phase()
    })
    .await;
    assert_eq!(phase_of_restore(&refused), "FailedValidation");
    assert_eq!(
        refused.status.unwrap().validation_errors,
        Some(vec![
            "Error retrieving backup: backups.velero.io \"missing\" not found".to_owned()
        ])
    );

    let metrics = http_get(target_server.metrics, "/metrics").await.unwrap();
    assert!(
        metrics.contains("godwit_restore_total{phase=\"Completed\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("godwit_restore_total{phase=\"FailedValidation\"} 1"),
        "{metrics}"
    );
    drop(target_server);
    drop(source_server);
    target.sim.shutdown().await;
    source.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_cut_short_by_a_crash_is_failed_on_restart_and_backup_delete_cleans_up() {
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    let cluster = cluster().await;
    create_namespace(&cluster.client, "shop").await;
    create_config_maps(&cluster.client, "shop", 8).await;
    let server = start_server(&cluster, &store, work.path(), &["--concurrency", "1"]).await;

    // Through the CLI this time, as a person would: it creates the Backup and waits for it.
    godwit_beside(
        &cluster,
        Some(&server),
        &[
            "backup",
            "create",
            "slow",
            "--include-namespaces",
            "shop",
            "--wait",
        ],
    )
    .await;
    let backups: Api<Backup> = Api::namespaced(cluster.client.clone(), SERVER_NAMESPACE);
    let backup = wait_for(&backups, "slow", &server, Backup::is_terminal_phase).await;
    assert_eq!(phase_of_backup(&backup), "Completed");

    // Every create of a config map now takes two seconds: the restore stays InProgress.
    cluster.sim.faults().add(FaultRule {
        fault: Fault::Latency { millis: 2000 },
        fraction: 1.0,
        path_contains: Some("/configmaps".to_owned()),
        method: Some("POST".to_owned()),
    });
    let restores: Api<Restore> = Api::namespaced(cluster.client.clone(), SERVER_NAMESPACE);
    let mut restore = restore_of("interrupted", "slow");
    restore.spec.namespace_mapping = Some([("shop".to_owned(), "shop-copy".to_owned())].into());
    restores
        .create(&PostParams::default(), &restore)
        .await
        .unwrap();
    // Progress reaches the status while the restore runs (at most once a second).
    let running = wait_for(&restores, "interrupted", &server, |restore| {
        phase_of_restore(restore) == "InProgress"
            && restore
                .status
                .as_ref()
                .and_then(|status| status.progress.as_ref())
                .is_some_and(|progress| progress.total_items > 0)
    })
    .await;
    let progress = running.status.unwrap().progress.unwrap();
    assert!(
        progress.items_restored < progress.total_items,
        "{progress:?}"
    );
    drop(server); // SIGKILL, mid-restore
    cluster.sim.faults().clear();

    let restarted = start_server(&cluster, &store, work.path(), &[]).await;
    let failed = wait_for(&restores, "interrupted", &restarted, |restore| {
        restore.is_terminal_phase()
    })
    .await;
    assert_eq!(phase_of_restore(&failed), "Failed");
    let status = failed.status.unwrap();
    assert_eq!(
        status.failure_reason,
        "found a restore with status \"InProgress\" during the server starting, mark it as \"Failed\""
    );
    assert!(status.completion_timestamp.is_some());

    // It stays Failed: the restarted server does not pick it up again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let again = restores.get("interrupted").await.unwrap();
    assert_eq!(phase_of_restore(&again), "Failed");
    let metrics = http_get(restarted.metrics, "/metrics").await.unwrap();
    assert!(
        metrics.contains("godwit_restore_total{phase=\"Failed\"} 1"),
        "{metrics}"
    );

    // A new restore of the same backup into the same target completes: what the cut-short one
    // created is left as it is (policy `none`), the rest is created, and nothing twice.
    let mut retry = restore_of("retry", "slow");
    retry.spec.namespace_mapping = Some([("shop".to_owned(), "shop-copy".to_owned())].into());
    restores
        .create(&PostParams::default(), &retry)
        .await
        .unwrap();
    let retried = wait_for(&restores, "retry", &restarted, Restore::is_terminal_phase).await;
    assert_eq!(
        phase_of_restore(&retried),
        "Completed",
        "{retried:#?}\n{}",
        restarted.log()
    );
    let status = retried.status.unwrap();
    assert_eq!(status.errors, 0, "{status:?}");
    let progress = status.progress.unwrap();
    assert_eq!(progress.items_restored, progress.total_items);
    let copies: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), "shop-copy");
    let mut by_restore = std::collections::BTreeMap::<String, Vec<String>>::new();
    for config_map in copies.list(&Default::default()).await.unwrap().items {
        let name = config_map.metadata.name.clone().unwrap();
        if name == "kube-root-ca.crt" {
            continue;
        }
        let made_by = config_map
            .metadata
            .labels
            .unwrap_or_default()
            .get("velero.io/restore-name")
            .cloned()
            .unwrap_or_default();
        by_restore.entry(made_by).or_default().push(name);
    }
    let restored: usize = by_restore.values().map(Vec::len).sum();
    assert_eq!(restored, 8, "each config map once: {by_restore:?}");
    assert!(
        by_restore
            .keys()
            .all(|made_by| made_by == "interrupted" || made_by == "retry"),
        "{by_restore:?}"
    );
    assert!(by_restore.contains_key("retry"), "{by_restore:?}");
    assert!(
        store
            .join("godwit/restores/retry/restore-retry-results.gz")
            .is_file()
    );

    // `godwit backup delete` makes a DeleteBackupRequest; the server deletes the backup's
    // files, the restores made from it, and the Backup.
    godwit_beside(
        &cluster,
        Some(&restarted),
        &["backup", "delete", "slow", "--confirm"],
    )
    .await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while backups.get_opt("slow").await.unwrap().is_some()
        || restores.get_opt("interrupted").await.unwrap().is_some()
        || restores.get_opt("retry").await.unwrap().is_some()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the backup was not deleted:\n{}",
            restarted.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(!store.join("godwit/backups/slow").exists());
    assert!(!store.join("godwit/restores/interrupted").exists());
    assert!(!store.join("godwit/restores/retry").exists());
    let requests: Api<godwit_api::DeleteBackupRequest> =
        Api::namespaced(cluster.client.clone(), SERVER_NAMESPACE);
    let request = &requests
        .list(&kube::api::ListParams::default())
        .await
        .unwrap()
        .items[0];
    let status = request.status.clone().unwrap();
    assert_eq!(
        status.phase,
        Some(godwit_api::DeleteBackupRequestPhase::Processed)
    );
    assert_eq!(status.errors, None);
    drop(restarted);
    cluster.sim.shutdown().await;
}

/// Deleting a Restore deletes its files in the location (Velero's restore finalizer); a Restore
/// asking for what godwit cannot do fails validation naming the field; a backup past its
/// expiration is deleted, from the store and the cluster, within one garbage-collection round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_restores_take_their_files_and_expired_backups_are_collected() {
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    let cluster = cluster().await;
    create_namespace(&cluster.client, "shop").await;
    create_config_maps(&cluster.client, "shop", 2).await;
    let server = start_server(
        &cluster,
        &store,
        work.path(),
        &["--garbage-collection-frequency", "1s"],
    )
    .await;
    let backups: Api<Backup> = Api::namespaced(cluster.client.clone(), SERVER_NAMESPACE);
    let restores: Api<Restore> = Api::namespaced(cluster.client.clone(), SERVER_NAMESPACE);
    backups
        .create(&PostParams::default(), &backup_of("shop-backup", "shop"))
        .await
        .unwrap();
    let backup = wait_for(&backups, "shop-backup", &server, Backup::is_terminal_phase).await;
    assert_eq!(phase_of_backup(&backup), "Completed", "{}", server.log());

    restores
        .create(&PostParams::default(), &restore_of("again", "shop-backup"))
        .await
        .unwrap();
    let restore = wait_for(&restores, "again", &server, Restore::is_terminal_phase).await;
    assert_eq!(phase_of_restore(&restore), "Completed", "{}", server.log());
    let files = store.join("godwit/restores/again");
    assert!(files.join("restore-again-results.gz").is_file());
    assert!(files.join("restore-again-logs.gz").is_file());

    // Asked for hooks and resource modifiers, a restore fails validation naming both fields.
    let mut hooked = restore_of("hooked", "shop-backup");
    hooked.spec.hooks = Some(serde_json::json!({"resources": [{"name": "freeze"}]}));
    hooked.spec.resource_modifier = Some(godwit_api::TypedLocalObjectReference {
        api_group: None,
        kind: "ConfigMap".to_owned(),
        name: "rules".to_owned(),
    });
    restores
        .create(&PostParams::default(), &hooked)
        .await
        .unwrap();
    let refused = wait_for(&restores, "hooked", &server, Restore::is_terminal_phase).await;
    assert_eq!(phase_of_restore(&refused), "FailedValidation");
    let problems = refused.status.unwrap().validation_errors.unwrap();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].starts_with("spec.hooks: "), "{problems:?}");
    assert!(
        problems[1].starts_with("spec.resourceModifier: "),
        "{problems:?}"
    );

    restores.delete("again", &Default::default()).await.unwrap();
    wait_gone(&restores, "again", &server).await;
    assert!(!files.exists(), "restores/again/ is still in the store");

    // Expired a second ago: the next round requests the deletion, which removes everything.
    let expired = serde_json::json!({"status": {"expiration": "2026-01-01T00:00:00Z"}});
    backups
        .patch(
            "shop-backup",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(expired),
        )
        .await
        .unwrap();
    wait_gone(&backups, "shop-backup", &server).await;
    assert!(!store.join("godwit/backups/shop-backup").exists());
    assert!(server.log().contains("expired backup: deletion requested"));
}
