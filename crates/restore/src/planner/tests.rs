//! Planner tests: every row of SPEC.md section 4 (cases A-D, user priorities, no common version,
//! not served, the flag off) and the filters of section 5, over backups written with
//! godwit-tarball's writer and the discovery dumps under `fixtures/discovery/`.

use godwit_discovery::Discovery;
use godwit_tarball::{BackupWriter, ExtractedBackup, Item, Limits, extract};
use godwit_versioning::{GroupResource, Rule, parse_user_priorities};
use serde_json::{Value, json};

use crate::plan::{Decision, Plan};
use crate::{Error, LabelSelector, RestoreSpec, plan, resolve_deferred};

/// One object to put in a test backup, at every version listed (the first is the preferred).
struct Obj {
    group_resource: &'static str,
    kind: &'static str,
    namespace: Option<&'static str>,
    name: &'static str,
    versions: &'static [&'static str],
    labels: Value,
    /// Top-level fields that replace the generated ones (`spec`, `status`).
    fields: Value,
}

fn obj(group_resource: &'static str, namespace: Option<&'static str>, name: &'static str) -> Obj {
    let (kind, versions): (&str, &[&str]) = match group_resource {
        "configmaps" => ("ConfigMap", &["v1"]),
        "secrets" => ("Secret", &["v1"]),
        "namespaces" => ("Namespace", &["v1"]),
        "nodes" => ("Node", &["v1"]),
        "events" => ("Event", &["v1"]),
        "events.events.k8s.io" => ("Event", &["v1"]),
        "pods" => ("Pod", &["v1"]),
        "persistentvolumeclaims" => ("PersistentVolumeClaim", &["v1"]),
        "serviceaccounts" => ("ServiceAccount", &["v1"]),
        "persistentvolumes" => ("PersistentVolume", &["v1"]),
        "deployments.apps" => ("Deployment", &["v1"]),
        "clusterroles.rbac.authorization.k8s.io" => ("ClusterRole", &["v1"]),
        "csinodes.storage.k8s.io" => ("CSINode", &["v1"]),
        "backups.velero.io" => ("Backup", &["v1"]),
        "customresourcedefinitions.apiextensions.k8s.io" => ("CustomResourceDefinition", &["v1"]),
        "cronjobs.batch" => ("CronJob", &["v1beta1"]),
        "ingresses.extensions" | "ingresses.networking.k8s.io" => ("Ingress", &["v1beta1"]),
        _ => ("RockBand", &["v1"]),
    };
    Obj {
        group_resource,
        kind,
        namespace,
        name,
        versions,
        labels: json!({}),
        fields: json!({}),
    }
}

impl Obj {
    fn versions(mut self, versions: &'static [&'static str]) -> Self {
        self.versions = versions;
        self
    }
    fn labels(mut self, labels: Value) -> Self {
        self.labels = labels;
        self
    }
    fn fields(mut self, fields: Value) -> Self {
        self.fields = fields;
        self
    }
}

/// The body of an object at one version.
fn body(o: &Obj, version: &str) -> Value {
    let gr = GroupResource::parse(o.group_resource).unwrap();
    let api_version = match gr.group.as_str() {
        "" => version.to_owned(),
        group => format!("{group}/{version}"),
    };
    let mut metadata =
        json!({"name": o.name, "labels": o.labels, "uid": "u-1", "resourceVersion": "7"});
    if let Some(namespace) = o.namespace {
        metadata["namespace"] = json!(namespace);
    }
    let mut object = json!({"apiVersion": api_version, "kind": o.kind, "metadata": metadata,
        "spec": {"atVersion": version}});
    if let Some(fields) = o.fields.as_object() {
        for (key, value) in fields {
            object[key] = value.clone();
        }
    }
    if gr.resource == "customresourcedefinitions" {
        let (group, plural) = o.name.split_once('.').map(|(p, g)| (g, p)).unwrap();
        object["spec"] = json!({"group": group, "names": {"plural": plural, "kind": "RockBand"}});
    }
    object
}

/// Writes the objects into a tarball and extracts it.
fn backup(objects: &[Obj]) -> (tempfile::TempDir, ExtractedBackup) {
    let mut writer = BackupWriter::new(Vec::new()).unwrap();
    for o in objects {
        let gr = GroupResource::parse(o.group_resource).unwrap();
        for version in o.versions {
            let item = Item {
                group_resource: &gr,
                namespace: o.namespace,
                name: o.name,
                version,
                preferred_version: o.versions[0],
            };
            writer.append(&item, &body(o, version)).unwrap();
        }
    }
    let (bytes, _) = writer.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let extracted = extract(
        bytes.as_slice(),
        &dir.path().join("backup"),
        &Limits::default(),
    )
    .unwrap();
    (dir, extracted)
}

fn discovery(extra: &[&str]) -> Discovery {
    let mut discovery =
        Discovery::from_json(&godwit_fixtures::read("discovery/kubernetes-1.33.json")).unwrap();
    for name in extra {
        let more = Discovery::from_json(&godwit_fixtures::read(&format!("discovery/{name}.json")))
            .unwrap();
        discovery = discovery.merge(more).unwrap();
    }
    discovery
}

fn spec() -> RestoreSpec {
    let mut spec = RestoreSpec::new("nightly", "nightly-restore");
    spec.enable_api_group_versions = true;
    spec
}

fn plan_ok(backup: &ExtractedBackup, target: &Discovery, spec: &RestoreSpec) -> Plan {
    plan(backup, target, spec).unwrap_or_else(|errors| panic!("{errors:?}"))
}

fn tier<'a>(plan: &'a Plan, group_resource: &str) -> &'a crate::Tier {
    plan.tiers
        .iter()
        .find(|t| t.group_resource.to_string() == group_resource)
        .unwrap_or_else(|| panic!("no tier {group_resource} in\n{}", plan.render_table()))
}

/// The chosen version and rule of a group-resource, or the decision's kind.
fn chosen(plan: &Plan, group_resource: &str) -> Result<(String, Rule, String), String> {
    match &tier(plan, group_resource).decision {
        Decision::Chosen { choice, .. } => {
            Ok((choice.version.clone(), choice.rule, choice.dir.clone()))
        }
        Decision::Deferred { .. } => Err("deferred".to_owned()),
        Decision::Failed { error, .. } => Err(error.clone()),
    }
}

/// A case's rockbands backed up at the case's source versions.
fn case_backup(
    case: char,
    versions: &'static [&'static str],
) -> (tempfile::TempDir, ExtractedBackup) {
    let gr: &'static str = Box::leak(format!("rockbands.case-{case}.example.io").into_boxed_str());
    backup(&[
        obj(gr, Some("music"), "beatles").versions(versions),
        obj(gr, Some("music"), "stones").versions(versions),
    ])
}

/// SPEC.md section 4's table: the version restored and the rule, per case.
#[test]
fn section_4_cases_a_to_d() {
    let check = |case: char, versions: &'static [&'static str], expected: (&str, Rule)| {
        let (_dir, backup) = case_backup(case, versions);
        let target = discovery(&[&format!("case-{case}-target")]);
        let plan = plan_ok(&backup, &target, &spec());
        let gr = format!("rockbands.case-{case}.example.io");
        let (version, rule, dir) = chosen(&plan, &gr).unwrap();
        assert_eq!((version.as_str(), rule), expected, "case {case}");
        let preferred = version == versions[0];
        let expected_dir = if preferred {
            format!("{version}-preferredversion")
        } else {
            version.clone()
        };
        assert_eq!(dir, expected_dir);
        // The objects are read from that folder: their body says which version they were.
        for object in &tier(&plan, &gr).objects {
            assert_eq!(object.object.value()["spec"]["atVersion"], json!(version));
            assert!(
                object.object.value()["apiVersion"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("/{version}"))
            );
        }
        insta::assert_snapshot!(format!("case_{case}"), plan.render_table());
    };
    check('a', &["v1", "v1alpha1"], ("v1", Rule::TargetPreferred));
    check(
        'b',
        &["v1", "v2beta2", "v2beta1"],
        ("v2beta2", Rule::TargetPreferred),
    );
    check('c', &["v1", "v1alpha1"], ("v1", Rule::SourcePreferred));
    check(
        'd',
        &["v1", "v2beta2", "v2beta1"],
        ("v2beta2", Rule::CommonNonPreferred),
    );
}

#[test]
fn user_priorities_come_first() {
    let (_dir, backup) = case_backup('d', &["v1", "v2beta2", "v2beta1"]);
    let target = discovery(&["case-d-target"]);
    let mut spec = spec();
    let (priorities, invalid) =
        parse_user_priorities("rockbands.case-d.example.io=v3,v2beta1,v2beta2\n");
    assert!(invalid.is_empty());
    spec.user_priorities = priorities;
    let plan = plan_ok(&backup, &target, &spec);
    let (version, rule, _) = chosen(&plan, "rockbands.case-d.example.io").unwrap();
    assert_eq!((version.as_str(), rule), ("v2beta1", Rule::UserPriority));
}

#[test]
fn no_common_version_fails_every_object_with_both_sides_named() {
    // Case C's target serves v2 and v1; a backup holding only v1alpha1 has nothing in common.
    let (_dir, backup) = case_backup('c', &["v1alpha1"]);
    let target = discovery(&["case-c-target"]);
    let plan = plan_ok(&backup, &target, &spec());
    let error = chosen(&plan, "rockbands.case-c.example.io").unwrap_err();
    assert!(
        error.contains("no common version for rockbands.case-c.example.io"),
        "{error}"
    );
    assert!(
        error.contains("backup has [v1alpha1], cluster serves [v2, v1]"),
        "{error}"
    );
    assert_eq!(plan.failed.len(), 2);
    assert!(plan.failed.iter().all(|f| f.reason == error));
    assert_eq!(plan.object_count(), 0);
    insta::assert_snapshot!("no_common_version", plan.render_table());
}

#[test]
fn not_served_without_a_crd_in_the_backup_fails() {
    let (_dir, backup) = case_backup('a', &["v1", "v1alpha1"]);
    let plan = plan_ok(&backup, &discovery(&[]), &spec());
    let error = chosen(&plan, "rockbands.case-a.example.io").unwrap_err();
    assert!(
        error.contains("cluster does not serve rockbands.case-a.example.io"),
        "{error}"
    );
    assert_eq!(plan.failed.len(), 2);
}

#[test]
fn groups_of_crds_in_the_backup_are_decided_after_the_crds_exist() {
    let crd = "customresourcedefinitions.apiextensions.k8s.io";
    let (_dir, backup) = backup(&[
        obj(crd, None, "rockbands.case-d.example.io"),
        obj("rockbands.case-d.example.io", Some("music"), "beatles")
            .versions(&["v1", "v2beta2", "v2beta1"]),
    ]);
    let mut spec = spec();
    let mut plan = plan_ok(&backup, &discovery(&[]), &spec);
    assert_eq!(plan.tiers[0].group_resource.to_string(), crd, "CRDs first");
    assert!(matches!(
        &tier(&plan, "rockbands.case-d.example.io").decision,
        Decision::Deferred { custom_resource_definition, .. }
            if custom_resource_definition == "rockbands.case-d.example.io"
    ));
    assert_eq!(plan.deferred().count(), 1);
    assert!(plan.failed.is_empty());
    insta::assert_snapshot!("deferred", plan.render_table());

    // The CRD is now created and discovery refreshed: decided like case D.
    resolve_deferred(&mut plan, &backup, &discovery(&["case-d-target"]), &spec);
    let (version, rule, _) = chosen(&plan, "rockbands.case-d.example.io").unwrap();
    assert_eq!(
        (version.as_str(), rule),
        ("v2beta2", Rule::CommonNonPreferred)
    );
    let objects = &tier(&plan, "rockbands.case-d.example.io").objects;
    assert_eq!(
        objects[0].object.value()["spec"]["atVersion"],
        json!("v2beta2")
    );

    // Still not served after the CRDs: every object fails.
    spec.enable_api_group_versions = true;
    let mut plan = plan_ok(&backup, &discovery(&[]), &spec);
    resolve_deferred(&mut plan, &backup, &discovery(&[]), &spec);
    assert!(
        chosen(&plan, "rockbands.case-d.example.io")
            .unwrap_err()
            .contains("does not serve")
    );
    assert_eq!(plan.failed.len(), 1);
}

#[test]
fn with_the_flag_off_the_source_preferred_version_is_restored() {
    let mut spec = spec();
    spec.enable_api_group_versions = false;
    // Case C: the target serves the source preferred v1.
    let (_dir, backup) = case_backup('c', &["v1", "v1alpha1"]);
    let plan = plan_ok(&backup, &discovery(&["case-c-target"]), &spec);
    let (version, rule, dir) = chosen(&plan, "rockbands.case-c.example.io").unwrap();
    assert_eq!(
        (version.as_str(), rule, dir.as_str()),
        ("v1", Rule::FeatureFlagOff, "v1-preferredversion")
    );
    // Case B: the target does not serve v1; Velero would fail each create, the plan says so.
    let (_dir, backup) = case_backup('b', &["v1", "v2beta2", "v2beta1"]);
    let plan = plan_ok(&backup, &discovery(&["case-b-target"]), &spec);
    let error = chosen(&plan, "rockbands.case-b.example.io").unwrap_err();
    assert!(
        error.contains("serves rockbands.case-b.example.io at [v2beta2, v2beta1] but not at v1"),
        "{error}"
    );
    insta::assert_snapshot!("flag_off_case_b", plan.render_table());
}

/// What ends up planned, as `gr ns/name -> target-ns` lines, and what is skipped with the reason.
fn outline(plan: &Plan) -> (Vec<String>, Vec<String>) {
    let planned = plan
        .tiers
        .iter()
        .flat_map(|t| {
            t.objects
                .iter()
                .map(move |o| match (&o.namespace, &o.target_namespace) {
                    (Some(ns), Some(target)) if ns != target => {
                        format!("{} {ns}/{} -> {target}", t.group_resource, o.name)
                    }
                    (Some(ns), _) => format!("{} {ns}/{}", t.group_resource, o.name),
                    (None, _) => format!("{} {}", t.group_resource, o.name),
                })
        })
        .collect();
    let skipped = plan
        .skipped
        .iter()
        .map(|s| format!("{}: {}", s.object, s.reason))
        .collect();
    (planned, skipped)
}

fn filter_backup() -> (tempfile::TempDir, ExtractedBackup) {
    backup(&[
        obj("namespaces", None, "shop").labels(json!({"team": "a"})),
        obj("namespaces", None, "blog"),
        obj("configmaps", Some("shop"), "cart").labels(json!({"app": "cart"})),
        obj("configmaps", Some("shop"), "pay").labels(json!({"app": "pay"})),
        obj("configmaps", Some("blog"), "posts").labels(json!({"app": "posts"})),
        obj("secrets", Some("shop"), "token"),
        obj("clusterroles.rbac.authorization.k8s.io", None, "reader"),
        obj("nodes", None, "node-1"),
        obj("events", Some("shop"), "e1"),
        obj("events.events.k8s.io", Some("shop"), "e2"),
        obj("csinodes.storage.k8s.io", None, "node-1"),
        obj("backups.velero.io", Some("velero"), "nightly"),
    ])
}

fn check_filters(edit: impl FnOnce(&mut RestoreSpec), planned: &[&str], skipped_contains: &[&str]) {
    let (_dir, backup) = filter_backup();
    let mut spec = spec();
    edit(&mut spec);
    let plan = plan_ok(&backup, &discovery(&[]), &spec);
    let (got, skipped) = outline(&plan);
    assert_eq!(got, planned, "skipped: {skipped:#?}");
    for fragment in skipped_contains {
        assert!(
            skipped.iter().any(|s| s.contains(fragment)),
            "{fragment:?} not in {skipped:#?}"
        );
    }
}

#[test]
fn never_restored_resources_are_skipped_with_the_reason() {
    check_filters(
        |_| {},
        &[
            "clusterroles.rbac.authorization.k8s.io reader",
            "secrets shop/token",
            "configmaps blog/posts",
            "configmaps shop/cart",
            "configmaps shop/pay",
        ],
        &[
            "nodes node-1: never restored: nodes belong to the cluster",
            "events shop/e1: never restored: events",
            "events.events.k8s.io shop/e2: never restored",
            "csinodes.storage.k8s.io node-1: never restored",
            "backups.velero.io velero/nightly: never restored: backups are synced",
        ],
    );
}

#[test]
fn what_the_targets_control_plane_makes_is_left_to_it() {
    let (_dir, backup) = backup(&[
        obj("configmaps", Some("shop"), "kube-root-ca.crt"),
        obj("configmaps", Some("shop"), "cart"),
        obj("serviceaccounts", Some("shop"), "default"),
    ]);
    let plan = plan_ok(&backup, &discovery(&[]), &spec());
    let (planned, skipped) = outline(&plan);
    // The default ServiceAccount is merged into the target's like any ServiceAccount.
    assert_eq!(
        planned,
        ["serviceaccounts shop/default", "configmaps shop/cart"]
    );
    assert_eq!(
        skipped,
        [
            "configmaps shop/kube-root-ca.crt: left to the target: the target's \
          kube-controller-manager publishes its own cluster CA in every namespace"
        ]
    );
}

fn volume_backup() -> (tempfile::TempDir, ExtractedBackup) {
    let bound =
        |volume: &str| json!({"spec": {"volumeName": volume}, "status": {"phase": "Bound"}});
    backup(&[
        obj("persistentvolumes", None, "vol"),
        obj("persistentvolumes", None, "other-vol"),
        obj("persistentvolumeclaims", Some("shop"), "data")
            .labels(json!({"app": "db"}))
            .fields(bound("vol")),
        obj("persistentvolumeclaims", Some("shop"), "gone-volume")
            .labels(json!({"app": "db"}))
            .fields(bound("not-backed-up")),
        obj("persistentvolumeclaims", Some("shop"), "pending").labels(json!({"app": "db"})),
    ])
}

#[test]
fn what_restored_objects_need_is_pulled_in_past_the_filters() {
    let (_dir, backup) = volume_backup();
    let mut spec = spec();
    spec.included_namespaces = vec!["shop".to_owned()];
    spec.label_selector = Some(LabelSelector {
        match_labels: [("app".to_owned(), "db".to_owned())].into(),
        match_expressions: Vec::new(),
    });
    let plan = plan_ok(&backup, &discovery(&[]), &spec);
    let (planned, skipped) = outline(&plan);
    // The claim's volume comes along, in the volumes' place before the claims.
    assert_eq!(
        planned,
        [
            "persistentvolumes vol",
            "persistentvolumeclaims shop/data",
            "persistentvolumeclaims shop/gone-volume",
            "persistentvolumeclaims shop/pending",
        ]
    );
    assert_eq!(plan.pulled_in.len(), 1, "{:#?}", plan.pulled_in);
    assert_eq!(
        plan.pulled_in[0].object.to_string(),
        "persistentvolumes vol"
    );
    assert_eq!(
        plan.pulled_in[0].needed_by.to_string(),
        "persistentvolumeclaims shop/data"
    );
    assert!(
        plan.pulled_in[0]
            .left_out_because
            .starts_with("cluster-scoped"),
        "{:?}",
        plan.pulled_in[0]
    );
    assert!(
        skipped
            .iter()
            .any(|s| s.starts_with("persistentvolumes other-vol"))
    );
    assert_eq!(
        plan.warnings,
        [
            "persistentvolumeclaims shop/gone-volume needs persistentvolumes not-backed-up, which \
          the backup does not hold; restore it from elsewhere, or persistentvolumeclaims \
          shop/gone-volume may not work in the target"
        ]
    );
    assert!(
        plan.render_table()
            .contains("Restored because another object needs them")
    );

    // Excluding cluster resources outright, or the resource, keeps the volume out.
    for edit in [
        (|spec: &mut RestoreSpec| spec.include_cluster_resources = Some(false))
            as fn(&mut RestoreSpec),
        |spec: &mut RestoreSpec| spec.excluded_resources = vec!["persistentvolumes".to_owned()],
    ] {
        let mut excluded = spec.clone();
        edit(&mut excluded);
        let plan = plan_ok(&backup, &discovery(&[]), &excluded);
        assert!(plan.pulled_in.is_empty(), "{:#?}", plan.pulled_in);
        assert!(
            plan.tiers
                .iter()
                .all(|t| t.group_resource.resource != "persistentvolumes")
        );
    }
}

#[test]
fn stages_keep_the_priority_lists_in_order_and_run_the_rest_together() {
    let (_dir, backup) = backup(&[
        obj("persistentvolumes", None, "vol"),
        obj("persistentvolumeclaims", Some("shop"), "data"),
        obj("configmaps", Some("shop"), "cart"),
        obj("secrets", Some("shop"), "token"),
        obj("deployments.apps", Some("shop"), "web"),
        obj("statefulsets.apps", Some("shop"), "db"),
        obj("clusterroles.rbac.authorization.k8s.io", None, "reader"),
    ]);
    let plan = plan_ok(&backup, &discovery(&[]), &spec());
    let stages: Vec<(String, usize)> = plan
        .tiers
        .iter()
        .map(|t| (t.group_resource.to_string(), t.stage))
        .collect();
    let stage = |gr: &str| stages.iter().find(|(g, _)| g == gr).unwrap().1;
    // Velero's high-priority order: PVs, PVCs, cluster roles, secrets, config maps.
    assert!(
        stage("persistentvolumes") < stage("persistentvolumeclaims"),
        "{stages:?}"
    );
    assert!(
        stage("persistentvolumeclaims") < stage("clusterroles.rbac.authorization.k8s.io"),
        "{stages:?}"
    );
    assert!(stage("secrets") < stage("configmaps"), "{stages:?}");
    assert!(
        stage("configmaps") < stage("deployments.apps"),
        "{stages:?}"
    );
    // Group-resources of no list share one stage; every other stage is its own.
    assert_eq!(
        stage("deployments.apps"),
        stage("statefulsets.apps"),
        "{stages:?}"
    );
    let mut seen: Vec<usize> = stages.iter().map(|(_, s)| *s).collect();
    seen.dedup();
    assert_eq!(seen.len(), stages.len() - 1, "{stages:?}");
}

#[test]
fn namespace_filters() {
    check_filters(
        |s| s.included_namespaces = vec!["shop".into()],
        &[
            "secrets shop/token",
            "configmaps shop/cart",
            "configmaps shop/pay",
        ],
        &[
            "configmaps blog/posts: namespace blog is excluded",
            "clusterroles.rbac.authorization.k8s.io reader: cluster-scoped, and only some namespaces",
        ],
    );
    check_filters(
        |s| s.excluded_namespaces = vec!["sh*".into()],
        &["configmaps blog/posts"],
        &[
            "configmaps shop/cart: namespace shop is excluded",
            "reader: cluster-scoped",
        ],
    );
    check_filters(
        |s| s.included_namespaces = vec!["*".into()],
        &[
            "clusterroles.rbac.authorization.k8s.io reader",
            "secrets shop/token",
            "configmaps blog/posts",
            "configmaps shop/cart",
            "configmaps shop/pay",
        ],
        &[],
    );
}

#[test]
fn include_cluster_resources_follows_velero() {
    check_filters(
        |s| {
            s.included_namespaces = vec!["blog".into()];
            s.include_cluster_resources = Some(true);
        },
        &[
            "clusterroles.rbac.authorization.k8s.io reader",
            "configmaps blog/posts",
        ],
        &[],
    );
    check_filters(
        |s| s.include_cluster_resources = Some(false),
        &[
            "secrets shop/token",
            "configmaps blog/posts",
            "configmaps shop/cart",
            "configmaps shop/pay",
        ],
        &["reader: cluster-scoped, and cluster resources are excluded"],
    );
}

#[test]
fn resource_filters_resolve_through_discovery() {
    // `cm` is the short name of configmaps; `ClusterRole` the kind of clusterroles.
    check_filters(
        |s| s.included_resources = vec!["cm".into(), "ClusterRole".into()],
        &[
            "clusterroles.rbac.authorization.k8s.io reader",
            "configmaps blog/posts",
            "configmaps shop/cart",
            "configmaps shop/pay",
        ],
        &["secrets shop/token: excluded by the resource filters"],
    );
    check_filters(
        |s| s.excluded_resources = vec!["configmap".into()],
        &[
            "clusterroles.rbac.authorization.k8s.io reader",
            "secrets shop/token",
        ],
        &["configmaps shop/cart: excluded by the resource filters"],
    );
}

#[test]
fn label_selectors_match_backed_up_labels() {
    check_filters(
        |s| s.label_selector = Some(LabelSelector::parse("app in (cart,posts)").unwrap()),
        &["configmaps blog/posts", "configmaps shop/cart"],
        &["configmaps shop/pay: its labels do not match the label selector"],
    );
    check_filters(
        |s| {
            s.or_label_selectors = vec![
                LabelSelector::parse("app=pay").unwrap(),
                LabelSelector::parse("app=posts").unwrap(),
            ];
        },
        &["configmaps blog/posts", "configmaps shop/pay"],
        &["configmaps shop/cart: its labels do not match"],
    );
}

#[test]
fn namespace_mapping_and_needed_namespaces() {
    let (_dir, backup) = filter_backup();
    let mut spec = spec();
    spec.included_namespaces = vec!["shop".into()];
    spec.namespace_mapping = [("shop".to_owned(), "shop-copy".to_owned())].into();
    let plan = plan_ok(&backup, &discovery(&[]), &spec);
    let (planned, _) = outline(&plan);
    assert_eq!(
        planned,
        [
            "secrets shop/token -> shop-copy",
            "configmaps shop/cart -> shop-copy",
            "configmaps shop/pay -> shop-copy"
        ]
    );
    assert_eq!(plan.namespaces.len(), 1);
    let namespace = &plan.namespaces[0];
    assert_eq!(
        (namespace.name.as_str(), namespace.source.as_deref()),
        ("shop-copy", Some("shop"))
    );
    assert!(namespace.backed_up);
    assert_eq!(namespace.labels.get("team").map(String::as_str), Some("a"));
    assert_eq!(
        namespace.to_object()["metadata"]["name"],
        json!("shop-copy")
    );
    insta::assert_snapshot!("namespace_mapping", plan.render_table());
}

#[test]
fn invalid_requests_list_every_problem() {
    let check = |edit: &dyn Fn(&mut RestoreSpec), fragments: &[&str]| {
        let (_dir, backup) = filter_backup();
        let mut spec = spec();
        edit(&mut spec);
        let errors = plan(&backup, &discovery(&[]), &spec).unwrap_err();
        let text: Vec<String> = errors.iter().map(Error::to_string).collect();
        assert_eq!(text.len(), fragments.len(), "{text:#?}");
        for (message, fragment) in text.iter().zip(fragments) {
            assert!(message.contains(fragment), "{message} lacks {fragment}");
        }
    };
    check(
        &|s| s.included_resources = vec!["nodes".into(), "events.events.k8s.io".into()],
        &[
            "nodes is a non-restorable resource",
            "events.events.k8s.io is a non-restorable resource",
        ],
    );
    check(
        &|s| {
            s.included_namespaces = vec!["a".into()];
            s.excluded_namespaces = vec!["a".into(), "*".into()];
        },
        &[
            "excludes cannot contain '*'",
            "\"a\" is both included and excluded",
        ],
    );
    check(
        &|s| {
            s.label_selector = Some(LabelSelector::default());
            s.or_label_selectors = vec![LabelSelector::default()];
        },
        &["not both"],
    );
}

#[test]
fn unknown_filter_entries_are_warnings() {
    let (_dir, backup) = filter_backup();
    let mut spec = spec();
    spec.included_resources = vec!["widgets".into()];
    let plan = plan_ok(&backup, &discovery(&[]), &spec);
    assert_eq!(plan.object_count(), 0);
    assert_eq!(plan.warnings.len(), 1);
    assert!(
        plan.warnings[0].contains("\"widgets\" matches nothing"),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn order_follows_priorities() {
    let (_dir, backup) = backup(&[
        obj("deployments.apps", Some("shop"), "web"),
        obj("pods", Some("shop"), "web-1"),
        obj("configmaps", Some("shop"), "cfg"),
        obj("persistentvolumes", None, "pv-1"),
        obj(
            "customresourcedefinitions.apiextensions.k8s.io",
            None,
            "rockbands.case-a.example.io",
        ),
        obj("rockbands.case-a.example.io", Some("shop"), "band"),
    ]);
    let plan = plan_ok(&backup, &discovery(&["case-a-target"]), &spec());
    let order: Vec<String> = plan
        .tiers
        .iter()
        .map(|t| t.group_resource.to_string())
        .collect();
    assert_eq!(
        order,
        [
            "customresourcedefinitions.apiextensions.k8s.io",
            "persistentvolumes",
            "configmaps",
            "pods",
            "deployments.apps",
            "rockbands.case-a.example.io",
        ]
    );
    let json: Value = serde_json::from_str(&plan.to_json()).unwrap();
    assert_eq!(
        json["tiers"][0]["decision"]["choice"]["rule"],
        json!("targetPreferred")
    );
    assert_eq!(json["namespaces"][0]["name"], json!("shop"));
}

/// A CronJob as Kubernetes 1.20 served it, at `batch/v1beta1` only.
fn old_cron_job(name: &'static str) -> Obj {
    obj("cronjobs.batch", Some("shop"), name).fields(json!({"spec": {
        "schedule": "0 3 * * *",
        "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}
    }}))
}

#[test]
fn a_version_the_target_stopped_serving_is_converted_and_the_plan_says_so() {
    // 1.33 serves cronjobs.batch at v1 only; the backup holds v1beta1 only.
    let (_dir, backup) = backup(&[old_cron_job("nightly"), old_cron_job("weekly")]);
    for flag in [true, false] {
        let mut spec = spec();
        spec.enable_api_group_versions = flag;
        let plan = plan_ok(&backup, &discovery(&[]), &spec);
        let (version, rule, dir) = chosen(&plan, "cronjobs.batch").unwrap();
        assert_eq!(
            (version.as_str(), rule, dir.as_str()),
            ("v1", Rule::Converted, "v1beta1-preferredversion"),
            "EnableAPIGroupVersions {flag}"
        );
        let converted = tier(&plan, "cronjobs.batch")
            .decision
            .converted()
            .expect("converted");
        assert_eq!(
            (
                converted.from_api_version.as_str(),
                converted.to_api_version.as_str()
            ),
            ("batch/v1beta1", "batch/v1")
        );
        let objects = &tier(&plan, "cronjobs.batch").objects;
        assert_eq!(objects.len(), 2);
        for object in objects {
            assert_eq!(object.object.value()["apiVersion"], json!("batch/v1"));
            assert_eq!(
                object.object.value()["spec"]["schedule"],
                json!("0 3 * * *")
            );
        }
        assert!(plan.failed.is_empty(), "{:?}", plan.failed);
    }
    let plan = plan_ok(&backup, &discovery(&[]), &spec());
    insta::assert_snapshot!("converted", plan.render_table());
}

#[test]
fn a_version_both_sides_serve_wins_over_a_conversion() {
    // A backup that holds batch/v1 too restores it by the ordinary rules: a conversion is only
    // for when the target serves nothing the backup holds.
    let mut both = old_cron_job("nightly");
    both.versions = &["v1", "v1beta1"];
    let (_dir, backup) = backup(&[both]);
    let plan = plan_ok(&backup, &discovery(&[]), &spec());
    let (version, rule, _) = chosen(&plan, "cronjobs.batch").unwrap();
    assert_eq!((version.as_str(), rule), ("v1", Rule::TargetPreferred));
    assert!(tier(&plan, "cronjobs.batch").decision.converted().is_none());
}

#[test]
fn an_object_a_conversion_refuses_fails_alone_naming_the_field() {
    // A `batch/v1beta1` copy whose body is another kind: the conversion refuses it, the other
    // object is still converted.
    let mut odd = old_cron_job("odd");
    odd.kind = "Job";
    let (_dir, backup) = backup(&[old_cron_job("nightly"), odd]);
    let plan = plan_ok(&backup, &discovery(&[]), &spec());
    assert_eq!(tier(&plan, "cronjobs.batch").objects.len(), 1);
    assert_eq!(plan.failed.len(), 1, "{:?}", plan.failed);
    let reason = &plan.failed[0].reason;
    assert_eq!(plan.failed[0].object.name, "odd");
    assert!(
        reason.starts_with(
            "cannot convert it from batch/v1beta1 to batch/v1 without losing data: kind:"
        ),
        "{reason}"
    );
}

#[test]
fn an_ingress_held_in_both_old_groups_is_restored_once() {
    // Kubernetes 1.19-1.21 served Ingress in extensions and networking.k8s.io: a backup holds
    // one object twice. Both copies convert to networking.k8s.io/v1; only one is created.
    let ingress = |group_resource: &'static str, name: &'static str| {
        obj(group_resource, Some("shop"), name).fields(json!({"spec": {
            "rules": [{"host": "shop.example.com", "http": {"paths": [{"path": "/",
                "backend": {"serviceName": "web", "servicePort": 80}}]}}]
        }}))
    };
    let (_dir, backup) = backup(&[
        ingress("ingresses.extensions", "web"),
        ingress("ingresses.extensions", "legacy-only"),
        ingress("ingresses.networking.k8s.io", "web"),
    ]);
    let plan = plan_ok(&backup, &discovery(&[]), &spec());
    let old = tier(&plan, "ingresses.extensions");
    let names: Vec<&str> = old.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["legacy-only"]);
    assert_eq!(
        old.decision.converted().map(|c| c.to_api_version.as_str()),
        Some("networking.k8s.io/v1")
    );
    let new = tier(&plan, "ingresses.networking.k8s.io");
    assert_eq!(new.objects.len(), 1);
    let body = &new.objects[0].object.value();
    assert_eq!(body["apiVersion"], json!("networking.k8s.io/v1"));
    assert_eq!(
        body["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"],
        json!({"name": "web", "port": {"number": 80}})
    );
    let skipped: Vec<(String, &str)> = plan
        .skipped
        .iter()
        .map(|s| (s.object.to_string(), s.reason.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [(
            "ingresses.extensions shop/web".to_owned(),
            "the backup holds it as ingresses.networking.k8s.io too, which is restored instead"
        )]
    );
}
