//! Tests of the restore order.

use proptest::prelude::*;

use super::*;

fn grs(texts: &[&str]) -> Vec<GroupResource> {
    texts
        .iter()
        .map(|t| GroupResource::parse(t).unwrap())
        .collect()
}

fn entry(text: &str) -> PriorityEntry {
    PriorityEntry::new(text).unwrap()
}

/// The group-resources of a backup of a typical application namespace plus cluster-scoped
/// objects, in the order a tarball happens to list its directories.
const REALISTIC_BACKUP: &[&str] = &[
    "configmaps",
    "controllerrevisions.apps",
    "cronjobs.batch",
    "customresourcedefinitions.apiextensions.k8s.io",
    "daemonsets.apps",
    "deployments.apps",
    "endpoints",
    "endpointslices.discovery.k8s.io",
    "horizontalpodautoscalers.autoscaling",
    "ingresses.networking.k8s.io",
    "jobs.batch",
    "leases.coordination.k8s.io",
    "limitranges",
    "namespaces",
    "networkpolicies.networking.k8s.io",
    "persistentvolumeclaims",
    "persistentvolumes",
    "poddisruptionbudgets.policy",
    "pods",
    "priorityclasses.scheduling.k8s.io",
    "replicasets.apps",
    "resourcequotas",
    "rockbands.music.example.io",
    "rolebindings.rbac.authorization.k8s.io",
    "roles.rbac.authorization.k8s.io",
    "clusterrolebindings.rbac.authorization.k8s.io",
    "clusterroles.rbac.authorization.k8s.io",
    "secrets",
    "serviceaccounts",
    "services",
    "statefulsets.apps",
    "storageclasses.storage.k8s.io",
    "volumesnapshotclasses.snapshot.storage.k8s.io",
    "volumesnapshotcontents.snapshot.storage.k8s.io",
    "volumesnapshots.snapshot.storage.k8s.io",
    "clusters.cluster.x-k8s.io",
];

/// Without discovery the singular default entry `volumesnapshotclass.snapshot.storage.k8s.io`
/// resolves to nothing, so the snapshot classes land in the alphabetical middle; with discovery
/// they are a high priority (see `tests/with_discovery.rs`).
#[test]
fn default_order_of_a_realistic_backup() {
    let backup = grs(REALISTIC_BACKUP);
    let order = restore_order(
        &backup,
        &Priorities::restore_default(),
        &PlainResolver::new(&backup),
    );
    insta::assert_snapshot!(order.to_string());
}

/// Orders `backup` with the flag text `priorities` and the plain resolver over the backup.
fn check(backup: &[&str], priorities: &str, expected: &[&str]) {
    let backup = grs(backup);
    let priorities = Priorities::parse(priorities).unwrap();
    let order = restore_order(&backup, &priorities, &PlainResolver::new(&backup));
    let got: Vec<String> = order.group_resources().map(ToString::to_string).collect();
    assert_eq!(got, expected, "{priorities}");
}

#[test]
fn orders_small_backups() {
    check(&[], "-", &[]);
    // CRDs, then namespaces, whatever the lists say.
    check(
        &[
            "pods",
            "namespaces",
            "customresourcedefinitions.apiextensions.k8s.io",
        ],
        "pods,-",
        &[
            "customresourcedefinitions.apiextensions.k8s.io",
            "namespaces",
            "pods",
        ],
    );
    check(
        &["pods", "namespaces"],
        "-,namespaces",
        &["namespaces", "pods"],
    );
    // High in list order, low in list order, the rest between them.
    check(
        &["a", "b", "c", "d", "e"],
        "d,b,-,a,e",
        &["d", "b", "c", "a", "e"],
    );
    // Alphabetical by `<resource>.<group>`, as Velero sorts, not by group first.
    check(
        &["zebras", "apples.zoo.io", "deployments.apps", "configmaps"],
        "-",
        &["apples.zoo.io", "configmaps", "deployments.apps", "zebras"],
    );
    // Each once: repeated input, repeated entries, an entry in both lists (high wins).
    check(
        &["pods", "pods", "services", "secrets"],
        "pods,pods,services,-,services,pods",
        &["pods", "services", "secrets"],
    );
    // Entries for group-resources the backup lacks change nothing.
    check(
        &["secrets", "configmaps"],
        "pods,services,-,nodes",
        &["configmaps", "secrets"],
    );
    // Bare entries find the core group first, then a single other group.
    check(
        &[
            "storageclasses.storage.k8s.io",
            "pods",
            "events",
            "events.events.k8s.io",
        ],
        "events,storageclasses,-",
        &[
            "events",
            "storageclasses.storage.k8s.io",
            "events.events.k8s.io",
            "pods",
        ],
    );
}

#[test]
fn unresolved_entries_are_reported_once_each() {
    let backup = grs(&["pods", "certificates.a.io", "certificates.b.io"]);
    let priorities = Priorities::parse("nosuch,certificates,pods,-,nosuch").unwrap();
    let order = restore_order(&backup, &priorities, &PlainResolver::new(&backup));
    assert_eq!(
        order.unresolved,
        [entry("nosuch"), entry("certificates"), entry("nosuch")]
    );
    assert_eq!(
        order.ordered,
        [
            Ordered {
                group_resource: GroupResource::new("", "pods"),
                placement: Placement::HighPriority(entry("pods")),
            },
            Ordered {
                group_resource: GroupResource::new("a.io", "certificates"),
                placement: Placement::Alphabetical,
            },
            Ordered {
                group_resource: GroupResource::new("b.io", "certificates"),
                placement: Placement::Alphabetical,
            },
        ]
    );
}

#[test]
fn any_function_is_a_resolver() {
    let backup = grs(&["pods", "deployments.apps", "replicasets.apps"]);
    // A resolver that knows the short name `deploy`.
    let resolver = |entry: &PriorityEntry| match entry.as_str() {
        "deploy" => Some(GroupResource::new("apps", "deployments")),
        _ => None,
    };
    let order = restore_order(&backup, &Priorities::parse("deploy").unwrap(), &resolver);
    let got: Vec<String> = order.group_resources().map(ToString::to_string).collect();
    assert_eq!(got, ["deployments.apps", "pods", "replicasets.apps"]);
    // Also through a trait object.
    let dynamic: &dyn Resolver = &resolver;
    assert_eq!(
        restore_order(&backup, &Priorities::parse("deploy").unwrap(), dynamic),
        order
    );
}

#[test]
fn plain_resolver_cases() {
    let known = grs(&[
        "pods",
        "pods.metrics.k8s.io",
        "storageclasses.storage.k8s.io",
        "certificates.a.io",
        "certificates.b.io",
        "volumesnapshotclasses.snapshot.storage.k8s.io",
    ]);
    let resolver = PlainResolver::new(&known);
    let check = |text: &str, expected: Option<&str>| {
        let got = resolver.resolve(&entry(text)).map(|gr| gr.to_string());
        assert_eq!(got.as_deref(), expected, "{text}");
    };
    check("pods", Some("pods"));
    check("pods.metrics.k8s.io", Some("pods.metrics.k8s.io"));
    check("storageclasses", Some("storageclasses.storage.k8s.io"));
    check(
        "storageclasses.storage.k8s.io",
        Some("storageclasses.storage.k8s.io"),
    );
    check("certificates", None);
    check("certificates.b.io", Some("certificates.b.io"));
    check("nosuch", None);
    check("pods.apps", None);
    // No singular names without discovery.
    check("volumesnapshotclass.snapshot.storage.k8s.io", None);
    // Exact spelling only.
    check("Pods", None);
    check("Pods.metrics.k8s.io", None);
}

/// Group-resources a generated backup draws from: the special ones, names the default lists
/// use, and names that collide across groups.
const POOL: &[&str] = &[
    "customresourcedefinitions.apiextensions.k8s.io",
    "namespaces",
    "pods",
    "pods.metrics.k8s.io",
    "services",
    "secrets",
    "configmaps",
    "storageclasses.storage.k8s.io",
    "replicasets.apps",
    "deployments.apps",
    "clusters.cluster.x-k8s.io",
    "certificates.a.io",
    "certificates.b.io",
    "zebras",
    "apples.zoo.io",
];

/// Entries a generated priority list draws from.
const ENTRIES: &[&str] = &[
    "customresourcedefinitions",
    "namespaces",
    "pods",
    "services",
    "storageclasses",
    "replicasets.apps",
    "clusters.cluster.x-k8s.io",
    "certificates",
    "certificates.b.io",
    "zebras",
    "nosuch",
];

fn backup() -> impl Strategy<Value = Vec<GroupResource>> {
    prop::sample::subsequence(POOL, 0..=POOL.len())
        .prop_shuffle()
        .prop_map(|texts| grs(&texts))
}

fn entries() -> impl Strategy<Value = Vec<PriorityEntry>> {
    prop::collection::vec(prop::sample::select(ENTRIES).prop_map(entry), 0..6)
}

/// The distinct group-resources a list resolves to, in list order, minus those already taken.
fn resolved(
    entries: &[PriorityEntry],
    resolver: &PlainResolver<'_>,
    taken: &mut Vec<GroupResource>,
) -> Vec<GroupResource> {
    let mut out = Vec::new();
    for entry in entries {
        if let Some(gr) = resolver.resolve(entry)
            && !taken.contains(&gr)
        {
            taken.push(gr.clone());
            out.push(gr);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn order_is_a_permutation_with_the_promised_shape(
        backup in backup(),
        high in entries(),
        low in entries(),
    ) {
        let priorities = Priorities { high, low };
        let resolver = PlainResolver::new(&backup);
        let order = restore_order(&backup, &priorities, &resolver);
        let got: Vec<GroupResource> = order.group_resources().cloned().collect();

        // A permutation of the input.
        let mut sorted_got = got.clone();
        sorted_got.sort();
        let mut sorted_in = backup.clone();
        sorted_in.sort();
        prop_assert_eq!(&sorted_got, &sorted_in);

        // CRDs, then namespaces, first.
        let mut taken: Vec<GroupResource> = [custom_resource_definitions(), namespaces()]
            .into_iter()
            .filter(|gr| backup.contains(gr))
            .collect();
        prop_assert_eq!(&got[..taken.len()], &taken[..]);
        let start = taken.len();

        // Then the high list's group-resources in list order, the low list's at the very end in
        // list order, and everything else between them sorted by `<resource>.<group>`.
        let high = resolved(&priorities.high, &resolver, &mut taken);
        let low = resolved(&priorities.low, &resolver, &mut taken);
        prop_assert_eq!(&got[start..start + high.len()], &high[..]);
        prop_assert_eq!(&got[got.len() - low.len()..], &low[..]);
        let middle: Vec<String> = got[start + high.len()..got.len() - low.len()]
            .iter()
            .map(ToString::to_string)
            .collect();
        let mut sorted_middle = middle.clone();
        sorted_middle.sort();
        prop_assert_eq!(middle, sorted_middle);

        // Every entry that resolved to nothing is reported.
        let unresolved = priorities
            .high
            .iter()
            .chain(&priorities.low)
            .filter(|e| resolver.resolve(e).is_none())
            .count();
        prop_assert_eq!(order.unresolved.len(), unresolved);
    }
}
