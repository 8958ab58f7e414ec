use super::*;
use serde_json::json;

fn check(kind: PatchKind, target: Value, patch: Value, expected: Result<Value, &str>) {
    let got = apply(kind, &target, &patch);
    match expected {
        Ok(value) => assert_eq!(got, Ok(value), "{patch}"),
        Err(part) => {
            let err = got.expect_err("patch should fail");
            assert!(err.contains(part), "{err:?} lacks {part:?}");
        }
    }
}

#[test]
fn merge_patches_follow_rfc_7386() {
    let doc = json!({"a": 1, "b": {"c": 2, "d": 3}, "l": [1, 2]});
    check(
        PatchKind::Merge,
        doc.clone(),
        json!({"a": 5}),
        Ok(json!({"a": 5, "b": {"c": 2, "d": 3}, "l": [1, 2]})),
    );
    check(
        PatchKind::Merge,
        doc.clone(),
        json!({"b": {"c": null, "e": 4}}),
        Ok(json!({"a": 1, "b": {"d": 3, "e": 4}, "l": [1, 2]})),
    );
    check(
        PatchKind::Merge,
        doc.clone(),
        json!({"l": [3]}),
        Ok(json!({"a": 1, "b": {"c": 2, "d": 3}, "l": [3]})),
    );
    check(
        PatchKind::Merge,
        doc.clone(),
        json!({"a": {"x": 1}}),
        Ok(json!({"a": {"x": 1}, "b": {"c": 2, "d": 3}, "l": [1, 2]})),
    );
    // Strategic merge is a merge patch here: lists are replaced, not merged by key.
    check(
        PatchKind::StrategicMerge,
        doc.clone(),
        json!({"l": [9]}),
        Ok(json!({"a": 1, "b": {"c": 2, "d": 3}, "l": [9]})),
    );
    check(
        PatchKind::Merge,
        doc,
        json!([1]),
        Err("must be a JSON object"),
    );
}

#[test]
fn json_patches_follow_rfc_6902() {
    let doc = json!({"metadata": {"labels": {"a": "b"}}, "l": [1, 2]});
    check(
        PatchKind::Json,
        doc.clone(),
        json!([{"op": "add", "path": "/metadata/labels/x~1y", "value": "z"}]),
        Ok(json!({"metadata": {"labels": {"a": "b", "x/y": "z"}}, "l": [1, 2]})),
    );
    check(
        PatchKind::Json,
        doc.clone(),
        json!([{"op": "add", "path": "/l/-", "value": 3}]),
        Ok(json!({"metadata": {"labels": {"a": "b"}}, "l": [1, 2, 3]})),
    );
    check(
        PatchKind::Json,
        doc.clone(),
        json!([{"op": "add", "path": "/l/0", "value": 0}]),
        Ok(json!({"metadata": {"labels": {"a": "b"}}, "l": [0, 1, 2]})),
    );
    check(
        PatchKind::Json,
        doc.clone(),
        json!([{"op": "remove", "path": "/l/1"}]),
        Ok(json!({"metadata": {"labels": {"a": "b"}}, "l": [1]})),
    );
    check(
        PatchKind::Json,
        doc.clone(),
        json!([{"op": "replace", "path": "/metadata/labels/a", "value": "c"}]),
        Ok(json!({"metadata": {"labels": {"a": "c"}}, "l": [1, 2]})),
    );
    check(
        PatchKind::Json,
        doc.clone(),
        json!([{"op": "move", "from": "/l", "path": "/m"}]),
        Ok(json!({"metadata": {"labels": {"a": "b"}}, "m": [1, 2]})),
    );
    check(
        PatchKind::Json,
        doc.clone(),
        json!([{"op": "copy", "from": "/l/0", "path": "/n"}]),
        Ok(json!({"metadata": {"labels": {"a": "b"}}, "l": [1, 2], "n": 1})),
    );
    check(
        PatchKind::Json,
        doc.clone(),
        json!([{"op": "test", "path": "/l/0", "value": 1}]),
        Ok(doc.clone()),
    );
    check(
        PatchKind::Json,
        doc.clone(),
        json!([{"op": "test", "path": "/l/0", "value": 2}]),
        Err("testing value /l/0 failed"),
    );
    check(
        PatchKind::Json,
        doc.clone(),
        json!([{"op": "replace", "path": "/nope", "value": 1}]),
        Err("missing path"),
    );
    check(
        PatchKind::Json,
        doc.clone(),
        json!([{"op": "remove", "path": "/l/7"}]),
        Err("missing path"),
    );
    check(
        PatchKind::Json,
        doc.clone(),
        json!([{"op": "jump", "path": "/l"}]),
        Err("unexpected kind of operation"),
    );
    check(
        PatchKind::Json,
        doc,
        json!({"op": "add"}),
        Err("must be an array"),
    );
}

#[test]
fn content_types_name_patch_kinds() {
    assert_eq!(
        PatchKind::from_content_type("application/merge-patch+json"),
        Some(PatchKind::Merge)
    );
    assert_eq!(
        PatchKind::from_content_type("application/strategic-merge-patch+json; charset=utf-8"),
        Some(PatchKind::StrategicMerge)
    );
    assert_eq!(
        PatchKind::from_content_type("application/json-patch+json"),
        Some(PatchKind::Json)
    );
    assert_eq!(
        PatchKind::from_content_type("application/apply-patch+yaml"),
        None
    );
}
