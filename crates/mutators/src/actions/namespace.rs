//! Moves a namespaced object into the namespace `--namespace-mappings` maps its namespace to.
//! References to namespaces inside objects (PV claims, binding subjects) have their own actions.

use godwit_versioning::GroupResource;
use serde_json::Value;

use super::Item;
use crate::json::{get_mut, get_str};
use crate::{Outcome, RestoreContext};

pub(crate) fn applies_to(_: &GroupResource) -> bool {
    true
}

pub(crate) fn apply(object: &mut Value, _: &Item<'_>, ctx: &RestoreContext) -> Outcome {
    let Some(target) = get_str(object, &["metadata", "namespace"])
        .and_then(|namespace| ctx.namespace_mapping.get(namespace))
        .cloned()
    else {
        return Outcome::default();
    };
    if let Some(slot) = get_mut(object, &["metadata", "namespace"]) {
        *slot = Value::String(target);
    }
    Outcome::default()
}
