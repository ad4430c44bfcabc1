//! Stampcard's customer-facing web and Apple Wallet: the web card page,
//! `.pkpass` building and signing, the PassKit web service and APNs pushes.
//! The binary mounts [`router`] on its HTTP listener.

pub mod certs;
mod error;
pub mod google;
pub mod html;
mod join;
pub mod pass;
pub mod push;
pub mod service;
pub mod sign;
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
) -> Router {
    let web = web::router(shop.clone(), wallet.is_some(), google);
    match wallet {
        Some(w) => web.merge(service::router(shop, w)),
        None => web,
    }
}
