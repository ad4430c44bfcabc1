//! Autopilot: one stamp per scan, a counter and a rolling log.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, List, ListItem, Paragraph};

use crate::app::App;

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let [top, log] = Layout::vertical([Constraint::Length(3), Constraint::Min(3)]).areas(area);
    frame.render_widget(
        Paragraph::new(format!(
            "Autopilot: {} stamp(s) added   > {}",
            app.autopilot_count, app.input
        ))
        .block(Block::default().borders(Borders::ALL)),
        top,
    );
    let items: Vec<ListItem> = app
        .log
        .iter()
        .map(|row| {
            let style = if row.ok {
                Style::default()
            } else {
                Style::default().fg(Color::Red)
            };
            ListItem::new(Line::styled(
                format!(
                    "{}  {}",
                    row.at.with_timezone(&app.tz).format("%H:%M:%S"),
                    row.text
                ),
                style,
            ))
        })
        .collect();
    frame.render_widget(
        List::new(items).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Recent scans "),
        ),
        log,
    );
}
