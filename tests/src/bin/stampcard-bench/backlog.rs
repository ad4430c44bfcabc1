//! `--backlog N`: N webhook deliveries pending for two receivers that are
//! down (connection refused), written before `stampcard serve` starts (as
//! after days of an outage and a restart). Reports the server's resident
//! memory while its dispatcher works through them, with the default memory
//! window, beside the same server holding the whole backlog in memory
//! (`outbox.memory_window` above N, as before the window) and beside a shop
//! with nothing pending (the baseline); then with three times the backlog
//! (memory should not follow it).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use stampcard_core::model::Actor;
use stampcard_core::outbox::{Message, Purpose};
use stampcard_core::settings::ShopSettings;
use stampcard_core::store::Mutation;

use super::api::{bench_shop, serve};

/// How long each server is watched; its peak resident memory counts.
const WATCH: Duration = Duration::from_secs(30);

/// Writes `n` pending deliveries to two dead receivers into the shop at
/// `data` (the receivers are made on the first call).
async fn write_backlog(data: &Path, n: u64) -> Result<()> {
    let shop = super::open_shop(&data.join("store"), ShopSettings::for_tests()).await?;
    let admin = Actor::Cli {
        user: "bench".into(),
    };
    let mut hooks: Vec<u64> = shop.webhooks().webhooks()?.iter().map(|h| h.id).collect();
    if hooks.is_empty() {
        for path in ["a", "b"] {
            let hook = shop
                .webhooks()
                .create_webhook(&format!("http://127.0.0.1:9/{path}"), &[], &admin)
                .await?;
            hooks.push(hook.id);
        }
    }
    let mut m = Mutation::new();
    for i in 0..n {
        let hook = hooks[(i % 2) as usize];
        let card = 100_001 + (i / 2) % 2_000;
        // A stamp event as the webhook consumer queues it.
        let data = serde_json::json!({
            "id": 1_000 + i / 2,
            "at": "2026-12-01T09:30:00Z",
            "type": "stamp_added",
            "card_id": card,
            "customer_id": card - 100_000,
            "template_id": 1,
            "code": format!("C{card:010}"),
            "progress": {"stamps": (i % 10), "required": 10, "rewards_pending": 0},
            "effect": {"count": 1, "rewards": 0, "reason": "purchase"},
            "actor": {"kind": "staff", "name": "Ana", "via": "console"},
        });
        shop.outbox().enqueue(
            &mut m,
            Message {
                channel: "webhook".into(),
                recipient: hook.to_string(),
                purpose: Purpose::Transactional,
                subject: Some("stamp_added".into()),
                text: String::new(),
                data,
                customer_id: Some(card - 100_000),
                card_id: Some(card),
                source_event: Some(1_000 + i / 2),
            },
        )?;
        if m.puts.len() >= 10_000 {
            shop.store().commit(std::mem::take(&mut m)).await?;
        }
    }
    shop.store().commit(m).await?;
    shop.shutdown().await;
    Ok(())
}

/// Resident memory of process `pid` in MB.
fn rss_of(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Starts `serve` on `data` and returns its peak resident memory over
/// [`WATCH`] (and at the end).
fn watch_serve(bin: &Path, data: &Path, env: &[(&str, &str)]) -> Result<(f64, f64)> {
    let (server, _addr) = serve(bin, data, env)?;
    let pid = server.pid();
    let start = Instant::now();
    let mut peak: f64 = 0.0;
    let mut last = 0.0;
    while start.elapsed() < WATCH {
        std::thread::sleep(Duration::from_millis(500));
        last = rss_of(pid);
        peak = peak.max(last);
    }
    Ok((peak, last))
}

pub async fn backlog_bench(dir: &Path, n: u64) -> Result<()> {
    let bin = super::stampcard_binary()
        .context("the stampcard binary is missing: cargo build --release --workspace")?;
    let (empty, _) = bench_shop(&bin, &dir.join("empty"), "admin")?;
    let (data, _) = bench_shop(&bin, &dir.join("backlog"), "admin")?;
    let wrote = Instant::now();
    write_backlog(&data, n).await?;
    println!(
        "backlog: {n} webhook deliveries pending for two receivers that are down (written in {:.1} s); \
         each server watched {} s",
        wrote.elapsed().as_secs_f64(),
        WATCH.as_secs()
    );
    let (base, _) = watch_serve(&bin, &empty, &[])?;
    let (windowed, windowed_end) = watch_serve(&bin, &data, &[])?;
    let everything = (n + 1).to_string();
    let (unbounded, _) = watch_serve(
        &bin,
        &data,
        &[("STAMPCARD_OUTBOX__MEMORY_WINDOW", everything.as_str())],
    )?;
    write_backlog(&data, 2 * n).await?;
    let (tripled, _) = watch_serve(&bin, &data, &[])?;
    println!("  serve, nothing pending (baseline): peak RSS {base:.0} MB");
    println!(
        "  serve, {n} pending, default window: peak RSS {windowed:.0} MB (at the end {windowed_end:.0} MB): \
         {:.2} × the baseline",
        windowed / base.max(1.0)
    );
    println!(
        "  serve, {n} pending, all in memory (window {everything}): peak RSS {unbounded:.0} MB: \
         {:.2} × the baseline",
        unbounded / base.max(1.0)
    );
    println!(
        "  serve, {} pending, default window: peak RSS {tripled:.0} MB: {:.2} × the default window at {n}",
        3 * n,
        tripled / windowed.max(1.0)
    );
    Ok(())
}
