//! Dense resampling: apply a [`WarpField`] to the character image, bilinearly, RGB and alpha.
//!
//! Colours are interpolated premultiplied by alpha, so a transparent neighbour never bleeds its
//! (meaningless) colour into an edge. The four taps are blended with 8-bit fixed-point weights,
//! all four channels at once in one `u64` (16 bits per channel). Rows outside the moving region
//! are plain copies, and a sample that lands exactly on a pixel returns that pixel untouched, so
//! still parts of the picture come out bit-identical.

use super::field::{Grid, WarpField};
use image::RgbaImage;
use rayon::prelude::*;

/// Rows handed to one worker at a time.
const ROWS_PER_TASK: usize = 8;

/// The character image in the two forms the resampler reads.
#[derive(Clone, Debug)]
pub(crate) struct Source {
    pub width: u32,
    pub height: u32,
    /// Straight-alpha RGBA, little-endian packed (R in the low byte).
    pub straight: Vec<u32>,
    /// Premultiplied RGBA, same packing.
    pub premul: Vec<u32>,
    /// Whether every pixel is fully opaque (then `premul == straight`).
    pub opaque: bool,
}

impl Source {
    pub fn new(image: &RgbaImage) -> Source {
        let straight: Vec<u32> = image
            .as_raw()
            .chunks_exact(4)
            .map(|p| u32::from_le_bytes([p[0], p[1], p[2], p[3]]))
            .collect();
        let opaque = straight.iter().all(|&p| p >> 24 == 255);
        let premul = if opaque {
            straight.clone()
        } else {
            straight.iter().map(|&p| premultiply(p)).collect()
        };
        Source {
            width: image.width(),
            height: image.height(),
            straight,
            premul,
            opaque,
        }
    }

    /// Straight-alpha pixel at integer coordinates, clamped to the image.
    pub fn pixel(&self, x: i32, y: i32) -> [u8; 4] {
        let x = x.clamp(0, self.width as i32 - 1) as usize;
        let y = y.clamp(0, self.height as i32 - 1) as usize;
        self.straight[y * self.width as usize + x].to_le_bytes()
    }

    /// Straight-alpha colour at a sub-pixel position (bilinear, premultiplied), as floats 0–255.
    pub fn sample(&self, x: f32, y: f32) -> [f32; 4] {
        let p = self.bilinear(to_fixed(x), to_fixed(y));
        let p = if self.opaque { p } else { unpremultiply(p) };
        p.to_le_bytes().map(f32::from)
    }

    #[inline(always)]
    fn bilinear(&self, fx: i32, fy: i32) -> u32 {
        let (w, h) = (self.width as i32, self.height as i32);
        let (ix, iy) = (fx >> 8, fy >> 8);
        let (wx, wy) = ((fx & 255) as u64, (fy & 255) as u64);
        let x0 = ix.clamp(0, w - 1) as usize;
        let x1 = (ix + 1).clamp(0, w - 1) as usize;
        let y0 = iy.clamp(0, h - 1) as usize;
        let y1 = (iy + 1).clamp(0, h - 1) as usize;
        let stride = self.width as usize;
        if wx == 0 && wy == 0 {
            return self.premul[y0 * stride + x0];
        }
        let r0 = &self.premul[y0 * stride..y0 * stride + stride];
        let r1 = &self.premul[y1 * stride..y1 * stride + stride];
        let top = lerp_lanes(spread(r0[x0]), spread(r0[x1]), wx);
        let bot = lerp_lanes(spread(r1[x0]), spread(r1[x1]), wx);
        gather(lerp_lanes(top, bot, wy))
    }
}

/// Position in 1/256 pixel, floored (valid for |v| < 8192).
#[inline(always)]
fn to_fixed(v: f32) -> i32 {
    const OFFSET: f32 = 8192.0;
    ((v + OFFSET) * 256.0 + 0.5) as i32 - (OFFSET as i32) * 256
}

/// Spread the four bytes of `p` into the four 16-bit lanes of a `u64`.
#[inline(always)]
fn spread(p: u32) -> u64 {
    let x = u64::from(p);
    let x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    (x | (x << 8)) & 0x00FF_00FF_00FF_00FF
}

/// Inverse of [`spread`] for lanes that hold values below 256.
#[inline(always)]
fn gather(x: u64) -> u32 {
    let x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    ((x | (x >> 16)) & 0xFFFF_FFFF) as u32
}

/// Per-lane `a + (b − a)·w/256`, rounded, for lanes below 256 and `w` in 0..=256.
#[inline(always)]
fn lerp_lanes(a: u64, b: u64, w: u64) -> u64 {
    let mix = a * (256 - w) + b * w + 0x0080_0080_0080_0080;
    (mix >> 8) & 0x00FF_00FF_00FF_00FF
}

fn premultiply(p: u32) -> u32 {
    let [r, g, b, a] = p.to_le_bytes();
    let m = |c: u8| ((u32::from(c) * u32::from(a) + 127) / 255) as u8;
    u32::from_le_bytes([m(r), m(g), m(b), a])
}

#[inline(always)]
fn unpremultiply(p: u32) -> u32 {
    let a = p >> 24;
    if a == 255 || a == 0 {
        return if a == 0 { 0 } else { p };
    }
    let [r, g, b, _] = p.to_le_bytes();
    let u = |c: u8| ((u32::from(c) * 255 + a / 2) / a).min(255) as u8;
    u32::from_le_bytes([u(r), u(g), u(b), a as u8])
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
            for (k, row) in rows.chunks_exact_mut(stride).enumerate() {
                let y = task * ROWS_PER_TASK + k;
                let straight = &src.straight[y * width..(y + 1) * width];
                copy_row(straight, row);
                if !row_of(coarse, y as i32, &mut coarse_d) {
                    continue;
                }
                let (cx0, cx1) = (coarse.x0.max(0), coarse.x1().min(width as i32 - 1));
                match fine {
                    Some(f) if row_of(f, y as i32, &mut fine_d) => {
                        let (fx0, fx1) = (f.x0.max(cx0), f.x1().min(cx1));
                        warp_span(src, &coarse_d, coarse, y, cx0, fx0 - 1, row);
                        warp_span(src, &fine_d, f, y, fx0, fx1, row);
                        warp_span(src, &coarse_d, coarse, y, fx1 + 1, cx1, row);
                    }
                    _ => warp_span(src, &coarse_d, coarse, y, cx0, cx1, row),
                }
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
    let (a, b) = (&grid.d[j * nx..(j + 1) * nx], &grid.d[(j + 1) * nx..(j + 2) * nx]);
    for ((d, p), q) in out.iter_mut().zip(a).zip(b) {
        *d = [p[0] + (q[0] - p[0]) * fy, p[1] + (q[1] - p[1]) * fy];
    }
    true
}

fn copy_row(straight: &[u32], row: &mut [u8]) {
    for (px, &p) in row.chunks_exact_mut(4).zip(straight) {
        px.copy_from_slice(&p.to_le_bytes());
    }
}

/// Resample pixels `first..=last` of row `y` with the displacements `row_d` of `grid`'s row.
fn warp_span(
    src: &Source,
    row_d: &[[f32; 2]],
    grid: &Grid,
    y: usize,
    first: i32,
    last: i32,
    row: &mut [u8],
) {
    if last < first || row_d.len() < 2 {
        return;
    }
    let (gx0, s) = (grid.x0, grid.step as i32);
    let yf = y as f32;
    let inv = 1.0 / s as f32;
    let straight = &src.straight[y * src.width as usize..(y + 1) * src.width as usize];
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
        let (ix, iy) = ((d1[0] - d0[0]) * inv, (d1[1] - d0[1]) * inv);
        let off = (x - (gx0 + i as i32 * s)) as f32;
        let (mut dx, mut dy) = (d0[0] + ix * off, d0[1] + iy * off);
        for xx in x..=cell_end {
            let xi = xx as usize;
            if dx != 0.0 || dy != 0.0 {
                let fx = to_fixed(xx as f32 + dx);
                let fy = to_fixed(yf + dy);
                let v = if fx & 255 == 0 && fy & 255 == 0 {
                    u32::from_le_bytes(src.pixel(fx >> 8, fy >> 8))
                } else {
                    let v = src.bilinear(fx, fy);
                    if src.opaque { v } else { unpremultiply(v) }
                };
                row[xi * 4..xi * 4 + 4].copy_from_slice(&v.to_le_bytes());
            } else {
                row[xi * 4..xi * 4 + 4].copy_from_slice(&straight[xi].to_le_bytes());
            }
            dx += ix;
            dy += iy;
        }
        x = cell_end + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::animate::geometry::Ellipse;
    use crate::animate::tps::Tps;
    use crate::landmarks::Point;

    #[test]
    fn lane_arithmetic_round_trips() {
        let p = 0x80FF_0102u32;
        assert_eq!(gather(spread(p)), p);
        let (a, b) = (spread(0x0000_0000), spread(0xFFFF_FFFF));
        assert_eq!(gather(lerp_lanes(a, b, 128)), 0x8080_8080);
        assert_eq!(gather(lerp_lanes(a, b, 256)), 0xFFFF_FFFF);
        assert_eq!(gather(lerp_lanes(b, a, 0)), 0xFFFF_FFFF);
        assert_eq!(unpremultiply(premultiply(0xFF10_2030)), 0xFF10_2030);
        assert_eq!(to_fixed(-0.5) >> 8, -1);
        assert_eq!(to_fixed(2.75), 2 * 256 + 192);
    }

    #[test]
    fn a_translation_field_shifts_the_image() {
        let img = RgbaImage::from_fn(32, 32, |x, y| image::Rgba([(x * 8) as u8, (y * 8) as u8, 7, 255]));
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
        let grid = super::super::field::GridSpec::covering(
            Point::new(0.0, 0.0),
            Point::new(31.0, 31.0),
            32,
            32,
            4,
        )
        .unwrap();
        let field = WarpField::from_tps(&tps, &everywhere, 0.9, grid, 32, 32);
        let mut out = RgbaImage::new(32, 32);
        remap(&src, &field, &mut out);
        assert_eq!(out.get_pixel(5, 9).0, img.get_pixel(7, 9).0);
        assert_eq!(out.get_pixel(30, 3).0, img.get_pixel(31, 3).0);
    }

    #[test]
    fn transparent_neighbours_do_not_darken_edges() {
        let img = RgbaImage::from_fn(4, 1, |x, _| {
            if x < 2 {
                image::Rgba([200, 100, 50, 255])
            } else {
                image::Rgba([0, 0, 0, 0])
            }
        });
        let src = Source::new(&img);
        let c = src.sample(1.5, 0.0);
        assert!((c[3] - 127.5).abs() < 1.5, "{c:?}");
        assert!((c[0] - 200.0).abs() < 3.0 && (c[1] - 100.0).abs() < 3.0, "{c:?}");
    }
}
