//! Small, panic-free helpers for walking and editing untyped Kubernetes objects.
//!
//! `serde_json`'s `IndexMut` panics on a non-object; everything here returns `None` instead, so
//! an object with a wrong type anywhere is left alone rather than crashing the restore.

use godwit_versioning::GroupResource;
use serde_json::{Map, Value};

use crate::Problem;

/// The value at `path`, if every step is an object holding the next key.
pub(crate) fn get<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter()
        .try_fold(value, |current, key| current.as_object()?.get(*key))
}

/// The string at `path`.
pub(crate) fn get_str<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    get(value, path)?.as_str()
}

/// The value at `path`, mutably.
pub(crate) fn get_mut<'a>(value: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    path.iter()
        .try_fold(value, |current, key| current.as_object_mut()?.get_mut(*key))
}

/// The object at `path`, mutably.
pub(crate) fn object_mut<'a>(
    value: &'a mut Value,
    path: &[&str],
) -> Option<&'a mut Map<String, Value>> {
    get_mut(value, path)?.as_object_mut()
}

/// The object at `path`, created (with any missing or `null` parents) when absent. `None` when
/// something on the way is present but not an object.
pub(crate) fn object_entry<'a>(
    value: &'a mut Value,
    path: &[&str],
) -> Option<&'a mut Map<String, Value>> {
    let mut current = value;
    for key in path {
        let slot = current.as_object_mut()?.entry(*key).or_insert(Value::Null);
        if slot.is_null() {
            *slot = Value::Object(Map::new());
        }
        current = slot;
    }
    current.as_object_mut()
}

/// How an object is named in messages: `<group-resource> <namespace>/<name>`, or
/// `<group-resource> <name>` for cluster-scoped ones.
pub(crate) fn describe(group_resource: &GroupResource, object: &Value) -> String {
    let name = get_str(object, &["metadata", "name"]).unwrap_or("<unnamed>");
    match get_str(object, &["metadata", "namespace"]) {
        Some(namespace) if !namespace.is_empty() => format!("{group_resource} {namespace}/{name}"),
        _ => format!("{group_resource} {name}"),
    }
}

/// A problem when the value at `path` exists, is not `null`, and `is_ok` rejects it.
pub(crate) fn type_problem(
    group_resource: &GroupResource,
    object: &Value,
    path: &[&str],
    expected: &'static str,
    is_ok: fn(&Value) -> bool,
) -> Option<Problem> {
    let found = get(object, path)?;
    if found.is_null() || is_ok(found) {
        return None;
    }
    Some(Problem::UnexpectedType {
        object: describe(group_resource, object),
        field: path.join("."),
        expected,
    })
}
