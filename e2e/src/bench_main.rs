//! The `godwit-bench` binary (`cargo xtask bench` builds and starts it): restore and backup
//! throughput against a cluster next to the API server's own ceiling, as a table. See
//! `godwit_e2e::bench`. Its `backup` and `restore` subcommands are the child processes whose
//! peak memory is measured.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser as _;
use godwit_e2e::bench;

/// What `godwit-bench` takes.
#[derive(Debug, clap::Parser)]
#[command(
    name = "godwit-bench",
    about = "Restore and backup throughput against the API server's own"
)]
enum Command {
    /// Measure both workloads on each cluster given and print the table.
    Run(RunArgs),
    /// (Child) back up the namespaces matching a pattern into a tarball.
    Backup {
        #[arg(long)]
        kubeconfig: PathBuf,
        #[arg(long)]
        include_namespaces: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = godwit_backup::DEFAULT_LISTS_IN_FLIGHT)]
        lists: usize,
    },
    /// A bare client's paged lists of a workload created earlier (prefix `bench`), as the bench
    /// measures them; prints objects per second on one line.
    RawList {
        #[arg(long)]
        kubeconfig: PathBuf,
        /// Workload (b) of this many namespaces, else workload (a).
        #[arg(long)]
        apps: Option<usize>,
    },
    /// A bare client's creates of a workload under a prefix of names (as the bench makes them,
    /// namespaces first); prints objects per second on one line.
    RawCreate {
        #[arg(long)]
        kubeconfig: PathBuf,
        /// The namespaces' prefix; it must not be in use on the cluster.
        #[arg(long)]
        prefix: String,
        /// Workload (b) of this many namespaces, else workload (a) of `--objects`.
        #[arg(long)]
        apps: Option<usize>,
        #[arg(long, default_value_t = 10_000)]
        objects: usize,
        #[arg(long, default_value_t = godwit_restore::DEFAULT_REQUESTS_IN_FLIGHT)]
        in_flight: usize,
    },
    /// (Child) restore a tarball, every namespace renamed with a suffix.
    Restore {
        #[arg(long)]
        kubeconfig: PathBuf,
        #[arg(long)]
        tarball: PathBuf,
        #[arg(long)]
        suffix: String,
        #[arg(long)]
        in_flight: usize,
    },
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The godwit-kubesim binary: measure against kubesim (profile 1.33) too.
    #[arg(long, value_name = "PATH")]
    kubesim: Option<PathBuf>,
    /// A directory of envtest binaries: measure against that real control plane too.
    #[arg(long, value_name = "DIR")]
    envtest_assets: Option<PathBuf>,
    /// ConfigMaps of workload (a).
    #[arg(long, default_value_t = 10_000)]
    objects: usize,
    /// Namespaces of workload (b).
    #[arg(long, default_value_t = 300)]
    namespaces: usize,
    /// Requests in flight for the raw creates and godwit's restore (default: godwit's own
    /// default); several values measure each (comma separated).
    #[arg(long, value_delimiter = ',', default_values_t = [godwit_restore::DEFAULT_REQUESTS_IN_FLIGHT])]
    in_flight: Vec<usize>,
    /// Also write the rows as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Where tarballs and the clusters' files go; a temporary directory when absent.
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    godwit_e2e::block_on(async {
        match Command::parse() {
            Command::Run(args) => run(args).await?,
            Command::Backup {
                kubeconfig,
                include_namespaces,
                out,
                lists,
            } => {
                let report =
                    bench::child_backup(&kubeconfig, &include_namespaces, &out, lists).await?;
                println!("{}", serde_json::to_string(&report)?);
            }
            Command::RawList { kubeconfig, apps } => {
                let client = bench::bare_client(&kubeconfig).await?;
                let (count, took) = bench::raw_list(&client, &workload("bench", apps, 1)).await?;
                println!("{}", rate(count, took));
            }
            Command::RawCreate {
                kubeconfig,
                prefix,
                apps,
                objects,
                in_flight,
            } => {
                let client = bench::bare_client(&kubeconfig).await?;
                let workload = workload(&prefix, apps, objects);
                let took = bench::raw_create(&client, &workload, in_flight).await?;
                println!("{}", rate(workload.requests(), took));
            }
            Command::Restore {
                kubeconfig,
                tarball,
                suffix,
                in_flight,
            } => {
                let report =
                    bench::child_restore(&kubeconfig, &tarball, &suffix, in_flight).await?;
                println!("{}", serde_json::to_string(&report)?);
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Workload (b) of `apps` namespaces when given, else workload (a) of `objects` ConfigMaps.
fn workload(prefix: &str, apps: Option<usize>, objects: usize) -> bench::Workload {
    match apps {
        Some(namespaces) => bench::applications(prefix, namespaces),
        None => bench::config_maps(prefix, objects),
    }
}

/// `N objects in S s: R/s`.
fn rate(count: usize, took: std::time::Duration) -> String {
    format!(
        "{count} objects in {:.3} s: {:.0}/s",
        took.as_secs_f64(),
        count as f64 / took.as_secs_f64()
    )
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let work = bench::work_dir(args.work_dir.as_deref());
    std::fs::create_dir_all(&work)?;
    let mut rows = Vec::new();
    // Each measurement gets a fresh cluster: what earlier ones left would slow lists down.
    let mut round = 0;
    for in_flight in &args.in_flight {
        for (workload, again) in [
            (
                bench::config_maps("bench", args.objects),
                bench::config_maps("again", args.objects),
            ),
            (
                bench::applications("bench", args.namespaces),
                bench::applications("again", args.namespaces),
            ),
        ] {
            round += 1;
            if let Some(kubesim) = &args.kubesim {
                let dir = work.join(format!("sim-{round}"));
                std::fs::create_dir_all(&dir)?;
                let (mut child, kubeconfig) =
                    godwit_e2e::clusters::start_kubesim(kubesim, "1.33", "bench", &dir).await?;
                let measured =
                    bench::measure("sim", &kubeconfig, &workload, &again, *in_flight, &dir).await;
                let _ = child.kill().await;
                rows.push(measured?);
            }
            if let Some(assets) = &args.envtest_assets {
                let dir = work.join(format!("envtest-{round}"));
                let plane = godwit_e2e::envtest::start(assets, &dir, "bench", false).await?;
                let name = format!("envtest {}", plane.version);
                let measured = bench::measure(
                    &name,
                    &plane.kubeconfig,
                    &workload,
                    &again,
                    *in_flight,
                    &dir,
                )
                .await;
                plane.stop().await;
                rows.push(measured?);
            }
        }
    }
    if rows.is_empty() {
        anyhow::bail!("no cluster to measure: pass --kubesim and/or --envtest-assets");
    }
    print!("{}", bench::render(&rows));
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&rows)? + "\n")?;
    }
    std::fs::remove_dir_all(&work).ok();
    Ok(())
}
