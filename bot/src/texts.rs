//! What the bot says (English; more languages arrive with their catalogs).

use stampcard_core::model::VoucherState;
use stampcard_core::views::CardView;

/// A card as a message: title, progress, reward, vouchers, the code to show.
pub fn card(v: &CardView) -> String {
    let mut s = format!(
        "{} — {}\n{} {}\nReward: {}",
        v.title, v.business_name, v.stamps_line, v.progress, v.reward
    );
    if v.rewards_pending > 0 {
        s += &format!(
            "\n🎁 {} reward(s) ready: show this card at the counter.",
            v.rewards_pending
        );
    }
    if v.spins_available > 0 {
        s += &format!("\n🎰 {} lottery spin(s) waiting.", v.spins_available);
    }
    let active: Vec<_> = v
        .vouchers
        .iter()
        .filter(|x| x.state == VoucherState::Active)
        .collect();
    if !active.is_empty() {
        s += &format!("\nVouchers: {}", active.len());
        for x in active {
            s += &format!("\n• {} — code {}", x.description, x.code);
        }
    }
    s += &format!(
        "\n\nCard {} · show this code at the counter:\n{}",
        v.card_id, v.code
    );
    s
}

/// The welcome without a deep link.
pub fn welcome(shop: &str, templates: &[(u64, String)]) -> String {
    if templates.is_empty() {
        return format!("Welcome to {shop}! There is no card to join yet.");
    }
    format!("Welcome to {shop}! Pick a card to join:")
}

/// Help.
pub const HELP: &str = "I keep your stamp cards.\n\
    /cards — your cards and vouchers\n\
    /stop — no more news from the shop (card updates still come)\n\
    /news — news from the shop again\n\
    /export — your data as a file\n\
    /forget — delete your data\n\
    /help — this help\n\
    Scan the QR code at the shop to join, or a receipt's QR code to collect stamps.";

/// When a link or code cannot be used.
pub fn refused(reason: &str) -> String {
    format!("Sorry, that did not work: {reason}")
}

/// For messages the bot does not understand.
pub const NOT_UNDERSTOOD: &str = "I did not understand that. /help shows what I can do.";

/// No cards yet.
pub const NO_CARDS: &str = "You have no cards yet. Scan the QR code at the shop to join.";

/// The lottery button.
pub const SPIN: &str = "🎰 Spin";

/// A lottery prize won.
pub fn won(prize: &str) -> String {
    format!("🎉 You won: {prize}! It is in your vouchers.")
}

/// After /stop.
pub const NEWS_OFF: &str = "Done: no more news from the shop. Updates about your own cards still come. /news turns news back on.";
/// After /news.
pub const NEWS_ON: &str = "Done: you will get news from the shop again. /stop turns it off.";
/// Something failed on our side.
pub const TRY_AGAIN: &str = "Something went wrong on our side. Please try again in a moment.";
/// With the /export file.
pub const EXPORT: &str = "Everything this shop keeps about you.";
/// The /forget question.
pub const FORGET_ASK: &str = "Delete your data? Your cards stop working and cannot be restored.";
/// /forget: yes.
pub const FORGET_YES: &str = "Yes, delete";
/// /forget: no.
pub const FORGET_NO: &str = "No, keep";
/// After deleting.
pub const FORGOTTEN: &str =
    "Your data is deleted and your cards no longer work. Thank you for visiting!";
/// After keeping.
pub const KEPT: &str = "Nothing was deleted.";
