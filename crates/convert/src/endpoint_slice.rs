//! EndpointSlice from `discovery.k8s.io/v1beta1` to `discovery.k8s.io/v1`: each endpoint's
//! `topology` map splits, as upstream's `pkg/apis/discovery/v1beta1/conversion.go` splits it,
//! into `zone` (from `topology.kubernetes.io/zone`) and `deprecatedTopology` (the rest). The
//! `kubernetes.io/hostname` entry is dropped only when it repeats `nodeName`; a different or
//! lone hostname stays in `deprecatedTopology`, which is how upstream keeps v1beta1's odd
//! freedom to disagree (it never fills `nodeName` from the map).

use serde_json::{Map, Value};

use crate::Lossy;
use crate::fields::{each_object, join, lossy, take};

/// The topology key that became the endpoint's `zone`.
pub(crate) const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// The topology key `nodeName` repeats.
pub(crate) const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";

/// Rewrites a `discovery.k8s.io/v1beta1` EndpointSlice into `discovery.k8s.io/v1`.
pub(crate) fn to_v1(object: &mut Map<String, Value>) -> Result<(), Lossy> {
    each_object(object, "endpoints", "", split_topology)
}

fn split_topology(endpoint: &mut Map<String, Value>, path: &str) -> Result<(), Lossy> {
    for key in ["zone", "deprecatedTopology"] {
        if endpoint.get(key).is_some_and(|value| !value.is_null()) {
            return Err(lossy(
                join(path, key),
                "is not a field of discovery.k8s.io/v1beta1 and would clash with what \
                 topology converts to; remove it from the backed-up object",
            ));
        }
    }
    let Some(topology) = take(endpoint, "topology") else {
        return Ok(());
    };
    let Value::Object(mut topology) = topology else {
        return Err(lossy(join(path, "topology"), "is not an object"));
    };
    if let Some((key, _)) = topology.iter().find(|(_, value)| !value.is_string()) {
        return Err(lossy(
            format!("{}[{key}]", join(path, "topology")),
            "is not a string",
        ));
    }
    if let Some(zone) = topology.remove(ZONE_LABEL) {
        endpoint.insert("zone".to_owned(), zone);
    }
    if topology.get(HOSTNAME_LABEL).is_some()
        && topology.get(HOSTNAME_LABEL) == endpoint.get("nodeName")
    {
        topology.remove(HOSTNAME_LABEL);
    }
    if !topology.is_empty() {
        endpoint.insert("deprecatedTopology".to_owned(), Value::Object(topology));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
