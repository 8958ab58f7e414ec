use super::*;
use crate::status::ErrorBody;

fn service(name: &str, spec: Value) -> Value {
    json!({"metadata": {"name": name, "namespace": "resp-demo"}, "spec": spec})
}

fn message(error: &ApiError) -> String {
    match &error.body {
        ErrorBody::Status(body) => body["message"].as_str().unwrap_or_default().to_owned(),
        ErrorBody::Text(text) => (*text).to_owned(),
    }
}

#[test]
fn node_port_allocator_prefers_the_upper_band_and_wraps() {
    let mut ports = NodePorts::new(30000..=30099);
    // 100 ports: the static band is the first 16.
    assert_eq!(ports.next_free(), Some(30016));
    ports.take(30016);
    assert_eq!(ports.next_free(), Some(30017));
    for p in 30017..=30099 {
        ports.take(p);
    }
    assert_eq!(ports.next_free(), Some(30000));
    for p in 30000..30016 {
        ports.take(p);
    }
    assert_eq!(ports.next_free(), None);
    ports.release(30050);
    assert_eq!(ports.next_free(), Some(30050));
    assert_eq!(NodePorts::new(30000..=30000).next_free(), Some(30000));
    assert_eq!(ports.range_text(), "30000-30099");
}

#[test]
fn node_port_service_gets_defaults_an_ip_and_a_port() {
    let mut alloc = Allocators::new(30000..=32767);
    let mut svc = service(
        "s1",
        json!({"type": "NodePort", "ports": [{"name": "http", "port": 80}]}),
    );
    alloc.create(&mut svc, false).unwrap();
    let spec = &svc["spec"];
    assert_eq!(spec["ports"][0]["protocol"], "TCP");
    assert_eq!(spec["ports"][0]["targetPort"], 80);
    assert!(
        spec["ports"][0]["nodePort"]
            .as_u64()
            .is_some_and(|p| (30000..=32767).contains(&p))
    );
    assert_eq!(spec["sessionAffinity"], "None");
    assert_eq!(spec["externalTrafficPolicy"], "Cluster");
    assert_eq!(spec["internalTrafficPolicy"], "Cluster");
    assert_eq!(spec["ipFamilies"], json!(["IPv4"]));
    assert_eq!(spec["ipFamilyPolicy"], "SingleStack");
    let ip = spec["clusterIP"].as_str().unwrap().to_owned();
    assert!(ip.starts_with("10.9"), "{ip}");
    assert_eq!(spec["clusterIPs"], json!([ip]));
}

#[test]
fn explicit_node_ports_taken_or_out_of_range_fail_like_the_samples() {
    let mut alloc = Allocators::new(30000..=32767);
    let mut first = service(
        "s1",
        json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}),
    );
    alloc.create(&mut first, false).unwrap();
    assert_eq!(first["spec"]["ports"][0]["nodePort"], 30080);

    let mut taken = service(
        "s2",
        json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}),
    );
    let error = alloc.create(&mut taken, false).unwrap_err();
    let expected: Value = godwit_fixtures::read_json("apiserver/svc-nodeport-taken.body");
    assert_eq!(error.code, 422);
    assert_eq!(error.body, ErrorBody::Status(expected));

    let mut outside = service(
        "s3",
        json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 20080}]}),
    );
    let error = alloc.create(&mut outside, false).unwrap_err();
    let expected: Value = godwit_fixtures::read_json("apiserver/svc-nodeport-out-of-range.body");
    assert_eq!(error.body, ErrorBody::Status(expected));

    // Released on delete: the port can be had again.
    alloc.release_all(&first);
    let mut again = service(
        "s2",
        json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}),
    );
    alloc.create(&mut again, false).unwrap();
}

#[test]
fn dry_run_allocates_nothing() {
    let mut alloc = Allocators::new(30000..=32767);
    let mut svc = service(
        "s1",
        json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}),
    );
    alloc.create(&mut svc, true).unwrap();
    assert!(!alloc.node_ports.is_used(30080));
    let mut svc = service(
        "s1",
        json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}),
    );
    alloc.create(&mut svc, false).unwrap();
    assert!(alloc.node_ports.is_used(30080));
}

#[test]
fn headless_and_external_name_get_no_cluster_ip() {
    let mut alloc = Allocators::new(30000..=32767);
    let mut headless = service(
        "s4",
        json!({"clusterIP": "None", "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}]}),
    );
    alloc.create(&mut headless, false).unwrap();
    let sample: Value = godwit_fixtures::read_json("apiserver/svc-headless.body");
    assert_eq!(headless["spec"], sample["spec"]);

    let mut external = service(
        "e",
        json!({"type": "ExternalName", "externalName": "example.com"}),
    );
    alloc.create(&mut external, false).unwrap();
    assert!(external["spec"].get("clusterIP").is_none());
    assert!(external["spec"].get("ipFamilies").is_none());
}

#[test]
fn node_port_sample_spec_is_reproduced() {
    let mut alloc = Allocators::new(30000..=32767);
    let sample: Value = godwit_fixtures::read_json("apiserver/svc-create-nodeport.body");
    let mut svc = service(
        "s1",
        json!({"type": "NodePort", "ports": [{"name": "http", "port": 80, "nodePort": 30080}]}),
    );
    alloc.create(&mut svc, false).unwrap();
    let mut spec = svc["spec"].clone();
    // The address differs by allocation; everything else must be as the API server wrote it.
    spec["clusterIP"] = sample["spec"]["clusterIP"].clone();
    spec["clusterIPs"] = sample["spec"]["clusterIPs"].clone();
    assert_eq!(spec, sample["spec"]);
}

#[test]
fn load_balancer_local_gets_a_health_check_node_port() {
    let mut alloc = Allocators::new(30000..=32767);
    let mut svc = service(
        "lb",
        json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local", "ports": [{"port": 443}]}),
    );
    alloc.create(&mut svc, false).unwrap();
    let node_port = svc["spec"]["ports"][0]["nodePort"].as_u64().unwrap();
    let health = svc["spec"]["healthCheckNodePort"].as_u64().unwrap();
    assert_ne!(node_port, health);
    assert_eq!(svc["spec"]["allocateLoadBalancerNodePorts"], true);
    let mut no_ports = service(
        "lb2",
        json!({"type": "LoadBalancer", "allocateLoadBalancerNodePorts": false, "ports": [{"port": 443}]}),
    );
    alloc.create(&mut no_ports, false).unwrap();
    assert!(no_ports["spec"]["ports"][0].get("nodePort").is_none());
}

#[test]
fn node_port_on_cluster_ip_service_is_forbidden() {
    let mut alloc = Allocators::new(30000..=32767);
    let mut svc = service("c", json!({"ports": [{"port": 80, "nodePort": 30001}]}));
    let error = alloc.create(&mut svc, false).unwrap_err();
    assert_eq!(
        message(&error),
        "Service \"c\" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"
    );
}

#[test]
fn explicit_cluster_ips_are_checked() {
    let mut alloc = Allocators::new(30000..=32767);
    let mut svc = service(
        "a",
        json!({"clusterIP": "10.96.0.10", "ports": [{"port": 53}]}),
    );
    alloc.create(&mut svc, false).unwrap();
    let mut again = service(
        "b",
        json!({"clusterIP": "10.96.0.10", "ports": [{"port": 53}]}),
    );
    let error = alloc.create(&mut again, false).unwrap_err();
    assert_eq!(
        message(&error),
        "Service \"b\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.96.0.10\"}: failed to allocate IP 10.96.0.10: provided IP is already allocated"
    );
    let mut outside = service(
        "c",
        json!({"clusterIP": "192.168.0.1", "ports": [{"port": 53}]}),
    );
    let error = alloc.create(&mut outside, false).unwrap_err();
    assert!(
        message(&error)
            .contains("is not in the valid range. The range of valid IPs is 10.96.0.0/12")
    );
    let mut dual = service(
        "d",
        json!({"ipFamilyPolicy": "RequireDualStack", "ports": [{"port": 53}]}),
    );
    assert_eq!(alloc.create(&mut dual, false).unwrap_err().code, 422);
}

#[test]
fn updates_keep_allocations_and_free_what_is_dropped() {
    let mut alloc = Allocators::new(30000..=32767);
    let mut before = service(
        "s",
        json!({"type": "NodePort", "ports": [{"port": 80}, {"port": 81}]}),
    );
    alloc.create(&mut before, false).unwrap();
    let ip = before["spec"]["clusterIP"].clone();
    let kept = before["spec"]["ports"][0]["nodePort"].as_u64().unwrap();
    let dropped = before["spec"]["ports"][1]["nodePort"].as_u64().unwrap();
    // A replace that leaves out the IP and node ports, and drops port 81.
    let mut after = service("s", json!({"type": "NodePort", "ports": [{"port": 80}]}));
    alloc.update(&before, &mut after, false).unwrap();
    assert_eq!(after["spec"]["clusterIP"], ip);
    assert_eq!(after["spec"]["ports"][0]["nodePort"], kept);
    assert!(alloc.node_ports.is_used(u16::try_from(kept).unwrap()));
    assert!(!alloc.node_ports.is_used(u16::try_from(dropped).unwrap()));
    // Back to ClusterIP frees the node port.
    let mut cluster_ip = service("s", json!({"type": "ClusterIP", "ports": [{"port": 80}]}));
    alloc.update(&after, &mut cluster_ip, false).unwrap();
    assert!(!alloc.node_ports.is_used(u16::try_from(kept).unwrap()));
    // Changing the cluster IP is refused.
    let mut moved = cluster_ip.clone();
    moved["spec"]["clusterIP"] = json!("10.96.0.77");
    moved["spec"]["clusterIPs"] = json!(["10.96.0.77"]);
    assert_eq!(
        alloc
            .update(&cluster_ip, &mut moved, false)
            .unwrap_err()
            .code,
        422
    );
}

#[test]
fn cluster_ip_allocator_skips_used_addresses() {
    let mut ips = ClusterIps::default();
    let first = ips.next_free().unwrap();
    ips.take(first);
    let second = ips.next_free().unwrap();
    assert_ne!(first, second);
    ips.take(Ipv4Addr::new(10, 96, 0, 1));
    assert!(ips.refuse(Ipv4Addr::new(10, 96, 0, 1)).is_some());
    assert!(ips.refuse(Ipv4Addr::new(10, 96, 0, 2)).is_none());
    assert!(ips.refuse(Ipv4Addr::new(10, 96, 0, 0)).is_some());
    assert!(ips.refuse(Ipv4Addr::new(10, 112, 0, 1)).is_some());
}
