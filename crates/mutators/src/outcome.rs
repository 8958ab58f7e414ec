//! What one action reports besides the changes it made to the object.

use godwit_versioning::GroupResource;
use serde::Serialize;

use crate::Problem;

/// Whether the restore goes on with the object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "reason")]
pub enum Decision {
    /// Restore it (after the remaining actions).
    #[default]
    Continue,
    /// Do not restore it, for the reason given; no later action runs.
    Skip(String),
}

/// Another object of the backup that must be restored together with this one (Velero's
/// `AdditionalItems`), such as the PersistentVolume of a bound claim.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdditionalItem {
    /// Its group-resource.
    pub group_resource: GroupResource,
    /// Its namespace as in the backup (the executor maps it); `None` for cluster-scoped objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Its name as in the backup.
    pub name: String,
}

/// The report of one action on one object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// Go on, or skip the object.
    pub decision: Decision,
    /// Objects to restore with this one.
    pub additional_items: Vec<AdditionalItem>,
    /// What the action could not do.
    pub warnings: Vec<Problem>,
}

impl Outcome {
    /// An outcome that skips the object.
    pub fn skip(reason: impl Into<String>) -> Self {
        Outcome {
            decision: Decision::Skip(reason.into()),
            ..Outcome::default()
        }
    }

    /// An outcome that only carries warnings (possibly none).
    pub fn warnings(warnings: impl IntoIterator<Item = Problem>) -> Self {
        Outcome {
            warnings: warnings.into_iter().collect(),
            ..Outcome::default()
        }
    }
}
