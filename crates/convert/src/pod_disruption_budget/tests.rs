//! PodDisruptionBudget conversion tests: the selector meanings, the refusal, and a round trip
//! through a test-only inverse (upstream's v1 → v1beta1 conversion).

use serde_json::{Value, json};

use super::{EMPTY_SELECTOR_LABEL, is_reserved_requirement_alone, match_none};
use crate::Lossy;
use crate::tests::conversion;

fn convert(before: Value) -> Result<Value, Lossy> {
    conversion("policy", "v1beta1", "poddisruptionbudgets").convert(before)
}

/// A realistic budget with `selector` (absent when `None`), as v1beta1 served it.
fn budget(selector: Option<Value>) -> Value {
    let mut budget = json!({
        "apiVersion": "policy/v1beta1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web", "namespace": "shop", "generation": 2},
        "spec": {"minAvailable": "50%"},
        "status": {
            "observedGeneration": 2, "disruptionsAllowed": 1, "currentHealthy": 3,
            "desiredHealthy": 2, "expectedPods": 3,
            "conditions": [{"type": "DisruptionAllowed", "status": "True",
                "reason": "SufficientPods", "message": "",
                "lastTransitionTime": "2022-03-01T10:00:00Z", "observedGeneration": 2}]
        }
    });
    if let Some(selector) = selector {
        budget["spec"]["selector"] = selector;
    }
    budget
}

/// The budget as v1 should hold it: the v1beta1 one with `selector` and the new apiVersion.
fn check(before: Option<Value>, after: Option<Value>) {
    let mut expected = budget(after);
    expected["apiVersion"] = json!("policy/v1");
    assert_eq!(convert(budget(before)).expect("converts"), expected);
}

/// The inverse, as upstream serves a v1 budget at v1beta1.
fn to_v1beta1(mut object: Value) -> Value {
    object["apiVersion"] = json!("policy/v1beta1");
    if let Some(selector) = object
        .pointer_mut("/spec/selector")
        .and_then(Value::as_object_mut)
    {
        if *selector == match_none() {
            selector.clear();
        } else if selector.is_empty() {
            *selector = json!({"matchExpressions": [
                {"key": EMPTY_SELECTOR_LABEL, "operator": "DoesNotExist"}
            ]})
            .as_object()
            .expect("an object")
            .clone();
        }
    }
    object
}

#[test]
fn an_empty_selector_still_selects_no_pods() {
    let none = json!({"matchExpressions": [
        {"key": "pdb.kubernetes.io/deprecated-v1beta1-empty-selector-match", "operator": "Exists"}
    ]});
    check(Some(json!({})), Some(none.clone()));
    // Go reads empty and unset alike.
    check(
        Some(json!({"matchLabels": {}, "matchExpressions": []})),
        Some(none.clone()),
    );
    check(Some(json!({"matchLabels": null})), Some(none));
}

#[test]
fn the_v1beta1_match_all_selector_becomes_empty() {
    check(
        Some(
            json!({"matchExpressions": [{"key": EMPTY_SELECTOR_LABEL, "operator": "DoesNotExist"}]}),
        ),
        Some(json!({})),
    );
}

#[test]
fn a_null_or_missing_selector_and_a_real_one_stay() {
    check(None, None);
    check(Some(Value::Null), Some(Value::Null));
    let real = json!({"matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]});
    check(Some(real.clone()), Some(real));
}

#[test]
fn refuses_the_reserved_key_beside_other_requirements() {
    let selector = json!({
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["front"]},
            {"key": EMPTY_SELECTOR_LABEL, "operator": "DoesNotExist"}
        ]
    });
    let err = convert(budget(Some(selector))).expect_err("refused");
    assert_eq!(err.field, "spec.selector.matchExpressions[1].key");
    assert!(err.reason.contains(EMPTY_SELECTOR_LABEL), "{err}");

    let err = convert(budget(Some(json!(["app=web"])))).expect_err("refused");
    assert_eq!(err.field, "spec.selector");
}

#[test]
fn the_reserved_requirement_must_be_alone_and_valueless() {
    let with_labels = json!({"matchLabels": {"a": "b"},
        "matchExpressions": [{"key": EMPTY_SELECTOR_LABEL, "operator": "DoesNotExist"}]});
    let with_values = json!({"matchExpressions": [
        {"key": EMPTY_SELECTOR_LABEL, "operator": "DoesNotExist", "values": ["x"]}]});
    for selector in [with_labels, with_values] {
        let selector = selector.as_object().expect("an object");
        assert!(!is_reserved_requirement_alone(selector, "DoesNotExist"));
    }
}

#[test]
fn round_trips() {
    let selectors = [
        None,
        Some(json!({})),
        Some(json!({"matchLabels": {"app": "web"}})),
        Some(
            json!({"matchExpressions": [{"key": EMPTY_SELECTOR_LABEL, "operator": "DoesNotExist"}]}),
        ),
        Some(json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]})),
    ];
    for selector in selectors {
        let before = budget(selector);
        let after = convert(before.clone()).expect("converts");
        assert_eq!(to_v1beta1(after), before);
    }
    let mut max_unavailable = budget(Some(json!({"matchLabels": {"app": "queue"}})));
    max_unavailable["spec"] =
        json!({"maxUnavailable": 1, "selector": {"matchLabels": {"app": "queue"}}});
    let after = convert(max_unavailable.clone()).expect("converts");
    assert_eq!(to_v1beta1(after), max_unavailable);
}
