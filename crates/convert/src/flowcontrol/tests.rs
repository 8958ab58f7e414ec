//! PriorityLevelConfiguration v1beta1/v1beta2/v1beta3 → v1 tests: the renamed and re-meant
//! concurrency shares, the preserve-zero annotation, the refusals, and a round trip through a
//! test-only inverse (upstream's v1 → older conversion).

use serde_json::{Value, json};

use super::PRESERVE_ZERO_ANNOTATION;
use crate::Lossy;
use crate::tests::conversion_for;

fn convert(before: Value) -> Result<Value, Lossy> {
    conversion_for(&before, "prioritylevelconfigurations").convert(before)
}

fn check(before: Value, after: Value) {
    assert_eq!(convert(before).expect("converts"), after);
}

/// A limited priority level at `version` whose `limited` holds `shares` (the field name
/// included) beside the usual settings, and `annotations` when given.
fn level(version: &str, shares: Value, annotations: Option<Value>) -> Value {
    let mut limited = json!({
        "lendablePercent": 50,
        "borrowingLimitPercent": 100,
        "limitResponse": {"type": "Queue",
            "queuing": {"queues": 64, "handSize": 6, "queueLengthLimit": 50}}
    });
    for (key, value) in shares.as_object().expect("shares").clone() {
        limited[key] = value;
    }
    let mut level = json!({
        "apiVersion": format!("flowcontrol.apiserver.k8s.io/{version}"),
        "kind": "PriorityLevelConfiguration",
        "metadata": {"name": "workload-low", "resourceVersion": "1234"},
        "spec": {"type": "Limited", "limited": limited},
        "status": {"conditions": [{"type": "ConcurrencyShared", "status": "True",
            "lastTransitionTime": "2023-01-01T00:00:00Z", "reason": "",
            "message": ""}]}
    });
    if let Some(annotations) = annotations {
        level["metadata"]["annotations"] = annotations;
    }
    level
}

fn preserve_zero() -> Value {
    json!({PRESERVE_ZERO_ANNOTATION: "", "apf.kubernetes.io/autoupdate-spec": "false"})
}

#[test]
fn assured_shares_become_nominal_shares() {
    for version in ["v1beta1", "v1beta2"] {
        check(
            level(version, json!({"assuredConcurrencyShares": 100}), None),
            level("v1", json!({"nominalConcurrencyShares": 100}), None),
        );
        // v1beta1 and v1beta2 defaulted 0 to 30; v1 would read it as zero.
        check(
            level(version, json!({"assuredConcurrencyShares": 0}), None),
            level("v1", json!({"nominalConcurrencyShares": 30}), None),
        );
        check(
            level(version, json!({}), None),
            level("v1", json!({}), None),
        );
    }
}

#[test]
fn a_v1beta3_zero_keeps_its_meaning() {
    // With the annotation the apiserver writes when the value really is 0: 0, and the
    // annotation (which v1 forbids) goes.
    check(
        level(
            "v1beta3",
            json!({"nominalConcurrencyShares": 0}),
            Some(preserve_zero()),
        ),
        level(
            "v1",
            json!({"nominalConcurrencyShares": 0}),
            Some(json!({"apf.kubernetes.io/autoupdate-spec": "false"})),
        ),
    );
    // Go reads a missing int32 as 0.
    check(
        level(
            "v1beta3",
            json!({}),
            Some(json!({PRESERVE_ZERO_ANNOTATION: ""})),
        ),
        level(
            "v1",
            json!({"nominalConcurrencyShares": 0}),
            Some(json!({})),
        ),
    );
    // Without it, v1beta3 defaulted 0 to 30.
    check(
        level("v1beta3", json!({"nominalConcurrencyShares": 0}), None),
        level("v1", json!({"nominalConcurrencyShares": 30}), None),
    );
    check(
        level(
            "v1beta3",
            json!({"nominalConcurrencyShares": 7}),
            Some(preserve_zero()),
        ),
        level(
            "v1",
            json!({"nominalConcurrencyShares": 7}),
            Some(json!({"apf.kubernetes.io/autoupdate-spec": "false"})),
        ),
    );
}

#[test]
fn an_exempt_level_only_changes_api_version() {
    let exempt = |version: &str| {
        json!({
            "apiVersion": format!("flowcontrol.apiserver.k8s.io/{version}"),
            "kind": "PriorityLevelConfiguration",
            "metadata": {"name": "exempt"},
            "spec": {"type": "Exempt", "exempt": {"nominalConcurrencyShares": 0, "lendablePercent": 0}}
        })
    };
    for version in ["v1beta1", "v1beta2", "v1beta3"] {
        check(exempt(version), exempt("v1"));
    }
}

#[test]
fn refuses_shares_it_cannot_read() {
    let err = convert(level(
        "v1beta2",
        json!({"assuredConcurrencyShares": "many"}),
        None,
    ))
    .expect_err("refused");
    assert_eq!(err.field, "spec.limited.assuredConcurrencyShares");
    let err = convert(level(
        "v1beta3",
        json!({"nominalConcurrencyShares": -1}),
        None,
    ))
    .expect_err("refused");
    assert_eq!(err.field, "spec.limited.nominalConcurrencyShares");
    let err = convert(level(
        "v1beta1",
        json!({"assuredConcurrencyShares": 5, "nominalConcurrencyShares": 6}),
        None,
    ))
    .expect_err("refused");
    assert_eq!(err.field, "spec.limited.nominalConcurrencyShares");
    let mut limited_not_an_object = level("v1beta3", json!({}), None);
    limited_not_an_object["spec"]["limited"] = json!(30);
    assert_eq!(
        convert(limited_not_an_object).expect_err("refused").field,
        "spec.limited"
    );
}

/// The inverse, as upstream serves a v1 priority level at `version`.
fn to_older(mut object: Value, version: &str) -> Value {
    object["apiVersion"] = json!(format!("flowcontrol.apiserver.k8s.io/{version}"));
    let Some(limited) = object
        .pointer_mut("/spec/limited")
        .and_then(Value::as_object_mut)
    else {
        return object;
    };
    let shares = limited.remove("nominalConcurrencyShares");
    let zero = shares.as_ref().and_then(Value::as_u64) == Some(0);
    match (version, shares) {
        ("v1beta3", Some(shares)) => {
            limited.insert("nominalConcurrencyShares".to_owned(), shares);
        }
        (_, Some(shares)) => {
            limited.insert("assuredConcurrencyShares".to_owned(), shares);
        }
        (_, None) => {}
    }
    if version == "v1beta3" && zero {
        object["metadata"]["annotations"][PRESERVE_ZERO_ANNOTATION] = json!("");
    }
    object
}

#[test]
fn round_trips() {
    let objects = [
        level("v1beta1", json!({"assuredConcurrencyShares": 40}), None),
        level(
            "v1beta2",
            json!({"assuredConcurrencyShares": 1}),
            Some(json!({"a": "b"})),
        ),
        level("v1beta2", json!({}), None),
        level(
            "v1beta3",
            json!({"nominalConcurrencyShares": 0}),
            Some(preserve_zero()),
        ),
        level(
            "v1beta3",
            json!({"nominalConcurrencyShares": 0}),
            Some(json!({PRESERVE_ZERO_ANNOTATION: ""})),
        ),
        level("v1beta3", json!({"nominalConcurrencyShares": 100}), None),
    ];
    for before in objects {
        let version = before["apiVersion"]
            .as_str()
            .and_then(|v| v.rsplit('/').next())
            .expect("apiVersion")
            .to_owned();
        let after = convert(before.clone()).expect("converts");
        assert_eq!(to_older(after, &version), before);
    }
}
