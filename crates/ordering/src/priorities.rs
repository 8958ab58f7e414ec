//! Restore resource priorities: the default high and low lists (SPEC.md section 5 item 4, the
//! same as Velero's server defaults) and the `--restore-resource-priorities` flag.
//!
//! Entries stay as written (`storageclasses`, `volumesnapshotclass.snapshot.storage.k8s.io`):
//! Velero writes some without their group and one in the singular, and resolves each through
//! discovery when a restore runs. [`crate::restore_order`] does the same through the resolver
//! its caller passes in.
//!
//! The flag is read like Velero's `types.Priorities.Set`: entries separated by commas, a lone
//! `-` separating the high priorities from the low ones, more than one `-` an error. Where godwit
//! is stricter, on purpose: whitespace around entries is trimmed, and an empty entry or an empty
//! list is an error instead of an entry no resource can match.
//!
//! Velero's `Set` also writes the parsed halves into the default value in place, so a flag with
//! only high priorities (`a,b`) keeps Velero's default low priorities, and one with only low
//! priorities (`-,c`) keeps its default high ones; an empty flag or a lone `-` keeps all defaults.
//! [`Priorities::parse`] returns what the text says and nothing else.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// The separator between high and low priorities in the flag.
pub const SEPARATOR: &str = "-";

/// Restored first, in this order (after CRDs and namespaces, which always come first).
pub const DEFAULT_HIGH_PRIORITIES: &[&str] = &[
    // Custom resources can only be created once the API server serves their definition.
    "customresourcedefinitions",
    // Every namespaced object needs its namespace.
    "namespaces",
    // Volumes and claims name their storage class; provisioning needs it present.
    "storageclasses",
    // Singular, as Velero writes it; snapshot contents and snapshots name their class.
    "volumesnapshotclass.snapshot.storage.k8s.io",
    // They hold the handle of the snapshot in the storage system that snapshots bind to.
    "volumesnapshotcontents.snapshot.storage.k8s.io",
    // A claim restored from a snapshot names it as its data source.
    "volumesnapshots.snapshot.storage.k8s.io",
    // The data mover's claim restore reads the results its DataUploads left behind.
    "datauploads.velero.io",
    // Before claims: a claim binds to a volume that already exists instead of provisioning one.
    "persistentvolumes",
    // Before pods and controllers, so their volumes can be mounted.
    "persistentvolumeclaims",
    // Before the bindings that refer to them.
    "clusterroles",
    // Before the bindings that refer to them, inside a namespace.
    "roles",
    // Before the bindings naming them, and before secrets so token secrets get filled in.
    "serviceaccounts",
    // Grant cluster roles once both the roles and the accounts exist.
    "clusterrolebindings",
    // Grant roles once both the roles and the accounts exist.
    "rolebindings",
    // Before pods that mount them or pull images with them.
    "secrets",
    // Before pods that mount them or read them as environment.
    "configmaps",
    // Admission applies limit ranges only to pods created after them.
    "limitranges",
    // Admission rejects a pod naming a priority class that does not exist yet.
    "priorityclasses",
    // Before their owners, which adopt them instead of creating new pods, so restored volume
    // data is not lost to replacements.
    "pods",
    // Qualified so the old `extensions` group never matches; before deployments, which adopt
    // them instead of creating new ones.
    "replicasets.apps",
    // Cluster API clusters refer to their cluster class.
    "clusterclasses.cluster.x-k8s.io",
    // Before services, so the endpoints controller does not create new ones.
    "endpoints",
    // Before Cluster API clusters, so their controllers adopt them instead of creating copies.
    "services",
];

/// Restored last, in this order (after everything not listed).
pub const DEFAULT_LOW_PRIORITIES: &[&str] = &[
    // May refer to any other kind; before clusters, or a default bootstrap gets created.
    "clusterbootstraps.run.tanzu.vmware.com",
    // After what they refer to; before resource sets, or the Cluster API controller panics.
    "clusters.cluster.x-k8s.io",
    // After the clusters they apply to (kubernetes-sigs/cluster-api#4105).
    "clusterresourcesets.addons.cluster.x-k8s.io",
    // kapp-controller deploys what an App lists; let the restored copies land first.
    "apps.kappctrl.k14s.io",
    // Same for packages that kapp-controller installs.
    "packageinstalls.packaging.carvel.dev",
];

/// One entry of a priority list, kept as written (trimmed): a plural, a singular or a short
/// name, with or without `.<group>`. A resolver maps it to a group-resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PriorityEntry(String);

impl PriorityEntry {
    /// Takes an entry, trimmed; empty text, a lone `-` and commas are rejected.
    pub fn new(text: &str) -> Result<Self, Error> {
        let trimmed = text.trim();
        let invalid = |why| Error::InvalidEntry {
            entry: text.to_owned(),
            why,
        };
        if trimmed.is_empty() {
            return Err(invalid("it is empty"));
        }
        if trimmed == SEPARATOR {
            return Err(invalid("\"-\" separates the lists and is not an entry"));
        }
        if trimmed.contains(',') {
            return Err(invalid("a comma separates entries"));
        }
        Ok(PriorityEntry(trimmed.to_owned()))
    }

    /// The entry as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PriorityEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The high and low priority lists of a restore.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Priorities {
    /// Restored first, in this order, after CRDs and namespaces.
    pub high: Vec<PriorityEntry>,
    /// Restored last, in this order.
    pub low: Vec<PriorityEntry>,
}

impl Priorities {
    /// The defaults of SPEC.md section 5 (Velero's): [`DEFAULT_HIGH_PRIORITIES`] and
    /// [`DEFAULT_LOW_PRIORITIES`].
    pub fn restore_default() -> Self {
        let entries = |list: &[&str]| {
            list.iter()
                .map(|e| PriorityEntry((*e).to_owned()))
                .collect()
        };
        Priorities {
            high: entries(DEFAULT_HIGH_PRIORITIES),
            low: entries(DEFAULT_LOW_PRIORITIES),
        }
    }

    /// Reads the value of `--restore-resource-priorities`: `a,b,-,c` is high `[a, b]`, low `[c]`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.trim().is_empty() {
            return Err(Error::EmptyPriorities);
        }
        let mut high = Vec::new();
        let mut low = Vec::new();
        let mut separated = false;
        for (index, raw) in text.split(',').enumerate() {
            let entry = raw.trim();
            if entry == SEPARATOR {
                if separated {
                    return Err(Error::MultipleSeparators {
                        text: text.to_owned(),
                    });
                }
                separated = true;
                continue;
            }
            if entry.is_empty() {
                return Err(Error::EmptyEntry {
                    text: text.to_owned(),
                    position: index + 1,
                });
            }
            let entry = PriorityEntry(entry.to_owned());
            match separated {
                false => high.push(entry),
                true => low.push(entry),
            }
        }
        Ok(Priorities { high, low })
    }
}

/// Writes the flag form, as Velero's `String` does (`a,b,-,c`; the `-` only when there are low
/// priorities), except that empty lists write `-` so the text reads back to the same value.
impl fmt::Display for Priorities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<&str> = self.high.iter().map(PriorityEntry::as_str).collect();
        if !self.low.is_empty() || self.high.is_empty() {
            parts.push(SEPARATOR);
            parts.extend(self.low.iter().map(PriorityEntry::as_str));
        }
        f.write_str(&parts.join(","))
    }
}

impl FromStr for Priorities {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self, Error> {
        Priorities::parse(text)
    }
}

#[cfg(test)]
mod tests;
