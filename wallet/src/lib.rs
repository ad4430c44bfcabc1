//! Stampcard's customer-facing web and Apple Wallet: the web card page,
//! `.pkpass` building and signing, the PassKit web service and APNs pushes.
//! The binary mounts [`router`] on its HTTP listener.

pub mod certs;
mod error;
pub mod google;
pub mod html;
mod join;
pub mod join_limit;
pub mod pass;
pub mod push;
pub mod service;
pub mod sign;
pub mod texts;
mod unsubscribe;
pub mod web;

pub use error::WalletError;
pub use pass::{Wallet, WalletConfig};

use std::sync::Arc;

use axum::Router;
use stampcard_core::Shop;

/// The routes this crate contributes to the shop's HTTP listener; the
/// PassKit routes only when passes are offered.
pub fn router(
    shop: Shop,
    wallet: Option<Arc<Wallet>>,
    google: Option<Arc<google::GoogleWallet>>,
    joins_per_hour: u32,
    telegram_bot: Option<String>,
) -> Router {
    let limit = Arc::new(join_limit::JoinLimit::new(joins_per_hour));
    let web = web::router(shop.clone(), wallet.is_some(), google, limit, telegram_bot);
    match wallet {
        Some(w) => web.merge(service::router(shop, w)),
        None => web,
    }
}
