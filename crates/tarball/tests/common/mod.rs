//! Helpers shared by the integration tests: a small sample backup, a hand-rolled tar block
//! builder for archives no well-behaved writer would produce, and the fixture files.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use godwit_tarball::{BackupWriter, Item, WriterOptions};
use godwit_versioning::GroupResource;
use serde_json::{Value, json};

/// The mtime of every sample entry: 2023-11-14T22:13:20Z.
pub const SAMPLE_MTIME: u64 = 1_700_000_000;

/// One object of a sample backup, present at one or more versions.
#[derive(Debug, Clone)]
pub struct SampleObject {
    pub group_resource: GroupResource,
    pub kind: &'static str,
    pub namespace: Option<&'static str>,
    pub name: String,
    /// Versions in write order; the first is the source-preferred one.
    pub versions: Vec<&'static str>,
}

impl SampleObject {
    pub fn preferred_version(&self) -> &'static str {
        self.versions[0]
    }

    /// The object as read at `version`: only `apiVersion` differs between versions.
    pub fn json(&self, version: &str) -> Value {
        let api_version = if self.group_resource.is_core() {
            version.to_owned()
        } else {
            format!("{}/{version}", self.group_resource.group)
        };
        let mut metadata = json!({ "name": self.name, "uid": "0b6f7d2e" });
        if let Some(namespace) = self.namespace {
            metadata["namespace"] = json!(namespace);
        }
        json!({
            "apiVersion": api_version,
            "kind": self.kind,
            "metadata": metadata,
            "spec": { "note": format!("{} <&> \"quoted\" é", self.name) },
        })
    }

    pub fn item<'a>(&'a self, version: &'a str) -> Item<'a> {
        Item {
            group_resource: &self.group_resource,
            namespace: self.namespace,
            name: &self.name,
            version,
            preferred_version: self.preferred_version(),
        }
    }
}

fn object(
    group_resource: &str,
    kind: &'static str,
    namespace: Option<&'static str>,
    name: &str,
    versions: &[&'static str],
) -> SampleObject {
    SampleObject {
        group_resource: GroupResource::parse(group_resource).unwrap(),
        kind,
        namespace,
        name: name.to_owned(),
        versions: versions.to_vec(),
    }
}

/// A small backup: core, apps and a CRD group in several versions, namespaced and
/// cluster-scoped, as Velero with `EnableAPIGroupVersions` would take it.
pub fn sample_objects() -> Vec<SampleObject> {
    vec![
        object("namespaces", "Namespace", None, "shop", &["v1"]),
        object("pods", "Pod", Some("shop"), "web-0", &["v1"]),
        object(
            "persistentvolumes",
            "PersistentVolume",
            None,
            "pv-data",
            &["v1"],
        ),
        object(
            "deployments.apps",
            "Deployment",
            Some("shop"),
            "web",
            &["v1"],
        ),
        object(
            "customresourcedefinitions.apiextensions.k8s.io",
            "CustomResourceDefinition",
            None,
            "rockbands.music.example.io",
            &["v1"],
        ),
        object(
            "rockbands.music.example.io",
            "RockBand",
            Some("shop"),
            "beatles",
            &["v1", "v2beta2", "v2beta1"],
        ),
        object(
            "rockbands.music.example.io",
            "RockBand",
            Some("stage"),
            "queen",
            &["v1", "v2beta2", "v2beta1"],
        ),
        object(
            "stages.music.example.io",
            "Stage",
            None,
            "main-stage",
            &["v1", "v1alpha1"],
        ),
    ]
}

/// Writes objects with the godwit writer, every version of each in order.
pub fn write_backup(objects: &[SampleObject]) -> Vec<u8> {
    let options = WriterOptions {
        mtime: SAMPLE_MTIME,
        ..WriterOptions::default()
    };
    let mut writer = BackupWriter::with_options(Vec::new(), options).unwrap();
    for object in objects {
        for version in &object.versions {
            writer
                .append(&object.item(version), &object.json(version))
                .unwrap();
        }
    }
    writer.finish().unwrap().0
}

pub fn gzip(tar: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(tar).unwrap();
    encoder.finish().unwrap()
}

pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    MultiGzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

/// Entry paths in archive order, read by the tar crate (independent of godwit's reader).
pub fn tar_paths(gzipped: &[u8]) -> Vec<String> {
    let tar = gunzip(gzipped);
    let mut archive = tar::Archive::new(tar.as_slice());
    archive
        .entries()
        .unwrap()
        .map(|entry| entry.unwrap().path().unwrap().display().to_string())
        .collect()
}

/// A tar archive assembled block by block, with header fields written as raw bytes, so tests can
/// produce what `tar::Builder` refuses to (`..`, absolute paths, lies).
#[derive(Default)]
pub struct RawTar {
    bytes: Vec<u8>,
}

impl RawTar {
    pub fn new() -> Self {
        RawTar::default()
    }

    /// Appends one entry: a USTAR header with `name` (up to 100 bytes) and `type_flag`.
    pub fn entry(mut self, name: &[u8], type_flag: u8, data: &[u8]) -> Self {
        self.bytes
            .extend_from_slice(&raw_header(name, type_flag, data.len() as u64, b""));
        self.bytes.extend_from_slice(data);
        let padding = (512 - data.len() % 512) % 512;
        self.bytes.extend(std::iter::repeat_n(0u8, padding));
        self
    }

    pub fn file(self, name: &str, data: &[u8]) -> Self {
        self.entry(name.as_bytes(), b'0', data)
    }

    pub fn dir(self, name: &str) -> Self {
        self.entry(name.as_bytes(), b'5', b"")
    }

    /// Appends a link entry (`type_flag` b'1' or b'2') pointing at `target`.
    pub fn link(mut self, name: &str, type_flag: u8, target: &str) -> Self {
        self.bytes.extend_from_slice(&raw_header(
            name.as_bytes(),
            type_flag,
            0,
            target.as_bytes(),
        ));
        self
    }

    pub fn version(self) -> Self {
        self.file("metadata/version", b"1.1.0\n")
    }

    /// The archive with its two zero blocks, gzip-compressed.
    pub fn gz(mut self) -> Vec<u8> {
        self.bytes.extend(std::iter::repeat_n(0u8, 1024));
        gzip(&self.bytes)
    }
}

/// One 512-byte USTAR header, every field written by hand.
pub fn raw_header(name: &[u8], type_flag: u8, size: u64, link: &[u8]) -> [u8; 512] {
    let mut block = [0u8; 512];
    block[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
    block[100..108].copy_from_slice(b"0000755\0");
    block[108..116].copy_from_slice(b"0000000\0");
    block[116..124].copy_from_slice(b"0000000\0");
    block[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    block[136..148].copy_from_slice(format!("{SAMPLE_MTIME:011o}\0").as_bytes());
    block[156] = type_flag;
    block[157..157 + link.len().min(100)].copy_from_slice(&link[..link.len().min(100)]);
    block[257..263].copy_from_slice(b"ustar\0");
    block[263..265].copy_from_slice(b"00");
    block[148..156].copy_from_slice(b"        ");
    let sum: u32 = block.iter().map(|b| u32::from(*b)).sum();
    block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    block
}

/// Every checked-in tarball fixture, rebuilt from code: `(file name, gzipped bytes)`.
pub fn all_fixtures() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("velero-small.tar.gz", write_backup(&sample_objects())),
        (
            "hostile-traversal.tar.gz",
            RawTar::new()
                .version()
                .file(
                    "resources/pods/namespaces/shop/../../../../../outside.json",
                    b"{}",
                )
                .gz(),
        ),
        (
            "hostile-absolute-path.tar.gz",
            RawTar::new().version().file("/etc/cron.d/evil", b"{}").gz(),
        ),
        (
            "hostile-symlink.tar.gz",
            RawTar::new()
                .version()
                .link("resources/pods/cluster/link.json", b'2', "/etc/passwd")
                .gz(),
        ),
        ("hostile-gzip-bomb.tar.gz", gzip_bomb()),
        (
            "hostile-bad-json.tar.gz",
            RawTar::new()
                .version()
                .file(
                    "resources/pods/namespaces/shop/web-0.json",
                    b"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",",
                )
                .gz(),
        ),
        (
            "hostile-unknown-version.tar.gz",
            RawTar::new()
                .file("metadata/version", b"2.0.0\n")
                .file("resources/pods/cluster/a.json", b"{}")
                .gz(),
        ),
        (
            "hostile-outside-resources.tar.gz",
            RawTar::new()
                .version()
                .file("secrets/stolen.json", b"{}")
                .gz(),
        ),
    ]
}

/// Size of the bomb's one entry: 24 MiB of JSON, over the default 16 MiB entry limit.
pub const BOMB_ENTRY_BYTES: usize = 24 * 1024 * 1024;

/// One valid JSON entry of 24 MiB that compresses to about 24 KB.
fn gzip_bomb() -> Vec<u8> {
    let mut json = b"{\"data\":\"".to_vec();
    json.resize(BOMB_ENTRY_BYTES - 2, b'a');
    json.extend_from_slice(b"\"}");
    RawTar::new()
        .version()
        .file("resources/configmaps/namespaces/shop/big.json", &json)
        .gz()
}
