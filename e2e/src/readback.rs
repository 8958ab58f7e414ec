//! Reading back from the target: the Restores the CLI created and their results, what the
//! backup holds and the target serves, and each scenario's objects, as observations for
//! [`crate::report::judge`].

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use godwit_api::Restore;
use kube::Api;
use serde_json::Value;

use crate::clusters::Cluster;
use crate::evidence::{Inventory, collect_strings, parse_inventory, served_versions};
use crate::godwit::{CliOutput, Godwit};
use crate::harness::existing_config_map;
use crate::kubeapi::{self, get};
use crate::objects::{
    self, BACKED_UP_VALUE, CLAIM_NAME, LIVE_VALUE, OBJECT_NAME, ROOT_CA_CONFIG_MAP,
};
use crate::report::{Check, Observation, names_versions};
use crate::scenarios::{Kind, Names, Scenario};

/// The annotation the PV action puts on a renamed PV (SPEC.md section 6).
const ORIGINAL_PV_NAME: &str = "velero.io/original-pv-name";

/// What one restore left behind.
pub(crate) struct RestoreRun {
    pub(crate) restore: Restore,
    /// Every error message of its results file (and of the CLI's output).
    pub(crate) errors: Vec<String>,
    /// Every warning of its results file.
    pub(crate) warnings: Vec<String>,
}

impl RestoreRun {
    pub(crate) fn phase(&self) -> String {
        self.restore
            .phase()
            .map_or_else(|| "none".to_owned(), |phase| phase.as_str().to_owned())
    }

    /// The rule recorded for a group-resource.
    pub(crate) fn rule(&self, group_resource: &str) -> Option<String> {
        self.choice(group_resource)
            .map(|choice| choice.rule.clone())
    }

    /// The version recorded for a group-resource.
    pub(crate) fn chosen_version(&self, group_resource: &str) -> Option<String> {
        self.choice(group_resource)
            .map(|choice| choice.version.clone())
    }

    pub(crate) fn choice(&self, group_resource: &str) -> Option<&godwit_api::VersionChoice> {
        self.restore
            .status
            .as_ref()?
            .godwit
            .as_ref()?
            .version_choices
            .iter()
            .find(|choice| choice.group_resource == group_resource)
    }
}

/// Reads the Restore a CLI command created, and the error messages of its results.
pub(crate) async fn read_restore(
    target: &Cluster,
    server_namespace: &str,
    name: &str,
    storage: &Path,
    output: &CliOutput,
) -> anyhow::Result<RestoreRun> {
    let api: Api<Restore> = Api::namespaced(target.client.clone(), server_namespace);
    let restore = api
        .get_opt(name)
        .await
        .with_context(|| format!("cannot read Restore {name}"))?
        .ok_or_else(|| {
            anyhow!(
                "the restore command created no Restore {name}: {}",
                output.transcript()
            )
        })?;
    if !restore.is_terminal_phase() {
        bail!(
            "Restore {name} is not finished after `--wait` (phase {}): {}",
            restore.phase().map_or("none", |phase| phase.as_str()),
            output.transcript()
        );
    }
    let (mut errors, warnings) = match find_file(storage, &format!("restore-{name}-results.gz")) {
        Some(path) => read_results(&path)?,
        None => (Vec::new(), Vec::new()),
    };
    errors.push(output.stdout.clone());
    errors.push(output.stderr.clone());
    let run = RestoreRun {
        restore,
        errors,
        warnings,
    };
    println!("restore {name}: {}", run.phase());
    Ok(run)
}

/// Finds a file by name anywhere under `dir`.
pub(crate) fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|file| file == name) {
            return Some(path);
        }
    }
    None
}

/// The error and warning messages of a restore's results file (`{"errors": {velero, cluster,
/// namespaces}, "warnings": {...}}`).
fn read_results(path: &Path) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    use std::io::Read as _;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .take(64 << 20)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let results: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let mut errors = Vec::new();
    collect_strings(results.get("errors").unwrap_or(&Value::Null), &mut errors);
    let mut warnings = Vec::new();
    collect_strings(
        results.get("warnings").unwrap_or(&Value::Null),
        &mut warnings,
    );
    Ok((errors, warnings))
}

/// Lists the backup's tarball with `godwit backup inspect -o json`.
pub(crate) async fn backup_inventory(
    godwit: &Godwit,
    storage: &Path,
    backup: &str,
) -> anyhow::Result<Inventory> {
    let tarball = find_file(storage, &format!("{backup}.tar.gz")).ok_or_else(|| {
        anyhow!(
            "backup {backup} left no {backup}.tar.gz in {}",
            storage.display()
        )
    })?;
    let path = tarball.display().to_string();
    let output = godwit
        .run_local(&["backup", "inspect", &path, "-o", "json"])
        .await?;
    if !output.success {
        bail!("cannot list the backup: {}", output.transcript());
    }
    parse_inventory(&output.stdout)
}

/// What the target serves per API group before the restore: versions in the server's order
/// and the preferred one (the core group is not listed).
pub(crate) async fn served_groups(client: &kube::Client) -> anyhow::Result<Inventory> {
    let groups = client
        .list_api_groups()
        .await
        .context("cannot read the target's API groups")?;
    Ok(groups
        .groups
        .into_iter()
        .map(|group| {
            let versions = group.versions.iter().map(|v| v.version.clone()).collect();
            let preferred = group
                .preferred_version
                .map(|preferred| preferred.version)
                .unwrap_or_default();
            (group.name, (versions, preferred))
        })
        .collect())
}

/// The restores of the run.
pub(crate) struct Restores<'a> {
    pub(crate) main: &'a RestoreRun,
    pub(crate) mapping: Option<&'a RestoreRun>,
    /// Whether deleting the mapping restore took its files along.
    pub(crate) mapping_deleted: Option<&'a Check>,
    /// What the lifecycle steps found (validation, garbage collection).
    pub(crate) lifecycle: &'a [Check],
    pub(crate) update: Option<&'a RestoreRun>,
    /// The restore of the crafted deprecated-API backup, and what its checks found.
    pub(crate) legacy: Option<&'a (RestoreRun, Vec<Check>)>,
    /// What `restore plan` of the crafted pitfalls backup said.
    pub(crate) pitfalls: Option<&'a crate::crafted::PitfallsPlan>,
}

/// Whether the source's server-side-apply entry of the object (written at the source's
/// preferred version) came along: it must when the target serves that version, and must not
/// when it does not (the target cannot read such an entry).
fn carried_over(scenario: &Scenario, object: &kube::core::DynamicObject) -> Check {
    let written = scenario.backup_versions.first().copied().unwrap_or("v1");
    // A CRD the restore brings serves the backup's versions.
    let readable =
        scenario.target_versions.is_empty() || scenario.target_versions.contains(&written);
    let carried = object
        .metadata
        .managed_fields
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|entry| {
            entry.manager.as_deref() == Some(objects::APPLY_MANAGER)
                && entry
                    .api_version
                    .as_deref()
                    .is_some_and(|api_version| api_version.ends_with(&format!("/{written}")))
        });
    Check::new(
        if readable {
            format!(
                "the source's server-side-apply entry ({} at {written}) is carried over",
                objects::APPLY_MANAGER
            )
        } else {
            format!(
                "the source's server-side-apply entry at {written} is left out (the target does \
                 not serve {written})"
            )
        },
        carried == readable,
    )
}

/// Reads one scenario's objects back from the target.
pub(crate) async fn observe(
    target: &Cluster,
    names: &Names,
    scenario: &Scenario,
    restores: &Restores<'_>,
) -> anyhow::Result<Observation> {
    let client = &target.client;
    let namespace = names.restored_namespace();
    let expected = scenario.expected_version.unwrap_or("v1");
    let mut observation = Observation::default();
    match scenario.kind {
        Kind::CustomResource { .. } => {
            let group_resource = names.group_resource(scenario.name);
            observation.rule = restores.main.rule(&group_resource);
            if scenario.expected_version.is_some() {
                let resource = objects::widgets(names, scenario.name, expected);
                let object = get(client, &resource, Some(&namespace), OBJECT_NAME).await?;
                observation.found_at_expected = object.is_some();
                observation.restored_version = object.as_ref().and_then(kubeapi::written_version);
                if let Some(object) = &object {
                    observation.checks.push(carried_over(scenario, object));
                }
            } else {
                for version in scenario.target_versions {
                    let resource = objects::widgets(names, scenario.name, version);
                    if let Some(object) =
                        get(client, &resource, Some(&namespace), OBJECT_NAME).await?
                    {
                        observation.restored_version = Some(
                            kubeapi::written_version(&object)
                                .unwrap_or_else(|| (*version).to_owned()),
                        );
                    }
                }
                observation.checks.push(Check::new(
                    format!(
                        "restore {} ended PartiallyFailed (it is {})",
                        restores.main.restore.metadata.name.as_deref().unwrap_or(""),
                        restores.main.phase()
                    ),
                    restores.main.phase() == "PartiallyFailed",
                ));
                let named = restores.main.errors.iter().any(|message| {
                    message.contains(&group_resource)
                        && names_versions(message, scenario.backup_versions)
                        && names_versions(message, scenario.target_versions)
                });
                observation.checks.push(Check::new(
                    format!(
                        "an error names {group_resource}, the backup's [{}] and the target's [{}]",
                        scenario.backup_versions.join(", "),
                        scenario.target_versions.join(", ")
                    ),
                    named,
                ));
            }
            if scenario.target_versions.is_empty() {
                let crd = get(
                    client,
                    &objects::custom_resource_definitions(),
                    None,
                    &group_resource,
                )
                .await?;
                let served = crd
                    .map(|crd| served_versions(&crd.data))
                    .unwrap_or_default();
                observation.checks.push(Check::new(
                    format!(
                        "the target's CRD came from the backup, serving [{}] (serves [{}])",
                        scenario.backup_versions.join(", "),
                        served.join(", ")
                    ),
                    served == scenario.backup_versions,
                ));
            }
        }
        Kind::HorizontalPodAutoscaler => {
            observation.rule = restores.main.rule("horizontalpodautoscalers.autoscaling");
            let object = get(
                client,
                &objects::horizontal_pod_autoscalers(expected),
                Some(&namespace),
                OBJECT_NAME,
            )
            .await?;
            observation.found_at_expected = object.is_some();
            observation.restored_version = object.as_ref().and_then(kubeapi::written_version);
        }
        Kind::NamespaceMapping => {
            let mapping = restores
                .mapping
                .ok_or_else(|| anyhow!("the namespace-mapping restore did not run"))?;
            observation.rule = mapping.rule("persistentvolumeclaims");
            observation.checks.push(Check::new(
                format!(
                    "restore {} (one namespace, the claim by label) Completed (it is {})",
                    mapping.restore.metadata.name.as_deref().unwrap_or(""),
                    mapping.phase()
                ),
                mapping.phase() == "Completed",
            ));
            if let Some(deleted) = restores.mapping_deleted {
                observation.checks.push(deleted.clone());
            }
            let mapped = names.mapped_namespace();
            let claim = get(
                client,
                &objects::persistent_volume_claims(),
                Some(&mapped),
                CLAIM_NAME,
            )
            .await?;
            observation.found_at_expected = claim.is_some();
            observation.restored_version = claim.as_ref().and_then(kubeapi::written_version);
            let volume_name = claim
                .as_ref()
                .and_then(|claim| claim.data.pointer("/spec/volumeName"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let original = names.persistent_volume();
            observation.checks.push(Check::new(
                format!(
                    "PVC {mapped}/{CLAIM_NAME} names a renamed PV, not {original} (names {volume_name:?})"
                ),
                !volume_name.is_empty() && volume_name != original,
            ));
            let clone = if volume_name.is_empty() {
                None
            } else {
                get(client, &objects::persistent_volumes(), None, &volume_name).await?
            };
            let clone_annotation = clone
                .as_ref()
                .and_then(|pv| pv.metadata.annotations.as_ref())
                .and_then(|annotations| annotations.get(ORIGINAL_PV_NAME))
                .cloned();
            observation.checks.push(Check::new(
                format!("PV {volume_name} has {ORIGINAL_PV_NAME}={original}"),
                clone_annotation.as_deref() == Some(original.as_str()),
            ));
            let claim_namespace = |pv: &Option<kube::core::DynamicObject>| {
                pv.as_ref()
                    .and_then(|pv| pv.data.pointer("/spec/claimRef/namespace"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            observation.checks.push(Check::new(
                format!("PV {volume_name} claimRef.namespace is {mapped}"),
                claim_namespace(&clone).as_deref() == Some(mapped.as_str()),
            ));
        }
        Kind::NodePort => {
            observation.rule = restores.main.rule("services");
            let service = get(client, &objects::services(), Some(&namespace), OBJECT_NAME).await?;
            observation.found_at_expected = service.is_some();
            observation.restored_version = service.as_ref().and_then(kubeapi::written_version);
            let node_port = service
                .as_ref()
                .and_then(|service| service.data.pointer("/spec/ports/0/nodePort"))
                .and_then(Value::as_u64);
            observation.checks.push(Check::new(
                format!(
                    "the user's nodePort {} is kept (it is {})",
                    names.node_port(),
                    node_port.map_or_else(|| "unset".to_owned(), |port| port.to_string())
                ),
                node_port == Some(u64::from(names.node_port())),
            ));
        }
        // The harness's storage-version steps observe it themselves.
        Kind::StorageVersion => {}
        Kind::Lifecycle => {
            // The row's version is the main restore's choice for ConfigMaps; its checks are
            // the lifecycle steps'.
            observation.rule = restores.main.rule("configmaps");
            observation.restored_version = restores.main.chosen_version("configmaps");
            observation.found_at_expected = true;
            if restores.lifecycle.is_empty() {
                observation
                    .checks
                    .push(Check::new("the lifecycle steps ran", false));
            }
            observation
                .checks
                .extend(restores.lifecycle.iter().cloned());
        }
        Kind::DeprecatedApis => {
            let Some((run, checks)) = restores.legacy else {
                observation
                    .checks
                    .push(Check::new("the deprecated-API backup was restored", false));
                return Ok(observation);
            };
            observation.rule = run.rule("ingresses.extensions");
            let ingress = get(
                client,
                &objects::api_resource("networking.k8s.io", "v1", "Ingress", "ingresses"),
                Some(&crate::crafted::legacy_namespace(names)),
                "web",
            )
            .await?;
            observation.found_at_expected = ingress.is_some();
            observation.restored_version = ingress.as_ref().and_then(kubeapi::written_version);
            observation.checks.extend(checks.iter().cloned());
        }
        Kind::Pitfalls => {
            // A plan only: the row's version and rule are what it chose for the ConfigMap.
            let Some(plan) = restores.pitfalls else {
                observation
                    .checks
                    .push(Check::new("the pitfalls plan ran", false));
                return Ok(observation);
            };
            observation.rule = plan.rule.clone();
            observation.restored_version = plan.version.clone();
            observation.found_at_expected = true;
            observation.checks.extend(plan.checks.iter().cloned());
        }
        Kind::ControlPlaneObjects => {
            observation.rule = restores.main.rule("configmaps");
            observation.restored_version = restores.main.chosen_version("configmaps");
            let ca = |config_map: &Option<kube::core::DynamicObject>| {
                config_map
                    .as_ref()
                    .and_then(|config_map| config_map.data.pointer("/data/ca.crt"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            // The target's controller manager fills a namespace the restore created a moment
            // after its create. A timeout here is not an error: the checks below name what
            // is missing.
            let _ = kubeapi::wait_namespace_filled(client, &namespace).await;
            let restored = get(
                client,
                &objects::config_maps(),
                Some(&namespace),
                ROOT_CA_CONFIG_MAP,
            )
            .await?;
            let own = get(
                client,
                &objects::config_maps(),
                Some("default"),
                ROOT_CA_CONFIG_MAP,
            )
            .await?;
            observation.found_at_expected = restored.is_some();
            observation.checks.push(Check::new(
                format!("{namespace}/{ROOT_CA_CONFIG_MAP} holds the target's own CA"),
                ca(&restored).is_some() && ca(&restored) == ca(&own),
            ));
            observation.checks.push(Check::new(
                format!("the restore did not write {ROOT_CA_CONFIG_MAP}"),
                restored
                    .as_ref()
                    .is_some_and(|config_map| kubeapi::written_version(config_map).is_none()),
            ));
            let account = get(
                client,
                &objects::service_accounts(),
                Some(&namespace),
                "default",
            )
            .await?;
            observation.checks.push(Check::new(
                format!("ServiceAccount {namespace}/default exists"),
                account.is_some(),
            ));
            let noisy: Vec<&String> = restores
                .main
                .warnings
                .iter()
                .filter(|warning| {
                    warning.contains(ROOT_CA_CONFIG_MAP)
                        || (warning.contains("ServiceAccount") && warning.contains("\"default\""))
                })
                .collect();
            observation.checks.push(Check::new(
                format!(
                    "no restore warning names {ROOT_CA_CONFIG_MAP} or the default ServiceAccount \
                     ({} do)",
                    noisy.len()
                ),
                noisy.is_empty(),
            ));
        }
        Kind::ExistingNone | Kind::ExistingUpdate => {
            let (name, _) = existing_config_map(scenario.kind);
            let restore = if scenario.kind == Kind::ExistingUpdate {
                restores
                    .update
                    .ok_or_else(|| anyhow!("the update restore did not run"))?
            } else {
                restores.main
            };
            observation.rule = restore.rule("configmaps");
            let config_map = get(client, &objects::config_maps(), Some(&namespace), name).await?;
            observation.found_at_expected = config_map.is_some();
            let written = config_map.as_ref().and_then(kubeapi::written_version);
            let value = config_map
                .as_ref()
                .and_then(|config_map| config_map.data.pointer("/data/value"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            if scenario.kind == Kind::ExistingUpdate {
                observation.restored_version = written;
                observation.checks.push(Check::new(
                    format!("data.value is the backup's {BACKED_UP_VALUE:?} (it is {value:?})"),
                    value == BACKED_UP_VALUE,
                ));
            } else {
                // Policy none writes nothing: the version is the one the restore chose.
                observation.checks.push(Check::new(
                    "the restore did not write the live object",
                    written.is_none(),
                ));
                observation.restored_version = restore.chosen_version("configmaps");
                observation.checks.push(Check::new(
                    format!("data.value is still the live {LIVE_VALUE:?} (it is {value:?})"),
                    value == LIVE_VALUE,
                ));
            }
        }
    }
    Ok(observation)
}
