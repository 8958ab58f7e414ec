//! The one error type of this crate: what an action could not do for one object, or what was
//! wrong with a plugin ConfigMap. Returned beside the result as a restore warning, never raised.

/// A per-object or per-ConfigMap problem. The object is still restored; the action that met the
/// problem left the part it names unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// One entry of a plugin ConfigMap cannot be used; the action ignores that entry.
    #[error("ignoring entry {key:?} of ConfigMap {config_map}: {why}; fix or remove the entry")]
    InvalidConfigMapEntry {
        /// `<namespace>/<name>` of the ConfigMap.
        config_map: String,
        /// The data key of the entry.
        key: String,
        /// What is wrong with it.
        why: String,
    },
    /// A plugin ConfigMap whose `data` cannot be read at all; the action ignores the ConfigMap.
    #[error("ignoring ConfigMap {config_map}: {why}; fix its data")]
    InvalidConfigMap {
        /// `<namespace>/<name>` of the ConfigMap.
        config_map: String,
        /// What is wrong with it.
        why: String,
    },
    /// More than one ConfigMap configures the same action, so none of them is used (Velero
    /// fails every object of that action instead).
    #[error(
        "found more than one ConfigMap labelled {label}=RestoreItemAction ({}); the action is off \
         for this restore: keep only one",
        config_maps.join(", ")
    )]
    AmbiguousPluginConfig {
        /// The action's label key, such as `velero.io/change-storage-class`.
        label: String,
        /// `<namespace>/<name>` of every matching ConfigMap.
        config_maps: Vec<String>,
    },
    /// A field the action works on has a type it cannot work with.
    #[error("{object}: {field} is not {expected}; left unchanged")]
    UnexpectedType {
        /// The object, as `<group-resource> <namespace>/<name>`.
        object: String,
        /// The field path, such as `spec.ports`.
        field: String,
        /// What the field should be, such as `an array`.
        expected: &'static str,
    },
    /// The `kubectl.kubernetes.io/last-applied-configuration` annotation of a Service is not
    /// valid JSON, so it cannot tell which node ports the user set.
    #[error(
        "{object}: annotation kubectl.kubernetes.io/last-applied-configuration is not valid JSON \
         ({why}); node ports are kept only where managedFields show them set explicitly"
    )]
    InvalidLastAppliedConfiguration {
        /// The Service, as `services <namespace>/<name>`.
        object: String,
        /// The JSON parser's message.
        why: String,
    },
    /// A storage-class mapping names a class the target does not have.
    #[error(
        "{object}: storage class {to:?} (mapped from {from:?}) does not exist in the target; kept \
         {from:?}: create the storage class or fix the velero.io/change-storage-class ConfigMap"
    )]
    MissingStorageClass {
        /// The object.
        object: String,
        /// The storage class in the backup.
        from: String,
        /// The storage class the mapping names.
        to: String,
    },
    /// A node mapping names a node the target does not have; the annotation is set anyway, as
    /// Velero does.
    #[error(
        "{object}: node {to:?} (mapped from {from:?}) does not exist in the target; selected-node \
         set anyway: check the velero.io/change-pvc-node-selector ConfigMap"
    )]
    MissingMappedNode {
        /// The PVC.
        object: String,
        /// The node in the backup.
        from: String,
        /// The node the mapping names.
        to: String,
    },
}

/// Problems appear in reports and snapshots as their message.
impl serde::Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
