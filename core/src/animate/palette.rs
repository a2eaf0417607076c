//! The character's own colours, read once from the rest image: lips and surrounding skin for
//! the mouth interior; lid skin, lash-line colour and lash-line thickness for each eye.

use super::geometry::ArcFrame;
use super::sample::Source;
use super::targets::EYES;
use crate::landmarks::{Landmarks, Point};

/// An RGB colour with channels 0–255.
pub(crate) type Rgb = [f32; 3];

/// Colours and measurements for one eye.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct EyePalette {
    /// Skin just above the upper lash line.
    pub upper_lid: Rgb,
    /// Skin just below the lower lid.
    pub lower_lid: Rgb,
    /// Colour of the upper lash line (the darkest colour along the upper lid).
    pub lash: Rgb,
    /// How visible a drawn lash line should be, 0–1 (0 when the lid has no darker outline).
    pub lash_strength: f32,
    /// How far the lash line reaches above the upper-lid landmarks, in rest pixels.
    pub lash_above: f32,
    /// Thickness of the lash line to draw, in rest pixels.
    pub lash_width: f32,
}

/// Everything the mouth and eye synthesis needs to know about the character's colours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Palette {
    /// Lip colour.
    pub lip: Rgb,
    /// Skin around the mouth.
    pub skin: Rgb,
    /// Right eye (points 36–41), then left eye (42–47).
    pub eyes: [EyePalette; 2],
}

pub(crate) fn luma(c: Rgb) -> f32 {
    0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
}

fn distance(a: Rgb, b: Rgb) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// Per-channel median of the samples that are at least half opaque; `None` when none are.
fn median(src: &Source, points: impl IntoIterator<Item = Point>) -> Option<Rgb> {
    let mut ch: [Vec<f32>; 3] = Default::default();
    for p in points {
        let c = src.sample(p.x, p.y);
        if c[3] >= 128.0 {
            for k in 0..3 {
                ch[k].push(c[k]);
            }
        }
    }
    if ch[0].is_empty() {
        return None;
    }
    let mut out = [0.0f32; 3];
    for k in 0..3 {
        ch[k].sort_by(f32::total_cmp);
        out[k] = ch[k][ch[k].len() / 2];
    }
    Some(out)
}

impl Palette {
    /// Read the palette of a character at rest.
    pub fn read(src: &Source, rest: &Landmarks) -> Palette {
        let p = |i: usize| rest[i];
        let skin_points = [
            p(33).lerp(p(51), 0.5),
            p(48).lerp(p(4), 0.5),
            p(54).lerp(p(12), 0.5),
            p(31).lerp(p(2), 0.5),
            p(35).lerp(p(14), 0.5),
            p(57).lerp(p(8), 0.5),
        ];
        let skin = median(src, skin_points).unwrap_or([200.0, 170.0, 150.0]);
        let lip_pairs = [(50, 61), (51, 62), (52, 63), (58, 67), (57, 66), (56, 65)];
        let lip_points = lip_pairs
            .iter()
            .flat_map(|&(o, i)| [0.35f32, 0.5, 0.65].map(move |t| rest[o].lerp(rest[i], t)));
        let lip = median(src, lip_points).unwrap_or([skin[0] * 0.8, skin[1] * 0.5, skin[2] * 0.5]);
        let eyes = [
            eye_palette(src, rest, EYES[0], 17..22, skin),
            eye_palette(src, rest, EYES[1], 22..27, skin),
        ];
        Palette { lip, skin, eyes }
    }
}

fn eye_palette(
    src: &Source,
    rest: &Landmarks,
    idx: [usize; 6],
    brow: std::ops::Range<usize>,
    skin: Rgb,
) -> EyePalette {
    let fallback = EyePalette {
        upper_lid: skin,
        lower_lid: skin,
        lash: skin,
        lash_strength: 0.0,
        lash_above: 0.0,
        lash_width: 1.0,
    };
    let [a, u1, u2, b, l2, l1] = idx.map(|i| rest[i]);
    let Some(frame) = ArcFrame::new(a, b, &[u1, u2], &[l1, l2]) else {
        return fallback;
    };
    let w = frame.len().max(1.0);
    // Height of the brow above the corner line, where the brow is above the eye at all.
    let brow_v = rest[brow]
        .iter()
        .map(|&q| frame.local(q).1)
        .fold(f32::NEG_INFINITY, f32::max);
    let positions = [0.35f32, 0.5, 0.65];
    let mut lash_cols = Vec::new();
    let mut aboves = Vec::new();
    let mut belows = Vec::new();
    let mut fars = Vec::new();
    for &s in &positions {
        let base = frame.upper(s);
        let at = |o: f32| {
            let q = frame.point(s, base + o);
            let c = src.sample(q.x, q.y);
            [c[0], c[1], c[2]]
        };
        let room = if brow_v.is_finite() && brow_v > base {
            (brow_v - base) * 0.6
        } else {
            0.35 * w
        };
        // Small (dot) eyes have less than a pixel of room: the bounds must not cross.
        let far = at(room.min(0.35 * w).max(1.0));
        // Darkest colour near the landmark.
        let step = 0.5f32;
        let (lo, hi) = (-0.1 * w, 0.15 * w);
        let mut best = (f32::INFINITY, 0.0f32, [0.0f32; 3]);
        let mut o = lo;
        while o <= hi {
            let c = at(o);
            if luma(c) < best.0 {
                best = (luma(c), o, c);
            }
            o += step;
        }
        let (_, o_dark, dark) = best;
        let tol = 0.35 * distance(dark, far);
        let mut above = o_dark;
        while above + step <= room.max(o_dark) && distance(at(above + step), dark) <= tol {
            above += step;
        }
        let mut below = o_dark;
        while below - step >= -0.3 * w && distance(at(below - step), dark) <= tol {
            below -= step;
        }
        lash_cols.push(dark);
        aboves.push(above);
        belows.push(below);
        fars.push(far);
    }
    let med = |v: &mut Vec<f32>| {
        v.sort_by(f32::total_cmp);
        v[v.len() / 2]
    };
    let lash_above = med(&mut aboves).max(0.0);
    let lash_below = med(&mut belows).min(lash_above);
    let lash = lash_cols[1];
    // Lid skin: beyond the lash line, below the brow.
    let lid_points = positions.iter().flat_map(|&s| {
        let base = frame.upper(s);
        let room = if brow_v.is_finite() && brow_v > base {
            (brow_v - base) * 0.6
        } else {
            0.35 * w
        };
        let o = (lash_above + (0.1 * w).max(1.5)).min(room.max(lash_above + 1.0));
        [o, o + 1.0].map(|o| frame.point(s, base + o))
    });
    let upper_lid = median(src, lid_points).unwrap_or(fars[1]);
    let lower_points = positions.iter().map(|&s| {
        let base = frame.lower(s);
        frame.point(s, base - (0.15 * w).max(2.0))
    });
    let lower_lid = median(src, lower_points).unwrap_or(upper_lid);
    let contrast = luma(upper_lid) - luma(lash);
    EyePalette {
        upper_lid,
        lower_lid,
        lash,
        lash_strength: ((contrast - 15.0) / 45.0).clamp(0.0, 1.0),
        lash_above,
        lash_width: (lash_above - lash_below).min(0.2 * w).max(1.0),
    }
}
