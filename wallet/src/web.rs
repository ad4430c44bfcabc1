//! The web card: `/c/<link token>` shows a card as its customer sees it.
//! Without the card's current link token there is nothing to see.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use stampcard_core::Shop;
use stampcard_core::model::VoucherState;
use stampcard_core::views::CardView;

use crate::google::SAVE_URL;
use crate::google_api::GoogleApi;
use crate::html::{escape, message_page, page};
use crate::texts::Texts;
use crate::{join, unsubscribe};
use stampcard_core::model::Template;
use std::sync::Arc;

/// The web card routes.
pub fn router(shop: Shop, pages: crate::Pages) -> Router {
    Router::new()
        .route("/c/{token}", get(card_page))
        .route("/c/{token}/card.json", get(card_json))
        .route("/c/{token}/code.json", get(live_code))
        .route("/c/{token}/google", get(google_save))
        .route("/google/callback", axum::routing::post(google_callback))
        .route("/t/{template}/logo.png", get(logo))
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
            passes: pages.wallet.is_some(),
            google: pages.google,
            joins: Arc::new(crate::join_limit::JoinLimit::new(
                "join",
                pages.joins_per_hour,
            )),
            receipts: Arc::default(),
            telegram_bot: pages.telegram_bot,
            assets_dir: Arc::new(pages.assets_dir),
            logos: Arc::default(),
        })
}

/// The pages' state: the shop, and whether Apple Wallet passes are offered.
#[derive(Clone)]
pub struct Web {
    /// The shop.
    pub shop: Shop,
    /// Whether Apple Wallet passes are offered.
    pub passes: bool,
    /// Google Wallet (its API), when configured.
    pub google: Option<Arc<GoogleApi>>,
    /// New cards per client address.
    pub joins: Arc<crate::join_limit::JoinLimit>,
    /// Receipt lookups per address and forged codes per POS key.
    pub receipts: Arc<crate::receipt_guard::ReceiptGuard>,
    /// The Telegram bot's @name, for "Open in Telegram".
    pub telegram_bot: Option<String>,
    /// The data folder, where template logos live.
    pub assets_dir: Arc<std::path::PathBuf>,
    /// Logos drawn, per template version.
    pub logos: Arc<crate::pass::images::ImageCache>,
}

/// `/t/<template>/logo.png`: the template's logo as the pages show it (the
/// pass's logo at 2x: the shop's own, or a row of stamps).
async fn logo(State(web): State<Web>, Path(template_id): Path<u64>) -> Response {
    let Ok(t) = web.shop.templates().template(template_id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let drawn = web.logos.get(("logo", t.id, t.version, 0, 0, 2), || {
        crate::pass::images::template_logo(&web.assets_dir, &t.branding, 2)
    });
    match drawn {
        Ok(png) => (
            [
                (axum::http::header::CONTENT_TYPE, "image/png"),
                (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            png.as_ref().clone(),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!("logo of template {template_id}: {e}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The logo at the top of a page of a template.
pub fn logo_html(template_id: u64) -> String {
    format!("<img class=\"logo\" src=\"/t/{template_id}/logo.png\" alt=\"\">")
}

/// A one-line notice on the card page after joining or claiming.
#[derive(Deserialize)]
struct Note {
    note: Option<String>,
}

fn notice(texts: &Texts, note: Option<&str>) -> String {
    match note {
        Some("welcome") => texts.t("card.note.welcome"),
        Some("claimed") => texts.t("card.note.claimed"),
        Some("already-claimed") => texts.t("card.note.already_claimed"),
        _ => String::new(),
    }
}

fn not_found(texts: &Texts) -> Response {
    message_page(
        texts,
        StatusCode::NOT_FOUND,
        "page.not_found.title",
        "page.not_found.text",
    )
}

/// The card a link token opens, or `None` (the page answers 404).
fn view_of(shop: &Shop, token: &str) -> Option<CardView> {
    card_and_view(shop, token).map(|(_, view)| view)
}

/// The card a link token opens with its view, or `None`.
fn card_and_view(shop: &Shop, token: &str) -> Option<(stampcard_core::model::Card, CardView)> {
    let card = shop.cards().card_by_token(token).ok()?;
    let view = shop
        .cards()
        .view_of(&card)
        .map_err(|e| tracing::warn!("card view {}: {e}", card.id))
        .ok()?;
    Some((card, view))
}

async fn card_json(
    State(Web { shop, .. }): State<Web>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    match view_of(&shop, &token) {
        Some(view) => Json(view).into_response(),
        None => not_found(&Texts::for_browser(&headers)),
    }
}

/// `/c/<token>/code.json`: the card's rotating code now, the seconds it has
/// left and its QR picture — what the card page's countdown fetches when a
/// window ends (never cached).
async fn live_code(
    State(Web { shop, .. }): State<Web>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Ok(card) = shop.cards().card_by_token(&token) else {
        return not_found(&Texts::for_browser(&headers));
    };
    let texts = Texts::for_browser(&headers);
    let (code, seconds_left) = shop.cards().rotating_code(&card);
    let svg = qr_svg(&code, &texts.t("card.qr"));
    (
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Json(serde_json::json!({"code": code, "seconds_left": seconds_left, "svg": svg})),
    )
        .into_response()
}

/// `/c/<token>/google`: forwards to Google Wallet's save page of the card
/// (the card page's and the bot's "Save to Google Wallet" open this). The
/// first time, the card's object (and its template's class) is inserted
/// through Google's API, so the link only names it and every later change
/// of the card patches it.
async fn google_save(
    State(web): State<Web>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let texts = Texts::for_browser(&headers);
    let (Some(api), Some(view)) = (&web.google, view_of(&web.shop, &token)) else {
        return not_found(&texts);
    };
    let Ok(template) = web.shop.templates().template(view.template_id) else {
        return not_found(&texts);
    };
    match google_save_url(&web, api, &view, &template).await {
        Some(url) => axum::response::Redirect::to(&url).into_response(),
        None => message_page(
            &texts,
            StatusCode::SERVICE_UNAVAILABLE,
            "page.error.retry.title",
            "page.error.retry.text",
        ),
    }
}

/// `POST /google/callback`: Google's save or delete of one of this shop's
/// objects, verified (see [`crate::google_callback`]); a forged, expired or
/// foreign callback is refused with 400 and changes nothing, a repeated
/// nonce is answered 200 and changes nothing.
async fn google_callback(State(web): State<Web>, body: axum::body::Bytes) -> Response {
    let Some(api) = &web.google else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let roots = match api.callback_keys().get().await {
        Ok(keys) => keys,
        Err(e) => {
            tracing::warn!("a Google callback waits: {e}");
            return (StatusCode::SERVICE_UNAVAILABLE, e).into_response();
        }
    };
    let issuer = api.wallet().issuer_id();
    let now = web.shop.clock().now().timestamp_millis();
    let callback = match crate::google_callback::verify(&body, issuer, &roots, now) {
        Ok(c) => c,
        Err(why) => {
            tracing::warn!("refused a Google callback: {why}");
            return (StatusCode::BAD_REQUEST, why).into_response();
        }
    };
    let card = callback
        .object_id
        .strip_prefix(&format!("{issuer}.stampcard-card-"))
        .and_then(|c| c.parse::<u64>().ok());
    let Some(card) = card else {
        return (StatusCode::BAD_REQUEST, "not one of this shop's objects").into_response();
    };
    match web
        .shop
        .passes()
        .google_callback(card, callback.saved, &callback.nonce)
        .await
    {
        Ok(_) => StatusCode::OK.into_response(),
        Err(e @ stampcard_core::CoreError::NotFound { .. }) => {
            (StatusCode::NOT_FOUND, e.to_string()).into_response()
        }
        Err(e @ stampcard_core::CoreError::Invalid(_)) => {
            (StatusCode::BAD_REQUEST, e.to_string()).into_response()
        }
        Err(e) => {
            tracing::warn!("a Google callback for card {card} failed: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response()
        }
    }
}

/// Makes sure the card's object exists at Google (and its class), and
/// records it: from then on the pass updater patches it.
async fn ensure_google_object(
    web: &Web,
    api: &GoogleApi,
    v: &CardView,
    template: &Template,
) -> Result<(), String> {
    let passes = web.shop.passes();
    let err = |e: stampcard_core::CoreError| e.to_string();
    if !passes.has_google_object(v.card_id).map_err(err)? {
        let google = api.wallet();
        if !passes.has_google_class(template.id).map_err(err)? {
            let class = google.class(template, web.shop.links().base());
            api.put_class(&class).await.map_err(|e| e.to_string())?;
            passes
                .google_class_inserted(template.id)
                .await
                .map_err(err)?;
        }
        let key = web.shop.cards().rotating_key(v.card_id);
        api.insert_object(&google.object(v, key.as_deref()))
            .await
            .map_err(|e| e.to_string())?;
        passes
            .google_object_inserted(v.card_id)
            .await
            .map_err(err)?;
    }
    passes.google_saved(v.card_id).await.map_err(err)
}

/// A card's signed Google Wallet save link, naming the object inserted
/// through the API; when Google cannot be reached, the link carries the
/// object whole (a snapshot), logged. `None`, logged, when it cannot be
/// signed.
async fn google_save_url(
    web: &Web,
    api: &GoogleApi,
    v: &CardView,
    template: &Template,
) -> Option<String> {
    let google = api.wallet();
    let links = web.shop.links();
    let origin = links.base();
    let claims = match ensure_google_object(web, api, v, template).await {
        Ok(()) => google.claims_by_id(v.card_id, template.id, origin),
        Err(e) => {
            tracing::warn!(
                "Google Wallet object of card {} not inserted ({e}): its save link carries a snapshot",
                v.card_id
            );
            let key = web.shop.cards().rotating_key(v.card_id);
            google.claims(v, template, origin, key.as_deref())
        }
    };
    google
        .jwt(&claims)
        .map(|jwt| format!("{SAVE_URL}{jwt}"))
        .map_err(|e| tracing::warn!("Google Wallet link of card {}: {e}", v.card_id))
        .ok()
}

async fn card_page(
    State(web): State<Web>,
    Path(token): Path<String>,
    Query(note): Query<Note>,
    headers: HeaderMap,
) -> Response {
    let shop = &web.shop;
    let Some((card, view)) = card_and_view(shop, &token) else {
        return not_found(&Texts::for_browser(&headers));
    };
    let texts = Texts::for_customer(view.language.as_deref(), &headers);
    let Ok(template) = shop.templates().template(view.template_id) else {
        return not_found(&texts);
    };
    let branding = &template.branding;
    let live = template
        .rules
        .rotating_codes
        .then(|| shop.cards().rotating_code(&card));
    Html(page(
        texts.lang(),
        &format!("{} — {}", view.title, view.business_name),
        &branding.background,
        &branding.foreground,
        &(notice_html(&notice(&texts, note.note.as_deref()))
            + &render(&texts, &view, live)
            + &wallet_buttons(&web, &texts, &view, &token)),
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
fn wallet_buttons(web: &Web, texts: &Texts, v: &CardView, token: &str) -> String {
    let mut buttons = String::new();
    if let Some(bot) = &web.telegram_bot {
        buttons += &format!(
            "<a class=\"button\" href=\"https://t.me/{}?start=c{}\">{}</a> ",
            escape(bot),
            escape(token),
            escape(&texts.t("card.button.telegram"))
        );
    }
    if web.passes {
        buttons += &format!(
            "<a class=\"button\" href=\"{}/pass.pkpass\">{}</a> ",
            escape(&v.url),
            escape(&texts.t("card.button.apple"))
        );
    }
    if web.google.is_some() {
        buttons += &format!(
            "<a class=\"button\" href=\"{}/google\">{}</a>",
            escape(&v.url),
            escape(&texts.t("card.button.google"))
        );
    }
    if buttons.is_empty() {
        buttons
    } else {
        format!("<p class=\"wallet\">{buttons}</p>")
    }
}

/// The card code as an inline SVG QR image, to scan at the counter.
pub(crate) fn qr_svg(code: &str, label: &str) -> String {
    match qrcode::QrCode::new(code.as_bytes()) {
        Ok(qr) => qr
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .dark_color(qrcode::render::svg::Color("#000000"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build()
            .split_once("<svg")
            // The renderer makes a whole document; keep the <svg> element.
            .map(|(_, rest)| format!("<svg role=\"img\" aria-label=\"{}\"{rest}", escape(label)))
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The body of the card page; `live`: the card's rotating code now and
/// the seconds it has left, shown instead of the printed code.
pub fn render(texts: &Texts, v: &CardView, live: Option<(String, u32)>) -> String {
    let mut body = format!(
        "<div class=\"card\">{logo}<small>{business}</small><h1>{title}</h1>\
         <p>{name}</p><p class=\"stamps\">{stamps}</p><p>{progress} — {reward}</p>",
        logo = logo_html(v.template_id),
        business = escape(&v.business_name),
        title = escape(&v.title),
        name = escape(&v.customer_name),
        stamps = escape(&v.stamps_line),
        progress = v.progress,
        reward = escape(&v.reward),
    );
    if v.rewards_pending > 0 {
        body += &format!(
            "<p><strong>{}</strong></p>",
            escape(&texts.f(
                "card.rewards_ready",
                &[("count", &v.rewards_pending.to_string())]
            ))
        );
    }
    if v.spins_available > 0 {
        body += &format!(
            "<p><strong>{}</strong></p>",
            escape(&texts.f("card.spins", &[("count", &v.spins_available.to_string())]))
        );
    }
    for voucher in v
        .vouchers
        .iter()
        .filter(|x| x.state == VoucherState::Active)
    {
        // What the till scans: the POS's own code when the reward has
        // one, else the voucher's, in the template's barcode format.
        let scanned = voucher.fixed_code.as_deref().unwrap_or(&voucher.code);
        let picture = crate::barcode::voucher_svg(
            scanned,
            voucher.format,
            &texts.f("card.voucher_barcode", &[("code", scanned)]),
        )
        .map(|svg| format!("<div class=\"barcode\">{svg}</div>"))
        .unwrap_or_default();
        body += &format!(
            "<div class=\"voucher\"><strong>{}</strong>{picture}<br><span class=\"code\">{}</span>{}{}</div>",
            escape(&voucher.description),
            escape(&voucher.code),
            voucher
                .fixed_code
                .as_deref()
                .map(|c| format!(
                    "<br><small>{}</small>",
                    escape(&texts.f("card.pos_code", &[("code", c)]))
                ))
                .unwrap_or_default(),
            voucher
                .expires_at
                .map(|t| format!(
                    "<br><small>{}</small>",
                    escape(&texts.f(
                        "card.valid_until",
                        &[("date", &t.format("%Y-%m-%d").to_string())]
                    ))
                ))
                .unwrap_or_default(),
        );
    }
    if let Some(news) = &v.news {
        body += &format!(
            "<div class=\"news\"><small>{}</small><p>{}</p></div>",
            escape(&texts.f(
                "card.news_from",
                &[
                    ("business", &v.business_name),
                    ("date", &news.at.format("%Y-%m-%d").to_string())
                ]
            )),
            stampcard_core::markup::to_html(&news.text)
        );
    }
    body += &match live {
        Some((code, left)) => live_code_html(texts, v, &code, left),
        None => format!(
            "<div class=\"qr\">{}</div><p><small>{}</small><br><span class=\"code\">{}</span></p>",
            qr_svg(&v.code, &texts.t("card.qr")),
            escape(&texts.f("card.number", &[("card", &v.card_id.to_string())])),
            escape(&v.code)
        ),
    };
    if !v.terms.is_empty() {
        body += &format!("<p><small>{}</small></p>", escape(&v.terms));
    }
    body + "</div>"
}

/// The rotating code's QR with a countdown; a small script counts down each
/// second and, when the window ends, fetches the next code from
/// `code.json` and swaps it in (no reload). Without scripts the page shows
/// the code of the moment it was loaded.
fn live_code_html(texts: &Texts, v: &CardView, code: &str, left: u32) -> String {
    let countdown = texts.f("card.live_code", &[("seconds", "{s}")]);
    format!(
        "<div class=\"qr\" id=\"live-qr\">{qr}</div><p><small>{number}</small><br>\
         <span class=\"code\" id=\"live-code\">{code}</span><br>\
         <small id=\"live-left\" data-left=\"{left}\" data-text=\"{text}\">{now}</small></p>\
         <script>(function(){{\
         var el=document.getElementById('live-left'),left=+el.dataset.left,text=el.dataset.text;\
         function show(){{el.textContent=text.replace('{{s}}',left);}}\
         function next(){{fetch(location.pathname.replace(/\\/$/,'')+'/code.json',{{cache:'no-store'}}).then(function(r){{return r.json();}})\
         .then(function(c){{document.getElementById('live-qr').innerHTML=c.svg;\
         document.getElementById('live-code').textContent=c.code;left=c.seconds_left;show();}})\
         .catch(function(){{left=5;}});}}\
         setInterval(function(){{left-=1;if(left<=0){{left=0;next();}}show();}},1000);\
         document.addEventListener('visibilitychange',function(){{if(!document.hidden)next();}});\
         show();}})();</script>",
        qr = qr_svg(code, &texts.t("card.qr")),
        number = escape(&texts.f("card.number", &[("card", &v.card_id.to_string())])),
        code = escape(code),
        text = escape(&countdown),
        now = escape(&countdown.replace("{s}", &left.to_string())),
    )
}
