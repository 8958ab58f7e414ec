//! Checks the dependency rule of ARCHITECTURE.md mechanically: the crates that decide never
//! depend, even indirectly, on async runtimes, HTTP stacks or Kubernetes clients.
//!
//! It asks `cargo tree` for each pure crate's normal (non-dev) dependencies.

use std::process::Command;

use anyhow::{Context, bail};

/// The crates that take values and return values, with the cargo flags that select their pure
/// build (the restore crate is the pure planner without its `executor` feature; discovery's
/// client half is an opt-in feature).
pub const PURE_CRATES: &[(&str, &[&str])] = &[
    ("godwit-versioning", &[]),
    ("godwit-tarball", &[]),
    ("godwit-ordering", &[]),
    ("godwit-discovery", &[]),
    ("godwit-mutators", &[]),
    ("godwit-convert", &[]),
    ("godwit-crd-migration", &[]),
    ("godwit-restore", &["--no-default-features"]),
];

/// Packages whose presence means a crate does IO or async work.
pub const FORBIDDEN: &[&str] = &[
    "tokio",
    "futures",
    "hyper",
    "axum",
    "reqwest",
    "kube",
    "kube-client",
    "kube-runtime",
    "object_store",
    "godwit-kubesim",
];

pub fn run() -> anyhow::Result<()> {
    let violations = violations()?;
    if violations.is_empty() {
        println!(
            "check-deps: {} pure crates depend on none of {FORBIDDEN:?}",
            PURE_CRATES.len()
        );
        return Ok(());
    }
    for (krate, dep) in &violations {
        eprintln!("{krate} depends on {dep}, which a pure crate must not (ARCHITECTURE.md)");
    }
    bail!("{} dependency-rule violations", violations.len())
}

/// Every (pure crate, forbidden package) pair found in the dependency tree.
pub fn violations() -> anyhow::Result<Vec<(String, String)>> {
    let mut found = Vec::new();
    for (krate, flags) in PURE_CRATES {
        for dep in dependencies(krate, flags)? {
            if FORBIDDEN.contains(&dep.as_str()) {
                found.push(((*krate).to_owned(), dep));
            }
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// The names of every package in `krate`'s normal dependency tree, itself included.
fn dependencies(krate: &str, flags: &[&str]) -> anyhow::Result<Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(&cargo)
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .args(["-p", krate])
        .args(flags)
        .output()
        .with_context(|| format!("run cargo tree for {krate}"))?;
    if !output.status.success() {
        bail!(
            "cargo tree -p {krate} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let tree = String::from_utf8(output.stdout).context("cargo tree printed non-UTF-8")?;
    Ok(dependency_names(&tree).map(str::to_owned).collect())
}

/// Package names from `cargo tree --prefix none --format {p}` lines (`name v1.2.3 (path)`).
fn dependency_names(tree: &str) -> impl Iterator<Item = &str> {
    tree.lines()
        .filter_map(|line| line.split_whitespace().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pure_crates_stay_pure() {
        assert_eq!(violations().unwrap(), Vec::<(String, String)>::new());
    }

    #[test]
    fn names_are_read_from_tree_lines() {
        let tree = "godwit-tarball v0.1.0 (/w/crates/tarball)\ntokio v1.54.1\n\nserde v1.0.0 (*)\n";
        assert_eq!(
            dependency_names(tree).collect::<Vec<_>>(),
            ["godwit-tarball", "tokio", "serde"]
        );
    }

    #[test]
    fn a_forbidden_dependency_is_seen() {
        // The check must be able to fail: kubesim is an IO crate and does depend on tokio, and so
        // does the restore crate with its default (executor) features.
        let deps = dependencies("godwit-kubesim", &[]).unwrap();
        assert!(deps.iter().any(|dep| dep == "tokio"), "{deps:?}");
        let deps = dependencies("godwit-restore", &[]).unwrap();
        assert!(deps.iter().any(|dep| dep == "kube"), "{deps:?}");
    }
}
