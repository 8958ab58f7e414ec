//! Label selectors in the text form `kubectl --selector` and Velero's `--selector` take
//! (`app=web,tier!=cache,env in (prod,stage),!legacy`), parsed once into a [`LabelSelector`]
//! that can be sent to the API server (its `Display` is the canonical form) and matched locally
//! (namespaces are filtered on the client, as Velero does).
//!
//! The grammar is that of Kubernetes' `labels.Parse`: requirements separated by commas, each one
//! of `key`, `!key`, `key=value`, `key==value`, `key!=value`, `key in (v,...)`,
//! `key notin (v,...)`, `key>n`, `key<n`. Keys are qualified names (`[prefix/]name`), values are
//! label values (at most 63 characters, alphanumeric at both ends, `-_.` inside, or empty).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A parsed label selector: every requirement must hold. No requirement selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

/// One requirement on one label key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The label key.
    pub key: String,
    /// What the label must satisfy.
    pub operator: Operator,
}

/// What a requirement asks of a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operator {
    /// `key` (present, any value).
    Exists,
    /// `!key` (absent).
    DoesNotExist,
    /// `key=v`, `key==v` or `key in (v,...)`: present with one of these values (sorted).
    In(Vec<String>),
    /// `key!=v` or `key notin (v,...)`: absent, or present with none of these values (sorted).
    NotIn(Vec<String>),
    /// `key>n`: present with an integer value greater than `n`.
    GreaterThan(i64),
    /// `key<n`: present with an integer value less than `n`.
    LessThan(i64),
}

impl LabelSelector {
    /// Parses the text form; empty text selects everything.
    pub fn parse(text: &str) -> Result<Self, String> {
        let tokens = lex(text)?;
        let mut parser = Parser {
            tokens: &tokens,
            at: 0,
        };
        let mut requirements = Vec::new();
        if tokens.is_empty() {
            return Ok(LabelSelector { requirements });
        }
        loop {
            requirements.push(parser.requirement()?);
            match parser.next() {
                None => break,
                Some(Token::Comma) => continue,
                Some(other) => {
                    return Err(format!(
                        "expected ',' or the end after a requirement, found {other}"
                    ));
                }
            }
        }
        // Canonical order, as Kubernetes prints selectors: by key, stable.
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector { requirements })
    }

    /// Whether it selects everything (no requirement).
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether a set of labels satisfies every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }
}

impl Requirement {
    /// Whether a set of labels satisfies this requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match &self.operator {
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::In(values) => value.is_some_and(|v| values.contains(v)),
            Operator::NotIn(values) => value.is_none_or(|v| !values.contains(v)),
            Operator::GreaterThan(n) => value
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v > *n),
            Operator::LessThan(n) => value
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v < *n),
        }
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, requirement) in self.requirements.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            write!(f, "{requirement}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = &self.key;
        match &self.operator {
            Operator::Exists => write!(f, "{key}"),
            Operator::DoesNotExist => write!(f, "!{key}"),
            Operator::In(values) if values.len() == 1 => write!(f, "{key}={}", values[0]),
            Operator::In(values) => write!(f, "{key} in ({})", values.join(",")),
            Operator::NotIn(values) if values.len() == 1 => write!(f, "{key}!={}", values[0]),
            Operator::NotIn(values) => write!(f, "{key} notin ({})", values.join(",")),
            Operator::GreaterThan(n) => write!(f, "{key}>{n}"),
            Operator::LessThan(n) => write!(f, "{key}<{n}"),
        }
    }
}

/// The structured selector of Kubernetes objects (`metav1.LabelSelector`, as Velero's `Backup`
/// resource holds it in `spec.labelSelector` and `spec.orLabelSelectors`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchSelector {
    /// `key: value` pairs that must all be present.
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    /// Further requirements.
    #[serde(default)]
    pub match_expressions: Vec<MatchExpression>,
}

/// One requirement of a [`MatchSelector`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchExpression {
    /// The label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    /// The values, for `In` and `NotIn`.
    #[serde(default)]
    pub values: Vec<String>,
}

impl MatchSelector {
    /// The text form, for [`crate::BackupSpec`] (Kubernetes' `FormatLabelSelector`, except that an
    /// operator it does not know is an error here rather than a text that selects nothing).
    pub fn to_text(&self) -> Result<String, String> {
        let mut parts: Vec<String> = Vec::new();
        for (key, value) in &self.match_labels {
            check_key(key)?;
            check_value(value)?;
            parts.push(format!("{key}={value}"));
        }
        for expression in &self.match_expressions {
            let key = &expression.key;
            check_key(key)?;
            for value in &expression.values {
                check_value(value)?;
            }
            let values = expression.values.join(",");
            let part = match expression.operator.as_str() {
                "In" | "NotIn" if expression.values.is_empty() => {
                    return Err(format!(
                        "the {} expression on {key:?} has no values; give at least one",
                        expression.operator
                    ));
                }
                "In" => format!("{key} in ({values})"),
                "NotIn" => format!("{key} notin ({values})"),
                "Exists" => key.clone(),
                "DoesNotExist" => format!("!{key}"),
                other => {
                    return Err(format!(
                        "unknown operator {other:?} on {key:?}; use In, NotIn, Exists or DoesNotExist"
                    ));
                }
            };
            parts.push(part);
        }
        let text = parts.join(",");
        LabelSelector::parse(&text)?;
        Ok(text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Not,
    Equals,
    DoubleEquals,
    NotEquals,
    Greater,
    Less,
    Open,
    Close,
    Comma,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Word(word) => write!(f, "{word:?}"),
            Token::Not => f.write_str("'!'"),
            Token::Equals => f.write_str("'='"),
            Token::DoubleEquals => f.write_str("'=='"),
            Token::NotEquals => f.write_str("'!='"),
            Token::Greater => f.write_str("'>'"),
            Token::Less => f.write_str("'<'"),
            Token::Open => f.write_str("'('"),
            Token::Close => f.write_str("')'"),
            Token::Comma => f.write_str("','"),
        }
    }
}

fn lex(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let token = match c {
            c if c.is_whitespace() => continue,
            '(' => Token::Open,
            ')' => Token::Close,
            ',' => Token::Comma,
            '>' => Token::Greater,
            '<' => Token::Less,
            '!' if chars.peek() == Some(&'=') => {
                chars.next();
                Token::NotEquals
            }
            '!' => Token::Not,
            '=' if chars.peek() == Some(&'=') => {
                chars.next();
                Token::DoubleEquals
            }
            '=' => Token::Equals,
            c => {
                let mut word = String::from(c);
                while let Some(&next) = chars.peek() {
                    if next.is_whitespace() || "()!,=<>".contains(next) {
                        break;
                    }
                    word.push(next);
                    chars.next();
                }
                Token::Word(word)
            }
        };
        tokens.push(token);
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
}

impl Parser<'_> {
    fn next(&mut self) -> Option<&Token> {
        let token = self.tokens.get(self.at);
        self.at += 1;
        token
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        let negated = self.peek() == Some(&Token::Not);
        if negated {
            self.at += 1;
        }
        let key = match self.next() {
            Some(Token::Word(word)) => word.clone(),
            Some(other) => return Err(format!("expected a label key, found {other}")),
            None => return Err("expected a label key, found the end".to_owned()),
        };
        check_key(&key)?;
        if negated {
            return match self.peek() {
                None | Some(Token::Comma) => Ok(Requirement {
                    key,
                    operator: Operator::DoesNotExist,
                }),
                Some(other) => Err(format!(
                    "'!{key}' takes no operator or value, found {other}"
                )),
            };
        }
        let operator = match self.peek() {
            None | Some(Token::Comma) => {
                return Ok(Requirement {
                    key,
                    operator: Operator::Exists,
                });
            }
            Some(token) => token.clone(),
        };
        self.at += 1;
        let operator = match operator {
            Token::Equals | Token::DoubleEquals => Operator::In(vec![self.value(&key)?]),
            Token::NotEquals => Operator::NotIn(vec![self.value(&key)?]),
            Token::Greater => Operator::GreaterThan(self.integer(&key)?),
            Token::Less => Operator::LessThan(self.integer(&key)?),
            Token::Word(word) if word == "in" => Operator::In(self.set(&key)?),
            Token::Word(word) if word == "notin" => Operator::NotIn(self.set(&key)?),
            other => {
                return Err(format!(
                    "expected an operator (=, ==, !=, in, notin, >, <) after {key:?}, found {other}"
                ));
            }
        };
        Ok(Requirement { key, operator })
    }

    /// A single value after `=`, `==` or `!=`; it may be empty (`key=`).
    fn value(&mut self, key: &str) -> Result<String, String> {
        let value = match self.peek() {
            Some(Token::Word(word)) => {
                let word = word.clone();
                self.at += 1;
                word
            }
            None | Some(Token::Comma) => String::new(),
            Some(other) => return Err(format!("expected a value for {key:?}, found {other}")),
        };
        check_value(&value)?;
        Ok(value)
    }

    fn integer(&mut self, key: &str) -> Result<i64, String> {
        match self.next() {
            Some(Token::Word(word)) => word
                .parse::<i64>()
                .map_err(|_| format!("{key:?} is compared with {word:?}, which is not an integer")),
            Some(other) => Err(format!("expected an integer for {key:?}, found {other}")),
            None => Err(format!("expected an integer for {key:?}, found the end")),
        }
    }

    /// `(v1,v2,...)`, sorted and without repeats; empty values are allowed (`(a,)`).
    fn set(&mut self, key: &str) -> Result<Vec<String>, String> {
        match self.next() {
            Some(Token::Open) => {}
            Some(other) => {
                return Err(format!(
                    "expected '(' after 'in'/'notin' for {key:?}, found {other}"
                ));
            }
            None => {
                return Err(format!(
                    "expected '(' after 'in'/'notin' for {key:?}, found the end"
                ));
            }
        }
        let mut values = Vec::new();
        let mut expect_value = true;
        loop {
            match self.next() {
                Some(Token::Word(word)) if expect_value => {
                    check_value(word)?;
                    values.push(word.clone());
                    expect_value = false;
                }
                Some(Token::Comma) => {
                    if expect_value {
                        values.push(String::new());
                    }
                    expect_value = true;
                }
                Some(Token::Close) => {
                    if expect_value {
                        values.push(String::new());
                    }
                    break;
                }
                Some(other) => {
                    return Err(format!("unexpected {other} in the value set of {key:?}"));
                }
                None => return Err(format!("missing ')' after the value set of {key:?}")),
            }
        }
        values.sort();
        values.dedup();
        Ok(values)
    }
}

/// A qualified name: `[prefix/]name`, the prefix a DNS subdomain of at most 253 characters, the
/// name at most 63 characters, alphanumeric at both ends with `-_.` inside.
fn check_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let subdomain = !prefix.is_empty()
            && prefix.len() <= 253
            && prefix.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if !subdomain {
            return Err(format!(
                "invalid label key {key:?}: its prefix must be a lower-case DNS subdomain"
            ));
        }
    }
    if name.is_empty() || !is_label_text(name) {
        return Err(format!(
            "invalid label key {key:?}: the name part must be 1-63 characters, alphanumeric at \
             both ends, with only '-', '_' and '.' inside"
        ));
    }
    Ok(())
}

fn check_value(value: &str) -> Result<(), String> {
    if value.is_empty() || is_label_text(value) {
        return Ok(());
    }
    Err(format!(
        "invalid label value {value:?}: at most 63 characters, alphanumeric at both ends, with \
         only '-', '_' and '.' inside"
    ))
}

fn is_label_text(text: &str) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests;
