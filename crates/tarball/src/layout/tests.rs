//! Tests of the path layout: what the writer builds and what the reader accepts.

use super::*;

/// Writer side: `(gr, namespace, name, version, preferred)` to the paths, or an error fragment.
fn check_item(
    input: (&str, Option<&str>, &str, &str, &str),
    expected: Result<(Option<&str>, &str), &str>,
) {
    let (group_resource, namespace, name, version, preferred_version) = input;
    let group_resource = GroupResource::parse(group_resource)
        .unwrap_or_else(|_| GroupResource::new("", group_resource));
    let item = Item {
        group_resource: &group_resource,
        namespace,
        name,
        version,
        preferred_version,
    };
    let got = item_paths(&item);
    match expected {
        Ok((legacy, versioned)) => {
            let paths = got.unwrap_or_else(|err| panic!("{input:?}: {err}"));
            assert_eq!(paths.legacy.as_deref(), legacy, "{input:?}");
            assert_eq!(paths.versioned, versioned, "{input:?}");
            let order: Vec<&str> = paths.iter().collect();
            assert_eq!(
                order.last(),
                Some(&versioned),
                "legacy first, versioned last"
            );
        }
        Err(fragment) => {
            let err = got.expect_err(&format!("{input:?}")).to_string();
            assert!(err.contains(fragment), "{input:?}: {err}");
        }
    }
}

#[test]
fn writer_paths_follow_velero() {
    check_item(
        ("pods", Some("shop"), "web-0", "v1", "v1"),
        Ok((
            Some("resources/pods/namespaces/shop/web-0.json"),
            "resources/pods/v1-preferredversion/namespaces/shop/web-0.json",
        )),
    );
    check_item(
        ("persistentvolumes", None, "pv-1", "v1", "v1"),
        Ok((
            Some("resources/persistentvolumes/cluster/pv-1.json"),
            "resources/persistentvolumes/v1-preferredversion/cluster/pv-1.json",
        )),
    );
    check_item(
        (
            "rockbands.music.example.io",
            Some("a"),
            "b",
            "v2beta1",
            "v1",
        ),
        Ok((
            None,
            "resources/rockbands.music.example.io/v2beta1/namespaces/a/b.json",
        )),
    );
    // ClusterRole names may hold ':' and '..' inside; both are safe path components.
    check_item(
        (
            "clusterroles.rbac.authorization.k8s.io",
            None,
            "system:a..b",
            "v1",
            "v1",
        ),
        Ok((
            Some("resources/clusterroles.rbac.authorization.k8s.io/cluster/system:a..b.json"),
            "resources/clusterroles.rbac.authorization.k8s.io/v1-preferredversion/cluster/system:a..b.json",
        )),
    );
}

#[test]
fn writer_refuses_names_that_break_paths() {
    check_item(
        ("pods", Some("shop"), "", "v1", "v1"),
        Err("name: \"\": empty"),
    );
    check_item(
        ("pods", Some("shop"), "..", "v1", "v1"),
        Err("name: \"..\": a '..' path component"),
    );
    check_item(
        ("pods", Some("shop"), ".", "v1", "v1"),
        Err("a '.' path component"),
    );
    check_item(
        ("pods", Some("shop"), "a/b", "v1", "v1"),
        Err("pods v1 \"shop\"/\"a/b\" to the backup tarball: name: \"a/b\": a '/' inside a name"),
    );
    check_item(
        ("pods", Some("shop"), "a\0b", "v1", "v1"),
        Err("a NUL byte"),
    );
    check_item(
        ("pods", Some(".."), "web", "v1", "v1"),
        Err("namespace: \"..\""),
    );
    check_item(
        ("pods", Some(""), "web", "v1", "v1"),
        Err("namespace: \"\": empty"),
    );
    check_item(
        ("pods", None, "web", "", "v1"),
        Err("not an API version name"),
    );
    check_item(
        ("pods", None, "web", "V1", "v1"),
        Err("not an API version name"),
    );
    check_item(
        ("pods", None, "web", "v1/x", "v1"),
        Err("not an API version name"),
    );
    check_item(
        ("pods", None, "web", "cluster", "v1"),
        Err("collides with Velero's cluster/ folder"),
    );
    check_item(
        ("pods", None, "web", "v1-preferredversion", "v1"),
        Err("marks the preferred version"),
    );
    check_item(
        ("Pods/x", None, "web", "v1", "v1"),
        Err("invalid group-resource"),
    );
}

/// Reader side: `(path, is_dir)` to a short description, or an error fragment.
fn check_entry(input: (&str, bool), expected: Result<&str, &str>) {
    let (path, is_dir) = input;
    let got = parse_entry_path(path.as_bytes(), is_dir);
    match expected {
        Ok(description) => {
            let parsed = got.unwrap_or_else(|err| panic!("{input:?}: {err}"));
            let text = match parsed {
                EntryPath::Dir => "dir".to_owned(),
                EntryPath::VersionFile => "version".to_owned(),
                EntryPath::Object(object) => format!(
                    "{} [{}] {} {}",
                    object.group_resource,
                    object.dir.dir_name(),
                    object.namespace.as_deref().unwrap_or("-"),
                    object.name
                ),
            };
            assert_eq!(text, description, "{input:?}");
        }
        Err(fragment) => {
            let err = got.expect_err(path).to_string();
            assert!(err.contains(fragment), "{input:?}: {err}");
            assert!(err.contains(&format!("{path:?}")), "names the entry: {err}");
        }
    }
}

#[test]
fn reader_accepts_every_velero_path() {
    check_entry(("metadata/version", false), Ok("version"));
    check_entry(("./metadata/version", false), Ok("version"));
    check_entry(
        ("resources/pods/namespaces/shop/web-0.json", false),
        Ok("pods [] shop web-0"),
    );
    check_entry(
        (
            "resources/pods/v1-preferredversion/namespaces/shop/web-0.json",
            false,
        ),
        Ok("pods [v1-preferredversion] shop web-0"),
    );
    check_entry(
        (
            "resources/rockbands.music.example.io/v2beta1/cluster/x.json",
            false,
        ),
        Ok("rockbands.music.example.io [v2beta1] - x"),
    );
    check_entry(
        ("resources/persistentvolumes/cluster/pv-1.json", false),
        Ok("persistentvolumes [] - pv-1"),
    );
    check_entry(
        (
            "./resources/clusterroles.rbac.authorization.k8s.io/cluster/system:a..b.json",
            false,
        ),
        Ok("clusterroles.rbac.authorization.k8s.io [] - system:a..b"),
    );
    // Directory entries other tar writers add, at every level.
    for dir in [
        "./",
        ".",
        "metadata/",
        "resources/",
        "./resources/pods/",
        "resources/pods/namespaces/",
        "resources/pods/namespaces/shop/",
        "resources/pods/cluster",
        "resources/pods/v1-preferredversion/",
        "resources/pods/v1/namespaces/shop/",
    ] {
        check_entry((dir, true), Ok("dir"));
    }
}

#[test]
fn reader_refuses_unsafe_and_unexpected_paths() {
    check_entry(("../etc/passwd", false), Err("a '..' path component"));
    check_entry(
        ("resources/pods/../../../etc/passwd", false),
        Err("a '..' path component"),
    );
    check_entry(("/etc/passwd", false), Err("an absolute path"));
    check_entry(
        ("resources//pods/cluster/a.json", false),
        Err("empty path component"),
    );
    check_entry(
        ("resources/./pods/cluster/a.json", false),
        Err("a '.' path component"),
    );
    check_entry(("", false), Err("an empty path"));
    check_entry(("./", false), Err("an empty path"));
    check_entry(
        ("etc/passwd", false),
        Err("outside metadata/ and resources/"),
    );
    check_entry(
        ("velero-backup.json", false),
        Err("outside metadata/ and resources/"),
    );
    check_entry(("metadata/other", false), Err("only metadata/version"));
    check_entry(("metadata/version", true), Err("only metadata/version"));
    check_entry(
        ("resources/pods", false),
        Err("a file where a folder is expected"),
    );
    check_entry(("resources/pods/web.json", false), Err("wrong depth"));
    check_entry(
        ("resources/pods/cluster/a/b.json", false),
        Err("wrong depth"),
    );
    check_entry(
        ("resources/pods/v1/namespaces/shop/x/y.json", false),
        Err("wrong depth"),
    );
    check_entry(
        ("resources/pods/namespaces/shop", false),
        Err("a file where a folder"),
    );
    check_entry(
        ("resources/pods/cluster/web.yaml", false),
        Err("must end in .json"),
    );
    check_entry(
        ("resources/pods/cluster/.json", false),
        Err("empty path component"),
    );
    check_entry(
        ("resources/Pods/cluster/a.json", false),
        Err("not a group-resource"),
    );
    check_entry(
        ("resources/pods/V1/cluster/a.json", false),
        Err("not an API version name"),
    );
    check_entry(
        ("resources/pods/-preferredversion/cluster/a.json", false),
        Err("not an API version name"),
    );
    check_entry(
        ("resources/pods/v1/namespaces/shop/x/", true),
        Err("a folder deeper than"),
    );
    let not_utf8 = parse_entry_path(b"resources/pods/cluster/\xff.json", false).unwrap_err();
    assert!(not_utf8.to_string().contains("not UTF-8"), "{not_utf8}");
}

#[test]
fn version_dir_names_round_trip() {
    for name in ["", "v1", "v1-preferredversion", "v2beta1", "foo10"] {
        let dir = VersionDir::parse(name).unwrap();
        assert_eq!(dir.dir_name(), name);
        let json = serde_json::to_string(&dir).unwrap();
        assert_eq!(serde_json::from_str::<VersionDir>(&json).unwrap(), dir);
    }
    assert_eq!(VersionDir::parse("v1").unwrap().version(), Some("v1"));
    assert_eq!(VersionDir::Legacy.version(), None);
    assert_eq!(VersionDir::Legacy.to_string(), "(legacy folder)");
    assert!(VersionDir::parse("namespaces").is_err());
}
