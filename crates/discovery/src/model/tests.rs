//! Tests of the discovery model: loading the fixtures, its invariants, and the queries.

use proptest::prelude::*;

use super::*;

fn fixture(name: &str) -> Discovery {
    let bytes = godwit_fixtures::read(&format!("discovery/{name}"));
    Discovery::from_json(&bytes).unwrap_or_else(|err| panic!("{name}: {err}"))
}

fn gr(text: &str) -> GroupResource {
    GroupResource::parse(text).unwrap()
}

fn resource(name: &str, kind: &str) -> ResourceInfo {
    ResourceInfo {
        name: name.to_owned(),
        singular_name: String::new(),
        kind: kind.to_owned(),
        namespaced: true,
        verbs: vec!["get".to_owned(), "list".to_owned()],
        short_names: Vec::new(),
        categories: Vec::new(),
    }
}

fn group(name: &str, preferred: &str, versions: &[(&str, &[&str])]) -> Group {
    Group {
        name: name.to_owned(),
        preferred_version: preferred.to_owned(),
        versions: versions
            .iter()
            .map(|(version, resources)| ServedVersion {
                version: (*version).to_owned(),
                resources: resources.iter().map(|r| resource(r, "Thing")).collect(),
            })
            .collect(),
    }
}

#[test]
fn every_fixture_loads_and_round_trips() {
    for name in [
        "kubernetes-1.25.json",
        "kubernetes-1.33.json",
        "case-a-source.json",
        "case-a-target.json",
        "case-b-source.json",
        "case-b-target.json",
        "case-c-source.json",
        "case-c-target.json",
        "case-d-source.json",
        "case-d-target.json",
    ] {
        let discovery = fixture(name);
        assert!(!discovery.groups().is_empty(), "{name}");
        let again = Discovery::from_json(discovery.to_json().unwrap().as_bytes()).unwrap();
        assert_eq!(again, discovery, "{name} round-trips through its JSON");
    }
}

/// (group, expected preferred version, expected versions in server order)
fn check_group(discovery: &Discovery, group: &str, preferred: Option<&str>, versions: &[&str]) {
    assert_eq!(discovery.preferred_version(group), preferred, "{group}");
    assert_eq!(discovery.versions(group), versions, "{group}");
}

#[test]
fn built_in_groups_and_preferred_versions() {
    let old = fixture("kubernetes-1.25.json");
    check_group(&old, "", Some("v1"), &["v1"]);
    check_group(&old, "autoscaling", Some("v1"), &["v1", "v2", "v2beta2"]);
    check_group(&old, "storage.k8s.io", Some("v1"), &["v1", "v1beta1"]);
    check_group(&old, "apps", Some("v1"), &["v1"]);
    check_group(&old, "flowcontrol.apiserver.k8s.io", None, &[]);

    let new = fixture("kubernetes-1.33.json");
    check_group(&new, "autoscaling", Some("v2"), &["v2", "v1"]);
    check_group(&new, "storage.k8s.io", Some("v1"), &["v1"]);
    check_group(&new, "events.k8s.io", Some("v1"), &["v1"]);
}

#[test]
fn case_fixtures_match_the_spec_table() {
    let cases = [
        ("a", &["v1", "v1alpha1"][..], &["v1", "v2beta1"][..]),
        ("b", &["v1", "v2beta2", "v2beta1"], &["v2beta2", "v2beta1"]),
        ("c", &["v1", "v1alpha1"], &["v2", "v1"]),
        (
            "d",
            &["v1", "v2beta2", "v2beta1"],
            &["v2", "v2beta2", "v2beta1"],
        ),
    ];
    for (case, source, target) in cases {
        let group = format!("case-{case}.example.io");
        let rockbands = GroupResource::new(&group, "rockbands");
        for (side, versions) in [("source", source), ("target", target)] {
            let discovery = fixture(&format!("case-{case}-{side}.json"));
            check_group(&discovery, &group, Some(versions[0]), versions);
            assert_eq!(discovery.versions_serving(&rockbands), versions);
            // A CRD prefers its highest-priority served version, and serves them in that order.
            let mut sorted = versions.to_vec();
            godwit_versioning::sort_by_priority(&mut sorted);
            assert_eq!(sorted, versions, "case {case} {side} is in priority order");
        }
    }
}

#[test]
fn versions_serving_is_resource_level() {
    let old = fixture("kubernetes-1.25.json");
    let check = |text: &str, expected: &[&str]| {
        assert_eq!(old.versions_serving(&gr(text)), expected, "{text}");
    };
    check("csistoragecapacities.storage.k8s.io", &["v1", "v1beta1"]);
    check("storageclasses.storage.k8s.io", &["v1"]);
    check(
        "horizontalpodautoscalers.autoscaling",
        &["v1", "v2", "v2beta2"],
    );
    check("pods", &["v1"]);
    check("pods.apps", &[]);
    check("rockbands.case-a.example.io", &[]);
}

#[test]
fn preferred_version_for_falls_back_to_the_first_serving_version() {
    let discovery = Discovery::new(vec![group(
        "example.io",
        "v2",
        &[
            ("v3", &["old", "both"]),
            ("v2", &["both"]),
            ("v1", &["old"]),
        ],
    )])
    .unwrap();
    let check = |text: &str, expected: Option<&str>| {
        assert_eq!(
            discovery.preferred_version_for(&gr(text)),
            expected,
            "{text}"
        );
    };
    check("both.example.io", Some("v2"));
    check("old.example.io", Some("v3"));
    check("missing.example.io", None);
    check("old.other.io", None);
}

#[test]
fn resource_info_namespaced_and_backupable() {
    let new = fixture("kubernetes-1.33.json");
    let deployments = new.resource(&gr("deployments.apps"), "v1").unwrap();
    assert_eq!(deployments.kind, "Deployment");
    assert_eq!(deployments.singular_name, "deployment");
    assert_eq!(deployments.short_names, ["deploy"]);
    assert_eq!(deployments.categories, ["all"]);
    assert!(new.resource(&gr("deployments.apps"), "v1beta1").is_none());

    let check = |text: &str, namespaced: Option<bool>, backupable: bool| {
        assert_eq!(
            new.is_namespaced(&gr(text)),
            namespaced,
            "{text} namespaced"
        );
        assert_eq!(
            new.is_backupable(&gr(text)),
            backupable,
            "{text} backupable"
        );
    };
    check("pods", Some(true), true);
    check("namespaces", Some(false), true);
    check("nodes", Some(false), true);
    check("persistentvolumes", Some(false), true);
    check("events.events.k8s.io", Some(true), true);
    check(
        "customresourcedefinitions.apiextensions.k8s.io",
        Some(false),
        true,
    );
    // Can only be created, or only read: never backed up.
    check("bindings", Some(true), false);
    check("componentstatuses", Some(false), false);
    check("nothing", None, false);
}

#[test]
fn group_resources_lists_each_once_in_discovery_order() {
    let old = fixture("kubernetes-1.25.json");
    let all = old.group_resources();
    let position = |text: &str| all.iter().position(|g| *g == gr(text));
    assert_eq!(all.first(), Some(&gr("bindings")));
    assert!(position("pods") < position("deployments.apps"));
    let hpas = all
        .iter()
        .filter(|g| g.resource == "horizontalpodautoscalers")
        .count();
    assert_eq!(hpas, 1, "one entry although three versions serve it");
    assert_eq!(
        all.iter()
            .filter(|g| g.resource == "csistoragecapacities")
            .count(),
        1
    );
}

#[test]
fn merge_combines_and_rejects_conflicts() {
    let merged = fixture("kubernetes-1.33.json")
        .merge(fixture("case-a-target.json"))
        .unwrap();
    assert_eq!(merged.preferred_version("case-a.example.io"), Some("v1"));
    assert_eq!(merged.preferred_version("apps"), Some("v1"));
    // The same group twice with the same content is fine; with different content it is not.
    let same = fixture("case-a-target.json")
        .merge(fixture("case-a-target.json"))
        .unwrap();
    assert_eq!(same, fixture("case-a-target.json"));
    let renamed = |name: &str| {
        let mut groups = fixture(name).groups().to_vec();
        groups[0].name = "case-x.example.io".to_owned();
        Discovery::new(groups).unwrap()
    };
    let err = renamed("case-a-source.json")
        .merge(renamed("case-a-target.json"))
        .unwrap_err();
    assert_eq!(
        err,
        Error::DuplicateGroup {
            group: "case-x.example.io".to_owned()
        }
    );
}

/// Builds leniently and compares the problems' messages with the expected fragments, in order.
fn check_problems(groups: Vec<Group>, expected: &[&str]) -> Discovery {
    let (discovery, problems) = Discovery::new_lenient(groups.clone());
    let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), expected.len(), "{messages:#?}");
    for (message, fragment) in messages.iter().zip(expected) {
        assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
    }
    match expected.first() {
        None => assert_eq!(Discovery::new(groups), Ok(discovery.clone())),
        Some(_) => assert_eq!(Discovery::new(groups), Err(problems[0].clone())),
    }
    discovery
}

#[test]
fn invariants_are_checked_and_broken_parts_left_out() {
    check_problems(vec![group("apps", "v1", &[("v1", &["deployments"])])], &[]);
    check_problems(
        vec![group("Apps", "v1", &[("v1", &["deployments"])])],
        &["invalid API group name \"Apps\""],
    );
    check_problems(
        vec![group("apps..io", "v1", &[("v1", &["a"])])],
        &["no empty labels"],
    );
    let kept = check_problems(
        vec![
            group("apps", "v1", &[("v1", &["deployments"])]),
            group("apps", "v1", &[("v1", &["statefulsets"])]),
        ],
        &["\"apps\" is listed twice with different content"],
    );
    assert_eq!(kept.versions_serving(&gr("deployments.apps")), ["v1"]);
    check_problems(
        vec![group("apps", "v1", &[])],
        &["\"apps\" has no usable version"],
    );
    let repaired = check_problems(
        vec![group("apps", "v9", &[("v1", &["a"]), ("v2", &["a"])])],
        &["prefers version \"v9\", which it does not list (it lists [v1, v2])"],
    );
    assert_eq!(repaired.preferred_version("apps"), Some("v1"));
    check_problems(
        vec![group(
            "apps",
            "v1",
            &[("v1", &["a"]), ("v1", &["b"]), ("", &[])],
        )],
        &["version \"v1\" twice", "version \"\" with an empty name"],
    );
    check_problems(
        vec![group(
            "apps",
            "v1",
            &[("v1", &["a", "a", "pods/status", "Big"])],
        )],
        &[
            "resource \"a\" in apps/v1 is left out: it is listed twice",
            "\"pods/status\" in apps/v1 is left out: a subresource is not a resource",
            "\"Big\" in apps/v1 is left out: a resource name has only lower-case",
        ],
    );
    let mut no_kind = group("", "v1", &[("v1", &["pods"])]);
    no_kind.versions[0].resources[0].kind.clear();
    check_problems(
        vec![no_kind],
        &["\"pods\" in v1 is left out: it has no kind"],
    );
}

#[test]
fn empty_singular_name_is_filled_from_the_kind() {
    let discovery = Discovery::new(vec![group("", "v1", &[("v1", &["things"])])]).unwrap();
    let things = discovery.resource(&gr("things"), "v1").unwrap();
    assert_eq!(things.singular_name, "thing");
}

#[test]
fn from_json_reports_bad_documents() {
    let check = |json: &str, fragment: &str| {
        let err = Discovery::from_json(json.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains(fragment), "{json}: {err}");
    };
    check("{", "cannot read compact discovery JSON");
    check("{\"groups\": 3}", "invalid type");
    check(
        r#"{"groups": [{"name": "a", "preferredVersion": "v2", "versions": [{"version": "v1"}]}]}"#,
        "prefers version \"v2\"",
    );
    check(
        r#"{"groups": [{"name": "a", "preferredVersion": "v1", "versions": [{"version": "v1",
            "resources": [{"name": "x", "namespaced": true}]}]}]}"#,
        "missing field `kind`",
    );
}

fn one_of(options: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(options).prop_map(str::to_owned)
}

fn arbitrary_group() -> impl Strategy<Value = Group> {
    let version = || one_of(&["v1", "v2", "v1beta1", "", "a/b"]);
    let resources = prop::collection::vec(
        (
            one_of(&["pods", "things", "x/status", "Bad", ""]),
            one_of(&["", "Thing"]),
        )
            .prop_map(|(name, kind)| resource(&name, &kind)),
        0..4,
    );
    (
        one_of(&["", "apps", "Apps", "a..b", "example.io"]),
        version(),
        prop::collection::vec((version(), resources), 0..4),
    )
        .prop_map(|(name, preferred_version, versions)| Group {
            name,
            preferred_version,
            versions: versions
                .into_iter()
                .map(|(version, resources)| ServedVersion { version, resources })
                .collect(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever goes in, the lenient constructor keeps a valid discovery: building it again
    /// strictly succeeds and changes nothing.
    #[test]
    fn lenient_output_is_always_valid(groups in prop::collection::vec(arbitrary_group(), 0..4)) {
        let (discovery, _problems) = Discovery::new_lenient(groups);
        let again = Discovery::new(discovery.groups().to_vec());
        prop_assert_eq!(again, Ok(discovery.clone()));
        for group in discovery.groups() {
            prop_assert!(group.version(&group.preferred_version).is_some());
        }
    }
}
