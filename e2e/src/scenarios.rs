//! The scenarios as data: for each, the versions each side serves and the version SPEC.md
//! section 4 says the restore must pick, written down literally from SPEC.md's table (an oracle
//! independent of godwit's own version code), plus the names one run uses so that runs against
//! the same clusters never collide.

/// The domain every scenario's API group lives under.
pub const GROUP_DOMAIN: &str = "e2e.godwit.io";

/// The label every object the harness creates carries, valued with the run id (for cleanup).
pub const RUN_LABEL: &str = "e2e.godwit.io/run";

/// The label that picks the object the `update` restore may touch.
pub const POLICY_LABEL: &str = "e2e.godwit.io/policy";

/// What a scenario puts into the source and what it checks in the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A custom resource in a group of its own, served by a CRD on each side.
    CustomResource {
        /// Versions listed in the target's `enableapigroupversions` ConfigMap, highest first.
        user_priorities: Option<&'static [&'static str]>,
    },
    /// A HorizontalPodAutoscaler, a built-in group whose versions differ between Kubernetes
    /// minors. Its row's versions are what the two clusters serve, read from their discovery
    /// ([`Scenario::with_served`]); the table holds kubesim's 1.25 and 1.33.
    HorizontalPodAutoscaler,
    /// A bound PV and PVC restored a second time under a namespace mapping.
    NamespaceMapping,
    /// A NodePort Service whose node port was set by the user.
    NodePort,
    /// A ConfigMap that already exists in the target, restored with policy `none`.
    ExistingNone,
    /// A ConfigMap that already exists in the target, restored with policy `update`.
    ExistingUpdate,
    /// What the control plane keeps in every namespace (the `default` ServiceAccount and the
    /// `kube-root-ca.crt` ConfigMap): the target's own stay, and no warning names them.
    ControlPlaneObjects,
    /// What the target's server does with Velero's resources over their life: a Restore asking
    /// for hooks fails validation naming the field, and the backup, once expired, is deleted
    /// from the cluster and the store by garbage collection (run last: it takes the backup).
    Lifecycle,
    /// A backup crafted as from Kubernetes 1.21, holding Ingress, CronJob, PodDisruptionBudget
    /// and HorizontalPodAutoscaler only at versions the target no longer serves: restored
    /// through godwit-convert, each object read back at the newer version with its fields moved.
    DeprecatedApis,
    /// A backup crafted to trip every cross-cluster pitfall (a newer source, a namespace whose
    /// security-context ranges differ from the target's, an OLM Subscription, a CRD with an old
    /// stored version): `restore plan` must name each. Nothing is restored: the row's version
    /// and rule are the plan's for the backup's ConfigMap.
    Pitfalls,
    /// A CRD whose storage version moved from v1beta1 to v1, in the target: `godwit
    /// storage-version migrate` leaves `storedVersions == [v1]`, v1beta1 can then be dropped from
    /// `spec.versions` and every object still reads at v1; a CRD whose stale version is not
    /// served is refused and left alone. Nothing is restored: the row's backup versions are the
    /// CRD's stored versions before, its target versions those after, and its rule
    /// `storageVersionMigrated` when the command did it.
    StorageVersion,
}

/// One row of the end-to-end table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scenario {
    /// Its name, as `--case` takes it.
    pub name: &'static str,
    /// What it sets up and checks.
    pub kind: Kind,
    /// Versions the backup holds for the resource, the source's preferred version first.
    pub backup_versions: &'static [&'static str],
    /// Versions the target serves, its preferred version first; empty when the target has no
    /// CRD for the group before the restore.
    pub target_versions: &'static [&'static str],
    /// The version the object must be restored at; `None` when nothing fits (rule 4).
    pub expected_version: Option<&'static str>,
    /// The rule that must choose it, spelled as `status.godwit.versionChoices` spells rules;
    /// `noCommonVersion` for rule 4.
    pub expected_rule: &'static str,
}

/// The rule name used when nothing fits; godwit records no choice then.
pub const NO_COMMON_VERSION: &str = "noCommonVersion";

/// Every scenario, in the order the table lists them.
pub const SCENARIOS: &[Scenario] = &[
    // SPEC.md section 4, case A.
    Scenario {
        name: "case-a",
        kind: Kind::CustomResource {
            user_priorities: None,
        },
        backup_versions: &["v1", "v1alpha1"],
        target_versions: &["v1", "v2beta1"],
        expected_version: Some("v1"),
        expected_rule: "targetPreferred",
    },
    // Case B.
    Scenario {
        name: "case-b",
        kind: Kind::CustomResource {
            user_priorities: None,
        },
        backup_versions: &["v1", "v2beta2", "v2beta1"],
        target_versions: &["v2beta2", "v2beta1"],
        expected_version: Some("v2beta2"),
        expected_rule: "targetPreferred",
    },
    // Case C.
    Scenario {
        name: "case-c",
        kind: Kind::CustomResource {
            user_priorities: None,
        },
        backup_versions: &["v1", "v1alpha1"],
        target_versions: &["v2", "v1"],
        expected_version: Some("v1"),
        expected_rule: "sourcePreferred",
    },
    // Case D.
    Scenario {
        name: "case-d",
        kind: Kind::CustomResource {
            user_priorities: None,
        },
        backup_versions: &["v1", "v2beta2", "v2beta1"],
        target_versions: &["v2", "v2beta2", "v2beta1"],
        expected_version: Some("v2beta2"),
        expected_rule: "commonNonPreferred",
    },
    // Case D's clusters, and a user priority that puts v2beta1 first (rule 0).
    Scenario {
        name: "user-priority",
        kind: Kind::CustomResource {
            user_priorities: Some(&["v2beta1", "v2beta2", "v2"]),
        },
        backup_versions: &["v1", "v2beta2", "v2beta1"],
        target_versions: &["v2", "v2beta2", "v2beta1"],
        expected_version: Some("v2beta1"),
        expected_rule: "userPriority",
    },
    // Rule 4: the restore ends PartiallyFailed and everything else is still restored.
    Scenario {
        name: "no-common-version",
        kind: Kind::CustomResource {
            user_priorities: None,
        },
        backup_versions: &["v1", "v1alpha1"],
        target_versions: &["v2", "v2beta1"],
        expected_version: None,
        expected_rule: NO_COMMON_VERSION,
    },
    // The target has no CRD: it comes from the backup, restored first, so the target then
    // prefers what the source preferred.
    Scenario {
        name: "crd-absent",
        kind: Kind::CustomResource {
            user_priorities: None,
        },
        backup_versions: &["v1", "v1beta1"],
        target_versions: &[],
        expected_version: Some("v1"),
        expected_rule: "targetPreferred",
    },
    // What sim mode's clusters serve: Kubernetes 1.25 serves autoscaling v1 (preferred), v2,
    // v2beta2; 1.33 serves v2 (preferred), v1 (kubernetes/kubernetes#114358 made v2 preferred
    // in 1.27). Other modes replace these with what their clusters serve.
    Scenario {
        name: "hpa",
        kind: Kind::HorizontalPodAutoscaler,
        backup_versions: &["v1", "v2", "v2beta2"],
        target_versions: &["v2", "v1"],
        expected_version: Some("v2"),
        expected_rule: "targetPreferred",
    },
    Scenario {
        name: "namespace-mapping",
        kind: Kind::NamespaceMapping,
        backup_versions: &["v1"],
        target_versions: &["v1"],
        expected_version: Some("v1"),
        expected_rule: "targetPreferred",
    },
    Scenario {
        name: "nodeport",
        kind: Kind::NodePort,
        backup_versions: &["v1"],
        target_versions: &["v1"],
        expected_version: Some("v1"),
        expected_rule: "targetPreferred",
    },
    Scenario {
        name: "existing-none",
        kind: Kind::ExistingNone,
        backup_versions: &["v1"],
        target_versions: &["v1"],
        expected_version: Some("v1"),
        expected_rule: "targetPreferred",
    },
    Scenario {
        name: "existing-update",
        kind: Kind::ExistingUpdate,
        backup_versions: &["v1"],
        target_versions: &["v1"],
        expected_version: Some("v1"),
        expected_rule: "targetPreferred",
    },
    Scenario {
        name: "control-plane-objects",
        kind: Kind::ControlPlaneObjects,
        backup_versions: &["v1"],
        target_versions: &["v1"],
        expected_version: Some("v1"),
        expected_rule: "targetPreferred",
    },
    Scenario {
        name: "deprecated-apis",
        kind: Kind::DeprecatedApis,
        backup_versions: &["v1beta1"],
        target_versions: &["v1"],
        expected_version: Some("v1"),
        expected_rule: "converted",
    },
    Scenario {
        name: "pitfalls",
        kind: Kind::Pitfalls,
        backup_versions: &["v1"],
        target_versions: &["v1"],
        expected_version: Some("v1"),
        expected_rule: "targetPreferred",
    },
    Scenario {
        name: "backup-lifecycle",
        kind: Kind::Lifecycle,
        backup_versions: &["v1"],
        target_versions: &["v1"],
        expected_version: Some("v1"),
        expected_rule: "targetPreferred",
    },
    Scenario {
        name: "storage-version",
        kind: Kind::StorageVersion,
        backup_versions: &["v1beta1", "v1"],
        target_versions: &["v1"],
        expected_version: Some("v1"),
        expected_rule: "storageVersionMigrated",
    },
];

impl Scenario {
    /// Why the scenario cannot run when one cluster plays both sides, if it cannot: one
    /// cluster serves one set of versions, and a node port the source holds is taken.
    pub fn needs_two_clusters(&self) -> Option<&'static str> {
        match self.kind {
            Kind::CustomResource { .. } | Kind::HorizontalPodAutoscaler => {
                Some("source and target are one cluster, so they serve the same versions")
            }
            Kind::NodePort => Some("source and target are one cluster, so the node port is taken"),
            Kind::NamespaceMapping
            | Kind::ExistingNone
            | Kind::ExistingUpdate
            | Kind::ControlPlaneObjects
            | Kind::StorageVersion
            | Kind::Lifecycle
            | Kind::DeprecatedApis
            | Kind::Pitfalls => None,
        }
    }
}

/// SPEC.md section 4's rules written out again, apart from godwit's own version code, on the
/// lists the API servers give: the version a restore must pick when the backup holds `backup`
/// (the source's preferred version first) and the target serves `target` (its preferred
/// version first, the rest in the server's priority order), with the rule's name as the
/// Restore records it; `(None, NO_COMMON_VERSION)` when nothing fits. No user priorities.
pub fn expected_by_spec(backup: &[&str], target: &[&str]) -> (Option<String>, &'static str) {
    let (Some(source_preferred), Some(target_preferred)) = (backup.first(), target.first()) else {
        return (None, NO_COMMON_VERSION);
    };
    if backup.contains(target_preferred) {
        return (Some((*target_preferred).to_owned()), "targetPreferred");
    }
    if target.contains(source_preferred) {
        return (Some((*source_preferred).to_owned()), "sourcePreferred");
    }
    target[1..]
        .iter()
        .find(|version| *version != source_preferred && backup[1..].contains(version))
        .map_or((None, NO_COMMON_VERSION), |version| {
            (Some((*version).to_owned()), "commonNonPreferred")
        })
}

/// `versions` with `preferred` moved to the front (the order rows list versions in).
pub fn preferred_first(versions: &[String], preferred: &str) -> Vec<String> {
    let mut ordered: Vec<String> = versions
        .iter()
        .filter(|version| version.as_str() == preferred)
        .cloned()
        .collect();
    ordered.extend(
        versions
            .iter()
            .filter(|version| version.as_str() != preferred)
            .cloned(),
    );
    ordered
}

impl Scenario {
    /// This scenario with the versions the clusters serve (each list preferred first) and the
    /// version and rule [`expected_by_spec`] derives from them.
    pub fn with_served(self, backup: &[String], target: &[String]) -> Scenario {
        // A run builds a handful of these once; leaking them keeps `Scenario` plain data.
        let leak = |versions: &[String]| -> &'static [&'static str] {
            let versions: Vec<&'static str> = versions
                .iter()
                .map(|version| &*Box::leak(version.clone().into_boxed_str()))
                .collect();
            Box::leak(versions.into_boxed_slice())
        };
        let backup_versions = leak(backup);
        let target_versions = leak(target);
        let (expected, rule) = expected_by_spec(backup_versions, target_versions);
        Scenario {
            backup_versions,
            target_versions,
            expected_version: expected.map(|version| &*Box::leak(version.into_boxed_str())),
            expected_rule: rule,
            ..self
        }
    }
}

/// The scenarios `--case` picked (all when none), or an error naming the unknown ones and the
/// known ones.
pub fn select(cases: &[String]) -> Result<Vec<Scenario>, String> {
    if cases.is_empty() {
        return Ok(SCENARIOS.to_vec());
    }
    let unknown: Vec<&str> = cases
        .iter()
        .map(String::as_str)
        .filter(|case| SCENARIOS.iter().all(|scenario| scenario.name != *case))
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = SCENARIOS.iter().map(|scenario| scenario.name).collect();
        return Err(format!(
            "unknown --case {}; known cases: {}",
            unknown.join(", "),
            known.join(", ")
        ));
    }
    Ok(SCENARIOS
        .iter()
        .filter(|scenario| cases.iter().any(|case| case == scenario.name))
        .copied()
        .collect())
}

/// The kind every scenario's custom resource has.
pub const CUSTOM_KIND: &str = "Widget";
/// Its plural.
pub const CUSTOM_PLURAL: &str = "widgets";

/// The names one run uses, all derived from its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// The run id: a few lowercase hex digits.
    pub run: String,
}

impl Names {
    /// Names for the run with this id.
    pub fn new(run: &str) -> Self {
        Names {
            run: run.to_owned(),
        }
    }

    /// The API group of a custom-resource scenario.
    pub fn group(&self, scenario: &str) -> String {
        format!("{scenario}-{}.{GROUP_DOMAIN}", self.run)
    }

    /// `<plural>.<group>` of a scenario's custom resource: its CRD's name and its GR.
    pub fn group_resource(&self, scenario: &str) -> String {
        format!("{CUSTOM_PLURAL}.{}", self.group(scenario))
    }

    /// The namespace the objects live in, in the source.
    pub fn namespace(&self) -> String {
        format!("godwit-e2e-{}", self.run)
    }

    /// Where the restores put them in the target (mapped, so one cluster can play both sides).
    pub fn restored_namespace(&self) -> String {
        format!("godwit-e2e-{}-restored", self.run)
    }

    /// Where the namespace-mapping restore puts them.
    pub fn mapped_namespace(&self) -> String {
        format!("godwit-e2e-{}-mapped", self.run)
    }

    /// The godwit server's namespace on one side (`src` or `dst`): distinct, so one cluster can
    /// play both sides.
    pub fn server_namespace(&self, side: &str) -> String {
        format!("godwit-e2e-{}-{side}", self.run)
    }

    /// The backup.
    pub fn backup(&self) -> String {
        format!("e2e-{}", self.run)
    }

    /// A restore, by its purpose (`main`, `mapping`, `update`).
    pub fn restore(&self, purpose: &str) -> String {
        format!("e2e-{}-{purpose}", self.run)
    }

    /// The persistent volume of the namespace-mapping scenario.
    pub fn persistent_volume(&self) -> String {
        format!("godwit-e2e-{}-pv", self.run)
    }

    /// The node port the NodePort scenario sets, spread over 30100..=32699 by run id so two
    /// runs on one cluster rarely ask for the same one.
    pub fn node_port(&self) -> u16 {
        let spread = self.run.bytes().fold(0u32, |hash, byte| {
            hash.wrapping_mul(31).wrapping_add(u32::from(byte))
        });
        // The modulo keeps the value below 2600, so it fits.
        30100 + u16::try_from(spread % 2600).unwrap_or(0)
    }
}

/// A CRD for a scenario's group serving `versions` (preferred first; it is also the storage
/// version), schemaless so every version reads the same object.
pub fn custom_resource_definition(
    names: &Names,
    scenario: &str,
    versions: &[&str],
) -> serde_json::Value {
    let versions: Vec<serde_json::Value> = versions
        .iter()
        .enumerate()
        .map(|(index, version)| {
            serde_json::json!({
                "name": version,
                "served": true,
                "storage": index == 0,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": true
                }}
            })
        })
        .collect();
    serde_json::json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": names.group_resource(scenario),
            "labels": {RUN_LABEL: names.run}
        },
        "spec": {
            "group": names.group(scenario),
            "names": {
                "kind": CUSTOM_KIND,
                "listKind": format!("{CUSTOM_KIND}List"),
                "plural": CUSTOM_PLURAL,
                "singular": "widget"
            },
            "scope": "Namespaced",
            "versions": versions
        }
    })
}

/// The target's `enableapigroupversions` ConfigMap (SPEC.md section 4) for the scenarios that
/// set user priorities; `None` when none does.
pub fn user_priorities_config_map(
    names: &Names,
    scenarios: &[Scenario],
    server_namespace: &str,
) -> Option<serde_json::Value> {
    let lines: Vec<String> = scenarios
        .iter()
        .filter_map(|scenario| match scenario.kind {
            Kind::CustomResource {
                user_priorities: Some(versions),
            } => Some(format!(
                "{}={}",
                names.group_resource(scenario.name),
                versions.join(",")
            )),
            _ => None,
        })
        .collect();
    (!lines.is_empty()).then(|| {
        serde_json::json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "enableapigroupversions",
                "namespace": server_namespace,
                "labels": {RUN_LABEL: names.run}
            },
            "data": {"restoreResourcesVersionPriority": lines.join("\n") + "\n"}
        })
    })
}

#[cfg(test)]
mod tests;
