//! Interrupted backups: whichever write fails, nothing lists as a complete backup afterwards,
//! and what was uploaded is removed where the store allows it.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use bytes::Bytes;
use common::{ACCESS_KEY, BUCKET, FailingStore, S3Server, SECRET_KEY, files_under, pseudo_random};
use futures::{StreamExt, TryStreamExt};
use godwit_storage::{
    BackupFile, BackupStore, BackupUpload, Error, Tarball, install_crypto_provider,
};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// Small parts keep the local tests fast; the S3 server insists on 5 MiB, as S3 does.
const PART_SIZE: usize = 256 * 1024;
const S3_PART_SIZE: usize = 5 * 1024 * 1024;

fn upload(name: &str) -> BackupUpload {
    sized_upload(name, 4 * PART_SIZE + 123)
}

fn sized_upload(name: &str, tarball: usize) -> BackupUpload {
    BackupUpload::new(
        format!(r#"{{"kind":"Backup","metadata":{{"name":"{name}"}}}}"#),
        Tarball::Bytes(Bytes::from(pseudo_random(tarball, 7))),
    )
    .with_file(BackupFile::Log, "log")
    .with_file(BackupFile::ResourceList, "resources")
    .with_file(BackupFile::Results, "results")
}

fn backup_store(store: Arc<dyn ObjectStore>) -> BackupStore {
    sized_store(store, PART_SIZE)
}

fn sized_store(store: Arc<dyn ObjectStore>, part_size: usize) -> BackupStore {
    BackupStore::new(store, "prefix", "test location")
        .unwrap()
        .with_part_size(part_size)
}

async fn keys_under(store: &dyn ObjectStore, prefix: &str) -> Vec<String> {
    let mut keys: Vec<String> = store
        .list(Some(&Path::from(prefix)))
        .map_ok(|meta| meta.location.to_string())
        .try_collect()
        .await
        .unwrap();
    keys.sort();
    keys
}

/// Fails each write of a backup in turn, then checks that a full upload still works.
async fn every_write_can_fail(inner: Arc<dyn ObjectStore>, part_size: usize) {
    let tarball = part_size + 123;
    let store_with = |store: Arc<dyn ObjectStore>| sized_store(store, part_size);
    // How many writes a whole backup takes: parts of the tarball, three files, the metadata.
    let counter = Arc::new(FailingStore::new(Arc::clone(&inner), usize::MAX, false));
    store_with(counter.clone())
        .put_backup("counted", sized_upload("counted", tarball))
        .await
        .unwrap();
    let writes = counter.writes();
    assert_eq!(
        counter.written_keys(),
        [
            "prefix/backups/counted/counted.tar.gz",
            "prefix/backups/counted/counted.tar.gz",
            "prefix/backups/counted/counted-logs.gz",
            "prefix/backups/counted/counted-resource-list.json.gz",
            "prefix/backups/counted/counted-results.gz",
            "prefix/backups/counted/velero-backup.json",
        ],
        "two tarball parts, the files, and the metadata last"
    );
    store_with(Arc::clone(&inner))
        .delete_backup("counted")
        .await
        .unwrap();

    for fail_at in 1..=writes {
        let failing = Arc::new(FailingStore::new(Arc::clone(&inner), fail_at, false));
        let store = store_with(failing);
        let err = store
            .put_backup("nightly", sized_upload("nightly", tarball))
            .await
            .unwrap_err();
        let Error::PutBackup { leftovers, .. } = &err else {
            panic!("write {fail_at}: {err}");
        };
        assert!(leftovers.is_empty(), "write {fail_at}: {err}");
        assert!(
            err.to_string().contains("injected failure"),
            "write {fail_at}: {err}"
        );
        assert!(
            err.to_string().ends_with("its partial upload was removed"),
            "write {fail_at}: {err}"
        );

        assert_eq!(store.list_backups().await.unwrap(), Vec::<String>::new());
        assert!(!store.backup_exists("nightly").await.unwrap());
        assert_eq!(
            keys_under(inner.as_ref(), "prefix/backups").await,
            Vec::<String>::new(),
            "write {fail_at} left objects behind"
        );
    }

    let store = store_with(Arc::clone(&inner));
    store
        .put_backup("nightly", sized_upload("nightly", tarball))
        .await
        .unwrap();
    assert_eq!(store.list_backups().await.unwrap(), ["nightly"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_directory_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let inner = LocalFileSystem::new_with_prefix(dir.path())
        .unwrap()
        .with_automatic_cleanup(true);
    every_write_can_fail(Arc::new(inner), PART_SIZE).await;
    // Nothing but the final backup on disk: no staging files of aborted multipart uploads.
    let files = files_under(dir.path());
    assert_eq!(files.len(), 5, "{files:?}");
    assert!(
        files
            .iter()
            .all(|f| f.starts_with("prefix/backups/nightly/"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_server_every_write() {
    install_crypto_provider();
    let server = S3Server::start().await;
    let inner = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(&server.endpoint)
        .with_allow_http(true)
        .with_bucket_name(BUCKET)
        .with_region("minio")
        .with_access_key_id(ACCESS_KEY)
        .with_secret_access_key(SECRET_KEY)
        // Hashing megabytes in a debug build is the slow part; backup_store.rs covers signing.
        .with_unsigned_payload(true)
        .build()
        .unwrap();
    every_write_can_fail(Arc::new(inner), S3_PART_SIZE).await;
    let files = files_under(&server.bucket_dir());
    assert_eq!(files.len(), 5, "{files:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_cleanup_is_reported_and_still_lists_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let inner: Arc<dyn ObjectStore> =
        Arc::new(LocalFileSystem::new_with_prefix(dir.path()).unwrap());

    // The metadata write fails (the last one) and so does every delete.
    let counter = Arc::new(FailingStore::new(Arc::clone(&inner), usize::MAX, false));
    backup_store(counter.clone())
        .put_backup("probe", upload("probe"))
        .await
        .unwrap();
    let last = counter.writes();
    let failing = Arc::new(FailingStore::new(Arc::clone(&inner), last, true));
    let err = backup_store(failing)
        .put_backup("nightly", upload("nightly"))
        .await
        .unwrap_err();
    let Error::PutBackup { leftovers, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(
        leftovers,
        // The failed metadata write is listed too: a failed write may still have landed.
        &[
            "prefix/backups/nightly/velero-backup.json",
            "prefix/backups/nightly/nightly-results.gz",
            "prefix/backups/nightly/nightly-resource-list.json.gz",
            "prefix/backups/nightly/nightly-logs.gz",
            "prefix/backups/nightly/nightly.tar.gz",
        ]
    );
    assert!(err.to_string().contains("delete them by hand"), "{err}");

    let store = backup_store(Arc::clone(&inner));
    assert_eq!(store.list_backups().await.unwrap(), ["probe"]);
    assert!(!store.backup_exists("nightly").await.unwrap());
    assert!(store.get_tarball("nightly").await.is_err());

    // A retry under the same name clears the leftovers first: none of the earlier files survive.
    store
        .put_backup(
            "nightly",
            BackupUpload::new("{}", Tarball::Bytes(Bytes::from_static(b"tar"))),
        )
        .await
        .unwrap();
    assert_eq!(
        keys_under(inner.as_ref(), "prefix/backups/nightly").await,
        [
            "prefix/backups/nightly/nightly.tar.gz",
            "prefix/backups/nightly/velero-backup.json",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_tarball_producer_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let inner: Arc<dyn ObjectStore> =
        Arc::new(LocalFileSystem::new_with_prefix(dir.path()).unwrap());
    let store = backup_store(Arc::clone(&inner));
    let chunks: Vec<std::io::Result<Bytes>> = vec![
        Ok(Bytes::from(pseudo_random(PART_SIZE, 1))),
        Ok(Bytes::from(pseudo_random(PART_SIZE, 2))),
        Err(std::io::Error::other("disk full while writing the tarball")),
    ];
    let upload = BackupUpload::new("{}", Tarball::Stream(futures::stream::iter(chunks).boxed()));
    let err = store.put_backup("nightly", upload).await.unwrap_err();
    assert!(
        err.to_string().starts_with(
            "backup nightly was not stored: producing the tarball to upload: disk full while writing the tarball; its partial upload was removed"
        ),
        "{err}"
    );
    assert_eq!(store.list_backups().await.unwrap(), Vec::<String>::new());
    assert_eq!(files_under(dir.path()), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_without_metadata_are_not_a_backup() {
    // What a process killed mid-upload leaves: everything but velero-backup.json.
    let dir = tempfile::tempdir().unwrap();
    let inner: Arc<dyn ObjectStore> =
        Arc::new(LocalFileSystem::new_with_prefix(dir.path()).unwrap());
    for key in [
        "prefix/backups/killed/killed.tar.gz",
        "prefix/backups/killed/killed-logs.gz",
    ] {
        inner
            .put(&Path::from(key), PutPayload::from_static(b"partial"))
            .await
            .unwrap();
    }
    let store = backup_store(Arc::clone(&inner));
    assert_eq!(store.list_backups().await.unwrap(), Vec::<String>::new());
    assert!(!store.backup_exists("killed").await.unwrap());
    let err = store.get_tarball("killed").await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
}
