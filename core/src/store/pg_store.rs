//! The PostgreSQL store: the same seam as sled, for an owner who wants the
//! shop in a database they already back up and replicate (and, next, for
//! several `serve` processes).
//!
//! - Reads run on a [`ReadPool`] of the store's own threads, over a small
//!   pool of connections (deadpool); see ARCHITECTURE.md for why the seam's
//!   reads stay synchronous.
//! - Writes go through one committer task with a connection of its own
//!   (`pg_commit.rs`): group commit, one transaction per batch.
//! - That connection holds a session advisory lock: one process writes a
//!   database, as sled's folder lock makes one process own a folder.
//! - The journal's newest id reaches [`Store::watch_events`] from the
//!   committer, from `LISTEN stampcard_events` (other writers' commits), and
//!   from a poll every two seconds should a notification be missed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_postgres::{Client, Config, NoTls};

use super::across::{ACROSS_PATIENCE, Across, AcrossFuture, AcrossRequest};
use super::duty::{DUTY_CHECK, Duty, DutyFuture, duty_key};
use super::pg_commit::{Committer, Job};
use super::pg_layout::{
    self, KINDS, Kind, Param, RawJson, SCHEMA_VERSION, Table, key_from_row, key_params,
    record_from_row,
};
use super::{
    CommitFuture, FORMAT_VERSION, Family, Key, Mutation, ReadPool, Record, Scan, SnapshotFuture,
    SnapshotSink, Store, StoreError,
};
use crate::model::Event;

/// The session advisory lock a writing process holds on its database.
const OWNER_LOCK: i64 = 0x5354_414d_5043_4152; // "STAMPCAR"
/// The transaction advisory lock under which a batch takes its event ids.
pub(super) const EVENT_ID_LOCK: i64 = 0x5354_414d_5045_5654; // "STAMPEVT"
/// The channel commits notify with the newest event id, followed by the
/// words of what else they wrote that other processes must know
/// ([`Written`](super::Written)).
pub(super) const CHANNEL: &str = "stampcard_events";
/// Rows read per round trip when a scan visits a whole family.
const PAGE: i64 = 2_000;

/// Tuning of the PostgreSQL store.
#[derive(Debug, Clone, Copy)]
pub struct PgOptions {
    /// Connections for reads.
    pub read_connections: usize,
    /// Most mutations in one transaction.
    pub max_batch: usize,
    /// How long the committer tries to reach the database again after a
    /// connection broke, before it answers its callers that it cannot.
    pub reconnect_patience: Duration,
    /// How long opening waits for the owner's lock before it says the
    /// database is in use.
    pub lock_patience: Duration,
    /// Several processes (nodes) serve this database together: each holds
    /// the owner's lock shared, and duties are handed out one node at a
    /// time ([`Store::hold_duty`]). A process that is not shared still
    /// owns the database alone, and is refused while nodes run.
    pub shared: bool,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            read_connections: 8,
            max_batch: 1024,
            reconnect_patience: Duration::from_secs(30),
            lock_patience: Duration::from_secs(2),
            shared: false,
        }
    }
}

/// A store URL with its password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(a store URL)".into();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some((auth, host)) => (Some(auth), host),
        None => (None, rest),
    };
    match auth {
        Some(auth) => {
            let user = auth.split(':').next().unwrap_or_default();
            let hidden = if auth.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}")
        }
        None => format!("{scheme}://{host}"),
    }
    .split("password=")
    .next()
    .unwrap_or_default()
    .to_string()
}

/// Parses a store URL (`postgres://user:password@host:port/database`).
pub(super) fn parse_url(url: &str) -> Result<Config, StoreError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(StoreError::Io(format!(
            "the store URL {} is not a postgres:// URL",
            redact_url(url)
        )));
    }
    url.parse::<Config>().map_err(|e| {
        StoreError::Io(format!(
            "the store URL {} is not valid: {e}",
            redact_url(url)
        ))
    })
}

/// What went wrong reaching or asking the database, in one line without
/// the password.
pub(super) fn pg_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text = format!("{text}: {s}");
                source = s.source();
            }
            text
        }
    }
}

pub(super) fn io(e: tokio_postgres::Error) -> StoreError {
    StoreError::Io(format!("PostgreSQL: {}", pg_error(&e)))
}

/// Connects one client and drives its connection on the current runtime.
pub(super) async fn connect(config: &Config) -> Result<Client, StoreError> {
    let (client, connection) = config.connect(NoTls).await.map_err(|e| {
        StoreError::Io(format!(
            "cannot connect to PostgreSQL ({}): {}",
            describe(config),
            pg_error(&e)
        ))
    })?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "a PostgreSQL connection ended");
        }
    });
    Ok(client)
}

/// Connects the writer's client and takes the owner's advisory lock with
/// it (shared by the nodes of a shared database): refused (`Locked`) while
/// another process holds it in the other way.
pub(super) async fn connect_owner(config: &Config, shared: bool) -> Result<Client, StoreError> {
    let client = connect(config).await?;
    let sql = match shared {
        true => "SELECT pg_try_advisory_lock_shared($1)",
        false => "SELECT pg_try_advisory_lock($1)",
    };
    let locked: bool = client
        .query_one(sql, &[&OWNER_LOCK])
        .await
        .map_err(io)?
        .get(0);
    if !locked {
        return Err(StoreError::Locked(match shared {
            true => format!(
                "the database {} is in use by a stampcard process that owns it alone (one without `[store] shared = true`)",
                describe(config)
            ),
            false => format!(
                "the database {} is in use by another stampcard process (several nodes need `[store] shared = true` on each)",
                describe(config)
            ),
        }));
    }
    Ok(client)
}

/// The class of the duties' advisory locks (their two-key form, apart from
/// the owner's and the event-id lock).
const DUTY_CLASS: i32 = 0x5354_4455; // "STDU"

/// Waits for a duty's advisory lock on a connection of its own, then holds
/// it, checking the connection every [`DUTY_CHECK`], until the duty is
/// dropped (its session closes) or the connection breaks (reported lost).
async fn hold_duty(config: Config, name: String, got: oneshot::Sender<Result<Duty, StoreError>>) {
    let key = duty_key(&name);
    let mut client: Option<Client> = None;
    let client = loop {
        if got.is_closed() {
            return;
        }
        if client.is_none() {
            client = connect(&config).await.ok();
        }
        if let Some(c) = &client {
            match c
                .query_one("SELECT pg_try_advisory_lock($1, $2)", &[&DUTY_CLASS, &key])
                .await
            {
                Ok(row) if row.get::<_, bool>(0) => break client.take(),
                Ok(_) => {}
                Err(_) => client = None,
            }
        }
        tokio::time::sleep(DUTY_CHECK).await;
    };
    let Some(client) = client else { return };
    tracing::info!(duty = %name, "this process took the duty");
    let (lost_tx, lost_rx) = watch::channel(false);
    let (release_tx, mut release_rx) = oneshot::channel::<()>();
    if got.send(Ok(Duty::held(lost_rx, release_tx))).is_err() {
        return;
    }
    loop {
        tokio::select! {
            _ = &mut release_rx => return,
            _ = tokio::time::sleep(DUTY_CHECK) => {
                let alive = tokio::time::timeout(DUTY_CHECK * 3, client.simple_query("SELECT 1"))
                    .await
                    .is_ok_and(|r| r.is_ok());
                if !alive {
                    tracing::warn!(duty = %name, "lost the duty: its connection to PostgreSQL broke");
                    let _ = lost_tx.send(true);
                    return;
                }
            }
        }
    }
}

/// The class of the locks across nodes (their two-key form, apart from
/// duties).
const ACROSS_CLASS: i32 = 0x5354_4143; // "STAC"

/// Serves one name's lock across nodes: each request (one at a time, as its
/// callers hold their own mutex) takes the advisory lock on this task's
/// connection, waiting at most [`ACROSS_PATIENCE`] (`lock_timeout`), and lets
/// it go when the caller drops what it got.
async fn serve_across(
    config: Config,
    name: String,
    mut requests: mpsc::UnboundedReceiver<AcrossRequest>,
) {
    let key = duty_key(&name);
    let mut client: Option<Client> = None;
    while let Some(reply) = requests.recv().await {
        if client.is_none() {
            client = match connect(&config).await {
                Ok(c) => {
                    let patience = ACROSS_PATIENCE.as_millis();
                    let set = c
                        .batch_execute(&format!("SET lock_timeout = {patience}"))
                        .await;
                    set.ok().map(|()| c)
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                    continue;
                }
            };
        }
        let Some(c) = &client else {
            let _ = reply.send(Err(StoreError::Io(format!(
                "PostgreSQL: cannot set up the lock `{name}`"
            ))));
            continue;
        };
        if let Err(e) = c
            .execute("SELECT pg_advisory_lock($1, $2)", &[&ACROSS_CLASS, &key])
            .await
        {
            let timed_out = e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE);
            if !timed_out {
                client = None;
            }
            let _ = reply.send(Err(match timed_out {
                true => StoreError::Io(format!(
                    "another node has held the lock `{name}` for over {} s",
                    ACROSS_PATIENCE.as_secs()
                )),
                false => io(e),
            }));
            continue;
        }
        let (release, released) = oneshot::channel::<()>();
        if reply.send(Ok(Across::held(release))).is_ok() {
            // Let go (or dropped by a caller that gave up): unlock.
            let _ = released.await;
        }
        if c.execute("SELECT pg_advisory_unlock($1, $2)", &[&ACROSS_CLASS, &key])
            .await
            .is_err()
        {
            // A broken session let the lock go with it.
            client = None;
        }
    }
}

/// `user@host:port/database`, without the password.
pub(super) fn describe(config: &Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(h) => h.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{}",
        config.get_user().unwrap_or("?"),
        config.get_dbname().unwrap_or("?")
    )
}

/// The shop in a PostgreSQL database.
pub struct PgStore {
    pool: Pool,
    runtime: ReadPool,
    jobs: Mutex<Option<mpsc::UnboundedSender<Job>>>,
    committer: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
    last_event: watch::Receiver<u64>,
    trouble: Arc<Mutex<Option<String>>>,
    /// Stops the listener.
    stop: watch::Sender<bool>,
    config: Config,
    shared: bool,
    /// What each batch (of any node) wrote that processes must know.
    written: tokio::sync::broadcast::Sender<super::Written>,
    /// The task serving each lock across nodes, by name.
    across: Mutex<HashMap<String, mpsc::UnboundedSender<AcrossRequest>>>,
}

impl PgStore {
    /// Opens the shop in the database at `url`, creating the schema in an
    /// empty database; refuses a database of another application, one
    /// written by a newer stampcard, and one another process writes.
    pub fn open(url: &str, options: PgOptions) -> Result<Self, StoreError> {
        let config = parse_url(url)?;
        let runtime = ReadPool::new("stampcard-pg", 2)?;
        let (client, last) = {
            let config = config.clone();
            runtime.run(async move {
                // A process killed a moment ago may still hold the lock
                // until the server notices its connection is gone.
                let deadline = std::time::Instant::now() + options.lock_patience;
                let client = loop {
                    match connect_owner(&config, options.shared).await {
                        Err(StoreError::Locked(_)) if std::time::Instant::now() < deadline => {
                            tokio::time::sleep(Duration::from_millis(100)).await
                        }
                        other => break other?,
                    }
                };
                prepare_schema(&client).await?;
                let last = max_event_id(&client).await?;
                Ok((client, last))
            })?
        };
        let (watch_tx, watch_rx) = watch::channel(last);
        let watch_tx = Arc::new(watch_tx);
        let trouble = Arc::new(Mutex::new(None));
        let (tx, rx) = mpsc::unbounded_channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let committer = Committer::new(
            client,
            config.clone(),
            options,
            watch_tx.clone(),
            trouble.clone(),
        );
        runtime.spawn(async move {
            committer.run(rx).await;
            let _ = done_tx.send(());
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let (written, _) = tokio::sync::broadcast::channel(256);
        let mut listener = config.clone();
        listener.application_name(LISTENER_NAME);
        let (ready_tx, ready_rx) = oneshot::channel();
        runtime.spawn(listen(
            listener,
            watch_tx,
            written.clone(),
            stop_rx,
            ready_tx,
        ));
        // Listening before the shop reads anything it keeps in memory: then
        // nothing another node writes from now on goes unheard. (A listener
        // that cannot connect yet gives notice of everything once it can.)
        runtime.run(async move {
            let _ = tokio::time::timeout(LISTENER_PATIENCE, ready_rx).await;
            Ok::<(), StoreError>(())
        })?;
        let config_for_duties = config.clone();
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.read_connections.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .create_timeout(Some(Duration::from_secs(10)))
            .wait_timeout(Some(Duration::from_secs(30)))
            .build()
            .map_err(|e| StoreError::Io(format!("PostgreSQL connection pool: {e}")))?;
        Ok(Self {
            pool,
            runtime,
            jobs: Mutex::new(Some(tx)),
            committer: Mutex::new(Some(done_rx)),
            last_event: watch_rx,
            trouble,
            stop: stop_tx,
            config: config_for_duties,
            shared: options.shared,
            written,
            across: Mutex::default(),
        })
    }

    /// Waits for queued commits to finish and stops the committer.
    pub fn close(&self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        if let Some(done) = self.committer.lock().ok().and_then(|mut d| d.take()) {
            let _ = done.recv_timeout(Duration::from_secs(30));
        }
        let _ = self.stop.send(true);
    }

    /// Runs a read on the store's threads with a pooled connection.
    fn read<T, F, Fut>(&self, read: F) -> Result<T, StoreError>
    where
        F: FnOnce(deadpool_postgres::Object) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T, StoreError>> + Send,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        self.runtime.run(async move {
            let client = pool
                .get()
                .await
                .map_err(|e| StoreError::Io(format!("PostgreSQL cannot be reached: {e}")))?;
            read(client).await
        })
    }

    /// Loads records in the sled store's encoding (a backup's, or another
    /// store's snapshot) into this empty database, keeping every id; the
    /// sequences continue after the highest. Returns how many.
    pub fn load_snapshot(
        &self,
        records: impl Iterator<Item = std::io::Result<(Vec<u8>, Vec<u8>)>>,
    ) -> Result<u64, StoreError> {
        let mut n = 0;
        let mut chunk = Vec::new();
        for r in records {
            let (k, v) = r.map_err(|e| StoreError::Io(e.to_string()))?;
            let key = super::sled_layout::decode_key(&k)?;
            let record = super::sled_layout::decode_record(&k, &v)?;
            chunk.push((key, record));
            n += 1;
            if chunk.len() >= 5_000 {
                self.load_chunk(std::mem::take(&mut chunk))?;
            }
        }
        self.load_chunk(chunk)?;
        self.read(|client| async move { super::pg_commit::continue_sequences(&client).await })?;
        Ok(n)
    }

    fn load_chunk(&self, chunk: Vec<(Key, Record)>) -> Result<(), StoreError> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.read(move |client| async move {
            let client: &Client = &client;
            client.batch_execute("BEGIN").await.map_err(io)?;
            let written = super::pg_commit::Writes::of_records(chunk)
                .apply(client)
                .await;
            match written {
                Ok(()) => client.batch_execute("COMMIT").await.map_err(io),
                Err(e) => {
                    let _ = client.batch_execute("ROLLBACK").await;
                    Err(e)
                }
            }
        })
    }

    /// Whether the database holds no record yet (a `store copy` target).
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        self.read(|client| async move {
            for kind in KINDS {
                if *kind == Kind::Meta {
                    continue;
                }
                let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", kind.table().name);
                let any: bool = client.query_one(&sql, &[]).await.map_err(io)?.get(0);
                if any {
                    return Ok(false);
                }
            }
            Ok(true)
        })
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.close();
    }
}

/// The newest event id in the database (0 when none).
pub(super) async fn max_event_id(client: &Client) -> Result<u64, StoreError> {
    let max: i64 = client
        .query_one("SELECT coalesce(max(id), 0) FROM events", &[])
        .await
        .map_err(io)?
        .get(0);
    Ok(max as u64)
}

/// Creates the schema in an empty database, or checks the one there.
async fn prepare_schema(client: &Client) -> Result<(), StoreError> {
    let ours: bool = client
        .query_one("SELECT to_regclass('stampcard_schema') IS NOT NULL", &[])
        .await
        .map_err(io)?
        .get(0);
    if ours {
        let version: i32 = client
            .query_one("SELECT max(version) FROM stampcard_schema", &[])
            .await
            .map_err(io)?
            .try_get::<_, Option<i32>>(0)
            .map_err(io)?
            .unwrap_or(0);
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                found: version as u32,
                supported: SCHEMA_VERSION as u32,
            });
        }
        return check_format(client).await;
    }
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
            &[],
        )
        .await
        .map_err(io)?
        .get(0);
    if tables > 0 {
        return Err(StoreError::Io(format!(
            "the database holds {tables} table(s) of another application and no stampcard shop: use an empty database"
        )));
    }
    let mut ddl = vec![
        "CREATE TABLE stampcard_schema (version integer NOT NULL, written_by text NOT NULL, at timestamptz NOT NULL DEFAULT now())".to_string(),
        "CREATE TABLE commit_batches (id text PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())".to_string(),
    ];
    for kind in KINDS {
        ddl.push(kind.table().ddl());
    }
    ddl.push(
        "CREATE INDEX events_by_card ON events (card_id, id) WHERE card_id IS NOT NULL".into(),
    );
    ddl.push(
        "CREATE INDEX events_by_customer ON events (customer_id, id) WHERE customer_id IS NOT NULL"
            .into(),
    );
    ddl.push("CREATE SEQUENCE misc_seq".into());
    for (name, first, _) in pg_layout::sequences() {
        ddl.push(format!("CREATE SEQUENCE {name} START {first} MINVALUE 1"));
    }
    ddl.push(format!(
        "INSERT INTO stampcard_schema (version, written_by) VALUES ({SCHEMA_VERSION}, 'stampcard {}')",
        env!("CARGO_PKG_VERSION")
    ));
    ddl.push(format!(
        "INSERT INTO meta (name, body) VALUES ('format_version', '{FORMAT_VERSION}')"
    ));
    let script = format!("BEGIN;\n{};\nCOMMIT;", ddl.join(";\n"));
    client.batch_execute(&script).await.map_err(io)
}

/// The data format of the records (the `format_version` meta record).
async fn check_format(client: &Client) -> Result<(), StoreError> {
    let row = client
        .query_opt("SELECT body FROM meta WHERE name = 'format_version'", &[])
        .await
        .map_err(io)?;
    let found = match row {
        Some(row) => {
            let body: RawJson = row.try_get(0).map_err(io)?;
            serde_json::from_slice::<u32>(&body.0).unwrap_or(0)
        }
        None => FORMAT_VERSION,
    };
    match found {
        f if f > FORMAT_VERSION => Err(StoreError::TooNew {
            found: f,
            supported: FORMAT_VERSION,
        }),
        f if f < FORMAT_VERSION => Err(StoreError::Outdated {
            found: f,
            current: FORMAT_VERSION,
        }),
        _ => Ok(()),
    }
}

/// The `application_name` of each process's listener connection (it tells
/// it apart in `pg_stat_activity`).
pub const LISTENER_NAME: &str = "stampcard listener";

/// How long opening a store waits for its listener's first `LISTEN`.
const LISTENER_PATIENCE: Duration = Duration::from_secs(5);

/// Follows other writers' commits: `LISTEN`, with a poll every two seconds
/// as the fallback (a dropped listener connection, a missed notification).
/// `ready` is told once the first `LISTEN` holds, if the opener still waits.
async fn listen(
    config: Config,
    watch_tx: Arc<watch::Sender<u64>>,
    written: tokio::sync::broadcast::Sender<super::Written>,
    mut stop: watch::Receiver<bool>,
    ready: oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    use futures_util::StreamExt;
    let advance = |id: u64| {
        watch_tx.send_if_modified(|last| {
            let newer = id > *last;
            if newer {
                *last = id;
            }
            newer
        });
    };
    loop {
        if *stop.borrow() {
            return;
        }
        let connected = config.connect(NoTls).await;
        let Ok((client, mut connection)) = connected else {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(2)) => continue,
                _ = stop.changed() => return,
            }
        };
        let (note_tx, mut note_rx) = mpsc::unbounded_channel();
        let driver = tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(Ok(message)) = messages.next().await {
                if let tokio_postgres::AsyncMessage::Notification(n) = message {
                    let mut words = n.payload().split(' ');
                    let id = words
                        .next()
                        .and_then(|w| w.parse::<u64>().ok())
                        .unwrap_or(0);
                    let kinds: Vec<super::Written> =
                        words.filter_map(super::Written::from_word).collect();
                    let _ = note_tx.send((id, kinds));
                }
            }
        });
        if client
            .batch_execute(&format!("LISTEN {CHANNEL}"))
            .await
            .is_err()
        {
            driver.abort();
            continue;
        }
        // Notifications sent while no listener was connected (between a
        // dropped connection and this one, or before a first one the opener
        // did not wait for) are lost: what this process keeps in memory may
        // be stale in every way.
        let heard_all = ready.take().is_some_and(|r| r.send(()).is_ok());
        if !heard_all {
            for kind in super::Written::ALL {
                let _ = written.send(kind);
            }
        }
        let mut poll = tokio::time::interval(Duration::from_secs(2));
        loop {
            tokio::select! {
                note = note_rx.recv() => match note {
                    Some((id, kinds)) => {
                        advance(id);
                        for kind in kinds {
                            let _ = written.send(kind);
                        }
                    }
                    None => break,
                },
                _ = poll.tick() => match max_event_id(&client).await {
                    Ok(id) => advance(id),
                    Err(_) => break,
                },
                _ = stop.changed() => {
                    driver.abort();
                    return;
                }
            }
        }
        driver.abort();
    }
}

/// `SELECT <key columns, value> FROM <table>` for a kind.
fn select(table: &Table) -> String {
    format!("SELECT {} FROM {}", table.select_list(), table.name)
}

fn params(list: &[Param]) -> Vec<&(dyn tokio_postgres::types::ToSql + Sync)> {
    list.iter()
        .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect()
}

/// One page of a family: rows after `after` (in the scan's direction).
async fn scan_page(
    client: &deadpool_postgres::Object,
    kind: Kind,
    fixed: &[Param],
    after: Option<u64>,
    reverse: bool,
    limit: Option<i64>,
) -> Result<Vec<(Key, Record)>, StoreError> {
    let table = kind.table();
    let mut conditions: Vec<String> = table.keys[..fixed.len()]
        .iter()
        .enumerate()
        .map(|(i, (n, _))| format!("{n} = ${}", i + 1))
        .collect();
    let mut list: Vec<Param> = fixed.to_vec();
    // `after` bounds the first key column after the fixed ones, when it
    // is a number (ids); a text key (receipt codes) has no such bound.
    let next = table.keys.get(fixed.len());
    if let (Some(after), Some((column, pg_layout::Col::Int))) = (after, next) {
        list.push(Param::Int(after.min(i64::MAX as u64) as i64));
        conditions.push(format!(
            "{column} {} ${}",
            if reverse { "<" } else { ">" },
            list.len()
        ));
    }
    let order: Vec<String> = table.keys[fixed.len()..]
        .iter()
        .map(|(n, _)| format!("{n}{}", if reverse { " DESC" } else { "" }))
        .collect();
    let mut sql = select(table);
    if !conditions.is_empty() {
        sql.push_str(&format!(" WHERE {}", conditions.join(" AND ")));
    }
    if !order.is_empty() {
        sql.push_str(&format!(" ORDER BY {}", order.join(", ")));
    }
    if let Some(limit) = limit {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    let stmt = client.prepare_cached(&sql).await.map_err(io)?;
    let rows = client.query(&stmt, &params(&list)).await.map_err(io)?;
    rows.iter()
        .map(|row| {
            let key = key_from_row(kind, row)?;
            let record = record_from_row(kind, &key, row)?;
            Ok((key, record))
        })
        .collect()
}

/// The id a row's key ends in (for paging), if it is a number.
fn last_id(key: &Key) -> Option<u64> {
    match key_params(key).1.last() {
        Some(Param::Int(v)) => Some(*v as u64),
        _ => None,
    }
}

impl Store for PgStore {
    fn is_shared(&self) -> bool {
        self.shared
    }

    fn watch_written(&self) -> Option<tokio::sync::broadcast::Receiver<super::Written>> {
        self.shared.then(|| self.written.subscribe())
    }

    fn hold_duty(&self, name: &str) -> DutyFuture {
        if !self.shared {
            return Box::pin(async { Ok(Duty::sole()) });
        }
        let (got_tx, got_rx) = oneshot::channel();
        self.runtime
            .spawn(hold_duty(self.config.clone(), name.to_string(), got_tx));
        Box::pin(async move { got_rx.await.unwrap_or(Err(StoreError::Closed)) })
    }

    fn lock_across(&self, name: &str) -> AcrossFuture {
        if !self.shared {
            return Box::pin(async { Ok(Across::sole()) });
        }
        let (reply, answer) = oneshot::channel();
        let sent = {
            let mut tasks = self.across.lock().unwrap_or_else(|e| e.into_inner());
            let task = tasks.entry(name.to_string()).or_insert_with(|| {
                let (tx, rx) = mpsc::unbounded_channel();
                self.runtime
                    .spawn(serve_across(self.config.clone(), name.to_string(), rx));
                tx
            });
            task.send(reply).is_ok()
        };
        Box::pin(async move {
            if !sent {
                return Err(StoreError::Closed);
            }
            answer.await.unwrap_or(Err(StoreError::Closed))
        })
    }

    fn get(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        let key = key.clone();
        self.read(move |client| async move {
            let (kind, list) = key_params(&key);
            let table = kind.table();
            let sql = format!("{} WHERE {}", select(table), table.key_match(1));
            let stmt = client.prepare_cached(&sql).await.map_err(io)?;
            match client.query_opt(&stmt, &params(&list)).await.map_err(io)? {
                Some(row) => record_from_row(kind, &key, &row).map(Some),
                None => Ok(None),
            }
        })
    }

    fn scan(&self, family: Family, scan: Scan) -> Result<Vec<(Key, Record)>, StoreError> {
        let Some((kind, fixed)) = pg_layout::family(family) else {
            return Ok(Vec::new());
        };
        self.read(move |client| async move {
            let limit = (scan.limit > 0).then_some(scan.limit.min(i64::MAX as usize) as i64);
            scan_page(&client, kind, &fixed, scan.after, scan.reverse, limit).await
        })
    }

    fn for_each(
        &self,
        family: Family,
        visit: &mut dyn FnMut(Key, Record) -> bool,
    ) -> Result<(), StoreError> {
        let Some((kind, fixed)) = pg_layout::family(family) else {
            return Ok(());
        };
        let pageable = matches!(
            kind.table().keys.get(fixed.len()),
            Some((_, pg_layout::Col::Int))
        ) && kind.table().keys.len() == fixed.len() + 1;
        let mut after = None;
        loop {
            let fixed = fixed.clone();
            let limit = pageable.then_some(PAGE);
            let page = self.read(move |client| async move {
                scan_page(&client, kind, &fixed, after, false, limit).await
            })?;
            let full = pageable && page.len() as i64 == PAGE;
            for (key, record) in page {
                after = last_id(&key);
                if !visit(key, record) {
                    return Ok(());
                }
            }
            if !full {
                return Ok(());
            }
        }
    }

    fn commit(&self, mutation: Mutation) -> CommitFuture {
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
            rx.await.unwrap_or(Err(StoreError::Closed))
        })
    }

    fn next_id(&self, family: Family) -> Result<u64, StoreError> {
        let name = pg_layout::sequence(family)
            .map(|(name, _)| name)
            .unwrap_or_else(|| "misc_seq".into());
        self.read(move |client| async move {
            let sql = format!("SELECT nextval('{name}')");
            let stmt = client.prepare_cached(&sql).await.map_err(io)?;
            let id: i64 = client.query_one(&stmt, &[]).await.map_err(io)?.get(0);
            Ok(id as u64)
        })
    }

    fn last_event_id(&self) -> u64 {
        *self.last_event.borrow()
    }

    fn watch_events(&self) -> watch::Receiver<u64> {
        self.last_event.clone()
    }

    fn snapshot(&self, sink: SnapshotSink) -> SnapshotFuture {
        let pool = self.pool.clone();
        let (tx, rx) = oneshot::channel();
        self.runtime.spawn(async move {
            let result = async {
                let mut client = pool
                    .get()
                    .await
                    .map_err(|e| StoreError::Io(format!("PostgreSQL cannot be reached: {e}")))?;
                super::pg_commit::snapshot(&mut client, sink).await
            }
            .await;
            let _ = tx.send(result);
        });
        Box::pin(async move { rx.await.unwrap_or(Err(StoreError::Closed)) })
    }

    fn card_events(
        &self,
        card: u64,
        visit: &mut dyn FnMut(Event) -> bool,
    ) -> Result<(), StoreError> {
        let mut before = i64::MAX;
        loop {
            let page: Vec<Event> = self.read(move |client| async move {
                let stmt = client
                    .prepare_cached(
                        "SELECT id, body FROM events WHERE card_id = $1 AND id < $2 \
                         AND EXISTS (SELECT 1 FROM cards WHERE id = $1) ORDER BY id DESC LIMIT 200",
                    )
                    .await
                    .map_err(io)?;
                let rows = client
                    .query(&stmt, &[&(card as i64), &before])
                    .await
                    .map_err(io)?;
                rows.iter()
                    .map(|row| {
                        let id: i64 = row.get(0);
                        let body: RawJson = row.try_get(1).map_err(io)?;
                        match pg_layout::decode_body(&Key::Event(id as u64), &body.0)? {
                            Record::Event(e) => Ok(e),
                            _ => Err(StoreError::Corrupt {
                                key: format!("event {id}"),
                                reason: "not an event".into(),
                            }),
                        }
                    })
                    .collect()
            })?;
            let full = page.len() == 200;
            for event in page {
                before = event.id as i64;
                if !visit(event) {
                    return Ok(());
                }
            }
            if !full {
                return Ok(());
            }
        }
    }

    fn card_event_ids(&self, card: u64, after: u64, limit: usize) -> Result<Vec<u64>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.read(move |client| async move {
            let stmt = client
                .prepare_cached(
                    "SELECT id FROM events WHERE card_id = $1 AND id > $2 \
                     AND EXISTS (SELECT 1 FROM cards WHERE id = $1) ORDER BY id DESC LIMIT $3",
                )
                .await
                .map_err(io)?;
            let rows = client
                .query(
                    &stmt,
                    &[
                        &(card as i64),
                        &(after.min(i64::MAX as u64) as i64),
                        &(limit.min(i64::MAX as usize) as i64),
                    ],
                )
                .await
                .map_err(io)?;
            Ok(rows.iter().map(|r| r.get::<_, i64>(0) as u64).collect())
        })
    }

    fn count(&self, family: Family) -> Result<u64, StoreError> {
        let Some((kind, fixed)) = pg_layout::family(family) else {
            return Ok(0);
        };
        self.read(move |client| async move {
            let table = kind.table();
            let mut sql = format!("SELECT count(*) FROM {}", table.name);
            if !fixed.is_empty() {
                let conditions: Vec<String> = table.keys[..fixed.len()]
                    .iter()
                    .enumerate()
                    .map(|(i, (n, _))| format!("{n} = ${}", i + 1))
                    .collect();
                sql.push_str(&format!(" WHERE {}", conditions.join(" AND ")));
            }
            let stmt = client.prepare_cached(&sql).await.map_err(io)?;
            let n: i64 = client
                .query_one(&stmt, &params(&fixed))
                .await
                .map_err(io)?
                .get(0);
            Ok(n as u64)
        })
    }

    fn write_trouble(&self) -> Option<String> {
        self.trouble.lock().ok().and_then(|t| t.clone())
    }

    fn close(&self) {
        PgStore::close(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_never_shows_its_password() {
        assert_eq!(
            redact_url("postgres://shop:s3cret@db.example:5432/stamps"),
            "postgres://shop:***@db.example:5432/stamps"
        );
        assert_eq!(
            redact_url("postgres://shop@db/stamps"),
            "postgres://shop@db/stamps"
        );
        assert!(!redact_url("postgres://db/stamps?password=s3cret").contains("s3cret"));
        assert!(!redact_url("nonsense s3cret").contains("s3cret"));
        assert!(matches!(
            parse_url("mysql://shop:s3cret@db/x"),
            Err(StoreError::Io(m)) if !m.contains("s3cret")
        ));
    }
}
