//! Fuzzes godwit-ordering's parser of `--restore-resource-priorities` and checks that what it
//! accepts is entries `PriorityEntry::new` accepts too, that its flag form (`Display`) reads back
//! to the same value, and that `restore_order` places every group-resource once, CRDs and
//! namespaces first, whatever the entries say.

#![no_main]

use godwit_ordering::{
    PlainResolver, Priorities, PriorityEntry, custom_resource_definitions, namespaces,
    restore_order,
};
use godwit_versioning::GroupResource;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(priorities) = Priorities::parse(text) else {
        return;
    };
    for entry in priorities.high.iter().chain(&priorities.low) {
        assert_eq!(PriorityEntry::new(entry.as_str()).as_ref(), Ok(entry));
    }
    let written = priorities.to_string();
    assert_eq!(
        Priorities::parse(&written).as_ref(),
        Ok(&priorities),
        "written back as {written:?}"
    );

    // Order the group-resources the entries name (those that parse as one) plus a few others.
    let mut group_resources: Vec<GroupResource> = priorities
        .high
        .iter()
        .chain(&priorities.low)
        .filter_map(|entry| GroupResource::parse(entry.as_str()).ok())
        .collect();
    group_resources.extend(
        [
            "pods",
            "namespaces",
            "customresourcedefinitions.apiextensions.k8s.io",
            "a.b",
        ]
        .into_iter()
        .filter_map(|text| GroupResource::parse(text).ok()),
    );
    let order = restore_order(
        &group_resources,
        &priorities,
        &PlainResolver::new(&group_resources),
    );
    // Each group-resource of the backup exactly once, CRDs and namespaces first.
    let mut unique = group_resources.clone();
    unique.sort();
    unique.dedup();
    let mut placed: Vec<GroupResource> = order.group_resources().cloned().collect();
    assert_eq!(placed[0], custom_resource_definitions());
    assert_eq!(placed[1], namespaces());
    placed.sort();
    assert_eq!(placed, unique);
    let _ = order.to_string();
});
