use crate::{Fault, FaultRule, Options, Profile};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams, PostParams};

async fn names(client: kube::Client) -> Vec<String> {
    let namespaces: Api<Namespace> = Api::all(client);
    namespaces
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect()
}

#[tokio::test]
async fn kube_clients_work_over_http_and_through_the_kubeconfig() {
    let running = crate::start(Options::default()).await.unwrap();
    // Plain HTTP with the bearer token.
    assert_eq!(
        names(running.client().unwrap()).await,
        ["default", "kube-node-lease", "kube-public", "kube-system"]
    );
    // The kubeconfig goes over TLS on the same port, with the generated certificate.
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&running.kubeconfig_yaml()).unwrap();
    let config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(config.cluster_url.scheme_str(), Some("https"));
    let client = kube::Client::try_from(config).unwrap();
    assert_eq!(names(client).await.len(), 4);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    running.write_kubeconfig(&path).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        running.kubeconfig_yaml()
    );
    assert!(running.url().starts_with("http://127.0.0.1:"));
    assert_eq!(
        running.url(),
        format!("http://127.0.0.1:{}", running.port())
    );
    running.shutdown().await;
}

#[tokio::test]
async fn wrong_tokens_are_refused() {
    let running = crate::start(Options {
        token: "right".to_owned(),
        ..Options::default()
    })
    .await
    .unwrap();
    let mut config = kube::Config::new(running.url().parse().unwrap());
    config.auth_info = serde_json::from_value(serde_json::json!({"token": "wrong"})).unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let namespaces: Api<Namespace> = Api::all(client);
    match namespaces.list(&ListParams::default()).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 401),
        other => panic!("expected 401, got {other:?}"),
    }
    running.shutdown().await;
}

#[tokio::test]
async fn dropped_connections_and_errors_apply_no_change() {
    let running = crate::start(Options::default()).await.unwrap();
    let faults = running.faults();
    faults.add(FaultRule {
        fault: Fault::DropConnection,
        fraction: 1.0,
        path_contains: Some("/configmaps".to_owned()),
        method: Some("POST".to_owned()),
    });
    let configmaps: Api<ConfigMap> = Api::namespaced(running.client().unwrap(), "default");
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some("dropped".to_owned());
    let error = configmaps
        .create(&PostParams::default(), &cm)
        .await
        .unwrap_err();
    assert!(!matches!(error, kube::Error::Api(_)), "{error:?}");
    faults.clear();
    faults.add(FaultRule {
        // 500, not 503: kube retries 429/503/504 itself, up to 15 times with backoff.
        fault: Fault::ServerError { code: 500 },
        fraction: 1.0,
        path_contains: None,
        method: Some("POST".to_owned()),
    });
    match configmaps.create(&PostParams::default(), &cm).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 500),
        other => panic!("expected 500, got {other:?}"),
    }
    assert_eq!(faults.injected(), 2);
    faults.clear();
    assert!(configmaps.get_opt("dropped").await.unwrap().is_none());
    configmaps
        .create(&PostParams::default(), &cm)
        .await
        .unwrap();
    running.shutdown().await;
}

#[tokio::test]
async fn persistence_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        profile: Profile::V1_25,
        data_dir: Some(dir.path().to_owned()),
        ..Options::default()
    };
    let running = crate::start(options.clone()).await.unwrap();
    let configmaps: Api<ConfigMap> = Api::namespaced(running.client().unwrap(), "kube-system");
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some("kept".to_owned());
    let created = configmaps
        .create(&PostParams::default(), &cm)
        .await
        .unwrap();
    running.shutdown().await;

    let running = crate::start(options).await.unwrap();
    let configmaps: Api<ConfigMap> = Api::namespaced(running.client().unwrap(), "kube-system");
    let kept = configmaps.get("kept").await.unwrap();
    assert_eq!(kept.metadata.uid, created.metadata.uid);
    let mut next = ConfigMap::default();
    next.metadata.name = Some("next".to_owned());
    let next = configmaps
        .create(&PostParams::default(), &next)
        .await
        .unwrap();
    let rv = |cm: &ConfigMap| {
        cm.metadata
            .resource_version
            .as_deref()
            .unwrap_or_default()
            .parse::<u64>()
            .unwrap()
    };
    assert!(rv(&next) > rv(&created));
    assert_eq!(names(running.client().unwrap()).await.len(), 4);
    running.shutdown().await;
}

#[tokio::test]
async fn bad_options_are_refused() {
    let (first, last) = (31000, 30000);
    let reversed = crate::start(Options {
        node_port_range: first..=last,
        ..Options::default()
    })
    .await;
    assert!(matches!(reversed, Err(crate::Error::NodePortRange { .. })));
    let taken = crate::start(Options::default()).await.unwrap();
    let clash = crate::start(Options {
        port: taken.port(),
        ..Options::default()
    })
    .await;
    assert!(matches!(clash, Err(crate::Error::Bind { .. })));
    taken.shutdown().await;
}
