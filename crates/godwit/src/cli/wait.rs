//! `--wait`: poll a Backup or Restore until the server is done with it, with a progress bar on
//! a terminal. Ctrl-C only stops the waiting; the server carries on.

use std::time::Duration;

use anyhow::{Context as _, anyhow};
use godwit_api::{Backup, BackupPhase, Restore, RestorePhase};
use kube::Api;

use crate::output;

/// How often the resource is read again.
const POLL: Duration = Duration::from_millis(500);

/// Waits until the backup's phase is terminal and returns it.
pub async fn backup(api: &Api<Backup>, name: &str) -> anyhow::Result<BackupPhase> {
    let bar = output::progress_bar("Backing up");
    loop {
        let backup = api
            .get_opt(name)
            .await
            .with_context(|| format!("cannot read backup {name} while waiting"))?
            .ok_or_else(|| anyhow!("backup {name} was deleted while waiting"))?;
        if let (Some(bar), Some(progress)) = (
            &bar,
            backup.status.as_ref().and_then(|s| s.progress.as_ref()),
        ) {
            bar.set_length(u64::try_from(progress.total_items).unwrap_or(0));
            bar.set_position(u64::try_from(progress.items_backed_up).unwrap_or(0));
        }
        if let Some(phase) = backup.phase().filter(|p| p.is_terminal()) {
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
            return Ok(phase.clone());
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until the restore's phase is terminal and returns it.
pub async fn restore(api: &Api<Restore>, name: &str) -> anyhow::Result<RestorePhase> {
    let bar = output::progress_bar("Restoring");
    loop {
        let restore = api
            .get_opt(name)
            .await
            .with_context(|| format!("cannot read restore {name} while waiting"))?
            .ok_or_else(|| anyhow!("restore {name} was deleted while waiting"))?;
        if let (Some(bar), Some(progress)) = (
            &bar,
            restore.status.as_ref().and_then(|s| s.progress.as_ref()),
        ) {
            bar.set_length(u64::try_from(progress.total_items).unwrap_or(0));
            bar.set_position(u64::try_from(progress.items_restored).unwrap_or(0));
        }
        if let Some(phase) = restore.phase().filter(|p| p.is_terminal()) {
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
            return Ok(phase.clone());
        }
        tokio::time::sleep(POLL).await;
    }
}
