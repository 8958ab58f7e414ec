//! Tarballs in the exact shape Velero writes them, with and without `EnableAPIGroupVersions`,
//! in the older format `1`, and as other tar writers repack them, built here with the tar crate
//! alone (not godwit's writer), all read correctly.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::{gzip, sample_objects, write_backup};
use godwit_tarball::{BackupIndex, Limits, VersionDir, extract, list};
use godwit_versioning::GroupResource;
use serde_json::{Value, json};

/// Builds a tarball the way Velero's Go writer lays it out: USTAR headers, mode 0755, the path
/// split into prefix and name, a PAX `path` record when that does not fit.
struct VeleroTar {
    builder: tar::Builder<Vec<u8>>,
}

impl VeleroTar {
    fn new(format_version: Option<&str>) -> Self {
        let mut tar = VeleroTar {
            builder: tar::Builder::new(Vec::new()),
        };
        if let Some(version) = format_version {
            tar.file("metadata/version", format!("{version}\n").as_bytes());
        }
        tar
    }

    fn file(&mut self, path: &str, data: &[u8]) {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o755);
        header.set_size(data.len() as u64);
        header.set_mtime(1_714_000_000);
        if header.set_path(path).is_err() {
            self.builder
                .append_pax_extensions([("path", path.as_bytes())])
                .unwrap();
            header.set_path(&path[..100]).unwrap();
        }
        header.set_cksum();
        self.builder.append(&header, data).unwrap();
    }

    /// One object as Velero's item backupper writes it: at the preferred version, the legacy
    /// path and then `<v>-preferredversion`; at another version, only `<v>`.
    fn object(
        &mut self,
        gr: &str,
        namespace: Option<&str>,
        name: &str,
        version: &str,
        preferred: &str,
    ) {
        let scope = match namespace {
            Some(namespace) => format!("namespaces/{namespace}/{name}.json"),
            None => format!("cluster/{name}.json"),
        };
        let body = serde_json::to_vec(&object_json(gr, namespace, name, version)).unwrap();
        if version == preferred {
            self.file(&format!("resources/{gr}/{scope}"), &body);
            self.file(
                &format!("resources/{gr}/{version}-preferredversion/{scope}"),
                &body,
            );
        } else {
            self.file(&format!("resources/{gr}/{version}/{scope}"), &body);
        }
    }

    fn gz(self) -> Vec<u8> {
        gzip(&self.builder.into_inner().unwrap())
    }
}

fn object_json(gr: &str, namespace: Option<&str>, name: &str, version: &str) -> Value {
    let group = gr.split_once('.').map(|(_, group)| group);
    let api_version = match group {
        Some(group) => format!("{group}/{version}"),
        None => version.to_owned(),
    };
    json!({"apiVersion": api_version, "kind": "Thing", "metadata": {"name": name, "namespace": namespace}})
}

fn gr(text: &str) -> GroupResource {
    GroupResource::parse(text).unwrap()
}

fn dir(name: &str) -> VersionDir {
    VersionDir::parse(name).unwrap()
}

/// `gr: [dir]=namespaced+cluster ... preferred=<dir>` per group-resource, one per line, in the
/// index's order (by group, core first, then resource).
fn describe(index: &BackupIndex) -> String {
    let mut lines = vec![format!("format={:?}", index.format_version)];
    for (group_resource, resource) in &index.group_resources {
        let dirs: Vec<String> = resource
            .dirs
            .iter()
            .map(|(dir, counts)| {
                format!(
                    "[{}]={}+{}",
                    dir.dir_name(),
                    counts.namespaced,
                    counts.cluster
                )
            })
            .collect();
        let preferred = resource.preferred_dir().map(VersionDir::dir_name);
        lines.push(format!(
            "{group_resource}: {} preferred={preferred:?}",
            dirs.join(" ")
        ));
    }
    lines.join("\n")
}

/// Lists and extracts `bytes`; both must agree; returns the index description and, for each
/// `(gr, dir)` asked, the objects read back as `ns/name apiVersion`.
fn check(bytes: &[u8], expected_index: &str, reads: &[(&str, &str, &[&str])]) {
    let listed = list(bytes, &Limits::default()).unwrap();
    assert_eq!(describe(&listed), expected_index);
    let dest = tempfile::tempdir().unwrap();
    let extracted = extract(bytes, &dest.path().join("x"), &Limits::default()).unwrap();
    assert_eq!(extracted.index(), &listed);
    for (group_resource, dir_name, expected) in reads {
        let objects: Vec<String> = extracted
            .objects(&gr(group_resource), &dir(dir_name))
            .unwrap()
            .map(|object| {
                let object = object.unwrap();
                assert_eq!(
                    object.object,
                    serde_json::from_slice::<Value>(&object.raw).unwrap()
                );
                format!(
                    "{}/{} {}",
                    object.namespace.as_deref().unwrap_or("-"),
                    object.name,
                    object.object["apiVersion"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(&objects, expected, "{group_resource} [{dir_name}]");
    }
}

#[test]
fn reads_velero_without_the_flag() {
    let mut tar = VeleroTar::new(Some("1.1.0"));
    tar.object("pods", Some("shop"), "web-0", "v1", "v1");
    tar.object("pods", Some("admin"), "tool", "v1", "v1");
    tar.object("deployments.apps", Some("shop"), "web", "v1", "v1");
    tar.object("persistentvolumes", None, "pv-1", "v1", "v1");
    tar.object(
        "rockbands.music.example.io",
        Some("shop"),
        "beatles",
        "v1",
        "v1",
    );
    check(
        &tar.gz(),
        "format=Some(\"1.1.0\")\n\
         persistentvolumes: []=0+1 [v1-preferredversion]=0+1 preferred=Some(\"v1-preferredversion\")\n\
         pods: []=2+0 [v1-preferredversion]=2+0 preferred=Some(\"v1-preferredversion\")\n\
         deployments.apps: []=1+0 [v1-preferredversion]=1+0 preferred=Some(\"v1-preferredversion\")\n\
         rockbands.music.example.io: []=1+0 [v1-preferredversion]=1+0 preferred=Some(\"v1-preferredversion\")",
        &[
            ("pods", "", &["admin/tool v1", "shop/web-0 v1"]),
            (
                "pods",
                "v1-preferredversion",
                &["admin/tool v1", "shop/web-0 v1"],
            ),
            ("persistentvolumes", "v1-preferredversion", &["-/pv-1 v1"]),
        ],
    );
}

#[test]
fn reads_velero_with_the_flag() {
    let mut tar = VeleroTar::new(Some("1.1.0"));
    let long_name = format!("band-{}", "y".repeat(180));
    for version in ["v1", "v2beta2", "v2beta1"] {
        tar.object(
            "rockbands.music.example.io",
            Some("shop"),
            "beatles",
            version,
            "v1",
        );
        tar.object(
            "rockbands.music.example.io",
            Some("shop"),
            &long_name,
            version,
            "v1",
        );
    }
    for version in ["v2", "v1", "v2beta2"] {
        tar.object(
            "horizontalpodautoscalers.autoscaling",
            Some("shop"),
            "web",
            version,
            "v2",
        );
    }
    tar.object("stages.music.example.io", None, "main", "v1alpha1", "v1");
    tar.object("stages.music.example.io", None, "main", "v1", "v1");
    let long_v2beta1 = format!("shop/{long_name} music.example.io/v2beta1");
    let long_v1 = format!("shop/{long_name} music.example.io/v1");
    check(
        &tar.gz(),
        "format=Some(\"1.1.0\")\n\
         horizontalpodautoscalers.autoscaling: []=1+0 [v1]=1+0 [v2-preferredversion]=1+0 [v2beta2]=1+0 preferred=Some(\"v2-preferredversion\")\n\
         rockbands.music.example.io: []=2+0 [v1-preferredversion]=2+0 [v2beta1]=2+0 [v2beta2]=2+0 preferred=Some(\"v1-preferredversion\")\n\
         stages.music.example.io: []=0+1 [v1-preferredversion]=0+1 [v1alpha1]=0+1 preferred=Some(\"v1-preferredversion\")",
        &[
            (
                "rockbands.music.example.io",
                "v2beta1",
                &[
                    long_v2beta1.as_str(),
                    "shop/beatles music.example.io/v2beta1",
                ],
            ),
            (
                "rockbands.music.example.io",
                "",
                &[long_v1.as_str(), "shop/beatles music.example.io/v1"],
            ),
            (
                "horizontalpodautoscalers.autoscaling",
                "v2beta2",
                &["shop/web autoscaling/v2beta2"],
            ),
            (
                "stages.music.example.io",
                "v1alpha1",
                &["-/main music.example.io/v1alpha1"],
            ),
        ],
    );
    let index = list(
        {
            let mut tar = VeleroTar::new(Some("1.1.0"));
            for version in ["v2", "v1", "v2beta2"] {
                tar.object(
                    "horizontalpodautoscalers.autoscaling",
                    Some("shop"),
                    "web",
                    version,
                    "v2",
                );
            }
            tar.gz()
        }
        .as_slice(),
        &Limits::default(),
    )
    .unwrap();
    let hpa = index
        .group_resource(&gr("horizontalpodautoscalers.autoscaling"))
        .unwrap();
    assert_eq!(hpa.versions(), vec!["v1", "v2", "v2beta2"]);
    assert_eq!(hpa.preferred_version(), Some("v2"));
}

#[test]
fn reads_format_1_and_a_missing_version_file() {
    // Velero before format 1.1.0: legacy folders only, `metadata/version` holding `1`.
    let mut tar = VeleroTar::new(Some("1"));
    tar.file(
        "resources/pods/namespaces/shop/web-0.json",
        &serde_json::to_vec(&object_json("pods", Some("shop"), "web-0", "v1")).unwrap(),
    );
    tar.file(
        "resources/namespaces/cluster/shop.json",
        &serde_json::to_vec(&object_json("namespaces", None, "shop", "v1")).unwrap(),
    );
    check(
        &tar.gz(),
        "format=Some(\"1\")\n\
         namespaces: []=0+1 preferred=Some(\"\")\n\
         pods: []=1+0 preferred=Some(\"\")",
        &[("pods", "", &["shop/web-0 v1"])],
    );
    // Velero's restore never reads metadata/version, so neither does its absence stop godwit.
    let mut tar = VeleroTar::new(None);
    tar.object("pods", Some("shop"), "web-0", "v1", "v1");
    check(
        &tar.gz(),
        "format=None\n\
         pods: []=1+0 [v1-preferredversion]=1+0 preferred=Some(\"v1-preferredversion\")",
        &[],
    );
}

#[test]
fn reads_archives_repacked_with_directory_entries_and_gnu_headers() {
    // What `tar czf` of an extracted backup looks like: `./` prefixes, a directory entry before
    // each folder's files, GNU headers and GNU long names.
    let mut builder = tar::Builder::new(Vec::new());
    let dir = |builder: &mut tar::Builder<Vec<u8>>, path: &str| {
        gnu_entry(builder, tar::EntryType::Directory, path, b"");
    };
    let file = |builder: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]| {
        gnu_entry(builder, tar::EntryType::Regular, path, data);
    };
    let long_name = "n".repeat(150);
    dir(&mut builder, "./");
    dir(&mut builder, "./metadata/");
    file(&mut builder, "./metadata/version", b"1.1.0\n");
    for path in [
        "./resources/",
        "./resources/pods/",
        "./resources/pods/namespaces/",
        "./resources/pods/namespaces/shop/",
    ] {
        dir(&mut builder, path);
    }
    file(
        &mut builder,
        "./resources/pods/namespaces/shop/web-0.json",
        b"{\"apiVersion\":\"v1\"}",
    );
    file(
        &mut builder,
        &format!("./resources/pods/namespaces/shop/{long_name}.json"),
        b"{\"apiVersion\":\"v1\"}",
    );
    dir(&mut builder, "./resources/pods/v1-preferredversion/");
    file(
        &mut builder,
        "./resources/pods/v1-preferredversion/namespaces/shop/web-0.json",
        b"{\"apiVersion\":\"v1\"}",
    );
    let bytes = gzip(&builder.into_inner().unwrap());
    let long = format!("shop/{long_name} v1");
    check(
        &bytes,
        "format=Some(\"1.1.0\")\n\
         pods: []=2+0 [v1-preferredversion]=1+0 preferred=Some(\"v1-preferredversion\")",
        &[("pods", "", &[long.as_str(), "shop/web-0 v1"])],
    );
}

/// A GNU header entry; a short path goes in byte for byte (keeping its `./`), a long one through
/// the tar crate's GNU long-name record.
fn gnu_entry(builder: &mut tar::Builder<Vec<u8>>, kind: tar::EntryType, path: &str, data: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(if kind.is_dir() { 0o755 } else { 0o644 });
    header.set_size(data.len() as u64);
    if path.len() <= 100 {
        header.as_mut_bytes()[..path.len()].copy_from_slice(path.as_bytes());
        header.set_cksum();
        builder.append(&header, data).unwrap();
    } else {
        builder.append_data(&mut header, path, data).unwrap();
    }
}

#[test]
fn reads_a_godwit_backup_repacked_by_system_tar() {
    if Command::new("tar").arg("--version").output().is_err() {
        eprintln!("no tar on PATH: skipping");
        return;
    }
    let original = write_backup(&sample_objects());
    let work = tempfile::tempdir().unwrap();
    let extracted = extract(
        original.as_slice(),
        &work.path().join("x"),
        &Limits::default(),
    )
    .unwrap();
    let repacked = work.path().join("repacked.tar.gz");
    let status = Command::new("tar")
        .arg("czf")
        .arg(&repacked)
        .arg("-C")
        .arg(extracted.root())
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::read(&repacked).unwrap();
    let index = list(bytes.as_slice(), &Limits::default()).unwrap();
    assert_eq!(&index.group_resources, &extracted.index().group_resources);
    assert_eq!(index.format_version.as_deref(), Some("1.1.0"));
}
