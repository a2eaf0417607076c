//! Candidate face regions: colour regions of the foreground with their holes and outline
//! notches, unions of regions that touch (a head split by shading), and the face region chosen
//! under a pair of eyes found elsewhere.

use super::super::shape::ShapeModel;
use super::blob::Blob;
use super::eyes::{EyePair, find_eye_pair};
use super::mouth_nose::nose_below;
use super::work::{
    Work, components, covers, dilate, dist2, dist2_to_segment, kmeans, luma, nearest,
};
use crate::landmarks::Point;

pub(super) struct FaceRegion {
    pub(super) filled: Vec<bool>,
    pub(super) holes: Vec<Blob>,
    pub(super) colour: [f32; 3],
    pub(super) bbox: (f32, f32, f32, f32),
}

impl FaceRegion {
    /// No region: the whole picture's box, nothing filled, of colour `colour`, with `holes` as
    /// its feature candidates.
    pub(super) fn whole_picture(work: &Work, colour: [f32; 3], holes: Vec<Blob>) -> Self {
        Self {
            filled: vec![false; work.w * work.h],
            holes,
            colour,
            bbox: (0.0, 0.0, work.w as f32, work.h as f32),
        }
    }
}

/// The union of two face regions that share a border (a head split by shading): filled
/// pixels of either, the holes of each that the other does not fill plus what the union
/// encloses and neither region did, the area-weighted colour; `None` when they do not touch.
pub(super) fn merge_regions(a: &FaceRegion, b: &FaceRegion, work: &Work) -> Option<FaceRegion> {
    let w = work.w;
    let touches = a.filled.iter().enumerate().any(|(i, &f)| {
        f && [i.checked_sub(1), Some(i + 1), i.checked_sub(w), Some(i + w)]
            .into_iter()
            .flatten()
            .any(|j| b.filled.get(j).copied().unwrap_or(false) && !a.filled[j])
    });
    if !touches {
        return None;
    }
    let mut filled: Vec<bool> = a
        .filled
        .iter()
        .zip(&b.filled)
        .map(|(x, y)| *x || *y)
        .collect();
    // A hole of one region that the other region's colour fills is not a hole of the union.
    let open = |blob: &Blob, other: &FaceRegion| {
        let covered = blob.pixels.iter().filter(|&&i| other.filled[i]).count();
        2 * covered < blob.pixels.len()
    };
    let mut holes: Vec<Blob> = a
        .holes
        .iter()
        .filter(|h| open(h, b))
        .chain(b.holes.iter().filter(|h| open(h, a)))
        .cloned()
        .collect();
    let (na, nb) = (
        a.filled.iter().filter(|&&f| f).count() as f32,
        b.filled.iter().filter(|&&f| f).count() as f32,
    );
    let colour: [f32; 3] =
        std::array::from_fn(|k| (a.colour[k] * na + b.colour[k] * nb) / (na + nb).max(1.0));
    let bbox = (
        a.bbox.0.min(b.bbox.0),
        a.bbox.1.min(b.bbox.1),
        a.bbox.2.max(b.bbox.2),
        a.bbox.3.max(b.bbox.3),
    );
    // Features on the seam (eyes where the shading changes) belong to neither region but are
    // enclosed by their union.
    let boxed = (
        bbox.0 as usize,
        bbox.1 as usize,
        (bbox.2 as usize).saturating_sub(1),
        (bbox.3 as usize).saturating_sub(1),
    );
    let seam = enclosed(&filled, w, boxed);
    let area = filled.iter().zip(&seam).filter(|(f, s)| **f || **s).count();
    let (_, comps) = components(&seam, w, work.h);
    for c in comps {
        for &i in &c {
            filled[i] = true;
        }
        if c.len() >= 3 && c.len() < area / 4 {
            holes.push(Blob::new(c, w).with_contrast(work, luma(colour)));
        }
    }
    Some(FaceRegion {
        filled,
        holes,
        colour,
        bbox,
    })
}

/// Pixels of the box `(x0, y0, x1, y1)` (inclusive) that are not `inside` and cannot reach the
/// box border without crossing `inside`: the holes of a region.
fn enclosed(
    inside: &[bool],
    w: usize,
    (x0, y0, x1, y1): (usize, usize, usize, usize),
) -> Vec<bool> {
    let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);
    let mut reach = vec![false; bw * bh];
    let mut stack = Vec::new();
    for yy in 0..bh {
        for xx in 0..bw {
            if (yy == 0 || xx == 0 || yy == bh - 1 || xx == bw - 1)
                && !inside[(y0 + yy) * w + x0 + xx]
            {
                reach[yy * bw + xx] = true;
                stack.push((xx, yy));
            }
        }
    }
    while let Some((xx, yy)) = stack.pop() {
        let nb = [
            (xx.wrapping_sub(1), yy),
            (xx + 1, yy),
            (xx, yy.wrapping_sub(1)),
            (xx, yy + 1),
        ];
        for (nx, ny) in nb {
            if nx < bw && ny < bh && !reach[ny * bw + nx] && !inside[(y0 + ny) * w + x0 + nx] {
                reach[ny * bw + nx] = true;
                stack.push((nx, ny));
            }
        }
    }
    let mut holes = vec![false; inside.len()];
    for yy in 0..bh {
        for xx in 0..bw {
            let i = (y0 + yy) * w + x0 + xx;
            holes[i] = !inside[i] && !reach[yy * bw + xx];
        }
    }
    holes
}

/// Pixels inside the convex hull of `filled` (rows' extreme pixels as hull vertices).
pub(super) fn hull_mask(filled: &[bool], w: usize, h: usize) -> Vec<bool> {
    // Leftmost and rightmost pixel of each row, pixel corners included.
    let mut pts: Vec<(f32, f32)> = Vec::new();
    for y in 0..h {
        let row = &filled[y * w..(y + 1) * w];
        if let (Some(a), Some(b)) = (row.iter().position(|&f| f), row.iter().rposition(|&f| f)) {
            for (x, yy) in [(a, y), (a, y + 1), (b + 1, y), (b + 1, y + 1)] {
                pts.push((x as f32, yy as f32));
            }
        }
    }
    pts.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.total_cmp(&q.1)));
    pts.dedup();
    let cross = |o: (f32, f32), a: (f32, f32), b: (f32, f32)| {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    };
    // Andrew's monotone chain.
    let reversed: Vec<(f32, f32)> = pts.iter().rev().copied().collect();
    let mut hull: Vec<(f32, f32)> = Vec::new();
    for chain in [&pts, &reversed] {
        let start = hull.len();
        for &p in chain.iter() {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0
            {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    let mut mask = vec![false; w * h];
    if hull.len() < 3 {
        return mask;
    }
    // Scanlines through pixel centres: the span between the hull's crossings.
    for y in 0..h {
        let yc = y as f32 + 0.5;
        let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
        for k in 0..hull.len() {
            let (a, b) = (hull[k], hull[(k + 1) % hull.len()]);
            if (a.1 <= yc) != (b.1 <= yc) {
                let x = a.0 + (yc - a.1) / (b.1 - a.1) * (b.0 - a.0);
                lo = lo.min(x);
                hi = hi.max(x);
            }
        }
        if lo <= hi {
            let x0 = (lo - 0.5).ceil().max(0.0) as usize;
            let x1 = ((hi - 0.5).floor() + 1.0).clamp(0.0, w as f32) as usize;
            for m in &mut mask[y * w + x0.min(x1)..y * w + x1] {
                *m = true;
            }
        }
    }
    mask
}

/// Notches of a face region: pieces of its convex hull it does not fill. A feature drawn on
/// the face's outline (an eye or brow of a turned head, a grin) opens onto the outside and is
/// no hole, but it is a notch.
pub(super) fn notches(r: &FaceRegion, work: &Work) -> Vec<Blob> {
    let (w, h) = (work.w, work.h);
    let hull = hull_mask(&r.filled, w, h);
    let mask: Vec<bool> = hull.iter().zip(&r.filled).map(|(a, f)| *a && !*f).collect();
    let area = hull.iter().filter(|&&f| f).count();
    let (_, comps) = components(&mask, w, h);
    // A notch's rim: its pixels next to the outside of the hull (or the image edge).
    let rim = |i: usize| {
        let (x, y) = (i % w, i / w);
        x == 0
            || y == 0
            || x + 1 == w
            || y + 1 == h
            || !hull[i - 1]
            || !hull[i + 1]
            || !hull[i - w]
            || !hull[i + w]
    };
    comps
        .into_iter()
        .filter(|c| {
            // Deep notches only: a feature opens onto the outline through a narrow gap; a
            // shallow sliver along the outline (a hairline, a concave cheek) is all rim.
            let open = c.iter().filter(|&&i| rim(i)).count() as f32;
            c.len() >= 3
                && c.len() < area / 8
                && open <= NOTCH_MAX_OPENING * (c.len() as f32).sqrt()
        })
        .map(|c| Blob::new(c, w).with_contrast(work, luma(r.colour)))
        .inspect(|b| tracing::debug!("structural: notch at {:?}, area {}", b.centre, b.area))
        .collect()
}

/// Widest opening of a notch onto its region's convex hull, in square roots of its area
/// (a notch as deep as it is wide has about 1).
const NOTCH_MAX_OPENING: f32 = 0.7;

/// A border colour counts as background when at least 1 / this of the border has it.
const BG_MIN_BORDER_SHARE: usize = 12;
/// Squared colour distance within which a pixel has a background colour.
const BG_COLOUR_DIST2: f32 = 0.02;
/// Reach (work pixels) of a blend of two background colours from background proper: the width
/// of an anti-aliased edge.
const BLEND_EDGE_REACH: usize = 2;

pub(super) fn face_regions(work: &Work) -> Vec<(f32, FaceRegion)> {
    let (w, h) = (work.w, work.h);
    // Background colours from the border.
    let mut border = Vec::new();
    for x in 0..w {
        border.push(work.rgb[x]);
        border.push(work.rgb[(h - 1) * w + x]);
    }
    for y in 0..h {
        border.push(work.rgb[y * w]);
        border.push(work.rgb[y * w + w - 1]);
    }
    // Colours that hold only a sliver of the border are the character reaching the edge (ears,
    // hair, shoulders), not background.
    let clusters = kmeans(&border, 3, 6);
    let mut support = vec![0usize; clusters.len()];
    for p in &border {
        support[nearest(&clusters, *p)] += 1;
    }
    let major = |k: usize| support[k] * BG_MIN_BORDER_SHARE >= border.len();
    // A minor colour that blends two major ones (anti-aliased edges of stripes) stays background.
    let blend = |c: [f32; 3]| {
        (0..clusters.len()).filter(|&a| major(a)).any(|a| {
            (0..clusters.len())
                .filter(|&b| major(b))
                .any(|b| dist2_to_segment(c, clusters[a], clusters[b]) < 0.01)
        })
    };
    let near = |cs: &[[f32; 3]], p: [f32; 3]| cs.iter().any(|c| dist2(*c, p) <= BG_COLOUR_DIST2);
    let major_bg: Vec<[f32; 3]> = (0..clusters.len())
        .filter(|&k| major(k))
        .map(|k| clusters[k])
        .collect();
    let blend_bg: Vec<[f32; 3]> = (0..clusters.len())
        .filter(|&k| !major(k) && blend(clusters[k]))
        .map(|k| clusters[k])
        .collect();
    // A blend colour is background only where background proper is at hand: the
    // anti-aliased edges between two background colours, not a face that happens to have a
    // colour between them.
    let major_mask: Vec<bool> = work.rgb.iter().map(|&p| near(&major_bg, p)).collect();
    let by_major = dilate(&major_mask, w, h, BLEND_EDGE_REACH);
    let fg: Vec<bool> = work
        .rgb
        .iter()
        .enumerate()
        .map(|(i, &p)| !(major_mask[i] || (by_major[i] && near(&blend_bg, p))))
        .collect();
    let n_fg = fg.iter().filter(|&&f| f).count();
    let use_all = n_fg < w * h / 50;
    let samples: Vec<[f32; 3]> = work
        .rgb
        .iter()
        .zip(&fg)
        .enumerate()
        .filter(|(i, (_, f))| (use_all || **f) && i % 3 == 0)
        .map(|(_, (p, _))| *p)
        .collect();
    let centres = kmeans(&samples, 7, 8);
    let assign: Vec<usize> = work.rgb.iter().map(|&p| nearest(&centres, p)).collect();
    let mut out = Vec::new();
    let diag = ((w * w + h * h) as f32).sqrt();
    for (k, centre) in centres.iter().enumerate() {
        let mask: Vec<bool> = (0..w * h)
            .map(|i| assign[i] == k && (use_all || fg[i]))
            .collect();
        let (_, comps) = components(&mask, w, h);
        for pix in comps {
            // Too small to be a face, or the whole picture (a blank or uniform image).
            if pix.len() < (w * h) / 200 || pix.len() > (w * h) * 17 / 20 {
                continue;
            }
            let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
            for &i in &pix {
                let (x, y) = (i % w, i / w);
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x);
                y1 = y1.max(y);
            }
            let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);
            let mut inside = vec![false; w * h];
            for &i in &pix {
                inside[i] = true;
            }
            let hole_mask = enclosed(&inside, w, (x0, y0, x1, y1));
            let filled: Vec<bool> = inside
                .iter()
                .zip(&hole_mask)
                .map(|(a, b)| *a || *b)
                .collect();
            let (_, hole_comps) = components(&hole_mask, w, h);
            let area: usize = filled.iter().filter(|&&f| f).count();
            let face = luma(*centre);
            let holes: Vec<Blob> = hole_comps
                .into_iter()
                .filter(|c| c.len() >= 3 && c.len() < area / 4)
                .map(|c| Blob::new(c, w).with_contrast(work, face))
                .collect();
            let cx = (x0 + x1) as f32 * 0.5;
            let cy = (y0 + y1) as f32 * 0.5;
            let off = Point::new(cx - w as f32 * 0.5, (cy - h as f32 * 0.45) * 1.3).norm() / diag;
            let fill_ratio = area as f32 / (bw * bh) as f32;
            let aspect = bw.min(bh) as f32 / bw.max(bh) as f32;
            let c = centre;
            let skin = c[0] > c[1] && c[1] > c[2] && c[0] - c[2] > 0.08 && c[0] > 0.35;
            let region = FaceRegion {
                filled,
                holes,
                colour: *c,
                bbox: (x0 as f32, y0 as f32, (x1 + 1) as f32, (y1 + 1) as f32),
            };
            let eyes = find_eye_pair(&region.holes, region.bbox).is_some();
            let score = (area as f32 / (w * h) as f32).sqrt()
                * (1.0 - off).max(0.1)
                * fill_ratio.powf(0.5)
                * aspect.powf(0.5)
                * if eyes { 3.0 } else { 1.0 }
                * if skin { 1.3 } else { 1.0 };
            out.push((score, region));
        }
    }
    out.sort_by(|a, b| b.0.total_cmp(&a.0));
    out.truncate(3);
    out
}

/// Share of the area of the region whose dark blobs gave the eyes that a lighter region
/// inside it must fill to be the face ([`inner_region`]).
const INNER_FACE_MIN_SHARE: f32 = 0.3;

/// The largest of `candidates` other than `k` that covers the nose of `pair`, is lighter than
/// region `k` and fills less of the picture than it, but at least [`INNER_FACE_MIN_SHARE`] of
/// it: the face inside a dark outline ring.
pub(super) fn inner_region(
    candidates: &[FaceRegion],
    k: usize,
    pair: &EyePair,
    model: &ShapeModel,
    w: usize,
    h: usize,
) -> Option<usize> {
    let nose = nose_below(pair.0.centre, pair.1.centre, model);
    let area = |r: &FaceRegion| r.filled.iter().filter(|&&f| f).count() as f32;
    let outer = &candidates[k];
    let outer_area = area(outer);
    candidates
        .iter()
        .enumerate()
        .filter(|&(j, r)| {
            j != k && covers(&r.filled, w, h, nose) && luma(r.colour) > luma(outer.colour)
        })
        .map(|(j, r)| (j, area(r)))
        .filter(|&(_, a)| a < outer_area && a >= INNER_FACE_MIN_SHARE * outer_area)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(j, _)| j)
}

/// The first of `candidates` that covers the nose of eyes at `left` and `right` (the mean
/// shape's nose below their midpoint).
pub(super) fn region_under_nose(
    candidates: &[FaceRegion],
    left: Point,
    right: Point,
    model: &ShapeModel,
    w: usize,
    h: usize,
) -> Option<usize> {
    let nose = nose_below(left, right, model);
    candidates
        .iter()
        .position(|r| covers(&r.filled, w, h, nose))
}
