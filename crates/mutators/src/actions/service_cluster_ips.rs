//! Clears a Service's `clusterIP` and `clusterIPs` so the target allocates addresses from its own
//! service range. Headless Services (`clusterIP: None`) keep them: `None` is what makes them
//! headless.

use godwit_versioning::GroupResource;
use serde_json::Value;

use super::{Item, is};
use crate::json::{get_str, object_mut};
use crate::{Outcome, RestoreContext};

pub(crate) fn applies_to(gr: &GroupResource) -> bool {
    is(gr, "", "services")
}

pub(crate) fn apply(object: &mut Value, _: &Item<'_>, _: &RestoreContext) -> Outcome {
    if get_str(object, &["spec", "clusterIP"]) == Some("None") {
        return Outcome::default();
    }
    if let Some(spec) = object_mut(object, &["spec"]) {
        spec.remove("clusterIP");
        spec.remove("clusterIPs");
    }
    Outcome::default()
}
