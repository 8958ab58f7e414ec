//! Executor tests against kubesim: backups taken from a kubesim with one CRD profile, restored
//! into a kubesim with another, then read back.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use godwit_kubesim::{Fault, FaultRule, Profile};
use godwit_restore::{
    ExecuteOptions, ExistingResourcePolicy, Outcome, Phase, RestoreResult, RestoreSpec, restore,
};
use serde_json::{Value, json};

/// SPEC.md section 4's cases: (case, source versions, target versions, storage in target,
/// expected version, expected rule words).
type Case = (
    char,
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
    &'static str,
);

const CASES: [Case; 4] = [
    (
        'a',
        &["v1", "v1alpha1"],
        &["v1", "v2beta1"],
        "v1",
        "target preferred version",
    ),
    (
        'b',
        &["v1", "v2beta2", "v2beta1"],
        &["v2beta2", "v2beta1"],
        "v2beta2",
        "target preferred version",
    ),
    (
        'c',
        &["v1", "v1alpha1"],
        &["v2", "v1"],
        "v1",
        "source preferred version",
    ),
    (
        'd',
        &["v1", "v2beta2", "v2beta1"],
        &["v2", "v2beta2", "v2beta1"],
        "v2beta2",
        "highest common non-preferred version",
    ),
];

fn spec(restore_name: &str) -> RestoreSpec {
    let mut spec = RestoreSpec::new("nightly", restore_name);
    spec.enable_api_group_versions = true;
    spec
}

fn options() -> ExecuteOptions {
    ExecuteOptions {
        server_namespace: "velero".to_owned(),
        ..ExecuteOptions::default()
    }
}

fn errors(result: &RestoreResult) -> Vec<String> {
    result.errors.all().map(str::to_owned).collect()
}

/// A source cluster with the four cases' CRDs (at their source versions) and two rockbands each
/// in namespace `music`, plus a ConfigMap; and its backup.
async fn source_backup(with_crds: bool) -> (tempfile::TempDir, godwit_tarball::ExtractedBackup) {
    let source = kubesim(Profile::V1_25).await;
    let client = source.client().unwrap();
    create_namespace(&client, "music", json!({"team": "band"})).await;
    let mut backed = vec![
        Backed {
            group_resource: "namespaces",
            kind: "Namespace",
            versions: vec!["v1"],
            objects: vec![(None, "music".to_owned())],
        },
        Backed {
            group_resource: "configmaps",
            kind: "ConfigMap",
            versions: vec!["v1"],
            objects: vec![(Some("music"), "setlist".to_owned())],
        },
    ];
    create(
        &client,
        &configmaps(),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "setlist", "namespace": "music"}, "data": {"first": "help"}}),
    )
    .await;
    let mut crd_names = Vec::new();
    for (case, source_versions, ..) in CASES {
        let group = format!("case-{case}.example.io");
        install_crd(
            &client,
            rockbands_crd(&group, source_versions, source_versions[0]),
        )
        .await;
        crd_names.push((None, format!("rockbands.{group}")));
        for name in ["beatles", "stones"] {
            create(
                &client,
                &rockbands(&group, source_versions[0]),
                json!({
                "apiVersion": format!("{group}/{}", source_versions[0]), "kind": "RockBand",
                "metadata": {"name": name, "namespace": "music", "labels": {"genre": "rock"}},
                "spec": {"members": 4}}),
            )
            .await;
        }
        let group_resource: &'static str = Box::leak(format!("rockbands.{group}").into_boxed_str());
        backed.push(Backed {
            group_resource,
            kind: "RockBand",
            versions: source_versions.to_vec(),
            objects: vec![
                (Some("music"), "beatles".to_owned()),
                (Some("music"), "stones".to_owned()),
            ],
        });
    }
    if with_crds {
        backed.push(Backed {
            group_resource: "customresourcedefinitions.apiextensions.k8s.io",
            kind: "CustomResourceDefinition",
            versions: vec!["v1"],
            objects: crd_names,
        });
    }
    let backup = take_backup(&client, &backed).await;
    source.shutdown().await;
    backup
}

/// Reads a rockband back from the target at a version.
async fn rockband(client: &kube::Client, case: char, version: &str, name: &str) -> Value {
    let group = format!("case-{case}.example.io");
    let object = api(client, &rockbands(&group, version), Some("music"))
        .get(name)
        .await
        .unwrap();
    serde_json::to_value(object).unwrap()
}

#[tokio::test]
async fn cases_a_to_d_restore_the_expected_version() {
    let (_dir, backup) = source_backup(false).await;
    let target = kubesim(Profile::V1_33).await;
    let client = target.client().unwrap();
    for (case, _, target_versions, ..) in CASES {
        let storage = target_versions[0];
        install_crd(
            &client,
            rockbands_crd(&format!("case-{case}.example.io"), target_versions, storage),
        )
        .await;
    }
    let seen = Arc::new(AtomicUsize::new(0));
    let progress_seen = Arc::clone(&seen);
    let options = ExecuteOptions {
        progress: Some(Arc::new(move |p| {
            assert!(p.items_restored <= p.total_items);
            progress_seen.store(p.items_restored, Ordering::SeqCst);
        })),
        ..options()
    };
    let result = restore(&client, &backup, spec("restore-1"), &options).await;
    assert_eq!(
        result.phase,
        Phase::Completed,
        "{:?}\n{:#?}",
        errors(&result),
        result.log
    );
    assert_eq!(
        result.counts.created, 10,
        "8 rockbands, 1 configmap, 1 namespace: {:#?}",
        result.outcomes
    );
    assert_eq!(
        seen.load(Ordering::SeqCst),
        9,
        "progress counts objects, not namespaces"
    );
    for (case, _, _, expected, rule) in CASES {
        let line = format!("rockbands.case-{case}.example.io: restoring {expected} by {rule}");
        assert!(
            result.log.iter().any(|l| l.starts_with(&line)),
            "{line} not in {:#?}",
            result.log
        );
        for name in ["beatles", "stones"] {
            // Read at any served version: the API server answers at the version asked, so only
            // godwit's own managedFields entry tells the version it wrote.
            let object = rockband(&client, case, expected, name).await;
            assert_eq!(
                written_version(&object).as_deref(),
                Some(expected),
                "{object}"
            );
            assert_eq!(object["spec"]["members"], json!(4));
            assert_eq!(
                object["metadata"]["labels"]["velero.io/restore-name"],
                json!("restore-1")
            );
            assert_eq!(
                object["metadata"]["labels"]["velero.io/backup-name"],
                json!("nightly")
            );
            assert_eq!(object["metadata"]["labels"]["genre"], json!("rock"));
            let outcome = result
                .outcome_of(
                    &format!("rockbands.case-{case}.example.io"),
                    Some("music"),
                    name,
                )
                .unwrap();
            assert_eq!(
                (outcome.outcome, outcome.version.as_deref()),
                (Outcome::Created, Some(expected))
            );
        }
    }
    // The namespace came back with its backed-up labels, and the restore labels.
    let namespace = serde_json::to_value(
        api(&client, &namespaces(), None)
            .get("music")
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(namespace["metadata"]["labels"]["team"], json!("band"));
    assert_eq!(
        namespace["metadata"]["labels"]["velero.io/restore-name"],
        json!("restore-1")
    );
    target.shutdown().await;
}

#[tokio::test]
async fn crds_in_the_backup_are_restored_first_then_their_groups_are_decided() {
    let (_dir, backup) = source_backup(true).await;
    let target = kubesim(Profile::V1_33).await;
    let client = target.client().unwrap();
    let result = restore(&client, &backup, spec("restore-crds"), &options()).await;
    assert_eq!(result.phase, Phase::Completed, "{:?}", errors(&result));
    for (case, source_versions, ..) in CASES {
        let gr = format!("rockbands.case-{case}.example.io");
        assert!(
            result
                .log
                .iter()
                .any(|l| l == &format!("{gr}: deferred until CRD {gr} is established")),
            "{:#?}",
            result.log
        );
        // The restored CRD serves the source's versions: its preferred one is the target's now.
        let line = format!(
            "{gr}: restoring {} by target preferred version",
            source_versions[0]
        );
        assert!(
            result.log.iter().any(|l| l.starts_with(&line)),
            "{line}: {:#?}",
            result.log
        );
        let object = rockband(&client, case, source_versions[0], "beatles").await;
        assert_eq!(
            written_version(&object).as_deref(),
            Some(source_versions[0]),
            "{object}"
        );
    }
    assert_eq!(result.counts.created, 4 + 8 + 1 + 1);
    target.shutdown().await;
}

#[tokio::test]
async fn no_common_version_fails_those_objects_and_the_rest_goes_on() {
    let source = kubesim(Profile::V1_33).await;
    let source_client = source.client().unwrap();
    create_namespace(&source_client, "music", json!({})).await;
    install_crd(
        &source_client,
        rockbands_crd("case-c.example.io", &["v1alpha1"], "v1alpha1"),
    )
    .await;
    create(
        &source_client,
        &rockbands("case-c.example.io", "v1alpha1"),
        json!({
        "apiVersion": "case-c.example.io/v1alpha1", "kind": "RockBand",
        "metadata": {"name": "beatles", "namespace": "music"}}),
    )
    .await;
    create(
        &source_client,
        &configmaps(),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "setlist", "namespace": "music"}}),
    )
    .await;
    let (_dir, backup) = take_backup(
        &source_client,
        &[
            Backed {
                group_resource: "configmaps",
                kind: "ConfigMap",
                versions: vec!["v1"],
                objects: vec![(Some("music"), "setlist".to_owned())],
            },
            Backed {
                group_resource: "rockbands.case-c.example.io",
                kind: "RockBand",
                versions: vec!["v1alpha1"],
                objects: vec![(Some("music"), "beatles".to_owned())],
            },
        ],
    )
    .await;
    let target = kubesim(Profile::V1_33).await;
    let client = target.client().unwrap();
    install_crd(
        &client,
        rockbands_crd("case-c.example.io", &["v2", "v1"], "v2"),
    )
    .await;
    let result = restore(&client, &backup, spec("restore-none"), &options()).await;
    assert_eq!(result.phase, Phase::PartiallyFailed);
    assert_eq!(
        result.errors.namespaces["music"],
        [
            "error restoring rockbands.case-c.example.io music/beatles: no common version for \
          rockbands.case-c.example.io: backup has [v1alpha1], cluster serves [v2, v1]; serve one \
          of the backup's versions in the target (for a custom resource, a CRD version), then \
          restore again"
        ]
    );
    assert_eq!(result.errors.len(), 1);
    assert_eq!(
        result
            .outcome_of("configmaps", Some("music"), "setlist")
            .unwrap()
            .outcome,
        Outcome::Created
    );
    assert_eq!(
        result
            .outcome_of("rockbands.case-c.example.io", Some("music"), "beatles")
            .unwrap()
            .outcome,
        Outcome::Failed
    );
    let results = result.results_json();
    assert_eq!(results["errors"]["velero"], json!([]));
    assert_eq!(results["errors"]["cluster"], json!([]));
    source.shutdown().await;
    target.shutdown().await;
}

/// A backup of ConfigMaps, a Secret and a ServiceAccount in `shop`.
async fn shop_backup() -> (tempfile::TempDir, godwit_tarball::ExtractedBackup) {
    let source = kubesim(Profile::V1_33).await;
    let client = source.client().unwrap();
    create_namespace(&client, "shop", json!({"tier": "prod"})).await;
    for (name, value) in [("cart", "1"), ("pay", "2")] {
        create(&client, &configmaps(), json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "shop", "labels": {"app": name}}, "data": {"v": value}})).await;
    }
    create(
        &client,
        &resource("", "v1", "serviceaccounts", "ServiceAccount"),
        json!({
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "builder", "namespace": "shop", "labels": {"from": "backup"}},
        "secrets": [{"name": "s1"}, {"name": "s2"}]}),
    )
    .await;
    let backup = take_backup(
        &client,
        &[
            Backed {
                group_resource: "namespaces",
                kind: "Namespace",
                versions: vec!["v1"],
                objects: vec![(None, "shop".to_owned())],
            },
            Backed {
                group_resource: "configmaps",
                kind: "ConfigMap",
                versions: vec!["v1"],
                objects: vec![
                    (Some("shop"), "cart".to_owned()),
                    (Some("shop"), "pay".to_owned()),
                ],
            },
            Backed {
                group_resource: "serviceaccounts",
                kind: "ServiceAccount",
                versions: vec!["v1"],
                objects: vec![(Some("shop"), "builder".to_owned())],
            },
        ],
    )
    .await;
    source.shutdown().await;
    backup
}

async fn configmap(client: &kube::Client, namespace: &str, name: &str) -> Value {
    serde_json::to_value(
        api(client, &configmaps(), Some(namespace))
            .get(name)
            .await
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn existing_objects_under_none_and_update() {
    let (_dir, backup) = shop_backup().await;
    let target = kubesim(Profile::V1_33).await;
    let client = target.client().unwrap();
    create_namespace(&client, "shop", json!({})).await;
    create(&client, &configmaps(), json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cart", "namespace": "shop", "labels": {"app": "cart"}}, "data": {"v": "live"}})).await;
    create(
        &client,
        &resource("", "v1", "serviceaccounts", "ServiceAccount"),
        json!({
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "builder", "namespace": "shop"}, "secrets": [{"name": "s1"}]}),
    )
    .await;

    let result = restore(&client, &backup, spec("keep"), &options()).await;
    assert_eq!(result.phase, Phase::Completed, "{:?}", errors(&result));
    let cart = result
        .outcome_of("configmaps", Some("shop"), "cart")
        .unwrap();
    assert_eq!(cart.outcome, Outcome::Skipped);
    assert_eq!(
        result.warnings.namespaces["shop"],
        [
            "could not restore, ConfigMap \"cart\" already exists and differs from the backed-up \
          version; restore with --existing-resource-policy=update to patch it"
        ]
    );
    assert_eq!(
        configmap(&client, "shop", "cart").await["data"]["v"],
        json!("live")
    );
    assert_eq!(
        result
            .outcome_of("configmaps", Some("shop"), "pay")
            .unwrap()
            .outcome,
        Outcome::Created
    );
    // ServiceAccounts always merge: the backed-up secret and label are added.
    assert_eq!(
        result
            .outcome_of("serviceaccounts", Some("shop"), "builder")
            .unwrap()
            .outcome,
        Outcome::Updated
    );
    let sa = serde_json::to_value(
        api(
            &client,
            &resource("", "v1", "serviceaccounts", "ServiceAccount"),
            Some("shop"),
        )
        .get("builder")
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(sa["secrets"], json!([{"name": "s1"}, {"name": "s2"}]));
    assert_eq!(sa["metadata"]["labels"]["from"], json!("backup"));

    let mut update = spec("update");
    update.existing_resource_policy = ExistingResourcePolicy::Update;
    let result = restore(&client, &backup, update, &options()).await;
    assert_eq!(result.phase, Phase::Completed, "{:?}", errors(&result));
    assert_eq!(
        result
            .outcome_of("configmaps", Some("shop"), "cart")
            .unwrap()
            .outcome,
        Outcome::Updated
    );
    let cart = configmap(&client, "shop", "cart").await;
    assert_eq!(cart["data"]["v"], json!("1"));
    assert_eq!(
        cart["metadata"]["labels"]["velero.io/restore-name"],
        json!("update")
    );
    // `pay` was restored by the first restore and matches the backup: left alone.
    assert_eq!(
        result
            .outcome_of("configmaps", Some("shop"), "pay")
            .unwrap()
            .outcome,
        Outcome::Skipped
    );
    assert_eq!(
        configmap(&client, "shop", "pay").await["metadata"]["labels"]["velero.io/restore-name"],
        json!("keep")
    );
    target.shutdown().await;
}

#[tokio::test]
async fn namespace_mapping_moves_objects_and_creates_the_namespace() {
    let (_dir, backup) = shop_backup().await;
    let target = kubesim(Profile::V1_33).await;
    let client = target.client().unwrap();
    let mut spec = spec("moved");
    spec.namespace_mapping = [("shop".to_owned(), "shop-copy".to_owned())].into();
    let result = restore(&client, &backup, spec, &options()).await;
    assert_eq!(result.phase, Phase::Completed, "{:?}", errors(&result));
    assert_eq!(
        configmap(&client, "shop-copy", "cart").await["data"]["v"],
        json!("1")
    );
    let namespace = serde_json::to_value(
        api(&client, &namespaces(), None)
            .get("shop-copy")
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(namespace["metadata"]["labels"]["tier"], json!("prod"));
    assert!(
        api(&client, &namespaces(), None)
            .get_opt("shop")
            .await
            .unwrap()
            .is_none()
    );
    target.shutdown().await;
}

/// Every object of a namespace: name and resourceVersion.
async fn versions_in(client: &kube::Client, namespace: &str) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    for resource in [
        configmaps(),
        resource("", "v1", "serviceaccounts", "ServiceAccount"),
    ] {
        let list = api(client, &resource, Some(namespace))
            .list(&Default::default())
            .await
            .unwrap();
        for object in list.items {
            seen.push((
                format!("{}/{}", resource.plural, object.metadata.name.unwrap()),
                object.metadata.resource_version.unwrap(),
            ));
        }
    }
    seen.sort();
    seen
}

#[tokio::test]
async fn restoring_twice_changes_nothing_the_second_time() {
    let (_dir, backup) = shop_backup().await;
    let target = kubesim(Profile::V1_33).await;
    let client = target.client().unwrap();
    let first = restore(&client, &backup, spec("first"), &options()).await;
    assert_eq!(first.phase, Phase::Completed, "{:?}", errors(&first));
    let before = versions_in(&client, "shop").await;
    let second = restore(&client, &backup, spec("second"), &options()).await;
    assert_eq!(second.phase, Phase::Completed, "{:?}", errors(&second));
    assert!(second.warnings.is_empty(), "{:?}", second.warnings);
    assert_eq!(second.counts.created, 0);
    assert_eq!(second.counts.updated, 0);
    assert_eq!(versions_in(&client, "shop").await, before);
    // Run again under the first restore's name (a restarted restore, or a retried create whose
    // first attempt was applied): its own objects count as created, and nothing is written.
    let again = restore(&client, &backup, spec("first"), &options()).await;
    assert_eq!(again.phase, Phase::Completed, "{:?}", errors(&again));
    assert_eq!(
        again
            .outcome_of("configmaps", Some("shop"), "cart")
            .unwrap()
            .outcome,
        Outcome::Created
    );
    assert_eq!(again.counts.updated, 0);
    assert_eq!(versions_in(&client, "shop").await, before);
    target.shutdown().await;
}

#[tokio::test]
async fn under_injected_faults_every_object_is_restored_exactly_once() {
    let source = kubesim(Profile::V1_33).await;
    let source_client = source.client().unwrap();
    create_namespace(&source_client, "load", json!({})).await;
    let names: Vec<String> = (0..150).map(|i| format!("cm-{i:03}")).collect();
    for name in &names {
        create(
            &source_client,
            &configmaps(),
            json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "load"}, "data": {"n": name}}),
        )
        .await;
    }
    let (_dir, backup) = take_backup(
        &source_client,
        &[Backed {
            group_resource: "configmaps",
            kind: "ConfigMap",
            versions: vec!["v1"],
            objects: names.iter().map(|n| (Some("load"), n.clone())).collect(),
        }],
    )
    .await;
    source.shutdown().await;

    let target = kubesim(Profile::V1_33).await;
    // godwit's client: kube's own retries are off, so every fault below is retried by
    // godwit-client's policy, and counted there.
    let retries = godwit_client::Retries::default();
    let client = godwit_client(
        &target,
        godwit_client::RequestPolicy {
            initial_backoff: std::time::Duration::from_millis(5),
            max_attempts: 12,
            ..Default::default()
        },
        &retries,
    )
    .await;
    let faults = target.faults();
    for fault in [
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
        Fault::ServerError { code: 500 },
        Fault::DropConnection,
    ] {
        faults.add(FaultRule {
            fault,
            fraction: 0.1,
            path_contains: Some("/configmaps".to_owned()),
            method: None,
        });
    }
    let result = restore(&client, &backup, spec("faulty"), &options()).await;
    let injected = faults.injected();
    assert!(injected > 10, "only {injected} faults injected");
    faults.clear();
    assert_eq!(
        retries.count(),
        injected as u64,
        "each fault retried once, by godwit"
    );
    assert_eq!(result.phase, Phase::Completed, "{:?}", errors(&result));
    // 150 ConfigMaps and their namespace.
    assert_eq!(result.counts.created, 151, "{:#?}", result.counts);
    assert_eq!(
        result.counts.updated + result.counts.skipped + result.counts.failed,
        0
    );
    let list = api(&client, &configmaps(), Some("load"))
        .list(&Default::default())
        .await
        .unwrap();
    // Everything but what the controller manager keeps in every namespace.
    let ours: Vec<&kube::api::DynamicObject> = list
        .items
        .iter()
        .filter(|o| o.metadata.name.as_deref() != Some("kube-root-ca.crt"))
        .collect();
    let mut restored: Vec<String> = ours
        .iter()
        .map(|o| o.metadata.name.clone().unwrap())
        .collect();
    restored.sort();
    assert_eq!(restored, names);
    for object in ours {
        let labels = object.metadata.labels.clone().unwrap();
        assert_eq!(labels["velero.io/restore-name"], "faulty");
        assert_eq!(
            object.data["data"]["n"],
            json!(object.metadata.name.clone().unwrap())
        );
    }
    // Nothing else changed: the seeded namespaces are still the only others.
    let namespaces_now: Vec<String> = api(&client, &namespaces(), None)
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|o| o.metadata.name.unwrap())
        .collect();
    assert_eq!(namespaces_now.len(), 5, "{namespaces_now:?}");
    target.shutdown().await;
}

/// A server that does not serve a path yet (a CRD restored a moment ago, another server behind
/// a load balancer) answers a bare `404 page not found`; a create meeting one is sent again for
/// a few seconds, and fails naming the answer when the path never appears.
#[tokio::test]
async fn a_create_answered_page_not_found_is_sent_again() {
    let (_dir, backup) = shop_backup().await;
    let target = kubesim(Profile::V1_33).await;
    let client = target.client().unwrap();
    let faults = target.faults();
    let rule = |fraction| FaultRule {
        fault: Fault::PageNotFound,
        fraction,
        path_contains: Some("/configmaps".to_owned()),
        method: Some("POST".to_owned()),
    };

    // Some of the creates meet it: each is sent again and restored.
    faults.add(rule(0.5));
    let result = restore(&client, &backup, spec("sometimes"), &options()).await;
    let injected = faults.injected();
    faults.clear();
    assert!(injected > 0, "no create met a 404");
    assert_eq!(result.phase, Phase::Completed, "{:?}", errors(&result));
    for name in ["cart", "pay"] {
        assert_eq!(
            result
                .outcome_of("configmaps", Some("shop"), name)
                .unwrap()
                .outcome,
            Outcome::Created
        );
        assert_eq!(
            configmap(&client, "shop", name).await["metadata"]["name"],
            name
        );
    }

    // Every create meets it: asked again five times in all, then the object fails with the
    // server's answer and the rest of the restore goes on.
    let before = faults.injected();
    faults.add(rule(1.0));
    let mut moved = spec("never");
    moved.namespace_mapping = [("shop".to_owned(), "shop3".to_owned())].into();
    let result = restore(&client, &backup, moved, &options()).await;
    let injected = faults.injected() - before;
    faults.clear();
    assert_eq!(injected, 10, "two ConfigMaps, five attempts each");
    assert_eq!(result.phase, Phase::PartiallyFailed);
    let failed = result
        .outcome_of("configmaps", Some("shop"), "cart")
        .unwrap();
    assert_eq!(failed.outcome, Outcome::Failed);
    assert!(
        failed
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("404 page not found"),
        "{failed:?}"
    );
    assert_eq!(
        result
            .outcome_of("serviceaccounts", Some("shop"), "builder")
            .unwrap()
            .outcome,
        Outcome::Created
    );
    target.shutdown().await;
}

#[tokio::test]
async fn a_missing_priorities_configmap_is_fine_and_user_priorities_are_read() {
    let (_dir, backup) = source_backup(false).await;
    let (target, client) = case_d_target_with_priorities(json!({
        "restoreResourcesVersionPriority": "rockbands.case-d.example.io=v2beta1\nnonsense\n"
    }))
    .await;
    let mut spec = spec("user");
    spec.included_resources = vec!["rockbands.case-d.example.io".to_owned()];
    let result = restore(&client, &backup, spec, &options()).await;
    assert_eq!(result.phase, Phase::Completed, "{:?}", errors(&result));
    assert!(
        result
            .log
            .iter()
            .any(|l| l
                .starts_with("rockbands.case-d.example.io: restoring v2beta1 by user priority")),
        "{:#?}",
        result.log
    );
    assert_eq!(result.warnings.velero.len(), 1, "{:?}", result.warnings);
    assert!(result.warnings.velero[0].contains("\"nonsense\""));
    let object = rockband(&client, 'd', "v2", "beatles").await;
    assert_eq!(
        written_version(&object).as_deref(),
        Some("v2beta1"),
        "{object}"
    );
    target.shutdown().await;
}

/// A 1.33 kubesim serving case D's CRD, with an `enableapigroupversions` ConfigMap holding
/// `data` in the server namespace.
async fn case_d_target_with_priorities(data: Value) -> (godwit_kubesim::Running, kube::Client) {
    let target = kubesim(Profile::V1_33).await;
    let client = target.client().unwrap();
    install_crd(
        &client,
        rockbands_crd("case-d.example.io", &["v2", "v2beta2", "v2beta1"], "v2"),
    )
    .await;
    create_namespace(&client, "velero", json!({})).await;
    create(
        &client,
        &configmaps(),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "enableapigroupversions", "namespace": "velero"},
               "data": data}),
    )
    .await;
    (target, client)
}

/// The ConfigMap without its key is not silently "no priorities": a warning names both.
#[tokio::test]
async fn a_priorities_configmap_without_the_key_is_a_warning() {
    let (_dir, backup) = source_backup(false).await;
    let (target, client) = case_d_target_with_priorities(json!({
        "priorities": "rockbands.case-d.example.io=v2beta1\n"
    }))
    .await;
    let mut spec = spec("no-key");
    spec.included_resources = vec!["rockbands.case-d.example.io".to_owned()];
    let result = restore(&client, &backup, spec, &options()).await;
    assert_eq!(result.phase, Phase::Completed, "{:?}", errors(&result));
    assert_eq!(
        result.warnings.velero,
        [
            "ConfigMap velero/enableapigroupversions has no key restoreResourcesVersionPriority, \
          so no user version priorities apply; put them under that key, one \
          <resource>.<group>=<version>,... line each"
        ]
    );
    // Case D's rule 3, not the priority the misplaced line asked for.
    let object = rockband(&client, 'd', "v2", "beatles").await;
    assert_eq!(
        written_version(&object).as_deref(),
        Some("v2beta2"),
        "{object}"
    );
    target.shutdown().await;
}

/// `restoreStatus` writes the backed-up status back through the status subresource for the
/// resources it selects, and only those.
#[tokio::test]
async fn restore_status_writes_the_selected_statuses() {
    let group = "status.example.io";
    let source = kubesim(Profile::V1_33).await;
    let source_client = source.client().unwrap();
    create_namespace(&source_client, "music", json!({})).await;
    let mut crd = rockbands_crd(group, &["v1"], "v1");
    crd["spec"]["versions"][0]["subresources"] = json!({"status": {}});
    install_crd(&source_client, crd.clone()).await;
    create(
        &source_client,
        &rockbands(group, "v1"),
        json!({"apiVersion": format!("{group}/v1"), "kind": "RockBand",
               "metadata": {"name": "beatles", "namespace": "music"}, "spec": {"members": 4}}),
    )
    .await;
    api(&source_client, &rockbands(group, "v1"), Some("music"))
        .patch_status(
            "beatles",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({"status": {"touring": true}})),
        )
        .await
        .unwrap();
    let (_dir, backup) = take_backup(
        &source_client,
        &[Backed {
            group_resource: "rockbands.status.example.io",
            kind: "RockBand",
            versions: vec!["v1"],
            objects: vec![(Some("music"), "beatles".to_owned())],
        }],
    )
    .await;
    source.shutdown().await;
    for (selection, expected) in [
        (None, Value::Null),
        (
            Some(godwit_restore::ResourceSelection {
                included: vec!["rockbands".to_owned()],
                excluded: Vec::new(),
            }),
            json!({"touring": true}),
        ),
        (
            Some(godwit_restore::ResourceSelection {
                included: vec!["*".to_owned()],
                excluded: vec!["rockbands.status.example.io".to_owned()],
            }),
            Value::Null,
        ),
    ] {
        let target = kubesim(Profile::V1_33).await;
        let client = target.client().unwrap();
        install_crd(&client, crd.clone()).await;
        let mut spec = spec("status");
        spec.restore_status = selection.clone();
        let result = restore(&client, &backup, spec, &options()).await;
        assert_eq!(result.phase, Phase::Completed, "{:?}", errors(&result));
        assert!(
            result.warnings.all().next().is_none(),
            "{:?}",
            result.warnings
        );
        let object = rockband_at(&client, group, "v1").await;
        assert_eq!(object["status"], expected, "{selection:?}");
        target.shutdown().await;
    }
}

#[tokio::test]
async fn dry_run_plans_without_touching_the_target() {
    let (_dir, backup) = source_backup(true).await;
    let target = kubesim(Profile::V1_33).await;
    let client = target.client().unwrap();
    install_crd(
        &client,
        rockbands_crd("case-d.example.io", &["v2", "v2beta2", "v2beta1"], "v2"),
    )
    .await;
    let plan = godwit_restore::dry_run(&client, &backup, spec("dry"), &options())
        .await
        .unwrap();
    let decision = |gr: &str| {
        plan.tiers
            .iter()
            .find(|t| t.group_resource.to_string() == gr)
            .unwrap()
            .decision
            .clone()
    };
    assert!(matches!(
        decision("rockbands.case-a.example.io"),
        godwit_restore::Decision::Deferred { .. }
    ));
    let d = decision("rockbands.case-d.example.io");
    assert_eq!(d.choice().unwrap().version, "v2beta2");
    assert!(
        plan.render_table()
            .contains("highest common non-preferred version (priority 3)")
    );
    // Nothing was written: no namespace, no CRD besides the one installed here.
    assert!(
        api(&client, &namespaces(), None)
            .get_opt("music")
            .await
            .unwrap()
            .is_none()
    );
    let crd_count = api(&client, &crds(), None)
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(crd_count, 1);
    target.shutdown().await;
}

#[tokio::test]
async fn failing_to_read_the_priorities_configmap_fails_the_restore() {
    let (_dir, backup) = shop_backup().await;
    let target = kubesim(Profile::V1_33).await;
    let retries = godwit_client::Retries::default();
    let client = godwit_client(
        &target,
        godwit_client::RequestPolicy {
            initial_backoff: std::time::Duration::from_millis(1),
            max_attempts: 3,
            ..Default::default()
        },
        &retries,
    )
    .await;
    target.faults().add(FaultRule {
        fault: Fault::ServerError { code: 500 },
        fraction: 1.0,
        path_contains: Some("/configmaps/enableapigroupversions".to_owned()),
        method: None,
    });
    let result = restore(&client, &backup, spec("unreadable"), &options()).await;
    assert_eq!(retries.count(), 2, "three attempts");
    assert_eq!(result.phase, Phase::Failed);
    assert_eq!(result.errors.velero.len(), 1);
    assert!(
        result.errors.velero[0].starts_with("cannot read configmap velero/enableapigroupversions"),
        "{:?}",
        result.errors
    );
    assert_eq!(result.counts.created, 0);
    assert!(
        api(&client, &namespaces(), None)
            .get_opt("shop")
            .await
            .unwrap()
            .is_none()
    );
    target.shutdown().await;
}

/// godwit writes as its own field manager and, the backup holding server-side-apply ownership,
/// puts the backed-up managedFields back: the entries the target can read stay as they were, one
/// at a version the target does not serve is left out, and godwit's own entry owns only what no
/// backed-up manager owns.
#[tokio::test]
async fn restored_objects_keep_the_field_owners_the_target_can_read() {
    let group = "owners.example.io";
    let source = kubesim(Profile::V1_33).await;
    let source_client = source.client().unwrap();
    create_namespace(&source_client, "music", json!({})).await;
    install_crd(&source_client, rockbands_crd(group, &["v2", "v1"], "v2")).await;
    // Written first at v1 (the default manager), then at v2 by helm.
    create(
        &source_client,
        &rockbands(group, "v1"),
        json!({"apiVersion": format!("{group}/v1"), "kind": "RockBand",
               "metadata": {"name": "beatles", "namespace": "music"},
               "spec": {"members": 4}}),
    )
    .await;
    let helm = kube::api::PatchParams {
        field_manager: Some("helm".to_owned()),
        ..Default::default()
    };
    let bands = api(&source_client, &rockbands(group, "v2"), Some("music"));
    bands
        .patch(
            "beatles",
            &helm,
            &kube::api::Patch::Merge(json!({"spec": {"genre": "rock"}})),
        )
        .await
        .unwrap();
    // kubesim has no server-side apply: the entry is made an apply entry by hand.
    let mut entries = serde_json::to_value(bands.get("beatles").await.unwrap()).unwrap()
        ["metadata"]["managedFields"]
        .clone();
    for entry in entries.as_array_mut().unwrap() {
        if entry["manager"] == "helm" {
            entry["operation"] = json!("Apply");
        }
    }
    bands
        .patch(
            "beatles",
            &helm,
            &kube::api::Patch::Merge(json!({"metadata": {"managedFields": entries}})),
        )
        .await
        .unwrap();
    let (_dir, backup) = take_backup(
        &source_client,
        &[Backed {
            group_resource: "rockbands.owners.example.io",
            kind: "RockBand",
            versions: vec!["v2", "v1"],
            objects: vec![(Some("music"), "beatles".to_owned())],
        }],
    )
    .await;
    let backed_up = rockband_at(&source_client, group, "v2").await;
    let helm_entry = backed_up["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["manager"] == "helm")
        .cloned()
        .unwrap();
    source.shutdown().await;

    // The target serves v2 only: the entry written at v1 cannot be read there.
    let target = kubesim(Profile::V1_33).await;
    let client = target.client().unwrap();
    install_crd(&client, rockbands_crd(group, &["v2"], "v2")).await;
    let result = restore(&client, &backup, spec("owners"), &options()).await;
    assert_eq!(result.phase, Phase::Completed, "{:?}", errors(&result));
    assert!(
        result.warnings.all().next().is_none(),
        "{:?}",
        result.warnings
    );
    let restored = rockband_at(&client, group, "v2").await;
    let entries = restored["metadata"]["managedFields"].as_array().unwrap();
    let managers: Vec<&str> = entries
        .iter()
        .map(|entry| entry["manager"].as_str().unwrap())
        .collect();
    assert_eq!(managers, ["helm", "godwit"], "{entries:#?}");
    assert_eq!(entries[0], helm_entry);
    let ours = &entries[1];
    assert_eq!(ours["apiVersion"], format!("{group}/v2"));
    assert_eq!(ours["operation"], "Update");
    let fields = &ours["fieldsV1"];
    assert!(
        fields["f:metadata"]["f:labels"]
            .get("f:velero.io/restore-name")
            .is_some(),
        "{fields}"
    );
    // spec.genre stays helm's; spec.members, whose v1 owner was left out, is godwit's now.
    assert!(fields["f:spec"].get("f:genre").is_none(), "{fields}");
    assert!(fields["f:spec"].get("f:members").is_some(), "{fields}");
    target.shutdown().await;
}

async fn rockband_at(client: &kube::Client, group: &str, version: &str) -> Value {
    let object = api(client, &rockbands(group, version), Some("music"))
        .get("beatles")
        .await
        .unwrap();
    serde_json::to_value(object).unwrap()
}

fn persistent_volumes() -> kube::api::ApiResource {
    resource("", "v1", "persistentvolumes", "PersistentVolume")
}

fn persistent_volume_claims() -> kube::api::ApiResource {
    resource("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim")
}

/// A source with PV `vol` bound to claim `shop/data`, and its backup (both objects).
async fn volume_backup() -> (tempfile::TempDir, godwit_tarball::ExtractedBackup) {
    let source = kubesim(Profile::V1_33).await;
    let client = source.client().unwrap();
    create_namespace(&client, "shop", json!({})).await;
    create(
        &client,
        &persistent_volumes(),
        json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "vol"},
               "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                        "hostPath": {"path": "/tmp/vol"},
                        "claimRef": {"namespace": "shop", "name": "data", "uid": "u-1"}}}),
    )
    .await;
    create(
        &client,
        &persistent_volume_claims(),
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
               "metadata": {"name": "data", "namespace": "shop", "labels": {"app": "db"}},
               "spec": {"accessModes": ["ReadWriteOnce"], "volumeName": "vol",
                        "resources": {"requests": {"storage": "1Gi"}}}}),
    )
    .await;
    let bound = kube::api::Patch::Merge(json!({"status": {"phase": "Bound"}}));
    let params = kube::api::PatchParams::default();
    api(&client, &persistent_volumes(), None)
        .patch_status("vol", &params, &bound)
        .await
        .unwrap();
    api(&client, &persistent_volume_claims(), Some("shop"))
        .patch_status("data", &params, &bound)
        .await
        .unwrap();
    let backup = take_backup(
        &client,
        &[
            Backed {
                group_resource: "persistentvolumes",
                kind: "PersistentVolume",
                versions: vec!["v1"],
                objects: vec![(None, "vol".to_owned())],
            },
            Backed {
                group_resource: "persistentvolumeclaims",
                kind: "PersistentVolumeClaim",
                versions: vec!["v1"],
                objects: vec![(Some("shop"), "data".to_owned())],
            },
        ],
    )
    .await;
    source.shutdown().await;
    backup
}

/// The target already has a PV named `vol`, so moving its claim renames the restored one.
async fn target_with_volume() -> godwit_kubesim::Running {
    let target = kubesim(Profile::V1_33).await;
    create(
        &target.client().unwrap(),
        &persistent_volumes(),
        json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "vol"},
               "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                        "hostPath": {"path": "/tmp/other"}}}),
    )
    .await;
    target
}

fn one_namespace_moved(name: &str) -> RestoreSpec {
    let mut spec = spec(name);
    spec.included_namespaces = vec!["shop".to_owned()];
    spec.label_selector = Some(godwit_restore::LabelSelector {
        match_labels: [("app".to_owned(), "db".to_owned())].into(),
        match_expressions: Vec::new(),
    });
    spec.namespace_mapping = [("shop".to_owned(), "shop2".to_owned())].into();
    spec
}

/// A restore of one namespace (and a label selector) leaves the claim's volume out by the
/// filters; Velero restores it all the same as the claim's additional item, and so does godwit,
/// renamed (SPEC section 6) with the claim pointing at the new name.
#[tokio::test]
async fn a_claims_volume_is_restored_with_it_when_the_filters_leave_it_out() {
    let (_dir, backup) = volume_backup().await;
    let target = target_with_volume().await;
    let client = target.client().unwrap();
    let result = restore(&client, &backup, one_namespace_moved("moved"), &options()).await;
    assert_eq!(result.phase, Phase::Completed, "{:?}", errors(&result));
    let claim = serde_json::to_value(
        api(&client, &persistent_volume_claims(), Some("shop2"))
            .get("data")
            .await
            .unwrap(),
    )
    .unwrap();
    let volume_name = claim["spec"]["volumeName"].as_str().unwrap().to_owned();
    assert!(volume_name.starts_with("velero-clone-"), "{volume_name}");
    let volume = serde_json::to_value(
        api(&client, &persistent_volumes(), None)
            .get(&volume_name)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        volume["metadata"]["annotations"]["velero.io/original-pv-name"],
        "vol"
    );
    assert_eq!(volume["spec"]["claimRef"]["namespace"], "shop2");
    assert!(
        result.log.iter().any(|line| line
            == "persistentvolumes vol is restored because persistentvolumeclaims shop/data needs \
                it (the filters left it out: cluster-scoped, and only some namespaces are \
                restored (set --include-cluster-resources to restore it))"),
        "{:#?}",
        result.log
    );
    target.shutdown().await;
}

/// When the claim's volume cannot be created, the claim fails too: it must not name a volume
/// that was never created (the original name belongs to another volume in the target).
#[tokio::test]
async fn a_claim_whose_volume_failed_fails_too() {
    let (_dir, backup) = volume_backup().await;
    let target = target_with_volume().await;
    let client = godwit_client(
        &target,
        godwit_client::RequestPolicy {
            initial_backoff: std::time::Duration::from_millis(5),
            max_attempts: 2,
            ..Default::default()
        },
        &godwit_client::Retries::default(),
    )
    .await;
    target.faults().add(FaultRule {
        fault: Fault::ServerError { code: 500 },
        fraction: 1.0,
        path_contains: Some("/api/v1/persistentvolumes".to_owned()),
        method: Some("POST".to_owned()),
    });
    let result = restore(&client, &backup, one_namespace_moved("failing"), &options()).await;
    target.faults().clear();
    assert_eq!(result.phase, Phase::PartiallyFailed);
    let claim = result
        .outcome_of("persistentvolumeclaims", Some("shop"), "data")
        .unwrap();
    assert_eq!(claim.outcome, Outcome::Failed);
    assert!(
        claim
            .message
            .as_deref()
            .is_some_and(|m| m.contains("its PersistentVolume vol could not be restored")),
        "{claim:?}"
    );
    assert!(
        api(&client, &persistent_volume_claims(), Some("shop2"))
            .get_opt("data")
            .await
            .unwrap()
            .is_none()
    );
    target.shutdown().await;
}

/// Without server-side-apply ownership in the backup, the create's entry is the object's:
/// one request per object, and the version written is still godwit's entry's.
#[tokio::test]
async fn update_owners_alone_cost_no_second_request() {
    let (_dir, backup) = shop_backup().await;
    let target = kubesim(Profile::V1_33).await;
    let client = target.client().unwrap();
    let result = restore(&client, &backup, spec("one-request"), &options()).await;
    assert_eq!(result.phase, Phase::Completed, "{:?}", errors(&result));
    let cart = configmap(&client, "shop", "cart").await;
    let managers: Vec<&str> = cart["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|entry| entry["manager"].as_str())
        .collect();
    assert_eq!(managers, ["godwit"], "{cart}");
    assert_eq!(written_version(&cart).as_deref(), Some("v1"));
    target.shutdown().await;
}
