//! Scheduled backups: `[backup] every_hours` and `keep`, into `[backup] dir`.
//! The newest backup's time is read from its file name, so the schedule
//! survives restarts: a server started after a long pause backs up at once.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDateTime, Utc};
use tokio::sync::watch;

use crate::app::App;

const PREFIX: &str = "stampcard-";
const SUFFIX: &str = ".backup";
const STAMP: &str = "%Y%m%d-%H%M%S";

/// The folder scheduled backups go to.
pub fn backup_dir(app: &App) -> PathBuf {
    app.data.join(&app.config.backup.dir)
}

/// The name of a scheduled backup taken at `at`.
pub fn file_name(at: DateTime<Utc>) -> String {
    format!("{PREFIX}{}{SUFFIX}", at.format(STAMP))
}

/// Scheduled backups in a folder, oldest first, with their times.
pub fn list(dir: &Path) -> Vec<(DateTime<Utc>, PathBuf)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let stamp = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
            let at = NaiveDateTime::parse_from_str(stamp, STAMP).ok()?.and_utc();
            Some((at, entry.path()))
        })
        .collect();
    out.sort();
    out
}

/// When the next backup is due, given the newest one.
pub fn next_due(newest: Option<DateTime<Utc>>, every: Duration) -> Option<DateTime<Utc>> {
    match newest {
        None => None, // due now
        Some(t) => Some(t + chrono::Duration::from_std(every).ok()?),
    }
}

/// Deletes all but the newest `keep` scheduled backups; returns what it deleted.
pub fn prune(dir: &Path, keep: usize) -> Result<Vec<PathBuf>> {
    let all = list(dir);
    let excess = all.len().saturating_sub(keep);
    let mut deleted = Vec::new();
    for (_, path) in all.into_iter().take(excess) {
        std::fs::remove_file(&path).with_context(|| format!("cannot delete {}", path.display()))?;
        deleted.push(path);
    }
    Ok(deleted)
}

/// Takes one scheduled backup now and prunes old ones.
pub async fn take(app: &App) -> Result<PathBuf> {
    let dir = backup_dir(app);
    crate::commands::backup::create_private_dir(&dir)?;
    let file = dir.join(file_name(app.shop.clock().now()));
    let records = crate::commands::backup::write_backup(app, &file).await?;
    tracing::info!(file = %file.display(), records, "scheduled backup written");
    prune(&dir, app.config.backup.keep.max(1) as usize)?;
    Ok(file)
}

/// Runs the backup schedule until `stop` turns true.
pub async fn run(app: App, mut stop: watch::Receiver<bool>) {
    if app.config.backup.every_hours == 0 {
        return;
    }
    let every = Duration::from_secs(u64::from(app.config.backup.every_hours) * 3600);
    loop {
        let newest = list(&backup_dir(&app)).last().map(|(t, _)| *t);
        let now = app.shop.clock().now();
        let wait = match next_due(newest, every) {
            Some(due) if due > now => (due - now).to_std().unwrap_or_default(),
            _ => {
                if let Err(e) = take(&app).await {
                    tracing::error!("scheduled backup failed: {e:#}");
                }
                // After a failure, try again in an hour rather than at once.
                Duration::from_secs(3600).min(every)
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait.min(Duration::from_secs(3600))) => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_and_retention() {
        let dir = tempfile::tempdir().expect("tempdir");
        let t0: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().expect("time");
        assert_eq!(next_due(None, Duration::from_secs(3600)), None);
        assert_eq!(
            next_due(Some(t0), Duration::from_secs(24 * 3600)),
            Some(t0 + chrono::Duration::hours(24))
        );
        for h in 0..5 {
            let at = t0 + chrono::Duration::hours(h);
            std::fs::write(dir.path().join(file_name(at)), b"x").expect("write");
        }
        std::fs::write(dir.path().join("notes.txt"), b"keep me").expect("write");
        assert_eq!(list(dir.path()).len(), 5);
        let deleted = prune(dir.path(), 2).expect("prune");
        assert_eq!(deleted.len(), 3);
        let left = list(dir.path());
        assert_eq!(
            left.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
            vec![
                t0 + chrono::Duration::hours(3),
                t0 + chrono::Duration::hours(4)
            ]
        );
        assert!(dir.path().join("notes.txt").exists());
    }
}
