//! Crash safety and hostile storage, end to end against kubesim: a `godwit server` killed with
//! SIGKILL mid-backup and restarted, and a storage location whose files were tampered with,
//! read by a restore and by the backup sync.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use godwit_api::{Backup, Restore};
use godwit_kubesim::{Fault, FaultRule};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::Api;
use kube::api::{ListParams, PostParams};

/// Velero's `failureReason` for a backup its server found running at start
/// (`markInProgressBackupsFailed`, pkg/cmd/server/server.go).
const INTERRUPTED_BACKUP: &str =
    "found a backup with status \"InProgress\" during the server starting, mark it as \"Failed\"";

/// The files under `dir`, relative to it, sorted; symlinks are listed, not followed.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, found: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.is_symlink() {
                walk(root, &path, found);
            } else {
                found.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut found = Vec::new();
    walk(dir, dir, &mut found);
    found.sort();
    found
}

async fn backup_names(client: &kube::Client) -> Vec<String> {
    let backups: Api<Backup> = Api::namespaced(client.clone(), SERVER_NAMESPACE);
    let mut names: Vec<String> = backups
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|backup| backup.metadata.name)
        .collect();
    names.sort();
    names
}

/// A kubesim cluster with `config_maps` ConfigMaps in namespace `shop`, and a godwit server
/// storing into `store` and keeping its temporary files in `tmp`, both under `work`.
struct Setup {
    work: tempfile::TempDir,
    store: std::path::PathBuf,
    tmp: std::path::PathBuf,
    cluster: Cluster,
    server: Server,
    backups: Api<Backup>,
}

async fn set_up(config_maps: usize) -> Setup {
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    let tmp = work.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let cluster = cluster().await;
    create_namespace(&cluster.client, "shop").await;
    create_config_maps(&cluster.client, "shop", config_maps).await;
    let server =
        start_server_with_env(&cluster, &store, work.path(), &[], &[("TMPDIR", &tmp)]).await;
    let backups: Api<Backup> = Api::namespaced(cluster.client.clone(), SERVER_NAMESPACE);
    Setup {
        work,
        store,
        tmp,
        cluster,
        server,
        backups,
    }
}

/// Backs up namespace `shop` as `name` and waits until the backup has Completed.
async fn completed_backup(backups: &Api<Backup>, server: &Server, name: &str) {
    backups
        .create(&PostParams::default(), &backup_of(name, "shop"))
        .await
        .unwrap();
    let backup = wait_for(backups, name, server, Backup::is_terminal_phase).await;
    assert_eq!(phase_of_backup(&backup), "Completed", "{}", server.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_cut_short_by_a_crash_is_failed_on_restart_and_never_listed() {
    let Setup {
        work,
        store,
        tmp,
        cluster,
        server,
        backups,
    } = set_up(20).await;

    // One backup that completes, for the second cluster's sync to show.
    completed_backup(&backups, &server, "before").await;

    // Every list of config maps now takes a minute: the next backup stays InProgress, its
    // tarball half-written in the server's temporary folder.
    cluster.sim.faults().add(FaultRule {
        fault: Fault::Latency { millis: 60_000 },
        fraction: 1.0,
        path_contains: Some("/configmaps".to_owned()),
        method: Some("GET".to_owned()),
    });
    backups
        .create(&PostParams::default(), &backup_of("crashed", "shop"))
        .await
        .unwrap();
    wait_for(&backups, "crashed", &server, |backup| {
        phase_of_backup(backup) == "InProgress"
    })
    .await;
    // Its lock file and its tarball, being written.
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while files_under(&tmp).len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            files_under(&tmp)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let crashed_dir = store.join("godwit/backups/crashed");
    assert!(
        !crashed_dir.join("velero-backup.json").exists(),
        "the upload has not begun"
    );
    drop(server); // SIGKILL, mid-backup
    cluster.sim.faults().clear();
    // What the killed process leaves: nothing of this backup in the store; in its scratch
    // folder, its lock file and the half-written tarball.
    assert!(!crashed_dir.exists(), "{:?}", files_under(&store));
    let left_before = files_under(&tmp);
    let left = &left_before;
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(
        left.iter().all(|file| file.starts_with("godwit-server/")),
        "{left:?}"
    );

    // Worse, what a kill between the tarball's upload and the metadata's would leave:
    // `put_backup` writes everything but velero-backup.json first.
    let before_dir = store.join("godwit/backups/before");
    std::fs::create_dir_all(&crashed_dir).unwrap();
    std::fs::copy(
        before_dir.join("before.tar.gz"),
        crashed_dir.join("crashed.tar.gz"),
    )
    .unwrap();
    std::fs::copy(
        before_dir.join("before-logs.gz"),
        crashed_dir.join("crashed-logs.gz"),
    )
    .unwrap();

    let restarted =
        start_server_with_env(&cluster, &store, work.path(), &[], &[("TMPDIR", &tmp)]).await;
    // The restarted server removed the dead one's scratch folder; only its own lock is there.
    let left = files_under(&tmp);
    assert!(
        left.len() == 1 && left[0].ends_with(".lock") && !left.contains(&left_before[0]),
        "{left:?}"
    );
    let failed = wait_for(&backups, "crashed", &restarted, Backup::is_terminal_phase).await;
    assert_eq!(phase_of_backup(&failed), "Failed");
    let status = failed.status.unwrap();
    assert_eq!(status.failure_reason, INTERRUPTED_BACKUP);
    assert!(status.completion_timestamp.is_some());
    // It stays Failed: the restarted server does not run it again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let again = backups.get("crashed").await.unwrap();
    assert_eq!(phase_of_backup(&again), "Failed");
    assert!(!crashed_dir.join("velero-backup.json").exists());
    let listed = godwit(&cluster, &["backup", "get"]).await;
    let line = listed
        .lines()
        .find(|line| line.starts_with("crashed "))
        .unwrap_or_else(|| panic!("{listed}"));
    assert!(line.contains("Failed"), "{listed}");

    // A second cluster syncing from the same store gets the complete backup, never the
    // half-written one.
    let other = common::cluster().await;
    let other_server = start_server(&other, &store, work.path(), &[]).await;
    let other_backups: Api<Backup> = Api::namespaced(other.client.clone(), SERVER_NAMESPACE);
    wait_for(&other_backups, "before", &other_server, |_| true).await;
    tokio::time::sleep(Duration::from_millis(2500)).await; // two more sync rounds
    assert_eq!(backup_names(&other.client).await, ["before"]);
    let listed = godwit(&other, &["backup", "get"]).await;
    assert!(!listed.contains("crashed"), "{listed}");
    drop(other_server);
    other.sim.shutdown().await;

    // Deleting the failed backup removes its leftovers from the store.
    godwit(&cluster, &["backup", "delete", "crashed", "--confirm"]).await;
    wait_gone(&backups, "crashed", &restarted).await;
    assert!(!crashed_dir.exists(), "{:?}", files_under(&store));

    // A backup of the same name then completes, and a restore of it too.
    backups
        .create(&PostParams::default(), &backup_of("crashed", "shop"))
        .await
        .unwrap();
    let redone = wait_for(&backups, "crashed", &restarted, Backup::is_terminal_phase).await;
    assert_eq!(phase_of_backup(&redone), "Completed", "{}", restarted.log());
    let restores: Api<Restore> = Api::namespaced(cluster.client.clone(), SERVER_NAMESPACE);
    let mut restore = restore_of("after-crash", "crashed");
    restore.spec.namespace_mapping = Some([("shop".to_owned(), "shop-copy".to_owned())].into());
    restores
        .create(&PostParams::default(), &restore)
        .await
        .unwrap();
    let restored = wait_for(
        &restores,
        "after-crash",
        &restarted,
        Restore::is_terminal_phase,
    )
    .await;
    assert_eq!(
        phase_of_restore(&restored),
        "Completed",
        "{}",
        restarted.log()
    );
    let copies: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), "shop-copy");
    let copied = copies
        .list(&ListParams::default().labels("app=shop"))
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(copied, 20);
    drop(restarted);
    cluster.sim.shutdown().await;
}

/// One way of tampering with backup `good` in the store.
struct Tampering {
    what: &'static str,
    /// The file of `backups/good/` replaced (or removed, when `bytes` is `None`).
    file: &'static str,
    bytes: Option<Vec<u8>>,
    /// `Failed` or `FailedValidation`.
    phase: &'static str,
    /// Each must be in the failure reason or the validation error.
    fragments: Vec<&'static str>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restores_from_a_tampered_store_fail_naming_the_object_and_write_nothing() {
    let Setup {
        work,
        store,
        tmp,
        cluster,
        server,
        backups,
    } = set_up(3).await;
    completed_backup(&backups, &server, "good").await;

    let dir = store.join("godwit/backups/good");
    let tarball = std::fs::read(dir.join("good.tar.gz")).unwrap();
    let metadata = std::fs::read(dir.join("velero-backup.json")).unwrap();
    let metadata_json: serde_json::Value = serde_json::from_slice(&metadata).unwrap();
    let edited = |edit: fn(&mut serde_json::Value)| {
        let mut value = metadata_json.clone();
        edit(&mut value);
        Some(serde_json::to_vec(&value).unwrap())
    };
    let hostile = |name: &str| Some(godwit_fixtures::read(&format!("tarballs/{name}")));
    let tarball_key = "backups/good/good.tar.gz in ";
    let cases = vec![
        Tampering {
            what: "truncated tarball",
            file: "good.tar.gz",
            bytes: Some(tarball[..tarball.len() / 2].to_vec()),
            phase: "Failed",
            fragments: vec!["cannot read the tarball of backup good", tarball_key],
        },
        Tampering {
            what: "tarball removed",
            file: "good.tar.gz",
            bytes: None,
            phase: "Failed",
            fragments: vec![
                "tarball of backup good not found",
                "(no object backups/good/good.tar.gz)",
            ],
        },
        Tampering {
            what: "'..' in an entry",
            file: "good.tar.gz",
            bytes: hostile("hostile-traversal.tar.gz"),
            phase: "Failed",
            fragments: vec![
                tarball_key,
                "unsafe entry \"resources/pods/namespaces/shop/../../../../../outside.json\"",
            ],
        },
        Tampering {
            what: "absolute entry path",
            file: "good.tar.gz",
            bytes: hostile("hostile-absolute-path.tar.gz"),
            phase: "Failed",
            fragments: vec![tarball_key, "unsafe entry \"/etc/cron.d/evil\""],
        },
        Tampering {
            what: "symbolic link entry",
            file: "good.tar.gz",
            bytes: hostile("hostile-symlink.tar.gz"),
            phase: "Failed",
            fragments: vec![
                tarball_key,
                "entry \"resources/pods/cluster/link.json\"",
                "is a symbolic link",
            ],
        },
        Tampering {
            what: "unknown tarball format",
            file: "good.tar.gz",
            bytes: hostile("hostile-unknown-version.tar.gz"),
            phase: "Failed",
            fragments: vec![tarball_key, "says backup format \"2.0.0\""],
        },
        Tampering {
            what: "metadata not JSON",
            file: "velero-backup.json",
            bytes: Some(b"{\"metadata\": ".to_vec()),
            phase: "FailedValidation",
            fragments: vec!["backup good: its velero-backup.json is not a Backup"],
        },
        Tampering {
            what: "metadata of another backup",
            file: "velero-backup.json",
            bytes: edited(|value| value["metadata"]["name"] = "other".into()),
            phase: "FailedValidation",
            fragments: vec!["backup good: its velero-backup.json describes backup \"other\""],
        },
        Tampering {
            what: "unknown metadata format",
            file: "velero-backup.json",
            bytes: edited(|value| value["status"]["formatVersion"] = "2.0.0".into()),
            phase: "FailedValidation",
            fragments: vec!["backup good: its velero-backup.json says format version \"2.0.0\""],
        },
        Tampering {
            what: "metadata without a status",
            file: "velero-backup.json",
            bytes: edited(|value| {
                value.as_object_mut().unwrap().remove("status");
            }),
            phase: "FailedValidation",
            fragments: vec!["backup good has no phase yet", "velero-backup.json"],
        },
        Tampering {
            what: "metadata removed",
            file: "velero-backup.json",
            bytes: None,
            phase: "FailedValidation",
            fragments: vec!["backup good not found in"],
        },
    ];

    let restores: Api<Restore> = Api::namespaced(cluster.client.clone(), SERVER_NAMESPACE);
    let namespaces: Api<Namespace> = Api::all(cluster.client.clone());
    let all_config_maps: Api<ConfigMap> = Api::all(cluster.client.clone());
    for (index, case) in cases.iter().enumerate() {
        let path = dir.join(case.file);
        match &case.bytes {
            Some(bytes) => std::fs::write(&path, bytes).unwrap(),
            None => std::fs::remove_file(&path).unwrap(),
        }
        let name = format!("tampered-{index}");
        let target = format!("target-{index}");
        let mut restore = restore_of(&name, "good");
        restore.spec.namespace_mapping = Some([("shop".to_owned(), target.clone())].into());
        restores
            .create(&PostParams::default(), &restore)
            .await
            .unwrap();
        let done = wait_for(&restores, &name, &server, Restore::is_terminal_phase).await;
        let what = case.what;
        assert_eq!(phase_of_restore(&done), case.phase, "{what}: {done:#?}");
        let status = done.status.unwrap();
        let message = match case.phase {
            "Failed" => status.failure_reason.clone(),
            _ => status
                .validation_errors
                .clone()
                .unwrap_or_default()
                .join("; "),
        };
        for fragment in &case.fragments {
            assert!(
                message.contains(fragment),
                "{what}: {message:?} lacks {fragment:?}"
            );
        }

        // Nothing written: no namespace, no object, no file left in the temporary folder.
        assert!(
            namespaces.get_opt(&target).await.unwrap().is_none(),
            "{what}"
        );
        let made = all_config_maps
            .list(&ListParams::default().labels(&format!("velero.io/restore-name={name}")))
            .await
            .unwrap()
            .items;
        assert!(made.is_empty(), "{what}: {made:?}");
        let left = files_under(&tmp);
        assert!(
            left.len() == 1 && left[0].ends_with(".lock"),
            "{what}: only the server's lock file: {left:?}"
        );

        std::fs::write(dir.join("good.tar.gz"), &tarball).unwrap();
        std::fs::write(dir.join("velero-backup.json"), &metadata).unwrap();
    }
    // Outside the store and the temporary folder, only the server's log.
    let mut top: Vec<String> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.ends_with(".log"))
        .collect();
    top.sort();
    assert_eq!(top, ["store", "tmp"]);

    // The intact backup restores: the failures above were the tampering's.
    let mut restore = restore_of("intact", "good");
    restore.spec.namespace_mapping = Some([("shop".to_owned(), "target-intact".to_owned())].into());
    restores
        .create(&PostParams::default(), &restore)
        .await
        .unwrap();
    let done = wait_for(&restores, "intact", &server, Restore::is_terminal_phase).await;
    assert_eq!(phase_of_restore(&done), "Completed", "{}", server.log());
    drop(server);
    cluster.sim.shutdown().await;
}

/// Writes a stored backup's directory: `velero-backup.json` (when given) and a tarball.
fn plant(store: &Path, dir: &str, metadata: Option<&[u8]>) {
    let dir = store.join("godwit/backups").join(dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("backup.tar.gz"), b"not read by the sync").unwrap();
    if let Some(metadata) = metadata {
        std::fs::write(dir.join("velero-backup.json"), metadata).unwrap();
    }
}

fn stored_metadata(name: &str, format: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "apiVersion": "velero.io/v1",
        "kind": "Backup",
        "metadata": {"name": name, "namespace": "velero"},
        "spec": {"includedNamespaces": ["shop"]},
        "status": {"phase": "Completed", "formatVersion": format, "version": 1}
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_sync_creates_no_backup_for_a_tampered_or_unfinished_one() {
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    plant(&store, "good", Some(&stored_metadata("good", "1.1.0")));
    // Directory names that are no Kubernetes object name, however valid their metadata.
    for name in ["..evil", "a..b", "UPPER", "with space", "x%2F..%2Fy"] {
        plant(&store, name, Some(&stored_metadata(name, "1.1.0")));
    }
    plant(&store, "not-json", Some(b"{\"metadata\": "));
    plant(
        &store,
        "renamed",
        Some(&stored_metadata("good-copy", "1.1.0")),
    );
    plant(&store, "future", Some(&stored_metadata("future", "2.0.0")));
    plant(
        &store,
        "no-status",
        Some(br#"{"kind":"Backup","metadata":{"name":"no-status"},"spec":{}}"#),
    );
    plant(
        &store,
        "no-spec",
        Some(br#"{"kind":"Backup","metadata":{"name":"no-spec"},"status":{"phase":"Completed"}}"#),
    );
    plant(&store, "half-written", None);
    let planted = files_under(&store);

    let cluster = cluster().await;
    let server = start_server(&cluster, &store, work.path(), &[]).await;
    let backups: Api<Backup> = Api::namespaced(cluster.client.clone(), SERVER_NAMESPACE);
    wait_for(&backups, "good", &server, |_| true).await;
    tokio::time::sleep(Duration::from_millis(2500)).await; // two more sync rounds
    assert_eq!(backup_names(&cluster.client).await, ["good"]);

    let log = server.log();
    for (backup, reason) in [
        ("..evil", "whose name is not a Kubernetes object name"),
        ("a..b", "whose name is not a Kubernetes object name"),
        ("UPPER", "whose name is not a Kubernetes object name"),
        ("not-json", "its velero-backup.json is not a Backup"),
        (
            "renamed",
            "its velero-backup.json describes backup \"good-copy\"",
        ),
        ("future", "says format version \"2.0.0\""),
        ("no-status", "never finished"),
        (
            "no-spec",
            "its velero-backup.json is not a Backup (missing field `spec`",
        ),
    ] {
        assert!(
            log.lines()
                .any(|line| line.contains(&format!("backup={backup}")) && line.contains(reason)),
            "no warning naming {backup} with {reason:?}:\n{log}"
        );
    }
    // The sync only reads: the store is as planted, save the location's own check.
    assert_eq!(files_under(&store), planted);
    drop(server);
    cluster.sim.shutdown().await;
}
