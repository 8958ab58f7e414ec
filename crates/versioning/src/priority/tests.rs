use super::*;
use proptest::prelude::*;

fn check(a: &str, b: &str, expected: Ordering) {
    assert_eq!(compare(a, b), expected, "compare({a:?}, {b:?})");
    assert_eq!(compare(b, a), expected.reverse(), "compare({b:?}, {a:?})");
}

#[test]
fn spec_list_sorts_as_published() {
    let mut names = [
        "foo10",
        "v12alpha1",
        "v1",
        "v3beta1",
        "foo1",
        "v2",
        "v11alpha2",
        "v10beta3",
    ];
    names.reverse();
    let mut names = names.to_vec();
    names.extend(["v10", "v11beta2"]);
    sort_by_priority(&mut names);
    assert_eq!(
        names,
        [
            "v10",
            "v2",
            "v1",
            "v11beta2",
            "v10beta3",
            "v3beta1",
            "v12alpha1",
            "v11alpha2",
            "foo1",
            "foo10"
        ]
    );
}

#[test]
fn kube_like_ranks() {
    check("v2", "v1", Ordering::Greater);
    check("v1", "v2beta1", Ordering::Greater);
    check("v1beta1", "v2alpha1", Ordering::Greater);
    check("v1beta2", "v1beta1", Ordering::Greater);
    check("v2alpha1", "v1alpha9", Ordering::Greater);
    check("v1", "v1", Ordering::Equal);
}

#[test]
fn edge_cases_follow_upstream() {
    // No number after alpha/beta: not kube-like, so below any kube-like name.
    check("v1alpha1", "v1beta", Ordering::Greater);
    check("v1alpha1", "v1alpha", Ordering::Greater);
    // Both non-kube-like: ascending string order ranks higher.
    check("v1alpha", "v1beta", Ordering::Greater);
    // Leading zeros parse as the same number: equal priority though the names differ.
    check("v01", "v1", Ordering::Equal);
    check("v1beta01", "v1beta1", Ordering::Equal);
    check("v010", "v9", Ordering::Greater);
    // Numbers beyond i64 make the name non-kube-like.
    check("v9223372036854775807", "v1", Ordering::Greater);
    check("v1alpha1", "v9223372036854775808", Ordering::Greater);
    check("v1", "v1beta9223372036854775808", Ordering::Greater);
    // Upper case, signs, spaces, trailing newline and other shapes are not kube-like.
    check("v1alpha1", "V1", Ordering::Greater);
    check("v1alpha1", "v1Beta1", Ordering::Greater);
    check("v1alpha1", "v+1", Ordering::Greater);
    check("v1alpha1", "v1\n", Ordering::Greater);
    check("v1alpha1", "v1gamma1", Ordering::Greater);
    check("v1alpha1", "v", Ordering::Greater);
    check("v1alpha1", "1", Ordering::Greater);
    check("v1alpha1", "v１", Ordering::Greater); // a full-width digit is not ASCII
    // The empty string is non-kube-like and the smallest string, so it ranks highest among them.
    check("", "a", Ordering::Greater);
    check("v1alpha1", "", Ordering::Greater);
}

#[test]
fn parse_reads_parts() {
    assert_eq!(
        KubeVersion::parse("v3beta7"),
        Some(KubeVersion {
            major: 3,
            stability: Stability::Beta,
            minor: 7
        })
    );
    assert_eq!(
        KubeVersion::parse("v12"),
        Some(KubeVersion {
            major: 12,
            stability: Stability::Ga,
            minor: 0
        })
    );
    assert_eq!(KubeVersion::parse("v1beta"), None);
}

#[test]
fn sort_is_stable_for_ties() {
    let mut names = vec!["v01", "v2", "v1", "v001"];
    sort_by_priority(&mut names);
    assert_eq!(names, ["v2", "v01", "v1", "v001"]);
}

/// Names drawn to hit every branch: kube-like, near-kube-like, ties through leading zeros.
fn version_name() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            0u8..4,
            prop_oneof![Just(""), Just("alpha"), Just("beta")],
            0u8..4
        )
            .prop_map(|(major, kind, minor)| if kind.is_empty() {
                format!("v{major}")
            } else {
                format!("v{major}{kind}{minor}")
            }),
        "v0{0,2}[0-9]{1,2}((alpha|beta)0?[0-9]?)?",
        "[vV]?[a-z0-9]{0,6}",
        Just("v99999999999999999999".to_string()),
    ]
}

proptest! {
    #[test]
    fn compare_is_antisymmetric(a in version_name(), b in version_name()) {
        prop_assert_eq!(compare(&a, &b), compare(&b, &a).reverse());
    }

    #[test]
    fn compare_is_transitive(a in version_name(), b in version_name(), c in version_name()) {
        if compare(&a, &b) != Ordering::Less && compare(&b, &c) != Ordering::Less {
            prop_assert_ne!(compare(&a, &c), Ordering::Less);
        }
        if compare(&a, &b) == Ordering::Equal && compare(&b, &c) == Ordering::Equal {
            prop_assert_eq!(compare(&a, &c), Ordering::Equal);
        }
    }

    #[test]
    fn equal_only_for_same_name_or_same_numbers(a in version_name(), b in version_name()) {
        if compare(&a, &b) == Ordering::Equal && a != b {
            prop_assert!(KubeVersion::parse(&a).is_some());
            prop_assert_eq!(KubeVersion::parse(&a), KubeVersion::parse(&b));
        }
    }

    #[test]
    fn sorted_output_agrees_with_compare(mut names in prop::collection::vec(version_name(), 0..12)) {
        sort_by_priority(&mut names);
        for pair in names.windows(2) {
            prop_assert_ne!(compare(&pair[0], &pair[1]), Ordering::Less, "{:?}", pair);
        }
    }
}
