//! QR code pictures for chats.

use image::Luma;
use qrcode::QrCode;

/// A PNG of the QR code of `text`, about 512 pixels square.
pub fn png(text: &str) -> Option<Vec<u8>> {
    let img = QrCode::new(text.as_bytes())
        .ok()?
        .render::<Luma<u8>>()
        .min_dimensions(512, 512)
        .quiet_zone(true)
        .build();
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).ok()?;
    Some(out.into_inner())
}
