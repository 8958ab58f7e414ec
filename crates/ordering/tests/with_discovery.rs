//! The default restore order with godwit-discovery as the resolver, the way the restore uses it:
//! Velero's bare and singular default entries resolve through the target's discovery.

#![allow(clippy::unwrap_used)]

use godwit_discovery::{Discovery, Group, ResourceInfo, ServedVersion};
use godwit_ordering::{Placement, Priorities, PriorityEntry, restore_order};
use godwit_versioning::GroupResource;

fn resource(name: &str, singular: &str, kind: &str, namespaced: bool) -> ResourceInfo {
    ResourceInfo {
        name: name.to_owned(),
        singular_name: singular.to_owned(),
        kind: kind.to_owned(),
        namespaced,
        verbs: ["create", "delete", "get", "list"]
            .map(str::to_owned)
            .to_vec(),
        short_names: Vec::new(),
        categories: Vec::new(),
    }
}

/// A Kubernetes 1.33 target with the CSI snapshot CRDs and the case A CRD group installed.
fn target() -> Discovery {
    let built_ins =
        Discovery::from_json(&godwit_fixtures::read("discovery/kubernetes-1.33.json")).unwrap();
    let crds =
        Discovery::from_json(&godwit_fixtures::read("discovery/case-a-target.json")).unwrap();
    let snapshots = Discovery::new(vec![Group {
        name: "snapshot.storage.k8s.io".to_owned(),
        preferred_version: "v1".to_owned(),
        versions: vec![ServedVersion {
            version: "v1".to_owned(),
            resources: vec![
                resource(
                    "volumesnapshotclasses",
                    "volumesnapshotclass",
                    "VolumeSnapshotClass",
                    false,
                ),
                resource(
                    "volumesnapshotcontents",
                    "volumesnapshotcontent",
                    "VolumeSnapshotContent",
                    false,
                ),
                resource("volumesnapshots", "volumesnapshot", "VolumeSnapshot", true),
            ],
        }],
    }])
    .unwrap();
    built_ins.merge(crds).unwrap().merge(snapshots).unwrap()
}

fn grs(texts: &[&str]) -> Vec<GroupResource> {
    texts
        .iter()
        .map(|t| GroupResource::parse(t).unwrap())
        .collect()
}

#[test]
fn default_order_resolved_through_discovery() {
    let target = target();
    let backup = grs(&[
        "configmaps",
        "customresourcedefinitions.apiextensions.k8s.io",
        "deployments.apps",
        "endpoints",
        "events",
        "events.events.k8s.io",
        "horizontalpodautoscalers.autoscaling",
        "namespaces",
        "persistentvolumeclaims",
        "persistentvolumes",
        "pods",
        "replicasets.apps",
        "rockbands.case-a.example.io",
        "clusterroles.rbac.authorization.k8s.io",
        "clusterrolebindings.rbac.authorization.k8s.io",
        "secrets",
        "serviceaccounts",
        "services",
        "storageclasses.storage.k8s.io",
        "volumesnapshotclasses.snapshot.storage.k8s.io",
        "volumesnapshotcontents.snapshot.storage.k8s.io",
        "volumesnapshots.snapshot.storage.k8s.io",
    ]);
    let resolver = |entry: &PriorityEntry| target.resolve(entry.as_str()).ok();
    let order = restore_order(&backup, &Priorities::restore_default(), &resolver);

    // The singular default entry places the snapshot classes through discovery.
    let classes = order
        .ordered
        .iter()
        .find(|o| o.group_resource.resource == "volumesnapshotclasses")
        .unwrap();
    assert_eq!(
        classes.placement,
        Placement::HighPriority(
            PriorityEntry::new("volumesnapshotclass.snapshot.storage.k8s.io").unwrap()
        )
    );
    insta::assert_snapshot!(order.to_string());
}
