//! CustomResourceDefinitions: reading one into the resources it serves, the defaults and
//! status the API server gives it, and the checks that keep it servable.

use serde_json::{Value, json};

use crate::catalog::{Behaviour, CUSTOM_VERBS, ResourceDef, STATUS_VERBS, SubresourceDef};
use crate::status::Cause;

/// One version of a CRD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CrdVersion {
    /// Version name.
    pub(crate) name: String,
    /// Whether it is served.
    pub(crate) served: bool,
    /// Whether it is the storage version.
    pub(crate) storage: bool,
    /// Whether it has a status subresource.
    pub(crate) status: bool,
}

/// What kubesim needs to know about a CRD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CrdSpec {
    /// `metadata.name`: `<plural>.<group>`.
    pub(crate) name: String,
    /// `spec.group`.
    pub(crate) group: String,
    /// `spec.names.plural`.
    pub(crate) plural: String,
    /// `spec.names.singular`.
    pub(crate) singular: String,
    /// `spec.names.kind`.
    pub(crate) kind: String,
    /// `spec.names.listKind`.
    pub(crate) list_kind: String,
    /// `spec.names.shortNames`.
    pub(crate) short_names: Vec<String>,
    /// `spec.names.categories`.
    pub(crate) categories: Vec<String>,
    /// Whether `spec.scope` is `Namespaced`.
    pub(crate) namespaced: bool,
    /// `spec.versions`, in the order given.
    pub(crate) versions: Vec<CrdVersion>,
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn required(causes: &mut Vec<Cause>, field: &str) {
    causes.push(Cause {
        reason: "FieldValueRequired",
        message: "Required value".to_owned(),
        field: field.to_owned(),
    });
}

impl CrdSpec {
    /// Reads a CRD (after [`apply_defaults`]), or the field problems the API server would
    /// answer 422 for.
    pub(crate) fn parse(crd: &Value) -> Result<Self, Vec<Cause>> {
        let mut causes = Vec::new();
        let text = |pointer: &str| {
            crd.pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let name = text("/metadata/name");
        let group = text("/spec/group");
        let plural = text("/spec/names/plural");
        let kind = text("/spec/names/kind");
        if group.is_empty() {
            required(&mut causes, "spec.group");
        } else if !group.contains('.') {
            causes.push(Cause {
                reason: "FieldValueInvalid",
                message: format!(
                    "Invalid value: {group:?}: should be a domain with at least one dot"
                ),
                field: "spec.group".to_owned(),
            });
        }
        if plural.is_empty() {
            required(&mut causes, "spec.names.plural");
        }
        if kind.is_empty() {
            required(&mut causes, "spec.names.kind");
        }
        if !group.is_empty() && !plural.is_empty() && name != format!("{plural}.{group}") {
            causes.push(Cause {
                reason: "FieldValueInvalid",
                message: format!(
                    "Invalid value: {name:?}: must be spec.names.plural+\".\"+spec.group"
                ),
                field: "metadata.name".to_owned(),
            });
        }
        let scope = text("/spec/scope");
        if scope != "Namespaced" && scope != "Cluster" {
            causes.push(Cause {
                reason: "FieldValueNotSupported",
                message: format!(
                    "Unsupported value: {scope:?}: supported values: \"Cluster\", \"Namespaced\""
                ),
                field: "spec.scope".to_owned(),
            });
        }
        let versions: Vec<CrdVersion> = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .map(|versions| {
                versions
                    .iter()
                    .map(|v| CrdVersion {
                        name: v
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        served: v.get("served").and_then(Value::as_bool).unwrap_or(false),
                        storage: v.get("storage").and_then(Value::as_bool).unwrap_or(false),
                        status: v.pointer("/subresources/status").is_some(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        if versions.is_empty() {
            required(&mut causes, "spec.versions");
        } else if versions.iter().filter(|v| v.storage).count() != 1 {
            causes.push(Cause {
                reason: "FieldValueInvalid",
                message: "Invalid value: \"versions\": must have exactly one version marked as storage version".to_owned(),
                field: "spec.versions".to_owned(),
            });
        }
        for (i, version) in versions.iter().enumerate() {
            if version.name.is_empty() {
                required(&mut causes, &format!("spec.versions[{i}].name"));
            }
        }
        if !causes.is_empty() {
            return Err(causes);
        }
        Ok(Self {
            name,
            group,
            singular: text("/spec/names/singular"),
            list_kind: text("/spec/names/listKind"),
            short_names: strings(crd.pointer("/spec/names/shortNames")),
            categories: strings(crd.pointer("/spec/names/categories")),
            plural,
            kind,
            namespaced: scope == "Namespaced",
            versions,
        })
    }

    /// The storage version.
    pub(crate) fn storage_version(&self) -> &str {
        self.versions
            .iter()
            .find(|v| v.storage)
            .map(|v| v.name.as_str())
            .unwrap_or_default()
    }

    /// One resource definition per served version.
    pub(crate) fn served(&self) -> Vec<ResourceDef> {
        self.versions
            .iter()
            .filter(|v| v.served)
            .map(|v| ResourceDef {
                group: self.group.clone(),
                version: v.name.clone(),
                plural: self.plural.clone(),
                singular: self.singular.clone(),
                kind: self.kind.clone(),
                list_kind: self.list_kind.clone(),
                namespaced: self.namespaced,
                verbs: CUSTOM_VERBS.iter().map(|s| (*s).to_owned()).collect(),
                short_names: self.short_names.clone(),
                categories: self.categories.clone(),
                subresources: if v.status {
                    vec![SubresourceDef {
                        name: "status".to_owned(),
                        kind: self.kind.clone(),
                        group_version: None,
                        verbs: STATUS_VERBS.iter().map(|s| (*s).to_owned()).collect(),
                    }]
                } else {
                    Vec::new()
                },
                storage_version: self.storage_version().to_owned(),
                storage_group: self.group.clone(),
                generation: true,
                returns_deleted_object: true,
                custom: true,
                behaviour: Behaviour::Stored,
            })
            .collect()
    }
}

/// The defaults the API server writes into a CRD's spec.
pub(crate) fn apply_defaults(crd: &mut Value) {
    let Some(spec) = crd.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if !spec.contains_key("conversion") {
        spec.insert("conversion".into(), json!({"strategy": "None"}));
    }
    if let Some(names) = spec.get_mut("names").and_then(Value::as_object_mut) {
        let kind = names
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if names
            .get("singular")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            names.insert("singular".into(), kind.to_lowercase().into());
        }
        if names
            .get("listKind")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            names.insert("listKind".into(), format!("{kind}List").into());
        }
    }
}

/// The status of a CRD the moment it is created, before names are accepted.
pub(crate) fn initial_status(spec: &CrdSpec) -> Value {
    json!({
        "conditions": null,
        "acceptedNames": {"plural": "", "kind": ""},
        "storedVersions": [spec.storage_version()],
    })
}

/// Sets the conditions and accepted names the API server's controllers set right after a CRD
/// is created, and keeps `storedVersions` listing the current storage version.
pub(crate) fn establish(crd: &mut Value, spec: &CrdSpec, now: &str) {
    let Some(object) = crd.as_object_mut() else {
        return;
    };
    let status = object.entry("status").or_insert_with(|| json!({}));
    if !status.is_object() {
        *status = json!({});
    }
    let Some(status) = status.as_object_mut() else {
        return;
    };
    let mut accepted = serde_json::Map::new();
    accepted.insert("plural".into(), spec.plural.clone().into());
    accepted.insert("singular".into(), spec.singular.clone().into());
    if !spec.short_names.is_empty() {
        accepted.insert("shortNames".into(), json!(spec.short_names));
    }
    accepted.insert("kind".into(), spec.kind.clone().into());
    accepted.insert("listKind".into(), spec.list_kind.clone().into());
    if !spec.categories.is_empty() {
        accepted.insert("categories".into(), json!(spec.categories));
    }
    status.insert("acceptedNames".into(), Value::Object(accepted));
    let has_conditions = status
        .get("conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| !c.is_empty());
    if !has_conditions {
        status.insert(
            "conditions".into(),
            json!([
                {"type": "NamesAccepted", "status": "True", "lastTransitionTime": now,
                 "reason": "NoConflicts", "message": "no conflicts found"},
                {"type": "Established", "status": "True", "lastTransitionTime": now,
                 "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"},
            ]),
        );
    }
    keep_storage_version_stored(status, spec);
}

/// What the API server's converter answers for an object stored at a version that is not in
/// the CRD's `spec.versions`.
pub(crate) fn invalid_version_message(group: &str, version: &str) -> String {
    format!("request to convert CR from an invalid group/version: {group}/{version}")
}

/// The defaulting of `apiextensions.k8s.io/v1` a status write goes through: an empty or missing
/// `storedVersions` becomes the storage version. Nothing else about it is checked on a status
/// write (the server validates `storedVersions` only on writes of the CRD itself).
pub(crate) fn default_stored_versions(status: &mut serde_json::Map<String, Value>, spec: &CrdSpec) {
    let empty = status
        .get("storedVersions")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    if empty {
        status.insert("storedVersions".into(), json!([spec.storage_version()]));
    }
}

/// The API server's check of `status.storedVersions` on a write of the CRD itself: every stored
/// version must stay in `spec.versions` until a storage migration removes it from the list.
pub(crate) fn stored_versions_problems(
    status: &serde_json::Map<String, Value>,
    spec: &CrdSpec,
) -> Vec<Cause> {
    let stored = strings(status.get("storedVersions"));
    stored
        .iter()
        .enumerate()
        .filter(|(_, version)| !spec.versions.iter().any(|v| &v.name == *version))
        .map(|(index, version)| Cause {
            reason: "FieldValueInvalid",
            message: format!(
                "Invalid value: {version:?}: missing from spec.versions; {version} was previously \
                 a storage version, and must remain in spec.versions until a storage migration \
                 ensures no data remains persisted in {version} and removes {version} from \
                 status.storedVersions"
            ),
            field: format!("status.storedVersions[{index}]"),
        })
        .collect()
}

/// Adds the current storage version to `status.storedVersions` if it is not there.
pub(crate) fn keep_storage_version_stored(
    status: &mut serde_json::Map<String, Value>,
    spec: &CrdSpec,
) {
    let storage = spec.storage_version();
    let stored = status.entry("storedVersions").or_insert_with(|| json!([]));
    if !stored.is_array() {
        *stored = json!([]);
    }
    if let Some(list) = stored.as_array_mut()
        && !list.iter().any(|v| v.as_str() == Some(storage))
    {
        list.push(storage.into());
    }
}

#[cfg(test)]
mod tests;
