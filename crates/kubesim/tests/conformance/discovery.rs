//! Discovery: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/<group>`, `/apis/<group>/<version>`
//! compared with what a real kube-apiserver answers, and kube-rs discovery on top of it.

use kube::discovery::Discovery;
use serde_json::{Value, json};

use crate::support::{
    ROOT_CA_CONFIG_MAP, assert_no_route, assert_page_not_found, cluster, sample, server_minor,
};

/// Built-in resources godwit reads or writes; each `/api/v1` entry must equal the recorded one.
const CORE_RESOURCES: &[&str] = &[
    "configmaps",
    "endpoints",
    "events",
    "limitranges",
    "namespaces",
    "namespaces/status",
    "nodes",
    "nodes/status",
    "persistentvolumeclaims",
    "persistentvolumeclaims/status",
    "persistentvolumes",
    "persistentvolumes/status",
    "pods",
    "pods/status",
    "resourcequotas",
    "secrets",
    "serviceaccounts",
    "services",
    "services/status",
];

/// Groups both the 1.25 and the 1.33 API servers serve out of the box.
const BUILT_IN_GROUPS: &[&str] = &[
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
];

fn resource<'a>(list: &'a Value, name: &str) -> Option<&'a Value> {
    list["resources"]
        .as_array()?
        .iter()
        .find(|entry| entry["name"] == name)
}

#[tokio::test]
async fn version_has_the_real_members() {
    let cluster = cluster().await;
    let got = cluster.raw("GET", "/version", None).await;
    assert_eq!(got.status, 200, "{}", got.body);
    let version = got.json();
    let recorded = sample("version.body", &[]);
    for member in [
        "major",
        "minor",
        "gitVersion",
        "gitCommit",
        "gitTreeState",
        "buildDate",
        "goVersion",
        "compiler",
        "platform",
    ] {
        assert!(
            version[member].is_string() && recorded[member].is_string(),
            "/version.{member} is a string on the real server: {version}"
        );
    }
    assert_eq!(version["major"], "1");
    let minor = server_minor(&cluster).await;
    let git_version = version["gitVersion"].as_str().unwrap();
    assert!(
        git_version.starts_with(&format!("v1.{minor}.")),
        "gitVersion {git_version} names minor {minor}"
    );
    if cluster.is_kubesim() {
        // The default profile is 1.33.
        assert_eq!(version["minor"], "33");
    }
    let typed = cluster.client.apiserver_version().await.unwrap();
    assert_eq!(typed.major, "1");
}

#[tokio::test]
async fn core_api_versions() {
    let cluster = cluster().await;
    let got = cluster.raw("GET", "/api", None).await;
    assert_eq!(got.status, 200, "{}", got.body);
    let api = got.json();
    assert_eq!(api["kind"], "APIVersions");
    assert_eq!(api["versions"], json!(["v1"]));
    let recorded = sample("disc-api.body", &[]);
    let addresses = api["serverAddressByClientCIDRs"].as_array().unwrap();
    assert!(!addresses.is_empty(), "real servers list their address");
    assert_eq!(
        addresses[0]["clientCIDR"],
        recorded["serverAddressByClientCIDRs"][0]["clientCIDR"]
    );
    assert!(addresses[0]["serverAddress"].is_string());

    let typed = cluster.client.list_core_api_versions().await.unwrap();
    assert_eq!(typed.versions, vec!["v1".to_string()]);
}

#[tokio::test]
async fn core_v1_resources_match_the_real_server() {
    let cluster = cluster().await;
    let got = cluster.raw("GET", "/api/v1", None).await;
    assert_eq!(got.status, 200, "{}", got.body);
    let list = got.json();
    assert_eq!(list["kind"], "APIResourceList");
    assert_eq!(list["groupVersion"], "v1");
    let recorded = sample("disc-api-v1.body", &[]);
    for name in CORE_RESOURCES {
        let expected = resource(&recorded, name).unwrap();
        let actual = resource(&list, name).unwrap_or_else(|| panic!("/api/v1 lacks {name}"));
        assert_eq!(actual, expected, "/api/v1 entry {name}");
    }
    let names: Vec<&str> = list["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "the real server lists resources by name");
}

#[tokio::test]
async fn group_list_shape_and_preferred_versions() {
    let cluster = cluster().await;
    let got = cluster.raw("GET", "/apis", None).await;
    assert_eq!(got.status, 200, "{}", got.body);
    let list = got.json();
    assert_eq!(list["kind"], "APIGroupList");
    assert_eq!(list["apiVersion"], "v1");
    let groups = list["groups"].as_array().unwrap();
    let mut names: Vec<&str> = Vec::new();
    for group in groups {
        let name = group["name"].as_str().unwrap();
        assert!(!names.contains(&name), "group {name} listed twice");
        names.push(name);
        let versions = group["versions"].as_array().unwrap();
        assert!(!versions.is_empty(), "group {name} without versions");
        for version in versions {
            let expected = format!("{name}/{}", version["version"].as_str().unwrap());
            assert_eq!(version["groupVersion"], expected.as_str());
        }
        // Versions are listed highest priority first, so the preferred one leads the list.
        assert_eq!(group["preferredVersion"], versions[0], "group {name}");
    }
    for name in BUILT_IN_GROUPS {
        assert!(names.contains(name), "/apis lacks {name}: {names:?}");
    }
    assert!(!names.contains(&""), "the core group is not under /apis");

    // The entries for groups served in v1 only read exactly as recorded.
    let recorded = sample("disc-apis.body", &[]);
    for name in [
        "apps",
        "batch",
        "rbac.authorization.k8s.io",
        "apiextensions.k8s.io",
    ] {
        let expected = recorded["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|group| group["name"] == name)
            .unwrap();
        let actual = groups.iter().find(|group| group["name"] == name).unwrap();
        assert_eq!(actual, expected, "/apis entry {name}");
    }
}

#[tokio::test]
async fn autoscaling_prefers_v2_and_serves_v1() {
    let cluster = cluster().await;
    let minor = server_minor(&cluster).await;
    let got = cluster.raw("GET", "/apis/autoscaling", None).await;
    assert_eq!(got.status, 200, "{}", got.body);
    let group = got.json();
    if minor >= 26 {
        // v2beta2 went away in 1.26: from then on the group reads exactly as recorded.
        assert_eq!(group, sample("disc-autoscaling.body", &[]));
        let gone = cluster.raw("GET", "/apis/autoscaling/v2beta2", None).await;
        assert_no_route(&gone, "autoscaling/v2beta2 on 1.26+");
    }
    assert_eq!(group["preferredVersion"]["version"], "v2");

    let in_group = cluster.raw("GET", "/apis", None).await.json();
    let listed = in_group["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["name"] == "autoscaling")
        .unwrap()
        .clone();
    assert_eq!(
        without_kind(&group),
        listed,
        "/apis and /apis/autoscaling agree"
    );

    for version in ["v2", "v1"] {
        let got = cluster
            .raw("GET", &format!("/apis/autoscaling/{version}"), None)
            .await;
        assert_eq!(got.status, 200, "{}", got.body);
        let list = got.json();
        assert_eq!(list["kind"], "APIResourceList");
        assert_eq!(list["apiVersion"], "v1");
        assert_eq!(list["groupVersion"], format!("autoscaling/{version}"));
        let hpa = resource(&list, "horizontalpodautoscalers").unwrap();
        assert_eq!(hpa["namespaced"], true);
        assert_eq!(hpa["kind"], "HorizontalPodAutoscaler");
        assert_eq!(hpa["singularName"], "horizontalpodautoscaler");
        assert_eq!(hpa["shortNames"], json!(["hpa"]));
        assert_eq!(hpa["categories"], json!(["all"]));
        assert_eq!(
            hpa["verbs"],
            json!([
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch"
            ])
        );
        let status = resource(&list, "horizontalpodautoscalers/status").unwrap();
        assert_eq!(status["verbs"], json!(["get", "patch", "update"]));
    }
}

/// A group document as it appears inside `/apis` (without its own kind and apiVersion).
fn without_kind(group: &Value) -> Value {
    crate::support::without(group, &["/kind", "/apiVersion"])
}

#[tokio::test]
async fn apps_v1_resources() {
    let cluster = cluster().await;
    let got = cluster.raw("GET", "/apis/apps/v1", None).await;
    assert_eq!(got.status, 200, "{}", got.body);
    let list = got.json();
    assert_eq!(list["groupVersion"], "apps/v1");
    for (name, kind, short) in [
        ("deployments", "Deployment", "deploy"),
        ("statefulsets", "StatefulSet", "sts"),
        ("daemonsets", "DaemonSet", "ds"),
        ("replicasets", "ReplicaSet", "rs"),
    ] {
        let entry = resource(&list, name).unwrap_or_else(|| panic!("apps/v1 lacks {name}"));
        assert_eq!(entry["kind"], kind);
        assert_eq!(entry["namespaced"], true);
        assert_eq!(entry["shortNames"], json!([short]));
        assert_eq!(entry["categories"], json!(["all"]));
        let scale = resource(&list, &format!("{name}/scale"));
        if name != "daemonsets" {
            let scale = scale.unwrap_or_else(|| panic!("apps/v1 lacks {name}/scale"));
            assert_eq!(scale["group"], "autoscaling");
            assert_eq!(scale["version"], "v1");
            assert_eq!(scale["kind"], "Scale");
        }
        assert!(resource(&list, &format!("{name}/status")).is_some());
    }
}

#[tokio::test]
async fn unknown_group_is_a_plain_404() {
    let cluster = cluster().await;
    let unknown = "/apis/nosuch.example.io/v1/namespaces/resp-demo/things/x";
    assert_page_not_found(&cluster.raw("GET", unknown, None).await, unknown);
    let group = "/apis/nosuch.example.io";
    assert_page_not_found(&cluster.raw("GET", group, None).await, group);
    // Under a built-in group, the API server's own handlers answer with a Status instead.
    for path in [
        "/apis/apps/v1beta1",
        "/apis/apps/v1/nosuchresources",
        "/api/v2",
    ] {
        assert_no_route(&cluster.raw("GET", path, None).await, path);
    }
}

#[tokio::test]
async fn kube_discovery_resolves_preferred_versions() {
    let cluster = cluster().await;
    let discovery = Discovery::new(cluster.client.clone()).run().await.unwrap();
    let autoscaling = discovery.get("autoscaling").unwrap();
    assert_eq!(autoscaling.preferred_version_or_latest(), "v2");
    let versions: Vec<&str> = autoscaling.versions().collect();
    assert!(versions.contains(&"v1"), "{versions:?}");
    let (resource, capabilities) = autoscaling
        .recommended_kind("HorizontalPodAutoscaler")
        .unwrap();
    assert_eq!(resource.version, "v2");
    assert_eq!(resource.plural, "horizontalpodautoscalers");
    assert_eq!(capabilities.scope, kube::discovery::Scope::Namespaced);

    let core = discovery.get("").unwrap();
    let (config_maps, _) = core.recommended_kind("ConfigMap").unwrap();
    assert_eq!(config_maps.plural, "configmaps");
    let (namespaces, capabilities) = core.recommended_kind("Namespace").unwrap();
    assert_eq!(namespaces.plural, "namespaces");
    assert_eq!(capabilities.scope, kube::discovery::Scope::Cluster);
}

#[tokio::test]
async fn seeded_objects_of_a_fresh_cluster() {
    let cluster = cluster().await;
    for namespace in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        let got = cluster
            .raw("GET", &format!("/api/v1/namespaces/{namespace}"), None)
            .await;
        assert_eq!(got.status, 200, "namespace {namespace}: {}", got.body);
        let object = got.json();
        assert_eq!(object["status"]["phase"], "Active");
        assert_eq!(
            object["metadata"]["labels"]["kubernetes.io/metadata.name"],
            namespace
        );
    }
    let got = cluster
        .raw(
            "GET",
            "/api/v1/namespaces/default/services/kubernetes",
            None,
        )
        .await;
    assert_eq!(got.status, 200, "{}", got.body);
    let service = got.json();
    assert_eq!(service["spec"]["type"], "ClusterIP");
    assert_eq!(service["spec"]["ports"][0]["port"], 443);
    assert_eq!(service["spec"]["ports"][0]["name"], "https");
    let ip = service["spec"]["clusterIP"].as_str().unwrap();
    assert!(ip.parse::<std::net::Ipv4Addr>().is_ok(), "clusterIP {ip}");

    // Nodes come with kubelets: a bare control plane has none, kubesim one.
    let nodes = cluster.raw("GET", "/api/v1/nodes", None).await.json();
    let nodes = nodes["items"].as_array().unwrap();
    if cluster.is_kubesim() {
        assert!(
            nodes
                .iter()
                .any(|node| node["metadata"]["name"] == "kubesim-node")
        );
    }

    // The controller manager's: every namespace has its default ServiceAccount and the
    // cluster CA the kubeconfig trusts.
    let ca_data = cluster.kubeconfig_ca_pem();
    for namespace in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        let root_ca = cluster.namespace_populated(namespace).await;
        assert_eq!(
            root_ca["data"]["ca.crt"], ca_data,
            "{ROOT_CA_CONFIG_MAP} in {namespace}"
        );
        assert!(
            root_ca["metadata"]["annotations"]["kubernetes.io/description"]
                .as_str()
                .is_some_and(|text| text.starts_with("Contains a CA bundle")),
            "{root_ca}"
        );
        let managers: Vec<&str> = root_ca["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|entry| entry["manager"].as_str())
            .collect();
        assert_eq!(managers, ["kube-controller-manager"]);
        let account = cluster
            .raw(
                "GET",
                &format!("/api/v1/namespaces/{namespace}/serviceaccounts/default"),
                None,
            )
            .await
            .json();
        assert!(
            account["metadata"].get("managedFields").is_none(),
            "the serviceaccount controller's create sets no field: {account}"
        );
    }
}
