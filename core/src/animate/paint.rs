//! Painting helpers for the synthesised parts: visit the pixels of a box, blend a colour.

use super::palette::Rgb;
use crate::landmarks::Point;
use image::RgbaImage;

/// Call `f(position, pixel)` for every pixel of `out` inside the box `lo..=hi`.
pub(crate) fn for_each_in_box(
    out: &mut RgbaImage,
    (lo, hi): (Point, Point),
    mut f: impl FnMut(Point, &mut [u8; 4]),
) {
    let (w, h) = (out.width() as f32, out.height() as f32);
    if !(lo.x.is_finite() && lo.y.is_finite() && hi.x.is_finite() && hi.y.is_finite()) {
        return;
    }
    let x0 = lo.x.floor().max(0.0) as u32;
    let y0 = lo.y.floor().max(0.0) as u32;
    let x1 = hi.x.ceil().min(w - 1.0);
    let y1 = hi.y.ceil().min(h - 1.0);
    if x1 < 0.0 || y1 < 0.0 {
        return;
    }
    let (x1, y1) = (x1 as u32, y1 as u32);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let px = out.get_pixel_mut(x, y);
            f(Point::new(x as f32, y as f32), &mut px.0);
        }
    }
}

/// Mix `colour` over the pixel's colour with weight `alpha` (0–1); the pixel keeps its alpha.
pub(crate) fn blend(px: &mut [u8; 4], colour: Rgb, alpha: f32) {
    if alpha <= 0.0 {
        return;
    }
    let a = alpha.min(1.0);
    for k in 0..3 {
        let v = f32::from(px[k]) + (colour[k] - f32::from(px[k])) * a;
        px[k] = v.round().clamp(0.0, 255.0) as u8;
    }
}

/// `a + (b − a)·t` per channel.
pub(crate) fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// Every channel times `k`.
pub(crate) fn scale(c: Rgb, k: f32) -> Rgb {
    [c[0] * k, c[1] * k, c[2] * k]
}
