//! The checks a new Backup or Restore must pass before it runs, as Velero's controllers make
//! them; every failed check becomes one line of `status.validationErrors`. Pure functions over
//! the resources, so each rule is tested without a cluster.

use std::collections::BTreeSet;

use godwit_api::{
    AccessMode, Backup, BackupPhase, BackupSpec, BackupStorageLocation, BackupStorageLocationPhase,
    ExistingResourcePolicy, RestoreSpec,
};

/// The name Velero's server falls back to when no location is marked default.
pub(crate) const DEFAULT_LOCATION: &str = "default";

/// Resources a restore never creates (Velero's list); naming one in `includedResources` is an
/// error.
const NON_RESTORABLE_RESOURCES: [&str; 9] = [
    "nodes",
    "events",
    "events.events.k8s.io",
    "backups.velero.io",
    "restores.velero.io",
    "resticrepositories.velero.io",
    "csinodes.storage.k8s.io",
    "volumeattachments.storage.k8s.io",
    "backuprepositories.velero.io",
];

/// Velero's rules for an includes/excludes pair: `*` alone or not at all in includes, never in
/// excludes, and nothing in both.
pub(crate) fn includes_excludes_problems(includes: &[String], excludes: &[String]) -> Vec<String> {
    let includes: BTreeSet<&str> = includes.iter().map(String::as_str).collect();
    let excludes: BTreeSet<&str> = excludes.iter().map(String::as_str).collect();
    let mut problems = Vec::new();
    if includes.len() > 1 && includes.contains("*") {
        problems.push(
            "includes list must either contain '*' only, or a non-empty list of items".to_owned(),
        );
    }
    if excludes.contains("*") {
        problems.push("excludes list cannot contain '*'".to_owned());
    }
    for item in excludes.intersection(&includes) {
        problems.push(format!(
            "excludes list cannot contain an item in the includes list: {item}"
        ));
    }
    problems
}

fn list(items: &Option<Vec<String>>) -> &[String] {
    items.as_deref().unwrap_or_default()
}

/// The location a backup goes to: the one it names, or else the one marked `default: true`
/// (the first by name when several are), or else the one named `default`.
pub(crate) fn backup_location<'a>(
    storage_location: &str,
    locations: &'a [BackupStorageLocation],
) -> Result<&'a BackupStorageLocation, String> {
    let named = |name: &str| {
        locations
            .iter()
            .find(|location| location.metadata.name.as_deref() == Some(name))
    };
    if !storage_location.is_empty() {
        return named(storage_location).ok_or_else(|| {
            format!(
                "a BackupStorageLocation CRD with the name specified in the backup spec needs to be created before this backup can be executed. Error: backupstoragelocations.velero.io \"{storage_location}\" not found"
            )
        });
    }
    let mut defaults: Vec<&BackupStorageLocation> = locations
        .iter()
        .filter(|location| location.spec.default)
        .collect();
    defaults.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    defaults
        .first()
        .copied()
        .or_else(|| named(DEFAULT_LOCATION))
        .ok_or_else(|| {
            format!(
                "an existing backup storage location wasn't specified at backup creation time and the server default '{DEFAULT_LOCATION}' doesn't exist. Please address this issue (see `velero backup-location -h` for options) and create a new backup. Error: backupstoragelocations.velero.io \"{DEFAULT_LOCATION}\" not found"
            )
        })
}

/// Why a location cannot take a new backup, if it cannot.
pub(crate) fn location_problems(location: &BackupStorageLocation) -> Vec<String> {
    let name = location.metadata.name.as_deref().unwrap_or_default();
    let mut problems = Vec::new();
    if location.access_mode() == AccessMode::ReadOnly {
        problems.push(format!(
            "backup can't be created because backup storage location {name} is currently in read-only mode"
        ));
    }
    let unavailable = location
        .status
        .as_ref()
        .and_then(|status| status.phase.as_ref())
        == Some(&BackupStorageLocationPhase::Unavailable);
    if unavailable {
        problems.push(format!(
            "backup can't be created because BackupStorageLocation {name} is in Unavailable status"
        ));
    }
    problems
}

/// The problems of a backup's own spec (filters and selectors).
pub(crate) fn backup_spec_problems(spec: &BackupSpec) -> Vec<String> {
    let mut problems = Vec::new();
    for problem in includes_excludes_problems(
        list(&spec.included_resources),
        list(&spec.excluded_resources),
    ) {
        problems.push(format!(
            "Invalid included/excluded resource lists: {problem}"
        ));
    }
    for problem in includes_excludes_problems(
        list(&spec.included_cluster_scoped_resources),
        list(&spec.excluded_cluster_scoped_resources),
    ) {
        problems.push(format!(
            "Invalid cluster-scoped included/excluded resource lists: {problem}"
        ));
    }
    for problem in includes_excludes_problems(
        list(&spec.included_namespace_scoped_resources),
        list(&spec.excluded_namespace_scoped_resources),
    ) {
        problems.push(format!(
            "Invalid namespace-scoped included/excluded resource lists: {problem}"
        ));
    }
    for problem in includes_excludes_problems(
        list(&spec.included_namespaces),
        list(&spec.excluded_namespaces),
    ) {
        problems.push(format!(
            "Invalid included/excluded namespace lists: {problem}"
        ));
    }
    let old_filters = spec.included_resources.is_some()
        || spec.excluded_resources.is_some()
        || spec.include_cluster_resources.is_some();
    let new_filters = spec.included_cluster_scoped_resources.is_some()
        || spec.excluded_cluster_scoped_resources.is_some()
        || spec.included_namespace_scoped_resources.is_some()
        || spec.excluded_namespace_scoped_resources.is_some();
    if old_filters && new_filters {
        problems.push(
            "include-resources, exclude-resources and include-cluster-resources are old filter parameters; include-cluster-scoped-resources, exclude-cluster-scoped-resources, include-namespace-scoped-resources and exclude-namespace-scoped-resources are new filter parameters; they cannot be used together".to_owned(),
        );
    }
    if spec.label_selector.is_some() && spec.or_label_selectors.is_some() {
        problems.push("encountered labelSelector as well as orLabelSelectors in backup spec, only one can be specified".to_owned());
    }
    problems
}

/// The problems of a restore's own spec: filters, selectors, policy and its source.
pub(crate) fn restore_spec_problems(spec: &RestoreSpec) -> Vec<String> {
    let mut problems = Vec::new();
    let included: BTreeSet<&str> = list(&spec.included_resources)
        .iter()
        .map(String::as_str)
        .collect();
    for resource in NON_RESTORABLE_RESOURCES {
        if included.contains(resource) {
            problems.push(format!("{resource} are non-restorable resources"));
        }
    }
    for problem in includes_excludes_problems(
        list(&spec.included_resources),
        list(&spec.excluded_resources),
    ) {
        problems.push(format!(
            "Invalid included/excluded resource lists: {problem}"
        ));
    }
    for problem in includes_excludes_problems(
        list(&spec.included_namespaces),
        list(&spec.excluded_namespaces),
    ) {
        problems.push(format!(
            "Invalid included/excluded namespace lists: {problem}"
        ));
    }
    if spec.label_selector.is_some() && spec.or_label_selectors.is_some() {
        problems.push("encountered labelSelector as well as orLabelSelectors in restore spec, only one can be specified".to_owned());
    }
    if let Some(policy) = &spec.existing_resource_policy
        && !policy.is_known()
    {
        problems.push(format!(
            "Invalid existing resource policy {:?}: use {:?} or {:?}",
            policy.as_str(),
            ExistingResourcePolicy::None.as_str(),
            ExistingResourcePolicy::Update.as_str()
        ));
    }
    if spec.backup_name.is_empty() == spec.schedule_name.is_empty() {
        problems.push(
            "Either a backup or schedule must be specified as a source for the restore, but not both"
                .to_owned(),
        );
    }
    problems
}

/// The backup a restore reads from, found among the server's Backups: `Err` holds the
/// validation error when it is missing or did not complete. Restoring from a schedule picks
/// its most recent Completed backup, as Velero does.
pub(crate) fn restore_source<'a>(
    spec: &RestoreSpec,
    backups: &'a [Backup],
) -> Result<&'a Backup, String> {
    if !spec.schedule_name.is_empty() {
        let mut completed: Vec<&Backup> = backups
            .iter()
            .filter(|backup| {
                backup
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|labels| labels.get(godwit_api::labels::SCHEDULE_NAME))
                    == Some(&spec.schedule_name)
                    && backup.phase() == Some(&BackupPhase::Completed)
            })
            .collect();
        completed.sort_by_key(|backup| {
            backup
                .status
                .as_ref()
                .and_then(|status| status.start_timestamp.as_ref())
                .map(|time| time.0)
        });
        return completed
            .last()
            .copied()
            .ok_or_else(|| "No completed backups found for schedule".to_owned());
    }
    let name = spec.backup_name.as_str();
    let backup = backups
        .iter()
        .find(|backup| backup.metadata.name.as_deref() == Some(name))
        .ok_or_else(|| {
            format!("Error retrieving backup: backups.velero.io \"{name}\" not found")
        })?;
    match crate::jobs::unusable_backup(backup) {
        Some(problem) => Err(problem),
        None => Ok(backup),
    }
}

#[cfg(test)]
mod tests;
