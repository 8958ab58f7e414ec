//! Fuzzes godwit-tarball's reader with arbitrary archives: `list`, `for_each_object` and
//! `extract` (into a fresh folder, under tight `Limits`) must return errors, never panic, agree
//! with each other, and never write outside the folder they are given.
//!
//! An input starting with the gzip magic is read as it is (the gzip layer gets fuzzed too); any
//! other input is taken as a plain tar stream and gzipped first, so mutations reach the tar
//! headers instead of dying on a gzip checksum.

#![no_main]

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use godwit_tarball::{Limits, VersionDir};
use godwit_versioning::GroupResource;
use libfuzzer_sys::fuzz_target;

/// Small enough that a hostile archive costs milliseconds, large enough for real small backups.
const LIMITS: Limits = Limits {
    max_entry_bytes: 64 * 1024,
    max_total_bytes: 2 * 1024 * 1024,
    max_entries: 2048,
    max_path_bytes: 1024,
};

/// Where one object was found: group-resource, folder, namespace, name.
type ObjectKey = (GroupResource, VersionDir, Option<String>, String);

fuzz_target!(|data: &[u8]| {
    let gzipped = if data.starts_with(&[0x1f, 0x8b]) {
        data.to_vec()
    } else {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(data).expect("gzip into memory");
        encoder.finish().expect("gzip into memory")
    };

    let listed = godwit_tarball::list(gzipped.as_slice(), &LIMITS);

    let mut streamed: BTreeMap<ObjectKey, Vec<u8>> = BTreeMap::new();
    let mut duplicate_streamed = false;
    let visited = godwit_tarball::for_each_object(gzipped.as_slice(), &LIMITS, |object| {
        assert!(
            serde_json::from_slice::<serde_json::Value>(object.json).is_ok_and(|v| v.is_object()),
            "for_each_object handed over bytes that are not one JSON object"
        );
        let key = (
            object.group_resource.clone(),
            object.dir.clone(),
            object.namespace.map(str::to_owned),
            object.name.to_owned(),
        );
        duplicate_streamed |= streamed.insert(key, object.json.to_vec()).is_some();
    });
    // Both read the same stream with the same checks; only the sink differs.
    match (&listed, &visited) {
        (Ok(listed), Ok(visited)) => assert_eq!(listed, visited),
        (Err(_), Err(_)) => {}
        (listed, visited) => panic!("list and for_each_object disagree: {listed:?} vs {visited:?}"),
    }

    let parent = tempfile::tempdir().expect("temporary folder");
    let dest = parent.path().join("dest");
    let extracted = godwit_tarball::extract(gzipped.as_slice(), &dest, &LIMITS);
    check_nothing_outside(parent.path(), &dest);
    check_only_plain_files(&dest);
    let packed_parent = tempfile::tempdir().expect("temporary folder");
    let packed_dest = packed_parent.path().join("dest");
    let unpacked = godwit_tarball::unpack(gzipped.as_slice(), &packed_dest, &LIMITS);
    check_nothing_outside(packed_parent.path(), &packed_dest);
    check_only_plain_files(&packed_dest);

    let Ok(extracted) = extracted else {
        return;
    };
    // `extract` also refuses duplicates, which `list` cannot see; what it accepts, `list` accepts.
    let listed = listed.expect("extract accepted an archive list refused");
    assert_eq!(*extracted.index(), listed);
    assert!(!duplicate_streamed, "extract accepted an object twice");
    // `unpack` makes the same checks and writes one file, so it accepts what `extract` accepts.
    let unpacked = unpacked.expect("unpack refused an archive extract accepted");
    assert_eq!(*unpacked.index(), listed);
    let mut read_back = 0;
    for (group_resource, index) in &listed.group_resources {
        for (dir, counts) in &index.dirs {
            let mut found = 0;
            let mut in_order = Vec::new();
            for object in extracted
                .objects(group_resource, dir)
                .expect("a folder of the index")
            {
                let object = object.expect("an extracted object reads back");
                in_order.push(object.clone());
                let key = (
                    group_resource.clone(),
                    dir.clone(),
                    object.namespace.clone(),
                    object.name.clone(),
                );
                assert_eq!(
                    streamed.get(&key),
                    Some(&object.raw),
                    "extracted {key:?} differs from the streamed one"
                );
                found += 1;
            }
            assert_eq!(
                found,
                counts.total(),
                "objects of {group_resource} in {dir}"
            );
            let packed: Vec<_> = unpacked
                .objects(group_resource, dir)
                .expect("a folder of the index")
                .map(|object| object.expect("an unpacked object reads back"))
                .collect();
            assert_eq!(packed, in_order, "unpacked objects of {group_resource} in {dir}");
            read_back += found;
        }
    }
    assert_eq!(read_back, listed.object_files);
});

/// The folder holding `dest` holds nothing else.
fn check_nothing_outside(parent: &Path, dest: &Path) {
    for entry in fs::read_dir(parent).expect("read the temporary folder") {
        let path = entry.expect("read the temporary folder").path();
        assert_eq!(
            path,
            dest,
            "extract wrote {} outside its folder",
            path.display()
        );
    }
}

/// Below `dir` there are only folders and regular files: no link that could lead out.
fn check_only_plain_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("read an extracted folder").path();
        let file_type = fs::symlink_metadata(&path)
            .expect("stat an extracted entry")
            .file_type();
        if file_type.is_dir() {
            check_only_plain_files(&path);
        } else {
            assert!(
                file_type.is_file(),
                "extract made {}, not a file",
                path.display()
            );
        }
    }
}
