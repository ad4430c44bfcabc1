//! The email unsubscribe page `/u/<token>`: GET asks for confirmation (mail
//! scanners follow links, so a GET changes nothing), POST withdraws the
//! customer's email consent. POST is also RFC 8058's one-click unsubscribe,
//! which mail apps send from the `List-Unsubscribe` header.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, Response};

use crate::html::{escape, message_page, page};
use crate::web::Web;

fn invalid() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Link not valid",
        "This unsubscribe link is not valid. Use the link in the newest email you received.",
    )
}

/// Asks whether to stop the emails.
pub async fn confirm_page(State(web): State<Web>, Path(token): Path<String>) -> Response {
    let Ok(customer) = web.shop.unsubscribe_customer(&token) else {
        return invalid();
    };
    let shop = web.shop.settings().name.clone();
    let subscribed = customer.consent_email.as_ref().is_some_and(|c| c.granted);
    let body = if subscribed {
        format!(
            "<div class=\"card\"><h1>Unsubscribe</h1>\
             <p>Stop the news and offers {shop} sends by email?</p>\
             <form method=\"post\"><button type=\"submit\">Unsubscribe</button></form>\
             <p><small>Your stamp cards stay as they are.</small></p></div>",
            shop = escape(&shop)
        )
    } else {
        format!(
            "<div class=\"card\"><h1>Unsubscribed</h1>\
             <p>{shop} sends you no news or offers by email.</p></div>",
            shop = escape(&shop)
        )
    };
    axum::response::IntoResponse::into_response((
        StatusCode::OK,
        Html(page("Unsubscribe", "", "", &body)),
    ))
}

/// Withdraws the email consent.
pub async fn unsubscribe(State(web): State<Web>, Path(token): Path<String>) -> Response {
    match web.shop.unsubscribe_email(&token).await {
        Ok(_) => message_page(
            StatusCode::OK,
            "Unsubscribed",
            &format!(
                "{} will send you no more news or offers by email. Your stamp cards stay as they are.",
                web.shop.settings().name
            ),
        ),
        Err(stampcard_core::CoreError::Invalid(_)) => invalid(),
        Err(e) => {
            tracing::error!("unsubscribe: {e}");
            message_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Please try again",
                "Something went wrong on our side; please try the link again in a minute.",
            )
        }
    }
}
