//! Lists: paging with limit/continue and remainingItemCount, label and field selectors.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

use crate::support::{
    Cluster, ROOT_CA_CONFIG_MAP, cluster, config_map, create_config_map, query_value, rv_number,
    sample,
};

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

async fn list(cluster: &Cluster, path: &str) -> Value {
    let got = cluster.raw("GET", path, None).await;
    assert_eq!(got.status, 200, "GET {path}: {}", got.body);
    got.json()
}

#[tokio::test]
async fn paging_with_limit_and_continue() {
    let cluster = cluster().await;
    // The namespace holds the controller manager's kube-root-ca.crt too, sorted last.
    let namespace = cluster.namespace("paging").await;
    // Created out of order: lists come back sorted by name.
    for name in ["c3", "c1", "c5", "c2", "c4"] {
        create_config_map(
            &cluster,
            &namespace,
            &config_map(name, json!({}), json!({})),
        )
        .await;
    }
    let base = format!("/api/v1/namespaces/{namespace}/configmaps");

    let first = list(&cluster, &format!("{base}?limit=2")).await;
    let recorded = sample("cm-list-limit2.body", &[]);
    assert_eq!(first["kind"], recorded["kind"]);
    assert_eq!(first["apiVersion"], recorded["apiVersion"]);
    assert_eq!(names(&first), ["c1", "c2"]);
    assert_eq!(first["metadata"]["remainingItemCount"], 4);
    let token = first["metadata"]["continue"].as_str().unwrap().to_string();
    assert!(!token.is_empty());
    rv_number(&first["metadata"]["resourceVersion"]);

    let second = list(
        &cluster,
        &format!("{base}?limit=2&continue={}", query_value(&token)),
    )
    .await;
    assert_eq!(names(&second), ["c3", "c4"]);
    assert_eq!(second["metadata"]["remainingItemCount"], 2);
    let token = second["metadata"]["continue"].as_str().unwrap().to_string();

    let last = list(
        &cluster,
        &format!("{base}?limit=2&continue={}", query_value(&token)),
    )
    .await;
    assert_eq!(names(&last), ["c5", ROOT_CA_CONFIG_MAP]);
    assert!(
        last["metadata"]
            .get("continue")
            .is_none_or(|c| c.as_str() == Some("")),
        "the last page has no continue token: {}",
        last["metadata"]
    );
    assert!(last["metadata"].get("remainingItemCount").is_none());

    // Without a limit there is neither token nor count.
    let all = list(&cluster, &base).await;
    assert_eq!(
        names(&all),
        ["c1", "c2", "c3", "c4", "c5", ROOT_CA_CONFIG_MAP]
    );
    assert!(all["metadata"].get("remainingItemCount").is_none());

    // kube-rs paging sees the same.
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), &namespace);
    let page = api.list(&ListParams::default().limit(4)).await.unwrap();
    assert_eq!(page.items.len(), 4);
    assert_eq!(page.metadata.remaining_item_count, Some(2));
    let token = page.metadata.continue_.unwrap();
    let rest = api
        .list(&ListParams::default().limit(4).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 2);
}

/// Every page of a paged list comes from the first page's snapshot: objects written meanwhile
/// are not in later pages, and each page reports the snapshot's resourceVersion.
#[tokio::test]
async fn continue_reads_the_first_pages_snapshot() {
    let cluster = cluster().await;
    let namespace = cluster.namespace("snapshot").await;
    for name in ["c1", "c2", "c3"] {
        create_config_map(
            &cluster,
            &namespace,
            &config_map(name, json!({}), json!({})),
        )
        .await;
    }
    let base = format!("/api/v1/namespaces/{namespace}/configmaps");
    let first = list(&cluster, &format!("{base}?limit=2")).await;
    assert_eq!(names(&first), ["c1", "c2"]);
    let snapshot = first["metadata"]["resourceVersion"].clone();
    let token = first["metadata"]["continue"].as_str().unwrap().to_string();

    create_config_map(
        &cluster,
        &namespace,
        &config_map("c4", json!({}), json!({})),
    )
    .await;

    let rest = list(
        &cluster,
        &format!("{base}?limit=2&continue={}", query_value(&token)),
    )
    .await;
    assert_eq!(
        names(&rest),
        ["c3", ROOT_CA_CONFIG_MAP],
        "c4 was written after the snapshot"
    );
    assert_eq!(rest["metadata"]["resourceVersion"], snapshot);
    assert!(rest["metadata"].get("remainingItemCount").is_none());
}

#[tokio::test]
async fn label_selectors() {
    let cluster = cluster().await;
    let namespace = cluster.namespace("labels").await;
    for (name, labels) in [
        ("c1", json!({"app": "web", "tier": "front"})),
        ("c2", json!({"app": "web", "tier": "back"})),
        ("c3", json!({"app": "db"})),
        ("c4", json!({})),
    ] {
        create_config_map(&cluster, &namespace, &config_map(name, labels, json!({}))).await;
    }
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), &namespace);
    // The namespace's kube-root-ca.crt has no labels.
    let cases: &[(&str, &[&str])] = &[
        ("app=web", &["c1", "c2"]),
        ("app==web", &["c1", "c2"]),
        ("app!=web", &["c3", "c4", ROOT_CA_CONFIG_MAP]),
        ("app in (web,db)", &["c1", "c2", "c3"]),
        ("app notin (web)", &["c3", "c4", ROOT_CA_CONFIG_MAP]),
        ("tier", &["c1", "c2"]),
        ("!tier", &["c3", "c4", ROOT_CA_CONFIG_MAP]),
        ("app=web,tier=back", &["c2"]),
        ("app=none", &[]),
    ];
    for (selector, expected) in cases {
        let got = api
            .list(&ListParams::default().labels(selector))
            .await
            .unwrap();
        let got: Vec<String> = got
            .items
            .iter()
            .map(|item| item.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(&got, expected, "labelSelector {selector}");
    }

    let bad = cluster
        .raw(
            "GET",
            &format!(
                "/api/v1/namespaces/{namespace}/configmaps?labelSelector={}",
                query_value("app===x")
            ),
            None,
        )
        .await;
    assert_eq!(bad.status, 400, "a malformed selector: {}", bad.body);
    assert_eq!(bad.json()["reason"], "BadRequest");
}

#[tokio::test]
async fn field_selectors() {
    let cluster = cluster().await;
    let first = cluster.namespace("fields-a").await;
    let second = cluster.namespace("fields-b").await;
    for namespace in [&first, &second] {
        for name in ["c1", "c2"] {
            create_config_map(&cluster, namespace, &config_map(name, json!({}), json!({}))).await;
        }
    }
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), &first);
    let got = api
        .list(&ListParams::default().fields("metadata.name=c2"))
        .await
        .unwrap();
    assert_eq!(got.items.len(), 1);
    assert_eq!(got.items[0].metadata.name.as_deref(), Some("c2"));
    let got = api
        .list(&ListParams::default().fields("metadata.name!=c2"))
        .await
        .unwrap();
    let got: Vec<&str> = got
        .items
        .iter()
        .filter_map(|item| item.metadata.name.as_deref())
        .collect();
    assert_eq!(got, ["c1", ROOT_CA_CONFIG_MAP]);

    // Across namespaces, metadata.namespace picks one.
    let everywhere: Api<ConfigMap> = Api::all(cluster.client.clone());
    let got = everywhere
        .list(&ListParams::default().fields(&format!("metadata.namespace={second}")))
        .await
        .unwrap();
    let mut found: Vec<(String, String)> = got
        .items
        .iter()
        .map(|item| {
            (
                item.metadata.namespace.clone().unwrap(),
                item.metadata.name.clone().unwrap(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            (second.clone(), "c1".to_string()),
            (second.clone(), "c2".to_string()),
            (second.clone(), ROOT_CA_CONFIG_MAP.to_string()),
        ]
    );
    let got = everywhere
        .list(
            &ListParams::default().fields(&format!("metadata.namespace={first},metadata.name=c1")),
        )
        .await
        .unwrap();
    assert_eq!(got.items.len(), 1);

    // ConfigMaps support only the metadata fields.
    let bad = cluster
        .raw(
            "GET",
            &format!(
                "/api/v1/namespaces/{first}/configmaps?fieldSelector={}",
                query_value("data.k=v")
            ),
            None,
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let status = bad.json();
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["reason"], "BadRequest");
    let message = status["message"].as_str().unwrap();
    assert_eq!(
        message,
        "\"data.k\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
    );
    // Pods have fields of their own to select on, and the older message.
    let bad = cluster
        .raw(
            "GET",
            &format!(
                "/api/v1/namespaces/{first}/pods?fieldSelector={}",
                query_value("data.k=v")
            ),
            None,
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(bad.json()["message"], "field label not supported: data.k");
}
