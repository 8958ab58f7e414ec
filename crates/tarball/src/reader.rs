//! The bounded reader: streams a gzip-compressed tarball one entry at a time, checks every entry
//! (type, path, size, JSON) before anything is written, and either only indexes it (`list`) or
//! also extracts it below one folder (`extract`).
//!
//! Memory holds at most one entry's content (bounded by `Limits::max_entry_bytes`) and one tar
//! extension header (64 KiB). The tar crate reads PAX and GNU long-name headers into memory
//! without a bound, so the archive is walked in raw mode and those headers are handled here.
//!
//! Measured once (release build, shared 2-core machine under load, 20,000 ConfigMaps of ~2 KiB
//! in one version: 40,001 entries, 85 MB of JSON, 0.8 MB gzipped): writing 0.33 s, `list`
//! 0.17 s, `extract` 3-5 s (creating 40,000 files dominates), reading all objects back 0.38 s.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use tar::EntryType;

use crate::Error;
use crate::index::BackupIndex;
use crate::layout::{EntryPath, ObjectPath, SUPPORTED_FORMAT_VERSIONS, parse_entry_path};
use crate::writer::check_json_object;

/// A PAX or GNU extension header larger than this is refused. Real ones carry one path (a few
/// hundred bytes); 64 KiB is also Go's `archive/tar` cap on them.
const MAX_EXTENSION_BYTES: u64 = 64 * 1024;
/// `metadata/version` holds a few bytes (`1.1.0\n`).
const MAX_VERSION_FILE_BYTES: u64 = 64;

/// Bounds on what one tarball may make the reader do. Exceeding one is an error naming the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single entry, in bytes. Default 16 MiB: etcd refuses objects over 1.5 MiB by
    /// default, and JSON from the API server can be a few times the stored size; 16 MiB leaves
    /// room for clusters with a raised etcd limit while bounding what is held in memory.
    pub max_entry_bytes: u64,
    /// Largest decompressed tar stream, headers and padding included. Default 16 GiB: a backup of
    /// a million object copies averaging 16 KiB is 16 GiB, far past real backups (Velero's are
    /// typically megabytes), and small enough to stop a gzip bomb before it fills a disk.
    pub max_total_bytes: u64,
    /// Most tar entries, directories and extension headers included. Default 4 Mi (4,194,304):
    /// room for over a million objects written in three copies (legacy, preferred, another
    /// version).
    pub max_entries: u64,
    /// Longest entry path, in bytes. Default 4096 (Linux `PATH_MAX`); the longest path Velero can
    /// write (a 253-byte group, 63-byte resource, namespace and version, 253-byte name) is under
    /// 800 bytes.
    pub max_path_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entry_bytes: 16 * 1024 * 1024,
            max_total_bytes: 16 * 1024 * 1024 * 1024,
            max_entries: 4 * 1024 * 1024,
            max_path_bytes: 4096,
        }
    }
}

/// Reads a whole gzip-compressed backup tarball, checking every entry, and returns its index
/// without writing anything (for `godwit backup inspect`). Duplicate entries are only detected
/// by `extract`, since spotting them here would take memory that grows with the objects.
pub fn list<R: Read>(reader: R, limits: &Limits) -> Result<BackupIndex, Error> {
    scan(reader, limits, |_, _| Ok(()))
}

/// One object file met while streaming a tarball with [`for_each_object`]; borrowed for the
/// duration of the call only, so no more than one entry is held at a time.
#[derive(Debug, Clone, Copy)]
pub struct StreamedObject<'a> {
    /// Its group-resource, from the path.
    pub group_resource: &'a godwit_versioning::GroupResource,
    /// The folder it is in (legacy or one version).
    pub dir: &'a crate::VersionDir,
    /// Its namespace; `None` for a cluster-scoped object.
    pub namespace: Option<&'a str>,
    /// Its name, from the file name.
    pub name: &'a str,
    /// The file's bytes, already checked to be one JSON object.
    pub json: &'a [u8],
}

/// Reads a whole gzip-compressed backup tarball, checking every entry as [`list`] does, and
/// hands each object file to `visit` as it streams past, without writing anything. For readers
/// that need a few objects (the pods of a backup) and must not extract or hold the rest.
pub fn for_each_object<R: Read>(
    reader: R,
    limits: &Limits,
    mut visit: impl FnMut(StreamedObject<'_>),
) -> Result<BackupIndex, Error> {
    scan_objects(reader, limits, |object, data| {
        visit(StreamedObject {
            group_resource: &object.group_resource,
            dir: &object.dir,
            namespace: object.namespace.as_deref(),
            name: &object.name,
            json: data,
        });
        Ok(())
    })
}

/// Reads a gzip-compressed backup tarball, checking every entry, and writes its files below
/// `dest_dir` only, keeping the tarball's layout. `dest_dir` must be new or empty (so no symlink
/// planted beforehand can redirect a write), and should be private to the caller, such as a
/// fresh temporary folder. On error, what was extracted so far is left for the caller to remove.
pub fn extract<R: Read>(
    reader: R,
    dest_dir: &Path,
    limits: &Limits,
) -> Result<ExtractedBackup, Error> {
    prepare_destination(dest_dir)?;
    let mut last_parent = PathBuf::new();
    let index = scan(reader, limits, |path, data| {
        write_entry(dest_dir, path, data, &mut last_parent)
    })?;
    Ok(ExtractedBackup {
        root: dest_dir.to_path_buf(),
        index,
        pack: None,
    })
}

/// The file [`unpack`] writes every object into.
const PACK_FILE: &str = "objects.pack";

/// Reads a gzip-compressed backup tarball, checking every entry as [`extract`] does, and writes
/// every object file one after another into one file in `dest_dir` (which must be new or
/// empty), keeping in memory where each starts (about 100 bytes per object file). For readers
/// that only go through [`ExtractedBackup::objects`], such as a restore: making one file per
/// object costs far more than the objects' bytes (20,000 small files took six seconds of kernel
/// time on an ext4 disk here, one file a tenth of a second). The objects come back exactly as
/// [`extract`]'s do, in the same order. A path that appears twice is an error, as in [`extract`].
pub fn unpack<R: Read>(
    reader: R,
    dest_dir: &Path,
    limits: &Limits,
) -> Result<ExtractedBackup, Error> {
    prepare_destination(dest_dir)?;
    let path = dest_dir.join(PACK_FILE);
    let failed = |source| Error::Extract {
        entry: "(object pack)".to_owned(),
        path: path.clone(),
        source,
    };
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(failed)?;
    let mut out = io::BufWriter::new(file);
    let mut entries: BTreeMap<PackKey, (u64, usize)> = BTreeMap::new();
    let mut offset = 0u64;
    let index = scan_objects(reader, limits, |object, data| {
        let key = PackKey {
            group_resource: object.group_resource.to_string(),
            dir: object.dir.dir_name(),
            namespace: object.namespace.clone(),
            file: format!("{}.json", object.name),
        };
        if entries.insert(key, (offset, data.len())).is_some() {
            return Err(Error::Conflict {
                entry: object.path.clone(),
                why: "the same path appears twice".to_owned(),
            });
        }
        io::Write::write_all(&mut out, data).map_err(|source| Error::Extract {
            entry: object.path.clone(),
            path: path.clone(),
            source,
        })?;
        offset += data.len() as u64;
        Ok(())
    })?;
    io::Write::flush(&mut out).map_err(failed)?;
    Ok(ExtractedBackup {
        root: dest_dir.to_path_buf(),
        index,
        pack: Some(Arc::new(Pack { path, entries })),
    })
}

/// Where [`unpack`] put each object file.
#[derive(Debug)]
struct Pack {
    path: PathBuf,
    entries: BTreeMap<PackKey, (u64, usize)>,
}

/// One object file of a pack: namespace, file name, offset and length.
type PackedFile = (Option<String>, String, u64, usize);

/// An object file's place in the layout; the order is the order [`Objects`] yields them in
/// (cluster-scoped first, then namespaces by name, then file names).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PackKey {
    group_resource: String,
    dir: String,
    namespace: Option<String>,
    file: String,
}

/// A backup extracted to disk by [`extract`] (or packed by [`unpack`]): its index, and its
/// objects read back lazily.
#[derive(Debug, Clone)]
pub struct ExtractedBackup {
    root: PathBuf,
    index: BackupIndex,
    pack: Option<Arc<Pack>>,
}

impl ExtractedBackup {
    /// The folder the backup was extracted into.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// What the backup holds.
    pub fn index(&self) -> &BackupIndex {
        &self.index
    }

    /// The objects of one group-resource in one folder, read from disk one at a time: the
    /// cluster-scoped ones first, then each namespace in name order; names sorted within each.
    pub fn objects(
        &self,
        group_resource: &godwit_versioning::GroupResource,
        dir: &crate::VersionDir,
    ) -> Result<Objects, Error> {
        let held = self
            .index
            .group_resource(group_resource)
            .is_some_and(|index| index.dirs.contains_key(dir));
        if !held {
            return Err(Error::NotInBackup {
                what: format!("{group_resource} in folder {dir}"),
            });
        }
        if let Some(pack) = &self.pack {
            return Objects::packed(pack, &group_resource.to_string(), &dir.dir_name());
        }
        let mut base = self.root.join(crate::layout::RESOURCES_DIR);
        base.push(group_resource.to_string());
        let dir_name = dir.dir_name();
        if !dir_name.is_empty() {
            base.push(dir_name);
        }
        Objects::new(base)
    }
}

/// One object read back from an extracted backup.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupObject {
    /// Its namespace; `None` for a cluster-scoped object.
    pub namespace: Option<String>,
    /// Its name, from the file name.
    pub name: String,
    /// The object, parsed.
    pub object: serde_json::Value,
    /// The file's bytes exactly as they were in the tarball.
    pub raw: Vec<u8>,
}

/// Iterator over the objects of one folder of an extracted backup; see
/// [`ExtractedBackup::objects`]. A file that cannot be read or parsed yields an `Err` and the
/// iteration goes on with the next one.
#[derive(Debug)]
pub struct Objects {
    base: PathBuf,
    /// Scopes still to list: `None` is `cluster/`, `Some(ns)` is `namespaces/<ns>/`.
    scopes: std::vec::IntoIter<Option<String>>,
    current: Option<(Option<String>, std::vec::IntoIter<String>)>,
    /// For an unpacked backup: the pack, and the files still to read from it.
    packed: Option<(fs::File, std::vec::IntoIter<PackedFile>)>,
}

impl Objects {
    fn packed(pack: &Pack, group_resource: &str, dir: &str) -> Result<Self, Error> {
        let file = fs::File::open(&pack.path).map_err(|err| Error::ReadObject {
            path: pack.path.clone(),
            why: err.to_string(),
        })?;
        let start = PackKey {
            group_resource: group_resource.to_owned(),
            dir: dir.to_owned(),
            namespace: None,
            file: String::new(),
        };
        let files: Vec<PackedFile> = pack
            .entries
            .range(start..)
            .take_while(|(key, _)| key.group_resource == group_resource && key.dir == dir)
            .map(|(key, (offset, len))| (key.namespace.clone(), key.file.clone(), *offset, *len))
            .collect();
        Ok(Objects {
            base: pack.path.clone(),
            scopes: Vec::new().into_iter(),
            current: None,
            packed: Some((file, files.into_iter())),
        })
    }

    fn new(base: PathBuf) -> Result<Self, Error> {
        let mut scopes = Vec::new();
        if base.join(crate::layout::CLUSTER_DIR).is_dir() {
            scopes.push(None);
        }
        let namespaces_dir = base.join(crate::layout::NAMESPACES_DIR);
        if namespaces_dir.is_dir() {
            scopes.extend(sorted_names(&namespaces_dir, true)?.into_iter().map(Some));
        }
        Ok(Objects {
            base,
            scopes: scopes.into_iter(),
            current: None,
            packed: None,
        })
    }

    fn read_packed(
        &mut self,
        namespace: Option<String>,
        file: String,
        offset: u64,
        len: usize,
    ) -> Result<BackupObject, Error> {
        use std::io::Seek as _;
        let path = match &namespace {
            None => format!("{}/{file}", crate::layout::CLUSTER_DIR),
            Some(namespace) => format!("{}/{namespace}/{file}", crate::layout::NAMESPACES_DIR),
        };
        let failed = |why: String| Error::ReadObject {
            path: self.base.join(&path),
            why,
        };
        let Some((pack, _)) = &mut self.packed else {
            return Err(failed("the backup is not packed".to_owned()));
        };
        let mut raw = vec![0; len];
        pack.seek(io::SeekFrom::Start(offset))
            .and_then(|_| pack.read_exact(&mut raw))
            .map_err(|err| failed(err.to_string()))?;
        backup_object(namespace, &file, raw).map_err(failed)
    }

    fn scope_dir(&self, namespace: Option<&str>) -> PathBuf {
        match namespace {
            None => self.base.join(crate::layout::CLUSTER_DIR),
            Some(namespace) => self
                .base
                .join(crate::layout::NAMESPACES_DIR)
                .join(namespace),
        }
    }

    fn read_object(&self, namespace: Option<String>, file: String) -> Result<BackupObject, Error> {
        let path = self.scope_dir(namespace.as_deref()).join(&file);
        let failed = |why: String| Error::ReadObject {
            path: path.clone(),
            why,
        };
        if !file.ends_with(".json") {
            return Err(failed("the file name does not end in .json".to_owned()));
        }
        let raw = fs::read(&path).map_err(|err| failed(err.to_string()))?;
        backup_object(namespace, &file, raw).map_err(failed)
    }
}

/// An object from its file name (`<name>.json`) and bytes; `Err` says what is wrong.
fn backup_object(
    namespace: Option<String>,
    file: &str,
    raw: Vec<u8>,
) -> Result<BackupObject, String> {
    let name = file
        .strip_suffix(".json")
        .ok_or_else(|| "the file name does not end in .json".to_owned())?
        .to_owned();
    let object: serde_json::Value = serde_json::from_slice(&raw).map_err(|err| err.to_string())?;
    Ok(BackupObject {
        namespace,
        name,
        object,
        raw,
    })
}

impl Iterator for Objects {
    type Item = Result<BackupObject, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some((_, files)) = &mut self.packed {
            let (namespace, file, offset, len) = files.next()?;
            return Some(self.read_packed(namespace, file, offset, len));
        }
        loop {
            if let Some((namespace, files)) = &mut self.current
                && let Some(file) = files.next()
            {
                let namespace = namespace.clone();
                return Some(self.read_object(namespace, file));
            }
            let namespace = self.scopes.next()?;
            match sorted_names(&self.scope_dir(namespace.as_deref()), false) {
                Ok(files) => self.current = Some((namespace, files.into_iter())),
                Err(err) => {
                    self.current = None;
                    return Some(Err(err));
                }
            }
        }
    }
}

/// The sorted names of the folders (`dirs`) or files in one folder.
fn sorted_names(dir: &Path, dirs: bool) -> Result<Vec<String>, Error> {
    let failed = |why: String| Error::ReadObject {
        path: dir.to_path_buf(),
        why,
    };
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(|err| failed(err.to_string()))? {
        let entry = entry.map_err(|err| failed(err.to_string()))?;
        let file_type = entry.file_type().map_err(|err| failed(err.to_string()))?;
        if file_type.is_dir() != dirs || file_type.is_symlink() {
            continue;
        }
        let name = entry
            .file_name()
            .into_string()
            .map_err(|name| failed(format!("{name:?} is not UTF-8")))?;
        names.push(name);
    }
    names.sort();
    Ok(names)
}

fn prepare_destination(dest_dir: &Path) -> Result<(), Error> {
    let failed = |source| Error::Extract {
        entry: "(extraction folder)".to_owned(),
        path: dest_dir.to_path_buf(),
        source,
    };
    match fs::read_dir(dest_dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::DestinationNotEmpty {
                    path: dest_dir.to_path_buf(),
                });
            }
            Ok(())
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            fs::create_dir(dest_dir).map_err(failed)
        }
        Err(err) => Err(failed(err)),
    }
}

/// Writes one checked file below `dest_dir`. Paths come from `parse_entry_path`, so every
/// component is a plain name; `create_new` refuses a second entry with the same path.
/// `last_parent` remembers the folder made for the previous file: most files share it with
/// their neighbour, and so skip `create_dir_all`.
fn write_entry(
    dest_dir: &Path,
    path: &str,
    data: &[u8],
    last_parent: &mut PathBuf,
) -> Result<(), Error> {
    let mut target = dest_dir.to_path_buf();
    target.extend(path.split('/'));
    let failed = |target: &Path, source| Error::Extract {
        entry: path.to_owned(),
        path: target.to_path_buf(),
        source,
    };
    if let Some(parent) = target.parent()
        && parent != last_parent.as_path()
    {
        fs::create_dir_all(parent).map_err(|err| failed(parent, err))?;
        *last_parent = parent.to_path_buf();
    }
    let mut file = match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&target)
    {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
            return Err(Error::Conflict {
                entry: path.to_owned(),
                why: "the same path appears twice".to_owned(),
            });
        }
        Err(err) => return Err(failed(&target, err)),
    };
    io::Write::write_all(&mut file, data).map_err(|err| failed(&target, err))
}

/// Counts decompressed bytes and fails the read once they pass the limit. The shared cells let
/// the scanner tell a tripped limit from other IO errors, however the tar crate wraps them.
struct CountingReader<R> {
    inner: R,
    read: Rc<Cell<u64>>,
    limit: u64,
    tripped: Rc<Cell<bool>>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.read.get();
        if read >= self.limit {
            // At the limit: only an immediate end of stream is fine.
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.tripped.set(true);
            return Err(io::Error::other("decompressed size limit reached"));
        }
        let room = usize::try_from(self.limit - read).unwrap_or(usize::MAX);
        let len = buf.len().min(room);
        let n = self.inner.read(&mut buf[..len])?;
        self.read.set(read + n as u64);
        Ok(n)
    }
}

/// What extension headers said about the next entry.
#[derive(Default)]
struct Pending {
    /// Name of the first extension header, for errors if no entry follows.
    header: Option<String>,
    pax_path: Option<Vec<u8>>,
    pax_size: Option<u64>,
    gnu_long_name: Option<Vec<u8>>,
}

/// Walks the archive, checks each entry and hands each regular file to `sink`.
fn scan<R: Read>(
    reader: R,
    limits: &Limits,
    mut sink: impl FnMut(&str, &[u8]) -> Result<(), Error>,
) -> Result<BackupIndex, Error> {
    scan_entries(reader, limits, &mut sink, |_, _| Ok(()))
}

/// Walks the archive, checks each entry and hands each object file, parsed path and bytes, to
/// `sink`.
fn scan_objects<R: Read>(
    reader: R,
    limits: &Limits,
    mut sink: impl FnMut(&ObjectPath, &[u8]) -> Result<(), Error>,
) -> Result<BackupIndex, Error> {
    scan_entries(reader, limits, |_, _| Ok(()), &mut sink)
}

/// Walks the archive and checks each entry; every regular file goes to `sink` by path, and
/// object files also to `objects` with their parsed path.
fn scan_entries<R: Read>(
    reader: R,
    limits: &Limits,
    mut sink: impl FnMut(&str, &[u8]) -> Result<(), Error>,
    mut objects: impl FnMut(&ObjectPath, &[u8]) -> Result<(), Error>,
) -> Result<BackupIndex, Error> {
    let read = Rc::new(Cell::new(0u64));
    let tripped = Rc::new(Cell::new(false));
    let counting = CountingReader {
        inner: MultiGzDecoder::new(reader),
        read: Rc::clone(&read),
        limit: limits.max_total_bytes,
        tripped: Rc::clone(&tripped),
    };
    let mut archive = tar::Archive::new(counting);
    let mut index = BackupIndex::default();
    let mut last_entry: Option<String> = None;
    let stream_error = |err: io::Error, last: &Option<String>| {
        let position = match last {
            Some(entry) => format!("after entry {entry:?}"),
            None => "at the start".to_owned(),
        };
        if tripped.get() {
            Error::TotalTooLarge {
                entry: position,
                limit: limits.max_total_bytes,
            }
        } else {
            Error::Archive {
                position,
                source: err,
            }
        }
    };

    let entries = archive
        .entries()
        .map_err(|err| stream_error(err, &last_entry))?
        .raw(true);
    let mut pending = Pending::default();
    let mut buffer = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(|err| stream_error(err, &last_entry))?;
        let header_name = entry.header().path_bytes().into_owned();
        let kind = entry.header().entry_type();
        index.entries += 1;
        if index.entries > limits.max_entries {
            return Err(Error::TooManyEntries {
                entry: lossy(&header_name),
                limit: limits.max_entries,
            });
        }
        let size = entry
            .header()
            .entry_size()
            .map_err(|err| Error::MalformedHeader {
                entry: lossy(&header_name),
                why: format!("unreadable size: {err}"),
            })?;

        if is_extension(kind) {
            if pending.header.is_none() {
                pending.header = Some(lossy(&header_name));
            }
            read_extension(&mut entry, kind, size, &header_name, limits, &mut pending).map_err(
                |err| match tripped.get() {
                    true => Error::TotalTooLarge {
                        entry: lossy(&header_name),
                        limit: limits.max_total_bytes,
                    },
                    false => err,
                },
            )?;
            continue;
        }

        let raw_path = pending
            .pax_path
            .take()
            .or(pending.gnu_long_name.take())
            .unwrap_or(header_name);
        let entry_name = lossy(&raw_path);
        pending.header = None;
        if raw_path.len() as u64 > limits.max_path_bytes {
            return Err(Error::MalformedHeader {
                entry: entry_name,
                why: format!("path longer than {} bytes", limits.max_path_bytes),
            });
        }
        if let Some(pax_size) = pending.pax_size.take()
            && pax_size != size
        {
            // Readers that honour the PAX size and readers that do not would see different files.
            return Err(Error::MalformedHeader {
                entry: entry_name,
                why: format!("PAX size {pax_size} disagrees with the header size {size}"),
            });
        }
        let is_dir = match kind {
            // Old (pre-POSIX) tars mark a directory as a regular file whose name ends in '/'.
            EntryType::Regular => entry.header().as_bytes()[156] == 0 && raw_path.ends_with(b"/"),
            EntryType::Directory => true,
            other => {
                return Err(Error::UnsupportedEntryType {
                    entry: entry_name,
                    kind: entry_type_name(other),
                });
            }
        };
        if size > limits.max_entry_bytes {
            return Err(Error::EntryTooLarge {
                entry: entry_name,
                size,
                limit: limits.max_entry_bytes,
            });
        }
        if read.get().saturating_add(size) > limits.max_total_bytes {
            return Err(Error::TotalTooLarge {
                entry: entry_name,
                limit: limits.max_total_bytes,
            });
        }
        let path = parse_entry_path(&raw_path, is_dir)?;
        if !is_dir {
            buffer.clear();
            (&mut entry)
                .take(size)
                .read_to_end(&mut buffer)
                .map_err(|err| {
                    if tripped.get() {
                        Error::TotalTooLarge {
                            entry: entry_name.clone(),
                            limit: limits.max_total_bytes,
                        }
                    } else {
                        Error::Archive {
                            position: format!("in entry {entry_name:?}"),
                            source: err,
                        }
                    }
                })?;
            if (buffer.len() as u64) < size {
                return Err(Error::Archive {
                    position: format!("in entry {entry_name:?}"),
                    source: io::Error::from(io::ErrorKind::UnexpectedEof),
                });
            }
        }
        match &path {
            EntryPath::Dir => {}
            EntryPath::VersionFile => {
                check_version_file(&entry_name, &buffer, &mut index)?;
                sink(crate::layout::VERSION_FILE, &buffer)?;
            }
            EntryPath::Object(object) => {
                check_object(object, &buffer)?;
                index.add_object(object)?;
                sink(&object.path, &buffer)?;
                objects(object, &buffer)?;
            }
        }
        last_entry = Some(entry_name);
    }
    if let Some(header) = pending.header {
        return Err(Error::MalformedHeader {
            entry: header,
            why: "an extension header with no entry after it".to_owned(),
        });
    }
    Ok(index)
}

fn is_extension(kind: EntryType) -> bool {
    kind.is_pax_local_extensions()
        || kind.is_pax_global_extensions()
        || kind.is_gnu_longname()
        || kind.is_gnu_longlink()
}

/// Reads one PAX or GNU extension header (bounded) into `pending`.
fn read_extension<R: Read>(
    entry: &mut R,
    kind: EntryType,
    size: u64,
    header_name: &[u8],
    limits: &Limits,
    pending: &mut Pending,
) -> Result<(), Error> {
    let malformed = |why: String| Error::MalformedHeader {
        entry: lossy(header_name),
        why,
    };
    let bound = if kind.is_gnu_longname() || kind.is_gnu_longlink() {
        limits.max_path_bytes + 1 // the name plus its NUL
    } else {
        MAX_EXTENSION_BYTES
    };
    if size > bound {
        return Err(malformed(format!(
            "{size} bytes, over the {bound}-byte bound for extension headers"
        )));
    }
    let mut data = Vec::new();
    entry
        .take(size)
        .read_to_end(&mut data)
        .map_err(|err| malformed(format!("unreadable: {err}")))?;
    if kind.is_pax_global_extensions() || kind.is_gnu_longlink() {
        // Global PAX headers (e.g. `git archive` comments) describe no entry; link names only
        // matter for links, which are refused when they arrive.
        return Ok(());
    }
    if kind.is_gnu_longname() {
        if pending.gnu_long_name.is_some() {
            return Err(malformed("two GNU long names for one entry".to_owned()));
        }
        let end = data.iter().position(|b| *b == 0).unwrap_or(data.len());
        data.truncate(end);
        pending.gnu_long_name = Some(data);
        return Ok(());
    }
    if pending.pax_path.is_some() || pending.pax_size.is_some() {
        return Err(malformed("two PAX headers for one entry".to_owned()));
    }
    for (key, value) in parse_pax_records(&data).map_err(&malformed)? {
        match key {
            "path" if !value.is_empty() => pending.pax_path = Some(value.to_vec()),
            "size" => {
                let size = std::str::from_utf8(value)
                    .ok()
                    .and_then(|text| text.parse::<u64>().ok())
                    .ok_or_else(|| malformed("a PAX size that is not a number".to_owned()))?;
                pending.pax_size = Some(size);
            }
            key if key.starts_with("GNU.sparse.") => {
                return Err(Error::UnsupportedEntryType {
                    entry: lossy(header_name),
                    kind: "GNU sparse file".to_owned(),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// Splits PAX data into `(key, value)` records of the form `"<len> <key>=<value>\n"`.
pub(crate) fn parse_pax_records(data: &[u8]) -> Result<Vec<(&str, &[u8])>, String> {
    let mut records = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let space = rest
            .iter()
            .position(|b| *b == b' ')
            .ok_or("a PAX record without a length")?;
        let len: usize = std::str::from_utf8(&rest[..space])
            .ok()
            .and_then(|text| text.parse().ok())
            .ok_or("a PAX record length that is not a number")?;
        if len <= space + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err("a PAX record whose length does not match".to_owned());
        }
        let record = &rest[space + 1..len - 1];
        let equals = record
            .iter()
            .position(|b| *b == b'=')
            .ok_or("a PAX record without '='")?;
        let key =
            std::str::from_utf8(&record[..equals]).map_err(|_| "a PAX key that is not UTF-8")?;
        records.push((key, &record[equals + 1..]));
        rest = &rest[len..];
    }
    Ok(records)
}

fn check_version_file(entry: &str, data: &[u8], index: &mut BackupIndex) -> Result<(), Error> {
    if data.len() as u64 > MAX_VERSION_FILE_BYTES {
        return Err(Error::EntryTooLarge {
            entry: entry.to_owned(),
            size: data.len() as u64,
            limit: MAX_VERSION_FILE_BYTES,
        });
    }
    let version = String::from_utf8_lossy(data).trim().to_owned();
    if !SUPPORTED_FORMAT_VERSIONS.contains(&version.as_str()) {
        return Err(Error::UnknownFormatVersion {
            entry: entry.to_owned(),
            version,
            supported: SUPPORTED_FORMAT_VERSIONS.join(", "),
        });
    }
    if index.format_version.is_some() {
        return Err(Error::Conflict {
            entry: entry.to_owned(),
            why: "a second metadata/version".to_owned(),
        });
    }
    index.format_version = Some(version);
    Ok(())
}

fn check_object(object: &ObjectPath, data: &[u8]) -> Result<(), Error> {
    check_json_object(data).map_err(|why| Error::InvalidJson {
        entry: object.path.clone(),
        why,
    })
}

fn entry_type_name(kind: EntryType) -> String {
    match kind {
        EntryType::Symlink => "symbolic link".to_owned(),
        EntryType::Link => "hard link".to_owned(),
        EntryType::Char => "character device".to_owned(),
        EntryType::Block => "block device".to_owned(),
        EntryType::Fifo => "FIFO".to_owned(),
        EntryType::Continuous => "contiguous file".to_owned(),
        EntryType::GNUSparse => "GNU sparse file".to_owned(),
        other => format!("entry of type {:?}", char::from(other.as_byte())),
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests;
