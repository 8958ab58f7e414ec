//! Renames a PersistentVolume to `velero-clone-<uuid>` when a namespace mapping moves its claim
//! and a PV of its name already exists in the target: the restore then clones the volume instead
//! of colliding with the original (typically restoring a copy of a namespace into the same
//! cluster). The original name is kept in the `velero.io/original-pv-name` annotation.
//!
//! Velero renames only PVs it restores from a volume snapshot; SPEC section 6 states the rule
//! without that condition, and so does this action. The claim learns the new name through
//! [`crate::RestoreContext::renamed_pvs`] (see `pvc_volume_name`).

use godwit_versioning::GroupResource;
use serde_json::Value;

use super::{Item, is};
use crate::json::{describe, get_mut, get_str, object_entry};
use crate::{Outcome, Problem, RestoreContext};

/// Annotation holding the PV's name in the backup.
const ORIGINAL_PV_NAME: &str = "velero.io/original-pv-name";

pub(crate) fn applies_to(gr: &GroupResource) -> bool {
    is(gr, "", "persistentvolumes")
}

pub(crate) fn apply(object: &mut Value, item: &Item<'_>, ctx: &RestoreContext) -> Outcome {
    let claim_moves = get_str(item.backed_up, &["spec", "claimRef", "namespace"])
        .is_some_and(|namespace| ctx.namespace_mapping.contains_key(namespace));
    if !claim_moves {
        return Outcome::default();
    }
    let Some(old_name) = get_str(object, &["metadata", "name"]).map(str::to_owned) else {
        return Outcome::default();
    };
    if !ctx.existing_pv_names.contains(&old_name) {
        return Outcome::default();
    }
    let new_name = format!("velero-clone-{}", ctx.uuid_source.next_uuid());
    let mut outcome = Outcome::default();
    match object_entry(object, &["metadata", "annotations"]) {
        Some(annotations) => {
            annotations.insert(ORIGINAL_PV_NAME.to_owned(), Value::String(old_name));
        }
        None => outcome.warnings.push(Problem::UnexpectedType {
            object: describe(item.group_resource, object),
            field: "metadata.annotations".to_owned(),
            expected: "an object (velero.io/original-pv-name not recorded)",
        }),
    }
    if let Some(slot) = get_mut(object, &["metadata", "name"]) {
        *slot = Value::String(new_name);
    }
    outcome
}
