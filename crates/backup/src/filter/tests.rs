use godwit_versioning::GroupResource;

use super::*;
use crate::spec::BackupSpec;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn glob_matches_star_anywhere() {
    let check = |pattern: &str, name: &str, expected: bool| {
        assert_eq!(glob_match(pattern, name), expected, "{pattern} ~ {name}");
    };
    check("music", "music", true);
    check("music", "musical", false);
    check("*", "anything", true);
    check("*", "", true);
    check("app-*", "app-1", true);
    check("app-*", "app-", true);
    check("app-*", "ap", false);
    check("*-prod", "shop-prod", true);
    check("*-prod", "shop-stage", false);
    check("a*b*c", "aXXbYYc", true);
    check("a*b*c", "acb", false);
    check("a*a", "a", false);
    check("a*a", "aa", true);
}

#[test]
fn namespace_filter_follows_velero() {
    // includes, excludes, namespace, included?
    let cases: &[(&[&str], &[&str], &str, bool)] = &[
        (&[], &[], "default", true),
        (&["*"], &[], "default", true),
        (&["*"], &["kube-*"], "kube-system", false),
        (&["*"], &["kube-*"], "music", true),
        (&["music", "jazz"], &[], "jazz", true),
        (&["music"], &[], "jazz", false),
        (&["app-*"], &["app-old"], "app-old", false),
        (&["app-*"], &["app-old"], "app-new", true),
    ];
    for (includes, excludes, namespace, expected) in cases {
        let filter = NamespaceFilter::new(&strings(includes), &strings(excludes));
        assert_eq!(
            filter.should_include(namespace),
            *expected,
            "{includes:?} {excludes:?} {namespace}"
        );
    }
}

#[test]
fn namespace_scope_lists_per_namespace_only_for_plain_names() {
    let check =
        |includes: &[&str], excludes: &[&str], everything: bool, expected: NamespaceScope| {
            let filter = NamespaceFilter::new(&strings(includes), &strings(excludes));
            assert_eq!(filter.scope(), expected, "{includes:?} {excludes:?}");
            assert_eq!(
                filter.include_everything(),
                everything,
                "{includes:?} {excludes:?}"
            );
        };
    check(&[], &[], true, NamespaceScope::All);
    check(&["*"], &[], true, NamespaceScope::All);
    check(&["*"], &["kube-system"], false, NamespaceScope::All);
    check(&["app-*"], &[], false, NamespaceScope::All);
    check(
        &["music", "jazz", "music", "blues"],
        &["blues"],
        false,
        NamespaceScope::Only(strings(&["jazz", "music"])),
    );
}

/// A selection without discovery: resources named as group-resources.
fn selection(spec: BackupSpec) -> Selection {
    let valid = spec.validate().unwrap();
    let parse = |names: &[String]| -> Vec<GroupResource> {
        names
            .iter()
            .filter(|n| *n != "*")
            .map(|n| GroupResource::parse(n).unwrap())
            .collect()
    };
    let include_all =
        spec.included_resources.is_empty() || spec.included_resources.iter().any(|n| n == "*");
    Selection {
        namespaces: valid.namespaces,
        resources: ResourceFilter::new(
            include_all,
            parse(&spec.included_resources),
            parse(&spec.excluded_resources),
        ),
        include_cluster_resources: valid.include_cluster_resources,
        selectors: valid.selectors,
        has_selectors: valid.has_selectors,
    }
}

#[test]
fn cluster_scoped_rules_follow_global_includes_excludes() {
    let configmaps = GroupResource::new("", "configmaps");
    let storageclasses = GroupResource::new("storage.k8s.io", "storageclasses");
    let namespaces = GroupResource::new("", "namespaces");
    let crds = GroupResource::new("apiextensions.k8s.io", "customresourcedefinitions");
    // spec, group-resource, namespaced, should_include, should_exclude
    let everything = BackupSpec::default();
    let one_namespace = BackupSpec {
        included_namespaces: strings(&["music"]),
        ..Default::default()
    };
    let with_cluster = BackupSpec {
        include_cluster_resources: Some(true),
        ..one_namespace.clone()
    };
    let without_cluster = BackupSpec {
        include_cluster_resources: Some(false),
        ..Default::default()
    };
    let only_configmaps = BackupSpec {
        included_resources: strings(&["configmaps"]),
        ..Default::default()
    };
    let no_storageclasses = BackupSpec {
        excluded_resources: strings(&["storageclasses.storage.k8s.io"]),
        include_cluster_resources: Some(true),
        ..Default::default()
    };
    let cases: Vec<(&BackupSpec, &GroupResource, bool, bool, bool)> = vec![
        (&everything, &configmaps, true, true, false),
        (&everything, &storageclasses, false, true, false),
        (&everything, &crds, false, true, false),
        // A namespace filter drops cluster-scoped resources, but namespaces themselves stay
        // (filtered later), and CRDs are neither included nor excluded: they follow their CRs.
        (&one_namespace, &configmaps, true, true, false),
        (&one_namespace, &storageclasses, false, false, false),
        (&one_namespace, &namespaces, false, true, false),
        (&one_namespace, &crds, false, false, false),
        (&with_cluster, &storageclasses, false, true, false),
        (&without_cluster, &storageclasses, false, false, true),
        (&without_cluster, &namespaces, false, false, true),
        (&without_cluster, &configmaps, true, true, false),
        (&only_configmaps, &configmaps, true, true, false),
        (&only_configmaps, &crds, false, false, true),
        (&no_storageclasses, &storageclasses, false, false, true),
        (&no_storageclasses, &crds, false, true, false),
    ];
    for (spec, group_resource, namespaced, include, exclude) in cases {
        let selection = selection(spec.clone());
        assert_eq!(
            selection.should_include(group_resource, namespaced),
            include,
            "should_include {group_resource} with {spec:?}"
        );
        assert_eq!(
            selection.should_exclude(group_resource, namespaced),
            exclude,
            "should_exclude {group_resource} with {spec:?}"
        );
    }
}
