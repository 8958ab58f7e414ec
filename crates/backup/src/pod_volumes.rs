//! Which pod volumes Velero's file-system backup (its Kopia or Restic "pod volume backup") would
//! take from a backup's pods, and why it would leave each other volume out, decided from the
//! pods' JSON by Velero's rules. godwit moves no volume data: this only reports Velero's choice,
//! for `backup describe --details`.
//!
//! Velero's rules, and where they live in Velero:
//! - `internal/volumehelper/volume_policy_helper.go` `shouldIncludeVolumeInBackup`, in both
//!   modes: hostPath, secret, configMap, projected and downwardAPI volumes are never taken; nor
//!   claims when the backup's resource filter excludes persistentvolumeclaims; nor volumes whose
//!   name starts with `default-token` (the old service-account token secret). The newer token
//!   volumes (`kube-api-access-*`) are projected volumes.
//! - `shouldPerformFSBackupLegacy` with `pkg/util/podvolume/pod_volume.go`: opt-in mode takes
//!   the volumes named in `backup.velero.io/backup-volumes`; opt-out mode
//!   (`defaultVolumesToFsBackup`) takes every volume not named in
//!   `backup.velero.io/backup-volumes-excludes` and ignores the opt-in annotation. Both lists are
//!   split on `,` with no trimming, so `a, b` names `a` and ` b`.
//! - `pkg/backup/item_backupper.go`: a claim already backed up through an earlier pod is not
//!   taken again.
//! - `pkg/podvolume/backupper.go` `BackupPodVolumes`: nothing is taken from a pod that is not
//!   running (`kube.IsPodRunning`: no node, phase other than Running, or being deleted); a claim
//!   bound to a hostPath persistent volume, a block volume (in a container's `volumeDevices`)
//!   and a volume no container mounts (init containers do not count) are skipped.
//!
//! Not evaluated: volume policies (`spec.resourcePolicy`), which can turn a volume to a snapshot
//! or a skip; the caller says so.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use godwit_tarball::{Limits, StreamedObject, VersionDir};
use serde::Serialize;
use serde_json::Value;

use crate::Error;

/// The pod annotation listing the volumes to back up in opt-in mode.
pub const VOLUMES_TO_BACKUP_ANNOTATION: &str = "backup.velero.io/backup-volumes";
/// The pod annotation listing the volumes to leave out in opt-out mode.
pub const VOLUMES_TO_EXCLUDE_ANNOTATION: &str = "backup.velero.io/backup-volumes-excludes";

/// What decides the selection besides the pod itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rules {
    /// Opt-out mode: every volume unless excluded (the Backup's `defaultVolumesToFsBackup`, or
    /// Velero's server flag `--default-volumes-to-fs-backup` when the spec leaves it unset).
    pub default_volumes_to_fs_backup: bool,
    /// The backup's resource filter leaves persistentvolumeclaims out, so claims are not taken.
    pub claims_excluded: bool,
}

/// Why a volume is, or is not, taken: one variant per Velero rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "camelCase")]
pub enum Reason {
    /// Taken: named in `backup.velero.io/backup-volumes` (opt-in mode).
    OptedIn,
    /// Taken: opt-out mode, and not named in `backup.velero.io/backup-volumes-excludes`.
    DefaultVolumesToFsBackup,
    /// A hostPath volume: not under `/var/lib/kubelet/pods`, so Velero's node agent cannot read it.
    HostPath,
    /// A secret volume: the Secret is backed up as an object.
    Secret,
    /// A configMap volume: the ConfigMap is backed up as an object.
    ConfigMap,
    /// A projected volume (such as the `kube-api-access-*` service-account token): its data
    /// comes from cluster objects.
    Projected,
    /// A downwardAPI volume: its data comes from the pod itself.
    DownwardApi,
    /// A claim, and the backup's resource filter excludes persistentvolumeclaims.
    ClaimsExcluded,
    /// Its name starts with `default-token`: the old service-account token volume.
    DefaultToken,
    /// Opt-in mode, and `backup.velero.io/backup-volumes` does not name it.
    NotOptedIn,
    /// Opt-out mode, and `backup.velero.io/backup-volumes-excludes` names it.
    OptedOut,
    /// A block volume (in a container's `volumeDevices`): file-system backup cannot read it.
    BlockVolume,
    /// No container mounts it, so the kubelet made no directory to read.
    NotMounted,
    /// Its claim is bound to a hostPath persistent volume, which the node agent cannot read.
    ClaimOnHostPath {
        /// The persistent volume.
        persistent_volume: String,
    },
    /// Its claim is already backed up through an earlier pod (`namespace/name`).
    ClaimAlreadyTaken {
        /// The earlier pod.
        pod: String,
    },
}

impl Reason {
    /// True when Velero's rules take the volume.
    pub fn selects(&self) -> bool {
        matches!(self, Reason::OptedIn | Reason::DefaultVolumesToFsBackup)
    }

    /// True when the volume got past the opt-in/opt-out choice, so the later checks (hostPath
    /// claim, claim taken) may still leave it out.
    fn passed_choice(&self) -> bool {
        self.selects() || matches!(self, Reason::BlockVolume | Reason::NotMounted)
    }

    /// The rule, as a person reads it.
    pub fn text(&self) -> String {
        match self {
            Reason::OptedIn => format!("opt-in: named in the {VOLUMES_TO_BACKUP_ANNOTATION} annotation"),
            Reason::DefaultVolumesToFsBackup => format!(
                "opt-out (defaultVolumesToFsBackup): not named in the {VOLUMES_TO_EXCLUDE_ANNOTATION} annotation"
            ),
            Reason::HostPath => {
                "hostPath volume: Velero's node agent cannot read it (not under /var/lib/kubelet/pods)"
                    .to_owned()
            }
            Reason::Secret => "secret volume: Velero backs up the Secret as an object instead".to_owned(),
            Reason::ConfigMap => {
                "configMap volume: Velero backs up the ConfigMap as an object instead".to_owned()
            }
            Reason::Projected => {
                "projected volume (such as the kube-api-access-* service-account token): its data comes from cluster objects"
                    .to_owned()
            }
            Reason::DownwardApi => {
                "downwardAPI volume: its data comes from the pod itself".to_owned()
            }
            Reason::ClaimsExcluded => {
                "persistentVolumeClaim volume, and the backup excludes persistentvolumeclaims".to_owned()
            }
            Reason::DefaultToken => {
                "service-account token volume (its name starts with default-token)".to_owned()
            }
            Reason::NotOptedIn => {
                format!("opt-in: not named in the {VOLUMES_TO_BACKUP_ANNOTATION} annotation")
            }
            Reason::OptedOut => {
                format!("opt-out: named in the {VOLUMES_TO_EXCLUDE_ANNOTATION} annotation")
            }
            Reason::BlockVolume => {
                "block volume (a container's volumeDevices): file-system backup cannot read it".to_owned()
            }
            Reason::NotMounted => {
                "no container mounts it (init containers do not count)".to_owned()
            }
            Reason::ClaimOnHostPath { persistent_volume } => format!(
                "its claim is bound to hostPath persistent volume {persistent_volume}, which Velero's node agent cannot read"
            ),
            Reason::ClaimAlreadyTaken { pod } => {
                format!("its claim is already backed up through pod {pod}")
            }
        }
    }
}

/// One volume of a pod and Velero's verdict on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeChoice {
    /// The volume's name in `spec.volumes`.
    pub name: String,
    /// The claim, for a persistentVolumeClaim volume.
    pub claim: Option<String>,
    /// Why it is or is not taken.
    pub reason: Reason,
}

impl VolumeChoice {
    /// True when Velero's rules take the volume.
    pub fn selected(&self) -> bool {
        self.reason.selects()
    }
}

/// Velero's verdict on every volume of one pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodVolumes {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name.
    pub name: String,
    /// Its volumes, in `spec.volumes` order.
    pub volumes: Vec<VolumeChoice>,
    /// Names the governing annotation lists that match no volume (Velero ignores them), exactly
    /// as written, spaces included.
    pub unmatched: Vec<String>,
    /// Why Velero would take nothing from this pod although volumes are selected: it was not
    /// running when backed up.
    pub not_running: Option<String>,
}

impl PodVolumes {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

fn annotation_list<'a>(pod: &'a Value, annotation: &str) -> Option<Vec<&'a str>> {
    let value = pod
        .get("metadata")?
        .get("annotations")?
        .get(annotation)?
        .as_str()?;
    // Velero splits on ',' and compares exactly; an empty value names nothing.
    (!value.is_empty()).then(|| value.split(',').collect())
}

/// The container-level names of one kind (`volumeMounts` or `volumeDevices`); Velero looks at
/// `spec.containers` only.
fn container_refs<'a>(pod: &'a Value, field: &str) -> BTreeSet<&'a str> {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|container| container.get(field)?.as_array())
        .flatten()
        .filter_map(|entry| entry.get("name")?.as_str())
        .collect()
}

/// Velero's `kube.IsPodRunning`, as a reason when it fails.
fn not_running(pod: &Value) -> Option<String> {
    let phase = str_at(pod, "/status/phase").unwrap_or("");
    if str_at(pod, "/spec/nodeName").is_none_or(str::is_empty) {
        return Some("the pod was not scheduled to a node".to_owned());
    }
    if phase != "Running" {
        let phase = if phase.is_empty() { "<none>" } else { phase };
        return Some(format!("the pod was not running (phase {phase})"));
    }
    if pod
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null())
    {
        return Some("the pod was being deleted".to_owned());
    }
    None
}

/// The exception that keeps a volume out in either mode, in Velero's order.
fn exception(volume: &Value, name: &str, rules: &Rules) -> Option<Reason> {
    let has = |source: &str| volume.get(source).is_some_and(|v| !v.is_null());
    if has("hostPath") {
        Some(Reason::HostPath)
    } else if has("secret") {
        Some(Reason::Secret)
    } else if has("configMap") {
        Some(Reason::ConfigMap)
    } else if has("projected") {
        Some(Reason::Projected)
    } else if has("downwardAPI") {
        Some(Reason::DownwardApi)
    } else if has("persistentVolumeClaim") && rules.claims_excluded {
        Some(Reason::ClaimsExcluded)
    } else if name.starts_with("default-token") {
        Some(Reason::DefaultToken)
    } else {
        None
    }
}

/// Velero's verdict on each volume of one pod. The rules that need other objects (a claim bound
/// to a hostPath volume, a claim taken through another pod) are applied by [`Collector`].
pub fn pod_volumes(pod: &Value, rules: &Rules) -> PodVolumes {
    let namespace = str_at(pod, "/metadata/namespace").unwrap_or("").to_owned();
    let name = str_at(pod, "/metadata/name").unwrap_or("").to_owned();
    let annotation = if rules.default_volumes_to_fs_backup {
        VOLUMES_TO_EXCLUDE_ANNOTATION
    } else {
        VOLUMES_TO_BACKUP_ANNOTATION
    };
    let listed = annotation_list(pod, annotation).unwrap_or_default();
    let mounted = container_refs(pod, "volumeMounts");
    let devices = container_refs(pod, "volumeDevices");
    let declared: Vec<&Value> = pod
        .pointer("/spec/volumes")
        .and_then(Value::as_array)
        .map(|v| v.iter().collect())
        .unwrap_or_default();

    let mut volumes = Vec::with_capacity(declared.len());
    for volume in &declared {
        let Some(volume_name) = volume.get("name").and_then(Value::as_str) else {
            continue;
        };
        let is_listed = listed.contains(&volume_name);
        let reason = match exception(volume, volume_name, rules) {
            Some(reason) => reason,
            None if rules.default_volumes_to_fs_backup && is_listed => Reason::OptedOut,
            None if rules.default_volumes_to_fs_backup => Reason::DefaultVolumesToFsBackup,
            None if is_listed => Reason::OptedIn,
            None => Reason::NotOptedIn,
        };
        let reason = if !reason.selects() {
            reason
        } else if devices.contains(volume_name) {
            Reason::BlockVolume
        } else if !mounted.contains(volume_name) {
            Reason::NotMounted
        } else {
            reason
        };
        volumes.push(VolumeChoice {
            name: volume_name.to_owned(),
            claim: str_at(volume, "/persistentVolumeClaim/claimName").map(str::to_owned),
            reason,
        });
    }
    let names: BTreeSet<&str> = volumes.iter().map(|v| v.name.as_str()).collect();
    let mut unmatched: Vec<String> = Vec::new();
    for entry in listed {
        // Empty entries (`a,,b`, a trailing comma) name nothing anyone meant.
        if !entry.is_empty() && !names.contains(entry) && !unmatched.iter().any(|u| u == entry) {
            unmatched.push(entry.to_owned());
        }
    }
    PodVolumes {
        namespace,
        name,
        volumes,
        unmatched,
        not_running: not_running(pod),
    }
}

/// Whether a backup's resource filter leaves persistentvolumeclaims out, from the names written
/// in the spec (`includedResources`/`excludedResources` and their namespace-scoped forms): the
/// names kubectl and Velero resolve to core persistentvolumeclaims, or `*`.
pub fn claims_excluded(included: &[String], excluded: &[String]) -> bool {
    const NAMES: [&str; 4] = [
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        "pvc",
        "persistentvolumeclaims.",
    ];
    let names_claims = |list: &[String]| {
        list.iter()
            .any(|entry| NAMES.contains(&entry.trim().to_ascii_lowercase().as_str()))
    };
    let included_all = included.is_empty() || included.iter().any(|e| e.trim() == "*");
    names_claims(excluded) || !(included_all || names_claims(included))
}

/// Velero's verdict on the volumes of every pod of one backup.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodVolumeReport {
    /// The rules applied.
    pub rules: Rules,
    /// Every pod with at least one volume, by namespace and name.
    pub pods: Vec<PodVolumes>,
}

impl PodVolumeReport {
    /// Each pod with the names of the volumes the rules select; Velero takes none of them from a
    /// pod that was not running ([`PodVolumes::not_running`]).
    pub fn selected(&self) -> impl Iterator<Item = (&PodVolumes, Vec<&str>)> {
        self.pods.iter().filter_map(|pod| {
            let names: Vec<&str> = pod
                .volumes
                .iter()
                .filter(|v| v.selected())
                .map(|v| v.name.as_str())
                .collect();
            (!names.is_empty()).then_some((pod, names))
        })
    }
}

/// Gathers pods, claims and persistent volumes one object at a time, keeping only what the
/// rules need (never whole objects), and applies the rules that span objects at the end.
#[derive(Debug, Default)]
pub struct Collector {
    rules: Rules,
    pods: BTreeMap<(String, String), PodVolumes>,
    /// `(namespace, claim)` → the persistent volume it is bound to.
    claim_volumes: BTreeMap<(String, String), String>,
    /// Persistent volumes with a hostPath source.
    host_path_volumes: BTreeSet<String>,
}

impl Collector {
    /// An empty collector for these rules.
    pub fn new(rules: Rules) -> Self {
        Collector {
            rules,
            ..Collector::default()
        }
    }

    /// Adds one pod.
    pub fn add_pod(&mut self, pod: &Value) {
        let volumes = pod_volumes(pod, &self.rules);
        if !volumes.volumes.is_empty() {
            let key = (volumes.namespace.clone(), volumes.name.clone());
            self.pods.entry(key).or_insert(volumes);
        }
    }

    /// Adds one persistentvolumeclaim (for the persistent volume it is bound to).
    pub fn add_claim(&mut self, claim: &Value) {
        let namespace = str_at(claim, "/metadata/namespace").unwrap_or("");
        let name = str_at(claim, "/metadata/name").unwrap_or("");
        if let Some(volume) = str_at(claim, "/spec/volumeName").filter(|v| !v.is_empty()) {
            self.claim_volumes
                .insert((namespace.to_owned(), name.to_owned()), volume.to_owned());
        }
    }

    /// Adds one persistentvolume (only whether it is a hostPath volume matters).
    pub fn add_persistent_volume(&mut self, volume: &Value) {
        if volume
            .pointer("/spec/hostPath")
            .is_some_and(|v| !v.is_null())
            && let Some(name) = str_at(volume, "/metadata/name")
        {
            self.host_path_volumes.insert(name.to_owned());
        }
    }

    /// Applies the rules that span objects and returns the report, pods by namespace and name
    /// (the order the API server lists them in, so the order Velero backs them up in).
    pub fn finish(self) -> PodVolumeReport {
        let Collector {
            rules,
            pods,
            claim_volumes,
            host_path_volumes,
        } = self;
        let mut taken: BTreeMap<(String, String), String> = BTreeMap::new();
        let mut report = Vec::with_capacity(pods.len());
        for (_, mut pod) in pods {
            let pod_key = pod.key();
            for volume in &mut pod.volumes {
                let Some(claim) = volume.claim.clone() else {
                    continue;
                };
                if !volume.reason.passed_choice() {
                    continue;
                }
                let claim_key = (pod.namespace.clone(), claim);
                if let Some(earlier) = taken.get(&claim_key) {
                    volume.reason = Reason::ClaimAlreadyTaken {
                        pod: earlier.clone(),
                    };
                    continue;
                }
                if let Some(pv) = claim_volumes
                    .get(&claim_key)
                    .filter(|pv| host_path_volumes.contains(*pv))
                {
                    volume.reason = Reason::ClaimOnHostPath {
                        persistent_volume: pv.clone(),
                    };
                    continue;
                }
                if volume.selected() && pod.not_running.is_none() {
                    taken.insert(claim_key, pod_key.clone());
                }
            }
            report.push(pod);
        }
        PodVolumeReport {
            rules,
            pods: report,
        }
    }
}

/// Streams a gzip-compressed backup tarball and reports Velero's verdict on its pods' volumes.
/// Only pods, claims and persistent volumes are parsed, one entry at a time; the legacy and
/// preferred-version copies are read, every other version folder skipped.
pub fn read_pod_volumes<R: Read>(
    tarball: R,
    limits: &Limits,
    rules: Rules,
) -> Result<PodVolumeReport, Error> {
    let mut collector = Collector::new(rules);
    godwit_tarball::for_each_object(tarball, limits, |object: StreamedObject<'_>| {
        let copy_of_preferred = match object.dir {
            VersionDir::Legacy => true,
            VersionDir::Version { preferred, .. } => *preferred,
        };
        if !object.group_resource.is_core() || !copy_of_preferred {
            return;
        }
        let add: fn(&mut Collector, &Value) = match object.group_resource.resource.as_str() {
            "pods" => Collector::add_pod,
            "persistentvolumeclaims" => Collector::add_claim,
            "persistentvolumes" => Collector::add_persistent_volume,
            _ => return,
        };
        // The reader has checked the bytes are one JSON object.
        if let Ok(value) = serde_json::from_slice::<Value>(object.json) {
            add(&mut collector, &value);
        }
    })
    .map_err(Error::ReadTarball)?;
    Ok(collector.finish())
}

#[cfg(test)]
mod tests;
