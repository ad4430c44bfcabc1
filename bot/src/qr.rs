//! Code pictures for chats: QR codes, and Code 128 barcodes for vouchers
//! whose template asks for them.

use barcoders::sym::code128::Code128;
use image::{GrayImage, Luma};
use qrcode::QrCode;

/// A PNG of the QR code of `text`, about 512 pixels square.
pub fn png(text: &str) -> Option<Vec<u8>> {
    let img = QrCode::new(text.as_bytes())
        .ok()?
        .render::<Luma<u8>>()
        .min_dimensions(512, 512)
        .quiet_zone(true)
        .build();
    encode(&image::DynamicImage::ImageLuma8(img))
}

/// The bars of a digit string as Code 128 modules (1 = bar): character set
/// C, two digits a symbol, and an odd last digit in set B.
pub fn code128_modules(digits: &str) -> Option<Vec<u8>> {
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let even = digits.len() - digits.len() % 2;
    let mut data = format!("\u{0106}{}", &digits[..even]);
    if even < digits.len() {
        data.push('\u{0181}');
        data.push_str(&digits[even..]);
    }
    Some(Code128::new(data).ok()?.encode())
}

/// A PNG of the Code 128 barcode of a digit string: 3 pixels a module, a
/// quiet zone of 10 modules each side, 160 pixels tall.
pub fn code128_png(digits: &str) -> Option<Vec<u8>> {
    const SCALE: u32 = 3;
    const QUIET: u32 = 10;
    let modules = code128_modules(digits)?;
    let width = (modules.len() as u32 + 2 * QUIET) * SCALE;
    let img = GrayImage::from_fn(width, 160, |x, _| {
        let bar = (x / SCALE)
            .checked_sub(QUIET)
            .and_then(|m| modules.get(m as usize))
            .is_some_and(|m| *m == 1);
        Luma([if bar { 0 } else { 255 }])
    });
    encode(&image::DynamicImage::ImageLuma8(img))
}

fn encode(img: &image::DynamicImage) -> Option<Vec<u8>> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).ok()?;
    Some(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(s: &str) -> Vec<u8> {
        s.bytes().map(|b| b - b'0').collect()
    }

    #[test]
    fn code128_in_set_c_with_checksum() {
        // "1234" in set C: start C (105), 12, 34; checksum (105 + 12 + 2·34)
        // mod 103 = 82; stop. Patterns from the Code 128 symbol table.
        let m = code128_modules("1234").expect("digits");
        let expected = [
            "11010011100",   // start C
            "10110011100",   // 12
            "10001011000",   // 34
            "10010011110",   // 82
            "1100011101011", // stop
        ]
        .concat();
        assert_eq!(m, bits(&expected));
        // An odd length ends in set B: switch (100), "5" (21), then checksum.
        let odd = code128_modules("12345").expect("digits");
        assert!(odd.starts_with(&bits("110100111001011001110010001011000")));
        assert!(odd.ends_with(&bits("1100011101011")));
        assert!(code128_modules("12a4").is_none());
        assert!(code128_modules("").is_none());
        let png = code128_png("3000000011234567").expect("png");
        assert!(png.starts_with(b"\x89PNG"));
    }
}
