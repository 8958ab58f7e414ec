//! Tests of the priority lists and of reading `--restore-resource-priorities`.

use proptest::prelude::*;

use super::*;

/// `Ok((high, low))` or `Err(fragment of the error message)`.
fn check(text: &str, expected: Result<(&[&str], &[&str]), &str>) {
    let got = Priorities::parse(text);
    match expected {
        Ok((high, low)) => {
            let priorities = got.unwrap_or_else(|err| panic!("{text:?}: {err}"));
            let strings = |entries: &[PriorityEntry]| -> Vec<String> {
                entries.iter().map(ToString::to_string).collect()
            };
            assert_eq!(strings(&priorities.high), high, "{text:?} high");
            assert_eq!(strings(&priorities.low), low, "{text:?} low");
            assert_eq!(text.parse::<Priorities>(), Ok(priorities), "FromStr agrees");
        }
        Err(fragment) => {
            let err = got.expect_err(text).to_string();
            assert!(err.contains(fragment), "{text:?}: {err}");
        }
    }
}

#[test]
fn parses_the_flag() {
    check("p0", Ok((&["p0"], &[])));
    check("p0,p1,p2,-,p9", Ok((&["p0", "p1", "p2"], &["p9"])));
    check("-,p9", Ok((&[], &["p9"])));
    check("p0,-", Ok((&["p0"], &[])));
    check("-", Ok((&[], &[])));
    check(" pods , -, services ", Ok((&["pods"], &["services"])));
    check(
        "replicasets.apps,Deploy",
        Ok((&["replicasets.apps", "Deploy"], &[])),
    );
    // Only a lone "-" separates; a name may contain one.
    check("cert-manager,--", Ok((&["cert-manager", "--"], &[])));
}

#[test]
fn rejects_bad_flags() {
    check("", Err("the restore resource priorities are empty"));
    check(
        "  ",
        Err("are empty; leave the flag out to keep the defaults"),
    );
    check("-,-", Err("have more than one \"-\""));
    check("a,-,b,-,c", Err("more than one \"-\""));
    check(
        "a,,b",
        Err("entry 2 of the restore resource priorities \"a,,b\" is empty"),
    );
    check("a,", Err("entry 2 of"));
    check(",a", Err("entry 1 of"));
    check("a, ,b", Err("entry 2 of"));
    check("-,", Err("entry 2 of"));
}

#[test]
fn writes_the_flag_like_velero() {
    let check = |text: &str, written: &str| {
        let priorities = Priorities::parse(text).unwrap();
        assert_eq!(priorities.to_string(), written, "{text:?}");
    };
    check("high", "high");
    check("high,-,low", "high,-,low");
    check("high,-", "high");
    check("-,low", "-,low");
    check(" a ,b, - ,c", "a,b,-,c");
    // Velero writes "" for empty lists; "-" reads back to the same value.
    check("-", "-");
}

#[test]
fn entries_are_checked() {
    let check = |text: &str, expected: Result<&str, &str>| match expected {
        Ok(entry) => assert_eq!(PriorityEntry::new(text).unwrap().as_str(), entry),
        Err(fragment) => {
            let err = PriorityEntry::new(text).unwrap_err().to_string();
            assert!(err.contains(fragment), "{text:?}: {err}");
        }
    };
    check("pods", Ok("pods"));
    check("  pods\t", Ok("pods"));
    check(
        "volumesnapshotclass.snapshot.storage.k8s.io",
        Ok("volumesnapshotclass.snapshot.storage.k8s.io"),
    );
    check("", Err("invalid restore priority entry \"\": it is empty"));
    check(" - ", Err("\"-\" separates the lists"));
    check("a,b", Err("a comma separates entries"));
}

#[test]
fn defaults_are_the_spec_lists() {
    // SPEC.md section 5 item 4, word for word.
    let high = "customresourcedefinitions, namespaces, storageclasses, \
        volumesnapshotclass.snapshot.storage.k8s.io, \
        volumesnapshotcontents.snapshot.storage.k8s.io, volumesnapshots.snapshot.storage.k8s.io, \
        datauploads.velero.io, persistentvolumes, persistentvolumeclaims, clusterroles, roles, \
        serviceaccounts, clusterrolebindings, rolebindings, secrets, configmaps, limitranges, \
        priorityclasses, pods, replicasets.apps, clusterclasses.cluster.x-k8s.io, endpoints, \
        services";
    let low = "clusterbootstraps.run.tanzu.vmware.com, clusters.cluster.x-k8s.io, \
        clusterresourcesets.addons.cluster.x-k8s.io, apps.kappctrl.k14s.io, \
        packageinstalls.packaging.carvel.dev";
    let spec = Priorities::parse(&format!("{high}, -, {low}")).unwrap();
    assert_eq!(Priorities::restore_default(), spec);
    assert_eq!(spec.high.len(), 23);
    assert_eq!(spec.low.len(), 5);
    let written = Priorities::restore_default().to_string();
    assert!(written.starts_with("customresourcedefinitions,namespaces,storageclasses,"));
    assert!(written.contains(",services,-,clusterbootstraps.run.tanzu.vmware.com,"));
    assert_eq!(Priorities::parse(&written), Ok(spec));
}

fn entry() -> impl Strategy<Value = PriorityEntry> {
    "[a-z][a-z0-9.-]{0,12}"
        .prop_filter_map("not a separator", |text| PriorityEntry::new(&text).ok())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever lists go in, their flag form reads back to the same lists.
    #[test]
    fn written_form_reads_back(
        high in prop::collection::vec(entry(), 0..5),
        low in prop::collection::vec(entry(), 0..5),
    ) {
        let priorities = Priorities { high, low };
        prop_assert_eq!(Priorities::parse(&priorities.to_string()), Ok(priorities));
    }

    /// Reading never panics, and whatever it accepts it writes back to an equivalent text.
    #[test]
    fn parse_is_total(text in "[a-c, -]{0,12}") {
        if let Ok(priorities) = Priorities::parse(&text) {
            prop_assert_eq!(Priorities::parse(&priorities.to_string()), Ok(priorities));
        }
    }
}
