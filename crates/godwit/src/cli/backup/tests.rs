//! `backup describe --details` reading a stored backup: the tarball streamed from a location
//! into the pod-volume report, and the Backup spec read into Velero's selection rules.

use godwit_storage::{BackupStore, BackupUpload, LocationConfig, Tarball};
use godwit_tarball::{BackupWriter, Item};
use godwit_versioning::GroupResource;
use serde_json::json;

use super::*;

#[tokio::test]
async fn details_stream_the_stored_tarball_into_the_pod_volume_report() {
    let dir = tempfile::tempdir().unwrap();
    let store = BackupStore::open(&LocationConfig::local(dir.path()))
        .await
        .unwrap();
    let pods = GroupResource::new("", "pods");
    // Small gzip chunks would hide a reader that mishandles chunk borders, so write many pods.
    let mut writer = BackupWriter::new(Vec::new()).unwrap();
    for i in 0..300 {
        let name = format!("web-{i:03}");
        let pod = json!({
            "metadata": {"namespace": "shop", "name": name,
                "annotations": {godwit_backup::VOLUMES_TO_EXCLUDE_ANNOTATION: "cache"}},
            "spec": {"nodeName": "node-1",
                "containers": [{"name": "app", "volumeMounts": [
                    {"name": "data", "mountPath": "/data"}, {"name": "cache", "mountPath": "/cache"}]}],
                "volumes": [{"name": "data", "emptyDir": {}}, {"name": "cache", "emptyDir": {}}]},
            "status": {"phase": "Running"},
        });
        let item = Item {
            group_resource: &pods,
            namespace: Some("shop"),
            name: &name,
            version: "v1",
            preferred_version: "v1",
        };
        writer.append(&item, &pod).unwrap();
    }
    let (tarball, _) = writer.finish().unwrap();
    store
        .put_backup("b", BackupUpload::new("{}", Tarball::Bytes(tarball.into())))
        .await
        .unwrap();

    let mut spec = godwit_api::BackupSpec {
        default_volumes_to_fs_backup: Some(true),
        ..Default::default()
    };
    let report = stream_pod_volumes(&store, "b", fs_backup_rules(&spec))
        .await
        .unwrap();
    assert_eq!(report.pods.len(), 300);
    let selected: Vec<Vec<&str>> = report.selected().map(|(_, names)| names).collect();
    assert_eq!(selected, vec![vec!["data"]; 300]);

    spec.default_volumes_to_fs_backup = None;
    let report = stream_pod_volumes(&store, "b", fs_backup_rules(&spec))
        .await
        .unwrap();
    assert_eq!(report.selected().count(), 0);

    let err = stream_pod_volumes(&store, "missing", fs_backup_rules(&spec))
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("cannot read the tarball of backup missing"),
        "{err:#}"
    );
}

#[test]
fn fs_backup_rules_read_the_spec() {
    let spec = |included: &[&str], excluded: &[&str], ns_excluded: &[&str]| {
        let list = |items: &[&str]| Some(items.iter().map(|s| (*s).to_owned()).collect());
        godwit_api::BackupSpec {
            included_resources: list(included),
            excluded_resources: list(excluded),
            excluded_namespace_scoped_resources: list(ns_excluded),
            default_volumes_to_restic: Some(true),
            ..Default::default()
        }
    };
    let rules = fs_backup_rules(&spec(&[], &[], &[]));
    assert!(rules.default_volumes_to_fs_backup);
    assert!(!rules.claims_excluded);
    assert!(fs_backup_rules(&spec(&["pods"], &[], &[])).claims_excluded);
    assert!(fs_backup_rules(&spec(&[], &[], &["pvc"])).claims_excluded);
    assert!(!fs_backup_rules(&spec(&["pods", "persistentvolumeclaims"], &[], &[])).claims_excluded);
}
