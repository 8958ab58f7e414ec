//! HorizontalPodAutoscaler from `autoscaling/v2beta1` to `autoscaling/v2`, following upstream's
//! `pkg/apis/autoscaling/v2beta1/conversion.go`: every metric source and status moves its
//! targets into `target` / `current` and its metric name and selector into `metric`, an
//! object metric's `target` reference becomes `describedObject`, and the scaling behavior
//! v2beta1 carried in an annotation becomes `spec.behavior`. (`autoscaling/v2beta2` is v2's
//! schema and needs none of this.)

use serde_json::{Map, Value};

use crate::Lossy;
use crate::fields::{carry, each_object, join, lossy, object_mut, refuse_leftovers, take};

/// Where the v2beta1 apiserver serialises `spec.behavior`, in Go's field names (upstream
/// `pkg/apis/autoscaling/annotations.go`). The v2 apiserver drops it on write, so the
/// metadata can stay as it is.
pub(crate) const BEHAVIOR_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/behavior";

/// Rewrites an `autoscaling/v2beta1` HorizontalPodAutoscaler into `autoscaling/v2`.
pub(crate) fn v2beta1_to_v2(object: &mut Map<String, Value>) -> Result<(), Lossy> {
    let behavior = behavior_from_annotation(object)?;
    if let Some(behavior) = behavior {
        let spec = object
            .entry("spec")
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(spec) = spec else {
            return Err(lossy("spec", "is not an object"));
        };
        spec.insert("behavior".to_owned(), behavior);
    }
    if let Some(spec) = object_mut(object, "spec", "")? {
        each_object(spec, "metrics", "spec", |metric, path| {
            rewrite_sources(metric, path, Side::Spec)
        })?;
    }
    if let Some(status) = object_mut(object, "status", "")? {
        each_object(status, "currentMetrics", "status", |metric, path| {
            rewrite_sources(metric, path, Side::Status)
        })?;
    }
    Ok(())
}

/// Whether a metric entry is a target (`spec.metrics`) or a reading (`status.currentMetrics`).
#[derive(Clone, Copy)]
enum Side {
    Spec,
    Status,
}

/// The keys a metric entry may hold besides `type`, one per source kind.
const SOURCES: [&str; 5] = [
    "object",
    "pods",
    "resource",
    "containerResource",
    "external",
];

/// Rewrites whichever sources the entry holds; refuses a key that is none of them.
fn rewrite_sources(entry: &mut Map<String, Value>, path: &str, side: Side) -> Result<(), Lossy> {
    if let Some(key) = entry
        .keys()
        .find(|key| *key != "type" && !SOURCES.contains(&key.as_str()))
    {
        return Err(lossy(
            join(path, key),
            "is not a metric source autoscaling/v2beta1 defines; remove it from the backed-up \
             object to restore the rest",
        ));
    }
    for key in SOURCES {
        let Some(source) = take(entry, key) else {
            continue;
        };
        let source_path = join(path, key);
        let Value::Object(mut old) = source else {
            return Err(lossy(source_path, "is not an object"));
        };
        let new = match (side, key) {
            (Side::Spec, "object") => object_source(&mut old),
            (Side::Spec, "pods") => pods_source(&mut old),
            (Side::Spec, "external") => external_source(&mut old),
            (Side::Spec, _) => resource_source(&mut old, key == "containerResource"),
            (Side::Status, "object") => object_status(&mut old),
            (Side::Status, "pods") => pods_status(&mut old),
            (Side::Status, "external") => external_status(&mut old),
            (Side::Status, _) => resource_status(&mut old, key == "containerResource"),
        };
        refuse_leftovers(&old, &source_path)?;
        entry.insert(key.to_owned(), Value::Object(new));
    }
    Ok(())
}

/// `{name, selector}` from the v2beta1 fields that held them.
fn metric(old: &mut Map<String, Value>, selector_key: &str) -> Value {
    let mut metric = Map::new();
    carry(old, "metricName", &mut metric, "name");
    carry(old, selector_key, &mut metric, "selector");
    Value::Object(metric)
}

/// A `target` or `current` object: the `type` when given, then whichever values are set.
fn values(
    kind: Option<&str>,
    value: Option<Value>,
    average_value: Option<Value>,
    average_utilization: Option<Value>,
) -> Value {
    let mut values = Map::new();
    if let Some(kind) = kind {
        values.insert("type".to_owned(), kind.into());
    }
    for (key, set) in [
        ("value", value),
        ("averageValue", average_value),
        ("averageUtilization", average_utilization),
    ] {
        if let Some(set) = set {
            values.insert(key.to_owned(), set);
        }
    }
    Value::Object(values)
}

/// A utilization target is `Utilization`, anything else `AverageValue`.
fn resource_source(old: &mut Map<String, Value>, container: bool) -> Map<String, Value> {
    let mut new = Map::new();
    carry(old, "name", &mut new, "name");
    if container {
        carry(old, "container", &mut new, "container");
    }
    let utilization = take(old, "targetAverageUtilization");
    let kind = if utilization.is_some() {
        "Utilization"
    } else {
        "AverageValue"
    };
    let average_value = take(old, "targetAverageValue");
    new.insert(
        "target".to_owned(),
        values(Some(kind), None, average_value, utilization),
    );
    new
}

/// A pods metric could only target an average value.
fn pods_source(old: &mut Map<String, Value>) -> Map<String, Value> {
    let mut new = Map::new();
    new.insert("metric".to_owned(), metric(old, "selector"));
    let average_value = take(old, "targetAverageValue");
    new.insert(
        "target".to_owned(),
        values(Some("AverageValue"), None, average_value, None),
    );
    new
}

/// `AverageValue` when `averageValue` is set, else `Value`. v2beta1 always serialises
/// `targetValue`, as `0` when only `averageValue` was meant; upstream copies that zero into
/// `target.value`, which v2's validation ("must be positive") then refuses, so a zero beside
/// an average value is left out.
fn object_source(old: &mut Map<String, Value>) -> Map<String, Value> {
    let mut new = Map::new();
    carry(old, "target", &mut new, "describedObject");
    new.insert("metric".to_owned(), metric(old, "selector"));
    let average_value = take(old, "averageValue");
    let mut value = take(old, "targetValue");
    let kind = if average_value.is_some() {
        if value.as_ref().is_some_and(is_zero_quantity) {
            value = None;
        }
        "AverageValue"
    } else {
        "Value"
    };
    new.insert(
        "target".to_owned(),
        values(Some(kind), value, average_value, None),
    );
    new
}

/// `Value` when `targetValue` is set, else `AverageValue`.
fn external_source(old: &mut Map<String, Value>) -> Map<String, Value> {
    let mut new = Map::new();
    new.insert("metric".to_owned(), metric(old, "metricSelector"));
    let value = take(old, "targetValue");
    let kind = if value.is_some() {
        "Value"
    } else {
        "AverageValue"
    };
    let average_value = take(old, "targetAverageValue");
    new.insert(
        "target".to_owned(),
        values(Some(kind), value, average_value, None),
    );
    new
}

fn resource_status(old: &mut Map<String, Value>, container: bool) -> Map<String, Value> {
    let mut new = Map::new();
    carry(old, "name", &mut new, "name");
    if container {
        carry(old, "container", &mut new, "container");
    }
    let average_value = take(old, "currentAverageValue");
    let utilization = take(old, "currentAverageUtilization");
    new.insert(
        "current".to_owned(),
        values(None, None, average_value, utilization),
    );
    new
}

fn pods_status(old: &mut Map<String, Value>) -> Map<String, Value> {
    let mut new = Map::new();
    new.insert("metric".to_owned(), metric(old, "selector"));
    let average_value = take(old, "currentAverageValue");
    new.insert(
        "current".to_owned(),
        values(None, None, average_value, None),
    );
    new
}

fn object_status(old: &mut Map<String, Value>) -> Map<String, Value> {
    let mut new = Map::new();
    carry(old, "target", &mut new, "describedObject");
    new.insert("metric".to_owned(), metric(old, "selector"));
    let value = take(old, "currentValue");
    let average_value = take(old, "averageValue");
    new.insert(
        "current".to_owned(),
        values(None, value, average_value, None),
    );
    new
}

fn external_status(old: &mut Map<String, Value>) -> Map<String, Value> {
    let mut new = Map::new();
    new.insert("metric".to_owned(), metric(old, "metricSelector"));
    let value = take(old, "currentValue");
    let average_value = take(old, "currentAverageValue");
    new.insert(
        "current".to_owned(),
        values(None, value, average_value, None),
    );
    new
}

/// Whether a quantity (`"0"`, `"0.0"`, `"0m"`, `0`) is zero.
fn is_zero_quantity(quantity: &Value) -> bool {
    match quantity {
        Value::Number(number) => number.as_f64() == Some(0.0),
        Value::String(text) => {
            let mantissa: String = text
                .trim_start_matches(['+', '-'])
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            mantissa.contains('0') && mantissa.chars().all(|c| c == '0' || c == '.')
        }
        _ => false,
    }
}

/// `spec.behavior` from the annotation, renamed from Go's field names to v2's JSON names
/// (Go reads field names case-insensitively). Like upstream, a behavior with neither
/// direction set is none. A malformed annotation cannot come from an apiserver (it writes
/// the annotation and drops any other on write), so it is refused rather than ignored.
fn behavior_from_annotation(object: &Map<String, Value>) -> Result<Option<Value>, Lossy> {
    let Some(annotation) = object
        .get("metadata")
        .and_then(|metadata| metadata.get("annotations"))
        .and_then(|annotations| annotations.get(BEHAVIOR_ANNOTATION))
    else {
        return Ok(None);
    };
    let field = format!("metadata.annotations[{BEHAVIOR_ANNOTATION}]");
    let malformed = |why: String| {
        lossy(
            field.clone(),
            format!(
                "{why}; it is not what the apiserver writes, so the scaling behavior cannot \
                 be read from it: fix or remove the annotation in the backed-up object"
            ),
        )
    };
    let Value::String(text) = annotation else {
        return Err(malformed("is not a string".to_owned()));
    };
    let parsed: Value = serde_json::from_str(text).map_err(|e| malformed(e.to_string()))?;
    let Value::Object(directions) = parsed else {
        return Err(malformed("is not a JSON object".to_owned()));
    };
    let mut behavior = Map::new();
    for (key, rules) in directions {
        let name = go_field(&key, &["scaleUp", "scaleDown"])
            .ok_or_else(|| malformed(format!("{key} is not a behavior field")))?;
        if rules.is_null() {
            continue;
        }
        let rules = scaling_rules(rules).map_err(|why| malformed(format!("{key}: {why}")))?;
        behavior.insert(name.to_owned(), rules);
    }
    Ok((!behavior.is_empty()).then_some(Value::Object(behavior)))
}

/// One direction's rules, renamed.
fn scaling_rules(rules: Value) -> Result<Value, String> {
    const FIELDS: [&str; 4] = [
        "stabilizationWindowSeconds",
        "selectPolicy",
        "policies",
        "tolerance",
    ];
    let Value::Object(old) = rules else {
        return Err("is not an object".to_owned());
    };
    let mut new = Map::new();
    for (key, value) in old {
        let name = go_field(&key, &FIELDS).ok_or_else(|| format!("{key} is not a rules field"))?;
        if value.is_null() {
            continue;
        }
        let value = if name == "policies" {
            let Value::Array(policies) = value else {
                return Err("Policies is not an array".to_owned());
            };
            Value::Array(
                policies
                    .into_iter()
                    .map(scaling_policy)
                    .collect::<Result<_, _>>()?,
            )
        } else {
            value
        };
        new.insert(name.to_owned(), value);
    }
    Ok(Value::Object(new))
}

/// One policy (`{Type, Value, PeriodSeconds}`), renamed.
fn scaling_policy(policy: Value) -> Result<Value, String> {
    const FIELDS: [&str; 3] = ["type", "value", "periodSeconds"];
    let Value::Object(old) = policy else {
        return Err("a policy is not an object".to_owned());
    };
    let mut new = Map::new();
    for (key, value) in old {
        let name = go_field(&key, &FIELDS).ok_or_else(|| format!("{key} is not a policy field"))?;
        new.insert(name.to_owned(), value);
    }
    Ok(Value::Object(new))
}

/// The JSON name among `names` that a Go field name matches, case-insensitively.
fn go_field(key: &str, names: &[&'static str]) -> Option<&'static str> {
    names
        .iter()
        .find(|name| name.eq_ignore_ascii_case(key))
        .copied()
}

#[cfg(test)]
mod tests;
