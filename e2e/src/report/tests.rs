//! Tests of verdicts and of the table.

use super::*;
use crate::scenarios::{SCENARIOS, select};

fn scenario(name: &str) -> Scenario {
    select(&[name.to_owned()]).unwrap()[0]
}

fn seen(restored: Option<&str>, found: bool, rule: Option<&str>) -> Observation {
    Observation {
        restored_version: restored.map(str::to_owned),
        found_at_expected: found,
        rule: rule.map(str::to_owned),
        checks: Vec::new(),
    }
}

fn check(name: &str, observation: Observation, expected_problems: &[&str]) {
    let row = judge(&scenario(name), &observation);
    assert_eq!(row.problems, expected_problems, "{name}");
    let verdict = if expected_problems.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    assert_eq!(row.verdict, verdict, "{name}");
}

#[test]
fn judges_versions_and_rules() {
    check(
        "case-d",
        seen(Some("v2beta2"), true, Some("commonNonPreferred")),
        &[],
    );
    check(
        "case-d",
        seen(Some("v2beta1"), true, Some("commonNonPreferred")),
        &["restored at v2beta1, expected v2beta2"],
    );
    check(
        "case-c",
        seen(Some("v1"), true, Some("targetPreferred")),
        &["chosen by rule targetPreferred, expected sourcePreferred"],
    );
    check(
        "case-a",
        seen(None, false, None),
        &[
            "restored at nothing (object missing), expected v1",
            "GET at v1 did not find the object",
            "no version choice recorded in the restore",
        ],
    );
}

#[test]
fn judges_no_common_version() {
    let mut observation = seen(None, false, None);
    observation.checks = vec![Check::new("restore ended PartiallyFailed", true)];
    check("no-common-version", observation.clone(), &[]);
    let row = judge(&scenario("no-common-version"), &observation);
    assert_eq!(row.rule, "noCommonVersion");
    assert_eq!(row.restored_version, "none");

    check(
        "no-common-version",
        seen(Some("v2"), false, Some("targetPreferred")),
        &[
            "restored at v2, but no version is common to both sides",
            "a version choice was recorded (rule targetPreferred)",
        ],
    );
    observation
        .checks
        .push(Check::new("an error names both sides", false));
    check(
        "no-common-version",
        observation,
        &["check failed: an error names both sides"],
    );
}

#[test]
fn a_failed_check_fails_the_row() {
    let mut observation = seen(Some("v1"), true, Some("targetPreferred"));
    observation.checks = vec![
        Check::new("nodePort kept", false),
        Check::new("something else", true),
    ];
    check("nodeport", observation, &["check failed: nodePort kept"]);
}

#[test]
fn recognizes_versions_as_words() {
    let message =
        "no common version for widgets.g: backup has [v1, v1alpha1], cluster serves [v2, v2beta1]";
    assert!(names_versions(message, &["v1", "v1alpha1"]));
    assert!(names_versions(message, &["v2", "v2beta1"]));
    assert!(!names_versions("cluster serves [v2beta1]", &["v2"]));
    assert!(names_versions("anything", &[]));
}

#[test]
fn renders_the_table() {
    let rows: Vec<Row> = SCENARIOS
        .iter()
        .map(|scenario| {
            let observation = match scenario.expected_version {
                Some(version) => seen(Some(version), true, Some(scenario.expected_rule)),
                None => seen(None, false, None),
            };
            judge(scenario, &observation)
        })
        .chain(std::iter::once(judge(
            &scenario("case-b"),
            &seen(Some("v1"), true, Some("sourcePreferred")),
        )))
        .collect();
    assert!(!all_passed(&rows));
    assert!(all_passed(&rows[..rows.len() - 1]));
    assert!(!all_passed(&[]));
    insta::assert_snapshot!(render_table(&rows));
    let json: serde_json::Value = serde_json::from_str(&to_json(&rows[..1])).unwrap();
    insta::assert_json_snapshot!(json);
}

#[test]
fn a_skipped_row_neither_passes_nor_fails_the_run() {
    let row = skipped(&scenario("nodeport"), "one cluster");
    assert_eq!(row.verdict, Verdict::Skip);
    assert_eq!(row.problems, ["skipped: one cluster"]);
    let pass = judge(
        &scenario("existing-none"),
        &seen(Some("v1"), true, Some("targetPreferred")),
    );
    assert!(all_passed(&[row.clone(), pass]));
    assert!(!all_passed(&[row]), "nothing ran, nothing passed");
}
