//! The IO half: runs a backup against a cluster. It validates the spec, reads discovery, plans
//! ([`crate::plan()`]), then lists every selected object page by page (`limit`/`continue`) with a
//! bounded number of lists in flight, and streams the objects through a bounded channel to one
//! blocking task that writes the tarball.
//!
//! Each list runs one page ahead of itself ([`Pages`]): a task fetches page n+1 while page n is
//! parsed and handed on, so the API server and the backup work at the same time rather than in
//! turn. A page is read as the server's bytes and each item parsed once, straight into a
//! `serde_json::Value` (whose keys are sorted, as Go's encoding/json writes a map), which is what
//! the tarball holds; no typed object is built. Object bodies in memory are bounded by
//! `3 x page_size x concurrency + channel_capacity`; what grows with the cluster is only the set
//! of object names (needed for de-duplication and the resource list).
//!
//! After the lists: the objects the built-in actions pull in (a pod's claims and priority class,
//! a claim's volume; see `crate::actions`), then the namespaces that hold backed-up objects (or match the filters) are added,
//! then the CRDs of backed-up custom resources, as Velero does. Objects are stored as the API
//! server returns them (status and metadata kept), with `apiVersion` and `kind` filled in when a
//! list leaves them out, JSON keys sorted as Go writes them, and the claim clean-up of Velero's
//! PVC action. Not done: the service account action, hooks, volume snapshots, plugins.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::stream::{self, StreamExt};
use kube::Resource as _;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::mpsc;

use godwit_discovery::discover;
use godwit_tarball::{BackupWriter, Item, SerializedObject, WriteCounts, WriterOptions};
use godwit_versioning::GroupResource;

use crate::Error;
use crate::actions::{self, Related};
use crate::log::Log;
use crate::outcome::{BackupOutcome, GroupResourceSummary, Phase, Progress, ResourceList, Results};
use crate::plan::{ListJob, PlannedResource, plan};
use crate::selector::LabelSelector;
use crate::spec::{BackupSpec, Selection};

/// The label that keeps an object out of every backup (Velero's).
pub const EXCLUDE_FROM_BACKUP_LABEL: &str = "velero.io/exclude-from-backup";

/// Lists a backup keeps in flight unless told otherwise. `cargo xtask bench` on kube-apiserver
/// 1.36 (two cores), 300 namespaces of eight objects each (33 lists, 4,200 objects): 8 lists
/// took 0.27-0.32 s where 4 took 0.30-0.43 s and a bare client's lists one after another
/// 0.25-0.31 s; one list of 10,000 ConfigMaps is one list either way. Each list holds up to
/// three pages at once.
pub const DEFAULT_LISTS_IN_FLIGHT: usize = 8;

/// How a backup runs (server settings rather than the backup's own spec).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupOptions {
    /// The backup's name: a claim keeps a `velero.io/backup-name` label only with this value.
    pub backup_name: String,
    /// Velero's `EnableAPIGroupVersions` feature: back up every served version of each resource,
    /// not only the preferred one.
    pub enable_api_group_versions: bool,
    /// Objects per list request (`limit`); Velero's `--client-page-size` defaults to 500.
    pub page_size: u32,
    /// Lists in flight at once. Default [`DEFAULT_LISTS_IN_FLIGHT`].
    pub concurrency: usize,
    /// Objects waiting for the tarball writer at most.
    pub channel_capacity: usize,
    /// Tarball entry time and compression.
    pub writer: WriterOptions,
}

impl Default for BackupOptions {
    fn default() -> Self {
        BackupOptions {
            backup_name: String::new(),
            enable_api_group_versions: false,
            page_size: 500,
            concurrency: DEFAULT_LISTS_IN_FLIGHT,
            channel_capacity: 256,
            writer: WriterOptions::default(),
        }
    }
}

/// One object at one version, ready for the writer.
struct Listed {
    list: Arc<ListedAs>,
    kind: String,
    namespace: Option<String>,
    name: String,
    /// The object as it goes into the tarball, serialized by the list task (the writer thread
    /// has gzip to do).
    object: SerializedObject,
}

/// What the objects of one list share.
struct ListedAs {
    group_resource: GroupResource,
    version: String,
    preferred_version: String,
}

/// The writer has stopped; its own error says why.
struct WriterGone;

/// State shared by the list jobs and the writer.
struct Shared {
    log: Log,
    warnings: Mutex<Results>,
    errors: Mutex<Results>,
    namespaces_with_items: Mutex<BTreeSet<String>>,
    group_resources_with_items: Mutex<BTreeSet<GroupResource>>,
    /// Objects pulled in by others, to read after the lists.
    related: Mutex<BTreeSet<Related>>,
    /// Objects handed to the writer (any version) of the group-resources that objects pull in
    /// (`relatable`), so related objects are read only once.
    sent: Mutex<HashSet<Related>>,
    relatable: HashSet<GroupResource>,
    items_listed: AtomicU64,
    items_written: AtomicU64,
    lists_done: AtomicU64,
    lists_total: AtomicU64,
    progress: Box<dyn Fn(Progress) + Send + Sync>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn report(&self) {
        (self.progress)(Progress {
            items_listed: self.items_listed.load(Ordering::Relaxed),
            items_written: self.items_written.load(Ordering::Relaxed),
            lists_done: self.lists_done.load(Ordering::Relaxed),
            lists_total: self.lists_total.load(Ordering::Relaxed),
        });
    }

    fn warn_velero(&self, message: String) {
        self.log.warning(&message);
        lock(&self.warnings).add_velero(message);
    }

    fn fail(&self, namespace: Option<&str>, message: String) {
        self.log.error(&message);
        lock(&self.errors).add(namespace, message);
    }

    fn fail_velero(&self, message: String) {
        self.log.error(&message);
        lock(&self.errors).add_velero(message);
    }
}

/// Runs a backup: validates `spec` (before any request), discovers the cluster, lists every
/// selected object and writes the Velero tarball into `writer`, which is handed back with the
/// outcome (rewind a temp file and upload it). `progress` is called as objects are listed and
/// written, from the backup's tasks.
///
/// Fails only when nothing usable can be produced: an invalid spec, an unreachable cluster, or a
/// tarball that cannot be written. Objects and lists that fail are errors in the outcome, which
/// then ends `PartiallyFailed`.
pub async fn run_backup<W, P>(
    client: &kube::Client,
    spec: &BackupSpec,
    options: &BackupOptions,
    writer: W,
    progress: P,
) -> Result<(W, BackupOutcome), Error>
where
    W: Write + Send + 'static,
    P: Fn(Progress) + Send + Sync + 'static,
{
    let valid = spec.validate()?;
    let shared = Arc::new(Shared {
        log: Log::default(),
        warnings: Mutex::default(),
        errors: Mutex::default(),
        namespaces_with_items: Mutex::default(),
        group_resources_with_items: Mutex::default(),
        related: Mutex::default(),
        sent: Mutex::default(),
        relatable: actions::pulled_in().into_iter().collect(),
        items_listed: AtomicU64::new(0),
        items_written: AtomicU64::new(0),
        lists_done: AtomicU64::new(0),
        lists_total: AtomicU64::new(0),
        progress: Box::new(progress),
    });
    shared.log.info("starting backup");

    let (discovery, problems) = discover(client).await?;
    for problem in problems {
        shared.warn_velero(format!("discovery: {problem}"));
    }
    let (selection, unresolved) = valid.resolve(&discovery)?;
    for warning in unresolved {
        shared.warn_velero(warning);
    }
    let plan = plan(&discovery, &selection, options.enable_api_group_versions);
    log_plan(&shared.log, spec, options, &plan);

    let jobs = plan.jobs(&selection.selectors);
    let final_lists = 1
        + plan.namespaces.as_ref().map_or(0, |n| n.versions.len())
        + usize::from(plan.custom_resource_definitions.is_some());
    shared
        .lists_total
        .store((jobs.len() + final_lists) as u64, Ordering::Relaxed);
    shared.report();

    let (sender, receiver) = mpsc::channel(options.channel_capacity.max(1));
    let tar = BackupWriter::with_options(writer, options.writer)?;
    let writer_shared = Arc::clone(&shared);
    let writer_task =
        tokio::task::spawn_blocking(move || write_items(receiver, tar, &writer_shared));

    let collector = Collector {
        client,
        selection: &selection,
        options,
        shared: &shared,
        sender,
    };
    // Jobs go in by value: a closure that takes `&ListJob` and returns a future borrowing it
    // leaves rustc unable to prove the whole future `Send` (a higher-ranked lifetime check), and
    // the server spawns backups as tasks.
    stream::iter(jobs)
        .map(|job| collector.list_job(&plan.resources[job.resource], job))
        .buffer_unordered(options.concurrency.max(1))
        .for_each(|()| async {})
        .await;
    collector.related_items(&plan.related).await;
    if let Some(namespaces) = &plan.namespaces {
        collector.namespaces(namespaces).await;
    }
    if let Some(crds) = &plan.custom_resource_definitions {
        collector.custom_resource_definitions(crds).await;
    }
    drop(collector);

    let (writer, report) = writer_task
        .await
        .map_err(|err| Error::Writer(err.to_string()))??;

    let mut group_resources = report.group_resources;
    for resource in plan
        .resources
        .iter()
        .chain(&plan.namespaces)
        .chain(&plan.custom_resource_definitions)
        .chain(&plan.related)
    {
        // The first entry wins: a listed resource's versions over its related-item reading.
        if let Some(summary) = group_resources
            .get_mut(&resource.group_resource)
            .filter(|s| s.versions.is_empty())
        {
            summary.preferred_version = resource.preferred_version.clone();
            summary.versions = resource.versions.clone();
        }
    }
    let items_backed_up = group_resources.values().map(|s| s.items).sum();
    let item_versions = group_resources.values().map(|s| s.item_versions).sum();
    shared.log.info(&format!(
        "backed up a total of {items_backed_up} items ({item_versions} item versions)"
    ));
    let shared = Arc::into_inner(shared).ok_or_else(|| {
        Error::Writer("the backup's state is still in use after the writer finished".to_owned())
    })?;
    let errors = shared
        .errors
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    let warnings = shared
        .warnings
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    let mut resource_list = report.resource_list;
    resource_list.sort();
    let outcome = BackupOutcome {
        phase: if errors.is_empty() {
            Phase::Completed
        } else {
            Phase::PartiallyFailed
        },
        items_backed_up,
        item_versions,
        group_resources,
        warnings,
        errors,
        resource_list,
        log: shared.log.into_lines(),
        tarball: report.counts,
    };
    Ok((writer, outcome))
}

fn log_plan(log: &Log, spec: &BackupSpec, options: &BackupOptions, plan: &crate::plan::Plan) {
    let or_all = |items: &[String], empty: &str| {
        if items.is_empty() {
            empty.to_owned()
        } else {
            items.join(", ")
        }
    };
    log.info(&format!(
        "including namespaces: {}",
        or_all(&spec.included_namespaces, "*")
    ));
    log.info(&format!(
        "excluding namespaces: {}",
        or_all(&spec.excluded_namespaces, "<none>")
    ));
    log.info(&format!(
        "including resources: {}",
        or_all(&spec.included_resources, "*")
    ));
    log.info(&format!(
        "excluding resources: {}",
        or_all(&spec.excluded_resources, "<none>")
    ));
    log.info(&format!(
        "EnableAPIGroupVersions is {}",
        if options.enable_api_group_versions {
            "on: every served version is backed up"
        } else {
            "off: only preferred versions are backed up"
        }
    ));
    for (group_resource, reason) in &plan.skipped {
        log.write(
            crate::log::Level::Debug,
            &format!("skipping {group_resource}: {reason}"),
        );
    }
    for resource in plan.resources.iter().chain(&plan.namespaces) {
        log.info(&format!(
            "backing up {} at [{}] (preferred {})",
            resource.group_resource,
            resource.versions.join(", "),
            resource.preferred_version
        ));
    }
}

/// What the list jobs share.
struct Collector<'a> {
    client: &'a kube::Client,
    selection: &'a Selection,
    options: &'a BackupOptions,
    shared: &'a Shared,
    sender: mpsc::Sender<Listed>,
}

impl Collector<'_> {
    fn api(
        &self,
        resource: &PlannedResource,
        version: &str,
        namespace: Option<&str>,
    ) -> Api<DynamicObject> {
        let api_resource = api_resource(resource, version);
        match namespace {
            Some(namespace) if resource.namespaced => {
                Api::namespaced_with(self.client.clone(), namespace, &api_resource)
            }
            _ => Api::all_with(self.client.clone(), &api_resource),
        }
    }

    /// Starts listing `resource` at `version` (in `namespace` when it is namespaced and one is
    /// given), one page ahead.
    fn pages(
        &self,
        resource: &PlannedResource,
        version: &str,
        namespace: Option<&str>,
        selector: Option<&LabelSelector>,
    ) -> Pages {
        let namespace = namespace.filter(|_| resource.namespaced);
        let path = DynamicObject::url_path(&api_resource(resource, version), namespace);
        Pages::start(self.client.clone(), path, self.options.page_size, selector)
    }

    /// Lists every page of one list and sends what passes the filters to the writer.
    async fn list_job(&self, resource: &PlannedResource, job: ListJob) {
        let version = job.version.as_str();
        let namespace = job.namespace.as_deref();
        let selector = job.selector.as_ref();
        let mut pages = self.pages(resource, version, namespace, selector);
        let what = describe_list(resource, version, namespace, selector);
        let listed = listed_as(resource, version);
        loop {
            match pages.next_page(self.shared).await {
                Ok(Some(items)) => {
                    self.shared
                        .items_listed
                        .fetch_add(items.len() as u64, Ordering::Relaxed);
                    self.shared.report();
                    for object in items {
                        if self.send(resource, &listed, object).await.is_err() {
                            return;
                        }
                    }
                }
                Ok(None) => break,
                Err(err) => {
                    let message = format!("cannot list {what}: {err}");
                    match namespace {
                        Some(namespace) => self.shared.fail(Some(namespace), message),
                        None => self.shared.fail_velero(message),
                    }
                    break;
                }
            }
        }
        self.shared.lists_done.fetch_add(1, Ordering::Relaxed);
        self.shared.report();
    }

    /// Lists all namespaces and keeps those Velero keeps: matched by a selector, by the namespace
    /// filter (unless the filter is "everything" and selectors are set), or holding a backed-up
    /// object. Namespaces that are not `Active` are skipped.
    async fn namespaces(&self, resource: &PlannedResource) {
        let with_items = lock(&self.shared.namespaces_with_items).clone();
        let mut existing: BTreeSet<String> = BTreeSet::new();
        for version in &resource.versions {
            let mut pages = self.pages(resource, version, None, None);
            let listed = listed_as(resource, version);
            loop {
                match pages.next_page(self.shared).await {
                    Ok(Some(items)) => {
                        for object in items {
                            let Some(name) = object
                                .pointer("/metadata/name")
                                .and_then(Value::as_str)
                                .map(str::to_owned)
                            else {
                                continue;
                            };
                            existing.insert(name.clone());
                            let phase = object.pointer("/status/phase").and_then(Value::as_str);
                            if phase.is_some_and(|p| p != "Active") {
                                self.shared.log.info(&format!(
                                    "skipping namespace {name}: it is not in phase Active"
                                ));
                                continue;
                            }
                            let labels = string_map(object.pointer("/metadata/labels"));
                            if self.keeps_namespace(&name, &labels, &with_items)
                                && self.send(resource, &listed, object).await.is_err()
                            {
                                return;
                            }
                        }
                    }
                    Ok(None) => break,
                    Err(err) => {
                        self.shared
                            .fail_velero(format!("cannot list namespaces {version}: {err}"));
                        break;
                    }
                }
            }
            self.shared.lists_done.fetch_add(1, Ordering::Relaxed);
            self.shared.report();
        }
        // Velero logs a named namespace that does not exist as an error, which makes the backup
        // partially failed: the user asked for something that is not there.
        for name in self.selection.namespaces.plain_includes() {
            if !existing.is_empty() && !existing.contains(name) {
                self.shared.fail_velero(format!(
                    "namespace {name:?} in spec.includedNamespaces does not exist; check the name"
                ));
            }
        }
    }

    fn keeps_namespace(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
        with_items: &BTreeSet<String>,
    ) -> bool {
        let selection = self.selection;
        let by_selector = selection.selectors.iter().any(|s| s.matches(labels));
        let by_name = !(selection.namespaces.include_everything() && selection.has_selectors)
            && selection.namespaces.should_include(name);
        by_selector || by_name || with_items.contains(name)
    }

    /// Reads the objects that backed-up objects pulled in (until none is left, since a claim
    /// pulled in by a pod pulls its volume in), subject to the namespace and resource filters but
    /// not to label selectors, as Velero's additional items are.
    async fn related_items(&self, related: &[PlannedResource]) {
        let mut done: BTreeSet<Related> = BTreeSet::new();
        loop {
            let pending: Vec<Related> = lock(&self.shared.related)
                .difference(&done)
                .cloned()
                .collect();
            if pending.is_empty() {
                break;
            }
            for item in pending {
                done.insert(item.clone());
                if self.fetch_related(related, &item).await.is_err() {
                    return;
                }
            }
        }
        self.shared.lists_done.fetch_add(1, Ordering::Relaxed);
        self.shared.report();
    }

    async fn fetch_related(
        &self,
        related: &[PlannedResource],
        item: &Related,
    ) -> Result<(), WriterGone> {
        let Some(resource) = related
            .iter()
            .find(|r| r.group_resource == item.group_resource)
        else {
            return Ok(());
        };
        let allowed = if resource.namespaced {
            self.selection.should_include(&item.group_resource, true)
        } else {
            !self.selection.should_exclude(&item.group_resource, false)
        };
        if !allowed || lock(&self.shared.sent).contains(item) {
            return Ok(());
        }
        let describe = match &item.namespace {
            Some(namespace) => format!("{} {namespace}/{}", item.group_resource, item.name),
            None => format!("{} {}", item.group_resource, item.name),
        };
        let version = &resource.preferred_version;
        let api = self.api(resource, version, item.namespace.as_deref());
        match api.get_opt(&item.name).await {
            Ok(Some(object)) => {
                self.shared
                    .log
                    .info(&format!("adding {describe}, which a backed-up object uses"));
                self.send_typed(resource, version, &object, &describe).await
            }
            Ok(None) => {
                let message = format!(
                    "{describe} is used by a backed-up object but does not exist; it is not backed up"
                );
                self.shared.log.warning(&message);
                lock(&self.shared.warnings).add(item.namespace.as_deref(), message);
                Ok(())
            }
            Err(err) => {
                self.shared.fail(
                    item.namespace.as_deref(),
                    format!("cannot read {describe}: {err}"),
                );
                Ok(())
            }
        }
    }

    /// Adds the CRD of every backed-up custom resource (a group-resource with a CRD of its name).
    async fn custom_resource_definitions(&self, crds: &PlannedResource) {
        let backed_up = lock(&self.shared.group_resources_with_items).clone();
        let api = self.api(crds, &crds.preferred_version, None);
        for group_resource in backed_up {
            if group_resource.group.is_empty() || group_resource == crds.group_resource {
                continue;
            }
            let name = group_resource.to_string();
            match api.get_opt(&name).await {
                Ok(Some(object)) => {
                    self.shared.log.info(&format!(
                        "adding CustomResourceDefinition {name}, the definition of backed-up custom resources"
                    ));
                    let describe = format!("CustomResourceDefinition {name}");
                    if self
                        .send_typed(crds, &crds.preferred_version, &object, &describe)
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Ok(None) => {}
                Err(err) => self.shared.fail(
                    None,
                    format!("cannot read the CustomResourceDefinition {name}: {err}"),
                ),
            }
        }
        self.shared.lists_done.fetch_add(1, Ordering::Relaxed);
        self.shared.report();
    }

    /// [`Self::send`] for an object read by a GET.
    async fn send_typed(
        &self,
        resource: &PlannedResource,
        version: &str,
        object: &DynamicObject,
        describe: &str,
    ) -> Result<(), WriterGone> {
        match serde_json::to_value(object) {
            Ok(value) => {
                self.send(resource, &listed_as(resource, version), value)
                    .await
            }
            Err(err) => {
                self.shared.fail(
                    object.metadata.namespace.as_deref(),
                    format!("cannot serialize {describe}: {err}; it is left out"),
                );
                Ok(())
            }
        }
    }

    /// Applies the per-object rules and hands the object to the writer.
    async fn send(
        &self,
        resource: &PlannedResource,
        list: &Arc<ListedAs>,
        object: Value,
    ) -> Result<(), WriterGone> {
        let Some((listed, related)) = self.prepare(resource, list, object) else {
            return Ok(());
        };
        let group_resource = &listed.list.group_resource;
        if let Some(namespace) = &listed.namespace {
            let mut namespaces = lock(&self.shared.namespaces_with_items);
            if !namespaces.contains(namespace) {
                namespaces.insert(namespace.clone());
            }
        }
        if !related.is_empty() {
            lock(&self.shared.related).extend(related);
        }
        if self.shared.relatable.contains(group_resource) {
            lock(&self.shared.sent).insert(Related {
                group_resource: group_resource.clone(),
                namespace: listed.namespace.clone(),
                name: listed.name.clone(),
            });
        }
        {
            let mut group_resources = lock(&self.shared.group_resources_with_items);
            if !group_resources.contains(group_resource) {
                group_resources.insert(group_resource.clone());
            }
        }
        self.sender.send(listed).await.map_err(|_| WriterGone)
    }

    fn prepare(
        &self,
        resource: &PlannedResource,
        list: &Arc<ListedAs>,
        mut object: Value,
    ) -> Option<(Listed, Vec<Related>)> {
        let group_resource = &resource.group_resource;
        let version = list.version.as_str();
        let meta_str = |object: &Value, field: &str| {
            object
                .get("metadata")
                .and_then(|m| m.get(field))
                .and_then(Value::as_str)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        let namespace = meta_str(&object, "namespace").filter(|_| resource.namespaced);
        let Some(name) = meta_str(&object, "name") else {
            self.shared.fail(
                namespace.as_deref(),
                format!("an object of {group_resource} {version} has no name; it is left out"),
            );
            return None;
        };
        let describe = || match &namespace {
            Some(namespace) => format!("{group_resource} {namespace}/{name}"),
            None => format!("{group_resource} {name}"),
        };
        if resource.namespaced && namespace.is_none() {
            self.shared.fail(
                None,
                format!("{} has no namespace; it is left out", describe()),
            );
            return None;
        }
        if let Some(namespace) = &namespace
            && !self.selection.namespaces.should_include(namespace)
        {
            return None;
        }
        let metadata = object.get("metadata");
        if metadata
            .and_then(|m| m.get("deletionTimestamp"))
            .is_some_and(|t| !t.is_null())
        {
            self.shared
                .log
                .info(&format!("skipping {}: it is being deleted", describe()));
            return None;
        }
        let excluded = metadata
            .and_then(|m| m.get("labels"))
            .and_then(|labels| labels.get(EXCLUDE_FROM_BACKUP_LABEL))
            .and_then(Value::as_str)
            .is_some_and(|value| value == "true");
        if excluded {
            self.shared.log.info(&format!(
                "skipping {}: it has the label {EXCLUDE_FROM_BACKUP_LABEL}=true",
                describe()
            ));
            return None;
        }
        let Some(fields) = object.as_object_mut() else {
            self.shared.fail(
                namespace.as_deref(),
                format!("{} is not a JSON object; it is left out", describe()),
            );
            return None;
        };
        // Lists of built-in resources leave each item's apiVersion and kind out; client-go's
        // dynamic client fills them in from the list, and Velero stores them so.
        let missing =
            |value: Option<&Value>| value.and_then(Value::as_str).is_none_or(str::is_empty);
        if missing(fields.get("apiVersion")) {
            fields.insert(
                "apiVersion".to_owned(),
                Value::String(api_version(&group_resource.group, version)),
            );
        }
        if missing(fields.get("kind")) {
            fields.insert("kind".to_owned(), Value::String(resource.kind.clone()));
        }
        let kind = fields
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or(&resource.kind)
            .to_owned();
        let related = actions::apply(
            group_resource,
            namespace.as_deref(),
            &mut object,
            &self.options.backup_name,
        );
        // The map's keys are sorted, as Go's encoding/json writes them.
        let item = Item {
            group_resource,
            namespace: namespace.as_deref(),
            name: &name,
            version,
            preferred_version: &list.preferred_version,
        };
        let object = match SerializedObject::new(&item, &object) {
            Ok(object) => object,
            Err(err) => {
                self.shared
                    .fail(namespace.as_deref(), format!("{err}; it is left out"));
                return None;
            }
        };
        let listed = Listed {
            list: Arc::clone(list),
            kind,
            namespace,
            name,
            object,
        };
        Some((listed, related))
    }
}

/// One list, read one page ahead: a task fetches the pages (each as the server's bytes, reading
/// only its continue token) into a channel of one, so page n+1 is on its way while page n is
/// parsed and written. A continue token that expired (410 Gone) restarts the list once from the
/// beginning (the writer drops the objects already written). Dropping it stops the task.
struct Pages {
    receiver: mpsc::Receiver<Fetched>,
    task: tokio::task::JoinHandle<()>,
}

/// What the fetching task hands on.
enum Fetched {
    /// One page's body.
    Page(String),
    /// The list restarted from the beginning; the server's message.
    Restarted(String),
    /// The list failed; nothing follows.
    Failed(ListError),
}

/// Why a list failed.
#[derive(Debug)]
enum ListError {
    Kube(kube::Error),
    Request(kube::core::request::Error),
    Json(serde_json::Error),
}

impl std::fmt::Display for ListError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListError::Kube(err) => err.fmt(f),
            ListError::Request(err) => write!(f, "cannot build the request: {err}"),
            ListError::Json(err) => write!(f, "the server's answer is not a list: {err}"),
        }
    }
}

/// The part of a list page the fetching task reads (the items are skipped, not parsed).
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    metadata: ListMeta,
}

#[derive(Default, Deserialize)]
struct ListMeta {
    #[serde(default, rename = "continue")]
    continue_token: Option<String>,
}

/// The items of a list page, each parsed straight into a map with sorted keys.
#[derive(Deserialize)]
struct Items {
    #[serde(default)]
    items: Option<Vec<Value>>,
}

impl Pages {
    fn start(
        client: kube::Client,
        path: String,
        page_size: u32,
        selector: Option<&LabelSelector>,
    ) -> Self {
        let mut params = ListParams::default().limit(page_size.max(1));
        if let Some(selector) = selector.filter(|s| !s.is_empty()) {
            params = params.labels(&selector.to_string());
        }
        let (sender, receiver) = mpsc::channel(1);
        let task = tokio::spawn(fetch_pages(client, path, params, sender));
        Pages { receiver, task }
    }

    async fn next_page(&mut self, shared: &Shared) -> Result<Option<Vec<Value>>, ListError> {
        loop {
            match self.receiver.recv().await {
                None => return Ok(None),
                Some(Fetched::Restarted(message)) => shared.log.warning(&format!(
                    "a list continue token expired ({message}); listing again from the start"
                )),
                Some(Fetched::Failed(err)) => return Err(err),
                Some(Fetched::Page(body)) => {
                    let items: Items = serde_json::from_str(&body).map_err(ListError::Json)?;
                    return Ok(Some(items.items.unwrap_or_default()));
                }
            }
        }
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The fetching task of [`Pages`]: every page in order, until the list ends, fails, or nobody
/// reads any more.
async fn fetch_pages(
    client: kube::Client,
    path: String,
    mut params: ListParams,
    sender: mpsc::Sender<Fetched>,
) {
    let request = kube::core::Request::new(path);
    let mut restarted = false;
    loop {
        let fetched = match request.list(&params) {
            Ok(http) => client.request_text(http).await.map_err(ListError::Kube),
            Err(err) => Err(ListError::Request(err)),
        };
        let body = match fetched {
            Ok(body) => body,
            Err(ListError::Kube(kube::Error::Api(status)))
                if status.code == 410 && params.continue_token.is_some() && !restarted =>
            {
                restarted = true;
                params.continue_token = None;
                if sender
                    .send(Fetched::Restarted(status.message.clone()))
                    .await
                    .is_err()
                {
                    return;
                }
                continue;
            }
            Err(err) => {
                let _ = sender.send(Fetched::Failed(err)).await;
                return;
            }
        };
        let next = match serde_json::from_str::<Envelope>(&body) {
            Ok(envelope) => envelope.metadata.continue_token.filter(|t| !t.is_empty()),
            Err(err) => {
                let _ = sender.send(Fetched::Failed(ListError::Json(err))).await;
                return;
            }
        };
        if sender.send(Fetched::Page(body)).await.is_err() {
            return;
        }
        match next {
            Some(token) => params.continue_token = Some(token),
            None => return,
        }
    }
}

/// What the writer found, for the outcome.
#[derive(Default)]
struct WriterReport {
    resource_list: ResourceList,
    group_resources: BTreeMap<GroupResource, GroupResourceSummary>,
    counts: WriteCounts,
}

/// The writer task: appends each object version once, in arrival order.
fn write_items<W: Write>(
    mut receiver: mpsc::Receiver<Listed>,
    mut tar: BackupWriter<W>,
    shared: &Shared,
) -> Result<(W, WriterReport), Error> {
    let mut report = WriterReport::default();
    // Each object once, with the versions written of it.
    let mut written: HashMap<(GroupResource, Option<String>, String), Vec<Arc<ListedAs>>> =
        HashMap::new();
    while let Some(listed) = receiver.blocking_recv() {
        let list = &listed.list;
        let key = (
            list.group_resource.clone(),
            listed.namespace.clone(),
            listed.name.clone(),
        );
        let versions = written.get(&key);
        if versions.is_some_and(|versions| versions.iter().any(|v| v.version == list.version)) {
            continue;
        }
        let first_version = versions.is_none();
        let item = Item {
            group_resource: &list.group_resource,
            namespace: listed.namespace.as_deref(),
            name: &listed.name,
            version: &list.version,
            preferred_version: &list.preferred_version,
        };
        match tar.append_serialized(&item, &listed.object) {
            Ok(()) => {}
            Err(
                err @ (godwit_tarball::Error::InvalidItem { .. }
                | godwit_tarball::Error::InvalidItemJson { .. }),
            ) => {
                shared.fail(
                    listed.namespace.as_deref(),
                    format!("{err}; it is left out"),
                );
                continue;
            }
            Err(err) => return Err(err.into()),
        }
        report.resource_list.add(
            ResourceList::key(&list.group_resource.group, &list.version, &listed.kind),
            listed.namespace.as_deref(),
            &listed.name,
        );
        let summary = match report.group_resources.get_mut(&list.group_resource) {
            Some(summary) => summary,
            None => report
                .group_resources
                .entry(list.group_resource.clone())
                .or_default(),
        };
        summary.item_versions += 1;
        if first_version {
            summary.items += 1;
        }
        written.entry(key).or_default().push(Arc::clone(list));
        shared.items_written.fetch_add(1, Ordering::Relaxed);
        shared.report();
    }
    let (inner, counts) = tar.finish()?;
    report.counts = counts;
    Ok((inner, report))
}

/// What the objects of `resource` listed at `version` share.
fn listed_as(resource: &PlannedResource, version: &str) -> Arc<ListedAs> {
    Arc::new(ListedAs {
        group_resource: resource.group_resource.clone(),
        version: version.to_owned(),
        preferred_version: resource.preferred_version.clone(),
    })
}

/// The dynamic API resource of `resource` at `version`.
fn api_resource(resource: &PlannedResource, version: &str) -> ApiResource {
    let group = &resource.group_resource.group;
    ApiResource {
        group: group.clone(),
        version: version.to_owned(),
        api_version: api_version(group, version),
        kind: resource.kind.clone(),
        plural: resource.group_resource.resource.clone(),
    }
}

/// The string values of a JSON map (labels, annotations); anything else reads as empty.
fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// `<group>/<version>`, or `<version>` for the core group.
fn api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    }
}

fn describe_list(
    resource: &PlannedResource,
    version: &str,
    namespace: Option<&str>,
    selector: Option<&LabelSelector>,
) -> String {
    let mut text = format!("{} {version}", resource.group_resource);
    if let Some(namespace) = namespace.filter(|_| resource.namespaced) {
        text.push_str(&format!(" in namespace {namespace}"));
    }
    if let Some(selector) = selector.filter(|s| !s.is_empty()) {
        text.push_str(&format!(" with selector {:?}", selector.to_string()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// The server spawns backups as tasks, so the engine's future must stay `Send`. Never
    /// called: the check is the compiling (a client needs a runtime and a cluster).
    #[allow(dead_code)]
    fn run_backup_is_send(client: &kube::Client, spec: &BackupSpec, options: &BackupOptions) {
        assert_send(&run_backup(client, spec, options, std::io::sink(), |_| {}));
    }
}
