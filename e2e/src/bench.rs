//! `cargo xtask bench`: how fast godwit restores and backs up, next to what the API server
//! itself can take, in one run against one cluster (kubesim, or a real control plane).
//!
//! For each workload, (a) ConfigMaps in one namespace and (b) many namespaces each holding a
//! small application (two ConfigMaps, a Secret, a ServiceAccount, a Service, a Role, a
//! RoleBinding, a PVC):
//!
//! 1. the raw-create ceiling: a bare client creates the workload's objects (namespaces first),
//!    N requests in flight;
//! 2. raw paged LIST: the same client makes the lists godwit's backup plan makes for the
//!    workload (every group-resource it would read, and the namespaces), 500 a page, one after
//!    another, counting the workload namespaces' objects as the backup counts them;
//! 3. godwit backup of the workload's namespaces, in a child process (peak RSS read there);
//! 4. godwit restore of that backup into new namespaces, at the default requests in flight,
//!    then one object at a time (Velero's way), then at the default again into other
//!    namespaces, each in a child process;
//! 5. the raw creates again, of the same workload under other names.
//!
//! The bare client and godwit each get two passes, placed symmetrically (bare, godwit, one at a
//! time, godwit, bare), and each is rated by its better pass. A real API server's speed drifts
//! within a run (caches and heap warm up, etcd fills), sometimes up and sometimes down, so the
//! symmetric order gives both sides the same average conditions and the same number of tries.
//!
//! Figures are objects per second from one run each; these machines are shared, so compare the
//! ratios within a run, not runs with each other.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use futures::StreamExt as _;
use kube::api::{DynamicObject, ListParams, PostParams};
use kube::core::ApiResource;
use kube::{Api, Client};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::objects::api_resource;

/// One workload: its namespaces and its objects (each with the resource it is created at).
pub struct Workload {
    /// `configmaps-10000` or `apps-300`.
    pub name: String,
    /// The namespaces it lives in.
    pub namespaces: Vec<String>,
    /// Its objects, in creation order.
    pub objects: Vec<(ApiResource, Value)>,
}

impl Workload {
    /// Everything a create of the workload sends: namespaces, then objects.
    pub fn requests(&self) -> usize {
        self.namespaces.len() + self.objects.len()
    }
}

fn namespaced(namespace: &str, name: &str) -> Value {
    json!({"name": name, "namespace": namespace, "labels": {"app": "bench"}})
}

/// (a) `count` ConfigMaps of about 300 bytes in one namespace.
pub fn config_maps(prefix: &str, count: usize) -> Workload {
    let namespace = format!("{prefix}-cm");
    let resource = api_resource("", "v1", "ConfigMap", "configmaps");
    let objects = (0..count)
        .map(|index| {
            let name = format!("cm-{index:05}");
            (
                resource.clone(),
                json!({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": namespaced(&namespace, &name),
                       "data": {"index": index.to_string(), "payload": "x".repeat(256)}}),
            )
        })
        .collect();
    Workload {
        name: format!("configmaps-{count}"),
        namespaces: vec![namespace],
        objects,
    }
}

/// (b) `count` namespaces, each with two ConfigMaps, a Secret, a ServiceAccount, a Service, a
/// Role, a RoleBinding and a PVC.
pub fn applications(prefix: &str, count: usize) -> Workload {
    let core = |kind: &str, plural: &str| api_resource("", "v1", kind, plural);
    let rbac =
        |kind: &str, plural: &str| api_resource("rbac.authorization.k8s.io", "v1", kind, plural);
    let mut namespaces = Vec::with_capacity(count);
    let mut objects = Vec::with_capacity(count * 8);
    for index in 0..count {
        let namespace = format!("{prefix}-app-{index:03}");
        let meta = |name: &str| namespaced(&namespace, name);
        objects.extend([
            (
                core("ConfigMap", "configmaps"),
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("settings"),
                       "data": {"mode": "production", "replicas": "3"}}),
            ),
            (
                core("ConfigMap", "configmaps"),
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("features"),
                       "data": {"search": "on", "beta": "off"}}),
            ),
            (
                core("Secret", "secrets"),
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta("credentials"),
                       "stringData": {"password": "hunter2"}}),
            ),
            (
                core("ServiceAccount", "serviceaccounts"),
                json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta("web")}),
            ),
            (
                core("Service", "services"),
                json!({"apiVersion": "v1", "kind": "Service", "metadata": meta("web"),
                       "spec": {"selector": {"app": "web"},
                                "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}),
            ),
            (
                rbac("Role", "roles"),
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                       "metadata": meta("reader"),
                       "rules": [{"apiGroups": [""], "resources": ["configmaps"],
                                  "verbs": ["get", "list"]}]}),
            ),
            (
                rbac("RoleBinding", "rolebindings"),
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                       "metadata": meta("web-reads"),
                       "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                   "name": "reader"},
                       "subjects": [{"kind": "ServiceAccount", "name": "web",
                                     "namespace": namespace}]}),
            ),
            (
                core("PersistentVolumeClaim", "persistentvolumeclaims"),
                json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta("data"),
                       "spec": {"accessModes": ["ReadWriteOnce"],
                                "resources": {"requests": {"storage": "1Gi"}}}}),
            ),
        ]);
        namespaces.push(namespace);
    }
    Workload {
        name: format!("apps-{count}x8"),
        namespaces,
        objects,
    }
}

/// Creates the workload with a bare client, `in_flight` requests at once (namespaces first, as
/// a restore must); returns the time it took.
pub async fn raw_create(
    client: &Client,
    workload: &Workload,
    in_flight: usize,
) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let namespaces = api_resource("", "v1", "Namespace", "namespaces");
    let requests = workload.namespaces.iter().map(|name| {
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        (namespaces.clone(), body)
    });
    create_all(client, requests, in_flight).await?;
    create_all(client, workload.objects.iter().cloned(), in_flight).await?;
    Ok(start.elapsed())
}

async fn create_all(
    client: &Client,
    objects: impl Iterator<Item = (ApiResource, Value)>,
    in_flight: usize,
) -> anyhow::Result<()> {
    let params = PostParams::default();
    let mut results = futures::stream::iter(objects)
        .map(|(resource, body)| {
            let client = client.clone();
            let params = &params;
            async move {
                let object: DynamicObject = serde_json::from_value(body)?;
                let api: Api<DynamicObject> = match object.metadata.namespace.as_deref() {
                    Some(namespace) => Api::namespaced_with(client, namespace, &resource),
                    None => Api::all_with(client, &resource),
                };
                api.create(params, &object).await.with_context(|| {
                    format!("cannot create {} {:?}", resource.kind, object.metadata.name)
                })?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(in_flight.max(1));
    while let Some(result) = results.next().await {
        result?;
    }
    Ok(())
}

/// Makes the lists godwit's backup of the workload makes (the same group-resources at the same
/// versions, across the cluster or in the workload's one namespace, and the namespaces), one
/// after another, 500 objects a page; returns how many objects of the workload's namespaces
/// came back (the namespaces themselves included, as the backup counts them) and the time it
/// took. The lists are read from godwit's own plan (not timed), so both sides read the same
/// objects.
pub async fn raw_list(client: &Client, workload: &Workload) -> anyhow::Result<(usize, Duration)> {
    let lists = backup_lists(client, workload).await?;
    let ours: std::collections::HashSet<&str> =
        workload.namespaces.iter().map(String::as_str).collect();
    let start = Instant::now();
    let mut count = 0;
    for (resource, namespace) in &lists {
        let api: Api<DynamicObject> = match namespace {
            Some(namespace) => Api::namespaced_with(client.clone(), namespace, resource),
            None => Api::all_with(client.clone(), resource),
        };
        let mut params = ListParams::default().limit(500);
        loop {
            let page = api.list(&params).await.context("cannot list")?;
            count += page
                .items
                .iter()
                .filter(|object| {
                    let namespace = match resource.plural.as_str() {
                        "namespaces" => object.metadata.name.as_deref(),
                        _ => object.metadata.namespace.as_deref(),
                    };
                    namespace.is_some_and(|namespace| ours.contains(namespace))
                })
                .count();
            match page.metadata.continue_.filter(|token| !token.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => break,
            }
        }
    }
    Ok((count, start.elapsed()))
}

/// The namespaces a backup of the workload asks for: the one by name, or all by pattern.
fn backup_pattern(workload: &Workload) -> String {
    match workload.namespaces.as_slice() {
        [one] => one.clone(),
        _ => format!("{}*", workload_prefix(workload)),
    }
}

/// The lists of godwit's backup plan for the workload (namespaces last).
async fn backup_lists(
    client: &Client,
    workload: &Workload,
) -> anyhow::Result<Vec<(ApiResource, Option<String>)>> {
    let (discovery, _) = godwit_discovery::discover(client).await?;
    let spec = godwit_backup::BackupSpec {
        included_namespaces: vec![backup_pattern(workload)],
        ..godwit_backup::BackupSpec::default()
    };
    let (selection, _) = spec.validate()?.resolve(&discovery)?;
    let plan = godwit_backup::plan(&discovery, &selection, false);
    let resource = |planned: &godwit_backup::PlannedResource, version: &str| {
        api_resource(
            &planned.group_resource.group,
            version,
            &planned.kind,
            &planned.group_resource.resource,
        )
    };
    let mut lists: Vec<(ApiResource, Option<String>)> = plan
        .jobs(&selection.selectors)
        .into_iter()
        .map(|job| {
            let planned = &plan.resources[job.resource];
            let namespace = job.namespace.filter(|_| planned.namespaced);
            (resource(planned, &job.version), namespace)
        })
        .collect();
    if let Some(namespaces) = &plan.namespaces {
        lists.push((resource(namespaces, &namespaces.preferred_version), None));
    }
    Ok(lists)
}

/// What the workload's namespaces have in common at their start.
fn workload_prefix(workload: &Workload) -> String {
    let first = workload.namespaces.first().cloned().unwrap_or_default();
    match workload.namespaces.len() {
        1 => first,
        _ => first
            .rsplit_once('-')
            .map_or(first.clone(), |(prefix, _)| format!("{prefix}-")),
    }
}

/// What a child process reports on its last line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildReport {
    /// Objects backed up, or created by the restore.
    pub objects: u64,
    /// Seconds the engine ran.
    pub seconds: f64,
    /// Peak resident memory of the process, KiB (`VmHWM`).
    pub peak_rss_kib: u64,
    /// The engine's phase.
    pub phase: String,
    /// A restore's objects skipped (already there, or left out by a restore action).
    #[serde(default)]
    pub skipped: u64,
    /// Seconds a restore took to unpack the tarball before it started (not in `seconds`).
    #[serde(default)]
    pub unpack_seconds: f64,
}

/// This process's peak resident memory in KiB, from `/proc/self/status`.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The bare client: kube's, without retries, with Nagle's algorithm off as godwit's client has
/// it, so its first request on a connection does not wait out a delayed ACK.
pub async fn bare_client(kubeconfig: &Path) -> anyhow::Result<Client> {
    let yaml = std::fs::read_to_string(kubeconfig)
        .with_context(|| format!("cannot read {}", kubeconfig.display()))?;
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&yaml)?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await?;
    Ok(godwit_client::plain(config)?)
}

/// A godwit client (its retry policy) from a kubeconfig file.
pub async fn godwit_client(kubeconfig: &Path) -> anyhow::Result<Client> {
    let yaml = std::fs::read_to_string(kubeconfig)
        .with_context(|| format!("cannot read {}", kubeconfig.display()))?;
    Ok(godwit_client::from_kubeconfig_yaml(
        &yaml,
        godwit_client::RequestPolicy::default(),
        &godwit_client::Retries::default(),
    )
    .await?)
}

/// The child's backup: the namespaces matching `pattern` into `out`, as godwit's server would.
pub async fn child_backup(
    kubeconfig: &Path,
    pattern: &str,
    out: &Path,
    lists: usize,
) -> anyhow::Result<ChildReport> {
    let client = godwit_client(kubeconfig).await?;
    let spec = godwit_backup::BackupSpec {
        included_namespaces: vec![pattern.to_owned()],
        ..godwit_backup::BackupSpec::default()
    };
    let options = godwit_backup::BackupOptions {
        backup_name: "bench".to_owned(),
        concurrency: lists,
        ..godwit_backup::BackupOptions::default()
    };
    let file =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let start = Instant::now();
    let (_, outcome) = godwit_backup::run_backup(&client, &spec, &options, file, |_| {}).await?;
    Ok(ChildReport {
        objects: outcome.items_backed_up,
        seconds: start.elapsed().as_secs_f64(),
        peak_rss_kib: peak_rss_kib(),
        phase: format!("{:?}", outcome.phase),
        skipped: 0,
        unpack_seconds: 0.0,
    })
}

/// The child's restore: every namespace of the backup into `<namespace><suffix>`.
pub async fn child_restore(
    kubeconfig: &Path,
    tarball: &Path,
    suffix: &str,
    in_flight: usize,
) -> anyhow::Result<ChildReport> {
    let client = godwit_client(kubeconfig).await?;
    let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
    let file = std::fs::File::open(tarball)
        .with_context(|| format!("cannot open {}", tarball.display()))?;
    let unpacking = Instant::now();
    let backup = godwit_tarball::unpack(
        file,
        &dir.path().join("backup"),
        &godwit_tarball::Limits::default(),
    )?;
    let unpack_seconds = unpacking.elapsed().as_secs_f64();
    let namespaces = godwit_versioning::GroupResource::new("", "namespaces");
    let mut mapping = std::collections::BTreeMap::new();
    if let Some(index) = backup.index().group_resource(&namespaces)
        && let Some(folder) = index.dirs.keys().next()
    {
        for object in backup.objects(&namespaces, folder)? {
            let object = object?;
            mapping.insert(object.name.clone(), format!("{}{suffix}", object.name));
        }
    }
    if mapping.is_empty() {
        bail!("the backup holds no namespaces to map");
    }
    let mut spec = godwit_restore::RestoreSpec::new("bench", format!("bench{suffix}"));
    spec.namespace_mapping = mapping;
    let options = godwit_restore::ExecuteOptions {
        concurrency: in_flight,
        ..godwit_restore::ExecuteOptions::default()
    };
    let start = Instant::now();
    let result = godwit_restore::restore(&client, &backup, spec, &options).await;
    let seconds = start.elapsed().as_secs_f64();
    if result.counts.failed > 0 {
        let errors: Vec<&str> = result.errors.all().take(3).collect();
        bail!(
            "the restore failed {} objects: {errors:?}",
            result.counts.failed
        );
    }
    Ok(ChildReport {
        objects: u64::try_from(result.counts.created).unwrap_or(u64::MAX),
        seconds,
        peak_rss_kib: peak_rss_kib(),
        phase: format!("{:?}", result.phase),
        skipped: u64::try_from(result.counts.skipped).unwrap_or(u64::MAX),
        unpack_seconds,
    })
}

/// Runs this binary again as a child (`backup` or `restore`) and reads its report.
pub async fn run_child(args: &[String]) -> anyhow::Result<ChildReport> {
    let me = std::env::current_exe().context("cannot find this binary")?;
    let output = tokio::process::Command::new(&me)
        .args(args)
        .output()
        .await
        .with_context(|| format!("cannot run {}", me.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "`godwit-bench {}` failed: {}{}",
            args.join(" "),
            stdout.trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let last = stdout
        .lines()
        .last()
        .ok_or_else(|| anyhow!("the child printed nothing"))?;
    serde_json::from_str(last).with_context(|| format!("the child printed {last:?}"))
}

/// One row of the table.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BenchRow {
    /// `sim` or `envtest (v1.36.3)`.
    pub cluster: String,
    /// The workload.
    pub workload: String,
    /// Requests in flight for the raw creates and godwit's restore.
    pub in_flight: usize,
    /// Objects (namespaces included) per second, a bare client creating them: the better of
    /// the pass before godwit's restores and the pass after them.
    pub raw_create_per_second: f64,
    /// The raw creates' pass before godwit's restores (on the fresh cluster).
    pub raw_create_first_per_second: f64,
    /// The raw creates' pass after godwit's restores.
    pub raw_create_last_per_second: f64,
    /// Objects per second, godwit's restore: the better of its two passes.
    pub restore_per_second: f64,
    /// godwit's first restore pass (before the one-at-a-time restore).
    pub restore_first_per_second: f64,
    /// godwit's second restore pass (after the one-at-a-time restore).
    pub restore_last_per_second: f64,
    /// Objects per second, the same restore one object at a time.
    pub one_at_a_time_per_second: f64,
    /// Peak RSS of the restore process, MiB: the larger of the two passes.
    pub restore_peak_rss_mib: f64,
    /// Seconds the restore took to unpack the tarball before it started (not in its rate).
    pub restore_unpack_seconds: f64,
    /// Objects per second, a bare client's paged lists.
    pub raw_list_per_second: f64,
    /// Objects per second, godwit's backup.
    pub backup_per_second: f64,
    /// Peak RSS of the backup process, MiB.
    pub backup_peak_rss_mib: f64,
}

/// Measures one workload on the cluster behind `kubeconfig`; `again` is the same workload
/// under other names, for the second pass of raw creates; `work` holds the tarballs.
pub async fn measure(
    cluster: &str,
    kubeconfig: &Path,
    workload: &Workload,
    again: &Workload,
    in_flight: usize,
    work: &Path,
) -> anyhow::Result<BenchRow> {
    let client = bare_client(kubeconfig).await?;
    println!(
        "{cluster} {}: {} objects",
        workload.name,
        workload.requests()
    );
    let created = raw_create(&client, workload, in_flight).await?;
    let raw_create_first_per_second = workload.requests() as f64 / created.as_secs_f64();
    let (listed, took) = raw_list(&client, workload).await?;
    let raw_list_per_second = listed as f64 / took.as_secs_f64();

    let tarball = work.join(format!("{}.tar.gz", workload.name));
    let kubeconfig_arg = kubeconfig.display().to_string();
    // One namespace by name, many by pattern, as a user would ask.
    let pattern = backup_pattern(workload);
    let backup = run_child(&[
        "backup".to_owned(),
        "--kubeconfig".to_owned(),
        kubeconfig_arg.clone(),
        "--include-namespaces".to_owned(),
        pattern,
        "--out".to_owned(),
        tarball.display().to_string(),
    ])
    .await?;
    let restore = |suffix: &str, in_flight: usize| {
        vec![
            "restore".to_owned(),
            "--kubeconfig".to_owned(),
            kubeconfig_arg.clone(),
            "--tarball".to_owned(),
            tarball.display().to_string(),
            format!("--suffix={suffix}"),
            "--in-flight".to_owned(),
            in_flight.to_string(),
        ]
    };
    let fast = run_child(&restore("-r", in_flight)).await?;
    let slow = run_child(&restore("-s", 1)).await?;
    let fast_again = run_child(&restore("-t", in_flight)).await?;
    let created = raw_create(&client, again, in_flight).await?;
    let raw_create_last_per_second = again.requests() as f64 / created.as_secs_f64();
    let restore_first_per_second = fast.objects as f64 / fast.seconds;
    let restore_last_per_second = fast_again.objects as f64 / fast_again.seconds;
    let row = BenchRow {
        cluster: cluster.to_owned(),
        workload: workload.name.clone(),
        in_flight,
        raw_create_per_second: raw_create_first_per_second.max(raw_create_last_per_second),
        raw_create_first_per_second,
        raw_create_last_per_second,
        restore_per_second: restore_first_per_second.max(restore_last_per_second),
        restore_first_per_second,
        restore_last_per_second,
        one_at_a_time_per_second: slow.objects as f64 / slow.seconds,
        restore_peak_rss_mib: fast.peak_rss_kib.max(fast_again.peak_rss_kib) as f64 / 1024.0,
        restore_unpack_seconds: fast.unpack_seconds,
        raw_list_per_second,
        backup_per_second: backup.objects as f64 / backup.seconds,
        backup_peak_rss_mib: backup.peak_rss_kib as f64 / 1024.0,
    };
    println!("{row:?}");
    Ok(row)
}

/// The table of rows.
pub fn render(rows: &[BenchRow]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<22} {:<14} {:>4} | {:>10} {:>10} {:>6} {:>10} {:>6} {:>7} {:>8} | {:>9} {:>9} {:>6} {:>8}\n",
        "CLUSTER",
        "WORKLOAD",
        "N",
        "RAW CREATE",
        "RESTORE",
        "RATIO",
        "ONE-BY-ONE",
        "SPEED",
        "CEILING",
        "RSS MiB",
        "RAW LIST",
        "BACKUP",
        "RATIO",
        "RSS MiB"
    ));
    for row in rows {
        out.push_str(&format!(
            "{:<22} {:<14} {:>4} | {:>10.0} {:>10.0} {:>5.0}% {:>10.0} {:>5.1}x {:>6.1}x {:>8.1} | {:>9.0} {:>9.0} {:>5.0}% {:>8.1}\n",
            row.cluster,
            row.workload,
            row.in_flight,
            row.raw_create_per_second,
            row.restore_per_second,
            100.0 * row.restore_per_second / row.raw_create_per_second,
            row.one_at_a_time_per_second,
            row.restore_per_second / row.one_at_a_time_per_second,
            row.raw_create_per_second / row.one_at_a_time_per_second,
            row.restore_peak_rss_mib,
            row.raw_list_per_second,
            row.backup_per_second,
            100.0 * row.backup_per_second / row.raw_list_per_second,
            row.backup_peak_rss_mib,
        ));
    }
    out.push_str("objects per second (namespaces included); RAW CREATE and RESTORE are each the better of two passes,\n");
    out.push_str("in the order bare, godwit, one at a time, godwit, bare; RATIO is godwit against the bare client in the same run;\n");
    out.push_str("SPEED is the restore against one object at a time; CEILING is the bare client's creates against one at a time,\n");
    out.push_str("the most any restore could reach on this cluster and machine; a restore counts the objects it created\n");
    out
}

/// Where a run keeps its files.
pub fn work_dir(given: Option<&Path>) -> PathBuf {
    given.map(Path::to_path_buf).unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "godwit-bench-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..6]
        ))
    })
}
