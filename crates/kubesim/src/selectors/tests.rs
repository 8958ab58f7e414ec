use super::*;
use proptest::prelude::*;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Parses `selector` and checks it against several label sets: `expected[i]` for `sets[i]`.
fn check(selector: &str, expected: &[bool]) {
    let sets = [
        labels(&[]),
        labels(&[("app", "web")]),
        labels(&[("app", "db"), ("tier", "back")]),
        labels(&[("app", "web"), ("tier", "front"), ("n", "5")]),
    ];
    let parsed = LabelSelector::parse(selector).unwrap_or_else(|err| panic!("{selector}: {err}"));
    let got: Vec<bool> = sets.iter().map(|set| parsed.matches(set)).collect();
    assert_eq!(got, expected, "{selector:?} parsed as {parsed:?}");
}

#[test]
fn label_selectors_match_like_the_api_server() {
    check("", &[true, true, true, true]);
    check("app=web", &[false, true, false, true]);
    check("app==web", &[false, true, false, true]);
    check("app!=web", &[true, false, true, false]);
    check("app in (web, db)", &[false, true, true, true]);
    check("app in (db)", &[false, false, true, false]);
    check("app notin (web)", &[true, false, true, false]);
    check("tier", &[false, false, true, true]);
    check("!tier", &[true, true, false, false]);
    check("app=web,tier=front", &[false, false, false, true]);
    check(" app = web , !tier ", &[false, true, false, false]);
    check("n>4", &[false, false, false, true]);
    check("n<5", &[false, false, false, false]);
    check("example.com/app!=x", &[true, true, true, true]);
    check("app=", &[false, false, false, false]);
}

#[test]
fn bad_label_selectors_are_refused() {
    for bad in [
        "app=web,",
        "=web",
        "app in web",
        "app in (web",
        "app=we b",
        "app foo (x)",
        "!",
        "a!b",
        "n>x",
        "-app=x",
    ] {
        assert!(
            LabelSelector::parse(bad).is_err(),
            "{bad:?} should not parse"
        );
    }
}

fn check_fields(selector: &str, name: &str, namespace: &str, expected: bool) {
    let parsed = FieldSelector::parse(selector).unwrap();
    let got = parsed.matches(|field| match field {
        "metadata.name" => name.to_owned(),
        "metadata.namespace" => namespace.to_owned(),
        _ => String::new(),
    });
    assert_eq!(got, expected, "{selector:?} on {namespace}/{name}");
}

#[test]
fn field_selectors_on_name_and_namespace() {
    check_fields("", "a", "ns", true);
    check_fields("metadata.name=a", "a", "ns", true);
    check_fields("metadata.name==a", "b", "ns", false);
    check_fields("metadata.name!=a", "b", "ns", true);
    check_fields("metadata.name=a,metadata.namespace=ns", "a", "ns", true);
    check_fields("metadata.name=a,metadata.namespace!=ns", "a", "ns", false);
    check_fields(r"metadata.name=a\,b", "a,b", "ns", true);
    assert!(FieldSelector::parse("metadata.name").is_err());
    assert!(
        !FieldSelector::parse("metadata.name=a")
            .unwrap()
            .needs_object()
    );
    assert!(
        FieldSelector::parse("status.phase=Running")
            .unwrap()
            .needs_object()
    );
}

#[test]
fn field_values_read_dotted_paths() {
    let pod = serde_json::json!({"spec": {"nodeName": "n1", "hostNetwork": true}, "status": {"phase": "Running"}});
    assert_eq!(field_value(&pod, "spec.nodeName"), "n1");
    assert_eq!(field_value(&pod, "spec.hostNetwork"), "true");
    assert_eq!(field_value(&pod, "status.podIP"), "");
    assert!(extra_selectable_fields("", "pods").contains(&"status.phase"));
    assert!(extra_selectable_fields("apps", "deployments").is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A selector made of a set's own labels selects it; negating one of them does not.
    #[test]
    fn own_labels_select_the_set(set in proptest::collection::btree_map("[a-z]{1,8}", "[a-z0-9]{0,8}", 1..5)) {
        let selector = set.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
        let parsed = LabelSelector::parse(&selector).unwrap();
        prop_assert!(parsed.matches(&set));
        let (k, v) = set.iter().next().unwrap();
        let negated = LabelSelector::parse(&format!("{k}!={v}")).unwrap();
        prop_assert!(!negated.matches(&set));
    }
}
