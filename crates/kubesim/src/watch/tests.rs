use super::*;
use crate::profiles::{Profile, builtin_resources};
use std::collections::BTreeMap;

fn configmaps() -> Arc<ResourceDef> {
    Arc::new(
        builtin_resources(Profile::V1_33)
            .into_iter()
            .find(|d| d.plural == "configmaps")
            .unwrap(),
    )
}

fn spec(namespace: Option<&str>, selector: &str) -> WatchSpec {
    WatchSpec {
        def: configmaps(),
        namespace: namespace.map(str::to_owned),
        labels: LabelSelector::parse(selector).unwrap(),
        fields: FieldSelector::default(),
        bookmarks: true,
        timeout: Duration::from_secs(1),
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Arc::new(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn event(
    rv: u64,
    event_type: EventType,
    now: &[(&str, &str)],
    before: Option<&[(&str, &str)]>,
) -> Event {
    Event {
        rv,
        event_type,
        gr: configmaps().group_resource(),
        namespace: Some("ns".to_owned()),
        name: "c".to_owned(),
        json: Bytes::from_static(br#"{"metadata":{"name":"c"}}"#),
        labels: labels(now),
        prev_labels: before.map(labels),
        prev_json: None,
    }
}

fn event_type_of(line: Option<Vec<u8>>) -> Option<String> {
    line.map(|l| {
        serde_json::from_slice::<Value>(&l).unwrap()["type"]
            .as_str()
            .unwrap()
            .to_owned()
    })
}

/// What a watch with `selector` sees of an event.
fn check(selector: &str, event: Event, expected: Option<&str>) {
    let got = event_type_of(spec(Some("ns"), selector).line_for(&event));
    assert_eq!(got.as_deref(), expected, "{selector} {event:?}");
}

#[test]
fn selectors_turn_modifications_into_adds_and_deletes() {
    check("", event(1, EventType::Added, &[], None), Some("ADDED"));
    check("a=b", event(1, EventType::Added, &[], None), None);
    check(
        "a=b",
        event(2, EventType::Modified, &[("a", "b")], Some(&[])),
        Some("ADDED"),
    );
    check(
        "a=b",
        event(2, EventType::Modified, &[], Some(&[("a", "b")])),
        Some("DELETED"),
    );
    check(
        "a=b",
        event(2, EventType::Modified, &[("a", "b")], Some(&[("a", "b")])),
        Some("MODIFIED"),
    );
    check("", event(3, EventType::Deleted, &[], None), Some("DELETED"));
    assert_eq!(
        spec(Some("other"), "").line_for(&event(1, EventType::Added, &[], None)),
        None
    );
}

#[test]
fn lines_look_like_the_recorded_watch() {
    let recorded = godwit_fixtures::read("apiserver/watch-from-rv.body");
    let recorded: Value = serde_json::from_slice(&recorded).unwrap();
    let mut object = recorded["object"].clone();
    let map = object.as_object_mut().unwrap();
    map.remove("kind");
    map.remove("apiVersion");
    let line = spec(None, "").line(EventType::Added, object.to_string().as_bytes());
    assert_eq!(line.last(), Some(&b'\n'));
    assert_eq!(serde_json::from_slice::<Value>(&line).unwrap(), recorded);
}

#[test]
fn bookmarks_carry_only_a_resource_version() {
    let line = spec(None, "").bookmark(42, false);
    let value: Value = serde_json::from_slice(&line).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"type": "BOOKMARK", "object": {"kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"resourceVersion": "42", "creationTimestamp": null}}})
    );
    let end: Value = serde_json::from_slice(&spec(None, "").bookmark(7, true)).unwrap();
    assert_eq!(
        end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
}

#[test]
fn history_replays_after_a_version_until_it_is_too_old() {
    let mut hub = Hub::new(10);
    assert_eq!(hub.since(10).unwrap().len(), 0);
    assert!(hub.since(9).is_err());
    for rv in 11..=13 {
        hub.publish(event(rv, EventType::Added, &[], None));
    }
    let rvs: Vec<u64> = hub.since(11).unwrap().iter().map(|e| e.rv).collect();
    assert_eq!(rvs, [12, 13]);
    assert_eq!(hub.since(5).unwrap_err(), 11);
}
