//! Painting helpers for the synthesised parts: visit the pixels of a box, blend a colour.

use super::geometry::ArcFrame;
use super::palette::Rgb;
use crate::landmarks::Point;
use image::RgbaImage;

/// Call `f(s, v, pixel)` for every pixel of `out` inside `frame.bbox(margin)`, with the pixel's
/// `(s, v)` coordinates in `frame` (stepped incrementally along each row).
pub(crate) fn for_each_local(
    out: &mut RgbaImage,
    frame: &ArcFrame,
    margin: f32,
    mut f: impl FnMut(f32, f32, &mut [u8; 4]),
) {
    let (lo, hi) = frame.bbox(margin);
    let (w, h) = (out.width() as f32, out.height() as f32);
    if !(lo.x.is_finite() && lo.y.is_finite() && hi.x.is_finite() && hi.y.is_finite()) {
        return;
    }
    let x0 = lo.x.floor().max(0.0);
    let y0 = lo.y.floor().max(0.0);
    let x1 = hi.x.ceil().min(w - 1.0);
    let y1 = hi.y.ceil().min(h - 1.0);
    if x1 < x0 || y1 < y0 {
        return;
    }
    let ((dsx, dvx), _) = frame.gradients();
    let width = out.width() as usize;
    let (x0, x1, y0, y1) = (x0 as usize, x1 as usize, y0 as usize, y1 as usize);
    let buf: &mut [u8] = out.as_mut();
    for y in y0..=y1 {
        let (mut s, mut v) = frame.local(Point::new(x0 as f32, y as f32));
        let row = &mut buf[(y * width + x0) * 4..(y * width + x1 + 1) * 4];
        for px in row.chunks_exact_mut(4) {
            let mut p = [px[0], px[1], px[2], px[3]];
            f(s, v, &mut p);
            px.copy_from_slice(&p);
            s += dsx;
            v += dvx;
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
