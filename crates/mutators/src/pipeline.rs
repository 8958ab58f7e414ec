//! Runs every action that applies to an object, in [`Action::ORDER`], and gathers what they
//! report.

use godwit_versioning::GroupResource;
use serde::Serialize;
use serde_json::Value;

use crate::json::get_str;
use crate::{Action, AdditionalItem, Decision, Item, Problem, RestoreContext};

/// An object after the built-in actions.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Restored {
    /// The object to create (meaningless when `skipped` is set).
    pub object: Value,
    /// Set when an action decided the object must not be restored.
    pub skipped: Option<Skip>,
    /// Objects to restore with this one, from the actions that ran, without duplicates.
    pub additional_items: Vec<AdditionalItem>,
    /// What the actions could not do.
    pub warnings: Vec<Problem>,
    /// Set when the PV was renamed; the executor records it in
    /// [`RestoreContext::renamed_pvs`] so the claim follows.
    pub renamed_pv: Option<RenamedPv>,
}

/// Why an object is not restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skip {
    /// The action that decided it.
    pub action: &'static str,
    /// Its reason.
    pub reason: String,
}

/// A PersistentVolume created under a new name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenamedPv {
    /// Its name in the backup.
    pub original_name: String,
    /// Its name in the target.
    pub new_name: String,
}

/// The other objects of the backup restoring `object` asks for (Velero's additional items: a
/// bound claim's volume, a pod's claims and priority class), without running the actions that
/// change it. They depend on the backed-up object alone, so the planner can pull them in before
/// anything is restored.
pub fn additional_items(group_resource: &GroupResource, object: &Value) -> Vec<AdditionalItem> {
    if !asks_for_items(group_resource) {
        return Vec::new();
    }
    apply_all(group_resource, object.clone(), &RestoreContext::default()).additional_items
}

/// Whether restoring objects of `group_resource` can ask for other objects at all: when not,
/// [`additional_items`] is empty for every one of them and their bodies need not be read.
pub fn asks_for_items(group_resource: &GroupResource) -> bool {
    Action::ORDER
        .iter()
        .any(|action| action.asks_for_items() && action.applies_to(group_resource))
}

/// Runs the actions that apply to `group_resource` on `object`, in [`Action::ORDER`]. A skip
/// stops the run; the additional items and warnings gathered so far are still returned (Velero
/// has restored such items by then too). Never fails: every problem is a warning.
pub fn apply_all(group_resource: &GroupResource, object: Value, ctx: &RestoreContext) -> Restored {
    static NOT_READ: Value = Value::Null;
    let mut object = object;
    // The untouched copy costs a deep clone per object: made only when an action reads it.
    let original = Action::ORDER
        .iter()
        .any(|action| action.reads_backed_up() && action.applies_to(group_resource))
        .then(|| object.clone());
    let backed_up = original.as_ref().unwrap_or(&NOT_READ);
    let volumes = group_resource.is_core() && group_resource.resource == "persistentvolumes";
    let original_name = volumes
        .then(|| get_str(&object, &["metadata", "name"]).map(str::to_owned))
        .flatten();
    let mut restored = Restored {
        object: Value::Null,
        skipped: None,
        additional_items: Vec::new(),
        warnings: Vec::new(),
        renamed_pv: None,
    };
    if !object.is_object() {
        restored.warnings.push(Problem::UnexpectedType {
            object: group_resource.to_string(),
            field: "the object".to_owned(),
            expected: "a JSON object",
        });
        restored.object = object;
        return restored;
    }
    let item = Item {
        group_resource,
        backed_up,
    };
    for action in Action::ORDER {
        if !action.applies_to(group_resource) {
            continue;
        }
        let outcome = action.apply(&mut object, &item, ctx);
        for extra in outcome.additional_items {
            if !restored.additional_items.contains(&extra) {
                restored.additional_items.push(extra);
            }
        }
        restored.warnings.extend(outcome.warnings);
        if let Decision::Skip(reason) = outcome.decision {
            restored.skipped = Some(Skip {
                action: action.name(),
                reason,
            });
            break;
        }
    }
    if let Some(before) = original_name
        && let Some(after) = get_str(&object, &["metadata", "name"])
        && before != after
    {
        restored.renamed_pv = Some(RenamedPv {
            original_name: before,
            new_name: after.to_owned(),
        });
    }
    restored.object = object;
    restored
}
