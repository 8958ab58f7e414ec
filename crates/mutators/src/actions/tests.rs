//! One snapshot test per action over the objects in `fixtures/objects/` (the fixture is the
//! "before", the snapshot the "after" and the outcome), plus the edge cases of the issue.

use std::collections::{BTreeMap, BTreeSet};

use godwit_versioning::GroupResource;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Action, Item};
use crate::{PluginConfigs, RestoreContext, UuidSource, apply_all};

const PV_NAME: &str = "pvc-3f1c2a9e-6b7d-4e8f-a0b1-c2d3e4f5a6b7";

fn fixture(name: &str) -> Value {
    godwit_fixtures::read_json(&format!("objects/{name}"))
}

/// A restore of `shop` into `shop-copy` in a cluster that already has the source's PV, with
/// the plugin ConfigMaps of `configmaps-plugin.json`.
fn ctx() -> RestoreContext {
    let config_maps: Vec<Value> = fixture("configmaps-plugin.json")
        .as_array()
        .cloned()
        .unwrap();
    let (configs, problems) = PluginConfigs::from_config_maps(&config_maps);
    assert_eq!(problems, []);
    let mut ctx = RestoreContext::new("nightly-2026-10-02", "nightly-2026-10-02-restore")
        .with_plugin_configs(configs);
    ctx.namespace_mapping = BTreeMap::from([("shop".to_owned(), "shop-copy".to_owned())]);
    ctx.existing_pv_names = BTreeSet::from([PV_NAME.to_owned()]);
    ctx.nodes = BTreeSet::from([
        "node-a.target.internal".to_owned(),
        "node-b.target.internal".to_owned(),
    ]);
    ctx.service_accounts = BTreeMap::from([(
        "ci".to_owned(),
        BTreeSet::from(["builder".to_owned(), "default".to_owned()]),
    )]);
    ctx.uuid_source = UuidSource::fixed(Uuid::from_u128(0x0c1d_2e3f_4a5b_4c6d_8e7f_8091_a2b3_c4d5));
    ctx
}

fn gr(text: &str) -> GroupResource {
    GroupResource::parse(text).unwrap()
}

/// Runs one action on an object and returns the object after it with the outcome.
fn run_on(action: Action, group_resource: &str, backed_up: Value, ctx: &RestoreContext) -> Value {
    let gr = gr(group_resource);
    assert!(action.applies_to(&gr), "{} applies to {gr}", action.name());
    let mut object = backed_up.clone();
    let item = Item {
        group_resource: &gr,
        backed_up: &backed_up,
    };
    let outcome = action.apply(&mut object, &item, ctx);
    let result = json!({ "object": object, "outcome": outcome });
    if !action.reads_backed_up() {
        // The pipeline gives such an action `null` for the backed-up object.
        let mut blind = backed_up.clone();
        let item = Item {
            group_resource: &gr,
            backed_up: &Value::Null,
        };
        let outcome = action.apply(&mut blind, &item, ctx);
        assert_eq!(
            json!({ "object": blind, "outcome": outcome }),
            result,
            "{} reads the backed-up object: list it in Action::reads_backed_up",
            action.name()
        );
    }
    result
}

/// Runs one action on a fixture.
fn run(action: Action, group_resource: &str, name: &str, ctx: &RestoreContext) -> Value {
    run_on(action, group_resource, fixture(name), ctx)
}

/// Sets `value` at a path of objects.
fn with(mut object: Value, path: &[&str], value: Value) -> Value {
    let (last, parents) = path.split_last().unwrap();
    let mut current = &mut object;
    for key in parents {
        current = current
            .as_object_mut()
            .unwrap()
            .entry(*key)
            .or_insert(json!({}));
    }
    current
        .as_object_mut()
        .unwrap()
        .insert((*last).to_owned(), value);
    object
}

/// Removes the value at a path of objects.
fn without(mut object: Value, path: &[&str]) -> Value {
    let (last, parents) = path.split_last().unwrap();
    let mut current = &mut object;
    for key in parents {
        current = current.get_mut(*key).unwrap();
    }
    current.as_object_mut().unwrap().remove(*last);
    object
}

#[test]
fn every_action_is_in_the_order_once() {
    let names: BTreeSet<&str> = Action::ORDER.iter().map(|a| a.name()).collect();
    assert_eq!(names.len(), Action::ORDER.len());
}

#[test]
fn pod_skip() {
    let ctx = ctx();
    insta::assert_json_snapshot!(json!({
        "completed": run(Action::SkipFinishedPod, "pods", "pod-completed.json", &ctx)["outcome"],
        "mirror": run(Action::SkipFinishedPod, "pods", "pod-mirror.json", &ctx)["outcome"],
        "running": run(Action::SkipFinishedPod, "pods", "pod-deployment.json", &ctx)["outcome"],
    }));
}

#[test]
fn job_skip() {
    let ctx = ctx();
    insta::assert_json_snapshot!(json!({
        "finished": run(Action::SkipFinishedJob, "jobs.batch", "job-finished.json", &ctx)["outcome"],
        "running": run(Action::SkipFinishedJob, "jobs.batch", "job.json", &ctx)["outcome"],
    }));
}

#[test]
fn metadata() {
    insta::assert_json_snapshot!(run(
        Action::ResetMetadata,
        "pods",
        "pod-deployment.json",
        &ctx()
    ));
}

#[test]
fn namespace() {
    let ctx = ctx();
    insta::assert_json_snapshot!(json!({
        "mapped": run(Action::MapNamespace, "pods", "pod-deployment.json", &ctx)["object"]["metadata"],
        "unmapped": run(Action::MapNamespace, "pods", "pod-legacy-token.json", &ctx)["object"]["metadata"],
        "cluster-scoped": run(Action::MapNamespace, "persistentvolumes", "pv-bound.json", &ctx)["object"]["metadata"],
    }));
}

#[test]
fn restore_labels() {
    insta::assert_json_snapshot!(run(
        Action::AddRestoreLabels,
        "deployments.apps",
        "deployment.json",
        &ctx()
    ));
}

#[test]
fn restore_labels_of_an_object_without_labels_or_metadata() {
    let ctx = ctx();
    let expected = json!({
        "velero.io/backup-name": "nightly-2026-10-02",
        "velero.io/restore-name": "nightly-2026-10-02-restore",
    });
    let labelled = run(
        Action::AddRestoreLabels,
        "persistentvolumes",
        "pv-bound.json",
        &ctx,
    );
    assert_eq!(labelled["object"]["metadata"]["labels"], expected);
    let bare = run_on(
        Action::AddRestoreLabels,
        "pods",
        json!({"kind": "Pod"}),
        &ctx,
    );
    assert_eq!(bare["object"]["metadata"]["labels"], expected);
}

#[test]
fn pv_rename_when_the_name_is_taken() {
    insta::assert_json_snapshot!(run(
        Action::RenamePv,
        "persistentvolumes",
        "pv-bound.json",
        &ctx()
    ));
}

#[test]
fn pv_rename_leaves_the_pv_alone_when_the_name_is_free_or_the_claim_stays() {
    let mut free = ctx();
    free.existing_pv_names.clear();
    let mut unmapped = ctx();
    unmapped.namespace_mapping.clear();
    for ctx in [free, unmapped] {
        let before = fixture("pv-bound.json");
        let after = run(Action::RenamePv, "persistentvolumes", "pv-bound.json", &ctx);
        assert_eq!(after["object"], before);
    }
}

#[test]
fn pv_claim_ref() {
    insta::assert_json_snapshot!(run(
        Action::ResetPvBinding,
        "persistentvolumes",
        "pv-bound.json",
        &ctx()
    ));
}

#[test]
fn pvc_volume_name() {
    let mut ctx = ctx();
    ctx.renamed_pvs.insert(
        PV_NAME.to_owned(),
        "velero-clone-0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5".to_owned(),
    );
    let followed = run(
        Action::FollowRenamedPv,
        "persistentvolumeclaims",
        "pvc-bound.json",
        &ctx,
    );
    insta::assert_json_snapshot!(followed["object"]["spec"]);
    ctx.renamed_pvs.clear();
    let kept = run(
        Action::FollowRenamedPv,
        "persistentvolumeclaims",
        "pvc-bound.json",
        &ctx,
    );
    assert_eq!(kept["object"], fixture("pvc-bound.json"));
}

#[test]
fn pvc_annotations() {
    insta::assert_json_snapshot!(run(
        Action::DropPvcAnnotations,
        "persistentvolumeclaims",
        "pvc-bound.json",
        &ctx()
    ));
}

#[test]
fn pvc_annotations_restore_no_volume_with_an_unbound_claim() {
    let pending = with(
        fixture("pvc-bound.json"),
        &["status", "phase"],
        json!("Pending"),
    );
    let after = run_on(
        Action::DropPvcAnnotations,
        "persistentvolumeclaims",
        pending,
        &ctx(),
    );
    assert_eq!(after["outcome"]["additionalItems"], json!([]));
}

#[test]
fn pvc_selected_node() {
    let ctx = ctx();
    let pvc = fixture("pvc-bound.json");
    let node_path = [
        "metadata",
        "annotations",
        "volume.kubernetes.io/selected-node",
    ];
    let mut unmapped_ctx = ctx.clone();
    unmapped_ctx.node_mapping = Default::default();
    let mut mapped_to_missing = ctx.clone();
    mapped_to_missing.nodes.clear();
    let on_existing_node = with(pvc.clone(), &node_path, json!("node-b.target.internal"));
    let selected = |out: &Value| {
        out["object"]["metadata"]["annotations"]["volume.kubernetes.io/selected-node"].clone()
    };
    let mapped = run_on(
        Action::MapSelectedNode,
        "persistentvolumeclaims",
        pvc.clone(),
        &ctx,
    );
    insta::assert_json_snapshot!(mapped);
    let cases = [
        (
            "unmapped, node absent",
            unmapped_ctx.clone(),
            pvc.clone(),
            Value::Null,
            json!([]),
        ),
        (
            "unmapped, node present",
            unmapped_ctx,
            on_existing_node,
            json!("node-b.target.internal"),
            json!([]),
        ),
        (
            "mapped to a node the target lacks",
            mapped_to_missing,
            pvc.clone(),
            json!("node-a.target.internal"),
            json!([
                "persistentvolumeclaims shop/data-db-0: node \"node-a.target.internal\" (mapped from \"ip-10-0-1-23.ec2.internal\") does not exist in the target; selected-node set anyway: check the velero.io/change-pvc-node-selector ConfigMap"
            ]),
        ),
    ];
    for (case, ctx, pvc, node, warnings) in cases {
        let out = run_on(Action::MapSelectedNode, "persistentvolumeclaims", pvc, &ctx);
        assert_eq!(selected(&out), node, "{case}");
        assert_eq!(out["outcome"]["warnings"], warnings, "{case}");
    }
    // After pvc_annotations dropped it, a mapped node comes back from the backed-up claim.
    let gr = gr("persistentvolumeclaims");
    let mut dropped = without(pvc.clone(), &node_path);
    let item = Item {
        group_resource: &gr,
        backed_up: &pvc,
    };
    Action::MapSelectedNode.apply(&mut dropped, &item, &ctx);
    assert_eq!(
        dropped["metadata"]["annotations"]["volume.kubernetes.io/selected-node"],
        "node-a.target.internal"
    );
}

#[test]
fn storage_class() {
    let ctx = ctx();
    insta::assert_json_snapshot!(json!({
        "persistentvolume": run(Action::MapStorageClass, "persistentvolumes", "pv-bound.json", &ctx)["object"]["spec"]["storageClassName"],
        "persistentvolumeclaim": run(Action::MapStorageClass, "persistentvolumeclaims", "pvc-bound.json", &ctx)["object"]["spec"]["storageClassName"],
        "statefulset": run(Action::MapStorageClass, "statefulsets.apps", "statefulset.json", &ctx),
    }));
}

#[test]
fn storage_class_not_in_the_map_or_missing_in_the_target() {
    let ctx = ctx();
    let standard = with(
        fixture("pvc-bound.json"),
        &["spec", "storageClassName"],
        json!("standard"),
    );
    let after = run_on(
        Action::MapStorageClass,
        "persistentvolumeclaims",
        standard.clone(),
        &ctx,
    );
    assert_eq!(after["object"], standard);
    assert_eq!(after["outcome"]["warnings"], json!([]));

    let mut known = ctx.clone();
    known.storage_classes = Some(BTreeSet::from(["gp2".to_owned(), "standard".to_owned()]));
    let after = run(
        Action::MapStorageClass,
        "persistentvolumeclaims",
        "pvc-bound.json",
        &known,
    );
    assert_eq!(after["object"], fixture("pvc-bound.json"));
    insta::assert_json_snapshot!(after["outcome"]["warnings"]);
}

#[test]
fn service_cluster_ips() {
    let ctx = ctx();
    insta::assert_json_snapshot!(json!({
        "clusterip": run(Action::ClearServiceClusterIps, "services", "service-clusterip.json", &ctx)["object"]["spec"],
        "headless": run(Action::ClearServiceClusterIps, "services", "service-headless.json", &ctx)["object"]["spec"],
    }));
}

#[test]
fn service_node_ports() {
    let ctx = ctx();
    let spec = |name: &str| {
        run(Action::RemoveServiceNodePorts, "services", name, &ctx)["object"]["spec"].clone()
    };
    insta::assert_json_snapshot!(json!({
        "nodeport with last-applied-configuration": spec("service-nodeport-last-applied.json"),
        "nodeport without last-applied-configuration": spec("service-nodeport-auto.json"),
        "nodeport applied server-side": spec("service-nodeport-server-side.json"),
        "loadbalancer with externalTrafficPolicy Local": spec("service-loadbalancer-local.json"),
    }));
}

#[test]
fn service_node_ports_kept_with_preserve_nodeports() {
    let mut ctx = ctx();
    ctx.preserve_node_ports = true;
    for name in [
        "service-nodeport-last-applied.json",
        "service-nodeport-auto.json",
        "service-loadbalancer-local.json",
    ] {
        let after = run(Action::RemoveServiceNodePorts, "services", name, &ctx);
        assert_eq!(after["object"], fixture(name), "{name}");
    }
}

#[test]
fn service_node_ports_edge_cases() {
    let ctx = ctx();
    let lb = fixture("service-loadbalancer-local.json");
    let ann = [
        "metadata",
        "annotations",
        "kubectl.kubernetes.io/last-applied-configuration",
    ];
    let health_check = |out: &Value| out["object"]["spec"]["healthCheckNodePort"].clone();

    // Health check port set by kubectl apply, or owned in managedFields: kept.
    let applied = with(
        lb.clone(),
        &ann,
        json!(
            r#"{"spec":{"type":"LoadBalancer","healthCheckNodePort":32145,"ports":[{"name":"http","port":80,"nodePort":31080}]}}"#
        ),
    );
    let out = run_on(Action::RemoveServiceNodePorts, "services", applied, &ctx);
    assert_eq!(health_check(&out), json!(32145));
    assert_eq!(out["object"]["spec"]["ports"][0]["nodePort"], json!(31080));
    assert_eq!(out["object"]["spec"]["ports"][1].get("nodePort"), None);
    let managed = with(
        lb.clone(),
        &["metadata", "managedFields"],
        json!([{"manager": "kubectl", "operation": "Apply", "fieldsV1": {"f:spec": {"f:healthCheckNodePort": {}}}}]),
    );
    assert_eq!(
        health_check(&run_on(
            Action::RemoveServiceNodePorts,
            "services",
            managed,
            &ctx
        )),
        json!(32145)
    );

    // Cluster policy: no health check port to think about.
    let cluster = with(
        lb.clone(),
        &["spec", "externalTrafficPolicy"],
        json!("Cluster"),
    );
    assert_eq!(
        health_check(&run_on(
            Action::RemoveServiceNodePorts,
            "services",
            cluster,
            &ctx
        )),
        json!(32145)
    );

    // An unnamed port is matched by its node port number.
    let unnamed = json!({"metadata": {"name": "one", "namespace": "shop", "annotations": {
        "kubectl.kubernetes.io/last-applied-configuration": r#"{"spec":{"type":"NodePort","ports":[{"port":80,"nodePort":"30001"}]}}"#}},
        "spec": {"type": "NodePort", "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30001}]}});
    let out = run_on(
        Action::RemoveServiceNodePorts,
        "services",
        unnamed.clone(),
        &ctx,
    );
    assert_eq!(out["object"], unnamed);
    let other_port = with(
        unnamed,
        &["spec", "ports"],
        json!([{"port": 80, "protocol": "TCP", "nodePort": 30002}]),
    );
    let out = run_on(Action::RemoveServiceNodePorts, "services", other_port, &ctx);
    assert_eq!(
        out["object"]["spec"]["ports"],
        json!([{"port": 80, "protocol": "TCP"}])
    );

    // Malformed last-applied-configuration: a warning, then managedFields decide.
    let broken = with(
        fixture("service-nodeport-server-side.json"),
        &ann,
        json!("{not json"),
    );
    let out = run_on(Action::RemoveServiceNodePorts, "services", broken, &ctx);
    assert_eq!(out["object"]["spec"]["ports"][0]["nodePort"], json!(30800));
    assert_eq!(out["object"]["spec"]["ports"][1].get("nodePort"), None);
    insta::assert_json_snapshot!(out["outcome"]["warnings"]);

    // ExternalName Services are left alone.
    let external = json!({"spec": {"type": "ExternalName", "externalName": "db.example.com", "ports": [{"port": 5432, "nodePort": 30432}]}});
    assert_eq!(
        run_on(
            Action::RemoveServiceNodePorts,
            "services",
            external.clone(),
            &ctx
        )["object"],
        external
    );
}

#[test]
fn pod_scheduling() {
    insta::assert_json_snapshot!(run(
        Action::ResetPodScheduling,
        "pods",
        "pod-deployment.json",
        &ctx()
    ));
}

#[test]
fn pod_token_volumes() {
    let ctx = ctx();
    insta::assert_json_snapshot!(
        run(
            Action::DropPodTokenVolumes,
            "pods",
            "pod-legacy-token.json",
            &ctx
        )["object"]["spec"]
    );
    let projected = run(
        Action::DropPodTokenVolumes,
        "pods",
        "pod-deployment.json",
        &ctx,
    );
    assert_eq!(
        projected["object"],
        fixture("pod-deployment.json"),
        "kube-api-access volumes stay, as in Velero"
    );
}

#[test]
fn pod_claims() {
    insta::assert_json_snapshot!(
        run(Action::AddPodClaims, "pods", "pod-deployment.json", &ctx())["outcome"]
    );
}

#[test]
fn job_controller_uid() {
    insta::assert_json_snapshot!(
        run(
            Action::DropJobControllerUid,
            "jobs.batch",
            "job.json",
            &ctx()
        )["object"]["spec"]
    );
}

#[test]
fn service_account_secrets() {
    insta::assert_json_snapshot!(run(
        Action::DropServiceAccountTokenSecret,
        "serviceaccounts",
        "serviceaccount.json",
        &ctx()
    ));
}

#[test]
fn secret_token() {
    let ctx = ctx();
    let mut no_accounts = ctx.clone();
    no_accounts.service_accounts.clear();
    insta::assert_json_snapshot!(json!({
        "auto-created": run(Action::ResetServiceAccountTokenSecret, "secrets", "secret-sa-token.json", &ctx)["outcome"],
        "auto-created, account not in the target": run(Action::ResetServiceAccountTokenSecret, "secrets", "secret-sa-token.json", &no_accounts),
        "created by hand": run(Action::ResetServiceAccountTokenSecret, "secrets", "secret-sa-token-manual.json", &ctx),
    }));
}

#[test]
fn binding_subjects() {
    let ctx = ctx();
    insta::assert_json_snapshot!(json!({
        "rolebinding": run(Action::MapBindingSubjects, "rolebindings.rbac.authorization.k8s.io", "rolebinding.json", &ctx)["object"]["subjects"],
        "clusterrolebinding": run(Action::MapBindingSubjects, "clusterrolebindings.rbac.authorization.k8s.io", "clusterrolebinding.json", &ctx)["object"]["subjects"],
    }));
}

#[test]
fn crd_preserve_unknown_fields() {
    let ctx = ctx();
    let gr = "customresourcedefinitions.apiextensions.k8s.io";
    insta::assert_json_snapshot!(
        run(Action::PreserveUnknownFields, gr, "crd-v1.json", &ctx)["object"]["spec"]
    );
    let beta = with(
        fixture("crd-v1.json"),
        &["apiVersion"],
        json!("apiextensions.k8s.io/v1beta1"),
    );
    assert_eq!(
        run_on(Action::PreserveUnknownFields, gr, beta.clone(), &ctx)["object"],
        beta
    );
    let off = with(
        fixture("crd-v1.json"),
        &["spec", "preserveUnknownFields"],
        json!(false),
    );
    assert_eq!(
        run_on(Action::PreserveUnknownFields, gr, off.clone(), &ctx)["object"],
        off
    );
}

#[test]
fn image_name() {
    let ctx = ctx();
    insta::assert_json_snapshot!(json!({
        "deployment": run(Action::MapImageName, "deployments.apps", "deployment.json", &ctx)["object"]["spec"]["template"]["spec"],
        "cronjob": run(Action::MapImageName, "cronjobs.batch", "cronjob.json", &ctx)["object"]["spec"]["jobTemplate"],
        "pod": run(Action::MapImageName, "pods", "pod-deployment.json", &ctx)["object"]["spec"]["containers"][0]["image"],
        "job": run(Action::MapImageName, "jobs.batch", "job.json", &ctx)["object"]["spec"]["template"]["spec"]["containers"],
    }));
}

#[test]
fn malformed_config_map_entries_leave_objects_unchanged() {
    let config_maps: Vec<Value> = fixture("configmaps-plugin-malformed.json")
        .as_array()
        .cloned()
        .unwrap();
    let (configs, problems) = PluginConfigs::from_config_maps(&config_maps);
    let mut ctx = ctx().with_plugin_configs(configs);
    ctx.nodes.clear();
    let pvc = run(
        Action::MapStorageClass,
        "persistentvolumeclaims",
        "pvc-bound.json",
        &ctx,
    );
    assert_eq!(
        pvc["object"],
        fixture("pvc-bound.json"),
        "gp2 -> \"GP3 \" is ignored"
    );
    let node = run(
        Action::MapSelectedNode,
        "persistentvolumeclaims",
        "pvc-bound.json",
        &ctx,
    );
    assert_eq!(
        node["object"]["metadata"]["annotations"].get("volume.kubernetes.io/selected-node"),
        None,
        "the bad mapping is ignored, so the absent node is dropped as if unmapped"
    );
    let deployment = run(
        Action::MapImageName,
        "deployments.apps",
        "deployment.json",
        &ctx,
    );
    assert_eq!(deployment["object"], fixture("deployment.json"));
    let warnings: Vec<String> = problems.iter().map(ToString::to_string).collect();
    insta::assert_json_snapshot!(warnings);
}

#[test]
fn wrong_types_are_reported_and_left_alone() {
    let ctx = ctx();
    let pod = with(
        fixture("pod-deployment.json"),
        &["metadata", "labels"],
        json!(["app=web"]),
    );
    let out = run_on(Action::AddRestoreLabels, "pods", pod.clone(), &ctx);
    assert_eq!(out["object"], pod);
    assert_eq!(
        out["outcome"]["warnings"],
        json!(["pods shop/web-7d9c5b6f4-x2k8m: metadata.labels is not an object; left unchanged"])
    );

    let service = with(
        fixture("service-nodeport-auto.json"),
        &["spec", "ports"],
        json!("443:32443"),
    );
    let out = run_on(
        Action::RemoveServiceNodePorts,
        "services",
        service.clone(),
        &ctx,
    );
    assert_eq!(out["object"], service);
    assert_eq!(
        out["outcome"]["warnings"],
        json!(["services shop/api-nodeport: spec.ports is not an array; left unchanged"])
    );

    let restored = apply_all(&gr("pods"), json!("a pod"), &ctx);
    assert_eq!(restored.object, json!("a pod"));
    assert_eq!(restored.warnings.len(), 1);
}

/// The whole pipeline over a few objects, as the restore executor will run it.
#[test]
fn apply_all_in_order() {
    let mut ctx = ctx();
    let pv = apply_all(&gr("persistentvolumes"), fixture("pv-bound.json"), &ctx);
    let renamed = pv.renamed_pv.clone().unwrap();
    ctx.renamed_pvs
        .insert(renamed.original_name, renamed.new_name);
    insta::assert_json_snapshot!(json!({
        "persistentvolume": pv,
        "persistentvolumeclaim": apply_all(&gr("persistentvolumeclaims"), fixture("pvc-bound.json"), &ctx),
        "service": apply_all(&gr("services"), fixture("service-loadbalancer-local.json"), &ctx),
        "pod": apply_all(&gr("pods"), fixture("pod-deployment.json"), &ctx),
        "completed pod": apply_all(&gr("pods"), fixture("pod-completed.json"), &ctx),
    }));
}
