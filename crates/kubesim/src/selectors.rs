//! Label and field selectors: parsed once from the query string, then matched against objects.

use std::collections::BTreeMap;

/// One label requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Requirement {
    /// `key=value` or `key==value`.
    Equals(String, String),
    /// `key!=value`: the label is missing or different.
    NotEquals(String, String),
    /// `key in (a,b)`.
    In(String, Vec<String>),
    /// `key notin (a,b)`: the label is missing or none of them.
    NotIn(String, Vec<String>),
    /// `key`: the label exists.
    Exists(String),
    /// `!key`: the label does not exist.
    DoesNotExist(String),
    /// `key>n`: the label is an integer above n.
    GreaterThan(String, i64),
    /// `key<n`: the label is an integer below n.
    LessThan(String, i64),
}

/// A parsed label selector: every requirement must hold. Empty matches everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct LabelSelector {
    /// The requirements, in the order given.
    pub(crate) requirements: Vec<Requirement>,
}

impl LabelSelector {
    /// Parses the `labelSelector` query parameter.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let mut lexer = Lexer::new(text);
        let mut requirements = Vec::new();
        loop {
            lexer.skip_spaces();
            if lexer.at_end() {
                if !requirements.is_empty() && text.trim_end().ends_with(',') {
                    return Err("found '', expected: !, identifier, or 'end of string'".to_owned());
                }
                break;
            }
            requirements.push(parse_requirement(&mut lexer)?);
            lexer.skip_spaces();
            match lexer.peek() {
                None => break,
                Some(',') => {
                    lexer.next();
                    lexer.skip_spaces();
                    if lexer.at_end() {
                        return Err("found '', expected: !, identifier".to_owned());
                    }
                }
                Some(other) => {
                    return Err(format!("found '{other}', expected: ',' or 'end of string'"));
                }
            }
        }
        Ok(Self { requirements })
    }

    /// Whether the selector selects nothing in particular (matches all).
    pub(crate) fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether labels satisfy every requirement.
    pub(crate) fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| match r {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|l| !vs.contains(l)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
            Requirement::GreaterThan(k, n) => labels
                .get(k)
                .and_then(|l| l.parse::<i64>().ok())
                .is_some_and(|l| l > *n),
            Requirement::LessThan(k, n) => labels
                .get(k)
                .and_then(|l| l.parse::<i64>().ok())
                .is_some_and(|l| l < *n),
        })
    }
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            chars: text.chars().peekable(),
        }
    }
    fn peek(&mut self) -> Option<char> {
        self.chars.peek().copied()
    }
    fn next(&mut self) -> Option<char> {
        self.chars.next()
    }
    fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }
    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.next();
        }
    }
    /// A run of characters that can form a key or value.
    fn word(&mut self) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if c.is_whitespace() || matches!(c, ',' | '=' | '!' | '(' | ')' | '<' | '>') {
                break;
            }
            out.push(c);
            self.next();
        }
        out
    }
}

fn parse_requirement(lexer: &mut Lexer<'_>) -> Result<Requirement, String> {
    let negated = lexer.peek() == Some('!');
    if negated {
        lexer.next();
        lexer.skip_spaces();
    }
    let key = lexer.word();
    if key.is_empty() {
        let found = lexer.peek().map(String::from).unwrap_or_default();
        return Err(format!("found '{found}', expected: identifier"));
    }
    validate_key(&key)?;
    if negated {
        return Ok(Requirement::DoesNotExist(key));
    }
    lexer.skip_spaces();
    match lexer.peek() {
        None | Some(',') => Ok(Requirement::Exists(key)),
        Some('=') => {
            lexer.next();
            if lexer.peek() == Some('=') {
                lexer.next();
            }
            let value = single_value(lexer)?;
            Ok(Requirement::Equals(key, value))
        }
        Some('!') => {
            lexer.next();
            if lexer.next() != Some('=') {
                return Err("found '!', expected: '!='".to_owned());
            }
            let value = single_value(lexer)?;
            Ok(Requirement::NotEquals(key, value))
        }
        Some(c @ ('<' | '>')) => {
            lexer.next();
            let value = single_value(lexer)?;
            let number = value.parse::<i64>().map_err(|_| {
                format!("for 'Gt', 'Lt' operators, the value must be an integer, got {value:?}")
            })?;
            Ok(if c == '>' {
                Requirement::GreaterThan(key, number)
            } else {
                Requirement::LessThan(key, number)
            })
        }
        Some(_) => {
            let op = lexer.word();
            let values = set_values(lexer)?;
            match op.as_str() {
                "in" => Ok(Requirement::In(key, values)),
                "notin" => Ok(Requirement::NotIn(key, values)),
                other => Err(format!(
                    "found '{other}', expected: in, notin, =, ==, !=, gt, lt"
                )),
            }
        }
    }
}

fn single_value(lexer: &mut Lexer<'_>) -> Result<String, String> {
    lexer.skip_spaces();
    let value = lexer.word();
    validate_value(&value)?;
    Ok(value)
}

fn set_values(lexer: &mut Lexer<'_>) -> Result<Vec<String>, String> {
    lexer.skip_spaces();
    if lexer.next() != Some('(') {
        return Err("found '', expected: '('".to_owned());
    }
    let mut values = Vec::new();
    loop {
        lexer.skip_spaces();
        let value = lexer.word();
        validate_value(&value)?;
        values.push(value);
        lexer.skip_spaces();
        match lexer.next() {
            Some(',') => continue,
            Some(')') => break,
            Some(other) => return Err(format!("found '{other}', expected: ',', or ')'")),
            None => return Err("found '', expected: ')'".to_owned()),
        }
    }
    Ok(values)
}

/// A label key: an optional DNS-subdomain prefix and a slash, then a name of up to 63 characters.
fn validate_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'))
    });
    if name_ok && prefix_ok {
        Ok(())
    } else {
        Err(format!(
            "key: Invalid value: {key:?}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ))
    }
}

/// A label value: empty, or up to 63 characters of alphanumerics, `-`, `_`, `.`, alphanumeric at
/// both ends.
fn validate_value(value: &str) -> Result<(), String> {
    let ok = value.is_empty()
        || (value.len() <= 63
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && value.starts_with(|c: char| c.is_ascii_alphanumeric())
            && value.ends_with(|c: char| c.is_ascii_alphanumeric()));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "values[0]: Invalid value: {value:?}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ))
    }
}

/// One field requirement: `field=value` or `field!=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldRequirement {
    /// The dotted field path, such as `metadata.name`.
    pub(crate) field: String,
    /// The value compared against.
    pub(crate) value: String,
    /// Whether the requirement is `!=`.
    pub(crate) negated: bool,
}

/// A parsed field selector. Empty matches everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct FieldSelector {
    /// The requirements, all of which must hold.
    pub(crate) requirements: Vec<FieldRequirement>,
}

impl FieldSelector {
    /// Parses the `fieldSelector` query parameter (`\,`, `\=` and `\\` escape those characters).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for part in split_unescaped(text, ',') {
            if part.trim().is_empty() {
                continue;
            }
            let (field, negated, value) = if let Some(i) = find_unescaped(&part, "!=") {
                (&part[..i], true, &part[i + 2..])
            } else if let Some(i) = find_unescaped(&part, "==") {
                (&part[..i], false, &part[i + 2..])
            } else if let Some(i) = find_unescaped(&part, "=") {
                (&part[..i], false, &part[i + 1..])
            } else {
                return Err(format!(
                    "invalid selector: '{part}'; can't understand '{part}'"
                ));
            };
            requirements.push(FieldRequirement {
                field: field.trim().to_owned(),
                value: unescape(value.trim()),
                negated,
            });
        }
        Ok(Self { requirements })
    }

    /// Whether the selector selects nothing in particular.
    pub(crate) fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether every requirement holds, reading field values through `value_of`.
    pub(crate) fn matches(&self, mut value_of: impl FnMut(&str) -> String) -> bool {
        self.requirements
            .iter()
            .all(|r| (value_of(&r.field) == r.value) != r.negated)
    }

    /// The first field that is not `metadata.name` or `metadata.namespace`, if any.
    pub(crate) fn needs_object(&self) -> bool {
        self.requirements
            .iter()
            .any(|r| r.field != "metadata.name" && r.field != "metadata.namespace")
    }
}

fn split_unescaped(text: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            if let Some(last) = parts.last_mut() {
                last.push('\\');
                last.push(c);
            }
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(String::new());
        } else if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

fn find_unescaped(text: &str, op: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if text[i..].starts_with(op) {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else {
            out.push(c);
        }
    }
    out
}

/// The fields a resource can be selected by beyond `metadata.name` and `metadata.namespace`,
/// as the API server registers them.
pub(crate) fn extra_selectable_fields(group: &str, plural: &str) -> &'static [&'static str] {
    match (group, plural) {
        ("", "pods") => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        ("", "events") => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ("", "secrets") => &["type"],
        ("", "namespaces") => &["status.phase"],
        ("", "nodes") => &["spec.unschedulable"],
        ("", "replicationcontrollers") => &["status.replicas"],
        ("", "persistentvolumes") => &["name"],
        ("apps", "replicasets") => &["status.replicas"],
        ("batch", "jobs") => &["status.successful"],
        ("certificates.k8s.io", "certificatesigningrequests") => &["spec.signerName"],
        _ => &[],
    }
}

/// Reads a dotted field path out of an object as the API server's field sets spell values:
/// strings as they are, numbers and booleans as text, missing as empty.
pub(crate) fn field_value(object: &serde_json::Value, path: &str) -> String {
    let mut current = object;
    for part in path.split('.') {
        match current.get(part) {
            Some(next) => current = next,
            None => return String::new(),
        }
    }
    match current {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
