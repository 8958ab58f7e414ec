//! Skips pods that must not be restored: completed ones (`Succeeded` or `Failed`), which would
//! only sit there finished, and mirror pods, which the kubelet creates for static pods and the
//! API server refuses to take from anyone else.

use godwit_versioning::GroupResource;
use serde_json::Value;

use super::{Item, is};
use crate::json::get_str;
use crate::{Outcome, RestoreContext};

/// Annotation the kubelet puts on the mirror of a static pod.
const MIRROR_POD: &str = "kubernetes.io/config.mirror";

pub(crate) fn applies_to(gr: &GroupResource) -> bool {
    is(gr, "", "pods")
}

pub(crate) fn apply(_: &mut Value, item: &Item<'_>, _: &RestoreContext) -> Outcome {
    let pod = item.backed_up;
    if let Some(phase @ ("Succeeded" | "Failed")) = get_str(pod, &["status", "phase"]) {
        return Outcome::skip(format!("the pod is complete (status.phase {phase})"));
    }
    if get_str(pod, &["metadata", "annotations", MIRROR_POD]).is_some_and(|v| !v.is_empty()) {
        return Outcome::skip(format!(
            "it is the mirror pod of a static pod ({MIRROR_POD}); its node's kubelet recreates it"
        ));
    }
    Outcome::default()
}
