//! Watches: the change events every write publishes, the recent history a watch can resume
//! from, and the streams of JSON lines (with bookmarks) that watch requests get.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use serde_json::Value;
use tokio::sync::{broadcast, mpsc};

use crate::catalog::{GroupResource, ResourceDef};
use crate::objects::with_type;
use crate::selectors::{FieldSelector, LabelSelector, field_value};
use crate::store::Labels;

/// How many events a watch can resume from.
const HISTORY: usize = 16_384;

/// How often a watch that asked for bookmarks gets one.
pub(crate) const BOOKMARK_EVERY: Duration = Duration::from_secs(1);

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventType {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Deleted.
    Deleted,
}

impl EventType {
    fn name(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change to one object.
#[derive(Debug)]
pub(crate) struct Event {
    /// The resourceVersion of the change.
    pub(crate) rv: u64,
    /// What happened.
    pub(crate) event_type: EventType,
    /// The object's resource.
    pub(crate) gr: GroupResource,
    /// The object's namespace, if namespaced.
    pub(crate) namespace: Option<String>,
    /// The object's name.
    pub(crate) name: String,
    /// The object after the change (before it, for a delete), without kind and apiVersion.
    pub(crate) json: Bytes,
    /// Its labels.
    pub(crate) labels: Labels,
    /// Its labels before a modification or delete, so a watch can tell when it enters or
    /// leaves a selector.
    pub(crate) prev_labels: Option<Labels>,
    /// The object before a modification or delete, so a continued list can show the state it
    /// started from.
    pub(crate) prev_json: Option<Bytes>,
}

/// Where events go: recent history plus live subscribers.
#[derive(Debug)]
pub(crate) struct Hub {
    history: VecDeque<Arc<Event>>,
    sender: broadcast::Sender<Arc<Event>>,
    /// The resourceVersion up to which history is complete (nothing older can be replayed).
    floor: u64,
}

impl Hub {
    /// A hub whose history starts at `rv`.
    pub(crate) fn new(rv: u64) -> Self {
        let (sender, _) = broadcast::channel(4096);
        Self {
            history: VecDeque::new(),
            sender,
            floor: rv,
        }
    }

    /// Records an event and hands it to live watches.
    pub(crate) fn publish(&mut self, event: Event) {
        let event = Arc::new(event);
        if self.history.len() == HISTORY
            && let Some(dropped) = self.history.pop_front()
        {
            self.floor = dropped.rv;
        }
        self.history.push_back(Arc::clone(&event));
        // No live watch is not an error.
        let _ = self.sender.send(event);
    }

    /// A live subscription; take it under the same lock as the replay so nothing falls between.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.sender.subscribe()
    }

    /// Events after `rv`, or the oldest resourceVersion still replayable when `rv` is too old.
    pub(crate) fn since(&self, rv: u64) -> Result<Vec<Arc<Event>>, u64> {
        if rv < self.floor {
            return Err(self.floor + 1);
        }
        Ok(self
            .history
            .iter()
            .filter(|event| event.rv > rv)
            .cloned()
            .collect())
    }
}

/// Which events a watch wants and how it writes them.
#[derive(Debug, Clone)]
pub(crate) struct WatchSpec {
    /// The resource at the version the client asked for.
    pub(crate) def: Arc<ResourceDef>,
    /// Only this namespace, if given.
    pub(crate) namespace: Option<String>,
    /// Label selector.
    pub(crate) labels: LabelSelector,
    /// Field selector.
    pub(crate) fields: FieldSelector,
    /// Whether to send bookmarks.
    pub(crate) bookmarks: bool,
    /// When to end the stream.
    pub(crate) timeout: Duration,
}

impl WatchSpec {
    fn fields_match(&self, namespace: Option<&str>, name: &str, json: &[u8]) -> bool {
        if self.fields.is_empty() {
            return true;
        }
        let object: Option<Value> = if self.fields.needs_object() {
            serde_json::from_slice(json).ok()
        } else {
            None
        };
        self.fields.matches(|field| match field {
            "metadata.name" => name.to_owned(),
            "metadata.namespace" => namespace.unwrap_or_default().to_owned(),
            other => object
                .as_ref()
                .map(|o| field_value(o, other))
                .unwrap_or_default(),
        })
    }

    /// Whether an object is selected at all.
    pub(crate) fn selects(
        &self,
        namespace: Option<&str>,
        name: &str,
        labels: &Labels,
        json: &[u8],
    ) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| namespace == Some(ns))
            && self.labels.matches(labels)
            && self.fields_match(namespace, name, json)
    }

    /// The line an event becomes for this watch, if it sees it. A modification that moves an
    /// object into or out of the selector is an ADDED or DELETED, as the API server sends it.
    pub(crate) fn line_for(&self, event: &Event) -> Option<Vec<u8>> {
        if event.gr != self.def.group_resource() {
            return None;
        }
        if !self.selects(
            event.namespace.as_deref(),
            &event.name,
            &event.labels,
            &event.json,
        ) {
            let was_selected = event.event_type == EventType::Modified
                && event.prev_labels.as_ref().is_some_and(|prev| {
                    self.namespace
                        .as_deref()
                        .is_none_or(|ns| event.namespace.as_deref() == Some(ns))
                        && self.labels.matches(prev)
                        && self.fields_match(event.namespace.as_deref(), &event.name, &event.json)
                });
            return was_selected.then(|| self.line(EventType::Deleted, &event.json));
        }
        let event_type = match (event.event_type, &event.prev_labels) {
            (EventType::Modified, Some(prev)) if !self.labels.matches(prev) => EventType::Added,
            (other, _) => other,
        };
        Some(self.line(event_type, &event.json))
    }

    /// One event line for an object.
    pub(crate) fn line(&self, event_type: EventType, json: &[u8]) -> Vec<u8> {
        let object = with_type(&self.def.kind, &self.def.api_version(), json);
        let mut line = Vec::with_capacity(object.len() + 32);
        line.extend_from_slice(b"{\"type\":\"");
        line.extend_from_slice(event_type.name().as_bytes());
        line.extend_from_slice(b"\",\"object\":");
        line.extend_from_slice(&object);
        line.extend_from_slice(b"}\n");
        line
    }

    /// A BOOKMARK line at `rv`; `initial_events_end` marks the end of `sendInitialEvents`.
    pub(crate) fn bookmark(&self, rv: u64, initial_events_end: bool) -> Vec<u8> {
        let mut metadata = serde_json::Map::new();
        metadata.insert("resourceVersion".into(), rv.to_string().into());
        if !self.def.custom {
            // Built-in objects always carry this field, null when unset.
            metadata.insert("creationTimestamp".into(), Value::Null);
        }
        if initial_events_end {
            metadata.insert(
                "annotations".into(),
                serde_json::json!({"k8s.io/initial-events-end": "true"}),
            );
        }
        let object = serde_json::json!({
            "kind": self.def.kind,
            "apiVersion": self.def.api_version(),
            "metadata": metadata,
        });
        let mut line = format!("{{\"type\":\"BOOKMARK\",\"object\":{object}}}").into_bytes();
        line.push(b'\n');
        line
    }
}

/// Something the stream task needs from the server while it runs.
pub(crate) trait Source: Send + Sync + 'static {
    /// The server's current resourceVersion.
    fn current_rv(&self) -> u64;
}

/// Runs one watch: writes the first lines, then live events, bookmarks, and stops at the
/// timeout, at shutdown, when the client goes away, or when it falls too far behind (the
/// client then resumes from its last resourceVersion, like after any dropped watch).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run(
    spec: WatchSpec,
    first_lines: Vec<Vec<u8>>,
    mut last_rv: u64,
    mut events: broadcast::Receiver<Arc<Event>>,
    source: Arc<dyn Source>,
    out: mpsc::Sender<Bytes>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    for line in first_lines {
        if out.send(Bytes::from(line)).await.is_err() {
            return;
        }
    }
    let deadline = tokio::time::Instant::now() + spec.timeout;
    let mut ticker =
        tokio::time::interval_at(tokio::time::Instant::now() + BOOKMARK_EVERY, BOOKMARK_EVERY);
    loop {
        tokio::select! {
            received = events.recv() => match received {
                Ok(event) => {
                    if event.rv <= last_rv {
                        continue;
                    }
                    last_rv = event.rv;
                    if let Some(line) = spec.line_for(&event)
                        && out.send(Bytes::from(line)).await.is_err() {
                            return;
                        }
                }
                Err(_) => return,
            },
            _ = ticker.tick(), if spec.bookmarks => {
                let current = source.current_rv();
                // Everything up to `current` is already queued for us; pass it on first.
                loop {
                    match events.try_recv() {
                        Ok(event) => {
                            if event.rv <= last_rv {
                                continue;
                            }
                            last_rv = event.rv;
                            if let Some(line) = spec.line_for(&event)
                                && out.send(Bytes::from(line)).await.is_err() {
                                    return;
                                }
                        }
                        Err(broadcast::error::TryRecvError::Empty) => break,
                        Err(_) => return,
                    }
                }
                last_rv = last_rv.max(current);
                if out.send(Bytes::from(spec.bookmark(last_rv, false))).await.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep_until(deadline) => return,
            _ = shutdown.changed() => return,
            _ = out.closed() => return,
        }
    }
}

#[cfg(test)]
mod tests;
