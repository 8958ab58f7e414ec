//! The objects the scenarios create, as JSON bodies, and the API resources they live under.

use kube::core::ApiResource;
use serde_json::{Value, json};

use crate::scenarios::{CUSTOM_KIND, CUSTOM_PLURAL, Names, POLICY_LABEL, RUN_LABEL};

/// An API resource by its parts.
pub fn api_resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: group.to_owned(),
        version: version.to_owned(),
        api_version: if group.is_empty() {
            version.to_owned()
        } else {
            format!("{group}/{version}")
        },
        kind: kind.to_owned(),
        plural: plural.to_owned(),
    }
}

/// Where CRDs live.
pub fn custom_resource_definitions() -> ApiResource {
    api_resource(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
    )
}

/// Where namespaces live.
pub fn namespaces() -> ApiResource {
    api_resource("", "v1", "Namespace", "namespaces")
}

/// Where ConfigMaps live.
pub fn config_maps() -> ApiResource {
    api_resource("", "v1", "ConfigMap", "configmaps")
}

/// The ConfigMap in which kube-controller-manager publishes the cluster CA, in every namespace.
pub const ROOT_CA_CONFIG_MAP: &str = "kube-root-ca.crt";

/// Where ServiceAccounts live.
pub fn service_accounts() -> ApiResource {
    api_resource("", "v1", "ServiceAccount", "serviceaccounts")
}

/// Where persistent volumes live.
pub fn persistent_volumes() -> ApiResource {
    api_resource("", "v1", "PersistentVolume", "persistentvolumes")
}

/// Where persistent volume claims live.
pub fn persistent_volume_claims() -> ApiResource {
    api_resource("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims")
}

/// Where Services live.
pub fn services() -> ApiResource {
    api_resource("", "v1", "Service", "services")
}

/// Where HorizontalPodAutoscalers live, at one version.
pub fn horizontal_pod_autoscalers(version: &str) -> ApiResource {
    api_resource(
        "autoscaling",
        version,
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
    )
}

/// A scenario's custom resource, at one version.
pub fn widgets(names: &Names, scenario: &str, version: &str) -> ApiResource {
    api_resource(&names.group(scenario), version, CUSTOM_KIND, CUSTOM_PLURAL)
}

/// The name of every object a scenario creates in the namespace (one per kind).
pub const OBJECT_NAME: &str = "e2e";

/// The name of the PVC of the namespace-mapping scenario.
pub const CLAIM_NAME: &str = "data";

/// The storage class the PV and PVC name; it need not exist, static binding ignores it.
const STORAGE_CLASS: &str = "godwit-e2e-manual";

fn metadata(names: &Names, name: &str, namespace: Option<&str>) -> Value {
    let mut metadata = json!({"name": name, "labels": {RUN_LABEL: names.run}});
    if let Some(namespace) = namespace {
        metadata["namespace"] = json!(namespace);
    }
    metadata
}

/// A namespace, labelled with the run.
pub fn namespace(names: &Names, name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata(names, name, None)})
}

/// A scenario's custom resource, written at `version`.
pub fn widget(names: &Names, scenario: &str, version: &str) -> Value {
    json!({
        "apiVersion": format!("{}/{version}", names.group(scenario)),
        "kind": CUSTOM_KIND,
        "metadata": metadata(names, OBJECT_NAME, Some(&names.namespace())),
        "spec": {"size": 3, "color": "teal", "scenario": scenario}
    })
}

/// The manager of the server-side-apply entry every scenario's widget carries in the source.
pub const APPLY_MANAGER: &str = "e2e-applier";

/// A `managedFields` entry of server-side apply by [`APPLY_MANAGER`] at `api_version`, owning
/// `spec.color`.
pub fn applied_entry(api_version: &str) -> Value {
    json!({"manager": APPLY_MANAGER, "operation": "Apply", "apiVersion": api_version,
           "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1",
           "fieldsV1": {"f:spec": {"f:color": {}}}})
}

/// A HorizontalPodAutoscaler written at `autoscaling/v1`, which both 1.25 and 1.33 serve.
pub fn horizontal_pod_autoscaler(names: &Names) -> Value {
    json!({
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(names, OBJECT_NAME, Some(&names.namespace())),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 3,
            "targetCPUUtilizationPercentage": 80
        }
    })
}

/// A PV bound in advance to the scenario's PVC.
pub fn persistent_volume(names: &Names) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": metadata(names, &names.persistent_volume(), None),
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": STORAGE_CLASS,
            "hostPath": {"path": format!("/tmp/{}", names.persistent_volume())},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": names.namespace(),
                "name": CLAIM_NAME
            }
        }
    })
}

/// The label only the scenario's PVC carries (its PV does not), valued `true`.
pub const CLAIM_LABEL: &str = "e2e.godwit.io/volume-claim";

/// The PVC naming that PV.
pub fn persistent_volume_claim(names: &Names) -> Value {
    let mut metadata = metadata(names, CLAIM_NAME, Some(&names.namespace()));
    metadata["labels"][CLAIM_LABEL] = json!("true");
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": metadata,
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": STORAGE_CLASS,
            "volumeName": names.persistent_volume(),
            "resources": {"requests": {"storage": "1Gi"}}
        }
    })
}

/// A NodePort Service whose `http` port has a node port the user chose.
pub fn node_port_service(names: &Names) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(names, OBJECT_NAME, Some(&names.namespace())),
        "spec": {
            "type": "NodePort",
            "selector": {"app": "web"},
            "ports": [{
                "name": "http",
                "protocol": "TCP",
                "port": 80,
                "targetPort": 8080,
                "nodePort": names.node_port()
            }]
        }
    })
}

/// What the backed-up ConfigMaps hold.
pub const BACKED_UP_VALUE: &str = "from-backup";
/// What the ConfigMaps already in the target hold.
pub const LIVE_VALUE: &str = "live";

/// A ConfigMap named after its policy scenario, holding `value`, in `namespace`.
pub fn config_map(names: &Names, namespace: &str, name: &str, policy: &str, value: &str) -> Value {
    let mut metadata = metadata(names, name, Some(namespace));
    metadata["labels"][POLICY_LABEL] = json!(policy);
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata,
        "data": {"value": value}
    })
}
