//! Stampcard's customer-facing web: the web card page (and, as their issues
//! land, the join and claim pages, `.pkpass` building and signing, the
//! PassKit web service and APNs pushes). The binary mounts [`router`].

pub mod html;
pub mod web;

use axum::Router;
use stampcard_core::Shop;

/// The routes this crate contributes to the shop's HTTP listener.
pub fn router(shop: Shop) -> Router {
    web::router(shop)
}
