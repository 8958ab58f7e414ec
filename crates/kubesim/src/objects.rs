//! Small facts about stored objects: framing them with `kind`/`apiVersion`, reading labels,
//! generated names, name checks, and whether an update changed the spec.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Writes `{"kind":K,"apiVersion":AV,` followed by the rest of a stored object (which is kept
/// without those two fields, so any served version can be framed without re-serializing).
pub(crate) fn with_type(kind: &str, api_version: &str, json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() + kind.len() + api_version.len() + 32);
    out.extend_from_slice(b"{\"kind\":");
    push_json_string(&mut out, kind);
    out.extend_from_slice(b",\"apiVersion\":");
    push_json_string(&mut out, api_version);
    let rest = json.strip_prefix(b"{").unwrap_or(json);
    if rest.first().is_some_and(|b| *b != b'}') {
        out.push(b',');
    }
    out.extend_from_slice(rest);
    if rest.is_empty() {
        out.push(b'}');
    }
    out
}

fn push_json_string(out: &mut Vec<u8>, text: &str) {
    // serde_json never fails to write a string into a Vec.
    let quoted = serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned());
    out.extend_from_slice(quoted.as_bytes());
}

/// The labels of an object.
pub(crate) fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// A metadata string field, or empty.
pub(crate) fn meta_str<'a>(object: &'a Value, field: &str) -> &'a str {
    object
        .get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The metadata map of an object, created if missing.
pub(crate) fn metadata_mut(object: &mut Value) -> Option<&mut Map<String, Value>> {
    let map = object.as_object_mut()?;
    let metadata = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !metadata.is_object() {
        *metadata = Value::Object(Map::new());
    }
    metadata.as_object_mut()
}

/// Five characters appended to `generateName`, from the API server's alphabet (no vowels, no
/// look-alike digits).
pub(crate) fn generated_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .take(5)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// Why a name cannot be used in a URL path segment, if it cannot.
pub(crate) fn path_segment_problem(name: &str) -> Option<String> {
    if name == "." || name == ".." {
        return Some(format!("may not be '{name}'"));
    }
    ["/", "%"]
        .iter()
        .find(|bad| name.contains(*bad))
        .map(|bad| format!("may not contain '{bad}'"))
}

/// Why a name is not a DNS-1123 label (namespaces), if it is not.
pub(crate) fn dns_label_problem(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    (!ok).then(|| {
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".to_owned()
    })
}

/// Whether anything outside `metadata` (and outside `status` unless `include_status`) differs.
pub(crate) fn content_changed(old: &Value, new: &Value, include_status: bool) -> bool {
    let empty = Map::new();
    let old = old.as_object().unwrap_or(&empty);
    let new = new.as_object().unwrap_or(&empty);
    let relevant = |key: &String| {
        key != "metadata"
            && key != "kind"
            && key != "apiVersion"
            && (include_status || key != "status")
    };
    let old_keys = old.keys().filter(|k| relevant(k));
    let new_keys = new.keys().filter(|k| relevant(k));
    old_keys.clone().count() != new_keys.clone().count()
        || old_keys.into_iter().any(|k| old.get(k) != new.get(k))
}

#[cfg(test)]
mod tests;
