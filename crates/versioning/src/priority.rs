//! Version priority exactly as the Kubernetes API server ranks versions: the order it uses to
//! sort a CustomResourceDefinition's versions and to pick a group's preferred version
//! (`CompareKubeAwareVersionStrings` in apimachinery).
//!
//! A name is *kube-like* when it matches `^v[0-9]+((alpha|beta)[0-9]+)?$` and its numbers fit a
//! signed 64-bit integer (the Go `int` of the API server). Anything else (`v1beta` with no
//! number, upper case, the empty string, a number that overflows) is not kube-like and ranks
//! below every kube-like name, in plain ascending byte order (`foo1` above `foo10`).
//!
//! Two *different* names can compare `Equal`: upstream parses numbers with leading zeros, so
//! `v01` and `v1` have the same priority. [`sort_by_priority`] is stable, so such ties keep their
//! input order.

use std::cmp::Ordering;

/// How mature a kube-like version is; the derived order is the priority order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stability {
    /// `v<major>alpha<minor>`.
    Alpha,
    /// `v<major>beta<minor>`.
    Beta,
    /// `v<major>`.
    Ga,
}

/// A parsed kube-like version name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KubeVersion {
    /// The number after `v`.
    pub major: i64,
    /// GA, beta or alpha.
    pub stability: Stability,
    /// The number after `alpha`/`beta`; 0 for GA.
    pub minor: i64,
}

impl KubeVersion {
    /// Parses a kube-like name, or returns `None` when upstream would not treat it as one.
    pub fn parse(name: &str) -> Option<Self> {
        let rest = name.strip_prefix('v')?;
        let major_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        if major_len == 0 {
            return None;
        }
        let (major, rest) = rest.split_at(major_len);
        let major = parse_number(major)?;
        if rest.is_empty() {
            return Some(KubeVersion {
                major,
                stability: Stability::Ga,
                minor: 0,
            });
        }
        let (stability, minor) = if let Some(minor) = rest.strip_prefix("alpha") {
            (Stability::Alpha, minor)
        } else if let Some(minor) = rest.strip_prefix("beta") {
            (Stability::Beta, minor)
        } else {
            return None;
        };
        if minor.is_empty() || !minor.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(KubeVersion {
            major,
            stability,
            minor: parse_number(minor)?,
        })
    }
}

/// Parses ASCII digits as Go's `strconv.Atoi` does on 64-bit platforms: leading zeros are fine,
/// values above `i64::MAX` make the name non-kube-like.
fn parse_number(digits: &str) -> Option<i64> {
    digits.parse::<i64>().ok()
}

/// Compares two version names by API priority: `Greater` means `a` ranks higher than `b`.
///
/// ```
/// use std::cmp::Ordering;
/// assert_eq!(godwit_versioning::compare("v1", "v2beta1"), Ordering::Greater);
/// assert_eq!(godwit_versioning::compare("foo1", "foo10"), Ordering::Greater);
/// ```
pub fn compare(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    match (KubeVersion::parse(a), KubeVersion::parse(b)) {
        // Reversed on purpose: among non-kube-like names the smaller string ranks higher.
        (None, None) => b.cmp(a),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => a
            .stability
            .cmp(&b.stability)
            .then(a.major.cmp(&b.major))
            .then(a.minor.cmp(&b.minor)),
    }
}

/// Sorts version names highest priority first. Stable: names of equal priority keep their order.
pub fn sort_by_priority<S: AsRef<str>>(versions: &mut [S]) {
    versions.sort_by(|a, b| compare(b.as_ref(), a.as_ref()));
}

#[cfg(test)]
mod tests;
