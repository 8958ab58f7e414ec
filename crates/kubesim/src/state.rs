//! The API semantics: create, get, list, replace, patch, delete and watch set-up over the store,
//! with the server-set metadata, per-resource rules (namespaces, Services, CRDs) and events.
//!
//! Everything here is synchronous and runs under the server's one lock; nothing awaits.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::body::Bytes;
use serde_json::{Map, Value, json};
use tokio::sync::broadcast;

use crate::catalog::{Behaviour, Catalog, GroupResource, ResourceDef};
use crate::crds::{self, CrdSpec};
use crate::managed_fields::{self, Writer};
use crate::objects::{self, labels_of, meta_str, metadata_mut, with_type};
use crate::patch::{self, PatchKind};
use crate::persistence::{Journal, Snapshot};
use crate::profiles::Profile;
use crate::scale;
use crate::selectors::{FieldSelector, LabelSelector, extra_selectable_fields, field_value};
use crate::services::{self, Allocators};
use crate::status::{self, ApiError, Cause};
use crate::store::{self, Continue, Entry, Labels, Store};
use crate::time::now_rfc3339;
use crate::watch::{Event, EventType, Hub, WatchSpec};

/// What an operation answers with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reply {
    /// A stored object (without kind/apiVersion), to be framed at the requested version.
    Object(u16, Bytes),
    /// A complete JSON body.
    Json(u16, Vec<u8>),
}

/// Parameters of a list.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListParams {
    /// `labelSelector`.
    pub(crate) labels: LabelSelector,
    /// `fieldSelector`.
    pub(crate) fields: FieldSelector,
    /// `limit`; `None` or 0 lists everything.
    pub(crate) limit: Option<usize>,
    /// `continue`.
    pub(crate) continue_token: Option<String>,
}

/// How a watch begins.
#[derive(Debug)]
pub(crate) struct WatchStart {
    /// Lines to send before live events.
    pub(crate) lines: Vec<Vec<u8>>,
    /// The resourceVersion those lines bring the client to.
    pub(crate) rv: u64,
    /// Live events from then on.
    pub(crate) events: broadcast::Receiver<Arc<Event>>,
}

/// Parameters of a delete.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeleteOptions {
    /// `dryRun=All`.
    pub(crate) dry_run: bool,
    /// `preconditions.uid`.
    pub(crate) uid: Option<String>,
    /// `preconditions.resourceVersion`.
    pub(crate) resource_version: Option<String>,
}

const NAMESPACES: (&str, &str) = ("", "namespaces");

fn namespaces_gr() -> GroupResource {
    GroupResource {
        group: NAMESPACES.0.to_owned(),
        resource: NAMESPACES.1.to_owned(),
    }
}

fn is_namespaces(def: &ResourceDef) -> bool {
    def.group == NAMESPACES.0 && def.plural == NAMESPACES.1
}

fn is_services(def: &ResourceDef) -> bool {
    def.group.is_empty() && def.plural == "services"
}

fn is_crds(def: &ResourceDef) -> bool {
    def.group == "apiextensions.k8s.io" && def.plural == "customresourcedefinitions"
}

fn serialize(value: &Value) -> Bytes {
    // Serializing a Value into memory cannot fail.
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

fn invalid_field(
    def: &ResourceDef,
    name: &str,
    reason: &'static str,
    field: &str,
    message: String,
) -> ApiError {
    ApiError::invalid(
        &def.kind,
        &def.group,
        name,
        &[Cause {
            reason,
            message,
            field: field.to_owned(),
        }],
    )
}

/// The whole server state behind the lock.
#[derive(Debug)]
pub(crate) struct State {
    catalog: Arc<Catalog>,
    store: Store,
    crds: BTreeMap<String, CrdSpec>,
    services: Allocators,
    hub: Hub,
    journal: Option<Journal>,
    token: String,
    /// For custom resources: the version each object was last written at (its storage version
    /// then), by store key. Not journaled: after a restart every object counts as stored at
    /// its CRD's storage version.
    stored_at: HashMap<GroupResource, HashMap<String, String>>,
    /// The PEM of the server's certificate: the cluster CA every namespace's
    /// `kube-root-ca.crt` publishes.
    root_ca: String,
}

/// The annotation kube-controller-manager's root-CA publisher puts on `kube-root-ca.crt`.
const ROOT_CA_DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the \
    kube-apiserver when using internal endpoints such as the internal service IP or \
    kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes \
    clusters.";

impl State {
    /// A state holding `snapshot` (or, when that is empty, a fresh cluster's objects).
    pub(crate) fn new(
        profile: Profile,
        node_port_range: std::ops::RangeInclusive<u16>,
        token: String,
        root_ca: String,
        snapshot: Snapshot,
        journal: Option<Journal>,
    ) -> Self {
        let mut store = Store::default();
        store.advance_rv(snapshot.rv);
        let mut services = Allocators::new(node_port_range);
        let mut crds = BTreeMap::new();
        // A data directory that was ever used keeps its counter, even with every object deleted.
        let fresh = snapshot.objects.is_empty() && snapshot.rv == 0;
        for loaded in snapshot.objects {
            let value: Value = serde_json::from_slice(&loaded.json).unwrap_or(Value::Null);
            if loaded.gr.group.is_empty() && loaded.gr.resource == "services" {
                services.take_all(&value);
            }
            if loaded.gr.group == "apiextensions.k8s.io"
                && loaded.gr.resource == "customresourcedefinitions"
                && let Ok(spec) = CrdSpec::parse(&value)
            {
                crds.insert(spec.name.clone(), spec);
            }
            store.advance_rv(loaded.rv);
            let entry = Entry {
                rv: loaded.rv,
                labels: Arc::new(labels_of(&value)),
                json: loaded.json,
            };
            store.put(&loaded.gr, loaded.key, entry);
        }
        let catalog = Arc::new(Catalog::new(
            profile,
            &crds.values().cloned().collect::<Vec<_>>(),
        ));
        let hub = Hub::new(store.resource_version());
        let mut state = Self {
            catalog,
            store,
            crds,
            services,
            hub,
            journal,
            token,
            stored_at: HashMap::new(),
            root_ca,
        };
        if fresh {
            state.seed();
        }
        state
    }

    /// What a fresh cluster has that godwit looks at: the four namespaces (each with what
    /// [`State::populate_namespace`] adds), one node (whose status the seed writes, standing in
    /// for its kubelet) and the `kubernetes` Service.
    fn seed(&mut self) {
        let node_status = json!({
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubesim node is always ready"}],
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"},
                          {"type": "Hostname", "address": "kubesim-node"}],
            "nodeInfo": {"kubeletVersion": format!("v1.{}.0", self.catalog.profile().minor()),
                         "operatingSystem": "linux", "architecture": "amd64"},
        });
        let mut seeds: Vec<(&str, Option<&str>, Value)> =
            ["default", "kube-system", "kube-public", "kube-node-lease"]
                .into_iter()
                .map(|name| ("namespaces", None, json!({"metadata": {"name": name}})))
                .collect();
        seeds.push((
            "nodes",
            None,
            json!({"metadata": {"name": "kubesim-node", "labels": {
                "kubernetes.io/hostname": "kubesim-node",
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/control-plane": "",
            }}}),
        ));
        seeds.push((
            "services",
            Some("default"),
            json!({
                "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
                "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]},
            }),
        ));
        for (plural, namespace, body) in seeds {
            let Some(def) = self.catalog.find("", "v1", plural) else {
                continue;
            };
            let name = meta_str(&body, "name").to_owned();
            // A fresh store has none of these, so the writes cannot fail.
            let _ = self.create(&def, namespace, body, "kube-apiserver", false);
            if plural == "nodes" {
                let status = json!({"status": node_status.clone()});
                let _ = self.patch(
                    &def,
                    None,
                    &name,
                    PatchKind::Merge,
                    status,
                    Some("status"),
                    "kubelet",
                    false,
                );
            }
        }
    }

    /// What kube-controller-manager keeps in every namespace of a real cluster, made with the
    /// namespace as its controllers would a moment later: the `default` ServiceAccount (the
    /// serviceaccount controller's create sets no field, so it has no managedFields) and the
    /// `kube-root-ca.crt` ConfigMap (the root-CA publisher's, holding the cluster's CA).
    fn populate_namespace(&mut self, namespace: &str) {
        let controller = "kube-controller-manager";
        if let Some(def) = self.catalog.find("", "v1", "serviceaccounts") {
            // A fresh namespace has neither, so these creates cannot fail.
            let _ = self.create(
                &def,
                Some(namespace),
                json!({"metadata": {"name": "default"}}),
                controller,
                false,
            );
        }
        if let Some(def) = self.catalog.find("", "v1", "configmaps") {
            let body = json!({
                "metadata": {
                    "name": "kube-root-ca.crt",
                    "annotations": {"kubernetes.io/description": ROOT_CA_DESCRIPTION},
                },
                "data": {"ca.crt": self.root_ca},
            });
            let _ = self.create(&def, Some(namespace), body, controller, false);
        }
    }

    /// The catalog of what is served right now.
    pub(crate) fn catalog(&self) -> Arc<Catalog> {
        Arc::clone(&self.catalog)
    }

    /// The current resourceVersion.
    pub(crate) fn resource_version(&self) -> u64 {
        self.store.resource_version()
    }

    /// Flushes and closes persistence.
    pub(crate) fn close_journal(&mut self) {
        if let Some(journal) = self.journal.take() {
            journal.close();
        }
    }

    fn rebuild_catalog(&mut self) {
        let specs: Vec<CrdSpec> = self.crds.values().cloned().collect();
        self.catalog = Arc::new(Catalog::new(self.catalog.profile(), &specs));
    }

    /// Stores an object at `rv`, journals it and tells watches.
    #[allow(clippy::too_many_arguments)]
    fn commit(
        &mut self,
        gr: &GroupResource,
        namespace: Option<&str>,
        name: &str,
        rv: u64,
        value: &Value,
        event_type: EventType,
        prev: Option<&Entry>,
    ) -> Bytes {
        let json = serialize(value);
        let labels: Labels = Arc::new(labels_of(value));
        let key = store::key(namespace, name);
        if let Some(journal) = &self.journal {
            journal.put(rv, gr, &key, &json);
        }
        self.store.put(
            gr,
            key,
            Entry {
                rv,
                json: json.clone(),
                labels: Arc::clone(&labels),
            },
        );
        self.hub.publish(Event {
            rv,
            event_type,
            gr: gr.clone(),
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
            json: json.clone(),
            labels,
            prev_labels: prev.map(|p| Arc::clone(&p.labels)),
            prev_json: prev.map(|p| p.json.clone()),
        });
        json
    }

    /// Records that a custom object was just written at its CRD's storage version.
    fn record_stored_at(&mut self, def: &ResourceDef, namespace: Option<&str>, name: &str) {
        if def.custom {
            self.stored_at
                .entry(def.group_resource())
                .or_default()
                .insert(store::key(namespace, name), def.storage_version.clone());
        }
    }

    /// The version a custom object is stored at, when it is not its CRD's storage version.
    fn stored_elsewhere(&self, def: &ResourceDef, key: &str) -> Option<&str> {
        let stored = self.stored_at.get(&def.group_resource())?.get(key)?;
        (def.custom && *stored != def.storage_version).then_some(stored.as_str())
    }

    /// The version a custom object is stored at when its CRD no longer lists it in
    /// `spec.versions`: the API server cannot decode such an object.
    fn undecodable(&self, def: &ResourceDef, key: &str) -> Option<&str> {
        let stored = self.stored_elsewhere(def, key)?;
        let spec = self.crds.get(&format!("{}.{}", def.plural, def.group))?;
        (!spec.versions.iter().any(|v| v.name == stored)).then_some(stored)
    }

    /// Removes an object for good at a new resourceVersion; returns it as deleted.
    fn remove(&mut self, gr: &GroupResource, namespace: Option<&str>, name: &str) -> Option<Bytes> {
        let key = store::key(namespace, name);
        let entry = self.store.remove(gr, &key)?;
        if let Some(table) = self.stored_at.get_mut(gr) {
            table.remove(&key);
        }
        let rv = self.store.next_rv();
        let mut value = entry.value();
        if gr.group.is_empty() && gr.resource == "services" {
            self.services.release_all(&value);
        }
        if let Some(meta) = metadata_mut(&mut value) {
            meta.insert("resourceVersion".into(), rv.to_string().into());
        }
        let json = serialize(&value);
        if let Some(journal) = &self.journal {
            journal.delete(rv, gr, &key);
        }
        self.hub.publish(Event {
            rv,
            event_type: EventType::Deleted,
            gr: gr.clone(),
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
            json: json.clone(),
            prev_labels: Some(Arc::clone(&entry.labels)),
            prev_json: Some(entry.json.clone()),
            labels: entry.labels,
        });
        Some(json)
    }

    /// Checks `kind` and `apiVersion` of a request body against the resource and strips them.
    fn take_body(def: &ResourceDef, body: Value) -> Result<Value, ApiError> {
        let Value::Object(mut map) = body else {
            return Err(ApiError::bad_request(format!(
                "the body of the request could not be decoded as a {} object",
                def.kind
            )));
        };
        let expected_version = def.api_version();
        let api_version = map.remove("apiVersion");
        let kind = map.remove("kind");
        let shown = || Value::Object(map.clone()).to_string();
        match api_version.as_ref().and_then(Value::as_str) {
            Some(given) if !given.is_empty() && given != expected_version => {
                return Err(ApiError::bad_request(format!(
                    "the API version in the data ({given}) does not match the expected API version ({expected_version})"
                )));
            }
            None if def.custom => {
                return Err(ApiError::bad_request(format!(
                    "Object 'apiVersion' is missing in '{}'",
                    shown()
                )));
            }
            _ => {}
        }
        match kind.as_ref().and_then(Value::as_str) {
            Some(given) if !given.is_empty() && given != def.kind => {
                return Err(ApiError::bad_request(format!(
                    "the kind in the data ({given}) does not match the expected kind ({})",
                    def.kind
                )));
            }
            None if def.custom => {
                return Err(ApiError::bad_request(format!(
                    "Object 'Kind' is missing in '{}'",
                    shown()
                )));
            }
            _ => {}
        }
        if !matches!(map.get("metadata"), None | Some(Value::Object(_))) {
            return Err(ApiError::bad_request("metadata must be an object"));
        }
        Ok(Value::Object(map))
    }

    /// Creates an object.
    pub(crate) fn create(
        &mut self,
        def: &Arc<ResourceDef>,
        namespace: Option<&str>,
        body: Value,
        manager: &str,
        dry_run: bool,
    ) -> Result<Reply, ApiError> {
        match def.behaviour {
            Behaviour::Review => return Ok(self.review(def, body)),
            Behaviour::Empty => return Err(ApiError::method_not_allowed()),
            Behaviour::Stored => {}
        }
        let gr = def.group_resource();
        let mut value = Self::take_body(def, body)?;
        let namespace = if def.namespaced { namespace } else { None };
        let body_namespace = meta_str(&value, "namespace").to_owned();
        if let Some(ns) = namespace
            && !body_namespace.is_empty()
            && body_namespace != ns
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let mut name = meta_str(&value, "name").to_owned();
        let generate_name = meta_str(&value, "generateName").to_owned();
        if name.is_empty() {
            if generate_name.is_empty() {
                return Err(invalid_field(
                    def,
                    "",
                    "FieldValueRequired",
                    "metadata.name",
                    "Required value: name or generateName is required".to_owned(),
                ));
            }
            name = (0..8)
                .map(|_| format!("{generate_name}{}", objects::generated_suffix()))
                .find(|candidate| {
                    self.store
                        .get(&gr, &store::key(namespace, candidate))
                        .is_none()
                })
                .unwrap_or_else(|| format!("{generate_name}{}", objects::generated_suffix()));
        }
        let name_problem = if is_namespaces(def) {
            objects::dns_label_problem(&name)
        } else {
            objects::path_segment_problem(&name)
        };
        if let Some(problem) = name_problem {
            return Err(invalid_field(
                def,
                &name,
                "FieldValueInvalid",
                "metadata.name",
                format!("Invalid value: {name:?}: {problem}"),
            ));
        }
        if let Some(ns) = namespace
            && self.store.get(&namespaces_gr(), ns).is_none()
        {
            return Err(ApiError::not_found(&namespaces_gr(), ns));
        }
        if self.store.get(&gr, &store::key(namespace, &name)).is_some() {
            return Err(ApiError::already_exists(&gr, &name));
        }

        let now = now_rfc3339();
        if let Some(meta) = metadata_mut(&mut value) {
            meta.insert("name".into(), name.clone().into());
            match namespace {
                Some(ns) => meta.insert("namespace".into(), ns.into()),
                None => meta.remove("namespace"),
            };
            for server_owned in [
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "selfLink",
                "resourceVersion",
            ] {
                meta.remove(server_owned);
            }
            meta.insert("uid".into(), uuid::Uuid::new_v4().to_string().into());
            meta.insert("creationTimestamp".into(), now.clone().into());
            if def.generation {
                meta.insert("generation".into(), 1.into());
            } else {
                meta.remove("generation");
            }
        }
        self.initial_status(def, &mut value);

        // Defaults the API server applies while decoding are recorded as the writer's fields;
        // what its registry sets afterwards (allocations, finalizers, status) is not.
        if is_namespaces(def) {
            label_namespace(&mut value, &name);
        } else if is_services(def) {
            services::defaults(&mut value)?;
        } else if is_crds(def) {
            crds::apply_defaults(&mut value);
        }
        let writer = Writer {
            manager,
            api_version: &def.api_version(),
            subresource: None,
            now: &now,
        };
        let skip = def.has_status().then_some("status");
        managed_fields::record(None, &mut value, &writer, def.custom, None, skip);

        let mut crd_spec = None;
        if is_namespaces(def) {
            prepare_namespace(&mut value, &name);
        } else if is_crds(def) {
            let spec = CrdSpec::parse(&value)
                .map_err(|causes| ApiError::invalid(&def.kind, &def.group, &name, &causes))?;
            if let Some(object) = value.as_object_mut() {
                object.insert("status".into(), crds::initial_status(&spec));
            }
            crd_spec = Some(spec);
        } else if is_services(def) {
            self.services.create(&mut value, dry_run)?;
        }

        if dry_run {
            return Ok(Reply::Object(201, serialize(&value)));
        }
        let rv = self.store.next_rv();
        if let Some(meta) = metadata_mut(&mut value) {
            meta.insert("resourceVersion".into(), rv.to_string().into());
        }
        let json = self.commit(&gr, namespace, &name, rv, &value, EventType::Added, None);
        self.record_stored_at(def, namespace, &name);

        if let Some(spec) = crd_spec {
            // The API server's naming and establishing controllers follow right away.
            self.crds.insert(spec.name.clone(), spec.clone());
            self.rebuild_catalog();
            let before = value.clone();
            crds::establish(&mut value, &spec, &now);
            let controller = Writer {
                manager: "kube-apiserver",
                api_version: &def.api_version(),
                subresource: Some("status"),
                now: &now,
            };
            managed_fields::record(
                Some(&before),
                &mut value,
                &controller,
                false,
                Some("status"),
                None,
            );
            let before = self.store.get(&gr, &name).cloned();
            let rv = self.store.next_rv();
            if let Some(meta) = metadata_mut(&mut value) {
                meta.insert("resourceVersion".into(), rv.to_string().into());
            }
            self.commit(
                &gr,
                None,
                &name,
                rv,
                &value,
                EventType::Modified,
                before.as_ref(),
            );
        }
        if is_namespaces(def) {
            self.populate_namespace(&name);
        }
        Ok(Reply::Object(201, json))
    }

    /// The status an object starts with: none for custom resources with a status subresource,
    /// an empty or initial one for built-ins with one, whatever was sent otherwise.
    fn initial_status(&self, def: &ResourceDef, value: &mut Value) {
        if !def.has_status() {
            return;
        }
        let Some(object) = value.as_object_mut() else {
            return;
        };
        if def.custom {
            object.remove("status");
            return;
        }
        let status = match (def.group.as_str(), def.plural.as_str()) {
            ("", "namespaces") => json!({"phase": "Active"}),
            ("", "services") => services::initial_status(),
            ("", "pods" | "persistentvolumes" | "persistentvolumeclaims") => {
                json!({"phase": "Pending"})
            }
            ("apiextensions.k8s.io", "customresourcedefinitions") => json!({}),
            _ => json!({}),
        };
        object.insert("status".into(), status);
    }

    /// Answers a create of a review resource (access reviews, token reviews, bindings).
    fn review(&self, def: &ResourceDef, body: Value) -> Reply {
        if def.kind == "Binding" {
            let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201});
            return Reply::Json(201, body.to_string().into_bytes());
        }
        let mut value = match body {
            Value::Object(map) => Value::Object(map),
            _ => json!({}),
        };
        let status = match def.kind.as_str() {
            "TokenReview" => {
                let token = value
                    .pointer("/spec/token")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if token == self.token {
                    json!({"authenticated": true, "user": {"username": "kubesim", "groups": ["system:masters", "system:authenticated"]}})
                } else {
                    json!({"user": {}, "error": "invalid bearer token"})
                }
            }
            "SelfSubjectReview" => {
                json!({"userInfo": {"username": "kubesim", "groups": ["system:masters", "system:authenticated"]}})
            }
            "SelfSubjectRulesReview" => json!({
                "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                "incomplete": false,
            }),
            _ => json!({"allowed": true, "reason": "kubesim allows everything"}),
        };
        if let Some(object) = value.as_object_mut() {
            object.remove("kind");
            object.remove("apiVersion");
            object.insert("status".into(), status);
            let meta = object.entry("metadata").or_insert_with(|| json!({}));
            if let Some(meta) = meta.as_object_mut() {
                meta.entry("creationTimestamp").or_insert(Value::Null);
            }
        }
        Reply::Object(201, serialize(&value))
    }

    /// Reads one object.
    pub(crate) fn get(
        &self,
        def: &ResourceDef,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Reply, ApiError> {
        let gr = def.group_resource();
        match def.behaviour {
            Behaviour::Stored => {}
            Behaviour::Review => return Err(ApiError::method_not_allowed()),
            Behaviour::Empty => return Err(ApiError::not_found(&gr, name)),
        }
        let key = store::key(namespace, name);
        if let Some(stored) = self.undecodable(def, &key) {
            return Err(ApiError::undecodable(&def.group, stored));
        }
        self.store
            .get(&gr, &key)
            .map(|entry| Reply::Object(200, entry.json.clone()))
            .ok_or_else(|| ApiError::not_found(&gr, name))
    }

    fn check_fields(def: &ResourceDef, fields: &FieldSelector) -> Result<(), ApiError> {
        let extra = if def.custom {
            &[][..]
        } else {
            extra_selectable_fields(&def.group, &def.plural)
        };
        match fields.requirements.iter().find(|r| {
            r.field != "metadata.name"
                && r.field != "metadata.namespace"
                && !extra.contains(&r.field.as_str())
        }) {
            // Built-in types with no fields of their own to select on answer through the
            // generic metadata-only selector (as kube-apiserver 1.33 and 1.36 do).
            Some(r) if !def.custom && extra.is_empty() => Err(ApiError::bad_request(format!(
                "\"{}\" is not a known field selector: only \"metadata.name\", \
                 \"metadata.namespace\"",
                r.field
            ))),
            Some(r) => Err(ApiError::bad_request(format!(
                "field label not supported: {}",
                r.field
            ))),
            None => Ok(()),
        }
    }

    fn selected(
        params: &ListParams,
        namespace: Option<&str>,
        key: &str,
        labels: &Labels,
        json: &[u8],
    ) -> bool {
        if !params.labels.matches(labels) {
            return false;
        }
        if params.fields.is_empty() {
            return true;
        }
        let (ns, name) = match key.split_once('/') {
            Some((ns, name)) => (ns, name),
            None => (namespace.unwrap_or_default(), key),
        };
        let object: Option<Value> = if params.fields.needs_object() {
            serde_json::from_slice(json).ok()
        } else {
            None
        };
        params.fields.matches(|field| match field {
            "metadata.name" | "name" => name.to_owned(),
            "metadata.namespace" => ns.to_owned(),
            other => object
                .as_ref()
                .map(|o| field_value(o, other))
                .unwrap_or_default(),
        })
    }

    /// How objects below `prefix` looked at resourceVersion `at`, where that differs from now:
    /// `None` for objects created since, the earlier state for ones changed or deleted since.
    /// `Err` when the history no longer reaches back that far.
    fn changed_since(
        &self,
        gr: &GroupResource,
        prefix: &str,
        at: u64,
    ) -> Result<BTreeMap<String, Option<(Bytes, Labels)>>, ()> {
        let mut changed = BTreeMap::new();
        if at >= self.store.resource_version() {
            return Ok(changed);
        }
        for event in self.hub.since(at).map_err(|_| ())? {
            if &event.gr != gr {
                continue;
            }
            let key = store::key(event.namespace.as_deref(), &event.name);
            if !key.starts_with(prefix) {
                continue;
            }
            // The first change after `at` knows what the object was at `at`.
            changed
                .entry(key)
                .or_insert_with(|| match event.event_type {
                    EventType::Added => None,
                    EventType::Modified | EventType::Deleted => {
                        event.prev_json.clone().zip(event.prev_labels.clone())
                    }
                });
        }
        Ok(changed)
    }

    /// Lists objects, one page at a time when a limit is given. Later pages show the objects as
    /// they were when the first page was served, as long as the watch history reaches back.
    pub(crate) fn list(
        &self,
        def: &ResourceDef,
        namespace: Option<&str>,
        params: &ListParams,
    ) -> Result<Vec<u8>, ApiError> {
        if def.behaviour == Behaviour::Review {
            return Err(ApiError::method_not_allowed());
        }
        Self::check_fields(def, &params.fields)?;
        let gr = def.group_resource();
        let prefix = match namespace {
            Some(ns) if def.namespaced => format!("{ns}/"),
            _ => String::new(),
        };
        let (list_rv, start) = match params.continue_token.as_deref().filter(|t| !t.is_empty()) {
            Some(token) => {
                let token = Continue::decode(token).map_err(ApiError::bad_request)?;
                (token.rv, Some(format!("{prefix}{}", token.start)))
            }
            None => (self.store.resource_version(), None),
        };
        let changed = self.changed_since(&gr, &prefix, list_rv).map_err(|()| {
            let relative = start
                .as_deref()
                .and_then(|s| s.strip_prefix(prefix.as_str()))
                .unwrap_or_default();
            ApiError::continue_expired(
                Continue {
                    rv: self.store.resource_version(),
                    start: relative.to_owned(),
                }
                .encode(),
            )
        })?;
        let from = start.clone().unwrap_or_else(|| prefix.clone());
        let mut current = self.store.scan(&gr, &prefix, start.as_deref()).peekable();
        let mut earlier = changed
            .range(from..)
            .take_while(|(k, _)| k.starts_with(prefix.as_str()))
            .peekable();
        // Merge the store with the earlier states, in key order; an earlier state wins.
        let mut view = std::iter::from_fn(move || -> Option<(String, Option<(Bytes, Labels)>)> {
            let take_current = match (current.peek(), earlier.peek()) {
                (None, None) => return None,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((ck, _)), Some((ek, _))) => {
                    if *ck == *ek {
                        current.next();
                        false
                    } else {
                        ck.as_str() < ek.as_str()
                    }
                }
            };
            if take_current {
                current
                    .next()
                    .map(|(k, e)| (k.clone(), Some((e.json.clone(), Arc::clone(&e.labels)))))
            } else {
                earlier.next().map(|(k, state)| (k.clone(), state.clone()))
            }
        })
        .filter_map(|(key, state)| state.map(|(json, labels)| (key, json, labels)))
        .peekable();
        let limit = params.limit.filter(|l| *l > 0);
        let mut items: Vec<Bytes> = Vec::new();
        let mut last_key: Option<String> = None;
        if def.behaviour == Behaviour::Stored {
            for (key, json, labels) in view.by_ref() {
                if !Self::selected(params, namespace, &key, &labels, &json) {
                    continue;
                }
                if let Some(stored) = self.undecodable(def, &key) {
                    // Unpaged lists come from the watch cache, which cannot fill; pages come
                    // from storage, which fails on the object.
                    return Err(match limit {
                        None => ApiError::storage_initializing(
                            &def.group,
                            &def.storage_version,
                            &def.kind,
                            stored,
                        ),
                        Some(_) => ApiError::undecodable(&def.group, stored),
                    });
                }
                items.push(json);
                last_key = Some(key);
                if limit.is_some_and(|l| items.len() >= l) {
                    break;
                }
            }
        }
        let more = limit.is_some_and(|l| items.len() >= l) && view.peek().is_some();
        let mut metadata = Map::new();
        metadata.insert("resourceVersion".into(), list_rv.to_string().into());
        if let (true, Some(last)) = (more, last_key.as_deref()) {
            let relative = last.strip_prefix(prefix.as_str()).unwrap_or(last);
            metadata.insert(
                "continue".into(),
                Continue::after(list_rv, relative).encode().into(),
            );
            if params.labels.is_empty() && params.fields.is_empty() {
                metadata.insert("remainingItemCount".into(), view.count().into());
            }
        }
        let api_version = def.api_version();
        let mut out = Vec::with_capacity(64 + items.iter().map(|i| i.len() + 48).sum::<usize>());
        out.extend_from_slice(
            format!(
                "{{\"kind\":{},\"apiVersion\":{},\"metadata\":{},\"items\":[",
                Value::from(def.list_kind.as_str()),
                Value::from(api_version.as_str()),
                Value::Object(metadata)
            )
            .as_bytes(),
        );
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            if def.custom {
                // Custom resources keep kind and apiVersion in list items; built-ins do not.
                out.extend_from_slice(&with_type(&def.kind, &api_version, item));
            } else {
                out.extend_from_slice(item);
            }
        }
        out.extend_from_slice(b"]}");
        Ok(out)
    }

    fn existing(
        &self,
        def: &ResourceDef,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Entry, ApiError> {
        let gr = def.group_resource();
        match def.behaviour {
            Behaviour::Stored => {}
            _ => return Err(ApiError::method_not_allowed()),
        }
        let key = store::key(namespace, name);
        if let Some(stored) = self.undecodable(def, &key) {
            return Err(ApiError::undecodable(&def.group, stored));
        }
        self.store
            .get(&gr, &key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(&gr, name))
    }

    /// Replaces an object (or its status, with `subresource` = `status`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn update(
        &mut self,
        def: &Arc<ResourceDef>,
        namespace: Option<&str>,
        name: &str,
        body: Value,
        subresource: Option<&str>,
        manager: &str,
        dry_run: bool,
    ) -> Result<Reply, ApiError> {
        let value = Self::take_body(def, body)?;
        let body_name = meta_str(&value, "name");
        if !body_name.is_empty() && body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let body_namespace = meta_str(&value, "namespace");
        if let Some(ns) = namespace.filter(|_| def.namespaced)
            && !body_namespace.is_empty()
            && body_namespace != ns
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let entry = self.existing(def, namespace, name)?;
        self.apply_update(
            def,
            namespace,
            name,
            &entry,
            value,
            subresource,
            manager,
            dry_run,
        )
    }

    /// Patches an object (or its status).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn patch(
        &mut self,
        def: &Arc<ResourceDef>,
        namespace: Option<&str>,
        name: &str,
        kind: PatchKind,
        patch_body: Value,
        subresource: Option<&str>,
        manager: &str,
        dry_run: bool,
    ) -> Result<Reply, ApiError> {
        let entry = self.existing(def, namespace, name)?;
        let mut current = entry.value();
        if let Some(object) = current.as_object_mut() {
            object.insert("kind".into(), def.kind.clone().into());
            object.insert("apiVersion".into(), def.api_version().into());
        }
        let patched = patch::apply(kind, &current, &patch_body).map_err(|message| match kind {
            PatchKind::Json => ApiError::unprocessable(message),
            _ => ApiError::bad_request(message),
        })?;
        let mut patched = match patched {
            Value::Object(mut map) => {
                map.remove("kind");
                map.remove("apiVersion");
                Value::Object(map)
            }
            _ => return Err(ApiError::bad_request("the patch did not leave an object")),
        };
        if let Some(meta) = metadata_mut(&mut patched) {
            meta.insert("name".into(), name.into());
            if let Some(ns) = namespace.filter(|_| def.namespaced) {
                meta.insert("namespace".into(), ns.into());
            }
        }
        self.apply_update(
            def,
            namespace,
            name,
            &entry,
            patched,
            subresource,
            manager,
            dry_run,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_update(
        &mut self,
        def: &Arc<ResourceDef>,
        namespace: Option<&str>,
        name: &str,
        entry: &Entry,
        mut new: Value,
        subresource: Option<&str>,
        manager: &str,
        dry_run: bool,
    ) -> Result<Reply, ApiError> {
        let gr = def.group_resource();
        let namespace = if def.namespaced { namespace } else { None };
        let given_rv = meta_str(&new, "resourceVersion").to_owned();
        if !given_rv.is_empty() && given_rv != entry.rv.to_string() {
            return Err(ApiError::conflict(&gr, name, ApiError::STALE));
        }
        let old = entry.value();
        match subresource {
            Some("status") => {
                let status = new.get("status").cloned();
                new = old.clone();
                if let Some(object) = new.as_object_mut() {
                    match status {
                        Some(status) => object.insert("status".into(), status),
                        None => object.remove("status"),
                    };
                }
            }
            Some("finalize") => {
                let finalizers = new.pointer("/spec/finalizers").cloned();
                new = old.clone();
                if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
                    match finalizers {
                        Some(f) => spec.insert("finalizers".into(), f),
                        None => spec.remove("finalizers"),
                    };
                }
            }
            _ => {
                if def.has_status()
                    && let Some(object) = new.as_object_mut()
                {
                    match old.get("status") {
                        Some(status) => object.insert("status".into(), status.clone()),
                        None => object.remove("status"),
                    };
                }
            }
        }
        // Server-owned metadata stays as it was.
        let old_meta = old
            .get("metadata")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if let Some(meta) = metadata_mut(&mut new) {
            for field in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "name",
                "namespace",
            ] {
                match old_meta.get(field) {
                    Some(value) => meta.insert(field.into(), value.clone()),
                    None => meta.remove(field),
                };
            }
            meta.remove("selfLink");
            meta.insert("resourceVersion".into(), entry.rv.to_string().into());
            match old_meta.get("generation") {
                Some(generation) => meta.insert("generation".into(), generation.clone()),
                None => meta.remove("generation"),
            };
        }
        if is_namespaces(def) {
            label_namespace(&mut new, name);
        } else if is_services(def) && subresource.is_none() {
            services::defaults(&mut new)?;
        } else if is_crds(def) && subresource.is_none() {
            crds::apply_defaults(&mut new);
        }
        let now = now_rfc3339();
        let api_version = def.api_version();
        let writer = Writer {
            manager,
            api_version: &api_version,
            subresource,
            now: &now,
        };
        let (only, skip) = match subresource {
            Some("status") => (Some("status"), None),
            Some(_) => (Some("spec"), None),
            None => (None, def.has_status().then_some("status")),
        };
        managed_fields::record(Some(&old), &mut new, &writer, def.custom, only, skip);
        let mut crd_spec = None;
        if is_namespaces(def) {
            prepare_namespace(&mut new, name);
        } else if is_crds(def) {
            let spec = CrdSpec::parse(&new)
                .map_err(|causes| ApiError::invalid(&def.kind, &def.group, name, &causes))?;
            if let Some(status) = new
                .as_object_mut()
                .map(|o| o.entry("status").or_insert_with(|| json!({})))
                .and_then(Value::as_object_mut)
            {
                if subresource.is_none() {
                    crds::keep_storage_version_stored(status, &spec);
                    let causes = crds::stored_versions_problems(status, &spec);
                    if !causes.is_empty() {
                        return Err(ApiError::invalid(&def.kind, &def.group, name, &causes));
                    }
                } else {
                    crds::default_stored_versions(status, &spec);
                }
            }
            crd_spec = Some(spec);
        }
        if def.generation && objects::content_changed(&old, &new, !def.has_status()) {
            let generation = old_meta
                .get("generation")
                .and_then(Value::as_i64)
                .unwrap_or(0)
                + 1;
            if let Some(meta) = metadata_mut(&mut new) {
                meta.insert("generation".into(), generation.into());
            }
        }
        // An unchanged write is skipped, unless the object is stored at another version than
        // today's storage version: the bytes etcd would hold differ, so the server writes.
        let key = store::key(namespace, name);
        if new == old && self.stored_elsewhere(def, &key).is_none() {
            return Ok(Reply::Object(200, entry.json.clone()));
        }
        if is_services(def) && subresource.is_none() {
            self.services.update(&old, &mut new, dry_run)?;
        }
        if dry_run {
            return Ok(Reply::Object(200, serialize(&new)));
        }
        let finished = new.pointer("/metadata/deletionTimestamp").is_some()
            && new
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty);
        if finished {
            // The last finalizer is gone from an object being deleted: it goes now.
            let rv = self.store.next_rv();
            if let Some(meta) = metadata_mut(&mut new) {
                meta.insert("resourceVersion".into(), rv.to_string().into());
            }
            self.commit(
                &gr,
                namespace,
                name,
                rv,
                &new,
                EventType::Modified,
                Some(entry),
            );
            let json = self.remove(&gr, namespace, name).unwrap_or_default();
            return Ok(Reply::Object(200, json));
        }
        let rv = self.store.next_rv();
        if let Some(meta) = metadata_mut(&mut new) {
            meta.insert("resourceVersion".into(), rv.to_string().into());
        }
        let json = self.commit(
            &gr,
            namespace,
            name,
            rv,
            &new,
            EventType::Modified,
            Some(entry),
        );
        self.record_stored_at(def, namespace, name);
        if let Some(spec) = crd_spec {
            self.crds.insert(spec.name.clone(), spec);
            self.rebuild_catalog();
        }
        Ok(Reply::Object(200, json))
    }

    /// Reads or changes the `scale` subresource; `change` is a patch or a whole Scale.
    pub(crate) fn scale(
        &mut self,
        def: &Arc<ResourceDef>,
        namespace: Option<&str>,
        name: &str,
        change: Option<(Option<PatchKind>, Value)>,
        manager: &str,
        dry_run: bool,
    ) -> Result<Reply, ApiError> {
        let entry = self.existing(def, namespace, name)?;
        let current = scale::scale_of(&entry.value());
        let Some((kind, body)) = change else {
            return Ok(Reply::Json(200, current.to_string().into_bytes()));
        };
        let wanted = match kind {
            Some(kind) => patch::apply(kind, &current, &body).map_err(ApiError::bad_request)?,
            None => body,
        };
        let given_rv = wanted
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !given_rv.is_empty() && given_rv != entry.rv.to_string() {
            return Err(ApiError::conflict(
                &def.group_resource(),
                name,
                ApiError::STALE,
            ));
        }
        let replicas = scale::wanted_replicas(&wanted).map_err(|message| {
            ApiError::invalid(
                "Scale",
                "autoscaling",
                name,
                &[Cause {
                    reason: "FieldValueInvalid",
                    message,
                    field: "spec.replicas".to_owned(),
                }],
            )
        })?;
        let mut workload = entry.value();
        if let Some(spec) = workload
            .as_object_mut()
            .map(|o| o.entry("spec").or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut)
        {
            spec.insert("replicas".into(), replicas.into());
        }
        match self.apply_update(
            def,
            namespace,
            name,
            &entry,
            workload,
            Some("scale"),
            manager,
            dry_run,
        )? {
            Reply::Object(code, json) => {
                let updated: Value = serde_json::from_slice(&json).unwrap_or(Value::Null);
                Ok(Reply::Json(
                    code,
                    scale::scale_of(&updated).to_string().into_bytes(),
                ))
            }
            other => Ok(other),
        }
    }

    /// Deletes an object (a namespace or CRD takes its objects with it).
    pub(crate) fn delete(
        &mut self,
        def: &Arc<ResourceDef>,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<Reply, ApiError> {
        self.delete_object(def, namespace, name, options)
            .map(|(reply, _)| reply)
    }

    /// Deletes an object; answers with the reply and the object as deleted.
    fn delete_object(
        &mut self,
        def: &Arc<ResourceDef>,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<(Reply, Bytes), ApiError> {
        let gr = def.group_resource();
        let namespace = if def.namespaced { namespace } else { None };
        let entry = self.existing(def, namespace, name)?;
        let mut value = entry.value();
        let uid = meta_str(&value, "uid").to_owned();
        if let Some(wanted) = options.uid.as_deref().filter(|u| !u.is_empty())
            && wanted != uid
        {
            return Err(ApiError::conflict(
                &gr,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {wanted}, UID in object meta: {uid}"
                ),
            ));
        }
        if let Some(wanted) = options
            .resource_version
            .as_deref()
            .filter(|r| !r.is_empty())
            && wanted != entry.rv.to_string()
        {
            return Err(ApiError::conflict(
                &gr,
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {wanted}, ResourceVersion in object meta: {}",
                    entry.rv
                ),
            ));
        }
        let deleted_reply = |json: Bytes| {
            let reply = if def.returns_deleted_object {
                Reply::Object(200, json.clone())
            } else {
                Reply::Json(
                    200,
                    status::delete_success(&gr, name, &uid)
                        .to_string()
                        .into_bytes(),
                )
            };
            (reply, json)
        };
        let object_reply = |json: Bytes| (Reply::Object(200, json.clone()), json);
        let now = now_rfc3339();
        if is_namespaces(def) {
            // The reply shows the namespace as the API server does right after the request:
            // terminating. kubesim has no namespace controller, so it is gone at once.
            if let Some(meta) = metadata_mut(&mut value) {
                meta.insert("deletionTimestamp".into(), now.clone().into());
            }
            if let Some(status) = value.get_mut("status").and_then(Value::as_object_mut) {
                status.insert("phase".into(), "Terminating".into());
            }
            if options.dry_run {
                return Ok(object_reply(serialize(&value)));
            }
            let prefix = format!("{name}/");
            for resource in self.store.resources() {
                for key in self.store.keys(&resource, &prefix) {
                    if let Some((ns, object_name)) = key.split_once('/') {
                        self.remove(&resource, Some(ns), object_name);
                    }
                }
            }
            self.remove(&gr, None, name);
            return Ok(object_reply(serialize(&value)));
        }
        let finalizers = value
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        if finalizers && !is_crds(def) {
            if value.pointer("/metadata/deletionTimestamp").is_some() {
                return Ok(object_reply(entry.json.clone()));
            }
            if let Some(meta) = metadata_mut(&mut value) {
                meta.insert("deletionTimestamp".into(), now.into());
                meta.insert("deletionGracePeriodSeconds".into(), 0.into());
                if def.generation {
                    let generation =
                        meta.get("generation").and_then(Value::as_i64).unwrap_or(0) + 1;
                    meta.insert("generation".into(), generation.into());
                }
            }
            if options.dry_run {
                return Ok(object_reply(serialize(&value)));
            }
            let rv = self.store.next_rv();
            if let Some(meta) = metadata_mut(&mut value) {
                meta.insert("resourceVersion".into(), rv.to_string().into());
            }
            let json = self.commit(
                &gr,
                namespace,
                name,
                rv,
                &value,
                EventType::Modified,
                Some(&entry),
            );
            return Ok(object_reply(json));
        }
        if options.dry_run {
            return Ok(deleted_reply(entry.json.clone()));
        }
        if is_crds(def) {
            if let Some(spec) = self.crds.remove(name) {
                let served = GroupResource {
                    group: spec.group.clone(),
                    resource: spec.plural.clone(),
                };
                for key in self.store.keys(&served, "") {
                    match key.split_once('/') {
                        Some((ns, object_name)) => self.remove(&served, Some(ns), object_name),
                        None => self.remove(&served, None, &key),
                    };
                }
                self.rebuild_catalog();
            }
            if let Some(meta) = metadata_mut(&mut value) {
                meta.insert("deletionTimestamp".into(), now.into());
            }
            self.remove(&gr, None, name);
            return Ok(object_reply(serialize(&value)));
        }
        let json = self.remove(&gr, namespace, name).unwrap_or_default();
        Ok(deleted_reply(json))
    }

    /// Deletes every object a list with these parameters would show; answers with them.
    pub(crate) fn delete_collection(
        &mut self,
        def: &Arc<ResourceDef>,
        namespace: Option<&str>,
        params: &ListParams,
        options: &DeleteOptions,
    ) -> Result<Vec<u8>, ApiError> {
        Self::check_fields(def, &params.fields)?;
        let gr = def.group_resource();
        let prefix = match namespace {
            Some(ns) if def.namespaced => format!("{ns}/"),
            _ => String::new(),
        };
        let chosen: Vec<String> = self
            .store
            .scan(&gr, &prefix, None)
            .filter(|(key, entry)| {
                Self::selected(params, namespace, key, &entry.labels, &entry.json)
            })
            .map(|(key, _)| key.clone())
            .collect();
        let mut items = Vec::new();
        for key in chosen {
            let (ns, name) = match key.split_once('/') {
                Some((ns, name)) => (Some(ns.to_owned()), name.to_owned()),
                None => (None, key.clone()),
            };
            let (_, json) = self.delete_object(def, ns.as_deref(), &name, options)?;
            items.push(json);
        }
        let api_version = def.api_version();
        let items: Vec<Value> = items
            .iter()
            .map(|json| {
                serde_json::from_slice::<Value>(&with_type(&def.kind, &api_version, json))
                    .unwrap_or(Value::Null)
            })
            .collect();
        let body = json!({
            "kind": def.list_kind,
            "apiVersion": api_version,
            "metadata": {"resourceVersion": self.store.resource_version().to_string()},
            "items": items,
        });
        Ok(body.to_string().into_bytes())
    }

    /// Sets up a watch: the lines to send first, the resourceVersion they bring the client to,
    /// and the live subscription (taken under this same lock, so no event falls between).
    pub(crate) fn start_watch(
        &self,
        spec: &WatchSpec,
        resource_version: Option<&str>,
        send_initial_events: Option<bool>,
    ) -> Result<WatchStart, ApiError> {
        Self::check_fields(&spec.def, &spec.fields)?;
        let current = self.store.resource_version();
        let from: Option<u64> = match resource_version.filter(|rv| !rv.is_empty() && *rv != "0") {
            Some(text) => Some(text.parse().map_err(|_| {
                ApiError::bad_request(format!("invalid resource version: {text:?}"))
            })?),
            None => None,
        };
        let initial = match send_initial_events {
            Some(wanted) => wanted,
            None => from.is_none(),
        };
        let mut lines = Vec::new();
        if initial {
            let gr = spec.def.group_resource();
            let prefix = match &spec.namespace {
                Some(ns) if spec.def.namespaced => format!("{ns}/"),
                _ => String::new(),
            };
            for (key, entry) in self.store.scan(&gr, &prefix, None) {
                let (ns, name) = match key.split_once('/') {
                    Some((ns, name)) => (Some(ns), name),
                    None => (None, key.as_str()),
                };
                if spec.selects(ns, name, &entry.labels, &entry.json) {
                    lines.push(spec.line(EventType::Added, &entry.json));
                }
            }
            if send_initial_events == Some(true) && spec.bookmarks {
                lines.push(spec.bookmark(current, true));
            }
        } else if let Some(from) = from {
            let events = self
                .hub
                .since(from)
                .map_err(|oldest| ApiError::expired(from, oldest))?;
            lines.extend(events.iter().filter_map(|event| spec.line_for(event)));
        }
        Ok(WatchStart {
            lines,
            rv: current,
            events: self.hub.subscribe(),
        })
    }
}

/// The name label the API server's defaults give every namespace.
fn label_namespace(value: &mut Value, name: &str) {
    if let Some(meta) = metadata_mut(value) {
        let labels = meta.entry("labels").or_insert_with(|| json!({}));
        if !labels.is_object() {
            *labels = json!({});
        }
        if let Some(labels) = labels.as_object_mut() {
            labels.insert("kubernetes.io/metadata.name".into(), name.into());
        }
    }
}

/// The finalizer the API server's namespace registry gives every namespace.
fn prepare_namespace(value: &mut Value, name: &str) {
    label_namespace(value, name);
    if let Some(object) = value.as_object_mut() {
        let spec = object.entry("spec").or_insert_with(|| json!({}));
        if let Some(spec) = spec.as_object_mut() {
            spec.entry("finalizers")
                .or_insert_with(|| json!(["kubernetes"]));
        }
    }
}

#[cfg(test)]
mod tests;
