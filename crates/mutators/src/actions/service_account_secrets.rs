//! Drops a ServiceAccount's reference to its auto-created token Secret
//! (`<serviceAccount>-token-<suffix>`): the token controller of a cluster before 1.24 makes a
//! new one for the restored account, and the old one would hold a token for the wrong cluster.
//!
//! Velero removes only the last matching reference (clusters hold one per account); so does
//! this action.

use godwit_versioning::GroupResource;
use serde_json::Value;

use super::{Item, is};
use crate::json::{get_mut, get_str};
use crate::{Outcome, RestoreContext};

pub(crate) fn applies_to(gr: &GroupResource) -> bool {
    is(gr, "", "serviceaccounts")
}

pub(crate) fn apply(object: &mut Value, _: &Item<'_>, _: &RestoreContext) -> Outcome {
    let Some(name) = get_str(object, &["metadata", "name"]) else {
        return Outcome::default();
    };
    let prefix = format!("{name}-token-");
    let Some(secrets) = get_mut(object, &["secrets"]).and_then(Value::as_array_mut) else {
        return Outcome::default();
    };
    let last_token = secrets.iter().rposition(|secret| {
        secret
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|secret| secret.starts_with(&prefix))
    });
    if let Some(index) = last_token {
        secrets.remove(index);
    }
    Outcome::default()
}
