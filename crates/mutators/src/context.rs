//! `RestoreContext`: everything the actions know about the restore and the target cluster, as
//! plain data filled in by the restore executor.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use uuid::Uuid;

use crate::plugin_config::{ImageNameMapping, NameMapping, PluginConfigs};

/// What the actions know about one restore. The executor fills it from the Restore, the plugin
/// ConfigMaps and the target cluster; the actions only read it.
#[derive(Debug, Clone, Default)]
pub struct RestoreContext {
    /// Name of the backup being restored (value of the `velero.io/backup-name` label).
    pub backup_name: String,
    /// Name of the restore (value of the `velero.io/restore-name` label).
    pub restore_name: String,
    /// `--namespace-mappings`: source namespace to target namespace.
    pub namespace_mapping: BTreeMap<String, String>,
    /// `--preserve-nodeports`: keep every Service node port.
    pub preserve_node_ports: bool,
    /// Storage classes from the `velero.io/change-storage-class` ConfigMap.
    pub storage_class_mapping: NameMapping,
    /// Nodes from the `velero.io/change-pvc-node-selector` ConfigMap.
    pub node_mapping: NameMapping,
    /// Image rules from the `velero.io/change-image-name` ConfigMap.
    pub image_name_mapping: ImageNameMapping,
    /// Names of the PersistentVolumes that exist in the target before the restore writes one.
    pub existing_pv_names: BTreeSet<String>,
    /// Names of the target's nodes.
    pub nodes: BTreeSet<String>,
    /// Names of the target's storage classes, when known. `None` skips the check that a mapped
    /// storage class exists (Velero asks the API server each time).
    pub storage_classes: Option<BTreeSet<String>>,
    /// Target namespace to the names of the ServiceAccounts in it, including those this restore
    /// already created (ServiceAccounts are restored before Secrets).
    pub service_accounts: BTreeMap<String, BTreeSet<String>>,
    /// PersistentVolumes this restore renamed so far: name in the backup to new name. The
    /// executor records each [`crate::Restored::renamed_pv`] here; PVs are restored before PVCs,
    /// so a claim finds its volume's new name.
    pub renamed_pvs: BTreeMap<String, String>,
    /// Where `velero-clone-<uuid>` names get their uuid.
    pub uuid_source: UuidSource,
}

impl RestoreContext {
    /// A context for restoring `backup_name` as `restore_name`, with no mappings and an empty
    /// target.
    pub fn new(backup_name: impl Into<String>, restore_name: impl Into<String>) -> Self {
        RestoreContext {
            backup_name: backup_name.into(),
            restore_name: restore_name.into(),
            ..RestoreContext::default()
        }
    }

    /// Sets the three ConfigMap-driven mappings at once.
    pub fn with_plugin_configs(mut self, configs: PluginConfigs) -> Self {
        self.storage_class_mapping = configs.storage_class;
        self.node_mapping = configs.node;
        self.image_name_mapping = configs.image_name;
        self
    }
}

/// A source of uuids for renamed PersistentVolumes: random in a real restore, injectable so that
/// tests and dry runs are deterministic.
#[derive(Clone)]
pub struct UuidSource(Arc<dyn Fn() -> Uuid + Send + Sync>);

impl UuidSource {
    /// Random version-4 uuids, as Velero uses.
    pub fn random() -> Self {
        UuidSource(Arc::new(Uuid::new_v4))
    }

    /// Always the same uuid.
    pub fn fixed(uuid: Uuid) -> Self {
        UuidSource(Arc::new(move || uuid))
    }

    /// Uuids from any function, such as a counter.
    pub fn from_fn(next: impl Fn() -> Uuid + Send + Sync + 'static) -> Self {
        UuidSource(Arc::new(next))
    }

    /// The next uuid.
    pub fn next_uuid(&self) -> Uuid {
        (self.0)()
    }
}

impl Default for UuidSource {
    fn default() -> Self {
        UuidSource::random()
    }
}

impl fmt::Debug for UuidSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UuidSource")
    }
}
