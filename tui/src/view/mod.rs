//! Drawing: a pure function of the app state (`draw` takes `&App`).

mod admin;
mod autopilot;
mod campaigns;
mod card;
mod columns;
mod kiosk;
mod lock;
mod scanner;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::app::{Alert, App, Mode};

pub use admin::{Hit, admin_hit};

/// The most rows a message takes; a longer one is cut (it never is: the
/// shop's messages are a sentence or two).
const ALERT_ROWS: u16 = 4;

fn split(app: &App, screen: Rect) -> [Rect; 4] {
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(5),
        Constraint::Length(alert_height(app, screen.width)),
        Constraint::Length(1),
    ])
    .areas(screen)
}

/// Where the screens draw, below the header.
pub fn body_area(app: &App, screen: Rect) -> Rect {
    split(app, screen)[1]
}

/// The message box's height at this width: its text wrapped at spaces, as
/// [`Wrap`] does (a word longer than a row is broken), 1 to [`ALERT_ROWS`]
/// rows between its borders.
fn alert_height(app: &App, width: u16) -> u16 {
    const BORDERS: u16 = 2;
    let Some(alert) = &app.alert else {
        return 1 + BORDERS;
    };
    let row = usize::from(width.saturating_sub(BORDERS)).max(1);
    let (mut rows, mut used) = (1usize, 0usize);
    for word in alert_text(alert).0.split_whitespace() {
        let w = Span::raw(word).width();
        if used > 0 && used + 1 + w <= row {
            used += 1 + w;
            continue;
        }
        if used > 0 {
            rows += 1;
        }
        // A word wider than a row fills whole rows and goes on below them.
        let full_rows = w.saturating_sub(1) / row;
        rows += full_rows;
        used = w - full_rows * row;
    }
    u16::try_from(rows).unwrap_or(ALERT_ROWS).min(ALERT_ROWS) + BORDERS
}

/// A message's text and look.
fn alert_text(alert: &Alert) -> (String, Style) {
    match alert {
        Alert::Goal(t) => (
            format!("★ {t} ★"),
            Style::default()
                .bg(Color::Yellow)
                .fg(Color::Black)
                .add_modifier(Modifier::BOLD),
        ),
        Alert::Refused(t) => (
            format!("✗ {t}"),
            Style::default().fg(Color::White).bg(Color::Red),
        ),
        Alert::Info(t) => (format!("✓ {t}"), Style::default().fg(Color::Green)),
    }
}

/// Draws the whole console.
pub fn draw(app: &App, frame: &mut Frame) {
    let [header, body, alert, footer] = split(app, frame.area());
    draw_header(app, frame, header);
    match app.mode {
        Mode::Locked | Mode::AdminPin => lock::draw(app, frame, body),
        Mode::Admin => admin::draw(app, frame, body),
        Mode::Scanner => scanner::draw(app, frame, body),
        Mode::Autopilot => autopilot::draw(app, frame, body),
        Mode::Kiosk => kiosk::draw(app, frame, body),
    }
    draw_alert(app, frame, alert);
    frame.render_widget(
        Paragraph::new(keys_line(app)).style(Style::default().fg(Color::DarkGray)),
        footer,
    );
    if app.help {
        draw_help(app, frame);
    }
}

fn draw_header(app: &App, frame: &mut Frame, area: Rect) {
    let mode = match app.mode {
        Mode::Locked => "Locked",
        Mode::Scanner => "Scanner",
        Mode::Autopilot => "Autopilot",
        Mode::Kiosk => "Kiosk",
        Mode::AdminPin | Mode::Admin => "Admin",
    };
    // The kiosk faces customers: no staff member's name on it.
    let who = app
        .signed_in
        .as_ref()
        .filter(|_| app.mode != Mode::Kiosk)
        .map(|s| format!("{} ({:?})", s.staff.name, s.staff.role).to_lowercase())
        .unwrap_or_default();
    let mut spans = vec![
        Span::styled(
            format!(" {} ", app.shop_name),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!("│ {mode} │ {who}")),
    ];
    // Admins see unacknowledged fraud alerts on every screen (not on the
    // kiosk, which faces customers).
    if app.alerts_new > 0 && app.is_admin() && app.mode != Mode::Kiosk {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            format!(
                " ⚠ {} alert{} (F5, 9) ",
                app.alerts_new,
                if app.alerts_new == 1 { "" } else { "s" }
            ),
            Style::default()
                .bg(Color::Red)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD),
        ));
    }
    let line = Line::from(spans);
    frame.render_widget(
        Paragraph::new(line).style(Style::default().bg(Color::Rgb(59, 42, 32)).fg(Color::White)),
        area,
    );
}

fn draw_alert(app: &App, frame: &mut Frame, area: Rect) {
    let Some(alert) = &app.alert else {
        return;
    };
    let (text, style) = alert_text(alert);
    frame.render_widget(
        Paragraph::new(text)
            .style(style)
            .wrap(Wrap { trim: true })
            .block(Block::default().borders(Borders::ALL)),
        area,
    );
}

/// The keys of the current screen, for the footer.
fn keys_line(app: &App) -> String {
    match app.mode {
        Mode::Locked => " Type your PIN, Enter: sign in   Ctrl-C: quit".into(),
        Mode::Scanner if app.card.is_some() => {
            " +: stamp  h: hand over  s: spin  u: undo  F7: QR  Esc: clear  F6: new card  ?: help".into()
        }
        Mode::Scanner => " Scan a code or type a name  F6: new card  F3: autopilot  F4: kiosk  F5: admin  ?: help".into(),
        Mode::Autopilot => " Every scan adds one stamp   F2: scanner  F12: lock  ?: help".into(),
        Mode::Kiosk => " Scan your card".into(),
        Mode::AdminPin => " An admin PIN opens the admin screens   Esc: back".into(),
        Mode::Admin => admin_keys(app).into(),
    }
}

/// The keys of the admin tab on screen (each line fits 80 columns).
fn admin_keys(app: &App) -> &'static str {
    use crate::admin::Tab;
    match app.admin.tab {
        Tab::Campaigns => {
            let c = &app.admin.campaigns;
            match (&c.form, &c.open) {
                (Some(_), _) => " ↑↓/Enter field  ←→ template  Ctrl-S review & send  Esc cancel",
                (None, Some(_)) => " ↑↓ move  r refresh  Esc back to the list",
                (None, None) => {
                    " ↑↓ move n new Enter deliveries s send e rename x delete r refresh F2 scanner ?"
                }
            }
        }
        Tab::Templates if app.admin.templates.form.is_some() => {
            " ↑↓ field  ←→ reward kind  Enter/Ctrl-S save (a new version)  Ctrl-U clear  Esc"
        }
        Tab::Templates => " 1-9 tab ↑↓ move n new e edit (a new version) F2 scanner F12 lock ?",
        Tab::Cards => {
            " / search ↑↓ Enter view h history m message c coupon M merge R reissue X delete"
        }
        Tab::Journal => {
            " 1-9 tab ↑↓ move Enter view r reverse t type / filter n older g newest F2 ?"
        }
        Tab::Codes => " t template g generate ↑↓ Enter QR s sheet P poster p POS key F2 scanner ?",
        Tab::Analytics => " 1-9 tab  (the last 14 days)  F2 scanner  F12 lock  ?: help",
        Tab::Staff => " ↑↓ move a add staff A add admin K SSH key d disable e enable F2 scanner ?",
        Tab::Settings => " 1-9 tab b backup now e export a table F2 scanner F12 lock ?: help",
        Tab::Alerts => " 1-9 tab ↑↓ move a/Enter acknowledge r refresh F2 scanner F12 lock ?",
    }
}

fn draw_help(app: &App, frame: &mut Frame) {
    let area = centered(frame.area(), 60, 14);
    let text = match app.mode {
        Mode::Locked => "Type your staff PIN and press Enter.\nCtrl-C quits.",
        Mode::Scanner => {
            "Scan or type a card code and press Enter: one stamp.\n\
             A voucher code redeems the voucher.\n\
             A name or phone number finds the customer's card.\n\
             +  another stamp on the shown card\n\
             h  hand over the waiting reward\n\
             s  play the lottery spin\n\
             u  undo your last action\n\
             F6 new card for a walk-in (shows its QR) · F7 the card's QR\n\
             F3 autopilot · F4 kiosk · F5 admin · F12 lock · Esc clear"
        }
        Mode::Autopilot => {
            "Every scanned code adds one stamp, no keys needed.\n\
             The same code twice within 2 seconds is a double scan and\n\
             is not counted.\n\
             F2 back to the scanner · F12 lock"
        }
        Mode::Kiosk => "Customers scan their card. F2 asks for a staff PIN to leave.",
        Mode::AdminPin => "Type an admin PIN and press Enter. Esc goes back.",
        Mode::Admin => {
            "1-9 open a tab. Journal: ↑↓ move, Enter customer view, r reverse\n\
             (with a reason), t filter by type, n older, g newest (live).\n\
             Customers & cards: / search, ↑↓ move, n next page, g first page.\n\
             Templates: ↑↓ move, preview on the right.\n\
             Staff: d disable (ends their sessions), e enable, y confirms.\n\
             Alerts (9): a acknowledges the selected fraud alert.\n\
             F2 scanner · F12 lock"
        }
    };
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Keys (any key closes) "),
        ),
        area,
    );
}

/// A rectangle of at most `w`×`h` in the middle of `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}
