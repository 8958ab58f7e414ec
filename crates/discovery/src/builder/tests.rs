//! Tests of building discovery from the API server's documents, on the real kube-apiserver 1.36
//! responses under `fixtures/apiserver/`.

use godwit_versioning::GroupResource;
use serde_json::{Value, json};

use crate::wire::{self, Document};

use super::*;

fn sample<T: Document>(name: &str) -> T {
    let bytes = godwit_fixtures::read(&format!("apiserver/{name}"));
    wire::parse(name, &bytes).unwrap_or_else(|err| panic!("{name}: {err}"))
}

fn from_value<T: Document>(value: Value) -> T {
    wire::parse("test document", value.to_string().as_bytes()).unwrap()
}

fn group_versions(problems: &[Error]) -> Vec<String> {
    problems
        .iter()
        .map(|p| match p {
            Error::MissingResourceList { group_version } => group_version.clone(),
            other => panic!("unexpected problem: {other}"),
        })
        .collect()
}

/// One line per group: name, preferred version, then each version with its resources.
fn summary(discovery: &Discovery) -> String {
    let mut lines = Vec::new();
    for group in discovery.groups() {
        let name = if group.name.is_empty() {
            "(core)"
        } else {
            &group.name
        };
        lines.push(format!("{name} preferred={}", group.preferred_version));
        for version in &group.versions {
            let resources: Vec<String> = version
                .resources
                .iter()
                .map(|r| {
                    let scope = if r.namespaced { "ns" } else { "cluster" };
                    format!("{}({}, {scope})", r.name, r.kind)
                })
                .collect();
            lines.push(format!("  {}: {}", version.version, resources.join(" ")));
        }
    }
    lines.join("\n")
}

#[test]
fn every_discovery_sample_parses_as_its_document() {
    let api: ApiVersions = sample("disc-api.body");
    assert_eq!(api.versions, ["v1"]);
    let core: ApiResourceList = sample("disc-api-v1.body");
    assert_eq!(core.group_version, "v1");
    assert!(core.resources.iter().any(|r| r.name == "pods/status"));
    let apis: ApiGroupList = sample("disc-apis.body");
    assert_eq!(apis.groups.len(), 21);
    let group: ApiGroup = sample("disc-apis-group.body");
    assert_eq!(group.name, "resp.example.io");
    let autoscaling: ApiGroup = sample("disc-autoscaling.body");
    assert_eq!(autoscaling.versions.len(), 2);
    let v1: ApiResourceList = sample("disc-apis-group-v1.body");
    assert_eq!(v1.group_version, "resp.example.io/v1");
    let v2beta1: ApiResourceList = sample("disc-apis-group-v2beta1.body");
    assert_eq!(v2beta1.resources.len(), 1);
    let aggregated: ApiGroupDiscoveryList = sample("disc-apis-aggregated.body");
    assert_eq!(aggregated.items.len(), 21);
}

#[test]
fn legacy_discovery_from_the_samples() {
    let api: ApiVersions = sample("disc-api.body");
    let apis: ApiGroupList = sample("disc-apis.body");
    let lists: Vec<ApiResourceList> = vec![
        sample("disc-api-v1.body"),
        sample("disc-apis-group-v1.body"),
        sample("disc-apis-group-v2beta1.body"),
    ];
    let (discovery, problems) = Discovery::from_legacy(&api, &apis, &lists);

    // Only the core group and resp.example.io had their resource lists recorded; every other
    // group-version is kept, with its resources unknown and a problem naming it.
    let expected: Vec<String> = apis
        .groups
        .iter()
        .filter(|g| g.name != "resp.example.io")
        .flat_map(|g| g.versions.iter().map(|v| v.group_version.clone()))
        .collect();
    assert_eq!(group_versions(&problems), expected);
    assert!(expected.contains(&"autoscaling/v2".to_owned()));

    assert_eq!(discovery.groups().len(), 22, "core plus the 21 of /apis");
    assert_eq!(discovery.groups()[0].name, "", "core group first");
    assert_eq!(discovery.versions("autoscaling"), ["v2", "v1"]);
    assert_eq!(discovery.preferred_version("autoscaling"), Some("v2"));
    let hpa = GroupResource::new("autoscaling", "horizontalpodautoscalers");
    assert_eq!(discovery.versions_serving(&hpa), Vec::<&str>::new());

    let core = discovery.group("").unwrap();
    assert_eq!(core.preferred_version, "v1");
    let names: Vec<&str> = core.versions[0]
        .resources
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names.len(), 17);
    assert!(names.iter().all(|n| !n.contains('/')), "{names:?}");
    let pods = discovery
        .resource(&GroupResource::new("", "pods"), "v1")
        .unwrap();
    assert_eq!(pods.kind, "Pod");
    assert_eq!(pods.short_names, ["po"]);
    assert_eq!(pods.categories, ["all"]);
    assert!(pods.is_backupable());
    assert!(
        !discovery
            .is_namespaced(&GroupResource::new("", "nodes"))
            .unwrap()
    );

    let widgets = GroupResource::new("resp.example.io", "widgets");
    assert_eq!(discovery.versions_serving(&widgets), ["v1", "v2beta1"]);
    assert_eq!(discovery.preferred_version("resp.example.io"), Some("v1"));
    assert_eq!(discovery.resolve("wd").unwrap(), widgets);
}

#[test]
fn aggregated_discovery_from_the_sample() {
    let apis: ApiGroupDiscoveryList = sample("disc-apis-aggregated.body");
    let (discovery, problems) = Discovery::from_aggregated(&[apis]);
    assert_eq!(problems, []);
    insta::assert_snapshot!(summary(&discovery));
}

#[test]
fn legacy_and_aggregated_agree_on_a_group() {
    let apis: ApiGroupDiscoveryList = sample("disc-apis-aggregated.body");
    let (aggregated, _) = Discovery::from_aggregated(&[apis]);

    let mut builder = DiscoveryBuilder::new();
    builder
        .group(&sample("disc-apis-group.body"))
        .resource_list(&sample("disc-apis-group-v2beta1.body"))
        .resource_list(&sample("disc-apis-group-v1.body"));
    let (legacy, problems) = builder.finish();
    assert_eq!(problems, []);
    assert_eq!(
        legacy.group("resp.example.io"),
        aggregated.group("resp.example.io")
    );
}

#[test]
fn legacy_core_and_aggregated_groups_mix() {
    let mut builder = DiscoveryBuilder::new();
    builder
        .aggregated(&sample("disc-apis-aggregated.body"))
        .resource_list(&sample("disc-api-v1.body"))
        .core_versions(&sample("disc-api.body"));
    let (discovery, problems) = builder.finish();
    assert_eq!(problems, []);
    assert_eq!(discovery.groups().len(), 22);
    assert_eq!(
        discovery.resolve("Pod").unwrap(),
        GroupResource::new("", "pods")
    );
    assert_eq!(
        discovery.resolve("deploy").unwrap(),
        GroupResource::new("apps", "deployments")
    );
}

#[test]
fn group_document_keeps_the_server_preference() {
    let mut builder = DiscoveryBuilder::new();
    let autoscaling: ApiGroup = sample("disc-autoscaling.body");
    builder.group(&autoscaling);
    let (discovery, problems) = builder.finish();
    assert_eq!(discovery.versions("autoscaling"), ["v2", "v1"]);
    assert_eq!(discovery.preferred_version("autoscaling"), Some("v2"));
    assert_eq!(
        problems,
        [
            Error::MissingResourceList {
                group_version: "autoscaling/v2".to_owned()
            },
            Error::MissingResourceList {
                group_version: "autoscaling/v1".to_owned()
            },
        ]
    );
    // A server that prefers its last version is believed, not second-guessed.
    let mut builder = DiscoveryBuilder::new();
    builder.group(&from_value(json!({
        "kind": "APIGroup", "name": "example.io",
        "versions": [{"groupVersion": "example.io/v2", "version": "v2"},
                     {"groupVersion": "example.io/v1"}],
        "preferredVersion": {"groupVersion": "example.io/v1"}
    })));
    let (discovery, _) = builder.finish();
    assert_eq!(discovery.versions("example.io"), ["v2", "v1"]);
    assert_eq!(discovery.preferred_version("example.io"), Some("v1"));
}

/// The aggregated sample with one group's versions marked stale.
fn with_stale(group: &str, stale: &[&str]) -> ApiGroupDiscoveryList {
    let bytes = godwit_fixtures::read("apiserver/disc-apis-aggregated.body");
    let mut value: Value = serde_json::from_slice(&bytes).unwrap();
    for item in value["items"].as_array_mut().unwrap() {
        if item["metadata"]["name"] != group {
            continue;
        }
        for version in item["versions"].as_array_mut().unwrap() {
            if stale.iter().any(|s| version["version"] == *s) {
                version["freshness"] = json!("Stale");
            }
        }
    }
    from_value(value)
}

#[test]
fn stale_versions_are_reported_and_left_out() {
    let (discovery, problems) = Discovery::from_aggregated(&[with_stale("autoscaling", &["v2"])]);
    assert_eq!(
        problems,
        [Error::StaleVersion {
            group_version: "autoscaling/v2".to_owned(),
            was_preferred: true,
        }]
    );
    assert_eq!(
        problems[0].to_string(),
        "autoscaling/v2 is stale in aggregated discovery (its API server did not answer), and it \
         was the group's preferred version; it is left out until the server answers again"
    );
    // client-go's rule: the first version that is not stale becomes the preferred one.
    assert_eq!(discovery.versions("autoscaling"), ["v1"]);
    assert_eq!(discovery.preferred_version("autoscaling"), Some("v1"));

    let (discovery, problems) = Discovery::from_aggregated(&[with_stale("autoscaling", &["v1"])]);
    assert_eq!(
        problems,
        [Error::StaleVersion {
            group_version: "autoscaling/v1".to_owned(),
            was_preferred: false,
        }]
    );
    assert_eq!(discovery.preferred_version("autoscaling"), Some("v2"));

    let (discovery, problems) =
        Discovery::from_aggregated(&[with_stale("resp.example.io", &["v1", "v2beta1"])]);
    assert_eq!(problems.len(), 2);
    assert!(discovery.group("resp.example.io").is_none());
    assert_eq!(discovery.groups().len(), 20);
}

#[test]
fn aggregated_core_group_has_no_name() {
    let core = from_value(json!({
        "kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
        "items": [{"metadata": {}, "versions": [{"version": "v1", "freshness": "Current",
            "resources": [{"resource": "pods", "responseKind": {"group": "", "version": "",
                "kind": "Pod"}, "scope": "Namespaced", "singularResource": "pod",
                "verbs": ["get", "list"], "shortNames": ["po"],
                "subresources": [{"subresource": "status", "verbs": ["get"]}]},
                {"resource": "broken", "scope": "Cluster"}]}]}]
    }));
    let (discovery, problems) = Discovery::from_aggregated(&[core]);
    assert_eq!(
        problems,
        [Error::InvalidResource {
            group_version: "v1".to_owned(),
            resource: "broken".to_owned(),
            why: "it has no responseKind",
        }]
    );
    assert_eq!(discovery.preferred_version(""), Some("v1"));
    let pods = discovery
        .resource(&GroupResource::new("", "pods"), "v1")
        .unwrap();
    assert!(pods.namespaced);
    assert_eq!(pods.short_names, ["po"]);
}

#[test]
fn imperfect_documents_become_problems() {
    let mut builder = DiscoveryBuilder::new();
    builder
        .core_versions(&from_value(
            json!({"kind": "APIVersions", "versions": ["v1"]}),
        ))
        .resource_list(&from_value(json!({
            "kind": "APIResourceList", "groupVersion": "v1",
            "resources": [{"name": "things", "kind": "Thing", "namespaced": true,
                           "verbs": null, "shortNames": null, "singularName": ""},
                          {"name": "things/status", "kind": "Thing", "namespaced": true}]
        })))
        // The same list again, identical: silently ignored.
        .resource_list(&from_value(json!({
            "kind": "APIResourceList", "groupVersion": "v1",
            "resources": [{"name": "things", "kind": "Thing", "namespaced": true,
                           "verbs": null, "shortNames": null, "singularName": ""},
                          {"name": "things/status", "kind": "Thing", "namespaced": true}]
        })))
        // A different list for the same group-version: reported, the first kept.
        .resource_list(&from_value(json!({
            "groupVersion": "v1", "resources": [{"name": "other", "kind": "Other"}]
        })))
        .resource_list(&from_value(
            json!({"groupVersion": "nowhere.io/v1", "resources": []}),
        ))
        .resource_list(&from_value(json!({"groupVersion": "a/b/c"})))
        .resource_list(&from_value(json!({"groupVersion": ""})))
        .resource_list(&from_value(json!({"groupVersion": "/v1"})))
        .group(&from_value(json!({"name": "example.io",
            "versions": [{"groupVersion": "example.io/v1", "version": "v1"}]})))
        .group(&from_value(json!({"name": "example.io",
            "versions": [{"groupVersion": "example.io/v1", "version": "v1"}]})))
        .group(&from_value(json!({"name": "example.io",
            "versions": [{"groupVersion": "example.io/v2", "version": "v2"}]})));
    let (discovery, problems) = builder.finish();
    let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "v1 has two different resource lists; the first one is kept",
            "invalid groupVersion \"a/b/c\"; expected <version> or <group>/<version>",
            "invalid groupVersion \"\"; expected <version> or <group>/<version>",
            "invalid groupVersion \"/v1\"; expected <version> or <group>/<version>",
            "group \"example.io\" is listed twice with different content; the first one is kept",
            "no resource list for example.io/v1, which its group lists; its resources are \
             unknown until /apis/example.io/v1 answers",
            "resource list for nowhere.io/v1 belongs to no listed group version; it is ignored \
             (read /api and /apis too)",
        ]
    );
    let things = discovery
        .resource(&GroupResource::new("", "things"), "v1")
        .unwrap();
    assert_eq!(things.singular_name, "thing", "filled from the kind");
    assert_eq!(things.verbs, Vec::<String>::new());
    assert!(!things.is_backupable());
    assert_eq!(discovery.versions("example.io"), ["v1"]);
    // No preferredVersion in the document: the first version.
    assert_eq!(discovery.preferred_version("example.io"), Some("v1"));
}

#[test]
fn parse_checks_json_and_kind() {
    let check = |result: Result<(), Error>, fragment: &str| {
        let err = result.unwrap_err().to_string();
        assert!(err.contains(fragment), "{err}");
    };
    let apis = godwit_fixtures::read("apiserver/disc-apis.body");
    // A server without aggregated discovery answers the aggregated Accept with a plain list.
    check(
        wire::parse::<ApiGroupDiscoveryList>("/apis", &apis).map(drop),
        "/apis has kind \"APIGroupList\", not the expected \"APIGroupDiscoveryList\"",
    );
    let aggregated = godwit_fixtures::read("apiserver/disc-apis-aggregated.body");
    check(
        wire::parse::<ApiGroupList>("/apis", &aggregated).map(drop),
        "not the expected \"APIGroupList\"",
    );
    // An unserved group-version answers plain text, not JSON.
    let not_found = godwit_fixtures::read("apiserver/cr-get-unknown-group.body");
    check(
        wire::parse::<ApiResourceList>("/apis/nosuch.example.io/v1", &not_found).map(drop),
        "cannot read /apis/nosuch.example.io/v1",
    );
    check(
        wire::parse::<ApiVersions>("/api", b"{\"versions\": 7}").map(drop),
        "cannot read /api: invalid type",
    );
    // No kind at all is accepted: fixtures and older tools leave it out.
    let bare: ApiVersions = wire::parse("/api", b"{\"versions\": [\"v1\"]}").unwrap();
    assert_eq!(bare.versions, ["v1"]);
}
