//! The one error type of this crate: what makes a restore request invalid, and what stops a
//! restore from running at all. Per-object problems are not errors: they are entries of the plan
//! and of the results.

use godwit_versioning::GroupResource;

/// What can go wrong validating a restore or running it as a whole.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `--existing-resource-policy` is neither `none` nor `update`.
    #[error("invalid existing resource policy {value:?}; use none or update")]
    InvalidPolicy {
        /// The value as given.
        value: String,
    },
    /// A resource that is never restored was explicitly included.
    #[error(
        "{group_resource} is a non-restorable resource ({why}); remove it from the included \
         resources"
    )]
    NonRestorableIncluded {
        /// The resource.
        group_resource: GroupResource,
        /// Why it is never restored.
        why: &'static str,
    },
    /// A namespace or resource is both included and excluded, or `*` is excluded.
    #[error("invalid {what} filter: {why}; fix the included and excluded {what}s")]
    InvalidFilter {
        /// `namespace` or `resource`.
        what: &'static str,
        /// What is wrong.
        why: String,
    },
    /// A resource filter entry that discovery cannot turn into one group-resource.
    #[error("invalid resource filter entry {entry:?}: {why}")]
    InvalidResourceEntry {
        /// The entry as given.
        entry: String,
        /// What discovery said.
        why: String,
    },
    /// A label selector that does not parse.
    #[error(
        "invalid label selector {selector:?}: {why}; write key=value, key!=value, key in (a,b), key notin (a), key or !key, separated by commas"
    )]
    InvalidSelector {
        /// The selector as given.
        selector: String,
        /// What is wrong with it.
        why: String,
    },
    /// Both a label selector and OR label selectors were given.
    #[error("a restore takes a label selector or OR label selectors, not both; drop one")]
    BothSelectors,
    /// A namespace mapping entry that is not `old:new` with two non-empty names.
    #[error("invalid namespace mapping {entry:?}; write old:new,old2:new2 with non-empty names")]
    InvalidNamespaceMapping {
        /// The entry as given.
        entry: String,
    },
    /// The backup tarball could not be read.
    #[error("cannot read the backup: {0}")]
    Backup(#[from] godwit_tarball::Error),
    /// Discovery of the target failed as a whole.
    #[error("cannot discover what the target cluster serves: {0}")]
    Discovery(#[from] godwit_discovery::Error),
    /// A request the restore cannot do without failed (reading its ConfigMaps, listing nodes).
    #[cfg(feature = "executor")]
    #[error(
        "cannot {action}: {source}; check the connection to the target cluster and the permissions of godwit's service account"
    )]
    Kube {
        /// What was being done.
        action: String,
        /// The client's error.
        source: kube::Error,
    },
}
