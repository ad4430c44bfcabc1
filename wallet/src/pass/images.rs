//! The pass images, drawn from the template: icon and logo (1x/2x/3x), and
//! the strip showing collected and missing stamps. Images are cached per
//! template version (and progress, for strips).

use std::collections::HashMap;
use std::sync::Mutex;

use image::{Rgba, RgbaImage};
use stampcard_core::model::Branding;

use crate::WalletError;

/// Scales Apple asks for.
pub const SCALES: [u32; 3] = [1, 2, 3];

/// An RGB colour from `#rrggbb` (black when malformed).
pub fn color(hex: &str) -> [u8; 3] {
    let h = hex.trim_start_matches('#');
    let part = |i: usize| {
        h.get(i..i + 2)
            .and_then(|p| u8::from_str_radix(p, 16).ok())
            .unwrap_or(0)
    };
    if h.len() == 6 {
        [part(0), part(2), part(4)]
    } else {
        [0, 0, 0]
    }
}

fn rgba(c: [u8; 3], a: u8) -> Rgba<u8> {
    Rgba([c[0], c[1], c[2], a])
}

/// Draws a disc (or a ring of width `ring`, when set) with soft edges.
fn disc(img: &mut RgbaImage, cx: f32, cy: f32, r: f32, ring: Option<f32>, c: [u8; 3]) {
    let (w, h) = img.dimensions();
    let x0 = (cx - r - 1.0).max(0.0) as u32;
    let y0 = (cy - r - 1.0).max(0.0) as u32;
    let x1 = ((cx + r + 1.0) as u32).min(w.saturating_sub(1));
    let y1 = ((cy + r + 1.0) as u32).min(h.saturating_sub(1));
    for y in y0..=y1 {
        for x in x0..=x1 {
            let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
            let outer = (r - d + 0.5).clamp(0.0, 1.0);
            let cover = match ring {
                Some(width) => outer.min((d - (r - width) + 0.5).clamp(0.0, 1.0)),
                None => outer,
            };
            if cover > 0.0 {
                let p = img.get_pixel_mut(x, y);
                for (channel, target) in p.0.iter_mut().zip(c) {
                    *channel =
                        (f32::from(*channel) * (1.0 - cover) + f32::from(target) * cover) as u8;
                }
                p.0[3] = p.0[3].max((cover * 255.0) as u8);
            }
        }
    }
}

fn png(img: &RgbaImage) -> Result<Vec<u8>, WalletError> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| WalletError::Build(format!("PNG: {e}")))?;
    Ok(out.into_inner())
}

/// The icon (29×29 points): a stamp on the card's colour.
pub fn icon(scale: u32, background: [u8; 3], stamp: [u8; 3]) -> Result<Vec<u8>, WalletError> {
    let s = 29 * scale;
    let mut img = RgbaImage::from_pixel(s, s, rgba(background, 255));
    let c = s as f32 / 2.0;
    disc(&mut img, c, c, c * 0.62, None, stamp);
    png(&img)
}

/// The logo (up to 160×50 points): the shop's own PNG scaled to fit, or
/// a row of three stamps.
pub fn logo(scale: u32, own: Option<&[u8]>, stamp: [u8; 3]) -> Result<Vec<u8>, WalletError> {
    let (w, h) = (160 * scale, 50 * scale);
    if let Some(bytes) = own
        && let Ok(img) = image::load_from_memory(bytes)
    {
        let fitted = img.resize(w, h, image::imageops::FilterType::Triangle);
        return png(&fitted.to_rgba8());
    }
    let mut img = RgbaImage::from_pixel(h * 2, h, Rgba([0, 0, 0, 0]));
    let r = h as f32 * 0.3;
    for i in 0..3 {
        let cx = h as f32 * (0.4 + 0.6 * i as f32);
        disc(
            &mut img,
            cx,
            h as f32 / 2.0,
            r,
            (i > 0).then_some(r * 0.3),
            stamp,
        );
    }
    png(&img)
}

/// The logo of a template at a scale: the shop's own PNG from the data
/// folder (when its branding names one that loads), else a row of stamps in
/// the label colour. Only a plain file name is read, never a path
/// (`Branding::logo_file`).
pub fn template_logo(
    assets_dir: &std::path::Path,
    branding: &Branding,
    scale: u32,
) -> Result<Vec<u8>, WalletError> {
    let own = branding
        .logo_file()
        .and_then(|name| std::fs::read(assets_dir.join(name)).ok());
    logo(scale, own.as_deref(), color(&branding.label))
}

/// The strip (375×123 points): one circle per stamp of the goal, filled
/// when collected.
pub fn strip(
    scale: u32,
    stamps: u32,
    of: u32,
    background: [u8; 3],
    stamp: [u8; 3],
) -> Result<Vec<u8>, WalletError> {
    let (w, h) = (375 * scale, 123 * scale);
    let mut img = RgbaImage::from_pixel(w, h, rgba(background, 255));
    let of = of.clamp(1, 30);
    let rows = if of > 10 { 2 } else { 1 };
    let per_row = of.div_ceil(rows);
    let cell = (w as f32 / per_row as f32).min(h as f32 / rows as f32);
    let r = cell * 0.36;
    let left = (w as f32 - cell * per_row as f32) / 2.0;
    let top = (h as f32 - cell * rows as f32) / 2.0;
    for i in 0..of {
        let (row, col) = (i / per_row, i % per_row);
        let cx = left + cell * (col as f32 + 0.5);
        let cy = top + cell * (row as f32 + 0.5);
        let ring = (i >= stamps).then_some((r * 0.16).max(1.5));
        disc(&mut img, cx, cy, r, ring, stamp);
    }
    png(&img)
}

/// Which image: `(name, template, version, stamps, goal, scale)`; icons and
/// logos have no progress (0, 0).
pub type ImageKey = (&'static str, u64, u32, u32, u32, u32);

type Strips = HashMap<ImageKey, std::sync::Arc<Vec<u8>>>;

/// Images (strips, icons, logos) by what they show.
#[derive(Default)]
pub struct ImageCache(Mutex<Strips>);

/// Most strips kept; the cache starts over beyond it.
const CACHE_MAX: usize = 1024;

impl ImageCache {
    /// The strip for a template version and progress, drawn once.
    pub fn get(
        &self,
        key: ImageKey,
        draw: impl FnOnce() -> Result<Vec<u8>, WalletError>,
    ) -> Result<std::sync::Arc<Vec<u8>>, WalletError> {
        if let Some(hit) = self.lock().get(&key) {
            return Ok(hit.clone());
        }
        let drawn = std::sync::Arc::new(draw()?);
        let mut map = self.lock();
        if map.len() >= CACHE_MAX {
            map.clear();
        }
        map.insert(key, drawn.clone());
        Ok(drawn)
    }

    /// Strips drawn and kept.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none are kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Strips> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(png: &[u8]) -> RgbaImage {
        image::load_from_memory(png)
            .unwrap_or_else(|e| panic!("not a PNG: {e}"))
            .to_rgba8()
    }

    #[test]
    fn images_have_apples_sizes() {
        for s in SCALES {
            let i = decode(&icon(s, [0, 0, 0], [255, 255, 255]).unwrap_or_default());
            assert_eq!(i.dimensions(), (29 * s, 29 * s));
            let st = decode(&strip(s, 3, 8, [0, 0, 0], [255, 255, 255]).unwrap_or_default());
            assert_eq!(st.dimensions(), (375 * s, 123 * s));
            let l = decode(&logo(s, None, [255, 255, 255]).unwrap_or_default());
            assert!(l.width() <= 160 * s && l.height() <= 50 * s);
        }
    }

    /// Counts strip cells whose centre is stamp-coloured.
    fn filled_cells(png: &[u8], of: u32) -> u32 {
        let img = decode(png);
        let (w, h) = img.dimensions();
        let cell = w as f32 / of as f32;
        (0..of)
            .filter(|i| {
                let x = (cell * (*i as f32 + 0.5)) as u32;
                img.get_pixel(x, h / 2).0[0] > 200
            })
            .count() as u32
    }

    #[test]
    fn the_strip_shows_collected_stamps() {
        for stamps in [0, 3, 8] {
            let png = strip(1, stamps, 8, [0, 0, 0], [255, 255, 255]).unwrap_or_default();
            assert_eq!(filled_cells(&png, 8), stamps);
        }
    }

    #[test]
    fn strips_are_drawn_once_per_progress() {
        let cache = ImageCache::default();
        let mut draws = 0;
        for _ in 0..3 {
            cache
                .get(("strip", 1, 1, 2, 8, 1), || {
                    draws += 1;
                    Ok(vec![1])
                })
                .unwrap_or_default();
        }
        assert_eq!(draws, 1);
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn colours_parse_or_fall_back_to_black() {
        assert_eq!(color("#3b2a20"), [0x3b, 0x2a, 0x20]);
        assert_eq!(color("nonsense"), [0, 0, 0]);
    }
}
