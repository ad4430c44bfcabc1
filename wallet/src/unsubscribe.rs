//! The email unsubscribe page `/u/<token>`: GET asks for confirmation (mail
//! scanners follow links, so a GET changes nothing), POST withdraws the
//! customer's email consent. POST is also RFC 8058's one-click unsubscribe,
//! which mail apps send from the `List-Unsubscribe` header.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, Response};

use crate::html::{escape, message_page, message_page_with, page};
use crate::texts::Texts;
use crate::web::Web;

fn invalid(texts: &Texts) -> Response {
    message_page(
        texts,
        StatusCode::NOT_FOUND,
        "unsubscribe.invalid.title",
        "unsubscribe.invalid.text",
    )
}

/// The texts of the link's customer (their language, else the browser's).
fn texts_of(web: &Web, token: &str, headers: &HeaderMap) -> Texts {
    let language = web
        .shop
        .customers()
        .unsubscribe_customer(token)
        .ok()
        .and_then(|c| c.language);
    Texts::for_customer(language.as_deref(), headers)
}

/// Asks whether to stop the emails.
pub async fn confirm_page(
    State(web): State<Web>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let customer = web.shop.customers().unsubscribe_customer(&token).ok();
    let language = customer.as_ref().and_then(|c| c.language.as_deref());
    let texts = Texts::for_customer(language, &headers);
    let Some(customer) = customer else {
        return invalid(&texts);
    };
    let shop = web.shop.settings().name.clone();
    let shop = [("shop", shop.as_str())];
    let subscribed = customer.consent_email.as_ref().is_some_and(|c| c.granted);
    let body = if subscribed {
        format!(
            "<div class=\"card\"><h1>{}</h1><p>{}</p>\
             <form method=\"post\"><button type=\"submit\">{}</button></form>\
             <p><small>{}</small></p></div>",
            escape(&texts.t("unsubscribe.title")),
            escape(&texts.f("unsubscribe.ask", &shop)),
            escape(&texts.t("unsubscribe.button")),
            escape(&texts.t("unsubscribe.cards_stay")),
        )
    } else {
        format!(
            "<div class=\"card\"><h1>{}</h1><p>{}</p></div>",
            escape(&texts.t("unsubscribe.done.title")),
            escape(&texts.f("unsubscribe.done.already", &shop)),
        )
    };
    axum::response::IntoResponse::into_response((
        StatusCode::OK,
        Html(page(
            texts.lang(),
            &texts.t("unsubscribe.title"),
            "",
            "",
            &body,
        )),
    ))
}

/// Withdraws the email consent.
pub async fn unsubscribe(
    State(web): State<Web>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let texts = texts_of(&web, &token, &headers);
    match web.shop.customers().unsubscribe_email(&token).await {
        Ok(_) => message_page_with(
            &texts,
            StatusCode::OK,
            &texts.t("unsubscribe.done.title"),
            &texts.f(
                "unsubscribe.done.text",
                &[("shop", &web.shop.settings().name)],
            ),
        ),
        Err(stampcard_core::CoreError::Invalid(_)) => invalid(&texts),
        Err(e) => {
            tracing::error!("unsubscribe: {e}");
            message_page(
                &texts,
                StatusCode::SERVICE_UNAVAILABLE,
                "page.error.retry.title",
                "unsubscribe.retry",
            )
        }
    }
}
