//! What a restore reports, in Velero's shape: warnings and errors grouped as `velero`, `cluster`
//! and per namespace, the phase, per-object outcomes, counts and the restore log.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::plan::{ObjectRef, Plan};

/// Messages grouped the way Velero's restore results file groups them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Results {
    /// About the restore as a whole.
    pub velero: Vec<String>,
    /// About cluster-scoped objects.
    pub cluster: Vec<String>,
    /// About namespaced objects, by target namespace.
    pub namespaces: BTreeMap<String, Vec<String>>,
}

impl Results {
    /// Adds a message about an object: under its namespace, or `cluster` when it has none.
    pub fn add(&mut self, namespace: Option<&str>, message: impl Into<String>) {
        match namespace {
            Some(namespace) if !namespace.is_empty() => self
                .namespaces
                .entry(namespace.to_owned())
                .or_default()
                .push(message.into()),
            _ => self.cluster.push(message.into()),
        }
    }

    /// Adds a message about the restore as a whole.
    pub fn add_velero(&mut self, message: impl Into<String>) {
        self.velero.push(message.into());
    }

    /// How many messages in all.
    pub fn len(&self) -> usize {
        self.velero.len()
            + self.cluster.len()
            + self.namespaces.values().map(Vec::len).sum::<usize>()
    }

    /// True when there is no message at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every message, velero first, then cluster, then namespaces by name.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        self.velero
            .iter()
            .chain(&self.cluster)
            .chain(self.namespaces.values().flatten())
            .map(String::as_str)
    }
}

/// How a restore ended (Velero's restore phases that a finished restore can have).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Phase {
    /// Everything was restored or deliberately skipped.
    Completed,
    /// The restore ran, and some objects failed.
    PartiallyFailed,
    /// The restore could not run.
    Failed,
}

/// What happened to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Created in the target.
    Created,
    /// It existed, and was patched to match the backup.
    Updated,
    /// Not created: filtered out, skipped by an action, or already present.
    Skipped,
    /// Could not be restored; the message says why.
    Failed,
}

/// The outcome of one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectOutcome {
    /// The object as the backup names it.
    pub object: ObjectRef,
    /// The namespace it was restored into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_namespace: Option<String>,
    /// The version it was created at, when one was chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// What happened.
    pub outcome: Outcome,
    /// Why it was skipped or failed, or what to know about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// How many objects ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreCounts {
    /// Objects the restore looked at (planned, skipped and failed).
    pub total: usize,
    /// Created.
    pub created: usize,
    /// Updated.
    pub updated: usize,
    /// Skipped.
    pub skipped: usize,
    /// Failed.
    pub failed: usize,
}

/// Progress of a running restore, as Velero reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// Objects the restore will try to create.
    pub total_items: usize,
    /// Objects done so far (whatever their outcome).
    pub items_restored: usize,
}

/// Everything a finished restore reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreResult {
    /// How it ended.
    pub phase: Phase,
    /// Warnings, grouped as Velero groups them.
    pub warnings: Results,
    /// Errors, grouped as Velero groups them.
    pub errors: Results,
    /// One entry per object of the backup that the restore considered.
    pub outcomes: Vec<ObjectOutcome>,
    /// The outcomes counted.
    pub counts: RestoreCounts,
    /// The restore log: per group-resource the chosen version and rule, then what happened.
    pub log: Vec<String>,
    /// The plan that was executed (after deferred group-resources were decided), when planning
    /// got that far.
    #[serde(skip)]
    pub plan: Option<Plan>,
}

impl RestoreResult {
    /// Velero's restore results file: `{"warnings": R, "errors": R}`.
    pub fn results_json(&self) -> serde_json::Value {
        serde_json::json!({ "warnings": self.warnings, "errors": self.errors })
    }

    /// The outcome of one object, found by group-resource, backup namespace and name.
    pub fn outcome_of(
        &self,
        group_resource: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<&ObjectOutcome> {
        self.outcomes.iter().find(|o| {
            o.object.group_resource.to_string() == group_resource
                && o.object.namespace.as_deref() == namespace
                && o.object.name == name
        })
    }

    /// Counts the outcomes and sets the phase from the errors: `PartiallyFailed` when there is
    /// any, `Completed` otherwise. A `Failed` phase is kept.
    pub fn finish(&mut self) {
        let mut counts = RestoreCounts {
            total: self.outcomes.len(),
            ..RestoreCounts::default()
        };
        for outcome in &self.outcomes {
            match outcome.outcome {
                Outcome::Created => counts.created += 1,
                Outcome::Updated => counts.updated += 1,
                Outcome::Skipped => counts.skipped += 1,
                Outcome::Failed => counts.failed += 1,
            }
        }
        self.counts = counts;
        if self.phase != Phase::Failed {
            self.phase = match self.errors.is_empty() {
                true => Phase::Completed,
                false => Phase::PartiallyFailed,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_group_like_velero() {
        let mut results = Results::default();
        results.add(Some("shop"), "a");
        results.add(None, "b");
        results.add(Some(""), "c");
        results.add_velero("d");
        assert_eq!(
            serde_json::to_value(&results).unwrap(),
            serde_json::json!({"velero": ["d"], "cluster": ["b", "c"], "namespaces": {"shop": ["a"]}})
        );
        assert_eq!(results.len(), 4);
    }
}
