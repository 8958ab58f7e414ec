//! `godwit install`, run as the binary: the manifests `--dry-run -o yaml` prints (snapshot), and
//! applying them to kubesim twice (create, then update in place).
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

use godwit_api::{Backup, BackupStorageLocation};
use godwit_kubesim::Options;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::Api;
use kube::api::ListParams;
use serde_json::Value;

fn godwit(args: &[&str], kubeconfig: Option<&std::path::Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_godwit"));
    command.args(args);
    match kubeconfig {
        Some(path) => command.env("KUBECONFIG", path),
        None => command.env("KUBECONFIG", "/nonexistent/kubeconfig"),
    };
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn dry_run_prints_the_manifests() {
    let output = godwit(
        &[
            "install",
            "--dry-run",
            "-o",
            "yaml",
            "--default-local-dir",
            "/var/lib/godwit",
            "--features=EnableAPIGroupVersions",
            "--image",
            "registry.example/godwit:test",
        ],
        None,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let yaml = text(&output.stdout);
    let list: Value = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(list["kind"], "List");
    let items = list["items"].as_array().unwrap();
    // The CRDs are godwit-api's, unchanged; their schemas are checked there.
    let crds: Vec<Value> = godwit_api::crds()
        .iter()
        .map(|crd| serde_json::to_value(crd).unwrap())
        .collect();
    assert_eq!(items[..4], crds[..]);
    insta::assert_yaml_snapshot!("install_dry_run_without_crds", &items[4..]);

    let json = godwit(
        &[
            "install",
            "--dry-run",
            "-o",
            "json",
            "--default-local-dir",
            "/var/lib/godwit",
            "--features=EnableAPIGroupVersions",
            "--image",
            "registry.example/godwit:test",
        ],
        None,
    );
    assert!(json.status.success(), "{}", text(&json.stderr));
    let from_json: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(from_json, list, "yaml and json print the same objects");
}

#[test]
fn bad_location_flags_are_refused() {
    let output = godwit(&["install", "--dry-run"], None);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("say where backups go"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_applies_to_a_cluster_and_again_in_place() {
    let sim = godwit_kubesim::start(Options::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).unwrap();
    let args = [
        "install",
        "--namespace",
        "backup-system",
        "--provider",
        "velero.io/aws",
        "--bucket",
        "backups",
        "--backup-location-config",
        "region=minio,s3ForcePathStyle=true",
    ];
    let install = {
        let kubeconfig = kubeconfig.clone();
        move || godwit(&args, Some(&kubeconfig))
    };
    let first = tokio::task::spawn_blocking(install.clone()).await.unwrap();
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stderr).contains("CustomResourceDefinition/backups.velero.io: created"),
        "{}",
        text(&first.stderr)
    );
    let second = tokio::task::spawn_blocking(install).await.unwrap();
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(
        text(&second.stderr).contains("Deployment/godwit: configured"),
        "{}",
        text(&second.stderr)
    );

    let client = sim.client().unwrap();
    // The CRDs are served: their resources can be listed.
    let backups: Api<Backup> = Api::namespaced(client.clone(), "backup-system");
    assert!(
        backups
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let locations: Api<BackupStorageLocation> = Api::namespaced(client.clone(), "backup-system");
    let location = locations.get("default").await.unwrap();
    assert!(location.spec.default);
    assert_eq!(location.spec.object_storage.bucket, "backups");
    assert_eq!(
        location.spec.config.unwrap().get("region"),
        Some(&"minio".to_owned())
    );
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "backup-system");
    let deployment = deployments.get("godwit").await.unwrap();
    let container = &deployment.spec.unwrap().template.spec.unwrap().containers[0];
    assert!(
        container
            .args
            .as_ref()
            .unwrap()
            .contains(&"--namespace=backup-system".to_owned())
    );
    let bindings: Api<ClusterRoleBinding> = Api::all(client);
    let binding = bindings.get("godwit-backup-system").await.unwrap();
    assert_eq!(binding.role_ref.name, "cluster-admin");
    sim.shutdown().await;
}
