//! Kubernetes API version names: how they rank, which one a restore picks, and how users override
//! that choice.
//!
//! Pure values in, values out: no IO, no async, no Kubernetes client.

mod error;
mod group_resource;
mod priority;

pub use error::Error;
pub use group_resource::GroupResource;
pub use priority::{KubeVersion, Stability, compare, sort_by_priority};
