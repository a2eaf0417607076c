//! The one anti-aliased rasteriser: filled polygons (exact horizontal coverage on sub-rows),
//! thick polylines with round caps and joins, discs. The landmark overlays of `match`, `detect`
//! and `retarget` and the generated cartoons draw with it.

use crate::landmarks::Point;
use image::{Rgba, RgbaImage};

/// Blend `color` over the pixel at `(x, y)` with coverage `alpha` in [0, 1].
pub fn blend(img: &mut RgbaImage, x: i64, y: i64, color: [u8; 3], alpha: f32) {
    if x < 0 || y < 0 || x >= i64::from(img.width()) || y >= i64::from(img.height()) {
        return;
    }
    let a = alpha.clamp(0.0, 1.0);
    if a <= 0.0 {
        return;
    }
    let p = img.get_pixel_mut(x as u32, y as u32);
    for (dst, src) in p.0.iter_mut().zip(color) {
        let v = f32::from(*dst) * (1.0 - a) + f32::from(src) * a;
        *dst = v.round().clamp(0.0, 255.0) as u8;
    }
    p.0[3] = 255;
}

/// Fill a polygon (even-odd rule) with 4 sub-rows per pixel and exact horizontal coverage.
pub fn fill_polygon(img: &mut RgbaImage, poly: &[Point], color: [u8; 3]) {
    fill_polygon_alpha(img, poly, color, 1.0);
}

/// Like [`fill_polygon`] with an overall opacity.
pub fn fill_polygon_alpha(img: &mut RgbaImage, poly: &[Point], color: [u8; 3], opacity: f32) {
    if poly.len() < 3 {
        return;
    }
    let (w, h) = (img.width() as i64, img.height() as i64);
    let ymin = poly.iter().map(|p| p.y).fold(f32::INFINITY, f32::min);
    let ymax = poly.iter().map(|p| p.y).fold(f32::NEG_INFINITY, f32::max);
    if !ymin.is_finite() || !ymax.is_finite() {
        return;
    }
    let y0 = (ymin.floor() as i64).max(0);
    let y1 = (ymax.ceil() as i64).min(h - 1);
    const SUB: usize = 4;
    let mut cov = vec![0.0f32; w.max(0) as usize];
    let mut xs: Vec<f32> = Vec::new();
    for y in y0..=y1 {
        cov.iter_mut().for_each(|c| *c = 0.0);
        let mut any = false;
        for s in 0..SUB {
            let sy = y as f32 + (s as f32 + 0.5) / SUB as f32;
            xs.clear();
            for i in 0..poly.len() {
                let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
                if (a.y <= sy && b.y > sy) || (b.y <= sy && a.y > sy) {
                    xs.push(a.x + (sy - a.y) / (b.y - a.y) * (b.x - a.x));
                }
            }
            xs.sort_by(f32::total_cmp);
            for pair in xs.chunks_exact(2) {
                let (xa, xb) = (pair[0].max(0.0), pair[1].min(w as f32));
                if xb <= xa {
                    continue;
                }
                any = true;
                let (ia, ib) = (xa.floor() as i64, (xb.ceil() as i64 - 1).min(w - 1));
                for x in ia..=ib {
                    let l = (x as f32).max(xa);
                    let r = ((x + 1) as f32).min(xb);
                    if r > l {
                        cov[x as usize] += (r - l) / SUB as f32;
                    }
                }
            }
        }
        if any {
            for (x, &c) in cov.iter().enumerate() {
                if c > 0.0 {
                    blend(img, x as i64, y, color, c * opacity);
                }
            }
        }
    }
}

/// Stroke a polyline of the given width (round caps and joins).
pub fn stroke_polyline(
    img: &mut RgbaImage,
    pts: &[Point],
    closed: bool,
    width: f32,
    color: [u8; 3],
) {
    // A point off the plane (a lost track) is left out with its segments.
    if pts.is_empty() || !pts.iter().all(|p| p.is_finite()) {
        return;
    }
    let r = (width * 0.5).max(0.35);
    let xmin = pts.iter().map(|p| p.x).fold(f32::INFINITY, f32::min) - r - 1.0;
    let xmax = pts.iter().map(|p| p.x).fold(f32::NEG_INFINITY, f32::max) + r + 1.0;
    let ymin = pts.iter().map(|p| p.y).fold(f32::INFINITY, f32::min) - r - 1.0;
    let ymax = pts.iter().map(|p| p.y).fold(f32::NEG_INFINITY, f32::max) + r + 1.0;
    let x0 = (xmin.floor() as i64).max(0);
    let x1 = (xmax.ceil() as i64).min(i64::from(img.width()) - 1);
    let y0 = (ymin.floor() as i64).max(0);
    let y1 = (ymax.ceil() as i64).min(i64::from(img.height()) - 1);
    if x1 < x0 || y1 < y0 {
        return;
    }
    let bw = (x1 - x0 + 1) as usize;
    let mut cov = vec![0.0f32; bw * (y1 - y0 + 1) as usize];
    let n = pts.len();
    let segs = if closed {
        n
    } else {
        n.saturating_sub(1).max(1)
    };
    for i in 0..segs {
        let a = pts[i];
        let b = pts[(i + 1) % n];
        let sx0 = ((a.x.min(b.x) - r - 1.0).floor() as i64).max(x0);
        let sx1 = ((a.x.max(b.x) + r + 1.0).ceil() as i64).min(x1);
        let sy0 = ((a.y.min(b.y) - r - 1.0).floor() as i64).max(y0);
        let sy1 = ((a.y.max(b.y) + r + 1.0).ceil() as i64).min(y1);
        let ab = b - a;
        let len2 = ab.dot(ab);
        for y in sy0..=sy1 {
            for x in sx0..=sx1 {
                let p = Point::new(x as f32 + 0.5, y as f32 + 0.5);
                let t = if len2 > 0.0 {
                    ((p - a).dot(ab) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let d = p.distance(a + ab * t);
                let c = (r - d + 0.5).clamp(0.0, 1.0);
                let idx = (y - y0) as usize * bw + (x - x0) as usize;
                if c > cov[idx] {
                    cov[idx] = c;
                }
            }
        }
    }
    for y in y0..=y1 {
        for x in x0..=x1 {
            let c = cov[(y - y0) as usize * bw + (x - x0) as usize];
            if c > 0.0 {
                blend(img, x, y, color, c);
            }
        }
    }
}

/// Points on an ellipse (centre, semi-axes, rotation), counter-clockwise from angle 0.
pub fn ellipse_points(c: Point, rx: f32, ry: f32, rot: f32, n: usize) -> Vec<Point> {
    let (s, co) = rot.sin_cos();
    (0..n)
        .map(|i| {
            let t = i as f32 / n as f32 * std::f32::consts::TAU;
            let (x, y) = (rx * t.cos(), ry * t.sin());
            Point::new(c.x + co * x - s * y, c.y + s * x + co * y)
        })
        .collect()
}

/// A filled disc.
pub fn fill_disc(img: &mut RgbaImage, c: Point, r: f32, color: [u8; 3]) {
    let n = ((r * 4.0) as usize).clamp(12, 256);
    fill_polygon(img, &ellipse_points(c, r, r, 0.0, n), color);
}

/// A solid image.
pub fn solid(w: u32, h: u32, color: [u8; 3]) -> RgbaImage {
    RgbaImage::from_pixel(w, h, Rgba([color[0], color[1], color[2], 255]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filled_square_has_exact_area() {
        let mut img = solid(20, 20, [0, 0, 0]);
        let sq = [
            Point::new(2.5, 3.0),
            Point::new(12.5, 3.0),
            Point::new(12.5, 13.0),
            Point::new(2.5, 13.0),
        ];
        fill_polygon(&mut img, &sq, [255, 255, 255]);
        let total: f32 = img.pixels().map(|p| f32::from(p.0[0]) / 255.0).sum();
        assert!((total - 100.0).abs() < 1.0, "{total}");
        assert_eq!(img.get_pixel(7, 7).0[0], 255);
        assert_eq!(img.get_pixel(15, 7).0[0], 0);
    }

    #[test]
    fn stroke_covers_its_line() {
        let mut img = solid(30, 30, [0, 0, 0]);
        stroke_polyline(
            &mut img,
            &[Point::new(5.0, 15.0), Point::new(25.0, 15.0)],
            false,
            3.0,
            [200, 0, 0],
        );
        assert!(img.get_pixel(15, 14).0[0] > 150);
        assert_eq!(img.get_pixel(15, 5).0[0], 0);
    }
}
