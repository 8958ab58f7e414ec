//! Tests of resolving user-written resource names.

use crate::{Group, ResourceInfo, ServedVersion};

use super::*;

fn resource(name: &str, singular: &str, kind: &str, short_names: &[&str]) -> ResourceInfo {
    ResourceInfo {
        name: name.to_owned(),
        singular_name: singular.to_owned(),
        kind: kind.to_owned(),
        namespaced: true,
        verbs: Vec::new(),
        short_names: short_names.iter().map(|s| (*s).to_owned()).collect(),
        categories: Vec::new(),
    }
}

fn group(name: &str, versions: Vec<(&str, Vec<ResourceInfo>)>) -> Group {
    Group {
        name: name.to_owned(),
        preferred_version: versions[0].0.to_owned(),
        versions: versions
            .into_iter()
            .map(|(version, resources)| ServedVersion {
                version: version.to_owned(),
                resources,
            })
            .collect(),
    }
}

/// Kubernetes 1.33 built-ins plus groups that collide with them and with each other.
fn cluster() -> Discovery {
    let built_ins =
        Discovery::from_json(&godwit_fixtures::read("discovery/kubernetes-1.33.json")).unwrap();
    let extra = Discovery::new(vec![
        group(
            "metrics.k8s.io",
            vec![(
                "v1beta1",
                vec![
                    resource("nodes", "", "NodeMetrics", &[]),
                    resource("pods", "", "PodMetrics", &[]),
                ],
            )],
        ),
        group(
            "snapshot.storage.k8s.io",
            vec![(
                "v1",
                vec![
                    resource(
                        "volumesnapshotclasses",
                        "volumesnapshotclass",
                        "VolumeSnapshotClass",
                        &["vsclass", "vsclasses"],
                    ),
                    resource(
                        "volumesnapshots",
                        "volumesnapshot",
                        "VolumeSnapshot",
                        &["vs"],
                    ),
                ],
            )],
        ),
        group(
            "cert-manager.io",
            vec![(
                "v1",
                vec![resource(
                    "certificates",
                    "certificate",
                    "Certificate",
                    &["cert", "certs"],
                )],
            )],
        ),
        group(
            "networking.internal.knative.dev",
            vec![(
                "v1alpha1",
                vec![resource(
                    "certificates",
                    "certificate",
                    "Certificate",
                    &["kcert"],
                )],
            )],
        ),
        // A short name equal to a built-in plural must not shadow the plural.
        group(
            "shadow.example.io",
            vec![(
                "v1",
                vec![resource("shadows", "shadow", "Shadow", &["deployments"])],
            )],
        ),
        // A kind that differs from the singular name.
        group(
            "odd.example.io",
            vec![(
                "v1",
                vec![resource("oddities", "oddity", "StrangeThing", &[])],
            )],
        ),
        // The same singular name for two resources in two versions: the preferred version wins.
        group(
            "example.io",
            vec![
                ("v2", vec![resource("widgets", "widget", "Widget", &[])]),
                ("v1", vec![resource("gadgets", "widget", "Gadget", &[])]),
            ],
        ),
    ])
    .unwrap();
    built_ins.merge(extra).unwrap()
}

/// `Ok(group-resource)` or `Err(fragment of the error message)`.
fn check(discovery: &Discovery, name: &str, expected: Result<&str, &str>) {
    let got = discovery.resolve(name);
    match expected {
        Ok(text) => match got {
            Ok(gr) => assert_eq!(gr.to_string(), text, "{name}"),
            Err(err) => panic!("{name}: {err}"),
        },
        Err(fragment) => {
            let err = got.map(|gr| gr.to_string()).expect_err(name).to_string();
            assert!(err.contains(fragment), "{name}: {err}");
        }
    }
}

#[test]
fn resolves_plural_singular_short_name_and_kind() {
    let cluster = cluster();
    let check = |name, expected| check(&cluster, name, expected);
    check("pods", Ok("pods"));
    check("PODS", Ok("pods"));
    check("pod", Ok("pods"));
    check("Pod", Ok("pods"));
    check("po", Ok("pods"));
    check(" pods ", Ok("pods"));
    check("deployments", Ok("deployments.apps"));
    check("deployment", Ok("deployments.apps"));
    check("Deployment", Ok("deployments.apps"));
    check("deploy", Ok("deployments.apps"));
    check("deploy.apps", Ok("deployments.apps"));
    check("Deployment.apps", Ok("deployments.apps"));
    check("deployments.APPS", Ok("deployments.apps"));
    check("hpa", Ok("horizontalpodautoscalers.autoscaling"));
    check("endpoints", Ok("endpoints"));
    check("Endpoints", Ok("endpoints"));
    check("crd", Ok("customresourcedefinitions.apiextensions.k8s.io"));
    check("crds", Ok("customresourcedefinitions.apiextensions.k8s.io"));
    check(
        "CustomResourceDefinition",
        Ok("customresourcedefinitions.apiextensions.k8s.io"),
    );
    check("oddity", Ok("oddities.odd.example.io"));
    check("StrangeThing", Ok("oddities.odd.example.io"));
}

#[test]
fn velero_default_priority_entries_resolve() {
    let cluster = cluster();
    let check = |name, expected| check(&cluster, name, expected);
    // Velero writes these without a group, and one of them in the singular.
    check("storageclasses", Ok("storageclasses.storage.k8s.io"));
    check("clusterroles", Ok("clusterroles.rbac.authorization.k8s.io"));
    check(
        "customresourcedefinitions",
        Ok("customresourcedefinitions.apiextensions.k8s.io"),
    );
    check(
        "volumesnapshotclass.snapshot.storage.k8s.io",
        Ok("volumesnapshotclasses.snapshot.storage.k8s.io"),
    );
    check("replicasets.apps", Ok("replicasets.apps"));
    check("datauploads.velero.io", Err("no served resource is named"));
}

#[test]
fn core_group_wins_over_other_groups() {
    let cluster = cluster();
    let check = |name, expected| check(&cluster, name, expected);
    check("events", Ok("events"));
    check("ev", Ok("events"));
    check("Event", Ok("events"));
    check("events.events.k8s.io", Ok("events.events.k8s.io"));
    check("ev.events.k8s.io", Ok("events.events.k8s.io"));
    check("nodes", Ok("nodes"));
    check("pods.metrics.k8s.io", Ok("pods.metrics.k8s.io"));
    check("PodMetrics", Ok("pods.metrics.k8s.io"));
}

#[test]
fn plural_and_singular_shadow_short_names() {
    let cluster = cluster();
    check(&cluster, "deployments", Ok("deployments.apps"));
    check(
        &cluster,
        "deployments.shadow.example.io",
        Ok("shadows.shadow.example.io"),
    );
}

#[test]
fn preferred_version_wins_inside_a_group() {
    let cluster = cluster();
    check(&cluster, "widget", Ok("widgets.example.io"));
    assert_eq!(
        cluster.resolve_candidates("widget").unwrap(),
        [
            GroupResource::new("example.io", "widgets"),
            GroupResource::new("example.io", "gadgets"),
        ]
    );
}

#[test]
fn several_non_core_groups_are_ambiguous() {
    let cluster = cluster();
    let err = cluster.resolve("certificates").unwrap_err();
    assert_eq!(
        err,
        Error::AmbiguousResource {
            name: "certificates".to_owned(),
            candidates: vec![
                GroupResource::new("cert-manager.io", "certificates"),
                GroupResource::new("networking.internal.knative.dev", "certificates"),
            ],
        }
    );
    assert_eq!(
        err.to_string(),
        "resource name \"certificates\" is ambiguous: it matches certificates.cert-manager.io, \
         certificates.networking.internal.knative.dev; write it with its group, e.g. \
         certificates.cert-manager.io"
    );
    check(&cluster, "Certificate", Err("is ambiguous"));
    check(
        &cluster,
        "certificates.cert-manager.io",
        Ok("certificates.cert-manager.io"),
    );
    check(&cluster, "cert", Ok("certificates.cert-manager.io"));
    check(
        &cluster,
        "kcert",
        Ok("certificates.networking.internal.knative.dev"),
    );
}

#[test]
fn unknown_and_malformed_names() {
    let cluster = cluster();
    let check = |name, expected| check(&cluster, name, expected);
    check("nosuch", Err("no served resource is named \"nosuch\""));
    check(
        "pods.apps",
        Err("no served resource is named \"pods.apps\""),
    );
    // Velero parses `<resource>.<group>` only; a version in the middle is part of the group.
    check("deployments.v1.apps", Err("no served resource is named"));
    check("", Err("invalid resource name \"\""));
    check("pods.", Err("empty label"));
    check(".apps", Err("resource name is empty"));
    check("a b", Err("invalid resource name"));
    check("pods/status", Err("invalid resource name"));
    assert_eq!(cluster.resolve_candidates("nosuch").unwrap(), []);
    assert_eq!(Discovery::default().resolve_candidates("pods").unwrap(), []);
}
