//! What the end-to-end tests share: finding the godwit and godwit-kubesim binaries.

use std::path::{Path, PathBuf};

/// The godwit and godwit-kubesim binaries: from `GODWIT_E2E_GODWIT` and `GODWIT_E2E_KUBESIM`,
/// else beside this test's binary (where `cargo test --workspace` builds them), else built now.
pub fn binaries() -> (PathBuf, PathBuf) {
    if let (Some(godwit), Some(kubesim)) = (
        std::env::var_os("GODWIT_E2E_GODWIT"),
        std::env::var_os("GODWIT_E2E_KUBESIM"),
    ) {
        return (godwit.into(), kubesim.into());
    }
    // target/<profile>/deps/<this test> -> target/<profile>
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    let binary = |name: &str| profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let (godwit, kubesim) = (binary("godwit"), binary("godwit-kubesim"));
    if !godwit.is_file() || !kubesim.is_file() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        // Into the target directory this test runs from, which is where they are looked for.
        let target_dir = profile_dir.parent().unwrap();
        let status = std::process::Command::new(cargo)
            .args([
                "build",
                "-p",
                "godwit",
                "-p",
                "godwit-kubesim",
                "--target-dir",
            ])
            .arg(target_dir)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "building godwit and godwit-kubesim failed"
        );
    }
    (godwit, kubesim)
}
