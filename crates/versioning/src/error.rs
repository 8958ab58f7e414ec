//! The one error type of this crate.

/// What can go wrong when reading version names, group-resources and user priorities.
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
}
