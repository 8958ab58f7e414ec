//! One behavioural test body run against both providers: a local directory, and a real S3
//! server (s3s-fs) on 127.0.0.1 reached over HTTP.

#![allow(clippy::unwrap_used)]

mod common;

use bytes::Bytes;
use common::{S3Server, files_under, local_location, pseudo_random};
use futures::{StreamExt, TryStreamExt};
use godwit_storage::{
    BackupFile, BackupStore, BackupUpload, Error, RestoreFile, Tarball, install_crypto_provider,
};

/// Big enough to go up as a multipart upload in two parts and come back in many chunks.
const BIG_TARBALL: usize = 12 * 1024 * 1024;

fn metadata(name: &str) -> Bytes {
    Bytes::from(format!(
        r#"{{"apiVersion":"velero.io/v1","kind":"Backup","metadata":{{"name":"{name}","namespace":"velero"}},"spec":{{"includedNamespaces":["*"]}},"status":{{"phase":"Completed","formatVersion":"1.1.0"}}}}"#
    ))
}

fn file_contents(file: BackupFile) -> Bytes {
    Bytes::from(format!("gzipped {file:?} of nightly").into_bytes())
}

/// The keys, relative to the prefix, a backup with every file has.
fn nightly_keys() -> Vec<String> {
    let mut keys = vec![
        "backups/nightly/velero-backup.json".to_owned(),
        "backups/nightly/nightly.tar.gz".to_owned(),
        "backups/nightly/nightly-logs.gz".to_owned(),
        "backups/nightly/nightly-resource-list.json.gz".to_owned(),
        "backups/nightly/nightly-results.gz".to_owned(),
        "backups/nightly/nightly-itemoperations.json.gz".to_owned(),
        "backups/nightly/nightly-volumesnapshots.json.gz".to_owned(),
        "backups/nightly/nightly-podvolumebackups.json.gz".to_owned(),
        "backups/nightly/nightly-csi-volumesnapshots.json.gz".to_owned(),
        "backups/nightly/nightly-csi-volumesnapshotcontents.json.gz".to_owned(),
        "backups/nightly/nightly-csi-volumesnapshotclasses.json.gz".to_owned(),
        "backups/nightly/nightly-volumeinfo.json.gz".to_owned(),
    ];
    keys.sort();
    keys
}

/// Runs every operation against `store`; `stored_files` lists what the provider holds on disk
/// under the location's prefix, to compare with Velero's layout.
async fn exercise(store: BackupStore, stored_files: impl Fn() -> Vec<String>) {
    let work = tempfile::tempdir().unwrap();

    // An empty location.
    assert_eq!(store.list_backups().await.unwrap(), Vec::<String>::new());
    assert!(!store.backup_exists("nightly").await.unwrap());
    store.check_layout().await.unwrap();

    // A big backup with every file, its tarball streamed from disk.
    let big = pseudo_random(BIG_TARBALL, 1);
    let tarball_path = work.path().join("nightly.tar.gz");
    std::fs::write(&tarball_path, &big).unwrap();
    let mut upload = BackupUpload::new(metadata("nightly"), Tarball::File(tarball_path));
    for file in BackupFile::ALL {
        upload = upload.with_file(file, file_contents(file));
    }
    store.put_backup("nightly", upload).await.unwrap();

    // A small one from memory, and one from a stream, with only a log.
    let small = Bytes::from(pseudo_random(1000, 2));
    store
        .put_backup(
            "weekly",
            BackupUpload::new(metadata("weekly"), Tarball::Bytes(small.clone())),
        )
        .await
        .unwrap();
    let chunks: Vec<std::io::Result<Bytes>> = (0..5)
        .map(|i| Ok(Bytes::from(pseudo_random(300_000, 10 + i))))
        .collect();
    let streamed: Vec<u8> = chunks
        .iter()
        .flat_map(|c| c.as_ref().unwrap().to_vec())
        .collect();
    store
        .put_backup(
            "from-stream",
            BackupUpload::new(
                metadata("from-stream"),
                Tarball::Stream(futures::stream::iter(chunks).boxed()),
            )
            .with_file(BackupFile::Log, "log of from-stream"),
        )
        .await
        .unwrap();

    // Listing and reading back.
    assert_eq!(
        store.list_backups().await.unwrap(),
        ["from-stream", "nightly", "weekly"]
    );
    assert!(store.backup_exists("nightly").await.unwrap());
    assert_eq!(
        store.get_backup_metadata("nightly").await.unwrap(),
        metadata("nightly")
    );
    let download = store.get_tarball("nightly").await.unwrap();
    assert_eq!(download.size, BIG_TARBALL as u64);
    let chunks: Vec<Bytes> = download.stream.try_collect().await.unwrap();
    assert!(chunks.len() > 1, "a big tarball arrives as a stream");
    assert!(
        chunks.concat() == big,
        "tarball differs after the round trip"
    );
    let downloaded = work.path().join("downloaded.tar.gz");
    let size = store
        .download_tarball("nightly", &downloaded)
        .await
        .unwrap();
    assert_eq!(size, BIG_TARBALL as u64);
    assert!(std::fs::read(&downloaded).unwrap() == big);
    for file in BackupFile::ALL {
        assert_eq!(
            store.get_backup_file("nightly", file).await.unwrap(),
            Some(file_contents(file)),
            "{file:?}"
        );
    }
    assert_eq!(
        store.get_backup_logs("nightly").await.unwrap(),
        file_contents(BackupFile::Log)
    );
    let weekly: Vec<Bytes> = store
        .get_tarball("weekly")
        .await
        .unwrap()
        .stream
        .try_collect()
        .await
        .unwrap();
    assert_eq!(weekly.concat(), small);
    let from_stream: Vec<Bytes> = store
        .get_tarball("from-stream")
        .await
        .unwrap()
        .stream
        .try_collect()
        .await
        .unwrap();
    assert!(from_stream.concat() == streamed);
    assert_eq!(
        store.get_backup_logs("from-stream").await.unwrap(),
        "log of from-stream"
    );
    // Files a backup does not have.
    assert_eq!(
        store
            .get_backup_file("weekly", BackupFile::Results)
            .await
            .unwrap(),
        None
    );
    let err = store.get_backup_logs("weekly").await.unwrap_err();
    assert!(
        matches!(err, Error::NotFound { .. })
            && err
                .to_string()
                .starts_with("log of backup weekly not found in "),
        "{err}"
    );

    // Velero's layout, key for key.
    let mut expected = nightly_keys();
    expected.extend([
        "backups/from-stream/from-stream-logs.gz".to_owned(),
        "backups/from-stream/from-stream.tar.gz".to_owned(),
        "backups/from-stream/velero-backup.json".to_owned(),
        "backups/weekly/velero-backup.json".to_owned(),
        "backups/weekly/weekly.tar.gz".to_owned(),
    ]);
    expected.sort();
    assert_eq!(stored_files(), expected);

    // Finalizing rewrites the metadata of a complete backup only.
    let finalized = Bytes::from_static(br#"{"kind":"Backup","status":{"phase":"Completed"}}"#);
    store
        .put_backup_metadata("weekly", finalized.clone())
        .await
        .unwrap();
    assert_eq!(
        store.get_backup_metadata("weekly").await.unwrap(),
        finalized
    );
    let err = store
        .put_backup_metadata("absent", finalized)
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("backup absent not found in "),
        "{err}"
    );
    assert!(!store.backup_exists("absent").await.unwrap());

    // A complete backup is never overwritten; bad names never reach a key.
    let again = BackupUpload::new(
        metadata("nightly"),
        Tarball::Bytes(Bytes::from_static(b"x")),
    );
    let err = store.put_backup("nightly", again).await.unwrap_err();
    assert!(matches!(err, Error::BackupExists { .. }), "{err}");
    assert!(store.get_tarball("nightly").await.unwrap().size == BIG_TARBALL as u64);
    assert!(
        store
            .tarball_key("nightly")
            .unwrap()
            .ends_with("backups/nightly/nightly.tar.gz")
    );
    for bad in ["../nightly", "a/b", "", "Nightly", ".."] {
        assert!(store.tarball_key(bad).is_err(), "{bad:?}");
        let err = store.get_backup_metadata(bad).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidName { kind: "backup", .. }),
            "{bad:?}: {err}"
        );
        let err = store.put_restore_log(bad, "x").await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidName {
                    kind: "restore",
                    ..
                }
            ),
            "{bad:?}: {err}"
        );
    }

    // Restores.
    store
        .put_restore_log("nightly-20240101", "restore log")
        .await
        .unwrap();
    store
        .put_restore_results("nightly-20240101", "restore results")
        .await
        .unwrap();
    store
        .put_restore_file(
            "nightly-20240101",
            RestoreFile::ResourceList,
            Bytes::from_static(b"restored"),
        )
        .await
        .unwrap();
    assert_eq!(
        store.get_restore_log("nightly-20240101").await.unwrap(),
        "restore log"
    );
    assert_eq!(
        store.get_restore_results("nightly-20240101").await.unwrap(),
        "restore results"
    );
    assert_eq!(
        store
            .get_restore_file("nightly-20240101", RestoreFile::ResourceList)
            .await
            .unwrap(),
        Some(Bytes::from_static(b"restored"))
    );
    assert_eq!(
        store
            .get_restore_file("nightly-20240101", RestoreFile::ItemOperations)
            .await
            .unwrap(),
        None
    );
    let restore_keys: Vec<String> = stored_files()
        .into_iter()
        .filter(|k| k.starts_with("restores/"))
        .collect();
    assert_eq!(
        restore_keys,
        [
            "restores/nightly-20240101/restore-nightly-20240101-logs.gz",
            "restores/nightly-20240101/restore-nightly-20240101-resource-list.json.gz",
            "restores/nightly-20240101/restore-nightly-20240101-results.gz",
        ]
    );
    // Restores are not backups.
    assert_eq!(store.list_backups().await.unwrap().len(), 3);
    store.check_layout().await.unwrap();

    // Deleting.
    store.delete_backup("nightly").await.unwrap();
    assert_eq!(
        store.list_backups().await.unwrap(),
        ["from-stream", "weekly"]
    );
    assert!(!store.backup_exists("nightly").await.unwrap());
    let err = store.get_tarball("nightly").await.unwrap_err();
    assert!(
        err.to_string().starts_with("backup nightly not found in "),
        "{err}"
    );
    assert!(
        stored_files()
            .iter()
            .all(|k| !k.starts_with("backups/nightly/")),
        "{:?}",
        stored_files()
    );
    store.delete_backup("nightly").await.unwrap();
    store.delete_restore("nightly-20240101").await.unwrap();
    let err = store.get_restore_log("nightly-20240101").await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("log of restore nightly-20240101 not found in "),
        "{err}"
    );

    // The name is free again after a delete.
    store
        .put_backup(
            "nightly",
            BackupUpload::new(metadata("nightly"), Tarball::Bytes(small.clone())),
        )
        .await
        .unwrap();
    assert_eq!(store.list_backups().await.unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_directory() {
    let root = tempfile::tempdir().unwrap();
    let location = local_location(root.path(), "cluster-1");
    let store = BackupStore::open(&location).await.unwrap();
    let prefix_dir = root.path().join("velero").join("cluster-1");
    exercise(store, || files_under(&prefix_dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_server_on_loopback() {
    install_crypto_provider();
    let server = S3Server::start().await;
    let store = BackupStore::open(&server.location("team-a/cluster-1"))
        .await
        .unwrap();
    assert_eq!(store.location(), "s3://velero/team-a/cluster-1");
    let prefix_dir = server.bucket_dir().join("team-a").join("cluster-1");
    exercise(store, || files_under(&prefix_dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_top_level_directories_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let location = local_location(root.path(), "");
    let bucket = root.path().join("velero");
    for dir in [
        "backups/b",
        "restic/x",
        "kopia/y",
        "photos",
        "music",
        "docs",
        "zz",
    ] {
        std::fs::create_dir_all(bucket.join(dir)).unwrap();
        std::fs::write(bucket.join(dir).join("f"), "x").unwrap();
    }
    let store = BackupStore::open(&location).await.unwrap();
    let err = store.check_layout().await.unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("contains 4 invalid top-level directories: docs, music, photos, ...;"),
        "{message}"
    );
    // A directory under backups/ without metadata is not a backup.
    assert_eq!(store.list_backups().await.unwrap(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_refused_by_the_server() {
    install_crypto_provider();
    let server = S3Server::start().await;
    let mut location = server.location("");
    let godwit_storage::Provider::Aws(aws) = &mut location.provider else {
        unreachable!()
    };
    let wrong = server.dir.path().join("wrong");
    std::fs::write(
        &wrong,
        "[default]\naws_access_key_id = AKWRONG\naws_secret_access_key = nope\n",
    )
    .unwrap();
    aws.credentials.file = Some(wrong);
    let store = BackupStore::open(&location).await.unwrap();
    let err = store.list_backups().await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("listing backups in s3://velero: "),
        "{err}"
    );
}
