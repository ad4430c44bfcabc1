//! `stampcard wallet check`: whether both wallets really work, for the
//! owner (it fails when a configured wallet has a problem; a plain-http
//! `public_url` and a certificate near its end are warnings). Apple: the certificate chain, its identifiers and expiry. Google:
//! the key loads, a token can be fetched, the issuer answers. Both: whether
//! `public_url` is HTTPS (phones ignore plain http), how many cards are kept
//! in each wallet, the last update that reached one, and the passes whose
//! updates fail, with the reason.

use anyhow::{Result, bail};
use serde::Serialize;
use stampcard_core::consumers::{GOOGLE_CHANNEL, WALLET_CHANNEL};
use stampcard_core::outbox::{DeliveryState, OutboxEntry};

use crate::app::App;

/// Outbox entries looked through for the latest updates and failures.
const RECENT_ENTRIES: usize = 5_000;
/// Failing passes listed per wallet.
const LISTED_PROBLEMS: usize = 10;

/// One wallet's update that failed.
#[derive(Debug, Serialize)]
struct Failing {
    card: Option<u64>,
    reason: String,
    at: chrono::DateTime<chrono::Utc>,
}

/// What the doctor found about one wallet.
#[derive(Debug, Default, Serialize)]
struct WalletHealth {
    /// Configured at all.
    configured: bool,
    /// Checks passed, in words.
    ok: Vec<String>,
    /// What is wrong, in words (empty: it works).
    problems: Vec<String>,
    /// What will go wrong (a certificate about to expire).
    warnings: Vec<String>,
    /// Cards held in this wallet.
    cards: u64,
    /// When an update last reached this wallet.
    last_update: Option<chrono::DateTime<chrono::Utc>>,
    /// The newest passes whose updates failed.
    failing: Vec<Failing>,
}

#[derive(Debug, Serialize)]
struct Report {
    public_url: String,
    public_url_https: bool,
    apple: WalletHealth,
    google: WalletHealth,
}

/// The latest update that reached a wallet, and its failing passes.
fn deliveries(health: &mut WalletHealth, entries: &[OutboxEntry], channel: &str) {
    let mine = entries.iter().filter(|e| e.message.channel == channel);
    for e in mine {
        let reached = e.confirmed_at.or(e.sent_at);
        if matches!(e.state, DeliveryState::Sent | DeliveryState::Confirmed) {
            health.last_update = health.last_update.max(reached);
        }
        if e.state == DeliveryState::Failed && health.failing.len() < LISTED_PROBLEMS {
            health.failing.push(Failing {
                card: e.message.card_id,
                reason: e.last_error.clone().unwrap_or_default(),
                at: e.next_attempt_at,
            });
        }
    }
    if let Some(f) = health.failing.first() {
        health.problems.push(format!(
            "{} recent update(s) failed; the newest: {}",
            health.failing.len(),
            f.reason
        ));
    }
}

fn apple(app: &App) -> WalletHealth {
    let mut h = WalletHealth::default();
    let certs = match crate::passes::certificates(app) {
        Ok(None) => return h,
        Ok(Some(c)) => c,
        Err(e) => {
            h.configured = true;
            h.problems.push(format!("{e:#}"));
            return h;
        }
    };
    h.configured = true;
    let w = &app.config.wallet;
    match certs.check(&w.pass_type_id, &w.team_id) {
        Ok(r) => {
            if r.ok() {
                h.ok.push(format!(
                    "certificate for {} (team {}) chains to Apple's WWDR G4; expires {} ({} days left)",
                    w.pass_type_id, w.team_id, r.not_after, r.days_left
                ));
            }
            h.problems.extend(r.problems);
            h.warnings.extend(r.warnings);
        }
        Err(e) => h.problems.push(e.to_string()),
    }
    h
}

async fn google(app: &App) -> WalletHealth {
    let mut h = WalletHealth::default();
    if app.config.google_wallet.issuer_id.trim().is_empty() {
        return h;
    }
    h.configured = true;
    let api = match crate::passes::google_api(app) {
        Ok(Some(api)) => api,
        Ok(None) => return h,
        Err(e) => {
            h.problems.push(format!("{e:#}"));
            return h;
        }
    };
    h.ok.push(format!(
        "service-account key of {} loads",
        api.wallet().client_email()
    ));
    match api.token().await {
        Ok(_) => h.ok.push("an access token was fetched".into()),
        Err(e) => {
            h.problems.push(format!("no access token: {e}"));
            return h;
        }
    }
    match api.issuer_classes().await {
        Ok(n) => h.ok.push(format!(
            "issuer {} answers ({n} loyalty classes)",
            api.wallet().issuer_id()
        )),
        Err(e) => h.problems.push(format!(
            "issuer {} does not answer: {e} (is the service account a user of the issuer account?)",
            api.wallet().issuer_id()
        )),
    }
    h
}

fn text(name: &str, h: &WalletHealth) -> String {
    if !h.configured {
        return format!("{name}: not configured\n");
    }
    let mut s = format!(
        "{name}: {}\n",
        if h.problems.is_empty() {
            "OK"
        } else {
            "PROBLEMS"
        }
    );
    for ok in &h.ok {
        s += &format!("  ok: {ok}\n");
    }
    s += &format!("  cards held: {}\n", h.cards);
    s += &format!(
        "  last update reached: {}\n",
        h.last_update
            .map(|t| t.to_rfc3339())
            .unwrap_or_else(|| "never".into())
    );
    for p in &h.problems {
        s += &format!("  PROBLEM: {p}\n");
    }
    for w in &h.warnings {
        s += &format!("  warning: {w}\n");
    }
    for f in &h.failing {
        s += &format!(
            "  failing: card {} — {}\n",
            f.card.map(|c| c.to_string()).unwrap_or_default(),
            f.reason
        );
    }
    s
}

/// `stampcard wallet check`: both wallets; fails when either has a problem.
pub async fn check(app: &App) -> Result<()> {
    let mut apple = apple(app);
    let mut google = google(app).await;
    if !apple.configured && !google.configured {
        bail!(
            "no wallet is configured: set [wallet] (Apple) or [google_wallet] (Google) in {}",
            app.data.join(crate::config::FILE_NAME).display()
        );
    }
    let (apple_cards, google_cards) = app.shop.passes().cards_per_wallet()?;
    apple.cards = apple_cards;
    google.cards = google_cards;
    let entries = app.shop.outbox().entries(None, RECENT_ENTRIES)?;
    deliveries(&mut apple, &entries, WALLET_CHANNEL);
    deliveries(&mut google, &entries, GOOGLE_CHANNEL);
    let public_url = app.config.http.public_url.clone();
    let https = public_url.starts_with("https://");
    let report = Report {
        public_url_https: https,
        public_url,
        apple,
        google,
    };
    app.emit(&report, || {
        let mut s = match report.public_url_https {
            true => format!("public_url: {} (HTTPS)\n", report.public_url),
            false => format!(
                "public_url: {} — warning: not HTTPS; phones ignore wallet links and updates over plain http (fine for trying it here)\n",
                report.public_url
            ),
        };
        s += &text("Apple Wallet", &report.apple);
        s += &text("Google Wallet", &report.google);
        s
    })?;
    let mut wrong: Vec<String> = Vec::new();
    for (name, h) in [("Apple", &report.apple), ("Google", &report.google)] {
        if h.configured && !h.problems.is_empty() {
            wrong.push(format!("{name}: {}", h.problems.join("; ")));
        }
    }
    if !wrong.is_empty() {
        bail!("the wallets do not fully work: {}", wrong.join(" | "));
    }
    Ok(())
}
