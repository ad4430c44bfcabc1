//! `stampcard backup` and `stampcard restore`.
//!
//! A backup file is: a header line, a JSON description (with the files the
//! shop needs beside its store: wallet certificates and keys, logos), the
//! config, the SSH host key, every store record (length-prefixed), and a
//! SHA-256 of everything before it.
//!
//! Backups of version 2 hold each record in its logical form (the store's
//! `logical` module: its key by name and its JSON), so a backup written by
//! either store restores into either. Version 1 held the sled store's raw
//! keys and values; such backups still restore.
//! The snapshot is taken by the store's committer between two commits, so it
//! is consistent even while the shop keeps stamping.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow, bail};
use sha2::{Digest, Sha256};
use stampcard_core::store::{FORMAT_VERSION, SledOptions, SledStore, logical};

use crate::app::{App, store_dir};
use crate::config;

const MAGIC: &[u8] = b"STAMPCARD-BACKUP 2\n";
/// The header of backups whose records are the sled store's raw pairs.
const MAGIC_1: &[u8] = b"STAMPCARD-BACKUP 1\n";
const END: u32 = u32::MAX;

/// A writer that hashes what passes through it.
struct Hashing<W: Write> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn put_bytes(w: &mut impl Write, b: &[u8]) -> std::io::Result<()> {
    w.write_all(&(b.len() as u32).to_be_bytes())?;
    w.write_all(b)
}

/// `stampcard backup <file>`.
pub async fn backup(app: &App, file: &Path) -> Result<()> {
    let count = write_backup(app, file).await?;
    app.emit(&serde_json::json!({"file": file, "records": count}), || {
        format!("Backup of {count} records written to {}", file.display())
    })
}

/// Writes a consistent backup of the running shop; returns the record count.
pub async fn write_backup(app: &App, file: &Path) -> Result<u64> {
    let tmp = file.with_extension("partial");
    let f = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?
    };
    let mut w = Hashing {
        inner: BufWriter::new(f),
        hash: Sha256::new(),
    };
    w.write_all(MAGIC)?;
    let meta = serde_json::json!({
        "store_format": FORMAT_VERSION,
        "shop": app.config.shop.name,
        "created_at": chrono::Utc::now(),
        "last_event": app.shop.store().last_event_id(),
        "files": super::backup_files::collect(app),
    });
    put_bytes(&mut w, meta.to_string().as_bytes())?;
    let config_text = std::fs::read(app.data.join(config::FILE_NAME))?;
    put_bytes(&mut w, &config_text)?;
    let host_key = std::fs::read(app.data.join("ssh_host_key")).unwrap_or_default();
    put_bytes(&mut w, &host_key)?;
    let shared = Arc::new(Mutex::new(Some(w)));
    let sink_writer = shared.clone();
    let count = app
        .shop
        .store()
        .snapshot(Box::new(move |k, v| {
            let mut guard = sink_writer
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?;
            let w = guard
                .as_mut()
                .ok_or_else(|| std::io::Error::other("backup already finished"))?;
            let line = logical::encode(k, v).map_err(std::io::Error::other)?;
            put_bytes(w, &line)
        }))
        .await?;
    let mut w = shared
        .lock()
        .map_err(|_| anyhow!("backup writer poisoned"))?
        .take()
        .ok_or_else(|| anyhow!("backup writer missing"))?;
    w.write_all(&END.to_be_bytes())?;
    w.write_all(&count.to_be_bytes())?;
    let digest = w.hash.clone().finalize();
    let mut inner = w.inner;
    inner.write_all(&digest)?;
    let f = inner
        .into_inner()
        .map_err(|e| anyhow!("writing the backup: {e}"))?;
    f.sync_all()?;
    std::fs::rename(&tmp, file)?;
    Ok(count)
}

struct Parsed {
    meta: serde_json::Value,
    config: Vec<u8>,
    host_key: Vec<u8>,
    records: Vec<(Vec<u8>, Vec<u8>)>,
}

fn read_backup(file: &Path) -> Result<Parsed> {
    let mut all = Vec::new();
    BufReader::new(
        std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?,
    )
    .read_to_end(&mut all)?;
    let bad = || anyhow!("{} is not a complete stampcard backup", file.display());
    let logical_records = all.starts_with(MAGIC);
    let known = logical_records || all.starts_with(MAGIC_1);
    if all.len() < MAGIC.len() + 32 || !known {
        if !known && all.starts_with(b"STAMPCARD-BACKUP ") {
            bail!(
                "{} was written by a newer stampcard: upgrade stampcard to restore it",
                file.display()
            );
        }
        return Err(bad());
    }
    let (body, digest) = all.split_at(all.len() - 32);
    if Sha256::digest(body).as_slice() != digest {
        bail!(
            "{}: checksum mismatch, the backup is damaged",
            file.display()
        );
    }
    let mut pos = MAGIC.len();
    let take = |pos: &mut usize| -> Result<Option<Vec<u8>>> {
        let len_bytes: [u8; 4] = body.get(*pos..*pos + 4).ok_or_else(bad)?.try_into()?;
        *pos += 4;
        let len = u32::from_be_bytes(len_bytes);
        if len == END {
            return Ok(None);
        }
        let v = body
            .get(*pos..*pos + len as usize)
            .ok_or_else(bad)?
            .to_vec();
        *pos += len as usize;
        Ok(Some(v))
    };
    let meta: serde_json::Value = serde_json::from_slice(&take(&mut pos)?.ok_or_else(bad)?)?;
    let config = take(&mut pos)?.ok_or_else(bad)?;
    let host_key = take(&mut pos)?.ok_or_else(bad)?;
    let mut records = Vec::new();
    if logical_records {
        let mut lines = Vec::new();
        while let Some(line) = take(&mut pos)? {
            lines.push(line);
        }
        records = logical::decode_all(lines)
            .with_context(|| format!("{} holds a record that cannot be read", file.display()))?;
    } else {
        while let Some(k) = take(&mut pos)? {
            let v = take(&mut pos)?.ok_or_else(bad)?;
            records.push((k, v));
        }
    }
    Ok(Parsed {
        meta,
        config,
        host_key,
        records,
    })
}

pub async fn restore(data: &Path, file: &Path, force: bool, json: bool) -> Result<()> {
    let parsed = read_backup(file)?;
    let store_format = parsed.meta["store_format"].as_u64().unwrap_or(0);
    if store_format > u64::from(FORMAT_VERSION) {
        bail!(
            "this backup has data format {store_format}; this binary reads up to {FORMAT_VERSION}: upgrade stampcard first"
        );
    }
    // Customers forgotten in the folder being replaced stay forgotten, also
    // when the backup is older than the forget.
    let forgotten = if data.exists() && force {
        forgotten_customers(&store_dir(data))
    } else {
        Vec::new()
    };
    if data.exists() {
        if !force {
            bail!(
                "{} exists: restore into a new folder, or add --force to move it aside",
                data.display()
            );
        }
        let aside = data.with_file_name(format!(
            "{}.replaced-{}",
            data.file_name().and_then(|n| n.to_str()).unwrap_or("data"),
            chrono::Utc::now().format("%Y%m%d%H%M%S")
        ));
        std::fs::rename(data, &aside)
            .with_context(|| format!("cannot move {} aside", data.display()))?;
        eprintln!("Moved the old data folder to {}", aside.display());
    }
    create_private_dir(data)?;
    let files: Vec<super::backup_files::ShopFile> =
        serde_json::from_value(parsed.meta["files"].clone()).unwrap_or_default();
    let config_text = super::backup_files::restore(data, &files, &parsed.config)?;
    let cfg_path = data.join(config::FILE_NAME);
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&cfg_path)?;
        f.write_all(&config_text)?;
        f.sync_all()?;
    }
    if !parsed.host_key.is_empty() {
        crate::export::write_private(&data.join("ssh_host_key"), &parsed.host_key)?;
    }
    let found = u32::try_from(store_format).unwrap_or(FORMAT_VERSION);
    // The restored config may keep the shop in PostgreSQL: the records go
    // there (an empty database), else into the folder.
    let restored = config::load(data).context("the restored config does not load")?;
    let n = if let Some(url) = restored.store.postgres() {
        let loaded = restore_into_postgres(url, found, parsed.records);
        if loaded.is_err() {
            let _ = std::fs::remove_dir_all(data);
        }
        loaded?
    } else {
        let store = SledStore::open(&store_dir(data), SledOptions::default())?;
        let n = store.load_snapshot(parsed.records.into_iter().map(Ok))?;
        store.close();
        n
    };
    // A backup of an older format: its records are brought up to this one.
    if found < FORMAT_VERSION && restored.store.postgres().is_none() {
        for step in SledStore::upgrade_loaded(&store_dir(data), found.max(1))? {
            eprintln!("Upgraded the restored records: {step}");
        }
    }
    config::load(data).context("the restored config does not load")?;
    let reapplied = reapply_forgets(data, &forgotten).await?;
    if reapplied > 0 {
        eprintln!("Forgot again {reapplied} customer(s) forgotten after this backup was taken");
    }
    let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let value = serde_json::json!({
        "data": data,
        "records": n,
        "shop": parsed.meta["shop"],
        "files": names,
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!(
            "Restored {n} records of \"{}\" into {}{}",
            parsed.meta["shop"].as_str().unwrap_or("?"),
            data.display(),
            if names.is_empty() {
                String::new()
            } else {
                format!(", with {}", names.join(", "))
            }
        );
    }
    Ok(())
}

/// Loads a backup's records into the empty PostgreSQL database of the
/// restored config.
fn restore_into_postgres(url: &str, found: u32, records: Vec<(Vec<u8>, Vec<u8>)>) -> Result<u64> {
    use stampcard_core::store::{PgOptions, PgStore, redact_url};
    if found < FORMAT_VERSION {
        bail!(
            "this backup has the older data format {found}: restore it into a folder without `[store] url` first (it is upgraded there), then `stampcard store copy --to {}`",
            redact_url(url)
        );
    }
    let store = PgStore::open(url, PgOptions::default())
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", redact_url(url)))?;
    if !store.is_empty()? {
        store.close();
        bail!(
            "the database {} is not empty: restore into a new, empty database",
            redact_url(url)
        );
    }
    let n = store.load_snapshot(records.into_iter().map(Ok))?;
    store.close();
    Ok(n)
}

/// The customers forgotten in a store (none when it cannot be read: an
/// older format, or damaged).
fn forgotten_customers(store: &Path) -> Vec<u64> {
    let Ok(s) = SledStore::open(store, SledOptions::default()) else {
        return Vec::new();
    };
    let mut ids = Vec::new();
    let _ = stampcard_core::store::Store::for_each(
        &s,
        stampcard_core::store::Family::Customers,
        &mut |_, r| {
            if let stampcard_core::store::Record::Customer(c) = r
                && c.forgotten
            {
                ids.push(c.id);
            }
            true
        },
    );
    s.close();
    ids
}

/// Forgets again, in a restored folder, the customers forgotten in the
/// folder it replaced; returns how many were still known there.
async fn reapply_forgets(data: &Path, ids: &[u64]) -> Result<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    // The restore's own handle on the store was just dropped; sled may hold
    // its folder lock a moment longer.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let app = loop {
        match App::open(data, false).await {
            Ok(app) => break app,
            Err(e)
                if std::time::Instant::now() < deadline && format!("{e:#}").contains("in use") =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(e) => return Err(e),
        }
    };
    let system = stampcard_core::model::Actor::channel("system");
    let mut n = 0;
    let mut result = Ok(());
    for id in ids {
        if app
            .shop
            .customers()
            .customer(*id)
            .is_ok_and(|c| !c.forgotten)
        {
            if let Err(e) = app.shop.customers().forget_customer(*id, &system).await {
                result = Err(e);
                break;
            }
            n += 1;
        }
    }
    app.close().await;
    result.map(|()| n).map_err(Into::into)
}

/// Creates a folder only its owner can enter; an existing one (made by
/// someone else's `mkdir`) is made private too.
pub fn create_private_dir(path: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot make {} private", path.display()))
}

/// Whether other users of the machine can read into the data folder: what
/// `serve` warns about at start.
pub fn readable_by_others(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}
