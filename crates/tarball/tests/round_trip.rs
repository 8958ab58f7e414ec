//! Round trip: any set of objects written in several versions reads back byte for byte, from
//! every folder, through both `list` and `extract`; `unpack` reads back the same objects in the
//! same order.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use godwit_tarball::{BackupWriter, Item, Limits, VersionDir, extract, list, unpack};
use godwit_versioning::GroupResource;
use proptest::prelude::*;
use serde_json::json;

const GROUP_RESOURCES: &[&str] = &[
    "pods",
    "deployments.apps",
    "rockbands.music.example.io",
    "clusterroles.rbac.authorization.k8s.io",
];
const VERSIONS: &[&str] = &["v1", "v2", "v1beta1", "v2alpha3", "foo1"];

/// `(group_resource, namespace, name)` to its payload.
type Objects = BTreeMap<(usize, Option<String>, String), String>;
/// Per `(group_resource, folder)`, each `(namespace, name)` to the bytes written.
type Expected = BTreeMap<(GroupResource, VersionDir), BTreeMap<(Option<String>, String), Vec<u8>>>;

fn objects() -> impl Strategy<Value = Objects> {
    let key = (
        0..GROUP_RESOURCES.len(),
        prop::option::of("[a-z][a-z0-9-]{0,8}"),
        // Names as Kubernetes allows them for path-segment resources, dots and colons included.
        "[a-z0-9][a-z0-9.:-]{0,30}",
    );
    prop::collection::btree_map(key, "\\PC{0,40}", 0..16)
}

/// Per group-resource, the versions it is written in; the first is the preferred one.
fn versions() -> impl Strategy<Value = Vec<Vec<&'static str>>> {
    let one = prop::sample::subsequence(VERSIONS, 1..=VERSIONS.len()).prop_shuffle();
    prop::collection::vec(one, GROUP_RESOURCES.len())
}

fn body(group_resource: &GroupResource, version: &str, name: &str, payload: &str) -> Vec<u8> {
    let api_version = match group_resource.is_core() {
        true => version.to_owned(),
        false => format!("{}/{version}", group_resource.group),
    };
    serde_json::to_vec(&json!({
        "apiVersion": api_version,
        "metadata": {"name": name},
        "data": {"payload": payload},
    }))
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn objects_read_back_byte_identical(objects in objects(), versions in versions()) {
        let group_resources: Vec<GroupResource> =
            GROUP_RESOURCES.iter().map(|text| GroupResource::parse(text).unwrap()).collect();

        // Expected content per (gr, dir), keyed by (namespace, name).
        let mut expected = Expected::new();
        let mut writer = BackupWriter::new(Vec::new()).unwrap();
        for ((gr_index, namespace, name), payload) in &objects {
            let group_resource = &group_resources[*gr_index];
            let gr_versions = &versions[*gr_index];
            for version in gr_versions {
                let item = Item {
                    group_resource,
                    namespace: namespace.as_deref(),
                    name,
                    version,
                    preferred_version: gr_versions[0],
                };
                let bytes = body(group_resource, version, name, payload);
                writer.append_json(&item, &bytes).unwrap();
                let preferred = *version == gr_versions[0];
                let mut dirs = vec![VersionDir::Version { version: (*version).to_owned(), preferred }];
                if preferred {
                    dirs.push(VersionDir::Legacy);
                }
                for dir in dirs {
                    expected
                        .entry((group_resource.clone(), dir))
                        .or_default()
                        .insert((namespace.clone(), name.clone()), bytes.clone());
                }
            }
        }
        let (tarball, counts) = writer.finish().unwrap();
        let files: usize = expected.values().map(BTreeMap::len).sum();
        prop_assert_eq!(counts.entries, 1 + files as u64);

        let listed = list(tarball.as_slice(), &Limits::default()).unwrap();
        let dest = tempfile::tempdir().unwrap();
        let extracted = extract(tarball.as_slice(), &dest.path().join("backup"), &Limits::default()).unwrap();
        let unpacked = unpack(tarball.as_slice(), &dest.path().join("packed"), &Limits::default()).unwrap();
        prop_assert_eq!(extracted.index(), &listed);
        prop_assert_eq!(unpacked.index(), &listed);
        prop_assert_eq!(listed.object_files, files as u64);
        prop_assert_eq!(listed.format_version.as_deref(), Some("1.1.0"));

        let mut seen_dirs = 0;
        for (group_resource, resource) in &listed.group_resources {
            let gr_index = GROUP_RESOURCES.iter().position(|text| group_resource.to_string() == *text).unwrap();
            prop_assert_eq!(resource.preferred_version(), Some(versions[gr_index][0]));
            for dir in resource.dirs.keys() {
                seen_dirs += 1;
                let want = &expected[&(group_resource.clone(), dir.clone())];
                let mut got = BTreeMap::new();
                let mut in_order = Vec::new();
                for object in extracted.objects(group_resource, dir).unwrap() {
                    let object = object.unwrap();
                    prop_assert_eq!(&object.object, &serde_json::from_slice::<serde_json::Value>(&object.raw).unwrap());
                    in_order.push(object.clone());
                    got.insert((object.namespace, object.name), object.raw);
                }
                prop_assert_eq!(&got, want);
                let packed: Vec<_> = unpacked.objects(group_resource, dir).unwrap().map(Result::unwrap).collect();
                prop_assert_eq!(&packed, &in_order);
            }
        }
        prop_assert_eq!(seen_dirs, expected.len());
    }
}
