//! Maps storage class names through the velero.io/change-storage-class ConfigMap on
//! PersistentVolumes, PersistentVolumeClaims and StatefulSet `volumeClaimTemplates`, so a restore
//! into a cluster with other storage classes provisions on the right one. Unmapped and empty
//! classes are left as they are. When the target's classes are known and the mapped class is
//! not among them, the object keeps its class and a warning says so (Velero fails the object).

use godwit_versioning::GroupResource;
use serde_json::Value;

use super::{Item, is};
use crate::json::{describe, get_mut, type_problem};
use crate::{Outcome, Problem, RestoreContext};

pub(crate) fn applies_to(gr: &GroupResource) -> bool {
    is(gr, "", "persistentvolumes")
        || is(gr, "", "persistentvolumeclaims")
        || is(gr, "apps", "statefulsets")
}

pub(crate) fn apply(object: &mut Value, item: &Item<'_>, ctx: &RestoreContext) -> Outcome {
    if ctx.storage_class_mapping.is_empty() {
        return Outcome::default();
    }
    let who = describe(item.group_resource, object);
    let mut outcome = Outcome::default();
    if is(item.group_resource, "apps", "statefulsets") {
        outcome.warnings.extend(type_problem(
            item.group_resource,
            object,
            &["spec", "volumeClaimTemplates"],
            "an array",
            Value::is_array,
        ));
        let templates =
            get_mut(object, &["spec", "volumeClaimTemplates"]).and_then(Value::as_array_mut);
        for template in templates.into_iter().flatten() {
            if let Some(slot) = get_mut(template, &["spec", "storageClassName"]) {
                map_class(slot, &who, ctx, &mut outcome);
            }
        }
    } else if let Some(slot) = get_mut(object, &["spec", "storageClassName"]) {
        map_class(slot, &who, ctx, &mut outcome);
    }
    outcome
}

fn map_class(slot: &mut Value, who: &str, ctx: &RestoreContext, outcome: &mut Outcome) {
    let Some(old) = slot.as_str().filter(|class| !class.is_empty()) else {
        return;
    };
    let Some(new) = ctx.storage_class_mapping.get(old) else {
        return;
    };
    if let Some(known) = &ctx.storage_classes
        && !known.contains(new)
    {
        outcome.warnings.push(Problem::MissingStorageClass {
            object: who.to_owned(),
            from: old.to_owned(),
            to: new.to_owned(),
        });
        return;
    }
    *slot = Value::String(new.to_owned());
}
