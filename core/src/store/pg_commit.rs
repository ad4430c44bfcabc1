//! The PostgreSQL store's committer: group commit in one transaction per
//! batch, and the other whole-database work (loading, snapshots).
//!
//! A batch is two round trips and one WAL flush, however many mutations it
//! holds:
//! 1. `BEGIN`, the event-id advisory lock, the newest event id, and what
//!    the batch's guards ask about (keys that must be absent, the cards'
//!    newest events), pipelined on one connection.
//! 2. The batch's writes, one statement per table (`unnest` of arrays),
//!    its batch id, `pg_notify`, `COMMIT`, pipelined.
//!
//! Guards are checked in order in between: a refused guard answers its
//! caller `Conflict` and leaves the batch's other mutations alone. Event
//! ids are taken inside the transaction under a transaction advisory lock,
//! so they follow commit order also when another writer commits; nothing
//! in this process remembers ids or cards across batches.
//!
//! A connection that breaks during `COMMIT` leaves the outcome unknown: the
//! committer reconnects and looks its batch id up in `commit_batches` to
//! answer truthfully; when it cannot within its patience it answers
//! [`StoreError::Unresolved`], and the card actors reload their card.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, Row, Statement};

use super::pg_layout::{self, Col, KINDS, Kind, Param, RawJson, Stored, Value, key_params};
use super::pg_store::{CHANNEL, EVENT_ID_LOCK, PgOptions, connect_owner, io};
use super::{Committed, Guard, Key, Mutation, Record, SnapshotSink, StoreError};
use crate::model::Platform;

/// Work for the committer.
pub(super) enum Job {
    /// A mutation and who waits for it.
    Commit(Mutation, oneshot::Sender<Result<Committed, StoreError>>),
}

type Reply = oneshot::Sender<Result<Committed, StoreError>>;
type Params = Vec<Box<dyn ToSql + Sync + Send>>;
type RowsFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<Row>, tokio_postgres::Error>> + Send + 'a>>;

/// Prepared statements of one connection, by their SQL.
#[derive(Default)]
pub(super) struct Statements(HashMap<String, Statement>);

impl Statements {
    async fn get(&mut self, client: &Client, sql: &str) -> Result<Statement, StoreError> {
        if let Some(s) = self.0.get(sql) {
            return Ok(s.clone());
        }
        let s = client.prepare(sql).await.map_err(io)?;
        self.0.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

/// The final state of the keys one transaction writes.
#[derive(Default)]
pub(super) struct Writes {
    keys: HashMap<Key, Option<Record>>,
}

impl Writes {
    fn put(&mut self, key: Key, record: Record) {
        self.keys.insert(key, Some(record));
    }

    fn delete(&mut self, key: Key) {
        self.keys.insert(key, None);
    }

    /// Writes of records as they are (a load).
    pub fn of_records(records: Vec<(Key, Record)>) -> Self {
        let mut w = Self::default();
        for (k, r) in records {
            w.put(k, r);
        }
        w
    }

    /// The statements, one upsert and one delete per table at most.
    fn statements(self) -> Vec<(String, Params)> {
        let mut upserts: HashMap<Kind, Vec<(Vec<Param>, Record)>> = HashMap::new();
        let mut deletes: HashMap<Kind, Vec<Vec<Param>>> = HashMap::new();
        for (key, record) in self.keys {
            let (kind, params) = key_params(&key);
            match record {
                Some(r) => upserts.entry(kind).or_default().push((params, r)),
                None => deletes.entry(kind).or_default().push(params),
            }
        }
        let mut out = Vec::new();
        for kind in KINDS {
            if let Some(rows) = deletes.remove(kind) {
                out.push(delete_statement(*kind, rows));
            }
            if let Some(rows) = upserts.remove(kind) {
                out.push(upsert_statement(*kind, rows));
            }
        }
        out
    }

    /// Runs the statements on a connection inside a transaction (pipelined).
    pub async fn apply(self, client: &Client) -> Result<(), StoreError> {
        let mut statements = Statements::default();
        self.apply_with(client, &mut statements).await
    }

    async fn apply_with(
        self,
        client: &Client,
        statements: &mut Statements,
    ) -> Result<(), StoreError> {
        let list = self.statements();
        let mut prepared = Vec::with_capacity(list.len());
        for (sql, params) in &list {
            prepared.push((statements.get(client, sql).await?, params));
        }
        for r in futures_util::future::join_all(pipelined(client, &prepared)).await {
            r.map_err(io)?;
        }
        Ok(())
    }
}

/// Statements with their parameters, as futures sent in order on one
/// connection (pipelined: one round trip for all of them).
fn pipelined<'a, P>(client: &'a Client, prepared: &'a [(Statement, P)]) -> Vec<RowsFuture<'a>>
where
    P: std::ops::Deref<Target = Params> + Sync,
{
    prepared
        .iter()
        .map(|(stmt, params)| -> RowsFuture<'a> {
            let refs: Vec<&(dyn ToSql + Sync)> = params
                .iter()
                .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                .collect();
            Box::pin(async move { client.query(stmt, &refs).await })
        })
        .collect()
}

/// The rows a lookup by a list of keys (its one array parameter) finds;
/// no round trip for an empty list.
async fn rows_for<T: ToSql + Sync>(
    client: &Client,
    lookup: &Statement,
    keys: &Vec<T>,
) -> Result<Vec<Row>, tokio_postgres::Error> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    client.query(lookup, &[keys]).await
}

fn pg_type(col: Col) -> &'static str {
    match col {
        Col::Int => "bigint[]",
        Col::Text => "text[]",
    }
}

/// Arrays of the key columns of some rows.
fn key_arrays(kind: Kind, rows: &[&Vec<Param>]) -> Params {
    let table = kind.table();
    let mut out: Params = Vec::new();
    for (i, (_, col)) in table.keys.iter().enumerate() {
        match col {
            Col::Int => out.push(Box::new(
                rows.iter()
                    .map(|r| match r.get(i) {
                        Some(Param::Int(v)) => *v,
                        _ => 0,
                    })
                    .collect::<Vec<i64>>(),
            )),
            Col::Text => out.push(Box::new(
                rows.iter()
                    .map(|r| match r.get(i) {
                        Some(Param::Text(v)) => v.clone(),
                        _ => String::new(),
                    })
                    .collect::<Vec<String>>(),
            )),
        }
    }
    out
}

fn delete_statement(kind: Kind, rows: Vec<Vec<Param>>) -> (String, Params) {
    let table = kind.table();
    let refs: Vec<&Vec<Param>> = rows.iter().collect();
    let params = key_arrays(kind, &refs);
    let sql = if table.keys.len() == 1 {
        format!(
            "DELETE FROM {} WHERE {} = ANY($1::{})",
            table.name,
            table.keys[0].0,
            pg_type(table.keys[0].1)
        )
    } else {
        let casts: Vec<String> = table
            .keys
            .iter()
            .enumerate()
            .map(|(i, (_, c))| format!("${}::{}", i + 1, pg_type(*c)))
            .collect();
        format!(
            "DELETE FROM {} WHERE ({}) IN (SELECT * FROM unnest({}))",
            table.name,
            table.key_list(),
            casts.join(", ")
        )
    };
    (sql, params)
}

fn upsert_statement(kind: Kind, rows: Vec<(Vec<Param>, Record)>) -> (String, Params) {
    let table = kind.table();
    let refs: Vec<&Vec<Param>> = rows.iter().map(|(k, _)| k).collect();
    let mut params = key_arrays(kind, &refs);
    let mut casts: Vec<String> = table
        .keys
        .iter()
        .map(|(_, c)| pg_type(*c).to_string())
        .collect();
    let mut columns: Vec<&str> = table.keys.iter().map(|(n, _)| *n).collect();
    let update: Vec<&str> = match table.value {
        Value::Event => {
            let mut card = Vec::new();
            let mut customer = Vec::new();
            let mut at: Vec<DateTime<Utc>> = Vec::new();
            let mut kinds = Vec::new();
            let mut bodies = Vec::new();
            for (_, r) in &rows {
                if let Record::Event(e) = r {
                    card.push(e.card_id.map(|c| c as i64));
                    customer.push(e.customer_id.map(|c| c as i64));
                    at.push(e.at);
                    kinds.push(pg_layout::event_type(e));
                }
                if let Stored::Body(b) = pg_layout::stored(kind, r) {
                    bodies.push(b);
                }
            }
            params.push(Box::new(card));
            params.push(Box::new(customer));
            params.push(Box::new(at));
            params.push(Box::new(kinds));
            params.push(Box::new(bodies));
            casts.extend(
                ["bigint[]", "bigint[]", "timestamptz[]", "text[]", "jsonb[]"].map(String::from),
            );
            columns.extend(["card_id", "customer_id", "at", "type", "body"]);
            vec!["card_id", "customer_id", "at", "type", "body"]
        }
        Value::Body => {
            let bodies: Vec<RawJson> = rows
                .iter()
                .filter_map(|(_, r)| match pg_layout::stored(kind, r) {
                    Stored::Body(b) => Some(b),
                    _ => None,
                })
                .collect();
            params.push(Box::new(bodies));
            casts.push("jsonb[]".into());
            columns.push("body");
            vec!["body"]
        }
        Value::Target | Value::Cursor => {
            let ints: Vec<i64> = rows
                .iter()
                .map(|(_, r)| match pg_layout::stored(kind, r) {
                    Stored::Int(v) => v,
                    _ => 0,
                })
                .collect();
            params.push(Box::new(ints));
            casts.push("bigint[]".into());
            let column = table.value_column().unwrap_or("target");
            columns.push(column);
            vec![column]
        }
        Value::KeyOnly => Vec::new(),
    };
    let args: Vec<String> = casts
        .iter()
        .enumerate()
        .map(|(i, c)| format!("${}::{c}", i + 1))
        .collect();
    let conflict = if update.is_empty() {
        "DO NOTHING".to_string()
    } else {
        format!(
            "DO UPDATE SET {}",
            update
                .iter()
                .map(|c| format!("{c} = excluded.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let sql = format!(
        "INSERT INTO {} ({}) SELECT * FROM unnest({}) ON CONFLICT ({}) {conflict}",
        table.name,
        columns.join(", "),
        args.join(", "),
        table.key_list()
    );
    (sql, params)
}

/// Sets each sequence after the highest id its family holds (after a load).
pub(super) async fn continue_sequences(client: &Client) -> Result<(), StoreError> {
    for (name, first, family) in pg_layout::sequences() {
        let highest: Option<i64> = match pg_layout::family(family) {
            Some((kind, _)) => {
                let t = kind.table();
                client
                    .query_one(&format!("SELECT max({}) FROM {}", t.keys[0].0, t.name), &[])
                    .await
                    .map_err(io)?
                    .get(0)
            }
            // Receipt batches: the shop keeps the last one in meta.
            None => client
                .query_opt("SELECT body FROM meta WHERE name = 'last_batch'", &[])
                .await
                .map_err(io)?
                .and_then(|row| row.try_get::<_, RawJson>(0).ok())
                .and_then(|b| serde_json::from_slice::<i64>(&b.0).ok()),
        };
        let sql = match highest {
            Some(h) if h >= first as i64 => format!("SELECT setval('{name}', {h}, true)"),
            _ => format!("SELECT setval('{name}', {first}, false)"),
        };
        client.query_one(&sql, &[]).await.map_err(io)?;
    }
    Ok(())
}

/// Writes every record, in the sled store's encoding (what backups hold
/// and `SledStore::load_snapshot` reads), from one consistent view.
pub(super) async fn snapshot(
    client: &mut deadpool_postgres::Object,
    mut sink: SnapshotSink,
) -> Result<u64, StoreError> {
    use futures_util::StreamExt;
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(io)?;
    let mut n = 0;
    for kind in KINDS {
        let table = kind.table();
        let sql = match kind {
            Kind::Card => "SELECT id, body, coalesce((SELECT max(e.id) FROM events e WHERE e.card_id = cards.id), 0) FROM cards".to_string(),
            Kind::Event => "SELECT id, body, CASE WHEN card_id IS NULL THEN 0 ELSE coalesce(lag(id) OVER (PARTITION BY card_id ORDER BY id), 0) END FROM events".to_string(),
            _ => format!("SELECT {} FROM {}", table.select_list(), table.name),
        };
        let rows = tx
            .query_raw(&sql, std::iter::empty::<i64>())
            .await
            .map_err(io)?;
        let mut rows = std::pin::pin!(rows);
        while let Some(row) = rows.next().await {
            let row = row.map_err(io)?;
            let key = pg_layout::key_from_row(*kind, &row)?;
            let record = pg_layout::record_from_row(*kind, &key, &row)?;
            let mut value = super::sled_layout::encode_record(&record);
            if matches!(kind, Kind::Card | Kind::Event) {
                let link: i64 = row.try_get(2).map_err(io)?;
                value = super::card_chains::join(link as u64, &value);
            }
            sink(&super::sled_layout::encode_key(&key), &value)
                .map_err(|e| StoreError::Io(e.to_string()))?;
            n += 1;
        }
    }
    drop(sink);
    tx.commit().await.map_err(io)?;
    Ok(n)
}

/// The one writer of a process.
pub(super) struct Committer {
    client: Option<Client>,
    config: Config,
    options: PgOptions,
    watch_tx: Arc<watch::Sender<u64>>,
    trouble: Arc<Mutex<Option<String>>>,
    statements: Statements,
    groups: u64,
}

/// A group's mutation once its guards were checked.
struct Accepted {
    reply: Reply,
    event_ids: Vec<u64>,
}

impl Committer {
    pub fn new(
        client: Client,
        config: Config,
        options: PgOptions,
        watch_tx: Arc<watch::Sender<u64>>,
        trouble: Arc<Mutex<Option<String>>>,
    ) -> Self {
        Self {
            client: Some(client),
            config,
            options,
            watch_tx,
            trouble,
            statements: Statements::default(),
            groups: 0,
        }
    }

    pub async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Job>) {
        while let Some(first) = rx.recv().await {
            let mut jobs = vec![first];
            while jobs.len() < self.options.max_batch.max(1) {
                match rx.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            self.group(jobs).await;
        }
    }

    fn set_trouble(&self, why: Option<String>) {
        if let Ok(mut t) = self.trouble.lock() {
            *t = why;
        }
    }

    /// A connection holding the owner's lock, connecting when needed.
    async fn reconnect(&mut self) -> Result<(), StoreError> {
        if self.client.as_ref().is_some_and(|c| !c.is_closed()) {
            return Ok(());
        }
        self.client = None;
        self.statements = Statements::default();
        let client = connect_owner(&self.config, self.options.shared).await?;
        let _ = client
            .batch_execute("DELETE FROM commit_batches WHERE at < now() - interval '1 day'")
            .await;
        tracing::info!("connected to PostgreSQL again");
        self.client = Some(client);
        self.set_trouble(None);
        Ok(())
    }

    /// Reconnects within the patience; the error when it cannot.
    async fn reconnect_patiently(&mut self) -> Result<(), StoreError> {
        let deadline = Instant::now() + self.options.reconnect_patience;
        loop {
            match self.reconnect().await {
                Ok(()) => return Ok(()),
                Err(e) => {
                    self.set_trouble(Some(e.to_string()));
                    if Instant::now() >= deadline {
                        return Err(e);
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                }
            }
        }
    }

    async fn group(&mut self, jobs: Vec<Job>) {
        if let Err(e) = self.reconnect_patiently().await {
            let why = e.to_string();
            for Job::Commit(_, reply) in jobs {
                let _ = reply.send(Err(StoreError::Io(why.clone())));
            }
            return;
        }
        let batch_id = format!(
            "{:016x}{:016x}",
            rand::random::<u64>(),
            rand::random::<u64>()
        );
        let (accepted, outcome) = self.write(jobs, &batch_id).await;
        let outcome = match outcome {
            Outcome::Committed(last) => Ok(last),
            Outcome::Failed(e) => Err(e),
            Outcome::Unknown(why) => {
                tracing::warn!(error = %why, "the connection broke during a commit; looking its batch up");
                match self.look_up(&batch_id).await {
                    Ok(true) => Ok(accepted
                        .iter()
                        .flat_map(|a| a.event_ids.last().copied())
                        .max()
                        .unwrap_or(0)),
                    Ok(false) => Err(StoreError::Io(format!(
                        "PostgreSQL lost the connection before the write was committed ({why}); nothing was written"
                    ))),
                    Err(e) => Err(StoreError::Unresolved(format!(
                        "{why}; then: {}",
                        message(&e)
                    ))),
                }
            }
        };
        match outcome {
            Ok(last) => {
                if last > 0 {
                    self.watch_tx.send_if_modified(|seen| {
                        let newer = last > *seen;
                        if newer {
                            *seen = last;
                        }
                        newer
                    });
                }
                for a in accepted {
                    let _ = a.reply.send(Ok(Committed {
                        event_ids: a.event_ids,
                    }));
                }
            }
            Err(e) => {
                for a in accepted {
                    let _ = a.reply.send(Err(match &e {
                        StoreError::Unresolved(m) => StoreError::Unresolved(m.clone()),
                        other => StoreError::Io(message(other)),
                    }));
                }
            }
        }
        self.groups += 1;
        if self.groups.is_multiple_of(10_000)
            && let Some(c) = &self.client
        {
            let _ = c
                .batch_execute("DELETE FROM commit_batches WHERE at < now() - interval '1 day'")
                .await;
        }
    }

    /// Whether a batch was committed, reconnecting (and asking again when
    /// the connection breaks once more) within the patience.
    async fn look_up(&mut self, batch_id: &str) -> Result<bool, StoreError> {
        let deadline = Instant::now() + self.options.reconnect_patience;
        loop {
            self.reconnect_patiently().await?;
            match self.batch_written(batch_id).await {
                Ok(found) => return Ok(found),
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => {
                    self.client = None;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    }

    async fn batch_written(&mut self, batch_id: &str) -> Result<bool, StoreError> {
        let client = self.client.as_ref().ok_or(StoreError::Closed)?;
        Ok(client
            .query_opt("SELECT 1 FROM commit_batches WHERE id = $1", &[&batch_id])
            .await
            .map_err(io)?
            .is_some())
    }

    /// One transaction for the group. Mutations refused by a guard are
    /// answered here; the others are returned with the outcome.
    async fn write(&mut self, jobs: Vec<Job>, batch_id: &str) -> (Vec<Accepted>, Outcome) {
        let mut mutations = Vec::with_capacity(jobs.len());
        for Job::Commit(m, reply) in jobs {
            mutations.push((m, reply));
        }
        let Some(client) = self.client.take() else {
            return (Vec::new(), Outcome::Failed(StoreError::Closed));
        };
        let result = self.transact(&client, mutations, batch_id).await;
        let closed = client.is_closed();
        if !closed {
            self.client = Some(client);
        }
        match result {
            Ok((accepted, last)) => (accepted, Outcome::Committed(last)),
            Err((accepted, e, in_commit)) => {
                if !closed && let Some(c) = &self.client {
                    let _ = c.batch_execute("ROLLBACK").await;
                }
                if closed && in_commit {
                    (accepted, Outcome::Unknown(message(&e)))
                } else {
                    (accepted, Outcome::Failed(e))
                }
            }
        }
    }

    #[allow(clippy::type_complexity)]
    async fn transact(
        &mut self,
        client: &Client,
        mutations: Vec<(Mutation, Reply)>,
        batch_id: &str,
    ) -> Result<(Vec<Accepted>, u64), (Vec<Accepted>, StoreError, bool)> {
        // What the guards ask about.
        let mut absent: HashMap<Kind, Vec<Key>> = HashMap::new();
        let mut cards: HashSet<u64> = HashSet::new();
        let mut cursors: Vec<String> = Vec::new();
        let mut templates: Vec<i64> = Vec::new();
        for (m, _) in &mutations {
            for g in &m.guards {
                match g {
                    Guard::Absent(k) => absent.entry(key_params(k).0).or_default().push(k.clone()),
                    Guard::CardAt { card, .. } | Guard::CardHeldOn { card, .. } => {
                        cards.insert(*card);
                    }
                    Guard::CursorAt { name, .. } => cursors.push(name.clone()),
                    Guard::TemplateAt { template, .. } => templates.push(*template as i64),
                }
            }
            if !m.guards.is_empty() {
                for e in &m.events {
                    if let Some(c) = e.card_id {
                        cards.insert(c);
                    }
                }
            }
        }
        let fail = |e: StoreError| (Vec::new(), e, false);
        let lock = self
            .statements
            .get(client, "SELECT pg_advisory_xact_lock($1)")
            .await
            .map_err(fail)?;
        let max = self
            .statements
            .get(client, "SELECT coalesce(max(id), 0) FROM events")
            .await
            .map_err(fail)?;
        let newest = self
            .statements
            .get(
                client,
                "SELECT c.id, coalesce((SELECT max(e.id) FROM events e WHERE e.card_id = c.id), 0), (c.body->'platforms')::text FROM cards c WHERE c.id = ANY($1::bigint[])",
            )
            .await
            .map_err(fail)?;
        let cursor_at = self
            .statements
            .get(
                client,
                "SELECT name, event_id FROM cursors WHERE name = ANY($1::text[])",
            )
            .await
            .map_err(fail)?;
        let template_at = self
            .statements
            .get(
                client,
                "SELECT id, (body->>'version')::bigint FROM templates WHERE id = ANY($1::bigint[])",
            )
            .await
            .map_err(fail)?;
        let mut lookups: Vec<(Kind, Statement, Params)> = Vec::new();
        for (kind, keys) in &absent {
            let table = kind.table();
            let refs: Vec<Vec<Param>> = keys.iter().map(|k| key_params(k).1).collect();
            let refs: Vec<&Vec<Param>> = refs.iter().collect();
            let params = key_arrays(*kind, &refs);
            let casts: Vec<String> = table
                .keys
                .iter()
                .enumerate()
                .map(|(i, (_, c))| format!("${}::{}", i + 1, pg_type(*c)))
                .collect();
            let sql = format!(
                "SELECT {} FROM {} WHERE ({}) IN (SELECT * FROM unnest({}))",
                table.key_list(),
                table.name,
                table.key_list(),
                casts.join(", ")
            );
            let stmt = self.statements.get(client, &sql).await.map_err(fail)?;
            lookups.push((*kind, stmt, params));
        }
        let card_list: Vec<i64> = cards.iter().map(|c| *c as i64).collect();
        // Round trip 1.
        let begin = client.batch_execute("BEGIN");
        let locked = client.query(&lock, &[&EVENT_ID_LOCK]);
        let newest_id = client.query_one(&max, &[]);
        let card_params: [&(dyn ToSql + Sync); 1] = [&card_list];
        let card_rows = client.query(&newest, &card_params);
        let cursor_rows = rows_for(client, &cursor_at, &cursors);
        let lookup_statements: Vec<(Statement, &Params)> = lookups
            .iter()
            .map(|(_, stmt, p)| (stmt.clone(), p))
            .collect();
        let lookup_rows = pipelined(client, &lookup_statements);
        let template_rows = rows_for(client, &template_at, &templates);
        let (begun, locked, newest_id, card_rows, cursor_rows, template_rows, lookup_rows) = futures_util::join!(
            begin,
            locked,
            newest_id,
            card_rows,
            cursor_rows,
            template_rows,
            futures_util::future::join_all(lookup_rows)
        );
        let io_fail = |e: tokio_postgres::Error| (Vec::new(), io(e), false);
        begun.map_err(io_fail)?;
        locked.map_err(io_fail)?;
        let mut next_event = newest_id.map_err(io_fail)?.get::<_, i64>(0) as u64;
        let mut card_newest: HashMap<u64, Option<u64>> = HashMap::new();
        // Each guarded card's platforms, kept current over the batch.
        let mut card_platforms: HashMap<u64, Option<BTreeSet<Platform>>> = HashMap::new();
        for row in card_rows.map_err(io_fail)? {
            let card = row.get::<_, i64>(0) as u64;
            card_newest.insert(card, Some(row.get::<_, i64>(1) as u64));
            let platforms: Option<String> = row.get(2);
            let platforms = match platforms {
                Some(text) => serde_json::from_str(&text).ok(),
                None => Some(BTreeSet::new()),
            };
            card_platforms.insert(card, platforms);
        }
        // Each guarded cursor's stored position, kept current over the batch.
        let mut cursor_now: HashMap<String, u64> = HashMap::new();
        for row in cursor_rows.map_err(io_fail)? {
            cursor_now.insert(row.get(0), row.get::<_, i64>(1) as u64);
        }
        // Each guarded template's latest version, kept current over the batch.
        let mut template_now: HashMap<u64, u32> = HashMap::new();
        for row in template_rows.map_err(io_fail)? {
            template_now.insert(row.get::<_, i64>(0) as u64, row.get::<_, i64>(1) as u32);
        }
        let mut exists: HashMap<Key, bool> = HashMap::new();
        for ((kind, _, _), rows) in lookups.iter().zip(lookup_rows) {
            for row in rows.map_err(io_fail)? {
                let key = pg_layout::key_from_row(*kind, &row).map_err(fail)?;
                exists.insert(key, true);
            }
        }
        // The guards, in order, over what the group wrote so far.
        let mut writes = Writes::default();
        let mut accepted = Vec::with_capacity(mutations.len());
        let mut written: Vec<super::Written> = Vec::new();
        for (m, reply) in mutations {
            let refused = m.guards.iter().find_map(|g| match g {
                Guard::Absent(k) => exists.get(k).copied().unwrap_or(false).then(|| k.clone()),
                Guard::CardAt { card, newest_event } => {
                    let now = card_newest.get(card).copied().flatten();
                    (now != Some(*newest_event)).then_some(Key::Card(*card))
                }
                Guard::CursorAt { name, at } => {
                    (cursor_now.get(name) != Some(at)).then(|| Key::Cursor(name.clone()))
                }
                Guard::TemplateAt { template, version } => (template_now.get(template)
                    != Some(version))
                .then_some(Key::Template(*template)),
                Guard::CardHeldOn { card, platforms } => {
                    (card_platforms.get(card).and_then(Option::as_ref) != Some(platforms))
                        .then_some(Key::Card(*card))
                }
            });
            if let Some(key) = refused {
                let _ = reply.send(Err(StoreError::Conflict(key)));
                continue;
            }
            for (k, r) in m.puts {
                if let Some(w) = super::Written::of(&k)
                    && !written.contains(&w)
                {
                    written.push(w);
                }
                if let (Key::Cursor(name), Record::Cursor(at)) = (&k, &r)
                    && let Some(now) = cursor_now.get_mut(name)
                {
                    *now = *at;
                }
                if let (Key::Template(id), Record::Template(t)) = (&k, &r)
                    && let Some(now) = template_now.get_mut(id)
                {
                    *now = t.version;
                }
                if let Key::Card(c) = k {
                    let entry = card_newest.entry(c).or_insert(None);
                    if entry.is_none() {
                        *entry = Some(0);
                    }
                    // Only a card guarded in this batch is followed.
                    if let (Record::Card(card), Some(now)) = (&r, card_platforms.get_mut(&c)) {
                        *now = Some(card.platforms.clone());
                    }
                }
                exists.insert(k.clone(), true);
                writes.put(k, r);
            }
            let mut ids = Vec::with_capacity(m.events.len());
            for e in m.events {
                next_event += 1;
                let id = next_event;
                ids.push(id);
                if let Some(c) = e.card_id
                    && let Some(Some(n)) = card_newest.get_mut(&c)
                {
                    *n = id;
                }
                writes.put(Key::Event(id), Record::Event(e.with_id(id)));
            }
            for d in m.derived {
                let (k, r) = d(&ids);
                exists.insert(k.clone(), true);
                writes.put(k, r);
            }
            for k in m.deletes {
                if let Key::Card(c) = k {
                    card_newest.insert(c, None);
                    card_platforms.insert(c, None);
                }
                exists.insert(k.clone(), false);
                writes.delete(k);
            }
            accepted.push(Accepted {
                reply,
                event_ids: ids,
            });
        }
        // Round trip 2: the writes, the batch id, the notification, COMMIT.
        let record = match self
            .statements
            .get(client, "INSERT INTO commit_batches (id) VALUES ($1)")
            .await
        {
            Ok(s) => s,
            Err(e) => return Err((accepted, e, false)),
        };
        let notify = match self
            .statements
            .get(client, "SELECT pg_notify($1, $2)")
            .await
        {
            Ok(s) => s,
            Err(e) => return Err((accepted, e, false)),
        };
        // Other nodes learn of what they keep in memory or act on.
        let mut payload = next_event.to_string();
        for w in &written {
            payload.push(' ');
            payload.push_str(w.word());
        }
        let list = writes.statements();
        let mut prepared = Vec::with_capacity(list.len());
        for (sql, params) in &list {
            match self.statements.get(client, sql).await {
                Ok(s) => prepared.push((s, params)),
                Err(e) => return Err((accepted, e, false)),
            }
        }
        let write_rows = pipelined(client, &prepared);
        let record_params: [&(dyn ToSql + Sync); 1] = [&batch_id];
        let notify_params: [&(dyn ToSql + Sync); 2] = [&CHANNEL, &payload];
        let (written, recorded, notified, committed) = futures_util::join!(
            futures_util::future::join_all(write_rows),
            client.execute(&record, &record_params),
            client.query(&notify, &notify_params),
            client.batch_execute("COMMIT"),
        );
        let first_error = written
            .into_iter()
            .find_map(Result::err)
            .or(recorded.err())
            .or(notified.err());
        match (first_error, committed) {
            (None, Ok(())) => Ok((accepted, next_event)),
            (Some(e), _) => {
                let closed = e.is_closed() || client.is_closed();
                Err((accepted, io(e), closed))
            }
            (None, Err(e)) => {
                let closed = e.is_closed() || client.is_closed();
                Err((accepted, io(e), closed))
            }
        }
    }
}

/// An error's text without the "store I/O error" of its kind (it is
/// wrapped again by whoever reports it).
fn message(e: &StoreError) -> String {
    match e {
        StoreError::Io(m) => m.clone(),
        other => other.to_string(),
    }
}

enum Outcome {
    /// Durable; the newest event id it wrote (0: none).
    Committed(u64),
    /// Not written.
    Failed(StoreError),
    /// The connection broke during COMMIT.
    Unknown(String),
}
