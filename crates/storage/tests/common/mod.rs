//! Test helpers: an S3 server on 127.0.0.1 (s3s-fs in-process), locations for both providers,
//! and an object store that fails on purpose.

#![allow(clippy::unwrap_used, dead_code)]

use std::fmt;
use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use godwit_storage::{LocationConfig, PROVIDER_AWS, PROVIDER_LOCAL, StorageLocationSpec};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, UploadPart,
};

pub const ACCESS_KEY: &str = "AKGODWITTEST";
pub const SECRET_KEY: &str = "godwit-test-secret";
pub const BUCKET: &str = "velero";

/// An S3-compatible server (s3s-fs) listening on a random port of 127.0.0.1, storing objects
/// under a temporary directory. Stops when dropped.
pub struct S3Server {
    pub endpoint: String,
    pub dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl S3Server {
    pub async fn start() -> S3Server {
        use hyper_util::rt::{TokioExecutor, TokioIo};
        use hyper_util::server::conn::auto::Builder;
        use s3s::auth::SimpleAuth;
        use s3s::service::S3ServiceBuilder;

        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join(BUCKET)).unwrap();
        let fs = s3s_fs::FileSystem::new(&data).unwrap();
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let service = service.clone();
                tokio::spawn(async move {
                    let _ = Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        S3Server {
            endpoint,
            dir,
            task,
        }
    }

    /// Where the server keeps the bucket's objects, one file per key.
    pub fn bucket_dir(&self) -> PathBuf {
        self.dir.path().join("data").join(BUCKET)
    }

    /// A BackupStorageLocation for this server, as a Velero user writes it for MinIO, with
    /// credentials in a shared credentials file (Velero's `cloud-credentials` secret).
    pub fn location(&self, prefix: &str) -> LocationConfig {
        let credentials = self.dir.path().join("cloud");
        std::fs::write(
            &credentials,
            format!(
                "[default]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
            ),
        )
        .unwrap();
        let spec = StorageLocationSpec {
            provider: PROVIDER_AWS.to_owned(),
            bucket: BUCKET.to_owned(),
            prefix: prefix.to_owned(),
            ca_cert: None,
            config: [
                ("region", "minio"),
                ("s3Url", self.endpoint.as_str()),
                ("s3ForcePathStyle", "true"),
                ("credentialsFile", credentials.to_str().unwrap()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        };
        LocationConfig::from_spec(&spec).unwrap()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A local-directory location under `root`, written as a BackupStorageLocation would be.
pub fn local_location(root: &FsPath, prefix: &str) -> LocationConfig {
    let spec = StorageLocationSpec {
        provider: PROVIDER_LOCAL.to_owned(),
        bucket: BUCKET.to_owned(),
        prefix: prefix.to_owned(),
        ca_cert: None,
        config: [("root".to_owned(), root.to_str().unwrap().to_owned())].into(),
    };
    LocationConfig::from_spec(&spec).unwrap()
}

/// Every file under `dir`, as sorted '/'-separated relative paths.
pub fn files_under(dir: &FsPath) -> Vec<String> {
    fn walk(dir: &FsPath, base: &FsPath, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, base, out);
            } else {
                let relative = path.strip_prefix(base).unwrap();
                out.push(relative.to_str().unwrap().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Deterministic bytes that do not compress to nothing, so sizes mean what they say.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u8
        })
        .collect()
}

/// Wraps a store and fails the `fail_at`-th write (1-based; a single put or one multipart part
/// counts as one write), and optionally every delete: a backup upload interrupted midway.
#[derive(Debug)]
pub struct FailingStore {
    inner: Arc<dyn ObjectStore>,
    fail_at: usize,
    fail_deletes: bool,
    writes: Arc<AtomicUsize>,
    log: Arc<Mutex<Vec<String>>>,
}

impl FailingStore {
    pub fn new(inner: Arc<dyn ObjectStore>, fail_at: usize, fail_deletes: bool) -> Self {
        FailingStore {
            inner,
            fail_at,
            fail_deletes,
            writes: Arc::new(AtomicUsize::new(0)),
            log: Arc::default(),
        }
    }

    /// The key of every write so far, in order (one entry per multipart part).
    pub fn written_keys(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Writes seen so far, including the failed one.
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }
}

fn injected(what: &str) -> object_store::Error {
    object_store::Error::Generic {
        store: "FailingStore",
        source: format!("injected failure of {what}").into(),
    }
}

/// Counts one write; `true` when it is the one to fail.
fn should_fail(writes: &AtomicUsize, fail_at: usize) -> bool {
    writes.fetch_add(1, Ordering::SeqCst) + 1 == fail_at
}

impl fmt::Display for FailingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FailingStore({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for FailingStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.log.lock().unwrap().push(location.to_string());
        if should_fail(&self.writes, self.fail_at) {
            return Err(injected(&format!("put {location}")));
        }
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        let inner = self.inner.put_multipart_opts(location, opts).await?;
        Ok(Box::new(FailingUpload {
            inner,
            key: location.to_string(),
            fail_at: self.fail_at,
            writes: Arc::clone(&self.writes),
            log: Arc::clone(&self.log),
        }))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        if self.fail_deletes {
            return locations
                .map(|location| Err(injected(&format!("delete {}", location?))))
                .boxed();
        }
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

#[derive(Debug)]
struct FailingUpload {
    inner: Box<dyn MultipartUpload>,
    key: String,
    fail_at: usize,
    writes: Arc<AtomicUsize>,
    log: Arc<Mutex<Vec<String>>>,
}

#[async_trait]
impl MultipartUpload for FailingUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        self.log.lock().unwrap().push(self.key.clone());
        if should_fail(&self.writes, self.fail_at) {
            return Box::pin(async { Err(injected("upload part")) });
        }
        self.inner.put_part(data)
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        self.inner.complete().await
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        self.inner.abort().await
    }
}
