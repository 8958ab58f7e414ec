//! EndpointSlice v1beta1 → v1 tests: the topology split, upstream's hostname rule, the
//! refusals, and a round trip through a test-only inverse (upstream's v1 → v1beta1 conversion).

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::{HOSTNAME_LABEL, ZONE_LABEL};
use crate::Lossy;
use crate::tests::conversion;

fn convert(before: Value) -> Result<Value, Lossy> {
    conversion("discovery.k8s.io", "v1beta1", "endpointslices").convert(before)
}

/// A slice of `endpoints` at `version`.
fn slice(version: &str, endpoints: Value) -> Value {
    json!({
        "apiVersion": format!("discovery.k8s.io/{version}"),
        "kind": "EndpointSlice",
        "metadata": {"name": "web-abc12", "namespace": "shop",
            "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": [{"name": "http", "protocol": "TCP", "port": 8080}]
    })
}

/// Converts a v1beta1 slice of `before` endpoints and expects the v1 slice of `after`.
fn check(before: Value, after: Value) {
    assert_eq!(
        convert(slice("v1beta1", before)).expect("converts"),
        slice("v1", after)
    );
}

#[test]
fn topology_splits_into_zone_and_deprecated_topology() {
    check(
        json!([{
            "addresses": ["10.0.1.5"],
            "conditions": {"ready": true, "serving": true, "terminating": false},
            "targetRef": {"kind": "Pod", "namespace": "shop", "name": "web-1", "uid": "u1"},
            "nodeName": "node-a",
            "topology": {HOSTNAME_LABEL: "node-a", ZONE_LABEL: "eu-west-1a",
                "topology.kubernetes.io/region": "eu-west-1"},
            "hints": {"forZones": [{"name": "eu-west-1a"}]}
        }]),
        json!([{
            "addresses": ["10.0.1.5"],
            "conditions": {"ready": true, "serving": true, "terminating": false},
            "targetRef": {"kind": "Pod", "namespace": "shop", "name": "web-1", "uid": "u1"},
            "nodeName": "node-a",
            "zone": "eu-west-1a",
            "deprecatedTopology": {"topology.kubernetes.io/region": "eu-west-1"},
            "hints": {"forZones": [{"name": "eu-west-1a"}]}
        }]),
    );
}

#[test]
fn a_hostname_that_is_not_the_node_name_stays_in_deprecated_topology() {
    // Upstream keeps v1beta1's freedom to disagree, and never fills nodeName from the map.
    check(
        json!([
            {"addresses": ["10.0.1.6"], "nodeName": "node-a",
             "topology": {HOSTNAME_LABEL: "node-b", ZONE_LABEL: "z1"}},
            {"addresses": ["10.0.1.7"], "topology": {HOSTNAME_LABEL: "node-c"}},
            {"addresses": ["10.0.1.8"], "topology": {}}
        ]),
        json!([
            {"addresses": ["10.0.1.6"], "nodeName": "node-a", "zone": "z1",
             "deprecatedTopology": {HOSTNAME_LABEL: "node-b"}},
            {"addresses": ["10.0.1.7"], "deprecatedTopology": {HOSTNAME_LABEL: "node-c"}},
            {"addresses": ["10.0.1.8"]}
        ]),
    );
}

#[test]
fn refuses_what_it_cannot_place() {
    let err = convert(slice(
        "v1beta1",
        json!([{"addresses": ["10.0.0.1"], "topology": {ZONE_LABEL: 3}}]),
    ))
    .expect_err("refused");
    assert_eq!(err.field, format!("endpoints[0].topology[{ZONE_LABEL}]"));
    let err = convert(slice(
        "v1beta1",
        json!([{"addresses": ["10.0.0.1"]},
               {"addresses": ["10.0.0.2"], "zone": "z2", "topology": {ZONE_LABEL: "z1"}}]),
    ))
    .expect_err("refused");
    assert_eq!(err.field, "endpoints[1].zone");
    let err = convert(slice("v1beta1", json!([["10.0.0.1"]]))).expect_err("refused");
    assert_eq!(err.field, "endpoints[0]");
}

/// The inverse, as upstream serves a v1 slice at v1beta1.
fn to_v1beta1(mut object: Value) -> Value {
    object["apiVersion"] = json!("discovery.k8s.io/v1beta1");
    for endpoint in object["endpoints"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
    {
        let deprecated = endpoint.remove("deprecatedTopology");
        let zone = endpoint.remove("zone");
        let node_name = endpoint.get("nodeName").cloned();
        if deprecated.is_none() && zone.is_none() && node_name.is_none() {
            continue;
        }
        let mut topology = match deprecated {
            Some(Value::Object(deprecated)) => deprecated,
            _ => Map::new(),
        };
        if let Some(zone) = zone {
            topology.insert(ZONE_LABEL.to_owned(), zone);
        }
        if let Some(node_name) = node_name
            && topology.get(HOSTNAME_LABEL).is_none_or(|h| *h == "")
        {
            topology.insert(HOSTNAME_LABEL.to_owned(), node_name);
        }
        endpoint.insert("topology".to_owned(), Value::Object(topology));
    }
    object
}

fn round_trip(before: &Value) {
    let after = convert(before.clone()).expect("converts");
    assert_eq!(to_v1beta1(after), *before);
}

#[test]
fn round_trips() {
    let endpoints = [
        json!([]),
        json!([{"addresses": ["10.0.2.1"], "conditions": {"ready": false}}]),
        json!([
            {"addresses": ["10.0.2.2"], "nodeName": "n1", "hostname": "web-0",
             "topology": {HOSTNAME_LABEL: "n1", ZONE_LABEL: "z1"}},
            {"addresses": ["10.0.2.3"], "nodeName": "n2",
             "topology": {HOSTNAME_LABEL: "n-other", "rack": "r7"}}
        ]),
    ];
    for endpoints in endpoints {
        round_trip(&slice("v1beta1", endpoints));
    }
}

/// Endpoints as a v1beta1 apiserver would serve them: when `nodeName` is set the topology
/// map holds a hostname (the node's own, or another).
fn endpoint() -> impl Strategy<Value = Value> {
    (
        prop::option::of("n[0-9]"),
        prop::option::of("n[0-9]"),
        prop::option::of("z[0-9]"),
        prop::collection::btree_map("[a-z]{1,6}", "[a-z0-9]{1,6}", 0..3),
    )
        .prop_map(|(node_name, hostname, zone, rest)| {
            let mut topology: Map<String, Value> =
                rest.into_iter().map(|(k, v)| (k, json!(v))).collect();
            let hostname = hostname.or_else(|| node_name.clone());
            if let Some(hostname) = hostname {
                topology.insert(HOSTNAME_LABEL.to_owned(), json!(hostname));
            }
            if let Some(zone) = zone {
                topology.insert(ZONE_LABEL.to_owned(), json!(zone));
            }
            let mut endpoint = json!({"addresses": ["10.1.0.1"]});
            if let Some(node_name) = node_name {
                endpoint["nodeName"] = json!(node_name);
            }
            if !topology.is_empty() {
                endpoint["topology"] = Value::Object(topology);
            }
            endpoint
        })
}

proptest! {
    #[test]
    fn any_served_slice_round_trips(endpoints in prop::collection::vec(endpoint(), 0..5)) {
        round_trip(&slice("v1beta1", Value::Array(endpoints)));
    }
}
