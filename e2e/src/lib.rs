//! godwit's end-to-end scenarios: two clusters serving different versions of the same CRDs
//! (and of built-in groups), a backup taken from one by a godwit server with
//! `EnableAPIGroupVersions`, restored into the other by a second server sharing its storage
//! location, and every object read back at the version SPEC.md section 4 requires.
//!
//! Run through `cargo xtask e2e`, which builds godwit, godwit-kubesim and this crate and starts
//! the `godwit-e2e` binary. With `--clusters envtest` the two clusters are real control planes
//! ([`envtest`]) of different Kubernetes minors, started from binaries `cargo xtask envtest
//! install` builds; the `godwit-envtest` binary starts one of them for any command. The pure parts (argument parsing, scenario data, CRD bodies,
//! verdicts, the table) are unit-tested; the cluster-facing parts are exercised by the run
//! itself and by `tests/kubeconfig.rs` (two standalone kubesims as kubeconfigs, and one twice)
//! and `tests/kind.rs` (the kind path with stand-in `kind` and `docker` tools, `--in-cluster`
//! included up to the readiness wait kubesim cannot pass).
//!
//! The `godwit-soak` binary (`cargo xtask soak`) backs up and restores many objects through
//! a fault-injecting proxy ([`fault_proxy`]) and checks every one ([`soak`]).
//!
//! `--in-cluster` (kind only) builds the image of `deploy/Dockerfile`, loads it into both kind
//! clusters, whose nodes mount the work directory's `storage` as the shared location, and
//! deploys each server with `godwit install` instead of starting it here.

pub mod args;
pub mod bench;
pub mod clusters;
mod crafted;
pub mod envtest;
pub mod evidence;
pub mod fault_proxy;
pub mod fault_schedule;
pub mod godwit;
pub mod harness;
pub mod in_cluster;
pub mod kubeapi;
pub mod objects;
mod readback;
pub mod report;
pub mod scenarios;
pub mod soak;
mod storage_version;

use std::io::Write as _;

/// Runs `work` on a multi-threaded runtime, as this crate's binaries do: its exit code, or 2
/// with the error printed when it fails (1 when even the runtime cannot start).
pub fn block_on<F>(work: F) -> std::process::ExitCode
where
    F: Future<Output = anyhow::Result<std::process::ExitCode>>,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(2)
        }
    }
}

/// Runs the harness, prints the table (and JSON if asked) and says whether every row passed.
pub async fn main_with(args: args::Args) -> anyhow::Result<bool> {
    let rows = harness::run(&args).await?;
    print!("{}", report::render_table(&rows));
    if let Some(path) = &args.json {
        let json = report::to_json(&rows);
        if path.as_os_str() == "-" {
            println!("{json}");
        } else {
            std::fs::write(path, json + "\n")
                .map_err(|err| anyhow::anyhow!("cannot write {}: {err}", path.display()))?;
        }
    }
    std::io::stdout().flush().ok();
    Ok(report::all_passed(&rows))
}
