//! What a restore is asked to do (Velero's `Restore.spec` plus the server's switches), parsed
//! once into types: the existing-resource policy, namespace mappings, selectors, priorities.

use std::collections::BTreeMap;
use std::fmt;

use godwit_ordering::Priorities;
use godwit_versioning::UserPriorities;
use serde::{Deserialize, Serialize};

use crate::{Error, LabelSelector};

/// What to do with an object that already exists in the target (`--existing-resource-policy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ExistingResourcePolicy {
    /// Leave the live object alone; warn when it differs from the backup (Velero's default).
    #[default]
    None,
    /// Merge-patch the live object to match the backup.
    Update,
}

impl ExistingResourcePolicy {
    /// Reads the flag value: `none`, `update`, or empty for the default (`none`).
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text.trim() {
            "" | "none" => Ok(ExistingResourcePolicy::None),
            "update" => Ok(ExistingResourcePolicy::Update),
            other => Err(Error::InvalidPolicy {
                value: other.to_owned(),
            }),
        }
    }
}

impl fmt::Display for ExistingResourcePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExistingResourcePolicy::None => "none",
            ExistingResourcePolicy::Update => "update",
        })
    }
}

/// Everything the planner needs to know about one restore besides the backup and the target.
#[derive(Debug, Clone)]
pub struct RestoreSpec {
    /// The backup's name (value of the `velero.io/backup-name` label).
    pub backup_name: String,
    /// The restore's name (value of the `velero.io/restore-name` label).
    pub restore_name: String,
    /// Namespaces to restore (`*` patterns allowed); empty means all.
    pub included_namespaces: Vec<String>,
    /// Namespaces not to restore (`*` patterns allowed, but not `*` alone).
    pub excluded_namespaces: Vec<String>,
    /// Resources to restore, as users write them (`deploy`, `rockbands.music.example.io`, `*`);
    /// empty means all.
    pub included_resources: Vec<String>,
    /// Resources not to restore.
    pub excluded_resources: Vec<String>,
    /// Restore only objects whose backed-up labels match.
    pub label_selector: Option<LabelSelector>,
    /// Restore only objects whose backed-up labels match one of these.
    pub or_label_selectors: Vec<LabelSelector>,
    /// Source namespace to target namespace.
    pub namespace_mapping: BTreeMap<String, String>,
    /// What to do with objects that already exist.
    pub existing_resource_policy: ExistingResourcePolicy,
    /// Keep every Service node port.
    pub preserve_node_ports: bool,
    /// Velero's tri-state: `None` restores cluster-scoped objects only when all namespaces are
    /// restored, `Some(true)` always, `Some(false)` never.
    pub include_cluster_resources: Option<bool>,
    /// The server's `EnableAPIGroupVersions` feature flag.
    pub enable_api_group_versions: bool,
    /// Restore resource priorities (`--restore-resource-priorities`).
    pub resource_priorities: Priorities,
    /// User version priorities (the `enableapigroupversions` ConfigMap).
    pub user_priorities: UserPriorities,
    /// Velero's `restoreStatus`: the resources whose backed-up `status` is written back through
    /// the status subresource after the create. `None` restores no status.
    pub restore_status: Option<ResourceSelection>,
    /// Warnings about the request itself (fields godwit accepts but has nothing to do with),
    /// reported among the restore's warnings.
    pub request_warnings: Vec<String>,
    /// The Kubernetes version the backup was taken from (its Backup's
    /// `velero.io/source-cluster-k8s-*` labels), for the pitfalls; `None` when not recorded.
    pub source_version: Option<crate::ServerVersion>,
}

/// Resources by name as users write them, Velero's include/exclude way: excluded wins; no
/// includes, or `*`, means all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceSelection {
    /// Resources in (`pods`, `deployments.apps`, `*`); empty means all.
    pub included: Vec<String>,
    /// Resources out.
    pub excluded: Vec<String>,
}

impl RestoreSpec {
    /// A spec restoring everything of `backup_name` as `restore_name`, with Velero's defaults.
    pub fn new(backup_name: impl Into<String>, restore_name: impl Into<String>) -> Self {
        RestoreSpec {
            backup_name: backup_name.into(),
            restore_name: restore_name.into(),
            included_namespaces: Vec::new(),
            excluded_namespaces: Vec::new(),
            included_resources: Vec::new(),
            excluded_resources: Vec::new(),
            label_selector: None,
            or_label_selectors: Vec::new(),
            namespace_mapping: BTreeMap::new(),
            existing_resource_policy: ExistingResourcePolicy::None,
            preserve_node_ports: false,
            include_cluster_resources: None,
            enable_api_group_versions: false,
            resource_priorities: Priorities::restore_default(),
            user_priorities: UserPriorities::default(),
            restore_status: None,
            request_warnings: Vec::new(),
            source_version: None,
        }
    }

    /// The namespace an object of `namespace` is restored into.
    pub fn target_namespace<'a>(&'a self, namespace: &'a str) -> &'a str {
        self.namespace_mapping
            .get(namespace)
            .map_or(namespace, String::as_str)
    }
}

/// Reads `--namespace-mappings`: `old:new,old2:new2`.
pub fn parse_namespace_mapping(text: &str) -> Result<BTreeMap<String, String>, Error> {
    let mut mapping = BTreeMap::new();
    for entry in text.split(',').filter(|e| !e.trim().is_empty()) {
        let invalid = || Error::InvalidNamespaceMapping {
            entry: entry.to_owned(),
        };
        let (old, new) = entry.split_once(':').ok_or_else(invalid)?;
        let (old, new) = (old.trim(), new.trim());
        if old.is_empty() || new.is_empty() || new.contains(':') {
            return Err(invalid());
        }
        mapping.insert(old.to_owned(), new.to_owned());
    }
    Ok(mapping)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_is_none_or_update() {
        let check = |text: &str, expected: Option<ExistingResourcePolicy>| {
            assert_eq!(ExistingResourcePolicy::parse(text).ok(), expected, "{text}");
        };
        check("", Some(ExistingResourcePolicy::None));
        check("none", Some(ExistingResourcePolicy::None));
        check("update", Some(ExistingResourcePolicy::Update));
        check("Update", None);
        check("replace", None);
        let err = ExistingResourcePolicy::parse("replace")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "invalid existing resource policy \"replace\"; use none or update"
        );
    }

    #[test]
    fn namespace_mappings() {
        let mapping = parse_namespace_mapping("a:b, c:d").unwrap();
        assert_eq!(mapping.get("a").map(String::as_str), Some("b"));
        assert_eq!(mapping.get("c").map(String::as_str), Some("d"));
        for bad in ["a", "a:", ":b", "a:b:c"] {
            assert!(parse_namespace_mapping(bad).is_err(), "{bad}");
        }
    }
}
