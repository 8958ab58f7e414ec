//! What a backup asks for (Velero's `BackupSpec` fields that choose objects), and its validation
//! into a [`ValidSpec`] that every later step relies on. Validation is pure and happens before any
//! request; each error names the field as Velero's API spells it (`spec.orLabelSelectors[1]`).
//!
//! Two steps: [`BackupSpec::validate`] checks what needs no cluster (selectors, namespace names,
//! include/exclude lists); [`ValidSpec::resolve`] then resolves resource names against discovery
//! (`deploy` → `deployments.apps`), where an included name the cluster does not serve is an
//! error naming its field. Velero drops such names silently; godwit refuses them so a typo cannot
//! turn a targeted backup into an empty one. An excluded name the cluster does not serve excludes
//! nothing and is reported as a warning.

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::filter::{NamespaceFilter, ResourceFilter};
use crate::selector::LabelSelector;
use godwit_discovery::Discovery;

/// The parts of Velero's `BackupSpec` that choose what a backup holds (camelCase as in Velero's
/// CRD). Label selectors are in their text form (`app=web,tier in (a,b)`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupSpec {
    /// Namespaces to back up; empty or `["*"]` means all. `*` works as a wildcard inside a name
    /// (`app-*`).
    #[serde(default)]
    pub included_namespaces: Vec<String>,
    /// Namespaces to leave out; wins over inclusion.
    #[serde(default)]
    pub excluded_namespaces: Vec<String>,
    /// Resources to back up (`deployments`, `deploy`, `rockbands.music.example.io`); empty or
    /// `["*"]` means all.
    #[serde(default)]
    pub included_resources: Vec<String>,
    /// Resources to leave out; wins over inclusion.
    #[serde(default)]
    pub excluded_resources: Vec<String>,
    /// Cluster-scoped resources: `Some(true)` all that the resource filter allows, `Some(false)`
    /// none, `None` Velero's default (all when no namespace filter is set; otherwise only the
    /// CRDs of backed-up custom resources).
    #[serde(default)]
    pub include_cluster_resources: Option<bool>,
    /// Only objects whose labels match.
    #[serde(default)]
    pub label_selector: Option<String>,
    /// Objects matching any of these; cannot be combined with `label_selector`.
    #[serde(default)]
    pub or_label_selectors: Vec<String>,
}

/// A [`BackupSpec`] whose syntax is checked: filters built, selectors parsed. Resource names are
/// not resolved yet (that needs discovery).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSpec {
    /// The namespace filter.
    pub namespaces: NamespaceFilter,
    /// Resource names as given, with their field names, to resolve against discovery.
    included_resources: Vec<String>,
    excluded_resources: Vec<String>,
    /// The include-cluster-resources switch.
    pub include_cluster_resources: Option<bool>,
    /// The selectors to list with: one for a plain selector, several for OR-selectors, none to
    /// select everything.
    pub selectors: Vec<LabelSelector>,
    /// Whether any selector was given (Velero then skips namespaces that only match by name).
    pub has_selectors: bool,
}

/// A [`ValidSpec`] with its resource names resolved against one cluster's discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The namespace filter.
    pub namespaces: NamespaceFilter,
    /// The resource filter, over resolved group-resources.
    pub resources: ResourceFilter,
    /// The include-cluster-resources switch.
    pub include_cluster_resources: Option<bool>,
    /// The selectors to list with; empty selects everything.
    pub selectors: Vec<LabelSelector>,
    /// Whether any selector was given.
    pub has_selectors: bool,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
    Error::InvalidSpec {
        field: field.into(),
        message: message.into(),
    }
}

impl BackupSpec {
    /// Checks everything that needs no cluster. The first problem is returned, naming its field.
    pub fn validate(&self) -> Result<ValidSpec, Error> {
        check_list("spec.includedNamespaces", &self.included_namespaces, true)?;
        check_list("spec.excludedNamespaces", &self.excluded_namespaces, false)?;
        for (field, names) in [
            ("spec.includedNamespaces", &self.included_namespaces),
            ("spec.excludedNamespaces", &self.excluded_namespaces),
        ] {
            for (index, name) in names.iter().enumerate() {
                check_namespace_pattern(name)
                    .map_err(|m| invalid(format!("{field}[{index}]"), m))?;
            }
        }
        check_list("spec.includedResources", &self.included_resources, true)?;
        check_list("spec.excludedResources", &self.excluded_resources, false)?;
        for (field, names) in [
            ("spec.includedResources", &self.included_resources),
            ("spec.excludedResources", &self.excluded_resources),
        ] {
            for (index, name) in names.iter().enumerate() {
                if name.trim().is_empty() {
                    return Err(invalid(
                        format!("{field}[{index}]"),
                        "an empty resource name; remove it or write a resource such as deployments.apps",
                    ));
                }
            }
        }

        let label_selector = match &self.label_selector {
            Some(text) => Some(LabelSelector::parse(text).map_err(|m| {
                invalid(
                    "spec.labelSelector",
                    format!("{text:?} is not a label selector: {m}"),
                )
            })?),
            None => None,
        };
        let mut or_selectors = Vec::with_capacity(self.or_label_selectors.len());
        for (index, text) in self.or_label_selectors.iter().enumerate() {
            let selector = LabelSelector::parse(text).map_err(|m| {
                invalid(
                    format!("spec.orLabelSelectors[{index}]"),
                    format!("{text:?} is not a label selector: {m}"),
                )
            })?;
            or_selectors.push(selector);
        }
        if label_selector.is_some() && !or_selectors.is_empty() {
            return Err(invalid(
                "spec.orLabelSelectors",
                "cannot be combined with spec.labelSelector; put the plain selector into the OR list, or drop one",
            ));
        }
        let has_selectors = label_selector.is_some() || !or_selectors.is_empty();
        let selectors = if or_selectors.is_empty() {
            label_selector.into_iter().collect()
        } else {
            or_selectors
        };
        let namespaces = NamespaceFilter::new(&self.included_namespaces, &self.excluded_namespaces);
        if let Some(both) = namespaces.overlap() {
            return Err(invalid(
                "spec.excludedNamespaces",
                format!("{both:?} is both included and excluded; drop it from one of the lists"),
            ));
        }
        Ok(ValidSpec {
            namespaces,
            included_resources: self.included_resources.clone(),
            excluded_resources: self.excluded_resources.clone(),
            include_cluster_resources: self.include_cluster_resources,
            selectors,
            has_selectors,
        })
    }
}

impl ValidSpec {
    /// Resolves resource names against discovery. An included name that resolves to nothing (or
    /// to several groups) is an error naming its field; an excluded one is returned as a warning.
    pub fn resolve(&self, discovery: &Discovery) -> Result<(Selection, Vec<String>), Error> {
        let mut includes = Vec::new();
        let mut include_all = self.included_resources.is_empty();
        for (index, name) in self.included_resources.iter().enumerate() {
            if name == "*" {
                include_all = true;
                continue;
            }
            let group_resource = discovery.resolve(name).map_err(|err| {
                invalid(format!("spec.includedResources[{index}]"), err.to_string())
            })?;
            includes.push(group_resource);
        }
        let mut excludes = Vec::new();
        let mut warnings = Vec::new();
        for (index, name) in self.excluded_resources.iter().enumerate() {
            match discovery.resolve(name) {
                Ok(group_resource) => excludes.push(group_resource),
                Err(err) => warnings.push(format!(
                    "spec.excludedResources[{index}] excludes nothing: {err}"
                )),
            }
        }
        let resources = ResourceFilter::new(include_all, includes, excludes);
        if let Some(both) = resources.overlap() {
            return Err(invalid(
                "spec.excludedResources",
                format!("{both} is both included and excluded; drop it from one of the lists"),
            ));
        }
        let selection = Selection {
            namespaces: self.namespaces.clone(),
            resources,
            include_cluster_resources: self.include_cluster_resources,
            selectors: self.selectors.clone(),
            has_selectors: self.has_selectors,
        };
        Ok((selection, warnings))
    }
}

/// Velero's list rules: `*` alone or not at all in an include list, never in an exclude list,
/// and nothing both included and excluded.
fn check_list(field: &str, items: &[String], is_include: bool) -> Result<(), Error> {
    if is_include {
        if items.len() > 1 && items.iter().any(|i| i == "*") {
            let index = items.iter().position(|i| i == "*").unwrap_or_default();
            return Err(invalid(
                format!("{field}[{index}]"),
                "'*' must be the only entry of an include list; drop it or the other entries",
            ));
        }
    } else if let Some(index) = items.iter().position(|i| i == "*") {
        return Err(invalid(
            format!("{field}[{index}]"),
            "an exclude list cannot contain '*'; to back up nothing, do not create the backup",
        ));
    }
    Ok(())
}

/// A namespace name, where `*` stands for any text: a DNS-1123 label once each `*` is read as a
/// letter (Velero's rule).
fn check_namespace_pattern(name: &str) -> Result<(), String> {
    if name == "*" {
        return Ok(());
    }
    let probe = name.replace('*', "x");
    let bytes = probe.as_bytes();
    let valid = !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid namespace {name:?}: a namespace is a lower-case DNS label (letters, digits, \
             '-', at most 63 characters), optionally with '*' wildcards"
        ))
    }
}

#[cfg(test)]
mod tests;
