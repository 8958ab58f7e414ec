use serde_json::{Value, json};

use super::*;

/// A CRD with `(name, served, storage)` versions and `storedVersions`.
fn crd(versions: &[(&str, bool, bool)], stored: &[&str]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|(name, served, storage)| json!({"name": name, "served": served, "storage": storage}))
        .collect();
    json!({
        "metadata": {"name": "widgets.example.io", "generation": 3, "resourceVersion": "42"},
        "spec": {
            "group": "example.io",
            "names": {"plural": "widgets", "kind": "Widget"},
            "scope": "Namespaced",
            "versions": versions,
        },
        "status": {"storedVersions": stored},
    })
}

/// The decision in one line: `nothing at v1`, `migrate [v1beta1] to v1 via v1`, or the refusal.
fn render(decision: &Decision) -> String {
    match decision {
        Decision::NothingToDo { storage_version } => format!("nothing at {storage_version}"),
        Decision::Migrate(m) => format!(
            "migrate [{}] to {} via {}",
            m.stale_versions.join(", "),
            m.storage_version,
            m.write_version
        ),
        Decision::Refuse(refusal) => format!("refuse: {refusal}"),
    }
}

fn check(crd: &Value, expected: &str) {
    let got = render(&decide(crd));
    assert!(
        got == expected
            || (expected.ends_with('…') && got.starts_with(expected.trim_end_matches('…'))),
        "got {got:?}, expected {expected:?}"
    );
}

#[test]
fn decisions() {
    // Only the storage version stored, or nothing recorded yet.
    check(&crd(&[("v1", true, true)], &["v1"]), "nothing at v1");
    check(&crd(&[("v1", true, true)], &[]), "nothing at v1");
    // The e2e's case: v1beta1 was storage, v1 is now; both served.
    check(
        &crd(
            &[("v1beta1", true, false), ("v1", true, true)],
            &["v1beta1", "v1"],
        ),
        "migrate [v1beta1] to v1 via v1",
    );
    // Several stale versions, in the server's order, duplicates once.
    check(
        &crd(
            &[
                ("v1alpha1", true, false),
                ("v1beta1", true, false),
                ("v1", true, true),
            ],
            &["v1alpha1", "v1beta1", "v1alpha1", "v1"],
        ),
        "migrate [v1alpha1, v1beta1] to v1 via v1",
    );
    // A status write may leave the storage version out; still a migration.
    check(
        &crd(
            &[("v1beta1", true, false), ("v1", true, true)],
            &["v1beta1"],
        ),
        "migrate [v1beta1] to v1 via v1",
    );
    // Storage version not served: write through the highest-priority served version.
    check(
        &crd(
            &[
                ("v1beta1", true, false),
                ("v1beta2", true, false),
                ("v1", false, true),
            ],
            &["v1beta1", "v1"],
        ),
        "migrate [v1beta1] to v1 via v1beta2",
    );
    // Refusals.
    check(
        &crd(
            &[("v1beta1", false, false), ("v1", true, true)],
            &["v1beta1", "v1"],
        ),
        "refuse: widgets.example.io: stored version v1beta1 is not served, so its objects can \
         be read only through the server's conversion from v1beta1…",
    );
    check(
        &crd(&[("v1", true, true)], &["v1beta1", "v1"]),
        "refuse: widgets.example.io: stored version v1beta1 is not in spec.versions, so the API \
         server cannot decode objects still stored at v1beta1…",
    );
    // The first stale version at fault is named.
    check(
        &crd(
            &[("v1alpha1", false, false), ("v1", true, true)],
            &["v1beta1", "v1alpha1", "v1"],
        ),
        "refuse: widgets.example.io: stored version v1beta1 is not in spec.versions…",
    );
    check(
        &crd(
            &[("v1beta1", false, false), ("v1", false, true)],
            &["v1beta1", "v1"],
        ),
        "refuse: widgets.example.io: stored version v1beta1 is not served…",
    );
    check(
        &crd(
            &[("v1beta1", true, false), ("v1", false, true)],
            &["v1beta1", "v1"],
        ),
        "migrate [v1beta1] to v1 via v1beta1",
    );
    check(
        &crd(
            &[("v1beta1", true, false), ("v1", true, false)],
            &["v1beta1"],
        ),
        "refuse: widgets.example.io: cannot read the CRD: spec.versions must mark exactly one \
         version storage: true; check it is a CustomResourceDefinition",
    );
    check(
        &json!({"metadata": {"name": "x.example.io"}, "spec": {}}),
        "refuse: x.example.io: cannot read the CRD: spec.group is missing…",
    );
}

#[test]
fn nothing_served_at_all() {
    let mut value = crd(
        &[("v1beta1", true, false), ("v1", false, true)],
        &["v1beta1", "v1"],
    );
    value["spec"]["versions"][0]["served"] = json!(false);
    check(
        &value,
        "refuse: widgets.example.io: stored version v1beta1 is not served…",
    );
}

#[test]
fn changes_during_the_run() {
    let before = Crd::parse(&crd(
        &[("v1beta1", true, false), ("v1", true, true)],
        &["v1beta1", "v1"],
    ))
    .unwrap();
    let check = |now: Value, expected: Option<&str>| {
        let now = Crd::parse(&now).unwrap();
        assert_eq!(
            changed_during_run(&before, &now)
                .map(|r| r.to_string())
                .as_deref(),
            expected
        );
    };
    // Only status or resourceVersion moved: fine (the precondition covers the write itself).
    let mut same = crd(
        &[("v1beta1", true, false), ("v1", true, true)],
        &["v1beta1", "v1"],
    );
    same["metadata"]["resourceVersion"] = json!("99");
    check(same, None);
    let mut flipped = crd(
        &[("v1beta1", true, true), ("v1", true, false)],
        &["v1beta1", "v1"],
    );
    flipped["metadata"]["generation"] = json!(4);
    check(
        flipped,
        Some(
            "widgets.example.io: the storage version changed from v1 to v1beta1 during the run, \
             so objects rewritten meanwhile may be stored at either; status.storedVersions left \
             as it is; run again",
        ),
    );
    let mut edited = crd(
        &[("v1beta1", false, false), ("v1", true, true)],
        &["v1beta1", "v1"],
    );
    edited["metadata"]["generation"] = json!(4);
    check(
        edited,
        Some(
            "widgets.example.io: the CRD's spec changed during the run (generation 3 -> 4), so \
             the decision it started from no longer holds; status.storedVersions left as it is; \
             run again",
        ),
    );
}

#[test]
fn storage_version_hashes_match_discovery() {
    // From fixtures/apiserver/disc-apis-group-v1.body: widgets.resp.example.io stored at v1.
    assert_eq!(
        storage_version_hash("resp.example.io", "v1", "Widget"),
        "0cAcPANKlkU="
    );
}
