//! Velero's built-in backup item actions that change what is stored or pull related objects in,
//! as pure functions over an object's JSON:
//!
//! - pods (`velero.io/pod`): the PersistentVolumeClaims a pod mounts and its PriorityClass are
//!   backed up with it, even when a label selector or the cluster-scope rule would leave them out;
//! - persistent volume claims (`velero.io/pv`): a bound claim pulls its PersistentVolume in, and
//!   is cleaned of what would stop a restored claim from binding anew (`dataSource`,
//!   `dataSourceRef`, a `selector` unless the claim opts out of dynamic provisioning, stale
//!   `velero.io/` labels).
//!
//! Not done: the service account action (cluster roles and bindings naming a backed-up service
//! account), CSI snapshot actions, and plugins.

use serde_json::Value;

use godwit_versioning::GroupResource;

/// An object another one pulls into the backup.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Related {
    pub(crate) group_resource: GroupResource,
    pub(crate) namespace: Option<String>,
    pub(crate) name: String,
}

/// The group-resources whose objects others pull in.
pub(crate) fn pulled_in() -> [GroupResource; 3] {
    [
        persistent_volume_claims(),
        persistent_volumes(),
        priority_classes(),
    ]
}

pub(crate) fn persistent_volume_claims() -> GroupResource {
    GroupResource::new("", "persistentvolumeclaims")
}

pub(crate) fn persistent_volumes() -> GroupResource {
    GroupResource::new("", "persistentvolumes")
}

pub(crate) fn priority_classes() -> GroupResource {
    GroupResource::new("scheduling.k8s.io", "priorityclasses")
}

fn pods() -> GroupResource {
    GroupResource::new("", "pods")
}

/// Labels a restore or an earlier backup left on a claim, which must not travel further.
const STALE_CLAIM_LABELS: [&str; 2] = ["velero.io/restore-name", "velero.io/volume-snapshot-name"];
const BACKUP_NAME_LABEL: &str = "velero.io/backup-name";

/// Runs the built-in action for this object's group-resource, if any: changes the object in place
/// and returns the objects it pulls in.
pub(crate) fn apply(
    group_resource: &GroupResource,
    namespace: Option<&str>,
    object: &mut Value,
    backup_name: &str,
) -> Vec<Related> {
    if *group_resource == pods() {
        pod(namespace, object)
    } else if *group_resource == persistent_volume_claims() {
        persistent_volume_claim(object, backup_name)
            .into_iter()
            .collect()
    } else {
        Vec::new()
    }
}

/// The claims a pod mounts (in its namespace) and its PriorityClass.
fn pod(namespace: Option<&str>, pod: &Value) -> Vec<Related> {
    let mut related = Vec::new();
    let spec = &pod["spec"];
    if let Some(name) = spec["priorityClassName"].as_str().filter(|n| !n.is_empty()) {
        related.push(Related {
            group_resource: priority_classes(),
            namespace: None,
            name: name.to_owned(),
        });
    }
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        let claim = volume["persistentVolumeClaim"]["claimName"].as_str();
        if let (Some(claim), Some(namespace)) = (claim.filter(|c| !c.is_empty()), namespace) {
            related.push(Related {
                group_resource: persistent_volume_claims(),
                namespace: Some(namespace.to_owned()),
                name: claim.to_owned(),
            });
        }
    }
    related
}

/// Cleans a bound claim and returns its volume; an unbound claim is left as it is.
fn persistent_volume_claim(claim: &mut Value, backup_name: &str) -> Option<Related> {
    let bound = claim["status"]["phase"].as_str() == Some("Bound");
    let volume = claim["spec"]["volumeName"]
        .as_str()
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let volume = volume.filter(|_| bound)?;
    if let Some(spec) = claim.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("dataSource");
        spec.remove("dataSourceRef");
        // An empty storage class asks for a pre-made volume, found through the selector; any
        // other claim binds to a new volume, which a selector would get in the way of.
        let static_binding = spec.get("storageClassName").and_then(Value::as_str) == Some("");
        if !static_binding {
            spec.remove("selector");
        }
        if let Some(selector) = spec.get_mut("selector").and_then(Value::as_object_mut)
            && let Some(match_labels) = selector
                .get_mut("matchLabels")
                .and_then(Value::as_object_mut)
        {
            match_labels.retain(|key, _| !key.starts_with("velero.io/"));
            if match_labels.is_empty() {
                selector.remove("matchLabels");
            }
        }
    }
    if let Some(metadata) = claim.get_mut("metadata").and_then(Value::as_object_mut)
        && let Some(labels) = metadata.get_mut("labels").and_then(Value::as_object_mut)
    {
        labels.retain(|key, value| {
            let stale_backup = key == BACKUP_NAME_LABEL && value.as_str() != Some(backup_name);
            !(STALE_CLAIM_LABELS.contains(&key.as_str()) || stale_backup)
        });
        if labels.is_empty() {
            metadata.remove("labels");
        }
    }
    Some(Related {
        group_resource: persistent_volumes(),
        namespace: None,
        name: volume,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(group_resource: GroupResource, mut object: Value, expected: Value, related: &[&str]) {
        let pulled = apply(&group_resource, Some("music"), &mut object, "nightly");
        assert_eq!(object, expected);
        let pulled: Vec<String> = pulled
            .iter()
            .map(|r| match &r.namespace {
                Some(ns) => format!("{} {ns}/{}", r.group_resource, r.name),
                None => format!("{} {}", r.group_resource, r.name),
            })
            .collect();
        assert_eq!(pulled, related);
    }

    #[test]
    fn a_pod_pulls_in_its_claims_and_priority_class() {
        let pod = json!({
            "metadata": {"name": "web-0", "namespace": "music"},
            "spec": {
                "priorityClassName": "high",
                "volumes": [
                    {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
                    {"name": "config", "configMap": {"name": "setlist"}},
                    {"name": "empty", "persistentVolumeClaim": {"claimName": ""}}
                ]
            }
        });
        check(
            pods(),
            pod.clone(),
            pod,
            &[
                "priorityclasses.scheduling.k8s.io high",
                "persistentvolumeclaims music/data",
            ],
        );
        let bare = json!({"metadata": {"name": "x"}, "spec": {}});
        check(pods(), bare.clone(), bare, &[]);
    }

    #[test]
    fn a_bound_claim_is_cleaned_and_pulls_in_its_volume() {
        let claim = json!({
            "metadata": {"name": "data", "labels": {
                "app": "web",
                "velero.io/restore-name": "r1",
                "velero.io/backup-name": "old",
                "velero.io/volume-snapshot-name": "s1"
            }},
            "spec": {
                "storageClassName": "fast",
                "volumeName": "pv-data",
                "selector": {"matchLabels": {"tier": "db"}},
                "dataSource": {"kind": "VolumeSnapshot", "name": "snap"},
                "dataSourceRef": {"kind": "VolumeSnapshot", "name": "snap"}
            },
            "status": {"phase": "Bound"}
        });
        let cleaned = json!({
            "metadata": {"name": "data", "labels": {"app": "web"}},
            "spec": {"storageClassName": "fast", "volumeName": "pv-data"},
            "status": {"phase": "Bound"}
        });
        check(
            persistent_volume_claims(),
            claim,
            cleaned,
            &["persistentvolumes pv-data"],
        );

        // Static binding keeps its selector, without Velero's own labels; this backup's own
        // backup-name label stays.
        let claim = json!({
            "metadata": {"name": "data", "labels": {"velero.io/backup-name": "nightly"}},
            "spec": {
                "storageClassName": "",
                "volumeName": "pv-data",
                "selector": {"matchLabels": {"velero.io/restore-name": "r1", "tier": "db"}}
            },
            "status": {"phase": "Bound"}
        });
        let cleaned = json!({
            "metadata": {"name": "data", "labels": {"velero.io/backup-name": "nightly"}},
            "spec": {
                "storageClassName": "",
                "volumeName": "pv-data",
                "selector": {"matchLabels": {"tier": "db"}}
            },
            "status": {"phase": "Bound"}
        });
        check(
            persistent_volume_claims(),
            claim,
            cleaned,
            &["persistentvolumes pv-data"],
        );
    }

    #[test]
    fn an_unbound_claim_and_other_objects_are_left_alone() {
        let pending = json!({
            "metadata": {"name": "data", "labels": {"velero.io/restore-name": "r1"}},
            "spec": {"volumeName": "pv-data", "dataSource": {"name": "snap"}},
            "status": {"phase": "Pending"}
        });
        check(persistent_volume_claims(), pending.clone(), pending, &[]);
        let configmap = json!({"metadata": {"name": "setlist"}});
        check(
            GroupResource::new("", "configmaps"),
            configmap.clone(),
            configmap,
            &[],
        );
    }
}
