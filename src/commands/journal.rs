//! `stampcard journal` and `stampcard export`.

use std::io::Write;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use stampcard_core::model::Event;
use stampcard_core::shop::JournalQuery;

use crate::app::{App, local};
use crate::cli::{ExportArgs, JournalArgs};

/// The user column: name, email, birthday of the event's customer.
fn user(app: &App, e: &Event) -> String {
    e.customer_id
        .and_then(|id| app.shop.customers().customer(id).ok())
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
        .and_then(|id| app.shop.templates().template(id).ok())
        .map(|t| format!("{} {}", t.id, t.name))
        .unwrap_or_default()
}

pub fn journal(app: &App, a: JournalArgs) -> Result<()> {
    let events = app.shop.journal().journal(&JournalQuery {
        card: a.card,
        kind: a.kind,
        template: a.template,
        who: a.who,
        day: a.day,
        after: a.after,
        newest_first: a.after.is_none(),
        limit: a.limit.clamp(1, 100_000),
        customer: None,
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

pub fn export(app: &App, a: ExportArgs) -> Result<()> {
    let output = a.output.filter(|p| !crate::output::is_stdout(p));
    let a = ExportArgs { output, ..a };
    let mut out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            crate::export::private_file(p)
                .with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => app.out.writer(),
    };
    let bar = if a.output.is_some() && !app.json && app.out.shows_progress() {
        let total = app.shop.store().count(crate::export::family(a.table))?;
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} rows {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let rows = crate::export::write_table(&app.shop, a.table, a.format, &mut out, &mut |n| {
        bar.set_position(n)
    })?;
    bar.finish_and_clear();
    if let Some(p) = &a.output {
        app.out
            .err_line(&format!("Exported {rows} rows to {}", p.display()));
    }
    Ok(())
}

/// `stampcard analytics`.
pub fn analytics(app: &App, days: u32) -> Result<()> {
    let a = app.shop.journal().analytics(days)?;
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
