//! The flags that choose objects and shape a restore, shared by `backup create`,
//! `restore create`, `restore plan` and `migrate`, parsed once into the types the custom
//! resources hold. A malformed value is a clap error naming its flag.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// A label selector given on the command line, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector(pub LabelSelector);

/// `--or-selector`: selectors separated by ` or `.
#[derive(Debug, Clone, PartialEq)]
pub struct OrSelectors(pub Vec<LabelSelector>);

/// `--namespace-mappings`: `old:new,old2:new2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceMappings(pub BTreeMap<String, String>);

/// `--existing-resource-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Policy {
    /// Leave objects that already exist alone (warn when they differ).
    None,
    /// Patch objects that already exist to match the backup.
    Update,
}

/// Parses selector text (`app=web,tier in (a,b)`) into Kubernetes' `LabelSelector`.
pub fn parse_selector(text: &str) -> Result<Selector, String> {
    let parsed = godwit_restore::LabelSelector::parse(text).map_err(|err| err.to_string())?;
    // The engine's selector serializes with Kubernetes' field names, so this cannot drift.
    let value = serde_json::to_value(&parsed).map_err(|err| err.to_string())?;
    serde_json::from_value(value)
        .map(Selector)
        .map_err(|err| err.to_string())
}

/// Parses `a=b or c=d`.
pub fn parse_or_selectors(text: &str) -> Result<OrSelectors, String> {
    text.split(" or ")
        .map(|part| parse_selector(part.trim()).map(|s| s.0))
        .collect::<Result<Vec<_>, _>>()
        .map(OrSelectors)
}

/// Parses `old:new,old2:new2`.
pub fn parse_namespace_mappings(text: &str) -> Result<NamespaceMappings, String> {
    let mapping = godwit_restore::parse_namespace_mapping(text).map_err(|err| err.to_string())?;
    if mapping.is_empty() {
        return Err("no mapping given; write old:new,old2:new2".to_owned());
    }
    Ok(NamespaceMappings(mapping))
}

/// Which objects to take (backup) or bring back (restore).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FilterArgs {
    /// Namespaces to include, comma separated; '*' (the default) means all.
    #[arg(long, value_delimiter = ',', value_name = "NAMESPACES")]
    pub include_namespaces: Vec<String>,

    /// Namespaces to exclude, comma separated.
    #[arg(long, value_delimiter = ',', value_name = "NAMESPACES")]
    pub exclude_namespaces: Vec<String>,

    /// Resources to include, comma separated (deployments, deploy.apps, rockbands.music.example.io); '*' means all.
    #[arg(long, value_delimiter = ',', value_name = "RESOURCES")]
    pub include_resources: Vec<String>,

    /// Resources to exclude, comma separated.
    #[arg(long, value_delimiter = ',', value_name = "RESOURCES")]
    pub exclude_resources: Vec<String>,

    /// Include cluster-scoped resources (true or false); unset means Velero's default (only when
    /// all namespaces are included).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub include_cluster_resources: Option<bool>,

    /// Only objects matching this label selector (app=web,tier in (a,b)).
    #[arg(short = 'l', long, value_parser = parse_selector, value_name = "SELECTOR")]
    pub selector: Option<Selector>,

    /// Objects matching at least one of these label selectors, separated by ' or ' (app=web or app=db).
    #[arg(long, value_parser = parse_or_selectors, conflicts_with = "selector", value_name = "SELECTORS")]
    pub or_selector: Option<OrSelectors>,
}

/// How a restore treats namespaces, existing objects and node ports.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RestoreShapeArgs {
    /// Namespace mappings from the backup's names to the target's, as old:new,old2:new2.
    #[arg(long, value_parser = parse_namespace_mappings, value_name = "MAPPINGS")]
    pub namespace_mappings: Option<NamespaceMappings>,

    /// What to do with an object that already exists in the target.
    #[arg(long, value_enum, value_name = "POLICY")]
    pub existing_resource_policy: Option<Policy>,

    /// Keep every Service node port from the backup (true or false).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub preserve_nodeports: Option<bool>,

    /// Resources whose backed-up status is restored too, comma separated ('*' for all).
    #[arg(long, value_delimiter = ',', value_name = "RESOURCES")]
    pub status_include_resources: Vec<String>,

    /// Resources whose status is not restored, comma separated.
    #[arg(long, value_delimiter = ',', value_name = "RESOURCES")]
    pub status_exclude_resources: Vec<String>,
}

fn non_empty(list: &[String]) -> Option<Vec<String>> {
    (!list.is_empty()).then(|| list.to_vec())
}

impl FilterArgs {
    /// Fills the filter fields of a Backup's spec.
    pub fn apply_to_backup(&self, spec: &mut godwit_api::BackupSpec) {
        spec.included_namespaces = non_empty(&self.include_namespaces);
        spec.excluded_namespaces = non_empty(&self.exclude_namespaces);
        spec.included_resources = non_empty(&self.include_resources);
        spec.excluded_resources = non_empty(&self.exclude_resources);
        spec.include_cluster_resources = self.include_cluster_resources;
        spec.label_selector = self.selector.as_ref().map(|s| s.0.clone());
        spec.or_label_selectors = self.or_selector.as_ref().map(|s| s.0.clone());
    }

    /// Fills the filter fields of a Restore's spec.
    pub fn apply_to_restore(&self, spec: &mut godwit_api::RestoreSpec) {
        spec.included_namespaces = non_empty(&self.include_namespaces);
        spec.excluded_namespaces = non_empty(&self.exclude_namespaces);
        spec.included_resources = non_empty(&self.include_resources);
        spec.excluded_resources = non_empty(&self.exclude_resources);
        spec.include_cluster_resources = self.include_cluster_resources;
        spec.label_selector = self.selector.as_ref().map(|s| s.0.clone());
        spec.or_label_selectors = self.or_selector.as_ref().map(|s| s.0.clone());
    }
}

impl RestoreShapeArgs {
    /// Fills the mapping, policy and node-port fields of a Restore's spec.
    pub fn apply_to_restore(&self, spec: &mut godwit_api::RestoreSpec) {
        spec.namespace_mapping = self.namespace_mappings.as_ref().map(|m| m.0.clone());
        spec.existing_resource_policy = self.existing_resource_policy.map(|p| match p {
            Policy::None => godwit_api::ExistingResourcePolicy::None,
            Policy::Update => godwit_api::ExistingResourcePolicy::Update,
        });
        spec.preserve_node_ports = self.preserve_nodeports;
        // As Velero's CLI: a restoreStatus only when one of its flags is given.
        if !self.status_include_resources.is_empty() || !self.status_exclude_resources.is_empty() {
            spec.restore_status = Some(godwit_api::RestoreStatusSpec {
                included_resources: non_empty(&self.status_include_resources),
                excluded_resources: non_empty(&self.status_exclude_resources),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_become_kubernetes_label_selectors() {
        let check = |text: &str, expected: serde_json::Value| {
            let selector = parse_selector(text).unwrap();
            assert_eq!(
                serde_json::to_value(&selector.0).unwrap(),
                expected,
                "{text}"
            );
        };
        check(
            "app=web",
            serde_json::json!({"matchLabels": {"app": "web"}}),
        );
        check(
            "app=web,tier in (a,b),!canary",
            serde_json::json!({
                "matchLabels": {"app": "web"},
                "matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["a", "b"]},
                    {"key": "canary", "operator": "DoesNotExist"}
                ]
            }),
        );
        assert!(parse_selector("app in (").is_err());
    }

    #[test]
    fn or_selectors_split_on_or() {
        let parsed = parse_or_selectors("app=web or app=db").unwrap();
        assert_eq!(parsed.0.len(), 2);
        assert!(parse_or_selectors("app=web or").is_err());
    }

    #[test]
    fn namespace_mappings_parse_or_name_the_entry() {
        let check = |text: &str, expected: Result<&[(&str, &str)], &str>| {
            let got = parse_namespace_mappings(text);
            match expected {
                Ok(pairs) => {
                    let want: BTreeMap<String, String> = pairs
                        .iter()
                        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                        .collect();
                    assert_eq!(got.unwrap().0, want, "{text}");
                }
                Err(fragment) => {
                    let err = got.unwrap_err();
                    assert!(err.contains(fragment), "{text}: {err}");
                }
            }
        };
        check("a:b", Ok(&[("a", "b")]));
        check("a:b,c:d", Ok(&[("a", "b"), ("c", "d")]));
        check("a", Err("\"a\""));
        check("a:b:c", Err("\"a:b:c\""));
        check("", Err("no mapping"));
    }
}
