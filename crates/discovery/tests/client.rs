//! The client half against kubesim: what `discover` reads from a live server, how it tolerates a
//! group whose discovery answers 503 (stale in aggregated discovery, so read through legacy
//! discovery), and that an unreachable server is an error. `aggregated_and_legacy_discovery_agree` runs against the real cluster named by
//! `KUBESIM_CONFORMANCE_KUBECONFIG` when it is set (CI runs it so against kube-apiserver 1.36).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use godwit_discovery::{Discovery, Error, discover, discover_legacy};
use godwit_kubesim::{Fault, FaultRule, Options, Profile, Running};
use godwit_versioning::GroupResource;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::PostParams;

/// A client for the server that does not retry 503 answers (kube's default client retries them
/// for minutes), so a failing group shows at once.
fn client_without_retries(server: &Running) -> kube::Client {
    let uri: http::Uri = server.url().parse().unwrap();
    let mut config = kube::Config::new(uri);
    config.default_retry = false;
    config.auth_info =
        serde_json::from_value(serde_json::json!({ "token": server.token() })).unwrap();
    kube::Client::try_from(config).unwrap()
}

async fn start(profile: Profile) -> Running {
    godwit_kubesim::start(Options {
        profile,
        ..Default::default()
    })
    .await
    .unwrap()
}

/// Creates the three-version `rockbands.music.example.io` CRD and waits until it is established.
async fn create_rockbands(client: &kube::Client) {
    let crd: CustomResourceDefinition = godwit_fixtures::read_json("crds/rockbands.json");
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    api.create(&PostParams::default(), &crd).await.unwrap();
    for _ in 0..100 {
        let live = api.get("rockbands.music.example.io").await.unwrap();
        let established = live
            .status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True");
        if established {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("rockbands.music.example.io never became established");
}

fn versions(discovery: &Discovery, group_resource: &str) -> Vec<String> {
    let group_resource = GroupResource::parse(group_resource).unwrap();
    discovery
        .versions_serving(&group_resource)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn discovers_built_ins_and_every_served_version_of_a_crd() {
    for profile in [Profile::V1_25, Profile::V1_33] {
        let server = start(profile).await;
        let client = server.client().unwrap();
        create_rockbands(&client).await;

        let (discovery, problems) = discover(&client).await.unwrap();
        assert!(problems.is_empty(), "{profile}: {problems:?}");

        let rockbands = GroupResource::parse("rockbands.music.example.io").unwrap();
        // The CRD's preferred version is its highest-priority served one, not its storage one.
        assert_eq!(discovery.preferred_version("music.example.io"), Some("v1"));
        let mut served = versions(&discovery, "rockbands.music.example.io");
        served.sort();
        assert_eq!(served, ["v1", "v1alpha1", "v2beta1"], "{profile}");
        let info = discovery.resource(&rockbands, "v2beta1").unwrap();
        assert_eq!(info.kind, "RockBand");
        assert!(info.namespaced);
        assert!(info.is_backupable(), "{:?}", info.verbs);

        // Built-ins, with scope and verbs, and no subresources.
        let deployments = GroupResource::parse("deployments.apps").unwrap();
        assert_eq!(discovery.preferred_version_for(&deployments), Some("v1"));
        assert!(discovery.is_backupable(&deployments));
        let namespaces = GroupResource::parse("namespaces").unwrap();
        assert_eq!(discovery.is_namespaced(&namespaces), Some(false));
        assert_eq!(
            discovery.is_namespaced(&GroupResource::parse("pods").unwrap()),
            Some(true)
        );
        let core = discovery.group("").unwrap();
        assert_eq!(core.preferred_version, "v1");
        assert!(
            core.versions
                .iter()
                .flat_map(|v| &v.resources)
                .all(|r| !r.name.contains('/'))
        );
        assert_eq!(discovery.resolve("rb").unwrap(), rockbands);

        // Profile differences show: 1.25 still serves the flowcontrol v1beta2 API, 1.33 does not.
        let flowschemas = versions(&discovery, "flowschemas.flowcontrol.apiserver.k8s.io");
        assert_eq!(
            flowschemas.iter().any(|v| v == "v1beta2"),
            profile == Profile::V1_25,
            "{profile}: {flowschemas:?}"
        );
        server.shutdown().await;
    }
}

/// The two paths must describe a cluster identically: a backup or restore must not plan
/// differently because the server offered aggregated discovery.
#[tokio::test]
async fn aggregated_and_legacy_discovery_agree() {
    let (client, server) = match std::env::var_os("KUBESIM_CONFORMANCE_KUBECONFIG") {
        Some(path) => {
            let yaml = std::fs::read_to_string(path).unwrap();
            let kubeconfig = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
            let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
                .await
                .unwrap();
            (kube::Client::try_from(config).unwrap(), None)
        }
        None => {
            let server = start(Profile::V1_33).await;
            (server.client().unwrap(), Some(server))
        }
    };
    // A live server may still be settling (CRDs deleted by the tests run before this one go
    // away in the background): the two views are compared until one pair agrees, for a while.
    let mut attempts = 0;
    let (aggregated, legacy) = loop {
        attempts += 1;
        let (aggregated, aggregated_problems) = discover(&client).await.unwrap();
        let (legacy, legacy_problems) = discover_legacy(&client).await.unwrap();
        let settled = aggregated_problems.is_empty() && legacy_problems.is_empty();
        if (settled && aggregated == legacy) || attempts == 30 {
            assert!(aggregated_problems.is_empty(), "{aggregated_problems:?}");
            assert!(legacy_problems.is_empty(), "{legacy_problems:?}");
            break (aggregated, legacy);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert!(aggregated.groups().len() > 10, "{:?}", aggregated.groups());
    for (left, right) in aggregated.groups().iter().zip(legacy.groups()) {
        assert_eq!(left, right);
    }
    assert_eq!(aggregated, legacy);
    if let Some(server) = server {
        server.shutdown().await;
    }
}

#[tokio::test]
async fn a_group_answering_503_is_a_warning_not_a_failure() {
    let server = start(Profile::V1_33).await;
    let client = client_without_retries(&server);
    create_rockbands(&client).await;
    server.faults().add(FaultRule {
        fault: Fault::ServerError { code: 503 },
        fraction: 1.0,
        path_contains: Some("/apis/music.example.io/".to_owned()),
        method: None,
    });

    // kubesim marks the group's versions `Stale` in aggregated discovery, as a real server marks
    // an aggregated API server that does not answer; `discover` then reads legacy discovery,
    // whose failed requests say what went wrong.
    let (discovery, problems) = discover(&client).await.unwrap();
    assert!(server.faults().injected() >= 3);

    let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
    for version in ["v1", "v2beta1", "v1alpha1"] {
        let path = format!("/apis/music.example.io/{version}");
        assert!(
            problems.iter().any(|p| matches!(
                p,
                Error::Request { document, message } if *document == path && message.contains("503")
            )),
            "no failed request for {path} in {messages:#?}"
        );
        assert!(
            problems.contains(&Error::MissingResourceList {
                group_version: format!("music.example.io/{version}"),
            }),
            "{messages:#?}"
        );
    }
    assert_eq!(problems.len(), 6, "{messages:#?}");
    // The group is still listed, but none of its versions claims a resource.
    assert_eq!(discovery.versions("music.example.io").len(), 3);
    assert!(versions(&discovery, "rockbands.music.example.io").is_empty());
    // Everything else is intact.
    assert!(discovery.is_backupable(&GroupResource::parse("deployments.apps").unwrap()));
    assert!(discovery.is_backupable(&GroupResource::parse("configmaps").unwrap()));
    server.shutdown().await;
}

#[tokio::test]
async fn failing_to_read_apis_is_an_error_naming_it() {
    let server = start(Profile::V1_33).await;
    let client = client_without_retries(&server);
    server.faults().add(FaultRule {
        fault: Fault::ServerError { code: 500 },
        fraction: 1.0,
        path_contains: Some("/apis".to_owned()),
        method: None,
    });
    let err = discover(&client).await.unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("cannot fetch /apis: the request failed: 500"),
        "{message}"
    );
    server.shutdown().await;
}
