//! `godwit restore create|get|describe|delete|logs|plan`: Velero's restore verbs through the
//! `Restore` custom resource, plus `plan`, a dry run against the target that writes nothing.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, anyhow, bail};
use godwit_api::{Backup, Restore, RestorePhase};
use godwit_ordering::Priorities;
use godwit_storage::BackupStore;
use kube::Api;
use kube::api::{DeleteParams, ListParams};

use super::backup::{create_error, exit_for, objects_output, print_gzipped};
use super::cluster::ClusterArgs;
use super::describe::{self, ResultsFile};
use super::filters::{FilterArgs, RestoreShapeArgs};
use super::location;
use super::wait;
use crate::jobs::{self, JobOptions};
use crate::output::{self, Format};

/// The feature flag that turns on per-resource version choice.
pub const ENABLE_API_GROUP_VERSIONS: &str = "EnableAPIGroupVersions";

/// `godwit restore ...`.
#[derive(Debug, clap::Args)]
pub struct RestoreCommand {
    /// Cluster and server namespace.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The verb.
    #[command(subcommand)]
    pub action: RestoreAction,
}

/// The restore verbs.
#[derive(Debug, clap::Subcommand)]
pub enum RestoreAction {
    /// Create a restore from a backup (the server runs it).
    #[command(after_help = "Examples:\n  \
        # Restore everything of backup nightly, named nightly-<timestamp>, and wait\n  \
        godwit restore create --from-backup nightly --wait\n\n  \
        # Restore namespace shop as shop-copy, updating objects that already exist\n  \
        godwit restore create shop-copy --from-backup nightly --include-namespaces shop \\\n      \
        --namespace-mappings shop:shop-copy --existing-resource-policy update")]
    Create(Box<CreateArgs>),
    /// Get restores.
    #[command(after_help = "Examples:\n  \
        godwit restore get\n  \
        godwit restore get nightly-20261121060000 -o json")]
    Get(GetArgs),
    /// Describe restores, with the API version chosen per group-resource and the rule.
    #[command(after_help = "Examples:\n  \
        godwit restore describe nightly-20261121060000")]
    Describe(NamesArgs),
    /// Delete restores (the restored objects stay).
    #[command(after_help = "Examples:\n  \
        godwit restore delete nightly-20261121060000\n  \
        godwit restore delete --all --confirm")]
    Delete(DeleteArgs),
    /// Print a restore's log.
    #[command(after_help = "Examples:\n  \
        godwit restore logs nightly-20261121060000")]
    Logs(LogsArgs),
    /// Show what a restore would do against the target, writing nothing (dry run).
    #[command(after_help = "Examples:\n  \
        # The plan for restoring backup nightly into the current cluster\n  \
        godwit restore plan --from-backup nightly --features EnableAPIGroupVersions\n\n  \
        # From a local-directory location, no server needed, as JSON\n  \
        godwit restore plan --from-backup nightly --local-dir /backups -o json")]
    Plan(Box<PlanArgs>),
}

/// Flags of `restore create`.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The restore's name; <backup>-<timestamp> when unset.
    pub name: Option<String>,
    /// The backup to restore from.
    #[arg(long, value_name = "BACKUP")]
    pub from_backup: String,
    /// What to restore.
    #[command(flatten)]
    pub filters: FilterArgs,
    /// How to restore.
    #[command(flatten)]
    pub shape: RestoreShapeArgs,
    /// Wait for the restore to finish; the exit code is non-zero unless it ends Completed.
    #[arg(long)]
    pub wait: bool,
    /// Print the Restore resource in this format instead of creating it.
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<Format>,
}

/// Flags of `restore get`.
#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// Restores to get; all when none is named.
    pub names: Vec<String>,
    /// Only restores whose labels match this selector.
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Output format.
    #[arg(
        short = 'o',
        long,
        value_enum,
        default_value = "table",
        value_name = "FORMAT"
    )]
    pub output: Format,
}

/// Names of restores.
#[derive(Debug, clap::Args)]
pub struct NamesArgs {
    /// Restores to describe; all when none is named.
    pub names: Vec<String>,
}

/// Flags of `restore delete`.
#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    /// Restores to delete.
    #[arg(required_unless_present = "all")]
    pub names: Vec<String>,
    /// Delete every restore.
    #[arg(long, conflicts_with = "names")]
    pub all: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub confirm: bool,
}

/// Flags of `restore logs`.
#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// The restore.
    pub name: String,
    /// Read the restore from this local-directory location instead of asking the server.
    #[arg(long, value_name = "DIR")]
    pub local_dir: Option<PathBuf>,
}

/// Flags of `restore plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The backup to plan a restore of.
    #[arg(long, value_name = "BACKUP")]
    pub from_backup: String,
    /// What to restore.
    #[command(flatten)]
    pub filters: FilterArgs,
    /// How to restore.
    #[command(flatten)]
    pub shape: RestoreShapeArgs,
    /// The location holding the backup; the default location when unset.
    #[arg(long, value_name = "NAME", conflicts_with = "local_dir")]
    pub storage_location: Option<String>,
    /// Read the backup from this local-directory location; no server needed.
    #[arg(long, value_name = "DIR")]
    pub local_dir: Option<PathBuf>,
    /// Feature flags as the server would have them, comma separated (EnableAPIGroupVersions).
    #[arg(long, value_delimiter = ',', value_name = "FEATURES")]
    pub features: Vec<String>,
    /// Restore order as the server would have it (high,-,low); Velero's order when unset.
    #[arg(long, value_name = "PRIORITIES")]
    pub restore_resource_priorities: Option<Priorities>,
    /// Output format.
    #[arg(
        short = 'o',
        long,
        value_enum,
        default_value = "table",
        value_name = "FORMAT"
    )]
    pub output: Format,
}

/// Runs a restore verb.
pub async fn run(command: RestoreCommand) -> anyhow::Result<ExitCode> {
    let cluster = command.cluster;
    match command.action {
        RestoreAction::Create(args) => create(&cluster, *args).await,
        RestoreAction::Get(args) => get(&cluster, args).await,
        RestoreAction::Describe(args) => describe(&cluster, args).await,
        RestoreAction::Delete(args) => delete(&cluster, args).await,
        RestoreAction::Logs(args) => logs(&cluster, args).await,
        RestoreAction::Plan(args) => plan(&cluster, *args).await,
    }
}

/// Velero's default restore name: the backup's name and the time, `nightly-20261121060000`.
pub fn default_restore_name(backup: &str, now: jiff::Timestamp) -> String {
    format!("{backup}-{}", now.strftime("%Y%m%d%H%M%S"))
}

/// The Restore resource `restore create` (and `plan`, `migrate`) describe.
pub fn restore_object(
    name: &str,
    backup: &str,
    namespace: &str,
    filters: &FilterArgs,
    shape: &RestoreShapeArgs,
) -> Restore {
    let mut spec = godwit_api::RestoreSpec {
        backup_name: backup.to_owned(),
        ..godwit_api::RestoreSpec::default()
    };
    filters.apply_to_restore(&mut spec);
    shape.apply_to_restore(&mut spec);
    let mut restore = Restore::new(name, spec);
    restore.metadata.namespace = Some(namespace.to_owned());
    restore
}

async fn create(cluster: &ClusterArgs, args: CreateArgs) -> anyhow::Result<ExitCode> {
    let namespace = &cluster.server_namespace;
    let backup = &args.from_backup;
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| default_restore_name(backup, jiff::Timestamp::now()));
    let restore = restore_object(&name, backup, namespace, &args.filters, &args.shape);
    if let Some(format) = args.output {
        print!("{}", output::serialize(&restore, format)?);
        return Ok(ExitCode::SUCCESS);
    }
    let client = cluster.client().await?;
    let backups: Api<Backup> = Api::namespaced(client.clone(), namespace);
    if backups
        .get_opt(backup)
        .await
        .with_context(|| format!("cannot read backup {backup}"))?
        .is_none()
    {
        bail!(
            "backup {backup} not found in namespace {namespace} (--from-backup); list them with `godwit backup get`"
        );
    }
    let api: Api<Restore> = Api::namespaced(client, namespace);
    api.create(&crate::writes::post_params(), &restore)
        .await
        .map_err(|err| create_error("restore", &name, namespace, err))?;
    println!("Restore request \"{name}\" submitted successfully.");
    if !args.wait {
        println!(
            "Run `godwit restore describe {name}` or `godwit restore logs {name}` for more details."
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Waiting for restore to complete. You may safely press ctrl-c to stop waiting - your \
         restore will continue in the background."
    );
    let phase = wait::restore(&api, &name).await?;
    println!(
        "\nRestore completed with status: {phase}. You may check for more information using the \
         commands `godwit restore describe {name}` and `godwit restore logs {name}`."
    );
    Ok(exit_for(phase == RestorePhase::Completed))
}

async fn fetch(
    api: &Api<Restore>,
    names: &[String],
    selector: Option<&str>,
    namespace: &str,
) -> anyhow::Result<Vec<Restore>> {
    if names.is_empty() {
        let mut params = ListParams::default();
        if let Some(selector) = selector {
            params = params.labels(selector);
        }
        let mut list = api
            .list(&params)
            .await
            .with_context(|| format!("cannot list restores in namespace {namespace}"))?
            .items;
        list.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        return Ok(list);
    }
    let mut found = Vec::new();
    for name in names {
        let restore = api
            .get_opt(name)
            .await
            .with_context(|| format!("cannot read restore {name}"))?
            .ok_or_else(|| {
                anyhow!("restore {name} not found in namespace {namespace}; list them with `godwit restore get`")
            })?;
        found.push(restore);
    }
    Ok(found)
}

async fn get(cluster: &ClusterArgs, args: GetArgs) -> anyhow::Result<ExitCode> {
    let namespace = &cluster.server_namespace;
    let api: Api<Restore> = Api::namespaced(cluster.client().await?, namespace);
    let restores = fetch(&api, &args.names, args.selector.as_deref(), namespace).await?;
    match args.output {
        Format::Table => print!("{}", describe::restores_table(&restores)),
        format => print!("{}", objects_output(&restores, format)?),
    }
    Ok(ExitCode::SUCCESS)
}

/// The store holding a restore's files: the location of the backup it restored from, as
/// Velero finds it.
async fn restore_store(
    client: &kube::Client,
    namespace: &str,
    restore: &Restore,
) -> anyhow::Result<BackupStore> {
    let backups: Api<Backup> = Api::namespaced(client.clone(), namespace);
    let backup_name = &restore.spec.backup_name;
    let location = backups
        .get_opt(backup_name)
        .await
        .with_context(|| format!("cannot read backup {backup_name}"))?
        .map(|b| b.spec.storage_location)
        .filter(|l| !l.is_empty());
    location::open_named(client, namespace, location.as_deref()).await
}

async fn read_results(store: &BackupStore, name: &str) -> Result<ResultsFile, String> {
    let bytes = store
        .get_restore_results(name)
        .await
        .map_err(|err| err.to_string())?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .map_err(|err| format!("the results file is not gzipped text: {err}"))?;
    serde_json::from_str(&text).map_err(|err| format!("the results file is not JSON: {err}"))
}

async fn describe(cluster: &ClusterArgs, args: NamesArgs) -> anyhow::Result<ExitCode> {
    let namespace = &cluster.server_namespace;
    let client = cluster.client().await?;
    let api: Api<Restore> = Api::namespaced(client.clone(), namespace);
    let restores = fetch(&api, &args.names, None, namespace).await?;
    let mut texts = Vec::new();
    for restore in &restores {
        let results = if restore.is_terminal_phase() {
            let name = restore.metadata.name.clone().unwrap_or_default();
            Some(match restore_store(&client, namespace, restore).await {
                Ok(store) => read_results(&store, &name).await,
                Err(err) => Err(format!("{err:#}")),
            })
        } else {
            None
        };
        texts.push(describe::render_restore(restore, results.as_ref()));
    }
    print!("{}", texts.join("\n\n"));
    Ok(ExitCode::SUCCESS)
}

async fn delete(cluster: &ClusterArgs, args: DeleteArgs) -> anyhow::Result<ExitCode> {
    let namespace = &cluster.server_namespace;
    let api: Api<Restore> = Api::namespaced(cluster.client().await?, namespace);
    let restores = fetch(
        &api,
        if args.all { &[] } else { &args.names },
        None,
        namespace,
    )
    .await?;
    if restores.is_empty() {
        println!("No restores found");
        return Ok(ExitCode::SUCCESS);
    }
    let names: Vec<String> = restores
        .iter()
        .filter_map(|r| r.metadata.name.clone())
        .collect();
    if !args.confirm {
        use std::io::{BufRead as _, Write as _};
        print!(
            "You are about to delete restore(s) {}. Are you sure you want to continue (Y/N)? ",
            names.join(", ")
        );
        std::io::stdout()
            .flush()
            .context("cannot write to stdout")?;
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .context("cannot read the answer; pass --confirm to skip the question")?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "Yes") {
            println!("Cancelled.");
            return Ok(ExitCode::SUCCESS);
        }
    }
    for name in &names {
        api.delete(name, &DeleteParams::default())
            .await
            .with_context(|| format!("cannot delete restore {name}"))?;
        println!(
            "Request to delete restore \"{name}\" submitted successfully.\nThe restore will be \
             fully deleted after all associated data (restore files in object storage) are \
             removed."
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn logs(cluster: &ClusterArgs, args: LogsArgs) -> anyhow::Result<ExitCode> {
    let name = &args.name;
    let store = match &args.local_dir {
        Some(dir) => location::open_local(dir).await?,
        None => {
            let namespace = &cluster.server_namespace;
            let client = cluster.client().await?;
            let api: Api<Restore> = Api::namespaced(client.clone(), namespace);
            let restore = fetch(&api, std::slice::from_ref(name), None, namespace)
                .await?
                .remove(0);
            if !restore.is_terminal_phase() {
                bail!(
                    "logs for restore {name} are not available until it's finished processing; \
                     wait until it is Completed, PartiallyFailed or Failed and try again"
                );
            }
            restore_store(&client, namespace, &restore).await?
        }
    };
    let bytes = store
        .get_restore_log(name)
        .await
        .with_context(|| format!("cannot read the log of restore {name}"))?;
    print_gzipped(&bytes, "restore log")?;
    Ok(ExitCode::SUCCESS)
}

/// Whether `EnableAPIGroupVersions` is among the feature flags (case as Velero spells it).
pub fn api_group_versions_enabled(features: &[String]) -> anyhow::Result<bool> {
    let mut enabled = false;
    for feature in features.iter().map(|f| f.trim()).filter(|f| !f.is_empty()) {
        if feature == ENABLE_API_GROUP_VERSIONS {
            enabled = true;
        } else {
            bail!(
                "unknown feature {feature:?} in --features; godwit knows {ENABLE_API_GROUP_VERSIONS}"
            );
        }
    }
    Ok(enabled)
}

async fn plan(cluster: &ClusterArgs, args: PlanArgs) -> anyhow::Result<ExitCode> {
    let namespace = &cluster.server_namespace;
    let enabled = api_group_versions_enabled(&args.features)?;
    let client = cluster.client().await?;
    let store = match &args.local_dir {
        Some(dir) => location::open_local(dir).await?,
        None => location::open_named(&client, namespace, args.storage_location.as_deref()).await?,
    };
    let backup = &args.from_backup;
    let name = default_restore_name(backup, jiff::Timestamp::now());
    let restore = restore_object(&name, backup, namespace, &args.filters, &args.shape);
    let options = JobOptions {
        enable_api_group_versions: enabled,
        restore_resource_priorities: args.restore_resource_priorities.clone(),
        server_namespace: namespace.clone(),
        ..JobOptions::default()
    };
    let plan = plan_restore(&client, &store, &restore, &options).await?;
    match args.output {
        Format::Table => print!("{}", plan.render_table()),
        format => print!("{}", output::serialize(&plan, format)?),
    }
    Ok(ExitCode::SUCCESS)
}

/// The dry-run plan of `restore` against the cluster behind `client`; reads the backup from
/// `store` into a temporary folder and writes nothing to the cluster.
pub async fn plan_restore(
    client: &kube::Client,
    store: &BackupStore,
    restore: &Restore,
    options: &JobOptions,
) -> anyhow::Result<godwit_restore::Plan> {
    let mut spec = jobs::restore_spec(restore, options)
        .map_err(|problems| anyhow!("invalid restore: {}", problems.join("; ")))?;
    let backup = spec.backup_name.clone();
    let metadata = store
        .get_backup_metadata(&backup)
        .await
        .map_err(|err| match err {
            godwit_storage::Error::NotFound { .. } => anyhow!(
                "backup {backup} not found in {} (--from-backup); check the name and the location",
                store.location()
            ),
            other => anyhow!("cannot read backup {backup}: {other}"),
        })?;
    let parsed = jobs::stored_backup(&backup, &metadata).map_err(|problem| anyhow!(problem))?;
    if let Some(problem) = jobs::unusable_backup(&parsed) {
        bail!("{problem}");
    }
    spec.source_version = jobs::source_version(&parsed);
    let workdir = tempfile::tempdir()
        .context("cannot create a temporary folder for the backup; check TMPDIR")?;
    let extracted = jobs::download_and_extract(store, &backup, workdir.path()).await?;
    let execute = godwit_restore::ExecuteOptions {
        server_namespace: options.server_namespace.clone(),
        ..godwit_restore::ExecuteOptions::default()
    };
    godwit_restore::dry_run(client, &extracted, spec, &execute)
        .await
        .map_err(|errors| {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow!("cannot plan the restore: {}", text.join("; "))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_follow_velero() {
        let now = jiff::Timestamp::from_second(1_700_000_000).unwrap();
        assert_eq!(
            default_restore_name("nightly", now),
            "nightly-20231114221320"
        );
    }

    #[test]
    fn features_are_checked() {
        let check = |features: &[&str], expected: Result<bool, &str>| {
            let features: Vec<String> = features.iter().map(|f| (*f).to_owned()).collect();
            match (api_group_versions_enabled(&features), expected) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{features:?}"),
                (Err(err), Err(fragment)) => {
                    assert!(err.to_string().contains(fragment), "{err}");
                }
                (got, want) => panic!("{features:?}: got {got:?}, want {want:?}"),
            }
        };
        check(&[], Ok(false));
        check(&["EnableAPIGroupVersions"], Ok(true));
        check(&["", "EnableAPIGroupVersions "], Ok(true));
        check(&["EnableCSI"], Err("unknown feature \"EnableCSI\""));
    }
}
