use super::*;

fn sample(name: &str) -> Value {
    godwit_fixtures::read_json(&format!("apiserver/{name}"))
}

#[test]
fn the_sample_crd_is_read_with_its_versions() {
    let spec = CrdSpec::parse(&sample("crd-create.body")).unwrap();
    assert_eq!(spec.name, "widgets.resp.example.io");
    assert_eq!(spec.storage_version(), "v1");
    assert_eq!(spec.short_names, ["wd"]);
    assert!(spec.namespaced);
    let served: Vec<(String, bool)> = spec
        .served()
        .iter()
        .map(|d| (d.version.clone(), d.has_status()))
        .collect();
    assert_eq!(
        served,
        [("v1".to_owned(), true), ("v2beta1".to_owned(), false)]
    );
}

#[test]
fn new_and_established_status_match_the_samples() {
    let created = sample("crd-create.body");
    let spec = CrdSpec::parse(&created).unwrap();
    assert_eq!(initial_status(&spec), created["status"]);
    let established = sample("crd-get-established.body");
    let mut crd = created.clone();
    establish(&mut crd, &spec, "2026-11-21T05:06:54Z");
    assert_eq!(crd["status"], established["status"]);
}

#[test]
fn defaults_fill_names_and_conversion() {
    let mut crd = json!({
        "metadata": {"name": "things.example.io"},
        "spec": {"group": "example.io", "scope": "Cluster", "names": {"plural": "things", "kind": "Thing"},
                 "versions": [{"name": "v1", "served": true, "storage": true}]},
    });
    apply_defaults(&mut crd);
    assert_eq!(crd["spec"]["conversion"], json!({"strategy": "None"}));
    assert_eq!(crd["spec"]["names"]["singular"], "thing");
    assert_eq!(crd["spec"]["names"]["listKind"], "ThingList");
    let spec = CrdSpec::parse(&crd).unwrap();
    assert!(!spec.namespaced);
    let mut status = serde_json::Map::new();
    keep_storage_version_stored(&mut status, &spec);
    keep_storage_version_stored(&mut status, &spec);
    assert_eq!(status["storedVersions"], json!(["v1"]));
}

fn check_invalid(crd: Value, fields: &[&str]) {
    let causes = CrdSpec::parse(&crd).unwrap_err();
    let got: Vec<&str> = causes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(got, fields, "{crd}");
}

#[test]
fn unservable_crds_are_refused() {
    let base = |name: &str, versions: Value| {
        json!({"metadata": {"name": name}, "spec": {"group": "example.io", "scope": "Namespaced",
               "names": {"plural": "things", "kind": "Thing"}, "versions": versions}})
    };
    let one = json!([{"name": "v1", "served": true, "storage": true}]);
    check_invalid(base("wrong.example.io", one.clone()), &["metadata.name"]);
    check_invalid(base("things.example.io", json!([])), &["spec.versions"]);
    check_invalid(
        base(
            "things.example.io",
            json!([{"name": "v1", "served": true, "storage": true}, {"name": "v2", "served": true, "storage": true}]),
        ),
        &["spec.versions"],
    );
    check_invalid(
        json!({"metadata": {"name": "x"}, "spec": {"scope": "Namespaced", "versions": one}}),
        &["spec.group", "spec.names.plural", "spec.names.kind"],
    );
}
