//! `stampcard codes …` and `stampcard pos-key …`

use anyhow::{Result, anyhow};
use chrono::Datelike;

use crate::app::{App, local};
use crate::cli::{CodesCmd, PosKeyCmd};

pub async fn codes(app: &App, cmd: CodesCmd) -> Result<()> {
    match cmd {
        CodesCmd::Generate {
            template,
            count,
            stamps,
            output,
            sheet,
        } => {
            let format = sheet.as_deref().map(printable_format).transpose()?;
            let codes = app
                .shop
                .cards()
                .generate_receipts(template, count, stamps, &app.actor())
                .await?;
            if let (Some(path), Some(format)) = (&sheet, format) {
                let links = app.shop.links();
                let bytes = match format {
                    Printable::Svg => {
                        let items: Vec<(String, String)> = codes
                            .iter()
                            .map(|c| (c.clone(), links.claim_url(c)))
                            .collect();
                        let title = format!(
                            "{} — {stamps} stamp(s) per code, template {template}",
                            app.config.shop.name
                        );
                        stampcard_tui::print::sheet_svg(&title, &items)?.into_bytes()
                    }
                    Printable::Png => {
                        let urls: Vec<String> = codes.iter().map(|c| links.claim_url(c)).collect();
                        stampcard_tui::print::sheet_png(&urls)?
                    }
                };
                app.write_file(path, &bytes)?;
                app.out
                    .err_line(&format!("Wrote the printable sheet to {}", path.display()));
            }
            match output {
                Some(path) => {
                    let mut text = codes.join("\n");
                    text.push('\n');
                    app.write_file(&path, text.as_bytes())?;
                    app.wrote(&path, &serde_json::json!({"count": codes.len(), "file": path}), || {
                        format!("Wrote {} receipt codes ({} stamp(s) each, template {template}) to {}", codes.len(), stamps, path.display())
                    })
                }
                None => app.emit(&codes, || codes.join("\n")),
            }
        }
        CodesCmd::Claim { code, card } => {
            let o = app
                .shop
                .cards()
                .claim_receipt(&code, card, &app.actor())
                .await?;
            let view = app.shop.cards().card_view(o.card.id)?;
            app.emit(
                &serde_json::json!({"card": view, "event_ids": o.event_ids}),
                || {
                    let mut s = format!(
                        "Claimed: card {} {} {}",
                        view.card_id, view.stamps_line, view.progress
                    );
                    if o.effect.as_ref().is_some_and(|e| e.goals_reached > 0) {
                        s += &format!("\n*** GOAL REACHED ***  {}", view.reward);
                    }
                    s
                },
            )
        }
        CodesCmd::Derive {
            key_id,
            key,
            date,
            till,
            receipt,
            template,
            stamps,
            long,
        } => {
            let key = hex::decode(key.trim())
                .map_err(|_| anyhow!("--key must be the hex key shown by `pos-key create`"))?;
            if key_id == 0
                || key_id > 999
                || till > 999
                || receipt > 999_999
                || template == 0
                || template > 9999
                || stamps == 0
                || stamps > 99
            {
                return Err(anyhow!(
                    "out of range: key id 1–999, till 0–999, receipt 0–999999, template 1–9999, stamps 1–99"
                ));
            }
            let yymmdd = (date.year() as u32 % 100) * 10000 + date.month() * 100 + date.day();
            let code = stampcard_core::codes::pos_code(
                &key, key_id, yymmdd, till, receipt, template, stamps, long,
            );
            app.emit(&serde_json::json!({"code": code}), || code.clone())
        }
    }
}

pub async fn pos_key(app: &App, cmd: PosKeyCmd) -> Result<()> {
    match cmd {
        PosKeyCmd::Create { name } => {
            let k = app.shop.cards().create_pos_key(&name, &app.actor()).await?;
            app.emit(&serde_json::json!({"id": k.id, "name": k.name, "key": k.secret_hex}), || {
                format!(
                    "POS key {} \"{}\" created. Configure the POS with:\n  key id: {}\n  key:    {}\nThis key is shown once here; keep it secret.",
                    k.id, k.name, k.id, k.secret_hex
                )
            })
        }
        PosKeyCmd::List => {
            let keys = app.shop.cards().pos_keys()?;
            let rows: Vec<_> = keys
                .iter()
                .map(|k| serde_json::json!({"id": k.id, "name": k.name, "created_at": k.created_at, "revoked": k.revoked}))
                .collect();
            app.emit(&rows, || {
                let mut s = format!("{:<4} {:<24} {:<17} {}\n", "ID", "NAME", "CREATED", "STATE");
                for k in &keys {
                    s += &format!(
                        "{:<4} {:<24} {:<17} {}\n",
                        k.id,
                        k.name,
                        local(app, k.created_at),
                        if k.revoked { "revoked" } else { "active" }
                    );
                }
                s
            })
        }
        PosKeyCmd::LongOnly { id, from } => {
            let from = from.unwrap_or_else(|| app.shop.today());
            let k = app
                .shop
                .cards()
                .require_long_pos_codes(id, from, &app.actor())
                .await?;
            app.emit(
                &serde_json::json!({"id": k.id, "short_until": k.short_until}),
                || {
                    format!(
                        "POS key {} \"{}\": short codes dated from {from} on are refused; the long form is taken.",
                        k.id, k.name
                    )
                },
            )
        }
        PosKeyCmd::Revoke { id } => {
            let k = app.shop.cards().revoke_pos_key(id, &app.actor()).await?;
            app.emit(&serde_json::json!({"id": k.id, "revoked": true}), || {
                format!("POS key {} \"{}\" revoked.", k.id, k.name)
            })
        }
    }
}

/// The kinds of printable files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Printable {
    /// Scalable, with text.
    Svg,
    /// Pixels, QR codes only.
    Png,
}

/// The printable format a file name asks for.
pub fn printable_format(path: &std::path::Path) -> Result<Printable> {
    if crate::output::is_stdout(path) {
        return Ok(Printable::Svg);
    }
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("svg") => Ok(Printable::Svg),
        Some("png") => Ok(Printable::Png),
        _ => Err(anyhow!("{}: name the file .svg or .png", path.display())),
    }
}

/// `stampcard poster`: the join-QR poster of a template.
pub fn poster(
    app: &App,
    template: u64,
    source: Option<String>,
    output: &std::path::Path,
) -> Result<()> {
    let format = printable_format(output)?;
    let t = app.shop.templates().template(template)?;
    if let Some(s) = &source
        && (s.is_empty()
            || s.len() > 32
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
    {
        return Err(anyhow!("a source tag has 1 to 32 letters, digits, _ or -"));
    }
    let mut url = app.shop.links().join_url(template);
    if let Some(s) = &source {
        url = format!("{url}?s={s}");
    }
    let bytes = match format {
        Printable::Svg => stampcard_tui::print::poster_svg(
            &t.business_name,
            &t.name,
            "Scan to get your stamp card",
            &url,
        )?
        .into_bytes(),
        Printable::Png => stampcard_tui::print::qr_png(&url, 1200)?,
    };
    app.write_file(output, &bytes)?;
    app.wrote(
        output,
        &serde_json::json!({"file": output, "url": url}),
        || {
            format!(
                "Wrote the poster of \"{}\" to {} (it opens {url})",
                t.name,
                output.display()
            )
        },
    )
}
