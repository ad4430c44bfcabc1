//! One email from an outbox entry: multipart/alternative with a plain and an
//! HTML part rendered from the same markup, the customer's card link, and —
//! for marketing — an unsubscribe link in the text plus the `List-Unsubscribe`
//! and `List-Unsubscribe-Post` headers (RFC 2369, RFC 8058 one-click).

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use stampcard_core::Shop;
use stampcard_core::markup::{escape_html, to_html, to_plain};
use stampcard_core::outbox::{OutboxEntry, Purpose};

/// The email for an entry, or why it can never be sent.
pub fn compose(
    shop: &Shop,
    from: &Mailbox,
    entry: &OutboxEntry,
) -> Result<lettre::Message, String> {
    let m = &entry.message;
    let to: Mailbox = m
        .recipient
        .trim()
        .parse()
        .map_err(|e| format!("'{}' is not an email address ({e})", m.recipient))?;
    let shop_name = shop.settings().name.clone();
    let subject = m.subject.clone().unwrap_or_else(|| shop_name.clone());
    let card_url = m
        .card_id
        .and_then(|id| shop.cards().card(id).ok())
        .filter(|c| !c.deleted)
        .map(|c| shop.links().card_url(&c));
    // The frame of the email in the customer's language.
    let lang = m
        .customer_id
        .and_then(|id| shop.customers().customer(id).ok())
        .and_then(|c| c.language);
    let say =
        |key: &str, args: &[(&str, &str)]| stampcard_core::texts::t(lang.as_deref(), key, args);
    let unsubscribe = match (m.purpose, m.customer_id) {
        (Purpose::Marketing, Some(customer)) => Some(shop.customers().unsubscribe_url(customer)),
        _ => None,
    };

    let mut plain = to_plain(&m.text);
    let mut html = format!("<p>{}</p>", to_html(&m.text));
    if let Some(url) = &card_url {
        plain += &format!("\n\n{}", say("email.your_card", &[("url", url)]));
        html += &format!(
            "<p><a href=\"{}\">{}</a></p>",
            escape_html(url),
            escape_html(&say("email.open_card", &[]))
        );
    }
    plain += &format!("\n\n-- \n{shop_name}");
    html += &format!(
        "<hr><p style=\"color:#666;font-size:small\">{}",
        escape_html(&shop_name)
    );
    if let Some(url) = &unsubscribe {
        let why = say("email.why", &[("shop", &shop_name)]);
        let unsubscribe = say("email.unsubscribe", &[]);
        plain += &format!("\n{why}\n{unsubscribe}: {url}");
        html += &format!(
            "<br>{} <a href=\"{}\">{}</a>",
            escape_html(&why),
            escape_html(url),
            escape_html(&unsubscribe)
        );
    }
    html += "</p>";
    let html = format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:system-ui,sans-serif\">{html}</body></html>",
        stampcard_core::texts::catalogs().language(lang.as_deref()),
        escape_html(&subject)
    );

    let mut builder = lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject);
    if let Some(url) = &unsubscribe {
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{url}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_string(),
            ));
    }
    builder
        .multipart(MultiPart::alternative_plain_html(plain, html))
        .map_err(|e| format!("cannot build the email: {e}"))
}
