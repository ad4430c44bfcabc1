//! Printed material checked with tools that are not ours: an SVG must be
//! well-formed XML to a strict parser (roxmltree: no duplicate attributes,
//! no stray markup), must render with librsvg's `rsvg-convert`, and the QR
//! codes in the rendered picture must decode (rqrr) to the links they print.

use std::path::Path;
use std::process::Command;

/// Checks the SVG at `path` and returns the contents of every QR code in
/// its rendering, sorted. `width` is the rendering's width in pixels (large
/// enough that each QR module is a few pixels).
pub fn svg_qr_contents(path: &Path, width: u32) -> Vec<String> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    if let Err(e) = roxmltree::Document::parse(&text) {
        panic!("{} is not well-formed XML: {e}", path.display());
    }
    let png = render_svg(path, width);
    png_qr_contents(&png)
}

/// Renders an SVG to PNG with librsvg at `width` pixels.
pub fn render_svg(path: &Path, width: u32) -> std::path::PathBuf {
    let png = path.with_extension("rendered.png");
    let out = Command::new(crate::tools::require("rsvg-convert"))
        .arg("-w")
        .arg(width.to_string())
        .arg("-b")
        .arg("white")
        .arg("-o")
        .arg(&png)
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run rsvg-convert: {e}"));
    assert!(
        out.status.success(),
        "rsvg-convert refused {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    png
}

/// What ZBar, a barcode reader that is not ours, reads in a picture: one
/// `SYMBOLOGY:data` line per symbol (`CODE-128:…`, `QR-Code:…`), sorted.
pub fn zbar(png: &Path) -> Vec<String> {
    let out = Command::new(crate::tools::require("zbarimg"))
        .args(["--quiet"])
        .arg(png)
        .output()
        .unwrap_or_else(|e| panic!("cannot run zbarimg: {e}"));
    let mut found: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    found.sort();
    found
}

/// The contents of every QR code in a PNG picture, sorted.
pub fn png_qr_contents(path: &Path) -> Vec<String> {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("cannot read the picture {}: {e}", path.display()))
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let mut found: Vec<String> = prepared
        .detect_grids()
        .into_iter()
        .map(|g| {
            g.decode()
                .unwrap_or_else(|e| panic!("a QR code in {} does not decode: {e}", path.display()))
                .1
        })
        .collect();
    found.sort();
    found
}
