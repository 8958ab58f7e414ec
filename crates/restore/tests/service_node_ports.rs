//! End-to-end tests of how Services come back, through the restore engine against kubesim:
//! explicit node ports are kept, automatically assigned ones are allocated again by the target,
//! `preserve_node_ports` keeps every port and a taken one fails only its Service with the API
//! server's message, a headless Service stays headless and a ClusterIP Service gets a new address.

#![cfg(feature = "executor")]
#![allow(clippy::unwrap_used)]

mod common;

use std::ops::RangeInclusive;

use common::*;
use godwit_kubesim::{Options, Profile, Running};
use godwit_restore::{ExecuteOptions, Outcome, Phase, RestoreResult, RestoreSpec, restore};
use kube::api::ApiResource;
use serde_json::{Value, json};

/// Annotation `kubectl apply` writes with the configuration it applied.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

fn services() -> ApiResource {
    resource("", "v1", "services", "Service")
}

/// A kubesim whose allocator hands out node ports from `range`.
async fn kubesim_with_ports(range: RangeInclusive<u16>) -> Running {
    godwit_kubesim::start(Options {
        profile: Profile::V1_33,
        node_port_range: range,
        ..Options::default()
    })
    .await
    .unwrap()
}

/// Reads a Service, live.
async fn service(client: &kube::Client, namespace: &str, name: &str) -> Value {
    serde_json::to_value(
        api(client, &services(), Some(namespace))
            .get(name)
            .await
            .unwrap(),
    )
    .unwrap()
}

/// The node ports of a Service, in port order (0 where a port has none).
fn node_ports(service: &Value) -> Vec<u16> {
    service["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|port| u16::try_from(port["nodePort"].as_u64().unwrap_or(0)).unwrap())
        .collect()
}

/// Backs up the named Services and ConfigMaps of `namespace` from `source`.
async fn back_up(
    source: &kube::Client,
    namespace: &'static str,
    service_names: &[&str],
    configmap_names: &[&str],
) -> (tempfile::TempDir, godwit_tarball::ExtractedBackup) {
    let objects = |names: &[&str]| -> Vec<(Option<&'static str>, String)> {
        names
            .iter()
            .map(|name| (Some(namespace), (*name).to_owned()))
            .collect()
    };
    let mut what = vec![Backed {
        group_resource: "services",
        kind: "Service",
        versions: vec!["v1"],
        objects: objects(service_names),
    }];
    if !configmap_names.is_empty() {
        what.push(Backed {
            group_resource: "configmaps",
            kind: "ConfigMap",
            versions: vec!["v1"],
            objects: objects(configmap_names),
        });
    }
    take_backup(source, &what).await
}

async fn restore_into(
    target: &kube::Client,
    backup: &godwit_tarball::ExtractedBackup,
    restore_name: &str,
    preserve_node_ports: bool,
) -> RestoreResult {
    let mut spec = RestoreSpec::new("nightly", restore_name);
    spec.preserve_node_ports = preserve_node_ports;
    restore(target, backup, spec, &ExecuteOptions::default()).await
}

fn errors(result: &RestoreResult) -> Vec<String> {
    result.errors.all().map(str::to_owned).collect()
}

fn outcome(result: &RestoreResult, group_resource: &str, namespace: &str, name: &str) -> Outcome {
    result
        .outcome_of(group_resource, Some(namespace), name)
        .unwrap_or_else(|| panic!("no outcome for {group_resource} {namespace}/{name}"))
        .outcome
}

#[tokio::test]
async fn explicitly_set_node_ports_are_kept() {
    let source = kubesim_with_ports(30000..=32767).await;
    let source_client = source.client().unwrap();
    create_namespace(&source_client, "explicit", json!({})).await;
    // Client-side apply: the annotation names the node port the user asked for.
    let applied = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "explicit"},
        "spec": {"type": "NodePort", "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 80, "nodePort": 30555}]}});
    let mut web = applied.clone();
    web["metadata"]["annotations"] = json!({ LAST_APPLIED: applied.to_string() });
    create(&source_client, &services(), web).await;
    // Server-side apply: a managedFields entry owns the node port.
    create(
        &source_client,
        &services(),
        json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "api", "namespace": "explicit", "managedFields": [{
            "manager": "kubectl", "operation": "Apply", "apiVersion": "v1",
            "time": "2024-05-01T10:00:00Z", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:type": {}, "f:ports": {
                "k:{\"port\":8080,\"protocol\":\"TCP\"}": {
                    ".": {}, "f:port": {}, "f:protocol": {}, "f:nodePort": {}}}}}}]},
        "spec": {"type": "NodePort", "selector": {"app": "api"},
            "ports": [{"port": 8080, "protocol": "TCP", "nodePort": 30777}]}}),
    )
    .await;
    let (_dir, backup) = back_up(&source_client, "explicit", &["web", "api"], &[]).await;
    source.shutdown().await;

    // Same range in the target: a fresh allocator would hand out neither port by itself (it
    // starts above the range's static band), so only the backup can have carried them over.
    let target = kubesim_with_ports(30000..=32767).await;
    let client = target.client().unwrap();
    let result = restore_into(&client, &backup, "explicit", false).await;
    assert_eq!(result.phase, Phase::Completed, "{:?}", errors(&result));
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);
    for name in ["web", "api"] {
        assert_eq!(
            outcome(&result, "services", "explicit", name),
            Outcome::Created
        );
    }
    assert_eq!(
        node_ports(&service(&client, "explicit", "web").await),
        [30555]
    );
    assert_eq!(
        node_ports(&service(&client, "explicit", "api").await),
        [30777]
    );
    target.shutdown().await;
}

#[tokio::test]
async fn automatically_assigned_node_ports_are_allocated_again_by_the_target() {
    let source_range = 30000..=30999;
    let target_range = 31000..=31999;
    let source = kubesim_with_ports(source_range.clone()).await;
    let source_client = source.client().unwrap();
    create_namespace(&source_client, "automatic", json!({})).await;
    // No annotation, and no manager sets the node port: the source's API server picked it.
    create(
        &source_client,
        &services(),
        json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "automatic"},
        "spec": {"type": "NodePort", "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 80}]}}),
    )
    .await;
    // Applied with kubectl, but without a node port: the port is still the server's choice.
    let applied = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "api", "namespace": "automatic"},
        "spec": {"type": "NodePort", "selector": {"app": "api"},
            "ports": [{"name": "grpc", "port": 9090}]}});
    let mut api_service = applied.clone();
    api_service["metadata"]["annotations"] = json!({ LAST_APPLIED: applied.to_string() });
    create(&source_client, &services(), api_service).await;

    let mut backed_up = Vec::new();
    for name in ["web", "api"] {
        let live = service(&source_client, "automatic", name).await;
        // Whatever managedFields the server keeps, none of their managers set the node port.
        let managed = live["metadata"]
            .get("managedFields")
            .map(Value::to_string)
            .unwrap_or_default();
        assert!(!managed.contains("f:nodePort"), "{live}");
        if name == "web" {
            assert!(
                live["metadata"].get("annotations").is_none(),
                "web must carry no last-applied-configuration: {live}"
            );
        }
        let ports = node_ports(&live);
        assert_eq!(ports.len(), 1);
        assert!(source_range.contains(&ports[0]), "{ports:?}");
        backed_up.push(ports[0]);
    }
    let (_dir, backup) = back_up(&source_client, "automatic", &["web", "api"], &[]).await;
    source.shutdown().await;

    // The target's range excludes every backed-up port: had the restore sent one, the create
    // would have failed as out of range.
    let target = kubesim_with_ports(target_range.clone()).await;
    let client = target.client().unwrap();
    let result = restore_into(&client, &backup, "automatic", false).await;
    assert_eq!(result.phase, Phase::Completed, "{:?}", errors(&result));
    for (name, old) in ["web", "api"].into_iter().zip(backed_up) {
        assert_eq!(
            outcome(&result, "services", "automatic", name),
            Outcome::Created
        );
        let ports = node_ports(&service(&client, "automatic", name).await);
        assert_eq!(ports.len(), 1, "{name}: {ports:?}");
        assert!(
            target_range.contains(&ports[0]),
            "{name}: node port {} is not from the target's range",
            ports[0]
        );
        assert_ne!(ports[0], old, "{name}");
    }
    target.shutdown().await;
}

#[tokio::test]
async fn preserved_node_port_taken_in_the_target_fails_only_its_service() {
    // Different ranges so the source's automatic ports are not what a fresh target would pick
    // itself: a port the target has is then one the restore preserved.
    let source = kubesim_with_ports(30500..=32767).await;
    let source_client = source.client().unwrap();
    create_namespace(&source_client, "preserve", json!({})).await;
    for (name, port) in [("web", 80), ("api", 8080)] {
        create(
            &source_client,
            &services(),
            json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "preserve"},
            "spec": {"type": "NodePort", "selector": {"app": name},
                "ports": [{"port": port}]}}),
        )
        .await;
    }
    create(
        &source_client,
        &configmaps(),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "preserve"}, "data": {"mode": "live"}}),
    )
    .await;
    let web_port = node_ports(&service(&source_client, "preserve", "web").await)[0];
    let api_port = node_ports(&service(&source_client, "preserve", "api").await)[0];
    let (_dir, backup) = back_up(&source_client, "preserve", &["web", "api"], &["settings"]).await;
    source.shutdown().await;

    let target = kubesim_with_ports(30000..=32767).await;
    let client = target.client().unwrap();
    create_namespace(&client, "squat", json!({})).await;
    create(
        &client,
        &services(),
        json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "squatter", "namespace": "squat"},
        "spec": {"type": "NodePort", "selector": {"app": "squatter"},
            "ports": [{"port": 80, "nodePort": web_port}]}}),
    )
    .await;
    let result = restore_into(&client, &backup, "preserve", true).await;

    assert_eq!(
        result.phase,
        Phase::PartiallyFailed,
        "{:?}",
        errors(&result)
    );
    assert_eq!(
        outcome(&result, "services", "preserve", "web"),
        Outcome::Failed
    );
    let messages = &result.errors.namespaces["preserve"];
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].contains("web")
            && messages[0].contains(&format!("{web_port}: provided port is already allocated")),
        "{messages:?}"
    );
    assert_eq!(result.errors.len(), 1, "{:?}", errors(&result));
    assert_eq!(result.counts.failed, 1, "{:#?}", result.outcomes);
    assert!(
        api(&client, &services(), Some("preserve"))
            .get_opt("web")
            .await
            .unwrap()
            .is_none()
    );
    // The squatter keeps its port.
    assert_eq!(
        node_ports(&service(&client, "squat", "squatter").await),
        [web_port]
    );

    // Everything else came back, the other Service with its automatic port preserved.
    assert_eq!(
        outcome(&result, "services", "preserve", "api"),
        Outcome::Created
    );
    assert_eq!(
        node_ports(&service(&client, "preserve", "api").await),
        [api_port]
    );
    assert_eq!(
        outcome(&result, "configmaps", "preserve", "settings"),
        Outcome::Created
    );
    let settings = serde_json::to_value(
        api(&client, &configmaps(), Some("preserve"))
            .get("settings")
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(settings["data"]["mode"], json!("live"));
    target.shutdown().await;
}

#[tokio::test]
async fn headless_stays_headless_and_cluster_ip_gets_a_new_address() {
    // An address from the range's static band, which the target's allocator never picks by
    // itself: the restored Service has it only if the restore sent it.
    let old_ip = "10.96.0.50";
    let source = kubesim_with_ports(30000..=32767).await;
    let source_client = source.client().unwrap();
    create_namespace(&source_client, "addresses", json!({})).await;
    create(
        &source_client,
        &services(),
        json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "db", "namespace": "addresses"},
        "spec": {"clusterIP": "None", "selector": {"app": "db"},
            "ports": [{"port": 5432}]}}),
    )
    .await;
    create(
        &source_client,
        &services(),
        json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "addresses"},
        "spec": {"type": "ClusterIP", "clusterIP": old_ip, "selector": {"app": "web"},
            "ports": [{"port": 80}]}}),
    )
    .await;
    let web = service(&source_client, "addresses", "web").await;
    assert_eq!(web["spec"]["clusterIPs"], json!([old_ip]));
    let (_dir, backup) = back_up(&source_client, "addresses", &["db", "web"], &[]).await;
    source.shutdown().await;

    let target = kubesim_with_ports(30000..=32767).await;
    let client = target.client().unwrap();
    let result = restore_into(&client, &backup, "addresses", false).await;
    assert_eq!(result.phase, Phase::Completed, "{:?}", errors(&result));

    let db = service(&client, "addresses", "db").await;
    assert_eq!(db["spec"]["clusterIP"], json!("None"));
    assert_eq!(db["spec"]["clusterIPs"], json!(["None"]));

    let web = service(&client, "addresses", "web").await;
    let new_ip = web["spec"]["clusterIP"].as_str().unwrap();
    assert_ne!(new_ip, old_ip);
    let octets = new_ip.parse::<std::net::Ipv4Addr>().unwrap().octets();
    assert_eq!(
        (octets[0], octets[1] & 0xf0),
        (10, 96),
        "{new_ip} is not in 10.96.0.0/12"
    );
    assert_eq!(web["spec"]["clusterIPs"], json!([new_ip]));
    for name in ["db", "web"] {
        assert_eq!(
            outcome(&result, "services", "addresses", name),
            Outcome::Created
        );
    }
    target.shutdown().await;
}
