//! What to list, decided from discovery and a [`Selection`] before any object is read: which
//! group-resources, in which versions (the preferred one, or every served one with
//! `EnableAPIGroupVersions`), in which namespaces and with which selectors. Pure: the collector
//! runs the [`ListJob`]s this produces.
//!
//! Rules, after Velero's item collector:
//! - only resources that support list, get, create and delete (in the version read) are taken;
//!   subresources never reach here (discovery drops them);
//! - the filters of [`Selection::should_include`] decide per group-resource;
//! - of two groups serving the same objects (`events` in the core group and in `events.k8s.io`;
//!   `deployments`, `daemonsets`, `replicasets`, `networkpolicies` in `extensions` and their new
//!   group) only one is backed up: the first in discovery order, `extensions` always last;
//! - `namespaces` is listed whole and filtered at the end, when it is known which namespaces hold
//!   backed-up objects;
//! - the CRDs of backed-up custom resources are added at the end when CRDs are neither included
//!   nor excluded by the filters;
//! - objects pulled in by the built-in actions (`crate::actions`) are read in their preferred
//!   version.

use godwit_discovery::Discovery;
use godwit_versioning::GroupResource;

use crate::actions;
use crate::filter::{NamespaceScope, namespaces_group_resource};
use crate::selector::LabelSelector;
use crate::spec::Selection;

/// The CRD group-resource: read when custom resources pull their definitions in.
pub(crate) fn crd_group_resource() -> GroupResource {
    GroupResource::new("apiextensions.k8s.io", "customresourcedefinitions")
}

/// Pairs of groups that serve the same objects under one resource name.
const COHABITING: [(&str, &str, &str); 5] = [
    ("deployments", "extensions", "apps"),
    ("daemonsets", "extensions", "apps"),
    ("replicasets", "extensions", "apps"),
    ("networkpolicies", "extensions", "networking.k8s.io"),
    ("events", "", "events.k8s.io"),
];

/// One group-resource to back up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedResource {
    /// The group-resource.
    pub group_resource: GroupResource,
    /// The kind of its objects, in the preferred version.
    pub kind: String,
    /// Whether its objects live in namespaces.
    pub namespaced: bool,
    /// The version the source prefers for it (`-preferredversion` in the tarball).
    pub preferred_version: String,
    /// The versions to read, preferred first, then the others in server order.
    pub versions: Vec<String>,
}

/// Everything the collector lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The resources to list, in discovery order (`namespaces` excluded).
    pub resources: Vec<PlannedResource>,
    /// `namespaces`, when included: listed whole, filtered at the end.
    pub namespaces: Option<PlannedResource>,
    /// Where namespaced resources are listed.
    pub scope: NamespaceScope,
    /// How to read CRDs, when the CRDs of backed-up custom resources are to be added at the end.
    pub custom_resource_definitions: Option<PlannedResource>,
    /// How to read the objects that others pull in (claims, volumes, priority classes; see the
    /// built-in actions), in their preferred versions, whatever the filters say.
    pub related: Vec<PlannedResource>,
    /// Group-resources left out, each with the reason, for the log.
    pub skipped: Vec<(GroupResource, String)>,
}

/// One list request sequence (all pages of one list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListJob {
    /// Index into [`Plan::resources`].
    pub resource: usize,
    /// The version to read.
    pub version: String,
    /// The namespace to list in; `None` lists across all namespaces (or a cluster-scoped
    /// resource).
    pub namespace: Option<String>,
    /// The server-side selector; `None` lists everything.
    pub selector: Option<LabelSelector>,
}

/// Decides what to back up.
pub fn plan(discovery: &Discovery, selection: &Selection, all_versions: bool) -> Plan {
    let mut resources = Vec::new();
    let mut namespaces = None;
    let mut skipped = Vec::new();
    for group_resource in discovery.group_resources() {
        let Some(planned) = planned_resource(discovery, &group_resource, all_versions) else {
            skipped.push((
                group_resource,
                "it does not support list, get, create and delete".to_owned(),
            ));
            continue;
        };
        if !selection.should_include(&group_resource, planned.namespaced) {
            skipped.push((
                group_resource,
                "the backup's filters leave it out".to_owned(),
            ));
            continue;
        }
        if let Some(kept) = cohabitant_kept(&group_resource, &resources, discovery) {
            skipped.push((
                group_resource,
                format!("it serves the same objects as {kept}, which is backed up instead"),
            ));
            continue;
        }
        if group_resource == namespaces_group_resource() {
            namespaces = Some(planned);
        } else {
            resources.push(planned);
        }
    }
    let crd = crd_group_resource();
    let auto_crds =
        !selection.should_exclude(&crd, false) && !selection.should_include(&crd, false);
    let custom_resource_definitions = auto_crds
        .then(|| planned_resource(discovery, &crd, false))
        .flatten();
    let related = actions::pulled_in()
        .iter()
        .filter_map(|group_resource| planned_resource(discovery, group_resource, false))
        .collect();
    Plan {
        resources,
        namespaces,
        scope: selection.namespaces.scope(),
        custom_resource_definitions,
        related,
        skipped,
    }
}

impl Plan {
    /// Every list to run: per resource, version, namespace (for namespaced resources under a
    /// namespace list) and selector.
    pub fn jobs(&self, selectors: &[LabelSelector]) -> Vec<ListJob> {
        let selectors: Vec<Option<LabelSelector>> = if selectors.is_empty() {
            vec![None]
        } else {
            selectors.iter().cloned().map(Some).collect()
        };
        let mut jobs = Vec::new();
        for (index, resource) in self.resources.iter().enumerate() {
            let namespaces: Vec<Option<String>> = match (&self.scope, resource.namespaced) {
                (NamespaceScope::Only(names), true) => names.iter().cloned().map(Some).collect(),
                _ => vec![None],
            };
            for version in &resource.versions {
                for namespace in &namespaces {
                    for selector in &selectors {
                        jobs.push(ListJob {
                            resource: index,
                            version: version.clone(),
                            namespace: namespace.clone(),
                            selector: selector.clone(),
                        });
                    }
                }
            }
        }
        jobs
    }
}

/// What to read of one group-resource, if it can be backed up at all.
fn planned_resource(
    discovery: &Discovery,
    group_resource: &GroupResource,
    all_versions: bool,
) -> Option<PlannedResource> {
    let preferred_version = discovery.preferred_version_for(group_resource)?;
    let info = discovery.resource(group_resource, preferred_version)?;
    if !info.is_backupable() {
        return None;
    }
    let mut versions = vec![preferred_version.to_owned()];
    if all_versions {
        for version in discovery.versions_serving(group_resource) {
            let backupable = discovery
                .resource(group_resource, version)
                .is_some_and(|r| r.is_backupable());
            if backupable && version != preferred_version {
                versions.push(version.to_owned());
            }
        }
    }
    Some(PlannedResource {
        group_resource: group_resource.clone(),
        kind: info.kind.clone(),
        namespaced: info.namespaced,
        preferred_version: preferred_version.to_owned(),
        versions,
    })
}

/// The already planned group-resource that serves the same objects, if any. `extensions` always
/// gives way, even when discovery lists it first.
fn cohabitant_kept(
    group_resource: &GroupResource,
    planned: &[PlannedResource],
    discovery: &Discovery,
) -> Option<GroupResource> {
    let (_, first, second) = COHABITING.iter().find(|(resource, a, b)| {
        group_resource.resource == *resource
            && (group_resource.group == *a || group_resource.group == *b)
    })?;
    let other_group = if group_resource.group == *first {
        second
    } else {
        first
    };
    let other = GroupResource::new(*other_group, &group_resource.resource);
    if group_resource.group == "extensions" {
        return discovery.is_backupable(&other).then_some(other);
    }
    if other.group == "extensions" {
        return None;
    }
    planned
        .iter()
        .any(|p| p.group_resource == other)
        .then_some(other)
}

#[cfg(test)]
mod tests;
