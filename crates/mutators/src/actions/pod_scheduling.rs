//! Lets the target schedule a restored pod afresh: `spec.nodeName` names a source node, and
//! `spec.priority` was resolved from the priority class by the source's admission and must
//! match the target's (the admission plugin rejects a pod whose priority disagrees). The pod's
//! priority class is restored with it.

use godwit_versioning::GroupResource;
use serde_json::Value;

use super::{Item, is};
use crate::json::{get_str, object_mut};
use crate::{AdditionalItem, Outcome, RestoreContext};

pub(crate) fn applies_to(gr: &GroupResource) -> bool {
    is(gr, "", "pods")
}

pub(crate) fn apply(object: &mut Value, _: &Item<'_>, _: &RestoreContext) -> Outcome {
    if let Some(spec) = object_mut(object, &["spec"]) {
        spec.remove("nodeName");
        spec.remove("priority");
    }
    let mut outcome = Outcome::default();
    if let Some(class) = get_str(object, &["spec", "priorityClassName"]).filter(|c| !c.is_empty()) {
        outcome.additional_items.push(AdditionalItem {
            group_resource: GroupResource::new("scheduling.k8s.io", "priorityclasses"),
            namespace: None,
            name: class.to_owned(),
        });
    }
    outcome
}
