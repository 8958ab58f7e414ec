//! The one error type of this crate.

use crate::choice::{NoCommonVersion, NotServed};

/// What can go wrong when reading version names, group-resources and user priorities, and when
/// choosing the version to restore.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A `<resource>.<group>` text that is not a valid group-resource.
    #[error("invalid group-resource {text:?}: {why}")]
    InvalidGroupResource {
        /// The text as given.
        text: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The backup and the target cluster have no version of a group-resource in common.
    #[error("{0}")]
    NoCommonVersion(NoCommonVersion),
    /// The target cluster does not serve a group-resource at all, even after the restore had its
    /// chance to create the CustomResourceDefinitions from the backup.
    #[error("{0}")]
    NotServed(NotServed),
}
