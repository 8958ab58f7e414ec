//! The order in which a restore creates group-resources (SPEC.md section 5 item 4), and the
//! restore resource priorities that steer it: Velero's defaults and the
//! `--restore-resource-priorities` flag.
//!
//! Pure values in, values out: no IO, no async, no Kubernetes client. Priority entries are
//! resolved to group-resources through a [`Resolver`] the caller passes in (discovery's
//! `resolve`, or [`PlainResolver`] without a cluster), so this crate never needs discovery itself.

mod error;
mod order;
mod priorities;

pub use error::Error;
pub use order::{
    Ordered, Placement, PlainResolver, Resolver, RestoreOrder, custom_resource_definitions,
    namespaces, restore_order,
};
pub use priorities::{
    DEFAULT_HIGH_PRIORITIES, DEFAULT_LOW_PRIORITIES, Priorities, PriorityEntry, SEPARATOR,
};
