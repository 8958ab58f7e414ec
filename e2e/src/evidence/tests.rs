//! Tests of the evidence the run judges.

use super::*;
use crate::scenarios;

#[test]
fn collects_every_error_message() {
    let results = serde_json::json!({
        "velero": ["a"],
        "cluster": [],
        "namespaces": {"ns1": ["b", "c"], "ns2": ["d"]}
    });
    let mut messages = Vec::new();
    collect_strings(&results, &mut messages);
    messages.sort();
    assert_eq!(messages, ["a", "b", "c", "d"]);
}

#[test]
fn reads_the_current_server_of_a_kubeconfig() {
    let kubeconfig = |current: &str| {
        kube::config::Kubeconfig::from_yaml(&format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: {current}\n\
             clusters:\n\
             - name: a\n  cluster: {{server: 'https://a:6443'}}\n\
             - name: b\n  cluster: {{server: 'https://b:6443'}}\n\
             contexts:\n\
             - name: ctx-a\n  context: {{cluster: a, user: u}}\n\
             - name: ctx-b\n  context: {{cluster: b, user: u}}\n\
             users:\n- name: u\n  user: {{token: t}}\n"
        ))
        .unwrap()
    };
    assert_eq!(
        current_server(&kubeconfig("ctx-a")).as_deref(),
        Some("https://a:6443")
    );
    assert_eq!(
        current_server(&kubeconfig("ctx-b")).as_deref(),
        Some("https://b:6443")
    );
    assert_eq!(current_server(&kubeconfig("ctx-none")), None);
}

#[test]
fn checks_what_the_backup_holds() {
    let inventory = parse_inventory(
        r#"{"groupResources": [
            {"groupResource": "horizontalpodautoscalers.autoscaling",
             "versions": ["v2", "v1", "v2beta2"], "preferredVersion": "v1"},
            {"groupResource": "services", "versions": ["v1"], "preferredVersion": "v1"}]}"#,
    )
    .unwrap();
    let scenario = |name: &str| scenarios::select(&[name.to_owned()]).unwrap()[0];
    let names = Names::new("r");
    let check = |name: &str| {
        let scenario = scenario(name);
        backup_holds(&scenario, &group_resource(&names, &scenario), &inventory)
    };
    assert!(check("hpa").ok, "{:?}", check("hpa"));
    assert!(check("nodeport").ok);
    let missing = check("case-a");
    assert!(!missing.ok);
    assert!(
        missing.what.ends_with("(it holds nothing)"),
        "{}",
        missing.what
    );
    let wrong_preferred = parse_inventory(
        r#"{"groupResources": [{"groupResource": "horizontalpodautoscalers.autoscaling",
            "versions": ["v2", "v1", "v2beta2"], "preferredVersion": "v2"}]}"#,
    )
    .unwrap();
    let hpa = scenario("hpa");
    assert!(!backup_holds(&hpa, &group_resource(&names, &hpa), &wrong_preferred).ok);
    assert!(parse_inventory("{}").is_err());
}

#[test]
fn checks_what_the_target_serves() {
    let names = Names::new("r");
    let scenario = |name: &str| scenarios::select(&[name.to_owned()]).unwrap()[0];
    let served: Inventory = [
        (
            "autoscaling".to_owned(),
            (vec!["v2".to_owned(), "v1".to_owned()], "v2".to_owned()),
        ),
        (
            names.group("case-c"),
            (vec!["v1".to_owned(), "v2".to_owned()], "v1".to_owned()),
        ),
    ]
    .into();
    let check = |name: &str| target_serves(&scenario(name), &names, &served);
    assert!(check("hpa").unwrap().ok);
    assert!(check("crd-absent").unwrap().ok, "absent, as it must be");
    let wrong_preferred = check("case-c").unwrap();
    assert!(!wrong_preferred.ok, "{}", wrong_preferred.what);
    assert!(!check("case-a").unwrap().ok, "case-a's CRD is missing");
    assert_eq!(check("nodeport"), None);
}

#[test]
fn reads_served_versions_in_order() {
    let crd = serde_json::json!({"spec": {"versions": [
        {"name": "v1", "served": true}, {"name": "v1beta1", "served": false},
        {"name": "v1alpha1", "served": true}]}});
    assert_eq!(served_versions(&crd), ["v1", "v1alpha1"]);
}
