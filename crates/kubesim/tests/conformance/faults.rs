//! Fault injection (kubesim only): 429 with Retry-After, 500/503, dropped connections, latency,
//! `fraction`, `path_contains` and `method` scoping, `clear()`, and the HTTP admin endpoint.
//! Against a real cluster these tests print a note and do nothing.

use std::time::{Duration, Instant};

use godwit_kubesim::{Fault, FaultRule};
use kube::Client;
use serde_json::{Value, json};

use crate::support::{Cluster, ROOT_CA_CONFIG_MAP, Raw, cluster, config_map, raw, try_raw};

fn rule(fault: Fault, fraction: f64, path_contains: &str, method: Option<&str>) -> FaultRule {
    FaultRule {
        fault,
        fraction,
        path_contains: Some(path_contains.to_string()),
        method: method.map(str::to_string),
    }
}

fn config_maps_path(namespace: &str) -> String {
    format!("/api/v1/namespaces/{namespace}/configmaps")
}

async fn post_config_map(client: &Client, namespace: &str, name: &str) -> Raw {
    let body = config_map(name, json!({}), json!({"k": "v"}));
    raw(
        client,
        "POST",
        &config_maps_path(namespace),
        Some(&body),
        "application/json",
    )
    .await
}

/// The ConfigMaps the test wrote: every one but the controller manager's kube-root-ca.crt.
async fn config_map_names(cluster: &Cluster, namespace: &str) -> Vec<String> {
    let list = cluster
        .raw("GET", &config_maps_path(namespace), None)
        .await
        .json();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["metadata"]["name"].as_str().unwrap().to_string())
        .filter(|name| name != ROOT_CA_CONFIG_MAP)
        .collect()
}

fn assert_status_body(got: &Raw, code: u16, reason: &str) -> Value {
    assert_eq!(got.status, code, "{}", got.body);
    let status = got.json();
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["apiVersion"], "v1");
    assert_eq!(status["status"], "Failure");
    assert_eq!(status["code"], code);
    assert_eq!(status["reason"], reason);
    assert!(status["message"].as_str().is_some_and(|m| !m.is_empty()));
    status
}

#[tokio::test]
async fn too_many_requests_has_retry_after_and_is_not_applied() {
    let cluster = cluster().await;
    let Some(kubesim) = cluster.kubesim_or_skip("too_many_requests_has_retry_after") else {
        return;
    };
    let namespace = cluster.namespace("fault429").await;
    let faults = kubesim.faults();
    faults.add(rule(
        Fault::TooManyRequests {
            retry_after_secs: 7,
        },
        1.0,
        &config_maps_path(&namespace),
        Some("POST"),
    ));
    let plain = cluster.client_without_retries().await;

    let got = post_config_map(&plain, &namespace, "c1").await;
    let status = assert_status_body(&got, 429, "TooManyRequests");
    assert_eq!(got.header("retry-after").as_deref(), Some("7"));
    assert_eq!(status["details"]["retryAfterSeconds"], 7);
    assert_eq!(faults.injected(), 1);
    assert!(
        config_map_names(&cluster, &namespace).await.is_empty(),
        "a throttled create is not applied"
    );

    // kube-rs surfaces it as an API error when its retries are off.
    let api: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(plain.clone(), &namespace);
    let typed = serde_json::from_value(config_map("c1", json!({}), json!({}))).unwrap();
    match api.create(&kube::api::PostParams::default(), &typed).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 429),
        other => panic!("expected 429, got {other:?}"),
    }
    assert_eq!(faults.injected(), 2);

    faults.clear();
    let got = post_config_map(&plain, &namespace, "c1").await;
    assert_eq!(got.status, 201, "{}", got.body);
    assert_eq!(faults.injected(), 2, "clear() keeps the count");
}

#[tokio::test]
async fn server_errors_are_not_applied() {
    let cluster = cluster().await;
    let Some(kubesim) = cluster.kubesim_or_skip("server_errors_are_not_applied") else {
        return;
    };
    let namespace = cluster.namespace("fault5xx").await;
    let plain = cluster.client_without_retries().await;
    for (code, reason) in [(500, "InternalError"), (503, "ServiceUnavailable")] {
        kubesim.faults().add(rule(
            Fault::ServerError { code },
            1.0,
            &config_maps_path(&namespace),
            None,
        ));
        let got = post_config_map(&plain, &namespace, "c1").await;
        assert_status_body(&got, code, reason);
        kubesim.faults().clear();
        assert!(config_map_names(&cluster, &namespace).await.is_empty());
    }
    assert_eq!(kubesim.faults().injected(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn kube_retries_ride_over_503_without_duplicates() {
    let cluster = cluster().await;
    let Some(kubesim) = cluster.kubesim_or_skip("kube_retries_ride_over_503") else {
        return;
    };
    let namespace = cluster.namespace("faultretry").await;
    kubesim.faults().add(rule(
        Fault::ServerError { code: 503 },
        0.5,
        &config_maps_path(&namespace),
        Some("POST"),
    ));
    // The default client retries 503; had a failed create been applied, its retry would meet
    // AlreadyExists.
    for index in 0..20 {
        let got = post_config_map(&cluster.client, &namespace, &format!("c{index}")).await;
        assert_eq!(got.status, 201, "{}", got.body);
    }
    assert!(kubesim.faults().injected() > 0);
    kubesim.faults().clear();
    assert_eq!(config_map_names(&cluster, &namespace).await.len(), 20);
}

#[tokio::test]
async fn dropped_connection_is_not_applied() {
    let cluster = cluster().await;
    let Some(kubesim) = cluster.kubesim_or_skip("dropped_connection_is_not_applied") else {
        return;
    };
    let namespace = cluster.namespace("faultdrop").await;
    kubesim.faults().add(rule(
        Fault::DropConnection,
        1.0,
        &config_maps_path(&namespace),
        Some("POST"),
    ));
    let plain = cluster.client_without_retries().await;
    let body = config_map("c1", json!({}), json!({}));
    let got = try_raw(
        &plain,
        "POST",
        &config_maps_path(&namespace),
        Some(&body),
        "application/json",
    )
    .await;
    assert!(got.is_err(), "no response at all: {got:?}");
    assert_eq!(kubesim.faults().injected(), 1);
    kubesim.faults().clear();
    assert!(config_map_names(&cluster, &namespace).await.is_empty());
    let got = post_config_map(&plain, &namespace, "c1").await;
    assert_eq!(got.status, 201, "{}", got.body);
}

#[tokio::test]
async fn latency_delays_then_serves() {
    let cluster = cluster().await;
    let Some(kubesim) = cluster.kubesim_or_skip("latency_delays_then_serves") else {
        return;
    };
    let namespace = cluster.namespace("faultlatency").await;
    kubesim.faults().add(rule(
        Fault::Latency { millis: 300 },
        1.0,
        &config_maps_path(&namespace),
        None,
    ));
    let started = Instant::now();
    let got = post_config_map(&cluster.client, &namespace, "c1").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(got.status, 201, "{}", got.body);
}

#[tokio::test]
async fn fraction_path_and_method_scope_the_faults() {
    let cluster = cluster().await;
    let Some(kubesim) = cluster.kubesim_or_skip("fraction_path_and_method_scope_the_faults") else {
        return;
    };
    let namespace = cluster.namespace("faultscope").await;
    let plain = cluster.client_without_retries().await;
    // A clone is the same rule set.
    let faults = kubesim.faults().clone();
    faults.add(rule(
        Fault::ServerError { code: 500 },
        0.5,
        &config_maps_path(&namespace),
        Some("POST"),
    ));
    faults.add(rule(
        Fault::ServerError { code: 500 },
        0.0,
        "/secrets",
        None,
    ));

    let attempts = 100;
    let mut failed = 0;
    for index in 0..attempts {
        let got = post_config_map(&plain, &namespace, &format!("c{index}")).await;
        match got.status {
            201 => {}
            500 => failed += 1,
            other => panic!("unexpected {other}: {}", got.body),
        }
    }
    assert!(
        (20..=80).contains(&failed),
        "about half of {attempts} fail at fraction 0.5, got {failed}"
    );
    assert_eq!(kubesim.faults().injected(), failed);

    // GETs of the same path and writes elsewhere are untouched.
    let created = config_map_names(&cluster, &namespace).await.len();
    assert_eq!(created, usize::try_from(attempts - failed).unwrap());
    let secret = json!({"metadata": {"name": "s1"}, "stringData": {"k": "v"}});
    let got = raw(
        &plain,
        "POST",
        &format!("/api/v1/namespaces/{namespace}/secrets"),
        Some(&secret),
        "application/json",
    )
    .await;
    assert_eq!(got.status, 201, "fraction 0.0 never fires: {}", got.body);
    assert_eq!(kubesim.faults().injected(), failed);
}

#[tokio::test]
async fn admin_endpoint_adds_lists_and_clears_rules() {
    let cluster = cluster().await;
    let Some(kubesim) = cluster.kubesim_or_skip("admin_endpoint_adds_lists_and_clears_rules")
    else {
        return;
    };
    let namespace = cluster.namespace("faultadmin").await;
    let plain = cluster.client_without_retries().await;
    let admin = |method: &'static str, body: Option<Value>| {
        let plain = plain.clone();
        async move {
            raw(
                &plain,
                method,
                "/kubesim/faults",
                body.as_ref(),
                "application/json",
            )
            .await
        }
    };

    let listed = admin("GET", None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.json(), json!({"rules": [], "injected": 0}));

    let added = rule(
        Fault::TooManyRequests {
            retry_after_secs: 3,
        },
        1.0,
        &config_maps_path(&namespace),
        Some("POST"),
    );
    let body = serde_json::to_value(&added).unwrap();
    let posted = admin("POST", Some(body.clone())).await;
    assert!(
        (200..300).contains(&posted.status),
        "POST /kubesim/faults: {} {}",
        posted.status,
        posted.body
    );
    let listed = admin("GET", None).await.json();
    assert_eq!(listed["rules"], json!([body]));
    assert_eq!(listed["injected"], 0);

    let got = post_config_map(&plain, &namespace, "c1").await;
    assert_eq!(got.status, 429, "{}", got.body);
    assert_eq!(got.header("retry-after").as_deref(), Some("3"));
    assert_eq!(admin("GET", None).await.json()["injected"], 1);
    assert_eq!(
        kubesim.faults().injected(),
        1,
        "one rule set for both ways in"
    );

    let cleared = admin("DELETE", None).await;
    assert!(
        (200..300).contains(&cleared.status),
        "DELETE /kubesim/faults: {} {}",
        cleared.status,
        cleared.body
    );
    let listed = admin("GET", None).await.json();
    assert_eq!(listed["rules"], json!([]));
    assert_eq!(listed["injected"], 1);
    let got = post_config_map(&plain, &namespace, "c1").await;
    assert_eq!(got.status, 201, "{}", got.body);

    // Same token as the API.
    let stranger = cluster.client_with_token("not-the-token").await;
    let denied = raw(
        &stranger,
        "GET",
        "/kubesim/faults",
        None,
        "application/json",
    )
    .await;
    assert_eq!(denied.status, 401, "{}", denied.body);
}
