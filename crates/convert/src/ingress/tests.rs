//! Ingress conversion tests: the documented differences, the refusals, and a round trip
//! through a test-only inverse (upstream's v1 → v1beta1 conversion).

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::Lossy;
use crate::tests::conversion_for;

fn convert(before: Value) -> Result<Value, Lossy> {
    conversion_for(&before, "ingresses").convert(before)
}

fn check(before: Value, after: Value) {
    assert_eq!(convert(before).expect("converts"), after);
}

fn refused(before: Value) -> Lossy {
    convert(before).expect_err("refused")
}

/// The inverse, as upstream serves a v1 Ingress at v1beta1.
fn to_v1beta1(mut object: Value, api_version: &str) -> Value {
    object["apiVersion"] = json!(api_version);
    let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) else {
        return object;
    };
    if let Some(backend) = spec.remove("defaultBackend") {
        spec.insert("backend".to_owned(), backend_to_v1beta1(&backend));
    }
    for rule in spec
        .get_mut("rules")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        for path in rule
            .pointer_mut("/http/paths")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            path["backend"] = backend_to_v1beta1(&path["backend"]);
        }
    }
    object
}

fn backend_to_v1beta1(backend: &Value) -> Value {
    let mut old = Map::new();
    if let Some(service) = backend.get("service") {
        old.insert("serviceName".to_owned(), service["name"].clone());
        let port = &service["port"];
        let service_port = match port.get("name").and_then(Value::as_str) {
            Some(name) if !name.is_empty() => json!(name),
            _ => port.get("number").cloned().unwrap_or(json!(0)),
        };
        old.insert("servicePort".to_owned(), service_port);
    }
    if let Some(resource) = backend.get("resource") {
        old.insert("resource".to_owned(), resource.clone());
    }
    Value::Object(old)
}

fn round_trip(before: &Value) {
    let api_version = before["apiVersion"].as_str().expect("apiVersion");
    let after = convert(before.clone()).expect("converts");
    assert_eq!(to_v1beta1(after, api_version), *before);
}

/// As a 1.19 apiserver served it at `extensions/v1beta1`: defaulted, with status.
fn shop() -> Value {
    json!({
        "apiVersion": "extensions/v1beta1",
        "kind": "Ingress",
        "metadata": {
            "name": "shop",
            "namespace": "shop",
            "annotations": {"nginx.ingress.kubernetes.io/rewrite-target": "/"},
            "labels": {"app": "shop"}
        },
        "spec": {
            "ingressClassName": "nginx",
            "backend": {"serviceName": "fallback", "servicePort": 80},
            "tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
            "rules": [{
                "host": "shop.example.com",
                "http": {"paths": [
                    {"path": "/api", "pathType": "Prefix",
                     "backend": {"serviceName": "api", "servicePort": "http"}},
                    {"path": "/", "pathType": "ImplementationSpecific",
                     "backend": {"serviceName": "web", "servicePort": 8080}}
                ]}
            }]
        },
        "status": {"loadBalancer": {"ingress": [
            {"ip": "203.0.113.7", "ports": [{"port": 443, "protocol": "TCP"}]},
            {"hostname": "lb.example.net"}
        ]}}
    })
}

#[test]
fn backends_move_and_split_and_the_group_changes() {
    check(
        shop(),
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {
                "name": "shop",
                "namespace": "shop",
                "annotations": {"nginx.ingress.kubernetes.io/rewrite-target": "/"},
                "labels": {"app": "shop"}
            },
            "spec": {
                "ingressClassName": "nginx",
                "defaultBackend": {"service": {"name": "fallback", "port": {"number": 80}}},
                "tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
                "rules": [{
                    "host": "shop.example.com",
                    "http": {"paths": [
                        {"path": "/api", "pathType": "Prefix",
                         "backend": {"service": {"name": "api", "port": {"name": "http"}}}},
                        {"path": "/", "pathType": "ImplementationSpecific",
                         "backend": {"service": {"name": "web", "port": {"number": 8080}}}}
                    ]}
                }]
            },
            "status": {"loadBalancer": {"ingress": [
                {"ip": "203.0.113.7", "ports": [{"port": 443, "protocol": "TCP"}]},
                {"hostname": "lb.example.net"}
            ]}}
        }),
    );
}

#[test]
fn a_missing_path_type_becomes_implementation_specific_and_a_resource_backend_stays() {
    check(
        json!({
            "apiVersion": "networking.k8s.io/v1beta1",
            "kind": "Ingress",
            "metadata": {"name": "assets", "namespace": "shop"},
            "spec": {"rules": [{"http": {"paths": [
                {"path": "/static", "backend": {"resource":
                    {"apiGroup": "k8s.example.com", "kind": "StorageBucket", "name": "assets"}}},
                {"path": "/img", "pathType": null,
                 "backend": {"serviceName": "img", "servicePort": 80}}
            ]}}]}
        }),
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "assets", "namespace": "shop"},
            "spec": {"rules": [{"http": {"paths": [
                {"path": "/static", "pathType": "ImplementationSpecific",
                 "backend": {"resource":
                    {"apiGroup": "k8s.example.com", "kind": "StorageBucket", "name": "assets"}}},
                {"path": "/img", "pathType": "ImplementationSpecific",
                 "backend": {"service": {"name": "img", "port": {"number": 80}}}}
            ]}}]}
        }),
    );
}

#[test]
fn the_default_ip_mode_is_dropped_from_status() {
    let mut before = shop();
    before["status"]["loadBalancer"]["ingress"][0]["ipMode"] = json!("VIP");
    let after = convert(before).expect("converts");
    assert_eq!(
        after["status"]["loadBalancer"]["ingress"][0],
        json!({"ip": "203.0.113.7", "ports": [{"port": 443, "protocol": "TCP"}]})
    );
}

#[test]
fn refuses_what_v1_cannot_hold() {
    let mut proxy = shop();
    proxy["status"]["loadBalancer"]["ingress"][0]["ipMode"] = json!("Proxy");
    assert_eq!(
        refused(proxy).field,
        "status.loadBalancer.ingress[0].ipMode"
    );

    let mut odd_port = shop();
    odd_port["spec"]["rules"][0]["http"]["paths"][1]["backend"]["servicePort"] = json!(true);
    assert_eq!(
        refused(odd_port).field,
        "spec.rules[0].http.paths[1].backend.servicePort"
    );

    let mut unknown = shop();
    unknown["spec"]["backend"]["serviceNamespace"] = json!("other");
    let err = refused(unknown);
    assert_eq!(err.field, "spec.backend.serviceNamespace");
    assert!(err.reason.contains("no place for it"), "{err}");

    let mut not_an_object = shop();
    not_an_object["spec"]["rules"][0]["http"] = json!("everything");
    assert_eq!(refused(not_an_object).field, "spec.rules[0].http");
}

#[test]
fn round_trips() {
    let mut networking = shop();
    networking["apiVersion"] = json!("networking.k8s.io/v1beta1");
    let default_backend_only = json!({
        "apiVersion": "networking.k8s.io/v1beta1",
        "kind": "Ingress",
        "metadata": {"name": "catch-all", "namespace": "default"},
        "spec": {"backend": {"serviceName": "web", "servicePort": "https"}},
        "status": {"loadBalancer": {}}
    });
    let hosts_without_http = json!({
        "apiVersion": "extensions/v1beta1",
        "kind": "Ingress",
        "metadata": {"name": "hosts", "namespace": "default", "uid": "7d0c6a5e"},
        "spec": {
            "backend": {"resource": {"kind": "Bucket", "name": "b", "apiGroup": "x.io"}},
            "rules": [{"host": "a.example.com"}, {"host": "b.example.com", "http": {"paths": [
                {"path": "/", "pathType": "Exact",
                 "backend": {"serviceName": "b", "servicePort": 443}}
            ]}}]
        }
    });
    for before in [shop(), networking, default_backend_only, hosts_without_http] {
        round_trip(&before);
    }
}

fn service_port() -> impl Strategy<Value = Value> {
    prop_oneof![
        (1u16..=65535).prop_map(|number| json!(number)),
        "[a-z][a-z0-9-]{0,13}[a-z]".prop_map(|name| json!(name)),
    ]
}

proptest! {
    #[test]
    fn any_service_backend_round_trips(
        name in "[a-z][a-z0-9-]{0,20}",
        default_port in service_port(),
        ports in prop::collection::vec(service_port(), 0..4),
        extensions in any::<bool>(),
    ) {
        let paths: Vec<Value> = ports
            .into_iter()
            .enumerate()
            .map(|(i, port)| json!({"path": format!("/p{i}"), "pathType": "Prefix",
                "backend": {"serviceName": format!("{name}-{i}"), "servicePort": port}}))
            .collect();
        let group = if extensions { "extensions" } else { "networking.k8s.io" };
        round_trip(&json!({
            "apiVersion": format!("{group}/v1beta1"),
            "kind": "Ingress",
            "metadata": {"name": name, "namespace": "ns"},
            "spec": {
                "backend": {"serviceName": name, "servicePort": default_port},
                "rules": [{"host": "h.example.com", "http": {"paths": paths}}]
            }
        }));
    }
}
