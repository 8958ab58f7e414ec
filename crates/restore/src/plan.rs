//! The plan as data: what a restore will create, in which order and at which version, and every
//! object it will skip or fail, with the reason. Serializes to JSON (`godwit restore plan -o
//! json`); [`Plan::render_table`] is the text form.

use std::collections::BTreeMap;

use godwit_versioning::{Choice, GroupResource, Versions};
use serde::Serialize;
use serde_json::Value;

/// A restore plan. Tiers are restored in order; the objects of one tier are independent of
/// each other and may be created concurrently.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The backup being restored.
    pub backup_name: String,
    /// The restore's name.
    pub restore_name: String,
    /// Whether `EnableAPIGroupVersions` was on.
    pub enable_api_group_versions: bool,
    /// Target namespaces to create (after CRDs) if missing.
    pub namespaces: Vec<PlannedNamespace>,
    /// One tier per group-resource, in restore order.
    pub tiers: Vec<Tier>,
    /// Objects that will not be restored, and why.
    pub skipped: Vec<Unrestored>,
    /// Objects the filters left out that are restored all the same because a restored object
    /// needs them (Velero's additional items: a claim's volume, a pod's claims).
    pub pulled_in: Vec<PulledIn>,
    /// Objects that cannot be restored: each one is an error of the restore.
    pub failed: Vec<Unrestored>,
    /// Things the user should know that affect no single object (filter entries that match
    /// nothing, priority entries that resolve to nothing).
    pub warnings: Vec<String>,
    /// What moving these objects into this target trips on ([`crate::pitfalls`]); filled in by
    /// the executor, which knows the target.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pitfalls: Vec<crate::Pitfall>,
}

/// The objects of one group-resource, and the version they are created at.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tier {
    /// The group-resource.
    pub group_resource: GroupResource,
    /// Why it sits where it does in the order (`CRDs first`, `high priority "pods"`, ...).
    pub placement: String,
    /// The restore runs tiers of one stage together: the objects of a namespace start once
    /// that namespace's objects of earlier stages, and the cluster-scoped ones, are done;
    /// cluster-scoped objects start once every object of earlier stages is done. One stage per
    /// high-priority group-resource, one for all the group-resources of no priority list, one
    /// per low-priority group-resource; CRDs are stage 0.
    pub stage: usize,
    /// The version decision for the group-resource.
    pub decision: Decision,
    /// Whether the objects are cluster-scoped.
    pub cluster_scoped: bool,
    /// The objects to create, in backup order. Empty when the decision is a failure (the objects
    /// are then in [`Plan::failed`]).
    pub objects: Vec<PlannedObject>,
}

/// How the version of a group-resource was decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "camelCase")]
pub enum Decision {
    /// A version was chosen.
    Chosen {
        /// The version, its tarball directory and the rule. When the objects are converted,
        /// `version` is the one they are created at and `dir` the folder they are read from.
        choice: Choice,
        /// The versions the backup holds, and the source's preferred one.
        backup: Versions,
        /// The versions the target serves for the resource (for the resource they are
        /// converted to, when they are), and its preferred one.
        target: Versions,
        /// The conversion, when the target serves no version the backup holds and the objects
        /// are converted from a built-in version it stopped serving ([`Rule::Converted`]).
        ///
        /// [`Rule::Converted`]: godwit_versioning::Rule::Converted
        #[serde(skip_serializing_if = "Option::is_none")]
        converted: Option<Box<Converted>>,
    },
    /// The target does not serve the group-resource yet, and a CRD of the backup will serve it:
    /// decided again once that CRD is restored, established and discovered.
    Deferred {
        /// The name of the CustomResourceDefinition in the backup.
        custom_resource_definition: String,
        /// The versions the backup holds, and the source's preferred one.
        backup: Versions,
    },
    /// No version can be restored; every object of the group-resource fails with this error.
    Failed {
        /// The error, naming both sides' versions.
        error: String,
        /// The versions the backup holds, and the source's preferred one.
        backup: Versions,
        /// The versions the target serves for the resource; `None` when it serves none.
        target: Option<Versions>,
    },
}

impl Decision {
    /// The choice, when a version was chosen.
    pub fn choice(&self) -> Option<&Choice> {
        match self {
            Decision::Chosen { choice, .. } => Some(choice),
            Decision::Deferred { .. } | Decision::Failed { .. } => None,
        }
    }

    /// The conversion, when the objects are converted.
    pub fn converted(&self) -> Option<&Converted> {
        match self {
            Decision::Chosen { converted, .. } => converted.as_deref(),
            Decision::Deferred { .. } | Decision::Failed { .. } => None,
        }
    }
}

/// How the objects of a group-resource are converted from a built-in version the target no
/// longer serves (`godwit-convert`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Converted {
    /// The objects' kind.
    pub kind: String,
    /// The `apiVersion` the backup holds them at (`extensions/v1beta1`).
    pub from_api_version: String,
    /// The group-resource they are created as; it differs from the tier's when the group
    /// changed (`ingresses.extensions` becomes `ingresses.networking.k8s.io`).
    pub to_group_resource: GroupResource,
    /// The `apiVersion` they are created at (`networking.k8s.io/v1`).
    pub to_api_version: String,
    /// What the conversion changes.
    pub summary: String,
}

/// One object to create.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedObject {
    /// Its namespace in the backup; `None` when cluster-scoped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The namespace it is created in (after the namespace mapping).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_namespace: Option<String>,
    /// Its name.
    pub name: String,
    /// The object as read from the backup at the chosen version (before the restore actions).
    #[serde(skip)]
    pub object: Compact,
}

/// A JSON value kept as its compact text, parsed again when needed. A plan holds every object a
/// restore creates until its turn: as parsed trees (a map node per object, per label set, per
/// `managedFields` entry) 10,000 small ConfigMaps took about 60 MB, as text about 4 MB.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Compact(Box<str>);

impl Compact {
    /// Keeps `value` as text.
    pub fn new(value: &Value) -> Self {
        Compact(value.to_string().into_boxed_str())
    }

    /// Keeps JSON text that `value` was parsed from, as it is (no second serialization).
    pub fn from_parsed(text: Vec<u8>, value: &Value) -> Self {
        match String::from_utf8(text) {
            Ok(text) => Compact(text.into_boxed_str()),
            Err(_) => Compact::new(value),
        }
    }

    /// The value, parsed again (`Null` when empty).
    pub fn value(&self) -> Value {
        // The text was written by `serde_json` from a `Value`, so it parses.
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }

    /// `metadata.labels`, read without building the rest of the object.
    pub fn labels(&self) -> BTreeMap<String, String> {
        #[derive(serde::Deserialize)]
        struct Object {
            #[serde(default)]
            metadata: Option<Metadata>,
        }
        #[derive(serde::Deserialize)]
        struct Metadata {
            #[serde(default)]
            labels: Option<BTreeMap<String, Value>>,
        }
        serde_json::from_str::<Object>(&self.0)
            .ok()
            .and_then(|object| object.metadata?.labels)
            .map(|labels| {
                labels
                    .into_iter()
                    .filter_map(|(key, value)| Some((key, value.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Value> for Compact {
    fn from(value: Value) -> Self {
        Compact::new(&value)
    }
}

impl std::fmt::Debug for Compact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A namespace the restore makes sure exists before namespaced objects are created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedNamespace {
    /// The name in the target.
    pub name: String,
    /// The name in the backup, when it differs or when the backup holds the namespace object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Whether the backup holds the Namespace object (its labels and annotations are used).
    pub backed_up: bool,
    /// Labels of the backed-up Namespace.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations of the backed-up Namespace.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl PlannedNamespace {
    /// The Namespace object to create.
    pub fn to_object(&self) -> Value {
        let mut metadata = serde_json::Map::new();
        metadata.insert("name".to_owned(), Value::String(self.name.clone()));
        if !self.labels.is_empty() {
            metadata.insert("labels".to_owned(), serde_json::json!(self.labels));
        }
        if !self.annotations.is_empty() {
            metadata.insert(
                "annotations".to_owned(),
                serde_json::json!(self.annotations),
            );
        }
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata})
    }
}

/// An object of the backup that names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// Its group-resource.
    pub group_resource: GroupResource,
    /// Its namespace in the backup; `None` when cluster-scoped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{} {namespace}/{}", self.group_resource, self.name),
            None => write!(f, "{} {}", self.group_resource, self.name),
        }
    }
}

/// An object restored because another one needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PulledIn {
    /// The object restored.
    pub object: ObjectRef,
    /// The object that needs it.
    pub needed_by: ObjectRef,
    /// Why the filters had left it out.
    pub left_out_because: String,
}

/// An object that is skipped or fails, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unrestored {
    /// The object.
    pub object: ObjectRef,
    /// The namespace it would have been restored into; results group it there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_namespace: Option<String>,
    /// Why.
    pub reason: String,
}

impl Plan {
    /// The plan as pretty JSON (objects' bodies left out).
    pub fn to_json(&self) -> String {
        // Every field is plain data with string keys, so serializing cannot fail; fall back to
        // an empty object rather than panic all the same.
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// How many objects the plan creates (namespaces not counted).
    pub fn object_count(&self) -> usize {
        self.tiers.iter().map(|t| t.objects.len()).sum()
    }

    /// The tiers whose version is decided only after CRDs are restored.
    pub fn deferred(&self) -> impl Iterator<Item = &Tier> {
        self.tiers
            .iter()
            .filter(|t| matches!(t.decision, Decision::Deferred { .. }))
    }
}
