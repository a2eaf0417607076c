//! Rotated-rectangle crops into network input tensors, as MediaPipe's `ImageToTensor` does them
//! on the CPU (OpenCV `warpPerspective`, bilinear, result rounded to 8 bits, then scaled).

use image::RgbImage;

/// A rotated rectangle in image pixels. `angle` is in radians; a point `(u, v)` of the unit
/// square (0..1, y down) maps to `centre + R(angle) · ((u − ½)·width, (v − ½)·height)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RotatedRect {
    /// Centre x.
    pub cx: f32,
    /// Centre y.
    pub cy: f32,
    /// Width (along the rotated x axis).
    pub width: f32,
    /// Height.
    pub height: f32,
    /// Rotation in radians (positive turns the x axis towards +y, i.e. clockwise on screen).
    pub angle: f32,
}

impl RotatedRect {
    /// Maps a point given in the crop's pixel frame (`size × size`) back to image pixels.
    pub fn to_image(&self, x: f32, y: f32, size: f32) -> (f32, f32) {
        let dx = (x / size - 0.5) * self.width;
        let dy = (y / size - 0.5) * self.height;
        let (s, c) = self.angle.sin_cos();
        (self.cx + c * dx - s * dy, self.cy + s * dx + c * dy)
    }
}

/// What lies outside the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Border {
    /// Black (the detector's letterbox).
    Zero,
    /// The nearest edge pixel (landmark crops).
    Replicate,
}

/// Value range of the tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// `v / 255`.
    ZeroOne,
    /// `v / 127.5 − 1`.
    MinusOneOne,
}

/// Samples `rect` into a `size × size × 3` float tensor (row-major HWC). With `flip`, the crop
/// is mirrored horizontally (column `u` shows what column `size − 1 − u` would).
pub fn crop_to_tensor(
    image: &RgbImage,
    rect: &RotatedRect,
    size: usize,
    border: Border,
    range: Range,
    flip: bool,
) -> Vec<f32> {
    let (w, h) = (image.width() as i64, image.height() as i64);
    let raw = image.as_raw();
    let (scale, offset) = match range {
        Range::ZeroOne => (1.0 / 255.0, 0.0),
        Range::MinusOneOne => (1.0 / 127.5, -1.0),
    };
    let pixel = |x: i64, y: i64| -> [f32; 3] {
        let (x, y) = match border {
            Border::Replicate => (x.clamp(0, w - 1), y.clamp(0, h - 1)),
            Border::Zero => {
                if x < 0 || y < 0 || x >= w || y >= h {
                    return [0.0; 3];
                }
                (x, y)
            }
        };
        let i = ((y * w + x) * 3) as usize;
        [raw[i] as f32, raw[i + 1] as f32, raw[i + 2] as f32]
    };
    let n = size as f32;
    let (s, c) = rect.angle.sin_cos();
    let mut out = Vec::with_capacity(size * size * 3);
    for v in 0..size {
        let dy = (v as f32 / n - 0.5) * rect.height;
        for u in 0..size {
            let uu = if flip { size - 1 - u } else { u };
            let dx = (uu as f32 / n - 0.5) * rect.width;
            let sx = rect.cx + c * dx - s * dy;
            let sy = rect.cy + s * dx + c * dy;
            let (x0, y0) = (floor(sx), floor(sy));
            let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
            let p00 = pixel(x0, y0);
            let p10 = pixel(x0 + 1, y0);
            let p01 = pixel(x0, y0 + 1);
            let p11 = pixel(x0 + 1, y0 + 1);
            for ch in 0..3 {
                let top = p00[ch] + (p10[ch] - p00[ch]) * fx;
                let bottom = p01[ch] + (p11[ch] - p01[ch]) * fx;
                let val = round(top + (bottom - top) * fy);
                out.push(val * scale + offset);
            }
        }
    }
    out
}

/// `v.floor()` as an integer, without a libm call (baseline x86-64 has no SSE4.1 `roundss`).
#[inline(always)]
fn floor(v: f32) -> i64 {
    let t = v as i64;
    if (t as f32) > v { t - 1 } else { t }
}

/// `v.round()` (half away from zero), without a libm call; exact for |v| < 2²³.
#[inline(always)]
fn round(v: f32) -> f32 {
    if v.abs() >= 8_388_608.0 || v.is_nan() {
        return v.round();
    }
    let t = (v as i64) as f32;
    let d = v - t;
    if d >= 0.5 {
        t + 1.0
    } else if d <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_crop_reproduces_pixels() {
        let img = RgbImage::from_fn(8, 8, |x, y| image::Rgb([(x * 30) as u8, (y * 30) as u8, 7]));
        let rect = RotatedRect {
            cx: 4.0,
            cy: 4.0,
            width: 8.0,
            height: 8.0,
            angle: 0.0,
        };
        let t = crop_to_tensor(&img, &rect, 8, Border::Replicate, Range::ZeroOne, false);
        // Output pixel (u, v) samples image position (u, v).
        assert!((t[(3 * 8 + 5) * 3] - 150.0 / 255.0).abs() < 1e-6);
        assert!((t[(3 * 8 + 5) * 3 + 1] - 90.0 / 255.0).abs() < 1e-6);
        let f = crop_to_tensor(&img, &rect, 8, Border::Replicate, Range::ZeroOne, true);
        assert!((f[(3 * 8 + 2) * 3] - 150.0 / 255.0).abs() < 1e-6);
    }

    #[test]
    fn fast_floor_and_round_match_std() {
        for i in -4000..4000 {
            let v = i as f32 * 0.125 + 0.0625 * (i % 3) as f32;
            assert_eq!(floor(v), v.floor() as i64, "floor {v}");
            assert_eq!(round(v), v.round(), "round {v}");
            let w = v + 0.499_999_97;
            assert_eq!(round(w), w.round(), "round {w}");
        }
        assert_eq!(round(-0.5), -1.0);
        assert_eq!(round(2.5), 3.0);
        assert_eq!(floor(-0.0), 0);
    }

    #[test]
    fn rotation_and_projection_agree() {
        let rect = RotatedRect {
            cx: 50.0,
            cy: 40.0,
            width: 20.0,
            height: 20.0,
            angle: std::f32::consts::FRAC_PI_2,
        };
        // The crop's top-left corner sits at centre + R(90°)(−10, −10) = (60, 30).
        let (x, y) = rect.to_image(0.0, 0.0, 192.0);
        assert!(
            (x - 60.0).abs() < 1e-4 && (y - 30.0).abs() < 1e-4,
            "{x} {y}"
        );
    }

    #[test]
    fn zero_border_is_minus_one() {
        let img = RgbImage::from_pixel(4, 2, image::Rgb([255, 255, 255]));
        let rect = RotatedRect {
            cx: 2.0,
            cy: 1.0,
            width: 4.0,
            height: 4.0,
            angle: 0.0,
        };
        let t = crop_to_tensor(&img, &rect, 4, Border::Zero, Range::MinusOneOne, false);
        assert_eq!(t[0], -1.0); // row 0 lies above the image
        assert_eq!(t[(2 * 4 + 1) * 3], 1.0); // row 2 is inside
    }
}
