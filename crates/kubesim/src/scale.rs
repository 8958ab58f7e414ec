//! The `scale` subresource of the built-in workloads (`autoscaling/v1` `Scale`), which
//! `kubectl scale` and autoscalers use: a view of `spec.replicas` and the selector.

use serde_json::{Map, Value, json};

/// The Scale object for a workload.
pub(crate) fn scale_of(workload: &Value) -> Value {
    let mut metadata = Map::new();
    for field in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(value) = workload.pointer(&format!("/metadata/{field}")) {
            metadata.insert(field.into(), value.clone());
        }
    }
    let replicas = workload
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let mut status = Map::new();
    status.insert(
        "replicas".into(),
        workload
            .pointer("/status/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            .into(),
    );
    let selector = selector_text(workload);
    if !selector.is_empty() {
        status.insert("selector".into(), selector.into());
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": metadata,
        "spec": {"replicas": replicas},
        "status": status,
    })
}

/// The workload's selector as a label selector string (`matchLabels` of apps workloads, the
/// plain map of replication controllers).
fn selector_text(workload: &Value) -> String {
    let selector = workload.pointer("/spec/selector");
    let labels = selector
        .and_then(|s| s.get("matchLabels"))
        .or(selector)
        .and_then(Value::as_object);
    let mut parts: Vec<String> = labels
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
                .collect()
        })
        .unwrap_or_default();
    if let Some(expressions) = selector
        .and_then(|s| s.get("matchExpressions"))
        .and_then(Value::as_array)
    {
        for expression in expressions {
            let key = expression
                .get("key")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let values: Vec<&str> = expression
                .get("values")
                .and_then(Value::as_array)
                .map(|v| v.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match expression.get("operator").and_then(Value::as_str) {
                Some("In") => parts.push(format!("{key} in ({})", values.join(","))),
                Some("NotIn") => parts.push(format!("{key} notin ({})", values.join(","))),
                Some("Exists") => parts.push(key.to_owned()),
                Some("DoesNotExist") => parts.push(format!("!{key}")),
                _ => {}
            }
        }
    }
    parts.join(",")
}

/// The replica count a changed Scale asks for.
pub(crate) fn wanted_replicas(scale: &Value) -> Result<i64, String> {
    match scale.pointer("/spec/replicas") {
        None => Ok(0),
        Some(value) => value.as_i64().filter(|r| *r >= 0).ok_or_else(|| {
            format!("spec.replicas: Invalid value: {value}: must be greater than or equal to 0")
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_shows_replicas_and_selector() {
        let deployment = json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "u", "resourceVersion": "7", "labels": {"x": "y"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]}},
            "status": {"replicas": 1},
        });
        assert_eq!(
            scale_of(&deployment),
            json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
                   "metadata": {"name": "web", "namespace": "default", "uid": "u", "resourceVersion": "7"},
                   "spec": {"replicas": 2}, "status": {"replicas": 1, "selector": "app=web,tier in (a,b)"}})
        );
        let rc = json!({"metadata": {"name": "rc"}, "spec": {"selector": {"app": "old"}}});
        assert_eq!(
            scale_of(&rc)["status"],
            json!({"replicas": 0, "selector": "app=old"})
        );
        assert_eq!(scale_of(&rc)["spec"]["replicas"], 1);
    }

    #[test]
    fn wanted_replicas_must_be_a_count() {
        assert_eq!(wanted_replicas(&json!({"spec": {"replicas": 3}})), Ok(3));
        assert_eq!(wanted_replicas(&json!({"spec": {}})), Ok(0));
        assert!(wanted_replicas(&json!({"spec": {"replicas": -1}})).is_err());
        assert!(wanted_replicas(&json!({"spec": {"replicas": "x"}})).is_err());
    }
}
