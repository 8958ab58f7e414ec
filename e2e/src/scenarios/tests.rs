//! Tests of the scenario data and the bodies generated from it.

use super::*;

fn names() -> Names {
    Names::new("ab12cd")
}

#[test]
fn the_version_cases_are_spec_md_s_table() {
    // SPEC.md section 4: case -> (backup holds, target serves, restored, rule).
    let table = [
        (
            "case-a",
            &["v1", "v1alpha1"][..],
            &["v1", "v2beta1"][..],
            "v1",
            "targetPreferred",
        ),
        (
            "case-b",
            &["v1", "v2beta2", "v2beta1"],
            &["v2beta2", "v2beta1"],
            "v2beta2",
            "targetPreferred",
        ),
        (
            "case-c",
            &["v1", "v1alpha1"],
            &["v2", "v1"],
            "v1",
            "sourcePreferred",
        ),
        (
            "case-d",
            &["v1", "v2beta2", "v2beta1"],
            &["v2", "v2beta2", "v2beta1"],
            "v2beta2",
            "commonNonPreferred",
        ),
    ];
    for (name, backup, target, restored, rule) in table {
        let scenario = select(&[name.to_owned()]).unwrap()[0];
        assert_eq!(scenario.backup_versions, backup, "{name}");
        assert_eq!(scenario.target_versions, target, "{name}");
        assert_eq!(scenario.expected_version, Some(restored), "{name}");
        assert_eq!(scenario.expected_rule, rule, "{name}");
    }
}

#[test]
fn the_independent_oracle_agrees_with_spec_md_s_table() {
    for scenario in SCENARIOS {
        if !matches!(
            scenario.kind,
            Kind::CustomResource {
                user_priorities: None
            } | Kind::HorizontalPodAutoscaler
        ) || scenario.target_versions.is_empty()
        {
            continue;
        }
        let (version, rule) = expected_by_spec(scenario.backup_versions, scenario.target_versions);
        assert_eq!(
            version.as_deref(),
            scenario.expected_version,
            "{}",
            scenario.name
        );
        assert_eq!(rule, scenario.expected_rule, "{}", scenario.name);
    }
    // Rule 3 skips both preferred versions.
    assert_eq!(
        expected_by_spec(&["v1", "v2", "v3"], &["v4", "v1beta1", "v3", "v2"]),
        (Some("v3".to_owned()), "commonNonPreferred")
    );
    assert_eq!(expected_by_spec(&[], &["v1"]), (None, NO_COMMON_VERSION));
}

#[test]
fn a_row_takes_the_versions_the_clusters_serve() {
    let strings = |list: &[&str]| list.iter().map(|v| (*v).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        preferred_first(&strings(&["v2", "v1"]), "v1"),
        strings(&["v1", "v2"])
    );
    let hpa = select(&["hpa".to_owned()]).unwrap()[0];
    // Two 1.3x clusters: both prefer v2.
    let row = hpa.with_served(&strings(&["v2", "v1"]), &strings(&["v2", "v1"]));
    assert_eq!(row.backup_versions, ["v2", "v1"]);
    assert_eq!(row.expected_version, Some("v2"));
    assert_eq!(row.expected_rule, "targetPreferred");
    assert_eq!(row.name, "hpa");
    let row = hpa.with_served(&strings(&["v2beta2"]), &strings(&["v2", "v1"]));
    assert_eq!(row.expected_version, None);
    assert_eq!(row.expected_rule, NO_COMMON_VERSION);
}

#[test]
fn every_list_puts_the_preferred_version_first() {
    // A CRD's preferred version is its highest-priority served version, so the data must list
    // that one first for the CRDs the harness generates to mean what the table says.
    for scenario in SCENARIOS {
        if !matches!(scenario.kind, Kind::CustomResource { .. }) {
            continue;
        }
        for versions in [scenario.backup_versions, scenario.target_versions] {
            if versions.is_empty() {
                continue;
            }
            let mut sorted: Vec<&str> = versions.to_vec();
            godwit_versioning::sort_by_priority(&mut sorted);
            assert_eq!(sorted[0], versions[0], "{}: {versions:?}", scenario.name);
        }
    }
}

#[test]
fn names_are_unique_and_valid() {
    let mut seen = std::collections::BTreeSet::new();
    for scenario in SCENARIOS {
        assert!(seen.insert(scenario.name), "{} twice", scenario.name);
        let group = names().group(scenario.name);
        assert!(
            group.len() <= 253 && group.ends_with(".e2e.godwit.io"),
            "{group}"
        );
        assert!(
            group
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'),
            "{group}"
        );
    }
    let names = names();
    assert_eq!(names.group("case-a"), "case-a-ab12cd.e2e.godwit.io");
    assert_eq!(
        names.group_resource("case-a"),
        "widgets.case-a-ab12cd.e2e.godwit.io"
    );
    assert_ne!(names.server_namespace("src"), names.server_namespace("dst"));
    assert_ne!(names.namespace(), names.mapped_namespace());
    assert!((30100..=32699).contains(&names.node_port()));
    assert_ne!(
        Names::new("000000").node_port(),
        Names::new("000001").node_port()
    );
}

#[test]
fn selects_cases_by_name() {
    assert_eq!(select(&[]).unwrap().len(), SCENARIOS.len());
    let picked = select(&["hpa".to_owned(), "case-a".to_owned()]).unwrap();
    // Table order, not command-line order.
    assert_eq!(
        picked.iter().map(|s| s.name).collect::<Vec<_>>(),
        ["case-a", "hpa"]
    );
    let err = select(&["case-z".to_owned()]).unwrap_err();
    assert!(
        err.starts_with("unknown --case case-z; known cases: case-a, case-b"),
        "{err}"
    );
}

#[test]
fn generates_a_crd_per_side() {
    let crd = custom_resource_definition(&names(), "case-d", &["v2", "v2beta2", "v2beta1"]);
    insta::assert_json_snapshot!(crd);
    let versions = crd["spec"]["versions"].as_array().unwrap();
    let storage: Vec<&str> = versions
        .iter()
        .filter(|v| v["storage"] == true)
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        storage,
        ["v2"],
        "exactly one storage version: the preferred one"
    );
}

#[test]
fn writes_user_priorities_only_when_a_scenario_has_them() {
    let names = names();
    let config_map = user_priorities_config_map(&names, SCENARIOS, "srv").unwrap();
    assert_eq!(config_map["metadata"]["name"], "enableapigroupversions");
    assert_eq!(config_map["metadata"]["namespace"], "srv");
    assert_eq!(
        config_map["data"]["restoreResourcesVersionPriority"],
        "widgets.user-priority-ab12cd.e2e.godwit.io=v2beta1,v2beta2,v2\n"
    );
    let without = select(&["case-a".to_owned()]).unwrap();
    assert_eq!(user_priorities_config_map(&names, &without, "srv"), None);
}

#[test]
fn one_cluster_runs_only_what_does_not_need_two() {
    let runnable: Vec<&str> = SCENARIOS
        .iter()
        .filter(|scenario| scenario.needs_two_clusters().is_none())
        .map(|scenario| scenario.name)
        .collect();
    assert_eq!(
        runnable,
        [
            "namespace-mapping",
            "existing-none",
            "existing-update",
            "control-plane-objects",
            "deprecated-apis",
            "pitfalls",
            "backup-lifecycle",
            "storage-version"
        ]
    );
}
