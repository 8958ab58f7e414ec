//! `run_backup` against kubesim: a namespace with built-in resources and a CRD serving three
//! versions, backed up with and without `EnableAPIGroupVersions` on both kubesim profiles
//! (snapshots of the tarball's paths and the resource list), a group whose discovery answers 503,
//! label selectors, and specs that fail validation naming their field.

#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use godwit_backup::{BackupOptions, BackupOutcome, BackupSpec, Error, Phase, Progress, run_backup};
use godwit_kubesim::{Fault, FaultRule, Options, Profile, Running};
use godwit_tarball::{Limits, VersionDir};
use godwit_versioning::GroupResource;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use serde::Serialize;
use serde_json::{Value, json};

/// A client that does not retry 503 answers (kube's default client retries them for minutes).
fn client_without_retries(server: &Running) -> kube::Client {
    let uri: http::Uri = server.url().parse().unwrap();
    let mut config = kube::Config::new(uri);
    config.default_retry = false;
    config.auth_info = serde_json::from_value(json!({ "token": server.token() })).unwrap();
    kube::Client::try_from(config).unwrap()
}

async fn create(client: &kube::Client, api_version: &str, plural: &str, object: Value) {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let resource = ApiResource {
        group: group.to_owned(),
        version: version.to_owned(),
        api_version: api_version.to_owned(),
        kind: object["kind"].as_str().unwrap().to_owned(),
        plural: plural.to_owned(),
    };
    let object: DynamicObject = serde_json::from_value(object).unwrap();
    let api: Api<DynamicObject> = match object.metadata.namespace.as_deref() {
        Some(namespace) => Api::namespaced_with(client.clone(), namespace, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    api.create(&PostParams::default(), &object).await.unwrap();
}

/// Starts kubesim with the three-version CRD and a `music` namespace holding built-in objects and
/// two rock bands, plus objects that must stay out of a backup of `music`.
async fn cluster(profile: Profile) -> (Running, kube::Client) {
    let server = godwit_kubesim::start(Options {
        profile,
        ..Default::default()
    })
    .await
    .unwrap();
    let client = client_without_retries(&server);

    let crd: CustomResourceDefinition = godwit_fixtures::read_json("crds/rockbands.json");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(&PostParams::default(), &crd).await.unwrap();
    let mut established = false;
    for _ in 0..100 {
        let live = crds.get("rockbands.music.example.io").await.unwrap();
        established = live
            .status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True");
        if established {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        established,
        "rockbands.music.example.io never became established"
    );

    let meta = |name: &str| json!({"name": name, "namespace": "music"});
    create(
        &client,
        "v1",
        "namespaces",
        json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "music", "labels": {"team": "music"}}
        }),
    )
    .await;
    create(
        &client,
        "v1",
        "configmaps",
        json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("setlist"),
            "data": {"opener": "Come Together"}
        }),
    )
    .await;
    let mut skipped = meta("scratch");
    skipped["labels"] = json!({"velero.io/exclude-from-backup": "true"});
    create(
        &client,
        "v1",
        "configmaps",
        json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": skipped
        }),
    )
    .await;
    create(
        &client,
        "apps/v1",
        "deployments",
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("web"),
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}
                }
            }
        }),
    )
    .await;
    create(&client, "autoscaling/v1", "horizontalpodautoscalers", json!({
        "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": meta("web"),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1, "maxReplicas": 3
        }
    }))
    .await;
    for (name, era) in [("beatles", "60s"), ("oasis", "90s")] {
        let mut metadata = meta(name);
        metadata["labels"] = json!({"era": era});
        create(
            &client,
            "music.example.io/v2beta1",
            "rockbands",
            json!({
                "apiVersion": "music.example.io/v2beta1", "kind": "RockBand", "metadata": metadata,
                "spec": {"leadSinger": name}
            }),
        )
        .await;
    }
    create(
        &client,
        "v1",
        "configmaps",
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "elsewhere", "namespace": "default"}
        }),
    )
    .await;
    related_objects(&client).await;
    (server, client)
}

/// A pod with a bound claim and a priority class: Velero's pod and PVC actions pull the claim,
/// its volume and the class in.
async fn related_objects(client: &kube::Client) {
    create(
        client,
        "scheduling.k8s.io/v1",
        "priorityclasses",
        json!({
            "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": "high"}, "value": 1000
        }),
    )
    .await;
    create(
        client,
        "v1",
        "persistentvolumes",
        json!({
            "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-data"},
            "spec": {
                "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                "hostPath": {"path": "/data"},
                "claimRef": {"namespace": "music", "name": "data"}
            }
        }),
    )
    .await;
    create(
        client,
        "v1",
        "persistentvolumeclaims",
        json!({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {
                "name": "data", "namespace": "music",
                "labels": {"velero.io/restore-name": "earlier-restore"}
            },
            "spec": {
                "accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
                "resources": {"requests": {"storage": "1Gi"}}, "volumeName": "pv-data",
                "dataSource": {"kind": "PersistentVolumeClaim", "name": "seed"}
            }
        }),
    )
    .await;
    let claims: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        "music",
        &ApiResource {
            group: String::new(),
            version: "v1".to_owned(),
            api_version: "v1".to_owned(),
            kind: "PersistentVolumeClaim".to_owned(),
            plural: "persistentvolumeclaims".to_owned(),
        },
    );
    let bound = Patch::Merge(json!({"status": {"phase": "Bound"}}));
    claims
        .patch_status("data", &PatchParams::default(), &bound)
        .await
        .unwrap();
    create(
        client,
        "v1",
        "pods",
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-0", "namespace": "music", "labels": {"app": "web"}},
            "spec": {
                "priorityClassName": "high",
                "containers": [{"name": "web", "image": "nginx:1.27"}],
                "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
            }
        }),
    )
    .await;
}

fn music() -> BackupSpec {
    BackupSpec {
        included_namespaces: vec!["music".to_owned()],
        ..Default::default()
    }
}

struct Backup {
    tarball: Vec<u8>,
    outcome: BackupOutcome,
    progress: Vec<Progress>,
}

async fn backup(client: &kube::Client, spec: &BackupSpec, all_versions: bool) -> Backup {
    let progress = Arc::new(Mutex::new(Vec::new()));
    let updates = Arc::clone(&progress);
    let options = BackupOptions {
        enable_api_group_versions: all_versions,
        // One object per page, so every list pages with `continue`.
        page_size: 1,
        ..Default::default()
    };
    let (tarball, outcome) = run_backup(client, spec, &options, Vec::new(), move |p| {
        updates.lock().unwrap().push(p)
    })
    .await
    .unwrap();
    let progress = progress.lock().unwrap().clone();
    Backup {
        tarball,
        outcome,
        progress,
    }
}

/// The entry paths, sorted (lists run concurrently, so write order varies).
fn paths(tarball: &[u8]) -> Vec<String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tarball));
    let mut paths: Vec<String> = archive
        .entries()
        .unwrap()
        .map(|entry| {
            entry
                .unwrap()
                .path()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    paths.sort();
    paths
}

/// One entry's JSON.
fn entry(tarball: &[u8], path: &str) -> Value {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tarball));
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_string_lossy() == path {
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            return serde_json::from_str(&text).unwrap();
        }
    }
    panic!("no entry {path}");
}

#[derive(Serialize)]
struct Snapshot<'a> {
    paths: Vec<String>,
    resource_list: &'a godwit_backup::ResourceList,
    items_backed_up: u64,
    item_versions: u64,
}

fn snapshot(backup: &Backup) -> Snapshot<'_> {
    Snapshot {
        paths: paths(&backup.tarball),
        resource_list: &backup.outcome.resource_list,
        items_backed_up: backup.outcome.items_backed_up,
        item_versions: backup.outcome.item_versions,
    }
}

fn assert_clean(backup: &Backup) {
    let outcome = &backup.outcome;
    assert_eq!(outcome.phase, Phase::Completed, "{:#?}", outcome.errors);
    assert!(outcome.errors.is_empty(), "{:#?}", outcome.errors);
    assert!(outcome.warnings.is_empty(), "{:#?}", outcome.warnings);
    // Progress reached the end and agrees with the outcome.
    let last = backup.progress.last().unwrap();
    assert_eq!(last.items_written, outcome.item_versions);
    assert_eq!(last.lists_done, last.lists_total);
    assert_eq!(outcome.tarball.objects, outcome.item_versions);
}

fn rockbands() -> GroupResource {
    GroupResource::parse("rockbands.music.example.io").unwrap()
}

#[tokio::test]
async fn backs_up_a_namespace_in_preferred_versions() {
    for profile in [Profile::V1_25, Profile::V1_33] {
        let (server, client) = cluster(profile).await;
        let backup = backup(&client, &music(), false).await;
        assert_clean(&backup);
        insta::assert_yaml_snapshot!(format!("preferred_versions_{profile}"), snapshot(&backup));

        // Stored as the server returns it, apiVersion and kind filled in, status kept.
        let deployment = entry(
            &backup.tarball,
            "resources/deployments.apps/namespaces/music/web.json",
        );
        assert_eq!(deployment["apiVersion"], "apps/v1");
        assert_eq!(deployment["kind"], "Deployment");
        assert!(deployment["metadata"]["uid"].is_string());
        let band = entry(
            &backup.tarball,
            "resources/rockbands.music.example.io/v1-preferredversion/namespaces/music/beatles.json",
        );
        assert_eq!(band["apiVersion"], "music.example.io/v1");
        assert_eq!(band["spec"]["leadSinger"], "beatles");
        // A volume pulled in by its claim reports the version it was read at.
        let volumes =
            &backup.outcome.group_resources[&GroupResource::parse("persistentvolumes").unwrap()];
        assert_eq!(
            (volumes.preferred_version.as_str(), volumes.items),
            ("v1", 1)
        );
        // The PVC action's clean-up.
        let claim = entry(
            &backup.tarball,
            "resources/persistentvolumeclaims/namespaces/music/data.json",
        );
        assert!(claim["spec"].get("dataSource").is_none(), "{claim}");
        assert!(claim["metadata"].get("labels").is_none(), "{claim}");
        assert_eq!(claim["spec"]["volumeName"], "pv-data");
        server.shutdown().await;
    }
}

#[tokio::test]
async fn enable_api_group_versions_writes_every_served_version() {
    for profile in [Profile::V1_25, Profile::V1_33] {
        let (server, client) = cluster(profile).await;
        let backup = backup(&client, &music(), true).await;
        assert_clean(&backup);
        insta::assert_yaml_snapshot!(format!("all_versions_{profile}"), snapshot(&backup));

        let index = godwit_tarball::list(&backup.tarball[..], &Limits::default()).unwrap();
        let dirs = &index.group_resource(&rockbands()).unwrap().dirs;
        let dir = |version: &str, preferred: bool| VersionDir::Version {
            version: version.to_owned(),
            preferred,
        };
        // Each band once per served version, plus the legacy copy of the preferred one.
        for folder in [
            VersionDir::Legacy,
            dir("v1", true),
            dir("v2beta1", false),
            dir("v1alpha1", false),
        ] {
            assert_eq!(dirs.get(&folder).map(|c| c.namespaced), Some(2), "{folder}");
        }
        assert_eq!(dirs.len(), 4);
        let summary = &backup.outcome.group_resources[&rockbands()];
        assert_eq!(summary.items, 2);
        assert_eq!(summary.item_versions, 6);
        assert_eq!(summary.preferred_version, "v1");
        let band = entry(
            &backup.tarball,
            "resources/rockbands.music.example.io/v1alpha1/namespaces/music/oasis.json",
        );
        assert_eq!(band["apiVersion"], "music.example.io/v1alpha1");
        server.shutdown().await;
    }
}

#[tokio::test]
async fn a_group_whose_discovery_answers_503_is_a_warning() {
    let (server, client) = cluster(Profile::V1_33).await;
    server.faults().add(FaultRule {
        fault: Fault::ServerError { code: 503 },
        fraction: 1.0,
        path_contains: Some("/apis/music.example.io/".to_owned()),
        method: None,
    });
    let backup = backup(&client, &music(), true).await;
    let outcome = &backup.outcome;
    assert_eq!(outcome.phase, Phase::Completed, "{:#?}", outcome.errors);
    let warnings: Vec<&str> = outcome.warnings.messages().collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("/apis/music.example.io/v1") && w.contains("503")),
        "{warnings:#?}"
    );
    let paths = paths(&backup.tarball);
    assert!(paths.iter().all(|p| !p.contains("rockbands")), "{paths:#?}");
    assert!(paths.contains(&"resources/configmaps/namespaces/music/setlist.json".to_owned()));
    assert!(
        outcome
            .log
            .iter()
            .any(|l| l.contains("level=warning") && l.contains("music.example.io"))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn label_selectors_pick_objects_and_their_namespace() {
    let (server, client) = cluster(Profile::V1_33).await;
    let mut spec = music();
    spec.label_selector = Some("era in (60s,70s)".to_owned());
    let backup_60s = backup(&client, &spec, false).await;
    assert_clean(&backup_60s);
    assert_eq!(
        paths(&backup_60s.tarball),
        [
            "metadata/version",
            "resources/customresourcedefinitions.apiextensions.k8s.io/cluster/rockbands.music.example.io.json",
            "resources/customresourcedefinitions.apiextensions.k8s.io/v1-preferredversion/cluster/rockbands.music.example.io.json",
            "resources/namespaces/cluster/music.json",
            "resources/namespaces/v1-preferredversion/cluster/music.json",
            "resources/rockbands.music.example.io/namespaces/music/beatles.json",
            "resources/rockbands.music.example.io/v1-preferredversion/namespaces/music/beatles.json",
        ]
    );

    // A selected pod brings its claim, the claim's volume and its priority class, which the
    // selector alone would leave out.
    spec.label_selector = Some("app=web".to_owned());
    let web = backup(&client, &spec, false).await;
    assert_clean(&web);
    let mut kinds: Vec<&String> = web.outcome.resource_list.0.keys().collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "scheduling.k8s.io/v1/PriorityClass",
            "v1/Namespace",
            "v1/PersistentVolume",
            "v1/PersistentVolumeClaim",
            "v1/Pod"
        ]
    );

    // OR-selectors: the union, each object once.
    spec.label_selector = None;
    spec.or_label_selectors = vec![
        "era=60s".to_owned(),
        "era".to_owned(),
        "app=none".to_owned(),
    ];
    let either = backup(&client, &spec, false).await;
    assert_clean(&either);
    assert_eq!(
        either.outcome.resource_list.0["music.example.io/v1/RockBand"],
        ["music/beatles", "music/oasis"]
    );
    assert_eq!(
        either.outcome.items_backed_up, 4,
        "{:#?}",
        either.outcome.resource_list
    );
    server.shutdown().await;
}

#[tokio::test]
async fn invalid_specs_fail_naming_the_field() {
    let (server, client) = cluster(Profile::V1_33).await;
    let cases: Vec<(BackupSpec, &str)> = vec![
        (
            BackupSpec {
                label_selector: Some("app in (web".to_owned()),
                ..music()
            },
            "spec.labelSelector",
        ),
        (
            BackupSpec {
                or_label_selectors: vec!["app=web".to_owned(), "tier=!x".to_owned()],
                ..music()
            },
            "spec.orLabelSelectors[1]",
        ),
        (
            BackupSpec {
                included_resources: vec!["rockbandz".to_owned(), "configmaps".to_owned()],
                ..music()
            },
            "spec.includedResources[0]",
        ),
        (
            BackupSpec {
                included_namespaces: vec!["Music".to_owned()],
                ..Default::default()
            },
            "spec.includedNamespaces[0]",
        ),
    ];
    for (spec, field) in cases {
        let result = run_backup(
            &client,
            &spec,
            &BackupOptions::default(),
            Vec::new(),
            |_| {},
        )
        .await;
        match result {
            Err(err @ Error::InvalidSpec { .. }) => {
                let message = err.to_string();
                assert!(
                    message.starts_with(&format!("invalid backup spec: {field}: ")),
                    "{message}"
                );
            }
            Err(other) => panic!("{field}: wrong error {other}"),
            Ok(_) => panic!("{field}: the backup ran"),
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_list_that_fails_is_an_error_and_the_rest_is_backed_up() {
    let (server, client) = cluster(Profile::V1_33).await;
    server.faults().add(FaultRule {
        fault: Fault::ServerError { code: 500 },
        fraction: 1.0,
        path_contains: Some("/api/v1/namespaces/music/configmaps".to_owned()),
        method: Some("GET".to_owned()),
    });
    let backup = backup(&client, &music(), false).await;
    let outcome = &backup.outcome;
    assert_eq!(outcome.phase, Phase::PartiallyFailed);
    let errors = &outcome.errors.namespaces["music"];
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with("cannot list configmaps v1 in namespace music: "),
        "{errors:#?}"
    );
    let paths = paths(&backup.tarball);
    assert!(
        paths.iter().all(|p| !p.contains("configmaps")),
        "{paths:#?}"
    );
    assert!(paths.contains(&"resources/pods/namespaces/music/web-0.json".to_owned()));
    server.shutdown().await;
}

#[tokio::test]
async fn a_named_namespace_that_does_not_exist_is_an_error() {
    let (server, client) = cluster(Profile::V1_33).await;
    let spec = BackupSpec {
        included_namespaces: vec!["music".to_owned(), "jazz".to_owned()],
        ..Default::default()
    };
    let backup = backup(&client, &spec, false).await;
    assert_eq!(backup.outcome.phase, Phase::PartiallyFailed);
    assert_eq!(
        backup.outcome.errors.velero,
        ["namespace \"jazz\" in spec.includedNamespaces does not exist; check the name"]
    );
    // music's objects, with the ServiceAccount and ConfigMap the controller manager puts in
    // every namespace.
    assert_eq!(backup.outcome.items_backed_up, 13);
    server.shutdown().await;
}
