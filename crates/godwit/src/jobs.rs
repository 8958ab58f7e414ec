//! Running one Velero `Backup` or `Restore` custom resource end to end: turn its spec into the
//! engine's spec, run the engine against a cluster, and store what Velero stores (tarball,
//! `velero-backup.json`, logs, results). Shared by the server's controllers and `godwit migrate`.
//!
//! The spec conversions are pure functions, tested beside this file. The job functions return
//! `Err` only when something around the job broke (no name, a temp file, the store refusing the
//! upload); a backup or restore that could not run is a report with phase `FailedValidation` or
//! `Failed` and the reason, which is what the server writes into the resource's status.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::Arc;

use anyhow::Context as _;
use flate2::Compression;
use flate2::write::GzEncoder;
use godwit_api::labels::{
    SOURCE_CLUSTER_K8S_GIT_VERSION, SOURCE_CLUSTER_K8S_MAJOR_VERSION,
    SOURCE_CLUSTER_K8S_MINOR_VERSION,
};
use godwit_api::{
    Backup, BackupPhase, BackupProgress, BackupStatus, GodwitRestoreStatus, Restore, RestorePhase,
    RestoreProgress, RestoreStatus, VersionChoice,
};
use godwit_backup::{BackupOptions, GroupResourceSummary};
use godwit_ordering::Priorities;
use godwit_restore::{ExecuteOptions, ExistingResourcePolicy, Operator, RestoreCounts};
use godwit_storage::{BackupFile, BackupStore, BackupUpload, Tarball};
use godwit_versioning::GroupResource;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};

/// The tarball format godwit writes (SPEC.md section 3).
const FORMAT_VERSION: &str = "1.1.0";

/// Server settings that shape every job.
#[derive(Debug, Clone)]
pub struct JobOptions {
    /// Velero's `EnableAPIGroupVersions` feature: back up every served version, and choose a
    /// version per group-resource on restore.
    pub enable_api_group_versions: bool,
    /// `--restore-resource-priorities`; `None` means Velero's default list.
    pub restore_resource_priorities: Option<Priorities>,
    /// Requests a restore keeps in flight at once.
    pub concurrency: usize,
    /// The server's namespace, where the restore reads its ConfigMaps.
    pub server_namespace: String,
}

impl Default for JobOptions {
    fn default() -> Self {
        JobOptions {
            enable_api_group_versions: false,
            restore_resource_priorities: None,
            concurrency: godwit_restore::DEFAULT_REQUESTS_IN_FLIGHT,
            server_namespace: godwit_api::DEFAULT_NAMESPACE.to_owned(),
        }
    }
}

/// How a backup job ended: everything the server needs for the Backup's status, and what
/// `godwit migrate` prints.
#[derive(Debug, Clone)]
pub struct BackupReport {
    /// The backup's name.
    pub name: String,
    /// `Completed`, `PartiallyFailed`, `Failed` or `FailedValidation`.
    pub phase: BackupPhase,
    /// The final status, as stored in `velero-backup.json`.
    pub status: BackupStatus,
    /// Objects backed up, each counted once.
    pub items_backed_up: u64,
    /// Object versions written to the tarball (more than the items with
    /// `EnableAPIGroupVersions`).
    pub item_versions: u64,
    /// Per group-resource: versions read and counts.
    pub group_resources: BTreeMap<GroupResource, GroupResourceSummary>,
    /// Warning messages, grouped as Velero groups them.
    pub warnings: godwit_backup::Results,
    /// Error messages, grouped as Velero groups them.
    pub errors: godwit_backup::Results,
    /// Why the request is invalid (phase `FailedValidation`).
    pub validation_errors: Vec<String>,
    /// Why the backup could not run (phase `Failed`); empty otherwise.
    pub failure_reason: String,
    /// Whether the backup's files were written to the store (a `Failed` backup is stored too,
    /// with an empty tarball and its log, as Velero stores it; `FailedValidation` is not).
    pub stored: bool,
}

/// How a restore job ended: everything the server needs for the Restore's status, and what
/// `godwit migrate` prints.
#[derive(Debug, Clone)]
pub struct RestoreReport {
    /// The restore's name.
    pub name: String,
    /// `Completed`, `PartiallyFailed`, `Failed` or `FailedValidation`.
    pub phase: RestorePhase,
    /// The final status, `status.godwit.versionChoices` included.
    pub status: RestoreStatus,
    /// Objects created, updated, skipped and failed.
    pub counts: RestoreCounts,
    /// The version restored per group-resource and the rule that chose it.
    pub version_choices: Vec<VersionChoice>,
    /// Group-resources for which no version fits, with the error naming both sides' versions.
    pub version_failures: Vec<(String, String)>,
    /// Warning messages, grouped as Velero groups them.
    pub warnings: godwit_restore::Results,
    /// Error messages, grouped as Velero groups them.
    pub errors: godwit_restore::Results,
    /// Why the request is invalid (phase `FailedValidation`).
    pub validation_errors: Vec<String>,
    /// Why the restore could not run (phase `Failed`); empty otherwise.
    pub failure_reason: String,
}

/// Runs a Velero Backup CR's spec against a cluster and uploads everything to the store.
pub async fn run_backup(
    client: &kube::Client,
    store: &BackupStore,
    backup: &Backup,
    options: &JobOptions,
    progress: impl Fn(godwit_backup::Progress) + Send + Sync + 'static,
) -> anyhow::Result<BackupReport> {
    let name = backup
        .metadata
        .name
        .clone()
        .context("the Backup has no metadata.name; give it a name")?;
    let start = now();
    let mut report = BackupReport {
        name: name.clone(),
        phase: BackupPhase::InProgress,
        status: BackupStatus::default(),
        items_backed_up: 0,
        item_versions: 0,
        group_resources: BTreeMap::new(),
        warnings: godwit_backup::Results::default(),
        errors: godwit_backup::Results::default(),
        validation_errors: Vec::new(),
        failure_reason: String::new(),
        stored: false,
    };
    let spec = match backup_spec(backup) {
        Ok(spec) => spec,
        Err(problems) => {
            report.phase = BackupPhase::FailedValidation;
            report.validation_errors = problems;
            report.status = backup_status(&report, start);
            return Ok(report);
        }
    };

    let tarball = tempfile::NamedTempFile::new()
        .context("cannot create a temporary file for the backup tarball; check TMPDIR")?;
    let writer = tarball
        .reopen()
        .context("cannot open the temporary backup tarball")?;
    let engine_options = BackupOptions {
        backup_name: name.clone(),
        enable_api_group_versions: options.enable_api_group_versions,
        // Lists: each holds up to three pages of 500 objects, and eight at once keep the server
        // busy.
        ..BackupOptions::default()
    };
    // A task of its own: a panic in the engine ends this job with an error, not the caller.
    let engine_client = client.clone();
    let engine = tokio::spawn(async move {
        godwit_backup::run_backup(&engine_client, &spec, &engine_options, writer, progress).await
    })
    .await
    .context("the backup engine stopped unexpectedly")?;
    let mut outcome = match engine {
        Ok((mut file, outcome)) => {
            file.flush()
                .context("cannot finish the temporary backup tarball")?;
            outcome
        }
        Err(godwit_backup::Error::InvalidSpec { field, message }) => {
            report.phase = BackupPhase::FailedValidation;
            report.validation_errors = vec![format!("{field}: {message}")];
            report.status = backup_status(&report, start);
            return Ok(report);
        }
        Err(other) => {
            report.phase = BackupPhase::Failed;
            report.failure_reason = other.to_string();
            report.status = backup_status(&report, start);
            store_failed_backup(store, backup, &report).await?;
            report.stored = true;
            return Ok(report);
        }
    };

    if let Some(field) = file_system_backup_asked(backup) {
        outcome.warnings.add_velero(format!(
            "{field} is true, but godwit does not back up volume data: the contents of pod \
             volumes are not in this backup; `godwit backup describe {name} --details` lists the \
             volumes Velero's file-system backup would have taken"
        ));
    }
    report.phase = match outcome.phase {
        godwit_backup::Phase::Completed => BackupPhase::Completed,
        godwit_backup::Phase::PartiallyFailed => BackupPhase::PartiallyFailed,
    };
    report.items_backed_up = outcome.items_backed_up;
    report.item_versions = outcome.item_versions;
    report.group_resources = outcome.group_resources.clone();
    report.warnings = outcome.warnings.clone();
    report.errors = outcome.errors.clone();
    report.status = backup_status(&report, start);

    let mut stored = backup.clone();
    stored.status = Some(report.status.clone());
    record_source_version(client, &mut stored).await;
    let metadata = serde_json::to_vec(&stored).context("cannot encode velero-backup.json")?;
    let log = gzip(outcome.log.join("\n").as_bytes())?;
    let resource_list = outcome
        .resource_list
        .write_json_gz(Vec::new())
        .context("cannot encode the resource list")?;
    let results = serde_json::json!({ "warnings": outcome.warnings, "errors": outcome.errors });
    let results = gzip(&serde_json::to_vec(&results).context("cannot encode the results")?)?;
    let upload = BackupUpload::new(metadata, Tarball::File(tarball.path().to_path_buf()))
        .with_file(BackupFile::Log, log)
        .with_file(BackupFile::ResourceList, resource_list)
        .with_file(BackupFile::Results, results);
    store
        .put_backup(&name, upload)
        .await
        .with_context(|| format!("cannot store backup {name}"))?;
    report.stored = true;
    Ok(report)
}

/// The spec field that asks for Velero's file-system backup of every pod volume, if one does
/// (`defaultVolumesToRestic` is its deprecated name).
pub fn file_system_backup_asked(backup: &Backup) -> Option<&'static str> {
    if backup.spec.default_volumes_to_fs_backup == Some(true) {
        Some("spec.defaultVolumesToFsBackup")
    } else if backup.spec.default_volumes_to_restic == Some(true) {
        Some("spec.defaultVolumesToRestic")
    } else {
        None
    }
}

/// Records the source cluster's Kubernetes version on the stored Backup, as Velero does (in
/// annotations: a git version such as `v1.32.3+rke2r1` is no valid label value), so a restore
/// can tell a target older than the source. A server that does not say leaves them out.
async fn record_source_version(client: &kube::Client, backup: &mut Backup) {
    let info = match client.apiserver_version().await {
        Ok(info) => info,
        Err(err) => {
            tracing::warn!("cannot read the source's Kubernetes version: {err}");
            return;
        }
    };
    let annotations = backup
        .metadata
        .annotations
        .get_or_insert_with(BTreeMap::new);
    annotations.insert(SOURCE_CLUSTER_K8S_GIT_VERSION.to_owned(), info.git_version);
    annotations.insert(SOURCE_CLUSTER_K8S_MAJOR_VERSION.to_owned(), info.major);
    annotations.insert(SOURCE_CLUSTER_K8S_MINOR_VERSION.to_owned(), info.minor);
}

/// The source cluster's Kubernetes version a Backup records: Velero's annotations, or the
/// labels Velero wrote before 1.11. `None` when it records none.
pub fn source_version(backup: &Backup) -> Option<godwit_restore::ServerVersion> {
    let maps = [&backup.metadata.annotations, &backup.metadata.labels];
    let read = |key: &str| {
        maps.iter()
            .find_map(|map| map.as_ref().and_then(|m| m.get(key)))
            .map(String::as_str)
    };
    godwit_restore::ServerVersion::parse(
        read(SOURCE_CLUSTER_K8S_MAJOR_VERSION)?,
        read(SOURCE_CLUSTER_K8S_MINOR_VERSION)?,
        read(SOURCE_CLUSTER_K8S_GIT_VERSION).unwrap_or_default(),
    )
}

/// Stores a backup that could not run, as Velero does: its metadata (phase `Failed`, the
/// reason), an empty tarball and a log naming the failure, so `backup logs` and the backup sync
/// see it.
async fn store_failed_backup(
    store: &BackupStore,
    backup: &Backup,
    report: &BackupReport,
) -> anyhow::Result<()> {
    let mut stored = backup.clone();
    stored.status = Some(report.status.clone());
    let metadata = serde_json::to_vec(&stored).context("cannot encode velero-backup.json")?;
    let (tarball, _) = godwit_tarball::BackupWriter::new(Vec::new())
        .and_then(godwit_tarball::BackupWriter::finish)
        .context("cannot write an empty backup tarball")?;
    let log = gzip(format!("backup failed: {}\n", report.failure_reason).as_bytes())?;
    let upload =
        BackupUpload::new(metadata, Tarball::Bytes(tarball.into())).with_file(BackupFile::Log, log);
    store
        .put_backup(&report.name, upload)
        .await
        .with_context(|| format!("cannot store failed backup {}", report.name))
}

/// Runs a Velero Restore CR against a cluster from a backup in the store; uploads log and results.
pub async fn run_restore(
    client: &kube::Client,
    store: &BackupStore,
    restore: &Restore,
    options: &JobOptions,
    progress: impl Fn(godwit_restore::Progress) + Send + Sync + 'static,
) -> anyhow::Result<RestoreReport> {
    let name = restore
        .metadata
        .name
        .clone()
        .context("the Restore has no metadata.name; give it a name")?;
    let start = now();
    let mut report = RestoreReport {
        name: name.clone(),
        phase: RestorePhase::InProgress,
        status: RestoreStatus::default(),
        counts: RestoreCounts::default(),
        version_choices: Vec::new(),
        version_failures: Vec::new(),
        warnings: godwit_restore::Results::default(),
        errors: godwit_restore::Results::default(),
        validation_errors: Vec::new(),
        failure_reason: String::new(),
    };
    let fail_validation = |mut report: RestoreReport, problems: Vec<String>| {
        report.phase = RestorePhase::FailedValidation;
        report.validation_errors = problems;
        report.status = restore_status(&report, start.clone(), None);
        report
    };
    let mut spec = match restore_spec(restore, options) {
        Ok(spec) => spec,
        Err(problems) => return Ok(fail_validation(report, problems)),
    };
    let backup_name = spec.backup_name.clone();

    match store.get_backup_metadata(&backup_name).await {
        Ok(bytes) => match stored_backup(&backup_name, &bytes) {
            Ok(backup) => {
                if let Some(problem) = unusable_backup(&backup) {
                    let problem = format!(
                        "{problem} (as its velero-backup.json in {} says)",
                        store.location()
                    );
                    return Ok(fail_validation(report, vec![problem]));
                }
                spec.source_version = source_version(&backup);
            }
            Err(problem) => return Ok(fail_validation(report, vec![problem])),
        },
        Err(godwit_storage::Error::NotFound { .. }) => {
            let problem = format!(
                "backup {backup_name} not found in {}; run `godwit backup get` to list backups",
                store.location()
            );
            return Ok(fail_validation(report, vec![problem]));
        }
        Err(err) => {
            report.phase = RestorePhase::Failed;
            report.failure_reason = format!("cannot read backup {backup_name}: {err}");
            report.status = restore_status(&report, start.clone(), None);
            return Ok(report);
        }
    }

    let workdir = tempfile::tempdir()
        .context("cannot create a temporary folder for the backup; check TMPDIR")?;
    let extracted = match download_and_extract(store, &backup_name, workdir.path()).await {
        Ok(extracted) => extracted,
        Err(err) => {
            report.phase = RestorePhase::Failed;
            report.failure_reason = format!("{err:#}");
            report.status = restore_status(&report, start.clone(), None);
            return Ok(report);
        }
    };

    let execute_options = ExecuteOptions {
        concurrency: options.concurrency.max(1),
        server_namespace: options.server_namespace.clone(),
        progress: Some(Arc::new(progress)),
        ..ExecuteOptions::default()
    };
    let mut result = godwit_restore::restore(client, &extracted, spec, &execute_options).await;

    let log = gzip(result.log.join("\n").as_bytes())?;
    if let Err(err) = store.put_restore_log(&name, log).await {
        result
            .warnings
            .add_velero(format!("the restore log was not stored: {err}"));
    }
    let results =
        gzip(&serde_json::to_vec(&result.results_json()).context("cannot encode the results")?)?;
    if let Err(err) = store.put_restore_results(&name, results).await {
        result
            .warnings
            .add_velero(format!("the restore results were not stored: {err}"));
    }

    report.phase = match result.phase {
        godwit_restore::Phase::Completed => RestorePhase::Completed,
        godwit_restore::Phase::PartiallyFailed => RestorePhase::PartiallyFailed,
        godwit_restore::Phase::Failed => RestorePhase::Failed,
    };
    if report.phase == RestorePhase::Failed {
        report.failure_reason = result.errors.velero.join("; ");
    }
    report.counts = result.counts;
    if let Some(plan) = &result.plan {
        let (choices, failures) = version_choices(plan);
        report.version_choices = choices;
        report.version_failures = failures;
    }
    report.warnings = result.warnings;
    report.errors = result.errors;
    let progress = RestoreProgress {
        total_items: to_i64(report.counts.total),
        items_restored: to_i64(report.counts.total),
    };
    report.status = restore_status(&report, start, Some(progress));
    Ok(report)
}

/// Downloads a backup's tarball into `workdir` and unpacks its objects there (checking every
/// entry; one file of objects, not one file each, see `godwit_tarball::unpack`).
pub async fn download_and_extract(
    store: &BackupStore,
    backup_name: &str,
    workdir: &std::path::Path,
) -> anyhow::Result<godwit_tarball::ExtractedBackup> {
    let tarball = workdir.join("backup.tar.gz");
    store
        .download_tarball(backup_name, &tarball)
        .await
        .with_context(|| format!("cannot download the tarball of backup {backup_name}"))?;
    let destination = workdir.join("contents");
    tokio::task::spawn_blocking(move || -> anyhow::Result<godwit_tarball::ExtractedBackup> {
        let file = std::fs::File::open(&tarball)
            .with_context(|| format!("cannot open {}", tarball.display()))?;
        let extracted = godwit_tarball::unpack(
            std::io::BufReader::new(file),
            &destination,
            &godwit_tarball::Limits::default(),
        )?;
        Ok(extracted)
    })
    .await
    .context("the tarball reader stopped unexpectedly")?
    .with_context(|| {
        let key = store
            .tarball_key(backup_name)
            .unwrap_or_else(|_| format!("{backup_name}.tar.gz"));
        format!(
            "cannot read the tarball of backup {backup_name} ({key} in {}); nothing was restored",
            store.location()
        )
    })
}

/// Velero restores only from backups that ran to the end; `None` when this one may be used.
pub fn unusable_backup(backup: &Backup) -> Option<String> {
    let name = backup.metadata.name.as_deref().unwrap_or("");
    match backup.phase() {
        Some(BackupPhase::Completed | BackupPhase::PartiallyFailed) => None,
        Some(phase) => Some(format!(
            "backup {name} is in phase {phase}; restore from a Completed or PartiallyFailed backup"
        )),
        None => Some(format!(
            "backup {name} has no phase yet; wait until it is Completed"
        )),
    }
}

/// Reads the `velero-backup.json` stored for backup `name`, refusing one that cannot be trusted
/// to describe it: not a Backup, naming another backup (copied or tampered with), or in a format
/// godwit cannot read. The error names the backup and the file. An empty format version is what
/// Velero wrote before it recorded one, and is read as 1.
pub fn stored_backup(name: &str, metadata: &[u8]) -> Result<Backup, String> {
    let damaged = |what: String| {
        format!(
            "backup {name}: its velero-backup.json {what}; the store holds a damaged backup, \
             delete it with `godwit backup delete {name}`"
        )
    };
    let backup: Backup = serde_json::from_slice(metadata)
        .map_err(|err| damaged(format!("is not a Backup ({err})")))?;
    match backup.metadata.name.as_deref() {
        Some(stored) if stored == name => {}
        Some(stored) => return Err(damaged(format!("describes backup {stored:?}"))),
        None => return Err(damaged("has no metadata.name".to_owned())),
    }
    let format = backup
        .status
        .as_ref()
        .map_or("", |status| status.format_version.as_str());
    if !format.is_empty() && !godwit_tarball::SUPPORTED_FORMAT_VERSIONS.contains(&format) {
        return Err(format!(
            "backup {name}: its velero-backup.json says format version {format:?}, and godwit \
             reads formats {}; restore it with a tool that reads that format",
            godwit_tarball::SUPPORTED_FORMAT_VERSIONS.join(", ")
        ));
    }
    Ok(backup)
}

/// The version choice per group-resource of an executed plan, and the group-resources that got
/// none (with the error).
pub fn version_choices(plan: &godwit_restore::Plan) -> (Vec<VersionChoice>, Vec<(String, String)>) {
    let mut choices = Vec::new();
    let mut failures = Vec::new();
    for tier in &plan.tiers {
        match &tier.decision {
            godwit_restore::Decision::Chosen { choice, .. } => {
                choices.push(VersionChoice::from(choice));
            }
            godwit_restore::Decision::Failed { error, .. } => {
                failures.push((tier.group_resource.to_string(), error.clone()));
            }
            godwit_restore::Decision::Deferred { .. } => {}
        }
    }
    choices.sort_by(|a, b| a.group_resource.cmp(&b.group_resource));
    failures.sort();
    (choices, failures)
}

/// The engine's backup spec from a Backup CR. Every problem is listed, naming its field.
pub fn backup_spec(backup: &Backup) -> Result<godwit_backup::BackupSpec, Vec<String>> {
    let spec = &backup.spec;
    let mut problems = Vec::new();
    for (field, value) in [
        (
            "spec.includedClusterScopedResources",
            &spec.included_cluster_scoped_resources,
        ),
        (
            "spec.excludedClusterScopedResources",
            &spec.excluded_cluster_scoped_resources,
        ),
        (
            "spec.includedNamespaceScopedResources",
            &spec.included_namespace_scoped_resources,
        ),
        (
            "spec.excludedNamespaceScopedResources",
            &spec.excluded_namespace_scoped_resources,
        ),
    ] {
        if value.as_ref().is_some_and(|v| !v.is_empty()) {
            problems.push(format!(
                "{field} is not supported by godwit; use spec.includedResources, \
                 spec.excludedResources and spec.includeClusterResources"
            ));
        }
    }
    let label_selector = spec.label_selector.as_ref().map(selector_text);
    let or_label_selectors: Vec<String> = spec
        .or_label_selectors
        .iter()
        .flatten()
        .map(selector_text)
        .collect();
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(godwit_backup::BackupSpec {
        included_namespaces: spec.included_namespaces.clone().unwrap_or_default(),
        excluded_namespaces: spec.excluded_namespaces.clone().unwrap_or_default(),
        included_resources: spec.included_resources.clone().unwrap_or_default(),
        excluded_resources: spec.excluded_resources.clone().unwrap_or_default(),
        include_cluster_resources: spec.include_cluster_resources,
        label_selector,
        or_label_selectors,
    })
}

/// The engine's restore spec from a Restore CR and the server's settings. Every problem is
/// listed, naming its field.
pub fn restore_spec(
    restore: &Restore,
    options: &JobOptions,
) -> Result<godwit_restore::RestoreSpec, Vec<String>> {
    let spec = &restore.spec;
    let mut problems = Vec::new();
    if spec.backup_name.trim().is_empty() {
        problems.push(if spec.schedule_name.is_empty() {
            "spec.backupName is empty; name the backup to restore from".to_owned()
        } else {
            "spec.scheduleName is not supported by godwit; set spec.backupName".to_owned()
        });
    }
    let name = restore.metadata.name.clone().unwrap_or_default();
    let mut engine = godwit_restore::RestoreSpec::new(spec.backup_name.trim(), name);
    engine.included_namespaces = spec.included_namespaces.clone().unwrap_or_default();
    engine.excluded_namespaces = spec.excluded_namespaces.clone().unwrap_or_default();
    engine.included_resources = spec.included_resources.clone().unwrap_or_default();
    engine.excluded_resources = spec.excluded_resources.clone().unwrap_or_default();
    engine.namespace_mapping = spec.namespace_mapping.clone().unwrap_or_default();
    for (old, new) in &engine.namespace_mapping {
        if old.trim().is_empty() || new.trim().is_empty() {
            problems.push(format!(
                "spec.namespaceMapping has an empty name in {old:?}: {new:?}; map a namespace to a namespace"
            ));
        }
    }
    if let Some(selector) = &spec.label_selector {
        match restore_selector(selector) {
            Ok(selector) => engine.label_selector = Some(selector),
            Err(why) => problems.push(format!("spec.labelSelector: {why}")),
        }
    }
    for (index, selector) in spec.or_label_selectors.iter().flatten().enumerate() {
        match restore_selector(selector) {
            Ok(selector) => engine.or_label_selectors.push(selector),
            Err(why) => problems.push(format!("spec.orLabelSelectors[{index}]: {why}")),
        }
    }
    engine.existing_resource_policy = match &spec.existing_resource_policy {
        None | Some(godwit_api::ExistingResourcePolicy::None) => ExistingResourcePolicy::None,
        Some(godwit_api::ExistingResourcePolicy::Update) => ExistingResourcePolicy::Update,
        Some(other) => {
            problems.push(format!(
                "spec.existingResourcePolicy {:?} is invalid; use none or update",
                other.to_string()
            ));
            ExistingResourcePolicy::None
        }
    };
    engine.preserve_node_ports = spec.preserve_node_ports.unwrap_or(false);
    engine.include_cluster_resources = spec.include_cluster_resources;
    engine.restore_status =
        spec.restore_status
            .as_ref()
            .map(|selection| godwit_restore::ResourceSelection {
                included: selection.included_resources.clone().unwrap_or_default(),
                excluded: selection.excluded_resources.clone().unwrap_or_default(),
            });
    let (mut unsupported, warnings) = unsupported_fields(spec);
    problems.append(&mut unsupported);
    engine.request_warnings = warnings;
    engine.enable_api_group_versions = options.enable_api_group_versions;
    if let Some(priorities) = &options.restore_resource_priorities {
        engine.resource_priorities = priorities.clone();
    }
    if problems.is_empty() {
        Ok(engine)
    } else {
        Err(problems)
    }
}

/// Restore fields godwit cannot honour: those whose absence of effect would surprise (validation
/// problems, each naming its field), and those with nothing to act on in godwit, which has no
/// volume snapshots, moves no volume data and runs no asynchronous item operations (warnings).
fn unsupported_fields(spec: &godwit_api::RestoreSpec) -> (Vec<String>, Vec<String>) {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    // Velero's CLI always writes `hooks: {}`; only hooks that name resources would do anything.
    let has_hooks = spec.hooks.as_ref().is_some_and(|hooks| {
        hooks
            .get("resources")
            .and_then(serde_json::Value::as_array)
            .is_some_and(|resources| !resources.is_empty())
    });
    if has_hooks {
        problems.push(
            "spec.hooks: restore hooks are not supported by godwit (it adds no init containers \
             and runs no commands in restored pods); remove spec.hooks and run them after the \
             restore"
                .to_owned(),
        );
    }
    if let Some(modifier) = &spec.resource_modifier {
        problems.push(format!(
            "spec.resourceModifier: resource modifiers (ConfigMap {:?}) are not supported by \
             godwit; remove spec.resourceModifier and change the objects after the restore",
            modifier.name
        ));
    }
    if spec.restore_pvs == Some(true) {
        warnings.push(
            "spec.restorePVs: godwit takes no volume snapshots and restores no volume data; \
             PersistentVolumes are restored as the backup holds them"
                .to_owned(),
        );
    }
    if spec.item_operation_timeout.is_some() {
        warnings.push(
            "spec.itemOperationTimeout has nothing to bound: godwit runs no asynchronous item \
             operations"
                .to_owned(),
        );
    }
    if spec.uploader_config.is_some() {
        warnings.push(
            "spec.uploaderConfig has nothing to configure: godwit restores no volume data \
             (no file-system restore)"
                .to_owned(),
        );
    }
    (problems, warnings)
}

/// A Kubernetes label selector in `kubectl`'s text form (`app=web,tier in (a,b),!canary`).
pub fn selector_text(selector: &LabelSelector) -> String {
    let mut terms: Vec<String> = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    for expression in selector.match_expressions.iter().flatten() {
        let values = expression.values.clone().unwrap_or_default().join(",");
        terms.push(match expression.operator.as_str() {
            "In" => format!("{} in ({values})", expression.key),
            "NotIn" => format!("{} notin ({values})", expression.key),
            "Exists" => expression.key.clone(),
            "DoesNotExist" => format!("!{}", expression.key),
            // An operator Kubernetes does not know: keep it visible so validation names it.
            other => format!("{} {other} ({values})", expression.key),
        });
    }
    terms.join(",")
}

/// A Kubernetes label selector as the restore engine's type.
fn restore_selector(selector: &LabelSelector) -> Result<godwit_restore::LabelSelector, String> {
    let mut out = godwit_restore::LabelSelector {
        match_labels: selector.match_labels.clone().unwrap_or_default(),
        match_expressions: Vec::new(),
    };
    for expression in selector.match_expressions.iter().flatten() {
        let operator = match expression.operator.as_str() {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            other => {
                return Err(format!(
                    "operator {other:?} of key {:?} is not one of In, NotIn, Exists, DoesNotExist",
                    expression.key
                ));
            }
        };
        out.match_expressions
            .push(godwit_restore::LabelSelectorRequirement {
                key: expression.key.clone(),
                operator,
                values: expression.values.clone().unwrap_or_default(),
            });
    }
    Ok(out)
}

fn backup_status(report: &BackupReport, start: Time) -> BackupStatus {
    let ran = matches!(
        report.phase,
        BackupPhase::Completed | BackupPhase::PartiallyFailed
    );
    BackupStatus {
        version: 1,
        format_version: FORMAT_VERSION.to_owned(),
        phase: Some(report.phase.clone()),
        validation_errors: (!report.validation_errors.is_empty())
            .then(|| report.validation_errors.clone()),
        start_timestamp: Some(start),
        completion_timestamp: Some(now()),
        failure_reason: report.failure_reason.clone(),
        warnings: to_i64(report.warnings.len()),
        errors: to_i64(report.errors.len()),
        progress: ran.then(|| BackupProgress {
            total_items: u64_to_i64(report.items_backed_up),
            items_backed_up: u64_to_i64(report.items_backed_up),
        }),
        ..BackupStatus::default()
    }
}

fn restore_status(
    report: &RestoreReport,
    start: Time,
    progress: Option<RestoreProgress>,
) -> RestoreStatus {
    RestoreStatus {
        phase: Some(report.phase.clone()),
        validation_errors: (!report.validation_errors.is_empty())
            .then(|| report.validation_errors.clone()),
        warnings: to_i64(report.warnings.len()),
        errors: to_i64(report.errors.len()),
        failure_reason: report.failure_reason.clone(),
        start_timestamp: Some(start),
        completion_timestamp: Some(now()),
        progress,
        godwit: (!report.version_choices.is_empty()).then(|| GodwitRestoreStatus {
            version_choices: report.version_choices.clone(),
        }),
        ..RestoreStatus::default()
    }
}

/// Gzips bytes, as Velero stores logs and results.
pub fn gzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).context("cannot gzip")?;
    encoder.finish().context("cannot gzip")
}

/// The current time, second precision as Kubernetes stores it.
pub fn now() -> Time {
    let now = jiff::Timestamp::now();
    Time(jiff::Timestamp::from_second(now.as_second()).unwrap_or(now))
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn u64_to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
