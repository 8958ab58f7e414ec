//! Rewrites container images by the rules of the velero.io/change-image-name ConfigMap, in pods
//! and in the pod templates of workloads, for containers and init containers: the first rule
//! (by ConfigMap key) whose old part occurs in an image replaces every occurrence of it.

use godwit_versioning::GroupResource;
use serde_json::Value;

use super::{Item, is};
use crate::json::get_mut;
use crate::{Outcome, RestoreContext};

pub(crate) fn applies_to(gr: &GroupResource) -> bool {
    is(gr, "", "pods")
        || is(gr, "", "replicationcontrollers")
        || is(gr, "apps", "deployments")
        || is(gr, "apps", "statefulsets")
        || is(gr, "apps", "daemonsets")
        || is(gr, "apps", "replicasets")
        || is(gr, "batch", "jobs")
        || is(gr, "batch", "cronjobs")
}

pub(crate) fn apply(object: &mut Value, item: &Item<'_>, ctx: &RestoreContext) -> Outcome {
    if ctx.image_name_mapping.is_empty() {
        return Outcome::default();
    }
    let pod_spec: &[&str] = if is(item.group_resource, "", "pods") {
        &["spec"]
    } else if is(item.group_resource, "batch", "cronjobs") {
        &["spec", "jobTemplate", "spec", "template", "spec"]
    } else {
        &["spec", "template", "spec"]
    };
    let Some(pod_spec) = get_mut(object, pod_spec) else {
        return Outcome::default();
    };
    for list in ["containers", "initContainers"] {
        let containers = get_mut(pod_spec, &[list]).and_then(Value::as_array_mut);
        for container in containers.into_iter().flatten() {
            let Some(slot) = get_mut(container, &["image"]) else {
                continue;
            };
            if let Some(image) = slot
                .as_str()
                .and_then(|image| ctx.image_name_mapping.rewrite(image))
            {
                *slot = Value::String(image);
            }
        }
    }
    Outcome::default()
}
