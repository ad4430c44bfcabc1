//! The scanner: an input line and the scanned card.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::App;

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let [input, card] = Layout::vertical([Constraint::Length(3), Constraint::Min(3)]).areas(area);
    frame.render_widget(
        Paragraph::new(format!("> {}▏", app.input)).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Scan a card or voucher, or type a name or phone "),
        ),
        input,
    );
    match &app.card {
        Some(c) => super::card::draw(c, frame, card),
        None => frame.render_widget(
            Paragraph::new("No card yet.").block(Block::default().borders(Borders::ALL)),
            card,
        ),
    }
}
