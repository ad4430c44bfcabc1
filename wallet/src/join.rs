//! The web join page `/j/<template>` for customers without Telegram, and the
//! claim page `/r/<code>` for receipt codes. Joining issues the card and
//! remembers it in a cookie, so joining again from the same browser shows
//! the card it has; a receipt code is claimed onto that card (joining first
//! when there is none), exactly once.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use stampcard_core::model::{Actor, Card, CustomerFields, Platform};
use stampcard_core::shop::IssueCard;
use stampcard_core::{CoreError, Shop};

use crate::html::{escape, message_page, message_page_with, page};
use crate::texts::{Texts, browser_language};
use crate::web::Web;

/// How long the browser remembers its card (two years).
const COOKIE_AGE_SECS: u64 = 2 * 365 * 24 * 3600;

/// The join form's button (a catalog key), on the join page and on the
/// claim page.
const JOIN_BUTTON: &str = "join.button";
const CLAIM_BUTTON: &str = "claim.join_button";

fn cookie_name(template_id: u64) -> String {
    format!("sc_card_{template_id}")
}

/// The card this browser joined with for a template, if its link still works.
fn remembered(shop: &Shop, headers: &HeaderMap, template_id: u64) -> Option<Card> {
    let name = cookie_name(template_id);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .filter_map(|(_, token)| shop.cards().card_by_token(token).ok())
        .find(|c| c.template_id == template_id)
}

/// Opens the card page and remembers the card in this browser.
fn to_card(shop: &Shop, card: &Card, note: Option<&str>) -> Response {
    let token = shop.links().card_token(card);
    let mut target = format!("/c/{token}");
    if let Some(n) = note {
        target += &format!("?note={n}");
    }
    // Secure whenever the shop is served over HTTPS (plain http is for
    // local testing only).
    let secure = if shop.links().base().starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={token}; Path=/; Max-Age={COOKIE_AGE_SECS}; HttpOnly; SameSite=Lax{secure}",
        cookie_name(card.template_id)
    );
    let mut r = Redirect::to(&target).into_response();
    if let Ok(v) = cookie.parse() {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// The join form's fields.
#[derive(Debug, Default, Deserialize)]
pub struct JoinForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    birthday: String,
    /// The email consent box ("yes" when ticked).
    #[serde(default)]
    consent_email: Option<String>,
    /// Where the customer joined from (table, window …): the poster's link
    /// carries it as `s`, the form posts it back as `from`.
    #[serde(default, alias = "s")]
    from: Option<String>,
}

fn optional(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

impl JoinForm {
    /// The customer's fields, or what is wrong with the form (in the
    /// browser's language).
    fn fields(&self, texts: &Texts, today: chrono::NaiveDate) -> Result<CustomerFields, String> {
        if self.name.trim().is_empty() {
            return Err(texts.t("join.no_name"));
        }
        let birthday = match optional(&self.birthday) {
            None => None,
            Some(b) => Some(
                chrono::NaiveDate::parse_from_str(&b, "%Y-%m-%d")
                    .map_err(|_| texts.f("join.bad_date", &[("value", &b)]))?,
            ),
        };
        if birthday.is_some_and(|b| b > today) {
            return Err(texts.t("join.future_date"));
        }
        let email = optional(&self.email);
        let consent = self.consent_email.is_some();
        if consent && email.is_none() {
            return Err(texts.t("join.consent_needs_email"));
        }
        Ok(CustomerFields {
            name: self.name.clone(),
            phone: optional(&self.phone),
            email,
            birthday,
            consent_email: Some(consent),
            ..Default::default()
        })
    }

    fn source(&self) -> Option<String> {
        self.from
            .as_deref()
            .map(|s| s.trim().chars().take(32).collect::<String>())
            .filter(|s| !s.is_empty())
    }
}

/// The form, with an error above it and the values given so far.
fn form_html(
    texts: &Texts,
    action: &str,
    form: &JoinForm,
    error: Option<&str>,
    button: &str,
) -> String {
    let value = |v: &str| escape(v.trim());
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let from = form
        .from
        .as_deref()
        .map(|f| {
            format!(
                "<input type=\"hidden\" name=\"from\" value=\"{}\">",
                escape(f)
            )
        })
        .unwrap_or_default();
    format!(
        "{error}<form method=\"post\" action=\"{action}\">{from}\
         <p><label>{l_name}<br><input name=\"name\" required maxlength=\"100\" value=\"{name}\"></label></p>\
         <p><label>{l_phone}<br><input name=\"phone\" type=\"tel\" value=\"{phone}\"></label></p>\
         <p><label>{l_email}<br><input name=\"email\" type=\"email\" value=\"{email}\"></label></p>\
         <p><label>{l_birthday}<br><input name=\"birthday\" type=\"date\" value=\"{birthday}\"></label></p>\
         <p><label><input type=\"checkbox\" name=\"consent_email\" value=\"yes\"{checked}> {l_consent}</label></p>\
         <p><button type=\"submit\">{button}</button></p></form>",
        action = escape(action),
        l_name = escape(&texts.t("join.name")),
        l_phone = escape(&texts.t("join.phone")),
        l_email = escape(&texts.t("join.email")),
        l_birthday = escape(&texts.t("join.birthday")),
        l_consent = escape(&texts.t("join.consent_email")),
        name = value(&form.name),
        phone = value(&form.phone),
        email = value(&form.email),
        birthday = value(&form.birthday),
        checked = if form.consent_email.is_some() {
            " checked"
        } else {
            ""
        },
        button = escape(&texts.t(button)),
    )
}

fn template_page(
    shop: &Shop,
    texts: &Texts,
    template_id: u64,
    status: StatusCode,
    intro: &str,
    form: &str,
) -> Response {
    let Ok(t) = shop.templates().template(template_id) else {
        return message_page(
            texts,
            StatusCode::NOT_FOUND,
            "page.not_found.title",
            "join.not_offered",
        );
    };
    let body = format!(
        "<div class=\"card\">{logo}<small>{business}</small><h1>{title}</h1>\
         <p>{goal}</p>{intro}{form}</div>",
        logo = crate::web::logo_html(t.id),
        business = escape(&t.business_name),
        title = escape(&t.name),
        goal = escape(&texts.f(
            "join.goal",
            &[
                ("goal", &t.stamps_required.to_string()),
                ("reward", &t.reward.summary())
            ]
        )),
    );
    let html = page(
        texts.lang(),
        &texts.f(
            "join.title",
            &[("title", &t.name), ("business", &t.business_name)],
        ),
        &t.branding.background,
        &t.branding.foreground,
        &body,
    );
    (status, Html(html)).into_response()
}

/// `GET /j/<template>`: the form, or the card this browser has.
pub async fn join_page(
    State(web): State<Web>,
    Path(template_id): Path<u64>,
    Query(query): Query<JoinForm>,
    headers: HeaderMap,
) -> Response {
    if let Some(card) = remembered(&web.shop, &headers, template_id) {
        return to_card(&web.shop, &card, None);
    }
    let texts = Texts::for_browser(&headers);
    if web
        .shop
        .templates()
        .template(template_id)
        .is_ok_and(|t| t.archived)
    {
        return message_page(
            &texts,
            StatusCode::GONE,
            "join.archived.title",
            "join.archived.text",
        );
    }
    let form = form_html(
        &texts,
        &format!("/j/{template_id}"),
        &query,
        None,
        JOIN_BUTTON,
    );
    template_page(&web.shop, &texts, template_id, StatusCode::OK, "", &form)
}

/// Issues a card to a new customer from the form; they keep the language
/// their browser prefers.
async fn join(
    shop: &Shop,
    template_id: u64,
    form: &JoinForm,
    texts: &Texts,
    headers: &HeaderMap,
) -> Result<Card, CoreError> {
    let mut fields = form
        .fields(texts, shop.today())
        .map_err(CoreError::Invalid)?;
    fields.language = browser_language(headers);
    shop.cards()
        .issue_card(
            template_id,
            IssueCard::New(fields),
            form.source(),
            Some(Platform::Web),
            &Actor::channel("web"),
        )
        .await
        // A refused value, said in the browser's language.
        .map_err(|e| match e {
            CoreError::BadValue { key, value } => CoreError::Invalid(
                stampcard_core::texts::bad_value(Some(texts.lang()), key, &value),
            ),
            other => other,
        })
}

/// `POST /j/<template>`: joins, or shows the form again with the reason.
pub async fn join_submit(
    State(web): State<Web>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(template_id): Path<u64>,
    headers: HeaderMap,
    Form(form): Form<JoinForm>,
) -> Response {
    if let Some(card) = remembered(&web.shop, &headers, template_id) {
        return to_card(&web.shop, &card, None);
    }
    let texts = Texts::for_browser(&headers);
    if let Some(busy) = too_many(&web, &texts, peer, &headers).await {
        return busy;
    }
    match join(&web.shop, template_id, &form, &texts, &headers).await {
        Ok(card) => {
            count_for_alerts(&web, "join", peer, &headers).await;
            to_card(&web.shop, &card, Some("welcome"))
        }
        Err(CoreError::Invalid(reason)) => form_again(
            &web.shop,
            &texts,
            template_id,
            &format!("/j/{template_id}"),
            &form,
            &reason,
            JOIN_BUTTON,
        ),
        Err(e) => refused(&texts, &e),
    }
}

/// Counts a join or claim of the client's address for the fraud alerts
/// (`[alerts] address_per_hour`); a failure to count is logged, the
/// customer's page is shown all the same.
async fn count_for_alerts(web: &Web, what: &str, peer: SocketAddr, headers: &HeaderMap) {
    let client = crate::join_limit::client(peer, headers).to_string();
    if let Err(e) = web.shop.access().count_address(what, &client).await {
        tracing::warn!("counting a {what} of {client} for the alerts: {e}");
    }
}

/// The page for a client address that got its hour's cards already; `None`
/// when it may get one (and it is counted).
async fn too_many(
    web: &Web,
    texts: &Texts,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Option<Response> {
    let client = crate::join_limit::client(peer, headers);
    if web.joins.allow_in(&web.shop, client).await {
        return None;
    }
    Some(busy(texts, "join.busy.text"))
}

/// 429 with the reason (`text`) and a Retry-After of the hour the limits
/// count in.
fn busy(texts: &Texts, text: &str) -> Response {
    let mut page = message_page(
        texts,
        StatusCode::TOO_MANY_REQUESTS,
        "join.busy.title",
        text,
    );
    page.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from_static("3600"),
    );
    page
}

/// A receipt code's template through the claim page's limits: too many
/// lookups from one address get 429, a forged code the invalid-code page.
async fn guarded_template(
    web: &Web,
    texts: &Texts,
    peer: SocketAddr,
    headers: &HeaderMap,
    code: &str,
) -> Result<u64, Response> {
    let client = crate::join_limit::client(peer, headers);
    match web.receipts.template(&web.shop, client, code).await {
        Ok(t) => Ok(t),
        Err(crate::receipt_guard::Refused::Invalid) => Err(invalid_code(texts)),
        Err(crate::receipt_guard::Refused::Busy) => Err(busy(texts, "claim.busy.text")),
    }
}

/// The page of a receipt code that is not valid.
fn invalid_code(texts: &Texts) -> Response {
    message_page(
        texts,
        StatusCode::NOT_FOUND,
        "claim.invalid.title",
        "claim.invalid.text",
    )
}

/// The join form again, with the values given and why they were refused.
fn form_again(
    shop: &Shop,
    texts: &Texts,
    template_id: u64,
    action: &str,
    form: &JoinForm,
    reason: &str,
    button: &str,
) -> Response {
    let html = form_html(texts, action, form, Some(reason), button);
    template_page(shop, texts, template_id, StatusCode::BAD_REQUEST, "", &html)
}

fn refused(texts: &Texts, e: &CoreError) -> Response {
    match e {
        CoreError::NotFound { .. } => message_page(
            texts,
            StatusCode::NOT_FOUND,
            "page.error.not_found.title",
            "page.error.not_found.text",
        ),
        other => {
            tracing::warn!("web page: {other}");
            message_page(
                texts,
                StatusCode::SERVICE_UNAVAILABLE,
                "page.error.retry.title",
                "page.error.retry.text",
            )
        }
    }
}

/// `GET /r/<code>`: what the receipt gives, and how to claim it.
pub async fn claim_page(
    State(web): State<Web>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    let shop = &web.shop;
    let texts = Texts::for_browser(&headers);
    let template_id = match guarded_template(&web, &texts, peer, &headers, &code).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let action = format!("/r/{code}");
    let (texts, intro, form) = match remembered(shop, &headers, template_id) {
        Some(card) => {
            let texts = customer_texts(shop, &card, &headers);
            let intro = format!(
                "<p>{}</p>",
                escape(&texts.f("claim.add", &[("card", &card.id.to_string())]))
            );
            let form = format!(
                "<form method=\"post\" action=\"{}\"><button type=\"submit\">{}</button></form>",
                escape(&action),
                escape(&texts.t("claim.add_button"))
            );
            (texts, intro, form)
        }
        None => (
            texts,
            format!("<p>{}</p>", escape(&texts.t("claim.join"))),
            form_html(&texts, &action, &JoinForm::default(), None, CLAIM_BUTTON),
        ),
    };
    template_page(shop, &texts, template_id, StatusCode::OK, &intro, &form)
}

/// The texts of a card's holder (their profile language, else the
/// browser's).
fn customer_texts(shop: &Shop, card: &Card, headers: &HeaderMap) -> Texts {
    let language = shop
        .customers()
        .customer(card.customer_id)
        .ok()
        .and_then(|c| c.language);
    Texts::for_customer(language.as_deref(), headers)
}

/// `POST /r/<code>`: claims onto this browser's card, joining first if needed.
pub async fn claim_submit(
    State(web): State<Web>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(code): Path<String>,
    headers: HeaderMap,
    Form(form): Form<JoinForm>,
) -> Response {
    let shop = &web.shop;
    let texts = Texts::for_browser(&headers);
    let template_id = match guarded_template(&web, &texts, peer, &headers, &code).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let remembered = remembered(shop, &headers, template_id);
    if remembered.is_none()
        && let Some(busy) = too_many(&web, &texts, peer, &headers).await
    {
        return busy;
    }
    let card = match remembered {
        Some(card) => card,
        None => match join(shop, template_id, &form, &texts, &headers).await {
            Ok(card) => card,
            Err(CoreError::Invalid(reason)) => {
                return form_again(
                    shop,
                    &texts,
                    template_id,
                    &format!("/r/{code}"),
                    &form,
                    &reason,
                    CLAIM_BUTTON,
                );
            }
            Err(e) => return refused(&texts, &e),
        },
    };
    let texts = customer_texts(shop, &card, &headers);
    match shop
        .cards()
        .claim_receipt(&code, card.id, &Actor::channel("web"))
        .await
    {
        Ok(outcome) => {
            count_for_alerts(&web, "claim", peer, &headers).await;
            to_card(shop, &outcome.card, Some("claimed"))
        }
        Err(CoreError::AlreadyClaimed) => to_card(shop, &card, Some("already-claimed")),
        Err(CoreError::Invalid(reason) | CoreError::ReceiptInvalid(reason)) => message_page_with(
            &texts,
            StatusCode::UNPROCESSABLE_ENTITY,
            &texts.t("claim.refused.title"),
            &reason,
        ),
        Err(e) => refused(&texts, &e),
    }
}
