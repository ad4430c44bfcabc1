//! Upgrading an older data folder: copy the store aside, then migrate.

use std::path::Path;

use anyhow::{Context, Result};
use stampcard_core::store::SledStore;

use crate::app::store_dir;

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    crate::commands::backup::create_private_dir(to)?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("cannot copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Saves a copy of the store and config, then migrates the store from
/// format `found` to `current`.
pub fn upgrade(data: &Path, found: u32, current: u32) -> Result<()> {
    let saved = data.join("backups").join(format!(
        "pre-upgrade-v{found}-{}",
        chrono::Utc::now().format("%Y%m%d-%H%M%S")
    ));
    copy_dir(&store_dir(data), &saved.join("store"))?;
    std::fs::copy(
        data.join(crate::config::FILE_NAME),
        saved.join(crate::config::FILE_NAME),
    )?;
    eprintln!(
        "Upgrading the data format from version {found} to {current}; the old store is saved in {}",
        saved.display()
    );
    let done = SledStore::upgrade(&store_dir(data)).with_context(|| {
        format!(
            "the upgrade failed; the old store is intact in {}",
            saved.display()
        )
    })?;
    for step in done {
        eprintln!("  - {step}");
    }
    Ok(())
}
