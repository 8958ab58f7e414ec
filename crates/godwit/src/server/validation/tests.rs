//! Tests of the validation rules, one `check` helper per rule family.

use godwit_api::{
    BackupStatus, BackupStorageLocationSpec, BackupStorageLocationStatus, ObjectStorageLocation,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};

use super::*;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

#[test]
fn includes_and_excludes() {
    let check = |includes: &[&str], excludes: &[&str], expected: &[&str]| {
        assert_eq!(
            includes_excludes_problems(&strings(includes), &strings(excludes)),
            strings(expected),
            "{includes:?} / {excludes:?}"
        );
    };
    check(&[], &[], &[]);
    check(&["*"], &["pods"], &[]);
    check(&["pods", "secrets"], &["configmaps"], &[]);
    check(
        &["*", "pods"],
        &[],
        &["includes list must either contain '*' only, or a non-empty list of items"],
    );
    check(&[], &["*"], &["excludes list cannot contain '*'"]);
    check(
        &["pods", "secrets"],
        &["secrets", "pods"],
        &[
            "excludes list cannot contain an item in the includes list: pods",
            "excludes list cannot contain an item in the includes list: secrets",
        ],
    );
}

fn location(
    name: &str,
    default: bool,
    phase: Option<&str>,
    mode: Option<&str>,
) -> BackupStorageLocation {
    let mut location = BackupStorageLocation::new(
        name,
        BackupStorageLocationSpec {
            provider: "godwit.io/local".to_owned(),
            object_storage: ObjectStorageLocation {
                bucket: "b".to_owned(),
                ..ObjectStorageLocation::default()
            },
            default,
            access_mode: mode.map(AccessMode::parse),
            ..BackupStorageLocationSpec::default()
        },
    );
    location.status = phase.map(|phase| BackupStorageLocationStatus {
        phase: Some(BackupStorageLocationPhase::parse(phase)),
        ..BackupStorageLocationStatus::default()
    });
    location
}

#[test]
fn backup_location_choice() {
    let check = |named: &str, locations: &[BackupStorageLocation], expected: Result<&str, &str>| {
        let chosen = backup_location(named, locations)
            .map(|location| location.metadata.name.clone().unwrap_or_default());
        match (chosen, expected) {
            (Ok(name), Ok(expected)) => assert_eq!(name, expected),
            (Err(problem), Err(expected)) => {
                assert!(problem.contains(expected), "{problem}")
            }
            (chosen, expected) => panic!("{named:?}: got {chosen:?}, expected {expected:?}"),
        }
    };
    let both = [
        location("default", false, None, None),
        location("primary", true, None, None),
        location("zz", true, None, None),
    ];
    check("", &both, Ok("primary"));
    check("zz", &both, Ok("zz"));
    check("", &both[..1], Ok("default"));
    check(
        "",
        &[location("other", false, None, None)],
        Err("server default 'default' doesn't exist"),
    );
    check(
        "missing",
        &both,
        Err("backupstoragelocations.velero.io \"missing\" not found"),
    );
}

#[test]
fn location_usability() {
    let check = |location: BackupStorageLocation, expected: &[&str]| {
        assert_eq!(location_problems(&location), strings(expected));
    };
    check(location("a", true, Some("Available"), None), &[]);
    check(location("a", true, None, Some("ReadWrite")), &[]);
    check(
        location("a", true, Some("Available"), Some("ReadOnly")),
        &[
            "backup can't be created because backup storage location a is currently in read-only mode",
        ],
    );
    check(
        location("a", true, Some("Unavailable"), None),
        &["backup can't be created because BackupStorageLocation a is in Unavailable status"],
    );
}

#[test]
fn backup_specs() {
    let check = |spec: BackupSpec, expected: &[&str]| {
        let problems = backup_spec_problems(&spec);
        assert_eq!(problems.len(), expected.len(), "{problems:?}");
        for (problem, expected) in problems.iter().zip(expected) {
            assert!(problem.contains(expected), "{problem} lacks {expected}");
        }
    };
    check(BackupSpec::default(), &[]);
    check(
        BackupSpec {
            included_namespaces: Some(strings(&["shop"])),
            excluded_namespaces: Some(strings(&["shop"])),
            ..BackupSpec::default()
        },
        &[
            "Invalid included/excluded namespace lists: excludes list cannot contain an item in the includes list: shop",
        ],
    );
    check(
        BackupSpec {
            excluded_resources: Some(strings(&["*"])),
            ..BackupSpec::default()
        },
        &["Invalid included/excluded resource lists: excludes list cannot contain '*'"],
    );
    check(
        BackupSpec {
            included_resources: Some(strings(&["pods"])),
            included_namespace_scoped_resources: Some(strings(&["pods"])),
            ..BackupSpec::default()
        },
        &["they cannot be used together"],
    );
    check(
        BackupSpec {
            label_selector: Some(LabelSelector::default()),
            or_label_selectors: Some(vec![LabelSelector::default()]),
            ..BackupSpec::default()
        },
        &["only one can be specified"],
    );
}

fn restore_spec(backup: &str) -> RestoreSpec {
    RestoreSpec {
        backup_name: backup.to_owned(),
        ..RestoreSpec::default()
    }
}

#[test]
fn restore_specs() {
    let check = |spec: RestoreSpec, expected: &[&str]| {
        let problems = restore_spec_problems(&spec);
        assert_eq!(problems.len(), expected.len(), "{problems:?}");
        for (problem, expected) in problems.iter().zip(expected) {
            assert!(problem.contains(expected), "{problem} lacks {expected}");
        }
    };
    check(restore_spec("b"), &[]);
    check(
        RestoreSpec::default(),
        &["Either a backup or schedule must be specified"],
    );
    check(
        RestoreSpec {
            schedule_name: "daily".to_owned(),
            ..restore_spec("b")
        },
        &["but not both"],
    );
    check(
        RestoreSpec {
            included_resources: Some(strings(&["nodes", "pods", "backups.velero.io"])),
            ..restore_spec("b")
        },
        &[
            "nodes are non-restorable resources",
            "backups.velero.io are non-restorable resources",
        ],
    );
    check(
        RestoreSpec {
            existing_resource_policy: Some(ExistingResourcePolicy::parse("replace")),
            ..restore_spec("b")
        },
        &["Invalid existing resource policy \"replace\": use \"none\" or \"update\""],
    );
    check(
        RestoreSpec {
            existing_resource_policy: Some(ExistingResourcePolicy::Update),
            included_namespaces: Some(strings(&["a", "*"])),
            ..restore_spec("b")
        },
        &["Invalid included/excluded namespace lists: includes list must either"],
    );
}

fn backup(name: &str, phase: Option<&str>, schedule: Option<&str>, start: &str) -> Backup {
    let mut backup = Backup::new(name, BackupSpec::default());
    if let Some(schedule) = schedule {
        backup.metadata.labels = Some(
            [(
                godwit_api::labels::SCHEDULE_NAME.to_owned(),
                schedule.to_owned(),
            )]
            .into(),
        );
    }
    backup.status = Some(BackupStatus {
        phase: phase.map(BackupPhase::parse),
        start_timestamp: Some(Time(start.parse().unwrap())),
        ..BackupStatus::default()
    });
    backup
}

#[test]
fn restore_sources() {
    let backups = [
        backup(
            "done",
            Some("Completed"),
            Some("daily"),
            "2026-01-02T00:00:00Z",
        ),
        backup(
            "older",
            Some("Completed"),
            Some("daily"),
            "2026-01-01T00:00:00Z",
        ),
        backup(
            "newest-broken",
            Some("Failed"),
            Some("daily"),
            "2026-01-03T00:00:00Z",
        ),
        backup(
            "partial",
            Some("PartiallyFailed"),
            None,
            "2026-01-01T00:00:00Z",
        ),
        backup("running", Some("InProgress"), None, "2026-01-01T00:00:00Z"),
    ];
    let check = |spec: RestoreSpec, expected: Result<&str, &str>| {
        let found = restore_source(&spec, &backups)
            .map(|backup| backup.metadata.name.clone().unwrap_or_default());
        match (found, expected) {
            (Ok(name), Ok(expected)) => assert_eq!(name, expected),
            (Err(problem), Err(expected)) => assert!(problem.contains(expected), "{problem}"),
            (found, expected) => panic!("got {found:?}, expected {expected:?}"),
        }
    };
    check(restore_spec("done"), Ok("done"));
    check(restore_spec("partial"), Ok("partial"));
    check(
        restore_spec("missing"),
        Err("Error retrieving backup: backups.velero.io \"missing\" not found"),
    );
    check(restore_spec("running"), Err("is in phase InProgress"));
    let from_schedule = |schedule: &str| RestoreSpec {
        schedule_name: schedule.to_owned(),
        ..RestoreSpec::default()
    };
    check(from_schedule("daily"), Ok("done"));
    check(
        from_schedule("weekly"),
        Err("No completed backups found for schedule"),
    );
}
