//! Discovery documents, built from the catalog the way the API server writes them: legacy
//! (`APIVersions`, `APIGroupList`, `APIGroup`, `APIResourceList`) and aggregated
//! (`apidiscovery.k8s.io/v2` `APIGroupDiscoveryList`).

use serde_json::{Map, Value, json};

use crate::catalog::{Behaviour, Catalog, GroupDef, ResourceDef};
use crate::profiles::Profile;

/// The content type of an aggregated discovery answer.
pub(crate) const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// `/version`.
pub(crate) fn version(profile: Profile) -> Value {
    let minor = profile.minor().to_string();
    let mut info = Map::new();
    info.insert("major".into(), "1".into());
    info.insert("minor".into(), minor.clone().into());
    if profile.minor() >= 33 {
        info.insert("emulationMajor".into(), "1".into());
        info.insert("emulationMinor".into(), minor.clone().into());
        info.insert("minCompatibilityMajor".into(), "1".into());
        info.insert(
            "minCompatibilityMinor".into(),
            (profile.minor() - 1).to_string().into(),
        );
    }
    info.insert("gitVersion".into(), format!("v1.{minor}.0+kubesim").into());
    info.insert(
        "gitCommit".into(),
        "0000000000000000000000000000000000000000".into(),
    );
    info.insert("gitTreeState".into(), "clean".into());
    info.insert("buildDate".into(), "2026-01-01T00:00:00Z".into());
    info.insert("goVersion".into(), "kubesim".into());
    info.insert("compiler".into(), "gc".into());
    info.insert(
        "platform".into(),
        format!("{}/{}", std::env::consts::OS, go_arch()).into(),
    );
    Value::Object(info)
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// `/api`.
pub(crate) fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_version(group: &str, version: &str) -> Value {
    json!({"groupVersion": format!("{group}/{version}"), "version": version})
}

fn api_group_value(group: &GroupDef) -> Value {
    let versions: Vec<Value> = group
        .versions
        .iter()
        .map(|v| group_version(&group.name, v))
        .collect();
    let preferred = group
        .versions
        .first()
        .map(|v| group_version(&group.name, v))
        .unwrap_or(Value::Null);
    json!({"name": group.name, "versions": versions, "preferredVersion": preferred})
}

/// `/apis`: every named group, preferred version first.
pub(crate) fn api_group_list(catalog: &Catalog) -> Value {
    let groups: Vec<Value> = catalog
        .groups()
        .iter()
        .filter(|g| !g.name.is_empty())
        .map(api_group_value)
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/<group>`.
pub(crate) fn api_group(catalog: &Catalog, name: &str) -> Option<Value> {
    let group = catalog.group(name).filter(|g| !g.name.is_empty())?;
    let mut value = api_group_value(group);
    let object = value.as_object_mut()?;
    let mut out = Map::new();
    out.insert("kind".into(), "APIGroup".into());
    out.insert("apiVersion".into(), "v1".into());
    out.append(object);
    Some(Value::Object(out))
}

/// `/api/v1` or `/apis/<group>/<version>`.
pub(crate) fn resource_list(catalog: &Catalog, group: &str, version: &str) -> Option<Value> {
    if !catalog.serves_group_version(group, version) {
        return None;
    }
    let mut entries: Vec<(String, Value)> = Vec::new();
    for def in catalog.resources_of(group, version) {
        entries.push((def.plural.clone(), resource_entry(&def)));
        for sub in &def.subresources {
            let mut entry = Map::new();
            entry.insert("name".into(), format!("{}/{}", def.plural, sub.name).into());
            entry.insert("singularName".into(), "".into());
            entry.insert("namespaced".into(), def.namespaced.into());
            if let Some((g, v)) = &sub.group_version {
                entry.insert("group".into(), g.clone().into());
                entry.insert("version".into(), v.clone().into());
            }
            entry.insert("kind".into(), sub.kind.clone().into());
            entry.insert("verbs".into(), json!(sub.verbs));
            entries.push((format!("{}/{}", def.plural, sub.name), Value::Object(entry)));
        }
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let resources: Vec<Value> = entries.into_iter().map(|(_, e)| e).collect();
    let mut out = Map::new();
    out.insert("kind".into(), "APIResourceList".into());
    if group.is_empty() {
        out.insert("groupVersion".into(), version.into());
    } else {
        out.insert("apiVersion".into(), "v1".into());
        out.insert("groupVersion".into(), format!("{group}/{version}").into());
    }
    out.insert("resources".into(), resources.into());
    Some(Value::Object(out))
}

fn resource_entry(def: &ResourceDef) -> Value {
    let mut entry = Map::new();
    entry.insert("name".into(), def.plural.clone().into());
    entry.insert("singularName".into(), def.singular.clone().into());
    entry.insert("namespaced".into(), def.namespaced.into());
    entry.insert("kind".into(), def.kind.clone().into());
    entry.insert("verbs".into(), json!(def.verbs));
    if !def.short_names.is_empty() {
        entry.insert("shortNames".into(), json!(def.short_names));
    }
    if !def.categories.is_empty() {
        entry.insert("categories".into(), json!(def.categories));
    }
    if def.behaviour == Behaviour::Stored {
        entry.insert(
            "storageVersionHash".into(),
            def.storage_version_hash().into(),
        );
    }
    Value::Object(entry)
}

fn response_kind(def: &ResourceDef, group_version: Option<&(String, String)>, kind: &str) -> Value {
    let (group, version) = match group_version {
        Some((g, v)) => (g.clone(), v.clone()),
        // Custom resources name their group and version; built-ins leave them empty.
        None if def.custom => (def.group.clone(), def.version.clone()),
        None => (String::new(), String::new()),
    };
    json!({"group": group, "version": version, "kind": kind})
}

/// Aggregated discovery: the core group alone for `/api`, the named groups for `/apis`. A
/// group-version whose legacy document `stale` says always fails is marked `Stale` with no
/// resources, as a real server marks an aggregated API server that does not answer.
pub(crate) fn aggregated(catalog: &Catalog, core: bool, stale: impl Fn(&str) -> bool) -> Value {
    let items: Vec<Value> = catalog
        .groups()
        .iter()
        .filter(|g| g.name.is_empty() == core)
        .map(|group| {
            let versions: Vec<Value> = group
                .versions
                .iter()
                .map(|version| {
                    let path = if group.name.is_empty() {
                        format!("/api/{version}")
                    } else {
                        format!("/apis/{}/{version}", group.name)
                    };
                    if stale(&path) {
                        return json!({"version": version, "resources": [], "freshness": "Stale"});
                    }
                    let mut defs = catalog.resources_of(&group.name, version);
                    defs.sort_by(|a, b| a.plural.cmp(&b.plural));
                    let resources: Vec<Value> =
                        defs.iter().map(|def| aggregated_resource(def)).collect();
                    json!({"version": version, "resources": resources, "freshness": "Current"})
                })
                .collect();
            let metadata = if group.name.is_empty() {
                json!({})
            } else {
                json!({"name": group.name})
            };
            json!({"metadata": metadata, "versions": versions})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}

fn aggregated_resource(def: &ResourceDef) -> Value {
    let mut entry = Map::new();
    entry.insert("resource".into(), def.plural.clone().into());
    entry.insert("responseKind".into(), response_kind(def, None, &def.kind));
    entry.insert(
        "scope".into(),
        if def.namespaced {
            "Namespaced"
        } else {
            "Cluster"
        }
        .into(),
    );
    entry.insert("singularResource".into(), def.singular.clone().into());
    entry.insert("verbs".into(), json!(def.verbs));
    if !def.short_names.is_empty() {
        entry.insert("shortNames".into(), json!(def.short_names));
    }
    if !def.categories.is_empty() {
        entry.insert("categories".into(), json!(def.categories));
    }
    if !def.subresources.is_empty() {
        let subs: Vec<Value> = def
            .subresources
            .iter()
            .map(|sub| {
                json!({
                    "subresource": sub.name,
                    "responseKind": response_kind(def, sub.group_version.as_ref(), &sub.kind),
                    "verbs": sub.verbs,
                })
            })
            .collect();
        entry.insert("subresources".into(), subs.into());
    }
    Value::Object(entry)
}

/// Whether an `Accept` header asks for aggregated discovery (any version kubesim serves).
pub(crate) fn wants_aggregated(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let params: Vec<&str> = part.split(';').map(str::trim).collect();
        params.first().is_some_and(|t| *t == "application/json")
            && params.contains(&"g=apidiscovery.k8s.io")
            && params.contains(&"v=v2")
            && params.contains(&"as=APIGroupDiscoveryList")
    })
}

#[cfg(test)]
mod tests;
