//! Dense resampling: apply a [`WarpField`] to the character image, bilinearly, RGB and alpha.
//!
//! Colours are interpolated premultiplied by alpha, so a transparent neighbour never bleeds its
//! (meaningless) colour into an edge. Sample positions move by a constant step per pixel within
//! a grid cell, so they are carried in 16.16 fixed point; pixels are then blended eight at a time
//! with 8-bit weights in 16-bit lanes, a shape the compiler turns into SIMD code. Cells that do
//! not move are plain copies, so still parts of the picture come out bit-identical.

use super::field::{Grid, WarpField};
use image::RgbaImage;
use rayon::prelude::*;

/// Rows handed to one worker at a time.
const ROWS_PER_TASK: usize = 8;

/// Pixels blended side by side.
const BATCH: usize = 8;

/// The character image in the two forms the resampler reads (at least 2×2 pixels): the
/// original bytes for exact copies, and premultiplied texels with 16-bit channels, ready for
/// blending without unpacking.
#[derive(Clone, Debug)]
pub(crate) struct Source {
    pub width: u32,
    pub height: u32,
    /// Straight-alpha RGBA bytes, as given.
    pub raw: Vec<u8>,
    /// Premultiplied RGBA.
    pub premul: Vec<[u16; 4]>,
    /// Whether every pixel is fully opaque (then premultiplied equals straight).
    pub opaque: bool,
}

impl Source {
    pub fn new(image: &RgbaImage) -> Source {
        let raw = image.as_raw().clone();
        let opaque = raw.chunks_exact(4).all(|p| p[3] == 255);
        let premul = raw
            .chunks_exact(4)
            .map(|p| {
                let a = u16::from(p[3]);
                let m = |c: u8| (u16::from(c) * a + 127) / 255;
                if opaque {
                    [p[0], p[1], p[2], p[3]].map(u16::from)
                } else {
                    [m(p[0]), m(p[1]), m(p[2]), a]
                }
            })
            .collect();
        Source {
            width: image.width(),
            height: image.height(),
            raw,
            premul,
            opaque,
        }
    }

    /// Straight-alpha colour at a sub-pixel position (bilinear, premultiplied), as floats 0–255.
    pub fn sample(&self, x: f32, y: f32) -> [f32; 4] {
        let mut out = [0u8; 4];
        self.sample_batch(&[to_fixed(x); BATCH], &[to_fixed(y); BATCH], &mut out);
        out.map(f32::from)
    }

    /// Blend the pixels at 16.16 positions `sx[k], sy[k]` into `out` (RGBA bytes, up to
    /// [`BATCH`] pixels; extra positions are ignored).
    #[inline(always)]
    fn sample_batch(&self, sx: &[i32; BATCH], sy: &[i32; BATCH], out: &mut [u8]) {
        let (w, h) = (self.width as i32, self.height as i32);
        let stride = self.width as usize;
        let mut idx = [0usize; BATCH];
        let mut wx = [0u16; BATCH];
        let mut wy = [0u16; BATCH];
        for k in 0..BATCH {
            let (ix, fx) = clamp_tap(sx[k], w);
            let (iy, fy) = clamp_tap(sy[k], h);
            idx[k] = iy as usize * stride + ix as usize;
            wx[k] = fx;
            wy[k] = fy;
        }
        let p = &self.premul;
        for (k, px) in out.chunks_exact_mut(4).take(BATCH).enumerate() {
            let i = idx[k];
            let (a, b) = (p[i], p[i + 1]);
            let (c, d) = (p[i + stride], p[i + stride + 1]);
            // Top and bottom taps side by side: one 8-lane blend, then one 4-lane blend.
            let ac = [a[0], a[1], a[2], a[3], c[0], c[1], c[2], c[3]];
            let bd = [b[0], b[1], b[2], b[3], d[0], d[1], d[2], d[3]];
            let (w0, w1) = (256 - wx[k], wx[k]);
            let mut tb = [0u16; 8];
            for l in 0..8 {
                tb[l] = (ac[l] * w0 + bd[l] * w1 + 128) >> 8;
            }
            let (v0, v1) = (256 - wy[k], wy[k]);
            let mut v = [0u8; 4];
            for ch in 0..4 {
                v[ch] = ((tb[ch] * v0 + tb[ch + 4] * v1 + 128) >> 8) as u8;
            }
            if !self.opaque {
                v = unpremultiply(v);
            }
            px.copy_from_slice(&v);
        }
    }
}

/// `a + (b − a)·w/256`, rounded, for `a, b` below 256 and `w` in 0..=256 (never overflows 16
/// bits: at most 255·256 + 128). The batch blend inlines the same formula.
#[cfg(test)]
fn lerp16(a: u16, b: u16, w: u16) -> u16 {
    (a * (256 - w) + b * w + 128) >> 8
}

/// Left tap and 8-bit weight of the right tap for a 16.16 coordinate on an axis of `n` ≥ 2
/// pixels, clamped to the edge pixels.
#[inline(always)]
fn clamp_tap(s: i32, n: i32) -> (i32, u16) {
    let i = s >> 16;
    let frac = ((s >> 8) & 255) as u16;
    let w = if i < 0 {
        0
    } else if i >= n - 1 {
        256
    } else {
        frac
    };
    (i.clamp(0, n - 2), w)
}

/// A pixel coordinate in 16.16 fixed point, floored (valid for −8192 < v < 24576).
#[inline(always)]
fn to_fixed(v: f32) -> i32 {
    const OFFSET: f32 = 8192.0;
    ((v.clamp(-8191.0, 24575.0) + OFFSET) * 65536.0) as i64 as i32 - ((OFFSET as i32) << 16)
}

fn unpremultiply(p: [u8; 4]) -> [u8; 4] {
    let a = u32::from(p[3]);
    match a {
        0 => [0; 4],
        255 => p,
        _ => {
            let u = |c: u8| ((u32::from(c) * 255 + a / 2) / a).min(255) as u8;
            [u(p[0]), u(p[1]), u(p[2]), p[3]]
        }
    }
}

/// Per-worker buffers: sample positions along one row, and whether each pixel stays still.
struct Scratch {
    sx: Vec<i32>,
    sy: Vec<i32>,
    still: Vec<bool>,
}

/// Write the warped image into `out` (same size as the source).
pub(crate) fn remap(src: &Source, field: &WarpField, out: &mut RgbaImage) {
    let width = src.width as usize;
    let (coarse, fine) = field.grids();
    let stride = width * 4;
    out.as_mut()
        .par_chunks_mut(stride * ROWS_PER_TASK)
        .enumerate()
        .for_each(|(task, rows)| {
            let mut coarse_d = vec![[0.0f32; 2]; coarse.nx];
            let mut fine_d = vec![[0.0f32; 2]; fine.map_or(0, |f| f.nx)];
            let mut scratch = Scratch {
                sx: vec![0; width],
                sy: vec![0; width],
                still: vec![false; width],
            };
            for (k, row) in rows.chunks_exact_mut(stride).enumerate() {
                let y = task * ROWS_PER_TASK + k;
                let raw = &src.raw[y * stride..(y + 1) * stride];
                if !row_of(coarse, y as i32, &mut coarse_d) {
                    row.copy_from_slice(raw);
                    continue;
                }
                let (cx0, cx1) = (coarse.x0.max(0), coarse.x1().min(width as i32 - 1));
                row[..cx0 as usize * 4].copy_from_slice(&raw[..cx0 as usize * 4]);
                row[(cx1 as usize + 1) * 4..].copy_from_slice(&raw[(cx1 as usize + 1) * 4..]);
                match fine {
                    Some(f) if row_of(f, y as i32, &mut fine_d) => {
                        let (fx0, fx1) = (f.x0.max(cx0), f.x1().min(cx1));
                        positions(&coarse_d, coarse, y, cx0, fx0 - 1, &mut scratch);
                        positions(&fine_d, f, y, fx0, fx1, &mut scratch);
                        positions(&coarse_d, coarse, y, fx1 + 1, cx1, &mut scratch);
                    }
                    _ => positions(&coarse_d, coarse, y, cx0, cx1, &mut scratch),
                }
                blend_span(src, &scratch, cx0 as usize, cx1 as usize, raw, row);
            }
        });
}

/// Interpolate the grid's node rows to image row `y` into `out`; false when `y` is outside.
fn row_of(grid: &Grid, y: i32, out: &mut [[f32; 2]]) -> bool {
    if !grid.has_cells() || y < grid.y0 || y > grid.y1() {
        return false;
    }
    let (s, nx) = (grid.step as i32, grid.nx);
    let gy = y - grid.y0;
    let j = ((gy / s) as usize).min(grid.ny - 2);
    let fy = (gy - j as i32 * s) as f32 / s as f32;
    let (a, b) = (
        &grid.d[j * nx..(j + 1) * nx],
        &grid.d[(j + 1) * nx..(j + 2) * nx],
    );
    for ((d, p), q) in out.iter_mut().zip(a).zip(b) {
        *d = [p[0] + (q[0] - p[0]) * fy, p[1] + (q[1] - p[1]) * fy];
    }
    true
}

/// Fill the sample positions of pixels `first..=last` of row `y` from the displacements `row_d`
/// of `grid`'s row, and mark pixels of cells that do not move.
fn positions(
    row_d: &[[f32; 2]],
    grid: &Grid,
    y: usize,
    first: i32,
    last: i32,
    scratch: &mut Scratch,
) {
    if last < first || row_d.len() < 2 {
        return;
    }
    let (gx0, s) = (grid.x0, grid.step as i32);
    let yf = y as f32;
    let inv = 1.0 / s as f32;
    let mut x = first;
    while x <= last {
        let i = (((x - gx0) / s) as usize).min(row_d.len() - 2);
        // The last cell also owns its right edge node.
        let cell_end = if i + 2 == row_d.len() {
            last
        } else {
            (gx0 + (i as i32 + 1) * s - 1).min(last)
        };
        let (d0, d1) = (row_d[i], row_d[i + 1]);
        let (a, b) = (x as usize, cell_end as usize + 1);
        let still = d0 == [0.0, 0.0] && d1 == [0.0, 0.0];
        let (gx, gy) = ((d1[0] - d0[0]) * inv, (d1[1] - d0[1]) * inv);
        let off = (x - (gx0 + i as i32 * s)) as f32;
        let mut sx = to_fixed(x as f32 + d0[0] + gx * off);
        let mut sy = to_fixed(yf + d0[1] + gy * off);
        let step_x = ((1.0 + gx) * 65536.0) as i32;
        let step_y = (gy * 65536.0) as i32;
        for ((px, py), st) in scratch.sx[a..b]
            .iter_mut()
            .zip(&mut scratch.sy[a..b])
            .zip(&mut scratch.still[a..b])
        {
            *px = sx;
            *py = sy;
            *st = still;
            sx += step_x;
            sy += step_y;
        }
        x = cell_end + 1;
    }
}

/// Blend pixels `first..=last` of a row from the positions in `scratch`; still pixels are
/// copied from `raw`.
fn blend_span(
    src: &Source,
    scratch: &Scratch,
    first: usize,
    last: usize,
    raw: &[u8],
    row: &mut [u8],
) {
    let mut x = first;
    while x <= last {
        let n = (last + 1 - x).min(BATCH);
        let (a, b) = (x * 4, (x + n) * 4);
        let still = &scratch.still[x..x + n];
        if still.iter().all(|&s| s) {
            row[a..b].copy_from_slice(&raw[a..b]);
        } else {
            let mut sx = [0i32; BATCH];
            let mut sy = [0i32; BATCH];
            sx[..n].copy_from_slice(&scratch.sx[x..x + n]);
            sy[..n].copy_from_slice(&scratch.sy[x..x + n]);
            src.sample_batch(&sx, &sy, &mut row[a..b]);
            for (k, _) in still.iter().enumerate().filter(|(_, s)| **s) {
                let c = (x + k) * 4;
                row[c..c + 4].copy_from_slice(&raw[c..c + 4]);
            }
        }
        x += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::animate::field::GridSpec;
    use crate::animate::geometry::Ellipse;
    use crate::animate::tps::Tps;
    use crate::landmarks::Point;

    #[test]
    fn fixed_point_and_taps() {
        assert_eq!(lerp16(0, 255, 128), 128);
        assert_eq!(lerp16(0, 255, 256), 255);
        assert_eq!(lerp16(255, 0, 0), 255);
        assert_eq!(lerp16(17, 200, 0), 17);
        assert_eq!(unpremultiply([8, 16, 32, 128]), [16, 32, 64, 128]);
        assert_eq!(to_fixed(-0.5) >> 16, -1);
        assert_eq!(to_fixed(2.75), (2 << 16) + 3 * 16384);
        assert_eq!(clamp_tap(to_fixed(-3.0), 10), (0, 0));
        assert_eq!(clamp_tap(to_fixed(9.5), 10), (8, 256));
        assert_eq!(clamp_tap(to_fixed(4.5), 10), (4, 128));
    }

    #[test]
    fn a_translation_field_shifts_the_image() {
        let img = RgbaImage::from_fn(32, 32, |x, y| {
            image::Rgba([(x * 8) as u8, (y * 8) as u8, 7, 255])
        });
        let src = Source::new(&img);
        // A uniform 2-px backward shift to the right over the whole image.
        let centres = [
            Point::new(-50.0, -50.0),
            Point::new(100.0, -50.0),
            Point::new(-50.0, 100.0),
            Point::new(100.0, 100.0),
        ];
        let tps = Tps::solve(&centres, &[Point::new(2.0, 0.0); 4]).unwrap();
        let everywhere = Ellipse {
            centre: Point::new(16.0, 16.0),
            axis: Point::new(1.0, 0.0),
            a: 1000.0,
            b: 1000.0,
        };
        let grid =
            GridSpec::covering(Point::new(0.0, 0.0), Point::new(31.0, 31.0), 32, 32, 4).unwrap();
        let field = WarpField::from_tps(&tps, &everywhere, 0.9, grid, 32, 32);
        let mut out = RgbaImage::new(32, 32);
        remap(&src, &field, &mut out);
        assert_eq!(out.get_pixel(5, 9).0, img.get_pixel(7, 9).0);
        assert_eq!(out.get_pixel(30, 3).0, img.get_pixel(31, 3).0);
    }

    #[test]
    fn transparent_neighbours_do_not_darken_edges() {
        let img = RgbaImage::from_fn(4, 2, |x, _| {
            if x < 2 {
                image::Rgba([200, 100, 50, 255])
            } else {
                image::Rgba([0, 0, 0, 0])
            }
        });
        let src = Source::new(&img);
        let c = src.sample(1.5, 0.0);
        assert!((c[3] - 127.5).abs() < 1.5, "{c:?}");
        assert!(
            (c[0] - 200.0).abs() < 3.0 && (c[1] - 100.0).abs() < 3.0,
            "{c:?}"
        );
    }
}
