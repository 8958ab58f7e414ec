use super::*;
use crate::crds::CrdSpec;

fn sample(name: &str) -> Value {
    godwit_fixtures::read_json(&format!("apiserver/{name}"))
}

fn catalog_with_widgets() -> Catalog {
    let crd = sample("crd-get-established.body");
    Catalog::new(Profile::V1_33, &[CrdSpec::parse(&crd).unwrap()])
}

fn check(ours: Option<Value>, sample_name: &str) {
    assert_eq!(ours, Some(sample(sample_name)), "{sample_name}");
}

#[test]
fn crd_discovery_equals_the_recorded_documents() {
    let catalog = catalog_with_widgets();
    check(
        api_group(&catalog, "resp.example.io"),
        "disc-apis-group.body",
    );
    check(
        resource_list(&catalog, "resp.example.io", "v1"),
        "disc-apis-group-v1.body",
    );
    check(
        resource_list(&catalog, "resp.example.io", "v2beta1"),
        "disc-apis-group-v2beta1.body",
    );
    assert_eq!(resource_list(&catalog, "resp.example.io", "v1alpha1"), None);
}

#[test]
fn builtin_discovery_equals_the_recorded_documents() {
    let catalog = catalog_with_widgets();
    check(api_group(&catalog, "autoscaling"), "disc-autoscaling.body");
    check(resource_list(&catalog, "", "v1"), "disc-api-v1.body");
    check(Some(api_versions("127.0.0.1:16443")), "disc-api.body");
    assert_eq!(api_group(&catalog, ""), None);
}

/// Groups that exist in both kubesim 1.33 and the recorded 1.36 server look the same.
#[test]
fn group_list_agrees_with_the_recording_where_both_serve_a_group() {
    let ours = api_group_list(&catalog_with_widgets());
    let recorded = sample("disc-apis.body");
    let theirs: Vec<&Value> = recorded["groups"].as_array().unwrap().iter().collect();
    let mut compared = 0;
    for group in ours["groups"].as_array().unwrap() {
        if let Some(other) = theirs.iter().find(|g| g["name"] == group["name"]) {
            assert_eq!(group, *other);
            compared += 1;
        }
    }
    assert!(compared >= 19, "{compared}");
    assert_eq!(ours["kind"], "APIGroupList");
}

#[test]
fn aggregated_discovery_agrees_with_the_recording() {
    let ours = aggregated(&catalog_with_widgets(), false, |_| false);
    let recorded = sample("disc-apis-aggregated.body");
    assert_eq!(ours["kind"], recorded["kind"]);
    assert_eq!(ours["apiVersion"], recorded["apiVersion"]);
    let find = |doc: &Value, name: &str| {
        doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["metadata"]["name"] == name)
            .cloned()
    };
    for name in [
        "apps",
        "autoscaling",
        "batch",
        "policy",
        "rbac.authorization.k8s.io",
        "resp.example.io",
        "apiextensions.k8s.io",
        "coordination.k8s.io",
    ] {
        assert_eq!(find(&ours, name), find(&recorded, name), "{name}");
    }
    let core = aggregated(&catalog_with_widgets(), true, |_| false);
    assert_eq!(core["items"].as_array().unwrap().len(), 1);
}

#[test]
fn aggregated_accept_headers_are_recognised() {
    assert!(wants_aggregated(
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    ));
    assert!(wants_aggregated(
        "application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io"
    ));
    assert!(!wants_aggregated(
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
    ));
    assert!(!wants_aggregated("application/json, */*"));
}

#[test]
fn version_reports_the_profile() {
    assert_eq!(version(Profile::V1_25)["minor"], "25");
    assert!(version(Profile::V1_25).get("emulationMinor").is_none());
    assert_eq!(version(Profile::V1_33)["gitVersion"], "v1.33.0+kubesim");
}
