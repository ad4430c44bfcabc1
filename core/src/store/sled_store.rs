//! The embedded sled store with group commit.
//!
//! All writes go through one committer thread. It takes every mutation that
//! is waiting, checks their guards in order, assigns event ids, applies them
//! as one atomic sled batch and flushes once; only then are the callers
//! answered. Concurrent writers therefore share one fsync.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};

use super::card_chains::{self, Chains, LINK_LEN};
use super::group_commit::Taken;
use super::recent_events::{RECENT_EVENTS, RecentEvents};
use super::record_cache::{CACHED_RECORDS, RecordCache, cacheable};
use super::sled_layout::{
    corrupt, decode_key, decode_record, encode_event, encode_key, encode_record, family_prefix,
    sequence,
};
use super::{
    CommitFuture, Committed, FORMAT_VERSION, Family, Guard, Key, Mutation, Record, Scan, Store,
    StoreError,
};
use crate::model::Event;

/// Tuning of the sled store.
#[derive(Debug, Clone, Copy)]
pub struct SledOptions {
    /// Longest a commit waits for others to join its group (0 = take what is queued).
    pub max_batch_wait: Duration,
    /// Most mutations in one group.
    pub max_batch: usize,
    /// sled page cache size in bytes.
    pub cache_bytes: u64,
    /// How long after a forget the store is rewritten in place, so the
    /// forgotten values leave its files (several forgets share a rewrite).
    pub rewrite_after: Duration,
    /// Space held back in the store's folder (a file of this size) so that
    /// the store can be reopened after the disk filled up.
    pub reserve_bytes: u64,
}

impl Default for SledOptions {
    fn default() -> Self {
        Self {
            max_batch_wait: Duration::ZERO,
            max_batch: 4096,
            cache_bytes: 64 * 1024 * 1024,
            rewrite_after: REWRITE_AFTER,
            reserve_bytes: RESERVE_BYTES,
        }
    }
}

type Sink = super::SnapshotSink;

/// A mutation encoded on the caller's thread, so the committer only splices
/// event ids, checks guards and writes.
struct Encoded {
    guards: Vec<EncodedGuard>,
    puts: Vec<(Vec<u8>, Vec<u8>)>,
    deletes: Vec<Vec<u8>>,
    /// Card id (for the per-card chain), the event encoded with id 0, and
    /// the event itself (for the window of recent events).
    events: Vec<(Option<u64>, Vec<u8>, Event)>,
    derived: Vec<super::Derived>,
}

/// A guard as the committer checks it.
enum EncodedGuard {
    /// The encoded key must be absent.
    Absent(Vec<u8>, Key),
    /// The card's newest event must be this one.
    CardAt(u64, u64),
    /// The consumer's stored cursor must be this one.
    CursorAt(String, u64),
    /// The template's latest version must be this one.
    TemplateAt(u64, u32),
    /// The card's record must be held on these platforms.
    CardHeldOn(u64, std::collections::BTreeSet<crate::model::Platform>),
}

/// The JSON every event starts with before its id is spliced in.
const EVENT_PREFIX: &[u8] = b"{\"id\":0,";

fn encode_mutation(m: Mutation) -> Encoded {
    Encoded {
        guards: m
            .guards
            .into_iter()
            .map(|g| match g {
                Guard::Absent(k) => EncodedGuard::Absent(encode_key(&k), k),
                Guard::CardAt { card, newest_event } => EncodedGuard::CardAt(card, newest_event),
                Guard::CursorAt { name, at } => EncodedGuard::CursorAt(name, at),
                Guard::TemplateAt { template, version } => {
                    EncodedGuard::TemplateAt(template, version)
                }
                Guard::CardHeldOn { card, platforms } => EncodedGuard::CardHeldOn(card, platforms),
            })
            .collect(),
        puts: m
            .puts
            .iter()
            .map(|(k, r)| (encode_key(k), encode_record(r)))
            .collect(),
        deletes: m.deletes.iter().map(encode_key).collect(),
        events: m
            .events
            .into_iter()
            .map(|e| {
                let event = e.with_id(0);
                (event.card_id, encode_event(&event), event)
            })
            .collect(),
        derived: m.derived,
    }
}

/// Puts the event id into an event encoded with id 0, behind the link to
/// the card's event before it.
fn splice_event_id(encoded: &[u8], id: u64, prev: u64) -> Vec<u8> {
    debug_assert!(encoded.starts_with(EVENT_PREFIX));
    let rest = encoded.get(EVENT_PREFIX.len()..).unwrap_or_default();
    let mut out = Vec::with_capacity(LINK_LEN + encoded.len() + 20);
    out.extend_from_slice(&prev.to_be_bytes());
    out.extend_from_slice(b"{\"id\":");
    out.extend_from_slice(id.to_string().as_bytes());
    out.push(b',');
    out.extend_from_slice(rest);
    out
}

enum Job {
    Commit(Encoded, oneshot::Sender<Result<Committed, StoreError>>),
    Snapshot(Sink, oneshot::Sender<Result<u64, StoreError>>),
}

/// The default of [`SledOptions::rewrite_after`].
pub const REWRITE_AFTER: Duration = Duration::from_secs(10);
/// How often the committer tries to reopen a store whose writes failed.
const HEAL_EVERY: Duration = Duration::from_secs(2);
/// The default of [`SledOptions::reserve_bytes`].
pub const RESERVE_BYTES: u64 = 8 * 1024 * 1024;
/// How long a read waits while the committer swaps the database.
const SWAP_PATIENCE: Duration = Duration::from_secs(10);
/// The file in the store's folder that holds space back for reopening the
/// store after the disk filled up (sled writes while opening).
const RESERVE_FILE: &str = "reserve";
/// Free space, besides the reserve, needed before writes are tried again.
const HEADROOM: u64 = 8 * 1024 * 1024;

/// The open database, shared by the readers and the committer. The
/// committer replaces it when it reopens the store after failed writes
/// (sled keeps an I/O error until it is opened afresh, and its memory holds
/// the failed write, which must not be read) and when it rewrites the store
/// after a forget; readers holding the old one finish on it.
struct Shared {
    /// None while the committer reopens the store, or after it could not.
    db: RwLock<Option<Arc<sled::Db>>>,
    /// True while the committer is reopening (readers wait for it).
    swapping: AtomicBool,
    /// Why writes fail, while they do.
    trouble: Mutex<Option<String>>,
    /// The newest committed events, decoded.
    recent: RecentEvents,
    /// Decoded customer records.
    records: RecordCache,
}

impl Shared {
    /// The open database, waiting while the committer reopens it.
    fn db(&self) -> Result<Arc<sled::Db>, StoreError> {
        // The clock is read only when there is a wait (not on every read).
        let mut deadline = None;
        loop {
            if let Some(db) = self.db.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
                return Ok(db.clone());
            }
            let deadline = *deadline.get_or_insert_with(|| Instant::now() + SWAP_PATIENCE);
            if !self.swapping.load(Ordering::Acquire) || Instant::now() >= deadline {
                let why = self
                    .trouble()
                    .unwrap_or_else(|| "it is being reopened".into());
                return Err(StoreError::Io(format!("the store cannot be read: {why}")));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn set_db(&self, db: Option<Arc<sled::Db>>) {
        *self.db.write().unwrap_or_else(|e| e.into_inner()) = db;
        self.records.clear();
    }

    fn set_trouble(&self, trouble: Option<String>) {
        *self.trouble.lock().unwrap_or_else(|e| e.into_inner()) = trouble;
    }

    fn trouble(&self) -> Option<String> {
        self.trouble
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The sled-backed store.
pub struct SledStore {
    shared: Arc<Shared>,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    committer: Mutex<Option<std::thread::JoinHandle<()>>>,
    sequences: Mutex<HashMap<u8, u64>>,
    last_event: watch::Receiver<u64>,
    /// The store's folder (for the rewrite request beside the data).
    dir: PathBuf,
}

fn io(e: sled::Error) -> StoreError {
    StoreError::Io(e.to_string())
}

/// The meta key that asks for a rewrite of the store (set by a forget).
pub const REWRITE_PENDING: &str = "rewrite_pending";
/// The file in the store's folder that says a rewrite is due, so the next
/// process to open the folder rewrites it before anything holds it open.
const REWRITE_MARKER: &str = "rewrite-pending";

/// The folders a rewrite uses beside the store: the fresh copy, and the old
/// store while they are swapped.
fn rewrite_dirs(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    (
        dir.with_extension("rewrite"),
        dir.with_extension("replaced"),
    )
}

/// Finishes or undoes a rewrite a crash interrupted: a store whose swap
/// half happened is completed, an unfinished fresh copy is dropped.
fn settle_rewrite(dir: &Path) -> Result<(), StoreError> {
    let (fresh, replaced) = rewrite_dirs(dir);
    let fs = |e: std::io::Error| StoreError::Io(format!("settling a store rewrite: {e}"));
    if !dir.exists() && replaced.exists() {
        if fresh.exists() {
            std::fs::rename(&fresh, dir).map_err(fs)?;
        } else {
            std::fs::rename(&replaced, dir).map_err(fs)?;
        }
    }
    if dir.exists() {
        for leftover in [&fresh, &replaced] {
            if leftover.exists() {
                std::fs::remove_dir_all(leftover).map_err(fs)?;
            }
        }
    }
    Ok(())
}

impl SledStore {
    /// Rewrites the store in `dir` from its live records into a fresh folder
    /// and swaps the two, so values overwritten or deleted (a forgotten
    /// customer's) are in no file any more; clears the rewrite request.
    /// Nothing may hold the store open meanwhile. Returns the records kept.
    pub fn rewrite(dir: &Path, options: SledOptions) -> Result<u64, StoreError> {
        settle_rewrite(dir)?;
        // The handle just closed may hold sled's lock for a moment yet.
        wait_until_released(dir)?;
        let (fresh, replaced) = rewrite_dirs(dir);
        let n = copy_live(&open_db(dir, &options)?, &fresh, &options)?;
        wait_until_released(dir)?;
        wait_until_released(&fresh)?;
        let fs = |e: std::io::Error| StoreError::Io(format!("swapping the rewritten store: {e}"));
        std::fs::rename(dir, &replaced).map_err(fs)?;
        std::fs::rename(&fresh, dir).map_err(fs)?;
        std::fs::remove_dir_all(&replaced).map_err(fs)?;
        Ok(n)
    }

    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path, options: SledOptions) -> Result<Self, StoreError> {
        settle_rewrite(dir)?;
        let db = Arc::new(open_db(dir, &options)?);
        check_format(&db)?;
        keep_reserve(dir, options.reserve_bytes);
        let last_event = last_id(&db, b'E')?.unwrap_or(0);
        let (watch_tx, watch_rx) = watch::channel(last_event);
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            db: RwLock::new(Some(db.clone())),
            swapping: AtomicBool::new(false),
            trouble: Mutex::new(None),
            recent: RecentEvents::new(RECENT_EVENTS),
            records: RecordCache::new(CACHED_RECORDS),
        });
        let committer = Committer {
            shared: shared.clone(),
            dir: dir.to_path_buf(),
            options,
            db: Some(db),
            chains: Chains::default(),
            watch_tx,
            last_event,
            rewrite_due: Self::rewrite_requested(dir)
                .then(|| Instant::now() + options.rewrite_after),
            heal_at: None,
            checks: 0,
        };
        let handle = std::thread::Builder::new()
            .name("stampcard-commit".into())
            .spawn(move || committer.run(rx))
            .map_err(|e| StoreError::Io(e.to_string()))?;
        Ok(Self {
            shared,
            jobs: Mutex::new(Some(tx)),
            committer: Mutex::new(Some(handle)),
            sequences: Mutex::new(HashMap::new()),
            last_event: watch_rx,
            dir: dir.to_path_buf(),
        })
    }

    /// Whether a rewrite of the store in `dir` was asked for (by a forget)
    /// and has not run yet: read before the store is opened.
    pub fn rewrite_requested(dir: &Path) -> bool {
        dir.join(REWRITE_MARKER).exists()
    }

    /// Brings an older data folder up to this binary's format (take a backup
    /// first); returns what each step did.
    pub fn upgrade(dir: &Path) -> Result<Vec<&'static str>, StoreError> {
        remove_unfinished_snapshots(dir)?;
        // The caller has usually just dropped a handle (an open that found
        // an older format, or a restore).
        wait_until_released(dir)?;
        let db = sled::Config::new().path(dir).open().map_err(io)?;
        let done = super::migrate::migrate(&db, super::migrate::MIGRATIONS)?;
        db.flush().map_err(io)?;
        drop(db);
        wait_until_released(dir)?;
        Ok(done)
    }

    /// Brings records loaded from a backup of an older format (`found`) up
    /// to this binary's format; returns what each step did.
    pub fn upgrade_loaded(dir: &Path, found: u32) -> Result<Vec<&'static str>, StoreError> {
        wait_until_released(dir)?;
        {
            let db = sled::Config::new().path(dir).open().map_err(io)?;
            super::migrate::set_format(&db, found)?;
        }
        wait_until_released(dir)?;
        Self::upgrade(dir)
    }

    /// Waits for queued commits to finish and stops the committer.
    pub fn close(&self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        if let Some(handle) = self.committer.lock().ok().and_then(|mut h| h.take()) {
            let _ = handle.join();
        }
        if let Ok(db) = self.shared.db() {
            let _ = db.flush();
        }
    }

    /// Loads a snapshot written by [`Store::snapshot`] into this (empty) store.
    pub fn load_snapshot(
        &self,
        records: impl Iterator<Item = std::io::Result<(Vec<u8>, Vec<u8>)>>,
    ) -> Result<u64, StoreError> {
        load_records(&*self.shared.db()?, records)
    }
}

/// Writes records into a database in batches and flushes; returns how many.
fn load_records(
    db: &sled::Db,
    records: impl Iterator<Item = std::io::Result<(Vec<u8>, Vec<u8>)>>,
) -> Result<u64, StoreError> {
    let mut n = 0;
    let mut batch = sled::Batch::default();
    for r in records {
        let (k, v) = r.map_err(|e| StoreError::Io(e.to_string()))?;
        batch.insert(k, v);
        n += 1;
        if n % 10_000 == 0 {
            db.apply_batch(std::mem::take(&mut batch)).map_err(io)?;
        }
    }
    db.apply_batch(batch).map_err(io)?;
    db.flush().map_err(io)?;
    Ok(n)
}

/// Copies the live records of `old`, all but the rewrite request, into a
/// fresh database at `fresh` (replacing any leftover there), flushed and
/// closed; returns how many. Both rewrites (at open, and in place) use it.
fn copy_live(old: &sled::Db, fresh: &Path, options: &SledOptions) -> Result<u64, StoreError> {
    if fresh.exists() {
        std::fs::remove_dir_all(fresh)
            .map_err(|e| StoreError::Io(format!("rewriting the store: {e}")))?;
    }
    let new = open_db(fresh, options)?;
    let pending = encode_key(&Key::Meta(REWRITE_PENDING.into()));
    load_records(
        &new,
        old.iter()
            .filter(|r| r.as_ref().map_or(true, |(k, _)| k.as_ref() != pending))
            .map(|r| {
                r.map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(|e| std::io::Error::other(e.to_string()))
            }),
    )
}

/// Opens the sled database in `dir`: after a crash's unfinished snapshot
/// files are removed; a folder another process holds is `Locked`.
fn open_db(dir: &Path, options: &SledOptions) -> Result<sled::Db, StoreError> {
    remove_unfinished_snapshots(dir)?;
    sled::Config::new()
        .path(dir)
        .cache_capacity(options.cache_bytes)
        .flush_every_ms(Some(1000))
        .open()
        .map_err(|e| match e {
            // sled 0.34.7 rewraps a failed file lock as ErrorKind::Other
            // with this text (config.rs, `try_lock`); it is the only signal.
            sled::Error::Io(ref ioe)
                if ioe.kind() == std::io::ErrorKind::WouldBlock
                    || ioe.to_string().contains("could not acquire lock") =>
            {
                StoreError::Locked(ioe.to_string())
            }
            other => io(other),
        })
}

impl Drop for SledStore {
    fn drop(&mut self) {
        self.close();
    }
}

/// Waits until sled has let go of the folder's lock after this process
/// dropped its handle.
///
/// sled 0.34.7 holds an exclusive `flock` on `<dir>/db` until the last
/// reference to that file goes, and its background threads and deferred
/// (epoch) garbage can keep one for a moment after the `Db` is dropped; its
/// own tests block on the lock for this reason (config.rs, `try_lock`).
/// Opening the store straight after an upgrade then failed as "in use by
/// another process" (seen once in CI). Another process that really holds
/// the folder still gets that error, after a few seconds.
fn wait_until_released(dir: &Path) -> Result<(), StoreError> {
    wait_until_released_within(dir, Duration::from_secs(5))
}

fn wait_until_released_within(dir: &Path, patience: Duration) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        let file = match std::fs::File::open(dir.join("db")) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::Io(e.to_string())),
        };
        let fd = file.as_raw_fd();
        let deadline = std::time::Instant::now() + patience;
        loop {
            // SAFETY: flock on a descriptor this function owns; the lock is
            // released at once, and closing the file would release it too.
            if unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                unsafe { libc::flock(fd, libc::LOCK_UN) };
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                return Err(StoreError::Locked(format!(
                    "{} is still locked",
                    dir.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (dir, patience);
        Ok(())
    }
}

/// Bytes free for unprivileged writers on the file system of `dir`
/// (None when it cannot be asked).
fn free_bytes(dir: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
        // SAFETY: statvfs fills the zeroed struct it is given; the path is
        // a valid NUL-terminated string for the duration of the call.
        let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statvfs(path.as_ptr(), &mut stat) } != 0 {
            return None;
        }
        // The fields' widths differ between platforms.
        #[allow(clippy::useless_conversion)]
        let free = u64::from(stat.f_bavail).saturating_mul(u64::from(stat.f_frsize));
        Some(free)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}

/// [`make_reserve`], logging instead of failing: a store on a full disk
/// still opens (and reads); writes then fail, and heal once there is room.
fn keep_reserve(dir: &Path, bytes: u64) {
    if let Err(e) = make_reserve(dir, bytes) {
        tracing::warn!(
            error = %e,
            "no room for the store's {} MB reserve: after the disk fills up, reads may fail too",
            bytes / (1024 * 1024)
        );
    }
}

/// Makes sure the reserve file of `dir` holds `bytes` (written, not
/// sparse, so the space is really taken); a partial one is removed.
fn make_reserve(dir: &Path, bytes: u64) -> std::io::Result<()> {
    let path = dir.join(RESERVE_FILE);
    if bytes == 0 || std::fs::metadata(&path).is_ok_and(|m| m.len() >= bytes) {
        return Ok(());
    }
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut file = std::fs::File::create(&path)?;
        let block = vec![0_u8; 64 * 1024];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            file.write_all(&block[..n])?;
            left -= n as u64;
        }
        file.sync_all()
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&path);
    })
}

/// Removes `snap.*.generating` files a crash left behind.
///
/// sled 0.34.7 writes a snapshot to `snap.<lsn>.generating`, fsyncs it and
/// renames it to `snap.<lsn>`; but when opening it only ignores the legacy
/// `.in___motion` suffix, so a half-written `.generating` file left by a kill
/// is taken for the newest snapshot and the open fails as corrupt (sled issues
/// #1527, #1533; reproduced by our SIGKILL test). Such a file was never
/// renamed, so it never became the snapshot: the previous snapshot and the log
/// are still authoritative, and removing it is safe.
fn remove_unfinished_snapshots(dir: &Path) -> Result<(), StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::Io(e.to_string())),
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            tracing::warn!(file = %name, "removing an unfinished sled snapshot left by a crash");
            std::fs::remove_file(entry.path()).map_err(|e| StoreError::Io(e.to_string()))?;
        }
    }
    Ok(())
}

fn check_format(db: &sled::Db) -> Result<(), StoreError> {
    match super::migrate::format_of(db)? {
        Some(found) if found > FORMAT_VERSION => Err(StoreError::TooNew {
            found,
            supported: FORMAT_VERSION,
        }),
        Some(found) if found < FORMAT_VERSION => Err(StoreError::Outdated {
            found,
            current: FORMAT_VERSION,
        }),
        Some(_) => Ok(()),
        None => super::migrate::set_format(db, FORMAT_VERSION),
    }
}

fn last_id(db: &sled::Db, prefix: u8) -> Result<Option<u64>, StoreError> {
    match db.scan_prefix([prefix]).next_back() {
        Some(Ok((k, _))) if k.len() >= 9 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&k[1..9]);
            Ok(Some(u64::from_be_bytes(b)))
        }
        Some(Err(e)) => Err(io(e)),
        _ => Ok(None),
    }
}

/// The one writer: commits groups, and owns the database's life. After a
/// write fails it reopens the store every [`HEAL_EVERY`] until a check write
/// succeeds (sled keeps an I/O error, such as a full disk, until opened
/// afresh); after a forget it rewrites the store in place.
struct Committer {
    shared: Arc<Shared>,
    dir: PathBuf,
    options: SledOptions,
    /// None after a reopen failed.
    db: Option<Arc<sled::Db>>,
    chains: Chains,
    watch_tx: watch::Sender<u64>,
    last_event: u64,
    /// When the rewrite a forget asked for is due.
    rewrite_due: Option<Instant>,
    /// While writes fail: when to reopen and check next.
    heal_at: Option<Instant>,
    /// Check writes so far (the value each one writes).
    checks: u64,
}

/// The meta key the committer writes to check that writes work again.
const WRITE_CHECK: &str = "write_check";

impl Committer {
    fn run(mut self, rx: mpsc::Receiver<Job>) {
        loop {
            let by = [self.rewrite_due, self.heal_at].into_iter().flatten().min();
            match super::group_commit::take_group_by(
                &rx,
                self.options.max_batch,
                self.options.max_batch_wait,
                by,
            ) {
                Taken::Closed => break,
                Taken::Idle => {}
                Taken::Group(jobs) => self.group(jobs),
            }
            self.housekeeping();
        }
        if let Some(db) = &self.db {
            let _ = db.flush();
        }
    }

    fn group(&mut self, jobs: Vec<Job>) {
        let Some(db) = self.db.clone().filter(|_| self.heal_at.is_none()) else {
            // Writes are known to fail: answer at once; the next check
            // write says when they work again.
            let why = self
                .shared
                .trouble()
                .unwrap_or_else(|| "the store cannot write".into());
            for job in jobs {
                match job {
                    Job::Commit(_, reply) => {
                        let _ = reply.send(Err(StoreError::Io(why.clone())));
                    }
                    Job::Snapshot(mut sink, reply) => {
                        let result = match &self.db {
                            Some(db) => dump(db, &mut sink),
                            None => Err(StoreError::Io(why.clone())),
                        };
                        drop(sink);
                        let _ = reply.send(result);
                    }
                }
            }
            return;
        };
        let pending = encode_key(&Key::Meta(REWRITE_PENDING.into()));
        let mut group = Group::new(self.last_event);
        let mut failed = None;
        for job in jobs {
            match job {
                Job::Commit(m, reply) => {
                    if m.puts.iter().any(|(k, _)| k == &pending) {
                        self.rewrite_due
                            .get_or_insert_with(|| Instant::now() + self.options.rewrite_after);
                    }
                    group.add(&db, &mut self.chains, m, reply)
                }
                Job::Snapshot(mut sink, reply) => {
                    let (last, error) =
                        group.finish(&db, &mut self.chains, &self.watch_tx, &self.shared);
                    self.last_event = last;
                    failed = failed.or(error);
                    group = Group::new(self.last_event);
                    let result = dump(&db, &mut sink);
                    // Release the sink before answering: the caller may need
                    // sole ownership of what it writes to.
                    drop(sink);
                    let _ = reply.send(result);
                }
            }
        }
        let (last, error) = group.finish(&db, &mut self.chains, &self.watch_tx, &self.shared);
        self.last_event = last;
        if let Some(why) = failed.or(error) {
            tracing::error!(
                error = %why,
                "the store cannot write; writing is tried again every {} s once the disk has room",
                HEAL_EVERY.as_secs()
            );
            self.failed(why);
        }
    }

    /// After a write failed: writes are refused until a check write works;
    /// the store is reopened at once, with the reserve's space, because
    /// sled's memory now holds the failed write, which nobody may read.
    fn failed(&mut self, why: String) {
        self.shared.set_trouble(Some(why));
        self.heal_at = Some(Instant::now() + HEAL_EVERY);
        let _ = std::fs::remove_file(self.dir.join(RESERVE_FILE));
        if let Err(e) = self.reopen() {
            tracing::error!(error = %e, "the store cannot be reopened; reads fail until it can");
        }
    }

    fn housekeeping(&mut self) {
        let now = Instant::now();
        if self.heal_at.is_some_and(|t| t <= now) {
            self.heal();
        }
        if self.heal_at.is_none() && self.rewrite_due.is_some_and(|t| t <= now) {
            self.rewrite_due = None;
            match self.rewrite_in_place() {
                Ok(n) => tracing::info!(records = n, "rewrote the store after a forget"),
                Err(e) => {
                    tracing::warn!(error = %e, "rewriting the store after a forget failed; trying again in a minute");
                    self.rewrite_due = Some(now + Duration::from_secs(60));
                }
            }
        }
    }

    /// While writes fail: once the disk has room for the reserve and some
    /// headroom, puts the reserve back and writes a check value; clears the
    /// trouble when that worked.
    fn heal(&mut self) {
        self.heal_at = Some(Instant::now() + HEAL_EVERY);
        if self.db.is_none()
            && let Err(e) = self.reopen()
        {
            tracing::debug!(error = %e, "the store still cannot be reopened");
            return;
        }
        let needed = self.options.reserve_bytes + HEADROOM;
        if free_bytes(&self.dir).is_some_and(|free| free < needed) {
            return;
        }
        if let Err(e) = make_reserve(&self.dir, self.options.reserve_bytes) {
            tracing::debug!(error = %e, "no room for the store's reserve yet");
            return;
        }
        match self.check_write() {
            Ok(()) => {
                tracing::info!("the store writes again");
                self.shared.set_trouble(None);
                self.heal_at = None;
            }
            Err(e) => self.failed(e.to_string()),
        }
    }

    /// Drops the database and opens it afresh. Readers wait meanwhile; if
    /// it cannot be opened, reads fail until it can.
    fn reopen(&mut self) -> Result<(), StoreError> {
        self.shared.swapping.store(true, Ordering::Release);
        self.shared.set_db(None);
        self.db = None;
        let opened = wait_until_released(&self.dir)
            .and_then(|()| open_db(&self.dir, &self.options))
            .and_then(|db| self.adopt(Arc::new(db)));
        self.shared.swapping.store(false, Ordering::Release);
        opened
    }

    /// Takes `db` as the open database: the cached card links and the last
    /// event id are read from it again (a write that failed may or may not
    /// have reached the disk).
    fn adopt(&mut self, db: Arc<sled::Db>) -> Result<(), StoreError> {
        let last = last_id(&db, b'E')?.unwrap_or(0);
        self.chains = Chains::default();
        if last != self.last_event {
            self.last_event = last;
            self.watch_tx.send_replace(last);
        }
        self.shared.set_db(Some(db.clone()));
        self.db = Some(db);
        Ok(())
    }

    fn check_write(&mut self) -> Result<(), StoreError> {
        let db = self.db.as_ref().ok_or(StoreError::Closed)?;
        self.checks += 1;
        db.insert(
            encode_key(&Key::Meta(WRITE_CHECK.into())),
            serde_json::to_vec(&self.checks).unwrap_or_default(),
        )
        .map_err(io)?;
        db.flush().map_err(io)?;
        Ok(())
    }

    /// Copies the live records into a fresh folder and puts it in the
    /// store's place, so values a forget replaced are in no file any more.
    /// Nothing writes meanwhile (this is the writer); readers keep reading
    /// the old database, which holds the same records, until the swap.
    fn rewrite_in_place(&mut self) -> Result<u64, StoreError> {
        let old = self.db.clone().ok_or(StoreError::Closed)?;
        let (fresh, replaced) = rewrite_dirs(&self.dir);
        let fs = |e: std::io::Error| StoreError::Io(format!("rewriting the store: {e}"));
        let n = copy_live(&old, &fresh, &self.options)?;
        wait_until_released(&fresh)?;
        // sled writes no file by path after opening (snapshots only at
        // start), so the old handle may live on in readers after the swap;
        // its folder's files are unlinked, and its lock is on the old inode.
        std::fs::rename(&self.dir, &replaced).map_err(fs)?;
        std::fs::rename(&fresh, &self.dir).map_err(fs)?;
        let reopened = match open_db(&self.dir, &self.options) {
            Ok(db) => Arc::new(db),
            Err(e) => {
                // Reopened by the healer once it can.
                self.shared.set_db(None);
                self.db = None;
                self.shared.set_trouble(Some(e.to_string()));
                self.heal_at = Some(Instant::now() + HEAL_EVERY);
                return Err(e);
            }
        };
        self.adopt(reopened)?;
        drop(old);
        std::fs::remove_dir_all(&replaced).map_err(fs)?;
        let marker = self.dir.join(REWRITE_MARKER);
        if marker.exists() {
            std::fs::remove_file(&marker).map_err(fs)?;
        }
        keep_reserve(&self.dir, self.options.reserve_bytes);
        Ok(n)
    }
}

fn dump(db: &sled::Db, sink: &mut Sink) -> Result<u64, StoreError> {
    let mut n = 0;
    for item in db.iter() {
        let (k, v) = item.map_err(io)?;
        sink(&k, &v).map_err(|e| StoreError::Io(e.to_string()))?;
        n += 1;
    }
    Ok(n)
}

/// The mutations committed together under one flush.
struct Group {
    batch: sled::Batch,
    overlay: HashMap<Vec<u8>, bool>,
    replies: Vec<(oneshot::Sender<Result<Committed, StoreError>>, Committed)>,
    start_event: u64,
    next_event: u64,
    /// Set when linking a card's chain failed: the whole group fails.
    failed: Option<StoreError>,
    /// The group's events with their ids, for the window of recent events.
    events: Vec<Event>,
    /// Cached keys the group writes or deletes.
    cached: Vec<Vec<u8>>,
}

impl Group {
    fn new(last_event: u64) -> Self {
        Self {
            batch: sled::Batch::default(),
            overlay: HashMap::new(),
            replies: Vec::new(),
            start_event: last_event,
            next_event: last_event,
            failed: None,
            events: Vec::new(),
            cached: Vec::new(),
        }
    }

    fn exists(&self, db: &sled::Db, key: &[u8]) -> Result<bool, StoreError> {
        match self.overlay.get(key) {
            Some(present) => Ok(*present),
            None => db.contains_key(key).map_err(io),
        }
    }

    fn add(
        &mut self,
        db: &sled::Db,
        chains: &mut Chains,
        m: Encoded,
        reply: oneshot::Sender<Result<Committed, StoreError>>,
    ) {
        for guard in &m.guards {
            let held = match guard {
                EncodedGuard::Absent(encoded, key) => self
                    .exists(db, encoded)
                    .map(|exists| (!exists).then_some(()).ok_or_else(|| key.clone())),
                EncodedGuard::CardAt(card, newest) => chains
                    .newest(db, *card)
                    .map(|now| (now == Some(*newest)).then_some(()).ok_or(Key::Card(*card))),
                // A card's writer awaits each of its writes: the tree has it
                // (its value carries the card's chain link: decoded whole).
                EncodedGuard::CardHeldOn(card, platforms) => {
                    let key = Key::Card(*card);
                    let encoded = encode_key(&key);
                    match db.get(&encoded) {
                        Ok(Some(v)) => Ok(match decode_record(&encoded, &v) {
                            Ok(Record::Card(c)) if c.platforms == *platforms => Ok(()),
                            _ => Err(key),
                        }),
                        Ok(None) => Ok(Err(key)),
                        Err(e) => Err(io(e)),
                    }
                }
                // A consumer awaits each of its writes, so no write of its
                // cursor is pending in this batch: the tree has its value.
                EncodedGuard::CursorAt(name, at) => {
                    let key = Key::Cursor(name.clone());
                    match db.get(encode_key(&key)) {
                        Ok(Some(v)) => Ok((serde_json::from_slice::<u64>(&v).ok() == Some(*at))
                            .then_some(())
                            .ok_or(key)),
                        Ok(None) => Ok(Err(key)),
                        Err(e) => Err(io(e)),
                    }
                }
                // Templates are saved through the committer too; one
                // process's writes never race its own template saves, so
                // the tree has the latest version.
                EncodedGuard::TemplateAt(template, version) => {
                    let key = Key::Template(*template);
                    match db.get(encode_key(&key)) {
                        Ok(Some(v)) => Ok((serde_json::from_slice::<crate::model::Template>(&v)
                            .ok()
                            .map(|t| t.version)
                            == Some(*version))
                        .then_some(())
                        .ok_or(key)),
                        Ok(None) => Ok(Err(key)),
                        Err(e) => Err(io(e)),
                    }
                }
            };
            match held {
                Ok(Ok(())) => {}
                Ok(Err(key)) => {
                    let _ = reply.send(Err(StoreError::Conflict(key)));
                    return;
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                    return;
                }
            }
        }
        let committed = match self.write(db, chains, m) {
            Ok(event_ids) => Committed { event_ids },
            Err(e) => {
                // Part of it may be in the batch: the whole group fails.
                self.failed.get_or_insert(e);
                Committed::default()
            }
        };
        self.replies.push((reply, committed));
    }

    /// Adds a mutation whose guards held: card records go to the chains
    /// first (an issued card links its first event), then the events.
    fn write(
        &mut self,
        db: &sled::Db,
        chains: &mut Chains,
        m: Encoded,
    ) -> Result<Vec<u64>, StoreError> {
        let mut puts = Vec::with_capacity(m.puts.len());
        for (k, v) in m.puts {
            match card_chains::card_of_key(&k) {
                Some(card) => chains.put_card(db, card, v)?,
                None => puts.push((k, v)),
            }
        }
        let mut ids = Vec::with_capacity(m.events.len());
        for (card, event, mut decoded) in m.events {
            self.next_event += 1;
            let id = self.next_event;
            ids.push(id);
            decoded.id = id;
            self.events.push(decoded);
            let prev = match card {
                Some(card) => chains.link(db, card, id)?,
                None => 0,
            };
            self.batch.insert(
                encode_key(&Key::Event(id)),
                splice_event_id(&event, id, prev),
            );
        }
        for d in m.derived {
            let (k, r) = d(&ids);
            let (k, v) = (encode_key(&k), encode_record(&r));
            match card_chains::card_of_key(&k) {
                Some(card) => chains.put_card(db, card, v)?,
                None => puts.push((k, v)),
            }
        }
        for (k, v) in puts {
            if cacheable(&k) {
                self.cached.push(k.clone());
            }
            // Any key may be guarded (a `mark_once` meta key too): a later
            // mutation of the group sees what an earlier one wrote.
            self.overlay.insert(k.clone(), true);
            self.batch.insert(k, v);
        }
        for k in m.deletes {
            if let Some(card) = card_chains::card_of_key(&k) {
                chains.delete_card(card);
            }
            if cacheable(&k) {
                self.cached.push(k.clone());
            }
            self.overlay.insert(k.clone(), false);
            self.batch.remove(k);
        }
        Ok(ids)
    }

    /// Applies and flushes; answers everyone; returns the last event id,
    /// and why the write failed when it did.
    fn finish(
        mut self,
        db: &sled::Db,
        chains: &mut Chains,
        watch_tx: &watch::Sender<u64>,
        shared: &Shared,
    ) -> (u64, Option<String>) {
        if self.replies.is_empty() {
            chains.settle(false);
            return (self.start_event, None);
        }
        let result = match self.failed.take() {
            Some(e) => Err(e),
            None => {
                chains.finish(&mut self.batch);
                db.apply_batch(self.batch)
                    .and_then(|_| db.flush().map(|_| ()))
                    .map_err(io)
            }
        };
        chains.settle(result.is_ok());
        // Before anyone hears back, applied or not (a failed apply may have
        // written part of the batch).
        if !self.cached.is_empty() {
            shared
                .records
                .written(self.cached.iter().map(Vec::as_slice));
        }
        match result {
            Ok(()) => {
                // Held before anyone hears of them: a follower woken by the
                // watch or by an answer finds them there.
                shared.recent.committed(self.events);
                // The newest id too: a caller that reads `last_event_id`
                // after its answer sees its own events.
                if self.next_event != self.start_event {
                    watch_tx.send_replace(self.next_event);
                }
                for (reply, committed) in self.replies {
                    let _ = reply.send(Ok(committed));
                }
                (self.next_event, None)
            }
            Err(e) => {
                let failed_write = matches!(e, StoreError::Io(_));
                let msg = match e {
                    StoreError::Io(msg) => msg,
                    other => other.to_string(),
                };
                // The trouble is known before anyone hears of the refusal: a
                // caller that asks `/healthz` next is told the store cannot write.
                if failed_write {
                    shared.set_trouble(Some(msg.clone()));
                }
                for (reply, _) in self.replies {
                    let _ = reply.send(Err(StoreError::Io(msg.clone())));
                }
                (self.start_event, failed_write.then_some(msg))
            }
        }
    }
}

/// A visitor of a card's chain: an event's key, id and JSON body in; whether
/// to go on out.
type ChainVisit<'a> = dyn FnMut(&[u8], u64, &[u8]) -> Result<bool, StoreError> + 'a;

impl SledStore {
    /// Walks a card's journal chain from its card record, newest first:
    /// `visit` gets each event's key, id and JSON body, and returns whether
    /// to go on.
    fn walk_chain(&self, card: u64, visit: &mut ChainVisit<'_>) -> Result<(), StoreError> {
        let key = card_chains::card_key(card);
        let db = self.shared.db()?;
        let Some(stored) = db.get(&key).map_err(io)? else {
            return Ok(());
        };
        let (mut next, _) =
            card_chains::split(&stored).ok_or_else(|| corrupt(&key, "shorter than its link"))?;
        while next != 0 {
            let k = encode_key(&Key::Event(next));
            let v = db
                .get(&k)
                .map_err(io)?
                .ok_or_else(|| corrupt(&k, format!("event {next} of card {card} is missing")))?;
            let (prev, body) =
                card_chains::split(&v).ok_or_else(|| corrupt(&k, "shorter than its link"))?;
            if prev >= next {
                return Err(corrupt(&k, "the card's chain does not go back in time"));
            }
            if !visit(&k, next, body)? {
                break;
            }
            next = prev;
        }
        Ok(())
    }
}

impl Store for SledStore {
    fn get(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        let k = encode_key(key);
        let generation = match cacheable(&k) {
            true => match self.shared.records.get(&k) {
                Ok(record) => return Ok(Some(record)),
                Err(generation) => Some(generation),
            },
            false => None,
        };
        let Some(v) = self.shared.db()?.get(&k).map_err(io)? else {
            return Ok(None);
        };
        let record = decode_record(&k, &v)?;
        if let Some(generation) = generation {
            self.shared.records.keep(generation, &k, &record);
        }
        Ok(Some(record))
    }

    fn scan(&self, family: Family, scan: Scan) -> Result<Vec<(Key, Record)>, StoreError> {
        if let (Family::Events, Some(after), false) = (family, scan.after, scan.reverse)
            && let Some(events) = self.shared.recent.after(after, scan.limit)
        {
            return Ok(events
                .into_iter()
                .map(|e| (Key::Event(e.id), Record::Event(e)))
                .collect());
        }
        let prefix = family_prefix(family);
        let limit = if scan.limit == 0 {
            usize::MAX
        } else {
            scan.limit
        };
        let mut out = Vec::new();
        let mut push = |item: sled::Result<(sled::IVec, sled::IVec)>| -> Result<bool, StoreError> {
            let (k, v) = item.map_err(io)?;
            out.push((decode_key(&k)?, decode_record(&k, &v)?));
            Ok(out.len() < limit)
        };
        let mut end = prefix.clone();
        increment(&mut end);
        let db = self.shared.db()?;
        match (scan.after, scan.reverse) {
            (None, false) => {
                for item in db.scan_prefix(&prefix) {
                    if !push(item)? {
                        break;
                    }
                }
            }
            (None, true) => {
                for item in db.scan_prefix(&prefix).rev() {
                    if !push(item)? {
                        break;
                    }
                }
            }
            (Some(after), false) => {
                let mut start = prefix.clone();
                start.extend_from_slice(&after.to_be_bytes());
                increment(&mut start);
                for item in db.range(start..end) {
                    if !push(item)? {
                        break;
                    }
                }
            }
            (Some(after), true) => {
                let mut stop = prefix.clone();
                stop.extend_from_slice(&after.to_be_bytes());
                for item in db.range(prefix.clone()..stop).rev() {
                    if !push(item)? {
                        break;
                    }
                }
            }
        }
        Ok(out)
    }

    fn for_each(
        &self,
        family: Family,
        visit: &mut dyn FnMut(Key, Record) -> bool,
    ) -> Result<(), StoreError> {
        for item in self.shared.db()?.scan_prefix(family_prefix(family)) {
            let (k, v) = item.map_err(io)?;
            if !visit(decode_key(&k)?, decode_record(&k, &v)?) {
                break;
            }
        }
        Ok(())
    }

    fn commit(&self, mutation: Mutation) -> CommitFuture {
        let marker = mutation
            .puts
            .iter()
            .any(|(k, _)| matches!(k, Key::Meta(m) if m == REWRITE_PENDING))
            .then(|| self.dir.join(REWRITE_MARKER));
        let mutation = encode_mutation(mutation);
        let (tx, rx) = oneshot::channel();
        let sent = self
            .jobs
            .lock()
            .ok()
            .and_then(|j| {
                j.as_ref()
                    .map(|s| s.send(Job::Commit(mutation, tx)).is_ok())
            })
            .unwrap_or(false);
        Box::pin(async move {
            if !sent {
                return Err(StoreError::Closed);
            }
            let committed = rx.await.unwrap_or(Err(StoreError::Closed))?;
            if let Some(path) = marker {
                std::fs::write(&path, b"")
                    .map_err(|e| StoreError::Io(format!("{}: {e}", path.display())))?;
            }
            Ok(committed)
        })
    }

    fn next_id(&self, family: Family) -> Result<u64, StoreError> {
        let (prefix, first) = sequence(family).unwrap_or((b'?', 1));
        let mut seqs = self.sequences.lock().unwrap_or_else(|e| e.into_inner());
        let entry = match seqs.entry(prefix) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let db = self.shared.db()?;
                let stored = if prefix == b'B' {
                    match db
                        .get(encode_key(&Key::Meta("last_batch".into())))
                        .map_err(io)?
                    {
                        Some(v) => Some(serde_json::from_slice::<u64>(&v).map_err(|e| {
                            corrupt(&encode_key(&Key::Meta("last_batch".into())), e.to_string())
                        })?),
                        None => None,
                    }
                } else {
                    last_id(&db, prefix)?
                };
                slot.insert(stored.unwrap_or(first - 1))
            }
        };
        *entry += 1;
        Ok(*entry)
    }

    fn last_event_id(&self) -> u64 {
        *self.last_event.borrow()
    }

    fn watch_events(&self) -> watch::Receiver<u64> {
        self.last_event.clone()
    }

    fn snapshot(&self, sink: Sink) -> super::SnapshotFuture {
        let (tx, rx) = oneshot::channel();
        let sent = self
            .jobs
            .lock()
            .ok()
            .and_then(|j| j.as_ref().map(|s| s.send(Job::Snapshot(sink, tx)).is_ok()))
            .unwrap_or(false);
        Box::pin(async move {
            if !sent {
                return Err(StoreError::Closed);
            }
            rx.await.unwrap_or(Err(StoreError::Closed))
        })
    }

    fn card_events(
        &self,
        card: u64,
        visit: &mut dyn FnMut(Event) -> bool,
    ) -> Result<(), StoreError> {
        self.walk_chain(card, &mut |key, _, body| {
            Ok(visit(
                serde_json::from_slice(body).map_err(|e| corrupt(key, e))?,
            ))
        })
    }

    fn card_event_ids(&self, card: u64, after: u64, limit: usize) -> Result<Vec<u64>, StoreError> {
        let mut ids = Vec::new();
        if limit > 0 {
            self.walk_chain(card, &mut |_, id, _| {
                if id <= after {
                    return Ok(false);
                }
                ids.push(id);
                Ok(ids.len() < limit)
            })?;
        }
        Ok(ids)
    }

    fn write_trouble(&self) -> Option<String> {
        self.shared.trouble()
    }

    fn close(&self) {
        SledStore::close(self);
    }

    fn count(&self, family: Family) -> Result<u64, StoreError> {
        let mut n = 0;
        for item in self.shared.db()?.scan_prefix(family_prefix(family)) {
            item.map_err(io)?;
            n += 1;
        }
        Ok(n)
    }
}

fn increment(bytes: &mut Vec<u8>) {
    while let Some(last) = bytes.pop() {
        if last < 255 {
            bytes.push(last + 1);
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopening_waits_for_the_lock_only_while_another_handle_holds_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        // No store yet: nothing to wait for.
        wait_until_released_within(dir.path(), Duration::ZERO).expect("no store");
        let db = sled::Config::new().path(dir.path()).open().expect("open");
        // sled holds the lock: a caller out of patience is told so.
        assert!(matches!(
            wait_until_released_within(dir.path(), Duration::ZERO),
            Err(StoreError::Locked(_))
        ));
        drop(db);
        // Once sled lets go (maybe a moment after the drop), the wait ends
        // and the store opens.
        wait_until_released(dir.path()).expect("released");
        SledStore::open(dir.path(), SledOptions::default()).expect("reopen");
    }

    #[test]
    fn a_rewrite_interrupted_between_its_two_renames_is_finished_at_open() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("store");
        {
            let s = SledStore::open(&dir, SledOptions::default()).expect("open");
            let db = s.shared.db().expect("db");
            db.insert(b"k", b"v".to_vec()).expect("insert");
            db.flush().expect("flush");
            s.close();
        }
        wait_until_released(&dir).expect("released");
        SledStore::rewrite(&dir, SledOptions::default()).expect("rewrite");
        // A crash after the store went aside but before the fresh copy took
        // its place: the next open puts the fresh copy in place.
        let (fresh, replaced) = rewrite_dirs(&dir);
        std::fs::rename(&dir, &fresh).expect("as if the copy were unfinished");
        std::fs::create_dir(&replaced).expect("the old one aside");
        let s = SledStore::open(&dir, SledOptions::default()).expect("open settles");
        assert_eq!(
            s.shared
                .db()
                .expect("db")
                .get(b"k")
                .expect("get")
                .as_deref(),
            Some(&b"v"[..])
        );
        assert!(!fresh.exists() && !replaced.exists());
    }
}
