//! The working image and the pixel-level tools the fit is built on: colour distances, k-means,
//! connected components, dilation.

use super::WORK_SIDE;
use crate::landmarks::Point;
use image::RgbaImage;

/// The working image: smoothed RGB in [0, 1], row-major.
pub(super) struct Work {
    pub(super) w: usize,
    pub(super) h: usize,
    pub(super) rgb: Vec<[f32; 3]>,
    /// Work pixels to original pixels.
    pub(super) scale: f32,
}

impl Work {
    pub(super) fn new(img: &RgbaImage) -> Self {
        let (ow, oh) = img.dimensions();
        let scale = (ow.max(oh) as f32 / WORK_SIDE as f32).max(1.0);
        let w = ((ow as f32 / scale).round() as usize).max(1);
        let h = ((oh as f32 / scale).round() as usize).max(1);
        let mut rgb = vec![[0.0f32; 3]; w * h];
        // Box-average the source pixels that fall in each work pixel.
        for y in 0..h {
            let y0 = (y as f32 * scale) as u32;
            let y1 = (((y + 1) as f32 * scale) as u32).clamp(y0 + 1, oh);
            for x in 0..w {
                let x0 = (x as f32 * scale) as u32;
                let x1 = (((x + 1) as f32 * scale) as u32).clamp(x0 + 1, ow);
                let mut acc = [0.0f32; 3];
                let mut n = 0.0;
                for sy in y0..y1.min(oh) {
                    for sx in x0..x1.min(ow) {
                        let p = img.get_pixel(sx, sy).0;
                        let a = f32::from(p[3]) / 255.0;
                        for c in 0..3 {
                            acc[c] += (f32::from(p[c]) / 255.0) * a + (1.0 - a);
                        }
                        n += 1.0;
                    }
                }
                if n > 0.0 {
                    rgb[y * w + x] = acc.map(|v| v / n);
                }
            }
        }
        let mut work = Self { w, h, rgb, scale };
        work.blur();
        work
    }

    fn blur(&mut self) {
        let (w, h) = (self.w, self.h);
        let src = self.rgb.clone();
        for y in 0..h {
            for x in 0..w {
                let mut acc = [0.0f32; 3];
                let mut n = 0.0;
                for dy in -1i64..=1 {
                    for dx in -1i64..=1 {
                        let (xx, yy) = (x as i64 + dx, y as i64 + dy);
                        if xx >= 0 && yy >= 0 && (xx as usize) < w && (yy as usize) < h {
                            let p = src[yy as usize * w + xx as usize];
                            for c in 0..3 {
                                acc[c] += p[c];
                            }
                            n += 1.0;
                        }
                    }
                }
                self.rgb[y * w + x] = acc.map(|v| v / n);
            }
        }
    }

    pub(super) fn luma(&self, i: usize) -> f32 {
        luma(self.rgb[i])
    }

    /// Luminance of every pixel, row-major.
    pub(super) fn luma_plane(&self) -> Vec<f32> {
        self.rgb.iter().map(|&c| luma(c)).collect()
    }
}

/// Luminance of a colour (Rec. 601 weights).
pub(super) fn luma(c: [f32; 3]) -> f32 {
    0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
}

/// Squared distance from colour `p` to the segment between colours `a` and `b`.
pub(super) fn dist2_to_segment(p: [f32; 3], a: [f32; 3], b: [f32; 3]) -> f32 {
    let ab: [f32; 3] = std::array::from_fn(|k| b[k] - a[k]);
    let len2 = ab.iter().map(|v| v * v).sum::<f32>();
    let t = if len2 > 0.0 {
        ((0..3).map(|k| (p[k] - a[k]) * ab[k]).sum::<f32>() / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    dist2(p, std::array::from_fn(|k| a[k] + t * ab[k]))
}

pub(super) fn dist2(a: [f32; 3], b: [f32; 3]) -> f32 {
    (0..3).map(|c| (a[c] - b[c]) * (a[c] - b[c])).sum()
}

/// Deterministic k-means (farthest-point initialisation) on a sample of colours.
pub(super) fn kmeans(samples: &[[f32; 3]], k: usize, iters: usize) -> Vec<[f32; 3]> {
    if samples.is_empty() {
        return Vec::new();
    }
    let mut centres = vec![samples[samples.len() / 2]];
    while centres.len() < k {
        let far = samples.iter().max_by(|a, b| {
            let da = centres
                .iter()
                .map(|c| dist2(**a, *c))
                .fold(f32::INFINITY, f32::min);
            let db = centres
                .iter()
                .map(|c| dist2(**b, *c))
                .fold(f32::INFINITY, f32::min);
            da.total_cmp(&db)
        });
        match far {
            Some(f) if centres.iter().all(|c| dist2(*f, *c) > 1e-4) => centres.push(*f),
            _ => break,
        }
    }
    for _ in 0..iters {
        let mut sum = vec![[0.0f32; 3]; centres.len()];
        let mut cnt = vec![0usize; centres.len()];
        for s in samples {
            let j = nearest(&centres, *s);
            for c in 0..3 {
                sum[j][c] += s[c];
            }
            cnt[j] += 1;
        }
        for j in 0..centres.len() {
            if cnt[j] > 0 {
                centres[j] = sum[j].map(|v| v / cnt[j] as f32);
            }
        }
    }
    centres
}

pub(super) fn nearest(centres: &[[f32; 3]], p: [f32; 3]) -> usize {
    let mut best = 0;
    let mut bd = f32::INFINITY;
    for (j, c) in centres.iter().enumerate() {
        let d = dist2(*c, p);
        if d < bd {
            bd = d;
            best = j;
        }
    }
    best
}

/// Connected components (4-neighbour) of `mask`; returns labels (0 = none) and pixel lists.
pub(super) fn components(mask: &[bool], w: usize, h: usize) -> (Vec<u32>, Vec<Vec<usize>>) {
    let mut labels = vec![0u32; w * h];
    let mut comps = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if !mask[start] || labels[start] != 0 {
            continue;
        }
        let id = comps.len() as u32 + 1;
        let mut pix = Vec::new();
        labels[start] = id;
        stack.push(start);
        while let Some(i) = stack.pop() {
            pix.push(i);
            let (x, y) = (i % w, i / w);
            let mut push = |j: usize| {
                if mask[j] && labels[j] == 0 {
                    labels[j] = id;
                    stack.push(j);
                }
            };
            if x > 0 {
                push(i - 1);
            }
            if x + 1 < w {
                push(i + 1);
            }
            if y > 0 {
                push(i - w);
            }
            if y + 1 < h {
                push(i + w);
            }
        }
        comps.push(pix);
    }
    (labels, comps)
}

/// `mask` grown by a `(2r+1)²` square (separable: rows, then columns).
pub(super) fn dilate(mask: &[bool], w: usize, h: usize, r: usize) -> Vec<bool> {
    let mut rows = vec![false; w * h];
    for y in 0..h {
        let row = &mask[y * w..(y + 1) * w];
        for x in 0..w {
            rows[y * w + x] = row[x.saturating_sub(r)..(x + r + 1).min(w)]
                .iter()
                .any(|&m| m);
        }
    }
    let mut out = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            out[y * w + x] = (y.saturating_sub(r)..(y + r + 1).min(h)).any(|yy| rows[yy * w + x]);
        }
    }
    out
}

/// Per-channel median colour of the working image.
pub(super) fn median_colour(work: &Work) -> [f32; 3] {
    std::array::from_fn(|c| {
        let mut v: Vec<f32> = work.rgb.iter().map(|p| p[c]).collect();
        let k = v.len() / 2;
        *v.select_nth_unstable_by(k, f32::total_cmp).1
    })
}

/// Whether the `w` × `h` mask is set at the pixel holding `p` (false outside the image).
pub(super) fn covers(mask: &[bool], w: usize, h: usize, p: Point) -> bool {
    let (x, y) = (p.x.floor() as i64, p.y.floor() as i64);
    x >= 0 && y >= 0 && (x as usize) < w && (y as usize) < h && mask[y as usize * w + x as usize]
}
