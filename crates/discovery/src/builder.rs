//! Builds a [`Discovery`] from the API server's own documents ([`crate::wire`]), so the client half
//! only fetches bodies, parses them with [`crate::wire::parse`] and feeds them in, in any order and
//! in any mix of legacy and aggregated discovery.
//!
//! What the builder does with imperfect input, each case reported as a problem next to the result
//! rather than failing the whole discovery (one broken aggregated API server must not stop a
//! backup):
//!
//! - subresources (`pods/status`) are dropped silently: they are not resources;
//! - a version marked `Stale` in aggregated discovery is left out and reported
//!   ([`Error::StaleVersion`]), as client-go does (it turns it into a failed group-version) and
//!   kube-rs does (it skips it); the preferred version then is the first version that is not stale,
//!   which is client-go's rule;
//! - a version a group lists but whose resource list never came is kept with no resources
//!   ([`Error::MissingResourceList`]): the group still serves it, but which resources it holds is
//!   unknown, so no resource-level query will pick it;
//! - a resource list for a group-version no group lists is ignored
//!   ([`Error::UnlistedResourceList`]);
//! - the core group's preferred version is its first version: `/api` does not name one (kube-rs
//!   hard-codes `v1`, client-go takes the first).

use crate::model::{Group, ResourceInfo, ServedVersion, group_version};
use crate::wire::{
    ApiGroup, ApiGroupDiscoveryList, ApiGroupList, ApiResourceList, ApiVersions, FRESHNESS_STALE,
    SCOPE_NAMESPACED,
};
use crate::{Discovery, Error};

/// Collects discovery documents and turns them into a [`Discovery`] plus per-object problems.
#[derive(Debug, Default)]
pub struct DiscoveryBuilder {
    groups: Vec<Declared>,
    resource_lists: Vec<ResourceList>,
    problems: Vec<Error>,
}

/// A group as some document declared it: its versions and the preferred one, if named.
#[derive(Debug, PartialEq)]
struct Declared {
    name: String,
    versions: Vec<String>,
    preferred_version: Option<String>,
}

#[derive(Debug, PartialEq)]
struct ResourceList {
    group: String,
    version: String,
    resources: Vec<ResourceInfo>,
}

impl DiscoveryBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        DiscoveryBuilder::default()
    }

    /// Adds `GET /api`: the core group's versions.
    pub fn core_versions(&mut self, document: &ApiVersions) -> &mut Self {
        self.declare(Declared {
            name: String::new(),
            versions: document.versions.clone(),
            preferred_version: None,
        });
        self
    }

    /// Adds `GET /apis`: every other group with its versions and preferred version.
    pub fn group_list(&mut self, document: &ApiGroupList) -> &mut Self {
        for group in &document.groups {
            self.group(group);
        }
        self
    }

    /// Adds `GET /apis/<group>`: one group with its versions and preferred version.
    pub fn group(&mut self, document: &ApiGroup) -> &mut Self {
        self.declare(Declared {
            name: document.name.clone(),
            versions: document
                .versions
                .iter()
                .map(|v| version_of(&v.version, &v.group_version))
                .collect(),
            preferred_version: document
                .preferred_version
                .as_ref()
                .map(|p| version_of(&p.version, &p.group_version))
                .filter(|p| !p.is_empty()),
        });
        self
    }

    /// Adds `GET /api/<version>` or `GET /apis/<group>/<version>`: the resources of one
    /// group-version. Subresources are dropped.
    pub fn resource_list(&mut self, document: &ApiResourceList) -> &mut Self {
        let Some((group, version)) = split_group_version(&document.group_version) else {
            self.problems.push(Error::InvalidGroupVersion {
                group_version: document.group_version.clone(),
            });
            return self;
        };
        let resources = document
            .resources
            .iter()
            .filter(|r| !r.name.contains('/'))
            .map(|r| ResourceInfo {
                name: r.name.clone(),
                singular_name: r.singular_name.clone(),
                kind: r.kind.clone(),
                namespaced: r.namespaced,
                verbs: r.verbs.clone(),
                short_names: r.short_names.clone(),
                categories: r.categories.clone(),
            })
            .collect();
        self.add_resources(ResourceList {
            group: group.to_owned(),
            version: version.to_owned(),
            resources,
        });
        self
    }

    /// Adds an aggregated discovery document (`GET /api` or `GET /apis` asked with
    /// [`crate::wire::ACCEPT_AGGREGATED`]): groups, versions and resources at once. Versions marked
    /// `Stale` are left out and reported.
    pub fn aggregated(&mut self, document: &ApiGroupDiscoveryList) -> &mut Self {
        for item in &document.items {
            let group = &item.metadata.name;
            let mut versions = Vec::new();
            for (index, version) in item.versions.iter().enumerate() {
                if version.freshness == FRESHNESS_STALE {
                    self.problems.push(Error::StaleVersion {
                        group_version: group_version(group, &version.version),
                        was_preferred: index == 0,
                    });
                    continue;
                }
                let mut resources = Vec::new();
                for resource in &version.resources {
                    let kind = resource
                        .response_kind
                        .as_ref()
                        .map(|k| k.kind.clone())
                        .unwrap_or_default();
                    if kind.is_empty() {
                        self.problems.push(Error::InvalidResource {
                            group_version: group_version(group, &version.version),
                            resource: resource.resource.clone(),
                            why: "it has no responseKind",
                        });
                        continue;
                    }
                    resources.push(ResourceInfo {
                        name: resource.resource.clone(),
                        singular_name: resource.singular_resource.clone(),
                        kind,
                        namespaced: resource.scope == SCOPE_NAMESPACED,
                        verbs: resource.verbs.clone(),
                        short_names: resource.short_names.clone(),
                        categories: resource.categories.clone(),
                    });
                }
                versions.push(version.version.clone());
                self.add_resources(ResourceList {
                    group: group.clone(),
                    version: version.version.clone(),
                    resources,
                });
            }
            if versions.is_empty() {
                // Every version was stale (each already reported) or none was listed.
                if item.versions.is_empty() {
                    self.problems.push(Error::GroupWithoutVersions {
                        group: group.clone(),
                    });
                }
                continue;
            }
            let preferred_version = versions.first().cloned();
            self.declare(Declared {
                name: group.clone(),
                versions,
                preferred_version,
            });
        }
        self
    }

    /// The discovery built so far, and every problem met on the way.
    pub fn finish(self) -> (Discovery, Vec<Error>) {
        let DiscoveryBuilder {
            groups: declared,
            resource_lists,
            mut problems,
        } = self;
        let mut used = vec![false; resource_lists.len()];
        let mut groups = Vec::with_capacity(declared.len());
        for group in declared {
            let mut versions = Vec::with_capacity(group.versions.len());
            for version in &group.versions {
                let found = resource_lists
                    .iter()
                    .position(|l| l.group == group.name && l.version == *version);
                let resources = match found {
                    Some(index) => {
                        used[index] = true;
                        resource_lists[index].resources.clone()
                    }
                    None => {
                        problems.push(Error::MissingResourceList {
                            group_version: group_version(&group.name, version),
                        });
                        Vec::new()
                    }
                };
                versions.push(ServedVersion {
                    version: version.clone(),
                    resources,
                });
            }
            let preferred_version = group
                .preferred_version
                .or_else(|| group.versions.first().cloned())
                .unwrap_or_default();
            groups.push(Group {
                name: group.name,
                preferred_version,
                versions,
            });
        }
        for (list, used) in resource_lists.iter().zip(used) {
            if !used {
                problems.push(Error::UnlistedResourceList {
                    group_version: group_version(&list.group, &list.version),
                });
            }
        }
        let (discovery, more) = Discovery::new_lenient(groups);
        problems.extend(more);
        (discovery, problems)
    }

    fn declare(&mut self, group: Declared) {
        match self.groups.iter().find(|g| g.name == group.name) {
            None => self.groups.push(group),
            Some(earlier) if *earlier == group => {}
            Some(_) => self
                .problems
                .push(Error::DuplicateGroup { group: group.name }),
        }
    }

    fn add_resources(&mut self, list: ResourceList) {
        let earlier = self
            .resource_lists
            .iter()
            .find(|l| l.group == list.group && l.version == list.version);
        match earlier {
            None => self.resource_lists.push(list),
            Some(earlier) if *earlier == list => {}
            Some(_) => self.problems.push(Error::DuplicateResourceList {
                group_version: group_version(&list.group, &list.version),
            }),
        }
    }
}

impl Discovery {
    /// Builds discovery from legacy documents: `GET /api`, `GET /apis`, and every resource list
    /// that answered (`GET /api/<v>`, `GET /apis/<g>/<v>`). See [`DiscoveryBuilder`] for how
    /// imperfect input is handled.
    pub fn from_legacy(
        api: &ApiVersions,
        apis: &ApiGroupList,
        resource_lists: &[ApiResourceList],
    ) -> (Discovery, Vec<Error>) {
        let mut builder = DiscoveryBuilder::new();
        builder.core_versions(api).group_list(apis);
        for list in resource_lists {
            builder.resource_list(list);
        }
        builder.finish()
    }

    /// Builds discovery from aggregated documents (usually `/api` then `/apis`). See
    /// [`DiscoveryBuilder`] for how stale versions are handled.
    pub fn from_aggregated(documents: &[ApiGroupDiscoveryList]) -> (Discovery, Vec<Error>) {
        let mut builder = DiscoveryBuilder::new();
        for document in documents {
            builder.aggregated(document);
        }
        builder.finish()
    }
}

/// The version of a `GroupVersionForDiscovery`, taken from `groupVersion` when `version` is empty.
fn version_of(version: &str, group_version: &str) -> String {
    if !version.is_empty() {
        return version.to_owned();
    }
    split_group_version(group_version)
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default()
}

/// Splits `<group>/<version>` or `<version>` (core group).
fn split_group_version(text: &str) -> Option<(&str, &str)> {
    let (group, version) = match text.split_once('/') {
        Some(("", _)) => return None,
        Some(split) => split,
        None => ("", text),
    };
    (!version.is_empty() && !version.contains('/')).then_some((group, version))
}

#[cfg(test)]
mod tests;
