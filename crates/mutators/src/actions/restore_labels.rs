//! Labels every restored object with the backup and the restore it came from
//! (`velero.io/backup-name`, `velero.io/restore-name`), so `kubectl get -l` finds them.

use godwit_versioning::GroupResource;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Item;
use crate::json::{object_entry, type_problem};
use crate::{Outcome, RestoreContext};

/// Label naming the backup an object was restored from.
const BACKUP_NAME_LABEL: &str = "velero.io/backup-name";
/// Label naming the restore that created an object.
const RESTORE_NAME_LABEL: &str = "velero.io/restore-name";
/// Longest label value Kubernetes accepts.
const MAX_LABEL_VALUE: usize = 63;
/// Hex digits of the sha256 that replace the end of a value too long for a label.
const HASH_DIGITS: usize = 6;

/// A backup or restore name as a label value: unchanged up to 63 bytes; longer names are cut to
/// 57 bytes and followed by the first 6 hex digits of the sha256 of the whole name, as Velero's
/// `label.GetValidName` does.
///
/// Velero cuts at byte 57; a name with a multi-byte character across that byte is cut before
/// the character so the value stays valid UTF-8 (such a name is no valid label value anyway).
pub fn label_value(name: &str) -> String {
    if name.len() <= MAX_LABEL_VALUE {
        return name.to_owned();
    }
    let mut keep = MAX_LABEL_VALUE - HASH_DIGITS;
    while !name.is_char_boundary(keep) {
        keep -= 1;
    }
    let digest = Sha256::digest(name.as_bytes());
    let hex: String = digest
        .iter()
        .take(HASH_DIGITS / 2)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("{}{hex}", &name[..keep])
}

pub(crate) fn applies_to(_: &GroupResource) -> bool {
    true
}

pub(crate) fn apply(object: &mut Value, item: &Item<'_>, ctx: &RestoreContext) -> Outcome {
    let problem = type_problem(
        item.group_resource,
        object,
        &["metadata", "labels"],
        "an object",
        Value::is_object,
    )
    .or_else(|| {
        type_problem(
            item.group_resource,
            object,
            &["metadata"],
            "an object",
            Value::is_object,
        )
    });
    if let Some(labels) = object_entry(object, &["metadata", "labels"]) {
        labels.insert(
            BACKUP_NAME_LABEL.to_owned(),
            Value::String(label_value(&ctx.backup_name)),
        );
        labels.insert(
            RESTORE_NAME_LABEL.to_owned(),
            Value::String(label_value(&ctx.restore_name)),
        );
    }
    Outcome::warnings(problem)
}

#[cfg(test)]
mod tests {
    use super::label_value;

    /// Expected values computed with Python's hashlib, independently of this code.
    #[test]
    fn long_names_are_cut_to_57_bytes_and_6_hex_digits() {
        let check = |name: &str, expected: &str| {
            let got = label_value(name);
            assert_eq!(got, expected, "{name}");
            assert!(got.len() <= 63, "{got}");
        };
        check("nightly", "nightly");
        check(&"a".repeat(63), &"a".repeat(63));
        check(&"b".repeat(64), &format!("{}a0fab1", "b".repeat(57)));
        check(
            "nightly-backup-of-the-production-cluster-shop-namespace-2026-10-02-0300",
            "nightly-backup-of-the-production-cluster-shop-namespace-28090d5",
        );
        // Byte 57 falls inside the 29th 'é': the cut moves back to byte 56.
        check(&"é".repeat(40), &format!("{}84fe2e", "é".repeat(28)));
    }
}
