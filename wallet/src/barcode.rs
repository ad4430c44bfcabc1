//! Voucher codes on the web card as a till scans them: a Code 128 barcode
//! (character set C for digits, set B for other printable text) or a QR
//! code, as inline SVG, in the format the template's reward asks for.

use barcoders::sym::code128::Code128;
use stampcard_core::model::CodeFormat;

/// The bars of `text` as Code 128 modules (1 = bar).
fn code128_modules(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() || !text.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return None;
    }
    let digits = text.len() >= 2 && text.bytes().all(|b| b.is_ascii_digit());
    let data = if digits {
        // Set C: two digits a symbol; an odd last digit in set B.
        let even = text.len() - text.len() % 2;
        let mut d = format!("\u{0106}{}", &text[..even]);
        if even < text.len() {
            d.push('\u{0181}');
            d.push_str(&text[even..]);
        }
        d
    } else {
        format!("\u{0181}{text}")
    };
    Some(Code128::new(data).ok()?.encode())
}

/// A Code 128 barcode as an SVG element: 2 units a module, a quiet zone of
/// 10 modules each side, 60 units tall; scaled to the page's width.
fn code128_svg(text: &str, label: &str) -> Option<String> {
    const QUIET: usize = 10;
    let modules = code128_modules(text)?;
    let width = (modules.len() + 2 * QUIET) * 2;
    let mut bars = String::new();
    let mut x = 0;
    while x < modules.len() {
        if modules[x] == 1 {
            let run = modules[x..].iter().take_while(|m| **m == 1).count();
            bars += &format!("M{} 0h{}v60h-{}z", (x + QUIET) * 2, run * 2, run * 2);
            x += run;
        } else {
            x += 1;
        }
    }
    Some(format!(
        "<svg class=\"barcode\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" \
         viewBox=\"0 0 {width} 60\" width=\"100%\" height=\"70\" preserveAspectRatio=\"none\" \
         shape-rendering=\"crispEdges\"><rect width=\"{width}\" height=\"60\" fill=\"#ffffff\"/>\
         <path fill=\"#000000\" d=\"{bars}\"/></svg>",
        crate::html::escape(label)
    ))
}

/// The picture of a voucher's code for its format (none for plain text).
pub fn voucher_svg(code: &str, format: CodeFormat, label: &str) -> Option<String> {
    match format {
        CodeFormat::Text => None,
        CodeFormat::Code128 => code128_svg(code, label),
        CodeFormat::Qr => Some(crate::web::qr_svg(code, label)).filter(|s| !s.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_and_text_both_make_barcodes_and_control_characters_do_not() {
        assert!(code128_modules("2000000004803950027").is_some());
        assert!(code128_modules("FREECOFFEE").is_some());
        assert!(code128_modules("12345").is_some());
        assert!(code128_modules("bad\ncode").is_none());
        let svg = code128_svg("FREECOFFEE", "x").unwrap_or_default();
        assert!(svg.starts_with("<svg") && svg.contains("<path"), "{svg}");
    }
}
