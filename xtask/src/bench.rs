//! `cargo xtask bench`: builds godwit's bench (release profile) and kubesim, makes sure the
//! envtest control plane is built, and prints the table of restore and backup throughput
//! against the API server's own ceiling (`godwit_e2e::bench`).

use std::process::Command;

use anyhow::{Context as _, bail};

use crate::{cargo, envtest};

const HELP: &str = "\
usage: cargo xtask bench [--clusters sim,envtest] [--objects N] [--namespaces N]
                         [--in-flight N[,N...]] [--json PATH] [--k8s RELEASE]

Measures, on each cluster (default both: kubesim 1.33 and a real kube-apiserver 1.36), for
(a) N ConfigMaps in one namespace (default 10000) and (b) N namespaces (default 300) each with
two ConfigMaps, a Secret, a ServiceAccount, a Service, a Role, a RoleBinding and a PVC: a bare
client's creates with the given requests in flight, godwit's restore at the same, the restore
one object at a time, a bare client's paged lists, godwit's backup, and both engines' peak RSS.
";

/// Runs the bench with the user's arguments.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    if args.iter().any(|arg| arg == "-h" || arg == "--help") {
        print!("{HELP}");
        return Ok(());
    }
    let (args, releases) = envtest::take_k8s_flag(args)?;
    let mut clusters = vec!["sim".to_owned(), "envtest".to_owned()];
    let mut passed = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--clusters" {
            let value = iter
                .next()
                .context("--clusters needs sim, envtest or both")?;
            clusters = value.split(',').map(|c| c.trim().to_owned()).collect();
        } else {
            passed.push(arg.clone());
        }
    }
    if let Some(unknown) = clusters.iter().find(|c| *c != "sim" && *c != "envtest") {
        bail!("unknown cluster {unknown:?}; use sim, envtest or sim,envtest\n\n{HELP}");
    }
    let mut bench_args = vec!["run".to_owned()];
    if clusters.iter().any(|c| c == "envtest") {
        let release = match releases {
            Some(releases) if releases.len() == 1 => releases[0],
            Some(_) => bail!("--k8s takes one release for the bench"),
            None => *envtest::default_releases()
                .last()
                .context("no default envtest release")?,
        };
        let assets = envtest::install(&[release])?;
        let assets = assets.first().context("install returned nothing")?;
        bench_args.extend([
            "--envtest-assets".to_owned(),
            assets.dir.display().to_string(),
        ]);
    }
    let bin_dir = cargo::build_release(&["godwit-e2e", "godwit-kubesim"])?;
    let binary = |name: &str| bin_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if clusters.iter().any(|c| c == "sim") {
        bench_args.extend([
            "--kubesim".to_owned(),
            binary("godwit-kubesim").display().to_string(),
        ]);
    }
    bench_args.extend(passed);
    let bench = binary("godwit-bench");
    let status = Command::new(&bench)
        .args(&bench_args)
        .status()
        .with_context(|| format!("cannot run {}", bench.display()))?;
    if !status.success() {
        bail!("the bench failed ({status})");
    }
    Ok(())
}
