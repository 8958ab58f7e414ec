//! The user's version priorities: the `restoreResourcesVersionPriority` key of the
//! `enableapigroupversions` ConfigMap, parsed once into a map (SPEC.md section 4).
//!
//! The text has one line per group-resource, `<resource>.<group>=<version>,<version>,...`,
//! highest priority first. Edge cases follow Velero's `parseUserPriorities`
//! (`pkg/restore/prioritize_group_version.go`) except where a comment below says otherwise; the
//! one deliberate change SPEC.md asks for is that every line skipped is reported, where Velero
//! only writes a debug log.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::GroupResource;

/// The name of the ConfigMap, in the server's namespace, that holds user version priorities.
pub const CONFIG_MAP_NAME: &str = "enableapigroupversions";

/// The key of that ConfigMap whose text [`parse_user_priorities`] reads.
pub const CONFIG_MAP_KEY: &str = "restoreResourcesVersionPriority";

/// The versions a user wants restored first, per group-resource, highest priority first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserPriorities(pub BTreeMap<GroupResource, Vec<String>>);

impl UserPriorities {
    /// The user's list for one group-resource; empty when the user gave none.
    pub fn get(&self, group_resource: &GroupResource) -> &[String] {
        self.0.get(group_resource).map_or(&[], Vec::as_slice)
    }
}

/// A line of the text that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvalidLine {
    /// The line number, counting from 1 and counting blank lines too.
    pub line: usize,
    /// The line exactly as written.
    pub text: String,
    /// What is wrong with it.
    pub problem: LineProblem,
}

/// Why a line of the version-priority text was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum LineProblem {
    /// The line has no `=`.
    NoEqualsSign,
    /// The line has more than one `=`.
    SeveralEqualsSigns,
    /// Nothing before the `=`.
    NoGroupResource,
    /// Nothing after the `=` but commas.
    NoVersion,
    /// The text before `=` is not a `<resource>.<group>`.
    InvalidGroupResource {
        /// What is wrong with it.
        why: String,
    },
    /// A later valid line names the same group-resource, and the last one wins.
    Replaced {
        /// The line that replaces this one.
        #[serde(rename = "byLine")]
        by_line: usize,
    },
}

impl fmt::Display for LineProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const FORMAT: &str = "write one <resource>.<group>=<version>,<version>,... per line";
        match self {
            LineProblem::NoEqualsSign => write!(f, "no '=' after the group-resource; {FORMAT}"),
            LineProblem::SeveralEqualsSigns => write!(f, "more than one '='; {FORMAT}"),
            LineProblem::NoGroupResource => write!(f, "no group-resource before '='; {FORMAT}"),
            LineProblem::NoVersion => write!(f, "no version after '='; {FORMAT}"),
            LineProblem::InvalidGroupResource { why } => write!(
                f,
                "invalid group-resource: {why}; write the plural resource and its group as \
                 `kubectl api-resources` lists them, such as rockbands.music.example.io"
            ),
            LineProblem::Replaced { by_line } => write!(
                f,
                "line {by_line} names the same group-resource and the last line wins; delete \
                 one of the two"
            ),
        }
    }
}

impl fmt::Display for InvalidLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ignoring line {} of {CONFIG_MAP_KEY} in configmap {CONFIG_MAP_NAME} ({:?}): {}",
            self.line, self.text, self.problem
        )
    }
}

/// Parses the `restoreResourcesVersionPriority` text. Returns the valid entries and one
/// [`InvalidLine`] per non-blank line that was skipped, in line order. Never fails as a whole.
///
/// ```
/// use godwit_versioning::{GroupResource, parse_user_priorities};
/// let (priorities, invalid) =
///     parse_user_priorities("rockbands.music.example.io=v2beta1,v2beta2\nnonsense\n");
/// let rockbands = GroupResource::new("music.example.io", "rockbands");
/// assert_eq!(priorities.get(&rockbands), ["v2beta1", "v2beta2"]);
/// assert_eq!(invalid[0].line, 2);
/// ```
pub fn parse_user_priorities(text: &str) -> (UserPriorities, Vec<InvalidLine>) {
    // Each entry remembers its line, to report it if a later line replaces it.
    let mut entries: BTreeMap<GroupResource, (usize, &str, Vec<String>)> = BTreeMap::new();
    let mut invalid = Vec::new();
    // Lines are split on '\n' only, as in Velero, so a trailing newline just adds a blank last
    // line; a '\r' of CRLF text is whitespace and goes with the spaces below.
    for (index, raw) in text.split('\n').enumerate() {
        let line = index + 1;
        let mut skip = |problem| {
            invalid.push(InvalidLine {
                line,
                text: raw.to_owned(),
                problem,
            });
        };
        // Velero removes only ' '. Tabs and '\r' are removed here too: Velero would keep them
        // inside a name no cluster serves, so the line could never match anything.
        let compact: String = raw.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        // Blank lines (and lines of only whitespace) are skipped without a word, as in Velero.
        if compact.is_empty() {
            continue;
        }
        let Some((left, right)) = compact.split_once('=') else {
            skip(LineProblem::NoEqualsSign);
            continue;
        };
        if right.contains('=') {
            skip(LineProblem::SeveralEqualsSigns);
            continue;
        }
        if left.is_empty() {
            skip(LineProblem::NoGroupResource);
            continue;
        }
        // Velero keeps empty names from `v1,,v2` or a trailing comma; they can never match a
        // served version, so dropping them changes nothing. A line of commas only is valid to
        // Velero but names no version at all, so it is reported here like `pods=` (and, unlike in
        // Velero, does not replace an earlier line for the same group-resource). Repeated names
        // are dropped after their first place, which cannot change which one matches first.
        let mut seen = BTreeSet::new();
        let versions: Vec<String> = right
            .split(',')
            .filter(|version| !version.is_empty() && seen.insert(*version))
            .map(str::to_owned)
            .collect();
        if versions.is_empty() {
            skip(LineProblem::NoVersion);
            continue;
        }
        // Velero keys the map by the raw text, so a malformed name silently matches nothing;
        // here it is reported.
        let group_resource = match GroupResource::parse(left) {
            Ok(group_resource) => group_resource,
            Err(err) => {
                skip(LineProblem::InvalidGroupResource {
                    why: invalid_why(&err),
                });
                continue;
            }
        };
        // As in Velero the last valid line for a group-resource wins; the one it replaces is
        // reported so the user sees which of the two counts.
        if let Some((replaced, replaced_text, _)) =
            entries.insert(group_resource, (line, raw, versions))
        {
            invalid.push(InvalidLine {
                line: replaced,
                text: replaced_text.to_owned(),
                problem: LineProblem::Replaced { by_line: line },
            });
        }
    }
    invalid.sort_by_key(|problem| problem.line);
    let priorities = entries
        .into_iter()
        .map(|(group_resource, (_, _, versions))| (group_resource, versions))
        .collect();
    (UserPriorities(priorities), invalid)
}

/// The reason part of a group-resource error, without the text it repeats.
fn invalid_why(err: &crate::Error) -> String {
    match err {
        crate::Error::InvalidGroupResource { why, .. } => (*why).to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
