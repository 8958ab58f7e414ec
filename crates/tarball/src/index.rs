//! What a backup tarball holds, as the reader found it: per group-resource, the version folders
//! present, which one is the source-preferred version, and how many objects each holds. Its size
//! grows with group-resources and versions, never with objects.

use std::collections::BTreeMap;

use godwit_versioning::GroupResource;
use serde::Serialize;

use crate::Error;
use crate::layout::{ObjectPath, VersionDir};

/// The contents of a backup tarball, without the objects themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BackupIndex {
    /// The trimmed text of `metadata/version`; `None` when the tarball has none. Velero's
    /// restore never reads this file, so a tarball without it is accepted as Velero accepts it.
    pub format_version: Option<String>,
    /// Every group-resource found under `resources/`.
    pub group_resources: BTreeMap<GroupResource, GroupResourceIndex>,
    /// Tar entries read, extension headers and directories included.
    pub entries: u64,
    /// Object files read (each copy counts: legacy and versioned).
    pub object_files: u64,
}

impl BackupIndex {
    /// The index of one group-resource, if the backup holds it.
    pub fn group_resource(&self, group_resource: &GroupResource) -> Option<&GroupResourceIndex> {
        self.group_resources.get(group_resource)
    }
}

/// The folders of one group-resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GroupResourceIndex {
    /// Every folder present, legacy first, then versions by name.
    pub dirs: BTreeMap<VersionDir, DirCounts>,
}

impl GroupResourceIndex {
    /// The API versions held in versioned folders (not the legacy one), ordered by name.
    pub fn versions(&self) -> Vec<&str> {
        self.dirs.keys().filter_map(VersionDir::version).collect()
    }

    /// The folder holding the source-preferred version: the `-preferredversion` one, or the
    /// legacy folder in a tarball written before format 1.1.0.
    pub fn preferred_dir(&self) -> Option<&VersionDir> {
        self.dirs
            .keys()
            .find(|dir| {
                matches!(
                    dir,
                    VersionDir::Version {
                        preferred: true,
                        ..
                    }
                )
            })
            .or_else(|| self.dirs.keys().find(|dir| **dir == VersionDir::Legacy))
    }

    /// The source-preferred version, when a `-preferredversion` folder names it.
    pub fn preferred_version(&self) -> Option<&str> {
        self.preferred_dir().and_then(VersionDir::version)
    }
}

/// How many objects one folder holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DirCounts {
    /// Objects under `namespaces/`.
    pub namespaced: u64,
    /// Objects under `cluster/`.
    pub cluster: u64,
}

impl DirCounts {
    /// Both scopes together.
    pub fn total(&self) -> u64 {
        self.namespaced + self.cluster
    }
}

impl BackupIndex {
    /// Counts one object file, refusing a second preferred version for its group-resource or a
    /// version present both with and without the `-preferredversion` suffix.
    pub(crate) fn add_object(&mut self, object: &ObjectPath) -> Result<(), Error> {
        let index = self
            .group_resources
            .entry(object.group_resource.clone())
            .or_default();
        if let VersionDir::Version { version, preferred } = &object.dir {
            let clash = index.dirs.keys().find_map(|dir| match dir {
                VersionDir::Version {
                    version: other,
                    preferred: true,
                } if *preferred && other != version => Some(format!(
                    "{} already has preferred version {other}, and this entry says {version}",
                    object.group_resource
                )),
                VersionDir::Version {
                    version: other,
                    preferred: other_preferred,
                } if other == version && other_preferred != preferred => Some(format!(
                    "{} holds version {version} both as {version}/ and {version}-preferredversion/",
                    object.group_resource
                )),
                _ => None,
            });
            if let Some(why) = clash {
                return Err(Error::Conflict {
                    entry: object.path.clone(),
                    why,
                });
            }
        }
        let counts = index.dirs.entry(object.dir.clone()).or_default();
        match object.namespace {
            Some(_) => counts.namespaced += 1,
            None => counts.cluster += 1,
        }
        self.object_files += 1;
        Ok(())
    }
}
