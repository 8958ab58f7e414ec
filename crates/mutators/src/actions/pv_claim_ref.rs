//! Resets a PersistentVolume's binding so the target's PV controller binds it again to the
//! restored claim: the claim namespace follows the namespace mapping, and the claim's `uid` and
//! `resourceVersion` (which the restored claim will not have) and the bind annotations go.

use godwit_versioning::GroupResource;
use serde_json::Value;

use super::{Item, is};
use crate::json::{get_mut, get_str, object_mut, type_problem};
use crate::{Outcome, RestoreContext};

/// Annotations the PV controller uses to track a binding it made.
const BIND_ANNOTATIONS: [&str; 2] = [
    "pv.kubernetes.io/bind-completed",
    "pv.kubernetes.io/bound-by-controller",
];

pub(crate) fn applies_to(gr: &GroupResource) -> bool {
    is(gr, "", "persistentvolumes")
}

pub(crate) fn apply(object: &mut Value, item: &Item<'_>, ctx: &RestoreContext) -> Outcome {
    let problem = type_problem(
        item.group_resource,
        object,
        &["spec", "claimRef"],
        "an object",
        Value::is_object,
    );
    let target = get_str(object, &["spec", "claimRef", "namespace"])
        .and_then(|namespace| ctx.namespace_mapping.get(namespace))
        .cloned();
    if let Some(target) = target
        && let Some(slot) = get_mut(object, &["spec", "claimRef", "namespace"])
    {
        *slot = Value::String(target);
    }
    if let Some(claim_ref) = object_mut(object, &["spec", "claimRef"]) {
        claim_ref.remove("uid");
        claim_ref.remove("resourceVersion");
    }
    if let Some(annotations) = object_mut(object, &["metadata", "annotations"]) {
        for key in BIND_ANNOTATIONS {
            annotations.remove(key);
        }
    }
    Outcome::warnings(problem)
}
