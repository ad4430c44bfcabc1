//! `--postgres N`: durable stamps by the core on PostgreSQL (a server the
//! bench starts with fsync and synchronous_commit on) against pgbench on
//! the same server running the same writes (`tests/bench/pg_stamp.sql`):
//! one transaction per stamp, and one per batch of the core's mean batch
//! size; and against the core on sled. In rounds; the ratios are medians.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use stampcard_core::Shop;
use stampcard_core::clock::SystemClock;
use stampcard_core::store::{PgOptions, PgStore};
use stampcard_e2e::postgres::{self, PASSWORD, PgServer};

use super::{
    Opts, Result1, Written, actor_core, core_settings, core_stamps, draft, drive, median, populate,
    report, written_by,
};

/// The repo's pgbench script.
const SCRIPT: &str = include_str!("../../../bench/pg_stamp.sql");

/// A PostgreSQL server of the bench's own, its heading printed; a folder
/// for its files; the options with `--postgres N` as the stamp count.
fn start(o: &Opts, through: &str) -> Result<(PgServer, tempfile::TempDir, Opts)> {
    let server = PgServer::start();
    println!(
        "postgres: {} stamps by {} callers on {} cards{through}; PostgreSQL {} (fsync=on, synchronous_commit=on) on 127.0.0.1",
        o.postgres,
        o.callers,
        o.cards,
        server.psql("postgres", "SHOW server_version").trim()
    );
    let base = std::env::var("BENCH_DIR").unwrap_or_else(|_| ".".into());
    let root = tempfile::tempdir_in(&base)?;
    let o = Opts {
        stamps: o.postgres,
        ..o.clone()
    };
    Ok((server, root, o))
}

/// A shop on the PostgreSQL database at `url`.
async fn open_shop(url: &str, options: PgOptions, o: &Opts) -> Result<Shop> {
    let url = url.to_string();
    let store = tokio::task::spawn_blocking(move || PgStore::open(&url, options)).await??;
    Ok(Shop::with_store(Arc::new(store), core_settings(o), Arc::new(SystemClock)).await?)
}

pub async fn postgres_bench(o: &Opts) -> Result<()> {
    let (server, root, o) = start(o, "")?;
    let (mut to_single, mut to_batched, mut to_sled, mut p99s) = (vec![], vec![], vec![], vec![]);
    for round in 1..=o.rounds.max(1) {
        println!("round {round}:");
        let (core, written, batch) = core_on_postgres(&server, &o).await?;
        report(&core);
        println!("  the core's mean batch: {batch:.1} stamps per transaction");
        let single = pgbench(&server, &o, &written, 1, root.path())?;
        report(&single);
        let k = batch.round().max(1.0) as usize;
        let batched = pgbench(&server, &o, &written, k, root.path())?;
        report(&batched);
        let (sled, _) = actor_core(&root.path().join(format!("sled-{round}")), &o).await?;
        report(&sled);
        let ratios = (
            core.per_sec / single.per_sec,
            core.per_sec / batched.per_sec,
            core.per_sec / sled.per_sec,
        );
        println!(
            "ratios: core on PostgreSQL / pgbench per stamp = {:.2}   / pgbench per batch of {k} = {:.2}   / core on sled = {:.2}",
            ratios.0, ratios.1, ratios.2
        );
        to_single.push(ratios.0);
        to_batched.push(ratios.1);
        to_sled.push(ratios.2);
        p99s.push(core.hist.value_at_quantile(0.99) as f64 / 1000.0);
    }
    println!(
        "median over {} rounds: core on PostgreSQL / pgbench per stamp = {:.2}   / pgbench per batch = {:.2}   / core on sled = {:.2}   core p99 {:.2} ms",
        o.rounds.max(1),
        median(&mut to_single),
        median(&mut to_batched),
        median(&mut to_sled),
        median(&mut p99s)
    );
    Ok(())
}

/// `--postgres N --nodes K`: the stamps through 1, 2 … K nodes sharing one
/// database (each a store and shop of its own with `shared`, in this
/// process; a stamp goes to the nodes in turn), beside pgbench's one stamp
/// per transaction on the same server and writes, in rounds.
pub async fn nodes_bench(o: &Opts) -> Result<()> {
    let (server, root, o) = start(o, &format!(" through 1..={} nodes", o.nodes))?;
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); o.nodes as usize];
    let mut p99s: Vec<Vec<f64>> = vec![Vec::new(); o.nodes as usize];
    for round in 1..=o.rounds.max(1) {
        println!("round {round}:");
        let mut written = None;
        let mut results = Vec::new();
        for n in 1..=o.nodes as usize {
            let (r, w) = stamps_through_nodes(&server, &o, n).await?;
            report(&r);
            written = Some(w);
            results.push(r);
        }
        let single = pgbench(&server, &o, &written.context("no nodes")?, 1, root.path())?;
        report(&single);
        for (n, r) in results.iter().enumerate() {
            ratios[n].push(r.per_sec / single.per_sec);
            p99s[n].push(r.hist.value_at_quantile(0.99) as f64 / 1000.0);
        }
        println!(
            "ratios to pgbench per stamp: {}",
            results
                .iter()
                .enumerate()
                .map(|(n, r)| format!("{} node(s) {:.2}", n + 1, r.per_sec / single.per_sec))
                .collect::<Vec<_>>()
                .join("   ")
        );
    }
    for n in 0..o.nodes as usize {
        println!(
            "median over {} rounds: {} node(s) / pgbench per stamp = {:.2}   p99 {:.2} ms",
            o.rounds.max(1),
            n + 1,
            median(&mut ratios[n]),
            median(&mut p99s[n])
        );
    }
    Ok(())
}

const NODE_NAMES: [&str; 4] = ["1 node", "2 nodes", "3 nodes", "4+ nodes"];

/// The stamps through `n` nodes on a new database.
async fn stamps_through_nodes(server: &PgServer, o: &Opts, n: usize) -> Result<(Result1, Written)> {
    let url = server.database();
    let shared = PgOptions {
        shared: true,
        ..PgOptions::default()
    };
    let first = open_shop(&url, shared, o).await?;
    let t = first
        .templates()
        .create_template(draft(100), &stampcard_core::model::Actor::channel("system"))
        .await?;
    let first_card = populate(&first, &t, o.cards).await?;
    let mut shops = vec![first];
    for _ in 1..n {
        shops.push(open_shop(&url, shared, o).await?);
    }
    let shops = Arc::new(shops);
    let turn = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let actor = stampcard_core::model::Actor::channel("bench");
    let name = NODE_NAMES[(n - 1).min(3)];
    let (s, t) = (shops.clone(), turn.clone());
    let r = drive(
        name,
        o.callers,
        o.stamps,
        o.cards,
        first_card,
        move |card| {
            let (s, t, actor) = (s.clone(), t.clone(), actor.clone());
            async move {
                let shop = &s[t.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % s.len()];
                if let Err(e) = shop.cards().stamp_card(card, 1, None, &actor).await {
                    eprintln!("stamp failed: {e}");
                }
            }
        },
    )
    .await;
    let shops = Arc::try_unwrap(shops).map_err(|_| anyhow::anyhow!("a shop is still in use"))?;
    let mut shops = shops.into_iter();
    let first = shops.next().context("a node")?;
    for other in shops {
        other.shutdown().await;
    }
    // The card and event the stamps wrote, for pgbench's same writes.
    let written = written_by(&first, first_card)?;
    first.shutdown().await;
    Ok((r, written))
}

/// The core's stamps on a new database; its mean batch (stamps per
/// committed batch, from `commit_batches`).
async fn core_on_postgres(server: &PgServer, o: &Opts) -> Result<(Result1, Written, f64)> {
    let url = server.database();
    let name = url.rsplit('/').next().unwrap_or_default().to_string();
    let shop = open_shop(&url, PgOptions::default(), o).await?;
    let count = || -> Result<f64> {
        Ok(server
            .psql(&name, "SELECT count(*) FROM commit_batches")
            .trim()
            .parse()?)
    };
    let before = count()?;
    let (r, written) = core_stamps(shop, "core on PostgreSQL", o).await?;
    let batches = (count()? - before).max(1.0);
    Ok((r, written, o.stamps as f64 / batches))
}

/// pgbench running the stamp script, `k` stamps per transaction.
fn pgbench(
    server: &PgServer,
    o: &Opts,
    written: &Written,
    k: usize,
    dir: &Path,
) -> Result<Result1> {
    let url = server.database();
    let name = url.rsplit('/').next().unwrap_or_default().to_string();
    let first = 100_001u64;
    let card = serde_json::to_string(&written.card(first))?;
    server.psql(
        &name,
        &format!(
            "CREATE TABLE cards (id bigint PRIMARY KEY, body jsonb NOT NULL);
             CREATE TABLE events (id bigint PRIMARY KEY, card_id bigint, customer_id bigint,
                 at timestamptz NOT NULL, type text NOT NULL, body jsonb NOT NULL);
             CREATE INDEX ON events (card_id, id) WHERE card_id IS NOT NULL;
             CREATE SEQUENCE events_seq;
             INSERT INTO cards SELECT g, '{}'::jsonb FROM generate_series({first}, {}) g;",
            card.replace('\'', "''"),
            first + o.cards - 1
        ),
    );
    // The script, its stamp repeated k times in one transaction.
    let (head, rest) = SCRIPT
        .split_once("BEGIN;")
        .context("the script has BEGIN")?;
    let (body, _) = rest.split_once("END;").context("the script has END")?;
    let set = head
        .lines()
        .find(|l| l.starts_with("\\set card"))
        .context("the script sets card")?;
    // The i-th stamp of a batch picks from the i-th slice of the cards, so
    // concurrent batches take their row locks in one order (no deadlock).
    let mut script = String::new();
    if k == 1 {
        script += &format!("{set}\n");
        script = script.replace("\\set card ", "\\set card0 ");
    } else {
        let slice = (o.cards / k as u64).max(1);
        for i in 0..k as u64 {
            let lo = first + (i * slice).min(o.cards - 1);
            let hi = (lo + slice - 1).min(first + o.cards - 1);
            script += &format!("\\set card{i} random({lo}, {hi})\n");
        }
    }
    script += "BEGIN;\n";
    for i in 0..k {
        script += &body
            .replace(":card;", &format!(":card{i};"))
            .replace(":card, now()", &format!(":card{i}, now()"));
    }
    script += "END;\n";
    let file = dir.join(format!("pg_stamp_{k}.sql"));
    std::fs::write(&file, script)?;
    let logs = dir.join(format!("pgbench-logs-{k}-{}", rand::random::<u32>()));
    std::fs::create_dir_all(&logs)?;
    let clients = o.callers.max(1);
    let transactions = (o.stamps as usize / k / clients).max(1);
    let event = written.event(first + 1, &written.card(first + 1));
    let out = Command::new(postgres::bin_dir().join("pgbench"))
        .current_dir(&logs)
        .env("PGPASSWORD", PASSWORD)
        .args(["-n", "-M", "prepared", "-l"])
        .args(["-c", &clients.to_string(), "-j", "2"])
        .args(["-t", &transactions.to_string()])
        .args(["-f", &file.to_string_lossy()])
        .args([
            "-D",
            &format!("first={first}"),
            "-D",
            &format!("cards={}", o.cards),
        ])
        .args(["-D", &format!("card_body={card}")])
        .args([
            "-D",
            &format!("event_body={}", String::from_utf8_lossy(&event)),
        ])
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &server.port.to_string(),
            "-U",
            "postgres",
            &name,
        ])
        .output()
        .context("running pgbench (Debian's postgresql-client)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "pgbench failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let tps: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("pgbench printed no tps")?;
    // Per-transaction latencies (µs, third field) from its logs.
    let mut hist = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for entry in std::fs::read_dir(&logs)?.flatten() {
        for line in std::fs::read_to_string(entry.path())?.lines() {
            if let Some(us) = line
                .split_whitespace()
                .nth(2)
                .and_then(|v| v.parse::<u64>().ok())
            {
                let _ = hist.record(us.max(1));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&logs);
    Ok(Result1 {
        name: if k == 1 {
            "pgbench, 1 stamp/tx"
        } else {
            "pgbench, batch/tx"
        },
        per_sec: tps * k as f64,
        hist,
    })
}
