//! Velero's include/exclude semantics (`pkg/util/collections`), as pure values: exclusions win,
//! an empty include list or `*` includes everything, and namespace names may hold `*` wildcards.
//! On top of them, [`Selection::should_include`] and [`Selection::should_exclude`] add the rules
//! for cluster-scoped resources and `include_cluster_resources` (Velero's
//! `GlobalIncludesExcludes`).

use godwit_versioning::GroupResource;

use crate::spec::Selection;

/// The group-resource of namespaces: never skipped for being cluster-scoped, since the namespaces
/// of backed-up objects are filtered later.
pub(crate) fn namespaces_group_resource() -> GroupResource {
    GroupResource::new("", "namespaces")
}

/// Which namespaces to back up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamespaceFilter {
    includes: Vec<String>,
    excludes: Vec<String>,
}

/// Where a namespaced resource must be listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceScope {
    /// One list across all namespaces, filtered on the client (no include list, `*`, or a
    /// wildcard pattern).
    All,
    /// One list per namespace, in this order.
    Only(Vec<String>),
}

impl NamespaceFilter {
    /// A filter from the spec's lists, kept as given.
    pub fn new(includes: &[String], excludes: &[String]) -> Self {
        NamespaceFilter {
            includes: includes.to_vec(),
            excludes: excludes.to_vec(),
        }
    }

    /// Whether objects of this namespace are backed up.
    pub fn should_include(&self, namespace: &str) -> bool {
        if self.excludes.iter().any(|p| glob_match(p, namespace)) {
            return false;
        }
        self.includes.is_empty() || self.includes.iter().any(|p| glob_match(p, namespace))
    }

    /// No exclusion, and no inclusion beyond `*`.
    pub fn include_everything(&self) -> bool {
        self.excludes.is_empty()
            && (self.includes.is_empty() || (self.includes.len() == 1 && self.includes[0] == "*"))
    }

    /// Where to list namespaced resources.
    pub fn scope(&self) -> NamespaceScope {
        if self.includes.is_empty() || self.includes.iter().any(|p| p.contains('*')) {
            return NamespaceScope::All;
        }
        let mut names: Vec<String> = self
            .includes
            .iter()
            .filter(|n| self.should_include(n))
            .cloned()
            .collect();
        names.sort();
        names.dedup();
        NamespaceScope::Only(names)
    }

    /// The included names without wildcards.
    pub fn plain_includes(&self) -> impl Iterator<Item = &str> {
        self.includes
            .iter()
            .filter(|name| !name.contains('*'))
            .map(String::as_str)
    }

    /// An entry both included and excluded, if any.
    pub fn overlap(&self) -> Option<&str> {
        self.excludes
            .iter()
            .find(|e| self.includes.contains(e))
            .map(String::as_str)
    }
}

/// Which resources to back up, over resolved group-resources.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceFilter {
    include_all: bool,
    includes: Vec<GroupResource>,
    excludes: Vec<GroupResource>,
}

impl ResourceFilter {
    /// A filter; `include_all` stands for an empty include list or `*`.
    pub fn new(
        include_all: bool,
        includes: Vec<GroupResource>,
        excludes: Vec<GroupResource>,
    ) -> Self {
        ResourceFilter {
            include_all,
            includes,
            excludes,
        }
    }

    /// Not excluded, and included by name or by `*`.
    pub fn should_include(&self, group_resource: &GroupResource) -> bool {
        !self.is_excluded(group_resource)
            && (self.include_all || self.includes.contains(group_resource))
    }

    /// Named in the exclude list.
    pub fn is_excluded(&self, group_resource: &GroupResource) -> bool {
        self.excludes.contains(group_resource)
    }

    /// A group-resource both included and excluded, if any.
    pub fn overlap(&self) -> Option<&GroupResource> {
        self.excludes.iter().find(|e| self.includes.contains(e))
    }
}

impl Selection {
    /// Whether a resource is listed at all (Velero's `GlobalIncludesExcludes.ShouldInclude`).
    /// Cluster-scoped resources are left out when `include_cluster_resources` is `false`, and,
    /// when it is unset, whenever the namespace filter selects less than everything.
    pub fn should_include(&self, group_resource: &GroupResource, namespaced: bool) -> bool {
        if !namespaced && self.include_cluster_resources == Some(false) {
            return false;
        }
        if !namespaced
            && self.include_cluster_resources.is_none()
            && *group_resource != namespaces_group_resource()
            && !self.namespaces.include_everything()
        {
            return false;
        }
        self.resources.should_include(group_resource)
    }

    /// Whether a resource is kept out even as a related item (a custom resource's CRD): excluded
    /// by name, or cluster-scoped while `include_cluster_resources` is `false`, or cluster-scoped,
    /// unset, and not allowed by the resource filter (Velero's `ShouldExclude`).
    pub fn should_exclude(&self, group_resource: &GroupResource, namespaced: bool) -> bool {
        if self.resources.is_excluded(group_resource) {
            return true;
        }
        if namespaced {
            return false;
        }
        match self.include_cluster_resources {
            Some(false) => true,
            None => !self.resources.should_include(group_resource),
            Some(true) => false,
        }
    }
}

/// Matches a name against a pattern where `*` stands for any text (possibly empty).
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == name;
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = match parts.split_first() {
        Some(split) => split,
        None => return false,
    };
    let Some(mut remaining) = name.strip_prefix(first) else {
        return false;
    };
    let (last, middle) = match rest.split_last() {
        Some(split) => split,
        None => return remaining.is_empty(),
    };
    for part in middle {
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

#[cfg(test)]
mod tests;
