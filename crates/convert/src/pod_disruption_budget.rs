//! PodDisruptionBudget from `policy/v1beta1` to `policy/v1`: only the meaning of an empty
//! selector differs (v1beta1: no pods, v1: every pod of the namespace). Upstream's
//! `pkg/apis/policy/v1beta1/conversion.go` keeps the meaning with a selector on a reserved
//! label key; this does the same.

use serde_json::{Map, Value, json};

use crate::Lossy;
use crate::fields::{is_empty, lossy, object_mut};

/// The label key upstream reserves for carrying v1beta1's empty selectors across versions.
pub(crate) const EMPTY_SELECTOR_LABEL: &str =
    "pdb.kubernetes.io/deprecated-v1beta1-empty-selector-match";

/// Rewrites a `policy/v1beta1` PodDisruptionBudget into `policy/v1`.
pub(crate) fn to_v1(object: &mut Map<String, Value>) -> Result<(), Lossy> {
    let Some(spec) = object_mut(object, "spec", "")? else {
        return Ok(());
    };
    // A null selector matches no pods in both versions; upstream leaves it null.
    let Some(selector) = object_mut(spec, "selector", "spec")? else {
        return Ok(());
    };
    if selects_nothing_in_v1beta1(selector) {
        *selector = match_none();
    } else if is_reserved_requirement_alone(selector, "DoesNotExist") {
        // v1beta1's spelling of "every pod", which v1 spells `{}`.
        selector.clear();
    } else if let Some(index) = reserved_requirement(selector) {
        // Upstream strips the requirement, which widens what the selector matches.
        return Err(lossy(
            format!("spec.selector.matchExpressions[{index}].key"),
            format!(
                "{EMPTY_SELECTOR_LABEL} is reserved for converting empty v1beta1 selectors and \
                 policy/v1 would drop this requirement; remove it from the backed-up object"
            ),
        ));
    }
    Ok(())
}

/// The v1 selector that, like v1beta1's empty one, matches no pod.
pub(crate) fn match_none() -> Map<String, Value> {
    let Value::Object(selector) = json!({
        "matchExpressions": [{"key": EMPTY_SELECTOR_LABEL, "operator": "Exists"}]
    }) else {
        unreachable!("a JSON object literal")
    };
    selector
}

/// No labels and no expressions (Go reads empty and unset alike).
pub(crate) fn selects_nothing_in_v1beta1(selector: &Map<String, Value>) -> bool {
    is_empty(selector.get("matchLabels")) && is_empty(selector.get("matchExpressions"))
}

/// The selector is exactly one requirement on the reserved key with `operator`.
pub(crate) fn is_reserved_requirement_alone(selector: &Map<String, Value>, operator: &str) -> bool {
    if !is_empty(selector.get("matchLabels")) {
        return false;
    }
    let Some(Value::Array(expressions)) = selector.get("matchExpressions") else {
        return false;
    };
    let [Value::Object(requirement)] = expressions.as_slice() else {
        return false;
    };
    requirement.get("key").and_then(Value::as_str) == Some(EMPTY_SELECTOR_LABEL)
        && requirement.get("operator").and_then(Value::as_str) == Some(operator)
        && is_empty(requirement.get("values"))
        && requirement.len() <= 3
}

/// The index of a requirement on the reserved key, if any.
fn reserved_requirement(selector: &Map<String, Value>) -> Option<usize> {
    let Some(Value::Array(expressions)) = selector.get("matchExpressions") else {
        return None;
    };
    expressions.iter().position(|requirement| {
        requirement.get("key").and_then(Value::as_str) == Some(EMPTY_SELECTOR_LABEL)
    })
}

#[cfg(test)]
mod tests;
