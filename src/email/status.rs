//! Email in a line or two, for the console's settings tab: off, or the
//! server it sends through and how its deliveries went.

use crate::app::App;

/// The email channel's status for people.
pub fn status_line(app: &App) -> String {
    let smtp = &app.config.smtp;
    if !smtp.enabled() {
        return "Email: off (set [smtp] host and from to send campaigns by email)".into();
    }
    let server = format!(
        "Email: on — {}:{} ({}) from {}, at most {}/s",
        smtp.host.trim(),
        smtp.port(),
        smtp.security.name(),
        smtp.from.trim(),
        smtp.per_second.unwrap_or(super::PER_SECOND)
    );
    let s = match app.shop.outbox().channel_summary(super::EMAIL_CHANNEL) {
        Ok(s) => s,
        Err(e) => return format!("{server}\n  deliveries: cannot be read ({e})"),
    };
    let tz = app.shop.settings().timezone;
    let mut line = format!(
        "{server}\n  delivered {}{}, queued {}, failed {}",
        s.delivered,
        s.last_delivered
            .map(|at| format!(" (last {})", at.with_timezone(&tz).format("%Y-%m-%d %H:%M")))
            .unwrap_or_default(),
        s.queued,
        s.failed
    );
    if let Some(why) = s.last_problem {
        line += &format!("\n  last problem: {why}");
    }
    line
}
