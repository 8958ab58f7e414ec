//! The checked-in tarball fixtures stay in step with the code that builds them, and every hostile
//! archive is refused with an error that names the offending entry.
//!
//! Rebuild the fixtures with `GODWIT_BLESS=1 cargo test -p godwit-tarball --test hostile`.

#![allow(clippy::unwrap_used)]

mod common;

use common::{BOMB_ENTRY_BYTES, RawTar, all_fixtures, gunzip, raw_header};
use godwit_tarball::{Error, Limits, extract, list, unpack};

const FIXTURE_DIR: &str = "tarballs";

#[test]
fn fixtures_are_current() {
    let bless = std::env::var("GODWIT_BLESS").is_ok_and(|value| value == "1");
    for (name, bytes) in all_fixtures() {
        let relative = format!("{FIXTURE_DIR}/{name}");
        if bless {
            let path = godwit_fixtures::path(&relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
            continue;
        }
        let checked_in = godwit_fixtures::read(&relative);
        assert!(
            checked_in.len() < 100 * 1024,
            "{name} is over 100 KB on disk"
        );
        // Compare the tar streams, not the gzip bytes, so a new compressor version that
        // compresses differently does not fail the test.
        assert!(
            gunzip(&checked_in) == gunzip(&bytes),
            "fixture {relative} is stale; rebuild it with GODWIT_BLESS=1"
        );
    }
}

/// Reads `bytes` with `limits` through `list`, `extract` and `unpack`; all must fail with an
/// error whose message holds every fragment, and neither writer may write outside its folder.
fn check(bytes: &[u8], limits: &Limits, fragments: &[&str]) {
    let listed = list(bytes, limits)
        .expect_err("list must refuse it")
        .to_string();
    let outer = tempfile::tempdir().unwrap();
    let dest = outer.path().join("backup");
    let extracted = extract(bytes, &dest, limits)
        .expect_err("extract must refuse it")
        .to_string();
    let unpacked = unpack(bytes, &outer.path().join("packed"), limits)
        .expect_err("unpack must refuse it")
        .to_string();
    for message in [&listed, &extracted, &unpacked] {
        for fragment in fragments {
            assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
        }
    }
    let mut outside: Vec<_> = std::fs::read_dir(outer.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    outside.sort();
    assert_eq!(
        outside,
        vec!["backup", "packed"],
        "nothing written beside the folders"
    );
}

fn fixture(name: &str) -> Vec<u8> {
    godwit_fixtures::read(&format!("{FIXTURE_DIR}/{name}"))
}

#[test]
fn refuses_the_hostile_fixtures() {
    let defaults = Limits::default();
    check(
        &fixture("hostile-traversal.tar.gz"),
        &defaults,
        &[
            "unsafe entry \"resources/pods/namespaces/shop/../../../../../outside.json\"",
            "a '..' path component",
        ],
    );
    check(
        &fixture("hostile-absolute-path.tar.gz"),
        &defaults,
        &["unsafe entry \"/etc/cron.d/evil\"", "an absolute path"],
    );
    check(
        &fixture("hostile-symlink.tar.gz"),
        &defaults,
        &[
            "entry \"resources/pods/cluster/link.json\"",
            "is a symbolic link",
        ],
    );
    check(
        &fixture("hostile-bad-json.tar.gz"),
        &defaults,
        &[
            "entry \"resources/pods/namespaces/shop/web-0.json\"",
            "is not a JSON object: EOF while parsing",
        ],
    );
    check(
        &fixture("hostile-unknown-version.tar.gz"),
        &defaults,
        &[
            "entry \"metadata/version\" says backup format \"2.0.0\"",
            "it reads formats 1, 1.0.0, 1.1.0",
        ],
    );
    check(
        &fixture("hostile-outside-resources.tar.gz"),
        &defaults,
        &[
            "unexpected entry \"secrets/stolen.json\"",
            "outside metadata/ and resources/",
        ],
    );
}

#[test]
fn refuses_the_gzip_bomb_by_entry_and_by_total_size() {
    let bomb = fixture("hostile-gzip-bomb.tar.gz");
    assert!(bomb.len() < 100 * 1024);
    let entry = "entry \"resources/configmaps/namespaces/shop/big.json\"";
    check(
        &bomb,
        &Limits::default(),
        &[
            entry,
            &format!("is {BOMB_ENTRY_BYTES} bytes, over the limit of 16777216"),
        ],
    );
    let small_total = Limits {
        max_total_bytes: 1024 * 1024,
        max_entry_bytes: 64 * 1024 * 1024,
        ..Limits::default()
    };
    check(
        &bomb,
        &small_total,
        &[
            "decompresses to more than 1048576 bytes",
            "at entry \"resources/configmaps/namespaces/shop/big.json\"",
            "gzip bomb",
        ],
    );
}

#[test]
fn counts_every_decompressed_byte_not_only_file_contents() {
    // Global PAX headers carry no file, so only the byte counter on the stream can stop them.
    let mut tar = RawTar::new().version();
    for _ in 0..40 {
        tar = tar.entry(b"pax_global_header", b'g', &[b'\n'; 60 * 1024]);
    }
    let limits = Limits {
        max_total_bytes: 1024 * 1024,
        ..Limits::default()
    };
    check(
        &tar.gz(),
        &limits,
        &[
            "decompresses to more than 1048576 bytes",
            "pax_global_header",
        ],
    );
}

#[test]
fn refuses_other_hostile_shapes() {
    let defaults = Limits::default();
    let cases: Vec<(Vec<u8>, Vec<&str>)> = vec![
        (
            RawTar::new()
                .version()
                .link("resources/pods/cluster/a.json", b'1', "metadata/version")
                .gz(),
            vec!["entry \"resources/pods/cluster/a.json\"", "is a hard link"],
        ),
        (
            RawTar::new()
                .version()
                .entry(b"resources/pods/cluster/dev.json", b'3', b"")
                .gz(),
            vec![
                "entry \"resources/pods/cluster/dev.json\"",
                "character device",
            ],
        ),
        (
            RawTar::new()
                .version()
                .entry(b"resources/pods/cluster/f.json", b'6', b"")
                .gz(),
            vec!["FIFO"],
        ),
        (
            RawTar::new()
                .version()
                .file("resources/pods/web.json", b"{}")
                .gz(),
            vec![
                "unexpected entry \"resources/pods/web.json\"",
                "wrong depth",
            ],
        ),
        (
            RawTar::new()
                .version()
                .file("resources/pods/namespaces/shop/web", b"{}")
                .gz(),
            vec![
                "unexpected entry \"resources/pods/namespaces/shop/web\"",
                "must end in .json",
            ],
        ),
        (
            RawTar::new()
                .version()
                .file("resources/pods/cluster/a.json", b"[1, 2]")
                .gz(),
            vec![
                "entry \"resources/pods/cluster/a.json\" in the backup tarball is not a JSON object",
            ],
        ),
        (
            // Found by fuzzing: the check skipped strings without checking their UTF-8, so the
            // object was accepted and failed only when a restore parsed it.
            RawTar::new()
                .version()
                .file("resources/pods/cluster/a.json", b"{\"a\":\"\xe0\xc3\"}")
                .gz(),
            vec![
                "entry \"resources/pods/cluster/a.json\" in the backup tarball is not a JSON object",
                "not UTF-8",
            ],
        ),
        (
            RawTar::new()
                .version()
                .file("resources/pods/cluster/a.json", b"{}")
                .file("metadata/version", b"1.1.0\n")
                .gz(),
            vec!["entry \"metadata/version\"", "a second metadata/version"],
        ),
        (
            RawTar::new()
                .version()
                .file("resources/pods/v1-preferredversion/cluster/a.json", b"{}")
                .file("resources/pods/v2-preferredversion/cluster/a.json", b"{}")
                .gz(),
            vec![
                "entry \"resources/pods/v2-preferredversion/cluster/a.json\"",
                "pods already has preferred version v1, and this entry says v2",
            ],
        ),
        (
            RawTar::new()
                .version()
                .file("resources/pods/v1-preferredversion/cluster/a.json", b"{}")
                .file("resources/pods/v1/cluster/a.json", b"{}")
                .gz(),
            vec!["pods holds version v1 both as v1/ and v1-preferredversion/"],
        ),
        (
            RawTar::new()
                .version()
                .entry(b"././@LongLink", b'x', b"30 path=resources/pods/x.json\n")
                .gz(),
            vec![
                "malformed tar extension header \"././@LongLink\"",
                "no entry after it",
            ],
        ),
        (
            RawTar::new()
                .version()
                .entry(b"PaxHeaders.0/a", b'x', b"16 path=../../x\n")
                .file("resources/pods/cluster/a.json", b"{}")
                .gz(),
            vec!["unsafe entry \"../../x\"", "a '..' path component"],
        ),
        (
            RawTar::new()
                .version()
                .entry(b"PaxHeaders.0/a", b'x', b"11 size=99\n")
                .file("resources/pods/cluster/a.json", b"{}")
                .gz(),
            vec!["PAX size 99 disagrees with the header size 2"],
        ),
        (
            RawTar::new()
                .version()
                .entry(b"PaxHeaders.0/a", b'x', b"bogus")
                .file("resources/pods/cluster/a.json", b"{}")
                .gz(),
            vec![
                "malformed tar extension header \"PaxHeaders.0/a\"",
                "without a length",
            ],
        ),
        (
            RawTar::new()
                .version()
                .entry(b"././@LongLink", b'L', &[b'a'; 5000])
                .file("resources/pods/cluster/a.json", b"{}")
                .gz(),
            vec!["\"././@LongLink\"", "5000 bytes, over the 4097-byte bound"],
        ),
        (
            b"not gzip at all".to_vec(),
            vec![
                "cannot read the backup tarball at the start",
                "not a gzip-compressed tar",
            ],
        ),
    ];
    for (bytes, fragments) in cases {
        check(&bytes, &defaults, &fragments);
    }
}

#[test]
fn refuses_too_many_entries_and_long_paths() {
    let mut tar = RawTar::new().version();
    for n in 0..10 {
        tar = tar.file(&format!("resources/pods/cluster/p{n}.json"), b"{}");
    }
    let limits = Limits {
        max_entries: 5,
        ..Limits::default()
    };
    check(
        &tar.gz(),
        &limits,
        &[
            "more than 5 entries",
            "reached at entry \"resources/pods/cluster/p4.json\"",
        ],
    );
    let limits = Limits {
        max_path_bytes: 20,
        ..Limits::default()
    };
    let tar = RawTar::new()
        .version()
        .file("resources/pods/cluster/a.json", b"{}");
    check(
        &tar.gz(),
        &limits,
        &[
            "\"resources/pods/cluster/a.json\"",
            "path longer than 20 bytes",
        ],
    );
}

#[test]
fn refuses_truncated_and_corrupt_archives() {
    let whole = RawTar::new()
        .version()
        .file("resources/pods/cluster/a.json", b"{\"kind\":\"Pod\"}")
        .gz();
    let tar = gunzip(&whole);
    // Cut inside the second entry's data.
    let cut = common::gzip(&tar[..512 * 3 + 5]);
    check(
        &cut,
        &Limits::default(),
        &["\"resources/pods/cluster/a.json\"", "truncated"],
    );
    // A header whose checksum does not match.
    let mut corrupt = tar.clone();
    corrupt[512 * 2 + 10] ^= 0x01;
    check(
        &common::gzip(&corrupt),
        &Limits::default(),
        &["after entry \"metadata/version\"", "checksum"],
    );
    let header = raw_header(b"metadata/version", b'0', 6, b"");
    assert_eq!(
        &tar[..512],
        &header[..],
        "the helper writes the header it is asked for"
    );
}

#[test]
fn extract_refuses_a_folder_that_is_not_empty() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("resources"), b"planted").unwrap();
    let bytes = RawTar::new().version().gz();
    let err = extract(bytes.as_slice(), dir.path(), &Limits::default()).unwrap_err();
    assert!(matches!(err, Error::DestinationNotEmpty { .. }), "{err}");
    assert!(err.to_string().contains("the folder is not empty"), "{err}");
}

#[test]
fn extract_refuses_the_same_path_twice_which_list_cannot_see() {
    let bytes = RawTar::new()
        .version()
        .file("resources/pods/cluster/a.json", b"{\"n\":1}")
        .file("./resources/pods/cluster/a.json", b"{\"n\":2}")
        .gz();
    let index = list(bytes.as_slice(), &Limits::default()).unwrap();
    assert_eq!(index.object_files, 2, "list counts both copies");
    let dir = tempfile::tempdir().unwrap();
    let err = extract(bytes.as_slice(), &dir.path().join("x"), &Limits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "entry \"resources/pods/cluster/a.json\" in the backup tarball conflicts with an earlier \
         entry: the same path appears twice"
    );
    let kept = std::fs::read(dir.path().join("x/resources/pods/cluster/a.json")).unwrap();
    assert_eq!(kept, b"{\"n\":1}", "the first copy is not overwritten");
    let err = unpack(bytes.as_slice(), &dir.path().join("y"), &Limits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "entry \"resources/pods/cluster/a.json\" in the backup tarball conflicts with an earlier \
         entry: the same path appears twice"
    );
}
