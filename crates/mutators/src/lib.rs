//! Velero's built-in restore actions as pure transforms of one object.
//!
//! Each action takes one object (a `serde_json::Value` as read from the backup), the same object
//! as it was in the backup, and a [`RestoreContext`] of plain data, and changes the object in
//! place. It reports what it could not do as [`Problem`]s instead of failing, can ask for the
//! object to be skipped, and can name other objects that must be restored with it.
//! [`apply_all`] runs every action that applies to a group-resource in the fixed order of
//! [`Action::ORDER`].
//!
//! No IO, no async, no Kubernetes client: the restore executor fetches what the actions need
//! (the plugin ConfigMaps, the target's PVs, nodes and service accounts), parses the ConfigMaps
//! with [`PluginConfigs::from_config_maps`], and passes it all down in the context.
//!
//! The actions follow Velero's built-in restore item actions and the per-item steps of its
//! restore, except where SPEC.md says otherwise or Velero would fail an object for a problem
//! that can be worked around:
//!
//! - a PV is renamed whenever its claim's namespace is mapped and its name is taken (SPEC);
//!   Velero renames only PVs it restores from a snapshot;
//! - `volume.kubernetes.io/selected-node` is dropped with the other PVC annotations (SPEC) and
//!   survives only when the node mapping names a new node; Velero keeps it when the node exists;
//! - the restore labels are added before the actions (SPEC), Velero adds them after; no action
//!   reads them;
//! - a service-account token Secret is matched against the ServiceAccounts of its target
//!   namespace; Velero looks in the source namespace, since it maps the namespace later;
//! - a malformed last-applied-configuration, a mapping to a storage class the target lacks, or
//!   two ConfigMaps for one action are warnings; Velero fails the object;
//! - image rules are tried in ConfigMap key order, not Go's random map order, and a rule with an
//!   empty old part is refused.

mod actions;
mod context;
mod json;
mod outcome;
mod pipeline;
mod plugin_config;
mod problem;

pub use actions::restore_labels::label_value;
pub use actions::{Action, Item};
pub use context::{RestoreContext, UuidSource};
pub use outcome::{AdditionalItem, Decision, Outcome};
pub use pipeline::{RenamedPv, Restored, Skip, additional_items, apply_all, asks_for_items};
pub use plugin_config::{
    CHANGE_IMAGE_NAME, CHANGE_PVC_NODE_SELECTOR, CHANGE_STORAGE_CLASS, ImageNameMapping, ImageRule,
    NameMapping, PLUGIN_CONFIG_LABEL, PluginConfigs, RESTORE_ITEM_ACTION,
};
pub use problem::Problem;
