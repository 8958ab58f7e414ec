//! Field ownership across a restore: which `metadata.managedFields` a restored object ends with.
//!
//! The API server records in `managedFields` which manager set which field, at which version.
//! A create makes the creating manager the owner of every field and drops whatever entries the
//! request carried, so Velero (since 1.10) patches the backed-up entries back onto every object
//! right after creating it. godwit does so when it matters, which costs a second request per
//! object, and differs in three ways, all visible in the restored object:
//!
//! - The entries are carried over when one of them records server-side apply (an `Apply` entry
//!   the target can read): field ownership then decides what the next apply of that manager
//!   may change or remove, and whether it conflicts. Entries of `Update` managers (controllers,
//!   `kubectl edit`, client-side apply, Helm) only record who wrote last; without an apply
//!   entry the object keeps the create's, one entry of godwit's owning every field, as an
//!   object those managers rewrote would. A restore then sends one request per object, not two.
//! - An entry written at a version the target does not serve for the group-resource is left
//!   out. The API server cannot read such an entry, and one of them makes it drop every entry of
//!   the object (a custom resource then has no `managedFields` at all).
//! - godwit's own entry (manager [`FIELD_MANAGER`]) stays, owning only what no backed-up
//!   manager owns: the restore labels, and whatever the restore actions added. It records the
//!   version the restore wrote the object at, and it takes no field from the source's managers,
//!   so their next server-side apply does not conflict with godwit.
//!
//! Entries other managers (the target's controllers) wrote between the create and the patch
//! are kept too.

use serde_json::{Map, Value};

/// The field manager godwit writes as, on every create and patch.
pub const FIELD_MANAGER: &str = "godwit";

/// The `managedFields` to patch onto a just-created object, or `None` when there is nothing
/// worth a request (no readable `Apply` entry in the backup, or no entry of godwit's on the
/// live object).
///
/// `backed_up` is the entry list of the backed-up object, `live` the created object as the
/// server answered (or as read again), `group` its API group and `served` the versions the
/// target serves for its group-resource.
pub fn restored_managed_fields(
    backed_up: &[Value],
    live: &Value,
    group: &str,
    served: &[String],
) -> Option<Vec<Value>> {
    let kept: Vec<&Value> = backed_up
        .iter()
        .filter(|entry| readable_by_target(entry, group, served))
        .filter(|entry| manager(entry) != Some(FIELD_MANAGER))
        .collect();
    if !kept.iter().any(|entry| is_apply(entry)) {
        return None;
    }
    let live_entries = live
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)?;
    let ours = live_entries.iter().find(|entry| is_ours(entry))?;
    let others: Vec<&Value> = live_entries
        .iter()
        .filter(|entry| !is_ours(entry))
        // An entry the server already holds again (a repeated patch) is not doubled.
        .filter(|entry| !kept.contains(entry))
        .collect();

    let mut owned_elsewhere = Value::Object(Map::new());
    for entry in kept.iter().chain(&others) {
        if let Some(fields) = entry.get("fieldsV1") {
            union_into(&mut owned_elsewhere, fields);
        }
    }
    let mut our_fields = ours
        .get("fieldsV1")
        .map(|fields| difference(fields, &owned_elsewhere))
        .unwrap_or_else(|| Value::Object(Map::new()));
    if our_fields.as_object().is_none_or(Map::is_empty) {
        // An entry that owns nothing is dropped by the server, and with it the record of the
        // version the restore wrote; the restore label is always godwit's.
        our_fields = serde_json::json!({"f:metadata": {"f:labels": {
            format!("f:{}", crate::compare::RESTORE_NAME_LABEL): {}
        }}});
    }
    let mut ours = ours.clone();
    ours["fieldsV1"] = our_fields;

    let mut entries: Vec<Value> = kept.into_iter().cloned().collect();
    entries.extend(others.into_iter().cloned());
    entries.push(ours);
    Some(entries)
}

fn manager(entry: &Value) -> Option<&str> {
    entry.get("manager").and_then(Value::as_str)
}

/// godwit's entry for the object itself (not a subresource).
/// Whether any of the backed-up entries is a server-side apply: without one,
/// [`restored_managed_fields`] has nothing to carry and the created object need not be read.
pub fn may_carry(backed_up: &[Value]) -> bool {
    backed_up.iter().any(is_apply)
}

fn is_apply(entry: &Value) -> bool {
    entry.get("operation").and_then(Value::as_str) == Some("Apply")
}

fn is_ours(entry: &Value) -> bool {
    manager(entry) == Some(FIELD_MANAGER)
        && entry
            .get("subresource")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
}

/// Whether the target can read an entry: its `apiVersion` is of the object's group and at a
/// version the target serves for the group-resource.
fn readable_by_target(entry: &Value, group: &str, served: &[String]) -> bool {
    let Some(api_version) = entry.get("apiVersion").and_then(Value::as_str) else {
        return false;
    };
    let (entry_group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    entry_group == group && served.iter().any(|served| served == version)
}

/// Adds every field of `other` to `into` (both `fieldsV1` trees).
fn union_into(into: &mut Value, other: &Value) {
    let (Some(into), Some(other)) = (into.as_object_mut(), other.as_object()) else {
        return;
    };
    for (key, child) in other {
        match into.get_mut(key) {
            Some(existing) => union_into(existing, child),
            None => {
                into.insert(key.clone(), child.clone());
            }
        }
    }
}

/// The fields of `mine` that `others` does not own (both `fieldsV1` trees). An empty object is a
/// leaf: the field itself; `"."` stands for the map or struct itself.
fn difference(mine: &Value, others: &Value) -> Value {
    let Some(mine) = mine.as_object() else {
        return Value::Object(Map::new());
    };
    let empty = Map::new();
    let others = others.as_object().unwrap_or(&empty);
    let mut left = Map::new();
    for (key, child) in mine {
        let is_leaf = child.as_object().is_none_or(Map::is_empty);
        match others.get(key) {
            None => {
                left.insert(key.clone(), child.clone());
            }
            Some(_) if is_leaf => {}
            Some(theirs) => {
                let rest = difference(child, theirs);
                if rest.as_object().is_some_and(|rest| !rest.is_empty()) {
                    left.insert(key.clone(), rest);
                }
            }
        }
    }
    Value::Object(left)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entry(manager: &str, api_version: &str, fields: Value) -> Value {
        entry_of(manager, "Update", api_version, fields)
    }

    /// An entry of server-side apply: what makes a restore carry the entries over.
    fn applied(manager: &str, api_version: &str, fields: Value) -> Value {
        entry_of(manager, "Apply", api_version, fields)
    }

    fn entry_of(manager: &str, operation: &str, api_version: &str, fields: Value) -> Value {
        json!({"manager": manager, "operation": operation, "apiVersion": api_version,
               "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": fields})
    }

    fn live(entries: Vec<Value>) -> Value {
        json!({"metadata": {"name": "w", "managedFields": entries}})
    }

    fn served(versions: &[&str]) -> Vec<String> {
        versions.iter().map(|v| (*v).to_owned()).collect()
    }

    const LABELS: &str = "velero.io/restore-name";

    fn created_fields() -> Value {
        json!({"f:metadata": {"f:labels": {".": {}, "f:velero.io/backup-name": {},
                                           "f:velero.io/restore-name": {}}},
               "f:spec": {".": {}, "f:size": {}, "f:color": {}}})
    }

    #[test]
    fn carries_the_backup_entries_over_and_keeps_what_godwit_set() {
        let backed_up = vec![
            entry(
                "kubectl",
                "g.example/v1",
                json!({"f:spec": {".": {}, "f:size": {}}}),
            ),
            applied(
                "argocd",
                "g.example/v2",
                json!({"f:spec": {"f:color": {}}, "f:metadata": {"f:labels": {".": {}}}}),
            ),
        ];
        let created = live(vec![entry(FIELD_MANAGER, "g.example/v2", created_fields())]);
        let entries =
            restored_managed_fields(&backed_up, &created, "g.example", &served(&["v2", "v1"]))
                .unwrap();
        assert_eq!(entries[..2], backed_up[..]);
        assert_eq!(
            entries[2],
            entry(
                FIELD_MANAGER,
                "g.example/v2",
                json!({"f:metadata": {"f:labels": {"f:velero.io/backup-name": {},
                                                   "f:velero.io/restore-name": {}}}})
            )
        );
    }

    #[test]
    fn leaves_out_entries_the_target_cannot_read() {
        let backed_up = vec![
            entry(
                "old",
                "g.example/v1alpha1",
                json!({"f:spec": {"f:size": {}}}),
            ),
            entry(
                "other-group",
                "h.example/v1",
                json!({"f:spec": {"f:size": {}}}),
            ),
            entry("no-version", "", json!({"f:spec": {"f:size": {}}})),
            applied(
                "kubectl",
                "g.example/v1",
                json!({"f:spec": {"f:color": {}}}),
            ),
        ];
        let created = live(vec![entry(FIELD_MANAGER, "g.example/v1", created_fields())]);
        let entries =
            restored_managed_fields(&backed_up, &created, "g.example", &served(&["v1"])).unwrap();
        let managers: Vec<&str> = entries.iter().filter_map(manager).collect();
        assert_eq!(managers, ["kubectl", FIELD_MANAGER]);
        // spec.size is no longer owned by anyone in the backup, so godwit owns it.
        assert_eq!(
            entries[1]["fieldsV1"]["f:spec"],
            json!({".": {}, "f:size": {}})
        );
    }

    #[test]
    fn core_entries_have_no_group() {
        let backed_up = vec![applied("kubectl", "v1", json!({"f:data": {"f:a": {}}}))];
        let created = live(vec![entry(
            FIELD_MANAGER,
            "v1",
            json!({"f:data": {".": {}, "f:a": {}}}),
        )]);
        let entries = restored_managed_fields(&backed_up, &created, "", &served(&["v1"])).unwrap();
        assert_eq!(entries.len(), 2);
        // godwit changed nothing the backup does not own but the map itself.
        assert_eq!(entries[1]["fieldsV1"], json!({"f:data": {".": {}}}));
    }

    #[test]
    fn keeps_the_restore_label_when_godwit_owns_nothing_else() {
        let fields = json!({"f:metadata": {"f:labels": {"f:velero.io/restore-name": {}}}});
        let backed_up = vec![applied("kubectl", "v1", fields.clone())];
        let created = live(vec![entry(FIELD_MANAGER, "v1", fields.clone())]);
        let entries = restored_managed_fields(&backed_up, &created, "", &served(&["v1"])).unwrap();
        assert_eq!(
            entries[1]["fieldsV1"],
            json!({"f:metadata": {"f:labels": {format!("f:{LABELS}"): {}}}})
        );
    }

    #[test]
    fn keeps_what_the_targets_controllers_wrote_meanwhile() {
        let backed_up = vec![applied("kubectl", "v1", json!({"f:spec": {"f:size": {}}}))];
        let controller = entry(
            "kube-controller-manager",
            "v1",
            json!({"f:metadata": {"f:annotations": {"f:bound": {}}}}),
        );
        let created = live(vec![
            entry(FIELD_MANAGER, "v1", created_fields()),
            controller.clone(),
        ]);
        let entries = restored_managed_fields(&backed_up, &created, "", &served(&["v1"])).unwrap();
        let managers: Vec<&str> = entries.iter().filter_map(manager).collect();
        assert_eq!(
            managers,
            ["kubectl", "kube-controller-manager", FIELD_MANAGER]
        );
        assert_eq!(entries[1], controller);
    }

    #[test]
    fn nothing_to_patch() {
        let created = live(vec![entry(FIELD_MANAGER, "v1", created_fields())]);
        assert_eq!(
            restored_managed_fields(&[], &created, "", &served(&["v1"])),
            None
        );
        let unreadable = vec![applied("old", "v1beta1", json!({"f:a": {}}))];
        assert_eq!(
            restored_managed_fields(&unreadable, &created, "", &served(&["v1"])),
            None
        );
        let backed_up = vec![applied("kubectl", "v1", json!({"f:a": {}}))];
        let without_ours = live(vec![entry("someone", "v1", created_fields())]);
        assert_eq!(
            restored_managed_fields(&backed_up, &without_ours, "", &served(&["v1"])),
            None
        );
        // A backup entry of godwit's own (a restore of a restored object) is the old write.
        let ours_only = vec![applied(FIELD_MANAGER, "v1", json!({"f:a": {}}))];
        assert_eq!(
            restored_managed_fields(&ours_only, &created, "", &served(&["v1"])),
            None
        );
    }

    #[test]
    fn update_entries_alone_are_not_worth_a_request() {
        let created = live(vec![entry(FIELD_MANAGER, "v1", created_fields())]);
        let updates = vec![
            entry("kube-controller-manager", "v1", json!({"f:a": {}})),
            entry("helm", "v1", json!({"f:b": {}})),
        ];
        assert_eq!(
            restored_managed_fields(&updates, &created, "", &served(&["v1"])),
            None
        );
        // One apply entry, and every readable entry comes along with it.
        let mut mixed = updates.clone();
        mixed.push(applied("argocd-controller", "v1", json!({"f:c": {}})));
        let entries = restored_managed_fields(&mixed, &created, "", &served(&["v1"])).unwrap();
        let managers: Vec<&str> = entries.iter().filter_map(manager).collect();
        assert_eq!(
            managers,
            [
                "kube-controller-manager",
                "helm",
                "argocd-controller",
                FIELD_MANAGER
            ]
        );
    }

    #[test]
    fn difference_and_union_follow_fields_v1() {
        let mine = json!({"f:a": {}, "f:b": {".": {}, "f:c": {}, "f:d": {}}, "f:e": {"f:x": {}}});
        let others = json!({"f:a": {}, "f:b": {"f:c": {}}, "f:e": {}});
        assert_eq!(
            difference(&mine, &others),
            json!({"f:b": {".": {}, "f:d": {}}, "f:e": {"f:x": {}}})
        );
        let mut union = json!({"f:a": {}});
        union_into(&mut union, &json!({"f:b": {"f:c": {}}}));
        union_into(&mut union, &json!({"f:b": {"f:d": {}}}));
        assert_eq!(union, json!({"f:a": {}, "f:b": {"f:c": {}, "f:d": {}}}));
    }
}
