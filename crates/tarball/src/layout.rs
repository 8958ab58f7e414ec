//! Where each object lives inside a Velero backup tarball, both ways: the paths the writer builds
//! for an object, and the parser that checks every path the reader meets. Pure functions, no IO.
//!
//! The layout (Velero `pkg/archive.GetVersionedItemFilePath`):
//! `resources/<group-resource>/<dir>/{cluster/<name>.json | namespaces/<namespace>/<name>.json}`,
//! where `<dir>` is `<version>-preferredversion`, `<version>`, or absent (the legacy path that
//! readers before format 1.1.0 use).

use std::fmt;
use std::str::FromStr;

use godwit_versioning::GroupResource;
use serde::{Deserialize, Serialize};

use crate::Error;

/// The format version this crate writes into `metadata/version`.
pub const FORMAT_VERSION: &str = "1.1.0";

/// The `metadata/version` values the reader accepts. `1` is what Velero wrote before API group
/// versions (its old integer `BackupVersion`); `1.0.0` is the same format spelled as semver;
/// `1.1.0` added the per-version folders and is what Velero writes today.
pub const SUPPORTED_FORMAT_VERSIONS: &[&str] = &["1", "1.0.0", "1.1.0"];

pub(crate) const METADATA_DIR: &str = "metadata";
pub(crate) const VERSION_FILE: &str = "metadata/version";
pub(crate) const RESOURCES_DIR: &str = "resources";
pub(crate) const NAMESPACES_DIR: &str = "namespaces";
pub(crate) const CLUSTER_DIR: &str = "cluster";
pub(crate) const PREFERRED_VERSION_SUFFIX: &str = "-preferredversion";
const JSON_SUFFIX: &str = ".json";

/// One folder of a group-resource in the tarball: which copy of its objects it holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VersionDir {
    /// `resources/<gr>/{cluster,namespaces}/...`: the source-preferred version again, for readers
    /// before format 1.1.0. In a format `1` backup it is the only copy.
    Legacy,
    /// `resources/<gr>/<version>[-preferredversion]/...`.
    Version {
        /// The API version, such as `v1` or `v2beta1`.
        version: String,
        /// True for the source cluster's preferred version (`-preferredversion` suffix).
        preferred: bool,
    },
}

impl VersionDir {
    /// The folder name below the group-resource, as Velero spells it; empty for the legacy folder
    /// (Velero's own `versionPath` is empty there too).
    pub fn dir_name(&self) -> String {
        match self {
            VersionDir::Legacy => String::new(),
            VersionDir::Version {
                version,
                preferred: true,
            } => format!("{version}{PREFERRED_VERSION_SUFFIX}"),
            VersionDir::Version {
                version,
                preferred: false,
            } => version.clone(),
        }
    }

    /// The API version of a versioned folder; `None` for the legacy folder, whose version is
    /// only known from the objects' `apiVersion`.
    pub fn version(&self) -> Option<&str> {
        match self {
            VersionDir::Legacy => None,
            VersionDir::Version { version, .. } => Some(version),
        }
    }

    /// Parses a folder name: empty is the legacy folder, `<v>-preferredversion` the preferred
    /// version, anything else a plain version. The version must be a DNS-1035 label, as
    /// Kubernetes requires of every API version name.
    pub fn parse(dir_name: &str) -> Result<Self, String> {
        if dir_name.is_empty() {
            return Ok(VersionDir::Legacy);
        }
        let (version, preferred) = match dir_name.strip_suffix(PREFERRED_VERSION_SUFFIX) {
            Some(version) => (version, true),
            None => (dir_name, false),
        };
        check_version_name(version)?;
        Ok(VersionDir::Version {
            version: version.to_owned(),
            preferred,
        })
    }
}

impl fmt::Display for VersionDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionDir::Legacy => f.write_str("(legacy folder)"),
            other => f.write_str(&other.dir_name()),
        }
    }
}

impl FromStr for VersionDir {
    type Err = String;
    fn from_str(dir_name: &str) -> Result<Self, String> {
        VersionDir::parse(dir_name)
    }
}

// Serialized as the folder name, so an index reads like the tarball: "" is the legacy folder.
impl Serialize for VersionDir {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.dir_name())
    }
}

impl<'de> Deserialize<'de> for VersionDir {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        VersionDir::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// One object at one API version, as the writer places it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item<'a> {
    /// Its group-resource (`deployments.apps`, `pods`).
    pub group_resource: &'a GroupResource,
    /// Its namespace; `None` for a cluster-scoped object.
    pub namespace: Option<&'a str>,
    /// Its `metadata.name`.
    pub name: &'a str,
    /// The API version this copy was read at.
    pub version: &'a str,
    /// The source cluster's preferred version of the group-resource.
    pub preferred_version: &'a str,
}

impl Item<'_> {
    /// How errors name the object: `rockbands.music.example.io v2beta1 "ns"/"name"`.
    pub fn describe(&self) -> String {
        match self.namespace {
            Some(namespace) => format!(
                "{} {} {:?}/{:?}",
                self.group_resource, self.version, namespace, self.name
            ),
            None => format!("{} {} {:?}", self.group_resource, self.version, self.name),
        }
    }
}

/// The entry paths of one object version, in the order Velero writes them: the legacy path
/// first (only for the preferred version), then the versioned one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemPaths {
    /// `resources/<gr>/{cluster,namespaces/<ns>}/<name>.json`, for the preferred version only.
    pub legacy: Option<String>,
    /// `resources/<gr>/<dir>/{cluster,namespaces/<ns>}/<name>.json`.
    pub versioned: String,
}

impl ItemPaths {
    /// The paths in write order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.legacy
            .as_deref()
            .into_iter()
            .chain(std::iter::once(self.versioned.as_str()))
    }
}

/// The tarball paths of one object version, after checking every part can be a safe path
/// component that Velero will read back.
pub fn item_paths(item: &Item<'_>) -> Result<ItemPaths, Error> {
    let invalid = |why: String| Error::InvalidItem {
        item: item.describe(),
        why,
    };
    let group_resource = item.group_resource.to_string();
    // `GroupResource::new` does not check its parts; the display form is what becomes a folder.
    GroupResource::parse(&group_resource).map_err(|err| invalid(err.to_string()))?;
    check_version_name(item.version).map_err(|why| invalid(format!("version: {why}")))?;
    if let Some(namespace) = item.namespace {
        check_object_segment(namespace).map_err(|why| invalid(format!("namespace: {why}")))?;
    }
    check_object_segment(item.name).map_err(|why| invalid(format!("name: {why}")))?;

    let scope = match item.namespace {
        Some(namespace) => format!("{NAMESPACES_DIR}/{namespace}/{}{JSON_SUFFIX}", item.name),
        None => format!("{CLUSTER_DIR}/{}{JSON_SUFFIX}", item.name),
    };
    let base = format!("{RESOURCES_DIR}/{group_resource}");
    let is_preferred = item.version == item.preferred_version;
    let dir = VersionDir::Version {
        version: item.version.to_owned(),
        preferred: is_preferred,
    };
    Ok(ItemPaths {
        legacy: is_preferred.then(|| format!("{base}/{scope}")),
        versioned: format!("{base}/{}/{scope}", dir.dir_name()),
    })
}

/// A Kubernetes API version name is a DNS-1035 label (`v1`, `v2beta1`, `foo1`). Two valid labels
/// are refused because they would collide with Velero's own folder names.
fn check_version_name(version: &str) -> Result<(), String> {
    let bytes = version.as_bytes();
    let valid = !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_lowercase()
        && bytes[bytes.len() - 1] != b'-'
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    if !valid {
        return Err(format!(
            "{version:?} is not an API version name (a DNS-1035 label such as v1 or v2beta1)"
        ));
    }
    if version == NAMESPACES_DIR || version == CLUSTER_DIR {
        return Err(format!(
            "{version:?} collides with Velero's {version}/ folder"
        ));
    }
    if version.ends_with(PREFERRED_VERSION_SUFFIX) {
        return Err(format!(
            "{version:?} ends with {PREFERRED_VERSION_SUFFIX}, which marks the preferred version"
        ));
    }
    Ok(())
}

/// A namespace or object name becomes one path component. Kubernetes allows more than DNS names
/// for some resources (`system:controller:x` ClusterRoles, `a..b`), so only what breaks a path
/// is refused: empty, `.`, `..`, a `/` or a NUL.
fn check_object_segment(segment: &str) -> Result<(), String> {
    check_segment(segment).map_err(|why| format!("{segment:?}: {why}"))
}

/// The rule every path component obeys, written or read.
fn check_segment(segment: &str) -> Result<(), &'static str> {
    if segment.is_empty() {
        return Err("empty path component");
    }
    if segment == "." {
        return Err("a '.' path component");
    }
    if segment == ".." {
        return Err("a '..' path component");
    }
    if segment.contains('/') {
        return Err("a '/' inside a name");
    }
    if segment.contains('\0') {
        return Err("a NUL byte in the path");
    }
    // On Windows a backslash separates folders, so `a\..\..` would climb out.
    if cfg!(windows) && segment.contains('\\') {
        return Err("a '\\' in the path");
    }
    Ok(())
}

/// Where an object entry sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ObjectPath {
    pub group_resource: GroupResource,
    pub dir: VersionDir,
    pub namespace: Option<String>,
    pub name: String,
    /// The path relative to the archive root, cleaned of a leading `./`.
    pub path: String,
}

/// What an entry path turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EntryPath {
    /// A directory entry on the way to objects (or the root `./` some tar writers add).
    Dir,
    /// `metadata/version`.
    VersionFile,
    /// An object file.
    Object(ObjectPath),
}

/// Checks one entry path from an archive and says what it is. `is_dir` is the entry's type.
/// Paths are accepted with a leading `./` (Velero's own extractor cleans them the same way) and,
/// for directories, a trailing `/`.
pub(crate) fn parse_entry_path(raw: &[u8], is_dir: bool) -> Result<EntryPath, Error> {
    let entry = String::from_utf8_lossy(raw).into_owned();
    let unsafe_path = |why: &'static str| Error::UnsafePath {
        entry: entry.clone(),
        why,
    };
    let unexpected = |why: String| Error::UnexpectedEntry {
        entry: entry.clone(),
        why,
    };

    let text = std::str::from_utf8(raw).map_err(|_| unsafe_path("the path is not UTF-8"))?;
    if text.starts_with('/') {
        return Err(unsafe_path("an absolute path"));
    }
    let mut relative = text;
    while let Some(rest) = relative.strip_prefix("./") {
        relative = rest;
    }
    if is_dir {
        relative = relative.strip_suffix('/').unwrap_or(relative);
        if relative.is_empty() || relative == "." {
            return Ok(EntryPath::Dir);
        }
    }
    if relative.is_empty() {
        return Err(unsafe_path("an empty path"));
    }
    let segments: Vec<&str> = relative.split('/').collect();
    for segment in &segments {
        check_segment(segment).map_err(unsafe_path)?;
    }

    match segments.as_slice() {
        [METADATA_DIR] if is_dir => Ok(EntryPath::Dir),
        [METADATA_DIR, "version"] if !is_dir => Ok(EntryPath::VersionFile),
        [METADATA_DIR, ..] => Err(unexpected(format!(
            "only {VERSION_FILE} is expected under {METADATA_DIR}/"
        ))),
        [RESOURCES_DIR] if is_dir => Ok(EntryPath::Dir),
        [RESOURCES_DIR, group_resource, rest @ ..] => {
            let group_resource = GroupResource::parse(group_resource)
                .map_err(|err| unexpected(format!("the folder is not a group-resource: {err}")))?;
            parse_resource_rest(group_resource, rest, is_dir, relative).map_err(unexpected)
        }
        _ => Err(unexpected(format!(
            "it lies outside {METADATA_DIR}/ and {RESOURCES_DIR}/"
        ))),
    }
}

/// The part below `resources/<gr>/`: `[<dir>/]{cluster/<f> | namespaces/<ns>/<f>}` for a file,
/// any leading part of that for a directory.
fn parse_resource_rest(
    group_resource: GroupResource,
    rest: &[&str],
    is_dir: bool,
    path: &str,
) -> Result<EntryPath, String> {
    // A lone file right below the group-resource is a depth error, not a bad version folder.
    let (dir, scope) = match rest.first() {
        Some(&first)
            if first != NAMESPACES_DIR && first != CLUSTER_DIR && (is_dir || rest.len() > 1) =>
        {
            let dir = VersionDir::parse(first).map_err(|why| format!("version folder: {why}"))?;
            (dir, &rest[1..])
        }
        _ => (VersionDir::Legacy, rest),
    };
    if is_dir {
        return match scope {
            [] | [CLUSTER_DIR] | [NAMESPACES_DIR] | [NAMESPACES_DIR, _] => Ok(EntryPath::Dir),
            _ => Err("a folder deeper than resources/<group-resource>/[<version>/]namespaces/<namespace>/".to_owned()),
        };
    }
    let (namespace, file) = match scope {
        [CLUSTER_DIR, file] => (None, *file),
        [NAMESPACES_DIR, namespace, file] => (Some((*namespace).to_owned()), *file),
        [] | [CLUSTER_DIR] | [NAMESPACES_DIR] | [NAMESPACES_DIR, _] => {
            return Err("a file where a folder is expected".to_owned());
        }
        _ => return Err("a file at the wrong depth".to_owned()),
    };
    let name = file
        .strip_suffix(JSON_SUFFIX)
        .ok_or_else(|| "an object file name must end in .json".to_owned())?;
    check_object_segment(name).map_err(|why| format!("object name {why}"))?;
    Ok(EntryPath::Object(ObjectPath {
        group_resource,
        dir,
        namespace,
        name: name.to_owned(),
        path: path.to_owned(),
    }))
}

#[cfg(test)]
mod tests;
