//! Asks for the PersistentVolumeClaims a pod mounts to be restored with it (Velero's
//! add-pvc-from-pod action), so a pod restored on its own, by a label selector say, does not
//! wait forever for its claims.

use godwit_versioning::GroupResource;
use serde_json::Value;

use super::{Item, is};
use crate::json::get;
use crate::{AdditionalItem, Outcome, RestoreContext};

pub(crate) fn applies_to(gr: &GroupResource) -> bool {
    is(gr, "", "pods")
}

pub(crate) fn apply(_: &mut Value, item: &Item<'_>, _: &RestoreContext) -> Outcome {
    let pod = item.backed_up;
    let namespace = get(pod, &["metadata", "namespace"])
        .and_then(Value::as_str)
        .map(str::to_owned);
    let volumes = get(pod, &["spec", "volumes"]).and_then(Value::as_array);
    let additional_items = volumes
        .into_iter()
        .flatten()
        .filter_map(|volume| get(volume, &["persistentVolumeClaim", "claimName"])?.as_str())
        .filter(|claim| !claim.is_empty())
        .map(|claim| AdditionalItem {
            group_resource: GroupResource::new("", "persistentvolumeclaims"),
            namespace: namespace.clone(),
            name: claim.to_owned(),
        })
        .collect();
    Outcome {
        additional_items,
        ..Outcome::default()
    }
}
