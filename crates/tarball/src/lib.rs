//! Velero backup tarballs (format 1.1.0): a streaming writer and a bounded, hostile-input-safe
//! reader.
//!
//! Pure and synchronous: `std::io::Read`/`Write` in, values out; no async, no Kubernetes client.
//! The writer produces what Velero's backup writes (paths, order, headers); the reader accepts
//! everything Velero writes, with or without `EnableAPIGroupVersions`, and older format `1`
//! tarballs, and refuses hostile archives with an error that names the entry.

mod error;
mod index;
mod layout;
mod reader;
mod writer;

pub use error::Error;
pub use index::{BackupIndex, DirCounts, GroupResourceIndex};
pub use layout::{
    FORMAT_VERSION, Item, ItemPaths, SUPPORTED_FORMAT_VERSIONS, VersionDir, item_paths,
};
pub use reader::{
    BackupObject, ExtractedBackup, Limits, Objects, StreamedObject, extract, for_each_object, list,
    unpack,
};
pub use writer::{BackupWriter, SerializedObject, WriteCounts, WriterOptions};
