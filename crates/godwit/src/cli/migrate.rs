//! `godwit migrate`: back up from one cluster and restore into another in one process, through
//! a local-directory location, with no server in either cluster. This is the command a user
//! with two clusters runs first, so it says at each step what happened and why: the versions
//! found per group-resource, the version restored and the rule that chose it, the counts, and
//! every warning and error.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use godwit_api::{Backup, BackupPhase, RestorePhase};
use godwit_ordering::Priorities;

use super::backup::exit_for;
use super::cluster;
use super::describe::{self, Grouped};
use super::filters::{FilterArgs, RestoreShapeArgs};
use super::location;
use super::restore::{api_group_versions_enabled, plan_restore, restore_object};
use crate::jobs::{self, BackupReport, JobOptions, RestoreReport};
use crate::output;

/// Flags of `godwit migrate`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    # Copy namespace shop from a 1.25 cluster to a 1.33 cluster\n  \
    godwit migrate --from-kubeconfig old.yaml --to-kubeconfig new.yaml --include-namespaces shop\n\n  \
    # Same kubeconfig, two contexts; rename the namespace and see the plan only\n  \
    godwit migrate --from-kubeconfig ~/.kube/config --from-context old \\\n      \
    --to-kubeconfig ~/.kube/config --to-context new \\\n      \
    --include-namespaces shop --namespace-mappings shop:shop-v2 --dry-run")]
pub struct MigrateArgs {
    /// Kubeconfig of the source cluster.
    #[arg(long, value_name = "PATH")]
    pub from_kubeconfig: PathBuf,
    /// Context of the source cluster; the kubeconfig's current context when unset.
    #[arg(long, value_name = "CONTEXT")]
    pub from_context: Option<String>,
    /// Kubeconfig of the target cluster.
    #[arg(long, value_name = "PATH")]
    pub to_kubeconfig: PathBuf,
    /// Context of the target cluster; the kubeconfig's current context when unset.
    #[arg(long, value_name = "CONTEXT")]
    pub to_context: Option<String>,
    /// What to migrate.
    #[command(flatten)]
    pub filters: FilterArgs,
    /// How to restore.
    #[command(flatten)]
    pub shape: RestoreShapeArgs,
    /// Feature flags, comma separated; pass --features= to turn EnableAPIGroupVersions off.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "EnableAPIGroupVersions",
        value_name = "FEATURES"
    )]
    pub features: Vec<String>,
    /// Restore order (high,-,low); Velero's order when unset.
    #[arg(long, value_name = "PRIORITIES")]
    pub restore_resource_priorities: Option<Priorities>,
    /// Where to keep the backup (a local-directory location); a new temporary directory,
    /// kept and printed, when unset.
    #[arg(long, value_name = "DIR")]
    pub storage_dir: Option<PathBuf>,
    /// Requests the restore keeps in flight at once.
    #[arg(long, default_value_t = godwit_restore::DEFAULT_REQUESTS_IN_FLIGHT as u16, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
    /// Back up, then only show the restore plan: nothing is written to the target.
    #[arg(long)]
    pub dry_run: bool,
    /// Name of the backup and the restore; migrate-<timestamp> when unset.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The namespace on the target where godwit's ConfigMaps (user version priorities, restore
    /// action mappings) are read.
    #[arg(short = 'n', long = "namespace", env = "GODWIT_NAMESPACE", default_value = godwit_api::DEFAULT_NAMESPACE, value_name = "NAMESPACE")]
    pub server_namespace: String,
}

/// Runs a migration.
pub async fn run(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let enabled = api_group_versions_enabled(&args.features)?;
    let source_config = cluster::config(
        Some(&args.from_kubeconfig),
        args.from_context.as_deref(),
        "--from-kubeconfig",
    )
    .await?;
    let target_config = cluster::config(
        Some(&args.to_kubeconfig),
        args.to_context.as_deref(),
        "--to-kubeconfig",
    )
    .await?;
    let source_url = source_config.cluster_url.to_string();
    let target_url = target_config.cluster_url.to_string();
    let source = crate::writes::client(source_config)
        .context("cannot build a client for the source cluster (--from-kubeconfig)")?;
    let target = crate::writes::client(target_config)
        .context("cannot build a client for the target cluster (--to-kubeconfig)")?;

    let storage_dir = match &args.storage_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| {
                format!(
                    "cannot create --storage-dir {}; pass a writable directory",
                    dir.display()
                )
            })?;
            dir.clone()
        }
        None => tempfile::Builder::new()
            .prefix("godwit-migrate-")
            .tempdir()
            .context("cannot create a temporary directory for the backup; pass --storage-dir")?
            .keep(),
    };
    let store = location::open_local(&storage_dir).await?;
    let name = args.name.clone().unwrap_or_else(|| {
        format!(
            "migrate-{}",
            jiff::Timestamp::now().strftime("%Y%m%d%H%M%S")
        )
    });

    let options = JobOptions {
        enable_api_group_versions: enabled,
        restore_resource_priorities: args.restore_resource_priorities.clone(),
        concurrency: usize::from(args.concurrency),
        server_namespace: args.server_namespace.clone(),
    };
    println!("Migrating {name}");
    println!(
        "  from:     {source_url} ({})",
        args.from_kubeconfig.display()
    );
    println!(
        "  to:       {target_url} ({})",
        args.to_kubeconfig.display()
    );
    println!("  backups:  {} (kept)", storage_dir.display());
    println!(
        "  EnableAPIGroupVersions {}",
        if enabled { "on" } else { "off" }
    );

    let mut spec = godwit_api::BackupSpec::default();
    args.filters.apply_to_backup(&mut spec);
    let mut backup = Backup::new(&name, spec);
    backup.metadata.namespace = Some(args.server_namespace.clone());

    println!("\nBacking up from the source...");
    let bar = output::progress_bar("Backing up");
    let backup_bar = bar.clone();
    let backup_report = jobs::run_backup(&source, &store, &backup, &options, move |p| {
        if let Some(bar) = &backup_bar {
            bar.set_length(p.lists_total);
            bar.set_position(p.lists_done);
        }
    })
    .await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    print!("{}", render_backup_report(&backup_report));
    if !matches!(
        backup_report.phase,
        BackupPhase::Completed | BackupPhase::PartiallyFailed
    ) {
        println!("\nMigration stopped: the backup did not run.");
        return Ok(ExitCode::FAILURE);
    }

    // The backup already holds exactly the selection (and the CRDs of its custom resources):
    // filtering again would drop those cluster-scoped CRDs under a namespace filter.
    let restore = restore_object(
        &name,
        &name,
        &args.server_namespace,
        &FilterArgs::default(),
        &args.shape,
    );
    if args.dry_run {
        println!("\nPlanning the restore into the target (dry run, nothing is written)...\n");
        let plan = plan_restore(&target, &store, &restore, &options).await?;
        print!("{}", plan.render_table());
        print!("{}", footer(&name, &storage_dir, false));
        return Ok(exit_for(
            backup_report.phase == BackupPhase::Completed && plan.failed.is_empty(),
        ));
    }

    println!("\nRestoring into the target...");
    let bar = output::progress_bar("Restoring");
    let restore_bar = bar.clone();
    let restore_report = jobs::run_restore(&target, &store, &restore, &options, move |p| {
        if let Some(bar) = &restore_bar {
            bar.set_length(u64::try_from(p.total_items).unwrap_or(0));
            bar.set_position(u64::try_from(p.items_restored).unwrap_or(0));
        }
    })
    .await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    print!("{}", render_restore_report(&restore_report));
    print!("{}", footer(&name, &storage_dir, true));
    let success = backup_report.phase == BackupPhase::Completed
        && restore_report.phase == RestorePhase::Completed;
    if success {
        println!("\nMigration completed.");
    } else {
        println!(
            "\nMigration finished with problems: backup {}, restore {}.",
            backup_report.phase, restore_report.phase
        );
    }
    Ok(exit_for(success))
}

fn footer(name: &str, dir: &std::path::Path, restored: bool) -> String {
    let dir = dir.display();
    let mut out = format!("\nLogs:\n  godwit backup logs {name} --local-dir {dir}\n");
    if restored {
        let _ = writeln!(out, "  godwit restore logs {name} --local-dir {dir}");
    }
    out
}

fn plural(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What `migrate` prints about its backup.
pub fn render_backup_report(report: &BackupReport) -> String {
    let mut out = format!("Backup {}: {}\n", report.name, report.phase);
    for problem in &report.validation_errors {
        let _ = writeln!(out, "  invalid: {problem}");
    }
    if !report.failure_reason.is_empty() {
        let _ = writeln!(out, "  failed: {}", report.failure_reason);
    }
    if !matches!(
        report.phase,
        BackupPhase::Completed | BackupPhase::PartiallyFailed
    ) {
        return out;
    }
    let _ = writeln!(
        out,
        "  {} backed up ({}), {}, {}\n",
        plural(report.items_backed_up, "object", "objects"),
        plural(report.item_versions, "object version", "object versions"),
        plural(to_u64(report.warnings.len()), "warning", "warnings"),
        plural(to_u64(report.errors.len()), "error", "errors"),
    );
    let rows: Vec<Vec<String>> = report
        .group_resources
        .iter()
        .map(|(group_resource, summary)| {
            let versions = summary
                .versions
                .iter()
                .map(|v| {
                    if *v == summary.preferred_version {
                        format!("{v}*")
                    } else {
                        v.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            vec![
                group_resource.to_string(),
                versions,
                summary.items.to_string(),
            ]
        })
        .collect();
    for line in output::table(
        &["GROUP-RESOURCE", "VERSIONS (* preferred)", "OBJECTS"],
        &rows,
    )
    .lines()
    {
        let _ = writeln!(out, "  {line}");
    }
    describe::grouped(&mut out, "Warnings", &backup_grouped(&report.warnings));
    describe::grouped(&mut out, "Errors", &backup_grouped(&report.errors));
    out
}

/// What `migrate` prints about its restore.
pub fn render_restore_report(report: &RestoreReport) -> String {
    let mut out = format!("Restore {}: {}\n", report.name, report.phase);
    for problem in &report.validation_errors {
        let _ = writeln!(out, "  invalid: {problem}");
    }
    if !report.failure_reason.is_empty() {
        let _ = writeln!(out, "  failed: {}", report.failure_reason);
    }
    let counts = &report.counts;
    let _ = writeln!(
        out,
        "  {} created, {} updated, {} skipped, {} failed (of {}); {}, {}",
        counts.created,
        counts.updated,
        counts.skipped,
        counts.failed,
        counts.total,
        plural(to_u64(report.warnings.len()), "warning", "warnings"),
        plural(to_u64(report.errors.len()), "error", "errors"),
    );
    if !report.version_choices.is_empty() || !report.version_failures.is_empty() {
        out.push_str("\nAPI versions restored:\n");
        let mut rows: Vec<Vec<String>> = report
            .version_choices
            .iter()
            .map(|c| {
                vec![
                    c.group_resource.clone(),
                    c.version.clone(),
                    describe::rule_text(&c.rule),
                ]
            })
            .collect();
        rows.extend(report.version_failures.iter().map(|(gr, _)| {
            vec![
                gr.clone(),
                "none".to_owned(),
                "no version fits: every object fails (see Errors)".to_owned(),
            ]
        }));
        rows.sort();
        for line in output::table(&["GROUP-RESOURCE", "VERSION", "RULE"], &rows).lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
    describe::grouped(&mut out, "Warnings", &restore_grouped(&report.warnings));
    describe::grouped(&mut out, "Errors", &restore_grouped(&report.errors));
    out
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn backup_grouped(results: &godwit_backup::Results) -> Grouped {
    Grouped {
        velero: results.velero.clone(),
        cluster: results.cluster.clone(),
        namespaces: results.namespaces.clone(),
    }
}

fn restore_grouped(results: &godwit_restore::Results) -> Grouped {
    Grouped {
        velero: results.velero.clone(),
        cluster: results.cluster.clone(),
        namespaces: results.namespaces.clone(),
    }
}

#[cfg(test)]
mod tests {
    use godwit_api::{BackupStatus, RestoreStatus, VersionChoice};
    use godwit_backup::GroupResourceSummary;
    use godwit_versioning::GroupResource;

    use super::*;

    fn summary(versions: &[&str], items: u64) -> GroupResourceSummary {
        GroupResourceSummary {
            preferred_version: versions[0].to_owned(),
            versions: versions.iter().map(|v| (*v).to_owned()).collect(),
            items,
            item_versions: items * versions.len() as u64,
        }
    }

    #[test]
    fn reports_read_well() {
        let mut warnings = godwit_backup::Results::default();
        warnings.add_velero("discovery: metrics.k8s.io/v1beta1 answered 503; skipped".to_owned());
        let backup = BackupReport {
            name: "shop-move".to_owned(),
            phase: BackupPhase::Completed,
            status: BackupStatus::default(),
            items_backed_up: 4,
            item_versions: 6,
            group_resources: [
                (
                    GroupResource::parse("configmaps").unwrap(),
                    summary(&["v1"], 1),
                ),
                (
                    GroupResource::parse("horizontalpodautoscalers.autoscaling").unwrap(),
                    summary(&["v2", "v1", "v2beta2"], 1),
                ),
                (
                    GroupResource::parse("rockbands.music.example.io").unwrap(),
                    summary(&["v1", "v1alpha1"], 2),
                ),
            ]
            .into_iter()
            .collect(),
            warnings,
            errors: godwit_backup::Results::default(),
            validation_errors: Vec::new(),
            failure_reason: String::new(),
            stored: true,
        };
        let mut errors = godwit_restore::Results::default();
        errors.add(
            Some("shop"),
            "error restoring rockbands.music.example.io shop/beatles: no common version",
        );
        let restore = RestoreReport {
            name: "shop-move".to_owned(),
            phase: RestorePhase::PartiallyFailed,
            status: RestoreStatus::default(),
            counts: godwit_restore::RestoreCounts {
                total: 5,
                created: 3,
                updated: 0,
                skipped: 0,
                failed: 2,
            },
            version_choices: vec![
                VersionChoice {
                    group_resource: "configmaps".to_owned(),
                    version: "v1".to_owned(),
                    rule: "targetPreferred".to_owned(),
                },
                VersionChoice {
                    group_resource: "horizontalpodautoscalers.autoscaling".to_owned(),
                    version: "v2".to_owned(),
                    rule: "targetPreferred".to_owned(),
                },
            ],
            version_failures: vec![(
                "rockbands.music.example.io".to_owned(),
                "no common version".to_owned(),
            )],
            warnings: godwit_restore::Results::default(),
            errors,
            validation_errors: Vec::new(),
            failure_reason: String::new(),
        };
        insta::assert_snapshot!(format!(
            "{}\n{}",
            render_backup_report(&backup),
            render_restore_report(&restore)
        ));
    }
}
