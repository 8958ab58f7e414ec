//! The one error type of this crate.

/// What can go wrong when reading restore resource priorities.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The whole priority list is empty.
    #[error(
        "the restore resource priorities are empty; leave the flag out to keep the defaults, or \
         give \"-\" to restore everything but CRDs and namespaces alphabetically"
    )]
    EmptyPriorities,
    /// An entry of the list is empty (two commas in a row, or a comma at either end).
    #[error(
        "entry {position} of the restore resource priorities {text:?} is empty; remove the extra \
         comma"
    )]
    EmptyEntry {
        /// The whole list as given.
        text: String,
        /// The 1-based position of the empty entry.
        position: usize,
    },
    /// More than one lone `-` in the list.
    #[error(
        "the restore resource priorities {text:?} have more than one \"-\"; a single \"-\" \
         separates the high priorities from the low ones"
    )]
    MultipleSeparators {
        /// The whole list as given.
        text: String,
    },
    /// A text that cannot be a priority entry on its own.
    #[error("invalid restore priority entry {entry:?}: {why}")]
    InvalidEntry {
        /// The entry as given.
        entry: String,
        /// What is wrong with it.
        why: &'static str,
    },
}
