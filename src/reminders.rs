//! Voucher-expiry reminders: `[reminders] voucher_expiry_days` before an
//! active voucher expires, its holder is told once, on every route that
//! reaches them (the notifier sends the journaled reminder). Checked when
//! the server starts and every hour; which vouchers are due is decided on
//! the shop's clock.

use std::time::Duration;

use tokio::sync::watch;

use crate::app::App;

/// How often the server looks for vouchers to remind.
const EVERY: Duration = Duration::from_secs(3600);

/// Runs the reminders until `stop` turns true.
pub async fn run(app: App, mut stop: watch::Receiver<bool>) {
    let days = app.config.reminders.voucher_expiry_days;
    if days == 0 {
        return;
    }
    let within = chrono::Duration::days(i64::from(days));
    loop {
        match app.shop.campaigns().remind_expiring_vouchers(within).await {
            Ok(v) if !v.is_empty() => tracing::info!(count = v.len(), "voucher expiry reminders"),
            Ok(_) => {}
            Err(e) => tracing::error!("voucher expiry reminders: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}
