//! `godwit storage-version migrate`: the CRD versioning procedure (SPEC.md section 8), run by
//! `godwit-crd-migration` with godwit's client and field manager; this file is the flags, the
//! loop over CRDs and what is printed per CRD.

use std::fmt::Write as _;
use std::process::ExitCode;

use godwit_crd_migration::{Options, Outcome};

use super::backup::exit_for;
use super::cluster::ClusterArgs;
use crate::output;

/// `godwit storage-version ...`.
#[derive(Debug, clap::Args)]
pub struct StorageVersionCommand {
    /// Cluster (the server namespace flag is accepted and unused).
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The verb.
    #[command(subcommand)]
    pub action: StorageVersionAction,
}

/// The storage-version verbs.
#[derive(Debug, clap::Subcommand)]
pub enum StorageVersionAction {
    /// Store every object of a CRD at its storage version, then drop the old versions from
    /// status.storedVersions.
    #[command(
        long_about = "Store every object of a CRD at its storage version, then drop the old \
            versions from status.storedVersions.\n\n\
            An object is kept at the storage version of the moment it was last written, and \
            status.storedVersions lists every version ever used for storage; the API server \
            refuses to remove a version from spec.versions while it is listed there. For each \
            CRD whose status.storedVersions lists more than its storage version, this command \
            lists every object in pages and updates it unchanged (the server stores it again at \
            today's storage version; a conflict is retried on a fresh read), then writes \
            status.storedVersions = [<storage version>] through the status subresource, \
            conditioned on the CRD's resourceVersion.\n\n\
            It refuses, saying why and changing nothing in status.storedVersions, when a stale \
            stored version is missing from spec.versions (the server cannot decode its objects) \
            or is not served (its objects could be read only through a conversion nobody can \
            check any more), when the CRD's storage version or spec changes during the run, \
            when an object keeps conflicting, or when the server never starts storing at the \
            storage version. The exit code is non-zero when any CRD was refused or failed.",
        after_help = "Examples:\n  \
            # Make v1 the storage version of widgets.example.io first, then:\n  \
            godwit storage-version migrate widgets.example.io\n\n  \
            # See what every CRD needs, writing nothing\n  \
            godwit storage-version migrate --all --dry-run"
    )]
    Migrate(MigrateArgs),
}

/// Flags of `godwit storage-version migrate`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["crds", "all"]))]
pub struct MigrateArgs {
    /// CRDs to migrate, by name (`<plural>.<group>`).
    #[arg(value_name = "CRD-NAME")]
    pub crds: Vec<String>,
    /// Every CRD that needs it; the others are listed as needing nothing.
    #[arg(long, conflicts_with = "crds")]
    pub all: bool,
    /// Print what would be done (objects counted by a list) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Objects per list page.
    #[arg(long, default_value_t = 500, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub page_size: u32,
}

/// Runs a storage-version command.
pub async fn run(command: StorageVersionCommand) -> anyhow::Result<ExitCode> {
    match command.action {
        StorageVersionAction::Migrate(args) => migrate(&command.cluster, args).await,
    }
}

async fn migrate(cluster: &ClusterArgs, args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let client = cluster.client().await?;
    let names = if args.all {
        godwit_crd_migration::crd_names(&client).await?
    } else {
        args.crds.clone()
    };
    let options = Options {
        field_manager: godwit_restore::FIELD_MANAGER.to_owned(),
        page_size: args.page_size,
        dry_run: args.dry_run,
        ..Options::default()
    };
    if args.dry_run {
        println!("Dry run: nothing is written.");
    }
    let mut results = Vec::new();
    for name in &names {
        let bar = output::progress_bar(&format!("Rewriting {name}"));
        let shown = bar.clone();
        let result = godwit_crd_migration::migrate(&client, name, &options, move |progress| {
            if let Some(bar) = &shown {
                if let Some(total) = progress.total {
                    bar.set_length(total);
                }
                bar.set_position(progress.done);
            }
        })
        .await;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let result = result.map_err(|err| err.to_string());
        print!("{}", render(name, &result));
        results.push(result);
    }
    print!("{}", summary(&results));
    let failed = results
        .iter()
        .any(|result| matches!(result, Err(_) | Ok(Outcome::Refused { .. })));
    Ok(exit_for(!failed))
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What is printed for one CRD.
fn render(name: &str, result: &Result<Outcome, String>) -> String {
    let mut out = String::new();
    match result {
        Ok(Outcome::NothingToDo {
            storage_version, ..
        }) => {
            let _ = writeln!(
                out,
                "{name}: nothing to do (status.storedVersions is [{storage_version}])"
            );
        }
        Ok(Outcome::Migrated(report)) => {
            let _ = writeln!(
                out,
                "{name}: rewrote {} at {} in {:.1}s; removed {} from status.storedVersions",
                plural(report.objects_rewritten, "object", "objects"),
                report.storage_version,
                report.elapsed.as_secs_f64(),
                report.versions_removed.join(", "),
            );
            if report.objects_gone > 0 || report.conflicts_retried > 0 {
                let _ = writeln!(
                    out,
                    "  {} deleted meanwhile, {} retried after a conflict",
                    plural(report.objects_gone, "object", "objects"),
                    plural(report.conflicts_retried, "update", "updates"),
                );
            }
        }
        Ok(Outcome::WouldMigrate { migration, objects }) => {
            let via = if migration.write_version == migration.storage_version {
                String::new()
            } else {
                format!(" (through {}, which is served)", migration.write_version)
            };
            let _ = writeln!(
                out,
                "{name}: would rewrite {} at {}{via} and remove {} from status.storedVersions",
                plural(*objects, "object", "objects"),
                migration.storage_version,
                migration.stale_versions.join(", "),
            );
        }
        Ok(Outcome::Refused {
            refusal,
            objects_rewritten,
        }) => {
            let _ = writeln!(out, "{name}: refused: {refusal}");
            if *objects_rewritten > 0 {
                let _ = writeln!(
                    out,
                    "  {} rewritten before that (harmless; they stay rewritten)",
                    plural(*objects_rewritten, "object was", "objects were")
                );
            }
        }
        Err(error) => {
            let _ = writeln!(out, "{name}: failed: {error}");
        }
    }
    out
}

/// The last line: how many CRDs ended which way.
fn summary(results: &[Result<Outcome, String>]) -> String {
    let count = |wanted: fn(&Result<Outcome, String>) -> bool| {
        results.iter().filter(|result| wanted(result)).count()
    };
    format!(
        "\n{}: {} migrated, {} would be migrated, {} needed nothing, {} refused, {} failed\n",
        plural(results.len() as u64, "CRD", "CRDs"),
        count(|r| matches!(r, Ok(Outcome::Migrated(_)))),
        count(|r| matches!(r, Ok(Outcome::WouldMigrate { .. }))),
        count(|r| matches!(r, Ok(Outcome::NothingToDo { .. }))),
        count(|r| matches!(r, Ok(Outcome::Refused { .. }))),
        count(|r| r.is_err()),
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use godwit_crd_migration::{Decision, Refusal, Report, decide};
    use serde_json::json;

    use super::*;

    #[test]
    fn outcomes_read_well() {
        let check = |result: Result<Outcome, String>, expected: &str| {
            assert_eq!(render("widgets.example.io", &result), expected);
        };
        check(
            Ok(Outcome::NothingToDo {
                crd: "widgets.example.io".into(),
                storage_version: "v1".into(),
            }),
            "widgets.example.io: nothing to do (status.storedVersions is [v1])\n",
        );
        check(
            Ok(Outcome::Migrated(Report {
                crd: "widgets.example.io".into(),
                storage_version: "v1".into(),
                versions_removed: vec!["v1alpha1".into(), "v1beta1".into()],
                objects_rewritten: 25,
                objects_gone: 1,
                conflicts_retried: 2,
                elapsed: Duration::from_millis(1250),
            })),
            "widgets.example.io: rewrote 25 objects at v1 in 1.2s; removed v1alpha1, v1beta1 \
             from status.storedVersions\n  1 object deleted meanwhile, 2 updates retried after \
             a conflict\n",
        );
        let crd = json!({
            "metadata": {"name": "widgets.example.io"},
            "spec": {"group": "example.io", "names": {"plural": "widgets", "kind": "Widget"},
                     "scope": "Namespaced",
                     "versions": [{"name": "v1beta1", "served": true, "storage": false},
                                  {"name": "v1", "served": false, "storage": true}]},
            "status": {"storedVersions": ["v1beta1", "v1"]},
        });
        let Decision::Migrate(migration) = decide(&crd) else {
            panic!("a migration")
        };
        check(
            Ok(Outcome::WouldMigrate {
                migration,
                objects: 1,
            }),
            "widgets.example.io: would rewrite 1 object at v1 (through v1beta1, which is \
             served) and remove v1beta1 from status.storedVersions\n",
        );
        check(
            Ok(Outcome::Refused {
                refusal: Refusal::CrdDeleted {
                    crd: "widgets.example.io".into(),
                },
                objects_rewritten: 3,
            }),
            "widgets.example.io: refused: widgets.example.io: the CRD was deleted during the \
             run; nothing left to migrate\n  3 objects were rewritten before that (harmless; \
             they stay rewritten)\n",
        );
        check(
            Err("customresourcedefinition widgets.example.io not found".into()),
            "widgets.example.io: failed: customresourcedefinition widgets.example.io not found\n",
        );
        assert_eq!(
            summary(&[Err(String::new())]),
            "\n1 CRD: 0 migrated, 0 would be migrated, 0 needed nothing, 0 refused, 1 failed\n"
        );
    }
}
