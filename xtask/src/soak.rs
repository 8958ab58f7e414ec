//! `cargo xtask soak`: builds the e2e crate's `godwit-soak` (and kubesim, or makes sure the
//! envtest control plane is built), then runs it: a backup and a restore of many ConfigMaps
//! through the fault-injecting proxy, checked object by object (`godwit_e2e::soak`).

use std::process::Command;

use anyhow::{Context as _, bail};

use crate::{cargo, envtest};

const HELP: &str = "\
usage: cargo xtask soak [--clusters envtest|sim] [--objects N] [--fault-rate R] [--seed S]
                        [--existing-every K] [--json PATH] [--work-dir DIR] [--k8s RELEASE]
                        [--release]

Creates N ConfigMaps (default 10000) on a fresh control plane (default: a real kube-apiserver
1.36 built by `cargo xtask envtest install`; sim: kubesim 1.33), backs them up with godwit's
engine straight and through a proxy that spoils a share R of requests (default 0.15, seed
default 15: 429 with Retry-After, 500, 503, slow answers, connections dropped before or after
the request was applied), compares the two tarballs, then restores through the proxy into a
namespace where one ConfigMap in K (default 100) already exists, policy none. Prints the faults
injected per kind, the client's retries, duplicates and changed live objects; fails on any
broken rule. --release builds the soak with the release profile.
";

/// Runs the soak with the user's arguments.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    if args.iter().any(|arg| arg == "-h" || arg == "--help") {
        print!("{HELP}");
        return Ok(());
    }
    let (args, releases) = envtest::take_k8s_flag(args)?;
    let mut cluster = "envtest".to_owned();
    let mut release_profile = false;
    let mut passed = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--clusters" {
            cluster = iter
                .next()
                .context("--clusters needs envtest or sim")?
                .clone();
        } else if let Some(value) = arg.strip_prefix("--clusters=") {
            cluster = value.to_owned();
        } else if arg == "--release" {
            release_profile = true;
        } else {
            passed.push(arg.clone());
        }
    }
    let mut soak_args = Vec::new();
    match cluster.as_str() {
        "envtest" => {
            let release = match releases {
                Some(releases) if releases.len() == 1 => releases[0],
                Some(_) => bail!("--k8s takes one release for the soak"),
                None => *envtest::default_releases()
                    .last()
                    .context("no default envtest release")?,
            };
            let assets = envtest::install(&[release])?;
            let assets = assets.first().context("install returned nothing")?;
            soak_args.extend([
                "--envtest-assets".to_owned(),
                assets.dir.display().to_string(),
            ]);
        }
        "sim" if releases.is_none() => {}
        "sim" => bail!("--k8s picks the release of --clusters envtest"),
        other => bail!("unknown cluster {other:?}; use envtest or sim\n\n{HELP}"),
    }
    let packages = ["godwit-e2e", "godwit-kubesim"];
    let bin_dir = if release_profile {
        cargo::build_release(&packages)?
    } else {
        cargo::build(&packages)?
    };
    let binary = |name: &str| bin_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if cluster == "sim" {
        soak_args.extend([
            "--kubesim".to_owned(),
            binary("godwit-kubesim").display().to_string(),
        ]);
    }
    soak_args.extend(passed);
    let soak = binary("godwit-soak");
    let status = Command::new(&soak)
        .args(&soak_args)
        .status()
        .with_context(|| format!("cannot run {}", soak.display()))?;
    match status.code() {
        Some(0) => Ok(()),
        Some(1) => bail!("the soak broke a rule (see the report above)"),
        _ => bail!("the soak could not run ({status})"),
    }
}
