//! Tests of the pure parts of location handling.

use k8s_openapi::ByteString;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::*;

#[test]
fn the_local_default_is_a_usable_default_location() {
    let location = default_local_location("velero", Path::new("/var/lib/godwit"));
    assert_eq!(location.metadata.name.as_deref(), Some("default"));
    assert_eq!(location.metadata.namespace.as_deref(), Some("velero"));
    assert!(location.spec.default);
    let config = LocationConfig::from_spec(&storage_spec(&location, None)).unwrap();
    assert_eq!(config, LocationConfig::local("/var/lib/godwit/godwit"));
}

#[test]
fn storage_spec_carries_every_field() {
    let mut location = default_local_location("velero", Path::new("/d"));
    location.spec.provider = "velero.io/aws".to_owned();
    location.spec.config = Some(BTreeMap::from([(
        "region".to_owned(),
        "eu-west-1".to_owned(),
    )]));
    location.spec.object_storage = ObjectStorageLocation {
        bucket: "bucket".to_owned(),
        prefix: "cluster-a".to_owned(),
        ca_cert: Some(ByteString(b"PEM".to_vec())),
    };
    let spec = storage_spec(&location, Some(Path::new("/tmp/creds")));
    assert_eq!(
        spec,
        StorageLocationSpec {
            provider: "velero.io/aws".to_owned(),
            bucket: "bucket".to_owned(),
            prefix: "cluster-a".to_owned(),
            ca_cert: Some(b"PEM".to_vec()),
            config: BTreeMap::from([
                ("credentialsFile".to_owned(), "/tmp/creds".to_owned()),
                ("region".to_owned(), "eu-west-1".to_owned()),
            ]),
        }
    );
}

#[test]
fn validation_outcome_sets_phase_and_message() {
    let now = Time("2026-01-01T00:00:00Z".parse().unwrap());
    let check = |outcome: Result<(), String>, phase: BackupStorageLocationPhase, message: &str| {
        let status = validation_status(&outcome, now.clone());
        assert_eq!(status.phase, Some(phase));
        assert_eq!(status.message, message);
        assert_eq!(status.last_validation_time, Some(now.clone()));
    };
    check(Ok(()), BackupStorageLocationPhase::Available, "");
    check(
        Err("bucket gone".to_owned()),
        BackupStorageLocationPhase::Unavailable,
        "bucket gone",
    );
}
