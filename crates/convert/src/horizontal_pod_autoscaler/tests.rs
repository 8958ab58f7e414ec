//! HorizontalPodAutoscaler v2beta1 → v2 tests: every metric source and status, the behavior
//! annotation, the refusals, and a round trip through a test-only inverse (upstream's
//! v2 → v2beta1 conversion, including its Go-named behavior annotation).

use serde_json::{Map, Value, json};

use super::{BEHAVIOR_ANNOTATION, is_zero_quantity};
use crate::Lossy;
use crate::tests::conversion;

fn convert(before: Value) -> Result<Value, Lossy> {
    conversion("autoscaling", "v2beta1", "horizontalpodautoscalers").convert(before)
}

fn check(before: Value, after: Value) {
    assert_eq!(convert(before).expect("converts"), after);
}

fn refused(before: Value) -> Lossy {
    convert(before).expect_err("refused")
}

fn ingress_main() -> Value {
    json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "main"})
}

/// What the Go encoder writes for the default behavior of a 1.23 apiserver.
const GO_BEHAVIOR: &str = concat!(
    r#"{"ScaleUp":{"StabilizationWindowSeconds":0,"SelectPolicy":"Max","Policies":["#,
    r#"{"Type":"Pods","Value":4,"PeriodSeconds":15},"#,
    r#"{"Type":"Percent","Value":100,"PeriodSeconds":15}]},"#,
    r#""ScaleDown":{"StabilizationWindowSeconds":300,"SelectPolicy":"Max","Policies":["#,
    r#"{"Type":"Percent","Value":100,"PeriodSeconds":15}]}}"#
);

/// An autoscaler with every kind of metric, as a 1.23 apiserver served it at v2beta1.
fn web() -> Value {
    json!({
        "apiVersion": "autoscaling/v2beta1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "annotations": {BEHAVIOR_ANNOTATION: GO_BEHAVIOR, "team": "storefront"}
        },
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2,
            "maxReplicas": 20,
            "metrics": [
                {"type": "Resource", "resource": {"name": "cpu", "targetAverageUtilization": 70}},
                {"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "512Mi"}},
                {"type": "ContainerResource", "containerResource":
                    {"name": "cpu", "container": "app", "targetAverageUtilization": 60}},
                {"type": "Pods", "pods": {"metricName": "http_requests",
                    "selector": {"matchLabels": {"verb": "GET"}}, "targetAverageValue": "100"}},
                {"type": "Object", "object": {"target": ingress_main(),
                    "metricName": "requests-per-second", "targetValue": "10k"}},
                {"type": "Object", "object": {"target": ingress_main(),
                    "metricName": "rps-per-pod", "targetValue": "0", "averageValue": "500"}},
                {"type": "External", "external": {"metricName": "queue_messages_ready",
                    "metricSelector": {"matchLabels": {"queue": "worker_tasks"}},
                    "targetAverageValue": "30"}},
                {"type": "External", "external": {"metricName": "lag", "targetValue": "1k"}}
            ]
        },
        "status": {
            "observedGeneration": 3,
            "lastScaleTime": "2022-05-01T10:00:00Z",
            "currentReplicas": 4,
            "desiredReplicas": 4,
            "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu",
                    "currentAverageUtilization": 45, "currentAverageValue": "450m"}},
                {"type": "ContainerResource", "containerResource": {"name": "cpu",
                    "container": "app", "currentAverageUtilization": 40,
                    "currentAverageValue": "400m"}},
                {"type": "Pods", "pods": {"metricName": "http_requests",
                    "selector": {"matchLabels": {"verb": "GET"}}, "currentAverageValue": "80"}},
                {"type": "Object", "object": {"target": ingress_main(),
                    "metricName": "requests-per-second", "currentValue": "8k"}},
                {"type": "Object", "object": {"target": ingress_main(),
                    "metricName": "rps-per-pod", "currentValue": "0", "averageValue": "450"}},
                {"type": "External", "external": {"metricName": "queue_messages_ready",
                    "metricSelector": {"matchLabels": {"queue": "worker_tasks"}},
                    "currentValue": "0", "currentAverageValue": "25"}}
            ],
            "conditions": [{"type": "AbleToScale", "status": "True",
                "lastTransitionTime": "2022-05-01T09:00:00Z", "reason": "ReadyForNewScale",
                "message": "recommended size matches current size"}]
        }
    })
}

#[test]
fn every_metric_moves_into_target_current_and_metric() {
    check(
        web(),
        json!({
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {
                "name": "web",
                "namespace": "shop",
                "annotations": {BEHAVIOR_ANNOTATION: GO_BEHAVIOR, "team": "storefront"}
            },
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 2,
                "maxReplicas": 20,
                "metrics": [
                    {"type": "Resource", "resource": {"name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70}}},
                    {"type": "Resource", "resource": {"name": "memory",
                        "target": {"type": "AverageValue", "averageValue": "512Mi"}}},
                    {"type": "ContainerResource", "containerResource": {"name": "cpu",
                        "container": "app",
                        "target": {"type": "Utilization", "averageUtilization": 60}}},
                    {"type": "Pods", "pods": {
                        "metric": {"name": "http_requests",
                            "selector": {"matchLabels": {"verb": "GET"}}},
                        "target": {"type": "AverageValue", "averageValue": "100"}}},
                    {"type": "Object", "object": {"describedObject": ingress_main(),
                        "metric": {"name": "requests-per-second"},
                        "target": {"type": "Value", "value": "10k"}}},
                    {"type": "Object", "object": {"describedObject": ingress_main(),
                        "metric": {"name": "rps-per-pod"},
                        "target": {"type": "AverageValue", "averageValue": "500"}}},
                    {"type": "External", "external": {
                        "metric": {"name": "queue_messages_ready",
                            "selector": {"matchLabels": {"queue": "worker_tasks"}}},
                        "target": {"type": "AverageValue", "averageValue": "30"}}},
                    {"type": "External", "external": {"metric": {"name": "lag"},
                        "target": {"type": "Value", "value": "1k"}}}
                ],
                "behavior": {
                    "scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
                        "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15},
                                     {"type": "Percent", "value": 100, "periodSeconds": 15}]},
                    "scaleDown": {"stabilizationWindowSeconds": 300, "selectPolicy": "Max",
                        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}
                }
            },
            "status": {
                "observedGeneration": 3,
                "lastScaleTime": "2022-05-01T10:00:00Z",
                "currentReplicas": 4,
                "desiredReplicas": 4,
                "currentMetrics": [
                    {"type": "Resource", "resource": {"name": "cpu",
                        "current": {"averageValue": "450m", "averageUtilization": 45}}},
                    {"type": "ContainerResource", "containerResource": {"name": "cpu",
                        "container": "app",
                        "current": {"averageValue": "400m", "averageUtilization": 40}}},
                    {"type": "Pods", "pods": {
                        "metric": {"name": "http_requests",
                            "selector": {"matchLabels": {"verb": "GET"}}},
                        "current": {"averageValue": "80"}}},
                    {"type": "Object", "object": {"describedObject": ingress_main(),
                        "metric": {"name": "requests-per-second"},
                        "current": {"value": "8k"}}},
                    {"type": "Object", "object": {"describedObject": ingress_main(),
                        "metric": {"name": "rps-per-pod"},
                        "current": {"value": "0", "averageValue": "450"}}},
                    {"type": "External", "external": {
                        "metric": {"name": "queue_messages_ready",
                            "selector": {"matchLabels": {"queue": "worker_tasks"}}},
                        "current": {"value": "0", "averageValue": "25"}}}
                ],
                "conditions": [{"type": "AbleToScale", "status": "True",
                    "lastTransitionTime": "2022-05-01T09:00:00Z", "reason": "ReadyForNewScale",
                    "message": "recommended size matches current size"}]
            }
        }),
    );
}

/// An autoscaler whose only difference is its behavior annotation.
fn with_behavior(annotation: &str) -> Value {
    json!({
        "apiVersion": "autoscaling/v2beta1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "q", "namespace": "jobs",
            "annotations": {BEHAVIOR_ANNOTATION: annotation}},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "q"}, "maxReplicas": 3}
    })
}

#[test]
fn the_behavior_annotation_is_read_like_go_reads_it() {
    let converted = convert(with_behavior(
        r#"{"scaleup":null,"ScaleDown":{"stabilizationWindowSeconds":60,"SelectPolicy":null,"Policies":null}}"#,
    ))
    .expect("converts");
    assert_eq!(
        converted["spec"]["behavior"],
        json!({"scaleDown": {"stabilizationWindowSeconds": 60}})
    );
    let converted =
        convert(with_behavior(r#"{"ScaleUp":null,"ScaleDown":null}"#)).expect("converts");
    assert_eq!(
        converted["spec"].get("behavior"),
        None,
        "an empty behavior is none"
    );
}

#[test]
fn refuses_what_v2_cannot_hold_or_what_cannot_be_read() {
    let field = format!("metadata.annotations[{BEHAVIOR_ANNOTATION}]");
    for annotation in [
        "{not json",
        r#"["ScaleUp"]"#,
        r#"{"ScaleSideways":{}}"#,
        r#"{"ScaleUp":{"Cooldown":5}}"#,
        r#"{"ScaleUp":{"Policies":[{"Type":"Pods","Value":1,"PeriodSeconds":1,"Burst":2}]}}"#,
    ] {
        let err = refused(with_behavior(annotation));
        assert_eq!(err.field, field, "{annotation}");
    }

    let mut container_on_resource = web();
    container_on_resource["spec"]["metrics"][0]["resource"]["container"] = json!("app");
    assert_eq!(
        refused(container_on_resource).field,
        "spec.metrics[0].resource.container"
    );

    let mut unknown_source = web();
    unknown_source["spec"]["metrics"][1]["custom"] = json!({"metricName": "x"});
    assert_eq!(refused(unknown_source).field, "spec.metrics[1].custom");

    let mut unknown_status = web();
    unknown_status["status"]["currentMetrics"][2]["pods"]["currentValue"] = json!("3");
    assert_eq!(
        refused(unknown_status).field,
        "status.currentMetrics[2].pods.currentValue"
    );

    let mut not_an_object = web();
    not_an_object["spec"]["metrics"][3]["pods"] = json!("http_requests");
    assert_eq!(refused(not_an_object).field, "spec.metrics[3].pods");
}

#[test]
fn only_a_zero_target_value_beside_an_average_is_left_out() {
    let mut before = web();
    before["spec"]["metrics"][5]["object"]["targetValue"] = json!("2");
    let after = convert(before).expect("converts");
    assert_eq!(
        after["spec"]["metrics"][5]["object"]["target"],
        json!({"type": "AverageValue", "value": "2", "averageValue": "500"})
    );
    for zero in [json!("0"), json!("0.0"), json!("0m"), json!("-0"), json!(0)] {
        assert!(is_zero_quantity(&zero), "{zero}");
    }
    for not_zero in [
        json!("10m"),
        json!("0.5"),
        json!("1"),
        json!(""),
        json!("m"),
        json!(null),
    ] {
        assert!(!is_zero_quantity(&not_zero), "{not_zero}");
    }
}

/// The inverse, as upstream serves a v2 autoscaler at v2beta1.
fn to_v2beta1(mut object: Value) -> Value {
    object["apiVersion"] = json!("autoscaling/v2beta1");
    let behavior = object
        .get_mut("spec")
        .and_then(Value::as_object_mut)
        .and_then(|spec| spec.remove("behavior"));
    if let Some(annotations) = object
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.remove(BEHAVIOR_ANNOTATION);
    }
    if let Some(behavior) = behavior {
        object["metadata"]["annotations"][BEHAVIOR_ANNOTATION] = json!(go_behavior(&behavior));
    }
    for (path, status) in [("/spec/metrics", false), ("/status/currentMetrics", true)] {
        for entry in object
            .pointer_mut(path)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let entry = entry.as_object_mut().expect("an entry");
            for (key, source) in entry.iter_mut() {
                if key != "type" {
                    *source = source_to_v2beta1(key, source, status);
                }
            }
        }
    }
    object
}

/// v2beta1 always serialises these quantities, as `0` when unset.
fn quantity(value: &Value) -> Value {
    if value.is_null() {
        json!("0")
    } else {
        value.clone()
    }
}

fn source_to_v2beta1(key: &str, new: &Value, status: bool) -> Value {
    let mut old = Map::new();
    let mut set = |name: &str, value: &Value| {
        if !value.is_null() {
            old.insert(name.to_owned(), value.clone());
        }
    };
    let metric = &new["metric"];
    let (target, current) = (&new["target"], &new["current"]);
    match (key, status) {
        ("resource" | "containerResource", false) => {
            set("name", &new["name"]);
            set("container", &new["container"]);
            set("targetAverageUtilization", &target["averageUtilization"]);
            set("targetAverageValue", &target["averageValue"]);
        }
        ("resource" | "containerResource", true) => {
            set("name", &new["name"]);
            set("container", &new["container"]);
            set("currentAverageUtilization", &current["averageUtilization"]);
            set("currentAverageValue", &quantity(&current["averageValue"]));
        }
        ("pods", _) => {
            set("metricName", &metric["name"]);
            set("selector", &metric["selector"]);
            if status {
                set("currentAverageValue", &quantity(&current["averageValue"]));
            } else {
                set("targetAverageValue", &quantity(&target["averageValue"]));
            }
        }
        ("object", _) => {
            set("target", &new["describedObject"]);
            set("metricName", &metric["name"]);
            set("selector", &metric["selector"]);
            let values = if status { current } else { target };
            let value_key = if status {
                "currentValue"
            } else {
                "targetValue"
            };
            set(value_key, &quantity(&values["value"]));
            set("averageValue", &values["averageValue"]);
        }
        ("external", false) => {
            set("metricName", &metric["name"]);
            set("metricSelector", &metric["selector"]);
            set("targetValue", &target["value"]);
            set("targetAverageValue", &target["averageValue"]);
        }
        ("external", true) => {
            set("metricName", &metric["name"]);
            set("metricSelector", &metric["selector"]);
            set("currentValue", &quantity(&current["value"]));
            set("currentAverageValue", &current["averageValue"]);
        }
        _ => panic!("no source {key}"),
    }
    Value::Object(old)
}

/// `behavior` as Go's encoder writes the internal type: field names, declaration order, nulls.
fn go_behavior(behavior: &Value) -> String {
    let rules = |rules: &Value| {
        if rules.is_null() {
            return "null".to_owned();
        }
        let policies = match rules["policies"].as_array() {
            None => "null".to_owned(),
            Some(policies) => {
                let policies: Vec<String> = policies
                    .iter()
                    .map(|p| {
                        format!(
                            r#"{{"Type":{},"Value":{},"PeriodSeconds":{}}}"#,
                            p["type"], p["value"], p["periodSeconds"]
                        )
                    })
                    .collect();
                format!("[{}]", policies.join(","))
            }
        };
        format!(
            r#"{{"StabilizationWindowSeconds":{},"SelectPolicy":{},"Policies":{policies}}}"#,
            rules["stabilizationWindowSeconds"], rules["selectPolicy"]
        )
    };
    format!(
        r#"{{"ScaleUp":{},"ScaleDown":{}}}"#,
        rules(&behavior["scaleUp"]),
        rules(&behavior["scaleDown"])
    )
}

#[test]
fn round_trips() {
    let minimal = json!({
        "apiVersion": "autoscaling/v2beta1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "name": "api"}, "maxReplicas": 5}
    });
    let scale_down_only = with_behavior(
        r#"{"ScaleUp":null,"ScaleDown":{"StabilizationWindowSeconds":120,"SelectPolicy":"Min","Policies":[{"Type":"Pods","Value":1,"PeriodSeconds":60}]}}"#,
    );
    let external_only = json!({
        "apiVersion": "autoscaling/v2beta1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "worker", "namespace": "jobs", "labels": {"app": "worker"}},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "worker"},
            "minReplicas": 1, "maxReplicas": 50,
            "metrics": [{"type": "External", "external": {"metricName": "sqs_depth",
                "metricSelector": {"matchExpressions": [{"key": "queue", "operator": "In",
                    "values": ["a", "b"]}]},
                "targetValue": "100", "targetAverageValue": "10"}}]
        },
        "status": {"currentReplicas": 1, "desiredReplicas": 1, "currentMetrics": [
            {"type": "External", "external": {"metricName": "sqs_depth",
                "currentValue": "40"}}
        ], "conditions": []}
    });
    for before in [web(), minimal, scale_down_only, external_only] {
        let after = convert(before.clone()).expect("converts");
        assert_eq!(to_v2beta1(after), before);
    }
}
