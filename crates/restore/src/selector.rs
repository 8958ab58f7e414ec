//! Label selectors as Kubernetes writes them (`matchLabels`, `matchExpressions`), parsed once
//! from the `--selector` text and matched against the labels an object had in the backup.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Error;

/// A Kubernetes `LabelSelector`: every `match_labels` entry and every expression must hold.
/// An empty selector matches everything, as in Kubernetes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// Labels that must be present with exactly this value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    /// Further requirements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelectorRequirement {
    /// The label key.
    pub key: String,
    /// How the label is tested.
    pub operator: Operator,
    /// The values for `In` and `NotIn`; empty for the others.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// The operators of a `matchExpressions` entry, spelled as Kubernetes spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operator {
    /// The label is present with one of the values.
    In,
    /// The label is absent, or present with none of the values.
    NotIn,
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
}

impl LabelSelector {
    /// Parses the `--selector` text: comma-separated `key=value`, `key==value`, `key!=value`,
    /// `key in (a,b)`, `key notin (a,b)`, `key` and `!key`. Empty text is the empty selector.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let invalid = |why: String| Error::InvalidSelector {
            selector: text.to_owned(),
            why,
        };
        let mut selector = LabelSelector::default();
        for term in split_terms(text).map_err(|why| invalid(why.to_owned()))? {
            let term = term.trim();
            if term.is_empty() {
                return Err(invalid("an empty requirement".to_owned()));
            }
            let requirement =
                parse_term(term).map_err(|why| invalid(format!("{term:?}: {why}")))?;
            match requirement {
                Term::Equals(key, value) => {
                    selector.match_labels.insert(key, value);
                }
                Term::Expression(expression) => selector.match_expressions.push(expression),
            }
        }
        Ok(selector)
    }

    /// Whether an object with these labels is selected.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(key, value)| labels.get(key) == Some(value))
            && self.match_expressions.iter().all(|requirement| {
                let value = labels.get(&requirement.key);
                match requirement.operator {
                    Operator::In => value.is_some_and(|v| requirement.values.contains(v)),
                    Operator::NotIn => value.is_none_or(|v| !requirement.values.contains(v)),
                    Operator::Exists => value.is_some(),
                    Operator::DoesNotExist => value.is_none(),
                }
            })
    }
}

enum Term {
    Equals(String, String),
    Expression(LabelSelectorRequirement),
}

/// Splits at commas outside parentheses.
fn split_terms(text: &str) -> Result<Vec<&str>, &'static str> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut terms = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (index, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.checked_sub(1).ok_or("a ')' without '('")?,
            ',' if depth == 0 => {
                terms.push(&text[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("a '(' without ')'");
    }
    terms.push(&text[start..]);
    Ok(terms)
}

fn parse_term(term: &str) -> Result<Term, String> {
    let expression = |key: &str, operator, values: Vec<String>| {
        check_key(key)?;
        Ok(Term::Expression(LabelSelectorRequirement {
            key: key.to_owned(),
            operator,
            values,
        }))
    };
    if let Some(key) = term.strip_prefix('!') {
        return expression(key.trim(), Operator::DoesNotExist, Vec::new());
    }
    if let Some((key, value)) = term.split_once("!=") {
        let value = value.trim();
        check_value(value)?;
        return expression(key.trim(), Operator::NotIn, vec![value.to_owned()]);
    }
    if let Some((key, value)) = term.split_once('=') {
        let value = value.strip_prefix('=').unwrap_or(value).trim();
        let key = key.trim();
        check_key(key)?;
        check_value(value)?;
        return Ok(Term::Equals(key.to_owned(), value.to_owned()));
    }
    if let Some(open) = term.find('(') {
        let (head, rest) = term.split_at(open);
        let values = rest
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .ok_or("values must be written (a,b) at the end")?;
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_owned()).collect();
        for value in &values {
            check_value(value)?;
        }
        let mut words = head.split_whitespace();
        let (Some(key), Some(operator), None) = (words.next(), words.next(), words.next()) else {
            return Err("expected `key in (...)` or `key notin (...)`".to_owned());
        };
        let operator = match operator {
            "in" => Operator::In,
            "notin" => Operator::NotIn,
            other => return Err(format!("unknown operator {other:?}")),
        };
        return expression(key, operator, values);
    }
    expression(term, Operator::Exists, Vec::new())
}

/// A label key: an optional DNS prefix and `/`, then a name of letters, digits, `-`, `_`, `.`.
fn check_key(key: &str) -> Result<(), String> {
    let name = key.rsplit_once('/').map_or(key, |(_, name)| name);
    let valid = !name.is_empty()
        && name.len() <= 63
        && key.len() <= 316
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    match valid {
        true => Ok(()),
        false => Err(format!("{key:?} is not a label key")),
    }
}

fn check_value(value: &str) -> Result<(), String> {
    let valid = value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    match valid {
        true => Ok(()),
        false => Err(format!("{value:?} is not a label value")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn check(selector: &str, object: &[(&str, &str)], expected: bool) {
        let parsed = LabelSelector::parse(selector).unwrap();
        assert_eq!(
            parsed.matches(&labels(object)),
            expected,
            "{selector} on {object:?}"
        );
    }

    #[test]
    fn matches_like_kubernetes() {
        check("", &[], true);
        check("app=web", &[("app", "web")], true);
        check("app==web", &[("app", "web")], true);
        check("app=web", &[("app", "db")], false);
        check("app=web", &[], false);
        check("app!=web", &[], true);
        check("app!=web", &[("app", "web")], false);
        check("tier in (a, b)", &[("tier", "b")], true);
        check("tier in (a,b)", &[("tier", "c")], false);
        check("tier notin (a,b)", &[], true);
        check("tier notin (a,b)", &[("tier", "a")], false);
        check("app", &[("app", "")], true);
        check("!app", &[("app", "x")], false);
        check("!app", &[], true);
        check(
            "app=web,tier in (a,b)",
            &[("app", "web"), ("tier", "a")],
            true,
        );
        check("app=web,tier in (a,b)", &[("app", "web")], false);
        check("example.io/app=web", &[("example.io/app", "web")], true);
    }

    #[test]
    fn rejects_malformed_selectors() {
        for text in [
            "app=web,",
            "app in (a",
            "a b (c)",
            "=x",
            "app=we b",
            "app in a)",
        ] {
            let err = LabelSelector::parse(text).unwrap_err().to_string();
            assert!(err.contains("invalid label selector"), "{text}: {err}");
        }
    }

    #[test]
    fn serializes_in_the_kubernetes_shape() {
        let selector = LabelSelector::parse("app=web,tier notin (a)").unwrap();
        assert_eq!(
            serde_json::to_value(&selector).unwrap(),
            serde_json::json!({"matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]}]})
        );
    }
}
