//! Services: node port allocation and its 422 errors, ClusterIP allocation, headless Services, and
//! the managedFields that tell an explicit node port from an allocated one.

use serde_json::{Value, json};

use crate::support::{Cluster, VOLATILE, cluster, sample, unused_node_port, without};

/// Field manager named on every write here, so managedFields are predictable.
const MANAGER: &str = "conformance";

fn services_path(namespace: &str) -> String {
    format!("/api/v1/namespaces/{namespace}/services")
}

async fn create_service(cluster: &Cluster, namespace: &str, body: &Value) -> crate::support::Raw {
    let path = format!("{}?fieldManager={MANAGER}", services_path(namespace));
    cluster.raw("POST", &path, Some(body)).await
}

fn node_port_service(name: &str, node_port: u16) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {
            "type": "NodePort",
            "ports": [{"name": "http", "port": 80, "targetPort": 80, "nodePort": node_port}],
        },
    })
}

/// managedFields with their times taken out (after checking each is a timestamp).
fn managed_fields_without_time(object: &Value) -> Value {
    let mut entries = object["metadata"]["managedFields"].clone();
    for entry in entries.as_array_mut().into_iter().flatten() {
        let time = entry["time"].as_str().unwrap_or_default();
        assert!(
            crate::support::is_timestamp(time),
            "managedFields time {time:?}"
        );
        if let Some(entry) = entry.as_object_mut() {
            entry.remove("time");
        }
    }
    entries
}

fn assert_cluster_ip(service: &Value) -> String {
    let ip = service["spec"]["clusterIP"].as_str().unwrap().to_string();
    assert!(
        ip.parse::<std::net::Ipv4Addr>().is_ok(),
        "clusterIP {ip:?} is an IPv4 address"
    );
    assert_eq!(service["spec"]["clusterIPs"], json!([ip]));
    ip
}

#[tokio::test]
async fn node_port_service_matches_the_real_server() {
    let cluster = cluster().await;
    let namespace = cluster.namespace("nodeport").await;
    let port = unused_node_port(&cluster).await;
    let port_text = port.to_string();
    let replacements = [
        ("resp-demo", namespace.as_str()),
        ("30080", port_text.as_str()),
        ("curl", MANAGER),
    ];

    let created = create_service(&cluster, &namespace, &node_port_service("s1", port)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let created = created.json();
    let recorded = sample("svc-create-nodeport.body", &replacements);
    assert_cluster_ip(&created);
    let allocated = ["/spec/clusterIP", "/spec/clusterIPs"];
    assert_eq!(
        without(&without(&created, VOLATILE), &allocated),
        without(&without(&recorded, VOLATILE), &allocated)
    );

    let taken = create_service(&cluster, &namespace, &node_port_service("s2", port)).await;
    assert_eq!(taken.status, 422, "{}", taken.body);
    assert_eq!(
        taken.json(),
        sample("svc-nodeport-taken.body", &replacements)
    );

    let outside = create_service(&cluster, &namespace, &node_port_service("s3", 20080)).await;
    assert_eq!(outside.status, 422, "{}", outside.body);
    assert_eq!(
        outside.json(),
        sample("svc-nodeport-out-of-range.body", &[])
    );

    // Deleting the Service frees its port at once.
    let deleted = cluster
        .raw("DELETE", &format!("{}/s1", services_path(&namespace)), None)
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    let reused = create_service(&cluster, &namespace, &node_port_service("s2", port)).await;
    assert_eq!(reused.status, 201, "{}", reused.body);
    assert_eq!(reused.json()["spec"]["ports"][0]["nodePort"], port);
}

#[tokio::test]
async fn allocated_node_ports_are_in_range_and_distinct() {
    let cluster = cluster().await;
    let namespace = cluster.namespace("autoport").await;
    let mut ports = Vec::new();
    for name in ["a1", "a2", "a3"] {
        let body = json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name},
            "spec": {"type": "NodePort", "ports": [{"port": 80, "targetPort": 8080}]},
        });
        let created = create_service(&cluster, &namespace, &body).await;
        assert_eq!(created.status, 201, "{}", created.body);
        let created = created.json();
        let port = created["spec"]["ports"][0]["nodePort"].as_u64().unwrap();
        assert!((30000..=32767).contains(&port), "nodePort {port} in range");
        ports.push(port);
    }
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 3, "each Service gets its own port");
}

#[tokio::test]
async fn cluster_ips_are_allocated_and_unique() {
    let cluster = cluster().await;
    let namespace = cluster.namespace("clusterip").await;
    let mut ips = Vec::new();
    for name in ["c1", "c2"] {
        let body = json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80}]},
        });
        let created = create_service(&cluster, &namespace, &body).await;
        assert_eq!(created.status, 201, "{}", created.body);
        let created = created.json();
        assert_eq!(created["spec"]["type"], "ClusterIP");
        assert_eq!(created["spec"]["ipFamilies"], json!(["IPv4"]));
        assert_eq!(created["spec"]["ipFamilyPolicy"], "SingleStack");
        assert_eq!(created["spec"]["sessionAffinity"], "None");
        assert_eq!(created["spec"]["internalTrafficPolicy"], "Cluster");
        assert_eq!(
            created["spec"]["ports"][0]["targetPort"], 80,
            "targetPort defaults to port"
        );
        assert_eq!(created["spec"]["ports"][0]["protocol"], "TCP");
        ips.push(assert_cluster_ip(&created));
    }
    assert_ne!(ips[0], ips[1]);

    // The `kubernetes` Service holds its address; asking for it again fails.
    let kubernetes = cluster
        .raw(
            "GET",
            "/api/v1/namespaces/default/services/kubernetes",
            None,
        )
        .await
        .json();
    let taken_ip = kubernetes["spec"]["clusterIP"].as_str().unwrap();
    let body = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "c3"},
        "spec": {"clusterIP": taken_ip, "ports": [{"port": 80}]},
    });
    let taken = create_service(&cluster, &namespace, &body).await;
    assert_eq!(taken.status, 422, "{}", taken.body);
    let status = taken.json();
    assert_eq!(status["reason"], "Invalid");
    assert_eq!(status["details"]["kind"], "Service");
    assert_eq!(status["details"]["name"], "c3");
    assert_eq!(status["details"]["causes"][0]["field"], "spec.clusterIPs");
    let message = status["message"].as_str().unwrap();
    assert!(
        message.starts_with("Service \"c3\" is invalid: spec.clusterIPs: Invalid value: ")
            && message.contains(&format!("failed to allocate IP {taken_ip}: "))
            && message.ends_with("already allocated"),
        "message {message:?}"
    );
}

#[tokio::test]
async fn headless_services() {
    let cluster = cluster().await;
    let namespace = cluster.namespace("headless").await;
    let replacements = [("resp-demo", namespace.as_str()), ("curl", MANAGER)];

    let selectorless = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s4"},
        "spec": {"clusterIP": "None", "ports": [{"port": 80, "targetPort": 80}]},
    });
    let created = create_service(&cluster, &namespace, &selectorless).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let created = created.json();
    let recorded = sample("svc-headless.body", &replacements);
    // Headless without a selector: both families and RequireDualStack, even on single-stack.
    assert_eq!(without(&created, VOLATILE), without(&recorded, VOLATILE));

    let with_selector = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s5"},
        "spec": {
            "clusterIP": "None",
            "selector": {"app": "db"},
            "ports": [{"port": 5432}],
        },
    });
    let created = create_service(&cluster, &namespace, &with_selector).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let spec = &created.json()["spec"];
    assert_eq!(spec["clusterIP"], "None");
    assert_eq!(spec["clusterIPs"], json!(["None"]));
    assert_eq!(spec["type"], "ClusterIP");
    // With a selector it follows the cluster, which is single-stack IPv4 by default.
    if cluster.is_kubesim() {
        assert_eq!(spec["ipFamilies"], json!(["IPv4"]));
        assert_eq!(spec["ipFamilyPolicy"], "SingleStack");
    }
}

/// godwit keeps a node port on restore when the user set it, which it reads from managedFields:
/// the server records the fields the request carried (after defaulting), never allocated ones.
#[tokio::test]
async fn managed_fields_record_what_the_request_set() {
    let cluster = cluster().await;
    let namespace = cluster.namespace("managed").await;
    let port = unused_node_port(&cluster).await;
    let port_text = port.to_string();
    let replacements = [
        ("resp-demo", namespace.as_str()),
        ("30080", port_text.as_str()),
        ("curl", MANAGER),
    ];

    let explicit = create_service(&cluster, &namespace, &node_port_service("s1", port)).await;
    assert_eq!(explicit.status, 201, "{}", explicit.body);
    assert_eq!(
        managed_fields_without_time(&explicit.json()),
        managed_fields_without_time(&sample("svc-create-nodeport.body", &replacements)),
        "an explicit nodePort is a managed field"
    );

    let headless = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s4"},
        "spec": {"clusterIP": "None", "ports": [{"port": 80, "targetPort": 80}]},
    });
    let created = create_service(&cluster, &namespace, &headless).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        managed_fields_without_time(&created.json()),
        managed_fields_without_time(&sample("svc-headless.body", &replacements)),
        "an explicit clusterIP None is a managed field"
    );

    let allocated = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "a1"},
        "spec": {"type": "NodePort", "ports": [{"port": 80, "targetPort": 8080}]},
    });
    let created = create_service(&cluster, &namespace, &allocated).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let created = created.json();
    let entries = managed_fields_without_time(&created);
    assert_eq!(entries.as_array().map(Vec::len), Some(1), "{entries}");
    assert_eq!(entries[0]["manager"], MANAGER);
    assert_eq!(entries[0]["operation"], "Update");
    let spec = &entries[0]["fieldsV1"]["f:spec"];
    let port_entry = &spec["f:ports"]["k:{\"port\":80,\"protocol\":\"TCP\"}"];
    assert!(
        port_entry.is_object() && port_entry.get("f:nodePort").is_none(),
        "an allocated nodePort is not a managed field: {spec}"
    );
    assert!(
        spec.get("f:clusterIP").is_none(),
        "an allocated clusterIP is not a managed field: {spec}"
    );
}
