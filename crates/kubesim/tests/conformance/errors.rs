//! Error responses: the exact Status bodies of 409 AlreadyExists and Conflict, 404 for a missing
//! object or namespace, 401 for a wrong token, and how kube-rs surfaces them.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use serde_json::json;

use crate::support::{cluster, config_map, create_config_map, sample, unique};

#[tokio::test]
async fn already_exists_matches_the_real_server() {
    let cluster = cluster().await;
    let namespace = cluster.namespace("exists").await;
    let body = config_map("c1", json!({"a": "b"}), json!({"k": "v"}));
    create_config_map(&cluster, &namespace, &body).await;
    let path = format!("/api/v1/namespaces/{namespace}/configmaps");
    let again = cluster.raw("POST", &path, Some(&body)).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(again.json(), sample("cm-create-duplicate.body", &[]));

    // kube-rs matches on the reason string, so it has to be exact.
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), &namespace);
    let typed: ConfigMap = serde_json::from_value(body).unwrap();
    match api.create(&PostParams::default(), &typed).await {
        Err(kube::Error::Api(status)) => {
            assert!(status.is_already_exists(), "{status:?}");
            assert_eq!(status.code, 409);
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
}

#[tokio::test]
async fn stale_resource_version_is_a_conflict() {
    let cluster = cluster().await;
    let namespace = cluster.namespace("stale").await;
    let created = create_config_map(
        &cluster,
        &namespace,
        &config_map("c1", json!({"a": "b"}), json!({"k": "v"})),
    )
    .await;
    let path = format!("/api/v1/namespaces/{namespace}/configmaps/c1");

    let mut fresh = created.clone();
    fresh["data"]["k"] = json!("v2");
    let replaced = cluster.raw("PUT", &path, Some(&fresh)).await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    let replaced = replaced.json();
    assert_ne!(
        replaced["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );

    // The first version's resourceVersion is stale now.
    let mut stale = created.clone();
    stale["data"]["k"] = json!("v3");
    let conflict = cluster.raw("PUT", &path, Some(&stale)).await;
    assert_eq!(conflict.status, 409, "{}", conflict.body);
    assert_eq!(conflict.json(), sample("cm-replace-stale.body", &[]));

    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), &namespace);
    let typed: ConfigMap = serde_json::from_value(stale).unwrap();
    match api.replace("c1", &PostParams::default(), &typed).await {
        Err(kube::Error::Api(status)) => {
            assert!(status.is_conflict(), "{status:?}");
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    let current = cluster.raw("GET", &path, None).await.json();
    assert_eq!(
        current["data"]["k"], "v2",
        "a conflicting update is not applied"
    );
}

#[tokio::test]
async fn create_in_a_missing_namespace_is_not_found() {
    let cluster = cluster().await;
    let missing = unique("no-such-ns");
    let path = format!("/api/v1/namespaces/{missing}/configmaps");
    let body = config_map("c1", json!({}), json!({"k": "v"}));
    let got = cluster.raw("POST", &path, Some(&body)).await;
    assert_eq!(got.status, 404, "{}", got.body);
    assert_eq!(
        got.json(),
        sample(
            "cm-create-missing-namespace.body",
            &[("no-such-ns", &missing)]
        )
    );
}

#[tokio::test]
async fn get_of_a_missing_object_is_not_found() {
    let cluster = cluster().await;
    let namespace = cluster.namespace("missing").await;
    let got = cluster
        .raw(
            "GET",
            &format!("/api/v1/namespaces/{namespace}/configmaps/nope"),
            None,
        )
        .await;
    assert_eq!(got.status, 404, "{}", got.body);
    assert_eq!(got.json(), sample("cm-get-missing.body", &[]));

    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), &namespace);
    assert!(api.get_opt("nope").await.unwrap().is_none());
}

#[tokio::test]
async fn wrong_token_is_unauthorized() {
    let cluster = cluster().await;
    let stranger = cluster.client_with_token("not-the-token").await;
    let got = crate::support::raw(
        &stranger,
        "GET",
        "/api/v1/namespaces",
        None,
        "application/json",
    )
    .await;
    assert_eq!(got.status, 401, "{}", got.body);
    assert_eq!(
        got.json(),
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "Unauthorized",
            "reason": "Unauthorized",
            "code": 401,
        })
    );
}
