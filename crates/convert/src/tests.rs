//! The crate-level tests: the conversion table, `find`, `convert`'s own checks; and the
//! helpers the per-kind tests share.

use serde_json::{Value, json};

use super::*;

/// The conversion that reads `object`'s `apiVersion` for `resource`.
pub(crate) fn conversion_for(object: &Value, resource: &str) -> &'static Conversion {
    let api_version = object["apiVersion"].as_str().expect("apiVersion");
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    conversion(group, version, resource)
}

/// The conversion that reads `group/version` `resource`, to any version.
pub(crate) fn conversion(group: &str, version: &str, resource: &str) -> &'static Conversion {
    let gr = GroupResource::new(group, resource);
    find(&gr, &[version.to_owned()], |_, _| true)
        .unwrap_or_else(|| panic!("no conversion from {group}/{version} {resource}"))
}

#[test]
fn cron_job_only_changes_api_version() {
    let before = json!({
        "apiVersion": "batch/v1beta1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "shop"},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}}
    });
    let after = conversion("batch", "v1beta1", "cronjobs")
        .convert(before.clone())
        .expect("converts");
    let mut expected = before;
    expected["apiVersion"] = json!("batch/v1");
    assert_eq!(after, expected);
}

#[test]
fn refuses_another_version_or_kind() {
    let cron = conversion("batch", "v1beta1", "cronjobs");
    let err = cron
        .convert(json!({"apiVersion": "batch/v1", "kind": "CronJob"}))
        .expect_err("wrong version");
    assert_eq!(err.field, "apiVersion");
    let err = cron
        .convert(json!({"apiVersion": "batch/v1beta1", "kind": "Job"}))
        .expect_err("wrong kind");
    assert_eq!(err.field, "kind");
}

#[test]
fn find_takes_the_backup_versions_in_priority_order_and_what_the_target_serves() {
    let cron = GroupResource::new("batch", "cronjobs");
    assert!(find(&cron, &["v1beta1".to_owned()], |_, _| false).is_none());
    assert!(find(&cron, &["v2alpha1".to_owned()], |_, _| true).is_none());
    let found = find(&cron, &["v1beta1".to_owned()], |gr, v| {
        gr.group == "batch" && v == "v1"
    })
    .expect("found");
    assert_eq!(found.to.api_version(), "batch/v1");
}

#[test]
fn every_conversion_is_found_from_its_version_and_changes_only_the_version_or_the_group() {
    for c in all() {
        let found = find(
            &c.from.group_resource(),
            &[c.from.version.to_owned()],
            |gr, v| *gr == c.to.group_resource() && v == c.to.version,
        )
        .unwrap_or_else(|| panic!("{} {} not found", c.kind, c.from.api_version()));
        assert_eq!(found.from, c.from);
        assert_eq!(found.to.resource, c.from.resource, "{}", c.kind);
        assert_ne!(found.from.api_version(), found.to.api_version());
        assert!(!found.summary.is_empty());
    }
    let froms: Vec<String> = all()
        .iter()
        .map(|c| format!("{} {}", c.from.api_version(), c.from.resource))
        .collect();
    let mut unique = froms.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        froms.len(),
        unique.len(),
        "one conversion per source: {froms:?}"
    );
}

#[test]
fn the_ingress_of_the_extensions_group_converts_into_networking() {
    let ingresses = GroupResource::new("extensions", "ingresses");
    let found = find(&ingresses, &["v1beta1".to_owned()], |gr, v| {
        gr.group == "networking.k8s.io" && gr.resource == "ingresses" && v == "v1"
    })
    .expect("found");
    assert_eq!(found.to.api_version(), "networking.k8s.io/v1");
    assert!(
        find(&ingresses, &["v1beta1".to_owned()], |gr, _| gr.group
            == "extensions")
        .is_none()
    );
}

#[test]
fn find_prefers_the_first_backup_version_with_a_conversion() {
    let priority_levels = GroupResource::new(FLOWCONTROL, "prioritylevelconfigurations");
    let backup = [
        "v1beta3".to_owned(),
        "v1beta2".to_owned(),
        "v1beta1".to_owned(),
    ];
    let found = find(&priority_levels, &backup, |_, v| v == "v1").expect("found");
    assert_eq!(found.from.version, "v1beta3");
    let backup = [
        "v1alpha1".to_owned(),
        "v1beta2".to_owned(),
        "v1beta3".to_owned(),
    ];
    let found = find(&priority_levels, &backup, |_, v| v == "v1").expect("found");
    assert_eq!(found.from.version, "v1beta2");
    assert!(find(&priority_levels, &backup, |_, v| v == "v2").is_none());
}

#[test]
fn same_schema_conversions_change_only_api_version() {
    let objects = [
        json!({
            "apiVersion": "autoscaling/v2beta2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 2, "maxReplicas": 10,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 70}}}],
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300,
                    "policies": [{"type": "Percent", "value": 10, "periodSeconds": 60}]}}
            }
        }),
        json!({
            "apiVersion": "storage.k8s.io/v1beta1",
            "kind": "CSIStorageCapacity",
            "metadata": {"name": "csisc-abc12", "namespace": "kube-system"},
            "nodeTopology": {"matchLabels": {"topology.hostpath.csi/node": "node-1"}},
            "storageClassName": "fast",
            "capacity": "100Gi",
            "maximumVolumeSize": "50Gi"
        }),
        json!({
            "apiVersion": "flowcontrol.apiserver.k8s.io/v1beta2",
            "kind": "FlowSchema",
            "metadata": {"name": "probes"},
            "spec": {
                "priorityLevelConfiguration": {"name": "exempt"},
                "matchingPrecedence": 2,
                "distinguisherMethod": {"type": "ByUser"},
                "rules": [{
                    "subjects": [{"kind": "Group", "group": {"name": "system:unauthenticated"}}],
                    "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]
                }]
            }
        }),
    ];
    let resources = [
        "horizontalpodautoscalers",
        "csistoragecapacities",
        "flowschemas",
    ];
    for (before, resource) in objects.into_iter().zip(resources) {
        let c = conversion_for(&before, resource);
        let after = c.convert(before.clone()).expect("converts");
        let mut expected = before;
        expected["apiVersion"] = json!(c.to.api_version());
        assert_eq!(after, expected);
        assert_eq!(c.summary, "only apiVersion changes");
    }
}
