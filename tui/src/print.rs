//! Printables: the join-QR poster of a template and sheets of receipt codes,
//! as SVG (with text, for any printer) or PNG (the QR codes alone).

use image::{GrayImage, Luma};
use qrcode::QrCode;

/// Errors while drawing a printable.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// The link does not fit in a QR code.
    #[error("cannot make a QR code of {0}: {1}")]
    Qr(String, String),
    /// PNG encoding failed.
    #[error("cannot encode the PNG: {0}")]
    Png(String),
}

fn code(url: &str) -> Result<QrCode, PrintError> {
    QrCode::new(url.as_bytes()).map_err(|e| PrintError::Qr(url.to_string(), e.to_string()))
}

/// Escapes text for SVG.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A QR code as an `<svg>` element placed at (x, y), `size` wide: a white
/// square with a 4-module quiet zone and one path of dark modules, in the
/// code's own module units (the viewBox scales it).
fn qr_fragment(url: &str, x: u32, y: u32, size: u32) -> Result<String, PrintError> {
    let qr = code(url)?;
    let n = qr.width();
    let side = n + 8;
    let mut path = String::new();
    for (i, color) in qr.to_colors().iter().enumerate() {
        if *color == qrcode::Color::Dark {
            path += &format!("M{} {}h1v1h-1z", i % n + 4, i / n + 4);
        }
    }
    Ok(format!(
        "<svg x=\"{x}\" y=\"{y}\" width=\"{size}\" height=\"{size}\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#ffffff\"/><path fill=\"#000000\" d=\"{path}\"/></svg>"
    ))
}

/// An A4-shaped poster: shop, card name, a big QR code and a call to scan.
pub fn poster_svg(shop: &str, card: &str, call: &str, url: &str) -> Result<String, PrintError> {
    let qr = qr_fragment(url, 105, 260, 400)?;
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"210mm\" height=\"297mm\" viewBox=\"0 0 610 862\">\n\
         <rect width=\"610\" height=\"862\" fill=\"#ffffff\"/>\n\
         <text x=\"305\" y=\"110\" font-family=\"sans-serif\" font-size=\"40\" text-anchor=\"middle\" font-weight=\"bold\">{}</text>\n\
         <text x=\"305\" y=\"170\" font-family=\"sans-serif\" font-size=\"30\" text-anchor=\"middle\">{}</text>\n\
         <text x=\"305\" y=\"225\" font-family=\"sans-serif\" font-size=\"24\" text-anchor=\"middle\">{}</text>\n\
         {qr}\n\
         <text x=\"305\" y=\"720\" font-family=\"monospace\" font-size=\"14\" text-anchor=\"middle\">{}</text>\n\
         </svg>\n",
        esc(shop),
        esc(card),
        esc(call),
        esc(url)
    ))
}

/// The QR code alone as a PNG, about `size` pixels square.
pub fn qr_png(url: &str, size: u32) -> Result<Vec<u8>, PrintError> {
    let img = code(url)?
        .render::<Luma<u8>>()
        .min_dimensions(size, size)
        .quiet_zone(true)
        .build();
    png(&img)
}

fn png(img: &GrayImage) -> Result<Vec<u8>, PrintError> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| PrintError::Png(e.to_string()))?;
    Ok(out.into_inner())
}

/// Cells per row on a sheet.
const COLUMNS: u32 = 4;

/// A sheet of codes to cut out: each cell a QR code with its label beneath.
pub fn sheet_svg(title: &str, items: &[(String, String)]) -> Result<String, PrintError> {
    let (cell, pad) = (140u32, 10u32);
    let rows = (items.len() as u32).div_ceil(COLUMNS).max(1);
    let height = 60 + rows * (cell + 40);
    let mut body = String::new();
    for (i, (label, url)) in items.iter().enumerate() {
        let (col, row) = (i as u32 % COLUMNS, i as u32 / COLUMNS);
        let (x, y) = (pad + col * (cell + pad), 60 + row * (cell + 40));
        body += &qr_fragment(url, x, y, cell)?;
        body += &format!(
            "\n<text x=\"{}\" y=\"{}\" font-family=\"monospace\" font-size=\"10\" text-anchor=\"middle\">{}</text>\n",
            x + cell / 2,
            y + cell + 14,
            esc(label)
        );
    }
    let width = pad + COLUMNS * (cell + pad);
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n\
         <rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>\n\
         <text x=\"{pad}\" y=\"35\" font-family=\"sans-serif\" font-size=\"18\">{}</text>\n{body}</svg>\n",
        esc(title)
    ))
}

/// A sheet of QR codes as a PNG (no labels: use the SVG for text).
pub fn sheet_png(urls: &[String]) -> Result<Vec<u8>, PrintError> {
    let cell = 240u32;
    let rows = (urls.len() as u32).div_ceil(COLUMNS).max(1);
    let mut sheet = GrayImage::from_pixel(COLUMNS * cell, rows * cell, Luma([255]));
    for (i, url) in urls.iter().enumerate() {
        let qr = code(url)?
            .render::<Luma<u8>>()
            .max_dimensions(cell, cell)
            .quiet_zone(true)
            .build();
        let (x0, y0) = ((i as u32 % COLUMNS) * cell, (i as u32 / COLUMNS) * cell);
        for (x, y, p) in qr.enumerate_pixels() {
            if x < cell && y < cell {
                sheet.put_pixel(x0 + x, y0 + y, *p);
            }
        }
    }
    png(&sheet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posters_and_sheets_are_well_formed() {
        let svg = poster_svg(
            "Ember & Oak",
            "Coffee <card>",
            "Scan to join",
            "https://x.example/j/1",
        )
        .unwrap_or_default();
        assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("Ember &amp; Oak") && svg.contains("Coffee &lt;card&gt;"));
        assert_eq!(svg.matches("<svg").count(), 2, "the QR code is nested");
        let png = qr_png("https://x.example/j/1", 300).unwrap_or_default();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // An independent decoder reads the link back.
        let img = image::load_from_memory(&png).map(|i| i.to_luma8());
        let img = img.unwrap_or_else(|e| panic!("PNG: {e}"));
        let mut prepared = rqrr::PreparedImage::prepare(img);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, content) = grids[0].decode().unwrap_or_else(|e| panic!("decode: {e}"));
        assert_eq!(content, "https://x.example/j/1");
        let items: Vec<(String, String)> = (0..6)
            .map(|i| (format!("code {i}"), format!("https://x.example/r/{i}")))
            .collect();
        let sheet = sheet_svg("Receipt codes", &items).unwrap_or_default();
        assert_eq!(sheet.matches("<svg").count(), 7);
        let urls: Vec<String> = items.into_iter().map(|(_, u)| u).collect();
        assert_eq!(&sheet_png(&urls).unwrap_or_default()[..4], b"\x89PNG");
    }
}
