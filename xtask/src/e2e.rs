//! `cargo xtask e2e`: builds godwit, godwit-kubesim and the end-to-end harness, then runs the
//! harness (`e2e/`, binary `godwit-e2e`) with the arguments given, pointing it at the binaries
//! just built. With `--clusters envtest` it first makes sure the control planes are built
//! (`cargo xtask envtest install`, releases from `--k8s`, oldest becomes the source) and hands
//! their directories to the harness. xtask itself stays free of kube and tokio: the harness
//! carries those.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::{cargo, envtest};

/// The packages the run needs built.
const PACKAGES: [&str; 3] = ["godwit", "godwit-kubesim", "godwit-e2e"];

/// Builds and runs the harness; fails when any scenario fails.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let (args, releases) = envtest::take_k8s_flag(args)?;
    let assets = if clusters_value(&args).as_deref() == Some("envtest") {
        let releases = releases.unwrap_or_else(envtest::default_releases);
        if releases.len() != 2 {
            bail!(
                "--clusters envtest runs two control planes; give --k8s two releases of \
                 different minors, e.g. --k8s 1.33.13,1.36.3"
            );
        }
        envtest::install(&releases)?
            .into_iter()
            .map(|assets| assets.dir)
            .collect()
    } else {
        if releases.is_some() {
            bail!("--k8s picks the releases of --clusters envtest; add --clusters envtest");
        }
        Vec::new()
    };
    let bin_dir = cargo::build(&PACKAGES)?;
    let binary = |name: &str| bin_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let harness = binary("godwit-e2e");
    let mut command = Command::new(&harness);
    command.args(harness_args(
        &args,
        &binary("godwit"),
        &binary("godwit-kubesim"),
        &assets,
    ));
    let status = command
        .status()
        .with_context(|| format!("cannot run {}", harness.display()))?;
    match status.code() {
        Some(0) => Ok(()),
        Some(1) => bail!("end-to-end scenarios failed (see the table above)"),
        _ => bail!("the end-to-end harness could not run ({status})"),
    }
}

/// The value of `--clusters`, if given.
fn clusters_value(args: &[String]) -> Option<String> {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--clusters" {
            return iter.next().map(|value| value.trim().to_owned());
        }
        if let Some(value) = arg.strip_prefix("--clusters=") {
            return Some(value.trim().to_owned());
        }
    }
    None
}

/// The harness's arguments: the user's, plus the binaries unless the user named their own,
/// plus the control planes' directories (source first).
fn harness_args(args: &[String], godwit: &Path, kubesim: &Path, assets: &[PathBuf]) -> Vec<String> {
    let mut all = args.to_vec();
    let given = |flag: &str| {
        args.iter()
            .any(|arg| arg == flag || arg.starts_with(&format!("{flag}=")))
    };
    if !given("--godwit") {
        all.extend(["--godwit".to_owned(), godwit.display().to_string()]);
    }
    if !given("--kubesim") {
        all.extend(["--kubesim".to_owned(), kubesim.display().to_string()]);
    }
    for dir in assets {
        all.extend(["--envtest-assets".to_owned(), dir.display().to_string()]);
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|arg| (*arg).to_owned()).collect()
    }

    fn check(args: &[&str], expected: &[&str]) {
        assert_eq!(
            harness_args(
                &strings(args),
                Path::new("/t/godwit"),
                Path::new("/t/godwit-kubesim"),
                &[]
            ),
            expected
        );
    }

    #[test]
    fn passes_the_built_binaries_unless_given() {
        check(
            &["--clusters", "sim"],
            &[
                "--clusters",
                "sim",
                "--godwit",
                "/t/godwit",
                "--kubesim",
                "/t/godwit-kubesim",
            ],
        );
        check(
            &["--godwit=/mine", "--kubesim", "/k"],
            &["--godwit=/mine", "--kubesim", "/k"],
        );
    }

    #[test]
    fn passes_the_control_planes_source_first() {
        let args = harness_args(
            &strings(&["--clusters", "envtest"]),
            Path::new("/g"),
            Path::new("/k"),
            &[PathBuf::from("/e/1.33.13"), PathBuf::from("/e/1.36.3")],
        );
        assert_eq!(
            &args[6..],
            [
                "--envtest-assets",
                "/e/1.33.13",
                "--envtest-assets",
                "/e/1.36.3"
            ]
        );
    }

    #[test]
    fn takes_the_releases_out_of_the_arguments() {
        let (rest, releases) = envtest::take_k8s_flag(&strings(&[
            "--clusters",
            "envtest",
            "--k8s",
            "1.36.3,1.34.4",
            "--keep",
        ]))
        .unwrap();
        assert_eq!(rest, ["--clusters", "envtest", "--keep"]);
        let releases = releases.unwrap();
        assert_eq!(releases[0].to_string(), "1.34.4");
        assert_eq!(releases[1].to_string(), "1.36.3");
        assert_eq!(clusters_value(&rest).as_deref(), Some("envtest"));
        assert_eq!(
            clusters_value(&strings(&["--clusters=sim"])).as_deref(),
            Some("sim")
        );
        assert_eq!(clusters_value(&strings(&["--keep"])), None);
        assert!(envtest::take_k8s_flag(&strings(&["--k8s"])).is_err());
    }
}
