//! The text form of a [`Plan`]: what `godwit restore plan` prints. Plain aligned columns, so it
//! reads in a terminal and diffs well in snapshots.

use std::fmt::Write as _;

use godwit_versioning::Versions;

use crate::plan::{Decision, Plan, Unrestored};

impl Plan {
    /// Renders the plan as text tables: versions per group-resource (with the rule that chose
    /// each), namespaces, objects in order, then skipped and failed objects and warnings.
    pub fn render_table(&self) -> String {
        let mut out = String::new();
        let flag = if self.enable_api_group_versions {
            "on"
        } else {
            "off"
        };
        let _ = writeln!(
            out,
            "Restore plan for backup {:?} as restore {:?} (EnableAPIGroupVersions {flag}): {} \
             objects to create, {} skipped, {} failing",
            self.backup_name,
            self.restore_name,
            self.object_count(),
            self.skipped.len(),
            self.failed.len(),
        );

        out.push_str("\nVersions:\n");
        let rows = self.tiers.iter().map(|tier| {
            let (backup, target, version, rule, dir) = match &tier.decision {
                Decision::Chosen {
                    choice,
                    backup,
                    target,
                    converted,
                } => (
                    versions(backup),
                    versions(target),
                    match converted {
                        Some(converted) => converted.to_api_version.clone(),
                        None => choice.version.clone(),
                    },
                    match (converted, choice.rule.priority()) {
                        (Some(converted), _) => {
                            format!("converted from {}", converted.from_api_version)
                        }
                        (None, Some(n)) => format!("{} (priority {n})", choice.rule),
                        (None, None) => choice.rule.to_string(),
                    },
                    match choice.dir.as_str() {
                        "" => "(legacy folder)".to_owned(),
                        dir => dir.to_owned(),
                    },
                ),
                Decision::Deferred {
                    custom_resource_definition,
                    backup,
                } => (
                    versions(backup),
                    "(not served yet)".to_owned(),
                    "deferred".to_owned(),
                    format!("decided after CRD {custom_resource_definition} is established"),
                    "-".to_owned(),
                ),
                Decision::Failed { backup, target, .. } => (
                    versions(backup),
                    target
                        .as_ref()
                        .map_or_else(|| "(not served)".to_owned(), versions),
                    "none".to_owned(),
                    "no version fits: every object fails".to_owned(),
                    "-".to_owned(),
                ),
            };
            vec![
                tier.group_resource.to_string(),
                backup,
                target,
                version,
                rule,
                dir,
            ]
        });
        table(
            &mut out,
            &[
                "GROUP-RESOURCE",
                "BACKUP",
                "TARGET",
                "VERSION",
                "RULE",
                "DIR",
            ],
            rows.collect(),
        );

        let conversions: Vec<Vec<String>> = self
            .tiers
            .iter()
            .filter_map(|tier| {
                let converted = tier.decision.converted()?;
                Some(vec![
                    tier.group_resource.to_string(),
                    converted.kind.clone(),
                    converted.from_api_version.clone(),
                    converted.to_api_version.clone(),
                    converted.summary.clone(),
                ])
            })
            .collect();
        if !conversions.is_empty() {
            out.push_str(
                "\nConverted (the target serves no version the backup holds; objects a \
                 conversion cannot carry whole are failing, below):\n",
            );
            table(
                &mut out,
                &["GROUP-RESOURCE", "KIND", "FROM", "TO", "WHAT CHANGES"],
                conversions,
            );
        }

        out.push_str("\nNamespaces:\n");
        let rows = self.namespaces.iter().map(|ns| {
            vec![
                ns.name.clone(),
                ns.source.clone().unwrap_or_else(|| "-".to_owned()),
                if ns.backed_up { "backed up" } else { "bare" }.to_owned(),
                ns.labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(","),
            ]
        });
        table(
            &mut out,
            &["NAME", "FROM", "OBJECT", "LABELS"],
            rows.collect(),
        );

        out.push_str("\nObjects, in order:\n");
        let mut rows = Vec::new();
        for (index, tier) in self.tiers.iter().enumerate() {
            let version = match &tier.decision {
                Decision::Chosen {
                    converted: Some(converted),
                    ..
                } => converted.to_api_version.clone(),
                Decision::Chosen { choice, .. } => choice.version.clone(),
                Decision::Deferred { .. } => "deferred".to_owned(),
                Decision::Failed { .. } => continue,
            };
            for object in &tier.objects {
                rows.push(vec![
                    (index + 1).to_string(),
                    tier.group_resource.to_string(),
                    version.clone(),
                    namespace_column(
                        object.namespace.as_deref(),
                        object.target_namespace.as_deref(),
                    ),
                    object.name.clone(),
                ]);
            }
        }
        table(
            &mut out,
            &["TIER", "GROUP-RESOURCE", "VERSION", "NAMESPACE", "NAME"],
            rows,
        );

        if !self.pulled_in.is_empty() {
            out.push_str(
                "\nRestored because another object needs them (the filters left them out):\n",
            );
            table(
                &mut out,
                &[
                    "GROUP-RESOURCE",
                    "NAMESPACE",
                    "NAME",
                    "NEEDED BY",
                    "LEFT OUT BECAUSE",
                ],
                self.pulled_in
                    .iter()
                    .map(|pulled| {
                        vec![
                            pulled.object.group_resource.to_string(),
                            pulled.object.namespace.clone().unwrap_or_default(),
                            pulled.object.name.clone(),
                            pulled.needed_by.to_string(),
                            pulled.left_out_because.clone(),
                        ]
                    })
                    .collect(),
            );
        }
        for (title, list) in [("Skipped", &self.skipped), ("Failing", &self.failed)] {
            let _ = writeln!(out, "\n{title}:");
            table(
                &mut out,
                &["GROUP-RESOURCE", "NAMESPACE", "NAME", "REASON"],
                list.iter().map(unrestored_row).collect(),
            );
        }
        if !self.pitfalls.is_empty() {
            out.push_str("\nPitfalls (what moving to this target trips on):\n");
            for pitfall in &self.pitfalls {
                match &pitfall.namespace {
                    Some(namespace) => {
                        let _ = writeln!(out, "  [{namespace}] {}", pitfall.message);
                    }
                    None => {
                        let _ = writeln!(out, "  {}", pitfall.message);
                    }
                }
            }
        }
        if !self.warnings.is_empty() {
            out.push_str("\nWarnings:\n");
            for warning in &self.warnings {
                let _ = writeln!(out, "  {warning}");
            }
        }
        out
    }
}

fn unrestored_row(unrestored: &Unrestored) -> Vec<String> {
    vec![
        unrestored.object.group_resource.to_string(),
        namespace_column(
            unrestored.object.namespace.as_deref(),
            unrestored.target_namespace.as_deref(),
        ),
        unrestored.object.name.clone(),
        unrestored.reason.clone(),
    ]
}

/// `ns`, or `old -> new` under a namespace mapping, or `-` when cluster-scoped.
fn namespace_column(source: Option<&str>, target: Option<&str>) -> String {
    match (source, target) {
        (Some(source), Some(target)) if source != target => format!("{source} -> {target}"),
        (Some(source), _) => source.to_owned(),
        (None, _) => "-".to_owned(),
    }
}

/// Versions highest priority first, the preferred one marked with `*`.
fn versions(versions: &Versions) -> String {
    versions
        .by_priority()
        .into_iter()
        .map(|v| match v == versions.preferred_version {
            true => format!("{v}*"),
            false => v,
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Appends an aligned table (two spaces between columns, no trailing spaces), or `  (none)`.
fn table(out: &mut String, headers: &[&str], rows: Vec<Vec<String>>) {
    if rows.is_empty() {
        out.push_str("  (none)\n");
        return;
    }
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut line = |cells: Vec<&str>| {
        let mut text = String::from("  ");
        for (index, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            if index > 0 {
                text.push_str("  ");
            }
            let _ = write!(text, "{cell:<width$}");
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(headers.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
}
