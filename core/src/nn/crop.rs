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
    let stride = (w * 3) as usize;
    let (scale, offset) = match range {
        Range::ZeroOne => (1.0 / 255.0, 0.0),
        Range::MinusOneOne => (1.0 / 127.5, -1.0),
    };
    // Edge pixels: clamped (replicate) or zero.
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
    let mut out = vec![0f32; size * size * 3];
    // Offsets along the crop's x axis, the same for every row.
    let dxs: Vec<f32> = (0..size)
        .map(|u| {
            let uu = if flip { size - 1 - u } else { u };
            (uu as f32 / n - 0.5) * rect.width
        })
        .collect();
    // Per row: sample positions (vectorised), the four neighbours of every sample (a scalar
    // gather), then the interpolation and rounding over the whole row (branch-free, vectorised).
    let m = size * 3;
    let (mut sx, mut sy) = (vec![0f32; size], vec![0f32; size]);
    let mut q: [Vec<f32>; 4] = std::array::from_fn(|_| vec![0f32; m]);
    let (mut wx, mut wy) = (vec![0f32; m], vec![0f32; m]);
    for (v, row) in out.chunks_exact_mut(m).enumerate() {
        let dy = (v as f32 / n - 0.5) * rect.height;
        for ((x, y), dx) in sx.iter_mut().zip(sy.iter_mut()).zip(&dxs) {
            *x = rect.cx + c * dx - s * dy;
            *y = rect.cy + s * dx + c * dy;
        }
        for (u, (&x, &y)) in sx.iter().zip(&sy).enumerate() {
            let (x0, y0) = (floor(x), floor(y));
            let (fx, fy) = (x - x0 as f32, y - y0 as f32);
            // The 2×2 neighbourhood: straight from two image rows when it lies inside.
            let [p00, p10, p01, p11] = if x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h {
                let i = ((y0 * w + x0) * 3) as usize;
                let (top, bottom) = (&raw[i..i + 6], &raw[i + stride..i + stride + 6]);
                let f = |p: &[u8]| [p[0] as f32, p[1] as f32, p[2] as f32];
                [f(&top[..3]), f(&top[3..]), f(&bottom[..3]), f(&bottom[3..])]
            } else {
                [
                    pixel(x0, y0),
                    pixel(x0 + 1, y0),
                    pixel(x0, y0 + 1),
                    pixel(x0 + 1, y0 + 1),
                ]
            };
            let k = u * 3;
            for (dst, src) in q.iter_mut().zip([p00, p10, p01, p11]) {
                dst[k..k + 3].copy_from_slice(&src);
            }
            wx[k..k + 3].fill(fx);
            wy[k..k + 3].fill(fy);
        }
        let [q00, q10, q01, q11] = &q;
        for (k, o) in row.iter_mut().enumerate() {
            let (fx, fy) = (wx[k], wy[k]);
            let top = q00[k] + (q10[k] - q00[k]) * fx;
            let bottom = q01[k] + (q11[k] - q01[k]) * fx;
            *o = round_pixel(top + (bottom - top) * fy) * scale + offset;
        }
    }
    out
}

/// `v.round()` for a value in `0..=255` (an interpolated 8-bit sample), branch-free so that
/// it vectorises: the fraction is exact, and ties round up as `round` does.
#[inline(always)]
fn round_pixel(v: f32) -> f32 {
    let t = (v as i32) as f32;
    t + if v - t >= 0.5 { 1.0 } else { 0.0 }
}

/// `v.floor()` as an integer, without a libm call (baseline x86-64 has no SSE4.1 `roundss`).
#[inline(always)]
fn floor(v: f32) -> i64 {
    let t = v as i64;
    if (t as f32) > v { t - 1 } else { t }
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
        }
        for i in 0..=255 * 64 {
            let v = i as f32 / 64.0;
            assert_eq!(round_pixel(v), v.round(), "round_pixel {v}");
            let w = (v + 0.499_999_97).min(255.0);
            assert_eq!(round_pixel(w), w.round(), "round_pixel {w}");
        }
        assert_eq!(round_pixel(2.5), 3.0);
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
