//! What a backup reports: counts, per-object warnings and errors in Velero's results shape, the
//! resource list (`<name>-resource-list.json.gz`), the log lines, and progress updates.

use std::collections::BTreeMap;
use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;

use godwit_tarball::WriteCounts;
use godwit_versioning::GroupResource;

use crate::Error;

/// Messages grouped the way Velero groups backup and restore results: about godwit itself, about
/// cluster-scoped objects, and per namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Results {
    /// Problems not tied to one object (discovery, a list that failed).
    pub velero: Vec<String>,
    /// Problems with cluster-scoped objects.
    pub cluster: Vec<String>,
    /// Problems with namespaced objects, by namespace.
    pub namespaces: BTreeMap<String, Vec<String>>,
}

impl Results {
    /// Adds a message about an object in `namespace` (`None`: cluster-scoped).
    pub fn add(&mut self, namespace: Option<&str>, message: String) {
        match namespace {
            Some(namespace) => self
                .namespaces
                .entry(namespace.to_owned())
                .or_default()
                .push(message),
            None => self.cluster.push(message),
        }
    }

    /// Adds a message not tied to one object.
    pub fn add_velero(&mut self, message: String) {
        self.velero.push(message);
    }

    /// How many messages there are.
    pub fn len(&self) -> usize {
        self.velero.len()
            + self.cluster.len()
            + self.namespaces.values().map(Vec::len).sum::<usize>()
    }

    /// Whether there is no message.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every message, `velero` first, then cluster, then by namespace.
    pub fn messages(&self) -> impl Iterator<Item = &str> {
        self.velero
            .iter()
            .chain(&self.cluster)
            .chain(self.namespaces.values().flatten())
            .map(String::as_str)
    }
}

/// The backup's `<name>-resource-list.json.gz` content: for each `<group>/<version>/<Kind>`
/// (`v1/<Kind>` for the core group) read, the sorted `namespace/name` (or `name` for
/// cluster-scoped objects) of every object backed up at that version (Velero's
/// `ResourceMap`). JSON object keys come out sorted, as Go writes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ResourceList(pub BTreeMap<String, Vec<String>>);

impl ResourceList {
    /// The key of one group-version-kind.
    pub fn key(group: &str, version: &str, kind: &str) -> String {
        if group.is_empty() {
            format!("{version}/{kind}")
        } else {
            format!("{group}/{version}/{kind}")
        }
    }

    /// Adds one object; entries are sorted when written.
    pub fn add(&mut self, key: String, namespace: Option<&str>, name: &str) {
        let entry = match namespace {
            Some(namespace) => format!("{namespace}/{name}"),
            None => name.to_owned(),
        };
        self.0.entry(key).or_default().push(entry);
    }

    /// Sorts every entry list (Velero sorts them too).
    pub fn sort(&mut self) {
        for entries in self.0.values_mut() {
            entries.sort();
        }
    }

    /// Writes the gzip-compressed JSON, as `<name>-resource-list.json.gz` holds it.
    pub fn write_json_gz<W: Write>(&self, writer: W) -> Result<W, Error> {
        let mut gzip = GzEncoder::new(writer, Compression::default());
        serde_json::to_writer(&mut gzip, self)
            .map_err(|err| Error::ResourceList(std::io::Error::other(err)))?;
        gzip.finish().map_err(Error::ResourceList)
    }
}

/// What one group-resource contributed to the backup.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupResourceSummary {
    /// The source's preferred version (the `-preferredversion` folder).
    pub preferred_version: String,
    /// The versions read, preferred first.
    pub versions: Vec<String>,
    /// Objects backed up (each counted once, whatever the number of versions).
    pub items: u64,
    /// Object versions written (items times versions, when every version listed them all).
    pub item_versions: u64,
}

/// How a backup ended, in Velero's phase names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Phase {
    /// Every selected object was backed up (warnings allowed).
    Completed,
    /// The tarball was written but some objects or lists failed.
    PartiallyFailed,
}

/// Everything a finished backup reports besides the tarball itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupOutcome {
    /// `Completed`, or `PartiallyFailed` when there are errors.
    pub phase: Phase,
    /// Objects backed up, each once (Velero's `itemsBackedUp` counts each version separately; see
    /// `item_versions`).
    pub items_backed_up: u64,
    /// Object versions written to the tarball.
    pub item_versions: u64,
    /// Per group-resource: versions read and counts.
    pub group_resources: BTreeMap<GroupResource, GroupResourceSummary>,
    /// Warnings: discovery problems, filter names that match nothing, skipped objects.
    pub warnings: Results,
    /// Errors: lists or objects that could not be backed up.
    pub errors: Results,
    /// The resource list.
    pub resource_list: ResourceList,
    /// The backup log, one line per entry, for `<name>-logs.gz`.
    pub log: Vec<String>,
    /// What the tarball holds.
    pub tarball: WriteCounts,
}

/// A progress update, for a progress bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Objects received from list requests so far (before filtering and de-duplication).
    pub items_listed: u64,
    /// Object versions written to the tarball so far.
    pub items_written: u64,
    /// List jobs (one per resource, version, namespace and selector) finished.
    pub lists_done: u64,
    /// List jobs planned; grows by the final namespace and CRD steps.
    pub lists_total: u64,
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn resource_list_is_sorted_gzipped_json_in_veleros_shape() {
        let mut list = ResourceList::default();
        list.add(
            ResourceList::key("apps", "v1", "Deployment"),
            Some("shop"),
            "web",
        );
        list.add(
            ResourceList::key("", "v1", "PersistentVolume"),
            None,
            "pv-1",
        );
        list.add(
            ResourceList::key("apps", "v1", "Deployment"),
            Some("db"),
            "mysql",
        );
        list.sort();
        let gzip = list.write_json_gz(Vec::new()).unwrap();
        let mut json = String::new();
        flate2::read::GzDecoder::new(&gzip[..])
            .read_to_string(&mut json)
            .unwrap();
        assert_eq!(
            json,
            r#"{"apps/v1/Deployment":["db/mysql","shop/web"],"v1/PersistentVolume":["pv-1"]}"#
        );
    }

    #[test]
    fn results_group_messages_like_velero() {
        let mut results = Results::default();
        assert!(results.is_empty());
        results.add(Some("shop"), "a".to_owned());
        results.add(None, "b".to_owned());
        results.add_velero("c".to_owned());
        assert_eq!(results.len(), 3);
        assert_eq!(
            serde_json::to_value(&results).unwrap(),
            serde_json::json!({"velero": ["c"], "cluster": ["b"], "namespaces": {"shop": ["a"]}})
        );
        assert_eq!(results.messages().collect::<Vec<_>>(), ["c", "b", "a"]);
    }
}
