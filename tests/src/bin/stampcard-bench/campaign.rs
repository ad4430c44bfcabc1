//! `--campaign N`: planning a campaign to N recipients (one outbox entry
//! each, written durably in batches with the resume point), against raw
//! sled writing the same number of records in the same batches with a
//! flush each, in the same run.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use stampcard_core::consumers::Route;
use stampcard_core::model::{Actor, Card, Customer, Segment};
use stampcard_core::outbox::LogRoute;
use stampcard_core::settings::ShopSettings;
use stampcard_core::shop::CampaignDraft;
use stampcard_core::store::{Family, Key, Mutation, Record};

/// Writes N customers with a card of `template` each, straight through
/// the store; `fill` sets each customer's fields (its index given).
pub(super) async fn write_holders(
    shop: &stampcard_core::Shop,
    template: &stampcard_core::model::Template,
    n: u64,
    fill: impl Fn(&mut Customer, u64),
) -> Result<()> {
    write_holders_with(shop, template, n, fill, |_| {}).await
}

/// [`write_holders`], with `card` setting each card's fields.
pub(super) async fn write_holders_with(
    shop: &stampcard_core::Shop,
    template: &stampcard_core::model::Template,
    n: u64,
    fill: impl Fn(&mut Customer, u64),
    card_fill: impl Fn(&mut Card),
) -> Result<()> {
    let now = chrono::Utc::now();
    let mut m = Mutation::new();
    for i in 0..n {
        let customer = shop.store().next_id(Family::Customers)?;
        let card = shop.store().next_id(Family::Cards)?;
        let mut c = Customer {
            id: customer,
            name: format!("Guest {customer}"),
            created_at: Some(now),
            ..Default::default()
        };
        fill(&mut c, i);
        m.put(Key::Customer(customer), Record::Customer(c));
        m.put(Key::CardOfCustomer(customer, card), Record::Index(card));
        let mut held = Card::new(card, template, customer, now, None, None);
        card_fill(&mut held);
        m.put(Key::Card(card), Record::Card(held));
        if m.puts.len() >= 15_000 {
            shop.store().commit(std::mem::take(&mut m)).await?;
        }
    }
    shop.store().commit(m).await?;
    Ok(())
}

/// Runs the campaign planning benchmark (the log channel).
pub async fn campaign_bench(dir: &Path, n: u64) -> Result<()> {
    plan_bench(dir, n, "log", Arc::new(LogRoute), |_| {}).await
}

/// A campaign with `channel` picked, reaching every holder through `route`
/// (their cards set up by `card_fill`), planned and timed against raw sled
/// writing the same records.
pub(super) async fn plan_bench(
    dir: &Path,
    n: u64,
    channel: &str,
    route: Arc<dyn Route>,
    card_fill: impl Fn(&mut Card),
) -> Result<()> {
    let shop = super::open_shop(&dir.join("shop"), ShopSettings::for_tests()).await?;
    let admin = Actor::Cli {
        user: "bench".into(),
    };
    let template = shop
        .templates()
        .create_template(super::draft(10), &admin)
        .await?;
    write_holders_with(&shop, &template, n, |_, _| {}, card_fill).await?;
    let routes: Vec<Arc<dyn Route>> = vec![route];
    let c = shop
        .campaigns()
        .create_campaign(
            CampaignDraft {
                name: None,
                template_id: template.id,
                segment: Segment::All,
                push_text: match channel {
                    "wallet" => "Buns are back!".into(),
                    _ => String::new(),
                },
                text: "Cinnamon buns all weekend!".into(),
                channels: vec![channel.into()],
                scheduled_for: None,
                voucher: None,
            },
            &admin,
        )
        .await?;
    let start = Instant::now();
    let sent = shop
        .campaigns()
        .send_campaign(c.id, &routes, &admin)
        .await?;
    let plan = start.elapsed().as_secs_f64();
    anyhow::ensure!(sent.messages == n, "planned {} of {n}", sent.messages);
    shop.shutdown().await;

    // Baseline: raw sled, the same records (an entry and its pending index
    // per recipient, one batch record of entry and customer ids per 10,000)
    // in batches of the same size, one flush each.
    let db = sled::Config::new().path(dir.join("raw")).open()?;
    let payload = vec![b'x'; 400];
    let start = Instant::now();
    let mut batch = sled::Batch::default();
    let mut ids: Vec<u64> = Vec::new();
    let flush = |batch: sled::Batch, ids: &mut Vec<u64>, no: u64| -> Result<()> {
        let mut b = batch;
        let mut k = vec![b'Q'];
        k.extend_from_slice(&no.to_be_bytes());
        b.insert(k, serde_json::to_vec(&(&ids, &ids))?);
        ids.clear();
        db.apply_batch(b)?;
        db.flush()?;
        Ok(())
    };
    for i in 0..n {
        for prefix in [b'O', b'o'] {
            let mut k = vec![prefix];
            k.extend_from_slice(&i.to_be_bytes());
            batch.insert(
                k,
                if prefix == b'O' {
                    &payload[..]
                } else {
                    &[0u8; 8][..]
                },
            );
        }
        ids.push(i);
        if ids.len() == 10_000 {
            flush(std::mem::take(&mut batch), &mut ids, i)?;
        }
    }
    flush(batch, &mut ids, n)?;
    let raw = start.elapsed().as_secs_f64();
    println!(
        "campaign to {n} recipients ({channel}): planned (outbox written durably) in {plan:.2} s ({:.0}/s); raw sled same records {raw:.2} s; ratio raw/plan {:.2}; target ≤ 3 s",
        n as f64 / plan,
        raw / plan
    );
    Ok(())
}
