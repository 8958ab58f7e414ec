use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

/// Parses `text` and compares its canonical form, or the start of the error message.
fn check(text: &str, expected: Result<&str, &str>) {
    let parsed = LabelSelector::parse(text).map(|s| s.to_string());
    match (&parsed, expected) {
        (Ok(got), Ok(want)) => assert_eq!(got, want, "{text:?}"),
        (Err(got), Err(want)) => assert!(got.starts_with(want), "{text:?}: {got}"),
        _ => panic!("{text:?}: got {parsed:?}, want {expected:?}"),
    }
}

#[test]
fn parses_every_operator_into_canonical_form() {
    check("", Ok(""));
    check("  ", Ok(""));
    check("app=web", Ok("app=web"));
    check("app==web", Ok("app=web"));
    check("app = web", Ok("app=web"));
    check("app!=web", Ok("app!=web"));
    check("app", Ok("app"));
    check("!app", Ok("!app"));
    check("app in (b, a,a)", Ok("app in (a,b)"));
    check("app in (a)", Ok("app=a"));
    check("app notin (x,y)", Ok("app notin (x,y)"));
    check("replicas>2", Ok("replicas>2"));
    check("replicas < -1", Ok("replicas<-1"));
    check("app=", Ok("app="));
    check(
        "tier=cache,app=web,!legacy",
        Ok("app=web,!legacy,tier=cache"),
    );
    check(
        "example.io/team in (a,b),app.kubernetes.io/name=web",
        Ok("app.kubernetes.io/name=web,example.io/team in (a,b)"),
    );
}

#[test]
fn rejects_malformed_selectors_with_a_reason() {
    check("app in (a", Err("missing ')'"));
    check("app in a", Err("expected '('"));
    check("app=web,", Err("expected a label key, found the end"));
    check(",app", Err("expected a label key, found ','"));
    check("app web", Err("expected an operator"));
    check("!app=web", Err("'!app' takes no operator"));
    check("app=web=x", Err("expected ',' or the end"));
    check("-app=web", Err("invalid label key \"-app\""));
    check("Example.io/app=x", Err("invalid label key"));
    check("app=we$b", Err("invalid label value \"we$b\""));
    check(
        &format!("app={}", "v".repeat(64)),
        Err("invalid label value"),
    );
    check("replicas>two", Err("\"replicas\" is compared with \"two\""));
    check("app in (a b)", Err("unexpected \"b\""));
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn matches_like_kubernetes() {
    let web = labels(&[("app", "web"), ("replicas", "3")]);
    let none = labels(&[]);
    let cases: &[(&str, bool, bool)] = &[
        // selector, matches `web`, matches no labels
        ("", true, true),
        ("app=web", true, false),
        ("app!=web", false, true),
        ("app!=db", true, true),
        ("app", true, false),
        ("!app", false, true),
        ("app in (db,web)", true, false),
        ("app notin (db,web)", false, true),
        ("replicas>2", true, false),
        ("replicas<3", false, false),
        ("app=web,!legacy", true, false),
        ("app=web,replicas>5", false, false),
    ];
    for (text, on_web, on_none) in cases {
        let selector = LabelSelector::parse(text).unwrap();
        assert_eq!(selector.matches(&web), *on_web, "{text} on web");
        assert_eq!(selector.matches(&none), *on_none, "{text} on no labels");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Never panics, and a parsed selector's canonical form parses back to the same selector.
    #[test]
    fn canonical_form_round_trips(text in "[a-z!=(),<> 0-9./-]{0,40}") {
        if let Ok(selector) = LabelSelector::parse(&text) {
            let again = LabelSelector::parse(&selector.to_string()).unwrap();
            prop_assert_eq!(again, selector);
        }
    }
}

#[test]
fn structured_selectors_become_text() {
    let check = |selector: serde_json::Value, expected: Result<&str, &str>| {
        let selector: MatchSelector = serde_json::from_value(selector).unwrap();
        match (selector.to_text(), expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want),
            (Err(got), Err(want)) => assert!(got.starts_with(want), "{got}"),
            (got, want) => panic!("got {got:?}, want {want:?}"),
        }
    };
    check(serde_json::json!({}), Ok(""));
    check(
        serde_json::json!({
            "matchLabels": {"tier": "web", "app": "shop"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "stage"]},
                {"key": "legacy", "operator": "DoesNotExist"},
                {"key": "team", "operator": "Exists"},
                {"key": "zone", "operator": "NotIn", "values": ["a"]}
            ]
        }),
        Ok("app=shop,tier=web,env in (prod,stage),!legacy,team,zone notin (a)"),
    );
    check(
        serde_json::json!({"matchExpressions": [{"key": "env", "operator": "In"}]}),
        Err("the In expression on \"env\" has no values"),
    );
    check(
        serde_json::json!({"matchExpressions": [{"key": "env", "operator": "Gt", "values": ["1"]}]}),
        Err("unknown operator \"Gt\""),
    );
    check(
        serde_json::json!({"matchLabels": {"app": "bad value"}}),
        Err("invalid label value"),
    );
}
