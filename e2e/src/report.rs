//! Turning what was read back from the target into verdicts, and the verdicts into the table
//! (and JSON) the run prints. Pure: no cluster in here.

use serde::Serialize;

use crate::scenarios::{NO_COMMON_VERSION, Scenario};

/// One named property checked in the target, beyond the version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked, in a few words.
    pub what: String,
    /// Whether it held.
    pub ok: bool,
}

impl Check {
    /// A check with its outcome.
    pub fn new(what: impl Into<String>, ok: bool) -> Self {
        Check {
            what: what.into(),
            ok,
        }
    }
}

/// What was read back from the target for one scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    /// The version the restore wrote the object at, from godwit's own `managedFields` entry on
    /// the object; `None` when the object is not in the target or carries no such entry.
    pub restored_version: Option<String>,
    /// Whether a GET at the expected version found the object.
    pub found_at_expected: bool,
    /// The rule recorded in the Restore's `status.godwit.versionChoices` for the GR.
    pub rule: Option<String>,
    /// The scenario's own checks.
    pub checks: Vec<Check>,
}

/// Whether a row passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Everything matched.
    Pass,
    /// Something did not; the row's problems say what.
    Fail,
    /// Not run with these clusters; the row's problems say why.
    Skip,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "skip",
        })
    }
}

/// One row of the result table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    /// The scenario.
    pub scenario: String,
    /// Versions the backup holds, source preferred first.
    pub backup_versions: Vec<String>,
    /// Versions the target serves, preferred first (empty: no CRD before the restore).
    pub target_versions: Vec<String>,
    /// The version SPEC.md section 4 requires, or `none`.
    pub expected_version: String,
    /// The version the object was restored at, or `none`.
    pub restored_version: String,
    /// The rule SPEC.md section 4 requires.
    pub expected_rule: String,
    /// The rule godwit recorded, or `-`.
    pub rule: String,
    /// Pass or fail.
    pub verdict: Verdict,
    /// Every check made, with its outcome.
    pub checks: Vec<Check>,
    /// Why the row failed; empty when it passed.
    pub problems: Vec<String>,
}

/// Compares what was read back with what the scenario requires.
pub fn judge(scenario: &Scenario, observation: &Observation) -> Row {
    let mut problems = Vec::new();
    let restored = observation.restored_version.as_deref();
    match scenario.expected_version {
        Some(expected) => {
            match restored {
                Some(version) if version == expected => {}
                Some(version) => {
                    problems.push(format!("restored at {version}, expected {expected}"));
                }
                // The object is there, but nothing says which version godwit wrote it at.
                None if observation.found_at_expected => problems.push(format!(
                    "no managedFields entry of godwit's on the object tells the version it was \
                     written at (expected {expected})"
                )),
                None => problems.push(format!(
                    "restored at nothing (object missing), expected {expected}"
                )),
            }
            if !observation.found_at_expected {
                problems.push(format!("GET at {expected} did not find the object"));
            }
            match observation.rule.as_deref() {
                Some(rule) if rule == scenario.expected_rule => {}
                Some(rule) => problems.push(format!(
                    "chosen by rule {rule}, expected {}",
                    scenario.expected_rule
                )),
                None => problems.push("no version choice recorded in the restore".to_owned()),
            }
        }
        None => {
            if let Some(version) = restored {
                problems.push(format!(
                    "restored at {version}, but no version is common to both sides"
                ));
            }
            if let Some(rule) = &observation.rule {
                problems.push(format!("a version choice was recorded (rule {rule})"));
            }
        }
    }
    problems.extend(
        observation
            .checks
            .iter()
            .filter(|check| !check.ok)
            .map(|check| format!("check failed: {}", check.what)),
    );
    let rule = match (&observation.rule, scenario.expected_version) {
        (Some(rule), _) => rule.clone(),
        // Rule 4 records no choice: the failed objects and the phase are its evidence.
        (None, None) if problems.is_empty() => NO_COMMON_VERSION.to_owned(),
        (None, _) => "-".to_owned(),
    };
    Row {
        scenario: scenario.name.to_owned(),
        backup_versions: to_strings(scenario.backup_versions),
        target_versions: to_strings(scenario.target_versions),
        expected_version: scenario.expected_version.unwrap_or("none").to_owned(),
        restored_version: restored.unwrap_or("none").to_owned(),
        expected_rule: scenario.expected_rule.to_owned(),
        rule,
        verdict: if problems.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail
        },
        checks: observation.checks.clone(),
        problems,
    }
}

/// A row for a scenario these clusters cannot run.
pub fn skipped(scenario: &Scenario, reason: &str) -> Row {
    let mut row = judge(scenario, &Observation::default());
    row.restored_version = "-".to_owned();
    row.rule = "-".to_owned();
    row.problems = vec![format!("skipped: {reason}")];
    row.verdict = Verdict::Skip;
    row
}

fn to_strings(versions: &[&str]) -> Vec<String> {
    versions
        .iter()
        .map(|version| (*version).to_owned())
        .collect()
}

/// The table: a header, one line per row, then one line per problem of the failed rows.
pub fn render_table(rows: &[Row]) -> String {
    let header = [
        "SCENARIO",
        "BACKUP VERSIONS",
        "TARGET VERSIONS",
        "EXPECTED",
        "RESTORED",
        "RULE",
        "VERDICT",
    ];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|row| {
            [
                row.scenario.clone(),
                row.backup_versions.join(","),
                if row.target_versions.is_empty() {
                    "(no CRD)".to_owned()
                } else {
                    row.target_versions.join(",")
                },
                row.expected_version.clone(),
                row.restored_version.clone(),
                row.rule.clone(),
                row.verdict.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for line in &cells {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.len());
        }
    }
    let mut out = String::new();
    let mut push_line = |line: &[String]| {
        let text: Vec<String> = line
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(text.join("  ").trim_end());
        out.push('\n');
    };
    push_line(&header.map(str::to_owned));
    for line in &cells {
        push_line(line);
    }
    for row in rows {
        for problem in &row.problems {
            out.push_str(&format!("{}: {problem}\n", row.scenario));
        }
    }
    let count = |verdict: Verdict| rows.iter().filter(|row| row.verdict == verdict).count();
    out.push_str(&format!(
        "{} scenarios, {} passed, {} failed, {} skipped\n",
        rows.len(),
        count(Verdict::Pass),
        count(Verdict::Fail),
        count(Verdict::Skip)
    ));
    out
}

/// The rows as pretty JSON.
pub fn to_json(rows: &[Row]) -> String {
    serde_json::to_string_pretty(rows).unwrap_or_else(|err| format!("{{\"error\": \"{err}\"}}"))
}

/// Whether no row failed and at least one passed.
pub fn all_passed(rows: &[Row]) -> bool {
    rows.iter().any(|row| row.verdict == Verdict::Pass)
        && rows.iter().all(|row| row.verdict != Verdict::Fail)
}

/// Whether `message` names every one of `versions` as a word of its own (so `v2` is not taken
/// as named by `v2beta1`).
pub fn names_versions(message: &str, versions: &[&str]) -> bool {
    let words: Vec<&str> = message
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    versions.iter().all(|version| words.contains(version))
}

#[cfg(test)]
mod tests;
