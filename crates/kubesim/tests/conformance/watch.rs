//! Watch: events after a list's resourceVersion, bookmarks only when asked for, selectors.

use std::time::Duration;

use futures::TryStreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, WatchEvent, WatchParams};
use serde_json::{Value, json};

use crate::support::{Cluster, cluster, config_map, create_config_map, rv_number};

/// A watch event reduced to what the tests compare.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Added(String, u64),
    Modified(String, u64),
    Deleted(String, u64),
    Bookmark(u64),
}

/// Runs a watch until the server ends it (its timeoutSeconds) or 15 s pass.
async fn collect(api: Api<DynamicObject>, params: WatchParams, from: String) -> Vec<Seen> {
    let stream = api.watch(&params, &from).await.unwrap();
    let events = tokio::time::timeout(Duration::from_secs(15), stream.try_collect::<Vec<_>>())
        .await
        .expect("the server ends a watch after its timeoutSeconds")
        .unwrap();
    events
        .into_iter()
        .map(|event| match event {
            WatchEvent::Added(object) => Seen::Added(name(&object), rv(&object)),
            WatchEvent::Modified(object) => Seen::Modified(name(&object), rv(&object)),
            WatchEvent::Deleted(object) => Seen::Deleted(name(&object), rv(&object)),
            WatchEvent::Bookmark(bookmark) => {
                assert_eq!(bookmark.types.kind, "ConfigMap");
                assert_eq!(bookmark.types.api_version, "v1");
                Seen::Bookmark(rv_number(&json!(bookmark.metadata.resource_version)))
            }
            WatchEvent::Error(status) => panic!("watch error {status:?}"),
        })
        .collect()
}

fn name(object: &DynamicObject) -> String {
    let types = object.types.as_ref().unwrap();
    assert_eq!(
        (types.api_version.as_str(), types.kind.as_str()),
        ("v1", "ConfigMap"),
        "watch objects carry apiVersion and kind"
    );
    object.metadata.name.clone().unwrap()
}

fn rv(object: &DynamicObject) -> u64 {
    rv_number(&json!(object.metadata.resource_version.clone().unwrap()))
}

fn config_maps(cluster: &Cluster, namespace: &str) -> Api<DynamicObject> {
    let resource = ApiResource::erase::<ConfigMap>(&());
    Api::namespaced_with(cluster.client.clone(), namespace, &resource)
}

async fn write_sequence(cluster: &Cluster, namespace: &str, name: &str, labels: Value) {
    create_config_map(
        cluster,
        namespace,
        &config_map(name, labels, json!({"k": "v"})),
    )
    .await;
    let path = format!("/api/v1/namespaces/{namespace}/configmaps/{name}");
    let patch = json!({"data": {"k": "v2"}});
    let patched = cluster
        .raw_typed("PATCH", &path, &patch, "application/merge-patch+json")
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let deleted = cluster.raw("DELETE", &path, None).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_after_a_list_sees_create_modify_delete_and_bookmarks() {
    let cluster = cluster().await;
    let namespace = cluster.namespace("watch").await;
    create_config_map(
        &cluster,
        &namespace,
        &config_map("before", json!({}), json!({})),
    )
    .await;
    let api = config_maps(&cluster, &namespace);
    let list = api.list(&ListParams::default()).await.unwrap();
    let from = list.metadata.resource_version.unwrap();
    let from_number = rv_number(&json!(from));

    // The real server sends a bookmark about 2 s before a watch's timeout, so 3 s gives one.
    let with_bookmarks = tokio::spawn(collect(
        api.clone(),
        WatchParams::default().timeout(3),
        from.clone(),
    ));
    let without_bookmarks = tokio::spawn(collect(
        api.clone(),
        WatchParams::default().timeout(3).disable_bookmarks(),
        from.clone(),
    ));
    let selected = tokio::spawn(collect(
        api.clone(),
        WatchParams::default()
            .timeout(3)
            .disable_bookmarks()
            .labels("pick=yes"),
        from.clone(),
    ));
    // Let the watches start before writing; events after `from` are delivered either way.
    tokio::time::sleep(Duration::from_millis(200)).await;
    write_sequence(&cluster, &namespace, "c10", json!({"pick": "yes"})).await;
    write_sequence(&cluster, &namespace, "c11", json!({"pick": "no"})).await;

    let with_bookmarks = with_bookmarks.await.unwrap();
    let changes: Vec<Seen> = with_bookmarks
        .iter()
        .filter(|seen| !matches!(seen, Seen::Bookmark(_)))
        .cloned()
        .collect();
    let kinds: Vec<(&str, &str)> = changes
        .iter()
        .map(|seen| match seen {
            Seen::Added(name, _) => ("ADDED", name.as_str()),
            Seen::Modified(name, _) => ("MODIFIED", name.as_str()),
            Seen::Deleted(name, _) => ("DELETED", name.as_str()),
            Seen::Bookmark(_) => ("BOOKMARK", ""),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("ADDED", "c10"),
            ("MODIFIED", "c10"),
            ("DELETED", "c10"),
            ("ADDED", "c11"),
            ("MODIFIED", "c11"),
            ("DELETED", "c11"),
        ],
        "nothing from before the list, then every change in order"
    );
    let mut last = from_number;
    for seen in &changes {
        let (Seen::Added(_, rv) | Seen::Modified(_, rv) | Seen::Deleted(_, rv)) = seen else {
            continue;
        };
        assert!(
            *rv > last,
            "resourceVersion grows along the watch: {changes:?}"
        );
        last = *rv;
    }
    let bookmarks: Vec<u64> = with_bookmarks
        .iter()
        .filter_map(|seen| match seen {
            Seen::Bookmark(rv) => Some(*rv),
            _ => None,
        })
        .collect();
    assert!(
        !bookmarks.is_empty(),
        "allowWatchBookmarks with timeoutSeconds=3 gets a bookmark: {with_bookmarks:?}"
    );
    assert!(bookmarks.iter().all(|rv| *rv >= from_number));

    let without_bookmarks = without_bookmarks.await.unwrap();
    assert!(
        !without_bookmarks
            .iter()
            .any(|seen| matches!(seen, Seen::Bookmark(_))),
        "no bookmarks unless asked for: {without_bookmarks:?}"
    );
    assert_eq!(without_bookmarks, changes);

    let selected = selected.await.unwrap();
    let selected_names: Vec<&Seen> = selected.iter().collect();
    assert_eq!(selected_names, changes[..3].iter().collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_lines_have_the_real_shape() {
    let cluster = cluster().await;
    let namespace = cluster.namespace("watchraw").await;
    let list = cluster
        .raw(
            "GET",
            &format!("/api/v1/namespaces/{namespace}/configmaps"),
            None,
        )
        .await
        .json();
    let from = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!(
        "/api/v1/namespaces/{namespace}/configmaps?watch=true&resourceVersion={from}&allowWatchBookmarks=true&timeoutSeconds=1"
    );
    let request = http::Request::get(path).body(Vec::new()).unwrap();
    let lines = cluster.client.request_stream(request).await.unwrap();
    let writer = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Shaped as the recorded one: a name and nothing else.
        let body = json!({"metadata": {"name": "c10"}});
        create_config_map(&cluster, &namespace, &body).await
    };
    let reader = async {
        use futures::{AsyncBufReadExt, StreamExt};
        let mut lines = lines.lines();
        let mut found = Vec::new();
        while let Some(line) = lines.next().await {
            found.push(line.unwrap());
        }
        found
    };
    let (created, lines) = tokio::join!(writer, reader);
    let events: Vec<Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let added = events
        .iter()
        .find(|event| event["type"] == "ADDED")
        .unwrap_or_else(|| panic!("an ADDED line: {lines:?}"));
    let recorded: Value =
        serde_json::from_str(&crate::support::sample_text("watch-from-rv.body")).unwrap();
    let keys = |value: &Value| -> Vec<String> {
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(added), keys(&recorded));
    assert_eq!(keys(&added["object"]), keys(&recorded["object"]));
    assert_eq!(added["object"]["kind"], "ConfigMap");
    assert_eq!(added["object"]["apiVersion"], "v1");
    assert_eq!(
        added["object"]["metadata"]["uid"],
        created["metadata"]["uid"]
    );
    for event in &events {
        let kind = event["type"].as_str().unwrap();
        assert!(
            matches!(kind, "ADDED" | "BOOKMARK"),
            "only the create and bookmarks: {lines:?}"
        );
    }
}
