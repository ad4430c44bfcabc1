//! The lock screen.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::centered;
use crate::app::App;

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    if app.no_staff && app.mode == crate::app::Mode::Locked {
        let box_area = centered(area, 62, 10);
        frame.render_widget(
            Paragraph::new(format!(
                "{}\n\nPIN: {}",
                crate::app::NO_STAFF_HELP,
                "•".repeat(app.pin.chars().count())
            ))
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" No staff yet "),
            ),
            box_area,
        );
        return;
    }
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
