//! Drops the controller-uid label from a Job's selector and pod template: it names the source
//! Job's uid, and the target's Job controller sets its own (the API server rejects a Job whose
//! generated selector disagrees with its labels).

use godwit_versioning::GroupResource;
use serde_json::Value;

use super::{Item, is};
use crate::json::object_mut;
use crate::{Outcome, RestoreContext};

/// The label since Kubernetes 1.27, and the one before it (still set for compatibility).
const CONTROLLER_UID_LABELS: [&str; 2] = ["batch.kubernetes.io/controller-uid", "controller-uid"];

pub(crate) fn applies_to(gr: &GroupResource) -> bool {
    is(gr, "batch", "jobs")
}

pub(crate) fn apply(object: &mut Value, _: &Item<'_>, _: &RestoreContext) -> Outcome {
    for path in [
        ["spec", "selector", "matchLabels"].as_slice(),
        ["spec", "template", "metadata", "labels"].as_slice(),
    ] {
        if let Some(labels) = object_mut(object, path) {
            for key in CONTROLLER_UID_LABELS {
                labels.remove(key);
            }
        }
    }
    Outcome::default()
}
