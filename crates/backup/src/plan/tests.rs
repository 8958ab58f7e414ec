use godwit_discovery::Discovery;

use super::*;
use crate::spec::BackupSpec;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn discovery() -> Discovery {
    let built_ins =
        Discovery::from_json(&godwit_fixtures::read("discovery/kubernetes-1.33.json")).unwrap();
    let custom =
        Discovery::from_json(&godwit_fixtures::read("discovery/case-d-source.json")).unwrap();
    built_ins.merge(custom).unwrap()
}

fn plan_for(spec: BackupSpec, all_versions: bool) -> Plan {
    let discovery = discovery();
    let (selection, _) = spec.validate().unwrap().resolve(&discovery).unwrap();
    plan(&discovery, &selection, all_versions)
}

/// One line per planned resource (`gr [versions] preferred`), then `namespaces` and `crds`
/// lines when they are planned.
fn summary(plan: &Plan) -> Vec<String> {
    let mut lines: Vec<String> = plan
        .resources
        .iter()
        .map(|r| {
            format!(
                "{} [{}] {}{}",
                r.group_resource,
                r.versions.join(","),
                r.preferred_version,
                if r.namespaced { "" } else { " cluster" }
            )
        })
        .collect();
    if let Some(namespaces) = &plan.namespaces {
        lines.push(format!("namespaces [{}]", namespaces.versions.join(",")));
    }
    if let Some(crds) = &plan.custom_resource_definitions {
        lines.push(format!(
            "crds of custom resources at {}",
            crds.preferred_version
        ));
    }
    lines
}

fn check(spec: BackupSpec, all_versions: bool, expected: &[&str]) {
    assert_eq!(
        summary(&plan_for(spec.clone(), all_versions)),
        expected,
        "{spec:?}"
    );
}

#[test]
fn a_full_backup_plans_every_backupable_resource() {
    let plan = plan_for(BackupSpec::default(), false);
    insta::assert_yaml_snapshot!(
        "full_backup",
        (
            summary(&plan),
            &plan
                .skipped
                .iter()
                .map(|(gr, why)| format!("{gr}: {why}"))
                .collect::<Vec<_>>()
        )
    );
    assert!(plan.custom_resource_definitions.is_none());
    assert_eq!(plan.scope, NamespaceScope::All);
}

#[test]
fn targeted_backups_plan_versions_and_related_crds() {
    let rockbands = BackupSpec {
        included_resources: strings(&["rockbands"]),
        ..Default::default()
    };
    check(
        rockbands.clone(),
        false,
        &["rockbands.case-d.example.io [v1] v1"],
    );
    check(
        rockbands,
        true,
        &["rockbands.case-d.example.io [v1,v2beta2,v2beta1] v1"],
    );

    // A namespace filter: namespaced resources, the namespaces themselves, and the CRDs of
    // backed-up custom resources; built-in versions with the flag on too.
    let music = BackupSpec {
        included_namespaces: strings(&["music"]),
        included_resources: strings(&["rockbands", "hpa", "namespaces", "storageclasses"]),
        ..Default::default()
    };
    check(
        music.clone(),
        true,
        &[
            "horizontalpodautoscalers.autoscaling [v2,v1] v2",
            "rockbands.case-d.example.io [v1,v2beta2,v2beta1] v1",
            "namespaces [v1]",
        ],
    );
    let with_cluster = BackupSpec {
        include_cluster_resources: Some(true),
        ..music.clone()
    };
    check(
        with_cluster,
        false,
        // CRDs are neither included nor excluded here, so they still follow their custom
        // resources (Velero's `!ShouldExclude && !ShouldInclude`).
        &[
            "horizontalpodautoscalers.autoscaling [v2] v2",
            "storageclasses.storage.k8s.io [v1] v1 cluster",
            "rockbands.case-d.example.io [v1] v1",
            "namespaces [v1]",
            "crds of custom resources at v1",
        ],
    );
    let without_cluster = BackupSpec {
        include_cluster_resources: Some(false),
        ..music
    };
    check(
        without_cluster,
        false,
        &[
            "horizontalpodautoscalers.autoscaling [v2] v2",
            "rockbands.case-d.example.io [v1] v1",
        ],
    );
    // Only the namespace filter: CRDs follow their custom resources.
    let plan = plan_for(
        BackupSpec {
            included_namespaces: strings(&["music"]),
            ..Default::default()
        },
        false,
    );
    let lines = summary(&plan);
    assert_eq!(
        lines.last().map(String::as_str),
        Some("crds of custom resources at v1")
    );
    assert!(lines.iter().all(|l| !l.ends_with(" cluster")), "{lines:#?}");
}

#[test]
fn exclusions_win_and_cohabiting_resources_are_backed_up_once() {
    let plan = plan_for(
        BackupSpec {
            excluded_resources: strings(&["configmaps", "deployments.apps"]),
            ..Default::default()
        },
        false,
    );
    let planned: Vec<String> = plan
        .resources
        .iter()
        .map(|r| r.group_resource.to_string())
        .collect();
    assert!(!planned.contains(&"configmaps".to_owned()));
    assert!(!planned.contains(&"deployments.apps".to_owned()));
    assert!(planned.contains(&"events".to_owned()));
    assert!(!planned.contains(&"events.events.k8s.io".to_owned()));
    assert!(
        plan.skipped
            .iter()
            .any(|(gr, why)| gr.to_string() == "events.events.k8s.io"
                && why.contains("same objects as events"))
    );
}

#[test]
fn jobs_cover_versions_namespaces_and_selectors() {
    let spec = BackupSpec {
        included_namespaces: strings(&["music", "jazz"]),
        included_resources: strings(&["rockbands", "configmaps"]),
        or_label_selectors: strings(&["era=60s", "era=90s"]),
        ..Default::default()
    };
    let discovery = discovery();
    let (selection, _) = spec.validate().unwrap().resolve(&discovery).unwrap();
    let plan = plan(&discovery, &selection, true);
    let jobs: Vec<String> = plan
        .jobs(&selection.selectors)
        .iter()
        .map(|job| {
            format!(
                "{} {} {} {}",
                plan.resources[job.resource].group_resource,
                job.version,
                job.namespace.as_deref().unwrap_or("*"),
                job.selector
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            )
        })
        .collect();
    // configmaps: 1 version x 2 namespaces x 2 selectors; rockbands: 3 versions x 2 x 2.
    assert_eq!(jobs.len(), 4 + 12, "{jobs:#?}");
    assert_eq!(jobs[0], "configmaps v1 jazz era=60s");
    assert!(jobs.contains(&"rockbands.case-d.example.io v2beta1 music era=90s".to_owned()));
    // No selector: one job per version and namespace.
    let everything = plan.jobs(&[]);
    assert_eq!(everything.len(), 2 + 6);
    assert!(everything.iter().all(|job| job.selector.is_none()));
}
