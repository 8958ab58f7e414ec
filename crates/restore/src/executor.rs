//! The restore executor: fetches from the target what the planner and the restore actions need,
//! then creates the plan's objects through the dynamic Kubernetes API, tier by tier.
//!
//! Steps: read the user version priorities (`enableapigroupversions` ConfigMap) and the plugin
//! ConfigMaps from the server's namespace; list the target's PVs, nodes and ServiceAccounts for
//! the restore actions; discover the target; plan; create the CRD tier and wait until each CRD is
//! Established; discover again and decide the deferred group-resources; make sure the target
//! namespaces exist; then every other tier in order. Inside a tier, objects are created
//! concurrently with at most `concurrency` requests in flight.
//!
//! An object that already exists is compared with the backed-up one (see [`crate::differs`]):
//! policy `none` skips it (with a warning when it differs), `update` merge-patches it, and
//! ServiceAccounts are always merged. A live object that carries this restore's
//! `velero.io/restore-name` label was created by this restore (a retried create whose first
//! attempt was applied), so it counts as created: nothing is restored twice. Nothing is ever
//! deleted.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use godwit_discovery::Discovery;
use godwit_mutators::{PluginConfigs, RestoreContext, apply_all, label_value};
use godwit_tarball::ExtractedBackup;
use godwit_versioning::{CONFIG_MAP_KEY, CONFIG_MAP_NAME, GroupResource, parse_user_priorities};
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::Value;

use crate::compare::{RESTORE_NAME_LABEL, differs, merge_patch, merge_service_account};
use crate::plan::{Decision, ObjectRef, Plan, PlannedObject, Tier};
use crate::results::{
    ObjectOutcome, Outcome, Phase, Progress, RestoreCounts, RestoreResult, Results,
};
use crate::{
    CrdStorage, Error, ExistingResourcePolicy, FIELD_MANAGER, RestoreSpec, SCC_ANNOTATIONS,
    ServerVersion, TargetFacts, pitfalls, plan, resolve_deferred, restored_managed_fields,
};

/// Called after every object with the progress so far.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Objects per page when the restore lists the target (its PVs, nodes, ServiceAccounts).
const LIST_PAGE: u32 = 500;

/// Requests a restore keeps in flight unless told otherwise: what `cargo xtask bench` measured
/// on kube-apiserver 1.36 (two cores, etcd beside it): creates at 16, 32, 64 and 128 in flight
/// reached about 1,070, 1,480, 1,170-1,310 and 1,360-1,520 objects/s for 10,000 ConfigMaps, and
/// a restore at 64 kept up with them (92-102%). 64 sits where more stops paying, far below the
/// server's 200 mutating requests in flight.
pub const DEFAULT_REQUESTS_IN_FLIGHT: usize = 64;

/// How the executor runs. Requests are retried by the client (`godwit-client`'s one policy),
/// never here.
#[derive(Clone)]
pub struct ExecuteOptions {
    /// Most requests in flight, across every tier under way. Default
    /// [`DEFAULT_REQUESTS_IN_FLIGHT`]. 1 restores one object at a time, as Velero does.
    pub concurrency: usize,
    /// The namespace of the godwit (Velero) server: where the ConfigMaps are read.
    pub server_namespace: String,
    /// How long to wait for a restored CRD to become Established, and then again for the
    /// target's discovery to serve it. Default 60 s (Velero waits up to its resource timeout,
    /// one minute by default).
    pub crd_established_timeout: Duration,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        ExecuteOptions {
            concurrency: DEFAULT_REQUESTS_IN_FLIGHT,
            server_namespace: "velero".to_owned(),
            crd_established_timeout: Duration::from_secs(60),
            progress: None,
        }
    }
}

impl std::fmt::Debug for ExecuteOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecuteOptions")
            .field("concurrency", &self.concurrency)
            .field("server_namespace", &self.server_namespace)
            .field("crd_established_timeout", &self.crd_established_timeout)
            .finish_non_exhaustive()
    }
}

/// Restores an extracted backup into the cluster behind `client`. Never fails as a whole: a
/// restore that cannot run ends in [`Phase::Failed`] with the reason in the velero errors.
pub async fn restore(
    client: &kube::Client,
    backup: &ExtractedBackup,
    spec: RestoreSpec,
    options: &ExecuteOptions,
) -> RestoreResult {
    let mut run = Run::new(client, spec, options);
    if let Err(error) = run.execute(backup).await {
        run.result.phase = Phase::Failed;
        run.result.errors.add_velero(error.to_string());
        run.log(format!("restore failed: {error}"));
    }
    run.result.finish();
    let counts = run.result.counts;
    run.log(format!(
        "restore {:?}: {:?}, {} created, {} updated, {} skipped, {} failed",
        run.spec.restore_name,
        run.result.phase,
        counts.created,
        counts.updated,
        counts.skipped,
        counts.failed
    ));
    run.result
}

/// The plan a restore would carry out against the target as it is now (`godwit restore plan`):
/// reads the user version priorities and discovery, and writes nothing. Group-resources whose
/// CRD the backup holds stay [`Decision::Deferred`]. Warnings about the request (skipped
/// priority lines, discovery problems) are in [`Plan::warnings`]. `Err` lists what makes the
/// request invalid, or holds the one reason the target could not be read.
pub async fn dry_run(
    client: &kube::Client,
    backup: &ExtractedBackup,
    spec: RestoreSpec,
    options: &ExecuteOptions,
) -> Result<Plan, Vec<Error>> {
    let mut run = Run::new(client, spec, options);
    let server_namespace = options.server_namespace.clone();
    if run.spec.enable_api_group_versions {
        run.read_user_priorities(&server_namespace)
            .await
            .map_err(|e| vec![e])?;
    }
    let discovery = run.discover().await.map_err(|e| vec![e])?;
    let mut plan = plan(backup, &discovery, &run.spec)?;
    let facts = run.target_facts(&plan, &discovery).await;
    plan.pitfalls = pitfalls(&plan, &facts);
    let mut warnings: Vec<String> = run.result.warnings.all().map(str::to_owned).collect();
    warnings.append(&mut plan.warnings);
    plan.warnings = warnings;
    Ok(plan)
}

/// One restore in progress.
struct Run {
    client: kube::Client,
    options: ExecuteOptions,
    spec: RestoreSpec,
    result: RestoreResult,
    progress: Progress,
    /// PersistentVolumes (by their name in the backup) this restore failed to create: a claim
    /// naming one fails too rather than point at a volume that is not there.
    failed_volumes: BTreeSet<String>,
    /// The group-resources whose status is restored (`restoreStatus`), resolved against the
    /// target's discovery.
    restore_status: StatusSelection,
}

/// `restoreStatus` resolved to group-resources.
#[derive(Debug, Default)]
struct StatusSelection {
    /// No includes or `*`: every group-resource not excluded.
    all: bool,
    included: BTreeSet<GroupResource>,
    excluded: BTreeSet<GroupResource>,
}

impl StatusSelection {
    fn selects(&self, group_resource: &GroupResource) -> bool {
        !self.excluded.contains(group_resource)
            && (self.all || self.included.contains(group_resource))
    }
}

/// One object ready to create: the restore actions already ran.
struct Job {
    object: ObjectRef,
    target_namespace: Option<String>,
    name: String,
    body: Value,
    /// The backed-up object's `managedFields`, taken out of the body: a create drops them
    /// anyway, and one entry the target cannot read makes it drop godwit's too.
    managed_fields: Vec<Value>,
    /// A PersistentVolume's name in the backup, and its new name when the restore renamed it.
    volume: Option<(String, Option<String>)>,
    /// The backed-up `status`, when `restoreStatus` selects the object's group-resource.
    status: Option<Value>,
}

/// What creating one object came to.
struct Done {
    outcome: Outcome,
    message: Option<String>,
    warning: Option<String>,
    error: Option<String>,
}

impl Done {
    fn new(outcome: Outcome) -> Self {
        Done {
            outcome,
            message: None,
            warning: None,
            error: None,
        }
    }
}

impl Run {
    fn new(client: &kube::Client, spec: RestoreSpec, options: &ExecuteOptions) -> Self {
        Run {
            client: client.clone(),
            options: options.clone(),
            result: RestoreResult {
                phase: Phase::Completed,
                warnings: Results::default(),
                errors: Results::default(),
                outcomes: Vec::new(),
                counts: RestoreCounts::default(),
                log: Vec::new(),
                plan: None,
            },
            progress: Progress::default(),
            failed_volumes: BTreeSet::new(),
            restore_status: StatusSelection::default(),
            spec,
        }
    }

    fn log(&mut self, line: String) {
        tracing::info!(restore = %self.spec.restore_name, "{line}");
        self.result.log.push(line);
    }

    fn kube_error(action: impl Into<String>) -> impl FnOnce(kube::Error) -> Error {
        let action = action.into();
        move |source| Error::Kube { action, source }
    }

    async fn execute(&mut self, backup: &ExtractedBackup) -> Result<(), Error> {
        let server_namespace = self.options.server_namespace.clone();
        if self.spec.enable_api_group_versions {
            self.read_user_priorities(&server_namespace).await?;
        }
        for warning in self.spec.request_warnings.clone() {
            self.result.warnings.add_velero(warning);
        }
        let mut ctx = self.restore_context(&server_namespace).await?;
        let mut discovery = self.discover().await?;
        self.resolve_restore_status(&discovery);

        let mut plan = match plan(backup, &discovery, &self.spec) {
            Ok(plan) => plan,
            Err(problems) => {
                self.result.phase = Phase::Failed;
                for problem in problems {
                    self.result
                        .errors
                        .add_velero(format!("invalid restore: {problem}"));
                }
                return Ok(());
            }
        };
        for warning in &plan.warnings {
            self.result.warnings.add_velero(warning.clone());
        }
        let facts = self.target_facts(&plan, &discovery).await;
        plan.pitfalls = pitfalls(&plan, &facts);
        for pitfall in &plan.pitfalls {
            self.log(format!("pitfall: {}", pitfall.message));
            self.result
                .warnings
                .add(pitfall.namespace.as_deref(), pitfall.message.clone());
        }
        for pulled in &plan.pulled_in {
            self.log(format!(
                "{} is restored because {} needs it (the filters left it out: {})",
                pulled.object, pulled.needed_by, pulled.left_out_because
            ));
        }
        self.progress.total_items = plan.object_count();
        self.log_decisions(&plan, false);
        self.record_unrestored(&plan, false);

        let crds = godwit_ordering::custom_resource_definitions();
        let mut tiers = std::mem::take(&mut plan.tiers);
        let mut established = BTreeSet::new();
        if let Some(position) = tiers.iter().position(|t| t.group_resource == crds) {
            let crd_tier = tiers.remove(position);
            let crd_tiers = self
                .restore_tiers(&discovery, vec![crd_tier], &mut ctx)
                .await;
            // Wait for the CRDs that are in the target now (created, updated or already there).
            let names: Vec<String> = self
                .result
                .outcomes
                .iter()
                .filter(|o| o.object.group_resource == crds && o.outcome != Outcome::Failed)
                .map(|o| o.object.name.clone())
                .collect();
            established = self.wait_established(&names).await;
            plan.tiers.extend(crd_tiers);
        }
        let deferred: BTreeSet<GroupResource> = tiers
            .iter()
            .filter(|t| matches!(t.decision, Decision::Deferred { .. }))
            .map(|t| t.group_resource.clone())
            .collect();
        if !deferred.is_empty() {
            // Wait for discovery only where the CRD is Established: the others cannot appear.
            let wanted: BTreeSet<GroupResource> = tiers
                .iter()
                .filter(|t| {
                    matches!(&t.decision, Decision::Deferred { custom_resource_definition, .. }
                        if established.contains(custom_resource_definition))
                })
                .map(|t| t.group_resource.clone())
                .collect();
            discovery = self.discover_serving(&wanted).await?;
            let mut second = Plan {
                tiers,
                skipped: Vec::new(),
                failed: Vec::new(),
                ..plan.clone()
            };
            resolve_deferred(&mut second, backup, &discovery, &self.spec);
            // What was decided now, without the objects' bodies (they are not copied).
            let tiers_decided: Vec<Tier> = second
                .tiers
                .iter()
                .filter(|t| deferred.contains(&t.group_resource))
                .map(|t| Tier {
                    group_resource: t.group_resource.clone(),
                    placement: t.placement.clone(),
                    stage: t.stage,
                    decision: t.decision.clone(),
                    cluster_scoped: t.cluster_scoped,
                    objects: Vec::new(),
                })
                .collect();
            tiers = std::mem::take(&mut second.tiers);
            let decided = Plan {
                tiers: tiers_decided,
                ..second
            };
            self.log_decisions(&decided, true);
            self.record_unrestored(&decided, true);
            plan.failed.extend(decided.failed);
        }

        self.ensure_namespaces(&plan, &ctx).await;
        let restored = self.restore_tiers(&discovery, tiers, &mut ctx).await;
        plan.tiers.extend(restored);
        self.result.plan = Some(plan);
        Ok(())
    }

    /// What [`pitfalls`] needs from the target: its version, whether it is OpenShift, its
    /// namespaces' security-context annotations, and the CRDs behind the plan's group-resources.
    /// What cannot be read is left out with a warning: pitfalls advise, they never stop a
    /// restore.
    async fn target_facts(&mut self, plan: &Plan, discovery: &Discovery) -> TargetFacts {
        let mut facts = TargetFacts {
            source_version: self.spec.source_version.clone(),
            openshift: discovery
                .groups()
                .iter()
                .any(|g| g.name == "security.openshift.io"),
            ..TargetFacts::default()
        };
        match self.client.apiserver_version().await {
            Ok(info) => {
                facts.target_version =
                    ServerVersion::parse(&info.major, &info.minor, &info.git_version);
            }
            Err(err) => self.result.warnings.add_velero(format!(
                "cannot read the target's version ({err}); a target older than the backup's \
                 source is not checked"
            )),
        }
        let planned: BTreeSet<&str> = plan.namespaces.iter().map(|n| n.name.as_str()).collect();
        let namespaces: Api<DynamicObject> = Api::all_with(
            self.client.clone(),
            &core_resource("namespaces", "Namespace"),
        );
        let mut params = ListParams::default().limit(LIST_PAGE);
        loop {
            let page = match namespaces.list_metadata(&params).await {
                Ok(page) => page,
                Err(err) => {
                    self.result.warnings.add_velero(format!(
                        "cannot list the target's namespaces ({err}); their security-context \
                         ranges are not checked"
                    ));
                    break;
                }
            };
            for namespace in page.items {
                let Some(name) = namespace.metadata.name else {
                    continue;
                };
                let annotations = namespace.metadata.annotations.unwrap_or_default();
                if let Some(range) = annotations.get(SCC_ANNOTATIONS[0]) {
                    facts.uid_ranges.insert(name.clone(), range.clone());
                }
                if planned.contains(name.as_str()) {
                    facts.existing_namespaces.insert(name, annotations);
                }
            }
            match page.metadata.continue_.filter(|token| !token.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => break,
            }
        }
        let crds: Api<DynamicObject> = Api::all_with(self.client.clone(), &crd_resource());
        // A CRD is named `<plural>.<group>`, and its group has a dot; built-in groups without
        // one are never CRDs.
        for tier in &plan.tiers {
            let group_resource = &tier.group_resource;
            if tier.objects.is_empty() || !group_resource.group.contains('.') {
                continue;
            }
            let name = group_resource.to_string();
            match crds.get_opt(&name).await {
                Ok(Some(crd)) => {
                    if let Some(storage) = crd_storage(&name, &crd.data) {
                        facts.crds.insert(group_resource.clone(), storage);
                    }
                }
                Ok(None) => {}
                Err(err) => self.result.warnings.add_velero(format!(
                    "cannot read CRD {name} in the target ({err}); its stored versions are \
                     not checked"
                )),
            }
        }
        facts
    }

    /// Resolves `restoreStatus` through discovery; names the target does not know are warnings.
    fn resolve_restore_status(&mut self, discovery: &Discovery) {
        let Some(selection) = self.spec.restore_status.clone() else {
            return;
        };
        let mut resolve = |names: &[String], into: &mut BTreeSet<GroupResource>| {
            for name in names.iter().filter(|name| name.as_str() != "*") {
                match discovery.resolve(name) {
                    Ok(group_resource) => {
                        into.insert(group_resource);
                    }
                    Err(err) => self.result.warnings.add_velero(format!(
                        "restoreStatus names {name:?}, which the target does not serve ({err}); \
                         no status is restored for it"
                    )),
                }
            }
        };
        let mut included = BTreeSet::new();
        let mut excluded = BTreeSet::new();
        resolve(&selection.included, &mut included);
        resolve(&selection.excluded, &mut excluded);
        self.restore_status = StatusSelection {
            all: selection.included.is_empty() || selection.included.iter().any(|n| n == "*"),
            included,
            excluded,
        };
    }

    async fn read_user_priorities(&mut self, namespace: &str) -> Result<(), Error> {
        let api: Api<DynamicObject> = Api::namespaced_with(
            self.client.clone(),
            namespace,
            &core_resource("configmaps", "ConfigMap"),
        );
        let found = api
            .get_opt(CONFIG_MAP_NAME)
            .await
            .map_err(Self::kube_error(format!(
                "read configmap {namespace}/{CONFIG_MAP_NAME}"
            )))?;
        let Some(config_map) = found else {
            return Ok(());
        };
        let Some(text) = config_map
            .data
            .get("data")
            .and_then(|d| d.get(CONFIG_MAP_KEY))
            .and_then(Value::as_str)
        else {
            self.result.warnings.add_velero(format!(
                "ConfigMap {namespace}/{CONFIG_MAP_NAME} has no key {CONFIG_MAP_KEY}, so no user \
                 version priorities apply; put them under that key, one \
                 <resource>.<group>=<version>,... line each"
            ));
            return Ok(());
        };
        let (priorities, invalid) = parse_user_priorities(text);
        for line in invalid {
            self.result.warnings.add_velero(line.to_string());
        }
        self.spec.user_priorities = priorities;
        Ok(())
    }

    /// The restore actions' context: mappings, plugin ConfigMaps, the target's PVs, nodes and
    /// ServiceAccounts.
    async fn restore_context(&mut self, namespace: &str) -> Result<RestoreContext, Error> {
        let config_maps: Api<DynamicObject> = Api::namespaced_with(
            self.client.clone(),
            namespace,
            &core_resource("configmaps", "ConfigMap"),
        );
        let params = ListParams::default().labels(godwit_mutators::PLUGIN_CONFIG_LABEL);
        let listed = config_maps
            .list(&params)
            .await
            .map_err(Self::kube_error(format!(
                "list plugin configmaps in {namespace}"
            )))?;
        let values: Vec<Value> = listed
            .items
            .iter()
            .filter_map(|cm| serde_json::to_value(cm).ok())
            .collect();
        let (configs, problems) = PluginConfigs::from_config_maps(&values);
        for problem in problems {
            self.result.warnings.add_velero(problem.to_string());
        }

        let mut ctx = RestoreContext::new(&self.spec.backup_name, &self.spec.restore_name)
            .with_plugin_configs(configs);
        ctx.namespace_mapping = self.spec.namespace_mapping.clone();
        ctx.preserve_node_ports = self.spec.preserve_node_ports;
        let list_names = |plural: &'static str, kind: &'static str| {
            let api: Api<DynamicObject> =
                Api::all_with(self.client.clone(), &core_resource(plural, kind));
            async move {
                // Names only are kept; pages keep what a large cluster answers bounded.
                let mut params = ListParams::default().limit(LIST_PAGE);
                let mut names = Vec::new();
                loop {
                    let page = api
                        .list(&params)
                        .await
                        .map_err(Self::kube_error(format!("list {plural} in the target")))?;
                    names.extend(page.items.into_iter().filter_map(|o| {
                        let name = o.metadata.name?;
                        Some((o.metadata.namespace.unwrap_or_default(), name))
                    }));
                    match page.metadata.continue_.filter(|token| !token.is_empty()) {
                        Some(token) => params = params.continue_token(&token),
                        None => break,
                    }
                }
                Ok::<_, Error>(names)
            }
        };
        ctx.existing_pv_names = list_names("persistentvolumes", "PersistentVolume")
            .await?
            .into_iter()
            .map(|(_, name)| name)
            .collect();
        ctx.nodes = list_names("nodes", "Node")
            .await?
            .into_iter()
            .map(|(_, name)| name)
            .collect();
        for (namespace, name) in list_names("serviceaccounts", "ServiceAccount").await? {
            ctx.service_accounts
                .entry(namespace)
                .or_default()
                .insert(name);
        }
        Ok(ctx)
    }

    async fn discover(&mut self) -> Result<Discovery, Error> {
        let (discovery, problems) = godwit_discovery::discover(&self.client).await?;
        self.warn_discovery_problems(problems);
        Ok(discovery)
    }

    fn warn_discovery_problems(&mut self, problems: Vec<godwit_discovery::Error>) {
        for problem in problems {
            self.result
                .warnings
                .add_velero(format!("discovery of the target: {problem}"));
        }
    }

    /// Discovers the target again after CRDs were established. An API server may publish a new
    /// CRD's group in discovery a while after Established (longer on a loaded machine), so this
    /// asks again, for up to `crd_established_timeout`, until every wanted group-resource is
    /// served; what is still missing then is decided as not served.
    async fn discover_serving(
        &mut self,
        wanted: &BTreeSet<GroupResource>,
    ) -> Result<Discovery, Error> {
        let deadline = Instant::now() + self.options.crd_established_timeout;
        loop {
            let (discovery, problems) = godwit_discovery::discover(&self.client).await?;
            let missing: Vec<&GroupResource> = wanted
                .iter()
                .filter(|gr| discovery.versions_serving(gr).is_empty())
                .collect();
            let late = Instant::now() >= deadline;
            if missing.is_empty() || late {
                if !missing.is_empty() {
                    tracing::warn!(
                        missing = ?missing,
                        "established CRDs still not in the target's discovery; deciding without them"
                    );
                }
                self.warn_discovery_problems(problems);
                return Ok(discovery);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Logs, per group-resource, the version chosen and the rule (or why none).
    fn log_decisions(&mut self, plan: &Plan, second_step: bool) {
        let step = if second_step {
            " (after CRDs were restored)"
        } else {
            ""
        };
        for tier in &plan.tiers {
            let line = match &tier.decision {
                Decision::Chosen {
                    converted: Some(converted),
                    choice,
                    ..
                } => format!(
                    "{}: the target serves no version the backup holds; converting the {} \
                     objects of resources/{}/{} from {} to {} ({}){step}",
                    tier.group_resource,
                    converted.kind,
                    tier.group_resource,
                    choice.dir,
                    converted.from_api_version,
                    converted.to_api_version,
                    converted.summary,
                ),
                Decision::Chosen { choice, .. } => format!("{choice}{step}"),
                Decision::Deferred {
                    custom_resource_definition,
                    ..
                } => format!(
                    "{}: deferred until CRD {custom_resource_definition} is established",
                    tier.group_resource
                ),
                Decision::Failed { error, .. } => format!("{}: {error}{step}", tier.group_resource),
            };
            self.log(line);
        }
    }

    /// Records the plan's skipped and failed objects as outcomes (and the failures as errors).
    /// `counted`: the objects were part of the progress total (deferred tiers that failed).
    fn record_unrestored(&mut self, plan: &Plan, counted: bool) {
        for skipped in &plan.skipped {
            self.result.outcomes.push(ObjectOutcome {
                object: skipped.object.clone(),
                target_namespace: skipped.target_namespace.clone(),
                version: None,
                outcome: Outcome::Skipped,
                message: Some(skipped.reason.clone()),
            });
        }
        for failed in &plan.failed {
            if failed.object.group_resource.is_core()
                && failed.object.group_resource.resource == "persistentvolumes"
            {
                self.failed_volumes.insert(failed.object.name.clone());
            }
            self.result.errors.add(
                failed.target_namespace.as_deref(),
                format!("error restoring {}: {}", failed.object, failed.reason),
            );
            self.result.outcomes.push(ObjectOutcome {
                object: failed.object.clone(),
                target_namespace: failed.target_namespace.clone(),
                version: None,
                outcome: Outcome::Failed,
                message: Some(failed.reason.clone()),
            });
            if counted {
                self.advance();
            }
        }
    }

    fn advance(&mut self) {
        self.progress.items_restored += 1;
        if let Some(progress) = &self.options.progress {
            progress(self.progress);
        }
    }

    /// Waits until each CRD reports Established, or the timeout passes (then a warning); the
    /// names of those that are.
    async fn wait_established(&mut self, names: &[String]) -> BTreeSet<String> {
        let crds: Api<DynamicObject> = Api::all_with(self.client.clone(), &crd_resource());
        let deadline = Instant::now() + self.options.crd_established_timeout;
        let mut established_names = BTreeSet::new();
        for name in names {
            loop {
                let live = crds.get_opt(name).await;
                if let Ok(Some(crd)) = &live
                    && established(&crd.data)
                {
                    established_names.insert(name.clone());
                    break;
                }
                if Instant::now() >= deadline {
                    let message = format!(
                        "CRD {name} did not become Established within {:?}; its custom resources \
                         may fail to restore",
                        self.options.crd_established_timeout
                    );
                    self.result.warnings.add(None, message.clone());
                    self.log(message);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        established_names
    }

    /// Creates the plan's namespaces that are missing, from the backed-up Namespace when there
    /// is one, all at once within the requests-in-flight limit. An existing namespace is left as
    /// it is.
    async fn ensure_namespaces(&mut self, plan: &Plan, ctx: &RestoreContext) {
        let namespaces = godwit_ordering::namespaces();
        let api: Api<DynamicObject> = Api::all_with(
            self.client.clone(),
            &core_resource("namespaces", "Namespace"),
        );
        let mut bodies = Vec::with_capacity(plan.namespaces.len());
        for planned in &plan.namespaces {
            let restored = apply_all(&namespaces, planned.to_object(), ctx);
            let object = ObjectRef {
                group_resource: namespaces.clone(),
                namespace: None,
                name: planned
                    .source
                    .clone()
                    .unwrap_or_else(|| planned.name.clone()),
            };
            match serde_json::from_value::<DynamicObject>(restored.object) {
                Ok(body) => bodies.push((object, planned.name.clone(), body)),
                Err(err) => self
                    .result
                    .errors
                    .add_velero(format!("namespace {}: {err}", planned.name)),
            }
        }
        let params = post_params();
        let mut created = futures::stream::iter(bodies)
            .map(|(object, name, body)| {
                let api = &api;
                let params = &params;
                async move { (object, name, api.create(params, &body).await) }
            })
            .buffer_unordered(self.options.concurrency.max(1));
        while let Some((object, name, created)) = created.next().await {
            let (outcome, message) = match created {
                Ok(_) => (Outcome::Created, None),
                Err(err) if already_exists(&err) => (
                    Outcome::Skipped,
                    Some("namespace already exists".to_owned()),
                ),
                Err(err) => {
                    let message = format!("error creating namespace {name}: {err}");
                    self.result.errors.add_velero(message.clone());
                    (Outcome::Failed, Some(message))
                }
            };
            self.result.outcomes.push(ObjectOutcome {
                object,
                target_namespace: None,
                version: Some("v1".to_owned()),
                outcome,
                message,
            });
        }
    }

    /// Restores the objects of `tiers`, stage by stage as [`Tier::stage`] says, with at most
    /// `concurrency` requests in flight across all of them: a namespace's objects start once
    /// its objects of earlier stages and the cluster-scoped ones are done, so one namespace
    /// waiting on a slow group-resource does not hold the others back. Each object's restore
    /// actions run when its turn comes (a claim's after its volume is created), and its body
    /// leaves the plan then, so what is held is the plan not yet started plus what is in
    /// flight. Returns the tiers for the executed plan, without bodies.
    async fn restore_tiers(
        &mut self,
        discovery: &Discovery,
        mut tiers: Vec<Tier>,
        ctx: &mut RestoreContext,
    ) -> Vec<Tier> {
        let mut states = Vec::with_capacity(tiers.len());
        let mut waiting = Vec::new();
        let mut remaining = Remaining::default();
        for (index, tier) in tiers.iter_mut().enumerate() {
            let Some(choice) = tier.decision.choice() else {
                states.push(None);
                continue;
            };
            // Converted objects are created as the group-resource that replaced theirs.
            let target_group_resource = tier
                .decision
                .converted()
                .map_or(&tier.group_resource, |c| &c.to_group_resource);
            let served: Arc<[String]> = discovery
                .versions_serving(target_group_resource)
                .into_iter()
                .map(str::to_owned)
                .collect();
            states.push(Some(TierState {
                group_resource: tier.group_resource.clone(),
                version: choice.version.clone(),
                resource: api_resource(discovery, target_group_resource, &choice.version),
                served,
                counts: BTreeMap::new(),
            }));
            let mut scopes: BTreeMap<Option<String>, Vec<PlannedObject>> = BTreeMap::new();
            for object in &mut tier.objects {
                let taken = PlannedObject {
                    object: std::mem::take(&mut object.object),
                    ..object.clone()
                };
                scopes
                    .entry(object.target_namespace.clone())
                    .or_default()
                    .push(taken);
            }
            for (scope, objects) in scopes {
                remaining.add(&scope, tier.stage, objects.len());
                waiting.push(Group {
                    tier: index,
                    stage: tier.stage,
                    scope,
                    objects,
                });
            }
        }
        let mut waiting = Waiting::new(waiting);

        let policy = self.spec.existing_resource_policy;
        let restore_label: Arc<str> = Arc::from(label_value(&self.spec.restore_name));
        let concurrency = self.options.concurrency.max(1);
        let mut ready: VecDeque<(usize, PlannedObject)> = VecDeque::new();
        let mut in_flight = futures::stream::FuturesUnordered::new();
        // What finished since the last look: only those namespaces' waiting groups can start.
        let mut emptied = Emptied::All;
        loop {
            match std::mem::take(&mut emptied) {
                Emptied::Nothing => {}
                Emptied::All => waiting.release_all(&remaining, &mut ready),
                Emptied::Scopes(scopes) => waiting.release(&scopes, &remaining, &mut ready),
            }
            while in_flight.len() < concurrency {
                let Some((tier, object)) = ready.pop_front() else {
                    break;
                };
                let Some(state) = states.get(tier).and_then(Option::as_ref) else {
                    continue;
                };
                let scope = object.target_namespace.clone();
                match self.prepare(state, object, ctx) {
                    Prepared::Send(prepared) => {
                        let (job, target) = *prepared;
                        let service_account = state.group_resource.is_core()
                            && state.group_resource.resource == "serviceaccounts";
                        let restore_label = Arc::clone(&restore_label);
                        in_flight.push(async move {
                            let done =
                                create_one(&target, &job, policy, service_account, &restore_label)
                                    .await;
                            (tier, job, done)
                        });
                    }
                    Prepared::Finished(reference, done) => {
                        self.record(&mut states, tier, reference, scope.clone(), done, ctx, None);
                        if remaining.finish(&scope, tiers[tier].stage) {
                            emptied.add(scope);
                        }
                    }
                }
            }
            if !matches!(emptied, Emptied::Nothing) {
                continue;
            }
            let Some((tier, job, done)) = in_flight.next().await else {
                if ready.is_empty() {
                    // Nothing in flight, nothing ready: either all is done, or (a stage whose
                    // objects all failed to prepare) the next stage may start now.
                    let Some(first) = waiting.first_stage() else {
                        break;
                    };
                    emptied = Emptied::All;
                    remaining.clear_before(first);
                }
                continue;
            };
            let scope = job.target_namespace.clone();
            let volume = job.volume.clone();
            self.record(
                &mut states,
                tier,
                job.object,
                scope.clone(),
                done,
                ctx,
                volume,
            );
            if remaining.finish(&scope, tiers[tier].stage) {
                emptied.add(scope);
            }
        }

        for state in states.into_iter().flatten() {
            let summary: Vec<String> = state
                .counts
                .iter()
                .map(|(o, n)| format!("{n} {o:?}").to_lowercase())
                .collect();
            self.log(format!(
                "{} at {}: {}",
                state.group_resource,
                state.version,
                if summary.is_empty() {
                    "nothing to create".to_owned()
                } else {
                    summary.join(", ")
                }
            ));
        }
        tiers
    }

    /// Runs the restore actions on one object and makes its request, or says how it ended
    /// without one (skipped by an action, its volume failed, its version no longer served).
    fn prepare(
        &mut self,
        state: &TierState,
        object: PlannedObject,
        ctx: &mut RestoreContext,
    ) -> Prepared {
        let group_resource = &state.group_resource;
        let reference = object_ref(group_resource, &object);
        let failed = |error: String| Done {
            message: Some(error.clone()),
            error: Some(error),
            ..Done::new(Outcome::Failed)
        };
        let Some(resource) = &state.resource else {
            return Prepared::Finished(
                reference,
                failed(format!(
                    "the target no longer serves {group_resource} at {}; discover again and \
                     retry",
                    state.version
                )),
            );
        };
        let body = object.object.value();
        let claims =
            group_resource.is_core() && group_resource.resource == "persistentvolumeclaims";
        if claims
            && let Some(volume) = body
                .pointer("/spec/volumeName")
                .and_then(Value::as_str)
                .filter(|volume| self.failed_volumes.contains(*volume))
        {
            return Prepared::Finished(
                reference,
                Done {
                    error: Some(format!(
                        "its PersistentVolume {volume} could not be restored (see that error), \
                         and a claim must not name a volume that is not there; restore the \
                         volume, then this claim again"
                    )),
                    ..Done::new(Outcome::Failed)
                },
            );
        }
        let status = self
            .restore_status
            .selects(group_resource)
            .then(|| body.get("status").cloned())
            .flatten()
            .filter(|status| !status.is_null());
        let target_namespace = object.target_namespace.clone();
        let restored = apply_all(group_resource, body, ctx);
        for warning in &restored.warnings {
            self.result.warnings.add(
                target_namespace.as_deref(),
                format!("{reference}: {warning}"),
            );
        }
        if let Some(skip) = restored.skipped {
            return Prepared::Finished(
                reference,
                Done {
                    message: Some(format!(
                        "skipped by restore action {}: {}",
                        skip.action, skip.reason
                    )),
                    ..Done::new(Outcome::Skipped)
                },
            );
        }
        let volumes = group_resource.is_core() && group_resource.resource == "persistentvolumes";
        // A rename counts once the volume is created (claims then follow it).
        let volume = volumes.then(|| {
            (
                object.name.clone(),
                restored
                    .renamed_pv
                    .as_ref()
                    .map(|renamed| renamed.new_name.clone()),
            )
        });
        let mut body = restored.object;
        body["apiVersion"] = Value::String(resource.api_version.clone());
        let managed_fields = match body
            .get_mut("metadata")
            .and_then(Value::as_object_mut)
            .and_then(|metadata| metadata.remove("managedFields"))
        {
            Some(Value::Array(entries)) => entries,
            _ => Vec::new(),
        };
        let name = body
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .unwrap_or(&object.name)
            .to_owned();
        if group_resource.is_core() && group_resource.resource == "serviceaccounts" {
            ctx.service_accounts
                .entry(target_namespace.clone().unwrap_or_default())
                .or_default()
                .insert(name.clone());
        }
        let collection = kube::core::Request::new(<DynamicObject as kube::Resource>::url_path(
            resource,
            target_namespace.as_deref(),
        ));
        let api: Api<DynamicObject> = match &target_namespace {
            Some(namespace) => Api::namespaced_with(self.client.clone(), namespace, resource),
            None => Api::all_with(self.client.clone(), resource),
        };
        Prepared::Send(Box::new((
            Job {
                object: reference,
                target_namespace,
                name,
                body,
                managed_fields,
                volume,
                status,
            },
            Target {
                client: self.client.clone(),
                collection,
                api,
                group: group_resource.group.clone(),
                served: Arc::clone(&state.served),
            },
        )))
    }

    /// Records how one object ended: results, progress, and what later objects depend on
    /// (a volume's new name, a volume that failed).
    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        states: &mut [Option<TierState>],
        tier: usize,
        object: ObjectRef,
        target_namespace: Option<String>,
        done: Done,
        ctx: &mut RestoreContext,
        volume: Option<(String, Option<String>)>,
    ) {
        if let Some((original, renamed)) = &volume {
            match (done.outcome, renamed) {
                (Outcome::Failed, _) => {
                    self.failed_volumes.insert(original.clone());
                }
                (Outcome::Created, Some(renamed)) => {
                    ctx.renamed_pvs.insert(original.clone(), renamed.clone());
                }
                _ => {}
            }
        }
        let Some(state) = states.get_mut(tier).and_then(Option::as_mut) else {
            return;
        };
        *state.counts.entry(done.outcome).or_default() += 1;
        let version = state.version.clone();
        self.finish_object(object, target_namespace, &version, done);
    }

    fn finish_object(
        &mut self,
        object: ObjectRef,
        target_namespace: Option<String>,
        version: &str,
        done: Done,
    ) {
        if let Some(warning) = &done.warning {
            self.result
                .warnings
                .add(target_namespace.as_deref(), warning.clone());
        }
        if let Some(error) = &done.error {
            self.result.errors.add(
                target_namespace.as_deref(),
                format!("error restoring {object}: {error}"),
            );
        }
        self.result.outcomes.push(ObjectOutcome {
            object,
            target_namespace,
            version: Some(version.to_owned()),
            outcome: done.outcome,
            message: done.message.or(done.warning).or(done.error),
        });
        self.advance();
    }
}

/// Where one object is written.
struct Target {
    client: kube::Client,
    /// The create request's path (the collection), built once per object.
    collection: kube::core::Request,
    api: Api<DynamicObject>,
    /// The API group of its tier.
    group: String,
    /// The versions the target serves for its group-resource.
    served: Arc<[String]>,
}

/// What the restore knows of one tier while it runs.
struct TierState {
    group_resource: GroupResource,
    version: String,
    /// `None` when the target no longer serves the group-resource at the chosen version.
    resource: Option<ApiResource>,
    served: Arc<[String]>,
    counts: BTreeMap<Outcome, usize>,
}

/// The objects of one tier in one namespace (or cluster-scoped), waiting for their stage.
struct Group {
    tier: usize,
    stage: usize,
    /// The target namespace; `None` for cluster-scoped objects.
    scope: Option<String>,
    objects: Vec<PlannedObject>,
}

/// The groups waiting for their stage, by namespace (`None`: cluster-scoped), each
/// namespace's in stage order. A group can start only when its namespace or the cluster-scoped
/// objects finish a stage, so a finished stage looks at those namespaces alone: a restore of
/// many namespaces does not scan every waiting group each time one of them moves on.
struct Waiting {
    by_scope: BTreeMap<Option<String>, VecDeque<Group>>,
}

impl Waiting {
    fn new(mut groups: Vec<Group>) -> Self {
        groups.sort_by_key(|group| group.stage);
        let mut by_scope: BTreeMap<Option<String>, VecDeque<Group>> = BTreeMap::new();
        for group in groups {
            by_scope
                .entry(group.scope.clone())
                .or_default()
                .push_back(group);
        }
        Waiting { by_scope }
    }

    /// The earliest stage still waiting anywhere.
    fn first_stage(&self) -> Option<usize> {
        self.by_scope
            .values()
            .filter_map(|groups| groups.front().map(|group| group.stage))
            .min()
    }

    /// Moves to `ready` the groups of every namespace that may start now.
    fn release_all(&mut self, remaining: &Remaining, ready: &mut VecDeque<(usize, PlannedObject)>) {
        let scopes: BTreeSet<Option<String>> = self.by_scope.keys().cloned().collect();
        self.release(&scopes, remaining, ready);
    }

    /// Moves to `ready` the groups of these namespaces, and the cluster-scoped ones, that may
    /// start now, earlier stages first.
    fn release(
        &mut self,
        scopes: &BTreeSet<Option<String>>,
        remaining: &Remaining,
        ready: &mut VecDeque<(usize, PlannedObject)>,
    ) {
        let mut started = Vec::new();
        for scope in scopes.iter().chain(std::iter::once(&None)) {
            let Some(groups) = self.by_scope.get_mut(scope) else {
                continue;
            };
            // Stages only ever allow later ones once earlier ones are done, so the first group
            // that must wait means the rest of its namespace waits too.
            while groups.front().is_some_and(|group| remaining.allows(group)) {
                started.extend(groups.pop_front());
            }
            if groups.is_empty() {
                self.by_scope.remove(scope);
            }
        }
        started.sort_by_key(|group| group.stage);
        for group in started {
            ready.extend(group.objects.into_iter().map(|object| (group.tier, object)));
        }
    }
}

/// Which namespaces finished a stage since the scheduler last looked at the waiting groups.
#[derive(Default)]
enum Emptied {
    #[default]
    Nothing,
    Scopes(BTreeSet<Option<String>>),
    /// Look at every namespace: the cluster-scoped objects finished a stage (namespaced groups
    /// wait for those), or the first look.
    All,
}

impl Emptied {
    fn add(&mut self, scope: Option<String>) {
        match (scope, &mut *self) {
            (_, Emptied::All) => {}
            (None, _) => *self = Emptied::All,
            (Some(namespace), Emptied::Scopes(scopes)) => {
                scopes.insert(Some(namespace));
            }
            (Some(namespace), Emptied::Nothing) => {
                *self = Emptied::Scopes(BTreeSet::from([Some(namespace)]));
            }
        }
    }
}

/// One object after its restore actions: a request to send, or already finished.
enum Prepared {
    Send(Box<(Job, Target)>),
    Finished(ObjectRef, Done),
}

/// Objects not yet finished, by namespace (`None`: cluster-scoped) and stage.
#[derive(Default)]
struct Remaining {
    by_scope: BTreeMap<Option<String>, BTreeMap<usize, usize>>,
    by_stage: BTreeMap<usize, usize>,
}

impl Remaining {
    fn add(&mut self, scope: &Option<String>, stage: usize, count: usize) {
        *self
            .by_scope
            .entry(scope.clone())
            .or_default()
            .entry(stage)
            .or_default() += count;
        *self.by_stage.entry(stage).or_default() += count;
    }

    /// One object finished; `true` when that emptied its namespace's stage (which may let
    /// others start).
    fn finish(&mut self, scope: &Option<String>, stage: usize) -> bool {
        let mut emptied = false;
        if let Some(stages) = self.by_scope.get_mut(scope)
            && let Some(count) = stages.get_mut(&stage)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                stages.remove(&stage);
                emptied = true;
            }
        }
        if let Some(count) = self.by_stage.get_mut(&stage) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.by_stage.remove(&stage);
            }
        }
        emptied
    }

    /// Forgets whatever is counted before `stage` (objects that could not be prepared at all).
    fn clear_before(&mut self, stage: usize) {
        self.by_stage.retain(|s, _| *s >= stage);
        for stages in self.by_scope.values_mut() {
            stages.retain(|s, _| *s >= stage);
        }
    }

    fn first_stage(&self, scope: &Option<String>) -> Option<usize> {
        self.by_scope.get(scope)?.keys().next().copied()
    }

    /// Whether a group may start: nothing of an earlier stage is left in its namespace or
    /// among the cluster-scoped objects; for cluster-scoped objects, anywhere.
    fn allows(&self, group: &Group) -> bool {
        let earlier = |first: Option<usize>| first.is_some_and(|stage| stage < group.stage);
        match &group.scope {
            None => !earlier(self.by_stage.keys().next().copied()),
            Some(_) => {
                !earlier(self.first_stage(&None)) && !earlier(self.first_stage(&group.scope))
            }
        }
    }
}

/// Creates one object, handling an existing one by the policy; see the module docs.
async fn create_one(
    target: &Target,
    job: &Job,
    policy: ExistingResourcePolicy,
    service_account: bool,
    restore_label: &str,
) -> Done {
    let api = &target.api;
    let failed = |error: String| Done {
        error: Some(error),
        ..Done::new(Outcome::Failed)
    };
    // The body goes out as it is; the API server judges it and names what is wrong. The
    // answer is read only when the managedFields patch needs it.
    let build = || {
        serde_json::to_vec(&job.body)
            .map_err(|err| err.to_string())
            .and_then(|body| {
                target
                    .collection
                    .create(&post_params(), body)
                    .map_err(|err| err.to_string())
            })
    };
    let mut delay = NOT_SERVED_FIRST_DELAY;
    let answer = loop {
        let request = match build() {
            Ok(request) => request,
            Err(err) => return failed(format!("cannot build the create request: {err}")),
        };
        match target.client.request_text(request).await {
            // Discovery said the version is served; a server that does not serve it yet (a
            // CRD restored a moment ago, another server behind a load balancer) is asked again.
            Err(error) if not_served_yet(&error) && delay <= NOT_SERVED_LAST_DELAY => {
                tracing::debug!(object = %job.object, ?delay, "404 page not found; asking again");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => break other,
        }
    };
    match answer {
        Ok(created) => {
            let mut warnings: Vec<String> = Vec::new();
            if crate::managed_fields::may_carry(&job.managed_fields) {
                warnings.extend(carry_managed_fields(target, job, &created).await);
            }
            if let Some(status) = &job.status {
                warnings.extend(restore_status(target, job, status).await);
            }
            return Done {
                warning: (!warnings.is_empty()).then(|| warnings.join("; ")),
                ..Done::new(Outcome::Created)
            };
        }
        Err(error) if already_exists(&error) => {}
        Err(error) => return failed(api_message(&error)),
    }
    let live = match api.get(&job.name).await {
        Ok(live) => live,
        Err(error) => {
            return failed(format!(
                "it already exists, and reading the live object failed: {}",
                api_message(&error)
            ));
        }
    };
    let live = match serde_json::to_value(&live) {
        Ok(live) => live,
        Err(err) => return failed(format!("cannot read the live object: {err}")),
    };
    // Created by this very restore: an earlier attempt was applied though its answer was lost.
    if live
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(|l| l.get(RESTORE_NAME_LABEL))
        .and_then(Value::as_str)
        == Some(restore_label)
    {
        return Done::new(Outcome::Created);
    }
    let kind = job
        .body
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("object");
    let patch = |patch: Value| async move {
        let params = patch_params();
        let patch = Patch::Merge(&patch);
        api.patch(&job.name, &params, &patch).await
    };
    if service_account {
        return match merge_service_account(&live, &job.body) {
            None => Done {
                message: Some("already exists; nothing to merge".to_owned()),
                ..Done::new(Outcome::Skipped)
            },
            Some(changes) => match patch(changes).await {
                Ok(_) => Done {
                    message: Some(
                        "already exists; merged the backed-up secrets, labels and annotations"
                            .to_owned(),
                    ),
                    ..Done::new(Outcome::Updated)
                },
                Err(error) => Done {
                    warning: Some(format!(
                        "could not merge {kind} {:?} into the live one: {}",
                        job.name,
                        api_message(&error)
                    )),
                    ..Done::new(Outcome::Skipped)
                },
            },
        };
    }
    if !differs(&live, &job.body) {
        return Done {
            message: Some("already exists and matches the backup".to_owned()),
            ..Done::new(Outcome::Skipped)
        };
    }
    match policy {
        ExistingResourcePolicy::None => Done {
            warning: Some(format!(
                "could not restore, {kind} {:?} already exists and differs from the backed-up \
                 version; restore with --existing-resource-policy=update to patch it",
                job.name
            )),
            ..Done::new(Outcome::Skipped)
        },
        ExistingResourcePolicy::Update => match patch(merge_patch(&live, &job.body)).await {
            Ok(_) => Done {
                message: Some("already existed; patched to match the backup".to_owned()),
                ..Done::new(Outcome::Updated)
            },
            Err(error) => Done {
                warning: Some(format!(
                    "could not patch the existing {kind} {:?} to match the backup: {}",
                    job.name,
                    api_message(&error)
                )),
                ..Done::new(Outcome::Skipped)
            },
        },
    }
}

/// How many times the managedFields patch is tried again when the object changed meanwhile.
const MANAGED_FIELDS_ATTEMPTS: usize = 4;

/// Puts the backed-up `managedFields` back on a just-created object (see
/// [`restored_managed_fields`]); a warning when that fails (the object itself is restored).
async fn carry_managed_fields(target: &Target, job: &Job, created: &str) -> Option<String> {
    let mut live: Value = serde_json::from_str(created).ok()?;
    let mut last_error = String::new();
    for _ in 0..MANAGED_FIELDS_ATTEMPTS {
        let entries =
            restored_managed_fields(&job.managed_fields, &live, &target.group, &target.served)?;
        // The resourceVersion makes the patch a no-op unless nobody wrote in between; if
        // someone did, their entry is read and kept.
        let patch = serde_json::json!({"metadata": {
            "resourceVersion": live.pointer("/metadata/resourceVersion"),
            "managedFields": entries,
        }});
        let params = patch_params();
        let patch = Patch::Merge(&patch);
        match target.api.patch(&job.name, &params, &patch).await {
            Ok(_) => return None,
            Err(kube::Error::Api(status)) if status.code == 409 => {
                last_error = status.message.clone();
                match target.api.get(&job.name).await {
                    Ok(object) => live = serde_json::to_value(&object).ok()?,
                    Err(error) => {
                        last_error = api_message(&error);
                        break;
                    }
                }
            }
            Err(error) => {
                last_error = api_message(&error);
                break;
            }
        }
    }
    Some(format!(
        "{} {:?} was restored, but its backed-up managedFields (who set which field) could not \
         be carried over: {last_error}",
        job.body
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("object"),
        job.name
    ))
}

/// Writes the backed-up status of a just-created object through its status subresource
/// (Velero's `restoreStatus`); a warning when that fails (the object itself is restored).
async fn restore_status(target: &Target, job: &Job, status: &Value) -> Option<String> {
    let patch = serde_json::json!({ "status": status });
    let params = patch_params();
    let patch = Patch::Merge(&patch);
    match target.api.patch_status(&job.name, &params, &patch).await {
        Ok(_) => None,
        Err(error) => Some(format!(
            "{} {:?} was restored, but not its status (restoreStatus): {}",
            job.body
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("object"),
            job.name,
            api_message(&error)
        )),
    }
}

/// Create parameters: godwit writes as its own field manager.
fn post_params() -> PostParams {
    PostParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PostParams::default()
    }
}

/// Patch parameters: godwit writes as its own field manager.
fn patch_params() -> PatchParams {
    PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    }
}

/// The first wait before a create answered `404 page not found` is sent again; it doubles up
/// to [`NOT_SERVED_LAST_DELAY`] (about four seconds in all).
const NOT_SERVED_FIRST_DELAY: Duration = Duration::from_millis(250);
/// The last wait; a bare 404 after it is the object's failure.
const NOT_SERVED_LAST_DELAY: Duration = Duration::from_secs(2);

/// A bare `404 page not found`: the server does not serve the path at all (not an object or a
/// namespace that is missing, which is a `NotFound` Status).
fn not_served_yet(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 404 && status.reason != "NotFound")
}

/// `AlreadyExists` (409 with that reason; a 409 `Conflict` is something else).
fn already_exists(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 409 && status.reason == "AlreadyExists")
}

/// The API server's message for an API error, the client's otherwise.
fn api_message(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
        other => other.to_string(),
    }
}

/// Whether a CRD's status says `Established: True`.
fn established(crd: &Value) -> bool {
    crd.get("status")
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .is_some_and(|conditions| {
            conditions.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some("Established")
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        })
}

/// The dynamic API resource of a group-resource at a version, from discovery (its plural and
/// kind are the server's, never guessed).
fn api_resource(
    discovery: &Discovery,
    group_resource: &GroupResource,
    version: &str,
) -> Option<ApiResource> {
    let info = discovery.resource(group_resource, version)?;
    Some(ApiResource {
        group: group_resource.group.clone(),
        version: version.to_owned(),
        api_version: match group_resource.group.as_str() {
            "" => version.to_owned(),
            group => format!("{group}/{version}"),
        },
        kind: info.kind.clone(),
        plural: info.name.clone(),
    })
}

/// A CRD's storage version and `status.storedVersions`, from its JSON; `None` when it names no
/// storage version.
fn crd_storage(name: &str, crd: &Value) -> Option<CrdStorage> {
    let storage_version = crd["spec"]["versions"]
        .as_array()?
        .iter()
        .find(|v| v["storage"].as_bool() == Some(true))?["name"]
        .as_str()?
        .to_owned();
    let stored_versions = crd["status"]["storedVersions"]
        .as_array()
        .map(|versions| {
            versions
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Some(CrdStorage {
        name: name.to_owned(),
        storage_version,
        stored_versions,
    })
}

/// `apiextensions.k8s.io/v1` CustomResourceDefinitions.
fn crd_resource() -> ApiResource {
    ApiResource {
        group: "apiextensions.k8s.io".to_owned(),
        version: "v1".to_owned(),
        api_version: "apiextensions.k8s.io/v1".to_owned(),
        kind: "CustomResourceDefinition".to_owned(),
        plural: "customresourcedefinitions".to_owned(),
    }
}

/// A core `v1` resource whose plural and kind every API server has had for a decade.
fn core_resource(plural: &str, kind: &str) -> ApiResource {
    ApiResource {
        group: String::new(),
        version: "v1".to_owned(),
        api_version: "v1".to_owned(),
        kind: kind.to_owned(),
        plural: plural.to_owned(),
    }
}

fn object_ref(group_resource: &GroupResource, object: &PlannedObject) -> ObjectRef {
    ObjectRef {
        group_resource: group_resource.clone(),
        namespace: object.namespace.clone(),
        name: object.name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(stage: usize, scope: Option<&str>) -> Group {
        Group {
            tier: 0,
            stage,
            scope: scope.map(str::to_owned),
            objects: Vec::new(),
        }
    }

    #[test]
    fn a_namespace_waits_only_for_itself_and_the_cluster_scoped() {
        let shop = Some("shop".to_owned());
        let blog = Some("blog".to_owned());
        let mut remaining = Remaining::default();
        remaining.add(&shop, 1, 2);
        remaining.add(&blog, 1, 1);
        remaining.add(&None, 2, 1);
        // Stage 1 runs everywhere; shop's stage 2 waits for shop's stage 1 and the cluster's.
        assert!(remaining.allows(&group(1, Some("shop"))));
        assert!(!remaining.allows(&group(2, Some("shop"))));
        // Cluster-scoped objects of stage 2 wait for every stage-1 object.
        assert!(!remaining.allows(&group(2, None)));
        assert!(!remaining.finish(&blog, 2), "nothing of stage 2 in blog");
        assert!(remaining.finish(&blog, 1), "blog's stage 1 is done");
        // blog's stage 3 still waits for the cluster-scoped stage 2.
        assert!(!remaining.allows(&group(3, Some("blog"))));
        assert!(!remaining.finish(&shop, 1), "one of shop's two is left");
        assert!(remaining.finish(&shop, 1));
        assert!(remaining.allows(&group(2, None)));
        assert!(remaining.finish(&None, 2));
        assert!(remaining.allows(&group(3, Some("blog"))));
        assert!(remaining.allows(&group(9, None)));
    }

    /// The tiers of the objects `release` made ready, in order.
    fn released(ready: &VecDeque<(usize, PlannedObject)>) -> Vec<usize> {
        ready.iter().map(|(tier, _)| *tier).collect()
    }

    fn waiting_group(tier: usize, stage: usize, scope: Option<&str>) -> Group {
        Group {
            tier,
            stage,
            scope: scope.map(str::to_owned),
            objects: vec![PlannedObject {
                namespace: scope.map(str::to_owned),
                target_namespace: scope.map(str::to_owned),
                name: format!("object-{tier}"),
                object: plan::Compact::new(&serde_json::json!({})),
            }],
        }
    }

    #[test]
    fn a_finished_stage_starts_only_what_waited_for_it() {
        let shop = Some("shop".to_owned());
        let blog = Some("blog".to_owned());
        let groups = vec![
            waiting_group(3, 2, Some("shop")),
            waiting_group(0, 1, None),
            waiting_group(1, 1, Some("shop")),
            waiting_group(2, 1, Some("blog")),
            waiting_group(4, 2, Some("blog")),
            waiting_group(5, 3, None),
        ];
        let mut remaining = Remaining::default();
        for group in &groups {
            remaining.add(&group.scope, group.stage, group.objects.len());
        }
        let mut waiting = Waiting::new(groups);
        let mut ready = VecDeque::new();
        waiting.release_all(&remaining, &mut ready);
        assert_eq!(released(&ready), vec![0, 2, 1], "stage 1 everywhere");
        ready.clear();

        // The cluster-scoped stage 1 is done: nothing else of stage 2 may start yet.
        assert!(remaining.finish(&None, 1));
        waiting.release_all(&remaining, &mut ready);
        assert!(ready.is_empty());
        // shop's stage 1 is done: shop's stage 2 starts, blog's waits for blog.
        assert!(remaining.finish(&shop, 1));
        waiting.release(&BTreeSet::from([shop.clone()]), &remaining, &mut ready);
        assert_eq!(released(&ready), vec![3]);
        ready.clear();
        assert!(remaining.finish(&blog, 1));
        waiting.release(&BTreeSet::from([blog.clone()]), &remaining, &mut ready);
        assert_eq!(released(&ready), vec![4]);
        ready.clear();
        // The cluster-scoped stage 3 waits for every stage-2 object, then starts.
        assert!(remaining.finish(&shop, 2));
        waiting.release(&BTreeSet::from([shop.clone()]), &remaining, &mut ready);
        assert!(ready.is_empty());
        assert_eq!(waiting.first_stage(), Some(3));
        assert!(remaining.finish(&blog, 2));
        waiting.release(&BTreeSet::from([blog]), &remaining, &mut ready);
        assert_eq!(released(&ready), vec![5]);
        assert_eq!(waiting.first_stage(), None);
    }

    #[test]
    fn clearing_lets_later_stages_start() {
        let mut remaining = Remaining::default();
        remaining.add(&None, 1, 1);
        remaining.add(&Some("shop".to_owned()), 3, 1);
        assert!(!remaining.allows(&group(2, Some("shop"))));
        remaining.clear_before(2);
        assert!(remaining.allows(&group(2, Some("shop"))));
        assert!(!remaining.allows(&group(4, Some("shop"))));
    }
}
