//! The lock screen.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::centered;
use crate::app::App;

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let box_area = centered(area, 40, 7);
    let first = if app.mode == crate::app::Mode::AdminPin {
        "The admin screens need an admin PIN."
    } else {
        "The console is locked."
    };
    let text = format!("{first}\n\nPIN: {}\n", "•".repeat(app.pin.chars().count()));
    frame.render_widget(
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .block(Block::default().borders(Borders::ALL).title(" Sign in ")),
        box_area,
    );
}
