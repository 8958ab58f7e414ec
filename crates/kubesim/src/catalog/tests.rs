use super::*;
use crate::crds::CrdSpec;

fn check_hash(group: &str, version: &str, kind: &str, expected: &str) {
    let mut def = profiles::builtin_resources(Profile::V1_33)
        .into_iter()
        .find(|d| d.kind == "ConfigMap")
        .unwrap();
    def.storage_group = group.to_owned();
    def.storage_version = version.to_owned();
    def.kind = kind.to_owned();
    assert_eq!(
        def.storage_version_hash(),
        expected,
        "{group}/{version}/{kind}"
    );
}

#[test]
fn storage_version_hashes_match_discovery_samples() {
    check_hash("", "v1", "ConfigMap", "qFsyl6wFWjQ=");
    check_hash("", "v1", "Namespace", "Q3oi5N2YM8M=");
    check_hash("resp.example.io", "v1", "Widget", "0cAcPANKlkU=");
}

#[test]
fn base64_round_trips() {
    for input in [&b""[..], b"f", b"fo", b"foo", b"foob", b"\x00\xff\x10"] {
        assert_eq!(base64_url_decode(&base64_url(input)).unwrap(), input);
        assert_eq!(base64_url_decode(&base64_standard(input)).unwrap(), input);
    }
    assert_eq!(base64_standard(b"fo"), "Zm8=");
    assert_eq!(base64_url(b"\xfb\xff"), "-_8");
    assert!(base64_url_decode("a*b").is_none());
}

fn widgets() -> CrdSpec {
    let crd: serde_json::Value = godwit_fixtures::read_json("apiserver/crd-get-established.body");
    CrdSpec::parse(&crd).unwrap()
}

#[test]
fn crd_groups_follow_builtins_with_versions_by_priority() {
    let catalog = Catalog::new(Profile::V1_33, &[widgets()]);
    let groups: Vec<&str> = catalog.groups().iter().map(|g| g.name.as_str()).collect();
    assert_eq!(groups.first(), Some(&""));
    assert_eq!(groups.last(), Some(&"resp.example.io"));
    // v1alpha1 is not served; v1 outranks v2beta1.
    assert_eq!(
        catalog.group("resp.example.io").unwrap().versions,
        ["v1", "v2beta1"]
    );
    let v2 = catalog
        .find("resp.example.io", "v2beta1", "widgets")
        .unwrap();
    assert_eq!(v2.storage_version, "v1");
    assert!(!v2.has_status());
    assert!(
        catalog
            .find("resp.example.io", "v1", "widgets")
            .unwrap()
            .has_status()
    );
    assert!(
        catalog
            .find("resp.example.io", "v1alpha1", "widgets")
            .is_none()
    );
    assert!(!catalog.is_builtin_group_version("resp.example.io", "v1"));
    assert!(catalog.is_builtin_group_version("apps", "v1"));
    assert!(catalog.serves_group_version("resp.example.io", "v2beta1"));
    assert!(!catalog.serves_group_version("resp.example.io", "v1alpha1"));
}

#[test]
fn preferred_crd_version_is_the_highest_priority_served_one() {
    let mut spec = widgets();
    for (version, served) in [("v1", false), ("v2beta1", true), ("v1alpha1", true)] {
        let entry = spec
            .versions
            .iter_mut()
            .find(|v| v.name == version)
            .unwrap();
        entry.served = served;
    }
    let catalog = Catalog::new(Profile::V1_25, &[spec]);
    assert_eq!(
        catalog.group("resp.example.io").unwrap().versions,
        ["v2beta1", "v1alpha1"]
    );
}
