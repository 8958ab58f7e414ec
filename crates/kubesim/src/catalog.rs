//! What the server serves: one [`ResourceDef`] per group, version and resource, from the
//! profile's built-ins plus the CustomResourceDefinitions stored right now.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::crds::CrdSpec;
use crate::profiles::{self, Profile};

/// Verbs of a built-in resource, in the order the API server lists them.
pub(crate) const BUILTIN_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// Verbs of a custom resource, in the order the API server lists them.
pub(crate) const CUSTOM_VERBS: &[&str] = &[
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "create",
    "update",
    "watch",
];

/// Verbs of a status subresource.
pub(crate) const STATUS_VERBS: &[&str] = &["get", "patch", "update"];

/// How requests to a resource are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Behaviour {
    /// Objects are kept in the store.
    Stored,
    /// Create-only review objects (access reviews, token reviews): answered, never stored.
    Review,
    /// Read-only resources that kubesim has nothing to show for (componentstatuses).
    Empty,
}

/// A subresource as discovery lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SubresourceDef {
    /// The part after the slash: `status`, `scale`, `log`.
    pub(crate) name: String,
    /// Kind of the object it takes and returns.
    pub(crate) kind: String,
    /// Group and version of that kind when they differ from the parent's.
    pub(crate) group_version: Option<(String, String)>,
    /// What may be done with it.
    pub(crate) verbs: Vec<String>,
}

/// One served resource at one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceDef {
    /// API group, empty for the core group.
    pub(crate) group: String,
    /// The served version this definition describes.
    pub(crate) version: String,
    /// Plural resource name, as in URLs.
    pub(crate) plural: String,
    /// Singular resource name.
    pub(crate) singular: String,
    /// Object kind.
    pub(crate) kind: String,
    /// Kind of a list of these objects.
    pub(crate) list_kind: String,
    /// Whether objects live in namespaces.
    pub(crate) namespaced: bool,
    /// Allowed verbs, in discovery order.
    pub(crate) verbs: Vec<String>,
    /// Short names (`cm`, `deploy`).
    pub(crate) short_names: Vec<String>,
    /// Categories (`all`).
    pub(crate) categories: Vec<String>,
    /// Subresources in discovery order.
    pub(crate) subresources: Vec<SubresourceDef>,
    /// Version objects are stored at; every served version reads and writes the same objects.
    pub(crate) storage_version: String,
    /// Group of the storage version (differs only for `events.k8s.io`, stored as core events).
    pub(crate) storage_group: String,
    /// Whether the server keeps `metadata.generation`.
    pub(crate) generation: bool,
    /// Whether a delete answers with the object rather than a success Status.
    pub(crate) returns_deleted_object: bool,
    /// Whether this comes from a CustomResourceDefinition.
    pub(crate) custom: bool,
    /// How requests are answered.
    pub(crate) behaviour: Behaviour,
}

impl ResourceDef {
    /// `group/version`, or just `version` for the core group.
    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Whether this resource has a status subresource (which splits spec from status writes).
    pub(crate) fn has_status(&self) -> bool {
        self.subresources.iter().any(|sub| sub.name == "status")
    }

    /// Whether a verb is allowed.
    pub(crate) fn allows(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// The key objects of this resource are stored under, shared by all its versions.
    pub(crate) fn group_resource(&self) -> GroupResource {
        GroupResource {
            group: self.group.clone(),
            resource: self.plural.clone(),
        }
    }

    /// The storage version hash discovery shows: base64 of the first 8 bytes of the sha256 of
    /// `group/version/kind` at the storage version.
    pub(crate) fn storage_version_hash(&self) -> String {
        use sha2::Digest;
        let gvk = format!(
            "{}/{}/{}",
            self.storage_group, self.storage_version, self.kind
        );
        let digest = sha2::Sha256::digest(gvk.as_bytes());
        base64_standard(&digest[..8])
    }
}

/// Standard base64 with padding (what Go's `base64.StdEncoding` writes).
pub(crate) fn base64_standard(bytes: &[u8]) -> String {
    base64_with(
        bytes,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        true,
    )
}

/// URL-safe base64 without padding (what Go's `base64.RawURLEncoding` writes).
pub(crate) fn base64_url(bytes: &[u8]) -> String {
    base64_with(
        bytes,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        false,
    )
}

fn base64_with(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let symbols = chunk.len() + 1;
        for i in 0..4 {
            if i < symbols {
                out.push(char::from(alphabet[((n >> (18 - 6 * i)) & 63) as usize]));
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes URL-safe base64, with or without padding.
pub(crate) fn base64_url_decode(text: &str) -> Option<Vec<u8>> {
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for c in text.trim_end_matches('=').bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push(((bits >> count) & 0xFF) as u8);
        }
    }
    Some(out)
}

/// A group and plural resource name: the store's key for one resource across its versions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct GroupResource {
    /// API group, empty for core.
    pub(crate) group: String,
    /// Plural resource name.
    pub(crate) resource: String,
}

impl std::fmt::Display for GroupResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.resource)
        } else {
            write!(f, "{}.{}", self.resource, self.group)
        }
    }
}

/// One API group as discovery shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupDef {
    /// Group name, empty for core.
    pub(crate) name: String,
    /// Served versions, preferred first.
    pub(crate) versions: Vec<String>,
}

/// Everything served right now.
#[derive(Debug, Clone)]
pub(crate) struct Catalog {
    profile: Profile,
    resources: Vec<Arc<ResourceDef>>,
    groups: Vec<GroupDef>,
    index: HashMap<(String, String, String), Arc<ResourceDef>>,
    builtin_group_versions: HashSet<(String, String)>,
}

impl Catalog {
    /// The profile's built-ins plus the resources the given CRDs serve.
    pub(crate) fn new(profile: Profile, crds: &[CrdSpec]) -> Self {
        let builtin = profiles::builtin_resources(profile);
        let builtin_group_versions: HashSet<(String, String)> = builtin
            .iter()
            .map(|def| (def.group.clone(), def.version.clone()))
            .collect();
        let mut groups: Vec<GroupDef> = Vec::new();
        let add_group_version =
            |groups: &mut Vec<GroupDef>, group: &str, version: &str| match groups
                .iter_mut()
                .find(|g| g.name == group)
            {
                Some(existing) => {
                    if !existing.versions.iter().any(|v| v == version) {
                        existing.versions.push(version.to_owned());
                    }
                }
                None => groups.push(GroupDef {
                    name: group.to_owned(),
                    versions: vec![version.to_owned()],
                }),
            };
        for def in &builtin {
            add_group_version(&mut groups, &def.group, &def.version);
        }
        let builtin_group_count = groups.len();
        let mut custom: Vec<ResourceDef> = crds.iter().flat_map(CrdSpec::served).collect();
        custom.sort_by(|a, b| a.group.cmp(&b.group).then(a.plural.cmp(&b.plural)));
        for def in &custom {
            add_group_version(&mut groups, &def.group, &def.version);
        }
        // CRD groups order their versions by priority, so the first one is the preferred one.
        for group in groups.iter_mut().skip(builtin_group_count) {
            godwit_versioning::sort_by_priority(&mut group.versions);
        }
        let resources: Vec<Arc<ResourceDef>> =
            builtin.into_iter().chain(custom).map(Arc::new).collect();
        let mut index = HashMap::with_capacity(resources.len());
        for def in &resources {
            index
                .entry((def.group.clone(), def.version.clone(), def.plural.clone()))
                .or_insert_with(|| Arc::clone(def));
        }
        Self {
            profile,
            resources,
            groups,
            index,
            builtin_group_versions,
        }
    }

    /// The profile this catalog was built for.
    pub(crate) fn profile(&self) -> Profile {
        self.profile
    }

    /// The served resource at a group, version and plural name.
    pub(crate) fn find(
        &self,
        group: &str,
        version: &str,
        plural: &str,
    ) -> Option<Arc<ResourceDef>> {
        self.index
            .get(&(group.to_owned(), version.to_owned(), plural.to_owned()))
            .cloned()
    }

    /// Whether a group version is one of the profile's built-ins (answered by the built-in
    /// handlers, whose unknown paths get a Status rather than plain text).
    pub(crate) fn is_builtin_group_version(&self, group: &str, version: &str) -> bool {
        self.builtin_group_versions
            .contains(&(group.to_owned(), version.to_owned()))
    }

    /// Whether the API server's own handlers serve this group (the core group, or a built-in
    /// group at any version): they, not the catch-all, answer for its unknown versions.
    pub(crate) fn is_builtin_group(&self, group: &str) -> bool {
        group.is_empty() || self.builtin_group_versions.iter().any(|(g, _)| g == group)
    }

    /// Whether any resource is served at this group version.
    pub(crate) fn serves_group_version(&self, group: &str, version: &str) -> bool {
        self.groups
            .iter()
            .any(|g| g.name == group && g.versions.iter().any(|v| v == version))
    }

    /// All groups, core first, in discovery order.
    pub(crate) fn groups(&self) -> &[GroupDef] {
        &self.groups
    }

    /// One group.
    pub(crate) fn group(&self, name: &str) -> Option<&GroupDef> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// The resources served at one group version, in discovery order.
    pub(crate) fn resources_of(&self, group: &str, version: &str) -> Vec<Arc<ResourceDef>> {
        self.resources
            .iter()
            .filter(|def| def.group == group && def.version == version)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests;
