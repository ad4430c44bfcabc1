//! `--dispatch N`: a campaign to N Telegram holders through the real
//! `stampcard serve` (planning, the outbox, the bot's channel with
//! Telegram's limits: 30 messages a second overall, 1 a second and 20 a
//! minute per chat) into the fake Bot API server. Reports the pacing
//! against the configured overall rate (mean rate, the busiest second) and
//! the loss: every holder must get exactly one message.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use stampcard_core::model::Consent;
use stampcard_core::settings::ShopSettings;
use stampcard_e2e::fake_telegram::FakeTelegram;

use super::api::{ApiClient, bench_shop, serve};

/// The overall rate the bot's channel keeps (Telegram's published limit).
const OVERALL_PER_SEC: f64 = 30.0;
/// What the campaign says (found in each message).
const TEXT: &str = "Cinnamon buns are back this weekend.";
/// First chat id of the bench holders.
const FIRST_CHAT: i64 = 500_000;

pub async fn dispatch_bench(dir: &Path, n: u64) -> Result<()> {
    let bin = super::stampcard_binary()
        .context("the stampcard binary is missing: cargo build --release --workspace")?;
    let (data, token) = bench_shop(&bin, dir, "admin")?;
    // N holders who joined in Telegram, written before the server starts.
    {
        let shop = super::open_shop(&data.join("store"), ShopSettings::for_tests()).await?;
        let template = shop.templates().template(1)?;
        let now = chrono::Utc::now();
        super::campaign::write_holders(&shop, &template, n, |c, i| {
            c.telegram_id = Some(FIRST_CHAT + i as i64);
            c.consent_telegram = Some(Consent {
                granted: true,
                at: now,
                source: "bench".into(),
            });
        })
        .await?;
        shop.shutdown().await;
    }
    let fake = FakeTelegram::start();
    let (_server, addr) = serve(
        &bin,
        &data,
        &[
            ("STAMPCARD_TELEGRAM__TOKEN", "123456:BENCH"),
            ("STAMPCARD_TELEGRAM__API_URL", &fake.url),
        ],
    )?;
    let mut api = ApiClient::connect(addr, &token).await?;
    let created = api
        .post(
            "/api/v1/campaigns",
            serde_json::json!({"template_id": 1, "text": TEXT, "channels": ["telegram"]})
                .to_string(),
        )
        .await?;
    let audience = created["audience"]["per_channel"]["telegram"].as_u64();
    if audience != Some(n) {
        bail!("the audience is {audience:?}, not {n}: {created}");
    }
    let id = created["campaign"]["id"].as_u64().context("campaign id")?;
    let start = Instant::now();
    api.post(&format!("/api/v1/campaigns/{id}/send"), "{}".into())
        .await?;
    let planned = start.elapsed();
    // Every message arrives; at 30/s that takes N/30 seconds.
    let deadline = start + Duration::from_secs_f64(n as f64 / OVERALL_PER_SEC * 3.0 + 60.0);
    let sent = || {
        fake.calls()
            .into_iter()
            .filter(|c| c.method == "sendmessage")
            .filter(|c| c.body["text"].as_str().is_some_and(|t| t.contains(TEXT)))
            .collect::<Vec<_>>()
    };
    let mut arrived = sent();
    while (arrived.len() as u64) < n {
        if Instant::now() > deadline {
            bail!("only {} of {n} messages arrived", arrived.len());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        arrived = sent();
    }
    // A little longer: a duplicate would arrive now.
    tokio::time::sleep(Duration::from_secs(2)).await;
    arrived = sent();
    let mut per_chat: HashMap<i64, u32> = HashMap::new();
    for c in &arrived {
        *per_chat
            .entry(c.body["chat_id"].as_i64().unwrap_or(0))
            .or_default() += 1;
    }
    let reached = (0..n as i64)
        .filter(|i| per_chat.get(&(FIRST_CHAT + i)) == Some(&1))
        .count();
    let duplicates: u32 = per_chat.values().map(|k| k.saturating_sub(1)).sum();
    let mut times: Vec<Instant> = arrived.iter().map(|c| c.at).collect();
    times.sort();
    let (first, last) = (times[0], times[times.len() - 1]);
    let span = (last - first).as_secs_f64();
    let mean = (times.len() - 1) as f64 / span.max(1e-9);
    // The busiest second: the most messages in any window of one second.
    let mut busiest = 0;
    let mut lo = 0;
    for hi in 0..times.len() {
        while times[hi] - times[lo] >= Duration::from_secs(1) {
            lo += 1;
        }
        busiest = busiest.max(hi - lo + 1);
    }
    println!(
        "dispatch: a campaign to {n} Telegram holders through serve into the fake Bot API \
         (configured {OVERALL_PER_SEC:.0} messages/s overall); planning {:.2} s",
        planned.as_secs_f64()
    );
    println!(
        "  delivered {} of {n} exactly once, {} lost, {duplicates} duplicates; first after {:.2} s, last after {:.1} s",
        reached,
        n as usize - reached,
        (first - start).as_secs_f64(),
        (last - start).as_secs_f64()
    );
    println!(
        "  mean rate {mean:.2}/s, busiest second {busiest} messages: pacing accuracy {:.3} (mean / configured), \
         busiest / configured {:.2}",
        mean / OVERALL_PER_SEC,
        busiest as f64 / OVERALL_PER_SEC
    );
    if reached as u64 != n || duplicates > 0 {
        bail!("messages were lost or duplicated");
    }
    Ok(())
}
