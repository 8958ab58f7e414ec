//! The types read Velero's objects (the YAML fixtures under `fixtures/velero/`) and write them
//! back unchanged, tolerate what a newer Velero may add, and keep their helpers honest.

use k8s_openapi::jiff::Timestamp;
use kube::CustomResourceExt;
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::test_support::{first_difference, pruned_paths};
use crate::*;

/// A fixture under `fixtures/velero/`, as JSON.
fn fixture_value(name: &str) -> Value {
    let bytes = godwit_fixtures::read(&format!("velero/{name}"));
    let text = String::from_utf8(bytes).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

/// Reads a fixture into `T` (through JSON and straight from YAML, which must agree), checks that
/// writing it back gives the same document, and returns it.
fn check_round_trip<T>(name: &str) -> T
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let original = fixture_value(name);
    let typed: T = serde_json::from_value(original.clone()).unwrap();
    let bytes = godwit_fixtures::read(&format!("velero/{name}"));
    let from_yaml: T = serde_saphyr::from_str(std::str::from_utf8(&bytes).unwrap()).unwrap();
    assert_eq!(from_yaml, typed, "{name}: YAML and JSON readings differ");
    let written = serde_json::to_value(&typed).unwrap();
    assert_eq!(first_difference(&written, &original, ""), None, "{name}");
    typed
}

fn time(text: &str) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time {
    k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(text.parse::<Timestamp>().unwrap())
}

#[test]
fn backup_fixture_reads_as_velero_wrote_it() {
    let backup: Backup = check_round_trip("backup.yaml");
    assert_eq!(backup.metadata.name.as_deref(), Some("nginx-backup"));
    assert_eq!(
        backup.metadata.labels.as_ref().unwrap()[labels::STORAGE_LOCATION],
        "default"
    );
    let spec = &backup.spec;
    assert_eq!(
        spec.included_namespaces,
        Some(vec!["nginx-example".to_owned()])
    );
    assert_eq!(spec.storage_location, "default");
    assert_eq!(
        spec.ttl.as_ref().unwrap().to_std().unwrap(),
        std::time::Duration::from_secs(720 * 3600)
    );
    assert_eq!(
        spec.label_selector
            .as_ref()
            .unwrap()
            .match_labels
            .as_ref()
            .unwrap()["app"],
        "nginx"
    );
    assert_eq!(spec.default_volumes_to_fs_backup, Some(false));
    assert_eq!(spec.hooks, Some(json!({})));
    assert!(spec.unknown_fields.is_empty());
    let status = backup.status.as_ref().unwrap();
    assert_eq!(status.phase, Some(BackupPhase::Completed));
    assert_eq!(
        (status.version, status.format_version.as_str()),
        (1, "1.1.0")
    );
    assert_eq!(status.expiration, Some(time("2025-04-03T10:15:02Z")));
    assert_eq!(
        status.progress,
        Some(BackupProgress {
            total_items: 12,
            items_backed_up: 12
        })
    );
    assert_eq!(status.hook_status, Some(HookStatus::default()));
    assert!(backup.is_terminal_phase());
}

#[test]
fn restore_fixture_reads_as_velero_wrote_it() {
    let restore: Restore = check_round_trip("restore.yaml");
    let spec = &restore.spec;
    assert_eq!(spec.backup_name, "nginx-backup");
    assert_eq!(
        spec.existing_resource_policy,
        Some(ExistingResourcePolicy::Update)
    );
    assert_eq!(
        spec.namespace_mapping.as_ref().unwrap()["nginx-example"],
        "nginx-restored"
    );
    assert_eq!(spec.excluded_resources.as_ref().unwrap().len(), 9);
    assert_eq!(spec.item_operation_timeout, Some(Duration::new("4h0m0s")));
    assert_eq!(
        restore.metadata.finalizers,
        Some(vec![
            labels::RESTORE_EXTERNAL_RESOURCES_FINALIZER.to_owned()
        ])
    );
    let status = restore.status.as_ref().unwrap();
    assert_eq!(status.phase, Some(RestorePhase::Completed));
    assert_eq!((status.warnings, status.errors), (2, 0));
    assert_eq!(status.progress.as_ref().unwrap().items_restored, 10);
    assert_eq!(status.godwit, None);
    assert!(restore.is_terminal_phase());
}

#[test]
fn godwit_version_choices_read_and_write_back() {
    let restore: Restore = check_round_trip("restore-with-version-choices.yaml");
    let godwit = restore.status.unwrap().godwit.unwrap();
    assert_eq!(
        godwit.version_choices,
        [
            VersionChoice {
                group_resource: "deployments.apps".into(),
                version: "v1".into(),
                rule: "targetPreferred".into(),
            },
            VersionChoice {
                group_resource: "rockbands.music.example.io".into(),
                version: "v2beta2".into(),
                rule: "commonNonPreferred".into(),
            },
        ]
    );
}

#[test]
fn backup_storage_location_fixture_reads_as_velero_wrote_it() {
    let location: BackupStorageLocation = check_round_trip("backupstoragelocation.yaml");
    let spec = &location.spec;
    assert_eq!(spec.provider, "aws");
    assert_eq!(
        (
            spec.object_storage.bucket.as_str(),
            spec.object_storage.prefix.as_str()
        ),
        ("velero", "cluster-a")
    );
    assert_eq!(spec.config.as_ref().unwrap()["s3ForcePathStyle"], "true");
    let credential = spec.credential.as_ref().unwrap();
    assert_eq!(
        (credential.name.as_str(), credential.key.as_str()),
        ("cloud-credentials", "cloud")
    );
    assert!(spec.default);
    assert_eq!(location.access_mode(), AccessMode::ReadWrite);
    let status = location.status.as_ref().unwrap();
    assert_eq!(status.phase, Some(BackupStorageLocationPhase::Available));
    assert_eq!(
        status.last_validation_time,
        Some(time("2025-03-04T11:05:40Z"))
    );
}

#[test]
fn delete_backup_request_fixture_reads_as_velero_wrote_it() {
    let request: DeleteBackupRequest = check_round_trip("deletebackuprequest.yaml");
    assert_eq!(request.spec.backup_name, "nginx-backup");
    assert_eq!(
        request.status.unwrap().phase,
        Some(DeleteBackupRequestPhase::Processed)
    );
    assert_eq!(
        request.metadata.labels.unwrap()[labels::BACKUP_NAME],
        "nginx-backup"
    );
}

/// What a real API server serving our CRDs would keep of each fixture: all of it.
#[test]
fn fixtures_survive_pruning_by_the_generated_schemas() {
    for (name, crd) in [
        ("backup.yaml", Backup::crd()),
        ("restore.yaml", Restore::crd()),
        ("restore-with-version-choices.yaml", Restore::crd()),
        ("backupstoragelocation.yaml", BackupStorageLocation::crd()),
        ("deletebackuprequest.yaml", DeleteBackupRequest::crd()),
    ] {
        let crd = serde_json::to_value(crd).unwrap();
        let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
        let value = fixture_value(name);
        let mut pruned = Vec::new();
        for part in ["spec", "status"] {
            pruned.extend(pruned_paths(
                &value[part],
                &schema["properties"][part],
                part,
            ));
        }
        assert!(pruned.is_empty(), "{name}: {pruned:?}");
    }
}

#[test]
fn the_pruning_check_can_fail() {
    let schema = json!({
        "type": "object",
        "properties": {
            "a": {"type": "object", "properties": {"b": {"type": "string"}}},
            "m": {"type": "object", "additionalProperties": {"type": "string"}},
            "o": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "l": {"type": "array", "items": {"type": "object", "properties": {}}},
        },
    });
    let value = json!({
        "a": {"b": "kept", "c": "pruned"},
        "m": {"any": "kept"},
        "o": {"any": {"deep": "kept"}},
        "l": [{"x": 1}],
        "z": true,
    });
    assert_eq!(pruned_paths(&value, &schema, ""), [".a.c", ".l[0].x", ".z"]);
}

#[test]
fn unknown_fields_and_phases_from_a_newer_velero_are_kept() {
    let object = json!({
        "apiVersion": "velero.io/v1",
        "kind": "Backup",
        "metadata": {"name": "b", "namespace": "velero"},
        "spec": {
            "storageLocation": "default",
            "volumeGroupSnapshotLabelKey": "app",
            "futureSetting": {"nested": [1, 2]},
        },
        "status": {"phase": "Archiving", "queuePosition": 3},
    });
    let backup: Backup = serde_json::from_value(object.clone()).unwrap();
    assert_eq!(
        backup.phase(),
        Some(&BackupPhase::Unknown("Archiving".into()))
    );
    assert!(!backup.is_terminal_phase());
    assert_eq!(
        backup.spec.unknown_fields["volumeGroupSnapshotLabelKey"],
        "app"
    );
    assert_eq!(
        backup.status.as_ref().unwrap().unknown_fields["queuePosition"],
        3
    );
    let written = serde_json::to_value(&backup).unwrap();
    assert_eq!(first_difference(&written, &object, ""), None);

    let restore: Restore = serde_json::from_value(json!({
        "metadata": {"name": "r"},
        "spec": {"backupName": "b", "existingResourcePolicy": "merge", "newField": true},
        "status": {"phase": "Paused"},
    }))
    .unwrap();
    assert_eq!(
        restore.spec.existing_resource_policy,
        Some(ExistingResourcePolicy::Unknown("merge".into()))
    );
    assert_eq!(
        restore.phase(),
        Some(&RestorePhase::Unknown("Paused".into()))
    );
    assert_eq!(restore.spec.unknown_fields["newField"], true);
}

#[test]
fn nulls_read_as_absent_or_zero() {
    let backup: Backup = serde_json::from_value(json!({
        "metadata": {"name": "b"},
        "spec": {
            "includedNamespaces": null,
            "labelSelector": null,
            "storageLocation": null,
            "ttl": null,
            "hooks": null,
        },
        "status": {"phase": null, "warnings": null, "formatVersion": null, "progress": null},
    }))
    .unwrap();
    assert_eq!(backup.spec, BackupSpec::default());
    assert_eq!(backup.status, Some(BackupStatus::default()));
    // Writing leaves the zero values out, as Go's omitempty does.
    assert_eq!(
        serde_json::to_value(&backup).unwrap(),
        json!({
            "apiVersion": "velero.io/v1",
            "kind": "Backup",
            "metadata": {"name": "b"},
            "spec": {},
            "status": {},
        })
    );
    let location: BackupStorageLocation = serde_json::from_value(json!({
        "metadata": {"name": "l"},
        "spec": {"provider": "aws", "objectStorage": {"bucket": "b", "prefix": null}, "default": null},
    }))
    .unwrap();
    assert_eq!(location.spec.object_storage.prefix, "");
    assert!(!location.spec.default);
}

#[test]
fn a_backup_storage_location_needs_provider_and_bucket() {
    for spec in [
        json!({"objectStorage": {"bucket": "b"}}),
        json!({"provider": "aws"}),
        json!({"provider": "aws", "objectStorage": {}}),
    ] {
        let object = json!({"metadata": {"name": "l"}, "spec": spec});
        assert!(
            serde_json::from_value::<BackupStorageLocation>(object).is_err(),
            "{spec}"
        );
    }
}

#[test]
fn ca_cert_is_base64_on_the_wire() {
    let location: ObjectStorageLocation =
        serde_json::from_value(json!({"bucket": "b", "caCert": "LS0tLS1CRUdJTg=="})).unwrap();
    assert_eq!(location.ca_cert.as_ref().unwrap().0, b"-----BEGIN");
    assert_eq!(
        serde_json::to_value(&location).unwrap(),
        json!({"bucket": "b", "caCert": "LS0tLS1CRUdJTg=="})
    );
}

fn check_terminal(phase: &str, backup: bool, restore: bool) {
    assert_eq!(
        BackupPhase::parse(phase).is_terminal(),
        backup,
        "backup {phase}"
    );
    assert_eq!(
        RestorePhase::parse(phase).is_terminal(),
        restore,
        "restore {phase}"
    );
}

#[test]
fn terminal_phases_are_the_ends_of_the_run() {
    for phase in ["FailedValidation", "Completed", "PartiallyFailed", "Failed"] {
        check_terminal(phase, true, true);
    }
    for phase in [
        "New",
        "Queued",
        "ReadyToStart",
        "InProgress",
        "WaitingForPluginOperations",
        "WaitingForPluginOperationsPartiallyFailed",
        "Finalizing",
        "FinalizingPartiallyFailed",
        "Deleting",
        "",
        "completed",
        "SomethingNew",
    ] {
        check_terminal(phase, false, false);
    }
    let mut backup = Backup::new("b", BackupSpec::default());
    assert!(!backup.is_terminal_phase(), "no status yet");
    backup.status = Some(BackupStatus::default());
    assert!(!backup.is_terminal_phase(), "no phase yet");
}

/// Each enum's known values, as Velero spells them.
fn known_values() -> Vec<(&'static str, Vec<String>)> {
    fn strings<T: ToString>(values: &[T]) -> Vec<String> {
        values.iter().map(ToString::to_string).collect()
    }
    vec![
        ("BackupPhase", strings(BackupPhase::KNOWN)),
        ("RestorePhase", strings(RestorePhase::KNOWN)),
        (
            "BackupStorageLocationPhase",
            strings(BackupStorageLocationPhase::KNOWN),
        ),
        (
            "DeleteBackupRequestPhase",
            strings(DeleteBackupRequestPhase::KNOWN),
        ),
        ("AccessMode", strings(AccessMode::KNOWN)),
        (
            "ExistingResourcePolicy",
            strings(ExistingResourcePolicy::KNOWN),
        ),
    ]
}

#[test]
fn enums_spell_values_as_velero_does() {
    let got: Vec<_> = known_values()
        .into_iter()
        .map(|(name, values)| format!("{name}: {}", values.join(" ")))
        .collect();
    assert_eq!(
        got,
        [
            "BackupPhase: New Queued ReadyToStart FailedValidation InProgress \
             WaitingForPluginOperations WaitingForPluginOperationsPartiallyFailed Finalizing \
             FinalizingPartiallyFailed Completed PartiallyFailed Failed Deleting",
            "RestorePhase: New Queued ReadyToStart FailedValidation InProgress \
             WaitingForPluginOperations WaitingForPluginOperationsPartiallyFailed Finalizing \
             FinalizingPartiallyFailed Completed PartiallyFailed Failed",
            "BackupStorageLocationPhase: Available Unavailable",
            "DeleteBackupRequestPhase: New InProgress Processed",
            "AccessMode: ReadWrite ReadOnly",
            "ExistingResourcePolicy: none update",
        ]
    );
    for phase in BackupPhase::KNOWN {
        assert!(phase.is_known());
        assert_eq!(&BackupPhase::parse(phase.as_str()), phase);
        assert_eq!(serde_json::to_value(phase).unwrap(), phase.as_str());
    }
    assert!(!BackupPhase::parse("Archived").is_known());
}

#[test]
fn version_choices_spell_rules_as_versioning_serializes_them() {
    use godwit_versioning::{Choice, GroupResource, Rule};
    for rule in [
        Rule::UserPriority,
        Rule::TargetPreferred,
        Rule::SourcePreferred,
        Rule::CommonNonPreferred,
        Rule::FeatureFlagOff,
        Rule::Converted,
    ] {
        let choice = Choice {
            group_resource: GroupResource::new("music.example.io", "rockbands"),
            version: "v2beta2".into(),
            dir: "v2beta2".into(),
            rule,
        };
        let got = VersionChoice::from(&choice);
        assert_eq!(got.group_resource, "rockbands.music.example.io");
        assert_eq!(got.version, "v2beta2");
        assert_eq!(Value::from(got.rule), serde_json::to_value(rule).unwrap());
    }
}

#[test]
fn constants_name_velero_s_api() {
    assert_eq!(API_VERSION, format!("{GROUP}/{VERSION}"));
    assert_eq!(Backup::api_resource().api_version, API_VERSION);
    assert_eq!(
        crds().iter().map(file_name).collect::<Vec<_>>(),
        [
            "velero.io_backups.yaml",
            "velero.io_restores.yaml",
            "velero.io_backupstoragelocations.yaml",
            "velero.io_deletebackuprequests.yaml",
        ]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_phase_string_round_trips(text in "\\PC{0,24}") {
        let phase: RestorePhase = serde_json::from_value(Value::from(text.clone())).unwrap();
        prop_assert_eq!(phase.as_str(), text.as_str());
        prop_assert_eq!(serde_json::to_value(&phase).unwrap(), Value::from(text));
    }
}
