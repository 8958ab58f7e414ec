//! Points a PersistentVolumeClaim's `spec.volumeName` at its volume's new name when this restore
//! renamed the volume (`pv_rename`). The executor records renames in
//! [`crate::RestoreContext::renamed_pvs`] as it restores PVs, which come before PVCs.

use godwit_versioning::GroupResource;
use serde_json::Value;

use super::{Item, is};
use crate::json::{get_mut, get_str};
use crate::{Outcome, RestoreContext};

pub(crate) fn applies_to(gr: &GroupResource) -> bool {
    is(gr, "", "persistentvolumeclaims")
}

pub(crate) fn apply(object: &mut Value, _: &Item<'_>, ctx: &RestoreContext) -> Outcome {
    let new_name = get_str(object, &["spec", "volumeName"])
        .and_then(|name| ctx.renamed_pvs.get(name))
        .cloned();
    if let Some(new_name) = new_name
        && let Some(slot) = get_mut(object, &["spec", "volumeName"])
    {
        *slot = Value::String(new_name);
    }
    Outcome::default()
}
