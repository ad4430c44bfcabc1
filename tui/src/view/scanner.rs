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
    if let Some(form) = &app.new_card {
        let template = app
            .templates
            .get(form.template)
            .map(|(_, n)| n.as_str())
            .unwrap_or("(no template)");
        frame.render_widget(
            Paragraph::new(format!(
                "Card:  ◂ {template} ▸   (Tab: another)\nName:  {}▏   (may stay empty)\n\nEnter: issue the card   Esc: cancel",
                form.name
            ))
            .block(Block::default().borders(Borders::ALL).title(" New card ")),
            card,
        );
        return;
    }
    match &app.card {
        Some(c) if app.show_qr => qr(c, frame, card),
        Some(c) => super::card::draw(c, app.tz, frame, card),
        None => frame.render_widget(
            Paragraph::new("No card yet.").block(Block::default().borders(Borders::ALL)),
            card,
        ),
    }
}

/// The shown card's web link as a QR code, big enough for a phone.
fn qr(card: &stampcard_core::views::CardView, frame: &mut Frame, area: Rect) {
    use ratatui::style::{Color, Style};
    let lines = crate::qr::lines(&card.url).unwrap_or_default();
    let height = lines.len() as u16 + 2;
    let width = lines.first().map(|l| l.chars().count()).unwrap_or(0) as u16 + 2;
    let title = format!(
        " Card {} — scan with a phone (any key closes) ",
        card.card_id
    );
    if height > area.height || width > area.width {
        frame.render_widget(
            Paragraph::new(format!(
                "The window is too small for the QR code.\nWeb card: {}\nCard code: {}",
                card.url, card.code
            ))
            .block(Block::default().borders(Borders::ALL).title(title)),
            area,
        );
        return;
    }
    // As wide as the QR code or its title, whichever is wider (the code
    // centred in it), so the title is never cut.
    let title_width = ratatui::text::Line::raw(title.as_str()).width() as u16 + 2;
    let box_width = width.max(title_width).min(area.width);
    let pad = usize::from((box_width - width) / 2);
    let lines: Vec<String> = lines
        .iter()
        .map(|l| format!("{}{l}{}", " ".repeat(pad), " ".repeat(pad)))
        .collect();
    let qr_area = Rect::new(
        area.x + (area.width - box_width) / 2,
        area.y,
        box_width,
        height,
    );
    frame.render_widget(
        Paragraph::new(lines.join("\n"))
            .style(Style::default().fg(Color::Black).bg(Color::White))
            .block(Block::default().borders(Borders::ALL).title(title)),
        qr_area,
    );
}
