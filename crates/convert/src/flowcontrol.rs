//! PriorityLevelConfiguration from `flowcontrol.apiserver.k8s.io` v1beta1, v1beta2 and v1beta3
//! to v1. (FlowSchema kept one schema through all four versions and needs nothing.)
//!
//! The concurrency shares changed name and meaning of zero, per upstream's
//! `pkg/apis/flowcontrol/{v1beta1,v1beta2,v1beta3,v1}/{conversion,defaults}.go`:
//! - v1beta1, v1beta2: `assuredConcurrencyShares`; 0 (or unset) is defaulted to 30.
//! - v1beta3: `nominalConcurrencyShares`; 0 is defaulted to 30 unless the object carries
//!   [`PRESERVE_ZERO_ANNOTATION`], which the apiserver adds when the real value is 0.
//! - v1: `nominalConcurrencyShares` is optional; unset is defaulted to 30 and 0 means 0.
//!
//! `lendablePercent`, `borrowingLimitPercent` and the `exempt` settings exist, with the same
//! names and defaults, in every one of these versions and are left as they are.

use serde_json::{Map, Value};

use crate::Lossy;
use crate::fields::{lossy, object_mut, take};

/// What every version defaults unset (and, before v1, zero) concurrency shares to.
const DEFAULT_CONCURRENCY_SHARES: u64 = 30;

/// Marks a v1beta3 object whose `nominalConcurrencyShares` of 0 really means 0. The v1
/// apiserver's validation forbids it, so the conversion removes it once it has been read.
pub(crate) const PRESERVE_ZERO_ANNOTATION: &str =
    "flowcontrol.k8s.io/v1beta3-preserve-zero-concurrency-shares";

/// Rewrites a v1beta1 or v1beta2 PriorityLevelConfiguration into v1.
pub(crate) fn assured_shares_to_v1(object: &mut Map<String, Value>) -> Result<(), Lossy> {
    let Some(limited) = limited(object)? else {
        return Ok(());
    };
    if limited.contains_key("nominalConcurrencyShares") {
        return Err(lossy(
            "spec.limited.nominalConcurrencyShares",
            "is not a field of this version (it spells it assuredConcurrencyShares); \
             remove it from the backed-up object",
        ));
    }
    let Some(shares) = take(limited, "assuredConcurrencyShares") else {
        return Ok(());
    };
    let shares = shares_or_default(shares, false, "spec.limited.assuredConcurrencyShares")?;
    limited.insert("nominalConcurrencyShares".to_owned(), shares);
    Ok(())
}

/// Rewrites a v1beta3 PriorityLevelConfiguration into v1.
pub(crate) fn nominal_shares_to_v1(object: &mut Map<String, Value>) -> Result<(), Lossy> {
    let preserve_zero = remove_preserve_zero_annotation(object);
    let Some(limited) = limited(object)? else {
        return Ok(());
    };
    let path = "spec.limited.nominalConcurrencyShares";
    match take(limited, "nominalConcurrencyShares") {
        // Go reads an unset int32 as 0; only the annotation makes that 0 mean zero.
        None if preserve_zero => {
            limited.insert("nominalConcurrencyShares".to_owned(), 0.into());
        }
        None => {}
        Some(shares) => {
            let shares = shares_or_default(shares, preserve_zero, path)?;
            limited.insert("nominalConcurrencyShares".to_owned(), shares);
        }
    }
    Ok(())
}

/// `spec.limited`, when the priority level is limited.
fn limited(object: &mut Map<String, Value>) -> Result<Option<&mut Map<String, Value>>, Lossy> {
    let Some(spec) = object_mut(object, "spec", "")? else {
        return Ok(None);
    };
    object_mut(spec, "limited", "spec")
}

/// The shares as v1 must say them: a 0 the old version would have defaulted becomes the
/// default, written out, because v1 reads 0 as zero.
fn shares_or_default(shares: Value, preserve_zero: bool, path: &str) -> Result<Value, Lossy> {
    match shares.as_u64() {
        Some(0) if !preserve_zero => Ok(DEFAULT_CONCURRENCY_SHARES.into()),
        Some(_) => Ok(shares),
        None => Err(lossy(path, "is not a non-negative integer")),
    }
}

/// Removes the preserve-zero annotation, the one change to metadata any conversion makes;
/// says whether it was there.
fn remove_preserve_zero_annotation(object: &mut Map<String, Value>) -> bool {
    let Some(Value::Object(metadata)) = object.get_mut("metadata") else {
        return false;
    };
    let Some(Value::Object(annotations)) = metadata.get_mut("annotations") else {
        return false;
    };
    annotations.remove(PRESERVE_ZERO_ANNOTATION).is_some()
}

#[cfg(test)]
mod tests;
