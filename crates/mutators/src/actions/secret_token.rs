//! Handles Secrets of type `kubernetes.io/service-account-token` as Velero does. One that a
//! ServiceAccount of the target namespace auto-created (named `<serviceAccount>-token-<suffix>`)
//! is skipped: the token controller makes its own, and deletes a restored copy at once. Any
//! other is restored without the account uid and the token data, which the token controller
//! fills in for the target.
//!
//! The ServiceAccounts are looked up in the Secret's target namespace (after the namespace
//! mapping) in [`crate::RestoreContext::service_accounts`].

use godwit_versioning::GroupResource;
use serde_json::Value;

use super::{Item, is};
use crate::json::{get_str, object_mut};
use crate::{Outcome, RestoreContext};

const SERVICE_ACCOUNT_TOKEN: &str = "kubernetes.io/service-account-token";

pub(crate) fn applies_to(gr: &GroupResource) -> bool {
    is(gr, "", "secrets")
}

pub(crate) fn apply(object: &mut Value, _: &Item<'_>, ctx: &RestoreContext) -> Outcome {
    if get_str(object, &["type"]) != Some(SERVICE_ACCOUNT_TOKEN) {
        return Outcome::default();
    }
    let name = get_str(object, &["metadata", "name"]).unwrap_or("");
    let namespace = get_str(object, &["metadata", "namespace"]).unwrap_or("");
    let owner = ctx
        .service_accounts
        .get(namespace)
        .into_iter()
        .flatten()
        .find(|account| name.starts_with(&format!("{account}-token-")));
    if let Some(account) = owner {
        return Outcome::skip(format!(
            "it is the token Secret auto-created for ServiceAccount {namespace}/{account}; the \
             target's token controller creates its own"
        ));
    }
    if let Some(annotations) = object_mut(object, &["metadata", "annotations"]) {
        annotations.remove("kubernetes.io/service-account.uid");
    }
    if let Some(data) = object_mut(object, &["data"]) {
        data.remove("token");
        data.remove("ca.crt");
    }
    Outcome::default()
}
