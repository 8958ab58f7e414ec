//! The backup store: Velero's backups/ and restores/ objects in one location, read and written
//! so that a backup is listed only once all of its files are complete.
//!
//! A backup counts as present when its `velero-backup.json` exists. Writing puts that file
//! last and removes everything else it wrote if any step fails; deleting removes it first.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    MultipartUpload, ObjectStore, ObjectStoreExt, PutMultipartOptions, PutOptions, PutPayload,
    TagSet,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;

use crate::config::{LocationConfig, Provider, parse_prefix, prefix_path};
use crate::credentials::ProcessEnvironment;
use crate::layout::{BackupFile, Layout, RestoreFile, TOP_LEVEL_DIRS};
use crate::name::{is_valid_name, validate_name};
use crate::{Error, s3};

/// Part size of multipart uploads: S3 needs at least 5 MiB per part, and allows 10,000 parts,
/// so this default covers tarballs up to about 80 GB.
pub const DEFAULT_PART_SIZE: usize = 8 * 1024 * 1024;

/// Parts of one tarball uploaded at once.
const PARTS_IN_FLIGHT: usize = 4;

/// Chunk size when reading a tarball from disk.
const READ_CHUNK: usize = 1024 * 1024;

/// A stream of bytes read from or written to storage.
pub type ByteStream = BoxStream<'static, Result<Bytes, Error>>;

/// Where a backup's tarball comes from.
pub enum Tarball {
    /// A file on disk, streamed (not read whole).
    File(PathBuf),
    /// Bytes already in memory.
    Bytes(Bytes),
    /// A stream, e.g. the output of a tarball writer; an `Err` item aborts the backup.
    Stream(BoxStream<'static, std::io::Result<Bytes>>),
}

impl std::fmt::Debug for Tarball {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tarball::File(path) => f.debug_tuple("File").field(path).finish(),
            Tarball::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
            Tarball::Stream(_) => f.write_str("Stream"),
        }
    }
}

/// Everything a backup stores: the metadata (written last), the tarball, and Velero's other
/// per-backup files (each already gzipped by the caller, as Velero stores them).
#[derive(Debug)]
pub struct BackupUpload {
    /// `velero-backup.json`: the Backup custom resource as JSON.
    pub metadata: Bytes,
    /// `<name>.tar.gz`.
    pub tarball: Tarball,
    /// The other files; absent kinds are not written.
    pub files: Vec<(BackupFile, Bytes)>,
}

impl BackupUpload {
    /// A backup of just its metadata and tarball.
    pub fn new(metadata: impl Into<Bytes>, tarball: Tarball) -> Self {
        BackupUpload {
            metadata: metadata.into(),
            tarball,
            files: Vec::new(),
        }
    }

    /// Adds (or replaces) one of the other per-backup files.
    pub fn with_file(mut self, file: BackupFile, contents: impl Into<Bytes>) -> Self {
        self.files.retain(|(f, _)| *f != file);
        self.files.push((file, contents.into()));
        self
    }
}

/// A tarball being downloaded.
pub struct TarballDownload {
    /// Its size in bytes, as the store reports it.
    pub size: u64,
    /// Its bytes.
    pub stream: ByteStream,
}

impl std::fmt::Debug for TarballDownload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TarballDownload")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// Backups and restores in one storage location, laid out as Velero lays them out.
#[derive(Debug, Clone)]
pub struct BackupStore {
    store: Arc<dyn ObjectStore>,
    layout: Layout,
    location: String,
    tags: Vec<(String, String)>,
    part_size: usize,
}

impl BackupStore {
    /// Opens a location: creates a local directory when missing; for S3, reads credentials and
    /// asks for the bucket's region when it must. Does not check the layout (see
    /// [`BackupStore::check_layout`]).
    pub async fn open(config: &LocationConfig) -> Result<Self, Error> {
        let prefix = parse_prefix(&config.prefix)?;
        let (store, location, tags): (Arc<dyn ObjectStore>, String, _) = match &config.provider {
            Provider::Local { root } => {
                tokio::fs::create_dir_all(root)
                    .await
                    .map_err(|source| Error::LocalFile {
                        action: "creating the storage directory",
                        path: root.clone(),
                        source,
                    })?;
                let store = LocalFileSystem::new_with_prefix(root)
                    .map_err(|source| Error::ObjectStore {
                        action: "opening",
                        key: String::new(),
                        location: root.display().to_string(),
                        source: Box::new(source),
                    })?
                    // Emptied backup directories go too, and writes are durable before the
                    // metadata that vouches for them is written.
                    .with_automatic_cleanup(true)
                    .with_fsync(true);
                (Arc::new(store), root.display().to_string(), Vec::new())
            }
            Provider::Aws(aws) => {
                let store = s3::build(aws, &ProcessEnvironment).await?;
                let location = format!("s3://{}", aws.bucket);
                (Arc::new(store), location, aws.tagging.clone())
            }
        };
        let location = if prefix.is_empty() {
            location
        } else {
            format!("{location}/{prefix}")
        };
        let mut opened = BackupStore::new(store, &prefix, location)?;
        opened.tags = tags;
        Ok(opened)
    }

    /// A backup store over any object store (for tests, or stores configured elsewhere);
    /// `location` only names it in messages.
    pub fn new(
        store: Arc<dyn ObjectStore>,
        prefix: &str,
        location: impl Into<String>,
    ) -> Result<Self, Error> {
        Ok(BackupStore {
            store,
            layout: Layout::new(prefix_path(prefix)?),
            location: location.into(),
            tags: Vec::new(),
            part_size: DEFAULT_PART_SIZE,
        })
    }

    /// Sets the multipart part size for tarballs (and the size above which they go multipart).
    /// S3 refuses parts under 5 MiB except the last one.
    pub fn with_part_size(mut self, part_size: usize) -> Self {
        self.part_size = part_size.max(1);
        self
    }

    /// The location as shown in messages (`s3://bucket/prefix`, a directory).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Velero's validity check: the prefix holds only Velero's top-level directories
    /// (`backups`, `restores`, `restic`, `kopia`, `metadata`, `plugins`).
    pub async fn check_layout(&self) -> Result<(), Error> {
        let root = self.layout.root();
        let listing = self
            .store
            .list_with_delimiter(Some(root))
            .await
            .map_err(|e| self.failed("listing", root, e))?;
        let mut invalid: Vec<String> = listing
            .common_prefixes
            .iter()
            .filter_map(|dir| dir.filename().map(str::to_owned))
            .filter(|dir| !TOP_LEVEL_DIRS.contains(&dir.as_str()))
            .collect();
        if invalid.is_empty() {
            return Ok(());
        }
        invalid.sort();
        Err(Error::InvalidLayout {
            location: self.location.clone(),
            dirs: invalid,
        })
    }

    /// The names of complete backups (their `velero-backup.json` exists), sorted. Directories
    /// under `backups/` without it are partial uploads and are not listed.
    pub async fn list_backups(&self) -> Result<Vec<String>, Error> {
        let backups = self.layout.backups_dir();
        let keys: Vec<Path> = self
            .store
            .list(Some(&backups))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(|e| self.failed("listing", &backups, e))?;
        let mut names: Vec<String> = keys
            .iter()
            .filter_map(|key| self.layout.backup_of_metadata_key(key))
            .filter(|name| {
                let valid = is_valid_name(name);
                if !valid {
                    tracing::warn!(
                        location = %self.location,
                        backup = %name,
                        "skipping a backup directory whose name is not a Kubernetes object name"
                    );
                }
                valid
            })
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// Whether a complete backup of this name is stored.
    pub async fn backup_exists(&self, name: &str) -> Result<bool, Error> {
        validate_name("backup", name)?;
        let key = self.layout.backup_metadata(name);
        match self.store.head(&key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.failed("reading", &key, e)),
        }
    }

    /// The backup's `velero-backup.json` (the Backup resource as JSON, for the caller to parse).
    pub async fn get_backup_metadata(&self, name: &str) -> Result<Bytes, Error> {
        validate_name("backup", name)?;
        let key = self.layout.backup_metadata(name);
        self.get_required(&key, || format!("backup {name}")).await
    }

    /// The backup's tarball as a stream; a complete backup's only (tarballs can be gigabytes).
    pub async fn get_tarball(&self, name: &str) -> Result<TarballDownload, Error> {
        self.require_backup(name).await?;
        let key = self.layout.backup_tarball(name);
        let result =
            self.store.get(&key).await.map_err(|e| {
                self.missing_or_failed(e, &key, || format!("tarball of backup {name}"))
            })?;
        let size = result.meta.size;
        let location = self.location.clone();
        let key_text = key.to_string();
        let stream = result
            .into_stream()
            .map_err(move |source| Error::ObjectStore {
                action: "reading",
                key: key_text.clone(),
                location: location.clone(),
                source: Box::new(source),
            })
            .boxed();
        Ok(TarballDownload { size, stream })
    }

    /// The key of the backup's tarball (`<prefix>/backups/<name>/<name>.tar.gz`), for messages
    /// about its contents.
    pub fn tarball_key(&self, name: &str) -> Result<String, Error> {
        validate_name("backup", name)?;
        Ok(self.layout.backup_tarball(name).to_string())
    }

    /// Downloads the backup's tarball to `destination`, returning its size. A failed download
    /// removes the partial file.
    pub async fn download_tarball(&self, name: &str, destination: &FsPath) -> Result<u64, Error> {
        let TarballDownload { mut stream, .. } = self.get_tarball(name).await?;
        let local = |source| Error::LocalFile {
            action: "writing tarball",
            path: destination.to_owned(),
            source,
        };
        let result: Result<u64, Error> = async {
            let mut file = tokio::fs::File::create(destination).await.map_err(local)?;
            let mut written = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                file.write_all(&chunk).await.map_err(local)?;
                written += chunk.len() as u64;
            }
            file.flush().await.map_err(local)?;
            file.sync_all().await.map_err(local)?;
            Ok(written)
        }
        .await;
        if result.is_err() {
            // The error being returned matters more than a leftover partial file.
            let _ = tokio::fs::remove_file(destination).await;
        }
        result
    }

    /// The backup's gzipped log.
    pub async fn get_backup_logs(&self, name: &str) -> Result<Bytes, Error> {
        validate_name("backup", name)?;
        let key = self.layout.backup_file(name, BackupFile::Log);
        self.get_required(&key, || format!("log of backup {name}"))
            .await
    }

    /// One of the backup's other files; `None` when the backup has none of that kind (Velero
    /// writes most of them only when there is something to say).
    pub async fn get_backup_file(
        &self,
        name: &str,
        file: BackupFile,
    ) -> Result<Option<Bytes>, Error> {
        validate_name("backup", name)?;
        self.get_optional(&self.layout.backup_file(name, file))
            .await
    }

    /// Stores a backup. Every file but the metadata is written first, then the metadata, so the
    /// backup lists only once whole. On any failure what was written is removed (best effort)
    /// and the error says what could not be. Refuses to overwrite a complete backup; leftovers
    /// of an earlier failed attempt with this name are removed first.
    pub async fn put_backup(&self, name: &str, upload: BackupUpload) -> Result<(), Error> {
        validate_name("backup", name)?;
        if self.backup_exists(name).await? {
            return Err(Error::BackupExists {
                name: name.to_owned(),
                location: self.location.clone(),
            });
        }
        self.delete_dir(
            &self.layout.backup_dir(name),
            None,
            format!("backup {name}"),
        )
        .await?;

        let mut attempted = Vec::new();
        let result = self.write_backup(name, upload, &mut attempted).await;
        let Err(source) = result else {
            return Ok(());
        };
        // Metadata first, so that even a cleanup that stops halfway lists nothing.
        attempted.reverse();
        let mut leftovers = Vec::new();
        for key in attempted {
            match self.store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => {
                    tracing::warn!(location = %self.location, %key, error = %e, "could not remove part of a failed backup");
                    leftovers.push(key.to_string());
                }
            }
        }
        Err(Error::PutBackup {
            name: name.to_owned(),
            source: Box::new(source),
            leftovers,
        })
    }

    async fn write_backup(
        &self,
        name: &str,
        upload: BackupUpload,
        attempted: &mut Vec<Path>,
    ) -> Result<(), Error> {
        let tarball = self.layout.backup_tarball(name);
        attempted.push(tarball.clone());
        self.put_tarball(&tarball, upload.tarball).await?;

        let mut files = upload.files;
        files.sort_by_key(|(file, _)| *file);
        for (file, contents) in files {
            let key = self.layout.backup_file(name, file);
            attempted.push(key.clone());
            self.put(&key, contents).await?;
        }

        let metadata = self.layout.backup_metadata(name);
        attempted.push(metadata.clone());
        self.put(&metadata, upload.metadata).await
    }

    /// Replaces the metadata of a stored backup, as Velero does when it finalizes a backup
    /// after its asynchronous operations. Only a complete backup can be updated, so this never
    /// makes a partial upload look whole.
    pub async fn put_backup_metadata(&self, name: &str, metadata: Bytes) -> Result<(), Error> {
        self.require_backup(name).await?;
        self.put(&self.layout.backup_metadata(name), metadata).await
    }

    /// Deletes a backup: its metadata first (so it stops listing at once), then the rest.
    /// Deleting a backup that is not there is not an error.
    pub async fn delete_backup(&self, name: &str) -> Result<(), Error> {
        validate_name("backup", name)?;
        let metadata = self.layout.backup_metadata(name);
        self.delete_dir(
            &self.layout.backup_dir(name),
            Some(metadata),
            format!("backup {name}"),
        )
        .await
    }

    /// Stores a restore's gzipped log.
    pub async fn put_restore_log(&self, restore: &str, log: impl Into<Bytes>) -> Result<(), Error> {
        self.put_restore_file(restore, RestoreFile::Log, log.into())
            .await
    }

    /// Stores a restore's gzipped results (`{"warnings": R, "errors": R}`).
    pub async fn put_restore_results(
        &self,
        restore: &str,
        results: impl Into<Bytes>,
    ) -> Result<(), Error> {
        self.put_restore_file(restore, RestoreFile::Results, results.into())
            .await
    }

    /// Stores one of a restore's files.
    pub async fn put_restore_file(
        &self,
        restore: &str,
        file: RestoreFile,
        contents: Bytes,
    ) -> Result<(), Error> {
        validate_name("restore", restore)?;
        self.put(&self.layout.restore_file(restore, file), contents)
            .await
    }

    /// A restore's gzipped log.
    pub async fn get_restore_log(&self, restore: &str) -> Result<Bytes, Error> {
        validate_name("restore", restore)?;
        let key = self.layout.restore_file(restore, RestoreFile::Log);
        self.get_required(&key, || format!("log of restore {restore}"))
            .await
    }

    /// A restore's gzipped results.
    pub async fn get_restore_results(&self, restore: &str) -> Result<Bytes, Error> {
        validate_name("restore", restore)?;
        let key = self.layout.restore_file(restore, RestoreFile::Results);
        self.get_required(&key, || format!("results of restore {restore}"))
            .await
    }

    /// One of a restore's files; `None` when it was not written.
    pub async fn get_restore_file(
        &self,
        restore: &str,
        file: RestoreFile,
    ) -> Result<Option<Bytes>, Error> {
        validate_name("restore", restore)?;
        self.get_optional(&self.layout.restore_file(restore, file))
            .await
    }

    /// Deletes all of a restore's files; a restore with none is not an error.
    pub async fn delete_restore(&self, restore: &str) -> Result<(), Error> {
        validate_name("restore", restore)?;
        self.delete_dir(
            &self.layout.restore_dir(restore),
            None,
            format!("restore {restore}"),
        )
        .await
    }

    async fn require_backup(&self, name: &str) -> Result<(), Error> {
        if self.backup_exists(name).await? {
            return Ok(());
        }
        Err(Error::NotFound {
            what: format!("backup {name}"),
            key: self.layout.backup_metadata(name).to_string(),
            location: self.location.clone(),
        })
    }

    fn failed(&self, action: &'static str, key: &Path, source: object_store::Error) -> Error {
        let key = if key.as_ref().is_empty() {
            "the top level".to_owned()
        } else {
            key.to_string()
        };
        Error::ObjectStore {
            action,
            key,
            location: self.location.clone(),
            source: Box::new(source),
        }
    }

    fn missing_or_failed(
        &self,
        error: object_store::Error,
        key: &Path,
        what: impl FnOnce() -> String,
    ) -> Error {
        match error {
            object_store::Error::NotFound { .. } => Error::NotFound {
                what: what(),
                key: key.to_string(),
                location: self.location.clone(),
            },
            other => self.failed("reading", key, other),
        }
    }

    async fn get_required(
        &self,
        key: &Path,
        what: impl FnOnce() -> String,
    ) -> Result<Bytes, Error> {
        let result = async { self.store.get(key).await?.bytes().await }.await;
        result.map_err(|e| self.missing_or_failed(e, key, what))
    }

    async fn get_optional(&self, key: &Path) -> Result<Option<Bytes>, Error> {
        let result = async { self.store.get(key).await?.bytes().await }.await;
        match result {
            Ok(bytes) => Ok(Some(bytes)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.failed("reading", key, e)),
        }
    }

    fn tag_set(&self) -> TagSet {
        let mut tags = TagSet::default();
        for (key, value) in &self.tags {
            tags.push(key, value);
        }
        tags
    }

    async fn put(&self, key: &Path, contents: Bytes) -> Result<(), Error> {
        let options = PutOptions {
            tags: self.tag_set(),
            ..PutOptions::default()
        };
        self.store
            .put_opts(key, PutPayload::from_bytes(contents), options)
            .await
            .map(drop)
            .map_err(|e| self.failed("writing", key, e))
    }

    async fn put_tarball(&self, key: &Path, tarball: Tarball) -> Result<(), Error> {
        let chunks: BoxStream<'static, Result<Bytes, Error>> = match tarball {
            Tarball::Bytes(bytes) => stream::once(async { Ok(bytes) }).boxed(),
            Tarball::File(path) => read_file(path).await?,
            Tarball::Stream(chunks) => chunks
                .map_err(|source| Error::TarballStream { source })
                .boxed(),
        };
        self.put_stream(key, chunks).await
    }

    /// Small streams go up in one request; larger ones as a multipart upload, which is
    /// aborted (its parts discarded) on failure, so no partial object appears.
    async fn put_stream(
        &self,
        key: &Path,
        mut chunks: BoxStream<'static, Result<Bytes, Error>>,
    ) -> Result<(), Error> {
        let mut head = Vec::new();
        let mut head_len = 0;
        while head_len <= self.part_size {
            match chunks.next().await {
                Some(chunk) => {
                    let chunk = chunk?;
                    head_len += chunk.len();
                    head.push(chunk);
                }
                None => {
                    let payload: PutPayload = head.into_iter().collect();
                    let options = PutOptions {
                        tags: self.tag_set(),
                        ..PutOptions::default()
                    };
                    return self
                        .store
                        .put_opts(key, payload, options)
                        .await
                        .map(drop)
                        .map_err(|e| self.failed("writing", key, e));
                }
            }
        }

        let options = PutMultipartOptions {
            tags: self.tag_set(),
            ..PutMultipartOptions::default()
        };
        let mut upload = self
            .store
            .put_multipart_opts(key, options)
            .await
            .map_err(|e| self.failed("starting upload of", key, e))?;
        let result = self.upload_parts(key, upload.as_mut(), head, chunks).await;
        let result = match result {
            Ok(()) => upload
                .complete()
                .await
                .map(drop)
                .map_err(|e| self.failed("writing", key, e)),
            Err(e) => Err(e),
        };
        if result.is_err() {
            // The upload's own error is the one worth reporting; an abort that fails leaves
            // only invisible parts, which bucket lifecycle rules expire.
            if let Err(e) = upload.abort().await {
                tracing::warn!(location = %self.location, %key, error = %e, "could not abort a failed multipart upload");
            }
        }
        result
    }

    /// Sends `head` then the rest of `chunks` as parts of `part_size` bytes (the last may be
    /// shorter), a few at a time.
    async fn upload_parts(
        &self,
        key: &Path,
        upload: &mut dyn MultipartUpload,
        head: Vec<Bytes>,
        mut chunks: BoxStream<'static, Result<Bytes, Error>>,
    ) -> Result<(), Error> {
        let mut buffer = PartBuffer::default();
        let mut in_flight = JoinSet::new();
        let mut ready = Vec::new();
        let mut head = head.into_iter();
        loop {
            let chunk = match head.next() {
                Some(chunk) => Some(chunk),
                None => chunks.next().await.transpose()?,
            };
            let Some(chunk) = chunk else { break };
            buffer.push(chunk, self.part_size, &mut ready);
            for part in ready.drain(..) {
                while in_flight.len() >= PARTS_IN_FLIGHT {
                    self.join_part(&mut in_flight, key).await?;
                }
                in_flight.spawn(upload.put_part(part));
            }
        }
        if let Some(last) = buffer.take() {
            in_flight.spawn(upload.put_part(last));
        }
        while !in_flight.is_empty() {
            self.join_part(&mut in_flight, key).await?;
        }
        Ok(())
    }

    async fn join_part(
        &self,
        in_flight: &mut JoinSet<object_store::Result<()>>,
        key: &Path,
    ) -> Result<(), Error> {
        match in_flight.join_next().await {
            None | Some(Ok(Ok(()))) => Ok(()),
            Some(Ok(Err(e))) => Err(self.failed("writing a part of", key, e)),
            Some(Err(join)) => Err(self.failed(
                "writing a part of",
                key,
                object_store::Error::JoinError { source: join },
            )),
        }
    }

    /// Deletes every object under `dir`, `first` before the rest; a missing object is fine.
    async fn delete_dir(&self, dir: &Path, first: Option<Path>, what: String) -> Result<(), Error> {
        if let Some(first) = &first {
            match self.store.delete(first).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(self.failed("deleting", first, e)),
            }
        }
        let mut keys: Vec<Path> = self
            .store
            .list(Some(dir))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(|e| self.failed("listing", dir, e))?;
        // Objects before a pseudo-folder object of the same name, as Velero orders them for
        // S3 providers that list folders as objects.
        keys.sort_by(|a, b| b.cmp(a));
        let mut failed = Vec::new();
        let mut first_error = None;
        for key in keys {
            match self.store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => {
                    failed.push(key.to_string());
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            None => Ok(()),
            Some(source) => Err(Error::DeleteIncomplete {
                what,
                location: self.location.clone(),
                failed,
                source: Box::new(source),
            }),
        }
    }
}

/// Collects chunks into parts of exactly the part size without copying them.
#[derive(Default)]
struct PartBuffer {
    pieces: Vec<Bytes>,
    len: usize,
}

impl PartBuffer {
    /// Adds `bytes`; every part it completes goes to `ready`.
    fn push(&mut self, mut bytes: Bytes, part_size: usize, ready: &mut Vec<PutPayload>) {
        while !bytes.is_empty() {
            let room = part_size - self.len;
            if bytes.len() < room {
                self.len += bytes.len();
                self.pieces.push(bytes);
                return;
            }
            self.pieces.push(bytes.split_to(room));
            self.len = part_size;
            ready.extend(self.take());
        }
    }

    /// The buffered bytes as a part, if any.
    fn take(&mut self) -> Option<PutPayload> {
        self.len = 0;
        let pieces = std::mem::take(&mut self.pieces);
        (!pieces.is_empty()).then(|| pieces.into_iter().collect())
    }
}

/// Streams a file from disk in chunks.
async fn read_file(path: PathBuf) -> Result<BoxStream<'static, Result<Bytes, Error>>, Error> {
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|source| Error::LocalFile {
            action: "reading tarball",
            path: path.clone(),
            source,
        })?;
    let chunks = stream::try_unfold((file, path), |(mut file, path)| async move {
        let mut buffer = BytesMut::with_capacity(READ_CHUNK);
        while buffer.len() < READ_CHUNK {
            let read = file
                .read_buf(&mut buffer)
                .await
                .map_err(|source| Error::LocalFile {
                    action: "reading tarball",
                    path: path.clone(),
                    source,
                })?;
            if read == 0 {
                break;
            }
        }
        if buffer.is_empty() {
            Ok(None)
        } else {
            Ok(Some((buffer.freeze(), (file, path))))
        }
    });
    Ok(chunks.boxed())
}

#[cfg(test)]
mod tests {
    use object_store::memory::InMemory;

    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// The server runs these inside spawned tasks, so their futures must stay `Send`. Futures
    /// are only built here, never polled: the check is the compiling. The S3 set-up is part of
    /// `open`'s future type whatever the provider, so a local location checks it too.
    #[test]
    fn futures_are_send() {
        let config = LocationConfig::local("/nonexistent/godwit-storage");
        assert_send(&BackupStore::open(&config));

        let store = BackupStore::new(Arc::new(InMemory::new()), "", "memory").unwrap();
        let upload = BackupUpload::new("{}", Tarball::Bytes(Bytes::new()));
        assert_send(&store.put_backup("backup-1", upload));
        assert_send(&store.list_backups());
        assert_send(&store.get_tarball("backup-1"));
        assert_send(&store.download_tarball("backup-1", FsPath::new("/nonexistent")));
        assert_send(&store.delete_backup("backup-1"));
        assert_send(&store.put_restore_log("restore-1", Bytes::new()));
    }
}
