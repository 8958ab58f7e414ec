//! Removes what the source's API server set on the object (SPEC section 5, item 5): the target
//! sets its own, and a stale `resourceVersion` or `uid` makes the create fail.

use godwit_versioning::GroupResource;
use serde_json::Value;

use super::Item;
use crate::json::type_problem;
use crate::{Outcome, RestoreContext};

/// Metadata fields removed before create.
const SERVER_SET_FIELDS: [&str; 9] = [
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
    "generateName",
    // Owners are not restored under the same uid; their controllers adopt the object again.
    "ownerReferences",
];

pub(crate) fn applies_to(_: &GroupResource) -> bool {
    true
}

pub(crate) fn apply(object: &mut Value, item: &Item<'_>, _: &RestoreContext) -> Outcome {
    let problem = type_problem(
        item.group_resource,
        object,
        &["metadata"],
        "an object",
        Value::is_object,
    );
    let Some(fields) = object.as_object_mut() else {
        return Outcome::default();
    };
    if let Some(metadata) = fields.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in SERVER_SET_FIELDS {
            metadata.remove(key);
        }
    }
    fields.remove("status");
    Outcome::warnings(problem)
}
