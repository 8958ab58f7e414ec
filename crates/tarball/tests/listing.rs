//! What the writer produces, seen from outside: entry paths in order (read by the tar crate and by
//! the system `tar`), header fields, and the index godwit's reader builds from it.

#![allow(clippy::unwrap_used)]

mod common;

use std::cell::Cell;
use std::io::Write;
use std::process::Command;
use std::rc::Rc;

use common::{SAMPLE_MTIME, gunzip, sample_objects, tar_paths, write_backup};
use godwit_tarball::{BackupWriter, Error, Item, Limits, VersionDir, extract, list};
use godwit_versioning::GroupResource;

#[test]
fn entry_paths_in_order() {
    let paths = tar_paths(&write_backup(&sample_objects()));
    insta::assert_snapshot!(paths.join("\n"));
}

#[test]
fn headers_are_velero_like_and_deterministic() {
    let bytes = write_backup(&sample_objects());
    assert_eq!(
        bytes,
        write_backup(&sample_objects()),
        "same input, same bytes"
    );
    let tar = gunzip(&bytes);
    let mut archive = tar::Archive::new(tar.as_slice());
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let header = entry.header();
        let path = entry.path().unwrap().display().to_string();
        assert_eq!(header.entry_type(), tar::EntryType::Regular, "{path}");
        assert_eq!(header.mode().unwrap(), 0o755, "{path}");
        assert_eq!(
            (header.uid().unwrap(), header.gid().unwrap()),
            (0, 0),
            "{path}"
        );
        assert_eq!(header.mtime().unwrap(), SAMPLE_MTIME, "{path}");
        assert!(header.as_ustar().is_some(), "{path}: USTAR like Go writes");
    }
    let first = tar_paths(&bytes).remove(0);
    assert_eq!(first, "metadata/version");
    let mut archive = tar::Archive::new(tar.as_slice());
    let mut version = String::new();
    std::io::Read::read_to_string(
        &mut archive.entries().unwrap().next().unwrap().unwrap(),
        &mut version,
    )
    .unwrap();
    assert_eq!(version, "1.1.0\n");
}

#[test]
fn compact_json_and_counts() {
    let objects = sample_objects();
    let mut writer = BackupWriter::new(Vec::new()).unwrap();
    for object in &objects {
        for version in &object.versions {
            writer
                .append(&object.item(version), &object.json(version))
                .unwrap();
        }
    }
    let (bytes, counts) = writer.finish().unwrap();
    let versions: u64 = objects.iter().map(|o| o.versions.len() as u64).sum();
    assert_eq!(counts.objects, versions);
    assert_eq!(counts.entries, 1 + versions + objects.len() as u64);
    let tar = gunzip(&bytes);
    let mut archive = tar::Archive::new(tar.as_slice());
    for entry in archive.entries().unwrap().skip(1) {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut entry.unwrap(), &mut text).unwrap();
        assert!(
            !text.contains(": ") && !text.contains('\n'),
            "compact: {text}"
        );
    }
}

#[test]
fn index_of_the_sample() {
    let bytes = write_backup(&sample_objects());
    let index = list(bytes.as_slice(), &Limits::default()).unwrap();
    insta::assert_yaml_snapshot!(index);
}

/// Skips (with a note) where no `tar` is installed; this machine has GNU tar.
fn system_tar_list(bytes: &[u8]) -> Option<String> {
    if Command::new("tar").arg("--version").output().is_err() {
        eprintln!("no tar on PATH: skipping the system tar check");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.tar.gz");
    std::fs::write(&file, bytes).unwrap();
    let output = Command::new("tar").arg("tzf").arg(&file).output().unwrap();
    assert!(
        output.status.success(),
        "tar tzf failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "tar warned: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8(output.stdout).unwrap())
}

#[test]
fn system_tar_lists_velero_paths() {
    let bytes = write_backup(&sample_objects());
    if let Some(listing) = system_tar_list(&bytes) {
        insta::assert_snapshot!(listing);
    }
}

#[test]
fn system_tar_reads_long_paths_from_pax_records() {
    let group_resource = GroupResource::parse("rockbands.music.example.io").unwrap();
    let long_name = format!("band-{}", "x".repeat(200));
    let item = Item {
        group_resource: &group_resource,
        namespace: Some("shop"),
        name: &long_name,
        version: "v2beta1",
        preferred_version: "v2beta1",
    };
    let mut writer = BackupWriter::new(Vec::new()).unwrap();
    writer
        .append_json(&item, b"{\"kind\":\"RockBand\"}")
        .unwrap();
    let bytes = writer.finish().unwrap().0;
    let expected = format!(
        "metadata/version\n\
         resources/rockbands.music.example.io/namespaces/shop/{long_name}.json\n\
         resources/rockbands.music.example.io/v2beta1-preferredversion/namespaces/shop/{long_name}.json\n"
    );
    assert_eq!(tar_paths(&bytes).join("\n") + "\n", expected);
    if let Some(listing) = system_tar_list(&bytes) {
        assert_eq!(listing, expected);
    }
    let index = list(bytes.as_slice(), &Limits::default()).unwrap();
    assert_eq!(index.object_files, 2);
}

/// Counts the bytes that reach it, so a test can see the writer stream rather than buffer.
struct CountingSink(Rc<Cell<usize>>);

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.set(self.0.get() + buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn writes_stream_through_before_finish() {
    let written = Rc::new(Cell::new(0));
    let mut writer = BackupWriter::new(CountingSink(Rc::clone(&written))).unwrap();
    let group_resource = GroupResource::parse("configmaps").unwrap();
    // Varied content, so gzip cannot shrink it to nothing.
    let mut seen = Vec::new();
    for n in 0..3000u32 {
        let name = format!("cm-{n}");
        let item = Item {
            group_resource: &group_resource,
            namespace: Some("shop"),
            name: &name,
            version: "v1",
            preferred_version: "v1",
        };
        let body = format!("{{\"data\":\"{}\"}}", n.wrapping_mul(2_654_435_761));
        writer.append_json(&item, body.as_bytes()).unwrap();
        if n % 1000 == 999 {
            seen.push(written.get());
        }
    }
    assert!(
        seen[0] > 0 && seen[0] < seen[1] && seen[1] < seen[2],
        "{seen:?}"
    );
    let (_, counts) = writer.finish().unwrap();
    assert_eq!(counts.objects, 3000);
}

#[test]
fn writer_refuses_bad_items_and_json() {
    let group_resource = GroupResource::parse("pods").unwrap();
    let item = |name: &'static str| Item {
        group_resource: &group_resource,
        namespace: Some("shop"),
        name,
        version: "v1",
        preferred_version: "v1",
    };
    let mut writer = BackupWriter::new(Vec::new()).unwrap();
    let err = writer.append_json(&item("web"), b"[]").unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot write pods v1 \"shop\"/\"web\" to the backup tarball: invalid object JSON: the value is not an object"
    );
    let err = writer
        .append(&item("web"), &serde_json::json!(7))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidItemJson { .. }), "{err}");
    let err = writer.append_json(&item("../x"), b"{}").unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot write pods v1 \"shop\"/\"../x\" to the backup tarball: name: \"../x\": a '/' inside a name; fix the object or leave it out"
    );
    // Refused objects leave nothing behind: the archive holds only what was accepted.
    writer.append_json(&item("web"), b"{}").unwrap();
    let (bytes, counts) = writer.finish().unwrap();
    assert_eq!(counts.objects, 1);
    assert_eq!(tar_paths(&bytes).len(), 3);
}

#[test]
fn objects_of_a_folder_the_backup_lacks_is_an_error() {
    let bytes = write_backup(&sample_objects());
    let dest = tempfile::tempdir().unwrap();
    let extracted = extract(bytes.as_slice(), &dest.path().join("x"), &Limits::default()).unwrap();
    let pods = GroupResource::parse("pods").unwrap();
    let err = extracted
        .objects(&pods, &VersionDir::parse("v2").unwrap())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the backup holds no pods in folder v2; see ExtractedBackup::index for what it holds"
    );
    let names: Vec<String> = extracted
        .objects(&pods, &VersionDir::Legacy)
        .unwrap()
        .map(|object| object.unwrap().name)
        .collect();
    assert_eq!(names, vec!["web-0"]);
}
