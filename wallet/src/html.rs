//! Small helpers for server-rendered pages.

/// Escapes text for HTML element content and attribute values.
pub use stampcard_core::markup::escape_html as escape;

/// A complete page in a language: mobile viewport, the shop's colours, and
/// a body.
pub fn page(lang: &str, title: &str, background: &str, foreground: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>\
         body{{font-family:system-ui,sans-serif;margin:0;background:#f4f1ec;color:#222}}\
         .card{{max-width:420px;margin:24px auto;border-radius:18px;padding:24px;\
         background:{bg};color:{fg};box-shadow:0 4px 18px #0002}}\
         .stamps{{font-size:2em;letter-spacing:.15em;word-wrap:break-word}}\
         .code{{font-family:ui-monospace,monospace;font-size:1.1em;letter-spacing:.05em}}\
         .voucher{{border-top:1px solid #fff5;margin-top:14px;padding-top:10px}}\
         .news{{border-top:1px solid #fff5;margin-top:14px;padding-top:10px}}.news a{{color:inherit}}\
         .logo{{display:block;max-height:50px;max-width:160px;margin-bottom:8px}}\
         .notice{{max-width:420px;margin:16px auto 0;padding:0 24px}}\
         small{{opacity:.8}}</style></head><body>{body}</body></html>",
        lang = escape(lang),
        title = escape(title),
        bg = css_color(background, "#3b2a20"),
        fg = css_color(foreground, "#ffffff"),
    )
}

/// A colour usable in CSS (`#rgb` or `#rrggbb`), or the fallback.
fn css_color<'a>(value: &'a str, fallback: &'a str) -> &'a str {
    let hex = value.strip_prefix('#').unwrap_or("");
    if matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        value
    } else {
        fallback
    }
}

/// A page with a title and one paragraph (both catalog keys), with its
/// status.
pub fn message_page(
    texts: &crate::texts::Texts,
    status: axum::http::StatusCode,
    title: &str,
    text: &str,
) -> axum::response::Response {
    message_page_with(texts, status, &texts.t(title), &texts.t(text))
}

/// A page with a title and one paragraph, as given (already in the
/// customer's language).
pub fn message_page_with(
    texts: &crate::texts::Texts,
    status: axum::http::StatusCode,
    title: &str,
    text: &str,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let body = format!(
        "<div class=\"card\"><h1>{}</h1><p>{}</p></div>",
        escape(title),
        escape(text)
    );
    (
        status,
        axum::response::Html(page(texts.lang(), title, "", "", &body)),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_rejects_bad_colours() {
        assert_eq!(
            escape("<b>\"Tom\" & 'Jerry'</b>"),
            "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
        assert_eq!(css_color("#a0b1c2", "#000"), "#a0b1c2");
        assert_eq!(css_color("red;}</style>", "#000"), "#000");
    }
}
