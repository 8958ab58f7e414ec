use godwit_discovery::Discovery;

use super::*;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Validates `spec`; `Err(field)` expects an error naming that field.
fn check(spec: BackupSpec, expected: Result<(), &str>) {
    let result = spec.validate();
    match (&result, expected) {
        (Ok(_), Ok(())) => {}
        (Err(Error::InvalidSpec { field, message }), Err(want)) => {
            assert_eq!(field, want, "{message}");
            assert!(!message.is_empty());
        }
        _ => panic!("{spec:?}: got {result:?}, want {expected:?}"),
    }
}

#[test]
fn validation_names_the_field() {
    check(BackupSpec::default(), Ok(()));
    check(
        BackupSpec {
            included_namespaces: strings(&["music", "app-*"]),
            excluded_namespaces: strings(&["kube-system"]),
            included_resources: strings(&["deploy", "rockbands.music.example.io"]),
            label_selector: Some("app=web".to_owned()),
            ..Default::default()
        },
        Ok(()),
    );
    check(
        BackupSpec {
            label_selector: Some("app in (web".to_owned()),
            ..Default::default()
        },
        Err("spec.labelSelector"),
    );
    check(
        BackupSpec {
            or_label_selectors: strings(&["app=web", "tier==", "=x"]),
            ..Default::default()
        },
        Err("spec.orLabelSelectors[2]"),
    );
    check(
        BackupSpec {
            label_selector: Some("app=web".to_owned()),
            or_label_selectors: strings(&["tier=db"]),
            ..Default::default()
        },
        Err("spec.orLabelSelectors"),
    );
    check(
        BackupSpec {
            included_namespaces: strings(&["music", "*"]),
            ..Default::default()
        },
        Err("spec.includedNamespaces[1]"),
    );
    check(
        BackupSpec {
            excluded_namespaces: strings(&["*"]),
            ..Default::default()
        },
        Err("spec.excludedNamespaces[0]"),
    );
    check(
        BackupSpec {
            included_namespaces: strings(&["music", "Jazz_Club"]),
            ..Default::default()
        },
        Err("spec.includedNamespaces[1]"),
    );
    check(
        BackupSpec {
            included_namespaces: strings(&["music"]),
            excluded_namespaces: strings(&["music"]),
            ..Default::default()
        },
        Err("spec.excludedNamespaces"),
    );
    check(
        BackupSpec {
            included_resources: strings(&["pods", "*"]),
            ..Default::default()
        },
        Err("spec.includedResources[1]"),
    );
    check(
        BackupSpec {
            excluded_resources: strings(&["", "pods"]),
            ..Default::default()
        },
        Err("spec.excludedResources[0]"),
    );
}

fn discovery() -> Discovery {
    let built_ins =
        Discovery::from_json(&godwit_fixtures::read("discovery/kubernetes-1.33.json")).unwrap();
    let custom =
        Discovery::from_json(&godwit_fixtures::read("discovery/case-d-source.json")).unwrap();
    built_ins.merge(custom).unwrap()
}

/// Resolves `includes`/`excludes`; `Err(field)` expects an error naming that field, `Ok` lists
/// the resolved includes, then the warnings.
fn check_resolve(includes: &[&str], excludes: &[&str], expected: Result<(&[&str], usize), &str>) {
    let spec = BackupSpec {
        included_resources: strings(includes),
        excluded_resources: strings(excludes),
        ..Default::default()
    };
    let result = spec.validate().unwrap().resolve(&discovery());
    match (result, expected) {
        (Ok((selection, warnings)), Ok((resolved, warning_count))) => {
            for name in resolved {
                let group_resource = godwit_versioning::GroupResource::parse(name).unwrap();
                assert!(
                    selection.resources.should_include(&group_resource),
                    "{name}"
                );
            }
            assert_eq!(warnings.len(), warning_count, "{warnings:?}");
        }
        (Err(Error::InvalidSpec { field, message }), Err(want)) => {
            assert_eq!(field, want, "{message}")
        }
        (got, want) => panic!("{includes:?} {excludes:?}: got {got:?}, want {want:?}"),
    }
}

#[test]
fn resource_names_resolve_against_discovery() {
    check_resolve(
        &["deploy", "rockbands", "cm"],
        &[],
        Ok((
            &[
                "deployments.apps",
                "rockbands.case-d.example.io",
                "configmaps",
            ],
            0,
        )),
    );
    check_resolve(&["*"], &["events"], Ok((&["pods"], 0)));
    check_resolve(
        &["configmaps", "rockbandz"],
        &[],
        Err("spec.includedResources[1]"),
    );
    // Excluding what the cluster does not serve excludes nothing: a warning, not an error.
    check_resolve(
        &[],
        &["volumesnapshots.snapshot.storage.k8s.io"],
        Ok((&["pods"], 1)),
    );
    check_resolve(&["cm"], &["configmaps"], Err("spec.excludedResources"));
}
