//! The admin screens: side menu, the open tab, prompts and the customer view.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use super::columns::{Col, Fit};
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{
    Block, Borders, Clear, List, ListItem, ListState, Paragraph, Row, Table, TableState, Wrap,
};

use super::centered;
use crate::admin::{Prompt, TABS, Tab};
use crate::app::App;

/// The side menu and the tab's area.
fn split(area: Rect) -> [Rect; 2] {
    let narrow = area.width < 100;
    Layout::horizontal([
        Constraint::Length(if narrow { 13 } else { 22 }),
        Constraint::Min(20),
    ])
    .areas(area)
}

/// The table of a tab: its area (with border and header row).
fn table_area(admin: &crate::admin::Admin, main: Rect) -> Option<Rect> {
    match admin.tab {
        Tab::Journal | Tab::Staff | Tab::Alerts => Some(main),
        Tab::Campaigns => super::campaigns::table_area(&admin.campaigns, main),
        Tab::Cards => {
            let [_, rest] =
                Layout::vertical([Constraint::Length(3), Constraint::Min(5)]).areas(main);
            let [table, _] =
                Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                    .areas(rest);
            Some(table)
        }
        Tab::Templates => {
            let [list, _] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                    .areas(main);
            Some(list)
        }
        _ => None,
    }
}

/// What a click in the admin screens landed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    /// A menu entry (index into the tabs).
    Tab(usize),
    /// A row of the open tab's table (index into its rows).
    Row(usize),
}

/// What is at column `x`, row `y` of the admin screens drawn in `body`.
pub fn admin_hit(admin: &crate::admin::Admin, body: Rect, x: u16, y: u16) -> Option<Hit> {
    let [menu, main] = split(body);
    let inside = |r: Rect| x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
    if inside(menu) {
        let i = y.checked_sub(menu.y + 1)? as usize;
        return (i < TABS.len()).then_some(Hit::Tab(i));
    }
    let table = table_area(admin, main)?;
    if !inside(table) {
        return None;
    }
    // Border and header row above the first row; the table scrolls so the
    // selected row stays visible, as ratatui draws it.
    let visible = table.height.saturating_sub(3) as usize;
    let offset = (admin.selected() + 1).saturating_sub(visible.max(1));
    let i = offset + y.checked_sub(table.y + 2)? as usize;
    (i < admin.rows()).then_some(Hit::Row(i))
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let narrow = area.width < 100;
    let [menu, main] = split(area);
    let items: Vec<ListItem> = TABS
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let label = if narrow { t.short() } else { t.label() };
            ListItem::new(format!("{} {label}", i + 1))
        })
        .collect();
    let mut state = ListState::default();
    state.select(TABS.iter().position(|t| *t == app.admin.tab));
    frame.render_stateful_widget(
        List::new(items)
            .block(Block::default().borders(Borders::ALL).title(" Admin "))
            .highlight_style(Style::default().add_modifier(Modifier::REVERSED)),
        menu,
        &mut state,
    );
    match app.admin.tab {
        Tab::Journal => journal(app, frame, main),
        Tab::Cards => cards(app, frame, main),
        Tab::Staff => staff(app, frame, main),
        Tab::Alerts => alerts(app, frame, main),
        Tab::Templates => templates(app, frame, main),
        Tab::Analytics => analytics(app, frame, main),
        Tab::Codes => codes(app, frame, main),
        Tab::Campaigns => super::campaigns::draw(app, frame, main),
        Tab::Settings => frame.render_widget(
            Paragraph::new(settings_text(app))
                .wrap(Wrap { trim: false })
                .block(Block::default().borders(Borders::ALL).title(" Settings ")),
            main,
        ),
    }
    match &app.admin.prompt {
        Some(Prompt::Text { title, text, .. }) => {
            let area = centered(frame.area(), 70, 5);
            frame.render_widget(Clear, area);
            frame.render_widget(
                Paragraph::new(format!("> {text}▏\nEnter: go   Esc: cancel")).block(
                    Block::default()
                        .borders(Borders::ALL)
                        .title(format!(" {title} ")),
                ),
                area,
            );
        }
        Some(Prompt::Confirm { question, .. }) => {
            let area = centered(frame.area(), 70, 5);
            frame.render_widget(Clear, area);
            frame.render_widget(
                Paragraph::new(question.clone())
                    .wrap(Wrap { trim: true })
                    .block(
                        Block::default()
                            .borders(Borders::ALL)
                            .title(" Are you sure? "),
                    ),
                area,
            );
        }
        None => {}
    }
    if let Some((card, rows)) = &app.admin.history {
        let area = centered(frame.area(), 76, 20);
        frame.render_widget(Clear, area);
        let lines: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{:>6}  {}  {:<16} {:<6} {}",
                    r.id,
                    r.at.with_timezone(&app.tz).format("%d.%m %H:%M"),
                    r.kind,
                    r.stamps,
                    r.who
                )
            })
            .collect();
        frame.render_widget(
            Paragraph::new(lines.join("\n")).block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" History of card {card} (Esc closes) ")),
            ),
            area,
        );
    }
    if let Some(card) = &app.admin.popup {
        let area = centered(frame.area(), 70, 18);
        frame.render_widget(Clear, area);
        let [view, link] =
            Layout::vertical([Constraint::Min(8), Constraint::Length(3)]).areas(area);
        super::card::draw(card, app.tz, frame, view);
        frame.render_widget(
            Paragraph::new(card.url.clone()).block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" Web card (Esc closes) "),
            ),
            link,
        );
    }
}

fn journal(app: &App, frame: &mut Frame, area: Rect) {
    let j = &app.admin.journal;
    // At 80 columns the essentials; wider terminals get every column.
    let wide = area.width >= 100;
    let cells: Vec<Vec<String>> = j
        .rows
        .iter()
        .map(|r| {
            let local = r.at.with_timezone(&app.tz);
            let mut cells = vec![
                r.id.to_string(),
                r.kind.clone(),
                local
                    .format(if wide { "%d.%m %H:%M" } else { "%H:%M" })
                    .to_string(),
                r.customer.clone(),
                r.stamps.clone(),
            ];
            if wide {
                cells.extend([r.reward.clone(), r.template.clone(), r.code.clone()]);
            }
            cells.push(r.who.clone());
            cells
        })
        .collect();
    let columns: &[Col] = if wide {
        &[
            Col("ID", Fit::Keep),
            Col("Type", Fit::Keep),
            Col("Time", Fit::Keep),
            Col("Customer", Fit::Flex),
            Col("Stamps", Fit::Keep),
            Col("Reward", Fit::Flex),
            Col("Tpl", Fit::Flex),
            Col("Code", Fit::Keep),
            Col("Who", Fit::Flex),
        ]
    } else {
        &[
            Col("ID", Fit::Keep),
            Col("Type", Fit::Flex),
            Col("Time", Fit::Keep),
            Col("Customer", Fit::Flex),
            Col("Stamps", Fit::Keep),
            Col("Who", Fit::Flex),
        ]
    };
    let title = format!(
        " Journal{}{} ",
        Some(j.filter().describe())
            .filter(|d| !d.is_empty())
            .map(|d| format!(" [{d}]"))
            .unwrap_or_default(),
        if j.live() { " (live)" } else { "" }
    );
    selectable_table(
        frame,
        area,
        cells,
        columns,
        title,
        (!j.rows.is_empty()).then_some(j.selected),
    );
}

fn cards(app: &App, frame: &mut Frame, area: Rect) {
    let c = &app.admin.cards;
    let [top, rest] = Layout::vertical([Constraint::Length(3), Constraint::Min(5)]).areas(area);
    let search = if c.searching {
        format!("Search: {}▏  (Enter: find, Esc: clear)", c.query)
    } else if c.query.is_empty() {
        "/ search  Enter view  h history  m message  c coupon  M merge  R reissue  X delete".into()
    } else {
        format!("Search: {}   (/ to change)", c.query)
    };
    frame.render_widget(
        Paragraph::new(search).block(Block::default().borders(Borders::ALL)),
        top,
    );
    let [table, details] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(rest);
    let cells = c
        .rows
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.customer.clone(),
                r.progress.clone(),
                r.platforms.clone(),
            ]
        })
        .collect();
    selectable_table(
        frame,
        table,
        cells,
        &[
            Col("ID", Fit::Keep),
            Col("Customer", Fit::Flex),
            Col("Stamps", Fit::Keep),
            Col("On", Fit::Flex),
        ],
        " Cards ",
        (!c.rows.is_empty()).then_some(c.selected),
    );
    match &c.details {
        Some(card) => super::card::draw(card, app.tz, frame, details),
        None => frame.render_widget(Block::default().borders(Borders::ALL), details),
    }
}

fn staff(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.admin.staff;
    let cells = t
        .rows
        .iter()
        .map(|s| {
            vec![
                s.id.to_string(),
                s.name.clone(),
                format!("{:?}", s.role).to_lowercase(),
                if s.enabled { "enabled" } else { "disabled" }.to_string(),
                s.ssh_keys.len().to_string(),
            ]
        })
        .collect();
    let title = match t.confirm {
        Some((id, true)) => format!(" Enable staff {id}? y/n "),
        Some((id, false)) => format!(" Disable staff {id} (ends their sessions)? y/n "),
        None => " Staff — a: add staff  A: add admin  K: SSH key  d: disable  e: enable ".into(),
    };
    selectable_table(
        frame,
        area,
        cells,
        &[
            Col("ID", Fit::Keep),
            Col("Name", Fit::Flex),
            Col("Role", Fit::Keep),
            Col("State", Fit::Keep),
            Col("SSH keys", Fit::Keep),
        ],
        title,
        (!t.rows.is_empty()).then_some(t.selected),
    );
}

fn alerts(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.admin.alerts;
    let tz = app.tz;
    let cells = t
        .rows
        .iter()
        .map(|a| {
            let evidence = if a.alert.cards.is_empty() {
                String::new()
            } else {
                format!(
                    " Cards: {}.",
                    a.alert
                        .cards
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            vec![
                format!("#{}", a.alert.id),
                a.alert
                    .raised_at
                    .with_timezone(&tz)
                    .format("%d.%m %H:%M")
                    .to_string(),
                a.alert.rule.clone(),
                format!("{}{evidence}", a.alert.text),
                match &a.acknowledged {
                    Some((who, _)) => format!("seen: {who}"),
                    None => "NEW".into(),
                },
            ]
        })
        .collect();
    let title = if t.rows.is_empty() {
        " Alerts — none raised ".to_string()
    } else {
        " Alerts — a: acknowledge the selected one  r: refresh ".to_string()
    };
    selectable_table(
        frame,
        area,
        cells,
        &[
            Col("No.", Fit::Keep),
            Col("Raised", Fit::Keep),
            Col("Rule", Fit::Keep),
            Col("What", Fit::Flex),
            Col("State", Fit::Keep),
        ],
        title,
        (!t.rows.is_empty()).then_some(t.selected),
    );
}

fn template_form(
    app: &App,
    form: &crate::admin::template_form::TemplateForm,
    frame: &mut Frame,
    area: Rect,
) {
    use crate::admin::template_form::{FIELDS, FieldId};
    let _ = app;
    let lines: Vec<ratatui::text::Line> = FIELDS
        .iter()
        .enumerate()
        .map(|(i, (id, label))| {
            let value = if *id == FieldId::Kind {
                format!("◂ {} ▸", form.kind())
            } else {
                form.values[i].clone()
            };
            let text = format!(
                "{label:<38} {value}{}",
                if i == form.focus && *id != FieldId::Kind {
                    "▏"
                } else {
                    ""
                }
            );
            if i == form.focus {
                ratatui::text::Line::styled(text, Style::default().add_modifier(Modifier::REVERSED))
            } else {
                ratatui::text::Line::raw(text)
            }
        })
        .collect();
    let title = match form.id {
        Some(id) => format!(
            " Edit template {id} (saves version {}) — ↑↓ field, Enter/Ctrl-S save, Esc cancel ",
            form.version + 1
        ),
        None => " New template — ↑↓ field, Enter/Ctrl-S save, Esc cancel ".into(),
    };
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).title(title)),
        area,
    );
}

fn templates(app: &App, frame: &mut Frame, area: Rect) {
    let t = &app.admin.templates;
    if let Some(form) = &t.form {
        template_form(app, form, frame, area);
        return;
    }
    let [list, preview] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let cells = t
        .rows
        .iter()
        .map(|x| {
            vec![
                x.id.to_string(),
                x.name.clone(),
                format!("v{}", x.version),
                x.stamps_required.to_string(),
            ]
        })
        .collect();
    selectable_table(
        frame,
        list,
        cells,
        &[
            Col("ID", Fit::Keep),
            Col("Name", Fit::Flex),
            Col("Ver", Fit::Keep),
            Col("Stamps", Fit::Keep),
        ],
        " Templates — n: new  e: edit ",
        (!t.rows.is_empty()).then_some(t.selected),
    );
    let Some(x) = t.rows.get(t.selected) else {
        frame.render_widget(Block::default().borders(Borders::ALL), preview);
        return;
    };
    let rules = match (x.rules.cooldown_secs, x.rules.daily_cap) {
        (0, 0) => "no cooldown, no daily cap".to_string(),
        (c, 0) => format!("{c} s between stamps"),
        (0, d) => format!("at most {d} stamps a day"),
        (c, d) => format!("{c} s between stamps, at most {d} a day"),
    };
    let text = format!(
        "{}\n{}\n\n{}\n\nReward: {}\nRules: {}\n\n{}\n\nEditing makes version {}; issued cards move to it and keep their stamps.",
        x.business_name,
        x.name,
        "○".repeat(x.stamps_required.min(40) as usize),
        x.reward.summary(),
        rules,
        x.terms,
        x.version + 1
    );
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: true })
            .block(Block::default().borders(Borders::ALL).title(" Preview ")),
        preview,
    );
}

fn analytics(app: &App, frame: &mut Frame, area: Rect) {
    use ratatui::widgets::{Bar, BarChart, BarGroup, Sparkline};
    let Some(a) = &app.admin.analytics else {
        frame.render_widget(
            Paragraph::new("Loading…").block(Block::default().borders(Borders::ALL)),
            area,
        );
        return;
    };
    let [chart, spark, numbers] = Layout::vertical([
        Constraint::Min(8),
        Constraint::Length(4),
        Constraint::Length(6),
    ])
    .areas(area);
    let bars: Vec<Bar> = a
        .days
        .iter()
        .map(|d| {
            Bar::default()
                .value(d.stamps)
                .label(d.day.format("%d").to_string())
        })
        .collect();
    let width = ((chart.width.saturating_sub(2)) / a.days.len().max(1) as u16)
        .saturating_sub(1)
        .clamp(1, 6);
    frame.render_widget(
        BarChart::default()
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" Stamps per day, last {} days ", a.days.len())),
            )
            .data(BarGroup::default().bars(&bars))
            .bar_width(width)
            .bar_gap(1),
        chart,
    );
    let new_cards: Vec<u64> = a.days.iter().map(|d| d.new_cards).collect();
    frame.render_widget(
        Sparkline::default()
            .block(Block::default().borders(Borders::ALL).title(format!(
                " New cards per day: {} in all ",
                new_cards.iter().sum::<u64>()
            )))
            .data(&new_cards),
        spark,
    );
    let issued: u64 = a.days.iter().map(|d| d.vouchers_issued).sum();
    let redeemed: u64 = a.days.iter().map(|d| d.vouchers_redeemed).sum();
    let staff = a
        .per_actor
        .iter()
        .map(|(who, n)| format!("{who} {n}"))
        .collect::<Vec<_>>()
        .join(" · ");
    frame.render_widget(
        Paragraph::new(format!(
            "Rewards issued {issued}, redeemed {redeemed} (redemption rate {:.0}%)\n\
             Active customers {}\n\
             Stamps by who: {}",
            a.redemption_rate * 100.0,
            a.active_customers,
            if staff.is_empty() {
                "—".into()
            } else {
                staff
            },
        ))
        .wrap(Wrap { trim: true })
        .block(Block::default().borders(Borders::ALL)),
        numbers,
    );
}

fn codes(app: &App, frame: &mut Frame, area: Rect) {
    let c = &app.admin.codes;
    if c.show_qr
        && let Some(code) = c.batch.get(c.selected)
    {
        let url = stampcard_core::links::Links::new(&app.public_url).claim_url(code);
        let lines = crate::qr::lines(&url).unwrap_or_default();
        frame.render_widget(
            Paragraph::new(lines.join("\n"))
                .style(
                    Style::default()
                        .fg(ratatui::style::Color::Black)
                        .bg(ratatui::style::Color::White),
                )
                .block(
                    Block::default()
                        .borders(Borders::ALL)
                        .title(format!(" {code} — any key closes ")),
                ),
            area,
        );
        return;
    }
    let [top, bottom] = Layout::vertical([Constraint::Length(3), Constraint::Min(4)]).areas(area);
    let template = c
        .templates
        .get(c.template)
        .map(|(id, n)| format!("{n} (#{id})"))
        .unwrap_or_else(|| "—".into());
    frame.render_widget(
        Paragraph::new(format!(
            "Template: {template}   t another  g generate  Enter QR  s sheet  P poster  p POS key"
        ))
        .block(Block::default().borders(Borders::ALL).title(" Codes ")),
        top,
    );
    let [batch, keys] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(bottom);
    let items: Vec<ListItem> = c.batch.iter().map(|x| ListItem::new(x.clone())).collect();
    let mut state = ListState::default();
    state.select((!c.batch.is_empty()).then_some(c.selected));
    frame.render_stateful_widget(
        List::new(items)
            .highlight_style(Style::default().add_modifier(Modifier::REVERSED))
            .block(Block::default().borders(Borders::ALL).title(" Last batch ")),
        batch,
        &mut state,
    );
    let keys_text: Vec<String> = c
        .pos_keys
        .iter()
        .map(|k| {
            format!(
                "{:>3}  {}{}",
                k.id,
                k.name,
                if k.revoked { "  (revoked)" } else { "" }
            )
        })
        .collect();
    frame.render_widget(
        Paragraph::new(keys_text.join("\n"))
            .block(Block::default().borders(Borders::ALL).title(" POS keys ")),
        keys,
    );
}

/// A table whose selected row is highlighted, with a bold header and a
/// titled border; its columns as wide as their content (`columns::fit`).
pub(super) fn selectable_table<'a>(
    frame: &mut Frame,
    area: Rect,
    cells: Vec<Vec<String>>,
    columns: &[Col],
    title: impl Into<ratatui::text::Line<'a>>,
    selected: Option<usize>,
) {
    let widths = super::columns::fit(columns, &cells, area.width.saturating_sub(2));
    let header: Vec<&str> = columns.iter().map(|c| c.0).collect();
    let mut state = TableState::default();
    state.select(selected);
    frame.render_stateful_widget(
        Table::new(cells.into_iter().map(Row::new), widths)
            .header(Row::new(header).style(Style::default().add_modifier(Modifier::BOLD)))
            .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
            .block(Block::default().borders(Borders::ALL).title(title)),
        area,
        &mut state,
    );
}

/// The settings tab: the shop's configuration, backups, and each webhook
/// with its latest deliveries (its delivery log).
fn settings_text(app: &App) -> String {
    let local = |at: chrono::DateTime<chrono::Utc>| {
        at.with_timezone(&app.tz)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    let mut s = format!(
        "Shop: {}\nTime zone: {}\nPublic URL: {}\n\n\
         These come from stampcard.toml (or STAMPCARD_<SECTION>__<KEY>); change them there\n\
         and restart the server.\n\n\
         Last backup: {}\n\
         b: take a backup now. Scheduled ones follow [backup] every_hours / keep / dir.\n\
         e: export customers, cards, vouchers or the journal (CSV or JSON) into the exports folder.\n\n\
         {}\n\n\
         Webhooks (stampcard webhook create|list|delete|deliveries):\n",
        app.shop_name,
        app.tz,
        app.public_url,
        match &app.admin.last_backup {
            Some(Some((at, file))) => format!("{} — {file}", local(*at)),
            Some(None) => "none yet".into(),
            None => "…".into(),
        },
        app.admin
            .channels_status
            .as_deref()
            .unwrap_or("Apple Wallet passes: …\nEmail: …")
    );
    match &app.admin.webhooks {
        None => s += "  …\n",
        Some(hooks) if hooks.is_empty() => s += "  none\n",
        Some(hooks) => {
            for (h, log) in hooks {
                let events = h.events_label();
                s += &format!("  {}  {}  ({events})\n", h.id, h.url);
                if log.is_empty() {
                    s += "      no deliveries yet\n";
                }
                for e in log {
                    s += &format!(
                        "      {}  #{}  {}  {}\n",
                        local(e.created_at),
                        e.message.source_event.unwrap_or(0),
                        e.message.subject.as_deref().unwrap_or(""),
                        e.status()
                    );
                }
            }
        }
    }
    s
}
