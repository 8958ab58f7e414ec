//! The discovery model: which groups a cluster serves, each group's versions in server order and
//! its preferred version as the server said it, and each group-version's resources. Also the
//! compact JSON shape of the fixtures under `fixtures/discovery/`, which is this model serialized.
//!
//! A [`Discovery`] is checked when it is built, so every query can rely on its invariants: group
//! names are unique and well formed, every group has at least one version, the preferred version
//! is one of them, version names are unique in their group, resource names are unique in their
//! group-version, and no resource is a subresource.

use serde::{Deserialize, Serialize};

use godwit_versioning::GroupResource;

use crate::Error;

/// The verbs a resource must support for a backup to list it, read it, and for a restore to
/// create it and clean it up (the set Velero's discovery helper filters on).
pub const BACKUP_VERBS: [&str; 4] = ["list", "get", "create", "delete"];

/// One resource of a group-version, as discovery describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceInfo {
    /// The plural name used in URLs (`deployments`).
    pub name: String,
    /// The singular name (`deployment`). When a server leaves it empty (built-in resources before
    /// Kubernetes 1.27), it is filled with the lower-cased kind, as client-go's REST mapper does.
    #[serde(default)]
    pub singular_name: String,
    /// The kind of its objects (`Deployment`).
    pub kind: String,
    /// Whether its objects live in namespaces.
    pub namespaced: bool,
    /// The verbs it supports (`get`, `list`, `create`, ...), in server order.
    #[serde(default)]
    pub verbs: Vec<String>,
    /// Short names kubectl accepts (`deploy`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub short_names: Vec<String>,
    /// Categories it belongs to (`all`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
}

impl ResourceInfo {
    /// Whether the resource supports a verb.
    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// Whether a backup can take it and a restore can put it back: all of [`BACKUP_VERBS`].
    pub fn is_backupable(&self) -> bool {
        BACKUP_VERBS.iter().all(|verb| self.supports(verb))
    }
}

/// One version of a group and the resources it serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServedVersion {
    /// The version name (`v1`, `v2beta1`).
    pub version: String,
    /// Its resources, subresources left out, in server order.
    #[serde(default)]
    pub resources: Vec<ResourceInfo>,
}

impl ServedVersion {
    /// The resource with this plural name, if this version serves it.
    pub fn resource(&self, name: &str) -> Option<&ResourceInfo> {
        self.resources.iter().find(|r| r.name == name)
    }
}

/// One API group: its versions in server order and its preferred version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// The group name; `""` for the core group (`/api/v1`).
    pub name: String,
    /// The version the server prefers, as it said it (never recomputed from the version names).
    pub preferred_version: String,
    /// Its versions, in the order the server listed them.
    pub versions: Vec<ServedVersion>,
}

impl Group {
    /// A version of this group, if served.
    pub fn version(&self, version: &str) -> Option<&ServedVersion> {
        self.versions.iter().find(|v| v.version == version)
    }

    /// The version names, in server order.
    pub fn version_names(&self) -> impl Iterator<Item = &str> {
        self.versions.iter().map(|v| v.version.as_str())
    }

    /// The versions with the preferred one first, then the others in server order: the order in
    /// which client-go's REST mapper looks for a resource inside a group.
    pub(crate) fn versions_by_preference(&self) -> impl Iterator<Item = &ServedVersion> {
        let preferred = self.version(&self.preferred_version);
        preferred.into_iter().chain(
            self.versions
                .iter()
                .filter(|v| v.version != self.preferred_version),
        )
    }
}

/// Everything a cluster serves, as discovery reports it. Build it with [`Discovery::new`],
/// [`Discovery::from_json`] (the compact fixture shape) or [`crate::DiscoveryBuilder`] (the API
/// server's own documents).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Unchecked")]
pub struct Discovery {
    groups: Vec<Group>,
}

/// The compact shape before its invariants are checked.
#[derive(Deserialize)]
struct Unchecked {
    groups: Vec<Group>,
}

impl TryFrom<Unchecked> for Discovery {
    type Error = Error;
    fn try_from(unchecked: Unchecked) -> Result<Self, Error> {
        Discovery::new(unchecked.groups)
    }
}

impl Discovery {
    /// Builds a discovery from groups, failing on the first broken invariant.
    pub fn new(groups: Vec<Group>) -> Result<Self, Error> {
        let (discovery, mut problems) = Discovery::new_lenient(groups);
        match problems.is_empty() {
            true => Ok(discovery),
            false => Err(problems.swap_remove(0)),
        }
    }

    /// Builds a discovery from groups, leaving out what breaks an invariant and reporting each
    /// such problem. Empty singular names are filled with the lower-cased kind.
    pub fn new_lenient(groups: Vec<Group>) -> (Self, Vec<Error>) {
        let mut problems = Vec::new();
        let mut kept: Vec<Group> = Vec::with_capacity(groups.len());
        for group in groups {
            if let Err(why) = check_group_name(&group.name) {
                problems.push(Error::InvalidGroup {
                    group: group.name,
                    why,
                });
                continue;
            }
            let group = clean_group(group, &mut problems);
            if let Some(earlier) = kept.iter().find(|g| g.name == group.name) {
                if *earlier != group {
                    problems.push(Error::DuplicateGroup { group: group.name });
                }
                continue;
            }
            if group.versions.is_empty() {
                problems.push(Error::GroupWithoutVersions { group: group.name });
                continue;
            }
            kept.push(group);
        }
        (Discovery { groups: kept }, problems)
    }

    /// Reads the compact JSON shape of `fixtures/discovery/`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(bytes).map_err(|err| Error::Json {
            document: "compact discovery JSON".to_owned(),
            message: err.to_string(),
        })
    }

    /// Writes the compact JSON shape, pretty-printed.
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string_pretty(self).map_err(|err| Error::Json {
            document: "compact discovery JSON".to_owned(),
            message: err.to_string(),
        })
    }

    /// Both discoveries together, for example built-ins plus a fixture of CRD groups. Fails when a
    /// group appears in both with different content.
    pub fn merge(self, other: Discovery) -> Result<Self, Error> {
        let mut groups = self.groups;
        groups.extend(other.groups);
        Discovery::new(groups)
    }

    /// Every served group, in server order.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// A group, if served (`""` for the core group).
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// The preferred version of a group, as the server said it.
    pub fn preferred_version(&self, group: &str) -> Option<&str> {
        self.group(group).map(|g| g.preferred_version.as_str())
    }

    /// The versions of a group, in server order; empty when the group is not served. This is
    /// group level: see [`Discovery::versions_serving`] for one resource.
    pub fn versions(&self, group: &str) -> Vec<&str> {
        self.group(group)
            .map(|g| g.version_names().collect())
            .unwrap_or_default()
    }

    /// The versions that serve this group-resource, in server order; empty when none does. A
    /// resource may exist in only some versions of its group.
    pub fn versions_serving(&self, group_resource: &GroupResource) -> Vec<&str> {
        self.group(&group_resource.group)
            .map(|g| {
                g.versions
                    .iter()
                    .filter(|v| v.resource(&group_resource.resource).is_some())
                    .map(|v| v.version.as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The version in which to read a group-resource when only one is wanted: its group's
    /// preferred version if that serves it, else the first version in server order that does
    /// (client-go's `ServerPreferredResources`).
    pub fn preferred_version_for(&self, group_resource: &GroupResource) -> Option<&str> {
        let group = self.group(&group_resource.group)?;
        group
            .versions_by_preference()
            .find(|v| v.resource(&group_resource.resource).is_some())
            .map(|v| v.version.as_str())
    }

    /// What discovery says about a group-resource in one version.
    pub fn resource(&self, group_resource: &GroupResource, version: &str) -> Option<&ResourceInfo> {
        self.group(&group_resource.group)?
            .version(version)?
            .resource(&group_resource.resource)
    }

    /// What discovery says about a group-resource in [`Discovery::preferred_version_for`].
    pub fn preferred_resource(&self, group_resource: &GroupResource) -> Option<&ResourceInfo> {
        let version = self.preferred_version_for(group_resource)?;
        self.resource(group_resource, version)
    }

    /// Whether a group-resource is namespaced; `None` when it is not served.
    pub fn is_namespaced(&self, group_resource: &GroupResource) -> Option<bool> {
        self.preferred_resource(group_resource)
            .map(|r| r.namespaced)
    }

    /// Whether a backup can take a group-resource: served, and supporting every verb of
    /// [`BACKUP_VERBS`] in [`Discovery::preferred_version_for`].
    pub fn is_backupable(&self, group_resource: &GroupResource) -> bool {
        self.preferred_resource(group_resource)
            .is_some_and(ResourceInfo::is_backupable)
    }

    /// Every served group-resource once, in discovery order (groups in server order, then
    /// resources as first seen along each group's versions, preferred version first).
    pub fn group_resources(&self) -> Vec<GroupResource> {
        let mut seen = Vec::new();
        for group in &self.groups {
            for version in group.versions_by_preference() {
                for resource in &version.resources {
                    let group_resource = GroupResource::new(&group.name, &resource.name);
                    if !seen.contains(&group_resource) {
                        seen.push(group_resource);
                    }
                }
            }
        }
        seen
    }
}

/// `<group>/<version>`, or `<version>` for the core group: the `groupVersion` spelling.
pub(crate) fn group_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    }
}

fn check_group_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Ok(());
    }
    if name.split('.').any(str::is_empty) {
        return Err("a group name has no empty labels");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        return Err("a group name has only lower-case letters, digits, '-' and '.'");
    }
    Ok(())
}

fn check_version_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("with an empty name");
    }
    if name.contains('/') || name.chars().any(char::is_whitespace) {
        return Err("with a '/' or a space in its name");
    }
    Ok(())
}

fn check_resource(resource: &ResourceInfo) -> Result<(), &'static str> {
    if resource.name.contains('/') {
        return Err("a subresource is not a resource");
    }
    if resource.name.is_empty()
        || !resource
            .name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("a resource name has only lower-case letters, digits and '-'");
    }
    if resource.kind.is_empty() {
        return Err("it has no kind");
    }
    Ok(())
}

/// Drops bad or repeated versions and resources of one group, and repairs its preferred version.
fn clean_group(group: Group, problems: &mut Vec<Error>) -> Group {
    let Group {
        name,
        preferred_version,
        versions,
    } = group;
    let mut kept: Vec<ServedVersion> = Vec::with_capacity(versions.len());
    for version in versions {
        let why = check_version_name(&version.version).err().or_else(|| {
            kept.iter()
                .any(|v| v.version == version.version)
                .then_some("twice")
        });
        if let Some(why) = why {
            problems.push(Error::InvalidVersion {
                group: name.clone(),
                version: version.version,
                why,
            });
            continue;
        }
        let group_version = group_version(&name, &version.version);
        let mut resources: Vec<ResourceInfo> = Vec::with_capacity(version.resources.len());
        for mut resource in version.resources {
            let why = check_resource(&resource).err().or_else(|| {
                resources
                    .iter()
                    .any(|r| r.name == resource.name)
                    .then_some("it is listed twice")
            });
            if let Some(why) = why {
                problems.push(Error::InvalidResource {
                    group_version: group_version.clone(),
                    resource: resource.name,
                    why,
                });
                continue;
            }
            if resource.singular_name.is_empty() {
                resource.singular_name = resource.kind.to_ascii_lowercase();
            }
            resources.push(resource);
        }
        kept.push(ServedVersion {
            version: version.version,
            resources,
        });
    }
    let preferred_version = if kept.iter().any(|v| v.version == preferred_version) {
        preferred_version
    } else {
        let first = kept.first().map(|v| v.version.clone()).unwrap_or_default();
        if !kept.is_empty() {
            problems.push(Error::PreferredVersionNotServed {
                group: name.clone(),
                preferred_version,
                versions: kept.iter().map(|v| v.version.clone()).collect(),
            });
        }
        first
    };
    Group {
        name,
        preferred_version,
        versions: kept,
    }
}

#[cfg(test)]
mod tests;
