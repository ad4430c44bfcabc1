//! The small markup of campaign messages: `**bold**`, `_italic_` and
//! `[text](https://link)`. One parser renders it as HTML (email, web card),
//! as Telegram HTML, and as plain text (the plain part of an email, where a
//! link becomes "text (url)"). Anything else is text, escaped.

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One piece of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span<'a> {
    /// Plain text.
    Text(&'a str),
    /// `**bold**`.
    Bold(&'a str),
    /// `_italic_`.
    Italic(&'a str),
    /// `[text](https://…)`.
    Link {
        /// What is shown.
        text: &'a str,
        /// Where it goes.
        url: &'a str,
    },
    /// A new line.
    LineBreak,
}

/// Whether a link target may be shown as a link (web addresses only).
fn linkable(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>')
}

/// Splits a message into spans; unclosed markers stay text.
pub fn spans(s: &str) -> Vec<Span<'_>> {
    let mut out = Vec::new();
    let rest = s;
    let mut text_start = 0usize;
    let mut i = 0usize;
    // Byte offsets; every marker is ASCII.
    let bytes = rest.as_bytes();
    let word = |at: usize| bytes.get(at).is_some_and(|b| b.is_ascii_alphanumeric());
    while i < bytes.len() {
        let found: Option<(Span<'_>, usize)> = match bytes[i] {
            b'\n' => Some((Span::LineBreak, i + 1)),
            b'*' if rest[i..].starts_with("**") => rest[i + 2..]
                .find("**")
                .filter(|&n| n > 0)
                .map(|n| (Span::Bold(&rest[i + 2..i + 2 + n]), i + 2 + n + 2)),
            // `_` marks italics at word edges only (snake_case stays text).
            b'_' if i == 0 || !word(i - 1) => rest[i + 1..]
                .find('_')
                .filter(|&n| {
                    n > 0 && !rest[i + 1..i + 1 + n].contains('\n') && !word(i + 1 + n + 1)
                })
                .map(|n| (Span::Italic(&rest[i + 1..i + 1 + n]), i + 1 + n + 1)),
            b'[' => rest[i + 1..].find("](").and_then(|n| {
                let text = &rest[i + 1..i + 1 + n];
                let after = i + 1 + n + 2;
                rest[after..].find(')').and_then(|m| {
                    let url = &rest[after..after + m];
                    (linkable(url) && !text.is_empty() && !text.contains('\n'))
                        .then_some((Span::Link { text, url }, after + m + 1))
                })
            }),
            _ => None,
        };
        match found {
            Some((span, next)) => {
                if text_start < i {
                    out.push(Span::Text(&rest[text_start..i]));
                }
                out.push(span);
                i = next;
                text_start = next;
            }
            None => i += 1,
        }
    }
    if text_start < bytes.len() {
        out.push(Span::Text(&rest[text_start..]));
    }
    out
}

/// The message as HTML (email, web card): `<strong>`, `<em>`, `<a>`, `<br>`.
pub fn to_html(s: &str) -> String {
    render(s, "<br>\n")
}

/// The message in Telegram's HTML parse mode (no `<br>`: newlines stay).
pub fn to_telegram_html(s: &str) -> String {
    render(s, "\n")
}

fn render(s: &str, line_break: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for span in spans(s) {
        match span {
            Span::Text(t) => out.push_str(&escape_html(t)),
            Span::Bold(t) => {
                out.push_str("<b>");
                out.push_str(&escape_html(t));
                out.push_str("</b>");
            }
            Span::Italic(t) => {
                out.push_str("<i>");
                out.push_str(&escape_html(t));
                out.push_str("</i>");
            }
            Span::Link { text, url } => {
                out.push_str(&format!(
                    "<a href=\"{}\">{}</a>",
                    escape_html(url),
                    escape_html(text)
                ));
            }
            Span::LineBreak => out.push_str(line_break),
        }
    }
    out
}

/// The message as plain text: markers removed, links as "text (url)".
pub fn to_plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for span in spans(s) {
        match span {
            Span::Text(t) | Span::Bold(t) | Span::Italic(t) => out.push_str(t),
            Span::Link { text, url } if text == url => out.push_str(url),
            Span::Link { text, url } => out.push_str(&format!("{text} ({url})")),
            Span::LineBreak => out.push('\n'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bold_italic_and_links_render_as_html_and_plain_text() {
        let s = "**Double stamps** this _Friday_!\nSee [our menu](https://shop.example/menu).";
        assert_eq!(
            to_html(s),
            "<b>Double stamps</b> this <i>Friday</i>!<br>\nSee \
             <a href=\"https://shop.example/menu\">our menu</a>."
        );
        assert_eq!(
            to_plain(s),
            "Double stamps this Friday!\nSee our menu (https://shop.example/menu)."
        );
        assert_eq!(
            to_telegram_html(s),
            "<b>Double stamps</b> this <i>Friday</i>!\nSee \
             <a href=\"https://shop.example/menu\">our menu</a>."
        );
    }

    #[test]
    fn markup_cannot_inject_html_and_unclosed_markers_stay_text() {
        assert_eq!(
            to_html("<script>x</script> **a & b"),
            "&lt;script&gt;x&lt;/script&gt; **a &amp; b"
        );
        // Only web links become links.
        assert_eq!(
            to_html("[click](javascript:alert(1))"),
            "[click](javascript:alert(1))"
        );
        assert_eq!(
            to_html("[x](https://a.example/\"onmouseover=1)"),
            "[x](https://a.example/&quot;onmouseover=1)"
        );
        assert_eq!(to_plain("snake_case_name"), "snake_case_name");
        assert_eq!(to_plain("2 * 3 = 6"), "2 * 3 = 6");
    }
}
