//! What a Kubernetes cluster serves: its API groups, each group's versions (in server order) and
//! preferred version (as the server said it), and each group-version's resources with kind,
//! names, scope and verbs. This is the data half of discovery; the client half fetches documents
//! and hands them to [`DiscoveryBuilder`].
//!
//! Pure values in, values out: no IO, no async, no Kubernetes client.
//!
//! - [`Discovery`] is the model, also the compact JSON shape of the fixtures under
//!   `fixtures/discovery/` ([`Discovery::from_json`]).
//! - [`wire`] holds the API server's documents (legacy `/api`, `/apis`, `/apis/<g>/<v>` and
//!   aggregated `apidiscovery.k8s.io/v2`); [`DiscoveryBuilder`] turns them into a [`Discovery`]
//!   and a list of per-object problems.
//! - Queries: [`Discovery::preferred_version`], [`Discovery::versions_serving`] (resource level),
//!   [`Discovery::resource`], [`Discovery::resolve`] (user-written names, as kubectl reads them),
//!   [`Discovery::is_backupable`], [`Discovery::is_namespaced`].
//! - With the `client` feature, `discover` fetches all of it from a live cluster (aggregated
//!   discovery when the server offers it, else `discover_legacy`), turning a group-version that
//!   fails to answer into a warning rather than an error.

mod builder;
#[cfg(feature = "client")]
mod client;
mod error;
mod model;
mod resolve;
pub mod wire;

pub use builder::DiscoveryBuilder;
#[cfg(feature = "client")]
pub use client::{discover, discover_legacy};
pub use error::Error;
pub use model::{BACKUP_VERBS, Discovery, Group, ResourceInfo, ServedVersion};
