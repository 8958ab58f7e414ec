//! Project chores, run as `cargo xtask <task>` (alias in `.cargo/config.toml`).
//!
//! Few dependencies on purpose: xtask must build fast on a fresh machine.

mod bench;
mod cargo;
mod check_deps;
mod demo;
mod e2e;
mod envtest;
mod fuzz;
mod soak;

use std::process::ExitCode;

const HELP: &str = "\
usage: cargo xtask <task>

tasks:
  demo         plan a restore of the embedded fixture backup into the embedded target clusters,
               printing the version chosen for every group-resource and the rule that chose it
  check-deps   check ARCHITECTURE.md's dependency invariants (pure crates stay pure)
  e2e          back up SPEC.md section 4's version cases from one cluster, restore them into
               another through godwit servers and the CLI, and check every restored version:
               e2e [--clusters sim|envtest|kind|kubeconfig:SRC,DST] [--keep] [--case NAME]
                   [--json PATH] [--k8s OLD,NEW]  (envtest: the two releases; default
                   1.33.13,1.36.3, built with Go by `envtest install` when missing)
                   [--in-cluster [--ready-timeout SECS]]  (kind only: deploy with godwit install)
  bench        restore and backup throughput next to the API server's own, on kubesim and a
               real control plane, as a table (cargo xtask bench --help)
  envtest      real control planes (etcd, kube-apiserver, kube-controller-manager) built from
               the Go module proxy: envtest install [--k8s RELEASES] | run [--k8s RELEASE]
               [-- COMMAND...] | module RELEASE  (cargo xtask envtest help for more)
  fuzz         run each cargo-fuzz target of fuzz/ for N seconds (nightly and cargo-fuzz):
               fuzz [--seconds N] [--target NAME]...  (cargo xtask fuzz --help for the targets)
  soak         a backup and a restore of 10,000 ConfigMaps through a fault-injecting proxy on a
               real control plane, checked object by object (cargo xtask soak --help)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo::run(&args[1..]),
        Some("check-deps") => check_deps::run(),
        Some("e2e") => e2e::run(&args[1..]),
        Some("envtest") => envtest::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("soak") => soak::run(&args[1..]),
        Some("-h" | "--help" | "help") => {
            print!("{HELP}");
            Ok(())
        }
        Some(other) => Err(anyhow::anyhow!("unknown task {other:?}\n\n{HELP}")),
        None => Err(anyhow::anyhow!("no task given\n\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
