use super::*;
use serde_json::json;

fn check_framing(json_text: &str, expected: &str) {
    let framed = with_type("ConfigMap", "v1", json_text.as_bytes());
    assert_eq!(String::from_utf8(framed).unwrap(), expected);
}

#[test]
fn framing_puts_kind_and_api_version_first() {
    check_framing(
        r#"{"metadata":{"name":"a"}}"#,
        r#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a"}}"#,
    );
    check_framing("{}", r#"{"kind":"ConfigMap","apiVersion":"v1"}"#);
    check_framing("", r#"{"kind":"ConfigMap","apiVersion":"v1"}"#);
}

#[test]
fn names_and_labels() {
    assert_eq!(path_segment_problem("ok-name"), None);
    assert_eq!(path_segment_problem("system:controller:x"), None);
    assert!(path_segment_problem("a/b").is_some());
    assert!(path_segment_problem("..").is_some());
    assert_eq!(dns_label_problem("team-a"), None);
    assert!(dns_label_problem("Team").is_some());
    assert!(dns_label_problem("-a").is_some());
    let suffix = generated_suffix();
    assert_eq!(suffix.len(), 5);
    assert!(
        suffix
            .chars()
            .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)),
        "{suffix}"
    );
    let object = json!({"metadata": {"labels": {"a": "b"}, "name": "x"}});
    assert_eq!(labels_of(&object).get("a").map(String::as_str), Some("b"));
    assert_eq!(meta_str(&object, "name"), "x");
    assert_eq!(meta_str(&object, "namespace"), "");
}

#[test]
fn content_changes_ignore_metadata_and_optionally_status() {
    let old = json!({"metadata": {"labels": {"a": "b"}}, "spec": {"x": 1}, "status": {"s": 1}});
    let relabelled =
        json!({"metadata": {"labels": {"a": "c"}}, "spec": {"x": 1}, "status": {"s": 1}});
    let status_only = json!({"metadata": {}, "spec": {"x": 1}, "status": {"s": 2}});
    let spec_changed = json!({"metadata": {}, "spec": {"x": 2}, "status": {"s": 1}});
    let spec_added = json!({"metadata": {}, "spec": {"x": 1}, "status": {"s": 1}, "data": {}});
    assert!(!content_changed(&old, &relabelled, true));
    assert!(!content_changed(&old, &status_only, false));
    assert!(content_changed(&old, &status_only, true));
    assert!(content_changed(&old, &spec_changed, false));
    assert!(content_changed(&old, &spec_added, false));
}
