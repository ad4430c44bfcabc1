//! The kiosk: a customer-facing screen in large, spaced type.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use stampcard_core::model::VoucherState;

use crate::app::{App, KioskView};

/// Spreads text out so it reads from a step away.
fn wide(text: &str) -> String {
    text.chars()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let lines: Vec<Line> = match &app.kiosk {
        KioskView::Idle => vec![
            Line::raw(""),
            Line::styled(wide("Scan your card"), bold),
            Line::raw(""),
            Line::raw(app.shop_name.clone()),
        ],
        KioskView::Card(card) => {
            let mut l = vec![
                Line::styled(format!("Hello, {}!", card.customer_name), bold),
                Line::raw(""),
                Line::raw(card.title.clone()),
                Line::styled(wide(&card.stamps_line), bold),
                Line::styled(wide(&card.progress.to_string()), bold),
                Line::raw(format!("Reward: {}", card.reward)),
            ];
            for v in card
                .vouchers
                .iter()
                .filter(|v| v.state == VoucherState::Active)
            {
                l.push(Line::raw(""));
                l.push(Line::from(vec![
                    Span::styled("Voucher: ", bold),
                    Span::raw(v.description.clone()),
                ]));
            }
            l
        }
        KioskView::Confirm { description, .. } => vec![
            Line::styled(wide("Redeem this voucher?"), bold),
            Line::raw(""),
            Line::raw(description.clone()),
            Line::raw(""),
            Line::raw("Enter: yes    Esc: no"),
        ],
        KioskView::Leaving => vec![
            Line::raw("Staff PIN to leave the kiosk:"),
            Line::styled("•".repeat(app.pin.chars().count()), bold),
            Line::raw("Esc: stay"),
        ],
    };
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true })
            .block(Block::default().borders(Borders::ALL)),
        area,
    );
}
