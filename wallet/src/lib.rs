//! Stampcard's customer-facing web and Apple Wallet: the web card page,
//! `.pkpass` building and signing, the PassKit web service and APNs pushes.
//! The binary mounts [`router`] on its HTTP listener.

mod barcode;
pub mod certs;
mod error;
pub mod google;
pub mod google_api;
pub mod google_callback;
pub mod google_channel;
pub mod html;
mod join;
pub mod join_limit;
pub mod pass;
pub mod push;
pub mod receipt_guard;
pub mod service;
pub mod sign;
pub mod texts;
mod unsubscribe;
pub mod web;

pub use error::WalletError;
pub use pass::{Wallet, WalletConfig};

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use stampcard_core::Shop;

/// What the customer pages offer, from the shop's configuration.
pub struct Pages {
    /// Apple Wallet passes, when `[wallet]` loaded.
    pub wallet: Option<Arc<Wallet>>,
    /// Google Wallet (save links and its API), when `[google_wallet]` loaded.
    pub google: Option<Arc<google_api::GoogleApi>>,
    /// New cards per client address and hour from the join page.
    pub joins_per_hour: u32,
    /// The Telegram bot's @name, for "Open in Telegram".
    pub telegram_bot: Option<String>,
    /// The data folder, where template logos live.
    pub assets_dir: PathBuf,
}

/// The routes this crate contributes to the shop's HTTP listener; the
/// PassKit routes only when passes are offered.
pub fn router(shop: Shop, pages: Pages) -> Router {
    let wallet = pages.wallet.clone();
    let web = web::router(shop.clone(), pages);
    match wallet {
        Some(w) => web.merge(service::router(shop, w)),
        None => web,
    }
}
