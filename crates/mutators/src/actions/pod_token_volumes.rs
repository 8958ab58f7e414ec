//! Drops a pod's legacy service-account token volumes (`<serviceAccountName>-token-<suffix>`,
//! secret volumes of the token Secret) and their mounts in containers and init containers: the
//! token Secret of the source does not exist in the target, and the target's admission mounts a
//! fresh token.
//!
//! As in Velero, only volumes named after the service account's token Secret go; the projected
//! `kube-api-access-<suffix>` volume of current clusters names no Secret and is restored as is.

use godwit_versioning::GroupResource;
use serde_json::Value;

use super::{Item, is};
use crate::json::{get_mut, get_str};
use crate::{Outcome, RestoreContext};

pub(crate) fn applies_to(gr: &GroupResource) -> bool {
    is(gr, "", "pods")
}

pub(crate) fn apply(object: &mut Value, _: &Item<'_>, _: &RestoreContext) -> Outcome {
    // Velero builds the prefix from serviceAccountName alone, so a pod without one drops
    // volumes named `-token-...`.
    let service_account = get_str(object, &["spec", "serviceAccountName"]).unwrap_or("");
    let prefix = format!("{service_account}-token-");
    let is_token = |entry: &Value| {
        entry
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|name| name.starts_with(&prefix))
    };
    if let Some(volumes) = get_mut(object, &["spec", "volumes"]).and_then(Value::as_array_mut) {
        volumes.retain(|volume| !is_token(volume));
    }
    for list in ["containers", "initContainers"] {
        let containers = get_mut(object, &["spec", list]).and_then(Value::as_array_mut);
        for container in containers.into_iter().flatten() {
            let mounts = get_mut(container, &["volumeMounts"]).and_then(Value::as_array_mut);
            if let Some(mounts) = mounts {
                mounts.retain(|mount| !is_token(mount));
            }
        }
    }
    Outcome::default()
}
