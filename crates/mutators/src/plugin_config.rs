//! The plugin ConfigMaps of Velero's built-in actions, parsed once into typed mappings.
//!
//! A ConfigMap in the server's namespace configures an action when it carries the label
//! `velero.io/plugin-config` (any value) and `<action label>: RestoreItemAction`:
//! `velero.io/change-storage-class` and `velero.io/change-pvc-node-selector` map old names to new
//! ones, one `old: new` entry each; `velero.io/change-image-name` holds rules
//! `<any key>: "<old part>,<new part>"`. A bad entry becomes a [`Problem`] and is left out, so
//! objects it would have touched are restored unchanged by that action.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::Problem;
use crate::json::get_str;

/// Label every plugin ConfigMap carries (its value does not matter).
pub const PLUGIN_CONFIG_LABEL: &str = "velero.io/plugin-config";
/// Value of the action label that marks a ConfigMap as a restore item action's configuration.
pub const RESTORE_ITEM_ACTION: &str = "RestoreItemAction";
/// Action label of the storage-class mapping.
pub const CHANGE_STORAGE_CLASS: &str = "velero.io/change-storage-class";
/// Action label of the node mapping.
pub const CHANGE_PVC_NODE_SELECTOR: &str = "velero.io/change-pvc-node-selector";
/// Action label of the image name mapping.
pub const CHANGE_IMAGE_NAME: &str = "velero.io/change-image-name";

/// The three ConfigMap-driven mappings of a restore.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginConfigs {
    /// Old storage class name to new.
    pub storage_class: NameMapping,
    /// Old node name to new.
    pub node: NameMapping,
    /// Image rewriting rules.
    pub image_name: ImageNameMapping,
}

impl PluginConfigs {
    /// Picks the plugin ConfigMaps out of the ConfigMaps of the server's namespace and parses
    /// them. Unusable entries and ambiguous configurations come back as problems.
    pub fn from_config_maps(config_maps: &[Value]) -> (Self, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut data_of = |label: &str| -> Option<(String, Value)> {
            let matching: Vec<&Value> = config_maps
                .iter()
                .filter(|cm| configures(cm, label))
                .collect();
            match matching.as_slice() {
                [] => None,
                [one] => Some((
                    config_map_id(one),
                    one.get("data").cloned().unwrap_or(Value::Null),
                )),
                many => {
                    problems.push(Problem::AmbiguousPluginConfig {
                        label: label.to_owned(),
                        config_maps: many.iter().map(|cm| config_map_id(cm)).collect(),
                    });
                    None
                }
            }
        };
        let storage = data_of(CHANGE_STORAGE_CLASS);
        let node = data_of(CHANGE_PVC_NODE_SELECTOR);
        let image = data_of(CHANGE_IMAGE_NAME);

        let mut configs = PluginConfigs::default();
        if let Some((id, data)) = storage {
            let (mapping, found) = NameMapping::from_data(&id, &data);
            configs.storage_class = mapping;
            problems.extend(found);
        }
        if let Some((id, data)) = node {
            let (mapping, found) = NameMapping::from_data(&id, &data);
            configs.node = mapping;
            problems.extend(found);
        }
        if let Some((id, data)) = image {
            let (mapping, found) = ImageNameMapping::from_data(&id, &data);
            configs.image_name = mapping;
            problems.extend(found);
        }
        (configs, problems)
    }
}

/// True when the ConfigMap carries `velero.io/plugin-config` and `<label>: RestoreItemAction`.
fn configures(config_map: &Value, label: &str) -> bool {
    let Some(labels) = config_map
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
    else {
        return false;
    };
    labels.contains_key(PLUGIN_CONFIG_LABEL)
        && labels.get(label).and_then(Value::as_str) == Some(RESTORE_ITEM_ACTION)
}

fn config_map_id(config_map: &Value) -> String {
    let namespace = get_str(config_map, &["metadata", "namespace"]).unwrap_or("");
    let name = get_str(config_map, &["metadata", "name"]).unwrap_or("<unnamed>");
    if namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}/{name}")
    }
}

/// The string entries of a ConfigMap's `data`, with a problem for each entry that is not a
/// string. `null` or absent data is empty.
fn string_entries(config_map: &str, data: &Value) -> (Vec<(String, String)>, Vec<Problem>) {
    let mut problems = Vec::new();
    let entries = match data {
        Value::Null => Vec::new(),
        Value::Object(map) => map
            .iter()
            .filter_map(|(key, value)| match value {
                Value::String(text) => Some((key.clone(), text.clone())),
                _ => {
                    problems.push(Problem::InvalidConfigMapEntry {
                        config_map: config_map.to_owned(),
                        key: key.clone(),
                        why: "the value is not a string".to_owned(),
                    });
                    None
                }
            })
            .collect(),
        _ => {
            problems.push(Problem::InvalidConfigMap {
                config_map: config_map.to_owned(),
                why: "data is not a map of strings".to_owned(),
            });
            Vec::new()
        }
    };
    (entries, problems)
}

/// Old name to new name, for storage classes or nodes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameMapping(BTreeMap<String, String>);

impl NameMapping {
    /// Parses a ConfigMap's `data`. Both sides of an entry must be valid object names
    /// (lower-case DNS subdomains, as storage classes and nodes are); other entries are left out
    /// with a problem.
    pub fn from_data(config_map: &str, data: &Value) -> (Self, Vec<Problem>) {
        let (entries, mut problems) = string_entries(config_map, data);
        let mut mapping = BTreeMap::new();
        for (key, value) in entries {
            let why = if let Err(why) = check_name(&key) {
                Some(format!("the old name {key:?} {why}"))
            } else if let Err(why) = check_name(&value) {
                Some(format!("the new name {value:?} {why}"))
            } else {
                None
            };
            match why {
                Some(why) => problems.push(Problem::InvalidConfigMapEntry {
                    config_map: config_map.to_owned(),
                    key,
                    why,
                }),
                None => {
                    mapping.insert(key, value);
                }
            }
        }
        (NameMapping(mapping), problems)
    }

    /// The new name for `name`, if mapped.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// True when nothing is mapped.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Builds a mapping from trusted pairs, without checking them.
impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for NameMapping {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        NameMapping(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

/// Checks a DNS-1123 subdomain, the form of storage class and node names.
fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("is empty");
    }
    if name.len() > 253 {
        return Err("is longer than 253 characters");
    }
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.';
    if !name.bytes().all(allowed) {
        return Err("may hold only lower-case letters, digits, '-' and '.'");
    }
    let alphanumeric =
        |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !alphanumeric(name.bytes().next()) || !alphanumeric(name.bytes().last()) {
        return Err("must start and end with a letter or digit");
    }
    Ok(())
}

/// One image rule: every image containing `from` has each occurrence replaced by `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRule {
    /// The ConfigMap key it came from (rules are tried in key order).
    pub key: String,
    /// The part of an image name to replace (trimmed, never empty).
    pub from: String,
    /// What replaces it (trimmed; may be empty, which deletes the part).
    pub to: String,
}

/// Image name rewriting rules, tried in the order of their ConfigMap keys; the first rule whose
/// old part occurs in an image wins.
///
/// Velero tries the entries in Go's random map order; sorting by key makes the choice
/// reproducible when several rules match one image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageNameMapping(Vec<ImageRule>);

impl ImageNameMapping {
    /// Parses a ConfigMap's `data`: each value is `<old part>,<new part>`, split at the first
    /// comma, both sides trimmed (`"1.1.1.1:5000,2.2.2.2:3000"`, `"abc:test,edf:test"`).
    pub fn from_data(config_map: &str, data: &Value) -> (Self, Vec<Problem>) {
        let (entries, mut problems) = string_entries(config_map, data);
        let mut rules = Vec::new();
        for (key, value) in entries {
            match parse_image_rule(&value) {
                Ok((from, to)) => rules.push(ImageRule { key, from, to }),
                Err(why) => problems.push(Problem::InvalidConfigMapEntry {
                    config_map: config_map.to_owned(),
                    key,
                    why: format!("{value:?} {why}"),
                }),
            }
        }
        (ImageNameMapping(rules), problems)
    }

    /// Builds rules from trusted `(key, from, to)` triples, without checking them.
    pub fn from_rules(rules: impl IntoIterator<Item = ImageRule>) -> Self {
        let mut rules: Vec<ImageRule> = rules.into_iter().collect();
        rules.sort_by(|a, b| a.key.cmp(&b.key));
        ImageNameMapping(rules)
    }

    /// The rewritten image name, if a rule matches.
    pub fn rewrite(&self, image: &str) -> Option<String> {
        self.0
            .iter()
            .find(|rule| !rule.from.is_empty() && image.contains(rule.from.as_str()))
            .map(|rule| image.replace(rule.from.as_str(), &rule.to))
    }

    /// True when there is no rule.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The rules, in the order they are tried.
    pub fn rules(&self) -> &[ImageRule] {
        &self.0
    }
}

fn parse_image_rule(value: &str) -> Result<(String, String), &'static str> {
    let Some((from, to)) = value.split_once(',') else {
        return Err("has no ',' between the old and the new part");
    };
    // Velero ignores a rule with nothing after the comma; an empty old part would match every
    // image and scatter the new part between all its characters.
    if to.is_empty() {
        return Err("has nothing after the ','");
    }
    let from = from.trim();
    if from.is_empty() {
        return Err("has an empty old part");
    }
    Ok((from.to_owned(), to.trim().to_owned()))
}

#[cfg(test)]
mod tests;
