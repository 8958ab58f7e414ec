//! The filters of SPEC.md section 5: the never-restore list, included/excluded namespaces and
//! resources, label selectors and include-cluster-resources, checked once against the target's
//! discovery and the backup's group-resources and then applied per object.

use std::collections::{BTreeMap, BTreeSet};

use godwit_discovery::Discovery;
use godwit_versioning::GroupResource;

use crate::{Error, LabelSelector, RestoreSpec};

/// Resources a restore never creates, with the reason (Velero's `nonRestorableResources`).
pub const NON_RESTORABLE: &[(&str, &str, &str)] = &[
    // (group, resource, why)
    ("", "nodes", "nodes belong to the cluster that runs them"),
    ("", "events", "events describe the source cluster's past"),
    (
        "events.k8s.io",
        "events",
        "events describe the source cluster's past",
    ),
    // velero#622: backups are synced from object storage, never restored.
    (
        "velero.io",
        "backups",
        "backups are synced from object storage",
    ),
    (
        "velero.io",
        "restores",
        "restores only make sense in the cluster that ran them",
    ),
    (
        "velero.io",
        "resticrepositories",
        "repositories are created as needed by the server",
    ),
    (
        "velero.io",
        "backuprepositories",
        "repositories are created as needed by the server",
    ),
    // velero#4823: they record which node a volume is attached to.
    (
        "storage.k8s.io",
        "csinodes",
        "CSI nodes mirror the target's own nodes",
    ),
    (
        "storage.k8s.io",
        "volumeattachments",
        "attachments name nodes of the source cluster",
    ),
];

/// Why a group-resource is never restored, if it is on the never-restore list.
pub fn non_restorable(group_resource: &GroupResource) -> Option<&'static str> {
    NON_RESTORABLE
        .iter()
        .find(|(group, resource, _)| {
            group_resource.group == *group && group_resource.resource == *resource
        })
        .map(|(_, _, why)| *why)
}

/// Objects the target's own control plane keeps in every namespace, which a restore leaves
/// alone: (group, resource, name, why). godwit's addition; Velero restores them and, on every
/// real cluster, warns once per namespace that the live one differs.
///
/// The `default` ServiceAccount is not listed: it is merged like every ServiceAccount (SPEC
/// section 5), which adds the backup's image pull secrets, labels and annotations to the one
/// the target made, and says nothing when there is nothing to add.
pub const MADE_BY_THE_TARGET: &[(&str, &str, &str, &str)] = &[(
    "",
    "configmaps",
    "kube-root-ca.crt",
    // kube-controller-manager's root-CA publisher writes it into every namespace (and puts it
    // back if changed); the backed-up copy holds the source cluster's CA, wrong in the target.
    "the target's kube-controller-manager publishes its own cluster CA in every namespace",
)];

/// Why a restore leaves an object to the target's control plane, if it does.
pub fn made_by_the_target(group_resource: &GroupResource, name: &str) -> Option<&'static str> {
    MADE_BY_THE_TARGET
        .iter()
        .find(|(group, resource, object, _)| {
            group_resource.group == *group
                && group_resource.resource == *resource
                && name == *object
        })
        .map(|(_, _, _, why)| *why)
}

/// The checked filters of one restore.
#[derive(Debug, Clone)]
pub(crate) struct Filters {
    namespaces: Patterns,
    included_resources: Option<BTreeSet<GroupResource>>,
    excluded_resources: BTreeSet<GroupResource>,
    selectors: Vec<LabelSelector>,
    include_cluster_resources: Option<bool>,
    /// Filter entries that match nothing, reported as plan warnings.
    pub(crate) warnings: Vec<String>,
}

/// Included and excluded namespace patterns.
#[derive(Debug, Clone)]
struct Patterns {
    included: Vec<String>,
    excluded: Vec<String>,
}

impl Patterns {
    /// Velero's `IncludesExcludes.ShouldInclude`: excluded wins; no includes (or `*`) is all.
    fn includes(&self, name: &str) -> bool {
        if self.excluded.iter().any(|p| glob(p, name)) {
            return false;
        }
        self.included.is_empty() || self.included.iter().any(|p| glob(p, name))
    }

    /// Velero's `IncludeEverything`: nothing excluded and everything included.
    fn include_everything(&self) -> bool {
        self.excluded.is_empty() && self.included.iter().all(|p| p == "*")
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob(pattern: &str, name: &str) -> bool {
    let Some((head, rest)) = pattern.split_once('*') else {
        return pattern == name;
    };
    let Some(mut remaining) = name.strip_prefix(head) else {
        return false;
    };
    let mut parts: Vec<&str> = rest.split('*').collect();
    let last = parts.pop().unwrap_or("");
    for part in parts {
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

impl Filters {
    /// Checks the spec's filters, resolving resource names through the target's discovery and,
    /// for resources the target does not serve yet (custom resources whose CRD is in the
    /// backup), through the backup's own group-resources. Returns every problem found.
    pub(crate) fn new(
        spec: &RestoreSpec,
        target: &Discovery,
        backup: &[GroupResource],
    ) -> Result<Self, Vec<Error>> {
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        check_lists(
            "namespace",
            &spec.included_namespaces,
            &spec.excluded_namespaces,
            &mut problems,
        );
        check_lists(
            "resource",
            &spec.included_resources,
            &spec.excluded_resources,
            &mut problems,
        );
        if spec.label_selector.is_some() && !spec.or_label_selectors.is_empty() {
            problems.push(Error::BothSelectors);
        }

        let mut resolve_all = |entries: &[String], included: bool| {
            let mut resolved = BTreeSet::new();
            for entry in entries.iter().filter(|e| e.as_str() != "*") {
                match resolve(entry, target, backup) {
                    Ok(Some(group_resource)) => {
                        if included && let Some(why) = non_restorable(&group_resource) {
                            problems.push(Error::NonRestorableIncluded {
                                group_resource: group_resource.clone(),
                                why,
                            });
                        }
                        resolved.insert(group_resource);
                    }
                    Ok(None) => warnings.push(format!(
                        "{} resource {entry:?} matches nothing the target serves or the backup \
                         holds; the entry is ignored",
                        if included { "included" } else { "excluded" }
                    )),
                    Err(err) => problems.push(err),
                }
            }
            resolved
        };
        let all_included =
            spec.included_resources.is_empty() || spec.included_resources.iter().any(|e| e == "*");
        let included = resolve_all(&spec.included_resources, true);
        let excluded = resolve_all(&spec.excluded_resources, false);
        if !problems.is_empty() {
            return Err(problems);
        }
        let namespaces = Patterns {
            // `*` among the includes includes everything, whatever else is listed.
            included: match spec.included_namespaces.iter().any(|p| p == "*") {
                true => Vec::new(),
                false => spec.included_namespaces.clone(),
            },
            excluded: spec.excluded_namespaces.clone(),
        };
        let mut selectors: Vec<LabelSelector> = spec.or_label_selectors.clone();
        selectors.extend(spec.label_selector.clone());
        Ok(Filters {
            namespaces,
            included_resources: (!all_included).then_some(included),
            excluded_resources: excluded,
            selectors,
            include_cluster_resources: spec.include_cluster_resources,
            warnings,
        })
    }

    /// Whether the resource filters keep a group-resource.
    pub(crate) fn includes_resource(&self, group_resource: &GroupResource) -> bool {
        !self.excluded_resources.contains(group_resource)
            && self
                .included_resources
                .as_ref()
                .is_none_or(|included| included.contains(group_resource))
    }

    /// Whether the namespace filters keep a source namespace.
    pub(crate) fn includes_namespace(&self, namespace: &str) -> bool {
        self.namespaces.includes(namespace)
    }

    /// Why a cluster-scoped object is left out, if it is (Velero's include-cluster-resources).
    pub(crate) fn excludes_cluster_scoped(&self) -> Option<&'static str> {
        match self.include_cluster_resources {
            Some(false) => Some("cluster-scoped, and cluster resources are excluded"),
            None if !self.namespaces.include_everything() => Some(
                "cluster-scoped, and only some namespaces are restored (set \
                 --include-cluster-resources to restore it)",
            ),
            _ => None,
        }
    }

    /// Why the filters leave out an object another restored object needs (Velero's additional
    /// items), if they do: the resource filters, the namespace filters, and an explicit
    /// `--include-cluster-resources=false`. The label selector and the default exclusion of
    /// cluster-scoped resources under a namespace filter do not apply to such an object.
    pub(crate) fn excludes_needed(
        &self,
        group_resource: &GroupResource,
        namespace: Option<&str>,
    ) -> Option<String> {
        if let Some(why) = non_restorable(group_resource) {
            return Some(format!("never restored: {why}"));
        }
        if !self.includes_resource(group_resource) {
            return Some("excluded by the resource filters".to_owned());
        }
        match namespace {
            Some(namespace) if !self.includes_namespace(namespace) => Some(format!(
                "namespace {namespace} is excluded by the namespace filters"
            )),
            Some(_) => None,
            None if self.include_cluster_resources == Some(false) => {
                Some("cluster-scoped, and cluster resources are excluded".to_owned())
            }
            None => None,
        }
    }

    /// Whether the label selectors keep an object with these backed-up labels.
    pub(crate) fn selects(&self, labels: &BTreeMap<String, String>) -> bool {
        self.selectors.is_empty() || self.selectors.iter().any(|s| s.matches(labels))
    }

    /// Whether any label selector is set.
    pub(crate) fn has_selector(&self) -> bool {
        !self.selectors.is_empty()
    }
}

/// Velero's `ValidateIncludesExcludes`: nothing both included and excluded, and `*` never
/// excluded.
fn check_lists(
    what: &'static str,
    included: &[String],
    excluded: &[String],
    problems: &mut Vec<Error>,
) {
    if excluded.iter().any(|e| e == "*") {
        problems.push(Error::InvalidFilter {
            what,
            why: "excludes cannot contain '*'".to_owned(),
        });
    }
    for entry in included.iter().filter(|e| excluded.contains(e)) {
        problems.push(Error::InvalidFilter {
            what,
            why: format!("{entry:?} is both included and excluded"),
        });
    }
    if let Some(empty) = included
        .iter()
        .chain(excluded)
        .find(|e| e.trim().is_empty())
    {
        problems.push(Error::InvalidFilter {
            what,
            why: format!("{empty:?} is an empty entry"),
        });
    }
}

/// Resolves one resource filter entry: through the target's discovery first, then against the
/// backup's group-resources (a CRD in the backup may not be served yet). `Ok(None)` when it
/// matches nothing anywhere.
pub(crate) fn resolve(
    entry: &str,
    target: &Discovery,
    backup: &[GroupResource],
) -> Result<Option<GroupResource>, Error> {
    match target.resolve(entry) {
        Ok(group_resource) => return Ok(Some(group_resource)),
        Err(godwit_discovery::Error::ResourceNotFound { .. }) => {}
        Err(err) => {
            return Err(Error::InvalidResourceEntry {
                entry: entry.to_owned(),
                why: err.to_string(),
            });
        }
    }
    let lowered = entry.trim().to_ascii_lowercase();
    let Ok(wanted) = GroupResource::parse(&lowered) else {
        return Ok(None);
    };
    if lowered.contains('.') {
        return Ok(backup.contains(&wanted).then_some(wanted));
    }
    let mut matching = backup.iter().filter(|gr| gr.resource == wanted.resource);
    match (matching.next(), matching.next()) {
        (Some(only), None) => Ok(Some(only.clone())),
        (None, _) => Ok(None),
        (Some(first), Some(second)) => Err(Error::InvalidResourceEntry {
            entry: entry.to_owned(),
            why: format!("it matches {first} and {second} in the backup; write it with its group"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let check = |pattern: &str, name: &str, expected: bool| {
            assert_eq!(glob(pattern, name), expected, "{pattern} {name}");
        };
        check("*", "anything", true);
        check("app-*", "app-1", true);
        check("app-*", "db-1", false);
        check("*-prod", "shop-prod", true);
        check("a*b*c", "axxbyyc", true);
        check("a*b*c", "axxbyy", false);
        check("exact", "exact", true);
        check("exact", "exactly", false);
        check("a*a", "a", false);
    }

    #[test]
    fn never_restored() {
        for (group, resource) in [
            ("", "nodes"),
            ("", "events"),
            ("events.k8s.io", "events"),
            ("velero.io", "backups"),
            ("velero.io", "restores"),
            ("velero.io", "backuprepositories"),
            ("velero.io", "resticrepositories"),
            ("storage.k8s.io", "csinodes"),
            ("storage.k8s.io", "volumeattachments"),
        ] {
            assert!(
                non_restorable(&GroupResource::new(group, resource)).is_some(),
                "{resource}.{group}"
            );
        }
        assert!(non_restorable(&GroupResource::new("", "pods")).is_none());
        assert!(non_restorable(&GroupResource::new("velero.io", "schedules")).is_none());
    }
}
