//! The built-in restore actions, one file each, and the fixed order they run in.

use godwit_versioning::GroupResource;
use serde_json::Value;

use crate::{Outcome, RestoreContext};

pub(crate) mod binding_subjects;
pub(crate) mod crd_preserve_unknown_fields;
pub(crate) mod image_name;
pub(crate) mod job_controller_uid;
pub(crate) mod job_skip;
pub(crate) mod metadata;
pub(crate) mod namespace;
pub(crate) mod pod_claims;
pub(crate) mod pod_scheduling;
pub(crate) mod pod_skip;
pub(crate) mod pod_token_volumes;
pub(crate) mod pv_claim_ref;
pub(crate) mod pv_rename;
pub(crate) mod pvc_annotations;
pub(crate) mod pvc_selected_node;
pub(crate) mod pvc_volume_name;
pub(crate) mod restore_labels;
pub(crate) mod secret_token;
pub(crate) mod service_account_secrets;
pub(crate) mod service_cluster_ips;
pub(crate) mod service_node_ports;
pub(crate) mod storage_class;

/// What an action is told about the object besides the object itself.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    /// The object's group-resource.
    pub group_resource: &'a GroupResource,
    /// The object exactly as it is in the backup, before any action (Velero's
    /// `ItemFromBackup`): its `status` and original namespace and name are still there.
    /// `null` for an action whose [`Action::reads_backed_up`] is false.
    pub backed_up: &'a Value,
}

/// One built-in restore action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Skip pods that completed (`Succeeded`, `Failed`) and mirror pods of static pods.
    SkipFinishedPod,
    /// Skip jobs that finished (`status.completionTime` set).
    SkipFinishedJob,
    /// Remove server-set metadata (`uid`, `resourceVersion`, ...) and the whole `status`.
    ResetMetadata,
    /// Move the object into its mapped namespace.
    MapNamespace,
    /// Add `velero.io/backup-name` and `velero.io/restore-name` labels.
    AddRestoreLabels,
    /// Rename a PV to `velero-clone-<uuid>` when its claim moves namespace and its name is taken.
    RenamePv,
    /// Remap a PV's `spec.claimRef.namespace` and reset its binding information.
    ResetPvBinding,
    /// Point a PVC's `spec.volumeName` at its PV's new name.
    FollowRenamedPv,
    /// Drop a PVC's bind, provisioner and selected-node annotations; restore its bound PV too.
    DropPvcAnnotations,
    /// Map (or drop) a PVC's `volume.kubernetes.io/selected-node` annotation.
    MapSelectedNode,
    /// Map storage classes of PVs, PVCs and StatefulSet volume claim templates.
    MapStorageClass,
    /// Clear a Service's cluster IPs (not for headless Services).
    ClearServiceClusterIps,
    /// Remove a Service's automatically assigned node ports.
    RemoveServiceNodePorts,
    /// Clear a pod's node name and priority; restore its priority class too.
    ResetPodScheduling,
    /// Drop a pod's legacy service-account token volumes and their mounts.
    DropPodTokenVolumes,
    /// Restore the claims a pod mounts together with it.
    AddPodClaims,
    /// Drop a Job's controller-uid selector and template labels.
    DropJobControllerUid,
    /// Drop a ServiceAccount's reference to its auto-created token secret.
    DropServiceAccountTokenSecret,
    /// Skip auto-created service-account token Secrets; reset the others.
    ResetServiceAccountTokenSecret,
    /// Remap the namespaces of role binding and cluster role binding subjects.
    MapBindingSubjects,
    /// Move `spec.preserveUnknownFields` of a v1 CRD into its schemas.
    PreserveUnknownFields,
    /// Rewrite container images by the image name rules.
    MapImageName,
}

impl Action {
    /// The order [`crate::apply_all`] runs the actions in:
    ///
    /// 1. skip decisions first, so nothing is computed for objects that are not restored;
    /// 2. what SPEC section 5 does to every object: metadata reset, namespace mapping, restore
    ///    labels;
    /// 3. the per-resource actions; among them the PV rename before the claimRef remap (both
    ///    read the claim namespace from the backed-up object), and the PVC annotation drop
    ///    before the node mapping (which may put a mapped selected-node back);
    /// 4. the image name mapping last: it reads and writes container images only.
    pub const ORDER: [Action; 22] = [
        Action::SkipFinishedPod,
        Action::SkipFinishedJob,
        Action::ResetMetadata,
        Action::MapNamespace,
        Action::AddRestoreLabels,
        Action::RenamePv,
        Action::ResetPvBinding,
        Action::FollowRenamedPv,
        Action::DropPvcAnnotations,
        Action::MapSelectedNode,
        Action::MapStorageClass,
        Action::ClearServiceClusterIps,
        Action::RemoveServiceNodePorts,
        Action::ResetPodScheduling,
        Action::DropPodTokenVolumes,
        Action::AddPodClaims,
        Action::DropJobControllerUid,
        Action::DropServiceAccountTokenSecret,
        Action::ResetServiceAccountTokenSecret,
        Action::MapBindingSubjects,
        Action::PreserveUnknownFields,
        Action::MapImageName,
    ];

    /// A short stable name for logs and snapshots.
    pub fn name(self) -> &'static str {
        match self {
            Action::SkipFinishedPod => "pod-skip",
            Action::SkipFinishedJob => "job-skip",
            Action::ResetMetadata => "metadata",
            Action::MapNamespace => "namespace",
            Action::AddRestoreLabels => "restore-labels",
            Action::RenamePv => "pv-rename",
            Action::ResetPvBinding => "pv-claim-ref",
            Action::FollowRenamedPv => "pvc-volume-name",
            Action::DropPvcAnnotations => "pvc-annotations",
            Action::MapSelectedNode => "pvc-selected-node",
            Action::MapStorageClass => "storage-class",
            Action::ClearServiceClusterIps => "service-cluster-ips",
            Action::RemoveServiceNodePorts => "service-node-ports",
            Action::ResetPodScheduling => "pod-scheduling",
            Action::DropPodTokenVolumes => "pod-token-volumes",
            Action::AddPodClaims => "pod-claims",
            Action::DropJobControllerUid => "job-controller-uid",
            Action::DropServiceAccountTokenSecret => "service-account-secrets",
            Action::ResetServiceAccountTokenSecret => "secret-token",
            Action::MapBindingSubjects => "binding-subjects",
            Action::PreserveUnknownFields => "crd-preserve-unknown-fields",
            Action::MapImageName => "image-name",
        }
    }

    /// Whether the action may ask for other objects to be restored with the one it changes.
    pub fn asks_for_items(self) -> bool {
        matches!(
            self,
            Action::DropPvcAnnotations | Action::ResetPodScheduling | Action::AddPodClaims
        )
    }

    /// Whether the action reads [`Item::backed_up`]; the others see `null` there, so the
    /// pipeline copies an object before the actions only when one of them reads the copy.
    pub fn reads_backed_up(self) -> bool {
        matches!(
            self,
            Action::SkipFinishedPod
                | Action::SkipFinishedJob
                | Action::RenamePv
                | Action::DropPvcAnnotations
                | Action::MapSelectedNode
                | Action::AddPodClaims
        )
    }

    /// True when the action handles objects of this group-resource.
    pub fn applies_to(self, group_resource: &GroupResource) -> bool {
        let gr = group_resource;
        match self {
            Action::SkipFinishedPod => pod_skip::applies_to(gr),
            Action::SkipFinishedJob => job_skip::applies_to(gr),
            Action::ResetMetadata => metadata::applies_to(gr),
            Action::MapNamespace => namespace::applies_to(gr),
            Action::AddRestoreLabels => restore_labels::applies_to(gr),
            Action::RenamePv => pv_rename::applies_to(gr),
            Action::ResetPvBinding => pv_claim_ref::applies_to(gr),
            Action::FollowRenamedPv => pvc_volume_name::applies_to(gr),
            Action::DropPvcAnnotations => pvc_annotations::applies_to(gr),
            Action::MapSelectedNode => pvc_selected_node::applies_to(gr),
            Action::MapStorageClass => storage_class::applies_to(gr),
            Action::ClearServiceClusterIps => service_cluster_ips::applies_to(gr),
            Action::RemoveServiceNodePorts => service_node_ports::applies_to(gr),
            Action::ResetPodScheduling => pod_scheduling::applies_to(gr),
            Action::DropPodTokenVolumes => pod_token_volumes::applies_to(gr),
            Action::AddPodClaims => pod_claims::applies_to(gr),
            Action::DropJobControllerUid => job_controller_uid::applies_to(gr),
            Action::DropServiceAccountTokenSecret => service_account_secrets::applies_to(gr),
            Action::ResetServiceAccountTokenSecret => secret_token::applies_to(gr),
            Action::MapBindingSubjects => binding_subjects::applies_to(gr),
            Action::PreserveUnknownFields => crd_preserve_unknown_fields::applies_to(gr),
            Action::MapImageName => image_name::applies_to(gr),
        }
    }

    /// Runs the action on `object`. Call it only when [`Action::applies_to`] holds; on other
    /// objects it may still change fields of the same name.
    pub fn apply(self, object: &mut Value, item: &Item<'_>, ctx: &RestoreContext) -> Outcome {
        match self {
            Action::SkipFinishedPod => pod_skip::apply(object, item, ctx),
            Action::SkipFinishedJob => job_skip::apply(object, item, ctx),
            Action::ResetMetadata => metadata::apply(object, item, ctx),
            Action::MapNamespace => namespace::apply(object, item, ctx),
            Action::AddRestoreLabels => restore_labels::apply(object, item, ctx),
            Action::RenamePv => pv_rename::apply(object, item, ctx),
            Action::ResetPvBinding => pv_claim_ref::apply(object, item, ctx),
            Action::FollowRenamedPv => pvc_volume_name::apply(object, item, ctx),
            Action::DropPvcAnnotations => pvc_annotations::apply(object, item, ctx),
            Action::MapSelectedNode => pvc_selected_node::apply(object, item, ctx),
            Action::MapStorageClass => storage_class::apply(object, item, ctx),
            Action::ClearServiceClusterIps => service_cluster_ips::apply(object, item, ctx),
            Action::RemoveServiceNodePorts => service_node_ports::apply(object, item, ctx),
            Action::ResetPodScheduling => pod_scheduling::apply(object, item, ctx),
            Action::DropPodTokenVolumes => pod_token_volumes::apply(object, item, ctx),
            Action::AddPodClaims => pod_claims::apply(object, item, ctx),
            Action::DropJobControllerUid => job_controller_uid::apply(object, item, ctx),
            Action::DropServiceAccountTokenSecret => {
                service_account_secrets::apply(object, item, ctx)
            }
            Action::ResetServiceAccountTokenSecret => secret_token::apply(object, item, ctx),
            Action::MapBindingSubjects => binding_subjects::apply(object, item, ctx),
            Action::PreserveUnknownFields => crd_preserve_unknown_fields::apply(object, item, ctx),
            Action::MapImageName => image_name::apply(object, item, ctx),
        }
    }
}

/// Group-resource matchers shared by the actions.
pub(crate) fn is(group_resource: &GroupResource, group: &str, resource: &str) -> bool {
    group_resource.group == group && group_resource.resource == resource
}

#[cfg(test)]
mod tests;
