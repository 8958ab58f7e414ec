//! Cross-cluster pitfalls: what no single object's decision shows but trips a move between
//! clusters. A target older than the backup's source; OpenShift namespaces whose
//! security-context ranges differ from the source's (pods then run with UIDs that do not own
//! the files on restored volumes); Operator Lifecycle Manager objects, which must be excluded
//! for a restore to succeed; custom resources landing in a CRD that still lists old stored
//! versions. Pure: the executor fetches [`TargetFacts`] and calls [`pitfalls`].

use std::collections::BTreeMap;

use godwit_versioning::GroupResource;
use serde::Serialize;

use crate::plan::{Decision, Plan};

/// The namespace annotations through which OpenShift gives each namespace its own UID range,
/// supplemental groups and SELinux level; pods of the namespace run inside them.
pub const SCC_ANNOTATIONS: [&str; 3] = [
    "openshift.io/sa.scc.uid-range",
    "openshift.io/sa.scc.supplemental-groups",
    "openshift.io/sa.scc.mcs",
];

/// Operator Lifecycle Manager's group-resources that make a restore fail or fight OLM: OLM
/// owns them in the target and installs operators from Subscriptions itself.
pub const OPERATOR_LIFECYCLE_MANAGER: [&str; 3] = [
    "subscriptions.operators.coreos.com",
    "clusterserviceversions.operators.coreos.com",
    "installplans.operators.coreos.com",
];

/// A Kubernetes version as `/version` reports it, and as Velero records the source's in a
/// Backup's `velero.io/source-cluster-k8s-*` labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerVersion {
    /// The major version.
    pub major: u32,
    /// The minor version (`33` of `33+`).
    pub minor: u32,
    /// The full version (`v1.33.13`).
    pub git_version: String,
}

impl ServerVersion {
    /// Reads the three strings `/version` gives. Providers write the minor as `33+`; only the
    /// leading digits count. `None` when major or minor hold no number.
    pub fn parse(major: &str, minor: &str, git_version: &str) -> Option<Self> {
        let number = |text: &str| -> Option<u32> {
            let digits: String = text
                .trim()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        };
        Some(ServerVersion {
            major: number(major)?,
            minor: number(minor)?,
            git_version: git_version.trim().to_owned(),
        })
    }

    fn shown(&self) -> String {
        match self.git_version.is_empty() {
            true => format!("{}.{}", self.major, self.minor),
            false => self.git_version.clone(),
        }
    }
}

/// How a CRD of the target stores its objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrdStorage {
    /// The CRD's name.
    pub name: String,
    /// The version objects are stored at now.
    pub storage_version: String,
    /// `status.storedVersions`: every version objects may still be stored at.
    pub stored_versions: Vec<String>,
}

/// What the pitfalls need to know beyond the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetFacts {
    /// The Kubernetes version the backup was taken from, when the backup records it.
    pub source_version: Option<ServerVersion>,
    /// The target's Kubernetes version.
    pub target_version: Option<ServerVersion>,
    /// Whether the target is OpenShift (it serves `security.openshift.io`), where a namespace
    /// created without the SCC annotations is assigned ranges of its own.
    pub openshift: bool,
    /// The plan's namespaces that already exist in the target, with their annotations.
    pub existing_namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// Every target namespace's SCC UID range, by namespace (to find ranges a restored
    /// namespace would share).
    pub uid_ranges: BTreeMap<String, String>,
    /// The target's CRDs that serve the plan's group-resources.
    pub crds: BTreeMap<GroupResource, CrdStorage>,
}

/// What kind of pitfall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PitfallKind {
    /// The target runs an older Kubernetes minor than the backup's source.
    OlderTarget,
    /// An OpenShift namespace's security-context ranges will differ from the source's.
    SecurityContextRanges,
    /// The backup holds Operator Lifecycle Manager objects the restore would create.
    OperatorLifecycleManager,
    /// A CRD the restore writes into still lists stored versions besides its storage version.
    StoredVersions,
}

/// One pitfall, said so that the user knows what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pitfall {
    /// What kind.
    pub kind: PitfallKind,
    /// The target namespace it is about, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// What happens, and the way out.
    pub message: String,
}

/// The pitfalls of carrying out `plan` into a target described by `facts`, in a stable order.
pub fn pitfalls(plan: &Plan, facts: &TargetFacts) -> Vec<Pitfall> {
    let mut found = Vec::new();
    older_target(facts, &mut found);
    security_context_ranges(plan, facts, &mut found);
    operator_lifecycle_manager(plan, &mut found);
    stored_versions(plan, facts, &mut found);
    found
}

fn older_target(facts: &TargetFacts, found: &mut Vec<Pitfall>) {
    let (Some(source), Some(target)) = (&facts.source_version, &facts.target_version) else {
        return;
    };
    if (target.major, target.minor) >= (source.major, source.minor) {
        return;
    }
    found.push(Pitfall {
        kind: PitfallKind::OlderTarget,
        namespace: None,
        message: format!(
            "the backup was taken from Kubernetes {}; the target runs {}, an older minor: \
             versions only the source serves fail (listed above), and fields the target does \
             not know yet are dropped by its API server without an error; check the objects \
             that use recent fields, or restore into a target at {}.{} or later",
            source.shown(),
            target.shown(),
            source.major,
            source.minor
        ),
    });
}

fn security_context_ranges(plan: &Plan, facts: &TargetFacts, found: &mut Vec<Pitfall>) {
    for namespace in &plan.namespaces {
        let backed_up: BTreeMap<&str, &str> = SCC_ANNOTATIONS
            .iter()
            .filter_map(|key| Some((*key, namespace.annotations.get(*key)?.as_str())))
            .collect();
        let name = &namespace.name;
        let mut say = |message: String| {
            found.push(Pitfall {
                kind: PitfallKind::SecurityContextRanges,
                namespace: Some(name.clone()),
                message,
            })
        };
        match facts.existing_namespaces.get(name) {
            Some(existing) => {
                let differing: Vec<String> = SCC_ANNOTATIONS
                    .iter()
                    .filter_map(|key| {
                        let ours = backed_up.get(key).copied();
                        let theirs = existing.get(*key).map(String::as_str);
                        (ours.is_some() && ours != theirs).then(|| {
                            format!(
                                "{key} is {} in the target, {} in the backup",
                                theirs.unwrap_or("unset"),
                                ours.unwrap_or("unset")
                            )
                        })
                    })
                    .collect();
                if !differing.is_empty() {
                    say(format!(
                        "namespace {name} already exists and keeps its own security-context \
                         ranges ({}): restored pods run with other UIDs and groups than in the \
                         source, and may not read the files on restored volumes; restore into \
                         a new namespace (--namespace-mappings) or set the ranges to the \
                         backup's before restoring",
                        differing.join("; ")
                    ));
                }
            }
            None if backed_up.is_empty() && facts.openshift => say(format!(
                "namespace {name} is created without the backup's security-context ranges \
                 ({}): OpenShift assigns it new ones, so restored pods run with other UIDs \
                 and groups than in the source and may not read the files on restored volumes; \
                 back up the Namespace object too, or set its openshift.io/sa.scc.* \
                 annotations to the source's before restoring",
                match namespace.backed_up {
                    true => "the backed-up Namespace has none",
                    false => "the Namespace object is not in the backup",
                }
            )),
            None => {
                let Some(range) = backed_up.get(SCC_ANNOTATIONS[0]) else {
                    continue;
                };
                let sharing: Vec<&str> = facts
                    .uid_ranges
                    .iter()
                    .filter(|(other, r)| *other != name && r.as_str() == *range)
                    .map(|(other, _)| other.as_str())
                    .collect();
                if !sharing.is_empty() {
                    say(format!(
                        "namespace {name} is created with the source's UID range {range}, \
                         which target namespace(s) {} already have: their pods would share \
                         UIDs; remove the openshift.io/sa.scc.* annotations from the \
                         restored Namespace so OpenShift assigns new ranges, and fix file \
                         ownership on restored volumes",
                        sharing.join(", ")
                    ));
                }
            }
        }
    }
}

fn operator_lifecycle_manager(plan: &Plan, found: &mut Vec<Pitfall>) {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for tier in &plan.tiers {
        let name = tier.group_resource.to_string();
        if OPERATOR_LIFECYCLE_MANAGER.contains(&name.as_str()) && !tier.objects.is_empty() {
            *counts.entry(name).or_default() += tier.objects.len();
        }
    }
    for failed in &plan.failed {
        let name = failed.object.group_resource.to_string();
        if OPERATOR_LIFECYCLE_MANAGER.contains(&name.as_str()) {
            *counts.entry(name).or_default() += 1;
        }
    }
    if counts.is_empty() {
        return;
    }
    let held: Vec<String> = counts.iter().map(|(gr, n)| format!("{n} {gr}")).collect();
    found.push(Pitfall {
        kind: PitfallKind::OperatorLifecycleManager,
        namespace: None,
        message: format!(
            "the restore would create Operator Lifecycle Manager objects ({}): OLM owns them in \
             the target, and restored ClusterServiceVersions and InstallPlans fail or fight it; \
             exclude them (--exclude-resources {}) and let the target's OLM install the \
             operators from a Subscription created there",
            held.join(", "),
            OPERATOR_LIFECYCLE_MANAGER.join(",")
        ),
    });
}

fn stored_versions(plan: &Plan, facts: &TargetFacts, found: &mut Vec<Pitfall>) {
    for tier in &plan.tiers {
        if tier.objects.is_empty() || !matches!(tier.decision, Decision::Chosen { .. }) {
            continue;
        }
        let Some(crd) = facts.crds.get(&tier.group_resource) else {
            continue;
        };
        let old: Vec<&str> = crd
            .stored_versions
            .iter()
            .filter(|v| **v != crd.storage_version)
            .map(String::as_str)
            .collect();
        if old.is_empty() {
            continue;
        }
        found.push(Pitfall {
            kind: PitfallKind::StoredVersions,
            namespace: None,
            message: format!(
                "CRD {} still lists stored versions {} besides its storage version {}: the \
                 restored {} objects are stored at {}, but objects already in the target may \
                 still be stored at {}; run `godwit storage-version migrate {}` before removing \
                 {} from the CRD",
                crd.name,
                old.join(", "),
                crd.storage_version,
                tier.group_resource,
                crd.storage_version,
                old.join(", "),
                crd.name,
                old.join(", ")
            ),
        });
    }
}

#[cfg(test)]
mod tests;
