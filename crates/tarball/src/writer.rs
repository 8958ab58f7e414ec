//! The streaming tarball writer: `metadata/version`, then one compact JSON entry per object
//! version, gzip-compressed straight into any `Write`. Nothing is buffered beyond the object
//! being written, so memory does not grow with the number of objects.
//!
//! Headers follow what Velero's Go `archive/tar` writer produces: USTAR, uid/gid 0, no user or
//! group names, a path split into prefix and name when it fits, and a PAX `path` record (in an
//! entry named `<dir>/PaxHeaders.0/<file>`) when it does not.

use std::io::{self, BufWriter, Write};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;
use serde::de::IgnoredAny;
use tar::{EntryType, Header};

use crate::Error;
use crate::layout::{FORMAT_VERSION, Item, VERSION_FILE, item_paths};

/// Velero writes every entry with mode 0755 (`pkg/backup`), and its extractor creates each
/// entry's parent folders with the entry's mode. With 0644 those folders would lack the execute
/// bit, and a Velero server running as non-root (its image's default user) could not create
/// files inside them. So files keep Velero's 0755.
const ENTRY_MODE: u32 = 0o755;

/// Sizes of the USTAR `name` and `prefix` fields.
const NAME_SIZE: usize = 100;
const PREFIX_SIZE: usize = 155;
/// Byte offset of the USTAR `prefix` field in a header block.
const PREFIX_OFFSET: usize = 345;

/// How the tarball is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterOptions {
    /// Modification time of every entry, in seconds since the Unix epoch. Velero stamps each
    /// entry with the wall clock as it writes; callers pass the backup's start time to get the
    /// same look while keeping the output a pure function of its input. Default 0.
    pub mtime: u64,
    /// Gzip level, 0-9. Default 6, the level Go's `gzip.NewWriter` (and so Velero) uses.
    pub compression_level: u32,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            mtime: 0,
            compression_level: 6,
        }
    }
}

/// What a finished tarball holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WriteCounts {
    /// Object versions appended (calls to `append`/`append_json`).
    pub objects: u64,
    /// File entries written, `metadata/version` included (PAX headers are not counted).
    pub entries: u64,
    /// Bytes of file content written, before compression.
    pub bytes: u64,
}

/// Bytes of tar stream gathered before they go to gzip.
const GZIP_INPUT_BUFFER: usize = 128 * 1024;

/// One object as compact JSON, ready for [`BackupWriter::append_serialized`]. Serializing is
/// the larger part of a writer's work after gzip, so a caller with several threads can do it
/// before handing objects to the one writer. Made only from a JSON object.
#[derive(Debug, Clone)]
pub struct SerializedObject(Vec<u8>);

impl SerializedObject {
    /// Serializes `object` (keys in the map's order: sorted, as Go writes them); refuses a
    /// value that is not a JSON object. `item` names the object in the error.
    pub fn new(item: &Item<'_>, object: &serde_json::Value) -> Result<Self, Error> {
        if !object.is_object() {
            return Err(Error::InvalidItemJson {
                item: item.describe(),
                why: "the value is not an object".to_owned(),
            });
        }
        serde_json::to_vec(object)
            .map(SerializedObject)
            .map_err(|err| Error::InvalidItemJson {
                item: item.describe(),
                why: err.to_string(),
            })
    }
}

/// Writes a Velero backup tarball (format 1.1.0) to `W`, one object version at a time.
pub struct BackupWriter<W: Write> {
    /// The buffer gives gzip large writes: tar writes each header, body and padding apart, and
    /// every write into the encoder costs a pass over its whole output buffer.
    tar: tar::Builder<BufWriter<GzEncoder<W>>>,
    options: WriterOptions,
    counts: WriteCounts,
}

impl<W: Write> BackupWriter<W> {
    /// Starts a tarball with default options and writes its `metadata/version` entry.
    pub fn new(inner: W) -> Result<Self, Error> {
        BackupWriter::with_options(inner, WriterOptions::default())
    }

    /// Starts a tarball and writes its `metadata/version` entry.
    pub fn with_options(inner: W, options: WriterOptions) -> Result<Self, Error> {
        let level = Compression::new(options.compression_level.min(9));
        let mut writer = BackupWriter {
            tar: tar::Builder::new(BufWriter::with_capacity(
                GZIP_INPUT_BUFFER,
                GzEncoder::new(inner, level),
            )),
            options,
            counts: WriteCounts::default(),
        };
        let version = format!("{FORMAT_VERSION}\n");
        writer.write_file(VERSION_FILE, version.as_bytes())?;
        Ok(writer)
    }

    /// Appends one object at one version, serialized as compact JSON. The preferred version is
    /// written twice (legacy path first, then `<version>-preferredversion`), as Velero does.
    pub fn append(&mut self, item: &Item<'_>, object: &serde_json::Value) -> Result<(), Error> {
        let object = SerializedObject::new(item, object)?;
        self.write_item(item, &object.0)
    }

    /// [`Self::append`] of an object serialized beforehand, on whichever thread made it.
    pub fn append_serialized(
        &mut self,
        item: &Item<'_>,
        object: &SerializedObject,
    ) -> Result<(), Error> {
        self.write_item(item, &object.0)
    }

    /// Appends one object at one version from JSON bytes, written exactly as given (pass
    /// compact JSON, such as `serde_json::to_vec` output or an API server response). The bytes
    /// must hold one JSON object.
    pub fn append_json(&mut self, item: &Item<'_>, json: &[u8]) -> Result<(), Error> {
        check_json_object(json).map_err(|why| Error::InvalidItemJson {
            item: item.describe(),
            why,
        })?;
        self.write_item(item, json)
    }

    /// Ends the archive and the gzip stream and hands back the inner writer with the counts.
    pub fn finish(self) -> Result<(W, WriteCounts), Error> {
        let end = |source| Error::Write {
            entry: "(end of archive)".to_owned(),
            source,
        };
        let buffered = self.tar.into_inner().map_err(end)?;
        let gzip = buffered.into_inner().map_err(|err| end(err.into_error()))?;
        let inner = gzip.finish().map_err(end)?;
        Ok((inner, self.counts))
    }

    /// The counts so far.
    pub fn counts(&self) -> WriteCounts {
        self.counts
    }

    fn write_item(&mut self, item: &Item<'_>, json: &[u8]) -> Result<(), Error> {
        let paths = item_paths(item)?;
        for path in paths.iter() {
            self.write_file(path, json)?;
        }
        self.counts.objects += 1;
        Ok(())
    }

    fn write_file(&mut self, path: &str, data: &[u8]) -> Result<(), Error> {
        let failed = |source| Error::Write {
            entry: path.to_owned(),
            source,
        };
        let size = data.len() as u64;
        let header = match ustar_split(path) {
            Some((prefix, name)) => file_header(name, prefix, size, self.options.mtime),
            None => {
                let record = pax_record("path", path);
                let pax = pax_header(path, record.len() as u64).map_err(failed)?;
                self.tar.append(&pax, record.as_bytes()).map_err(failed)?;
                file_header(&truncated_ascii(path), "", size, self.options.mtime)
            }
        }
        .map_err(failed)?;
        self.tar.append(&header, data).map_err(failed)?;
        self.counts.entries += 1;
        self.counts.bytes += size;
        Ok(())
    }
}

/// Checks that bytes hold exactly one JSON object, without building it.
pub(crate) fn check_json_object(json: &[u8]) -> Result<(), String> {
    let first = json.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err("the value is not an object".to_owned());
    }
    // serde_json skips the strings of an ignored value without checking their UTF-8, which
    // every later parse of the object does check (found by the tarball_reader fuzz target).
    let json = std::str::from_utf8(json).map_err(|err| format!("not UTF-8: {err}"))?;
    serde_json::from_str::<IgnoredAny>(json)
        .map(|_| ())
        .map_err(|err| err.to_string())
}

/// Splits a path into USTAR `(prefix, name)` the way Go's `archive/tar` does: the whole path in
/// `name` when it fits, else at the last `/` that leaves a prefix of at most 155 bytes and a
/// name of at most 100. `None` means a PAX record is needed (too long, or not ASCII).
pub(crate) fn ustar_split(path: &str) -> Option<(&str, &str)> {
    if !path.is_ascii() {
        return None;
    }
    if path.len() <= NAME_SIZE {
        return Some(("", path));
    }
    let window = path.len().saturating_sub(1).min(PREFIX_SIZE + 1);
    let split = path[..window].rfind('/')?;
    let (prefix, name) = (&path[..split], &path[split + 1..]);
    let fits =
        split > 0 && !name.is_empty() && name.len() <= NAME_SIZE && prefix.len() <= PREFIX_SIZE;
    fits.then_some((prefix, name))
}

/// A regular-file header: mode 0755, uid/gid 0, the given mtime, fields as Go formats them.
fn file_header(name: &str, prefix: &str, size: u64, mtime: u64) -> io::Result<Header> {
    let mut header = Header::new_ustar();
    header.set_entry_type(EntryType::Regular);
    header.set_mode(ENTRY_MODE);
    header.set_uid(0);
    header.set_gid(0);
    header.set_size(size);
    header.set_mtime(mtime);
    header.set_device_major(0)?;
    header.set_device_minor(0)?;
    set_path_fields(&mut header, name.as_bytes(), prefix.as_bytes());
    header.set_cksum();
    Ok(header)
}

/// The PAX extended header that carries a long path for the entry after it. Go names it
/// `<dir>/PaxHeaders.0/<file>` (ASCII only, cut to 100 bytes) with mode, ids and mtime 0.
fn pax_header(path: &str, size: u64) -> io::Result<Header> {
    let (dir, file) = match path.rfind('/') {
        Some(split) => (&path[..=split], &path[split + 1..]),
        None => ("", path),
    };
    let name = truncated_ascii(&format!("{dir}PaxHeaders.0/{file}"));
    let mut header = Header::new_ustar();
    header.set_entry_type(EntryType::XHeader);
    header.set_mode(0);
    header.set_uid(0);
    header.set_gid(0);
    header.set_size(size);
    header.set_mtime(0);
    header.set_device_major(0)?;
    header.set_device_minor(0)?;
    set_path_fields(&mut header, name.trim_end_matches('/').as_bytes(), b"");
    header.set_cksum();
    Ok(header)
}

/// One PAX record, `"<len> <key>=<value>\n"`, where `<len>` counts the whole record itself.
pub(crate) fn pax_record(key: &str, value: &str) -> String {
    let rest = key.len() + value.len() + 3; // space, '=' and newline
    let mut len = rest + 1;
    while len != rest + len.to_string().len() {
        len = rest + len.to_string().len();
    }
    format!("{len} {key}={value}\n")
}

/// Go keeps only the ASCII characters of a name for the fixed-size field, then cuts it.
fn truncated_ascii(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii)
        .take(NAME_SIZE)
        .collect()
}

/// Writes the USTAR name and prefix fields byte for byte: `Header::set_path` would refuse the
/// cut names Go stores beside a PAX record, and the paths are already checked by `item_paths`.
fn set_path_fields(header: &mut Header, name: &[u8], prefix: &[u8]) {
    let block = header.as_mut_bytes();
    let name = &name[..name.len().min(NAME_SIZE)];
    let prefix = &prefix[..prefix.len().min(PREFIX_SIZE)];
    block[..NAME_SIZE].fill(0);
    block[..name.len()].copy_from_slice(name);
    block[PREFIX_OFFSET..PREFIX_OFFSET + PREFIX_SIZE].fill(0);
    block[PREFIX_OFFSET..PREFIX_OFFSET + prefix.len()].copy_from_slice(prefix);
}

#[cfg(test)]
mod tests;
