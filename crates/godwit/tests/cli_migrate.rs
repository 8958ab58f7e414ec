//! `godwit migrate` and `godwit restore plan --local-dir` run as subprocesses between in-process
//! kubesims: a 1.25 source and 1.33 targets.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use godwit_kubesim::{Fault, FaultRule, Options, Profile, Running};
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use serde_json::{Value, json};

async fn kubesim(profile: Profile, dir: &Path, name: &str) -> (Running, PathBuf) {
    let running = godwit_kubesim::start(Options {
        profile,
        ..Options::default()
    })
    .await
    .unwrap();
    let kubeconfig = dir.join(format!("{name}.kubeconfig"));
    running.write_kubeconfig(&kubeconfig).unwrap();
    (running, kubeconfig)
}

fn resource(group: &str, version: &str, plural: &str, kind: &str) -> ApiResource {
    ApiResource {
        group: group.to_owned(),
        version: version.to_owned(),
        api_version: if group.is_empty() {
            version.to_owned()
        } else {
            format!("{group}/{version}")
        },
        kind: kind.to_owned(),
        plural: plural.to_owned(),
    }
}

fn api(
    client: &kube::Client,
    resource: &ApiResource,
    namespace: Option<&str>,
) -> Api<DynamicObject> {
    match namespace {
        Some(namespace) => Api::namespaced_with(client.clone(), namespace, resource),
        None => Api::all_with(client.clone(), resource),
    }
}

fn crds() -> ApiResource {
    resource(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
    )
}

async fn create(client: &kube::Client, resource: &ApiResource, object: Value) {
    let namespace = object["metadata"]["namespace"].as_str().map(str::to_owned);
    let body: DynamicObject = serde_json::from_value(object).unwrap();
    api(client, resource, namespace.as_deref())
        .create(&PostParams::default(), &body)
        .await
        .unwrap();
}

/// A `rockbands.music.example.io` CRD serving `versions`, stored at the first.
fn rockbands_crd(versions: &[&str]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .enumerate()
        .map(|(index, v)| {
            json!({"name": v, "served": true, "storage": index == 0,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}})
        })
        .collect();
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "rockbands.music.example.io"},
        "spec": {"group": "music.example.io", "scope": "Namespaced",
            "names": {"plural": "rockbands", "singular": "rockband", "kind": "RockBand", "listKind": "RockBandList"},
            "versions": versions}})
}

async fn install_crd(client: &kube::Client, crd: Value) {
    create(client, &crds(), crd).await;
    let api = api(client, &crds(), None);
    for _ in 0..100 {
        let live =
            serde_json::to_value(api.get("rockbands.music.example.io").await.unwrap()).unwrap();
        let established = live["status"]["conditions"].as_array().is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Established" && c["status"] == "True")
        });
        if established {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the rockbands CRD never became established");
}

/// Namespace `shop` with a ConfigMap, a Deployment and a RockBand (CRD serving v1, v1alpha1).
async fn seed_source(client: &kube::Client) {
    create(
        client,
        &resource("", "v1", "namespaces", "Namespace"),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"team": "shop"}}}),
    )
    .await;
    create(
        client,
        &resource("", "v1", "configmaps", "ConfigMap"),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "shop"}, "data": {"color": "blue"}}),
    )
    .await;
    create(
        client,
        &resource("apps", "v1", "deployments", "Deployment"),
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}}}),
    )
    .await;
    install_crd(client, rockbands_crd(&["v1", "v1alpha1"])).await;
    create(
        client,
        &resource("music.example.io", "v1", "rockbands", "RockBand"),
        json!({"apiVersion": "music.example.io/v1", "kind": "RockBand",
            "metadata": {"name": "beatles", "namespace": "shop"}, "spec": {"members": 4}}),
    )
    .await;
}

/// Runs the binary without blocking the kubesims' runtime.
async fn godwit(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_godwit"))
            .args(&args)
            .env_remove("KUBECONFIG")
            .env_remove("GODWIT_NAMESPACE")
            .env("RUST_LOG", "error")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|a| (*a).to_owned()).collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_1_25_to_1_33_then_plan_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let (source, source_config) = kubesim(Profile::V1_25, dir.path(), "source").await;
    seed_source(&source.client().unwrap()).await;
    let (target, target_config) = kubesim(Profile::V1_33, dir.path(), "target").await;
    let store = dir.path().join("store");

    let output = godwit(args(&[
        "migrate",
        "--from-kubeconfig",
        source_config.to_str().unwrap(),
        "--to-kubeconfig",
        target_config.to_str().unwrap(),
        "--include-namespaces",
        "shop",
        "--storage-dir",
        store.to_str().unwrap(),
        "--name",
        "shop-move",
    ]))
    .await;
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&output.stderr)
    );
    assert!(stdout.contains("Backup shop-move: Completed"), "{stdout}");
    assert!(stdout.contains("Restore shop-move: Completed"), "{stdout}");
    assert!(stdout.contains("Migration completed."), "{stdout}");
    // The version table names the rule for the custom resource and the built-ins.
    let rockbands_line = stdout
        .lines()
        .find(|l| {
            l.trim_start().starts_with("rockbands.music.example.io") && l.contains("priority")
        })
        .unwrap_or_else(|| panic!("no version line for rockbands:\n{stdout}"));
    assert!(rockbands_line.contains(" v1 "), "{rockbands_line}");
    assert!(
        rockbands_line.contains("target preferred version (priority 1)"),
        "{rockbands_line}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.trim_start().starts_with("deployments.apps") && l.contains("v1")),
        "{stdout}"
    );

    // The objects are in the target, at the versions the target serves.
    let client = target.client().unwrap();
    let configmap = api(
        &client,
        &resource("", "v1", "configmaps", "ConfigMap"),
        Some("shop"),
    )
    .get("settings")
    .await
    .unwrap();
    assert_eq!(configmap.data["data"]["color"], "blue");
    let deployment = api(
        &client,
        &resource("apps", "v1", "deployments", "Deployment"),
        Some("shop"),
    )
    .get("web")
    .await
    .unwrap();
    assert_eq!(
        deployment.metadata.labels.as_ref().unwrap()["velero.io/restore-name"],
        "shop-move"
    );
    let band = api(
        &client,
        &resource("music.example.io", "v1", "rockbands", "RockBand"),
        Some("shop"),
    )
    .get("beatles")
    .await
    .unwrap();
    // The read answers at v1 whatever was written; godwit's managedFields entry tells.
    let written: Vec<&str> = band
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter(|entry| entry.manager.as_deref() == Some("godwit"))
        .filter(|entry| entry.subresource.is_none())
        .filter_map(|entry| entry.api_version.as_deref())
        .collect();
    assert_eq!(written, ["music.example.io/v1"], "{:?}", band.metadata);
    assert_eq!(band.data["spec"]["members"], 4);

    // The backup stays in the store; its log and the restore's log read back without a server.
    for kind in ["backup", "restore"] {
        let output = godwit(args(&[
            kind,
            "logs",
            "shop-move",
            "--local-dir",
            store.to_str().unwrap(),
        ]))
        .await;
        assert!(
            output.status.success(),
            "{kind} logs: {}",
            text(&output.stderr)
        );
        assert!(!output.stdout.is_empty(), "{kind} logs are empty");
    }

    // A plan against a fresh target, from the local directory: every write request would fail
    // with a fault, and none is made.
    let (fresh, fresh_config) = kubesim(Profile::V1_33, dir.path(), "fresh").await;
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        fresh.faults().add(FaultRule {
            fault: Fault::ServerError { code: 500 },
            fraction: 1.0,
            path_contains: None,
            method: Some(method.to_owned()),
        });
    }
    let output = godwit(args(&[
        "restore",
        "plan",
        "--from-backup",
        "shop-move",
        "--local-dir",
        store.to_str().unwrap(),
        "--kubeconfig",
        fresh_config.to_str().unwrap(),
        "--features",
        "EnableAPIGroupVersions",
        "--namespace-mappings",
        "shop:shop-copy",
        "-o",
        "json",
    ]))
    .await;
    assert!(output.status.success(), "plan: {}", text(&output.stderr));
    assert_eq!(
        fresh.faults().injected(),
        0,
        "the plan sent a write request"
    );
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(plan["backupName"], "shop-move");
    let tiers = plan["tiers"].as_array().unwrap();
    let tier = |gr: &str| {
        tiers
            .iter()
            .find(|t| t["groupResource"] == gr)
            .unwrap_or_else(|| panic!("no tier {gr}: {plan}"))
    };
    assert_eq!(
        tier("deployments.apps")["decision"]["choice"]["version"],
        "v1"
    );
    // The fresh target has no rockbands CRD yet: decided once the backup's CRD is restored.
    assert_eq!(
        tier("rockbands.music.example.io")["decision"]["decision"],
        "deferred"
    );
    assert_eq!(
        tier("configmaps")["objects"][0]["targetNamespace"],
        "shop-copy"
    );
    let namespaces = api(
        &fresh.client().unwrap(),
        &resource("", "v1", "namespaces", "Namespace"),
        None,
    )
    .list(&Default::default())
    .await
    .unwrap();
    assert!(
        namespaces
            .items
            .iter()
            .all(|n| n.metadata.name.as_deref() != Some("shop-copy")),
        "the plan created a namespace"
    );

    // The table form names the backup and the versions section.
    let output = godwit(args(&[
        "restore",
        "plan",
        "--from-backup",
        "shop-move",
        "--local-dir",
        store.to_str().unwrap(),
        "--kubeconfig",
        fresh_config.to_str().unwrap(),
    ]))
    .await;
    assert!(output.status.success(), "plan: {}", text(&output.stderr));
    let table = text(&output.stdout);
    assert!(
        table.starts_with("Restore plan for backup \"shop-move\""),
        "{table}"
    );
    assert_eq!(fresh.faults().injected(), 0);

    // A backup that is not there: one line naming the flag.
    let output = godwit(args(&[
        "restore",
        "plan",
        "--from-backup",
        "nope",
        "--local-dir",
        store.to_str().unwrap(),
        "--kubeconfig",
        fresh_config.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(output.status.code(), Some(1));
    let err = text(&output.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("backup nope not found") && err.contains("--from-backup"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_without_a_common_version_ends_partially_failed() {
    let dir = tempfile::tempdir().unwrap();
    let (source, source_config) = kubesim(Profile::V1_25, dir.path(), "source").await;
    seed_source(&source.client().unwrap()).await;
    let (target, target_config) = kubesim(Profile::V1_33, dir.path(), "target").await;
    // The target already has the CRD, serving only a version the backup does not hold.
    install_crd(&target.client().unwrap(), rockbands_crd(&["v3"])).await;

    let output = godwit(args(&[
        "migrate",
        "--from-kubeconfig",
        source_config.to_str().unwrap(),
        "--to-kubeconfig",
        target_config.to_str().unwrap(),
        "--include-namespaces",
        "shop",
        "--storage-dir",
        dir.path().join("store").to_str().unwrap(),
        "--name",
        "shop-move",
    ]))
    .await;
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&output.stderr)
    );
    assert!(
        stdout.contains("Restore shop-move: PartiallyFailed"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "Migration finished with problems: backup Completed, restore PartiallyFailed."
        ),
        "{stdout}"
    );
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("rockbands.music.example.io") && l.contains("none"))
        .unwrap_or_else(|| panic!("no failed version line:\n{stdout}"));
    assert!(line.contains("no version fits"), "{line}");
    // The rest of the namespace was restored.
    let client = target.client().unwrap();
    api(
        &client,
        &resource("", "v1", "configmaps", "ConfigMap"),
        Some("shop"),
    )
    .get("settings")
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_from_an_unreachable_source_fails_and_keeps_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (source, source_config) = kubesim(Profile::V1_25, dir.path(), "source").await;
    source.shutdown().await;
    let (_target, target_config) = kubesim(Profile::V1_33, dir.path(), "target").await;
    let store = dir.path().join("store");

    let output = godwit(args(&[
        "migrate",
        "--from-kubeconfig",
        source_config.to_str().unwrap(),
        "--to-kubeconfig",
        target_config.to_str().unwrap(),
        "--storage-dir",
        store.to_str().unwrap(),
        "--name",
        "gone",
    ]))
    .await;
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("Backup gone: Failed\n  failed: "),
        "{stdout}"
    );
    assert!(
        stdout.contains("Migration stopped: the backup did not run."),
        "{stdout}"
    );
    assert!(!stdout.contains("Restoring"), "{stdout}");

    // Stored as Velero stores a failed backup: its log says why.
    let output = godwit(args(&[
        "backup",
        "logs",
        "gone",
        "--local-dir",
        store.to_str().unwrap(),
    ]))
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).starts_with("backup failed: "));
}
