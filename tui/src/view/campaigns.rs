//! The campaigns tab on screen: the list, one campaign's deliveries, and
//! the new-campaign form beside its audience and a preview per channel.

use super::columns::{Col, Fit};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use stampcard_core::markup;

use crate::admin::campaign_form::{CampaignForm, FIELDS, Field, SEGMENT_HELP};
use crate::admin::campaigns::{counts, tag};
use crate::app::App;

/// Where the open campaign's header and messages go.
fn open_areas(area: Rect) -> [Rect; 2] {
    Layout::vertical([Constraint::Length(8), Constraint::Min(4)]).areas(area)
}

/// The table on screen (for clicks): the list, or the open campaign's
/// messages; none while the form is open.
pub fn table_area(tab: &crate::admin::campaigns::CampaignsTab, area: Rect) -> Option<Rect> {
    match (&tab.form, &tab.open) {
        (Some(_), _) => None,
        (None, Some(_)) => Some(open_areas(area)[1]),
        (None, None) => Some(area),
    }
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let tab = &app.admin.campaigns;
    if let Some(form) = &tab.form {
        return draw_form(app, form, frame, area);
    }
    if let Some((s, deliveries)) = &tab.open {
        let c = &s.campaign;
        let [head, table] = open_areas(area);
        let per_channel: Vec<String> = s
            .deliveries
            .iter()
            .map(|(ch, states)| {
                let parts: Vec<String> = states.iter().map(|(st, n)| format!("{st} {n}")).collect();
                format!("{}: {}", tag(ch), parts.join(", "))
            })
            .collect();
        let text = format!(
            "{} — template {}, {}, {}\nPUSH: {}\nMessage: {}\n{}{}",
            c.name,
            c.template_id,
            c.segment.label(),
            c.state.name(),
            if c.push_text.is_empty() {
                "—"
            } else {
                &c.push_text
            },
            markup::to_plain(&c.text).replace('\n', " "),
            c.voucher
                .as_ref()
                .map(|v| format!("Voucher: {} ({} days)\n", v.description, v.valid_days))
                .unwrap_or_default(),
            per_channel.join("   ")
        );
        frame.render_widget(
            Paragraph::new(text).wrap(Wrap { trim: true }).block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" Campaign {} — Esc: back  r: refresh ", c.id)),
            ),
            head,
        );
        let cells = deliveries
            .iter()
            .map(|d| {
                vec![
                    d.card.to_string(),
                    d.customer.clone(),
                    tag(&d.channel),
                    d.status.clone(),
                    d.at.with_timezone(&app.tz)
                        .format("%d.%m %H:%M")
                        .to_string(),
                ]
            })
            .collect();
        super::admin::selectable_table(
            frame,
            table,
            cells,
            &[
                Col("Card", Fit::Keep),
                Col("Customer", Fit::Flex),
                Col("Channel", Fit::Keep),
                Col("Delivery", Fit::Flex),
                Col("At", Fit::Keep),
            ],
            format!(" {} message(s) ", deliveries.len()),
            (!deliveries.is_empty()).then_some(tab.open_selected),
        );
        return;
    }
    let cells: Vec<Vec<String>> = tab
        .rows
        .iter()
        .map(|s| {
            let c = &s.campaign;
            let channels: Vec<String> = c.channels.iter().map(|ch| tag(ch)).collect();
            vec![
                c.id.to_string(),
                c.name.clone(),
                channels.join(" "),
                c.state.name().to_string(),
                counts(s),
            ]
        })
        .collect();
    let title = if tab.rows.is_empty() {
        " Campaigns — none yet. n: new "
    } else {
        " Campaigns — n: new  Enter: deliveries  s: send draft  r: refresh "
    };
    super::admin::selectable_table(
        frame,
        area,
        cells,
        &[
            Col("ID", Fit::Keep),
            Col("Name", Fit::Flex),
            Col("Channels", Fit::Keep),
            Col("State", Fit::Keep),
            Col("Delivery", Fit::Keep),
        ],
        title,
        (!tab.rows.is_empty()).then_some(tab.selected),
    );
}

fn draw_form(app: &App, form: &CampaignForm, frame: &mut Frame, area: Rect) {
    let [fields, preview] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
    let (n, fits) = form.push_count();
    let mut lines: Vec<Line> = Vec::new();
    for (i, (id, label)) in FIELDS.iter().enumerate() {
        let focused = i == form.focus;
        let value = match id {
            Field::Template => match form.template() {
                Some((tid, name)) => format!("◂ {tid} {name} ▸"),
                None => "no template yet".into(),
            },
            _ => format!("{}{}", form.values[i], if focused { "▏" } else { "" }),
        };
        let label = match id {
            Field::Push => format!("{label} ({n}/{})", form.push_limit),
            _ => label.to_string(),
        };
        let style = match (focused, id) {
            (true, _) => Style::default().add_modifier(Modifier::REVERSED),
            (false, Field::Push) if !fits => Style::default().fg(Color::Red),
            _ => Style::default(),
        };
        lines.push(Line::styled(label, style.add_modifier(Modifier::BOLD)));
        lines.push(Line::styled(format!("  {value}"), style));
    }
    if !fits {
        lines.push(Line::styled(
            format!(
                "The PUSH text is too long: at most {} characters fit on the lock screen.",
                form.push_limit
            ),
            Style::default().fg(Color::Red),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::raw(format!("Segments: {SEGMENT_HELP}")));
    lines.push(Line::raw("Channels: wallet, telegram, email"));
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" New campaign — ↑↓/Enter: field  Ctrl-S: review & send  Esc: cancel "),
        ),
        fields,
    );
    frame.render_widget(
        Paragraph::new(preview_lines(app, form))
            .wrap(Wrap { trim: false })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" Audience & preview "),
            ),
        preview,
    );
}

/// The audience, then what each chosen channel shows.
fn preview_lines<'a>(app: &App, form: &'a CampaignForm) -> Vec<Line<'a>> {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut out = vec![match (form.segment(), form.current_audience()) {
        (Err(why), _) => Line::styled(why, Style::default().fg(Color::Red)),
        (_, None) => Line::raw("Audience: counting…"),
        (_, Some(Err(why))) => Line::styled(why.clone(), Style::default().fg(Color::Red)),
        (_, Some(Ok(a))) => {
            let per: Vec<String> = a
                .per_channel
                .iter()
                .map(|(c, n)| format!("{} {n}", tag(c)))
                .collect();
            Line::raw(format!(
                "Audience: {} card(s) — {}",
                a.cards,
                per.join(" · ")
            ))
        }
    }];
    let text = form.value(Field::Text);
    let push = form.value(Field::Push).trim();
    let voucher = form.value(Field::Voucher).trim();
    let voucher_line = (!voucher.is_empty()).then(|| format!("Your voucher: {voucher} — code …"));
    for channel in form.channels() {
        out.push(Line::raw(""));
        match channel.as_str() {
            "wallet" => {
                out.push(Line::styled("Wallet — lock screen", bold));
                out.push(Line::raw(format!("  {}", app.shop_name)));
                out.push(Line::raw(format!(
                    "  {}",
                    if push.is_empty() {
                        "(no PUSH text)"
                    } else {
                        push
                    }
                )));
            }
            "telegram" | "log" => {
                out.push(Line::styled(tag(&channel), bold));
                out.extend(styled(text));
                if let Some(v) = &voucher_line {
                    out.push(Line::raw(format!("  {v}")));
                }
            }
            "email" => {
                out.push(Line::styled("Email", bold));
                let subject = if push.is_empty() {
                    app.shop_name.clone()
                } else {
                    format!("{}: {push}", app.shop_name)
                };
                out.push(Line::raw(format!("  Subject: {subject}")));
                out.extend(styled(text));
                if let Some(v) = &voucher_line {
                    out.push(Line::raw(format!("  {v}")));
                }
                out.push(Line::raw("  Your card: … · Unsubscribe: …"));
            }
            other => out.push(Line::styled(
                format!("{other}: not a channel (wallet, telegram, email)"),
                Style::default().fg(Color::Red),
            )),
        }
    }
    out
}

/// The message's markup as styled lines (bold, italic, links underlined).
fn styled(text: &str) -> Vec<Line<'_>> {
    let mut lines = vec![Line::raw("  ")];
    for span in markup::spans(text) {
        let last = lines.len() - 1;
        let piece = match span {
            markup::Span::Text(t) => Span::raw(t),
            markup::Span::Bold(t) => Span::styled(t, Style::default().add_modifier(Modifier::BOLD)),
            markup::Span::Italic(t) => {
                Span::styled(t, Style::default().add_modifier(Modifier::ITALIC))
            }
            markup::Span::Link { text, .. } => {
                Span::styled(text, Style::default().add_modifier(Modifier::UNDERLINED))
            }
            markup::Span::LineBreak => {
                lines.push(Line::raw("  "));
                continue;
            }
        };
        lines[last].push_span(piece);
    }
    lines
}
