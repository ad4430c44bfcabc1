//! Exports of customers, cards, vouchers and the journal as CSV or JSON
//! lines, streamed from the store row by row (constant memory at any size),
//! for the CLI (`stampcard export`, with a progress bar) and the console.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use stampcard_core::Shop;
use stampcard_core::store::{Family, Record};

use crate::cli::{Format, Table};

/// Writes a file only its owner can read (exports hold personal data).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = private_file(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Creates (or truncates) a file only its owner can read.
pub fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

/// The store family a table is read from.
pub fn family(table: Table) -> Family {
    match table {
        Table::Journal => Family::Events,
        Table::Cards => Family::Cards,
        Table::Customers => Family::Customers,
        Table::Vouchers => Family::Vouchers,
    }
}

/// A free-text cell a spreadsheet must not take for a formula: text that
/// starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
/// leading `'` (shown as text, not run). Only free-text columns pass through
/// here; phone numbers (`+49…`) and numbers stay as they are.
fn neutralised(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// The free-text columns of each table (names, emails, descriptions, the
/// reward and who acted): what strangers can type on the join page or staff
/// into a form.
pub fn text_columns(table: Table) -> &'static [usize] {
    match table {
        Table::Journal => &[6, 9],
        Table::Cards => &[],
        Table::Customers => &[1, 3],
        Table::Vouchers => &[2],
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes `table` to `out`, calling `on_row` with the rows written so far;
/// returns the number of rows.
pub fn write_table(
    shop: &Shop,
    table: Table,
    format: Format,
    out: &mut dyn Write,
    on_row: &mut dyn FnMut(u64),
) -> Result<u64> {
    let header: &[&str] = match table {
        Table::Journal => &[
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
        Table::Cards => &[
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
        Table::Customers => &[
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
        Table::Vouchers => &[
            "id",
            "card_id",
            "description",
            "origin",
            "issued_at",
            "expires_at",
            "redeemed_at",
            "voided",
        ],
    };
    let family = family(table);
    if format == Format::Csv {
        writeln!(out, "{}", header.join(","))?;
    }
    let mut error = None;
    let mut rows = 0u64;
    let opt = |o: Option<String>| o.unwrap_or_default();
    shop.store().for_each(family, &mut |_, record| {
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
        let written = match format {
            Format::Json => writeln!(out, "{json}"),
            Format::Csv => writeln!(
                out,
                "{}",
                fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| if text_columns(table).contains(&i) {
                        csv_field(&neutralised(f))
                    } else {
                        csv_field(f)
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        };
        if let Err(e) = written {
            error = Some(e);
            return false;
        }
        rows += 1;
        on_row(rows);
        true
    })?;
    if let Some(e) = error {
        return Err(e).context("writing the export");
    }
    out.flush()?;
    Ok(rows)
}
