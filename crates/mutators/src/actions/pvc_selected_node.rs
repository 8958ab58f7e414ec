//! Maps a PersistentVolumeClaim's `volume.kubernetes.io/selected-node` annotation through the
//! velero.io/change-pvc-node-selector ConfigMap, as Velero's PVC action does: a mapped node
//! replaces the old one (with a warning when the target lacks it, as Velero warns); an unmapped
//! node that the target lacks is removed; an unmapped node the target has is left alone.
//!
//! It reads the node from the backed-up claim, so it still works after `pvc_annotations` has
//! dropped the annotation, which [`crate::Action::ORDER`] runs first: in a full restore the
//! annotation survives only when a mapping names its new node.

use godwit_versioning::GroupResource;
use serde_json::Value;

use super::{Item, is};
use crate::json::{describe, get_str, object_entry, object_mut};
use crate::{Outcome, Problem, RestoreContext};

/// The annotation the scheduler sets for a `WaitForFirstConsumer` claim.
const SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";

pub(crate) fn applies_to(gr: &GroupResource) -> bool {
    is(gr, "", "persistentvolumeclaims")
}

pub(crate) fn apply(object: &mut Value, item: &Item<'_>, ctx: &RestoreContext) -> Outcome {
    let Some(node) = get_str(item.backed_up, &["metadata", "annotations", SELECTED_NODE]) else {
        return Outcome::default();
    };
    let mut outcome = Outcome::default();
    match ctx.node_mapping.get(node) {
        Some(new_node) => {
            if !ctx.nodes.contains(new_node) {
                outcome.warnings.push(Problem::MissingMappedNode {
                    object: describe(item.group_resource, object),
                    from: node.to_owned(),
                    to: new_node.to_owned(),
                });
            }
            match object_entry(object, &["metadata", "annotations"]) {
                Some(annotations) => {
                    annotations
                        .insert(SELECTED_NODE.to_owned(), Value::String(new_node.to_owned()));
                }
                None => outcome.warnings.push(Problem::UnexpectedType {
                    object: describe(item.group_resource, object),
                    field: "metadata.annotations".to_owned(),
                    expected: "an object",
                }),
            }
        }
        None if !ctx.nodes.contains(node) => {
            if let Some(annotations) = object_mut(object, &["metadata", "annotations"]) {
                annotations.remove(SELECTED_NODE);
            }
        }
        None => {}
    }
    outcome
}
