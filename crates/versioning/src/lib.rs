//! Kubernetes API version names: how they rank ([`compare`], [`sort_by_priority`]), which one a
//! restore picks for each group-resource ([`choose_version`], SPEC.md section 4), and how users
//! override that choice ([`parse_user_priorities`] for the `enableapigroupversions` ConfigMap).
//!
//! Pure values in, values out: no IO, no async, no Kubernetes client.

mod choice;
mod error;
mod group_resource;
mod priority;
mod user_priorities;

pub use choice::{
    Choice, NoCommonVersion, NotServed, Outcome, Rule, Versions, choose_version,
    choose_without_group_versions,
};
pub use error::Error;
pub use group_resource::GroupResource;
pub use priority::{KubeVersion, Stability, compare, sort_by_priority};
pub use user_priorities::{
    CONFIG_MAP_KEY, CONFIG_MAP_NAME, InvalidLine, LineProblem, UserPriorities,
    parse_user_priorities,
};
