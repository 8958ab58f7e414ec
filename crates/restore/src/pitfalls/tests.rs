//! Pitfall tests over crafted plans and target facts.

use std::collections::BTreeMap;

use godwit_versioning::{Choice, GroupResource, Rule, Versions};
use serde_json::json;

use super::*;
use crate::plan::{ObjectRef, PlannedNamespace, PlannedObject, Tier, Unrestored};

fn empty_plan() -> Plan {
    Plan {
        backup_name: "b".into(),
        restore_name: "r".into(),
        enable_api_group_versions: true,
        namespaces: Vec::new(),
        tiers: Vec::new(),
        skipped: Vec::new(),
        pulled_in: Vec::new(),
        failed: Vec::new(),
        warnings: Vec::new(),
        pitfalls: Vec::new(),
    }
}

/// A tier of `count` objects of `group_resource` in namespace `shop`, at v1.
fn tier(group_resource: &str, count: usize) -> Tier {
    let group_resource = GroupResource::parse(group_resource).unwrap();
    Tier {
        group_resource: group_resource.clone(),
        placement: "alphabetical".into(),
        stage: 1,
        decision: Decision::Chosen {
            choice: Choice {
                group_resource,
                version: "v1".into(),
                dir: "v1-preferredversion".into(),
                rule: Rule::TargetPreferred,
            },
            backup: Versions::new(["v1"], "v1"),
            target: Versions::new(["v1"], "v1"),
            converted: None,
        },
        cluster_scoped: false,
        objects: (0..count)
            .map(|i| PlannedObject {
                namespace: Some("shop".into()),
                target_namespace: Some("shop".into()),
                name: format!("o{i}"),
                object: json!({}).into(),
            })
            .collect(),
    }
}

fn namespace(name: &str, backed_up: bool, annotations: &[(&str, &str)]) -> PlannedNamespace {
    PlannedNamespace {
        name: name.into(),
        source: None,
        backed_up,
        labels: BTreeMap::new(),
        annotations: annotations
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

fn version(minor: u32) -> Option<ServerVersion> {
    ServerVersion::parse("1", &format!("{minor}+"), &format!("v1.{minor}.2"))
}

/// The kinds found, and each message.
fn found(plan: &Plan, facts: &TargetFacts) -> Vec<(PitfallKind, Option<String>, String)> {
    pitfalls(plan, facts)
        .into_iter()
        .map(|p| (p.kind, p.namespace, p.message))
        .collect()
}

#[test]
fn server_versions_read_providers_minors() {
    let parsed = ServerVersion::parse("1", "33+", "v1.33.13-eks-1").unwrap();
    assert_eq!((parsed.major, parsed.minor), (1, 33));
    assert!(ServerVersion::parse("1", "", "v1").is_none());
    assert!(ServerVersion::parse("one", "33", "v1").is_none());
}

#[test]
fn an_older_target_minor_is_a_pitfall_and_a_newer_or_equal_one_is_not() {
    let plan = empty_plan();
    let check = |source: Option<ServerVersion>, target: Option<ServerVersion>| {
        let facts = TargetFacts {
            source_version: source,
            target_version: target,
            ..TargetFacts::default()
        };
        found(&plan, &facts)
    };
    let older = check(version(36), version(33));
    assert_eq!(older.len(), 1);
    assert_eq!(older[0].0, PitfallKind::OlderTarget);
    assert!(
        older[0]
            .2
            .starts_with("the backup was taken from Kubernetes v1.36.2; the target runs v1.33.2"),
        "{}",
        older[0].2
    );
    assert!(check(version(33), version(33)).is_empty());
    assert!(check(version(33), version(36)).is_empty());
    // A backup that does not record its source says nothing.
    assert!(check(None, version(20)).is_empty());
}

#[test]
fn security_context_ranges_that_differ_or_will_be_assigned_afresh() {
    const UID: &str = "openshift.io/sa.scc.uid-range";
    const GROUPS: &str = "openshift.io/sa.scc.supplemental-groups";
    let mut plan = empty_plan();
    plan.namespaces = vec![
        // Exists in the target with another range.
        namespace(
            "shop",
            true,
            &[(UID, "1000650000/10000"), (GROUPS, "1000650000/10000")],
        ),
        // Exists with the same range: fine.
        namespace("same", true, &[(UID, "1000700000/10000")]),
        // Not in the backup (label-selector backup), not in the target: assigned afresh.
        namespace("fresh", false, &[]),
        // Backed up with a range another target namespace has.
        namespace("clash", true, &[(UID, "1000800000/10000")]),
    ];
    let mut facts = TargetFacts {
        openshift: true,
        ..TargetFacts::default()
    };
    facts.existing_namespaces.insert(
        "shop".into(),
        BTreeMap::from([(UID.to_owned(), "1000900000/10000".to_owned())]),
    );
    facts.existing_namespaces.insert(
        "same".into(),
        BTreeMap::from([(UID.to_owned(), "1000700000/10000".to_owned())]),
    );
    facts
        .uid_ranges
        .insert("payments".into(), "1000800000/10000".into());
    let got = found(&plan, &facts);
    let namespaces: Vec<&str> = got.iter().filter_map(|p| p.1.as_deref()).collect();
    assert_eq!(namespaces, ["shop", "fresh", "clash"], "{got:#?}");
    assert!(
        got.iter()
            .all(|p| p.0 == PitfallKind::SecurityContextRanges)
    );
    assert!(got[0].2.contains(
        "openshift.io/sa.scc.uid-range is 1000900000/10000 in the target, 1000650000/10000 in \
         the backup; openshift.io/sa.scc.supplemental-groups is unset in the target"
    ));
    assert!(
        got[1]
            .2
            .contains("the Namespace object is not in the backup"),
        "{}",
        got[1].2
    );
    assert!(got[2].2.contains("which target namespace(s) payments"));

    // Not OpenShift: a namespace without ranges is no pitfall.
    facts.openshift = false;
    let namespaces: Vec<Option<String>> = found(&plan, &facts).into_iter().map(|p| p.1).collect();
    assert_eq!(namespaces, [Some("shop".into()), Some("clash".into())]);
}

#[test]
fn operator_lifecycle_manager_objects_are_named_with_the_exclusion_to_use() {
    let mut plan = empty_plan();
    plan.tiers = vec![
        tier("subscriptions.operators.coreos.com", 2),
        tier("configmaps", 3),
    ];
    plan.failed.push(Unrestored {
        object: ObjectRef {
            group_resource: GroupResource::parse("installplans.operators.coreos.com").unwrap(),
            namespace: Some("shop".into()),
            name: "install-abc".into(),
        },
        target_namespace: Some("shop".into()),
        reason: "cluster does not serve it".into(),
    });
    let got = found(&plan, &TargetFacts::default());
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].0, PitfallKind::OperatorLifecycleManager);
    assert!(
        got[0].2.contains(
            "(1 installplans.operators.coreos.com, 2 subscriptions.operators.coreos.com)"
        )
    );
    assert!(got[0].2.contains(
        "--exclude-resources subscriptions.operators.coreos.com,\
         clusterserviceversions.operators.coreos.com,installplans.operators.coreos.com"
    ));
    // Excluded by the user: nothing planned, nothing said.
    plan.tiers.remove(0);
    plan.failed.clear();
    assert!(found(&plan, &TargetFacts::default()).is_empty());
}

#[test]
fn a_crd_with_old_stored_versions_is_named_with_the_migration_command() {
    let mut plan = empty_plan();
    plan.tiers = vec![tier("widgets.example.io", 1), tier("gadgets.example.io", 1)];
    let mut facts = TargetFacts::default();
    facts.crds.insert(
        GroupResource::parse("widgets.example.io").unwrap(),
        CrdStorage {
            name: "widgets.example.io".into(),
            storage_version: "v1".into(),
            stored_versions: vec!["v1beta1".into(), "v1".into()],
        },
    );
    facts.crds.insert(
        GroupResource::parse("gadgets.example.io").unwrap(),
        CrdStorage {
            name: "gadgets.example.io".into(),
            storage_version: "v1".into(),
            stored_versions: vec!["v1".into()],
        },
    );
    let got = found(&plan, &facts);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].0, PitfallKind::StoredVersions);
    assert!(got[0].2.starts_with(
        "CRD widgets.example.io still lists stored versions v1beta1 besides its storage \
         version v1"
    ));
    assert!(
        got[0]
            .2
            .contains("run `godwit storage-version migrate widgets.example.io`")
    );
}
