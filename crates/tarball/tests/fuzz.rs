//! Fuzz-style properties: arbitrary bytes, arbitrary gzip payloads and arbitrary tar entries never
//! panic the reader, and whatever `extract` accepts lands inside its folder only.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{gzip, raw_header};
use godwit_tarball::{Limits, extract, list};
use proptest::prelude::*;

fn small_limits() -> Limits {
    Limits {
        max_entry_bytes: 4096,
        max_total_bytes: 256 * 1024,
        max_entries: 64,
        max_path_bytes: 512,
    }
}

/// Path pieces that mix Velero's layout with every trick a hostile archive might try.
fn path_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("resources".to_owned()),
        Just("metadata".to_owned()),
        Just("version".to_owned()),
        Just("pods".to_owned()),
        Just("deployments.apps".to_owned()),
        Just("namespaces".to_owned()),
        Just("cluster".to_owned()),
        Just("v1-preferredversion".to_owned()),
        Just("v2beta1".to_owned()),
        Just("shop".to_owned()),
        Just("web.json".to_owned()),
        Just("..".to_owned()),
        Just(".".to_owned()),
        Just(String::new()),
        Just("/etc".to_owned()),
        "[a-zA-Z0-9.:_\\\\-]{1,12}",
        "\\PC{1,6}",
    ]
}

/// Paths in Velero's layout, with a leading `./` now and then and names that are sometimes `.`
/// or `..`, so that many archives are accepted and the rest fail late.
fn velero_path() -> impl Strategy<Value = String> {
    let group_resource = prop_oneof![Just("pods"), Just("deployments.apps")];
    let dir = prop_oneof![Just(""), Just("v1-preferredversion/"), Just("v2beta1/")];
    let scope = prop_oneof![
        "[a-z0-9.:-]{1,8}".prop_map(|name| format!("cluster/{name}.json")),
        ("[a-z.]{1,4}", "[a-z0-9.:-]{1,8}")
            .prop_map(|(namespace, name)| format!("namespaces/{namespace}/{name}.json")),
    ];
    (any::<bool>(), group_resource, dir, scope).prop_map(|(dot, group_resource, dir, scope)| {
        let prefix = if dot { "./" } else { "" };
        format!("{prefix}resources/{group_resource}/{dir}{scope}")
    })
}

fn entry_path() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => velero_path(),
        1 => prop::collection::vec(path_piece(), 1..7).prop_map(|pieces| pieces.join("/")),
    ]
}

fn entry_data() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => Just(b"{}".to_vec()),
        4 => Just(b"{\"kind\":\"Pod\"}".to_vec()),
        1 => Just(b"1.1.0\n".to_vec()),
        1 => Just(b"12 path=a/b\n".to_vec()),
        1 => Just(b"30 path=resources/pods/x.json\n".to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..600),
    ]
}

fn type_flag() -> impl Strategy<Value = u8> {
    prop_oneof![
        16 => Just(b'0'),
        1 => Just(0u8),
        1 => Just(b'5'),
        1 => Just(b'1'),
        1 => Just(b'2'),
        1 => Just(b'3'),
        1 => Just(b'7'),
        1 => Just(b'x'),
        1 => Just(b'g'),
        1 => Just(b'L'),
        1 => Just(b'K'),
        1 => Just(b'S'),
        1 => any::<u8>(),
    ]
}

/// A tar stream of arbitrary entries, sometimes with a header size that lies, sometimes cut.
fn wild_stream() -> impl Strategy<Value = Vec<u8>> {
    let entry = (
        entry_path(),
        type_flag(),
        entry_data(),
        prop::bool::weighted(0.05),
    );
    (
        prop::collection::vec(entry, 0..8),
        prop::bool::weighted(0.2),
        any::<usize>(),
    )
        .prop_map(|(entries, cut, cut_at)| {
            let mut bytes = Vec::new();
            for (path, type_flag, data, lie) in entries {
                let claimed = if lie {
                    data.len() as u64 * 7 + 1
                } else {
                    data.len() as u64
                };
                bytes.extend_from_slice(&raw_header(
                    path.as_bytes(),
                    type_flag,
                    claimed,
                    b"target",
                ));
                bytes.extend_from_slice(&data);
                bytes.extend(std::iter::repeat_n(0u8, (512 - data.len() % 512) % 512));
            }
            bytes.extend(std::iter::repeat_n(0u8, 1024));
            if cut && !bytes.is_empty() {
                bytes.truncate(cut_at % bytes.len());
            }
            bytes
        })
}

/// Regular files at Velero paths holding JSON objects: mostly accepted, so the checks on what
/// an accepted archive writes get exercised too.
fn tame_stream() -> impl Strategy<Value = Vec<u8>> {
    let entry = (
        velero_path(),
        prop_oneof![Just(&b"{}"[..]), Just(&b"{\"kind\":\"Pod\"}"[..])],
    );
    prop::collection::vec(entry, 1..8).prop_map(|entries| {
        let mut bytes = Vec::new();
        for (path, data) in entries {
            bytes.extend_from_slice(&raw_header(path.as_bytes(), b'0', data.len() as u64, b""));
            bytes.extend_from_slice(data);
            bytes.extend(std::iter::repeat_n(0u8, (512 - data.len() % 512) % 512));
        }
        bytes.extend(std::iter::repeat_n(0u8, 1024));
        bytes
    })
}

fn tar_stream() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![wild_stream(), tame_stream()]
}

/// Every file below `root`, recursively; symlinks would be a bug since none may be created.
fn files_under(root: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(root).unwrap() {
        let entry = entry.unwrap();
        let file_type = entry.file_type().unwrap();
        assert!(
            !file_type.is_symlink(),
            "symlink created: {}",
            entry.path().display()
        );
        if file_type.is_dir() {
            found.extend(files_under(&entry.path()));
        } else {
            found.push(entry.path());
        }
    }
    found
}

fn read_both_ways(gzipped: &[u8]) {
    let limits = small_limits();
    let listed = list(gzipped, &limits);
    let outer = tempfile::tempdir().unwrap();
    let dest = outer.path().join("backup");
    let extracted = extract(gzipped, &dest, &limits);
    // `extract` also refuses duplicate paths, which `list` cannot see in bounded memory.
    if extracted.is_ok() {
        assert!(
            listed.is_ok(),
            "extract accepted what list refused: {listed:?}"
        );
    }
    let top: Vec<_> = std::fs::read_dir(outer.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(top, vec!["backup"]);
    if let Ok(extracted) = extracted {
        for file in files_under(&dest) {
            let relative = file
                .strip_prefix(&dest)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            assert!(
                relative == "metadata/version" || relative.starts_with("resources/"),
                "unexpected file {relative}"
            );
        }
        // Reading every object back must not panic either.
        for (group_resource, resource) in &extracted.index().group_resources {
            for dir in resource.dirs.keys() {
                for object in extracted.objects(group_resource, dir).unwrap() {
                    object.unwrap();
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = list(bytes.as_slice(), &small_limits());
        let _ = list(gzip(&bytes).as_slice(), &small_limits());
    }

    #[test]
    fn arbitrary_tar_entries_never_panic(tar in tar_stream()) {
        read_both_ways(&gzip(&tar));
    }
}
