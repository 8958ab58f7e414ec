//! The kind path, without docker: a stand-in `kind` (and `docker`) on PATH that hands out
//! kubeconfigs of two standalone kubesim processes, so the harness's whole kind path runs —
//! tool checks, `kind create cluster` with the pinned node images, the scenarios, and
//! `kind delete cluster` at the end — and, with no tools at all, fails fast naming them.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::Command;

use godwit_e2e::clusters::{self, KIND_CLUSTERS, KIND_NODE_IMAGES};

/// Records every call, and for `create cluster` / `export kubeconfig` copies the kubeconfig
/// prepared for that cluster name to where `--kubeconfig` says.
const FAKE_KIND: &str = r#"#!/bin/sh
echo "$*" >> "$FAKE_KIND_DIR/calls"
case "$1 $2" in
  "create cluster"|"export kubeconfig")
    name=""; kubeconfig=""
    while [ $# -gt 0 ]; do
      case "$1" in
        --name) name="$2"; shift ;;
        --kubeconfig) kubeconfig="$2"; shift ;;
      esac
      shift
    done
    cp "$FAKE_KIND_DIR/$name.kubeconfig" "$kubeconfig" ;;
esac
"#;

fn write_script(dir: &Path, name: &str, text: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_kind_path_creates_uses_and_deletes_two_clusters() {
    let (godwit, kubesim) = support::binaries();
    let dir = tempfile::tempdir().unwrap();
    let tools = dir.path().join("bin");
    std::fs::create_dir_all(&tools).unwrap();
    write_script(&tools, "kind", FAKE_KIND);
    write_script(&tools, "docker", "#!/bin/sh\nexit 0\n");
    let mut kubesims = Vec::new();
    for (name, profile) in KIND_CLUSTERS.into_iter().zip(clusters::SIM_PROFILES) {
        let (child, kubeconfig) = clusters::start_kubesim(&kubesim, profile, name, dir.path())
            .await
            .unwrap();
        std::fs::copy(kubeconfig, dir.path().join(format!("{name}.kubeconfig"))).unwrap();
        kubesims.push(child);
    }
    let path = format!(
        "{}:{}",
        tools.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new(env!("CARGO_BIN_EXE_godwit-e2e"))
        .arg("--godwit")
        .arg(&godwit)
        .arg("--work-dir")
        .arg(dir.path().join("work"))
        .env("PATH", path)
        .env("FAKE_KIND_DIR", dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("clusters: kind (docker and kind are available"),
        "{stdout}"
    );
    assert!(
        stdout.contains("12 scenarios, 12 passed, 0 failed"),
        "{stdout}"
    );
    let calls = std::fs::read_to_string(dir.path().join("calls")).unwrap();
    let work = dir.path().join("work");
    let expected: Vec<String> = KIND_CLUSTERS
        .into_iter()
        .zip(KIND_NODE_IMAGES)
        .flat_map(|(name, image)| {
            [
                "get clusters".to_owned(),
                format!(
                    "create cluster --name {name} --image {image} --kubeconfig {} --wait 180s",
                    work.join(format!("{name}.kubeconfig")).display()
                ),
            ]
        })
        .chain(KIND_CLUSTERS.map(|name| format!("delete cluster --name {name}")))
        .collect();
    assert_eq!(calls.lines().collect::<Vec<_>>(), expected);
}

#[test]
fn the_kind_path_fails_fast_naming_what_is_missing() {
    let empty = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_godwit-e2e"))
        .args(["--clusters", "kind", "--godwit", "/nonexistent/godwit"])
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "clusters: kind (from --clusters)\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: kind mode needs docker (not found on PATH) and kind (not found on PATH): \
         install them or use --clusters sim\n"
    );
}
