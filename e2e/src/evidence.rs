//! What the run reads back, judged by pure functions: what the backup holds, what the target
//! serves, a restore's error messages, a CRD's served versions, a kubeconfig's server. The
//! harness fetches; these decide.

use anyhow::{Context as _, anyhow};
use serde_json::Value;

use crate::report::Check;
use crate::scenarios::{Kind, Names, Scenario};

/// The server URL of a kubeconfig's current context.
pub fn current_server(kubeconfig: &kube::config::Kubeconfig) -> Option<String> {
    let context_name = kubeconfig.current_context.as_deref()?;
    let context = kubeconfig
        .contexts
        .iter()
        .find(|context| context.name == context_name)?
        .context
        .as_ref()?;
    kubeconfig
        .clusters
        .iter()
        .find(|cluster| cluster.name == context.cluster)?
        .cluster
        .as_ref()?
        .server
        .clone()
}

/// Every string inside a JSON value.
pub fn collect_strings(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::String(text) => into.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|item| collect_strings(item, into)),
        Value::Object(map) => map.values().for_each(|item| collect_strings(item, into)),
        _ => {}
    }
}

/// What a backup holds per group-resource: its versions and the source's preferred one.
pub type Inventory = std::collections::BTreeMap<String, (Vec<String>, String)>;

/// Reads `backup inspect -o json` (`groupResources: [{groupResource, versions,
/// preferredVersion}]`).
pub fn parse_inventory(json: &str) -> anyhow::Result<Inventory> {
    let listing: Value = serde_json::from_str(json).context("backup inspect printed no JSON")?;
    let entries = listing
        .get("groupResources")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("backup inspect printed no groupResources"))?;
    Ok(entries
        .iter()
        .filter_map(|entry| {
            let group_resource = entry.get("groupResource")?.as_str()?.to_owned();
            let versions = entry
                .get("versions")?
                .as_array()?
                .iter()
                .filter_map(|version| version.as_str().map(str::to_owned))
                .collect();
            let preferred = entry.get("preferredVersion")?.as_str()?.to_owned();
            Some((group_resource, (versions, preferred)))
        })
        .collect())
}

/// Whether the target served, before the restore, what the scenario's row says; `None` for
/// the core group, which serves `v1` only.
pub fn target_serves(scenario: &Scenario, names: &Names, served: &Inventory) -> Option<Check> {
    let group = match scenario.kind {
        Kind::CustomResource { .. } => names.group(scenario.name),
        Kind::HorizontalPodAutoscaler => "autoscaling".to_owned(),
        // The crafted backup's Ingresses are converted into networking.k8s.io.
        Kind::DeprecatedApis => "networking.k8s.io".to_owned(),
        Kind::NamespaceMapping
        | Kind::NodePort
        | Kind::ExistingNone
        | Kind::ExistingUpdate
        | Kind::ControlPlaneObjects
        | Kind::Lifecycle
        | Kind::Pitfalls
        | Kind::StorageVersion => {
            return None;
        }
    };
    let seen = served.get(&group);
    let described = seen.map_or_else(
        || "nothing".to_owned(),
        |(versions, preferred)| format!("[{}], preferred {preferred}", versions.join(", ")),
    );
    let ok = match (scenario.target_versions, seen) {
        ([], None) => true,
        ([preferred, ..], Some((versions, served_preferred))) => {
            let mut want: Vec<&str> = scenario.target_versions.to_vec();
            let mut have: Vec<&str> = versions.iter().map(String::as_str).collect();
            want.sort_unstable();
            have.sort_unstable();
            want == have && served_preferred == preferred
        }
        _ => false,
    };
    let expected = match scenario.target_versions {
        [] => "nothing".to_owned(),
        versions => format!("[{}], preferred {}", versions.join(", "), versions[0]),
    };
    Some(Check::new(
        format!(
            "before the restore the target serves {group} at {expected} (it serves {described})"
        ),
        ok,
    ))
}

/// The group-resource a scenario's row is about.
pub fn group_resource(names: &Names, scenario: &Scenario) -> String {
    match scenario.kind {
        Kind::CustomResource { .. } => names.group_resource(scenario.name),
        Kind::HorizontalPodAutoscaler => "horizontalpodautoscalers.autoscaling".to_owned(),
        Kind::NamespaceMapping => "persistentvolumeclaims".to_owned(),
        Kind::NodePort => "services".to_owned(),
        Kind::StorageVersion => names.group_resource(scenario.name),
        Kind::DeprecatedApis => "ingresses.extensions".to_owned(),
        Kind::ExistingNone
        | Kind::ExistingUpdate
        | Kind::ControlPlaneObjects
        | Kind::Lifecycle
        | Kind::Pitfalls => "configmaps".to_owned(),
    }
}

/// Whether the backup holds the versions the scenario's row says, preferred first (order of
/// the rest aside).
pub fn backup_holds(scenario: &Scenario, group_resource: &str, held: &Inventory) -> Check {
    let mut want: Vec<&str> = scenario.backup_versions.to_vec();
    want.sort_unstable();
    let (ok, seen) = match held.get(group_resource) {
        Some((versions, preferred)) => {
            let mut have: Vec<&str> = versions.iter().map(String::as_str).collect();
            have.sort_unstable();
            (
                have == want && scenario.backup_versions.first() == Some(&preferred.as_str()),
                format!("[{}], preferred {preferred}", versions.join(", ")),
            )
        }
        None => (false, "nothing".to_owned()),
    };
    Check::new(
        format!(
            "the backup holds {group_resource} at [{}], preferred {} (it holds {seen})",
            scenario.backup_versions.join(", "),
            scenario.backup_versions.first().unwrap_or(&"-"),
        ),
        ok,
    )
}

/// The served versions of a CRD, in its order.
pub fn served_versions(crd: &Value) -> Vec<String> {
    crd.pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(|versions| {
            versions
                .iter()
                .filter(|version| version.get("served").and_then(Value::as_bool) != Some(false))
                .filter_map(|version| version.get("name").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
