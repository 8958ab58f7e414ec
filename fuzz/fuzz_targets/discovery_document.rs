//! Fuzzes godwit-discovery's data half: the compact JSON shape (`Discovery::from_json`) and the
//! builder fed the API server's documents (legacy `/api`, `/apis`, `/apis/<g>`, resource lists,
//! and aggregated lists) in any order and mix.
//!
//! The input is one or more JSON documents separated by NUL bytes (which JSON cannot hold
//! unescaped); each is tried as every document type. Checked: no panic; whatever the builder
//! returns, however broken its input, passes `Discovery::new`'s strict checks unchanged and
//! survives the compact JSON shape; a compact document that reads writes back the same; and
//! every group-resource the result lists answers the queries the engines ask.

#![no_main]

use godwit_discovery::wire::{
    self, ApiGroup, ApiGroupDiscoveryList, ApiGroupList, ApiResourceList, ApiVersions,
};
use godwit_discovery::{Discovery, DiscoveryBuilder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut builder = DiscoveryBuilder::new();
    let mut compact: Vec<Discovery> = Vec::new();
    for document in data.split(|b| *b == 0) {
        if let Ok(discovery) = Discovery::from_json(document) {
            check(&discovery);
            compact.push(discovery);
        }
        if let Ok(api) = wire::parse::<ApiVersions>("/api", document) {
            builder.core_versions(&api);
        }
        if let Ok(apis) = wire::parse::<ApiGroupList>("/apis", document) {
            builder.group_list(&apis);
        }
        if let Ok(group) = wire::parse::<ApiGroup>("/apis/<group>", document) {
            builder.group(&group);
        }
        if let Ok(list) = wire::parse::<ApiResourceList>("/apis/<group>/<version>", document) {
            builder.resource_list(&list);
        }
        if let Ok(list) = wire::parse::<ApiGroupDiscoveryList>("/apis (aggregated)", document) {
            builder.aggregated(&list);
        }
    }
    let (built, problems) = builder.finish();
    for problem in &problems {
        let _ = problem.to_string();
    }
    check(&built);
    assert_eq!(
        Discovery::new(built.groups().to_vec()).as_ref(),
        Ok(&built),
        "the builder's result breaks an invariant"
    );

    let mut merged = Ok(built);
    for discovery in compact {
        merged = merged.and_then(|merged| merged.merge(discovery));
    }
    if let Ok(merged) = merged {
        check(&merged);
    }
});

/// The compact shape reads back the same, and every listed group-resource answers queries.
fn check(discovery: &Discovery) {
    let json = discovery.to_json().expect("discovery serializes");
    assert_eq!(
        Discovery::from_json(json.as_bytes()).as_ref(),
        Ok(discovery),
        "through {json}"
    );
    for group in discovery.groups() {
        assert!(group.version(&group.preferred_version).is_some());
        assert_eq!(
            discovery.preferred_version(&group.name),
            Some(group.preferred_version.as_str())
        );
    }
    for group_resource in discovery.group_resources() {
        let versions = discovery.versions_serving(&group_resource);
        assert!(
            !versions.is_empty(),
            "{group_resource} is listed but served nowhere"
        );
        assert!(discovery.preferred_resource(&group_resource).is_some());
        assert!(discovery.is_namespaced(&group_resource).is_some());
        let _ = discovery.is_backupable(&group_resource);
        for version in versions {
            assert!(discovery.resource(&group_resource, version).is_some());
        }
        let candidates = discovery
            .resolve_candidates(&group_resource.to_string())
            .unwrap_or_else(|err| panic!("{group_resource} does not resolve: {err}"));
        assert!(
            candidates.contains(&group_resource),
            "{group_resource} resolves to {candidates:?}"
        );
        let _ = discovery.resolve(&group_resource.to_string());
    }
}
