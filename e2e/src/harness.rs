//! One end-to-end run: bring up the clusters, start a godwit server per cluster sharing one
//! storage location, set up every scenario in the source, back up with the godwit CLI, restore
//! into the target, read every object back and judge it against the scenario's oracle.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use godwit_api::{Backup, BackupStorageLocation};
use kube::Api;

use crate::args::{Args, ClusterMode, Tools, choose_mode};
use crate::clusters::{self, Cluster, Clusters, KIND_CLUSTERS};
use crate::crafted;
use crate::evidence::{backup_holds, current_server, group_resource, target_serves};
use crate::godwit::{Godwit, Server, tail};
use crate::in_cluster;
use crate::kubeapi::{self, create, create_if_missing, wait_until};
use crate::objects::{self, BACKED_UP_VALUE, CLAIM_LABEL, CLAIM_NAME, LIVE_VALUE, OBJECT_NAME};
use crate::readback::{Restores, backup_inventory, observe, read_restore, served_groups};
use crate::report::{Check, Observation, Row, judge};
use crate::scenarios::{self, Kind, Names, POLICY_LABEL, RUN_LABEL, Scenario};

/// How long one backup, sync or restore may take before the run gives up on it.
const STEP_TIMEOUT: Duration = Duration::from_secs(180);

/// Runs the scenarios `args` picks and returns one row per scenario.
pub async fn run(args: &Args) -> anyhow::Result<Vec<Row>> {
    let scenarios = scenarios::select(&args.cases).map_err(anyhow::Error::msg)?;
    let tools = if matches!(args.clusters, None | Some(ClusterMode::Kind)) {
        clusters::detect_tools()
    } else {
        Tools {
            docker_on_path: false,
            docker_running: false,
            kind_on_path: false,
        }
    };
    let (mode, line) = choose_mode(args.clusters.as_ref(), &tools);
    println!("{line}");
    if mode == ClusterMode::Kind
        && let Some(missing) = tools.kind_missing()
    {
        bail!(missing);
    }
    if args.in_cluster && mode != ClusterMode::Kind {
        // Only kind nodes can be made to mount one host directory as the shared store.
        bail!(
            "--in-cluster works only with kind clusters, and this run uses {mode}; pass \
             --clusters kind or drop --in-cluster"
        );
    }
    if let ClusterMode::Kubeconfig { source, target } = &mode {
        for path in [source, target] {
            if !path.is_file() {
                bail!(
                    "kubeconfig {} not found; pass kubeconfig:SRC,DST with two existing files",
                    path.display()
                );
            }
        }
    }
    let names = Names::new(&new_run_id());
    let work_dir = args
        .work_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("godwit-e2e-{}", names.run)));
    std::fs::create_dir_all(&work_dir)
        .with_context(|| format!("cannot create work directory {}", work_dir.display()))?;
    println!("run {} in {}", names.run, work_dir.display());
    let storage = work_dir.join("storage");
    std::fs::create_dir_all(&storage)
        .with_context(|| format!("cannot create {}", storage.display()))?;

    let (deploy, kind_config) = if args.in_cluster {
        // The installed servers run as uid 65532 and write into this directory of the host.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&storage, std::fs::Permissions::from_mode(0o777))
                .with_context(|| format!("cannot open {} to every user", storage.display()))?;
        }
        let image = clusters::image_tag(&names.run);
        clusters::build_image(&clusters::repo_root(), &image).await?;
        let kind_config = work_dir.join("kind-config.yaml");
        std::fs::write(&kind_config, clusters::kind_config(&storage))
            .with_context(|| format!("cannot write {}", kind_config.display()))?;
        let deploy = Deploy::InCluster {
            image,
            ready_timeout: Duration::from_secs(args.ready_timeout),
        };
        (deploy, Some(kind_config))
    } else {
        (Deploy::Here, None)
    };
    let clusters = clusters::provide(
        &mode,
        args.kubesim.as_deref(),
        &args.envtest_assets,
        kind_config.as_deref(),
        &work_dir,
        args.keep,
    )
    .await?;
    let godwit = Godwit {
        binary: args.godwit.clone(),
    };
    let mut servers = Vec::new();
    let same_cluster = same_cluster(&clusters.source.kubeconfig, &clusters.target.kubeconfig);
    if same_cluster {
        println!(
            "source and target are one cluster: scenarios that need two are skipped, the rest \
             run in separate namespaces"
        );
    }
    let runnable: Vec<Scenario> = scenarios
        .iter()
        .filter(|scenario| !same_cluster || scenario.needs_two_clusters().is_none())
        .copied()
        .collect();
    let result = if runnable.is_empty() {
        Ok(Vec::new())
    } else {
        run_on(
            &clusters,
            &godwit,
            &deploy,
            &names,
            &runnable,
            &work_dir,
            &mut servers,
        )
        .await
    };
    // Rows in table order, skipped ones included.
    let result = result.map(|rows| {
        scenarios
            .iter()
            .map(|scenario| {
                rows.iter()
                    .find(|row| row.scenario == scenario.name)
                    .cloned()
                    .unwrap_or_else(|| {
                        crate::report::skipped(
                            scenario,
                            scenario.needs_two_clusters().unwrap_or("not run"),
                        )
                    })
            })
            .collect::<Vec<Row>>()
    });
    for server in servers {
        server.stop().await;
    }
    // Real clusters outlive the run: leave nothing of it behind unless asked to.
    if matches!(mode, ClusterMode::Kubeconfig { .. }) && !args.keep {
        for cluster in [&clusters.source, &clusters.target] {
            if let Err(err) = clean_up(cluster, &names).await {
                eprintln!("warning: cleanup of the {} cluster: {err:#}", cluster.side);
            }
        }
    }
    if let Err(err) = clusters.tear_down(args.keep).await {
        eprintln!("warning: {err:#}");
    }
    // A temporary directory is worth keeping only for its logs, when something failed.
    let passed = result
        .as_ref()
        .is_ok_and(|rows| crate::report::all_passed(rows));
    if args.work_dir.is_none() && !args.keep && passed {
        std::fs::remove_dir_all(&work_dir).ok();
    } else {
        println!(
            "logs, kubeconfigs and the backup store are in {}",
            work_dir.display()
        );
    }
    result
}

/// Whether two kubeconfigs point at the same API server (by their current contexts).
fn same_cluster(source: &Path, target: &Path) -> bool {
    let server = |path: &Path| {
        kube::config::Kubeconfig::read_from(path)
            .ok()
            .and_then(|kubeconfig| current_server(&kubeconfig))
    };
    match (server(source), server(target)) {
        (Some(source), Some(target)) => source == target,
        _ => source == target,
    }
}

/// A short id that keeps this run's groups and namespaces apart from any other run's.
fn new_run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..6].to_owned()
}

/// Where the godwit servers run.
enum Deploy {
    /// As processes of this harness, pointed at each cluster's kubeconfig.
    Here,
    /// As the Deployments `godwit install` creates, running `image` (kind mode only).
    InCluster {
        /// The image built and loaded into both kind clusters.
        image: String,
        /// How long each Deployment may take to become ready.
        ready_timeout: Duration,
    },
}

/// The server one side's waits watch: a process of ours, or an installed Deployment.
enum Watched<'a> {
    Process(&'a mut Server),
    Installed {
        cluster: &'a Cluster,
        namespace: &'a str,
    },
}

impl Watched<'_> {
    fn check_alive(&mut self) -> anyhow::Result<()> {
        match self {
            Watched::Process(server) => server.check_alive(),
            // A crashing pod is restarted; the wait's timeout says where to look.
            Watched::Installed { .. } => Ok(()),
        }
    }

    /// Where the server's log is, with its last lines when they are at hand.
    fn log_note(&self) -> String {
        match self {
            Watched::Process(server) => format!(
                "server log {}:\n{}",
                server.log.display(),
                tail(&server.log, 15)
            ),
            Watched::Installed { cluster, namespace } => {
                format!("server log: {}", in_cluster::logs_hint(cluster, namespace))
            }
        }
    }
}

/// The server of side `index` (0 source, 1 target) as the waits watch it.
fn watched<'a>(
    servers: &'a mut [Server],
    index: usize,
    cluster: &'a Cluster,
    namespace: &'a str,
) -> Watched<'a> {
    match servers.get_mut(index) {
        Some(server) => Watched::Process(server),
        None => Watched::Installed { cluster, namespace },
    }
}

async fn run_on(
    clusters: &Clusters,
    godwit: &Godwit,
    deploy: &Deploy,
    names: &Names,
    scenarios: &[Scenario],
    work_dir: &Path,
    servers: &mut Vec<Server>,
) -> anyhow::Result<Vec<Row>> {
    let storage = work_dir.join("storage");
    if let Deploy::InCluster { image, .. } = deploy {
        clusters::load_image(image, &KIND_CLUSTERS).await?;
    }
    let source_namespace = names.server_namespace("src");
    let target_namespace = names.server_namespace("dst");
    let sides = [
        (&clusters.source, &source_namespace),
        (&clusters.target, &target_namespace),
    ];
    for (cluster, server_namespace) in sides {
        install_velero_crds(godwit, cluster).await?;
        create_if_missing(
            &cluster.client,
            &objects::namespaces(),
            &objects::namespace(names, server_namespace),
        )
        .await?;
    }
    let scenarios = &with_served_versions(clusters, scenarios).await?;
    set_up(clusters, names, scenarios, &target_namespace).await?;
    match deploy {
        Deploy::Here => {
            for (cluster, server_namespace) in sides {
                servers.push(godwit.start_server(cluster, server_namespace, &storage, work_dir)?);
            }
        }
        Deploy::InCluster {
            image,
            ready_timeout,
        } => {
            // Both first, so the two pods start side by side.
            for (cluster, server_namespace) in sides {
                in_cluster::install(godwit, cluster, server_namespace, image).await?;
            }
            for (cluster, server_namespace) in sides {
                in_cluster::wait_ready(cluster, server_namespace, *ready_timeout).await?;
                println!(
                    "godwit server ({}) ready as Deployment {server_namespace}/{}",
                    cluster.side,
                    in_cluster::DEPLOYMENT
                );
            }
        }
    }
    for (index, (cluster, server_namespace)) in sides.into_iter().enumerate() {
        let mut server = watched(servers, index, cluster, server_namespace);
        wait_location_available(cluster, server_namespace, &mut server).await?;
    }

    let backup = names.backup();
    let output = godwit
        .run(
            &clusters.source,
            &source_namespace,
            &[
                "backup",
                "create",
                &backup,
                "--include-namespaces",
                &names.namespace(),
                "--wait",
            ],
        )
        .await?;
    print!("{}", output.stdout);
    if !output.success {
        bail!(
            "the backup failed: {}\n{}",
            output.transcript(),
            watched(servers, 0, &clusters.source, &source_namespace).log_note()
        );
    }
    let held = backup_inventory(godwit, &storage, &backup).await?;
    let served = served_groups(&clusters.target.client).await?;
    wait_backup_synced(
        &clusters.target,
        &backup,
        &mut watched(servers, 1, &clusters.target, &target_namespace),
        &target_namespace,
    )
    .await?;

    let restore_from = |backup: String, purpose: &'static str, extra: Vec<String>| {
        let target_namespace = target_namespace.clone();
        let storage = storage.clone();
        async move {
            let name = names.restore(purpose);
            let mut args = vec![
                "restore".to_owned(),
                "create".to_owned(),
                name.clone(),
                "--from-backup".to_owned(),
                backup,
                "--wait".to_owned(),
            ];
            args.extend(extra);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let output = godwit
                .run(&clusters.target, &target_namespace, &args)
                .await?;
            print!("{}", output.stdout);
            read_restore(
                &clusters.target,
                &target_namespace,
                &name,
                &storage,
                &output,
            )
            .await
        }
    };
    let restore =
        |purpose: &'static str, extra: Vec<String>| restore_from(backup.clone(), purpose, extra);
    let restored_mapping = vec![
        "--namespace-mappings".to_owned(),
        format!("{}:{}", names.namespace(), names.restored_namespace()),
    ];
    let main = restore("main", restored_mapping.clone()).await?;
    let has = |kind: Kind| scenarios.iter().any(|scenario| scenario.kind == kind);
    let mapping = if has(Kind::NamespaceMapping) {
        // The CLI's own example: one namespace, here only the claim (by its label). The volume
        // is cluster-scoped and unlabelled, so the filters leave it out; the claim needs it.
        let run = restore(
            "mapping",
            vec![
                "--include-namespaces".to_owned(),
                names.namespace(),
                "--selector".to_owned(),
                format!("{CLAIM_LABEL}=true"),
                "--namespace-mappings".to_owned(),
                format!("{}:{}", names.namespace(), names.mapped_namespace()),
            ],
        )
        .await?;
        let deleted = delete_restore(
            godwit,
            &clusters.target,
            &target_namespace,
            &names.restore("mapping"),
            &storage,
        )
        .await;
        Some((run, deleted))
    } else {
        None
    };
    let update = if has(Kind::ExistingUpdate) {
        Some(
            restore(
                "update",
                [
                    "--selector".to_owned(),
                    format!("{POLICY_LABEL}=update"),
                    "--existing-resource-policy".to_owned(),
                    "update".to_owned(),
                ]
                .into_iter()
                .chain(restored_mapping)
                .collect(),
            )
            .await?,
        )
    } else {
        None
    };

    // What the crafted deprecated-API backup holds (its row is judged against it).
    let mut legacy_held = crate::evidence::Inventory::default();
    let legacy = if has(Kind::DeprecatedApis) {
        crafted::write_legacy_backup(&storage, names)?;
        let legacy_backup = crafted::legacy_backup(names);
        legacy_held = backup_inventory(godwit, &storage, &legacy_backup).await?;
        wait_backup_synced(
            &clusters.target,
            &legacy_backup,
            &mut watched(servers, 1, &clusters.target, &target_namespace),
            &target_namespace,
        )
        .await?;
        let run = restore_from(legacy_backup, "legacy", Vec::new()).await?;
        let checks = crafted::check_legacy_restore(&clusters.target, names, &run).await?;
        Some((run, checks))
    } else {
        None
    };
    let pitfalls = if has(Kind::Pitfalls) {
        crafted::prepare_pitfalls(&clusters.target, &storage, names).await?;
        let output = godwit
            .run(
                &clusters.target,
                &target_namespace,
                &[
                    "restore",
                    "plan",
                    "--from-backup",
                    &crafted::pitfalls_backup(names),
                    "--features",
                    "EnableAPIGroupVersions",
                    "-o",
                    "json",
                ],
            )
            .await?;
        Some(crafted::check_pitfalls_plan(
            names,
            &output.stdout,
            output.success,
        ))
    } else {
        None
    };

    // In the target, apart from the backup and the restores.
    let storage_version = match scenarios
        .iter()
        .find(|scenario| scenario.kind == Kind::StorageVersion)
    {
        Some(scenario) => Some(
            crate::storage_version::run(
                godwit,
                &clusters.target,
                names,
                scenario.name,
                &target_namespace,
            )
            .await,
        ),
        None => None,
    };

    // Last: garbage collection takes the backup (and the restores made from it).
    let lifecycle = if has(Kind::Lifecycle) {
        lifecycle(
            &clusters.target,
            &target_namespace,
            &backup,
            &names.restore("hooks"),
            &storage,
        )
        .await
    } else {
        Vec::new()
    };

    let mut rows = Vec::new();
    for scenario in scenarios {
        if let (Kind::StorageVersion, Some(observation)) = (scenario.kind, &storage_version) {
            rows.push(judge(scenario, observation));
            continue;
        }
        let restores = Restores {
            main: &main,
            mapping: mapping.as_ref().map(|(run, _)| run),
            mapping_deleted: mapping.as_ref().map(|(_, deleted)| deleted),
            update: update.as_ref(),
            lifecycle: &lifecycle,
            legacy: legacy.as_ref(),
            pitfalls: pitfalls.as_ref(),
        };
        let mut observation = observe(&clusters.target, names, scenario, &restores)
            .await
            .unwrap_or_else(|err| Observation {
                checks: vec![Check::new(format!("reading back: {err:#}"), false)],
                ..Observation::default()
            });
        let holding = match scenario.kind {
            Kind::DeprecatedApis => &legacy_held,
            _ => &held,
        };
        observation.checks.insert(
            0,
            backup_holds(scenario, &group_resource(names, scenario), holding),
        );
        if let Some(check) = target_serves(scenario, names, &served) {
            observation.checks.insert(1, check);
        }
        rows.push(judge(scenario, &observation));
    }
    Ok(rows)
}

/// The scenarios, with the rows of built-in groups (HPAs) taking their versions from what the
/// two clusters' discovery says they serve, and their expectation from those.
async fn with_served_versions(
    clusters: &Clusters,
    scenarios: &[Scenario],
) -> anyhow::Result<Vec<Scenario>> {
    if !scenarios
        .iter()
        .any(|scenario| scenario.kind == Kind::HorizontalPodAutoscaler)
    {
        return Ok(scenarios.to_vec());
    }
    let autoscaling = |inventory: &crate::evidence::Inventory, side: &str| {
        inventory
            .get("autoscaling")
            .map(|(versions, preferred)| scenarios::preferred_first(versions, preferred))
            .ok_or_else(|| anyhow::anyhow!("the {side} cluster serves no autoscaling group"))
    };
    let source = autoscaling(&served_groups(&clusters.source.client).await?, "source")?;
    let target = autoscaling(&served_groups(&clusters.target.client).await?, "target")?;
    Ok(scenarios
        .iter()
        .map(|scenario| {
            if scenario.kind != Kind::HorizontalPodAutoscaler {
                return *scenario;
            }
            let row = scenario.with_served(&source, &target);
            println!(
                "{}: the source serves autoscaling [{}], the target [{}]: SPEC.md section 4 \
                 expects {} ({})",
                row.name,
                row.backup_versions.join(", "),
                row.target_versions.join(", "),
                row.expected_version.unwrap_or("none"),
                row.expected_rule
            );
            row
        })
        .collect())
}

/// The lifecycle row's steps in the target: a Restore asking for restore hooks fails
/// validation naming `spec.hooks`; then the backup, its expiration moved into the past, is
/// deleted from the cluster and the store by the server's garbage collection.
async fn lifecycle(
    target: &Cluster,
    server_namespace: &str,
    backup: &str,
    hooked: &str,
    storage: &Path,
) -> Vec<Check> {
    let restores: Api<godwit_api::Restore> =
        Api::namespaced(target.client.clone(), server_namespace);
    let mut restore = godwit_api::Restore::new(
        hooked,
        godwit_api::RestoreSpec {
            backup_name: backup.to_owned(),
            hooks: Some(serde_json::json!({"resources": [{"name": "freeze"}]})),
            ..godwit_api::RestoreSpec::default()
        },
    );
    restore.metadata.namespace = Some(server_namespace.to_owned());
    let what = format!("Restore {hooked} with spec.hooks fails validation naming spec.hooks");
    let mut checks = Vec::new();
    let created = restores
        .create(&kube::api::PostParams::default(), &restore)
        .await;
    let refused = match created {
        Err(err) => Err(format!("cannot create it: {err}")),
        Ok(_) => {
            let finished = wait_until(
                &format!("Restore {hooked} to end"),
                STEP_TIMEOUT,
                || async {
                    Ok(restores
                        .get_opt(hooked)
                        .await?
                        .is_some_and(|restore| restore.is_terminal_phase()))
                },
            )
            .await;
            match finished {
                Ok(()) => restores
                    .get_opt(hooked)
                    .await
                    .map_err(|err| err.to_string()),
                Err(err) => Err(format!("{err:#}")),
            }
        }
    };
    checks.push(match refused {
        Ok(Some(restore)) => {
            let phase = restore
                .phase()
                .map_or("none", |phase| phase.as_str())
                .to_owned();
            let errors = restore
                .status
                .and_then(|status| status.validation_errors)
                .unwrap_or_default();
            Check::new(
                format!("{what} (phase {phase}, {errors:?})"),
                phase == "FailedValidation"
                    && errors.iter().any(|error| error.starts_with("spec.hooks: ")),
            )
        }
        Ok(None) => Check::new(format!("{what} (it never ended)"), false),
        Err(err) => Check::new(format!("{what} ({err})"), false),
    });

    let backups: Api<Backup> = Api::namespaced(target.client.clone(), server_namespace);
    let what =
        format!("backup {backup}, expired, is garbage-collected from the cluster and the store");
    let expired = serde_json::json!({"status": {"expiration": "2026-01-01T00:00:00Z"}});
    let patched = backups
        .patch(
            backup,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&expired),
        )
        .await;
    if let Err(err) = patched {
        checks.push(Check::new(
            format!("{what} (cannot expire it: {err})"),
            false,
        ));
        return checks;
    }
    let gone = wait_until(
        &format!("backup {backup} to be garbage-collected"),
        STEP_TIMEOUT,
        || async { Ok(backups.get_opt(backup).await?.is_none()) },
    )
    .await;
    let left = crate::readback::find_file(storage, &format!("{backup}.tar.gz"));
    checks.push(match (gone, left) {
        (Err(err), _) => Check::new(format!("{what} ({err:#})"), false),
        (Ok(()), Some(path)) => Check::new(format!("{what} ({} is left)", path.display()), false),
        (Ok(()), None) => Check::new(what, true),
    });
    checks
}

/// `godwit restore delete NAME --confirm`, as a user would, then a check that the Restore went
/// and took its files in the storage location (log and results) with it.
async fn delete_restore(
    godwit: &Godwit,
    target: &Cluster,
    server_namespace: &str,
    name: &str,
    storage: &Path,
) -> Check {
    let what = format!("`godwit restore delete {name}` removes the Restore and restores/{name}/");
    let output = match godwit
        .run(
            target,
            server_namespace,
            &["restore", "delete", name, "--confirm"],
        )
        .await
    {
        Ok(output) if output.success => output,
        Ok(output) => return Check::new(format!("{what} ({})", output.transcript()), false),
        Err(err) => return Check::new(format!("{what} ({err:#})"), false),
    };
    print!("{}", output.stdout);
    let api: Api<godwit_api::Restore> = Api::namespaced(target.client.clone(), server_namespace);
    let gone = wait_until(
        &format!("Restore {name} to be deleted"),
        Duration::from_secs(60),
        || async { Ok(api.get_opt(name).await?.is_none()) },
    )
    .await;
    let left: Vec<String> = ["logs", "results"]
        .into_iter()
        .map(|kind| format!("restore-{name}-{kind}.gz"))
        .filter(|file| crate::readback::find_file(storage, file).is_some())
        .collect();
    match gone {
        Err(err) => Check::new(format!("{what} ({err:#})"), false),
        Ok(()) if !left.is_empty() => {
            Check::new(format!("{what} (left {})", left.join(", ")), false)
        }
        Ok(()) => Check::new(what, true),
    }
}

/// Installs godwit's (Velero's) CRDs with `godwit install --crds-only`, as a user would, and
/// waits until the cluster serves them.
async fn install_velero_crds(godwit: &Godwit, cluster: &Cluster) -> anyhow::Result<()> {
    let output = godwit.install_crds(cluster).await?;
    if !output.success {
        bail!("installing godwit's CRDs failed: {}", output.transcript());
    }
    for crd in godwit_api::crds() {
        let name = crd.metadata.name.unwrap_or_default();
        kubeapi::wait_established(&cluster.client, &name).await?;
    }
    Ok(())
}

async fn wait_location_available(
    cluster: &Cluster,
    server_namespace: &str,
    server: &mut Watched<'_>,
) -> anyhow::Result<()> {
    let api: Api<BackupStorageLocation> = Api::namespaced(cluster.client.clone(), server_namespace);
    let what = format!(
        "the {} godwit server's default storage location to be Available",
        cluster.side
    );
    wait_while_alive(server, &what, Duration::from_secs(60), || async {
        let location = api.get_opt("default").await?;
        Ok(location
            .and_then(|location| location.status)
            .and_then(|status| status.phase)
            .is_some_and(|phase| phase.as_str() == "Available"))
    })
    .await
}

/// As [`wait_until`], but a server that exits ends the wait at once with its log.
async fn wait_while_alive<F, Fut>(
    server: &mut Watched<'_>,
    what: &str,
    timeout: Duration,
    mut probe: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    let start = std::time::Instant::now();
    let mut last_error = None;
    loop {
        server.check_alive()?;
        match probe().await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(err) => last_error = Some(format!("{err:#}")),
        }
        if start.elapsed() > timeout {
            bail!(
                "timed out after {}s waiting for {what}{}; {}",
                timeout.as_secs(),
                last_error
                    .map(|err| format!(" (last error: {err})"))
                    .unwrap_or_default(),
                server.log_note()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn wait_backup_synced(
    target: &Cluster,
    backup: &str,
    server: &mut Watched<'_>,
    server_namespace: &str,
) -> anyhow::Result<()> {
    let api: Api<Backup> = Api::namespaced(target.client.clone(), server_namespace);
    let what = format!("backup {backup} to be synced into the target");
    wait_while_alive(server, &what, STEP_TIMEOUT, || async {
        let backup = api.get_opt(backup).await?;
        Ok(backup
            .and_then(|backup| backup.status)
            .and_then(|status| status.phase)
            .is_some_and(|phase| phase.as_str() == "Completed"))
    })
    .await
}

/// Creates every scenario's objects: CRDs and objects in the source, CRDs and existing
/// objects in the target.
async fn set_up(
    clusters: &Clusters,
    names: &Names,
    scenarios: &[Scenario],
    target_server_namespace: &str,
) -> anyhow::Result<()> {
    let source = &clusters.source.client;
    let target = &clusters.target.client;
    let namespace = names.namespace();
    create(
        source,
        &objects::namespaces(),
        &objects::namespace(names, &namespace),
    )
    .await?;
    let crds = objects::custom_resource_definitions();
    for scenario in scenarios {
        match scenario.kind {
            Kind::CustomResource { .. } => {
                let source_crd = scenarios::custom_resource_definition(
                    names,
                    scenario.name,
                    scenario.backup_versions,
                );
                create(source, &crds, &source_crd).await?;
                kubeapi::wait_established(source, &names.group_resource(scenario.name)).await?;
                if !scenario.target_versions.is_empty() {
                    let target_crd = scenarios::custom_resource_definition(
                        names,
                        scenario.name,
                        scenario.target_versions,
                    );
                    create(target, &crds, &target_crd).await?;
                    kubeapi::wait_established(target, &names.group_resource(scenario.name)).await?;
                }
                let preferred = scenario.backup_versions.first().copied().unwrap_or("v1");
                let resource = objects::widgets(names, scenario.name, preferred);
                let body = objects::widget(names, scenario.name, preferred);
                // A real API server may take a moment to serve a freshly established CRD.
                wait_until(
                    &format!(
                        "{} to accept a {}",
                        names.group(scenario.name),
                        resource.kind
                    ),
                    Duration::from_secs(30),
                    || async { create(source, &resource, &body).await.map(|()| true) },
                )
                .await?;
                // Field ownership of server-side apply, which a restore carries over (kubesim
                // has no apply, so the entry is written as a user may write one).
                kubeapi::add_managed_fields_entry(
                    source,
                    &resource,
                    &namespace,
                    OBJECT_NAME,
                    objects::applied_entry(&resource.api_version),
                )
                .await?;
            }
            Kind::HorizontalPodAutoscaler => {
                create(
                    source,
                    &objects::horizontal_pod_autoscalers("v1"),
                    &objects::horizontal_pod_autoscaler(names),
                )
                .await?;
            }
            Kind::NamespaceMapping => {
                create(
                    source,
                    &objects::persistent_volumes(),
                    &objects::persistent_volume(names),
                )
                .await?;
                create(
                    source,
                    &objects::persistent_volume_claims(),
                    &objects::persistent_volume_claim(names),
                )
                .await?;
                // The backup takes a claim's volume along only once the claim is Bound. A real
                // cluster's PV controller binds this pre-bound pair at once; kubesim has no
                // controllers, so the harness plays that part (the same status either way).
                let bound = serde_json::json!({"phase": "Bound"});
                kubeapi::patch_status(
                    source,
                    &objects::persistent_volumes(),
                    None,
                    &names.persistent_volume(),
                    bound.clone(),
                )
                .await?;
                kubeapi::patch_status(
                    source,
                    &objects::persistent_volume_claims(),
                    Some(&namespace),
                    CLAIM_NAME,
                    bound,
                )
                .await?;
            }
            Kind::NodePort => {
                create(
                    source,
                    &objects::services(),
                    &objects::node_port_service(names),
                )
                .await?;
            }
            // Its steps run after the restores, in the target.
            // The crafted rows write their backups and set up the target after the main restore.
            Kind::Lifecycle | Kind::DeprecatedApis | Kind::Pitfalls => {}
            // Its steps run in the target, after the restores (`storage_version.rs`).
            Kind::StorageVersion => {}
            Kind::ControlPlaneObjects => {
                // The source's controller manager fills the namespace a moment after its
                // create; the backup must find it filled.
                kubeapi::wait_namespace_filled(source, &namespace).await?;
            }
            Kind::ExistingNone | Kind::ExistingUpdate => {
                let (name, policy) = existing_config_map(scenario.kind);
                create(
                    source,
                    &objects::config_maps(),
                    &objects::config_map(names, &namespace, name, policy, BACKED_UP_VALUE),
                )
                .await?;
                let restored = names.restored_namespace();
                create_if_missing(
                    target,
                    &objects::namespaces(),
                    &objects::namespace(names, &restored),
                )
                .await?;
                create(
                    target,
                    &objects::config_maps(),
                    &objects::config_map(names, &restored, name, policy, LIVE_VALUE),
                )
                .await?;
            }
        }
    }
    if let Some(config_map) =
        scenarios::user_priorities_config_map(names, scenarios, target_server_namespace)
    {
        create(target, &objects::config_maps(), &config_map).await?;
    }
    Ok(())
}

/// The ConfigMap name and policy label of an existing-object scenario.
pub(crate) fn existing_config_map(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::ExistingUpdate => ("existing-update", "update"),
        _ => ("existing-none", "none"),
    }
}

/// Deletes what this run created in a cluster it does not own: namespaces, CRDs and PVs that
/// carry the run's label (restored copies carry it too). godwit's own CRDs stay.
async fn clean_up(cluster: &Cluster, names: &Names) -> anyhow::Result<()> {
    let selector = format!("{RUN_LABEL}={}", names.run);
    for resource in [
        objects::namespaces(),
        objects::persistent_volumes(),
        objects::custom_resource_definitions(),
    ] {
        for name in kubeapi::list_names(&cluster.client, &resource, &selector).await? {
            kubeapi::delete(&cluster.client, &resource, None, &name).await?;
        }
    }
    println!(
        "cleaned up run {} in the {} cluster",
        names.run, cluster.side
    );
    Ok(())
}
