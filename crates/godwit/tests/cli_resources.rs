//! The server-backed verbs run as subprocesses against a kubesim with Velero's CRDs and a
//! local-directory BackupStorageLocation. No godwit server runs: the test plays its part by
//! setting phases, and by writing the restore's files into the store.
#![allow(clippy::unwrap_used)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use godwit_api::{Backup, DeleteBackupRequest, Restore};
use godwit_kubesim::{Options, Profile, Running};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;

struct Cluster {
    running: Running,
    kubeconfig: PathBuf,
    client: kube::Client,
    store_root: PathBuf,
    _dir: tempfile::TempDir,
}

async fn cluster() -> Cluster {
    let dir = tempfile::tempdir().unwrap();
    let running = godwit_kubesim::start(Options {
        profile: Profile::V1_33,
        ..Options::default()
    })
    .await
    .unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    running.write_kubeconfig(&kubeconfig).unwrap();
    let client = running.client().unwrap();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in godwit_api::crds() {
        crds.create(&PostParams::default(), &crd).await.unwrap();
    }
    for crd in godwit_api::crds() {
        let name = crd.metadata.name.clone().unwrap();
        let mut established = false;
        for _ in 0..100 {
            let live = crds.get(&name).await.unwrap();
            established = live.status.and_then(|s| s.conditions).is_some_and(|c| {
                c.iter()
                    .any(|c| c.type_ == "Established" && c.status == "True")
            });
            if established {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(established, "{name} never became established");
    }
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "velero"}})).unwrap(),
        )
        .await
        .unwrap();
    let store_root = dir.path().join("store");
    let locations: Api<godwit_api::BackupStorageLocation> =
        Api::namespaced(client.clone(), "velero");
    locations
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
                "metadata": {"name": "default", "namespace": "velero"},
                "spec": {"provider": "godwit.io/local", "default": true,
                    "objectStorage": {"bucket": "backups"},
                    "config": {"root": store_root.to_str().unwrap()}}
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    Cluster {
        running,
        kubeconfig,
        client,
        store_root,
        _dir: dir,
    }
}

fn command(kubeconfig: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_godwit"));
    command
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env_remove("KUBECONFIG")
        .env_remove("GODWIT_NAMESPACE")
        .env("RUST_LOG", "error");
    command
}

/// Builds the command at once, so the returned future borrows nothing.
fn godwit(kubeconfig: &Path, args: &[&str]) -> impl Future<Output = Output> + use<> {
    let mut command = command(kubeconfig, args);
    async move {
        tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn gzip(text: &str) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

/// Waits until the object exists, then sets its status as a server would.
async fn finish<K>(api: &Api<K>, name: &str, status: serde_json::Value)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    for _ in 0..200 {
        if api.get_opt(name).await.unwrap().is_some() {
            api.patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({ "status": status })),
            )
            .await
            .unwrap();
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{name} was never created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_verbs_through_the_custom_resources() {
    let cluster = cluster().await;
    let kubeconfig = &cluster.kubeconfig;
    let backups: Api<Backup> = Api::namespaced(cluster.client.clone(), "velero");

    let output = godwit(
        kubeconfig,
        &[
            "backup",
            "create",
            "nightly",
            "--include-namespaces",
            "shop",
            "--selector",
            "app=web",
        ],
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "Backup request \"nightly\" submitted successfully.\n\
         Run `godwit backup describe nightly` or `godwit backup logs nightly` for more details.\n"
    );
    let created = backups.get("nightly").await.unwrap();
    assert_eq!(
        created.spec.included_namespaces,
        Some(vec!["shop".to_owned()])
    );

    let output = godwit(kubeconfig, &["backup", "create", "nightly"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "error: backup nightly already exists in namespace velero; pick another name or delete it first\n"
    );

    let output = godwit(kubeconfig, &["backup", "get"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let table = text(&output.stdout);
    assert!(table.starts_with("NAME "), "{table}");
    let row = table.lines().nth(1).unwrap();
    assert!(
        row.starts_with("nightly ") && row.contains(" New ") && row.ends_with("app=web"),
        "{row}"
    );

    let output = godwit(kubeconfig, &["backup", "get", "nightly", "-o", "json"]).await;
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["kind"], "Backup");
    assert_eq!(json["metadata"]["name"], "nightly");

    let output = godwit(kubeconfig, &["backup", "describe", "nightly"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let described = text(&output.stdout);
    assert!(described.contains("Phase:  New"), "{described}");
    assert!(
        described.contains("Label selector:  app=web"),
        "{described}"
    );

    // --wait ends with the phase, and a phase other than Completed fails the command.
    for (name, phase, code) in [
        ("waited-ok", "Completed", 0),
        ("waited-bad", "PartiallyFailed", 1),
    ] {
        let waiting = godwit(kubeconfig, &["backup", "create", name, "--wait"]);
        let server = finish(&backups, name, json!({"phase": phase}));
        let (output, ()) = tokio::join!(waiting, server);
        assert_eq!(output.status.code(), Some(code), "{}", text(&output.stderr));
        let stdout = text(&output.stdout);
        assert!(
            stdout.contains("Waiting for backup to complete."),
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!("Backup completed with status: {phase}.")),
            "{stdout}"
        );
    }

    // Logs come from the store once the backup is done.
    let output = godwit(kubeconfig, &["backup", "logs", "nightly"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("not available until it's finished"));

    let output = godwit(kubeconfig, &["backup", "delete", "nightly", "--confirm"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout)
            .starts_with("Request to delete backup \"nightly\" submitted successfully.")
    );
    let requests: Api<DeleteBackupRequest> = Api::namespaced(cluster.client.clone(), "velero");
    let list = requests.list(&Default::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].spec.backup_name, "nightly");
    assert_eq!(
        list.items[0].metadata.labels.as_ref().unwrap()["velero.io/backup-name"],
        "nightly"
    );

    let output = godwit(kubeconfig, &["backup", "describe", "missing"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "error: backup missing not found in namespace velero; list them with `godwit backup get`\n"
    );
    cluster.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_verbs_through_the_custom_resources() {
    let cluster = cluster().await;
    let kubeconfig = &cluster.kubeconfig;
    let backups: Api<Backup> = Api::namespaced(cluster.client.clone(), "velero");
    let restores: Api<Restore> = Api::namespaced(cluster.client.clone(), "velero");

    let output = godwit(
        kubeconfig,
        &["restore", "create", "--from-backup", "nightly"],
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "error: backup nightly not found in namespace velero (--from-backup); list them with `godwit backup get`\n"
    );

    let output = godwit(kubeconfig, &["backup", "create", "nightly"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    finish(&backups, "nightly", json!({"phase": "Completed"})).await;

    // Without a name: <backup>-<timestamp>, as Velero names it.
    let output = godwit(
        kubeconfig,
        &["restore", "create", "--from-backup", "nightly"],
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let name = stdout
        .strip_prefix("Restore request \"")
        .and_then(|s| s.split('"').next())
        .unwrap();
    assert!(
        name.starts_with("nightly-") && name.len() == "nightly-".len() + 14,
        "{name}"
    );
    assert!(restores.get_opt(name).await.unwrap().is_some());

    // --wait; the "server" records version choices and stores the results and the log.
    let store = godwit_storage::BackupStore::open(&godwit_storage::LocationConfig::local(
        cluster.store_root.join("backups"),
    ))
    .await
    .unwrap();
    store
        .put_restore_results(
            "shop-copy",
            gzip(
                r#"{"warnings":{"velero":[],"cluster":[],"namespaces":{"shop-copy":["configmaps shop-copy/settings already exists"]}},"errors":{"velero":[],"cluster":[],"namespaces":{}}}"#,
            ),
        )
        .await
        .unwrap();
    store
        .put_restore_log(
            "shop-copy",
            gzip("restoring deployments.apps at v1 (target preferred version)\n"),
        )
        .await
        .unwrap();
    let waiting = godwit(
        kubeconfig,
        &[
            "restore",
            "create",
            "shop-copy",
            "--from-backup",
            "nightly",
            "--namespace-mappings",
            "shop:shop-copy",
            "--wait",
        ],
    );
    let server = finish(
        &restores,
        "shop-copy",
        json!({"phase": "Completed", "warnings": 1,
            "progress": {"totalItems": 3, "itemsRestored": 3},
            "godwit": {"versionChoices": [
                {"groupResource": "deployments.apps", "version": "v1", "rule": "targetPreferred"}]}}),
    );
    let (output, ()) = tokio::join!(waiting, server);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("Restore completed with status: Completed."));
    let created = restores.get("shop-copy").await.unwrap();
    assert_eq!(created.spec.namespace_mapping.unwrap()["shop"], "shop-copy");

    let output = godwit(kubeconfig, &["restore", "describe", "shop-copy"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let described = text(&output.stdout);
    assert!(
        described.contains("Namespace mappings:  shop=shop-copy"),
        "{described}"
    );
    assert!(
        described.contains("    shop-copy:  configmaps shop-copy/settings already exists"),
        "{described}"
    );
    assert!(
        described.contains("  deployments.apps   v1        target preferred version (priority 1)"),
        "{described}"
    );

    let output = godwit(kubeconfig, &["restore", "logs", "shop-copy"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "restoring deployments.apps at v1 (target preferred version)\n"
    );

    let output = godwit(kubeconfig, &["restore", "get", "-o", "yaml"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let yaml = text(&output.stdout);
    assert!(
        yaml.contains("kind: List") && yaml.contains("name: shop-copy"),
        "{yaml}"
    );

    let output = godwit(kubeconfig, &["restore", "delete", "shop-copy", "--confirm"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(restores.get_opt("shop-copy").await.unwrap().is_none());
    cluster.running.shutdown().await;
}
