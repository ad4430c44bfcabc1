//! `stampcard-bench`: durable stamps through the actor core, against raw sled
//! and SQLite doing the same logical writes under the same group-commit policy;
//! and, with `--million`, memory, activation latency and `serve` start-up with
//! 1,000,000 issued cards.
//!
//! Every round also sends stamp requests over loopback HTTP to the real
//! `stampcard serve` (`--api-requests N`, 20,000 unless 0 or
//! `--core-only`), with a trivial axum endpoint as the baseline, and
//! prints the API's stamps/s against the core's in the same round.
//!
//! Run: `cargo build --release --workspace && target/release/stampcard-bench`

/// mimalloc instead of glibc malloc: the stamp and campaign paths allocate
/// from several threads at once, and glibc's arena locks showed at the top
/// of their profiles (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod api;
mod backlog;
mod campaign;
mod dispatch;
mod google;
mod passes;
mod postgres;
mod smtp;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use rand::Rng;
use stampcard_core::Shop;
use stampcard_core::clock::SystemClock;
use stampcard_core::model::{Actor, Card, Reward, Template};
use stampcard_core::settings::ShopSettings;
use stampcard_core::shop::TemplateDraft;
use stampcard_core::store::{Family, Key, Mutation, Record, SledOptions};
use stampcard_e2e::group_commit::{self, Backend, StampRequest};

#[derive(Clone)]
struct Opts {
    cards: u64,
    callers: usize,
    stamps: u64,
    million: bool,
    /// SSH console sessions to measure (0 = skip).
    ssh_sessions: usize,
    /// Telegram updates per second to feed the bot (0 = skip).
    bot_updates: u64,
    /// Stamp requests over the REST API (0 = skip).
    api_requests: u64,
    /// Keep-alive connections for the API run.
    connections: usize,
    /// Campaign recipients to plan (0 = skip).
    campaign: u64,
    passes: u64,
    /// Rounds of the three stamp runs (ratios: the median).
    rounds: usize,
    smtp: u64,
    dispatch: u64,
    /// Pending webhook deliveries to measure memory under (0 = skip).
    backlog: u64,
    google: u64,
    wait_us: u64,
    /// Internal: stamp an already populated million-card folder (a fresh process).
    million_stamp: Option<PathBuf>,
    /// Internal: the first card id of the populated folder.
    first_card: u64,
    /// Only the actor core's run (for profiling it).
    core_only: bool,
    /// Durable stamps on PostgreSQL against pgbench (0 = skip).
    postgres: u64,
    /// With `postgres`: the same stamps through 1..=N nodes sharing the
    /// database instead (0 = the single-owner comparison).
    nodes: u64,
}

fn opts() -> Result<Opts> {
    let mut o = Opts {
        cards: 10_000,
        callers: 64,
        stamps: 200_000,
        million: false,
        ssh_sessions: 0,
        bot_updates: 0,
        api_requests: 20_000,
        connections: 32,
        campaign: 0,
        passes: 0,
        rounds: 3,
        smtp: 0,
        dispatch: 0,
        backlog: 0,
        google: 0,
        wait_us: 0,
        million_stamp: None,
        first_card: 100_001,
        core_only: false,
        postgres: 0,
        nodes: 0,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = || {
            args.get(i + 1)
                .context("missing value")
                .and_then(|v| v.parse::<u64>().context("not a number"))
        };
        match args[i].as_str() {
            "--cards" => o.cards = value()?,
            "--callers" => o.callers = value()? as usize,
            "--stamps" => o.stamps = value()?,
            "--wait-us" => o.wait_us = value()?,
            "--first-card" => o.first_card = value()?,
            "--ssh-sessions" => o.ssh_sessions = value()? as usize,
            "--bot-updates" => o.bot_updates = value()?,
            "--api-requests" => o.api_requests = value()?,
            "--campaign" => o.campaign = value()?,
            "--passes" => o.passes = value()?,
            "--rounds" => o.rounds = value()? as usize,
            "--smtp" => o.smtp = value()?,
            "--dispatch" => o.dispatch = value()?,
            "--backlog" => o.backlog = value()?,
            "--google" => o.google = value()?,
            "--postgres" => o.postgres = value()?,
            "--nodes" => o.nodes = value()?,
            "--connections" => o.connections = value()?.max(1) as usize,
            "--million" => {
                o.million = true;
                i -= 1;
            }
            "--core-only" => {
                o.core_only = true;
                i -= 1;
            }
            "--million-stamp" => {
                o.million_stamp = Some(PathBuf::from(args.get(i + 1).context("missing folder")?));
            }
            "--help" | "-h" => {
                println!(
                    "stampcard-bench [--cards N] [--callers C] [--stamps S] [--wait-us W] [--million] [--ssh-sessions N] [--bot-updates R] [--api-requests N [--connections C]] [--rounds R] [--core-only] [--campaign N] [--passes N] [--smtp N] [--dispatch N] [--backlog N] [--google N] [--postgres N [--nodes K]]\n\
                     Durable stamps/s and acknowledgement latency through the actor core,\n\
                     raw sled and SQLite (WAL, synchronous=FULL), same group commit and the\n\
                     same records (the core's card record and journal event per stamp);\n\
                     --rounds R (default 3) runs the three in turn R times: median ratios.\n\
                     --core-only runs only the actor core (to profile it; no ratios).\n\
                     BENCH_DIR=D puts the folders under D; BENCH_KEEP=1 keeps them.\n\
                     --million adds: 1,000,000 cards, RSS with 10,000 resident actors,\n\
                     activation latency, console frame times, and `stampcard serve` readiness.\n\
                     --ssh-sessions N adds: CPU per SSH console session on the live journal.\n\
                     --bot-updates R adds: Telegram bot reply latency at R updates/s.\n\
                     --api-requests N (default 20,000; 0 turns it off): each round also sends N\n\
                     POST /api/v1/stamps over loopback keep-alive HTTP to `stampcard serve`, with a\n\
                     trivial axum endpoint as the baseline, and prints api stamps / actor core.\n\
                     --campaign N adds: planning a campaign to N recipients, against raw sled.\n\
                     --passes N adds: signed .pkpass files per second (re-issue and cold), against openssl speed rsa2048 and passkit-generator (Node; npm installs it into the bench directory).\n\
                     --smtp N adds: a campaign's N emails through serve into aiosmtpd, against a bare lettre loop.\n\
                     --dispatch N adds: a campaign to N Telegram holders through serve into the fake Bot API: pacing and loss.\n\
                     --backlog N adds: serve's memory with N webhook deliveries pending for dead receivers.\n\
                     --google N adds: Google Wallet object patches/s through the API client vs bare reqwest,\n\
                     and a wallet campaign to N Google holders planned, against raw sled.\n\
                     --postgres N runs instead: N durable stamps by the core on PostgreSQL (a server the bench starts,\n\
                     fsync and synchronous_commit on) against pgbench's same writes (tests/bench/pg_stamp.sql), one\n\
                     transaction per stamp and one per batch of the core's size, and against the core on sled; in rounds.\n\
                     --nodes K (with --postgres): instead, the stamps through 1, 2 … K nodes sharing the database\n\
                     ([store] shared: one store and shop each, in this process), beside pgbench's one stamp per transaction."
                );
                std::process::exit(0);
            }
            other => anyhow::bail!("unknown option {other} (see --help)"),
        }
        i += 2;
    }
    Ok(o)
}

/// The bench's root folder: removed at the end unless kept.
enum Kept {
    Temp(tempfile::TempDir),
    Path(PathBuf),
}

impl Kept {
    fn path(&self) -> &Path {
        match self {
            Kept::Temp(t) => t.path(),
            Kept::Path(p) => p,
        }
    }
}

struct Result1 {
    name: &'static str,
    per_sec: f64,
    hist: Histogram<u64>,
}

/// One round of durable stamps: the actor core, raw sled and SQLite, each
/// in a fresh folder under `dir`; the core's stamps/s and its ratios to
/// the two baselines.
async fn stamp_round(dir: &Path, o: &Opts) -> Result<(f64, f64, f64)> {
    std::fs::create_dir_all(dir)?;
    let (core, written) = actor_core(&dir.join("core"), o).await?;
    report(&core);
    if o.core_only {
        return Ok((core.per_sec, f64::NAN, f64::NAN));
    }
    let db = sled::Config::new()
        .path(dir.join("raw"))
        .flush_every_ms(Some(1000))
        .open()?;
    let raw = baseline(
        "raw sled (no actors)",
        RawSled {
            db,
            stamps: Stamper::new(Written {
                card: written.card.clone(),
                event: written.event.clone(),
            }),
        },
        o,
    )
    .await;
    report(&raw);
    let conn = rusqlite::Connection::open(dir.join("bench.sqlite"))?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE cards (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
         CREATE TABLE events (id INTEGER PRIMARY KEY, card INTEGER NOT NULL, data BLOB NOT NULL);",
    )?;
    {
        let mut stmt = conn.prepare("INSERT INTO cards (id, data) VALUES (?1, ?2)")?;
        conn.execute_batch("BEGIN")?;
        for id in 1..=o.cards {
            let card = serde_json::to_vec(&written.card(id))?;
            stmt.execute(rusqlite::params![id as i64, card])?;
        }
        conn.execute_batch("COMMIT")?;
    }
    let sqlite = baseline(
        "SQLite WAL sync=FULL",
        Sqlite {
            conn,
            stamps: Stamper::new(written),
        },
        o,
    )
    .await;
    report(&sqlite);
    let ratios = (core.per_sec / raw.per_sec, core.per_sec / sqlite.per_sec);
    println!(
        "ratios: actor core / raw sled = {:.2}   actor core / SQLite = {:.2}",
        ratios.0, ratios.1
    );
    Ok((core.per_sec, ratios.0, ratios.1))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn report(r: &Result1) {
    println!(
        "{:<22} {:>10.0} stamps/s   p50 {:>6.2} ms   p99 {:>6.2} ms   max {:>6.2} ms",
        r.name,
        r.per_sec,
        r.hist.value_at_quantile(0.50) as f64 / 1000.0,
        r.hist.value_at_quantile(0.99) as f64 / 1000.0,
        r.hist.max() as f64 / 1000.0
    );
}

/// Runs `callers` closed-loop callers, `total` calls in all, timing each.
async fn drive<F, Fut>(
    name: &'static str,
    callers: usize,
    total: u64,
    cards: u64,
    first_card: u64,
    call: F,
) -> Result1
where
    F: Fn(u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let per = total / callers as u64;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..callers {
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
            for _ in 0..per {
                let card = first_card + rand::rng().random_range(0..cards);
                let t = Instant::now();
                call(card).await;
                let _ = h.record(t.elapsed().as_micros().max(1) as u64);
            }
            h
        }));
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    for t in tasks {
        if let Ok(h) = t.await {
            let _ = hist.add(h);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    Result1 {
        name,
        per_sec: (per * callers as u64) as f64 / elapsed,
        hist,
    }
}

/// A shop on the system clock with the default store options.
async fn open_shop(dir: &Path, settings: ShopSettings) -> Result<Shop> {
    Ok(Shop::open(dir, settings, Arc::new(SystemClock), SledOptions::default()).await?)
}

fn draft(stamps: u32) -> TemplateDraft {
    TemplateDraft::new(
        "Bench card",
        "Bench",
        stamps,
        Reward::Voucher {
            description: "A coffee".into(),
            valid_days: 0,
        },
    )
}

/// Writes `n` cards straight through the store in large batches.
async fn populate(shop: &Shop, template: &Template, n: u64) -> Result<u64> {
    let first = shop.store().next_id(Family::Cards)?;
    let mut written = 1u64;
    let mut m = Mutation::new();
    m.put(
        Key::Card(first),
        Record::Card(Card::new(
            first,
            template,
            1,
            chrono::Utc::now(),
            None,
            None,
        )),
    );
    let mut last_report = Instant::now();
    while written < n {
        let id = shop.store().next_id(Family::Cards)?;
        m.put(
            Key::Card(id),
            Record::Card(Card::new(id, template, 1, chrono::Utc::now(), None, None)),
        );
        written += 1;
        if m.puts.len() >= 5000 {
            shop.store().commit(std::mem::take(&mut m)).await?;
            if last_report.elapsed() > Duration::from_secs(5) {
                eprintln!("  … {written} cards");
                last_report = Instant::now();
            }
        }
    }
    shop.store().commit(m).await?;
    Ok(first)
}

/// What the core wrote for a stamp: the card record and the journal event
/// (as stored), which the baselines write too, so all three write the same
/// records.
struct Written {
    card: Card,
    event: serde_json::Value,
}

impl Written {
    /// The card record of `card` after a stamp, as the store encodes its
    /// body (the store puts its 8-byte chain link in front).
    fn card_after_stamp(&self, card: &mut Card) -> Vec<u8> {
        card.stamps = (card.stamps + 1) % 100;
        card.lifetime_stamps += 1;
        card.last_stamp_at = Some(chrono::Utc::now());
        serde_json::to_vec(card).unwrap_or_default()
    }

    /// A card record as the core keeps it, for another card id.
    fn card(&self, id: u64) -> Card {
        let mut c = self.card.clone();
        c.id = id;
        c
    }

    /// The journal event of that stamp, as the store encodes its body.
    fn event(&self, id: u64, card: &Card) -> Vec<u8> {
        let mut e = self.event.clone();
        e["id"] = id.into();
        e["card_id"] = card.id.into();
        e["at"] = chrono::Utc::now().to_rfc3339().into();
        e["progress"]["stamps"] = card.stamps.into();
        serde_json::to_vec(&e).unwrap_or_default()
    }
}

async fn actor_core(dir: &Path, o: &Opts) -> Result<(Result1, Written)> {
    let settings = core_settings(o);
    let options = SledOptions {
        max_batch_wait: Duration::from_micros(o.wait_us),
        ..Default::default()
    };
    let shop = Shop::open(dir, settings, Arc::new(SystemClock), options).await?;
    core_stamps(shop, "actor core (sled)", o).await
}

/// The settings the core's stamp runs use.
fn core_settings(o: &Opts) -> ShopSettings {
    let mut settings = ShopSettings::for_tests();
    settings.max_resident_actors = (o.cards as usize).max(1);
    settings
}

/// The core's durable stamps on an opened shop: a template, `o.cards`
/// cards, `o.stamps` stamps by `o.callers` closed-loop callers; then one
/// stamped card and its event as written (for the baselines).
async fn core_stamps(shop: Shop, name: &'static str, o: &Opts) -> Result<(Result1, Written)> {
    let t = shop
        .templates()
        .create_template(draft(100), &Actor::channel("system"))
        .await?;
    let first = populate(&shop, &t, o.cards).await?;
    let actor = Actor::channel("bench");
    let s = shop.clone();
    let r = drive(name, o.callers, o.stamps, o.cards, first, move |card| {
        let (s, actor) = (s.clone(), actor.clone());
        async move {
            if let Err(e) = s.cards().stamp_card(card, 1, None, &actor).await {
                eprintln!("stamp failed: {e}");
            }
        }
    })
    .await;
    // A stamped card and its stamp's event, as the store keeps them (one
    // more stamp, after the timing).
    shop.cards()
        .stamp_card(first, 1, None, &Actor::channel("bench"))
        .await?;
    let written = written_by(&shop, first)?;
    shop.shutdown().await;
    Ok((r, written))
}

/// A stamped card and its newest event, as the store keeps them.
fn written_by(shop: &Shop, card: u64) -> Result<Written> {
    let event = shop
        .journal()
        .journal(&stampcard_core::shop::JournalQuery {
            card: Some(card),
            newest_first: true,
            limit: 1,
            ..Default::default()
        })?
        .pop()
        .context("no journal event of the bench card")?;
    Ok(Written {
        card: shop.cards().card(card)?,
        event: serde_json::to_value(&event)?,
    })
}

/// A baseline's cards and journal: per stamp, the card record and the event
/// the core would write, encoded.
struct Stamper {
    written: Written,
    cards: HashMap<u64, Card>,
    next_event: u64,
}

impl Stamper {
    fn new(written: Written) -> Self {
        Self {
            written,
            cards: HashMap::new(),
            next_event: 0,
        }
    }

    /// A stamp on card `id`: the event id, the card record, the event.
    fn stamp(&mut self, id: u64) -> (u64, Vec<u8>, Vec<u8>) {
        let written = &self.written;
        let card = self.cards.entry(id).or_insert_with(|| written.card(id));
        let state = written.card_after_stamp(card);
        self.next_event += 1;
        (self.next_event, state, written.event(self.next_event, card))
    }
}

/// Raw sled: the same card record and journal event per stamp as the core,
/// one batch and one flush per group, no actors.
struct RawSled {
    db: sled::Db,
    stamps: Stamper,
}

impl Backend for RawSled {
    fn apply(&mut self, cards: &[u64]) {
        let mut batch = sled::Batch::default();
        for id in cards {
            let (event_id, state, event) = self.stamps.stamp(*id);
            let mut k = vec![b'C'];
            k.extend_from_slice(&id.to_be_bytes());
            batch.insert(k, state);
            let mut k = vec![b'E'];
            k.extend_from_slice(&event_id.to_be_bytes());
            batch.insert(k, event);
        }
        self.db.apply_batch(batch).expect("apply");
        self.db.flush().expect("flush");
    }
}

/// SQLite: the same card record and journal event per stamp as the core
/// (a row per card, a row per event), one transaction per group.
struct Sqlite {
    conn: rusqlite::Connection,
    stamps: Stamper,
}

impl Backend for Sqlite {
    fn apply(&mut self, cards: &[u64]) {
        let tx = self.conn.transaction().expect("begin");
        {
            let mut up = tx
                .prepare_cached("UPDATE cards SET data = ?2 WHERE id = ?1")
                .expect("prepare");
            let mut ev = tx
                .prepare_cached("INSERT INTO events (id, card, data) VALUES (?1, ?2, ?3)")
                .expect("prepare");
            for id in cards {
                let (event_id, state, event) = self.stamps.stamp(*id);
                up.execute(rusqlite::params![*id as i64, state])
                    .expect("update");
                ev.execute(rusqlite::params![event_id as i64, *id as i64, event])
                    .expect("insert");
            }
        }
        tx.commit().expect("commit");
    }
}

async fn baseline<B: Backend>(name: &'static str, backend: B, o: &Opts) -> Result1 {
    let queue = group_commit::start(backend, 4096, Duration::from_micros(o.wait_us));
    drive(name, o.callers, o.stamps, o.cards, 1, move |card| {
        let queue = queue.clone();
        async move {
            let (reply, rx) = tokio::sync::oneshot::channel();
            if queue.send(StampRequest { card, reply }).is_ok() {
                let _ = rx.await;
            }
        }
    })
    .await
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn stampcard_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.join("stampcard");
    p.exists().then_some(p)
}

async fn million(root: &Path, o: &Opts) -> Result<()> {
    let n = 1_000_000u64;
    let data = root.join("million");
    let bin = stampcard_binary();
    if let Some(bin) = &bin {
        let st = std::process::Command::new(bin)
            .args(["--data"])
            .arg(&data)
            .args(["init", "--timezone", "UTC"])
            .output()?;
        anyhow::ensure!(
            st.status.success(),
            "init failed: {}",
            String::from_utf8_lossy(&st.stderr)
        );
    }
    let store = data.join("store");
    let mut settings = ShopSettings::for_tests();
    settings.max_resident_actors = 10_000;
    let shop = open_shop(&store, settings).await?;
    let t = shop
        .templates()
        .create_template(draft(100), &Actor::channel("system"))
        .await?;
    let started = Instant::now();
    let first = populate(&shop, &t, n).await?;
    println!(
        "populated {n} cards in {:.1} s; RSS {:.0} MB",
        started.elapsed().as_secs_f64(),
        rss_mb()
    );
    shop.shutdown().await;
    drop(shop);
    // Stamp in a fresh process, as a restarted server would: the memory the
    // bulk load left in this process's allocator is not what a shop runs with.
    let status = std::process::Command::new(std::env::current_exe()?)
        .arg("--million-stamp")
        .arg(&store)
        .args(["--stamps", &o.stamps.to_string()])
        .args(["--callers", &o.callers.to_string()])
        .arg("--first-card")
        .arg(first.to_string())
        .status()?;
    anyhow::ensure!(status.success(), "the stamping phase failed");
    if let Some(bin) = bin {
        use tokio::io::AsyncBufReadExt;
        let start = Instant::now();
        let mut child = tokio::process::Command::new(&bin)
            .arg("--data")
            .arg(&data)
            .arg("serve")
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stderr = child.stderr.take().context("stderr")?;
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        let mut ready = false;
        while let Some(line) = lines.next_line().await? {
            if line.contains("ready") {
                println!(
                    "stampcard serve ready in {:.0} ms with {n} cards",
                    start.elapsed().as_secs_f64() * 1000.0
                );
                ready = true;
                break;
            }
            println!("serve: {line}");
        }
        anyhow::ensure!(ready, "stampcard serve did not become ready");
        let _ = child.kill().await;
        let _ = child.wait().await;
        export_memory(&bin, &data, root)?;
    } else {
        println!(
            "(serve start-up skipped: build the binary with `cargo build --release --workspace`)"
        );
    }
    Ok(())
}

/// Peak RSS of `stampcard export` of the 1,000,000 cards, against the same
/// command exporting the small journal of the same folder: a streamed
/// export's memory does not grow with the rows.
fn export_memory(bin: &Path, data: &Path, root: &Path) -> Result<()> {
    let run = |table: &str| -> Result<(f64, f64)> {
        let out = root.join(format!("export-{table}.csv"));
        let start = Instant::now();
        let child = std::process::Command::new(bin)
            .arg("--data")
            .arg(data)
            .args(["export", "--format", "csv", "--table", table, "-o"])
            .arg(&out)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        // The child's own high-water mark (VmHWM is per program image; the
        // parent's rusage would count the forked copy of this bench too).
        let mut child = child;
        let status_file = format!("/proc/{}/status", child.id());
        let mut peak_kb = 0u64;
        let status = loop {
            if let Ok(s) = std::fs::read_to_string(&status_file)
                && let Some(kb) = s
                    .lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
            {
                peak_kb = peak_kb.max(kb);
            }
            if let Some(status) = child.try_wait()? {
                break status;
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        anyhow::ensure!(status.success(), "export of {table} failed");
        Ok((peak_kb as f64 / 1024.0, start.elapsed().as_secs_f64()))
    };
    let (small, _) = run("journal")?;
    let (big, secs) = run("cards")?;
    let rows = std::fs::read_to_string(root.join("export-cards.csv"))
        .map(|s| s.lines().count().saturating_sub(1))
        .unwrap_or(0);
    println!(
        "export: {rows} cards as CSV in {secs:.1} s, peak RSS {big:.0} MiB; exporting the small journal: {small:.0} MiB; ratio {:.2}",
        big / small.max(1.0)
    );
    Ok(())
}

/// The bot under load: `rate` updates a second from 1,000 users (a fake
/// Bot API server hands them out), latency from hand-out to the reply.
async fn bot_load(dir: &Path, rate: u64) -> Result<()> {
    use stampcard_e2e::fake_telegram::FakeTelegram;
    let shop = open_shop(dir, ShopSettings::for_tests()).await?;
    shop.templates()
        .create_template(
            draft(8),
            &Actor::Cli {
                user: "bench".into(),
            },
        )
        .await?;
    let fake = Arc::new(FakeTelegram::start());
    if std::env::var("BENCH_DEBUG").is_err() {
        fake.quiet();
    }
    let bot = stampcard_bot::client("123456:BENCH", Some(&fake.url))?;
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let replies = stampcard_bot::Replies::new(bot, stampcard_bot::Limits::relaxed());
    let handling = stampcard_bot::updates::Handling {
        shop: shop.clone(),
        replies,
        wallets: Default::default(),
        handler: stampcard_bot::handlers::handler(),
    };
    let task = tokio::spawn(stampcard_bot::run(
        handling,
        stampcard_bot::updates::Receive::Polling,
        stop,
    ));
    let users = 1000i64;
    let feed = |text: &'static str, total: u64| {
        let fake = fake.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            for i in 0..total {
                // Paced: update i goes out at i / rate seconds.
                let due = start + Duration::from_secs_f64(i as f64 / rate as f64);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                fake.message(10_000 + i as i64 % users, "Guest", "en", text);
            }
        })
    };
    let wait_replies = |n: usize| {
        let fake = fake.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(120);
            while fake.latencies().len() < n {
                anyhow::ensure!(
                    Instant::now() < deadline,
                    "the bot answered {} of {n} ({} updates not handed out); calls: {:?}",
                    fake.latencies().len(),
                    fake.backlog(),
                    fake.calls()
                        .iter()
                        .take(6)
                        .map(|c| (c.method.clone(), c.body.to_string()))
                        .collect::<Vec<_>>()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Ok::<(), anyhow::Error>(())
        }
    };
    // Every user joins first (not measured), then asks for their card.
    feed("/start j1", users as u64)
        .join()
        .map_err(|_| anyhow::anyhow!("feeder"))?;
    wait_replies(users as usize).await?;
    let warm = fake.latencies().len();
    let total = rate * 5;
    let started = Instant::now();
    feed("/cards", total)
        .join()
        .map_err(|_| anyhow::anyhow!("feeder"))?;
    wait_replies(warm + total as usize).await?;
    let secs = started.elapsed().as_secs_f64();
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for l in &fake.latencies()[warm..] {
        h.record(l.as_micros().max(1) as u64)?;
    }
    println!(
        "telegram bot: {total} /cards updates at {rate}/s from {users} users (each answered with the card's QR picture), done in {secs:.1} s: \
         latency p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms (the bot's send limiter with relaxed limits; the fake never limits)",
        h.value_at_quantile(0.5) as f64 / 1000.0,
        h.value_at_quantile(0.99) as f64 / 1000.0,
        h.max() as f64 / 1000.0
    );
    let _ = stop_tx.send(true);
    let _ = task.await;
    shop.shutdown().await;
    Ok(())
}

/// CPU seconds this process has used.
fn cpu_secs() -> f64 {
    // SAFETY: getrusage writes into the struct we pass and nothing else.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// Stamps at a steady rate for `secs`; returns the CPU seconds used meanwhile.
async fn steady_stamps(shop: &Shop, first: u64, cards: u64, per_sec: u64, secs: u64) -> f64 {
    let actor = Actor::channel("bench");
    let start = cpu_secs();
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / per_sec));
    for _ in 0..per_sec * secs {
        tick.tick().await;
        let (s, a) = (shop.clone(), actor.clone());
        let card = first + rand::rng().random_range(0..cards);
        tokio::spawn(async move {
            let _ = s.cards().stamp_card(card, 1, None, &a).await;
        });
    }
    cpu_secs() - start
}

/// CPU per SSH console session: the same steady stamping with no session,
/// then with `n` sessions each showing the live journal at 200×60.
async fn ssh_sessions(dir: &Path, n: usize) -> Result<()> {
    use russh::keys::PrivateKey;
    use russh::keys::ssh_key::private::Ed25519Keypair;
    let shop = open_shop(dir, ShopSettings::for_tests()).await?;
    let admin = Actor::Cli {
        user: "bench".into(),
    };
    let t = shop.templates().create_template(draft(10), &admin).await?;
    let cards = 1000;
    let first = populate(&shop, &t, cards).await?;
    let client_key = Arc::new(PrivateKey::from(Ed25519Keypair::from_seed(&rand::random())));
    let staff = shop
        .access()
        .add_staff(
            "Bench Admin",
            stampcard_core::model::Role::Admin,
            "86420",
            &admin,
        )
        .await?;
    shop.access()
        .add_staff_ssh_key(&staff.name, &client_key.public_key().to_openssh()?, &admin)
        .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let host = PrivateKey::from(Ed25519Keypair::from_seed(&rand::random()));
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(stampcard_tui::ssh::serve(
        shop.clone(),
        listener,
        host,
        None,
        stop,
        std::sync::Arc::new(stampcard_core::listen::Gate::new(
            "SSH",
            stampcard_core::listen::shares(stampcard_core::listen::raise_open_files_limit()).1,
        )),
    ));
    let (rate, secs) = (200u64, 10u64);
    let idle = steady_stamps(&shop, first, cards, rate, secs).await;
    let mut consoles = Vec::new();
    for _ in 0..n {
        consoles.push(
            stampcard_e2e::ssh_client::Console::open(addr, client_key.clone(), 200, 60).await?,
        );
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while !consoles.iter().all(|c| c.saw("Scanner")) {
        anyhow::ensure!(Instant::now() < deadline, "SSH sessions did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let drawn =
        |c: &stampcard_e2e::ssh_client::Console| c.bytes.load(std::sync::atomic::Ordering::Relaxed);
    let at_f5: Vec<u64> = consoles.iter().map(drawn).collect();
    for c in &consoles {
        c.keys(b"\x1b[15~"); // F5: the admin screens, journal tab, live
    }
    // The switch redraws most of the screen; the diff-based output cannot be
    // searched for text, so count the bytes of the redraw.
    while !consoles
        .iter()
        .zip(&at_f5)
        .all(|(c, b)| drawn(c) > b + 2000)
    {
        anyhow::ensure!(
            Instant::now() < deadline,
            "SSH sessions did not reach the journal: {at_f5:?} -> {:?}",
            consoles.iter().map(drawn).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before: u64 = consoles
        .iter()
        .map(|c| c.bytes.load(std::sync::atomic::Ordering::Relaxed))
        .sum();
    let busy = steady_stamps(&shop, first, cards, rate, secs).await;
    let after: u64 = consoles
        .iter()
        .map(|c| c.bytes.load(std::sync::atomic::Ordering::Relaxed))
        .sum();
    let per_session = (busy - idle).max(0.0) / n as f64 / secs as f64 * 100.0;
    println!(
        "SSH consoles: {n} sessions on the live journal at 200x60, {rate} stamps/s for {secs} s: \
         CPU {:.1}% of a core without sessions, {:.1}% with them; {per_session:.2}% of a core per session; \
         {:.0} KiB/s of screen updates per session",
        idle / secs as f64 * 100.0,
        busy / secs as f64 * 100.0,
        (after - before) as f64 / n as f64 / secs as f64 / 1024.0
    );
    let _ = stop_tx.send(true);
    drop(consoles);
    let _ = server.await;
    shop.shutdown().await;
    Ok(())
}

/// The stamping phase of `--million`, in its own process.
async fn million_stamp(store: &Path, o: &Opts) -> Result<()> {
    let n = 1_000_000u64;
    let first = o.first_card;
    let mut settings = ShopSettings::for_tests();
    settings.max_resident_actors = 10_000;
    let shop = open_shop(store, settings).await?;
    println!("reopened in a fresh process; RSS {:.0} MB", rss_mb());
    let actor = Actor::channel("bench");
    let sampler = tokio::spawn(async {
        let mut max = 0f64;
        loop {
            max = max.max(rss_mb());
            tokio::time::sleep(Duration::from_millis(100)).await;
            if max < 0.0 {
                break max;
            }
        }
    });
    let s = shop.clone();
    let a2 = actor.clone();
    let r = drive(
        "1M cards, cap 10k",
        o.callers,
        o.stamps,
        n,
        first,
        move |card| {
            let (s, actor) = (s.clone(), a2.clone());
            async move {
                let _ = s.cards().stamp_card(card, 1, None, &actor).await;
            }
        },
    )
    .await;
    report(&r);
    let peak_during = rss_mb();
    sampler.abort();
    let stats = shop.directory_stats().await?;
    println!(
        "resident actors {} (cap 10000); activations {}; passivations {}; RSS after stamping {:.0} MB",
        stats.resident, stats.activations, stats.passivations, peak_during
    );
    // Activation: a Get on a random (almost surely passivated) card.
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for _ in 0..20_000 {
        let card = first + rand::rng().random_range(0..n);
        let t = Instant::now();
        shop.cards()
            .command(card, stampcard_core::actors::CardCommand::Get, &actor, None)
            .await?;
        h.record(t.elapsed().as_micros().max(1) as u64)?;
    }
    println!(
        "activation of a passivated card: p50 {:.3} ms  p99 {:.3} ms  (20,000 random cards of 1M)",
        h.value_at_quantile(0.5) as f64 / 1000.0,
        h.value_at_quantile(0.99) as f64 / 1000.0
    );
    println!(
        "peak RSS, stamping and the activation probe: {:.0} MB",
        rss_mb().max(peak_during)
    );
    console_frames(&shop).await?;
    shop.shutdown().await;
    Ok(())
}

/// Frame time of the busiest console screens at 200×60 over the million
/// cards: the live journal (200 rows) and the customers & cards tab with
/// its details panel. Data loading is timed apart from drawing.
async fn console_frames(shop: &Shop) -> Result<()> {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use stampcard_tui::app::{App, Msg};
    use stampcard_tui::keys::Key;

    let admin = shop
        .access()
        .add_staff(
            "Bench Admin",
            stampcard_core::model::Role::Admin,
            "97531",
            &Actor::Cli {
                user: "bench".into(),
            },
        )
        .await?;
    let mut app = App::for_shop(shop);
    app.signed_in_as(admin);
    let actor = Actor::channel("bench");
    let mut term = Terminal::new(TestBackend::new(200, 60))?;
    for (name, keys) in [
        ("journal", vec![Key::F(5), Key::Char('3')]),
        ("customers & cards", vec![Key::Char('2')]),
    ] {
        let load = Instant::now();
        for k in keys {
            let mut effects = app.update(Msg::Key(k));
            while let Some(e) = effects.pop() {
                let outcome = stampcard_tui::effects::perform(shop, &actor, e).await;
                effects.extend(app.update(Msg::Done(outcome)));
            }
        }
        let load_ms = load.elapsed().as_secs_f64() * 1000.0;
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
        for _ in 0..1000 {
            let t = Instant::now();
            term.draw(|f| stampcard_tui::view::draw(&app, f))?;
            h.record(t.elapsed().as_micros().max(1) as u64)?;
        }
        println!(
            "console frame 200x60, {name}: p50 {:.3} ms  p99 {:.3} ms  (data load {load_ms:.1} ms)",
            h.value_at_quantile(0.5) as f64 / 1000.0,
            h.value_at_quantile(0.99) as f64 / 1000.0
        );
    }
    Ok(())
}

fn main() -> Result<()> {
    if std::env::args().nth(1).as_deref() == Some("--trivial-server") {
        return api::trivial_server();
    }
    let o = opts()?;
    if o.million_stamp.is_some() {
        // The same allocator setting as the `stampcard` binary.
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: sets an allocator parameter before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
    // As the `stampcard` binary does (see its `tune_allocator`).
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE only sets a flag of this process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench(o))
}

async fn bench(o: Opts) -> Result<()> {
    if let Some(store) = &o.million_stamp {
        return million_stamp(store, &o).await;
    }
    if o.postgres > 0 {
        if o.nodes > 0 {
            return postgres::nodes_bench(&o).await;
        }
        return postgres::postgres_bench(&o).await;
    }
    let base = std::env::var("BENCH_DIR").unwrap_or_else(|_| ".".into());
    std::fs::create_dir_all(&base).with_context(|| format!("BENCH_DIR {base}"))?;
    let root = tempfile::tempdir_in(&base)?;
    // BENCH_KEEP=1 keeps the folders (e.g. the million-card store, to run
    // `--million-stamp` on it again).
    let root = match std::env::var_os("BENCH_KEEP") {
        Some(_) => {
            let kept = root.keep();
            println!("keeping {}", kept.display());
            Kept::Path(kept)
        }
        None => Kept::Temp(root),
    };
    println!(
        "machine: {} cores, {} | {} cards, {} concurrent callers (closed loop), {} stamps each run, group commit: take all queued (max 4096), extra wait {} µs",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| m.lines().next().map(|l| l
                .split_whitespace()
                .nth(1)
                .unwrap_or("?")
                .to_string()))
            .map(|kb| format!("{} GiB", kb.parse::<u64>().unwrap_or(0) / 1024 / 1024))
            .unwrap_or_default(),
        o.cards,
        o.callers,
        o.stamps,
        o.wait_us
    );
    // The three run in turn, round after round, so that a slow spell of
    // this shared machine's disk falls on all of them; the ratios are the
    // medians over the rounds.
    // The API's stamps join every round (unless --core-only or
    // --api-requests 0), so a stamp bench always shows them beside the core.
    let api_in_rounds = !o.core_only && o.api_requests > 0;
    let api_binary = api_in_rounds && stampcard_binary().is_some();
    if api_in_rounds && !api_binary {
        println!(
            "api: skipped, the stampcard binary is not beside the bench (cargo build --release --workspace)"
        );
    }
    let mut to_raw = Vec::new();
    let mut to_sqlite = Vec::new();
    let mut api_to_core = Vec::new();
    for round in 1..=o.rounds.max(1) {
        if o.rounds > 1 {
            println!("round {round}:");
        }
        let dir = root.path().join(format!("round-{round}"));
        let (core, raw, sqlite) = stamp_round(&dir, &o).await?;
        to_raw.push(raw);
        to_sqlite.push(sqlite);
        if api_binary {
            let api = api::api_bench(&dir.join("api"), o.api_requests, o.connections).await?;
            let ratio = api / core;
            println!(
                "ratio: api stamps ({} connections) / actor core ({} callers) = {ratio:.2}",
                o.connections, o.callers
            );
            api_to_core.push(ratio);
        }
    }
    if o.rounds > 1 && !o.core_only {
        println!(
            "median ratios over {} rounds: actor core / raw sled = {:.2}   actor core / SQLite = {:.2}",
            o.rounds,
            median(&mut to_raw),
            median(&mut to_sqlite)
        );
        if !api_to_core.is_empty() {
            println!(
                "median ratio over {} rounds: api stamps / actor core = {:.2}",
                o.rounds,
                median(&mut api_to_core)
            );
        }
    }
    if o.campaign > 0 {
        campaign::campaign_bench(&root.path().join("campaign"), o.campaign).await?;
    }
    if o.google > 0 {
        google::google_bench(root.path(), o.google).await?;
    }
    if o.dispatch > 0 {
        dispatch::dispatch_bench(&root.path().join("dispatch"), o.dispatch).await?;
    }
    if o.backlog > 0 {
        backlog::backlog_bench(&root.path().join("backlog"), o.backlog).await?;
    }
    if o.smtp > 0 {
        smtp::smtp_bench(&root.path().join("smtp"), o.smtp).await?;
    }
    if o.passes > 0 {
        passes::passes_bench(&root.path().join("passes"), o.passes).await?;
    }
    if o.bot_updates > 0 {
        bot_load(&root.path().join("bot"), o.bot_updates).await?;
    }
    if o.ssh_sessions > 0 {
        ssh_sessions(&root.path().join("ssh"), o.ssh_sessions).await?;
    }
    if o.million {
        million(root.path(), &o).await?;
    }
    Ok(())
}
