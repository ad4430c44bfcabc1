//! The files a shop needs beside its store and config: the Apple Wallet
//! certificates and key, the Google service-account key and the templates'
//! logos. A backup carries them (in its description, hex-encoded, so older
//! binaries still read the backup); a restore writes them into the new
//! data folder and points the config at them, so both wallets keep working
//! on a new machine.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::config::Config;

/// One file a shop needs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ShopFile {
    /// The config key that names it (`wallet.certificate`), or `logo` for a
    /// template's logo.
    pub key: String,
    /// The path as the config (or the template) gives it.
    pub path: String,
    /// Its bytes, hex-encoded.
    pub hex: String,
}

/// The config keys that name files, with their values.
fn configured(config: &Config) -> Vec<(&'static str, String)> {
    let w = &config.wallet;
    [
        ("wallet.certificate", w.certificate.clone()),
        ("wallet.private_key", w.private_key.clone()),
        ("wallet.wwdr_certificate", w.wwdr_certificate.clone()),
        (
            "google_wallet.service_account_key",
            config.google_wallet.service_account_key.clone(),
        ),
    ]
    .into_iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .collect()
}

/// Reads every file the shop points to. A file that cannot be read is
/// named on standard error and left out: the backup of the records goes on.
pub fn collect(app: &App) -> Vec<ShopFile> {
    let mut wanted: Vec<(String, String)> = configured(&app.config)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    for t in app.shop.templates().templates() {
        if let Some(logo) = t.branding.logo_file() {
            let logo = logo.to_string();
            if !wanted.iter().any(|(k, v)| k == "logo" && *v == logo) {
                wanted.push(("logo".into(), logo));
            }
        }
    }
    let mut files = Vec::new();
    for (key, path) in wanted {
        match std::fs::read(app.data.join(&path)) {
            Ok(bytes) => files.push(ShopFile {
                key,
                path,
                hex: hex::encode(bytes),
            }),
            Err(e) => app.out.err_line(&format!(
                "warning: {key} names {path}, which cannot be read ({e}); the backup goes on without it"
            )),
        }
    }
    files
}

/// Where a file goes in the restored folder: its own relative path when it
/// was inside the data folder, else `files/<its name>`.
fn restored_path(path: &str) -> Result<PathBuf> {
    let p = Path::new(path);
    let inside = p.is_relative() && p.components().all(|c| matches!(c, Component::Normal(_)));
    if inside {
        return Ok(p.to_path_buf());
    }
    let name = p
        .file_name()
        .ok_or_else(|| anyhow!("the backup names a file without a name: {path}"))?;
    Ok(Path::new("files").join(name))
}

/// Writes the files into `data`; returns the config text with every key
/// whose file moved pointing at its new place.
pub fn restore(data: &Path, files: &[ShopFile], config_text: &[u8]) -> Result<Vec<u8>> {
    let mut moved: Vec<(String, String)> = Vec::new();
    for f in files {
        let bytes =
            hex::decode(&f.hex).map_err(|_| anyhow!("the backup's {} is damaged", f.key))?;
        let target = restored_path(&f.path)?;
        let full = data.join(&target);
        if let Some(dir) = full.parent() {
            super::backup::create_private_dir(dir)?;
        }
        crate::export::write_private(&full, &bytes)
            .with_context(|| format!("cannot write {}", full.display()))?;
        let now = target.to_string_lossy().to_string();
        if now != f.path && f.key != "logo" {
            moved.push((f.key.clone(), now));
        }
    }
    if moved.is_empty() {
        return Ok(config_text.to_vec());
    }
    let text = std::str::from_utf8(config_text).context("the backup's config is not text")?;
    let mut table: toml::Table = toml::from_str(text).context("the backup's config")?;
    for (key, path) in moved {
        let (section, name) = key.split_once('.').unwrap_or(("", &key));
        if let Some(toml::Value::Table(t)) = table.get_mut(section) {
            t.insert(name.to_string(), toml::Value::String(path));
        }
    }
    Ok(toml::to_string(&table)
        .context("writing the restored config")?
        .into_bytes())
}

#[cfg(test)]
mod tests {
    use super::restored_path;
    use std::path::Path;

    #[test]
    fn files_stay_inside_the_data_folder() {
        assert_eq!(
            restored_path("wallet/pass.pem").ok().as_deref(),
            Some(Path::new("wallet/pass.pem"))
        );
        assert_eq!(
            restored_path("/etc/stampcard/pass.pem").ok().as_deref(),
            Some(Path::new("files/pass.pem"))
        );
        assert_eq!(
            restored_path("../../etc/passwd").ok().as_deref(),
            Some(Path::new("files/passwd"))
        );
        assert!(restored_path("/").is_err());
    }
}
