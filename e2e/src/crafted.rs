//! Backups no cluster of the run could take, written straight into the shared store beside the
//! run's real backup: one from an old cluster holding only built-in versions the target no
//! longer serves (the `deprecated-apis` row: they must be restored through godwit-convert), and
//! one crafted to trip every cross-cluster pitfall (the `pitfalls` row: `restore plan` must
//! name each one).

use std::path::Path;

use anyhow::{Context as _, anyhow};
use godwit_tarball::{BackupWriter, Item};
use godwit_versioning::GroupResource;
use serde_json::{Value, json};

use crate::clusters::Cluster;
use crate::kubeapi::{self, create, create_if_missing, get};
use crate::objects::{self, api_resource};
use crate::readback::{RestoreRun, find_file};
use crate::report::Check;
use crate::scenarios::{Names, RUN_LABEL};

/// One object of a crafted backup, at one version (the source's preferred one).
struct Held {
    group_resource: String,
    version: &'static str,
    body: Value,
}

/// The namespace of the deprecated-API objects.
pub fn legacy_namespace(names: &Names) -> String {
    format!("{}-legacy", names.namespace())
}

/// The namespace of the pitfalls backup (its security-context ranges differ from the target's).
pub fn scc_namespace(names: &Names) -> String {
    format!("{}-scc", names.namespace())
}

/// The crafted backups' names.
pub fn legacy_backup(names: &Names) -> String {
    format!("{}-legacy", names.backup())
}

/// See [`legacy_backup`].
pub fn pitfalls_backup(names: &Names) -> String {
    format!("{}-pitfalls", names.backup())
}

/// The scenario name whose group the pitfalls row's CRD uses.
pub const PITFALLS_SCENARIO: &str = "pitfalls";

/// Objects as a Kubernetes 1.21 cluster served them: Ingress at `extensions/v1beta1` (a
/// `serviceName`/`servicePort` backend, no `pathType`), CronJob at `batch/v1beta1`,
/// PodDisruptionBudget at `policy/v1beta1`, HorizontalPodAutoscaler at `autoscaling/v2beta1`
/// (`targetAverageUtilization`).
fn legacy_objects(names: &Names) -> Vec<Held> {
    let namespace = legacy_namespace(names);
    let metadata = |name: &str| json!({"name": name, "namespace": namespace, "labels": {RUN_LABEL: names.run}});
    vec![
        Held {
            group_resource: "namespaces".to_owned(),
            version: "v1",
            body: json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": namespace, "labels": {RUN_LABEL: names.run}}}),
        },
        Held {
            group_resource: "ingresses.extensions".to_owned(),
            version: "v1beta1",
            body: json!({"apiVersion": "extensions/v1beta1", "kind": "Ingress",
            "metadata": metadata("web"),
            "spec": {
                "backend": {"serviceName": "fallback", "servicePort": "http"},
                "rules": [{"host": "shop.example.com", "http": {"paths": [
                    {"path": "/", "backend": {"serviceName": "web", "servicePort": 80}}
                ]}}]
            }}),
        },
        Held {
            group_resource: "cronjobs.batch".to_owned(),
            version: "v1beta1",
            body: json!({"apiVersion": "batch/v1beta1", "kind": "CronJob",
            "metadata": metadata("nightly"),
            "spec": {"schedule": "0 3 * * *", "suspend": true, "jobTemplate": {"spec": {
                "template": {"spec": {"restartPolicy": "Never", "containers": [
                    {"name": "report", "image": "busybox:1.36", "command": ["true"]}
                ]}}}}}}),
        },
        Held {
            group_resource: "poddisruptionbudgets.policy".to_owned(),
            version: "v1beta1",
            body: json!({"apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget",
                "metadata": metadata("web"),
                "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}}),
        },
        Held {
            group_resource: "horizontalpodautoscalers.autoscaling".to_owned(),
            version: "v2beta1",
            body: json!({"apiVersion": "autoscaling/v2beta1", "kind": "HorizontalPodAutoscaler",
            "metadata": metadata("web"),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 1, "maxReplicas": 3,
                "metrics": [{"type": "Resource",
                    "resource": {"name": "cpu", "targetAverageUtilization": 70}}]
            }}),
        },
    ]
}

/// Writes a backup of `held` into the store beside `beside` (the run's real backup), with that
/// backup's `velero-backup.json` renamed and stamped with `source_version`.
fn write_backup(
    storage: &Path,
    beside: &str,
    name: &str,
    source_version: (&str, &str, &str),
    held: &[Held],
) -> anyhow::Result<()> {
    let real = find_file(storage, &format!("{beside}.tar.gz"))
        .ok_or_else(|| anyhow!("backup {beside} left no tarball in {}", storage.display()))?;
    let backups = real
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| anyhow!("{} has no backups folder above it", real.display()))?;
    let metadata_path = real.with_file_name("velero-backup.json");
    let mut metadata: Value = serde_json::from_slice(
        &std::fs::read(&metadata_path)
            .with_context(|| format!("cannot read {}", metadata_path.display()))?,
    )
    .with_context(|| format!("{} is not JSON", metadata_path.display()))?;
    metadata["metadata"]["name"] = json!(name);
    for key in [
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "managedFields",
    ] {
        if let Some(fields) = metadata["metadata"].as_object_mut() {
            fields.remove(key);
        }
    }
    let (git, major, minor) = source_version;
    metadata["metadata"]["annotations"] = json!({
        "velero.io/source-cluster-k8s-gitversion": git,
        "velero.io/source-cluster-k8s-major-version": major,
        "velero.io/source-cluster-k8s-minor-version": minor,
    });
    let mut writer = BackupWriter::new(Vec::new())?;
    for object in held {
        let group_resource = GroupResource::parse(&object.group_resource)?;
        let item = Item {
            group_resource: &group_resource,
            namespace: object
                .body
                .pointer("/metadata/namespace")
                .and_then(Value::as_str),
            name: object
                .body
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            version: object.version,
            preferred_version: object.version,
        };
        writer.append(&item, &object.body)?;
    }
    let (tarball, _) = writer.finish()?;
    let dir = backups.join(name);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join(format!("{name}.tar.gz")), tarball)
        .with_context(|| format!("cannot write the tarball of {name}"))?;
    // The metadata last, as the store's own writer does: a backup is listed once it is there.
    std::fs::write(
        dir.join("velero-backup.json"),
        serde_json::to_vec_pretty(&metadata)?,
    )
    .with_context(|| format!("cannot write the metadata of {name}"))?;
    Ok(())
}

/// Writes the deprecated-API backup (from "Kubernetes 1.21") into the store.
pub fn write_legacy_backup(storage: &Path, names: &Names) -> anyhow::Result<()> {
    write_backup(
        storage,
        &names.backup(),
        &legacy_backup(names),
        ("v1.21.14", "1", "21"),
        &legacy_objects(names),
    )
}

/// Checks what the deprecated-API restore did: every group-resource decided by rule
/// `converted`, the restore Completed, and each object in the target at the newer version
/// with its fields where upstream's conversion puts them (the target's API server validated
/// the newer shape on create).
pub async fn check_legacy_restore(
    target: &Cluster,
    names: &Names,
    run: &RestoreRun,
) -> anyhow::Result<Vec<Check>> {
    let mut checks = vec![Check::new(
        format!(
            "restore of {} ended Completed (it is {}; errors: {})",
            legacy_backup(names),
            run.phase(),
            run.errors.join("; ")
        ),
        run.phase() == "Completed",
    )];
    for group_resource in [
        "ingresses.extensions",
        "cronjobs.batch",
        "poddisruptionbudgets.policy",
        "horizontalpodautoscalers.autoscaling",
    ] {
        let rule = run.rule(group_resource);
        checks.push(Check::new(
            format!(
                "{group_resource} decided by rule converted (it is {})",
                rule.as_deref().unwrap_or("none")
            ),
            rule.as_deref() == Some("converted"),
        ));
    }
    let namespace = legacy_namespace(names);
    let client = &target.client;
    let read = |resource: kube::core::ApiResource, name: &'static str| {
        let namespace = namespace.clone();
        async move {
            let what = format!("{} {namespace}/{name}", resource.api_version);
            let object = get(client, &resource, Some(&namespace), name).await?;
            object
                .map(|o| o.data)
                .ok_or_else(|| anyhow!("{what} is not in the target"))
        }
    };
    let ingress = read(
        api_resource("networking.k8s.io", "v1", "Ingress", "ingresses"),
        "web",
    )
    .await?;
    let path = ingress.pointer("/spec/rules/0/http/paths/0");
    checks.push(Check::new(
        format!(
            "the Ingress reads at networking.k8s.io/v1 with backend service web:80 and pathType \
             ImplementationSpecific (it has {})",
            path.map_or_else(|| "no path".to_owned(), Value::to_string)
        ),
        path.is_some_and(|p| {
            p.pointer("/backend/service") == Some(&json!({"name": "web", "port": {"number": 80}}))
                && p["pathType"] == json!("ImplementationSpecific")
        }),
    ));
    let default_backend = ingress.pointer("/spec/defaultBackend/service");
    checks.push(Check::new(
        format!(
            "the Ingress's default backend is service fallback, port http (it is {})",
            default_backend.map_or_else(|| "none".to_owned(), Value::to_string)
        ),
        default_backend == Some(&json!({"name": "fallback", "port": {"name": "http"}})),
    ));
    let cron = read(
        api_resource("batch", "v1", "CronJob", "cronjobs"),
        "nightly",
    )
    .await?;
    checks.push(Check::new(
        "the CronJob reads at batch/v1 with its schedule and suspend kept",
        cron.pointer("/spec/schedule") == Some(&json!("0 3 * * *"))
            && cron.pointer("/spec/suspend") == Some(&json!(true)),
    ));
    let budget = read(
        api_resource(
            "policy",
            "v1",
            "PodDisruptionBudget",
            "poddisruptionbudgets",
        ),
        "web",
    )
    .await?;
    checks.push(Check::new(
        "the PodDisruptionBudget reads at policy/v1 with minAvailable 1 and selector app=web",
        budget.pointer("/spec/minAvailable") == Some(&json!(1))
            && budget.pointer("/spec/selector/matchLabels") == Some(&json!({"app": "web"})),
    ));
    let autoscaler = read(objects::horizontal_pod_autoscalers("v2"), "web").await?;
    let metric = autoscaler.pointer("/spec/metrics/0/resource");
    checks.push(Check::new(
        format!(
            "the HorizontalPodAutoscaler reads at autoscaling/v2 with a cpu target of 70% average \
             utilization (it has {})",
            metric.map_or_else(|| "no metric".to_owned(), Value::to_string)
        ),
        metric.is_some_and(|m| {
            m["name"] == json!("cpu")
                && m["target"] == json!({"type": "Utilization", "averageUtilization": 70})
        }),
    ));
    Ok(checks)
}

/// Prepares the target for the pitfalls row and writes its backup: the target gets the
/// namespace with other security-context ranges than the backup's, and a CRD whose storage
/// version moved from v1beta1 to v1 (so it lists both as stored); the backup, "taken from
/// Kubernetes 1.99", holds that namespace, an OLM Subscription and a custom resource of the
/// CRD.
pub async fn prepare_pitfalls(
    target: &Cluster,
    storage: &Path,
    names: &Names,
) -> anyhow::Result<()> {
    let client = &target.client;
    let namespace = scc_namespace(names);
    create_if_missing(
        client,
        &objects::namespaces(),
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": namespace,
            "labels": {RUN_LABEL: names.run},
            "annotations": {"openshift.io/sa.scc.uid-range": "1000900000/10000"}
        }}),
    )
    .await?;
    let crd_name = names.group_resource(PITFALLS_SCENARIO);
    let crd =
        crate::scenarios::custom_resource_definition(names, PITFALLS_SCENARIO, &["v1beta1", "v1"]);
    create(client, &objects::custom_resource_definitions(), &crd).await?;
    kubeapi::wait_established(client, &crd_name).await?;
    // v1 becomes the storage version: the CRD now lists v1beta1 and v1 as stored.
    let api: kube::Api<kube::core::DynamicObject> =
        kube::Api::all_with(client.clone(), &objects::custom_resource_definitions());
    let patch = json!({"spec": {"versions": [
        {"name": "v1beta1", "served": true, "storage": false,
         "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
        {"name": "v1", "served": true, "storage": true,
         "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}
    ]}});
    api.patch(
        &crd_name,
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&patch),
    )
    .await
    .with_context(|| format!("cannot make v1 the storage version of CRD {crd_name}"))?;
    // The plan below must find the group served, or it has no version to warn about.
    kubeapi::wait_discovered(
        client,
        &format!("{}/v1", names.group(PITFALLS_SCENARIO)),
        crate::scenarios::CUSTOM_PLURAL,
    )
    .await?;

    let group = names.group(PITFALLS_SCENARIO);
    let held = vec![
        Held {
            group_resource: "namespaces".to_owned(),
            version: "v1",
            body: json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": namespace,
            "annotations": {
                "openshift.io/sa.scc.uid-range": "1000650000/10000",
                "openshift.io/sa.scc.supplemental-groups": "1000650000/10000"
            }}}),
        },
        Held {
            group_resource: "configmaps".to_owned(),
            version: "v1",
            body: json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "settings", "namespace": namespace},
                "data": {"mode": "fast"}}),
        },
        Held {
            group_resource: "subscriptions.operators.coreos.com".to_owned(),
            version: "v1alpha1",
            body: json!({"apiVersion": "operators.coreos.com/v1alpha1", "kind": "Subscription",
                "metadata": {"name": "my-operator", "namespace": namespace},
                "spec": {"name": "my-operator", "channel": "stable", "source": "operatorhubio-catalog"}}),
        },
        Held {
            group_resource: crd_name.clone(),
            version: "v1",
            body: json!({"apiVersion": format!("{group}/v1"), "kind": crate::scenarios::CUSTOM_KIND,
                "metadata": {"name": "gizmo", "namespace": namespace},
                "spec": {"size": 3}}),
        },
    ];
    write_backup(
        storage,
        &names.backup(),
        &pitfalls_backup(names),
        ("v1.99.0", "1", "99"),
        &held,
    )
}

/// What `restore plan -o json` of the pitfalls backup said: the version and rule it chose for
/// the ConfigMap, and one check per pitfall it must name.
pub struct PitfallsPlan {
    /// The version chosen for `configmaps`.
    pub version: Option<String>,
    /// The rule that chose it.
    pub rule: Option<String>,
    /// One check per pitfall.
    pub checks: Vec<Check>,
}

/// Reads `restore plan -o json` of the pitfalls backup.
pub fn check_pitfalls_plan(names: &Names, plan_json: &str, success: bool) -> PitfallsPlan {
    let plan: Value = serde_json::from_str(plan_json).unwrap_or(Value::Null);
    let choice = plan["tiers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|tier| tier["groupResource"] == json!("configmaps"))
        .map(|tier| &tier["decision"]["choice"]);
    let text = |field: &str| choice.and_then(|c| c[field].as_str()).map(str::to_owned);
    let said: Vec<String> = plan["pitfalls"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|pitfall| {
            let message = pitfall["message"].as_str().unwrap_or_default();
            match pitfall["namespace"].as_str() {
                Some(namespace) => format!("[{namespace}] {message}"),
                None => message.to_owned(),
            }
        })
        .collect();
    for line in &said {
        println!("pitfall: {line}");
    }
    PitfallsPlan {
        version: text("version"),
        rule: text("rule"),
        checks: pitfall_checks(names, &said.join("\n"), success && !plan.is_null()),
    }
}

fn pitfall_checks(names: &Names, plan_output: &str, success: bool) -> Vec<Check> {
    let namespace = scc_namespace(names);
    let crd = names.group_resource(PITFALLS_SCENARIO);
    let expect = |what: &str, needle: String| {
        Check::new(
            format!("restore plan names {what} (looked for {needle:?})"),
            plan_output.contains(&needle),
        )
    };
    vec![
        Check::new("restore plan -o json ran and printed a plan", success),
        expect(
            "the target older than the source",
            "the backup was taken from Kubernetes v1.99.0; the target runs".to_owned(),
        ),
        expect(
            "the namespace whose security-context ranges differ",
            format!(
                "[{namespace}] namespace {namespace} already exists and keeps its own \
                 security-context ranges (openshift.io/sa.scc.uid-range is 1000900000/10000 in \
                 the target, 1000650000/10000 in the backup"
            ),
        ),
        expect(
            "the Operator Lifecycle Manager objects",
            "Operator Lifecycle Manager objects (1 subscriptions.operators.coreos.com)".to_owned(),
        ),
        expect(
            "the CRD with an old stored version",
            format!("CRD {crd} still lists stored versions v1beta1 besides its storage version v1"),
        ),
    ]
}
