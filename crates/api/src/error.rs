//! The crate's one error type.

/// What can go wrong reading or writing values of the `velero.io/v1` types.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// A duration string does not follow Go's `time.ParseDuration` syntax.
    #[error(
        "invalid duration {text:?}: {reason}; write it the way Velero does, such as 720h0m0s, 90m or 1.5h"
    )]
    InvalidDuration {
        /// The text as written.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A duration string is valid but negative, which no Velero ttl, period or timeout can be.
    #[error("duration {text:?} is negative; write zero or a positive duration such as 720h0m0s")]
    NegativeDuration {
        /// The text as written.
        text: String,
    },
    /// A duration is longer than Go's `time.Duration` can hold (about 292 years).
    #[error("duration {text} is longer than Velero can read (about 292 years); use a shorter one")]
    DurationOutOfRange {
        /// The duration as written or as formatted.
        text: String,
    },
}
