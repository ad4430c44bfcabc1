//! QR codes drawn with Unicode half blocks, dark on light, for a phone to
//! scan off the screen.

use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;

/// The QR code of `text` as lines of half-block characters (quiet zone
/// included); `None` if the text is too long for a QR code.
pub fn lines(text: &str) -> Option<Vec<String>> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let rendered = code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Dark)
        .light_color(Dense1x2::Light)
        .quiet_zone(true)
        .build();
    Some(rendered.lines().map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_a_square_of_half_blocks() {
        let lines = super::lines("https://cards.example/c/100001-abc").unwrap_or_default();
        assert!(lines.len() > 10);
        let width = lines[0].chars().count();
        assert!(lines.iter().all(|l| l.chars().count() == width));
        assert!(lines.concat().contains('█') || lines.concat().contains('▀'));
    }
}
