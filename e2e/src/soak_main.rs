//! The `godwit-soak` binary (`cargo xtask soak` builds and starts it): a backup and a restore of
//! many ConfigMaps through the fault proxy, on a fresh kubesim or envtest control plane, or on
//! a cluster of a kubeconfig; see `godwit_e2e::soak`. Exits 1 when a rule was broken.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser as _;
use godwit_e2e::soak;

/// What `godwit-soak` takes.
#[derive(Debug, clap::Parser)]
#[command(
    name = "godwit-soak",
    about = "A backup and a restore through a fault-injecting proxy, checked object by object"
)]
struct Args {
    /// The godwit-kubesim binary: soak a fresh kubesim (profile 1.33).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["envtest_assets", "kubeconfig"])]
    kubesim: Option<PathBuf>,
    /// A directory of envtest binaries: soak a fresh real control plane.
    #[arg(long, value_name = "DIR", conflicts_with = "kubeconfig")]
    envtest_assets: Option<PathBuf>,
    /// Soak the cluster of this kubeconfig (namespaces soak-cm and soak-cm-restored must not
    /// exist).
    #[arg(long, value_name = "PATH")]
    kubeconfig: Option<PathBuf>,
    /// ConfigMaps backed up and restored.
    #[arg(long, default_value_t = 10_000)]
    objects: usize,
    /// Share of requests the proxy spoils (above 10% by a margin, so the share a run happens
    /// to inject stays above it too).
    #[arg(long, default_value_t = 0.15)]
    fault_rate: f64,
    /// The proxy's seed.
    #[arg(long, default_value_t = 15)]
    seed: u64,
    /// One ConfigMap in this many exists in the target beforehand (0: none).
    #[arg(long, default_value_t = 100)]
    existing_every: usize,
    /// Also write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Where tarballs and the cluster's files go; a temporary directory when absent (removed
    /// after a passing run).
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    godwit_e2e::block_on(async {
        let args = Args::parse();
        let work = args.work_dir.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!(
                "godwit-soak-{}",
                &uuid::Uuid::new_v4().simple().to_string()[..6]
            ))
        });
        std::fs::create_dir_all(&work)?;
        let mut options =
            soak::SoakOptions::new(args.objects, args.fault_rate, args.seed, work.join("soak"));
        options.existing_every = args.existing_every;
        let report = if let Some(kubesim) = &args.kubesim {
            let (mut child, kubeconfig) =
                godwit_e2e::clusters::start_kubesim(kubesim, "1.33", "soak", &work).await?;
            let report = soak::run(&kubeconfig, "kubesim 1.33", &options).await;
            let _ = child.kill().await;
            report?
        } else if let Some(assets) = &args.envtest_assets {
            let plane =
                godwit_e2e::envtest::start(assets, &work.join("envtest"), "soak", false).await?;
            let name = format!("envtest {}", plane.version);
            let report = soak::run(&plane.kubeconfig, &name, &options).await;
            plane.stop().await;
            report?
        } else if let Some(kubeconfig) = &args.kubeconfig {
            soak::run(kubeconfig, &kubeconfig.display().to_string(), &options).await?
        } else {
            anyhow::bail!("nothing to soak: pass --kubesim, --envtest-assets or --kubeconfig");
        };
        print!("{}", soak::render(&report));
        if let Some(path) = &args.json {
            std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")?;
        }
        if report.passed() {
            if args.work_dir.is_none() {
                std::fs::remove_dir_all(&work).ok();
            }
            Ok(ExitCode::SUCCESS)
        } else {
            println!("files kept in {}", work.display());
            Ok(ExitCode::FAILURE)
        }
    })
}
