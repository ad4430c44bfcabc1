//! The web card: `/c/<link token>` shows a card as its customer sees it.
//! Without the card's current link token there is nothing to see.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use stampcard_core::Shop;
use stampcard_core::model::VoucherState;
use stampcard_core::views::CardView;

use crate::google::GoogleWallet;
use crate::html::{escape, page};
use crate::{join, unsubscribe};
use stampcard_core::model::Template;
use std::sync::Arc;

/// The web card routes.
pub fn router(
    shop: Shop,
    passes: bool,
    google: Option<Arc<GoogleWallet>>,
    joins: Arc<crate::join_limit::JoinLimit>,
    telegram_bot: Option<String>,
) -> Router {
    Router::new()
        .route("/c/{token}", get(card_page))
        .route("/c/{token}/card.json", get(card_json))
        .route(
            "/j/{template}",
            get(join::join_page).post(join::join_submit),
        )
        .route("/r/{code}", get(join::claim_page).post(join::claim_submit))
        .route(
            "/u/{token}",
            get(unsubscribe::confirm_page).post(unsubscribe::unsubscribe),
        )
        .with_state(Web {
            shop,
            passes,
            google,
            joins,
            telegram_bot,
        })
}

/// The pages' state: the shop, and whether Apple Wallet passes are offered.
#[derive(Clone)]
pub struct Web {
    /// The shop.
    pub shop: Shop,
    /// Whether Apple Wallet passes are offered.
    pub passes: bool,
    /// Google Wallet, when configured.
    pub google: Option<Arc<GoogleWallet>>,
    /// New cards per client address.
    pub joins: Arc<crate::join_limit::JoinLimit>,
    /// The Telegram bot's @name, for "Open in Telegram".
    pub telegram_bot: Option<String>,
}

/// A one-line notice on the card page after joining or claiming.
#[derive(Deserialize)]
struct Note {
    note: Option<String>,
}

fn notice(note: Option<&str>) -> &'static str {
    match note {
        Some("welcome") => "Welcome! This is your card: save it to your phone below.",
        Some("claimed") => "Your receipt's stamps were added.",
        Some("already-claimed") => "This receipt code was already used: it adds stamps only once.",
        _ => "",
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(page(
            "Card not found",
            "",
            "",
            "<div class=\"card\"><h1>Card not found</h1>\
             <p>This link is not valid (any more). Ask the shop for a new one.</p></div>",
        )),
    )
        .into_response()
}

/// The card a link token opens, or `None` (the page answers 404).
fn view_of(shop: &Shop, token: &str) -> Option<CardView> {
    let card = shop.card_by_token(token).ok()?;
    shop.view_of(&card)
        .map_err(|e| tracing::warn!("card view {}: {e}", card.id))
        .ok()
}

async fn card_json(State(Web { shop, .. }): State<Web>, Path(token): Path<String>) -> Response {
    match view_of(&shop, &token) {
        Some(view) => Json(view).into_response(),
        None => not_found(),
    }
}

async fn card_page(
    State(web): State<Web>,
    Path(token): Path<String>,
    Query(note): Query<Note>,
) -> Response {
    let shop = &web.shop;
    let Some(view) = view_of(shop, &token) else {
        return not_found();
    };
    let Ok(template) = shop.template(view.template_id) else {
        return not_found();
    };
    let branding = &template.branding;
    Html(page(
        &format!("{} — {}", view.title, view.business_name),
        &branding.background,
        &branding.foreground,
        &(notice_html(notice(note.note.as_deref()))
            + &render(&view)
            + &wallet_buttons(&web, &view, &template, &token)),
    ))
    .into_response()
}

fn notice_html(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("<p class=\"notice\" role=\"status\">{}</p>", escape(text))
    }
}

/// The "Add to Apple Wallet" and "Save to Google Wallet" buttons, for the
/// wallets the shop offers, and "Open in Telegram" when it has a bot (its
/// deep link carries the card's link token: the bot opens this card).
fn wallet_buttons(web: &Web, v: &CardView, template: &Template, token: &str) -> String {
    let mut buttons = String::new();
    if let Some(bot) = &web.telegram_bot {
        buttons += &format!(
            "<a class=\"button\" href=\"https://t.me/{}?start=c{}\">Open in Telegram</a> ",
            escape(bot),
            escape(token)
        );
    }
    if web.passes {
        buttons += &format!(
            "<a class=\"button\" href=\"{}/pass.pkpass\">Add to Apple Wallet</a> ",
            escape(&v.url)
        );
    }
    if let Some(google) = &web.google {
        match google.save_url(v, template, web.shop.links().base()) {
            Ok(url) => {
                buttons += &format!(
                    "<a class=\"button\" href=\"{}\">Save to Google Wallet</a>",
                    escape(&url)
                )
            }
            Err(e) => tracing::warn!("Google Wallet link of card {}: {e}", v.card_id),
        }
    }
    if buttons.is_empty() {
        buttons
    } else {
        format!("<p class=\"wallet\">{buttons}</p>")
    }
}

/// The card code as an inline SVG QR image, to scan at the counter.
fn qr_svg(code: &str) -> String {
    match qrcode::QrCode::new(code.as_bytes()) {
        Ok(qr) => qr
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .dark_color(qrcode::render::svg::Color("#000000"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build()
            .split_once("<svg")
            // The renderer makes a whole document; keep the <svg> element.
            .map(|(_, rest)| format!("<svg role=\"img\" aria-label=\"QR code of your card\"{rest}"))
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The body of the card page.
pub fn render(v: &CardView) -> String {
    let mut body = format!(
        "<div class=\"card\"><small>{business}</small><h1>{title}</h1>\
         <p>{name}</p><p class=\"stamps\">{stamps}</p><p>{progress} — {reward}</p>",
        business = escape(&v.business_name),
        title = escape(&v.title),
        name = escape(&v.customer_name),
        stamps = escape(&v.stamps_line),
        progress = v.progress,
        reward = escape(&v.reward),
    );
    if v.rewards_pending > 0 {
        body += &format!(
            "<p><strong>{} reward(s) ready: show this card at the counter.</strong></p>",
            v.rewards_pending
        );
    }
    if v.spins_available > 0 {
        body += &format!(
            "<p><strong>{} lottery spin(s) waiting.</strong></p>",
            v.spins_available
        );
    }
    for voucher in v
        .vouchers
        .iter()
        .filter(|x| x.state == VoucherState::Active)
    {
        body += &format!(
            "<div class=\"voucher\"><strong>{}</strong><br><span class=\"code\">{}</span>{}{}</div>",
            escape(&voucher.description),
            escape(&voucher.code),
            voucher
                .fixed_code
                .as_deref()
                .map(|c| format!("<br><small>POS code {}</small>", escape(c)))
                .unwrap_or_default(),
            voucher
                .expires_at
                .map(|t| format!("<br><small>valid until {}</small>", t.format("%Y-%m-%d")))
                .unwrap_or_default(),
        );
    }
    if let Some(news) = &v.news {
        body += &format!(
            "<div class=\"news\"><small>News from {} · {}</small><p>{}</p></div>",
            escape(&v.business_name),
            news.at.format("%Y-%m-%d"),
            stampcard_core::markup::to_html(&news.text)
        );
    }
    body += &format!(
        "<div class=\"qr\">{}</div><p><small>Card {}</small><br><span class=\"code\">{}</span></p>",
        qr_svg(&v.code),
        v.card_id,
        escape(&v.code)
    );
    if !v.terms.is_empty() {
        body += &format!("<p><small>{}</small></p>", escape(&v.terms));
    }
    body + "</div>"
}
