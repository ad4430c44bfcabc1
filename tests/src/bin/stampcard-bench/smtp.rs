//! `--smtp N`: a campaign's email to N recipients through the real
//! `stampcard serve` (planning, the outbox, the email channel) into a local
//! aiosmtpd, against a bare lettre loop sending N similar emails over one
//! pooled connection to the same server, in the same run.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use lettre::message::MultiPart;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use stampcard_e2e::smtp_server::SmtpServer;

use super::api::{ApiClient, bench_shop, serve};

const TEXT: &str = "**Pumpkin pie** is back this week: come by and taste it. \
    See [the menu](https://shop.example/menu).";

/// The bare loop: N multipart emails over one pooled transport, one after another.
async fn bare_lettre(port: u16, n: u64) -> Result<Duration> {
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .build();
    let plain = stampcard_core::markup::to_plain(TEXT);
    let html = stampcard_core::markup::to_html(TEXT);
    let start = Instant::now();
    for i in 0..n {
        let email = lettre::Message::builder()
            .from("Bench <news@bench.test>".parse()?)
            .to(format!("bare{i}@bench.test").parse()?)
            .subject("Bench: Pie is back!")
            .multipart(MultiPart::alternative_plain_html(
                plain.clone(),
                html.clone(),
            ))?;
        transport.send(email).await?;
    }
    Ok(start.elapsed())
}

pub async fn smtp_bench(dir: &Path, n: u64) -> Result<()> {
    let bin = super::stampcard_binary()
        .context("the stampcard binary is missing: cargo build --release --workspace")?;
    let smtp = SmtpServer::start();
    let (data, token) = bench_shop(&bin, dir, "admin")?;
    let port = smtp.port.to_string();
    let (_server, addr) = serve(
        &bin,
        &data,
        &[
            ("STAMPCARD_SMTP__HOST", "127.0.0.1"),
            ("STAMPCARD_SMTP__PORT", &port),
            ("STAMPCARD_SMTP__SECURITY", "none"),
            ("STAMPCARD_SMTP__FROM", "Bench <news@bench.test>"),
            ("STAMPCARD_SMTP__PER_SECOND", "100000"),
        ],
    )?;
    let mut api = ApiClient::connect(addr, &token).await?;
    // N holders of the bench template who opted in to email.
    for i in 0..n {
        let body = serde_json::json!({"template_id": 1, "customer": {
            "name": format!("Guest {i}"), "email": format!("guest{i}@bench.test"), "consent_email": true
        }});
        api.post("/api/v1/cards", body.to_string()).await?;
    }
    println!("smtp: {n} emails to aiosmtpd on 127.0.0.1 (each stored and parsed by the server)");

    let bare = bare_lettre(smtp.port, n).await?;
    let before = smtp.count();
    let created = api.post(
        "/api/v1/campaigns",
        serde_json::json!({"template_id": 1, "text": TEXT, "push_text": "Pie is back!", "channels": ["email"]})
            .to_string(),
    )
    .await?;
    let id = created["campaign"]["id"].as_u64().context("campaign id")?;
    let start = Instant::now();
    api.post(&format!("/api/v1/campaigns/{id}/send"), "{}".into())
        .await?;
    let planned = start.elapsed();
    let deadline = start + Duration::from_secs(600);
    while (smtp.count() - before) < n as usize {
        if Instant::now() > deadline {
            bail!("only {} of {n} emails arrived", smtp.count() - before);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ours = start.elapsed();
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "  bare lettre loop (baseline)          {:>8.0} emails/s  ({:.2} s)",
        rate(bare),
        bare.as_secs_f64()
    );
    println!(
        "  campaign → outbox → email channel    {:>8.0} emails/s  ({:.2} s, of which planning {:.2} s)",
        rate(ours),
        ours.as_secs_f64(),
        planned.as_secs_f64()
    );
    println!(
        "ratio: stampcard / bare lettre = {:.2}",
        bare.as_secs_f64() / ours.as_secs_f64()
    );
    Ok(())
}
