//! `cargo xtask soak`: a backup and a restore of many ConfigMaps through the fault proxy
//! ([`crate::fault_proxy`]) against one cluster, checked object by object.
//!
//! 1. A bare client creates N ConfigMaps in namespace `soak-cm` (as the bench does).
//! 2. godwit's backup engine backs the namespace up twice: straight from the API server, then
//!    through the proxy. The two tarballs must hold the same object entries with the same bytes
//!    (nothing changed in between, so even `resourceVersion`s agree).
//! 3. One ConfigMap in `existing_every` is created in the target namespace `soak-cm-restored`
//!    beforehand, with other data.
//! 4. godwit's restore engine restores the faulty backup through the proxy, `soak-cm` mapped to
//!    `soak-cm-restored`, existing-resource policy `none`.
//! 5. The judge ([`judge`], pure): every ConfigMap has exactly one outcome; the pre-existing ones
//!    are skipped and unchanged (same `resourceVersion` and data); every other one is created,
//!    the API server answered `201 Created` for it exactly once (the proxy's record of the
//!    wire), and it holds the backed-up data and this restore's label; nothing else appeared.
//!
//! The report counts what the proxy injected per kind and what godwit's client retried.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, anyhow};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{ListParams, PostParams};
use kube::{Api, Client};
use serde::Serialize;

use crate::fault_proxy::{self, FaultCounts, FaultKind, Schedule};

/// The namespace the ConfigMaps are created in (`bench::config_maps("soak", ..)`'s).
pub const SOURCE_NAMESPACE: &str = "soak-cm";
/// The namespace they are restored into.
pub const TARGET_NAMESPACE: &str = "soak-cm-restored";
/// The restore's name, also the value of its `velero.io/restore-name` label.
pub const RESTORE_NAME: &str = "soak-restore";
/// What the control plane itself keeps in every namespace; the restore leaves it alone.
const MADE_BY_THE_TARGET: &str = "kube-root-ca.crt";

/// How a soak runs.
#[derive(Debug, Clone)]
pub struct SoakOptions {
    /// ConfigMaps backed up and restored.
    pub objects: usize,
    /// The proxy's faults.
    pub schedule: Schedule,
    /// One ConfigMap in this many exists in the target before the restore (0: none).
    pub existing_every: usize,
    /// The restore's requests in flight.
    pub in_flight: usize,
    /// Objects per list page of both backups.
    pub page_size: u32,
    /// Where the tarballs and the proxy's kubeconfig go.
    pub work_dir: PathBuf,
}

impl SoakOptions {
    /// The defaults for `objects` ConfigMaps at `rate`, seed `seed`, under `work_dir`.
    pub fn new(objects: usize, rate: f64, seed: u64, work_dir: PathBuf) -> Self {
        SoakOptions {
            objects,
            schedule: Schedule::new(seed, rate),
            existing_every: 100,
            in_flight: godwit_restore::DEFAULT_REQUESTS_IN_FLIGHT,
            // Smaller than Velero's 500, so the backup makes enough requests to meet faults.
            page_size: 100,
            work_dir,
        }
    }
}

/// What one engine run through the proxy met.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunFigures {
    /// What the proxy saw and injected during the run.
    pub proxy: FaultCounts,
    /// Retries godwit's client counted.
    pub retries: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// The engine's phase.
    pub phase: String,
}

/// How the faulty backup compares with the fault-free one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TarballComparison {
    /// Object entries in the fault-free tarball.
    pub entries: usize,
    /// Entries missing, extra or different in the faulty one.
    pub differing: usize,
    /// The first few of them.
    pub examples: Vec<String>,
}

impl TarballComparison {
    /// True when both tarballs hold the same entries with the same bytes.
    pub fn identical(&self) -> bool {
        self.differing == 0
    }
}

/// A ConfigMap as read from the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveConfigMap {
    /// `metadata.resourceVersion`.
    pub resource_version: String,
    /// `data`.
    pub data: BTreeMap<String, String>,
    /// Its `velero.io/restore-name` label.
    pub restore_name: Option<String>,
}

/// Everything the judge looks at, fetched by [`run`].
#[derive(Debug, Clone, Default)]
pub struct RestoreEvidence {
    /// The backed-up ConfigMaps: name to data.
    pub expected: BTreeMap<String, BTreeMap<String, String>>,
    /// The target's ConfigMaps made before the restore, as they were then.
    pub preexisting: BTreeMap<String, LiveConfigMap>,
    /// The restore's outcomes per ConfigMap name (`Created`, `Skipped`, ...).
    pub outcomes: BTreeMap<String, Vec<String>>,
    /// `201 Created` answers the API server sent per ConfigMap name (the proxy's record).
    pub created_on_wire: BTreeMap<String, u32>,
    /// The target's ConfigMaps after the restore.
    pub live: BTreeMap<String, LiveConfigMap>,
}

/// The judge's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreFigures {
    /// Outcomes `Created`.
    pub created: usize,
    /// `201 Created` answers on the wire.
    pub created_on_wire: usize,
    /// Outcomes `Skipped`.
    pub skipped: usize,
    /// Outcomes of any other kind (`Failed`, `Updated`).
    pub other: usize,
    /// Second outcomes for one object, plus second `201`s for one name.
    pub duplicates: usize,
    /// Backed-up objects without an outcome, or absent from the target.
    pub missing: usize,
    /// Pre-existing objects whose `resourceVersion` or data changed.
    pub changed_live: usize,
    /// Restored objects whose data or restore label is not what they should be.
    pub wrong_content: usize,
    /// Objects in the target namespace that are neither backed up nor the control plane's.
    pub unexpected: usize,
    /// Backed-up objects present in the target after the restore.
    pub in_target: usize,
    /// What broke the rules, one line each (the first few of each kind).
    pub violations: Vec<String>,
}

/// The soak's report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SoakReport {
    /// `sim` or `envtest v1.36.3`.
    pub cluster: String,
    /// ConfigMaps backed up and restored.
    pub objects: usize,
    /// The proxy's fault rate.
    pub fault_rate: f64,
    /// The proxy's seed.
    pub seed: u64,
    /// Seconds the bare client took to create the ConfigMaps.
    pub create_seconds: f64,
    /// Seconds the fault-free backup took.
    pub clean_backup_seconds: f64,
    /// The faulty backup.
    pub backup: RunFigures,
    /// It against the fault-free one.
    pub tarballs: TarballComparison,
    /// The restore.
    pub restore: RunFigures,
    /// ConfigMaps that existed in the target beforehand.
    pub preexisting: usize,
    /// The judge's figures.
    pub figures: RestoreFigures,
    /// Everything that broke a rule; empty when the soak passed.
    pub violations: Vec<String>,
}

impl SoakReport {
    /// True when no rule was broken.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Runs the soak against the API server of `upstream` (a kubeconfig), named `cluster` in the
/// report. The cluster should be fresh: the namespaces must not exist.
pub async fn run(
    upstream: &Path,
    cluster: &str,
    options: &SoakOptions,
) -> anyhow::Result<SoakReport> {
    std::fs::create_dir_all(&options.work_dir)
        .with_context(|| format!("cannot create {}", options.work_dir.display()))?;
    let client = crate::kubeapi::client(upstream).await?;
    let workload = crate::bench::config_maps("soak", options.objects);
    if workload.namespaces != [SOURCE_NAMESPACE] {
        return Err(anyhow!(
            "the workload's namespace is not {SOURCE_NAMESPACE}"
        ));
    }
    println!("soak on {cluster}: creating {} ConfigMaps", options.objects);
    let create_seconds = crate::bench::raw_create(&client, &workload, 64)
        .await?
        .as_secs_f64();
    // Both backups must see what the control plane adds to a namespace (its root CA ConfigMap
    // and default ServiceAccount, from two controllers), or they differ by it.
    crate::kubeapi::wait_namespace_filled(&client, SOURCE_NAMESPACE).await?;

    println!("soak: fault-free backup");
    let clean_tarball = options.work_dir.join("fault-free.tar.gz");
    let direct = crate::bench::godwit_client(upstream).await?;
    let started = Instant::now();
    backup(&direct, options, &clean_tarball).await?;
    let clean_backup_seconds = started.elapsed().as_secs_f64();

    let proxy = fault_proxy::start(upstream, options.schedule, &options.work_dir).await?;
    println!(
        "soak: fault proxy at {} (rate {}, seed {})",
        proxy.url, options.schedule.rate, options.schedule.seed
    );
    let retries = godwit_client::Retries::default();
    let yaml = std::fs::read_to_string(&proxy.kubeconfig)?;
    let faulty = godwit_client::from_kubeconfig_yaml(
        &yaml,
        godwit_client::RequestPolicy::default(),
        &retries,
    )
    .await?;

    println!("soak: backup through the proxy");
    let faulty_tarball = options.work_dir.join("through-faults.tar.gz");
    let before = proxy.counts();
    let started = Instant::now();
    let phase = backup(&faulty, options, &faulty_tarball).await?;
    let backup_figures = RunFigures {
        proxy: proxy.counts().since(&before),
        retries: retries.count(),
        seconds: started.elapsed().as_secs_f64(),
        phase,
    };
    let tarballs = compare_entries(
        &tarball_entries(&clean_tarball)?,
        &tarball_entries(&faulty_tarball)?,
    );

    let preexisting = precreate(&client, &workload, options.existing_every).await?;
    println!(
        "soak: restore through the proxy ({} ConfigMaps already in {TARGET_NAMESPACE})",
        preexisting.len()
    );
    let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
    let file = std::fs::File::open(&faulty_tarball)?;
    let extracted = godwit_tarball::unpack(
        file,
        &dir.path().join("backup"),
        &godwit_tarball::Limits::default(),
    )?;
    let mut spec = godwit_restore::RestoreSpec::new("soak", RESTORE_NAME);
    spec.namespace_mapping = [(SOURCE_NAMESPACE.to_owned(), TARGET_NAMESPACE.to_owned())]
        .into_iter()
        .collect();
    spec.existing_resource_policy = godwit_restore::ExistingResourcePolicy::None;
    let restore_options = godwit_restore::ExecuteOptions {
        concurrency: options.in_flight,
        ..godwit_restore::ExecuteOptions::default()
    };
    let (before, retries_before) = (proxy.counts(), retries.count());
    let started = Instant::now();
    let result = godwit_restore::restore(&faulty, &extracted, spec, &restore_options).await;
    let restore_figures = RunFigures {
        proxy: proxy.counts().since(&before),
        retries: retries.count() - retries_before,
        seconds: started.elapsed().as_secs_f64(),
        phase: format!("{:?}", result.phase),
    };

    let mut outcomes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for outcome in &result.outcomes {
        let object = &outcome.object;
        if object.group_resource.is_core()
            && object.group_resource.resource == "configmaps"
            && object.namespace.as_deref() == Some(SOURCE_NAMESPACE)
            && object.name != MADE_BY_THE_TARGET
        {
            outcomes
                .entry(object.name.clone())
                .or_default()
                .push(format!("{:?}", outcome.outcome));
        }
    }
    let evidence = RestoreEvidence {
        expected: expected_data(&workload),
        preexisting: preexisting.clone(),
        outcomes,
        created_on_wire: proxy
            .created(&format!("/api/v1/namespaces/{TARGET_NAMESPACE}/configmaps")),
        live: list_config_maps(&client, TARGET_NAMESPACE).await?,
    };
    let figures = judge(&evidence);

    let mut violations = Vec::new();
    if backup_figures.phase != "Completed" {
        violations.push(format!(
            "the backup through the proxy ended {}",
            backup_figures.phase
        ));
    }
    if !tarballs.identical() {
        violations.push(format!(
            "the backup through the proxy differs from the fault-free one in {} of {} entries: {}",
            tarballs.differing,
            tarballs.entries,
            tarballs.examples.join(", ")
        ));
    }
    if restore_figures.phase != "Completed" {
        violations.push(format!(
            "the restore ended {}: {}",
            restore_figures.phase,
            result.errors.all().take(5).collect::<Vec<_>>().join("; ")
        ));
    }
    for (what, figures) in [("backup", &backup_figures), ("restore", &restore_figures)] {
        if figures.proxy.upstream_errors > 0 {
            violations.push(format!(
                "the proxy could not reach the API server {} times during the {what}",
                figures.proxy.upstream_errors
            ));
        }
    }
    violations.extend(figures.violations.iter().cloned());
    Ok(SoakReport {
        cluster: cluster.to_owned(),
        objects: options.objects,
        fault_rate: options.schedule.rate,
        seed: options.schedule.seed,
        create_seconds,
        clean_backup_seconds,
        backup: backup_figures,
        tarballs,
        restore: restore_figures,
        preexisting: preexisting.len(),
        figures,
        violations,
    })
}

/// Backs up [`SOURCE_NAMESPACE`] into `out`; returns the phase.
async fn backup(client: &Client, options: &SoakOptions, out: &Path) -> anyhow::Result<String> {
    let spec = godwit_backup::BackupSpec {
        included_namespaces: vec![SOURCE_NAMESPACE.to_owned()],
        ..godwit_backup::BackupSpec::default()
    };
    let backup_options = godwit_backup::BackupOptions {
        backup_name: "soak".to_owned(),
        page_size: options.page_size,
        ..godwit_backup::BackupOptions::default()
    };
    let file =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let (_, outcome) =
        godwit_backup::run_backup(client, &spec, &backup_options, file, |_| {}).await?;
    if !outcome.errors.is_empty() {
        let errors: Vec<&str> = outcome.errors.messages().take(3).collect();
        println!("soak: the backup reported errors: {errors:?}");
    }
    Ok(format!("{:?}", outcome.phase))
}

/// The backed-up ConfigMaps' data, by name.
fn expected_data(workload: &crate::bench::Workload) -> BTreeMap<String, BTreeMap<String, String>> {
    workload
        .objects
        .iter()
        .filter_map(|(_, body)| {
            let name = body.pointer("/metadata/name")?.as_str()?.to_owned();
            let data = serde_json::from_value(body.get("data")?.clone()).ok()?;
            Some((name, data))
        })
        .collect()
}

/// Creates the target namespace and one ConfigMap in `every` of the workload's there, with data
/// of their own; returns them as created.
async fn precreate(
    client: &Client,
    workload: &crate::bench::Workload,
    every: usize,
) -> anyhow::Result<BTreeMap<String, LiveConfigMap>> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace: Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": TARGET_NAMESPACE}}))?;
    namespaces
        .create(&PostParams::default(), &namespace)
        .await
        .with_context(|| format!("cannot create namespace {TARGET_NAMESPACE}"))?;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), TARGET_NAMESPACE);
    let mut made = BTreeMap::new();
    if every == 0 {
        return Ok(made);
    }
    for (index, (_, body)) in workload.objects.iter().enumerate().step_by(every) {
        let name = body
            .pointer("/metadata/name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        let config_map: ConfigMap = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "labels": {"app": "already-here"}},
            "data": {"index": index.to_string(), "owner": "somebody else"},
        }))?;
        let created = api
            .create(&PostParams::default(), &config_map)
            .await
            .with_context(|| format!("cannot create ConfigMap {TARGET_NAMESPACE}/{name}"))?;
        made.insert(name.to_owned(), live(&created));
    }
    Ok(made)
}

fn live(config_map: &ConfigMap) -> LiveConfigMap {
    LiveConfigMap {
        resource_version: config_map
            .metadata
            .resource_version
            .clone()
            .unwrap_or_default(),
        data: config_map.data.clone().unwrap_or_default(),
        restore_name: config_map
            .metadata
            .labels
            .as_ref()
            .and_then(|labels| labels.get("velero.io/restore-name"))
            .cloned(),
    }
}

/// Every ConfigMap of `namespace`, paged.
async fn list_config_maps(
    client: &Client,
    namespace: &str,
) -> anyhow::Result<BTreeMap<String, LiveConfigMap>> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let mut params = ListParams::default().limit(500);
    let mut all = BTreeMap::new();
    loop {
        let page = api
            .list(&params)
            .await
            .with_context(|| format!("cannot list the ConfigMaps of {namespace}"))?;
        for config_map in &page.items {
            let name = config_map.metadata.name.clone().unwrap_or_default();
            all.insert(name, live(config_map));
        }
        match page.metadata.continue_.filter(|token| !token.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(all),
        }
    }
}

/// The object entries of a tarball (`<group-resource>/<version dir>/<namespace>/<name>`) with
/// their bytes.
pub fn tarball_entries(path: &Path) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut entries = BTreeMap::new();
    godwit_tarball::for_each_object(file, &godwit_tarball::Limits::default(), |object| {
        let key = format!(
            "{}/{}/{}/{}",
            object.group_resource,
            object.dir.dir_name(),
            object.namespace.unwrap_or("-"),
            object.name
        );
        entries.insert(key, object.json.to_vec());
    })
    .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(entries)
}

/// How `faulty`'s entries differ from `clean`'s.
pub fn compare_entries(
    clean: &BTreeMap<String, Vec<u8>>,
    faulty: &BTreeMap<String, Vec<u8>>,
) -> TarballComparison {
    let mut differing = Vec::new();
    for (key, bytes) in clean {
        match faulty.get(key) {
            None => differing.push(format!("{key} missing")),
            Some(other) if other != bytes => differing.push(format!("{key} differs")),
            Some(_) => {}
        }
    }
    differing.extend(
        faulty
            .keys()
            .filter(|key| !clean.contains_key(*key))
            .map(|key| format!("{key} extra")),
    );
    TarballComparison {
        entries: clean.len(),
        differing: differing.len(),
        examples: differing.into_iter().take(5).collect(),
    }
}

/// Checks the restore object by object (see the module's step 5).
pub fn judge(evidence: &RestoreEvidence) -> RestoreFigures {
    const EXAMPLES: usize = 5;
    let mut figures = RestoreFigures::default();
    let mut violations: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut note =
        |kind: &'static str, line: String| violations.entry(kind).or_default().push(line);
    for (name, data) in &evidence.expected {
        let outcomes = evidence
            .outcomes
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let wire = evidence.created_on_wire.get(name).copied().unwrap_or(0);
        figures.created_on_wire += usize::try_from(wire).unwrap_or(usize::MAX);
        for outcome in outcomes {
            match outcome.as_str() {
                "Created" => figures.created += 1,
                "Skipped" => figures.skipped += 1,
                _ => figures.other += 1,
            }
        }
        match outcomes {
            [] => {
                figures.missing += 1;
                note("missing", format!("{name}: no outcome"));
            }
            [_] => {}
            more => {
                figures.duplicates += more.len() - 1;
                note("duplicate", format!("{name}: outcomes {more:?}"));
            }
        }
        let live = evidence.live.get(name);
        if live.is_some() {
            figures.in_target += 1;
        }
        if let Some(before) = evidence.preexisting.get(name) {
            if outcomes.iter().any(|outcome| outcome != "Skipped") {
                note(
                    "outcome",
                    format!("{name} existed: outcomes {outcomes:?}, want Skipped"),
                );
            }
            if wire > 0 {
                figures.duplicates += usize::try_from(wire).unwrap_or(usize::MAX);
                note(
                    "duplicate",
                    format!("{name} existed, yet was created {wire} times"),
                );
            }
            if live != Some(before) {
                figures.changed_live += 1;
                note(
                    "changed",
                    format!("{name} existed and changed: {before:?} -> {live:?}"),
                );
            }
            continue;
        }
        if outcomes.iter().any(|outcome| outcome != "Created") {
            note(
                "outcome",
                format!("{name}: outcomes {outcomes:?}, want Created"),
            );
        }
        match wire {
            1 => {}
            0 => note("wire", format!("{name}: no 201 Created on the wire")),
            more => {
                figures.duplicates += usize::try_from(more - 1).unwrap_or(usize::MAX);
                note(
                    "duplicate",
                    format!("{name}: 201 Created {more} times on the wire"),
                );
            }
        }
        match live {
            None => {
                figures.missing += 1;
                note("missing", format!("{name}: not in the target"));
            }
            Some(live)
                if &live.data != data || live.restore_name.as_deref() != Some(RESTORE_NAME) =>
            {
                figures.wrong_content += 1;
                note("content", format!("{name}: {live:?}"));
            }
            Some(_) => {}
        }
    }
    for name in evidence.live.keys() {
        if !evidence.expected.contains_key(name) && name != MADE_BY_THE_TARGET {
            figures.unexpected += 1;
            note(
                "unexpected",
                format!("{name}: in the target, not in the backup"),
            );
        }
    }
    for (kind, lines) in violations {
        let more = lines.len().saturating_sub(EXAMPLES);
        figures.violations.extend(lines.into_iter().take(EXAMPLES));
        if more > 0 {
            figures
                .violations
                .push(format!("... and {more} more of kind {kind}"));
        }
    }
    figures
}

/// The report as a table.
pub fn render(report: &SoakReport) -> String {
    let mut out = format!(
        "SOAK on {}: {} ConfigMaps, fault rate {:.0}%, seed {}\n",
        report.cluster,
        report.objects,
        report.fault_rate * 100.0,
        report.seed
    );
    let row = |label: &str, backup: String, restore: String| {
        format!("  {label:<28} {backup:>12} {restore:>12}\n")
    };
    out.push_str(&row("", "BACKUP".into(), "RESTORE".into()));
    let (backup, restore) = (&report.backup, &report.restore);
    out.push_str(&row(
        "requests through the proxy",
        backup.proxy.requests.to_string(),
        restore.proxy.requests.to_string(),
    ));
    out.push_str(&row(
        "faults injected",
        backup.proxy.total().to_string(),
        restore.proxy.total().to_string(),
    ));
    let share = |counts: &FaultCounts| {
        format!(
            "{:.1}%",
            100.0 * counts.total() as f64 / counts.requests.max(1) as f64
        )
    };
    out.push_str(&row(
        "share of requests spoiled",
        share(&backup.proxy),
        share(&restore.proxy),
    ));
    for kind in FaultKind::ALL {
        out.push_str(&row(
            &format!("  {kind}"),
            backup.proxy.of(kind).to_string(),
            restore.proxy.of(kind).to_string(),
        ));
    }
    out.push_str(&row(
        "creates applied, answer lost",
        backup.proxy.creates_unanswered.to_string(),
        restore.proxy.creates_unanswered.to_string(),
    ));
    out.push_str(&row(
        "retries by godwit's client",
        backup.retries.to_string(),
        restore.retries.to_string(),
    ));
    out.push_str(&row(
        "seconds",
        format!("{:.1}", backup.seconds),
        format!("{:.1}", restore.seconds),
    ));
    out.push_str(&row("phase", backup.phase.clone(), restore.phase.clone()));
    let figures = &report.figures;
    out.push_str(&format!(
        "  backup identical to a fault-free one ({:.1}s): {} ({} object entries, {} differing)\n",
        report.clean_backup_seconds,
        if report.tarballs.identical() {
            "yes"
        } else {
            "NO"
        },
        report.tarballs.entries,
        report.tarballs.differing
    ));
    out.push_str(&format!(
        "  restored: {} created ({} 201s on the wire), {} of {} pre-existing skipped, {} other\n",
        figures.created,
        figures.created_on_wire,
        figures.skipped,
        report.preexisting,
        figures.other
    ));
    out.push_str(&format!(
        "  duplicates found: {}   changed live objects: {}   missing: {}   wrong content: {}   \
         unexpected: {}\n",
        figures.duplicates,
        figures.changed_live,
        figures.missing,
        figures.wrong_content,
        figures.unexpected
    ));
    out.push_str(&format!(
        "  target holds {} of {} backed-up ConfigMaps\n",
        figures.in_target, report.objects
    ));
    if report.passed() {
        out.push_str("  verdict: PASS\n");
    } else {
        out.push_str("  verdict: FAIL\n");
        for violation in &report.violations {
            out.push_str(&format!("    {violation}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(value: &str) -> BTreeMap<String, String> {
        [("k".to_owned(), value.to_owned())].into_iter().collect()
    }

    fn live(rv: &str, value: &str, restore: Option<&str>) -> LiveConfigMap {
        LiveConfigMap {
            resource_version: rv.to_owned(),
            data: data(value),
            restore_name: restore.map(str::to_owned),
        }
    }

    /// Three backed-up objects: `a` and `b` restored, `c` existing beforehand.
    fn good() -> RestoreEvidence {
        let names = ["a", "b", "c"];
        RestoreEvidence {
            expected: names.iter().map(|n| ((*n).to_owned(), data(n))).collect(),
            preexisting: [("c".to_owned(), live("7", "theirs", None))]
                .into_iter()
                .collect(),
            outcomes: [("a", "Created"), ("b", "Created"), ("c", "Skipped")]
                .into_iter()
                .map(|(n, o)| (n.to_owned(), vec![o.to_owned()]))
                .collect(),
            created_on_wire: [("a".to_owned(), 1), ("b".to_owned(), 1)]
                .into_iter()
                .collect(),
            live: [
                ("a".to_owned(), live("10", "a", Some(RESTORE_NAME))),
                ("b".to_owned(), live("11", "b", Some(RESTORE_NAME))),
                ("c".to_owned(), live("7", "theirs", None)),
                (MADE_BY_THE_TARGET.to_owned(), live("1", "ca", None)),
            ]
            .into_iter()
            .collect(),
        }
    }

    fn check(change: impl FnOnce(&mut RestoreEvidence), expected: RestoreFigures) {
        let mut evidence = good();
        change(&mut evidence);
        let mut figures = judge(&evidence);
        let violations = std::mem::take(&mut figures.violations);
        assert_eq!(
            figures,
            RestoreFigures {
                violations: Vec::new(),
                ..expected
            }
        );
        assert_eq!(
            violations.is_empty(),
            expected.violations.is_empty(),
            "{violations:?}"
        );
        for (got, want) in violations.iter().zip(&expected.violations) {
            assert!(got.contains(want.as_str()), "{got:?} lacks {want:?}");
        }
    }

    fn base() -> RestoreFigures {
        RestoreFigures {
            created: 2,
            created_on_wire: 2,
            skipped: 1,
            in_target: 3,
            ..RestoreFigures::default()
        }
    }

    #[test]
    fn a_clean_restore_passes() {
        check(|_| {}, base());
    }

    #[test]
    fn a_second_create_on_the_wire_is_a_duplicate() {
        check(
            |e| {
                e.created_on_wire.insert("a".into(), 2);
            },
            RestoreFigures {
                created_on_wire: 3,
                duplicates: 1,
                violations: vec!["a: 201 Created 2 times".into()],
                ..base()
            },
        );
    }

    #[test]
    fn a_created_outcome_without_a_201_is_caught() {
        check(
            |e| {
                e.created_on_wire.remove("b");
            },
            RestoreFigures {
                created_on_wire: 1,
                violations: vec!["b: no 201 Created".into()],
                ..base()
            },
        );
    }

    #[test]
    fn two_outcomes_for_one_object_are_a_duplicate() {
        check(
            |e| {
                e.outcomes.get_mut("a").unwrap().push("Created".into());
            },
            RestoreFigures {
                created: 3,
                duplicates: 1,
                violations: vec!["a: outcomes".into()],
                ..base()
            },
        );
    }

    #[test]
    fn a_changed_existing_object_is_counted() {
        check(
            |e| {
                e.live
                    .insert("c".into(), live("8", "a", Some(RESTORE_NAME)));
            },
            RestoreFigures {
                changed_live: 1,
                violations: vec!["c existed and changed".into()],
                ..base()
            },
        );
    }

    #[test]
    fn missing_wrong_and_unexpected_objects_are_counted() {
        check(
            |e| {
                e.live.remove("a");
                e.live
                    .insert("b".into(), live("11", "b", Some("another-restore")));
                e.live.insert("zz".into(), live("12", "zz", None));
                e.outcomes.remove("c");
            },
            RestoreFigures {
                missing: 2,
                wrong_content: 1,
                unexpected: 1,
                skipped: 0,
                in_target: 2,
                violations: vec![
                    "b: LiveConfigMap".into(),
                    "a: not in the target".into(),
                    "c: no outcome".into(),
                    "zz: in the target".into(),
                ],
                ..base()
            },
        );
    }

    #[test]
    fn tarballs_compare_by_entry_and_bytes() {
        let entries = |list: &[(&str, &str)]| -> BTreeMap<String, Vec<u8>> {
            list.iter()
                .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
                .collect()
        };
        let clean = entries(&[("a", "1"), ("b", "2"), ("c", "3")]);
        assert!(compare_entries(&clean, &clean).identical());
        let faulty = entries(&[("a", "1"), ("b", "9"), ("d", "4")]);
        let comparison = compare_entries(&clean, &faulty);
        assert_eq!(
            comparison,
            TarballComparison {
                entries: 3,
                differing: 3,
                examples: vec!["b differs".into(), "c missing".into(), "d extra".into()],
            }
        );
    }
}
