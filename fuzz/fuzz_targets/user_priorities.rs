//! Fuzzes godwit-versioning's `parse_user_priorities` (the `enableapigroupversions` ConfigMap
//! text) and checks what it documents: it never fails as a whole, every non-blank line is either
//! a kept entry or one `InvalidLine` (in line order), and what it keeps writes back to text that
//! parses to the same priorities with no invalid line.

#![no_main]

use godwit_versioning::{GroupResource, LineProblem, parse_user_priorities};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let (priorities, invalid) = parse_user_priorities(text);
    let lines: Vec<&str> = text.split('\n').collect();

    let non_blank = lines
        .iter()
        .filter(|line| line.chars().any(|c| !c.is_ascii_whitespace()))
        .count();
    assert_eq!(
        priorities.0.len() + invalid.len(),
        non_blank,
        "every non-blank line is an entry or an invalid line"
    );
    assert!(invalid.is_sorted_by_key(|problem| problem.line));
    for problem in &invalid {
        assert_eq!(lines[problem.line - 1], problem.text);
        if let LineProblem::Replaced { by_line } = problem.problem {
            assert!(by_line > problem.line, "a line is replaced by a later one");
        }
        let _ = problem.to_string();
    }

    let mut written = String::new();
    for (group_resource, versions) in &priorities.0 {
        assert_eq!(
            GroupResource::parse(&group_resource.to_string()).as_ref(),
            Ok(group_resource),
            "a kept group-resource reads back"
        );
        assert!(
            !versions.is_empty(),
            "{group_resource} kept with no version"
        );
        for (index, version) in versions.iter().enumerate() {
            assert!(
                !version.is_empty()
                    && !version.contains([',', '='])
                    && !version.chars().any(|c| c.is_ascii_whitespace()),
                "{group_resource} kept version {version:?}"
            );
            assert!(!versions[..index].contains(version), "{version} kept twice");
        }
        written.push_str(&format!("{group_resource}={}\n", versions.join(",")));
    }
    let (again, invalid_again) = parse_user_priorities(&written);
    assert_eq!(again, priorities, "written back as {written:?}");
    assert!(invalid_again.is_empty(), "{invalid_again:?}");
});
