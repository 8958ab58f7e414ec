//! `cargo xtask demo`: godwit's core job on embedded data, with no cluster needed.
//!
//! It backs up a small application from a simulated Kubernetes 1.25 cluster into a real Velero
//! tarball (every object in every version the source serves, as with `EnableAPIGroupVersions`),
//! reads the tarball back, and plans its restore into a Kubernetes 1.33 cluster: for every
//! group-resource, in restore order, the version godwit restores and the rule that chose it.
//! The clusters are the discovery dumps in `fixtures/discovery/`, compiled into xtask; the four
//! custom resource groups are SPEC.md section 4's cases A-D.

use anyhow::{Context, anyhow};
use godwit_discovery::Discovery;
use godwit_ordering::{PlainResolver, Priorities, restore_order};
use godwit_tarball::{BackupWriter, Item, Limits};
use godwit_versioning::{GroupResource, Outcome, Versions, choose_version};
use serde_json::json;

macro_rules! fixture {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../fixtures/discovery/", $name)),
        )
    };
}

const SOURCE: &[(&str, &str)] = &[
    fixture!("kubernetes-1.25.json"),
    fixture!("case-a-source.json"),
    fixture!("case-b-source.json"),
    fixture!("case-c-source.json"),
    fixture!("case-d-source.json"),
];

const TARGET: &[(&str, &str)] = &[
    fixture!("kubernetes-1.33.json"),
    fixture!("case-a-target.json"),
    fixture!("case-b-target.json"),
    fixture!("case-c-target.json"),
    fixture!("case-d-target.json"),
];

/// The application in the backup: (group-resource, namespace, name).
const APPLICATION: &[(&str, Option<&str>, &str)] = &[
    ("namespaces", None, "shop"),
    ("configmaps", Some("shop"), "settings"),
    ("deployments.apps", Some("shop"), "web"),
    ("horizontalpodautoscalers.autoscaling", Some("shop"), "web"),
    ("services", Some("shop"), "web"),
    ("rockbands.case-a.example.io", Some("shop"), "queen"),
    ("rockbands.case-b.example.io", Some("shop"), "abba"),
    ("rockbands.case-c.example.io", Some("shop"), "blur"),
    ("rockbands.case-d.example.io", Some("shop"), "muse"),
];

pub fn run(args: &[String]) -> anyhow::Result<()> {
    if let Some(arg) = args.first() {
        anyhow::bail!("demo takes no arguments, got {arg:?}");
    }
    let source = load(SOURCE)?;
    let target = load(TARGET)?;

    let tarball = back_up(&source)?;
    let index = godwit_tarball::list(tarball.as_slice(), &Limits::default())
        .context("read back the demo tarball")?;
    println!(
        "backup: {} objects in {} tarball entries ({} bytes gzip), from a Kubernetes 1.25 cluster",
        APPLICATION.len(),
        index.entries,
        tarball.len()
    );
    println!("restore into a Kubernetes 1.33 cluster, EnableAPIGroupVersions on\n");

    let group_resources: Vec<GroupResource> = index.group_resources.keys().cloned().collect();
    let order = restore_order(
        &group_resources,
        &Priorities::restore_default(),
        &PlainResolver::new(&group_resources),
    );
    let mut rows = vec![[
        "#".to_owned(),
        "group-resource".to_owned(),
        "backup holds".to_owned(),
        "target serves".to_owned(),
        "restore".to_owned(),
        "rule".to_owned(),
    ]];
    for (position, group_resource) in order.group_resources().enumerate() {
        let held = index
            .group_resource(group_resource)
            .ok_or_else(|| anyhow!("{group_resource} missing from the index"))?;
        let backup = Versions::new(
            held.versions(),
            held.preferred_version().unwrap_or_default(),
        );
        let target_versions = served(&target, group_resource);
        let (version, rule) =
            match choose_version(group_resource, &backup, target_versions.as_ref(), &[]) {
                Outcome::Chosen(choice) => (
                    format!("{} ({})", choice.version, choice.dir),
                    choice.rule.to_string(),
                ),
                other => ("-".to_owned(), other.to_string()),
            };
        rows.push([
            (position + 1).to_string(),
            group_resource.to_string(),
            listing(&backup),
            target_versions
                .as_ref()
                .map_or_else(|| "(not served)".to_owned(), listing),
            version,
            rule,
        ]);
    }
    print_table(&rows);
    println!("\n* marks each side's preferred version; the rules are SPEC.md section 4's.");
    Ok(())
}

fn load(files: &[(&str, &str)]) -> anyhow::Result<Discovery> {
    let mut merged: Option<Discovery> = None;
    for (name, text) in files {
        let discovery =
            Discovery::from_json(text.as_bytes()).with_context(|| format!("load {name}"))?;
        merged = Some(match merged {
            None => discovery,
            Some(so_far) => so_far
                .merge(discovery)
                .with_context(|| format!("merge {name}"))?,
        });
    }
    merged.ok_or_else(|| anyhow!("no discovery fixtures"))
}

fn served(discovery: &Discovery, group_resource: &GroupResource) -> Option<Versions> {
    let versions: Vec<String> = discovery
        .versions_serving(group_resource)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let preferred = discovery.preferred_version_for(group_resource)?.to_owned();
    Some(Versions::new(versions, preferred))
}

/// Writes every object of the application once per version the source serves.
fn back_up(source: &Discovery) -> anyhow::Result<Vec<u8>> {
    let mut writer = BackupWriter::new(Vec::new())?;
    for (text, namespace, name) in APPLICATION {
        let group_resource = GroupResource::parse(text)?;
        let preferred = source
            .preferred_version_for(&group_resource)
            .ok_or_else(|| anyhow!("the source does not serve {group_resource}"))?
            .to_owned();
        for version in source.versions_serving(&group_resource) {
            let kind = source
                .resource(&group_resource, version)
                .map(|resource| resource.kind.clone())
                .ok_or_else(|| anyhow!("no kind for {group_resource} {version}"))?;
            let api_version = if group_resource.is_core() {
                version.to_owned()
            } else {
                format!("{}/{version}", group_resource.group)
            };
            let mut metadata = json!({ "name": name });
            if let Some(namespace) = namespace {
                metadata["namespace"] = json!(namespace);
            }
            let object = json!({ "apiVersion": api_version, "kind": kind, "metadata": metadata });
            let item = Item {
                group_resource: &group_resource,
                namespace: *namespace,
                name,
                version,
                preferred_version: &preferred,
            };
            writer.append(&item, &object)?;
        }
    }
    Ok(writer.finish()?.0)
}

/// `v1*, v2beta1`: highest priority first, the preferred version starred.
fn listing(versions: &Versions) -> String {
    versions
        .by_priority()
        .iter()
        .map(|version| {
            if *version == versions.preferred_version {
                format!("{version}*")
            } else {
                version.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_table<const N: usize>(rows: &[[String; N]]) {
    let mut widths = [0; N];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", cells.join("  ").trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_clusters_load_and_the_backup_reads_back() {
        let source = load(SOURCE).unwrap();
        let tarball = back_up(&source).unwrap();
        let index = godwit_tarball::list(tarball.as_slice(), &Limits::default()).unwrap();
        let hpa = GroupResource::parse("horizontalpodautoscalers.autoscaling").unwrap();
        let held = index.group_resource(&hpa).unwrap();
        // 1.25 serves autoscaling v1 (preferred), v2 and v2beta2: all three are in the backup.
        assert_eq!(held.preferred_version(), Some("v1"));
        assert_eq!(held.versions().len(), 3);
    }

    #[test]
    fn case_d_restores_the_common_non_preferred_version() {
        let target = load(TARGET).unwrap();
        let gr = GroupResource::parse("rockbands.case-d.example.io").unwrap();
        let backup = Versions::new(["v1", "v2beta2", "v2beta1"], "v1");
        let outcome = choose_version(&gr, &backup, served(&target, &gr).as_ref(), &[]);
        assert_eq!(
            outcome.choice().map(|choice| choice.version.as_str()),
            Some("v2beta2")
        );
    }
}
