//! The `godwit` binary run as a subprocess, no cluster: `--help` of every CLI command,
//! `backup inspect` on fixture tarballs, and one-line errors for bad input.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

fn godwit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_godwit"))
        .args(args)
        // Clap prints an env var's value in --help when it is set; keep the help stable.
        .env_remove("KUBECONFIG")
        .env_remove("GODWIT_NAMESPACE")
        .env_remove("RUST_LOG")
        .env("HOME", "/nonexistent-home")
        .env("COLUMNS", "100")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn help_of_every_command() {
    let commands: &[&[&str]] = &[
        &[],
        &["backup"],
        &["backup", "create"],
        &["backup", "get"],
        &["backup", "describe"],
        &["backup", "delete"],
        &["backup", "logs"],
        &["backup", "inspect"],
        &["restore"],
        &["restore", "create"],
        &["restore", "get"],
        &["restore", "describe"],
        &["restore", "delete"],
        &["restore", "logs"],
        &["restore", "plan"],
        &["migrate"],
        &["storage-version", "migrate"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let output = godwit(&args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        let text = stdout(&output);
        if !command.is_empty() && !matches!(*command, ["backup"] | ["restore"]) {
            assert!(text.contains("Examples:"), "{args:?} has no example");
        }
        let name = if command.is_empty() {
            "help_godwit".to_owned()
        } else {
            format!("help_{}", command.join("_"))
        };
        insta::assert_snapshot!(name, text);
    }
}

#[test]
fn inspect_lists_a_velero_tarball() {
    let path = godwit_fixtures::path("tarballs/velero-small.tar.gz");
    let output = godwit(&["backup", "inspect", path.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output).replace(path.to_str().unwrap(), "velero-small.tar.gz");
    insta::assert_snapshot!("inspect_velero_small", text);

    let output = godwit(&["backup", "inspect", path.to_str().unwrap(), "-o", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["formatVersion"], "1.1.0");
    assert!(json["groupResources"].as_array().unwrap().len() > 1);
}

#[test]
fn inspect_refuses_hostile_tarballs_in_one_line() {
    for fixture in [
        "tarballs/hostile-traversal.tar.gz",
        "tarballs/hostile-absolute-path.tar.gz",
        "tarballs/hostile-bad-json.tar.gz",
        "tarballs/hostile-symlink.tar.gz",
    ] {
        let path = godwit_fixtures::path(fixture);
        let output = godwit(&["backup", "inspect", path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(1), "{fixture}");
        let err = stderr(&output);
        assert_eq!(err.lines().count(), 1, "{fixture}: {err}");
        assert!(err.starts_with("error: "), "{fixture}: {err}");
        assert!(
            err.contains("is not a usable backup tarball"),
            "{fixture}: {err}"
        );
        assert!(stdout(&output).is_empty(), "{fixture}");
    }
}

/// Bad input: exit code, and one line on stderr that contains every fragment.
fn check_error(args: &[&str], code: i32, fragments: &[&str]) {
    let output = godwit(args);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(code), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    for fragment in fragments {
        assert!(err.contains(fragment), "{args:?}: {err}");
    }
}

#[test]
fn bad_input_is_one_line_naming_the_flag() {
    check_error(
        &[
            "restore",
            "create",
            "--from-backup",
            "b",
            "--namespace-mappings",
            "shop",
        ],
        2,
        &[
            "--namespace-mappings",
            "invalid namespace mapping \"shop\"",
            "old:new",
        ],
    );
    check_error(
        &["backup", "get", "-o", "xml"],
        2,
        &["--output", "xml", "table, json, yaml"],
    );
    check_error(
        &[
            "restore",
            "create",
            "--from-backup",
            "b",
            "--existing-resource-policy",
            "replace",
        ],
        2,
        &["--existing-resource-policy", "none, update"],
    );
    check_error(
        &["backup", "create", "b", "--selector", "app in ("],
        2,
        &["--selector"],
    );
    check_error(&["restore", "create"], 2, &["--from-backup"]);
    check_error(
        &["backup", "get", "--kubeconfig", "/nonexistent/kubeconfig"],
        1,
        &["/nonexistent/kubeconfig", "not found", "--kubeconfig"],
    );
    check_error(
        &[
            "migrate",
            "--from-kubeconfig",
            "/nonexistent/a",
            "--to-kubeconfig",
            "/nonexistent/b",
        ],
        1,
        &["/nonexistent/a", "--from-kubeconfig"],
    );
    check_error(
        &["backup", "create", "b", "--ttl", "forever", "-o", "yaml"],
        1,
        &["--ttl", "720h0m0s"],
    );
}

#[test]
fn create_with_output_prints_the_resource_without_a_cluster() {
    let output = godwit(&[
        "restore",
        "create",
        "shop-copy",
        "--from-backup",
        "nightly",
        "--include-namespaces",
        "shop",
        "--namespace-mappings",
        "shop:shop-copy",
        "--existing-resource-policy",
        "update",
        "--preserve-nodeports",
        "--or-selector",
        "app=web or app=db",
        "-o",
        "yaml",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    insta::assert_snapshot!("restore_create_yaml", stdout(&output));

    let output = godwit(&[
        "backup",
        "create",
        "nightly",
        "--include-namespaces",
        "shop,db",
        "--exclude-resources",
        "secrets",
        "--include-cluster-resources=false",
        "--selector",
        "app=web,tier notin (cache)",
        "--ttl",
        "168h0m0s",
        "-n",
        "godwit",
        "-o",
        "json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    insta::assert_snapshot!("backup_create_json", stdout(&output));
}
