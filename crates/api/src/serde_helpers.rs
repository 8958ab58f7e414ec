//! Serde helpers that give Go's `omitempty` and tolerate `null` where Go would read a zero value.

use serde::{Deserialize, Deserializer};

/// Reads `null` as the type's default, as Go's `encoding/json` leaves a zero value for it.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// `omitempty` for integers.
pub(crate) fn is_zero(value: &i64) -> bool {
    *value == 0
}

/// `omitempty` for booleans.
pub(crate) fn is_false(value: &bool) -> bool {
    !*value
}
