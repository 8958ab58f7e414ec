//! Drops the annotations that tie a PersistentVolumeClaim to the source cluster's binding and
//! provisioning (SPEC section 6), plus the two Velero's own data movers leave behind, and asks
//! for the claim's volume to be restored with it when the claim was bound.
//!
//! `volume.kubernetes.io/selected-node` is dropped here as SPEC lists it; the node mapping runs
//! after this and puts it back, mapped, when the velero.io/change-pvc-node-selector ConfigMap
//! names a new node for it.

use godwit_versioning::GroupResource;
use serde_json::Value;

use super::{Item, is};
use crate::json::{get_str, object_mut};
use crate::{AdditionalItem, Outcome, RestoreContext};

/// Annotations removed from every restored claim.
const DROPPED: [&str; 7] = [
    "pv.kubernetes.io/bind-completed",
    "pv.kubernetes.io/bound-by-controller",
    "volume.kubernetes.io/storage-provisioner",
    "volume.beta.kubernetes.io/storage-provisioner",
    // The scheduler's choice in the source; the node may not exist in the target.
    "volume.kubernetes.io/selected-node",
    // Left by Velero's CSI snapshot and data mover paths in the backup.
    "velero.io/volume-snapshot-name",
    "velero.io/data-upload-name",
];

pub(crate) fn applies_to(gr: &GroupResource) -> bool {
    is(gr, "", "persistentvolumeclaims")
}

pub(crate) fn apply(object: &mut Value, item: &Item<'_>, _: &RestoreContext) -> Outcome {
    if let Some(annotations) = object_mut(object, &["metadata", "annotations"]) {
        for key in DROPPED {
            annotations.remove(key);
        }
    }
    let mut outcome = Outcome::default();
    // The status is gone from `object` by now; the backed-up claim still has it.
    let bound = get_str(item.backed_up, &["status", "phase"]) == Some("Bound");
    let volume_name = get_str(item.backed_up, &["spec", "volumeName"]).unwrap_or("");
    if bound && !volume_name.is_empty() {
        outcome.additional_items.push(AdditionalItem {
            group_resource: GroupResource::new("", "persistentvolumes"),
            namespace: None,
            name: volume_name.to_owned(),
        });
    }
    outcome
}
