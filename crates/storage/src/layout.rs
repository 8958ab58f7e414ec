//! Velero's object layout: which key each backup and restore file has under a location's prefix.
//!
//! Names passed in here have been validated by the caller (see `name.rs`).

use object_store::path::Path;

/// The top-level directories Velero (and godwit) may create under a location's prefix.
/// Anything else there means the prefix is shared with something else.
pub(crate) const TOP_LEVEL_DIRS: [&str; 6] = [
    "backups", "restores", "restic",   // Velero's file-system backup repositories (restic)
    "kopia",    // and their kopia successor
    "metadata", // Velero's revision file for backup sync
    "plugins",  // plugin data (e.g. vSphere)
];

/// The file every complete backup has: the Backup custom resource as JSON.
pub(crate) const METADATA_FILE: &str = "velero-backup.json";

/// Per-backup files other than the metadata and the tarball, as Velero names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BackupFile {
    /// `<name>-logs.gz`: the gzipped backup log.
    Log,
    /// `<name>-resource-list.json.gz`: gzipped JSON map from group-version-kind to item names.
    ResourceList,
    /// `<name>-results.gz`: gzipped JSON `{"warnings": ..., "errors": ...}`.
    Results,
    /// `<name>-itemoperations.json.gz`: asynchronous item operations.
    ItemOperations,
    /// `<name>-volumesnapshots.json.gz`: native volume snapshots.
    VolumeSnapshots,
    /// `<name>-podvolumebackups.json.gz`: file-system volume backups.
    PodVolumeBackups,
    /// `<name>-csi-volumesnapshots.json.gz`.
    CsiVolumeSnapshots,
    /// `<name>-csi-volumesnapshotcontents.json.gz`.
    CsiVolumeSnapshotContents,
    /// `<name>-csi-volumesnapshotclasses.json.gz`.
    CsiVolumeSnapshotClasses,
    /// `<name>-volumeinfo.json.gz`.
    VolumeInfo,
}

impl BackupFile {
    /// Every kind, in upload order.
    pub const ALL: [BackupFile; 10] = [
        BackupFile::Log,
        BackupFile::ResourceList,
        BackupFile::Results,
        BackupFile::ItemOperations,
        BackupFile::VolumeSnapshots,
        BackupFile::PodVolumeBackups,
        BackupFile::CsiVolumeSnapshots,
        BackupFile::CsiVolumeSnapshotContents,
        BackupFile::CsiVolumeSnapshotClasses,
        BackupFile::VolumeInfo,
    ];

    /// The file name Velero gives this file for backup `backup`.
    pub fn file_name(self, backup: &str) -> String {
        let suffix = match self {
            BackupFile::Log => "-logs.gz",
            BackupFile::ResourceList => "-resource-list.json.gz",
            BackupFile::Results => "-results.gz",
            BackupFile::ItemOperations => "-itemoperations.json.gz",
            BackupFile::VolumeSnapshots => "-volumesnapshots.json.gz",
            BackupFile::PodVolumeBackups => "-podvolumebackups.json.gz",
            BackupFile::CsiVolumeSnapshots => "-csi-volumesnapshots.json.gz",
            BackupFile::CsiVolumeSnapshotContents => "-csi-volumesnapshotcontents.json.gz",
            BackupFile::CsiVolumeSnapshotClasses => "-csi-volumesnapshotclasses.json.gz",
            BackupFile::VolumeInfo => "-volumeinfo.json.gz",
        };
        format!("{backup}{suffix}")
    }
}

/// Per-restore files, as Velero names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RestoreFile {
    /// `restore-<name>-logs.gz`: the gzipped restore log.
    Log,
    /// `restore-<name>-results.gz`: gzipped JSON `{"warnings": R, "errors": R}`.
    Results,
    /// `restore-<name>-resource-list.json.gz`: what was restored.
    ResourceList,
    /// `restore-<name>-itemoperations.json.gz`: asynchronous item operations.
    ItemOperations,
    /// `<name>-volumeinfo.json.gz` (Velero names this one without the `restore-` prefix).
    VolumeInfo,
}

impl RestoreFile {
    /// The file name Velero gives this file for restore `restore`.
    pub fn file_name(self, restore: &str) -> String {
        match self {
            RestoreFile::Log => format!("restore-{restore}-logs.gz"),
            RestoreFile::Results => format!("restore-{restore}-results.gz"),
            RestoreFile::ResourceList => format!("restore-{restore}-resource-list.json.gz"),
            RestoreFile::ItemOperations => format!("restore-{restore}-itemoperations.json.gz"),
            RestoreFile::VolumeInfo => format!("{restore}-volumeinfo.json.gz"),
        }
    }
}

/// Keys of one location: everything sits under its optional prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    root: Path,
}

impl Layout {
    /// `prefix` has been validated by the location config (no empty, `.` or `..` segments).
    pub(crate) fn new(prefix: Path) -> Self {
        Layout { root: prefix }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn backups_dir(&self) -> Path {
        self.root.clone().join("backups")
    }

    pub(crate) fn restores_dir(&self) -> Path {
        self.root.clone().join("restores")
    }

    pub(crate) fn backup_dir(&self, backup: &str) -> Path {
        self.backups_dir().join(backup)
    }

    pub(crate) fn restore_dir(&self, restore: &str) -> Path {
        self.restores_dir().join(restore)
    }

    pub(crate) fn backup_metadata(&self, backup: &str) -> Path {
        self.backup_dir(backup).join(METADATA_FILE)
    }

    pub(crate) fn backup_tarball(&self, backup: &str) -> Path {
        self.backup_dir(backup).join(format!("{backup}.tar.gz"))
    }

    pub(crate) fn backup_file(&self, backup: &str, file: BackupFile) -> Path {
        self.backup_dir(backup).join(file.file_name(backup))
    }

    pub(crate) fn restore_file(&self, restore: &str, file: RestoreFile) -> Path {
        self.restore_dir(restore).join(file.file_name(restore))
    }

    /// The backup whose metadata file `key` is, if it is one: `backups/<name>/velero-backup.json`.
    pub(crate) fn backup_of_metadata_key(&self, key: &Path) -> Option<String> {
        let backups = self.backups_dir();
        let mut rest = key.prefix_match(&backups)?;
        let name = rest.next()?;
        let file = rest.next()?;
        if rest.next().is_some() || file.as_ref() != METADATA_FILE {
            return None;
        }
        Some(name.as_ref().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(prefix: &str) -> Layout {
        Layout::new(Path::parse(prefix).unwrap())
    }

    fn check(actual: Path, expected: &str) {
        assert_eq!(actual.as_ref(), expected);
    }

    #[test]
    fn backup_keys_follow_velero() {
        let l = layout("");
        check(
            l.backup_metadata("nightly"),
            "backups/nightly/velero-backup.json",
        );
        check(
            l.backup_tarball("nightly"),
            "backups/nightly/nightly.tar.gz",
        );
        let expected = [
            (BackupFile::Log, "backups/nightly/nightly-logs.gz"),
            (
                BackupFile::ResourceList,
                "backups/nightly/nightly-resource-list.json.gz",
            ),
            (BackupFile::Results, "backups/nightly/nightly-results.gz"),
            (
                BackupFile::ItemOperations,
                "backups/nightly/nightly-itemoperations.json.gz",
            ),
            (
                BackupFile::VolumeSnapshots,
                "backups/nightly/nightly-volumesnapshots.json.gz",
            ),
            (
                BackupFile::PodVolumeBackups,
                "backups/nightly/nightly-podvolumebackups.json.gz",
            ),
            (
                BackupFile::CsiVolumeSnapshots,
                "backups/nightly/nightly-csi-volumesnapshots.json.gz",
            ),
            (
                BackupFile::CsiVolumeSnapshotContents,
                "backups/nightly/nightly-csi-volumesnapshotcontents.json.gz",
            ),
            (
                BackupFile::CsiVolumeSnapshotClasses,
                "backups/nightly/nightly-csi-volumesnapshotclasses.json.gz",
            ),
            (
                BackupFile::VolumeInfo,
                "backups/nightly/nightly-volumeinfo.json.gz",
            ),
        ];
        assert_eq!(expected.len(), BackupFile::ALL.len());
        for (file, key) in expected {
            check(l.backup_file("nightly", file), key);
        }
    }

    #[test]
    fn restore_keys_follow_velero() {
        let l = layout("");
        let expected = [
            (RestoreFile::Log, "restores/r1/restore-r1-logs.gz"),
            (RestoreFile::Results, "restores/r1/restore-r1-results.gz"),
            (
                RestoreFile::ResourceList,
                "restores/r1/restore-r1-resource-list.json.gz",
            ),
            (
                RestoreFile::ItemOperations,
                "restores/r1/restore-r1-itemoperations.json.gz",
            ),
            (RestoreFile::VolumeInfo, "restores/r1/r1-volumeinfo.json.gz"),
        ];
        for (file, key) in expected {
            check(l.restore_file("r1", file), key);
        }
    }

    #[test]
    fn prefix_goes_in_front_of_everything() {
        let l = layout("team-a/cluster-1");
        check(
            l.backup_metadata("b"),
            "team-a/cluster-1/backups/b/velero-backup.json",
        );
        check(
            l.restore_file("r", RestoreFile::Results),
            "team-a/cluster-1/restores/r/restore-r-results.gz",
        );
        check(l.backups_dir(), "team-a/cluster-1/backups");
    }

    #[test]
    fn metadata_keys_name_their_backup() {
        fn check_key(prefix: &str, key: &str, expected: Option<&str>) {
            let key = Path::parse(key).unwrap();
            assert_eq!(
                layout(prefix).backup_of_metadata_key(&key).as_deref(),
                expected,
                "{key}"
            );
        }
        check_key("", "backups/b1/velero-backup.json", Some("b1"));
        check_key("p/q", "p/q/backups/b.2/velero-backup.json", Some("b.2"));
        check_key("", "backups/b1/b1.tar.gz", None);
        check_key("", "backups/velero-backup.json", None);
        check_key("", "backups/b1/x/velero-backup.json", None);
        check_key("", "restores/b1/velero-backup.json", None);
        check_key("p", "backups/b1/velero-backup.json", None);
    }
}
