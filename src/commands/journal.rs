//! `stampcard journal` and `stampcard export`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use stampcard_core::model::Event;
use stampcard_core::shop::JournalQuery;
use stampcard_core::store::{Family, Record};

use crate::app::{App, local};
use crate::cli::{ExportArgs, Format, JournalArgs, Table};

/// Writes a file only its owner can read (exports hold personal data).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = private_file(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

/// The user column: name, email, birthday of the event's customer.
fn user(app: &App, e: &Event) -> String {
    e.customer_id
        .and_then(|id| app.shop.customer(id).ok())
        .map(|c| {
            let mut s = c.name;
            if let Some(m) = c.email {
                s += &format!(" <{m}>");
            }
            if let Some(b) = c.birthday {
                s += &format!(" {b}");
            }
            s
        })
        .unwrap_or_default()
}

fn template_name(app: &App, e: &Event) -> String {
    e.template_id
        .and_then(|id| app.shop.template(id).ok())
        .map(|t| format!("{} {}", t.id, t.name))
        .unwrap_or_default()
}

pub fn journal(app: &App, a: JournalArgs) -> Result<()> {
    let events = app.shop.journal(&JournalQuery {
        card: a.card,
        kind: a.kind,
        template: a.template,
        who: a.who,
        day: a.day,
        after: a.after,
        newest_first: a.after.is_none(),
        limit: a.limit.clamp(1, 100_000),
    })?;
    app.emit(&events, || {
        let mut s = format!(
            "{:<7} {:<17} {:<16} {:<8} {:>6}  {:<20} {:<22} {}\n",
            "ID", "TYPE", "TIME", "CARD", "STAMPS", "USER", "TEMPLATE", "WHO"
        );
        for e in &events {
            s += &format!(
                "{:<7} {:<17} {:<16} {:<8} {:>6}  {:<20} {:<22} {}\n",
                e.id,
                e.kind.name(),
                local(app, e.at),
                e.card_id.map(|c| c.to_string()).unwrap_or_default(),
                e.progress.map(|p| p.to_string()).unwrap_or_default(),
                truncate(&user(app, e), 20),
                truncate(&template_name(app, e), 22),
                e.actor.label()
            );
        }
        s
    })
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn export(app: &App, a: ExportArgs) -> Result<()> {
    let mut out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            private_file(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => app.out.writer(),
    };
    let (family, header): (Family, &[&str]) = match a.table {
        Table::Journal => (
            Family::Events,
            &[
                "id",
                "type",
                "time",
                "code",
                "card_id",
                "stamps",
                "reward",
                "template_id",
                "customer_id",
                "who",
            ],
        ),
        Table::Cards => (
            Family::Cards,
            &[
                "id",
                "template_id",
                "customer_id",
                "stamps",
                "lifetime_stamps",
                "created_at",
                "last_stamp_at",
                "platforms",
                "deleted",
            ],
        ),
        Table::Customers => (
            Family::Customers,
            &[
                "id",
                "name",
                "phone",
                "email",
                "birthday",
                "language",
                "telegram_id",
                "consent_telegram",
                "consent_email",
                "created_at",
            ],
        ),
        Table::Vouchers => (
            Family::Vouchers,
            &[
                "id",
                "card_id",
                "description",
                "origin",
                "issued_at",
                "expires_at",
                "redeemed_at",
                "voided",
            ],
        ),
    };
    let bar = if a.output.is_some() && !app.json && app.out.shows_progress() {
        let total = app.shop.store().count(family)?;
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} rows {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    if a.format == Format::Csv {
        writeln!(out, "{}", header.join(","))?;
    }
    let mut error = None;
    let mut rows = 0u64;
    let opt = |o: Option<String>| o.unwrap_or_default();
    app.shop.store().for_each(family, &mut |_, record| {
        let (json, fields): (serde_json::Value, Vec<String>) = match record {
            Record::Event(e) => (
                serde_json::to_value(&e).unwrap_or_default(),
                vec![
                    e.id.to_string(),
                    e.kind.name().into(),
                    e.at.to_rfc3339(),
                    opt(e.code.clone()),
                    opt(e.card_id.map(|c| c.to_string())),
                    opt(e.progress.map(|p| p.to_string())),
                    opt(e.reward.clone()),
                    opt(e.template_id.map(|t| t.to_string())),
                    opt(e.customer_id.map(|c| c.to_string())),
                    e.actor.label(),
                ],
            ),
            Record::Card(c) => (
                serde_json::to_value(&c).unwrap_or_default(),
                vec![
                    c.id.to_string(),
                    c.template_id.to_string(),
                    c.customer_id.to_string(),
                    c.stamps.to_string(),
                    c.lifetime_stamps.to_string(),
                    c.created_at.to_rfc3339(),
                    opt(c.last_stamp_at.map(|t| t.to_rfc3339())),
                    c.platforms
                        .iter()
                        .map(|p| format!("{p:?}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                    c.deleted.to_string(),
                ],
            ),
            Record::Customer(c) => (
                serde_json::to_value(&c).unwrap_or_default(),
                vec![
                    c.id.to_string(),
                    c.name.clone(),
                    opt(c.phone.clone()),
                    opt(c.email.clone()),
                    opt(c.birthday.map(|b| b.to_string())),
                    opt(c.language.clone()),
                    opt(c.telegram_id.map(|t| t.to_string())),
                    opt(c.consent_telegram.as_ref().map(|x| x.granted.to_string())),
                    opt(c.consent_email.as_ref().map(|x| x.granted.to_string())),
                    opt(c.created_at.map(|t| t.to_rfc3339())),
                ],
            ),
            Record::Voucher(v) => (
                serde_json::to_value(&v).unwrap_or_default(),
                vec![
                    v.id.to_string(),
                    v.card_id.to_string(),
                    v.description.clone(),
                    format!("{:?}", v.origin).to_lowercase(),
                    v.issued_at.to_rfc3339(),
                    opt(v.expires_at.map(|t| t.to_rfc3339())),
                    opt(v.redeemed_at.map(|t| t.to_rfc3339())),
                    v.voided.to_string(),
                ],
            ),
            _ => return true,
        };
        let written = match a.format {
            Format::Json => writeln!(out, "{json}"),
            Format::Csv => writeln!(
                out,
                "{}",
                fields
                    .iter()
                    .map(|f| csv_field(f))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        };
        if let Err(e) = written {
            error = Some(e);
            return false;
        }
        rows += 1;
        bar.inc(1);
        true
    })?;
    if let Some(e) = error {
        return Err(e).context("writing the export");
    }
    out.flush()?;
    bar.finish_and_clear();
    if let Some(p) = &a.output {
        app.out
            .err_line(&format!("Exported {rows} rows to {}", p.display()));
    }
    Ok(())
}

/// `stampcard analytics`.
pub fn analytics(app: &App, days: u32) -> Result<()> {
    let a = app.shop.analytics(days)?;
    app.emit(&a, || {
        let mut s = format!(
            "{:<10}  {:>6}  {:>9}  {:>15}  {:>8}\n",
            "DAY", "STAMPS", "NEW CARDS", "REWARDS ISSUED", "REDEEMED"
        );
        for d in &a.days {
            s += &format!(
                "{:<10}  {:>6}  {:>9}  {:>15}  {:>8}\n",
                d.day, d.stamps, d.new_cards, d.vouchers_issued, d.vouchers_redeemed
            );
        }
        s += &format!(
            "\nActive customers: {}   Redemption rate: {:.0}%\n",
            a.active_customers,
            a.redemption_rate * 100.0
        );
        for (who, n) in &a.per_actor {
            s += &format!("Stamps by {who}: {n}\n");
        }
        s
    })
}
