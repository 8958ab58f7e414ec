//! The kind path, without docker: a stand-in `kind` (and `docker`) on PATH that hands out
//! kubeconfigs of two standalone kubesim processes, so the harness's whole kind path runs —
//! tool checks, `kind create cluster` with the pinned node images, the scenarios, and
//! `kind delete cluster` at the end — and, with no tools at all, fails fast naming them. The
//! `--in-cluster` path runs too, up to the point where kubesim (which runs no controllers)
//! never makes the installed Deployment ready.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::Command;

use godwit_e2e::clusters::{self, KIND_CLUSTERS, KIND_NODE_IMAGES};
use k8s_openapi::api::apps::v1::Deployment;

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

/// Records every call (`docker info` included) and succeeds.
const FAKE_DOCKER: &str = r#"#!/bin/sh
echo "$*" >> "$FAKE_KIND_DIR/docker-calls"
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
    let all = godwit_e2e::scenarios::SCENARIOS.len();
    assert!(
        stdout.contains(&format!("{all} scenarios, {all} passed, 0 failed")),
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

#[tokio::test(flavor = "multi_thread")]
async fn the_in_cluster_path_builds_loads_and_installs_then_waits_for_readiness() {
    let (godwit, kubesim) = support::binaries();
    let dir = tempfile::tempdir().unwrap();
    let tools = dir.path().join("bin");
    std::fs::create_dir_all(&tools).unwrap();
    write_script(&tools, "kind", FAKE_KIND);
    write_script(&tools, "docker", FAKE_DOCKER);
    let mut kubesims = Vec::new();
    let mut kubeconfigs = Vec::new();
    for (name, profile) in KIND_CLUSTERS.into_iter().zip(clusters::SIM_PROFILES) {
        let (child, kubeconfig) = clusters::start_kubesim(&kubesim, profile, name, dir.path())
            .await
            .unwrap();
        std::fs::copy(&kubeconfig, dir.path().join(format!("{name}.kubeconfig"))).unwrap();
        kubesims.push(child);
        kubeconfigs.push(kubeconfig);
    }
    let path = format!(
        "{}:{}",
        tools.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let work = dir.path().join("work");
    let output = Command::new(env!("CARGO_BIN_EXE_godwit-e2e"))
        .args(["--clusters", "kind", "--in-cluster", "--ready-timeout", "1"])
        .arg("--godwit")
        .arg(&godwit)
        .arg("--work-dir")
        .arg(&work)
        .env("PATH", path)
        .env("FAKE_KIND_DIR", dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stdout}\n{stderr}");

    // The image: built from deploy/Dockerfile at the repository root, under a run's own tag.
    let root = clusters::repo_root();
    let docker_calls = std::fs::read_to_string(dir.path().join("docker-calls")).unwrap();
    let docker_calls: Vec<&str> = docker_calls.lines().collect();
    let build_prefix = format!("build -f {} -t ", root.join("deploy/Dockerfile").display());
    let [info, build] = docker_calls.as_slice() else {
        panic!("docker calls: {docker_calls:?}");
    };
    assert_eq!(*info, "info");
    let (tag, context) = build
        .strip_prefix(&build_prefix)
        .and_then(|rest| rest.split_once(' '))
        .unwrap_or_else(|| panic!("docker build call: {build}"));
    assert_eq!(context, root.display().to_string());
    let run = tag.strip_prefix("godwit:e2e-").unwrap();
    assert_eq!(tag, clusters::image_tag(run));

    // The clusters: made with the config that mounts the shared storage, then given the image.
    let config = work.join("kind-config.yaml");
    let storage = work.join("storage");
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        clusters::kind_config(&storage)
    );
    assert!(clusters::kind_config(&storage).contains(&format!(
        "extraMounts:\n  - hostPath: \"{}\"\n    containerPath: {}\n",
        storage.display(),
        clusters::NODE_STORAGE_DIR
    )));
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&storage).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o777);
    }
    let calls = std::fs::read_to_string(dir.path().join("calls")).unwrap();
    let expected: Vec<String> = KIND_CLUSTERS
        .into_iter()
        .zip(KIND_NODE_IMAGES)
        .flat_map(|(name, image)| {
            [
                "get clusters".to_owned(),
                format!(
                    "create cluster --name {name} --image {image} --kubeconfig {} --wait 180s \
                     --config {}",
                    work.join(format!("{name}.kubeconfig")).display(),
                    config.display()
                ),
            ]
        })
        .chain(KIND_CLUSTERS.map(|name| format!("load docker-image {tag} --name {name}")))
        .chain(KIND_CLUSTERS.map(|name| format!("delete cluster --name {name}")))
        .collect();
    assert_eq!(calls.lines().collect::<Vec<_>>(), expected);

    // `godwit install` ran against both clusters: each has the Deployment, running the image
    // with the shared storage mounted from the node.
    for (side, kubeconfig) in ["src", "dst"].into_iter().zip(&kubeconfigs) {
        let namespace = format!("godwit-e2e-{run}-{side}");
        let client = godwit_e2e::kubeapi::client(kubeconfig).await.unwrap();
        let deployments: kube::Api<Deployment> = kube::Api::namespaced(client, &namespace);
        let deployment = deployments
            .get_opt("godwit")
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no Deployment {namespace}/godwit; {stdout}"));
        let pod = deployment.spec.unwrap().template.spec.unwrap();
        let container = &pod.containers[0];
        assert_eq!(container.image.as_deref(), Some(tag));
        assert_eq!(container.image_pull_policy.as_deref(), Some("IfNotPresent"));
        assert!(
            container
                .args
                .iter()
                .flatten()
                .any(|arg| arg == "--features=EnableAPIGroupVersions"),
            "{container:?}"
        );
        assert!(
            pod.volumes
                .iter()
                .flatten()
                .filter_map(|volume| volume.host_path.as_ref())
                .any(|host_path| host_path.path == clusters::NODE_STORAGE_DIR),
            "{pod:?}"
        );
    }

    // kubesim runs no controllers, so the run stops at the first Deployment, naming it.
    assert!(
        stderr.starts_with(&format!(
            "error: Deployment godwit-e2e-{run}-src/godwit in the src cluster did not become \
             ready within 1s; no pod with label app.kubernetes.io/name=godwit exists; see \
             kubectl --kubeconfig "
        )),
        "{stderr}"
    );
    assert!(stderr.contains("raise --ready-timeout"), "{stderr}");
}
