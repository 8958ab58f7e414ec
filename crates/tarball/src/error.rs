//! The one error type of this crate. Every variant about a tarball entry names that entry, quoted
//! with escapes so a hostile name cannot smuggle control characters into a log.

use std::io;
use std::path::PathBuf;

/// What can go wrong writing or reading a Velero backup tarball.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An object the writer cannot place under a safe, Velero-readable path.
    #[error("cannot write {item} to the backup tarball: {why}; fix the object or leave it out")]
    InvalidItem {
        /// The object: group-resource, version, namespace and name.
        item: String,
        /// What is wrong with it.
        why: String,
    },

    /// The JSON handed to the writer is not one JSON object.
    #[error("cannot write {item} to the backup tarball: invalid object JSON: {why}")]
    InvalidItemJson {
        /// The object: group-resource, version, namespace and name.
        item: String,
        /// What the JSON parser said.
        why: String,
    },

    /// The output the tarball is written to failed.
    #[error("cannot write entry {entry:?} of the backup tarball: {source}")]
    Write {
        /// The entry being written (or the end of the archive).
        entry: String,
        /// The IO error.
        source: io::Error,
    },

    /// The gzip or tar stream itself is broken (truncated, not gzip, bad header checksum).
    #[error(
        "cannot read the backup tarball {position}: {source}; the file is truncated, corrupt or \
         not a gzip-compressed tar"
    )]
    Archive {
        /// Where: `at the start` or `after entry "..."`.
        position: String,
        /// The IO error from the gzip or tar layer.
        source: io::Error,
    },

    /// An entry whose path could land outside the extraction folder.
    #[error(
        "unsafe entry {entry:?} in the backup tarball: {why}; refusing an archive that could write \
         outside its folder"
    )]
    UnsafePath {
        /// The entry's path as stored in the archive.
        entry: String,
        /// Which rule it breaks.
        why: &'static str,
    },

    /// An entry that has no place in a Velero backup (wrong folder, depth or file name).
    #[error(
        "unexpected entry {entry:?} in the backup tarball: {why}; a Velero backup holds only \
         metadata/version and resources/<group-resource>/[<version>/]{{cluster/<name>.json|namespaces/<namespace>/<name>.json}}"
    )]
    UnexpectedEntry {
        /// The entry's path as stored in the archive.
        entry: String,
        /// What is wrong with it.
        why: String,
    },

    /// A symlink, hard link, device or other entry type Velero never writes.
    #[error(
        "entry {entry:?} in the backup tarball is a {kind}; Velero backups hold only regular files \
         and directories"
    )]
    UnsupportedEntryType {
        /// The entry's path as stored in the archive.
        entry: String,
        /// The entry type, in words.
        kind: String,
    },

    /// A tar extension header (PAX or GNU long name) that is malformed or oversized.
    #[error("malformed tar extension header {entry:?} in the backup tarball: {why}")]
    MalformedHeader {
        /// The extension header's own name, or the entry it describes.
        entry: String,
        /// What is wrong with it.
        why: String,
    },

    /// `metadata/version` names a format this reader does not know.
    #[error(
        "entry {entry:?} says backup format {version:?}, which godwit cannot read; it reads \
         formats {supported}"
    )]
    UnknownFormatVersion {
        /// The entry (`metadata/version`).
        entry: String,
        /// The version text found (trimmed).
        version: String,
        /// The versions this reader knows, comma-separated.
        supported: String,
    },

    /// An object file that is not a JSON object.
    #[error("entry {entry:?} in the backup tarball is not a JSON object: {why}")]
    InvalidJson {
        /// The entry's path.
        entry: String,
        /// What the JSON parser said.
        why: String,
    },

    /// One entry larger than [`Limits::max_entry_bytes`](crate::Limits::max_entry_bytes).
    #[error(
        "entry {entry:?} in the backup tarball is {size} bytes, over the limit of {limit} bytes \
         per entry; if the backup is genuine, raise Limits::max_entry_bytes"
    )]
    EntryTooLarge {
        /// The entry's path.
        entry: String,
        /// Its size from the tar header.
        size: u64,
        /// The limit in force.
        limit: u64,
    },

    /// The decompressed archive grew past [`Limits::max_total_bytes`](crate::Limits::max_total_bytes).
    #[error(
        "the backup tarball decompresses to more than {limit} bytes (reached at entry {entry:?}); \
         it may be a gzip bomb; if the backup is genuine, raise Limits::max_total_bytes"
    )]
    TotalTooLarge {
        /// The entry being read when the limit was reached.
        entry: String,
        /// The limit in force.
        limit: u64,
    },

    /// More entries than [`Limits::max_entries`](crate::Limits::max_entries).
    #[error(
        "the backup tarball has more than {limit} entries (reached at entry {entry:?}); if the \
         backup is genuine, raise Limits::max_entries"
    )]
    TooManyEntries {
        /// The first entry over the limit.
        entry: String,
        /// The limit in force.
        limit: u64,
    },

    /// The same path twice, or two different preferred versions for one group-resource.
    #[error("entry {entry:?} in the backup tarball conflicts with an earlier entry: {why}")]
    Conflict {
        /// The later entry.
        entry: String,
        /// What it conflicts with.
        why: String,
    },

    /// The extraction folder exists and is not empty.
    #[error(
        "cannot extract the backup into {}: the folder is not empty; pass a new or empty folder",
        path.display()
    )]
    DestinationNotEmpty {
        /// The folder.
        path: PathBuf,
    },

    /// Creating a folder or file under the extraction folder failed.
    #[error("cannot extract entry {entry:?} to {}: {source}", path.display())]
    Extract {
        /// The entry being extracted (or the folder itself).
        entry: String,
        /// The local path.
        path: PathBuf,
        /// The IO error.
        source: io::Error,
    },

    /// A group-resource or version directory asked of an extracted backup that it does not hold.
    #[error("the backup holds no {what}; see ExtractedBackup::index for what it holds")]
    NotInBackup {
        /// The group-resource and directory asked for.
        what: String,
    },

    /// Reading an extracted object back from disk failed.
    #[error("cannot read extracted object {}: {why}", path.display())]
    ReadObject {
        /// The local path.
        path: PathBuf,
        /// What went wrong.
        why: String,
    },
}
