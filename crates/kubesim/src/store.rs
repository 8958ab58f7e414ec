//! The object store: per-resource ordered maps from etcd-style keys to serialized objects, one
//! resourceVersion counter for the whole server, and the `continue` tokens lists hand out.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::body::Bytes;
use serde_json::Value;

use crate::catalog::GroupResource;

/// Labels of a stored object, shared with the watch events that carry it.
pub(crate) type Labels = Arc<BTreeMap<String, String>>;

/// One stored object.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Its resourceVersion.
    pub(crate) rv: u64,
    /// The object serialized without `kind` and `apiVersion` (added per served version).
    pub(crate) json: Bytes,
    /// Its labels, for selectors.
    pub(crate) labels: Labels,
}

impl Entry {
    /// The stored object parsed back into a value.
    pub(crate) fn value(&self) -> Value {
        serde_json::from_slice(&self.json).unwrap_or(Value::Null)
    }
}

/// The key of an object inside its resource's map: `namespace/name` or `name`, as etcd keys
/// order them below the resource prefix.
pub(crate) fn key(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_owned(),
    }
}

/// All stored objects.
#[derive(Debug, Default)]
pub(crate) struct Store {
    rv: u64,
    tables: HashMap<GroupResource, BTreeMap<String, Entry>>,
}

impl Store {
    /// The current resourceVersion: the last one handed out.
    pub(crate) fn resource_version(&self) -> u64 {
        self.rv
    }

    /// Hands out the next resourceVersion.
    pub(crate) fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// Moves the counter forward (after loading from disk).
    pub(crate) fn advance_rv(&mut self, rv: u64) {
        self.rv = self.rv.max(rv);
    }

    /// One object.
    pub(crate) fn get(&self, gr: &GroupResource, key: &str) -> Option<&Entry> {
        self.tables.get(gr)?.get(key)
    }

    /// Stores an object, returning what was there.
    pub(crate) fn put(&mut self, gr: &GroupResource, key: String, entry: Entry) -> Option<Entry> {
        match self.tables.get_mut(gr) {
            Some(table) => table.insert(key, entry),
            None => {
                self.tables
                    .entry(gr.clone())
                    .or_default()
                    .insert(key, entry);
                None
            }
        }
    }

    /// Removes an object.
    pub(crate) fn remove(&mut self, gr: &GroupResource, key: &str) -> Option<Entry> {
        self.tables.get_mut(gr)?.remove(key)
    }

    /// Objects whose key starts with `prefix`, in key order, from `start` (inclusive) on.
    pub(crate) fn scan<'a>(
        &'a self,
        gr: &GroupResource,
        prefix: &'a str,
        start: Option<&str>,
    ) -> impl Iterator<Item = (&'a String, &'a Entry)> + 'a {
        let from = match start {
            Some(start) if start > prefix => start.to_owned(),
            _ => prefix.to_owned(),
        };
        self.tables
            .get(gr)
            .into_iter()
            .flat_map(move |table| table.range(from.clone()..))
            .take_while(move |(key, _)| key.starts_with(prefix))
    }

    /// Keys of every object of a resource below a prefix.
    pub(crate) fn keys(&self, gr: &GroupResource, prefix: &str) -> Vec<String> {
        self.scan(gr, prefix, None)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Every resource that has a table.
    pub(crate) fn resources(&self) -> Vec<GroupResource> {
        let mut out: Vec<GroupResource> = self.tables.keys().cloned().collect();
        out.sort();
        out
    }
}

/// What a `continue` token says: the list's resourceVersion and the key to start from,
/// relative to the listed prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Continue {
    /// The resourceVersion of the first page.
    pub(crate) rv: u64,
    /// Where the next page starts, relative to the prefix (ends with a NUL byte).
    pub(crate) start: String,
}

impl Continue {
    /// The token for a page that ended at `last_key` (relative to the prefix), in the API
    /// server's format: unpadded URL-safe base64 of `{"v":"meta.k8s.io/v1","rv":N,"start":K}`.
    pub(crate) fn after(rv: u64, last_key: &str) -> Self {
        Self {
            rv,
            start: format!("{last_key}\u{0}"),
        }
    }

    /// Encodes the token.
    pub(crate) fn encode(&self) -> String {
        // Field order as the API server writes it, so tokens are byte-for-byte the same.
        let json = format!(
            "{{\"v\":\"meta.k8s.io/v1\",\"rv\":{},\"start\":{}}}",
            self.rv,
            Value::from(self.start.as_str())
        );
        crate::catalog::base64_url(json.as_bytes())
    }

    /// Decodes a token, with the API server's complaint when it is not one.
    pub(crate) fn decode(token: &str) -> Result<Self, String> {
        let bytes = crate::catalog::base64_url_decode(token)
            .ok_or_else(|| "continue key is not valid: illegal base64 data".to_owned())?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|err| format!("continue key is not valid: {err}"))?;
        if value.get("v").and_then(Value::as_str) != Some("meta.k8s.io/v1") {
            return Err(
                "continue key is not valid: server does not recognize this encoded key".to_owned(),
            );
        }
        let rv = value.get("rv").and_then(Value::as_u64).unwrap_or(0);
        let start = value
            .get("start")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| "continue key is not valid: encoded start key empty".to_owned())?;
        if start.starts_with('/') || start.split('/').any(|part| part == "..") {
            return Err(
                "continue key is not valid: key cannot contain an absolute or relative path"
                    .to_owned(),
            );
        }
        Ok(Self {
            rv,
            start: start.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests;
