//! The server's scratch space. Every temporary file of its jobs (a backup's tarball being
//! written, a restore's downloaded and extracted backup) goes into a folder of this process
//! under `$TMPDIR/godwit-server/`, next to a lock file the process holds while it lives.
//!
//! A server killed mid-job cannot remove its files. The next server to start removes every
//! folder whose lock is free, so crashes do not pile up half-written tarballs: in a pod, `/tmp`
//! is an emptyDir, which outlives a container restart. A folder whose lock is held belongs to a
//! running server and is left alone, so servers may share `$TMPDIR`.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The folder under `$TMPDIR` that holds the servers' scratch folders.
pub(crate) const ROOT: &str = "godwit-server";

/// This process's scratch folder; the lock on `<folder>.lock` is held while this lives.
#[derive(Debug)]
pub(crate) struct Scratch {
    dir: PathBuf,
    _lock: File,
}

impl Scratch {
    /// Creates a scratch folder of this process under `root`: the lock file first, locked, then
    /// the folder, so a folder of a live process always has its lock held.
    pub(crate) fn create(root: &Path) -> anyhow::Result<Scratch> {
        std::fs::create_dir_all(root)
            .with_context(|| format!("cannot create {}; check TMPDIR", root.display()))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        let name = format!("{}-{nanos}", std::process::id());
        let lock_path = root.join(format!("{name}.lock"));
        let lock = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock_path)
            .with_context(|| format!("cannot create {}", lock_path.display()))?;
        lock.lock()
            .with_context(|| format!("cannot lock {}", lock_path.display()))?;
        let dir = root.join(name);
        std::fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Scratch { dir, _lock: lock })
    }

    /// The folder.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Removes, under `root`, the scratch folders (and lock files) of servers that are gone;
/// returns the folders removed. Anything else under `root` is left alone.
pub(crate) fn remove_abandoned(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let lock_path = entry.path();
        let Some(name) = lock_path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.strip_suffix(".lock"))
        else {
            continue;
        };
        let dir = root.join(name);
        let Ok(lock) = File::open(&lock_path) else {
            continue;
        };
        match lock.try_lock() {
            Ok(()) => {}
            // A running server's.
            Err(TryLockError::WouldBlock) => continue,
            Err(TryLockError::Error(err)) => {
                tracing::warn!(file = %lock_path.display(), error = %err, "cannot check a scratch folder's lock; leaving it");
                continue;
            }
        }
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => removed.push(dir),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                tracing::warn!(folder = %dir.display(), error = %err, "cannot remove a dead server's scratch folder");
                continue;
            }
        }
        // The lock goes last: a folder never outlives its lock file.
        let _ = std::fs::remove_file(&lock_path);
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_of_dead_servers_are_removed_and_live_ones_kept() {
        let root = tempfile::tempdir().unwrap();
        let live = Scratch::create(root.path()).unwrap();
        std::fs::write(live.dir().join("backup.tar.gz"), b"in use").unwrap();

        // What a killed server leaves: its folder, a half-written file, a lock nobody holds.
        let dead = Scratch::create(root.path()).unwrap();
        let dead_dir = dead.dir().to_owned();
        std::fs::create_dir(dead_dir.join("contents")).unwrap();
        std::fs::write(dead_dir.join("contents/half.json"), b"{").unwrap();
        drop(dead);
        // Not a scratch folder: left alone.
        std::fs::create_dir(root.path().join("other")).unwrap();

        assert_eq!(remove_abandoned(root.path()), vec![dead_dir.clone()]);
        assert!(!dead_dir.exists());
        assert!(!dead_dir.with_extension("lock").exists());
        assert!(live.dir().join("backup.tar.gz").is_file());
        assert!(root.path().join("other").is_dir());
        assert_eq!(remove_abandoned(root.path()), Vec::<PathBuf>::new());
    }
}
