//! Reading and moving the fields of one JSON object, naming the path of whatever cannot be
//! converted. Shared by the per-kind conversions; knows nothing about any kind.

use serde_json::{Map, Value};

use crate::Lossy;

/// A refusal of the field at `field`.
pub(crate) fn lossy(field: impl Into<String>, reason: impl Into<String>) -> Lossy {
    Lossy {
        field: field.into(),
        reason: reason.into(),
    }
}

/// `path.key`, or `key` at the object's root.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The object `value` holds; refuses any other JSON type.
pub(crate) fn as_object<'a>(
    value: &'a mut Value,
    path: &str,
) -> Result<&'a mut Map<String, Value>, Lossy> {
    match value {
        Value::Object(fields) => Ok(fields),
        _ => Err(lossy(path, "is not an object")),
    }
}

/// The object at `key`, `None` when it is missing or null; refuses any other JSON type.
pub(crate) fn object_mut<'a>(
    fields: &'a mut Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a mut Map<String, Value>>, Lossy> {
    match fields.get_mut(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(object)) => Ok(Some(object)),
        Some(_) => Err(lossy(join(path, key), "is not an object")),
    }
}

/// The array at `key`, `None` when it is missing or null; refuses any other JSON type.
pub(crate) fn array_mut<'a>(
    fields: &'a mut Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a mut Vec<Value>>, Lossy> {
    match fields.get_mut(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(_) => Err(lossy(join(path, key), "is not an array")),
    }
}

/// Calls `convert` on every element of the array at `key` (if any) with the element's path,
/// refusing elements that are not objects.
pub(crate) fn each_object(
    fields: &mut Map<String, Value>,
    key: &str,
    path: &str,
    mut convert: impl FnMut(&mut Map<String, Value>, &str) -> Result<(), Lossy>,
) -> Result<(), Lossy> {
    let Some(items) = array_mut(fields, key, path)? else {
        return Ok(());
    };
    let array_path = join(path, key);
    for (index, item) in items.iter_mut().enumerate() {
        let item_path = format!("{array_path}[{index}]");
        convert(as_object(item, &item_path)?, &item_path)?;
    }
    Ok(())
}

/// Removes `key` and returns its value; `None` when it was missing or null (Go reads null as
/// unset, so a null carries nothing to convert).
pub(crate) fn take(fields: &mut Map<String, Value>, key: &str) -> Option<Value> {
    fields.remove(key).filter(|value| !value.is_null())
}

/// Moves `from` of `old` to `to` of `new` when it is set.
pub(crate) fn carry(
    old: &mut Map<String, Value>,
    from: &str,
    new: &mut Map<String, Value>,
    to: &str,
) {
    if let Some(value) = take(old, from) {
        new.insert(to.to_owned(), value);
    }
}

/// Refuses the first field left in `old` once a conversion has taken every field it knows:
/// the newer version has no place for it and upstream would drop it without a word.
pub(crate) fn refuse_leftovers(old: &Map<String, Value>, path: &str) -> Result<(), Lossy> {
    match old.keys().next() {
        None => Ok(()),
        Some(key) => Err(lossy(
            join(path, key),
            "is not a field of the old version and the new one has no place for it; \
             remove it from the backed-up object to restore the rest",
        )),
    }
}

/// Whether `value` is an array or object with nothing in it, or null. Go reads these the same
/// as an unset field.
pub(crate) fn is_empty(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::Array(items)) => items.is_empty(),
        Some(Value::Object(fields)) => fields.is_empty(),
        Some(_) => false,
    }
}
