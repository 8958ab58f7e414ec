//! Helpers shared by the unit tests.

use std::collections::BTreeSet;

use serde_json::Value;

/// The path of the first place two JSON values differ, with both sides, for readable failures.
pub(crate) fn first_difference(left: &Value, right: &Value, path: &str) -> Option<String> {
    match (left, right) {
        (Value::Object(left), Value::Object(right)) => {
            let keys: BTreeSet<&String> = left.keys().chain(right.keys()).collect();
            keys.into_iter().find_map(|key| {
                let (a, b) = (left.get(key), right.get(key));
                match (a, b) {
                    (Some(a), Some(b)) => first_difference(a, b, &format!("{path}.{key}")),
                    _ => Some(format!("{path}.{key}: {a:?} vs {b:?}")),
                }
            })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(index, (a, b))| first_difference(a, b, &format!("{path}[{index}]"))),
        _ => (left != right).then(|| format!("{path}: {left} vs {right}")),
    }
}

/// Paths in `value` that an API server serving `schema` would prune: keys the schema neither
/// declares nor allows through `additionalProperties` or `x-kubernetes-preserve-unknown-fields`.
pub(crate) fn pruned_paths(value: &Value, schema: &Value, path: &str) -> Vec<String> {
    if schema["x-kubernetes-preserve-unknown-fields"] == Value::Bool(true) {
        return Vec::new();
    }
    match value {
        Value::Object(map) => map
            .iter()
            .flat_map(|(key, child)| {
                let child_path = format!("{path}.{key}");
                match (
                    schema["properties"].get(key),
                    schema.get("additionalProperties"),
                ) {
                    (Some(property), _) => pruned_paths(child, property, &child_path),
                    (None, Some(additional @ Value::Object(_))) => {
                        pruned_paths(child, additional, &child_path)
                    }
                    _ => vec![child_path],
                }
            })
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .flat_map(|(index, item)| {
                pruned_paths(item, &schema["items"], &format!("{path}[{index}]"))
            })
            .collect(),
        _ => Vec::new(),
    }
}
