//! Velero's file-system backup volume selection, one case per rule, through one `check` helper;
//! then the rules that span objects, and a real tarball read back into the report.

use serde_json::{Value, json};

use super::*;

const OPT_IN: Rules = Rules {
    default_volumes_to_fs_backup: false,
    claims_excluded: false,
};
const OPT_OUT: Rules = Rules {
    default_volumes_to_fs_backup: true,
    claims_excluded: false,
};

/// A running pod in `shop` with these annotations and volumes; one container mounts `mounted`.
fn pod(name: &str, annotations: Value, volumes: Value, mounted: &[&str]) -> Value {
    let mounts: Vec<Value> = mounted
        .iter()
        .map(|m| json!({"name": m, "mountPath": format!("/{m}")}))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"namespace": "shop", "name": name, "annotations": annotations},
        "spec": {
            "nodeName": "node-1",
            "containers": [{"name": "app", "image": "app", "volumeMounts": mounts}],
            "volumes": volumes,
        },
        "status": {"phase": "Running"},
    })
}

/// Every volume's verdict, and the annotation's names that match no volume.
fn check(pod: &Value, rules: Rules, expected: &[(&str, Reason)], unmatched: &[&str]) {
    let got = pod_volumes(pod, &rules);
    let verdicts: Vec<(&str, &Reason)> = got
        .volumes
        .iter()
        .map(|v| (v.name.as_str(), &v.reason))
        .collect();
    let expected: Vec<(&str, &Reason)> = expected.iter().map(|(n, r)| (*n, r)).collect();
    assert_eq!(verdicts, expected, "{pod}");
    assert_eq!(got.unmatched, unmatched, "{pod}");
}

fn empty_dir(name: &str) -> Value {
    json!({"name": name, "emptyDir": {}})
}

fn claim(name: &str, claim: &str) -> Value {
    json!({"name": name, "persistentVolumeClaim": {"claimName": claim}})
}

/// One volume of every kind Velero never takes, each mounted.
fn exceptions() -> (Value, Vec<&'static str>) {
    let volumes = json!([
        {"name": "host", "hostPath": {"path": "/var/log"}},
        {"name": "creds", "secret": {"secretName": "creds"}},
        {"name": "settings", "configMap": {"name": "settings"}},
        {"name": "kube-api-access-x7b2q", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
        {"name": "podinfo", "downwardAPI": {"items": []}},
        {"name": "default-token-abcde", "emptyDir": {}},
    ]);
    let names = vec![
        "host",
        "creds",
        "settings",
        "kube-api-access-x7b2q",
        "podinfo",
        "default-token-abcde",
    ];
    (volumes, names)
}

fn exception_reasons() -> Vec<Reason> {
    vec![
        Reason::HostPath,
        Reason::Secret,
        Reason::ConfigMap,
        Reason::Projected,
        Reason::DownwardApi,
        Reason::DefaultToken,
    ]
}

#[test]
fn opt_in_takes_exactly_the_names_listed_with_spaces_kept() {
    let volumes = json!([empty_dir("data"), empty_dir("logs"), empty_dir("tmp")]);
    let all = ["data", "logs", "tmp"];
    // Velero splits on ',' without trimming: " logs" is not "logs".
    check(
        &pod(
            "web",
            json!({VOLUMES_TO_BACKUP_ANNOTATION: "data, logs,,missing,data"}),
            volumes.clone(),
            &all,
        ),
        OPT_IN,
        &[
            ("data", Reason::OptedIn),
            ("logs", Reason::NotOptedIn),
            ("tmp", Reason::NotOptedIn),
        ],
        &[" logs", "missing"],
    );
    // No annotation: nothing is taken.
    check(
        &pod("web", json!({}), volumes.clone(), &all),
        OPT_IN,
        &[
            ("data", Reason::NotOptedIn),
            ("logs", Reason::NotOptedIn),
            ("tmp", Reason::NotOptedIn),
        ],
        &[],
    );
    // The exclude annotation means nothing in opt-in mode.
    check(
        &pod(
            "web",
            json!({VOLUMES_TO_BACKUP_ANNOTATION: "data,tmp", VOLUMES_TO_EXCLUDE_ANNOTATION: "data"}),
            volumes,
            &all,
        ),
        OPT_IN,
        &[
            ("data", Reason::OptedIn),
            ("logs", Reason::NotOptedIn),
            ("tmp", Reason::OptedIn),
        ],
        &[],
    );
}

#[test]
fn opt_out_takes_all_but_the_excluded_and_ignores_the_opt_in_list() {
    let volumes = json!([empty_dir("data"), empty_dir("cache"), claim("db", "db-0")]);
    let all = ["data", "cache", "db"];
    check(
        &pod(
            "web",
            json!({VOLUMES_TO_EXCLUDE_ANNOTATION: "cache,nope", VOLUMES_TO_BACKUP_ANNOTATION: "cache"}),
            volumes.clone(),
            &all,
        ),
        OPT_OUT,
        &[
            ("data", Reason::DefaultVolumesToFsBackup),
            ("cache", Reason::OptedOut),
            ("db", Reason::DefaultVolumesToFsBackup),
        ],
        &["nope"],
    );
    check(
        &pod("web", json!({}), volumes, &all),
        OPT_OUT,
        &[
            ("data", Reason::DefaultVolumesToFsBackup),
            ("cache", Reason::DefaultVolumesToFsBackup),
            ("db", Reason::DefaultVolumesToFsBackup),
        ],
        &[],
    );
}

#[test]
fn exceptions_hold_in_both_modes_even_when_named() {
    let (volumes, names) = exceptions();
    let expected: Vec<(&str, Reason)> = names.iter().copied().zip(exception_reasons()).collect();
    let opted_in = json!({VOLUMES_TO_BACKUP_ANNOTATION: names.join(",")});
    check(
        &pod("web", opted_in, volumes.clone(), &names),
        OPT_IN,
        &expected,
        &[],
    );
    check(
        &pod("web", json!({}), volumes, &names),
        OPT_OUT,
        &expected,
        &[],
    );
}

#[test]
fn claims_follow_the_mode_unless_the_backup_excludes_claims() {
    let volumes = json!([claim("db", "db-0")]);
    let annotations = json!({VOLUMES_TO_BACKUP_ANNOTATION: "db"});
    check(
        &pod("db-0", annotations.clone(), volumes.clone(), &["db"]),
        OPT_IN,
        &[("db", Reason::OptedIn)],
        &[],
    );
    let without_claims = Rules {
        claims_excluded: true,
        ..OPT_IN
    };
    check(
        &pod("db-0", annotations, volumes.clone(), &["db"]),
        without_claims,
        &[("db", Reason::ClaimsExcluded)],
        &[],
    );
    let got = pod_volumes(&pod("db-0", json!({}), volumes, &["db"]), &OPT_OUT);
    assert_eq!(got.volumes[0].claim.as_deref(), Some("db-0"));
}

#[test]
fn selected_volumes_must_be_mounted_files_in_a_container() {
    let mut web = pod(
        "web",
        json!({}),
        json!([
            empty_dir("data"),
            empty_dir("unused"),
            empty_dir("seed"),
            claim("raw", "raw-0")
        ]),
        &["data"],
    );
    web["spec"]["initContainers"] =
        json!([{"name": "init", "volumeMounts": [{"name": "seed", "mountPath": "/seed"}]}]);
    web["spec"]["containers"][0]["volumeDevices"] =
        json!([{"name": "raw", "devicePath": "/dev/raw"}]);
    check(
        &web,
        OPT_OUT,
        &[
            ("data", Reason::DefaultVolumesToFsBackup),
            ("unused", Reason::NotMounted),
            ("seed", Reason::NotMounted),
            ("raw", Reason::BlockVolume),
        ],
        &[],
    );
    // A volume left out by the mode is reported for the mode, not for the mount.
    check(
        &web,
        OPT_IN,
        &[
            ("data", Reason::NotOptedIn),
            ("unused", Reason::NotOptedIn),
            ("seed", Reason::NotOptedIn),
            ("raw", Reason::NotOptedIn),
        ],
        &[],
    );
}

#[test]
fn a_pod_that_was_not_running_yields_nothing() {
    let running = pod("web", json!({}), json!([empty_dir("data")]), &["data"]);
    assert_eq!(pod_volumes(&running, &OPT_OUT).not_running, None);

    let mut pending = running.clone();
    pending["status"]["phase"] = json!("Pending");
    assert_eq!(
        pod_volumes(&pending, &OPT_OUT).not_running.as_deref(),
        Some("the pod was not running (phase Pending)")
    );
    let mut unscheduled = running.clone();
    unscheduled["spec"]
        .as_object_mut()
        .unwrap()
        .remove("nodeName");
    assert_eq!(
        pod_volumes(&unscheduled, &OPT_OUT).not_running.as_deref(),
        Some("the pod was not scheduled to a node")
    );
    let mut deleting = running;
    deleting["metadata"]["deletionTimestamp"] = json!("2026-11-20T10:00:00Z");
    assert_eq!(
        pod_volumes(&deleting, &OPT_OUT).not_running.as_deref(),
        Some("the pod was being deleted")
    );
}

#[test]
fn reasons_name_their_rule() {
    let cases = [
        (
            Reason::OptedIn,
            "backup.velero.io/backup-volumes annotation",
        ),
        (Reason::DefaultVolumesToFsBackup, "defaultVolumesToFsBackup"),
        (
            Reason::NotOptedIn,
            "backup.velero.io/backup-volumes annotation",
        ),
        (Reason::OptedOut, "backup.velero.io/backup-volumes-excludes"),
        (Reason::HostPath, "hostPath"),
        (Reason::Secret, "secret volume"),
        (Reason::ConfigMap, "configMap volume"),
        (Reason::Projected, "kube-api-access-*"),
        (Reason::DownwardApi, "downwardAPI"),
        (Reason::DefaultToken, "default-token"),
        (Reason::ClaimsExcluded, "excludes persistentvolumeclaims"),
        (Reason::BlockVolume, "volumeDevices"),
        (Reason::NotMounted, "no container mounts it"),
        (
            Reason::ClaimOnHostPath {
                persistent_volume: "pv-1".to_owned(),
            },
            "hostPath persistent volume pv-1",
        ),
        (
            Reason::ClaimAlreadyTaken {
                pod: "shop/a".to_owned(),
            },
            "through pod shop/a",
        ),
    ];
    for (reason, fragment) in cases {
        assert!(
            reason.text().contains(fragment),
            "{reason:?}: {}",
            reason.text()
        );
    }
}

#[test]
fn claims_excluded_reads_the_spec_names() {
    let list = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let cases: [(&[&str], &[&str], bool); 7] = [
        (&[], &[], false),
        (&["*"], &[], false),
        (&["pods", "pvc"], &[], false),
        (&["pods"], &[], true),
        (&[], &["persistentvolumeclaims"], true),
        (&["*"], &["PersistentVolumeClaim"], true),
        (&[], &["persistentvolumes"], false),
    ];
    for (included, excluded, expected) in cases {
        assert_eq!(
            claims_excluded(&list(included), &list(excluded)),
            expected,
            "included {included:?}, excluded {excluded:?}"
        );
    }
}

fn verdicts(report: &PodVolumeReport) -> Vec<(String, String, Reason)> {
    report
        .pods
        .iter()
        .flat_map(|pod| {
            pod.volumes
                .iter()
                .map(move |v| (pod.key(), v.name.clone(), v.reason.clone()))
        })
        .collect()
}

#[test]
fn a_claim_is_taken_once_and_never_from_a_host_path_volume() {
    let mut collector = Collector::new(OPT_OUT);
    // Added out of order: the report goes by namespace and name, as Velero lists pods.
    collector.add_pod(&pod(
        "b",
        json!({}),
        json!([claim("shared", "data")]),
        &["shared"],
    ));
    let mut stopped = pod(
        "0-stopped",
        json!({}),
        json!([claim("shared", "data")]),
        &["shared"],
    );
    stopped["status"]["phase"] = json!("Succeeded");
    collector.add_pod(&stopped);
    collector.add_pod(&pod(
        "a",
        json!({}),
        json!([claim("shared", "data")]),
        &["shared"],
    ));
    collector.add_pod(&pod(
        "c",
        json!({}),
        json!([claim("local", "local-0"), empty_dir("scratch")]),
        &["local", "scratch"],
    ));
    collector.add_pod(&pod("no-volumes", json!({}), json!([]), &[]));
    collector.add_claim(&json!({"metadata": {"namespace": "shop", "name": "local-0"}, "spec": {"volumeName": "pv-host"}}));
    collector.add_claim(&json!({"metadata": {"namespace": "shop", "name": "data"}, "spec": {"volumeName": "pv-disk"}}));
    collector.add_persistent_volume(
        &json!({"metadata": {"name": "pv-host"}, "spec": {"hostPath": {"path": "/mnt"}}}),
    );
    collector.add_persistent_volume(
        &json!({"metadata": {"name": "pv-disk"}, "spec": {"csi": {"driver": "d"}}}),
    );
    let report = collector.finish();
    let row = |pod: &str, volume: &str, reason: Reason| {
        (format!("shop/{pod}"), volume.to_owned(), reason)
    };
    assert_eq!(
        verdicts(&report),
        vec![
            // Not running, so it takes nothing and the claim is still free for the next pod.
            row("0-stopped", "shared", Reason::DefaultVolumesToFsBackup),
            row("a", "shared", Reason::DefaultVolumesToFsBackup),
            row(
                "b",
                "shared",
                Reason::ClaimAlreadyTaken {
                    pod: "shop/a".to_owned()
                }
            ),
            row(
                "c",
                "local",
                Reason::ClaimOnHostPath {
                    persistent_volume: "pv-host".to_owned()
                }
            ),
            row("c", "scratch", Reason::DefaultVolumesToFsBackup),
        ]
    );
    let selected: Vec<(String, Vec<&str>)> = report
        .selected()
        .map(|(pod, names)| (pod.key(), names))
        .collect();
    assert_eq!(
        selected,
        vec![
            ("shop/0-stopped".to_owned(), vec!["shared"]),
            ("shop/a".to_owned(), vec!["shared"]),
            ("shop/c".to_owned(), vec!["scratch"]),
        ]
    );
}

#[test]
fn reads_the_pods_of_a_real_tarball() {
    use godwit_tarball::{BackupWriter, Item};
    use godwit_versioning::GroupResource;

    let pods = GroupResource::new("", "pods");
    let claims = GroupResource::new("", "persistentvolumeclaims");
    let volumes = GroupResource::new("", "persistentvolumes");
    let configmaps = GroupResource::new("", "configmaps");
    let mut writer = BackupWriter::new(Vec::new()).unwrap();
    let mut append = |gr: &GroupResource, namespace: Option<&str>, object: Value| {
        let name = object["metadata"]["name"].as_str().unwrap().to_owned();
        let item = Item {
            group_resource: gr,
            namespace,
            name: &name,
            version: "v1",
            preferred_version: "v1",
        };
        writer.append(&item, &object).unwrap();
    };
    append(
        &pods,
        Some("shop"),
        pod(
            "web-0",
            json!({VOLUMES_TO_BACKUP_ANNOTATION: "data,host"}),
            json!([
                claim("data", "data-web-0"),
                {"name": "host", "hostPath": {"path": "/var/log"}},
                {"name": "kube-api-access-1", "projected": {"sources": []}},
            ]),
            &["data", "host", "kube-api-access-1"],
        ),
    );
    append(
        &pods,
        Some("shop"),
        pod(
            "web-1",
            json!({}),
            json!([claim("data", "data-web-1")]),
            &["data"],
        ),
    );
    let mut db = pod(
        "db",
        json!({VOLUMES_TO_BACKUP_ANNOTATION: "pgdata"}),
        json!([claim("pgdata", "pgdata")]),
        &["pgdata"],
    );
    db["metadata"]["namespace"] = json!("blog");
    append(&pods, Some("blog"), db);
    append(
        &claims,
        Some("blog"),
        json!({"metadata": {"namespace": "blog", "name": "pgdata"}, "spec": {"volumeName": "pv-blog"}}),
    );
    append(
        &volumes,
        None,
        json!({"metadata": {"name": "pv-blog"}, "spec": {"hostPath": {"path": "/srv"}}}),
    );
    append(
        &configmaps,
        Some("shop"),
        json!({"metadata": {"namespace": "shop", "name": "settings"}}),
    );
    let (bytes, _) = writer.finish().unwrap();

    let report = read_pod_volumes(bytes.as_slice(), &Limits::default(), OPT_IN).unwrap();
    assert_eq!(
        verdicts(&report),
        vec![
            (
                "blog/db".to_owned(),
                "pgdata".to_owned(),
                Reason::ClaimOnHostPath {
                    persistent_volume: "pv-blog".to_owned()
                }
            ),
            ("shop/web-0".to_owned(), "data".to_owned(), Reason::OptedIn),
            ("shop/web-0".to_owned(), "host".to_owned(), Reason::HostPath),
            (
                "shop/web-0".to_owned(),
                "kube-api-access-1".to_owned(),
                Reason::Projected
            ),
            (
                "shop/web-1".to_owned(),
                "data".to_owned(),
                Reason::NotOptedIn
            ),
        ]
    );

    let damaged = &bytes[..bytes.len() / 2];
    let err = read_pod_volumes(damaged, &Limits::default(), OPT_IN).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot read the backup tarball"),
        "{err}"
    );
}
