//! Remaps the namespaces of RoleBinding and ClusterRoleBinding subjects under a namespace
//! mapping, so a binding keeps granting its role to the moved ServiceAccounts.

use godwit_versioning::GroupResource;
use serde_json::Value;

use super::{Item, is};
use crate::json::{get_mut, type_problem};
use crate::{Outcome, RestoreContext};

pub(crate) fn applies_to(gr: &GroupResource) -> bool {
    is(gr, "rbac.authorization.k8s.io", "rolebindings")
        || is(gr, "rbac.authorization.k8s.io", "clusterrolebindings")
}

pub(crate) fn apply(object: &mut Value, item: &Item<'_>, ctx: &RestoreContext) -> Outcome {
    if ctx.namespace_mapping.is_empty() {
        return Outcome::default();
    }
    let problem = type_problem(
        item.group_resource,
        object,
        &["subjects"],
        "an array",
        Value::is_array,
    );
    let subjects = get_mut(object, &["subjects"]).and_then(Value::as_array_mut);
    for subject in subjects.into_iter().flatten() {
        let Some(slot) = get_mut(subject, &["namespace"]) else {
            continue;
        };
        if let Some(target) = slot.as_str().and_then(|ns| ctx.namespace_mapping.get(ns)) {
            *slot = Value::String(target.clone());
        }
    }
    Outcome::warnings(problem)
}
