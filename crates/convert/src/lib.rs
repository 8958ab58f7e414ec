//! Conversions of backed-up objects from built-in API versions that Kubernetes stopped serving
//! to the versions that replaced them. Each conversion is a pure function over one object; it
//! moves fields where upstream's own conversion moves them and refuses, naming the field, when
//! the newer version cannot hold what the object says.
//!
//! What is converted (see [`all`] for each one's summary):
//!
//! | kind | from | to |
//! |---|---|---|
//! | CronJob | `batch/v1beta1` | `batch/v1` |
//! | Ingress | `extensions/v1beta1`, `networking.k8s.io/v1beta1` | `networking.k8s.io/v1` |
//! | PodDisruptionBudget | `policy/v1beta1` | `policy/v1` |
//! | HorizontalPodAutoscaler | `autoscaling/v2beta1`, `autoscaling/v2beta2` | `autoscaling/v2` |
//! | FlowSchema | `flowcontrol.apiserver.k8s.io/v1beta1`, `v1beta2`, `v1beta3` | `.../v1` |
//! | PriorityLevelConfiguration | `flowcontrol.apiserver.k8s.io/v1beta1`, `v1beta2`, `v1beta3` | `.../v1` |
//! | CSIStorageCapacity | `storage.k8s.io/v1beta1` | `storage.k8s.io/v1` |
//! | EndpointSlice | `discovery.k8s.io/v1beta1` | `discovery.k8s.io/v1` |
//!
//! `metadata` is left as it is, with one exception: the v1beta3 PriorityLevelConfiguration's
//! preserve-zero annotation, which the v1 apiserver refuses, is read and removed. `status` is
//! converted like `spec` where its shape differs, for restores that keep it.
//!
//! The restore planner asks [`find`] only when the target serves no version the backup holds;
//! a version both sides serve is always preferred to a conversion.

use godwit_versioning::GroupResource;
use serde_json::{Map, Value};

mod endpoint_slice;
mod fields;
mod flowcontrol;
mod horizontal_pod_autoscaler;
mod ingress;
mod pod_disruption_budget;

/// An object the conversion cannot carry over without losing or changing what it says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Lossy {
    /// The field, as a path from the object's root (`spec.selector`).
    pub field: String,
    /// Why it cannot be converted, and what to do.
    pub reason: String,
}

/// One API version of one group-resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiResource {
    /// The API group (`""` for the core group).
    pub group: &'static str,
    /// The version.
    pub version: &'static str,
    /// The resource, plural and lowercase.
    pub resource: &'static str,
}

impl ApiResource {
    /// The group-resource.
    pub fn group_resource(&self) -> GroupResource {
        GroupResource::new(self.group, self.resource)
    }

    /// The `apiVersion` of its objects.
    pub fn api_version(&self) -> String {
        match self.group {
            "" => self.version.to_owned(),
            group => format!("{group}/{}", self.version),
        }
    }
}

/// A conversion of one kind from a version no longer served to the one that replaced it.
#[derive(Debug, Clone, Copy)]
pub struct Conversion {
    /// The kind, the same on both sides.
    pub kind: &'static str,
    /// Where the backup's objects come from.
    pub from: ApiResource,
    /// What they are created as.
    pub to: ApiResource,
    /// What changes, in a few words, for the plan (`spec.backend moves to spec.defaultBackend`);
    /// "only apiVersion changes" when the schemas are the same.
    pub summary: &'static str,
    /// Rewrites the object's fields (not `apiVersion`) into the newer version's shape.
    rewrite: fn(&mut Map<String, Value>) -> Result<(), Lossy>,
}

impl Conversion {
    /// Converts one object read from the backup at [`Conversion::from`]: rewrites its fields
    /// and sets `apiVersion` to [`Conversion::to`]'s. Refuses an object of another kind or
    /// version, and one the newer version cannot hold.
    pub fn convert(&self, object: Value) -> Result<Value, Lossy> {
        let Value::Object(mut fields) = object else {
            return Err(Lossy {
                field: String::new(),
                reason: "the object is not a JSON object".to_owned(),
            });
        };
        let api_version = fields.get("apiVersion").and_then(Value::as_str);
        if api_version != Some(self.from.api_version().as_str()) {
            return Err(Lossy {
                field: "apiVersion".to_owned(),
                reason: format!(
                    "is {}, not {}, which this conversion reads",
                    api_version.unwrap_or("missing"),
                    self.from.api_version()
                ),
            });
        }
        let kind = fields.get("kind").and_then(Value::as_str);
        if kind != Some(self.kind) {
            return Err(Lossy {
                field: "kind".to_owned(),
                reason: format!(
                    "is {}, not {}, which this conversion reads",
                    kind.unwrap_or("missing"),
                    self.kind
                ),
            });
        }
        (self.rewrite)(&mut fields)?;
        fields.insert(
            "apiVersion".to_owned(),
            Value::String(self.to.api_version()),
        );
        Ok(Value::Object(fields))
    }
}

/// Every conversion godwit knows, oldest source first within a kind.
pub fn all() -> &'static [Conversion] {
    CONVERSIONS
}

/// The conversion for a group-resource of the backup when the target serves none of its
/// versions: the first of `backup_versions` (highest priority first) that some conversion
/// reads, to a version `target_serves` says the target serves. `None` when there is none.
pub fn find(
    group_resource: &GroupResource,
    backup_versions: &[String],
    target_serves: impl Fn(&GroupResource, &str) -> bool,
) -> Option<&'static Conversion> {
    backup_versions.iter().find_map(|version| {
        CONVERSIONS.iter().find(|c| {
            c.from.group_resource() == *group_resource
                && c.from.version == version
                && target_serves(&c.to.group_resource(), c.to.version)
        })
    })
}

/// Leaves every field as it is: the two versions share one schema.
fn same_schema(_: &mut Map<String, Value>) -> Result<(), Lossy> {
    Ok(())
}

/// Shorthand for the table below.
const fn api(group: &'static str, version: &'static str, resource: &'static str) -> ApiResource {
    ApiResource {
        group,
        version,
        resource,
    }
}

const FLOWCONTROL: &str = "flowcontrol.apiserver.k8s.io";

const CONVERSIONS: &[Conversion] = &[
    // batch/v1 CronJob is v1beta1 promoted as is (1.21); v1 only adds fields.
    Conversion {
        kind: "CronJob",
        from: api("batch", "v1beta1", "cronjobs"),
        to: api("batch", "v1", "cronjobs"),
        summary: "only apiVersion changes",
        rewrite: same_schema,
    },
    // The same objects served under a second group until 1.22; the group changes too.
    Conversion {
        kind: "Ingress",
        from: api("extensions", "v1beta1", "ingresses"),
        to: api("networking.k8s.io", "v1", "ingresses"),
        summary: INGRESS_SUMMARY,
        rewrite: ingress::to_v1,
    },
    Conversion {
        kind: "Ingress",
        from: api("networking.k8s.io", "v1beta1", "ingresses"),
        to: api("networking.k8s.io", "v1", "ingresses"),
        summary: INGRESS_SUMMARY,
        rewrite: ingress::to_v1,
    },
    Conversion {
        kind: "PodDisruptionBudget",
        from: api("policy", "v1beta1", "poddisruptionbudgets"),
        to: api("policy", "v1", "poddisruptionbudgets"),
        summary: "an empty spec.selector (no pods in v1beta1, all pods in v1) becomes one \
                  that matches no pods; v1beta1's match-all selector becomes {}",
        rewrite: pod_disruption_budget::to_v1,
    },
    Conversion {
        kind: "HorizontalPodAutoscaler",
        from: api("autoscaling", "v2beta1", "horizontalpodautoscalers"),
        to: api("autoscaling", "v2", "horizontalpodautoscalers"),
        summary: "metric targets and readings move into target/current, metricName and \
                  selectors into metric, an object metric's target into describedObject; \
                  the behavior annotation becomes spec.behavior",
        rewrite: horizontal_pod_autoscaler::v2beta1_to_v2,
    },
    // v2 is v2beta2 promoted (1.23); v2 only adds fields.
    Conversion {
        kind: "HorizontalPodAutoscaler",
        from: api("autoscaling", "v2beta2", "horizontalpodautoscalers"),
        to: api("autoscaling", "v2", "horizontalpodautoscalers"),
        summary: "only apiVersion changes",
        rewrite: same_schema,
    },
    // FlowSchema's schema did not change from v1beta1 to v1.
    Conversion {
        kind: "FlowSchema",
        from: api(FLOWCONTROL, "v1beta1", "flowschemas"),
        to: api(FLOWCONTROL, "v1", "flowschemas"),
        summary: "only apiVersion changes",
        rewrite: same_schema,
    },
    Conversion {
        kind: "FlowSchema",
        from: api(FLOWCONTROL, "v1beta2", "flowschemas"),
        to: api(FLOWCONTROL, "v1", "flowschemas"),
        summary: "only apiVersion changes",
        rewrite: same_schema,
    },
    Conversion {
        kind: "FlowSchema",
        from: api(FLOWCONTROL, "v1beta3", "flowschemas"),
        to: api(FLOWCONTROL, "v1", "flowschemas"),
        summary: "only apiVersion changes",
        rewrite: same_schema,
    },
    Conversion {
        kind: "PriorityLevelConfiguration",
        from: api(FLOWCONTROL, "v1beta1", "prioritylevelconfigurations"),
        to: api(FLOWCONTROL, "v1", "prioritylevelconfigurations"),
        summary: ASSURED_SHARES_SUMMARY,
        rewrite: flowcontrol::assured_shares_to_v1,
    },
    Conversion {
        kind: "PriorityLevelConfiguration",
        from: api(FLOWCONTROL, "v1beta2", "prioritylevelconfigurations"),
        to: api(FLOWCONTROL, "v1", "prioritylevelconfigurations"),
        summary: ASSURED_SHARES_SUMMARY,
        rewrite: flowcontrol::assured_shares_to_v1,
    },
    Conversion {
        kind: "PriorityLevelConfiguration",
        from: api(FLOWCONTROL, "v1beta3", "prioritylevelconfigurations"),
        to: api(FLOWCONTROL, "v1", "prioritylevelconfigurations"),
        summary: "a spec.limited.nominalConcurrencyShares of 0 becomes 30 (v1beta3's default) \
                  unless the preserve-zero annotation says 0, which is kept and the \
                  annotation removed",
        rewrite: flowcontrol::nominal_shares_to_v1,
    },
    // storage.k8s.io/v1 CSIStorageCapacity is v1beta1 promoted as is (1.24).
    Conversion {
        kind: "CSIStorageCapacity",
        from: api("storage.k8s.io", "v1beta1", "csistoragecapacities"),
        to: api("storage.k8s.io", "v1", "csistoragecapacities"),
        summary: "only apiVersion changes",
        rewrite: same_schema,
    },
    Conversion {
        kind: "EndpointSlice",
        from: api("discovery.k8s.io", "v1beta1", "endpointslices"),
        to: api("discovery.k8s.io", "v1", "endpointslices"),
        summary: "endpoints[].topology splits into zone and deprecatedTopology; a hostname \
                  entry equal to nodeName is dropped",
        rewrite: endpoint_slice::to_v1,
    },
];

const INGRESS_SUMMARY: &str = "spec.backend moves to spec.defaultBackend; serviceName and \
    servicePort become service.name and service.port.number or .name; a missing pathType \
    becomes ImplementationSpecific";

const ASSURED_SHARES_SUMMARY: &str = "spec.limited.assuredConcurrencyShares becomes \
    nominalConcurrencyShares; 0, which v1beta1 and v1beta2 defaulted, becomes 30";

#[cfg(test)]
mod tests;
