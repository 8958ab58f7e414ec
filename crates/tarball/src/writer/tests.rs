//! Tests of the writer's header details: the USTAR split and PAX records, as Go writes them.

use super::*;

fn check_split(path: &str, expected: Option<(&str, &str)>) {
    assert_eq!(ustar_split(path), expected, "{path}");
}

#[test]
fn splits_paths_like_go() {
    check_split("metadata/version", Some(("", "metadata/version")));
    let exactly_100 = format!("resources/{}", "a".repeat(90));
    check_split(&exactly_100, Some(("", exactly_100.as_str())));
    let long_dir = format!("resources/{}/cluster/x.json", "d".repeat(120));
    // Go splits at the last '/' that fits, so the name part is as short as it can be.
    check_split(&long_dir, Some((&long_dir[..long_dir.len() - 7], "x.json")));
    // The name part alone is over 100 bytes: no split works.
    let long_name = format!("resources/pods/cluster/{}.json", "n".repeat(120));
    check_split(&long_name, None);
    // A prefix over 155 bytes: the split moves right until the prefix fits, or fails.
    let deep = format!("{}/{}/x.json", "p".repeat(150), "q".repeat(20));
    check_split(&deep, Some((&deep[..150], &deep[151..])));
    let too_deep = format!("{}/x.json", "p".repeat(200));
    check_split(&too_deep, None);
    check_split("resources/pods/cluster/é.json", None);
}

#[test]
fn pax_records_count_their_own_length() {
    for value in ["", "x", &"y".repeat(85), &"z".repeat(86), &"w".repeat(995)] {
        let record = pax_record("path", value);
        let (len, rest) = record.split_once(' ').unwrap();
        assert_eq!(len.parse::<usize>().unwrap(), record.len(), "{record}");
        assert_eq!(rest, format!("path={value}\n"));
    }
}

#[test]
fn headers_carry_velero_modes_and_fixed_ids() {
    let header = file_header("metadata/version", "", 6, 1_700_000_000).unwrap();
    assert_eq!(header.mode().unwrap(), 0o755);
    assert_eq!(header.uid().unwrap(), 0);
    assert_eq!(header.gid().unwrap(), 0);
    assert_eq!(header.mtime().unwrap(), 1_700_000_000);
    assert_eq!(header.size().unwrap(), 6);
    assert_eq!(header.entry_type(), EntryType::Regular);
    assert_eq!(&header.as_bytes()[257..265], b"ustar\x0000");
    assert_eq!(header.username().unwrap(), Some(""));
    assert_eq!(&*header.path_bytes(), b"metadata/version");
    let pax = pax_header("resources/pods/cluster/long.json", 20).unwrap();
    assert_eq!(
        &*pax.path_bytes(),
        b"resources/pods/cluster/PaxHeaders.0/long.json"
    );
    assert_eq!(pax.entry_type(), EntryType::XHeader);
    assert_eq!(pax.mode().unwrap(), 0);
}

#[test]
fn refuses_json_that_is_not_one_object() {
    // The last: invalid UTF-8 inside a string, which serde_json's skipping of an ignored
    // value let through (found by fuzzing).
    for bad in [
        &b""[..],
        b"[]",
        b"1",
        b"{",
        b"{}{}",
        b"null",
        b"{\"a\":}",
        b"{\"a\":\"\xe0\xc3\"}",
    ] {
        assert!(
            check_json_object(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    for good in [&b"{}"[..], b" {\"a\":[1,{}]}\n"] {
        check_json_object(good).unwrap();
    }
}
