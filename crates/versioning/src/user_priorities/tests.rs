use proptest::prelude::*;
use serde_json::json;

use super::*;

/// `entries` as `("<group-resource>", ["<version>", ...])`; `invalid` as `(line, "<problem>")`
/// with the problem in its `Debug` form.
fn check(text: &str, entries: &[(&str, &[&str])], invalid: &[(usize, &str)]) {
    let (priorities, problems) = parse_user_priorities(text);
    // Compared in string order of the group-resource, whatever the map's own order.
    let mut got: Vec<(String, Vec<String>)> = priorities
        .0
        .iter()
        .map(|(gr, versions)| (gr.to_string(), versions.clone()))
        .collect();
    got.sort();
    let want: Vec<(String, Vec<String>)> = entries
        .iter()
        .map(|(gr, versions)| {
            (
                gr.to_string(),
                versions.iter().map(|v| v.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(got, want, "entries of {text:?}");
    let got: Vec<(usize, String)> = problems
        .iter()
        .map(|p| (p.line, format!("{:?}", p.problem)))
        .collect();
    let want: Vec<(usize, String)> = invalid.iter().map(|(l, p)| (*l, p.to_string())).collect();
    assert_eq!(got, want, "invalid lines of {text:?}");
}

#[test]
fn valid_lines() {
    check("", &[], &[]);
    // Velero's own example.
    check(
        "rockbands.music.example.io=v2beta1,v2beta2\n\
         orchestras.music.example.io=v2,v3alpha1\n\
         subscriptions.operators.coreos.com=v2,v1",
        &[
            ("orchestras.music.example.io", &["v2", "v3alpha1"]),
            ("rockbands.music.example.io", &["v2beta1", "v2beta2"]),
            ("subscriptions.operators.coreos.com", &["v2", "v1"]),
        ],
        &[],
    );
    // A trailing newline, blank lines and lines of only whitespace are skipped silently.
    check("pods=v1\n", &[("pods", &["v1"])], &[]);
    check("\n   \npods=v1\n\t\n\n", &[("pods", &["v1"])], &[]);
    // Spaces anywhere are ignored; so are tabs and the '\r' of CRLF text.
    check(
        " rock bands.music.example.io = v2beta1 , v2 beta2 ",
        &[("rockbands.music.example.io", &["v2beta1", "v2beta2"])],
        &[],
    );
    check(
        "pods=v1\r\ndeployments.apps=\tv1,v1beta2\r\n",
        &[("deployments.apps", &["v1", "v1beta2"]), ("pods", &["v1"])],
        &[],
    );
    // Empty names in the list are dropped, and so are repeats after their first place.
    check("pods=,v1,,v2,", &[("pods", &["v1", "v2"])], &[]);
    check("pods=v2,v1,v2,v1", &[("pods", &["v2", "v1"])], &[]);
    // Versions are not checked: one no cluster serves simply never matches.
    check("pods=V1,foo", &[("pods", &["V1", "foo"])], &[]);
}

#[test]
fn invalid_lines() {
    check("rockbands.music.example.io", &[], &[(1, "NoEqualsSign")]);
    check("pods=v1=v2", &[], &[(1, "SeveralEqualsSigns")]);
    check("==", &[], &[(1, "SeveralEqualsSigns")]);
    check("=v1", &[], &[(1, "NoGroupResource")]);
    check(" = ", &[], &[(1, "NoGroupResource")]);
    check("pods=", &[], &[(1, "NoVersion")]);
    check("pods= , ,", &[], &[(1, "NoVersion")]);
    check(
        "Pods=v1",
        &[],
        &[(
            1,
            "InvalidGroupResource { why: \"a resource name has only lower-case letters, digits \
             and '-'\" }",
        )],
    );
    check(
        ".apps=v1",
        &[],
        &[(
            1,
            "InvalidGroupResource { why: \"the resource name is empty\" }",
        )],
    );
    check(
        "pods.=v1",
        &[],
        &[(
            1,
            "InvalidGroupResource { why: \"the group has an empty label\" }",
        )],
    );
    // From Velero's tests: a literal backslash-n does not split a line.
    check(
        "rockbands.music.example.io=v2beta1,v2beta2\\n orchestras.music.example.io=v2,v3alpha1",
        &[],
        &[(1, "SeveralEqualsSigns")],
    );
    check(
        "rb=foo,foo2\no=v2beta2\n\\n",
        &[("o", &["v2beta2"]), ("rb", &["foo", "foo2"])],
        &[(3, "NoEqualsSign")],
    );
}

#[test]
fn good_lines_survive_bad_ones() {
    check(
        "\nnonsense\npods=v1\n=v2\ndeployments.apps=v1,v1beta1\nx=y=z\n",
        &[("deployments.apps", &["v1", "v1beta1"]), ("pods", &["v1"])],
        &[
            (2, "NoEqualsSign"),
            (4, "NoGroupResource"),
            (6, "SeveralEqualsSigns"),
        ],
    );
}

#[test]
fn the_last_line_for_a_group_resource_wins() {
    check(
        "pods=v1\ndeployments.apps=v1\npods = v2",
        &[("deployments.apps", &["v1"]), ("pods", &["v2"])],
        &[(1, "Replaced { by_line: 3 }")],
    );
    check(
        "pods=v1\npods=v2\npods=v3",
        &[("pods", &["v3"])],
        &[
            (1, "Replaced { by_line: 2 }"),
            (2, "Replaced { by_line: 3 }"),
        ],
    );
    // Only valid lines replace: an invalid later line leaves the earlier one in force.
    check(
        "pods=v1\npods=\npods=,",
        &[("pods", &["v1"])],
        &[(2, "NoVersion"), (3, "NoVersion")],
    );
}

#[test]
fn messages_name_the_line_and_the_fix() {
    let (_, problems) = parse_user_priorities("pods=v1\nnonsense\npods=v2\nPods=v1");
    let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "ignoring line 1 of restoreResourcesVersionPriority in configmap \
             enableapigroupversions (\"pods=v1\"): line 3 names the same group-resource and the \
             last line wins; delete one of the two",
            "ignoring line 2 of restoreResourcesVersionPriority in configmap \
             enableapigroupversions (\"nonsense\"): no '=' after the group-resource; write one \
             <resource>.<group>=<version>,<version>,... per line",
            "ignoring line 4 of restoreResourcesVersionPriority in configmap \
             enableapigroupversions (\"Pods=v1\"): invalid group-resource: a resource name has \
             only lower-case letters, digits and '-'; write the plural resource and its group as \
             `kubectl api-resources` lists them, such as rockbands.music.example.io",
        ]
    );
    // The text is kept as written, control characters escaped when shown.
    let (_, problems) = parse_user_priorities("a=b=c\r\n");
    assert_eq!(problems[0].text, "a=b=c\r");
    assert!(problems[0].to_string().contains("(\"a=b=c\\r\")"));
}

#[test]
fn lookup_and_json() {
    let (priorities, problems) =
        parse_user_priorities("pods=v1\nrockbands.music.example.io=v2beta1,v2\npods=v2");
    let rockbands = GroupResource::new("music.example.io", "rockbands");
    assert_eq!(priorities.get(&rockbands), ["v2beta1", "v2"]);
    assert!(
        priorities
            .get(&GroupResource::new("apps", "deployments"))
            .is_empty()
    );
    let expected = json!({"pods": ["v2"], "rockbands.music.example.io": ["v2beta1", "v2"]});
    assert_eq!(serde_json::to_value(&priorities).unwrap(), expected);
    assert_eq!(
        serde_json::from_value::<UserPriorities>(expected).unwrap(),
        priorities
    );
    let expected = json!([
        {"line": 1, "text": "pods=v1", "problem": {"kind": "replaced", "byLine": 3}}
    ]);
    assert_eq!(serde_json::to_value(&problems).unwrap(), expected);
    assert_eq!(
        serde_json::from_value::<Vec<InvalidLine>>(expected).unwrap(),
        problems
    );
}

/// Lines that are often nearly right, so every branch of the parser is reached.
fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ a-z.]{0,12}=[ a-z0-9,]{0,12}",
        "(pods|deployments.apps|Pods| )(=| = |==)(v1|v2| |,)*",
        "[ -~\t\r]{0,20}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_non_blank_line_is_an_entry_or_invalid(
        lines in prop::collection::vec(line(), 0..10),
    ) {
        let text = lines.join("\n");
        let (priorities, problems) = parse_user_priorities(&text);
        let raw: Vec<&str> = text.split('\n').collect();
        let non_blank: Vec<usize> = raw
            .iter()
            .enumerate()
            .filter(|(_, l)| l.chars().any(|c| !c.is_ascii_whitespace()))
            .map(|(i, _)| i + 1)
            .collect();
        prop_assert_eq!(priorities.0.len() + problems.len(), non_blank.len());
        let mut seen = Vec::new();
        for problem in &problems {
            prop_assert!(non_blank.contains(&problem.line), "{:?}", problem);
            prop_assert_eq!(problem.text.as_str(), raw[problem.line - 1]);
            prop_assert!(!seen.contains(&problem.line), "line {} twice", problem.line);
            seen.push(problem.line);
            if let LineProblem::Replaced { by_line } = problem.problem {
                prop_assert!(by_line > problem.line);
            }
        }
        for versions in priorities.0.values() {
            prop_assert!(!versions.is_empty());
            for version in versions {
                prop_assert!(!version.is_empty());
                prop_assert!(!version.contains([',', '=']));
                prop_assert!(!version.chars().any(|c| c.is_ascii_whitespace()));
            }
        }
    }
}

#[test]
fn a_huge_configmap_parses_in_linear_time() {
    // About 1 MiB, the most a ConfigMap holds: a quadratic parser would take minutes here.
    let versions: Vec<String> = (0..100_000).map(|n| format!("v{n}")).collect();
    let mut text = format!("pods={}\n", versions.join(","));
    text.push_str(&"deployments.apps=v1\n".repeat(10_000));
    let (priorities, problems) = parse_user_priorities(&text);
    assert_eq!(
        priorities.get(&GroupResource::new("", "pods")).len(),
        100_000
    );
    assert_eq!(problems.len(), 9_999);
}
