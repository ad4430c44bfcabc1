//! A card panel: what staff see of a scanned card.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, Wrap};
use stampcard_core::model::VoucherState;
use stampcard_core::views::CardView;

/// Draws `card` with times in the shop's time zone `tz`.
pub fn draw(card: &CardView, tz: chrono_tz::Tz, frame: &mut Frame, area: Rect) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" Card {} — {} ", card.card_id, card.title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [who, gauge, details] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new(format!(
            "{} (#{})   {}\n{}",
            card.customer_name, card.customer_id, card.stamps_line, card.business_name
        )),
        who,
    );
    let ratio = if card.progress.of == 0 {
        0.0
    } else {
        (f64::from(card.progress.stamps) / f64::from(card.progress.of)).min(1.0)
    };
    frame.render_widget(
        Gauge::default()
            .gauge_style(Style::default().fg(Color::Green))
            .ratio(ratio)
            .label(format!("{} stamps", card.progress)),
        gauge,
    );
    let mut lines = vec![format!("Reward: {}", card.reward)];
    if card.rewards_pending > 0 {
        lines.push(format!(
            "▶ {} reward(s) waiting: press h to hand over",
            card.rewards_pending
        ));
    }
    if card.spins_available > 0 {
        lines.push(format!(
            "▶ {} lottery spin(s): press s",
            card.spins_available
        ));
    }
    for v in card
        .vouchers
        .iter()
        .filter(|v| v.state == VoucherState::Active)
    {
        // The code on a line of its own: it is never cut.
        lines.push(format!("Voucher: {}", v.description));
        lines.push(format!("  {}", v.code));
    }
    if let Some(news) = &card.news {
        let plain = stampcard_core::markup::to_plain(&news.text);
        lines.push(format!(
            "News: {}",
            plain.lines().next().unwrap_or_default()
        ));
    }
    let day =
        |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&tz).format("%Y-%m-%d").to_string();
    lines.push(format!(
        "Since {} · last stamp {}",
        day(card.created_at),
        card.last_stamp_at.map_or_else(|| "never".to_string(), day)
    ));
    let on: Vec<String> = card.platforms.iter().map(|p| format!("{p:?}")).collect();
    lines.push(format!(
        "Template v{} · on {}",
        card.template_version,
        if on.is_empty() {
            "—".to_string()
        } else {
            on.join(", ")
        }
    ));
    if card.flagged {
        lines.push("⚠ flagged by the anti-fraud rules".into());
    }
    frame.render_widget(
        Paragraph::new(lines.join("\n")).wrap(Wrap { trim: false }),
        details,
    );
}
