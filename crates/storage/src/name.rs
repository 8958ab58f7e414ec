//! Backup and restore names: Kubernetes object names, so they are safe as one key segment.

use crate::Error;

/// The longest name the Kubernetes API accepts for a Backup or Restore (a DNS-1123 subdomain).
const MAX_LEN: usize = 253;

/// Checks `name` against the DNS-1123 subdomain rule the API server applies to Backup and
/// Restore names. That rule also keeps `/`, `..` and empty names out of object keys.
pub(crate) fn validate_name(kind: &'static str, name: &str) -> Result<(), Error> {
    let reason = name_problem(name);
    match reason {
        None => Ok(()),
        Some(reason) => Err(Error::InvalidName {
            kind,
            name: name.to_owned(),
            reason,
        }),
    }
}

/// Whether `name` is a valid Backup or Restore name.
pub(crate) fn is_valid_name(name: &str) -> bool {
    name_problem(name).is_none()
}

fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("it is empty");
    }
    if name.len() > MAX_LEN {
        return Some("it is longer than 253 characters");
    }
    if name.contains('/') {
        return Some("it contains '/'");
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Some("it has an empty part between dots (or '..')");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Some("it has a character other than a-z, 0-9, '-' and '.'");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some("a part starts or ends with '-'");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(name: &str, expected: Option<&str>) {
        assert_eq!(name_problem(name), expected, "name {name:?}");
        assert_eq!(validate_name("backup", name).is_ok(), expected.is_none());
    }

    #[test]
    fn names() {
        check("nightly", None);
        check("nightly-20240101010101", None);
        check("a.b-c.d0", None);
        check("0", None);
        check(&"a".repeat(253), None);
        check("", Some("it is empty"));
        check(&"a".repeat(254), Some("it is longer than 253 characters"));
        check("a/b", Some("it contains '/'"));
        check("../x", Some("it contains '/'"));
        check("..", Some("it has an empty part between dots (or '..')"));
        check(".", Some("it has an empty part between dots (or '..')"));
        check("a..b", Some("it has an empty part between dots (or '..')"));
        check(
            ".hidden",
            Some("it has an empty part between dots (or '..')"),
        );
        check(
            "Nightly",
            Some("it has a character other than a-z, 0-9, '-' and '.'"),
        );
        check(
            "a b",
            Some("it has a character other than a-z, 0-9, '-' and '.'"),
        );
        check(
            "a_b",
            Some("it has a character other than a-z, 0-9, '-' and '.'"),
        );
        check("-a", Some("a part starts or ends with '-'"));
        check("a.b-", Some("a part starts or ends with '-'"));
    }

    #[test]
    fn error_names_the_kind_and_the_name() {
        let message = validate_name("restore", "a/b").unwrap_err().to_string();
        assert!(
            message.starts_with("invalid restore name \"a/b\": it contains '/'"),
            "{message}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn valid_names_are_one_safe_key_segment(name in "\\PC{0,40}") {
            if is_valid_name(&name) {
                prop_assert!(!name.contains('/'));
                prop_assert!(name != "." && name != "..");
                prop_assert!(object_store::path::PathPart::parse(&name).is_ok());
            }
        }

        #[test]
        fn kubernetes_like_names_are_valid(name in "[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\\.[a-z0-9]{1,5}){0,3}") {
            prop_assert!(is_valid_name(&name), "{}", name);
        }
    }
}
