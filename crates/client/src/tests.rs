//! The policy's decisions, and the layer in front of a real HTTP client against kubesim with
//! injected throttling, server errors and dropped connections.

use std::time::Duration;

use godwit_kubesim::{Fault, FaultRule};
use kube::Api;
use kube::api::{DynamicObject, PostParams};
use kube::core::ApiResource;

use super::*;

#[test]
fn which_answers_are_retried_and_how_long_to_wait() {
    let policy = RequestPolicy::default();
    for code in [429, 500, 502, 503, 504] {
        let wait = policy.next_wait(1, Answer::Status(code, None)).unwrap();
        assert!(wait <= policy.initial_backoff, "{code}: {wait:?}");
    }
    assert!(policy.next_wait(1, Answer::NoAnswer).is_some());
    for code in [400, 401, 403, 404, 409, 410, 422] {
        assert_eq!(
            policy.next_wait(1, Answer::Status(code, None)),
            None,
            "{code}"
        );
    }
    // Retry-After is honoured: never a shorter wait, even on the first retry.
    let wait = policy.next_wait(1, Answer::Status(429, Some(7))).unwrap();
    assert!(wait >= Duration::from_secs(7), "{wait:?}");
    // Backoff doubles up to the cap.
    let late = policy.next_wait(6, Answer::Status(500, None)).unwrap();
    assert!(late > policy.initial_backoff * 8, "{late:?}");
    assert!(late <= policy.max_backoff, "{late:?}");
    let capped = policy.next_wait(7, Answer::Status(500, None)).unwrap();
    assert!(capped <= policy.max_backoff, "{capped:?}");
    // Attempts spent.
    assert_eq!(policy.next_wait(8, Answer::Status(503, None)), None);
}

/// A 429 with Retry-After pauses every request of the client, not only the refused one.
#[tokio::test(start_paused = true)]
async fn throttling_pauses_every_request() {
    let pause = Pause::default();
    let mut policy = Retrying {
        policy: RequestPolicy::default(),
        attempt: 0,
        retries: Retries::default(),
        pause: pause.clone(),
    };
    assert_eq!(pause.until(), None);
    let mut request = Request::new(Body::empty());
    let mut refused: Result<Response<()>, BoxError> = Ok(Response::builder()
        .status(429)
        .header("Retry-After", "3")
        .body(())
        .unwrap());
    let wait = policy.retry(&mut request, &mut refused);
    assert!(wait.is_some());
    let until = pause.until().unwrap();
    assert_eq!(until - tokio::time::Instant::now(), Duration::from_secs(3));
    // A shorter pause asked later does not shorten it; time passing ends it.
    pause.extend(tokio::time::Instant::now() + Duration::from_secs(1));
    assert_eq!(pause.until(), Some(until));
    tokio::time::advance(Duration::from_secs(3)).await;
    assert_eq!(pause.until(), None);
    // A 500 pauses nobody else.
    let mut failed: Result<Response<()>, BoxError> =
        Ok(Response::builder().status(500).body(()).unwrap());
    assert!(policy.retry(&mut request, &mut failed).is_some());
    assert_eq!(pause.until(), None);
}

fn config_maps() -> ApiResource {
    ApiResource {
        group: String::new(),
        version: "v1".to_owned(),
        api_version: "v1".to_owned(),
        kind: "ConfigMap".to_owned(),
        plural: "configmaps".to_owned(),
    }
}

fn config_map(name: &str) -> DynamicObject {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name}, "data": {"n": name}
    }))
    .unwrap()
}

/// Every throttled, failed or dropped create is retried here, once per fault, and nothing is
/// lost or doubled; without the layer (kube's own retries off too) the first 500 is final.
#[tokio::test]
async fn the_layer_retries_every_fault_once_and_alone() {
    let sim = godwit_kubesim::start(godwit_kubesim::Options::default())
        .await
        .unwrap();
    let policy = RequestPolicy {
        initial_backoff: Duration::from_millis(5),
        max_attempts: 12,
        ..RequestPolicy::default()
    };
    let retries = Retries::default();
    let client = from_kubeconfig_yaml(&sim.kubeconfig_yaml(), policy, &retries)
        .await
        .unwrap();
    let faults = sim.faults();
    for fault in [
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
        Fault::ServerError { code: 500 },
        Fault::DropConnection,
    ] {
        faults.add(FaultRule {
            fault,
            fraction: 0.08,
            path_contains: Some("/configmaps".to_owned()),
            method: Some("POST".to_owned()),
        });
    }
    let api: Api<DynamicObject> = Api::namespaced_with(client, "default", &config_maps());
    let names: Vec<String> = (0..120).map(|i| format!("cm-{i:03}")).collect();
    let creates = names.iter().map(|name| {
        let api = api.clone();
        let object = config_map(name);
        async move { api.create(&PostParams::default(), &object).await }
    });
    let results = futures_join_all(creates).await;
    let injected = faults.injected();
    faults.clear();
    for result in &results {
        assert!(result.is_ok(), "{result:?}");
    }
    assert!(injected > 5, "only {injected} faults injected");
    assert_eq!(retries.count(), injected as u64, "one retry per fault");
    let listed = api.list(&Default::default()).await.unwrap();
    let mut found: Vec<String> = listed
        .items
        .into_iter()
        .filter_map(|object| object.metadata.name)
        .filter(|name| name.starts_with("cm-"))
        .collect();
    found.sort();
    assert_eq!(found, names);

    // The same request without this layer: kube's retries are off, so a 500 is final.
    let mut config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::from_yaml(&sim.kubeconfig_yaml()).unwrap(),
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    config.default_retry = false;
    let bare: Api<DynamicObject> = Api::namespaced_with(
        kube::Client::try_from(config).unwrap(),
        "default",
        &config_maps(),
    );
    faults.add(FaultRule {
        fault: Fault::ServerError { code: 500 },
        fraction: 1.0,
        path_contains: Some("/configmaps".to_owned()),
        method: Some("POST".to_owned()),
    });
    let failed = bare
        .create(&PostParams::default(), &config_map("bare"))
        .await;
    assert!(
        matches!(&failed, Err(kube::Error::Api(status)) if status.code == 500),
        "{failed:?}"
    );
    sim.shutdown().await;
}

/// Runs the futures side by side (a stand-in for `futures::future::join_all`, which this
/// crate does not otherwise need).
async fn futures_join_all<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}
