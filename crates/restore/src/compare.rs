//! Comparing a live object with the one a restore wants, as Velero does before deciding what to
//! do with an object that already exists, and the merge patches that follow.
//!
//! Both sides are first stripped of what the API server sets (uid, resourceVersion, generation,
//! timestamps, managedFields, ownerReferences, status) and of the restore labels: Velero copies
//! the new restore's labels onto the live object before comparing, so they never count as a
//! difference.

use serde_json::{Map, Value};

/// Metadata the API server sets, ignored when comparing.
const SERVER_SET_METADATA: [&str; 10] = [
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
    "generateName",
    "ownerReferences",
    "managedFields",
];

/// The labels every restored object carries.
pub(crate) const RESTORE_LABELS: [&str; 2] = ["velero.io/backup-name", "velero.io/restore-name"];

/// The restore-name label key.
pub(crate) const RESTORE_NAME_LABEL: &str = "velero.io/restore-name";

/// The object without server-set metadata, status and restore labels (empty label and
/// annotation maps dropped too), ready to compare.
pub fn normalize(object: &Value) -> Value {
    let mut object = strip_server_fields(object);
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        if let Some(labels) = metadata.get_mut("labels").and_then(Value::as_object_mut) {
            for label in RESTORE_LABELS {
                labels.remove(label);
            }
        }
        for field in ["labels", "annotations"] {
            if metadata
                .get(field)
                .is_some_and(|v| v.is_null() || v.as_object().is_some_and(Map::is_empty))
            {
                metadata.remove(field);
            }
        }
    }
    object
}

/// Whether the live object differs from the wanted one in anything but what
/// [`normalize`] removes.
pub fn differs(live: &Value, wanted: &Value) -> bool {
    normalize(live) != normalize(wanted)
}

/// The JSON merge patch (RFC 7386) that turns the live object into the wanted one, ignoring
/// server-set fields and status on both sides; it sets the wanted restore labels. Fields the
/// live object has and the wanted one lacks are removed (`null`), as Velero's patch does.
pub fn merge_patch(live: &Value, wanted: &Value) -> Value {
    let from = normalize(live);
    let to = strip_server_fields(wanted);
    diff(&from, &to).unwrap_or_else(|| Value::Object(Map::new()))
}

/// What a backed-up ServiceAccount adds to the live one (Velero's `mergeServiceAccounts`):
/// secrets and imagePullSecrets the live one lacks (by name), and labels and annotations it
/// lacks; live values win. `None` when there is nothing to add.
pub fn merge_service_account(live: &Value, backed_up: &Value) -> Option<Value> {
    let mut patch = Map::new();
    for field in ["secrets", "imagePullSecrets"] {
        let live_list = live
            .get(field)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let names: Vec<&str> = live_list
            .iter()
            .filter_map(|s| s.get("name").and_then(Value::as_str))
            .collect();
        let missing: Vec<Value> = backed_up
            .get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|s| {
                s.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|name| !names.contains(&name))
            })
            .cloned()
            .collect();
        if !missing.is_empty() {
            let mut merged = live_list.clone();
            merged.extend(missing);
            patch.insert(field.to_owned(), Value::Array(merged));
        }
    }
    let mut metadata = Map::new();
    for field in ["labels", "annotations"] {
        let live_map = live
            .get("metadata")
            .and_then(|m| m.get(field))
            .and_then(Value::as_object);
        let added: Map<String, Value> = backed_up
            .get("metadata")
            .and_then(|m| m.get(field))
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(key, _)| !RESTORE_LABELS.contains(&key.as_str()))
            .filter(|(key, _)| live_map.is_none_or(|live| !live.contains_key(*key)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !added.is_empty() {
            metadata.insert(field.to_owned(), Value::Object(added));
        }
    }
    if !metadata.is_empty() {
        patch.insert("metadata".to_owned(), Value::Object(metadata));
    }
    (!patch.is_empty()).then_some(Value::Object(patch))
}

fn strip_server_fields(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(fields) = object.as_object_mut() {
        fields.remove("status");
        if let Some(metadata) = fields.get_mut("metadata").and_then(Value::as_object_mut) {
            for field in SERVER_SET_METADATA {
                metadata.remove(field);
            }
        }
    }
    object
}

/// The merge patch from `from` to `to`; `None` when they are equal.
fn diff(from: &Value, to: &Value) -> Option<Value> {
    if from == to {
        return None;
    }
    let (Some(from), Some(to)) = (from.as_object(), to.as_object()) else {
        return Some(to.clone());
    };
    let mut patch = Map::new();
    for (key, wanted) in to {
        match from.get(key) {
            Some(current) => {
                if let Some(change) = diff(current, wanted) {
                    patch.insert(key.clone(), change);
                }
            }
            None => {
                patch.insert(key.clone(), wanted.clone());
            }
        }
    }
    for key in from.keys().filter(|key| !to.contains_key(*key)) {
        patch.insert(key.clone(), Value::Null);
    }
    Some(Value::Object(patch))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn server_fields_and_restore_labels_are_not_differences() {
        let live = json!({"metadata": {"name": "a", "uid": "1", "resourceVersion": "9",
            "creationTimestamp": "2026-01-01T00:00:00Z", "managedFields": [{}],
            "labels": {"app": "x", "velero.io/restore-name": "r1", "velero.io/backup-name": "b"}},
            "data": {"k": "v"}, "status": {"phase": "Active"}});
        let wanted = json!({"metadata": {"name": "a",
            "labels": {"app": "x", "velero.io/restore-name": "r2", "velero.io/backup-name": "b"}},
            "data": {"k": "v"}});
        assert!(!differs(&live, &wanted));
        let changed =
            json!({"metadata": {"name": "a", "labels": {"app": "x"}}, "data": {"k": "w"}});
        assert!(differs(&live, &changed));
        let no_labels = json!({"metadata": {"name": "a", "labels": {}}, "data": {}});
        assert!(!differs(
            &json!({"metadata": {"name": "a"}, "data": {}}),
            &no_labels
        ));
    }

    #[test]
    fn merge_patch_turns_live_into_wanted() {
        let live = json!({"metadata": {"name": "a", "uid": "1", "labels": {"app": "x", "old": "y"}},
            "data": {"k": "v", "gone": "z"}, "status": {"s": 1}});
        let wanted = json!({"metadata": {"name": "a",
            "labels": {"app": "x", "velero.io/restore-name": "r"}}, "data": {"k": "w"}});
        assert_eq!(
            merge_patch(&live, &wanted),
            json!({"metadata": {"labels": {"old": null, "velero.io/restore-name": "r"}},
                "data": {"k": "w", "gone": null}})
        );
    }

    #[test]
    fn service_accounts_merge_with_live_values_winning() {
        let live = json!({"metadata": {"name": "sa", "labels": {"a": "live"}},
            "secrets": [{"name": "s1"}]});
        let backed_up = json!({"metadata": {"name": "sa",
            "labels": {"a": "backup", "b": "new", "velero.io/restore-name": "r"},
            "annotations": {"n": "1"}},
            "secrets": [{"name": "s1"}, {"name": "s2"}], "imagePullSecrets": [{"name": "reg"}]});
        assert_eq!(
            merge_service_account(&live, &backed_up),
            Some(json!({"secrets": [{"name": "s1"}, {"name": "s2"}],
                "imagePullSecrets": [{"name": "reg"}],
                "metadata": {"labels": {"b": "new"}, "annotations": {"n": "1"}}}))
        );
        assert_eq!(merge_service_account(&backed_up, &live), None);
    }
}
