//! Blobs: connected pixel sets (eyes, mouths, noses, notches) and the measures the fit takes of
//! them.

use super::eyes::{EYE_BODY_MIN_CORE, STROKE_FREE_MIN_SHARE, STROKE_MIN_REACH};
use super::work::{Work, components};
use crate::landmarks::Point;

/// A blob: pixel list with its centroid and size.
#[derive(Clone, Debug)]
pub(super) struct Blob {
    pub(super) pixels: Vec<usize>,
    pub(super) centre: Point,
    pub(super) area: f32,
    /// How far its strongest pixels' luminance lies from the face's (9th decile of the
    /// absolute difference); 1 where not measured (dark blobs are dark by construction).
    pub(super) contrast: f32,
}

impl Blob {
    pub(super) fn new(pixels: Vec<usize>, w: usize) -> Self {
        let n = pixels.len().max(1) as f32;
        let c = pixels.iter().fold(Point::default(), |a, &i| {
            a + Point::new((i % w) as f32 + 0.5, (i / w) as f32 + 0.5)
        }) * (1.0 / n);
        Self {
            area: pixels.len() as f32,
            pixels,
            centre: c,
            contrast: 1.0,
        }
    }

    /// Measures [`Blob::contrast`] against a face of luminance `face`.
    pub(super) fn with_contrast(mut self, work: &Work, face: f32) -> Self {
        let mut d: Vec<f32> = self
            .pixels
            .iter()
            .map(|&i| (work.luma(i) - face).abs())
            .collect();
        let k = (d.len() * 9 / 10).min(d.len().saturating_sub(1));
        if !d.is_empty() {
            self.contrast = *d.select_nth_unstable_by(k, f32::total_cmp).1;
        }
        self
    }

    /// The blob without thin strokes attached to it (a drawn nose line running into an eye's
    /// outline): a morphological opening by a `(2r+1)²` square, keeping the piece that survives
    /// the erosion, regrown within the blob. `None` when that piece holds less than
    /// [`STROKE_FREE_MIN_SHARE`] of the blob (the blob is all strokes: a closed eye's line), or
    /// when a second piece a tenth its size or more survives too (two bodies joined by a thin
    /// bridge, such as a brow touching its eye).
    pub(super) fn without_strokes(&self, w: usize, r: usize) -> Option<Blob> {
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        for &i in &self.pixels {
            let (x, y) = (i % w, i / w);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
        if self.pixels.is_empty() {
            return None;
        }
        // A local mask with an r-pixel empty border, so erosion needs no bounds checks.
        let (lw, lh) = (x1 - x0 + 1 + 2 * r, y1 - y0 + 1 + 2 * r);
        let local = |i: usize| (i / w - y0 + r) * lw + (i % w - x0 + r);
        let mut mask = vec![false; lw * lh];
        for &i in &self.pixels {
            mask[local(i)] = true;
        }
        let square = |m: &[bool], all: bool| -> Vec<bool> {
            let mut out = vec![false; lw * lh];
            for y in r..lh - r {
                for x in r..lw - r {
                    let mut hit = all;
                    'window: for yy in y - r..=y + r {
                        for xx in x - r..=x + r {
                            if m[yy * lw + xx] != all {
                                hit = !all;
                                break 'window;
                            }
                        }
                    }
                    out[y * lw + x] = hit;
                }
            }
            out
        };
        let eroded = square(&mask, true);
        let (_, mut pieces) = components(&eroded, lw, lh);
        pieces.sort_unstable_by_key(|p| std::cmp::Reverse(p.len()));
        // Two bodies joined by a thin bridge (a brow touching its eye) are no eye with a stroke.
        if pieces
            .get(1)
            .is_some_and(|p| p.len() * 10 >= pieces[0].len())
        {
            return None;
        }
        let core = pieces.into_iter().next()?;
        let core_len = core.len();
        let mut kept = vec![false; lw * lh];
        core.into_iter().for_each(|i| kept[i] = true);
        let mut grown = square(&kept, false);
        grown.iter_mut().zip(&mask).for_each(|(g, &m)| *g &= m);
        let body = grown.iter().filter(|&&g| g).count();
        // An eye body is much thicker than the strokes: most of it survives the erosion. A
        // closed eye's arc, only a little thicker than `2r + 1`, leaves a thin core.
        if (body as f32) < STROKE_FREE_MIN_SHARE * self.area
            || (core_len as f32) < EYE_BODY_MIN_CORE * body as f32
        {
            return None;
        }
        // What the opening cut off: strokes, but also the tapered tips of an almond eye's
        // corners or of a closed eye's arc; only pieces reaching far out of the body's box
        // are strokes.
        let (mut bx0, mut by0, mut bx1, mut by1) = (lw, lh, 0, 0);
        for (i, _) in grown.iter().enumerate().filter(|(_, g)| **g) {
            let (x, y) = (i % lw, i / lw);
            (bx0, by0, bx1, by1) = (bx0.min(x), by0.min(y), bx1.max(x), by1.max(y));
        }
        let reach = STROKE_MIN_REACH * (bx1 - bx0).max(by1 - by0) as f32;
        let beyond = |i: usize| {
            let (x, y) = (i % lw, i / lw);
            let dx = bx0.saturating_sub(x).max(x.saturating_sub(bx1));
            let dy = by0.saturating_sub(y).max(y.saturating_sub(by1));
            ((dx * dx + dy * dy) as f32).sqrt()
        };
        let cut: Vec<bool> = mask.iter().zip(&grown).map(|(&m, &g)| m && !g).collect();
        let (_, offcuts) = components(&cut, lw, lh);
        for piece in offcuts {
            if piece.iter().all(|&i| beyond(i) <= reach) {
                piece.into_iter().for_each(|i| grown[i] = true);
            }
        }
        let pixels: Vec<usize> = self
            .pixels
            .iter()
            .copied()
            .filter(|&i| grown[local(i)])
            .collect();
        Some(Blob {
            contrast: self.contrast,
            ..Blob::new(pixels, w)
        })
    }

    /// Extreme points along direction `u` (unit), and top/bottom along `v` near fractions of
    /// the extent along `u`.
    pub(super) fn extent(&self, w: usize, u: Point) -> (Point, Point) {
        let mut lo = (f32::INFINITY, Point::default());
        let mut hi = (f32::NEG_INFINITY, Point::default());
        for &i in &self.pixels {
            let p = Point::new((i % w) as f32 + 0.5, (i / w) as f32 + 0.5);
            let s = (p - self.centre).dot(u);
            if s < lo.0 {
                lo = (s, p);
            }
            if s > hi.0 {
                hi = (s, p);
            }
        }
        (lo.1, hi.1)
    }

    /// Points of the blob's boundary at fraction `f` (−1..1) of its extent along `u`, extremal
    /// along `v` (upper = most negative along `v`).
    pub(super) fn lid(&self, w: usize, u: Point, v: Point, f: f32, upper: bool) -> Option<Point> {
        let (a, b) = self.extent(w, u);
        let (sa, sb) = ((a - self.centre).dot(u), (b - self.centre).dot(u));
        let target = sa + (sb - sa) * (f + 1.0) * 0.5;
        let band = ((sb - sa) * 0.06).max(0.75);
        let mut best: Option<(f32, Point)> = None;
        for &i in &self.pixels {
            let p = Point::new((i % w) as f32 + 0.5, (i / w) as f32 + 0.5);
            let d = p - self.centre;
            if (d.dot(u) - target).abs() > band {
                continue;
            }
            let s = if upper { -d.dot(v) } else { d.dot(v) };
            if best.is_none_or(|(bs, _)| s > bs) {
                best = Some((s, p));
            }
        }
        best.map(|(_, p)| p)
    }
}
