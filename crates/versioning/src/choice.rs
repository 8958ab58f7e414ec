//! Which API version of one group-resource a restore reads from the backup and creates in the
//! target cluster (SPEC.md section 4), and why.
//!
//! Pure: the caller brings the versions found in the tarball, the versions discovery reports for
//! the target and the user's priorities, and gets back a typed [`Outcome`]. Nothing here reads a
//! tarball or talks to a cluster.
//!
//! Where this differs from Velero (`pkg/restore/prioritize_group_version.go`), on purpose:
//! - Velero decides per API group; the caller here passes the versions served for the *resource*.
//! - Rule 3 excludes each side's *preferred* version, as SPEC.md says. Velero skips the first entry
//!   of each priority-sorted list instead, which differs when a preferred version is not the
//!   highest-ranked one (the target's top version can then never win rule 3 in Velero).
//! - When nothing fits, Velero silently restores the source preferred version, which the target
//!   then rejects object by object; here the outcome is [`Outcome::NoCommonVersion`], an error
//!   that names both sides' versions.
//! - When the target does not serve the resource at all, Velero also picks the source preferred
//!   version and relies on the CRDs it restores first. Here that is [`Outcome::NotServed`], so the
//!   restore planner can decide again once those CRDs are restored and discovered.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Error, GroupResource, sort_by_priority};

/// Suffix of the tarball directory holding the objects at the source cluster's preferred version
/// (`resources/<GR>/<version>-preferredversion/...`).
const PREFERRED_VERSION_SUFFIX: &str = "-preferredversion";

/// The versions one side holds for a group-resource, and the one that side prefers.
///
/// For the backup, `preferred_version` is the source cluster's preferred version (the
/// `<version>-preferredversion` directory); for the target it is what discovery reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Versions {
    /// Every version, in any order. Duplicates and empty names are ignored.
    pub versions: Vec<String>,
    /// The preferred version; it counts as held even when `versions` lacks it. Empty if unknown.
    pub preferred_version: String,
}

impl Versions {
    /// Builds one from any list of names and the preferred version.
    pub fn new<I, S>(versions: I, preferred_version: impl Into<String>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Versions {
            versions: versions.into_iter().map(Into::into).collect(),
            preferred_version: preferred_version.into(),
        }
    }

    /// Every version held, the preferred one included, once each, highest priority first. Names
    /// of equal priority (`v01`, `v1`) keep their input order.
    pub fn by_priority(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        let mut names: Vec<String> = self
            .versions
            .iter()
            .chain(std::iter::once(&self.preferred_version))
            .filter(|name| !name.is_empty() && seen.insert(name.as_str()))
            .cloned()
            .collect();
        sort_by_priority(&mut names);
        names
    }

    /// True when `version` is one of these versions. The empty name is never held.
    pub fn holds(&self, version: &str) -> bool {
        !version.is_empty()
            && (self.preferred_version == version || self.versions.iter().any(|v| v == version))
    }
}

/// The rule that picked a version, in the order the rules are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Rule {
    /// Priority 0: the first user-listed version that the backup holds and the target serves.
    UserPriority,
    /// Priority 1: the target's preferred version, held by the backup.
    TargetPreferred,
    /// Priority 2: the source's preferred version, served by the target.
    SourcePreferred,
    /// Priority 3: the highest-ranked version both sides have, neither side's preferred one.
    CommonNonPreferred,
    /// The `EnableAPIGroupVersions` feature flag is off: the source preferred version, as Velero
    /// restores then.
    FeatureFlagOff,
    /// The target serves no version the backup holds, and the objects are converted from a
    /// built-in version Kubernetes stopped serving to the one that replaced it (godwit's
    /// addition; the restore planner decides it, never [`choose_version`]).
    Converted,
}

impl Rule {
    /// The rule's number in SPEC.md section 4 and Velero's logs; `None` when the flag is off.
    pub fn priority(self) -> Option<u8> {
        match self {
            Rule::UserPriority => Some(0),
            Rule::TargetPreferred => Some(1),
            Rule::SourcePreferred => Some(2),
            Rule::CommonNonPreferred => Some(3),
            Rule::FeatureFlagOff | Rule::Converted => None,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rule::UserPriority => "user priority",
            Rule::TargetPreferred => "target preferred version",
            Rule::SourcePreferred => "source preferred version",
            Rule::CommonNonPreferred => "highest common non-preferred version",
            Rule::FeatureFlagOff => "source preferred version, EnableAPIGroupVersions is off",
            Rule::Converted => "converted from a version the target no longer serves",
        })
    }
}

/// The version chosen for one group-resource and where its objects lie in the tarball.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    /// The group-resource this choice is for.
    pub group_resource: GroupResource,
    /// The version to read and to create objects at.
    pub version: String,
    /// The directory below `resources/<GR>/` holding that version: `<version>-preferredversion`
    /// for the source's preferred version, `<version>` for any other (SPEC.md section 3).
    pub dir: String,
    /// The rule that chose it.
    pub rule: Rule,
}

impl Choice {
    fn new(
        group_resource: &GroupResource,
        version: &str,
        source_preferred_version: &str,
        rule: Rule,
    ) -> Self {
        let dir = if version == source_preferred_version {
            format!("{version}{PREFERRED_VERSION_SUFFIX}")
        } else {
            version.to_owned()
        };
        Choice {
            group_resource: group_resource.clone(),
            version: version.to_owned(),
            dir,
            rule,
        }
    }
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{gr}: restoring {version} by {rule}, read from resources/{gr}/{dir}",
            gr = self.group_resource,
            version = self.version,
            rule = self.rule,
            dir = self.dir,
        )
    }
}

/// The target does not serve the group-resource at all (typically: its CRD is not installed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotServed {
    /// The group-resource the target lacks.
    pub group_resource: GroupResource,
    /// The versions the backup holds, highest priority first.
    pub backup_versions: Vec<String>,
}

impl fmt::Display for NotServed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cluster does not serve {}, backup has [{}]; restore its CustomResourceDefinition \
             from the backup or install one that serves one of them",
            self.group_resource,
            self.backup_versions.join(", "),
        )
    }
}

/// The backup and the target have no version of the group-resource in common.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NoCommonVersion {
    /// The group-resource that cannot be restored.
    pub group_resource: GroupResource,
    /// The versions the backup holds, highest priority first.
    pub backup_versions: Vec<String>,
    /// The versions the target serves, highest priority first.
    pub target_versions: Vec<String>,
}

impl fmt::Display for NoCommonVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no common version for {}: backup has [{}], cluster serves [{}]; serve one of the backup's \
             versions in the target (for a custom resource, a CRD version), then restore again",
            self.group_resource,
            self.backup_versions.join(", "),
            self.target_versions.join(", "),
        )
    }
}

/// What [`choose_version`] decided for one group-resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum Outcome {
    /// A version both sides have.
    Chosen(Choice),
    /// The target does not serve the group-resource. Before CRDs are restored this means "decide
    /// again after they are"; afterwards it is an error for every object of the group-resource.
    NotServed(NotServed),
    /// Rule 4: nothing fits; every object of the group-resource fails.
    NoCommonVersion(NoCommonVersion),
}

impl Outcome {
    /// The choice, if a version was chosen.
    pub fn choice(&self) -> Option<&Choice> {
        match self {
            Outcome::Chosen(choice) => Some(choice),
            Outcome::NotServed(_) | Outcome::NoCommonVersion(_) => None,
        }
    }

    /// The choice, or the error to report for every object of the group-resource. Call this for
    /// the final decision, after CRDs from the backup are restored and discovery refreshed.
    pub fn into_result(self) -> Result<Choice, Error> {
        match self {
            Outcome::Chosen(choice) => Ok(choice),
            Outcome::NotServed(not_served) => Err(Error::NotServed(not_served)),
            Outcome::NoCommonVersion(none) => Err(Error::NoCommonVersion(none)),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Chosen(choice) => choice.fmt(f),
            Outcome::NotServed(not_served) => not_served.fmt(f),
            Outcome::NoCommonVersion(none) => none.fmt(f),
        }
    }
}

/// Chooses the version to restore for one group-resource, with `EnableAPIGroupVersions` on.
///
/// `backup` is what the tarball holds (its preferred version is the source's); `target` is what
/// the target cluster serves for this resource, `None` when it does not serve it at all;
/// `user_priorities` is the user's list for this group-resource, highest first (empty for none).
///
/// ```
/// use godwit_versioning::{GroupResource, Rule, Versions, choose_version};
/// let gr = GroupResource::new("music.example.io", "rockbands");
/// let backup = Versions::new(["v1", "v2beta2", "v2beta1"], "v1");
/// let target = Versions::new(["v2", "v2beta2", "v2beta1"], "v2");
/// let outcome = choose_version(&gr, &backup, Some(&target), &[]);
/// let choice = outcome.choice().unwrap();
/// assert_eq!((choice.version.as_str(), choice.rule), ("v2beta2", Rule::CommonNonPreferred));
/// ```
pub fn choose_version(
    group_resource: &GroupResource,
    backup: &Versions,
    target: Option<&Versions>,
    user_priorities: &[String],
) -> Outcome {
    // Velero treats a group with no served versions like a missing group; so does this.
    let Some(target) = target.filter(|target| !target.by_priority().is_empty()) else {
        return Outcome::NotServed(NotServed {
            group_resource: group_resource.clone(),
            backup_versions: backup.by_priority(),
        });
    };
    let chosen = |version: &str, rule: Rule| {
        Outcome::Chosen(Choice::new(
            group_resource,
            version,
            &backup.preferred_version,
            rule,
        ))
    };
    let common = |version: &str| backup.holds(version) && target.holds(version);

    if let Some(version) = user_priorities.iter().find(|version| common(version)) {
        return chosen(version, Rule::UserPriority);
    }
    if backup.holds(&target.preferred_version) {
        return chosen(&target.preferred_version, Rule::TargetPreferred);
    }
    if target.holds(&backup.preferred_version) {
        return chosen(&backup.preferred_version, Rule::SourcePreferred);
    }
    // Rules 1 and 2 failed, so neither preferred version is common: every common version left is
    // a non-preferred one, and the first in the target's priority order ranks highest.
    let target_versions = target.by_priority();
    if let Some(version) = target_versions.iter().find(|version| backup.holds(version)) {
        return chosen(version, Rule::CommonNonPreferred);
    }
    Outcome::NoCommonVersion(NoCommonVersion {
        group_resource: group_resource.clone(),
        backup_versions: backup.by_priority(),
        target_versions,
    })
}

/// The version Velero restores with `EnableAPIGroupVersions` off: the source's preferred one.
///
/// Velero then reads the legacy copy (`resources/<GR>/namespaces/...`, no version directory),
/// which holds the same objects as the `<version>-preferredversion` directory named here. `None`
/// when the backup names no preferred version (a tarball older than format 1.1.0 has no version
/// directories at all; read its legacy paths).
pub fn choose_without_group_versions(
    group_resource: &GroupResource,
    backup: &Versions,
) -> Option<Choice> {
    let preferred = backup.preferred_version.as_str();
    (!preferred.is_empty())
        .then(|| Choice::new(group_resource, preferred, preferred, Rule::FeatureFlagOff))
}

#[cfg(test)]
mod tests;
