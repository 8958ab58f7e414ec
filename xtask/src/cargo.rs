//! What several tasks ask of cargo: where the repository and the build output are, and
//! building packages whose binaries a task then runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

/// The cargo that runs xtask (`CARGO`), else the one on `PATH`.
pub fn program() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// The repository root xtask was built from.
pub fn repo_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.to_path_buf(), Path::to_path_buf)
}

/// Builds `packages` (debug profile) and returns the directory their binaries are in.
pub fn build(packages: &[&str]) -> anyhow::Result<PathBuf> {
    build_profile(packages, false)
}

/// Builds `packages` with the release profile (for measurements) and returns where the
/// binaries are.
pub fn build_release(packages: &[&str]) -> anyhow::Result<PathBuf> {
    build_profile(packages, true)
}

fn build_profile(packages: &[&str], release: bool) -> anyhow::Result<PathBuf> {
    let cargo = program();
    let mut build = Command::new(&cargo);
    build.arg("build");
    if release {
        build.arg("--release");
    }
    for package in packages {
        build.args(["-p", package]);
    }
    let status = build
        .status()
        .with_context(|| format!("cannot run {cargo} build"))?;
    if !status.success() {
        bail!("building {} failed", packages.join(", "));
    }
    Ok(target_directory()?.join(if release { "release" } else { "debug" }))
}

/// Where cargo puts build output: `CARGO_TARGET_DIR`, else what `cargo metadata` says.
pub fn target_directory() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let cargo = program();
    let output = Command::new(&cargo)
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

    #[test]
    fn reads_the_target_directory() {
        assert_eq!(
            target_directory_from_metadata(br#"{"target_directory": "/w/target"}"#).unwrap(),
            PathBuf::from("/w/target")
        );
        assert!(target_directory_from_metadata(b"{}").is_err());
        assert!(target_directory_from_metadata(b"not json").is_err());
    }

    #[test]
    fn the_repo_root_holds_the_workspace() {
        assert!(repo_root().join("Cargo.toml").is_file());
        assert!(repo_root().join("xtask").is_dir());
    }
}
