//! `cargo xtask e2e`: builds godwit, godwit-kubesim and the end-to-end harness, then runs the
//! harness (`e2e/`, binary `godwit-e2e`) with the arguments given, pointing it at the binaries
//! just built. xtask itself stays free of kube and tokio: the harness carries those.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The packages the run needs built.
const PACKAGES: [&str; 3] = ["godwit", "godwit-kubesim", "godwit-e2e"];

/// Builds and runs the harness; fails when any scenario fails.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = Command::new(&cargo);
    build.arg("build");
    for package in PACKAGES {
        build.args(["-p", package]);
    }
    let status = build
        .status()
        .with_context(|| format!("cannot run {cargo} build"))?;
    if !status.success() {
        bail!("building {} failed", PACKAGES.join(", "));
    }
    let bin_dir = target_directory(&cargo)?.join("debug");
    let binary = |name: &str| bin_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let harness = binary("godwit-e2e");
    let mut command = Command::new(&harness);
    command.args(harness_args(
        args,
        &binary("godwit"),
        &binary("godwit-kubesim"),
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

/// The harness's arguments: the user's, plus the binaries unless the user named their own.
fn harness_args(args: &[String], godwit: &Path, kubesim: &Path) -> Vec<String> {
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
    all
}

/// Where cargo puts build output: `CARGO_TARGET_DIR`, else what `cargo metadata` says.
fn target_directory(cargo: &str) -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("cannot run cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    target_directory_from_metadata(&output.stdout)
}

fn target_directory_from_metadata(metadata: &[u8]) -> anyhow::Result<PathBuf> {
    let metadata: serde_json::Value =
        serde_json::from_slice(metadata).context("cargo metadata printed no JSON")?;
    metadata
        .get("target_directory")
        .and_then(serde_json::Value::as_str)
        .map(PathBuf::from)
        .context("cargo metadata has no target_directory")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(args: &[&str], expected: &[&str]) {
        let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
        assert_eq!(
            harness_args(
                &args,
                Path::new("/t/godwit"),
                Path::new("/t/godwit-kubesim")
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
    fn reads_the_target_directory() {
        assert_eq!(
            target_directory_from_metadata(br#"{"target_directory": "/w/target"}"#).unwrap(),
            PathBuf::from("/w/target")
        );
        assert!(target_directory_from_metadata(b"{}").is_err());
        assert!(target_directory_from_metadata(b"not json").is_err());
    }
}
