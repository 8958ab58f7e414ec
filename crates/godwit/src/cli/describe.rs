//! The text of `backup describe`, `restore describe` and the `get` tables, in Velero's shape,
//! as pure functions of the resources (and the results file read from the store) so they are
//! tested without a cluster.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use godwit_api::{Backup, Restore};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Time};
use serde::Deserialize;

use crate::jobs::selector_text;
use crate::output::{self, list_or_none, timestamp};

/// Messages grouped as Velero groups them in a results file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Grouped {
    /// About the run itself.
    pub velero: Vec<String>,
    /// About cluster-scoped objects.
    pub cluster: Vec<String>,
    /// About objects of each namespace.
    pub namespaces: BTreeMap<String, Vec<String>>,
}

/// Velero's results file (`restore-<name>-results.gz`, `<name>-results.gz`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ResultsFile {
    /// The warnings.
    pub warnings: Grouped,
    /// The errors.
    pub errors: Grouped,
}

/// The restore's results, or why they could not be read.
pub type Results = Result<ResultsFile, String>;

fn metadata(out: &mut String, meta: &ObjectMeta) {
    let _ = writeln!(out, "Name:         {}", meta.name.as_deref().unwrap_or(""));
    let _ = writeln!(
        out,
        "Namespace:    {}",
        meta.namespace.as_deref().unwrap_or("")
    );
    let _ = writeln!(
        out,
        "Labels:       {}",
        pairs(meta.labels.as_ref(), "\n              ")
    );
    let _ = writeln!(
        out,
        "Annotations:  {}",
        pairs(meta.annotations.as_ref(), "\n              ")
    );
}

fn pairs(map: Option<&BTreeMap<String, String>>, separator: &str) -> String {
    match map {
        Some(map) if !map.is_empty() => map
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(separator),
        _ => "<none>".to_owned(),
    }
}

fn listed(list: Option<&Vec<String>>, empty: &str) -> String {
    match list {
        Some(list) if !list.is_empty() => list.join(", "),
        _ => empty.to_owned(),
    }
}

fn selector(selector: Option<&LabelSelector>) -> String {
    selector
        .map(selector_text)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "<none>".to_owned())
}

fn or_selectors(selectors: Option<&Vec<LabelSelector>>) -> String {
    match selectors {
        Some(list) if !list.is_empty() => list
            .iter()
            .map(selector_text)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "<none>".to_owned(),
    }
}

fn cluster_scoped(include: Option<bool>) -> &'static str {
    match include {
        Some(true) => "included",
        Some(false) => "excluded",
        None => "auto",
    }
}

/// `velero backup describe` for one Backup.
pub fn render_backup(backup: &Backup) -> String {
    let mut out = String::new();
    metadata(&mut out, &backup.metadata);
    let status = backup.status.clone().unwrap_or_default();
    let spec = &backup.spec;
    let phase = status
        .phase
        .as_ref()
        .map_or_else(|| "New".to_owned(), ToString::to_string);
    let _ = writeln!(out, "\nPhase:  {phase}");
    if let Some(errors) = status.validation_errors.as_ref().filter(|e| !e.is_empty()) {
        out.push_str("\nValidation errors:\n");
        for error in errors {
            let _ = writeln!(out, "  {error}");
        }
    }
    if !status.failure_reason.is_empty() {
        let _ = writeln!(out, "\nFailure reason:  {}", status.failure_reason);
    }
    let _ = writeln!(out, "\nErrors:    {}", status.errors);
    let _ = writeln!(out, "Warnings:  {}", status.warnings);
    let _ = writeln!(
        out,
        "\nNamespaces:\n  Included:  {}\n  Excluded:  {}",
        listed(spec.included_namespaces.as_ref(), "*"),
        listed(spec.excluded_namespaces.as_ref(), "<none>"),
    );
    let _ = writeln!(
        out,
        "\nResources:\n  Included:        {}\n  Excluded:        {}\n  Cluster-scoped:  {}",
        listed(spec.included_resources.as_ref(), "*"),
        listed(spec.excluded_resources.as_ref(), "<none>"),
        cluster_scoped(spec.include_cluster_resources),
    );
    let _ = writeln!(
        out,
        "\nLabel selector:  {}",
        selector(spec.label_selector.as_ref())
    );
    let _ = writeln!(
        out,
        "\nOr label selector:  {}",
        or_selectors(spec.or_label_selectors.as_ref())
    );
    let location = if spec.storage_location.is_empty() {
        "<default>"
    } else {
        &spec.storage_location
    };
    let _ = writeln!(out, "\nStorage Location:  {location}");
    let ttl = spec.ttl.as_ref().map_or("<none>", |t| t.as_str());
    let _ = writeln!(out, "\nTTL:  {ttl}");
    let version = if status.format_version.is_empty() {
        "<n/a>"
    } else {
        &status.format_version
    };
    let _ = writeln!(out, "\nBackup Format Version:  {version}");
    let _ = writeln!(
        out,
        "\nStarted:    {}\nCompleted:  {}",
        timestamp(status.start_timestamp.as_ref()),
        timestamp(status.completion_timestamp.as_ref()),
    );
    let _ = writeln!(
        out,
        "\nExpiration:  {}",
        timestamp(status.expiration.as_ref())
    );
    if let Some(progress) = &status.progress {
        let _ = writeln!(
            out,
            "\nTotal items to be backed up:  {}\nItems backed up:              {}",
            progress.total_items, progress.items_backed_up
        );
    }
    out
}

/// What `backup describe --details` reads from the backup's storage location.
#[derive(Debug, Clone)]
pub struct BackupDetails {
    /// `<name>-resource-list.json.gz`: `None` when the location holds none, `Err` when it could
    /// not be read.
    pub resource_list: Option<Result<BTreeMap<String, Vec<String>>, String>>,
    /// Velero's file-system backup verdict on the pods in the tarball, or why it could not be
    /// read.
    pub pod_volumes: Result<godwit_backup::PodVolumeReport, String>,
}

/// Whether the backup is in Velero's opt-out mode, and where that comes from: Velero remaps a
/// true `defaultVolumesToRestic`, then takes `defaultVolumesToFsBackup`, else its server flag
/// `--default-volumes-to-fs-backup` (false unless set; godwit's server has no such flag).
pub fn fs_backup_mode(spec: &godwit_api::BackupSpec) -> (bool, &'static str) {
    if spec.default_volumes_to_restic == Some(true) {
        return (
            true,
            "defaultVolumesToRestic: true, which Velero reads as defaultVolumesToFsBackup",
        );
    }
    match spec.default_volumes_to_fs_backup {
        Some(true) => (true, "defaultVolumesToFsBackup: true"),
        Some(false) => (false, "defaultVolumesToFsBackup: false"),
        None => (
            false,
            "defaultVolumesToFsBackup not set; Velero's server default --default-volumes-to-fs-backup=false",
        ),
    }
}

/// The `--details` sections of `backup describe`, after [`render_backup`]: Velero's "Resource
/// List:", then "Backup Volumes:" with the pod volumes Velero's file-system backup would take,
/// headed by the plain fact that godwit did not take them.
pub fn render_backup_details(backup: &Backup, details: &BackupDetails) -> String {
    let mut out = String::new();
    match &details.resource_list {
        None => out.push_str("\nResource List:  <backup resource list not found>\n"),
        Some(Err(why)) => {
            let _ = writeln!(
                out,
                "\nResource List:  <error getting backup resource list: {why}>"
            );
        }
        Some(Ok(list)) => {
            out.push_str("\nResource List:\n");
            for (kind, entries) in list {
                let _ = writeln!(out, "  {kind}:");
                for entry in entries {
                    let _ = writeln!(out, "    - {entry}");
                }
            }
        }
    }

    out.push_str("\nBackup Volumes:\n  Velero-Native Snapshots: <none included>\n");
    out.push_str("\n  Pod Volume Backups:\n");
    out.push_str(
        "    godwit does not back up volume data: the contents of these volumes are NOT in this backup.\n    \
         Listed is what Velero's file-system backup would take from the pods in it, by its rules.\n",
    );
    let (opt_out, source) = fs_backup_mode(&backup.spec);
    let mode = if opt_out {
        format!(
            "opt-out, every volume but those a pod names in {}",
            godwit_backup::VOLUMES_TO_EXCLUDE_ANNOTATION
        )
    } else {
        format!(
            "opt-in, the volumes a pod names in {}",
            godwit_backup::VOLUMES_TO_BACKUP_ANNOTATION
        )
    };
    let _ = writeln!(out, "    Mode:  {mode} ({source})");
    if let Some(policy) = &backup.spec.resource_policy {
        let _ = writeln!(
            out,
            "    Volume policies ({} {}) are not evaluated here; they can change this choice.",
            policy.kind, policy.name
        );
    }
    let report = match &details.pod_volumes {
        Ok(report) => report,
        Err(why) => {
            let _ = writeln!(out, "    <error reading the backup's pods: {why}>");
            return out;
        }
    };
    if report.pods.is_empty() {
        out.push_str("    <no pod volumes in this backup>\n");
        return out;
    }
    let selected: Vec<_> = report.selected().collect();
    if selected.is_empty() {
        out.push_str("    Would be selected:  <none>\n");
    } else {
        out.push_str("    Would be selected:\n");
        for (pod, names) in selected {
            let _ = write!(out, "      {}: {}", pod.key(), names.join(", "));
            if let Some(why) = &pod.not_running {
                let _ = write!(out, " (Velero would take none of them: {why})");
            }
            out.push('\n');
        }
    }
    let annotation = if report.rules.default_volumes_to_fs_backup {
        godwit_backup::VOLUMES_TO_EXCLUDE_ANNOTATION
    } else {
        godwit_backup::VOLUMES_TO_BACKUP_ANNOTATION
    };
    let mut left_out = String::new();
    for pod in &report.pods {
        let skipped: Vec<_> = pod.volumes.iter().filter(|v| !v.selected()).collect();
        if skipped.is_empty() && pod.unmatched.is_empty() {
            continue;
        }
        let _ = writeln!(left_out, "      {}:", pod.key());
        for volume in skipped {
            let _ = writeln!(
                left_out,
                "        {}: {}",
                volume.name,
                volume.reason.text()
            );
        }
        for name in &pod.unmatched {
            let _ = writeln!(
                left_out,
                "        {name:?}: named in {annotation}, but the pod has no such volume (names are not trimmed)"
            );
        }
    }
    if left_out.is_empty() {
        out.push_str("    Left out:  <none>\n");
    } else {
        out.push_str("    Left out:\n");
        out.push_str(&left_out);
    }
    out
}

/// `velero restore describe` for one Restore, with the warnings and errors read from the store,
/// and godwit's account of the API version restored per group-resource and the rule.
pub fn render_restore(restore: &Restore, results: Option<&Results>) -> String {
    let mut out = String::new();
    metadata(&mut out, &restore.metadata);
    let status = restore.status.clone().unwrap_or_default();
    let spec = &restore.spec;
    let phase = status
        .phase
        .as_ref()
        .map_or_else(|| "New".to_owned(), ToString::to_string);
    let _ = writeln!(out, "\nPhase:                       {phase}");
    if let Some(progress) = &status.progress {
        let _ = writeln!(
            out,
            "Total items to be restored:  {}\nItems restored:              {}",
            progress.total_items, progress.items_restored
        );
    }
    if let Some(errors) = status.validation_errors.as_ref().filter(|e| !e.is_empty()) {
        out.push_str("\nValidation errors:\n");
        for error in errors {
            let _ = writeln!(out, "  {error}");
        }
    }
    if !status.failure_reason.is_empty() {
        let _ = writeln!(out, "\nFailure reason:  {}", status.failure_reason);
    }
    let _ = writeln!(
        out,
        "\nStarted:    {}\nCompleted:  {}",
        timestamp(status.start_timestamp.as_ref()),
        timestamp(status.completion_timestamp.as_ref()),
    );

    match results {
        Some(Ok(file)) => {
            grouped(&mut out, "Warnings", &file.warnings);
            grouped(&mut out, "Errors", &file.errors);
        }
        Some(Err(why)) => {
            if status.warnings > 0 {
                let _ = writeln!(out, "\nWarnings:  <error getting warnings: {why}>");
            }
            if status.errors > 0 {
                let _ = writeln!(out, "\nErrors:  <error getting errors: {why}>");
            }
        }
        None => {}
    }

    let _ = writeln!(out, "\nBackup:  {}", spec.backup_name);
    let _ = writeln!(
        out,
        "\nNamespaces:\n  Included:  {}\n  Excluded:  {}",
        listed(
            spec.included_namespaces.as_ref(),
            "all namespaces found in the backup"
        ),
        listed(spec.excluded_namespaces.as_ref(), "<none>"),
    );
    let never: Vec<String> = godwit_restore::NON_RESTORABLE
        .iter()
        .map(|(group, resource, _)| {
            if group.is_empty() {
                (*resource).to_owned()
            } else {
                format!("{resource}.{group}")
            }
        })
        .collect();
    let mut excluded = spec.excluded_resources.clone().unwrap_or_default();
    excluded.extend(never);
    let _ = writeln!(
        out,
        "\nResources:\n  Included:        {}\n  Excluded:        {}\n  Cluster-scoped:  {}",
        listed(spec.included_resources.as_ref(), "*"),
        list_or_none(&excluded),
        cluster_scoped(spec.include_cluster_resources),
    );
    let mappings = match &spec.namespace_mapping {
        Some(map) if !map.is_empty() => map
            .iter()
            .map(|(from, to)| format!("{from}={to}"))
            .collect::<Vec<_>>()
            .join(", "),
        _ => "<none>".to_owned(),
    };
    let _ = writeln!(out, "\nNamespace mappings:  {mappings}");
    let _ = writeln!(
        out,
        "\nLabel selector:  {}",
        selector(spec.label_selector.as_ref())
    );
    let _ = writeln!(
        out,
        "\nOr label selector:  {}",
        or_selectors(spec.or_label_selectors.as_ref())
    );
    let policy = spec
        .existing_resource_policy
        .as_ref()
        .map_or_else(|| "<nil>".to_owned(), ToString::to_string);
    let _ = writeln!(out, "\nExisting Resource Policy:  {policy}");
    let node_ports = match spec.preserve_node_ports {
        Some(true) => "true",
        Some(false) => "false",
        None => "auto",
    };
    let _ = writeln!(out, "\nPreserve Service NodePorts:  {node_ports}");

    out.push_str("\nAPI versions restored:\n");
    match status
        .godwit
        .as_ref()
        .filter(|g| !g.version_choices.is_empty())
    {
        Some(godwit) => {
            let rows: Vec<Vec<String>> = godwit
                .version_choices
                .iter()
                .map(|c| {
                    vec![
                        c.group_resource.clone(),
                        c.version.clone(),
                        rule_text(&c.rule),
                    ]
                })
                .collect();
            for line in output::table(&["GROUP-RESOURCE", "VERSION", "RULE"], &rows).lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
        None => out.push_str("  <none recorded>\n"),
    }
    out
}

/// The rule as a person reads it, with its number from SPEC.md section 4.
pub fn rule_text(rule: &str) -> String {
    match rule {
        "userPriority" => "user priority (priority 0)".to_owned(),
        "targetPreferred" => "target preferred version (priority 1)".to_owned(),
        "sourcePreferred" => "source preferred version (priority 2)".to_owned(),
        "commonNonPreferred" => "highest common non-preferred version (priority 3)".to_owned(),
        "featureFlagOff" => "source preferred version (EnableAPIGroupVersions off)".to_owned(),
        "converted" => "converted from a version the target no longer serves".to_owned(),
        other => other.to_owned(),
    }
}

/// Warnings or errors grouped as Velero's describe prints them (`<none>` when there are none).
pub fn grouped(out: &mut String, title: &str, messages: &Grouped) {
    let empty = messages.velero.is_empty()
        && messages.cluster.is_empty()
        && messages.namespaces.values().all(Vec::is_empty);
    if empty {
        let _ = writeln!(out, "\n{title}:  <none>");
        return;
    }
    let _ = writeln!(out, "\n{title}:");
    let lines = |out: &mut String, label: &str, list: &[String]| {
        if list.is_empty() {
            let _ = writeln!(out, "  {label}  <none>");
        } else {
            let _ = writeln!(out, "  {label}  {}", list.join("\n              "));
        }
    };
    lines(out, "Velero:   ", &messages.velero);
    lines(out, "Cluster:  ", &messages.cluster);
    if messages.namespaces.is_empty() {
        let _ = writeln!(out, "  Namespaces: <none>");
    } else {
        let _ = writeln!(out, "  Namespaces:");
        for (namespace, list) in &messages.namespaces {
            let indent = format!("\n{}", " ".repeat(namespace.chars().count() + 7));
            let _ = writeln!(out, "    {namespace}:  {}", list.join(&indent));
        }
    }
}

/// `velero backup get`.
pub fn backups_table(backups: &[Backup], now: &Time) -> String {
    let rows: Vec<Vec<String>> = backups
        .iter()
        .map(|b| {
            let status = b.status.clone().unwrap_or_default();
            let expires = status.expiration.as_ref().map_or_else(
                || "n/a".to_owned(),
                |e| output::short_duration(output::between(now, e)),
            );
            vec![
                b.metadata.name.clone().unwrap_or_default(),
                status
                    .phase
                    .as_ref()
                    .map_or_else(|| "New".to_owned(), ToString::to_string),
                status.errors.to_string(),
                status.warnings.to_string(),
                timestamp(b.metadata.creation_timestamp.as_ref()),
                expires,
                if b.spec.storage_location.is_empty() {
                    "default".to_owned()
                } else {
                    b.spec.storage_location.clone()
                },
                selector(b.spec.label_selector.as_ref()),
            ]
        })
        .collect();
    output::table(
        &[
            "NAME",
            "STATUS",
            "ERRORS",
            "WARNINGS",
            "CREATED",
            "EXPIRES",
            "STORAGE LOCATION",
            "SELECTOR",
        ],
        &rows,
    )
}

/// `velero restore get`.
pub fn restores_table(restores: &[Restore]) -> String {
    let rows: Vec<Vec<String>> = restores
        .iter()
        .map(|r| {
            let status = r.status.clone().unwrap_or_default();
            vec![
                r.metadata.name.clone().unwrap_or_default(),
                r.spec.backup_name.clone(),
                status
                    .phase
                    .as_ref()
                    .map_or_else(|| "New".to_owned(), ToString::to_string),
                timestamp(status.start_timestamp.as_ref()),
                timestamp(status.completion_timestamp.as_ref()),
                status.errors.to_string(),
                status.warnings.to_string(),
                timestamp(r.metadata.creation_timestamp.as_ref()),
                selector(r.spec.label_selector.as_ref()),
            ]
        })
        .collect();
    output::table(
        &[
            "NAME",
            "BACKUP",
            "STATUS",
            "STARTED",
            "COMPLETED",
            "ERRORS",
            "WARNINGS",
            "CREATED",
            "SELECTOR",
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests;
