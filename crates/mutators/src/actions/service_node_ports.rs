//! Removes the node ports the source's API server assigned to a Service, so the target assigns
//! free ones, and keeps those the user set. Explicit ports are read, as Velero reads them, from
//! the `kubectl.kubernetes.io/last-applied-configuration` annotation (client-side apply) or,
//! when there is none, from `managedFields` (server-side apply). With `--preserve-nodeports`
//! every port is kept.
//!
//! The same goes for `healthCheckNodePort`, which exists only on `LoadBalancer` Services with
//! `externalTrafficPolicy: Local`. `ExternalName` Services have no node ports to touch.

use std::collections::BTreeSet;

use godwit_versioning::GroupResource;
use serde_json::{Map, Value};

use super::{Item, is};
use crate::json::{describe, get, get_str, object_mut, type_problem};
use crate::{Outcome, Problem, RestoreContext};

/// Annotation `kubectl apply` writes with the configuration it applied.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

pub(crate) fn applies_to(gr: &GroupResource) -> bool {
    is(gr, "", "services")
}

pub(crate) fn apply(object: &mut Value, item: &Item<'_>, ctx: &RestoreContext) -> Outcome {
    if ctx.preserve_node_ports {
        return Outcome::default();
    }
    let mut outcome = Outcome::default();
    let last_applied = match get_str(object, &["metadata", "annotations", LAST_APPLIED]) {
        None => None,
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(applied) => Some(applied),
            Err(err) => {
                // Velero fails the Service here; managedFields are a better answer than none.
                outcome
                    .warnings
                    .push(Problem::InvalidLastAppliedConfiguration {
                        object: describe(item.group_resource, object),
                        why: err.to_string(),
                    });
                None
            }
        },
    };
    let managed = ManagedFields::of(object);

    let service_type = get_str(object, &["spec", "type"]).unwrap_or("").to_owned();
    if service_type != "ExternalName" {
        outcome.warnings.extend(type_problem(
            item.group_resource,
            object,
            &["spec", "ports"],
            "an array",
            Value::is_array,
        ));
        let keep = match &last_applied {
            Some(applied) => Explicit::from_last_applied(applied),
            None => Explicit::ManagedFields(managed.explicit_port_keys()),
        };
        let ports = object_mut(object, &["spec"])
            .and_then(|spec| spec.get_mut("ports"))
            .and_then(Value::as_array_mut);
        for port in ports.into_iter().flatten().filter_map(Value::as_object_mut) {
            if !keep.keeps(port) {
                port.remove("nodePort");
            }
        }
    }

    let local_traffic = get_str(object, &["spec", "externalTrafficPolicy"]) == Some("Local");
    let has_health_check_port =
        get(object, &["spec", "healthCheckNodePort"]).is_some_and(|port| !is_zero_or_null(port));
    if service_type == "LoadBalancer" && local_traffic && has_health_check_port {
        let applied_explicitly = last_applied
            .as_ref()
            .and_then(|applied| get(applied, &["spec", "healthCheckNodePort"]))
            .and_then(Value::as_f64)
            .is_some_and(|port| port != 0.0);
        if !applied_explicitly
            && !managed.sets_health_check_node_port()
            && let Some(spec) = object_mut(object, &["spec"])
        {
            spec.remove("healthCheckNodePort");
        }
    }
    outcome
}

fn is_zero_or_null(value: &Value) -> bool {
    value.is_null() || value.as_f64() == Some(0.0)
}

/// Which node ports the user set.
enum Explicit {
    /// From last-applied-configuration: named ports by name, unnamed ones by node port number.
    LastApplied {
        names: BTreeSet<String>,
        unnamed_node_ports: BTreeSet<i64>,
    },
    /// From managedFields: `(port, protocol)` of each port whose node port a manager owns.
    ManagedFields(BTreeSet<(i64, String)>),
}

impl Explicit {
    fn from_last_applied(applied: &Value) -> Self {
        let mut names = BTreeSet::new();
        let mut unnamed_node_ports = BTreeSet::new();
        let ports = get(applied, &["spec", "ports"]).and_then(Value::as_array);
        for port in ports.into_iter().flatten().filter_map(Value::as_object) {
            let node_port = port.get("nodePort").and_then(node_port_number).unwrap_or(0);
            if node_port <= 0 {
                continue;
            }
            match port.get("name") {
                // Velero records a present name even when it is empty; such an entry then
                // matches no port, as in Velero.
                Some(Value::String(name)) => {
                    names.insert(name.clone());
                }
                Some(_) => {}
                None => {
                    unnamed_node_ports.insert(node_port);
                }
            }
        }
        Explicit::LastApplied {
            names,
            unnamed_node_ports,
        }
    }

    fn keeps(&self, port: &Map<String, Value>) -> bool {
        match self {
            Explicit::LastApplied {
                names,
                unnamed_node_ports,
            } => match port
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
            {
                Some(name) => names.contains(name),
                None => port
                    .get("nodePort")
                    .and_then(Value::as_i64)
                    .is_some_and(|node_port| unnamed_node_ports.contains(&node_port)),
            },
            Explicit::ManagedFields(keys) => {
                let number = port.get("port").and_then(Value::as_i64);
                let protocol = port.get("protocol").and_then(Value::as_str).unwrap_or("");
                number.is_some_and(|number| keys.contains(&(number, protocol.to_owned())))
            }
        }
    }
}

/// A node port in last-applied-configuration: a number (fractions cut, as Go's `int()` does) or
/// a decimal string.
fn node_port_number(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number
            .as_i64()
            .or_else(|| number.as_f64().map(|f| f.trunc() as i64)),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// The `fieldsV1` trees of a Service's managedFields entries.
struct ManagedFields(Vec<Map<String, Value>>);

impl ManagedFields {
    fn of(object: &Value) -> Self {
        let entries = get(object, &["metadata", "managedFields"]).and_then(Value::as_array);
        ManagedFields(
            entries
                .into_iter()
                .flatten()
                .filter_map(|entry| entry.get("fieldsV1")?.as_object().cloned())
                .collect(),
        )
    }

    /// `(port, protocol)` of every `f:spec.f:ports` entry (`k:{"port":80,"protocol":"TCP"}`)
    /// that holds `f:nodePort`.
    fn explicit_port_keys(&self) -> BTreeSet<(i64, String)> {
        let mut keys = BTreeSet::new();
        for fields in &self.0 {
            let Some(ports) = fields
                .get("f:spec")
                .and_then(|spec| spec.get("f:ports"))
                .and_then(Value::as_object)
            else {
                continue;
            };
            for (key, owned) in ports {
                if owned.get("f:nodePort").is_none() {
                    continue;
                }
                let Some(key) = key
                    .strip_prefix("k:")
                    .and_then(|json| serde_json::from_str::<Value>(json).ok())
                else {
                    continue;
                };
                let number = key.get("port").and_then(Value::as_i64);
                let protocol = key.get("protocol").and_then(Value::as_str).unwrap_or("");
                if let Some(number) = number {
                    keys.insert((number, protocol.to_owned()));
                }
            }
        }
        keys
    }

    /// True when a manager owns `f:spec.f:healthCheckNodePort`.
    fn sets_health_check_node_port(&self) -> bool {
        self.0.iter().any(|fields| {
            fields
                .get("f:spec")
                .and_then(|spec| spec.get("f:healthCheckNodePort"))
                .is_some_and(Value::is_object)
        })
    }
}
