use std::cmp::Ordering;

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::compare;

fn rockbands() -> GroupResource {
    GroupResource::new("music.example.io", "rockbands")
}

/// A side written as the published table writes it: `"v1, v1alpha1"`, preferred version first.
fn listed(list: &str) -> Versions {
    let names: Vec<&str> = list.split(", ").collect();
    Versions::new(names.iter().copied(), names[0])
}

/// One line per outcome, short enough to read a table of cases at a glance.
fn summary(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Chosen(choice) => {
            let by = match choice.rule.priority() {
                Some(priority) => format!("priority {priority}"),
                None => format!("{:?}", choice.rule),
            };
            format!("{} from {} by {by}", choice.version, choice.dir)
        }
        Outcome::NotServed(not_served) => {
            format!(
                "not served; backup [{}]",
                not_served.backup_versions.join(", ")
            )
        }
        Outcome::NoCommonVersion(none) => format!(
            "none; backup [{}], target [{}]",
            none.backup_versions.join(", "),
            none.target_versions.join(", ")
        ),
    }
}

fn check(backup: Versions, target: Option<Versions>, user: &[&str], expected: &str) {
    let user: Vec<String> = user.iter().map(|v| v.to_string()).collect();
    let outcome = choose_version(&rockbands(), &backup, target.as_ref(), &user);
    assert_eq!(
        summary(&outcome),
        expected,
        "backup {backup:?}, target {target:?}, user {user:?}"
    );
}

#[test]
fn published_cases() {
    // SPEC.md section 4, cases A to D, exactly as the table lists them.
    check(
        listed("v1, v1alpha1"),
        Some(listed("v1, v2beta1")),
        &[],
        "v1 from v1-preferredversion by priority 1",
    );
    check(
        listed("v1, v2beta2, v2beta1"),
        Some(listed("v2beta2, v2beta1")),
        &[],
        "v2beta2 from v2beta2 by priority 1",
    );
    check(
        listed("v1, v1alpha1"),
        Some(listed("v2, v1")),
        &[],
        "v1 from v1-preferredversion by priority 2",
    );
    check(
        listed("v1, v2beta2, v2beta1"),
        Some(listed("v2, v2beta2, v2beta1")),
        &[],
        "v2beta2 from v2beta2 by priority 3",
    );
}

#[test]
fn target_preferred_beats_source_preferred() {
    // Both rules 1 and 2 apply, to different versions: rule 1 wins.
    check(
        listed("v1, v2"),
        Some(listed("v2, v1")),
        &[],
        "v2 from v2 by priority 1",
    );
    // Rule 2 beats a higher-ranked common version.
    check(
        listed("v1beta1, v1"),
        Some(listed("v2, v1beta1, v1")),
        &[],
        "v1beta1 from v1beta1-preferredversion by priority 2",
    );
}

#[test]
fn user_priorities_come_first() {
    let case_d = || listed("v1, v2beta2, v2beta1");
    let case_d_target = || Some(listed("v2, v2beta2, v2beta1"));
    check(
        case_d(),
        case_d_target(),
        &["v2beta1", "v2beta2"],
        "v2beta1 from v2beta1 by priority 0",
    );
    // The target serves v2 but the backup lacks it: the next entry wins.
    check(
        case_d(),
        case_d_target(),
        &["v2", "v2beta1"],
        "v2beta1 from v2beta1 by priority 0",
    );
    // The backup holds v1 but the target does not serve it: the next entry wins.
    check(
        case_d(),
        case_d_target(),
        &["v1", "v2beta2"],
        "v2beta2 from v2beta2 by priority 0",
    );
    // Nothing usable in the list: rules 1 to 3 decide as if there were no list.
    check(
        case_d(),
        case_d_target(),
        &["v3", "v1", "", "v2"],
        "v2beta2 from v2beta2 by priority 3",
    );
    check(
        listed("v1, v1alpha1"),
        Some(listed("v1, v2beta1")),
        &["v9"],
        "v1 from v1-preferredversion by priority 1",
    );
    // A user pick that is the source preferred version reads the preferred directory.
    check(
        listed("v1, v1alpha1"),
        Some(listed("v2, v1, v1alpha1")),
        &["v1", "v1alpha1"],
        "v1 from v1-preferredversion by priority 0",
    );
    // The user may pick a version below both preferred ones.
    check(
        listed("v1, v1alpha1"),
        Some(listed("v1, v1alpha1")),
        &["v1alpha1"],
        "v1alpha1 from v1alpha1 by priority 0",
    );
}

#[test]
fn nothing_fits() {
    check(
        listed("v1, v1alpha1"),
        Some(listed("v2beta2, v2beta1")),
        &[],
        "none; backup [v1, v1alpha1], target [v2beta2, v2beta1]",
    );
    // A user list cannot make a version common.
    check(
        listed("v1, v1alpha1"),
        Some(listed("v2beta2, v2beta1")),
        &["v1", "v2beta2"],
        "none; backup [v1, v1alpha1], target [v2beta2, v2beta1]",
    );
    // A backup with no versions at all has nothing in common with anything.
    check(
        Versions::default(),
        Some(listed("v1")),
        &[],
        "none; backup [], target [v1]",
    );
}

#[test]
fn target_without_the_resource() {
    check(
        listed("v1, v1alpha1"),
        None,
        &[],
        "not served; backup [v1, v1alpha1]",
    );
    // Decided before user priorities, as in Velero.
    check(
        listed("v1, v1alpha1"),
        None,
        &["v1"],
        "not served; backup [v1, v1alpha1]",
    );
    // Served with no version at all counts as not served, as in Velero.
    check(
        listed("v1, v1alpha1"),
        Some(Versions::new(["", ""], "")),
        &[],
        "not served; backup [v1, v1alpha1]",
    );
}

#[test]
fn duplicate_and_unsorted_inputs() {
    let backup = Versions::new(["v2beta1", "v1", "v2beta2", "v2beta1", ""], "v1");
    let target = Versions::new(["v2beta1", "v2beta2", "v2", "v2beta2"], "v2");
    check(
        backup,
        Some(target),
        &["v3", "v3"],
        "v2beta2 from v2beta2 by priority 3",
    );
    check(
        Versions::new(["v1alpha1", "v1", "v1alpha1"], "v1"),
        Some(Versions::new(["v2beta1", "v2beta2", "v2beta1"], "v2beta2")),
        &[],
        "none; backup [v1, v1alpha1], target [v2beta2, v2beta1]",
    );
    // Rule 3 ranks by priority, not by the order discovery happened to list versions in.
    check(
        listed("v1, v1alpha1, v1beta1"),
        Some(Versions::new(["v1alpha1", "v1beta1"], "v2")),
        &[],
        "v1beta1 from v1beta1 by priority 3",
    );
    // Non-kube-like names rank in ascending string order.
    check(
        Versions::new(["foo10", "foo1"], "v1"),
        Some(Versions::new(["foo10", "foo1"], "v2")),
        &[],
        "foo1 from foo1 by priority 3",
    );
    // Equal priority through leading zeros: the target's listing order breaks the tie.
    check(
        Versions::new(["v01", "v1"], "v3"),
        Some(Versions::new(["v1", "v01"], "v2")),
        &[],
        "v1 from v1 by priority 3",
    );
}

#[test]
fn preferred_version_missing_from_its_list() {
    // Both preferred versions count as held though neither list names them.
    check(
        Versions::new(["v1alpha1"], "v1"),
        Some(Versions::new(["v2"], "v1")),
        &[],
        "v1 from v1-preferredversion by priority 1",
    );
    check(
        Versions::new(["v1alpha1"], "v1"),
        Some(Versions::new(["v2"], "v1alpha1")),
        &[],
        "v1alpha1 from v1alpha1 by priority 1",
    );
    check(
        Versions::new(["v2beta1"], "v1"),
        Some(Versions::new(["v2beta1"], "v2")),
        &[],
        "v2beta1 from v2beta1 by priority 3",
    );
    // Unknown preferred versions (empty) skip rules 1 and 2.
    check(
        listed("v1, v1alpha1"),
        Some(Versions::new(["v1"], "")),
        &[],
        "v1 from v1-preferredversion by priority 2",
    );
    check(
        Versions::new(["v1"], ""),
        Some(listed("v2, v1")),
        &[],
        "v1 from v1 by priority 3",
    );
}

#[test]
fn messages_explain_the_outcome() {
    let outcomes = [
        (
            choose_version(
                &rockbands(),
                &listed("v1, v2beta2, v2beta1"),
                Some(&listed("v2, v2beta2, v2beta1")),
                &[],
            ),
            "rockbands.music.example.io: restoring v2beta2 by highest common non-preferred \
             version, read from resources/rockbands.music.example.io/v2beta2",
        ),
        (
            choose_version(
                &rockbands(),
                &listed("v1, v1alpha1"),
                Some(&listed("v2beta2, v2beta1")),
                &[],
            ),
            "no common version for rockbands.music.example.io: backup has [v1, v1alpha1], \
             cluster serves [v2beta2, v2beta1]; serve one of the backup's versions in the \
             target (for a custom resource, a CRD version), then restore again",
        ),
        (
            choose_version(&rockbands(), &listed("v1, v1alpha1"), None, &[]),
            "cluster does not serve rockbands.music.example.io, backup has [v1, v1alpha1]; \
             restore its CustomResourceDefinition from the backup or install one that serves \
             one of them",
        ),
        (
            choose_version(
                &GroupResource::new("", "pods"),
                &listed("v1"),
                Some(&listed("v1")),
                &[],
            ),
            "pods: restoring v1 by target preferred version, read from \
             resources/pods/v1-preferredversion",
        ),
    ];
    for (outcome, expected) in outcomes {
        assert_eq!(outcome.to_string(), expected);
        match outcome.clone().into_result() {
            Ok(choice) => assert_eq!(choice.to_string(), expected),
            Err(err) => assert_eq!(err.to_string(), expected),
        }
    }
}

#[test]
fn rules_read_as_words() {
    let rules = [
        (Rule::UserPriority, "user priority"),
        (Rule::TargetPreferred, "target preferred version"),
        (Rule::SourcePreferred, "source preferred version"),
        (
            Rule::CommonNonPreferred,
            "highest common non-preferred version",
        ),
        (
            Rule::FeatureFlagOff,
            "source preferred version, EnableAPIGroupVersions is off",
        ),
    ];
    for (rule, words) in rules {
        assert_eq!(rule.to_string(), words);
    }
}

#[test]
fn outcomes_render_as_json() {
    let chosen = choose_version(
        &rockbands(),
        &listed("v1, v2beta2, v2beta1"),
        Some(&listed("v2, v2beta2, v2beta1")),
        &[],
    );
    let none = choose_version(
        &rockbands(),
        &listed("v1, v1alpha1"),
        Some(&listed("v2beta2, v2beta1")),
        &[],
    );
    let not_served = choose_version(&rockbands(), &listed("v1"), None, &[]);
    let cases = [
        (
            chosen,
            json!({
                "outcome": "chosen",
                "groupResource": "rockbands.music.example.io",
                "version": "v2beta2",
                "dir": "v2beta2",
                "rule": "commonNonPreferred",
            }),
        ),
        (
            none,
            json!({
                "outcome": "noCommonVersion",
                "groupResource": "rockbands.music.example.io",
                "backupVersions": ["v1", "v1alpha1"],
                "targetVersions": ["v2beta2", "v2beta1"],
            }),
        ),
        (
            not_served,
            json!({
                "outcome": "notServed",
                "groupResource": "rockbands.music.example.io",
                "backupVersions": ["v1"],
            }),
        ),
    ];
    for (outcome, expected) in cases {
        assert_eq!(serde_json::to_value(&outcome).unwrap(), expected);
        let back: Outcome = serde_json::from_value(expected).unwrap();
        assert_eq!(back, outcome);
    }
}

#[test]
fn feature_flag_off_restores_the_source_preferred_version() {
    let choice = choose_without_group_versions(&rockbands(), &listed("v1, v2beta1")).unwrap();
    assert_eq!(
        choice,
        Choice {
            group_resource: rockbands(),
            version: "v1".into(),
            dir: "v1-preferredversion".into(),
            rule: Rule::FeatureFlagOff,
        }
    );
    assert_eq!(choice.rule.priority(), None);
    assert_eq!(
        choose_without_group_versions(&rockbands(), &Versions::new(["v1"], "")),
        None
    );
}

/// A small pool without ties, so any two distinct names rank differently.
fn version_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "v1", "v2", "v3", "v1beta1", "v2beta1", "v2beta2", "v1alpha1", "foo", "",
    ])
    .prop_map(str::to_owned)
}

fn versions() -> impl Strategy<Value = Versions> {
    (prop::collection::vec(version_name(), 0..5), version_name()).prop_map(
        |(versions, preferred_version)| Versions {
            versions,
            preferred_version,
        },
    )
}

/// The same lists reversed and each name given twice.
fn shuffled(versions: &Versions) -> Versions {
    let mut names: Vec<String> = versions.versions.iter().rev().cloned().collect();
    names.extend(versions.versions.iter().cloned());
    Versions::new(names, versions.preferred_version.clone())
}

proptest! {
    #[test]
    fn choice_is_common_and_rules_keep_their_order(
        backup in versions(),
        target in prop::option::weighted(0.9, versions()),
        user in prop::collection::vec(version_name(), 0..4),
    ) {
        let outcome = choose_version(&rockbands(), &backup, target.as_ref(), &user);
        let served = target.clone().unwrap_or_default();
        let common = |v: &str| backup.holds(v) && served.holds(v);
        let any_common = backup.by_priority().iter().any(|v| common(v));
        match &outcome {
            Outcome::NotServed(_) => prop_assert!(served.by_priority().is_empty()),
            Outcome::NoCommonVersion(_) => {
                prop_assert!(!served.by_priority().is_empty());
                prop_assert!(!any_common);
            }
            Outcome::Chosen(choice) => {
                let version = choice.version.as_str();
                prop_assert!(common(version), "{version} is not held by both sides");
                prop_assert_eq!(
                    choice.dir.ends_with("-preferredversion"),
                    version == backup.preferred_version
                );
                let first_user = user.iter().find(|v| common(v));
                match choice.rule {
                    Rule::UserPriority => prop_assert_eq!(Some(&choice.version), first_user),
                    _ => prop_assert_eq!(first_user, None),
                }
                match choice.rule {
                    Rule::UserPriority => {}
                    Rule::TargetPreferred => prop_assert_eq!(version, served.preferred_version.as_str()),
                    _ => prop_assert!(!backup.holds(&served.preferred_version)),
                }
                match choice.rule {
                    Rule::UserPriority | Rule::TargetPreferred => {}
                    Rule::SourcePreferred => prop_assert_eq!(version, backup.preferred_version.as_str()),
                    _ => prop_assert!(!served.holds(&backup.preferred_version)),
                }
                if choice.rule == Rule::CommonNonPreferred {
                    prop_assert_ne!(version, served.preferred_version.as_str());
                    prop_assert_ne!(version, backup.preferred_version.as_str());
                    for other in backup.by_priority().iter().filter(|v| common(v)) {
                        prop_assert_ne!(compare(other, version), Ordering::Greater);
                    }
                }
                prop_assert_ne!(choice.rule, Rule::FeatureFlagOff);
            }
        }
    }

    #[test]
    fn order_and_duplicates_do_not_matter(
        backup in versions(),
        target in prop::option::of(versions()),
        user in prop::collection::vec(version_name(), 0..4),
    ) {
        let outcome = choose_version(&rockbands(), &backup, target.as_ref(), &user);
        let again = choose_version(
            &rockbands(),
            &shuffled(&backup),
            target.as_ref().map(shuffled).as_ref(),
            &user,
        );
        prop_assert_eq!(outcome, again);
    }
}
