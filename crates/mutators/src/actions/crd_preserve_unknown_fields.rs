//! Makes an `apiextensions.k8s.io/v1` CustomResourceDefinition with
//! `spec.preserveUnknownFields: true` acceptable to current API servers, which allow that field
//! only as `false` in v1: the field goes (it defaults to false), and every version's
//! `schema.openAPIV3Schema` gets `x-kubernetes-preserve-unknown-fields: true`, which keeps the
//! same behaviour. Other CRDs (and beta ones) are left alone, as in Velero.

use godwit_versioning::GroupResource;
use serde_json::Value;

use super::{Item, is};
use crate::json::{get, get_mut, get_str, object_mut};
use crate::{Outcome, RestoreContext};

pub(crate) fn applies_to(gr: &GroupResource) -> bool {
    is(gr, "apiextensions.k8s.io", "customresourcedefinitions")
}

pub(crate) fn apply(object: &mut Value, _: &Item<'_>, _: &RestoreContext) -> Outcome {
    if get_str(object, &["apiVersion"]) != Some("apiextensions.k8s.io/v1") {
        return Outcome::default();
    }
    if get(object, &["spec", "preserveUnknownFields"]).and_then(Value::as_bool) != Some(true) {
        return Outcome::default();
    }
    if let Some(spec) = object_mut(object, &["spec"]) {
        spec.remove("preserveUnknownFields");
    }
    let versions = get_mut(object, &["spec", "versions"]).and_then(Value::as_array_mut);
    for version in versions.into_iter().flatten() {
        if let Some(schema) = object_mut(version, &["schema", "openAPIV3Schema"]) {
            schema.insert(
                "x-kubernetes-preserve-unknown-fields".to_owned(),
                Value::Bool(true),
            );
        }
    }
    Outcome::default()
}
