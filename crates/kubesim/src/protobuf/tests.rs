use super::*;
use serde_json::json;

fn varint(mut value: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn bytes_field(number: u64, bytes: &[u8], out: &mut Vec<u8>) {
    varint(number << 3 | 2, out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

fn entry(key: &str, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    bytes_field(1, key.as_bytes(), &mut out);
    bytes_field(2, value, &mut out);
    out
}

/// A body built like the Go protobuf serializer writes `kubectl create configmap x`.
fn config_map_body() -> Vec<u8> {
    let mut meta = Vec::new();
    bytes_field(1, b"x", &mut meta);
    bytes_field(2, b"", &mut meta);
    bytes_field(3, b"default", &mut meta);
    varint(7 << 3, &mut meta);
    varint(0, &mut meta);
    bytes_field(8, b"", &mut meta);
    bytes_field(11, &entry("app", b"web"), &mut meta);
    bytes_field(14, b"f1", &mut meta);
    let mut raw = Vec::new();
    bytes_field(1, &meta, &mut raw);
    bytes_field(2, &entry("a", b"b"), &mut raw);
    bytes_field(2, &entry("c", b"d"), &mut raw);
    bytes_field(3, &entry("bin", b"\x00\x01"), &mut raw);
    let mut type_meta = Vec::new();
    bytes_field(1, b"v1", &mut type_meta);
    bytes_field(2, b"ConfigMap", &mut type_meta);
    let mut envelope = b"k8s\0".to_vec();
    bytes_field(1, &type_meta, &mut envelope);
    bytes_field(2, &raw, &mut envelope);
    bytes_field(3, b"", &mut envelope);
    bytes_field(4, b"", &mut envelope);
    envelope
}

#[test]
fn config_maps_from_kubectl_are_read() {
    let value = decode(&config_map_body()).unwrap();
    assert_eq!(
        value,
        json!({
            "kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": "x", "namespace": "default", "labels": {"app": "web"}, "finalizers": ["f1"]},
            "data": {"a": "b", "c": "d"},
            "binaryData": {"bin": "AAE="},
        })
    );
}

#[test]
fn other_kinds_and_broken_bodies_are_refused() {
    let mut type_meta = Vec::new();
    bytes_field(1, b"apps/v1", &mut type_meta);
    bytes_field(2, b"Deployment", &mut type_meta);
    let mut envelope = b"k8s\0".to_vec();
    bytes_field(1, &type_meta, &mut envelope);
    let err = decode(&envelope).unwrap_err();
    assert!(err.contains("send JSON"), "{err}");
    assert!(decode(b"{}").is_err());
    let mut truncated = config_map_body();
    truncated.truncate(20);
    assert!(decode(&truncated).is_err());
    assert!(is_protobuf(
        "application/vnd.kubernetes.protobuf; charset=x"
    ));
    assert!(!is_protobuf("application/json"));
}

#[test]
fn services_from_kubectl_are_read_with_int_or_string_ports() {
    let mut target = Vec::new();
    varint(1 << 3, &mut target);
    varint(1, &mut target);
    bytes_field(3, b"http", &mut target);
    let mut port = Vec::new();
    bytes_field(1, b"80", &mut port);
    bytes_field(2, b"TCP", &mut port);
    varint(3 << 3, &mut port);
    varint(80, &mut port);
    bytes_field(4, &target, &mut port);
    varint(5 << 3, &mut port);
    varint(0, &mut port);
    let mut spec = Vec::new();
    bytes_field(1, &port, &mut spec);
    bytes_field(2, &entry("app", b"np"), &mut spec);
    bytes_field(4, b"NodePort", &mut spec);
    varint(13 << 3, &mut spec);
    varint(0, &mut spec);
    varint(20 << 3, &mut spec);
    varint(0, &mut spec);
    let mut meta = Vec::new();
    bytes_field(1, b"np", &mut meta);
    let mut raw = Vec::new();
    bytes_field(1, &meta, &mut raw);
    bytes_field(2, &spec, &mut raw);
    let mut type_meta = Vec::new();
    bytes_field(1, b"v1", &mut type_meta);
    bytes_field(2, b"Service", &mut type_meta);
    let mut envelope = b"k8s\0".to_vec();
    bytes_field(1, &type_meta, &mut envelope);
    bytes_field(2, &raw, &mut envelope);
    assert_eq!(
        decode(&envelope).unwrap(),
        json!({
            "kind": "Service", "apiVersion": "v1", "metadata": {"name": "np"},
            "spec": {"ports": [{"name": "80", "protocol": "TCP", "port": 80, "targetPort": "http"}],
                     "selector": {"app": "np"}, "type": "NodePort", "allocateLoadBalancerNodePorts": false},
        })
    );
}
