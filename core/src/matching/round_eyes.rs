//! Eyes as a pair of round dark blobs, found by radial symmetry.
//!
//! The structural fit looks for eyes among the holes and dark blobs of a face-coloured region.
//! That fails where the face has no region of its own colour (a cat's striped fur, a drawn
//! girl whose fringe and skin share the picture's pale tones). Irises and pupils are round
//! whatever surrounds them, so this module scores every pixel and radius by Loy and Zelinsky's
//! fast radial symmetry transform (edges vote for the centre of the dark disc they bound) and
//! keeps the best pair of peaks that look like two eyes: alike in size, side by side, ringed
//! by outward edges, and mirror images of each other.

use crate::landmarks::Point;

/// Disc radii tried, in analysis pixels (a 256-pixel picture's eyes span about 3–26; smaller specks are texture).
const RADII: [usize; 8] = [3, 4, 6, 8, 11, 15, 20, 26];
/// Edges weaker than this share of the strongest edge do not vote.
const EDGE_SHARE: f32 = 0.1;
/// Votes at which a centre's orientation term saturates (Loy and Zelinsky's k for n > 1).
const VOTE_CAP: f32 = 9.9;
/// Peaks kept for pairing, strongest first.
const PEAKS: usize = 12;
/// A peak suppresses weaker ones within this many pixels (half the window side).
const PEAK_WINDOW: usize = 3;
/// Peaks weaker than this share of the strongest are ignored.
const PEAK_SHARE: f32 = 0.05;
/// Ring directions sampled to measure how much of a disc's outline is an outward edge.
const RING_SAMPLES: usize = 48;
/// Least share of the ring that must be an outward edge (a disc darker than its surround).
pub const MIN_RING: f32 = 0.6;
/// Least correlation between one eye's patch and the other's mirror image.
pub const MIN_MIRROR: f32 = 0.3;
/// Least ratio of an eye's strength to the median of the strongest [`PEAKS`] peaks (missing
/// peaks count as zero).
const STAND_OUT: f32 = 1.5;
/// Largest ratio between the two radii.
const MAX_RADIUS_RATIO: f32 = 1.6;
/// Eye distance, in mean radii: at least this (apart, not one eye's pupil and iris)…
const MIN_SPACING: f32 = 2.5;
/// …and at most this (the same face).
const MAX_SPACING: f32 = 16.0;
/// Largest vertical offset between the eyes, as a share of their horizontal offset.
const MAX_TILT: f32 = 0.4;
/// Side of the resampled patches compared for mirror symmetry.
const PATCH: usize = 15;

/// One round eye: centre and radius in analysis pixels, and its symmetry strength.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RoundEye {
    /// Centre of the disc.
    pub centre: Point,
    /// Radius of the disc.
    pub radius: f32,
    /// Radial-symmetry score at the centre (scaled by the radius, comparable across radii).
    pub strength: f32,
    /// Share of the ring that is an outward edge, 0..1.
    pub ring: f32,
}

/// A pair of round eyes (image-left first) with the pair's score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RoundEyePair {
    /// The eye on the image's left.
    pub left: RoundEye,
    /// The eye on the image's right.
    pub right: RoundEye,
    /// Mirror correlation between the two eyes' surroundings, −1..1.
    pub mirror: f32,
    /// Pair score (strength × mirror correlation × ring share); higher is surer.
    pub score: f32,
}

/// Luminance gradients (3×3 Sobel, zero on the border) of a `w` × `h` image, with their
/// magnitudes and the least magnitude that counts as an edge.
struct Gradients {
    w: usize,
    h: usize,
    gx: Vec<f32>,
    gy: Vec<f32>,
    mag: Vec<f32>,
    /// [`EDGE_SHARE`] of the strongest magnitude.
    min_edge: f32,
}

impl Gradients {
    fn new(luma: &[f32], w: usize, h: usize) -> Self {
        let mut gx = vec![0.0f32; w * h];
        let mut gy = vec![0.0f32; w * h];
        for y in 1..h.saturating_sub(1) {
            for x in 1..w.saturating_sub(1) {
                let p = |dx: isize, dy: isize| {
                    luma[(y as isize + dy) as usize * w + (x as isize + dx) as usize]
                };
                let i = y * w + x;
                gx[i] =
                    (p(1, -1) + 2.0 * p(1, 0) + p(1, 1)) - (p(-1, -1) + 2.0 * p(-1, 0) + p(-1, 1));
                gy[i] =
                    (p(-1, 1) + 2.0 * p(0, 1) + p(1, 1)) - (p(-1, -1) + 2.0 * p(0, -1) + p(1, -1));
            }
        }
        let mag: Vec<f32> = gx.iter().zip(&gy).map(|(a, b)| a.hypot(*b)).collect();
        let min_edge = EDGE_SHARE * mag.iter().copied().fold(0.0f32, f32::max);
        Self {
            w,
            h,
            gx,
            gy,
            mag,
            min_edge,
        }
    }
}

/// Separable Gaussian blur (σ in pixels, kernel cut at 3σ, edges clamped).
fn gaussian_blur(src: &[f32], w: usize, h: usize, sigma: f32) -> Vec<f32> {
    let r = (3.0 * sigma).ceil().max(1.0) as isize;
    let kernel: Vec<f32> = (-r..=r)
        .map(|d| (-(d * d) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f32 = kernel.iter().sum();
    let kernel: Vec<f32> = kernel.iter().map(|k| k / total).collect();
    let clamp = |v: isize, n: usize| v.clamp(0, n as isize - 1) as usize;
    let mut tmp = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            tmp[y * w + x] = kernel
                .iter()
                .enumerate()
                .map(|(k, c)| c * src[y * w + clamp(x as isize + k as isize - r, w)])
                .sum();
        }
    }
    let mut out = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            out[y * w + x] = kernel
                .iter()
                .enumerate()
                .map(|(k, c)| c * tmp[clamp(y as isize + k as isize - r, h) * w + x])
                .sum();
        }
    }
    out
}

/// Dark-disc radial symmetry at radius `n`: each strong edge votes for the pixel `n` steps
/// against its gradient (towards the darker side); votes and edge strength combine as in the
/// transform, then spread by a Gaussian of σ = n/2 and scale by `n` so that radii compare.
fn symmetry_map(g: &Gradients, n: usize) -> Vec<f32> {
    let (w, h) = (g.w, g.h);
    let mut votes = vec![0.0f32; w * h];
    let mut mass = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let m = g.mag[i];
            if m <= g.min_edge {
                continue;
            }
            let tx = (x as f32 - n as f32 * g.gx[i] / m).round();
            let ty = (y as f32 - n as f32 * g.gy[i] / m).round();
            if tx < 0.0 || ty < 0.0 || tx >= w as f32 || ty >= h as f32 {
                continue;
            }
            let j = ty as usize * w + tx as usize;
            votes[j] += 1.0;
            mass[j] += m;
        }
    }
    let f: Vec<f32> = votes
        .iter()
        .zip(&mass)
        .map(|(&o, &m)| (m / VOTE_CAP) * (o.min(VOTE_CAP) / VOTE_CAP).powi(2))
        .collect();
    gaussian_blur(&f, w, h, 0.5 * n as f32)
        .into_iter()
        .map(|v| v * n as f32)
        .collect()
}

/// Radii, as shares of a disc's radius, searched for its outline.
const RING_RADII: [f32; 5] = [0.75, 0.9, 1.0, 1.15, 1.3];
/// Least cosine between the outline's gradient and the outward direction.
const RING_MIN_COS: f32 = 0.7;

/// Share of the ring around `c` whose strongest edge (over [`RING_RADII`]) points outward: a
/// disc darker than its surround has outward gradients all round; in texture or noise the
/// strongest edge points anywhere.
fn ring_share(g: &Gradients, c: Point, r: f32) -> f32 {
    let (w, h) = (g.w, g.h);
    let mut hits = 0;
    for k in 0..RING_SAMPLES {
        let a = std::f32::consts::TAU * k as f32 / RING_SAMPLES as f32;
        let (dx, dy) = (a.cos(), a.sin());
        let strongest = RING_RADII
            .iter()
            .filter_map(|&f| {
                let (x, y) = ((c.x + f * r * dx).round(), (c.y + f * r * dy).round());
                if x < 0.0 || y < 0.0 || x >= w as f32 || y >= h as f32 {
                    return None;
                }
                let i = y as usize * w + x as usize;
                Some((g.mag[i], i))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((m, i)) = strongest
            && m > g.min_edge
            && (g.gx[i] * dx + g.gy[i] * dy) / m > RING_MIN_COS
        {
            hits += 1;
        }
    }
    hits as f32 / RING_SAMPLES as f32
}

/// The square of side 4r around `c`, resampled to [`PATCH`]² (mirrored left–right when
/// `mirror`) and normalised to zero mean and unit variance; `None` where it leaves the image.
fn patch(luma: &[f32], w: usize, h: usize, c: Point, r: f32, mirror: bool) -> Option<Vec<f32>> {
    let half = 2.0 * r;
    if c.x - half < 0.0 || c.y - half < 0.0 || c.x + half > w as f32 || c.y + half > h as f32 {
        return None;
    }
    let step = 2.0 * half / PATCH as f32;
    let mut v = Vec::with_capacity(PATCH * PATCH);
    for py in 0..PATCH {
        for px in 0..PATCH {
            let qx = if mirror { PATCH - 1 - px } else { px };
            // Box-average the source pixels under this patch cell.
            let (x0, y0) = (c.x - half + qx as f32 * step, c.y - half + py as f32 * step);
            let (mut acc, mut n) = (0.0, 0.0);
            let cells = step.ceil().max(1.0) as usize;
            for sy in 0..cells {
                for sx in 0..cells {
                    let x = ((x0 + (sx as f32 + 0.5) * step / cells as f32) as usize).min(w - 1);
                    let y = ((y0 + (sy as f32 + 0.5) * step / cells as f32) as usize).min(h - 1);
                    acc += luma[y * w + x];
                    n += 1.0;
                }
            }
            v.push(acc / n);
        }
    }
    let mean = v.iter().sum::<f32>() / v.len() as f32;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / v.len() as f32;
    let sd = var.sqrt().max(1e-3);
    Some(v.into_iter().map(|x| (x - mean) / sd).collect())
}

/// The strongest radial-symmetry peaks (centre, radius, strength), at most [`PEAKS`].
fn peaks(g: &Gradients) -> Vec<RoundEye> {
    let (w, h) = (g.w, g.h);
    let mut best = vec![0.0f32; w * h];
    let mut radius = vec![0usize; w * h];
    for &n in &RADII {
        if 4 * n >= w.min(h) {
            break;
        }
        for (i, v) in symmetry_map(g, n).into_iter().enumerate() {
            if v > best[i] {
                best[i] = v;
                radius[i] = n;
            }
        }
    }
    let top = best.iter().copied().fold(0.0f32, f32::max);
    if top <= 0.0 {
        return Vec::new();
    }
    let mut found = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let v = best[y * w + x];
            if v <= PEAK_SHARE * top {
                continue;
            }
            let (ya, yb) = (y.saturating_sub(PEAK_WINDOW), (y + PEAK_WINDOW).min(h - 1));
            let (xa, xb) = (x.saturating_sub(PEAK_WINDOW), (x + PEAK_WINDOW).min(w - 1));
            let is_max = (ya..=yb).all(|yy| (xa..=xb).all(|xx| best[yy * w + xx] <= v));
            if is_max {
                let c = Point::new(x as f32, y as f32);
                let r = radius[y * w + x] as f32;
                found.push(RoundEye {
                    centre: c,
                    radius: r,
                    strength: v,
                    ring: ring_share(g, c, r),
                });
            }
        }
    }
    found.sort_by(|a, b| b.strength.total_cmp(&a.strength));
    found.truncate(PEAKS);
    found
}

/// The most eye-like pair of round dark blobs in a `w` × `h` luminance image (values 0..1),
/// or `None` where no pair is ringed by edges and mirror-symmetric enough.
pub fn find_pair(luma: &[f32], w: usize, h: usize) -> Option<RoundEyePair> {
    if w < 8 || h < 8 || luma.len() != w * h {
        return None;
    }
    let all = peaks(&Gradients::new(luma, w, h));
    // Eyes stand out from the picture's other round things; in texture and noise the
    // strongest peaks are many and alike.
    let typical = all.get(PEAKS / 2).map_or(0.0, |e| e.strength);
    let candidates: Vec<RoundEye> = all
        .into_iter()
        .filter(|e| e.strength >= STAND_OUT * typical)
        .filter(|e| e.ring >= MIN_RING)
        .collect();
    let mut best: Option<RoundEyePair> = None;
    for a in &candidates {
        for b in &candidates {
            if a.centre.x >= b.centre.x {
                continue;
            }
            if a.radius.max(b.radius) > MAX_RADIUS_RATIO * a.radius.min(b.radius) {
                continue;
            }
            let r = 0.5 * (a.radius + b.radius);
            let d = b.centre - a.centre;
            let dist = d.norm();
            if dist < MIN_SPACING * r || dist > MAX_SPACING * r || d.y.abs() > MAX_TILT * d.x {
                continue;
            }
            let (Some(pa), Some(pb)) = (
                patch(luma, w, h, a.centre, r, false),
                patch(luma, w, h, b.centre, r, true),
            ) else {
                continue;
            };
            let mirror = pa.iter().zip(&pb).map(|(x, y)| x * y).sum::<f32>() / pa.len() as f32;
            if mirror < MIN_MIRROR {
                continue;
            }
            let score = (a.strength * b.strength).sqrt() * mirror * a.ring.min(b.ring);
            if best.is_none_or(|p| score > p.score) {
                best = Some(RoundEyePair {
                    left: *a,
                    right: *b,
                    mirror,
                    score,
                });
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w` × `h` luminance image of seeded value noise (`amp` around mid-grey) with stripes,
    /// like fur, and `discs` drawn on it: (centre x, centre y, radius) as an iris of luminance
    /// 0.3 with a pupil of 0.05 and a small highlight.
    fn picture(w: usize, h: usize, amp: f32, discs: &[(f32, f32, f32)]) -> Vec<f32> {
        let mut state = 12345u32;
        let mut rnd = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state as f32 / u32::MAX as f32) - 0.5
        };
        let mut img: Vec<f32> = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32, (i / w) as f32);
                0.65 + 0.08 * ((x + 0.3 * y) * 0.35).sin() + amp * rnd()
            })
            .collect();
        for &(cx, cy, r) in discs {
            for y in 0..h {
                for x in 0..w {
                    let d = (x as f32 - cx).hypot(y as f32 - cy);
                    let i = y * w + x;
                    if d <= 0.45 * r {
                        img[i] = 0.05;
                    } else if d <= r {
                        img[i] = 0.3;
                    }
                    if (x as f32 - cx - 0.3 * r).hypot(y as f32 - cy + 0.3 * r) < 0.15 * r {
                        img[i] = 0.95;
                    }
                }
            }
        }
        img
    }

    #[test]
    fn two_irises_on_fur_are_found() {
        let img = picture(200, 150, 0.15, &[(60.0, 60.0, 12.0), (140.0, 64.0, 12.0)]);
        let pair = find_pair(&img, 200, 150).expect("a pair");
        assert!(
            pair.left.centre.distance(Point::new(60.0, 60.0)) < 2.5,
            "{pair:?}"
        );
        assert!(
            pair.right.centre.distance(Point::new(140.0, 64.0)) < 2.5,
            "{pair:?}"
        );
        for e in [pair.left, pair.right] {
            assert!((e.radius - 12.0).abs() <= 3.0, "{pair:?}");
        }
    }

    #[test]
    fn small_eyes_are_found_too() {
        let img = picture(256, 256, 0.1, &[(110.0, 100.0, 4.0), (140.0, 101.0, 4.0)]);
        let pair = find_pair(&img, 256, 256).expect("a pair");
        assert!(
            pair.left.centre.distance(Point::new(110.0, 100.0)) < 2.0,
            "{pair:?}"
        );
        assert!(
            pair.right.centre.distance(Point::new(140.0, 101.0)) < 2.0,
            "{pair:?}"
        );
    }

    #[test]
    fn one_iris_is_no_pair() {
        let img = picture(200, 150, 0.15, &[(60.0, 60.0, 12.0)]);
        assert_eq!(find_pair(&img, 200, 150), None);
    }

    #[test]
    fn discs_one_above_the_other_are_no_pair() {
        let img = picture(200, 200, 0.15, &[(100.0, 50.0, 10.0), (104.0, 130.0, 10.0)]);
        assert_eq!(find_pair(&img, 200, 200), None);
    }

    #[test]
    fn discs_of_very_different_sizes_are_no_pair() {
        let img = picture(256, 200, 0.15, &[(70.0, 90.0, 5.0), (170.0, 90.0, 20.0)]);
        assert_eq!(find_pair(&img, 256, 200), None);
    }

    #[test]
    fn noise_has_no_round_eyes() {
        let img = picture(256, 256, 0.6, &[]);
        assert_eq!(find_pair(&img, 256, 256), None);
    }

    #[test]
    fn tiny_or_mismatched_input_is_refused() {
        assert_eq!(find_pair(&[0.5; 16], 4, 4), None);
        assert_eq!(find_pair(&[0.5; 10], 8, 8), None);
    }
}
