//! `GroupResource`: a resource plus its API group, parsed once from `<resource>.<group>` (the
//! spelling of backup tarball paths, Velero flags and the version-priority ConfigMap).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Error;

/// A resource of an API group, such as `deployments.apps` or `pods` (core group).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GroupResource {
    /// The API group; empty for the core group (`/api/v1`).
    pub group: String,
    /// The plural resource name, lower case (`deployments`).
    pub resource: String,
}

impl GroupResource {
    /// Builds one from its parts without checking them.
    pub fn new(group: impl Into<String>, resource: impl Into<String>) -> Self {
        GroupResource {
            group: group.into(),
            resource: resource.into(),
        }
    }

    /// Parses `<resource>.<group>` or a bare `<resource>` (core group). The resource is the part
    /// before the first dot: `rockbands.music.example.io` is `rockbands` of `music.example.io`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let invalid = |why: &'static str| Error::InvalidGroupResource {
            text: text.to_owned(),
            why,
        };
        let (resource, group) = text.split_once('.').unwrap_or((text, ""));
        if resource.is_empty() {
            return Err(invalid("the resource name is empty"));
        }
        if !resource
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(invalid(
                "a resource name has only lower-case letters, digits and '-'",
            ));
        }
        if text.contains('.') && (group.is_empty() || group.split('.').any(str::is_empty)) {
            return Err(invalid("the group has an empty label"));
        }
        if !group
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        {
            return Err(invalid(
                "a group name has only lower-case letters, digits, '-' and '.'",
            ));
        }
        Ok(GroupResource::new(group, resource))
    }

    /// True for the core group (`pods`, `namespaces`), served under `/api`.
    pub fn is_core(&self) -> bool {
        self.group.is_empty()
    }
}

impl fmt::Display for GroupResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.resource)
        } else {
            write!(f, "{}.{}", self.resource, self.group)
        }
    }
}

impl std::str::FromStr for GroupResource {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self, Error> {
        GroupResource::parse(text)
    }
}

impl TryFrom<String> for GroupResource {
    type Error = Error;
    fn try_from(text: String) -> Result<Self, Error> {
        GroupResource::parse(&text)
    }
}

impl From<GroupResource> for String {
    fn from(gr: GroupResource) -> String {
        gr.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Result<(&str, &str), &str>) {
        let got = GroupResource::parse(text);
        match expected {
            Ok((group, resource)) => {
                let gr = got.unwrap_or_else(|err| panic!("{text}: {err}"));
                assert_eq!((gr.group.as_str(), gr.resource.as_str()), (group, resource));
                assert_eq!(gr.to_string(), text, "display round-trips");
            }
            Err(fragment) => {
                let err = got.expect_err(text).to_string();
                assert!(err.contains(fragment), "{text}: {err}");
            }
        }
    }

    #[test]
    fn parses_and_rejects() {
        check("pods", Ok(("", "pods")));
        check("deployments.apps", Ok(("apps", "deployments")));
        check(
            "rockbands.music.example.io",
            Ok(("music.example.io", "rockbands")),
        );
        check("", Err("resource name is empty"));
        check(".apps", Err("resource name is empty"));
        check("pods.", Err("empty label"));
        check("a.b..c", Err("empty label"));
        check("Pods", Err("lower-case"));
        check("pods.Apps", Err("lower-case"));
        check("pods apps", Err("lower-case"));
    }

    #[test]
    fn serde_uses_the_dotted_form() {
        let gr: GroupResource = serde_json::from_str("\"deployments.apps\"").unwrap();
        assert_eq!(gr, GroupResource::new("apps", "deployments"));
        assert_eq!(serde_json::to_string(&gr).unwrap(), "\"deployments.apps\"");
        let err = serde_json::from_str::<GroupResource>("\"Bad\"").unwrap_err();
        assert!(err.to_string().contains("invalid group-resource"), "{err}");
    }
}
