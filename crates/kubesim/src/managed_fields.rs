//! `metadata.managedFields` for Update operations: which fields each field manager set, in
//! the `FieldsV1` form the API server writes.
//!
//! The API server derives field sets from each type's schema; kubesim has no schemas, so it
//! follows the built-in types' shapes through a small table: which objects are maps (listed
//! with a `"."` entry, like `labels` or `data`), which lists are keyed (`ports` by port and
//! protocol, `containers` by name) or sets (`finalizers`); other objects are structs and other
//! lists atomic. Custom resources are read as schemaless (every object a map, lists atomic).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Step {
    /// A field of an object: `f:name`.
    Field(String),
    /// An item of a keyed list, by its key fields as compact JSON: `k:{"port":80}`.
    Key(String),
    /// An item of a set, by its value as JSON: `v:"a"`.
    Value(String),
}

/// A field path.
pub(crate) type Path = Vec<Step>;

/// Metadata fields the API server never records.
const IGNORED_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

/// Objects that are maps in the built-in types (keys are data, not fields).
const MAP_FIELDS: &[&str] = &[
    "labels",
    "annotations",
    "data",
    "binaryData",
    "stringData",
    "matchLabels",
    "nodeSelector",
    "limits",
    "requests",
    "capacity",
    "allocatable",
    "parameters",
    "volumeAttributes",
    "hard",
    "used",
    "conversion",
];

/// The key fields of keyed lists in the built-in types, by list name.
fn list_keys(name: &str, items: &[Value]) -> Option<&'static [&'static str]> {
    match name {
        "ports" if items.iter().any(|i| i.get("containerPort").is_some()) => {
            Some(&["containerPort", "protocol"])
        }
        "ports" => Some(&["port", "protocol"]),
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "secrets" => Some(&["name"]),
        "volumeMounts" => Some(&["mountPath"]),
        "conditions" => Some(&["type"]),
        "ownerReferences" => Some(&["uid"]),
        "hostAliases" => Some(&["ip"]),
        _ => None,
    }
}

/// How the walk reads objects below the current one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Built-in shapes from the table.
    Builtin,
    /// Schemaless: every object is a map, every list atomic.
    Deduced,
}

/// The fields an object sets. `custom` reads everything outside `metadata` as schemaless.
pub(crate) fn field_set(object: &Value, custom: bool) -> BTreeSet<Path> {
    let mut set = BTreeSet::new();
    let Some(map) = object.as_object() else {
        return set;
    };
    for (key, value) in map {
        match key.as_str() {
            "kind" | "apiVersion" => {}
            "metadata" => {
                if let Some(meta) = value.as_object() {
                    for (field, value) in meta {
                        if IGNORED_METADATA.contains(&field.as_str()) {
                            continue;
                        }
                        let path = vec![Step::Field("metadata".into()), Step::Field(field.clone())];
                        walk(field, value, path, Mode::Builtin, &mut set);
                    }
                }
            }
            _ => {
                let mode = if custom { Mode::Deduced } else { Mode::Builtin };
                walk(key, value, vec![Step::Field(key.clone())], mode, &mut set);
            }
        }
    }
    set
}

fn walk(name: &str, value: &Value, path: Path, mode: Mode, set: &mut BTreeSet<Path>) {
    match value {
        Value::Object(map) => {
            let is_map = match mode {
                Mode::Deduced => true,
                Mode::Builtin => {
                    MAP_FIELDS.contains(&name)
                        || (name == "selector"
                            && !map.contains_key("matchLabels")
                            && !map.contains_key("matchExpressions"))
                }
            };
            if is_map || map.is_empty() {
                set.insert(path.clone());
            }
            for (key, child) in map {
                let mut child_path = path.clone();
                child_path.push(Step::Field(key.clone()));
                walk(key, child, child_path, mode, set);
            }
        }
        Value::Array(items) => {
            set.insert(path.clone());
            if mode == Mode::Deduced {
                return;
            }
            if name == "finalizers" {
                for item in items {
                    let mut item_path = path.clone();
                    item_path.push(Step::Value(item.to_string()));
                    set.insert(item_path);
                }
                return;
            }
            let Some(keys) = list_keys(name, items) else {
                return;
            };
            for item in items {
                let Some(object) = item.as_object() else {
                    continue;
                };
                let mut item_path = path.clone();
                item_path.push(Step::Key(key_of(object, keys)));
                set.insert(item_path.clone());
                for (key, child) in object {
                    let mut child_path = item_path.clone();
                    child_path.push(Step::Field(key.clone()));
                    walk(key, child, child_path, mode, set);
                }
            }
        }
        _ => {
            set.insert(path);
        }
    }
}

/// The key of a keyed-list item: its key fields, sorted, as compact JSON.
fn key_of(item: &Map<String, Value>, keys: &[&str]) -> String {
    let mut sorted: Vec<&str> = keys.to_vec();
    sorted.sort_unstable();
    let mut key = Map::new();
    for field in sorted {
        if let Some(value) = item.get(field) {
            key.insert(field.to_owned(), value.clone());
        }
    }
    Value::Object(key).to_string()
}

/// The value at a path, if the object has one there.
fn value_at<'a>(object: &'a Value, path: &[Step]) -> Option<&'a Value> {
    let mut current = object;
    for step in path {
        current = match step {
            Step::Field(name) => current.get(name)?,
            Step::Value(text) => current
                .as_array()?
                .iter()
                .find(|v| v.to_string() == *text)?,
            Step::Key(text) => {
                let wanted: Map<String, Value> = serde_json::from_str(text).ok()?;
                current
                    .as_array()?
                    .iter()
                    .find(|item| wanted.iter().all(|(k, v)| item.get(k) == Some(v)))?
            }
        };
    }
    Some(current)
}

/// Turns a field set into the `FieldsV1` tree: a path that is itself in the set and also
/// has members below it gets a `"."` entry; members without children are `{}`.
pub(crate) fn to_fields_v1(set: &BTreeSet<Path>) -> Value {
    let mut root = Map::new();
    for path in set {
        let mut node = &mut root;
        for step in path {
            let child = node.entry(step_name(step)).or_insert_with(|| json!({}));
            if !child.is_object() {
                *child = json!({});
            }
            let Some(next) = child.as_object_mut() else {
                break;
            };
            node = next;
        }
    }
    mark_self(&mut root, set, &mut Vec::new());
    Value::Object(root)
}

fn step_name(step: &Step) -> String {
    match step {
        Step::Field(f) => format!("f:{f}"),
        Step::Key(k) => format!("k:{k}"),
        Step::Value(v) => format!("v:{v}"),
    }
}

fn mark_self(node: &mut Map<String, Value>, set: &BTreeSet<Path>, prefix: &mut Path) {
    let names: Vec<String> = node.keys().filter(|k| *k != ".").cloned().collect();
    for name in names {
        let step = match name.split_at(2) {
            ("f:", rest) => Step::Field(rest.to_owned()),
            ("k:", rest) => Step::Key(rest.to_owned()),
            (_, rest) => Step::Value(rest.to_owned()),
        };
        prefix.push(step);
        if let Some(Value::Object(child)) = node.get_mut(&name) {
            if !child.is_empty() && set.contains(prefix) {
                child.insert(".".into(), json!({}));
            }
            mark_self(child, set, prefix);
        }
        prefix.pop();
    }
}

/// Reads a `FieldsV1` tree back into a field set.
pub(crate) fn from_fields_v1(tree: &Value) -> BTreeSet<Path> {
    let mut set = BTreeSet::new();
    collect(tree, &mut Vec::new(), &mut set);
    set
}

fn collect(node: &Value, prefix: &mut Path, set: &mut BTreeSet<Path>) {
    let Some(map) = node.as_object() else {
        return;
    };
    if !prefix.is_empty() && (map.is_empty() || map.contains_key(".")) {
        set.insert(prefix.clone());
    }
    for (name, child) in map {
        if name == "." || name.len() < 2 {
            continue;
        }
        let step = match name.split_at(2) {
            ("f:", rest) => Step::Field(rest.to_owned()),
            ("k:", rest) => Step::Key(rest.to_owned()),
            ("v:", rest) => Step::Value(rest.to_owned()),
            _ => continue,
        };
        prefix.push(step);
        collect(child, prefix, set);
        prefix.pop();
    }
}

/// Who is writing, for the managedFields entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Writer<'a> {
    /// The field manager.
    pub(crate) manager: &'a str,
    /// `group/version` of the request.
    pub(crate) api_version: &'a str,
    /// `status` for status writes.
    pub(crate) subresource: Option<&'a str>,
    /// The time of the write.
    pub(crate) now: &'a str,
}

/// Records an Update by `writer` that turns `before` (absent for a create) into `after`:
/// the fields it changed become the writer's and leave every other manager. `only` limits
/// the fields looked at to one top-level field (`status` for status writes) and `skip` leaves
/// one out (`status` for main-resource writes of resources with a status subresource).
pub(crate) fn record(
    before: Option<&Value>,
    after: &mut Value,
    writer: &Writer<'_>,
    custom: bool,
    only: Option<&str>,
    skip: Option<&str>,
) {
    let keep = |path: &Path| {
        let top = match path.first() {
            Some(Step::Field(name)) => name.as_str(),
            _ => "",
        };
        only.is_none_or(|o| o == top) && skip.is_none_or(|s| s != top)
    };
    let new_set: BTreeSet<Path> = field_set(after, custom)
        .into_iter()
        .filter(|p| keep(p))
        .collect();
    let old_set: BTreeSet<Path> = before
        .map(|b| {
            field_set(b, custom)
                .into_iter()
                .filter(|p| keep(p))
                .collect()
        })
        .unwrap_or_default();
    // A field is changed when it is new, or a leaf whose value differs. An object or list
    // that replaces a null is not itself changed (only what it holds), as the API server sees it.
    let changed: BTreeSet<Path> = new_set
        .iter()
        .filter(|path| {
            if !old_set.contains(*path) {
                return true;
            }
            let new_value = value_at(after, path);
            if new_value.is_some_and(|v| v.is_object() || v.is_array()) {
                return false;
            }
            before.is_some_and(|b| value_at(b, path) != new_value)
        })
        .cloned()
        .collect();
    let removed: BTreeSet<Path> = old_set.difference(&new_set).cloned().collect();

    // Managed fields sent with the request replace the stored ones, as the API server allows.
    let sent = after
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .filter(|entries| !entries.is_empty())
        .cloned();
    let mut entries: Vec<Value> = sent
        .or_else(|| {
            before
                .and_then(|b| b.pointer("/metadata/managedFields"))
                .and_then(Value::as_array)
                .cloned()
        })
        .unwrap_or_default();
    let is_mine = |entry: &Value| {
        entry.get("manager").and_then(Value::as_str) == Some(writer.manager)
            && entry.get("operation").and_then(Value::as_str) == Some("Update")
            && entry.get("subresource").and_then(Value::as_str) == writer.subresource
    };
    let mut mine: BTreeSet<Path> = BTreeSet::new();
    let mut position = None;
    let mut kept = Vec::with_capacity(entries.len() + 1);
    for entry in entries.drain(..) {
        let fields = entry
            .get("fieldsV1")
            .map(from_fields_v1)
            .unwrap_or_default();
        if is_mine(&entry) {
            mine = fields;
            position = Some(kept.len());
            kept.push(entry);
            continue;
        }
        let remaining: BTreeSet<Path> = fields
            .into_iter()
            .filter(|p| !changed.contains(p) && !removed.contains(p))
            .collect();
        if remaining.is_empty() {
            continue;
        }
        let mut entry = entry;
        if let Some(object) = entry.as_object_mut() {
            object.insert("fieldsV1".into(), to_fields_v1(&remaining));
        }
        kept.push(entry);
    }
    let mine: BTreeSet<Path> = mine
        .union(&changed)
        .filter(|p| !removed.contains(*p) && new_set.contains(*p))
        .cloned()
        .collect();
    let mut entry = Map::new();
    entry.insert("manager".into(), writer.manager.into());
    entry.insert("operation".into(), "Update".into());
    entry.insert("apiVersion".into(), writer.api_version.into());
    entry.insert("time".into(), writer.now.into());
    entry.insert("fieldsType".into(), "FieldsV1".into());
    entry.insert("fieldsV1".into(), to_fields_v1(&mine));
    if let Some(subresource) = writer.subresource {
        entry.insert("subresource".into(), subresource.into());
    }
    match position {
        Some(index) if mine.is_empty() => {
            kept.remove(index);
        }
        Some(index) => {
            if changed.is_empty() {
                // Nothing new from this manager: its entry stays as it was.
            } else if let Some(slot) = kept.get_mut(index) {
                *slot = Value::Object(entry);
            }
        }
        None if !mine.is_empty() => kept.push(Value::Object(entry)),
        None => {}
    }
    if let Some(meta) = crate::objects::metadata_mut(after) {
        if kept.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(kept));
        }
    }
}

/// The field manager of a request: `fieldManager`, else the user agent up to its first `/`.
pub(crate) fn manager_name(field_manager: Option<&str>, user_agent: Option<&str>) -> String {
    let name = field_manager
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
        .or_else(|| {
            user_agent
                .and_then(|ua| ua.split('/').next())
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown".to_owned());
    name.chars().take(128).collect()
}

#[cfg(test)]
mod tests;
