//! Finding the eyes: a symmetric pair among a region's holes, notches or dark blobs, or among the
//! picture's compact dark blobs, round irises, or one eye and the other found by colour or
//! mirrored.

use super::super::round_eyes;
use super::blob::Blob;
use super::mouth_nose::best_mouth;
use super::regions::FaceRegion;
use super::work::{Work, components, dist2, kmeans, luma};
use crate::landmarks::Point;

/// Least [`Blob::contrast`] of an eye candidate (luminance, 0..1).
pub(super) const EYE_MIN_CONTRAST: f32 = 0.2;
/// Radius (work pixels) of the opening that strips drawn strokes off a found eye
/// ([`Blob::without_strokes`]): lines up to `2r` pixels wide go.
pub(super) const EYE_STROKE_RADIUS: usize = 2;
/// Share of an eye blob that must survive [`Blob::without_strokes`] for the stripped blob to
/// stand in for it.
pub(super) const STROKE_FREE_MIN_SHARE: f32 = 0.25;
/// Share of an eye's body (after [`Blob::without_strokes`]) that must survive its erosion.
pub(super) const EYE_BODY_MIN_CORE: f32 = 0.35;
/// How far out of the eye body's box, as a share of the box's larger side, a piece
/// [`Blob::without_strokes`] cuts off must reach to be a stroke (nearer ones, such as a
/// corner's tapered tip, are given back).
pub(super) const STROKE_MIN_REACH: f32 = 0.5;

/// Left eye, right eye, mouth (if found) and the pair's score.
pub(super) type EyePair = (Blob, Blob, Option<Blob>, f32);

/// The best eye pair among a region's holes: (left blob, right blob, mouth blob if any).
pub(super) fn find_eye_pair(holes: &[Blob], bbox: (f32, f32, f32, f32)) -> Option<EyePair> {
    let (x0, y0, x1, y1) = bbox;
    let (fw, fh) = (x1 - x0, y1 - y0);
    let mut best: Option<(f32, usize, usize, Option<usize>)> = None;
    let mut pairs: Vec<(f32, usize, usize, Option<usize>)> = Vec::new();
    for i in 0..holes.len() {
        for j in 0..holes.len() {
            let (a, b) = (&holes[i], &holes[j]);
            if i == j || a.centre.x >= b.centre.x {
                continue;
            }
            let d = b.centre - a.centre;
            let dist = d.norm();
            if dist < 0.15 * fw || dist > 0.8 * fw || d.y.abs() > 0.4 * d.x.abs() {
                continue;
            }
            // Drawn eyes stand out (a dark pupil or stroke, white sclera); a patch of a
            // slightly different shade (ears, shading) does not.
            if a.contrast.min(b.contrast) < EYE_MIN_CONTRAST {
                continue;
            }
            let ratio = a.area.max(b.area) / a.area.min(b.area).max(1.0);
            if ratio > 4.0 {
                continue;
            }
            let mid = (a.centre + b.centre) * 0.5;
            if mid.y > y0 + 0.75 * fh {
                continue;
            }
            let eye_size = (a.area + b.area) * 0.5;
            if eye_size > 0.06 * fw * fh {
                continue;
            }
            // Symmetry about the region's centre column.
            let sym = ((mid.x - (x0 + x1) * 0.5) / fw).abs();
            // A mouth candidate below the midpoint.
            let others = holes.iter().enumerate().filter(|&(k, _)| k != i && k != j);
            let mouth = best_mouth(a.centre, b.centre, others);
            let score = (1.0 - sym * 2.0).max(0.05)
                * (1.0 / ratio).sqrt()
                * eye_size.sqrt()
                * if mouth.is_some() { 2.0 } else { 1.0 }
                * (1.0 - (mid.y - y0) / fh * 0.5);
            pairs.push((score, i, j, mouth.map(|m| m.1)));
        }
    }
    // A pair with another pair right under it (same spacing, each blob below its partner) is a
    // pair of brows over the eyes, whatever its score.
    let under = |upper: &Blob, lower: &Blob, dist: f32| {
        let rel = lower.centre - upper.centre;
        rel.y > 0.12 * dist && rel.y < 0.7 * dist && rel.x.abs() < 0.25 * dist
    };
    let brows = |&(_, i, j, _): &(f32, usize, usize, Option<usize>)| {
        let dist = holes[i].centre.distance(holes[j].centre);
        pairs.iter().any(|&(_, k, l, _)| {
            ![i, j].contains(&k)
                && ![i, j].contains(&l)
                && (holes[k].centre.distance(holes[l].centre) - dist).abs() < 0.25 * dist
                && under(&holes[i], &holes[k], dist)
                && under(&holes[j], &holes[l], dist)
        })
    };
    // A pair whose blob has another right under it that pairs with the same partner is a brow
    // and the far eye (a turned or tilted head), whatever its score.
    let brow_and_eye = |&(_, i, j, _): &(f32, usize, usize, Option<usize>)| {
        let dist = holes[i].centre.distance(holes[j].centre);
        pairs.iter().any(|&(_, k, l, _)| {
            (l == j && k != i && under(&holes[i], &holes[k], dist))
                || (k == i && l != j && under(&holes[j], &holes[l], dist))
        })
    };
    for pair in &pairs {
        let s = if brows(pair) || brow_and_eye(pair) {
            0.2
        } else {
            1.0
        };
        let &(score, i, j, m) = pair;
        if best.is_none_or(|(bs, ..)| score * s > bs) {
            best = Some((score * s, i, j, m));
        }
    }
    let (s, i, j, m) = best?;
    Some((
        holes[i].clone(),
        holes[j].clone(),
        m.map(|k| holes[k].clone()),
        s,
    ))
}

/// Dark blobs inside the filled face region (fallback when the eyes are not enclosed holes).
pub(super) fn dark_blobs(work: &Work, r: &FaceRegion) -> Vec<Blob> {
    let (w, h) = (work.w, work.h);
    let lum_face = luma(r.colour);
    let mask: Vec<bool> = (0..w * h)
        .map(|i| r.filled[i] && work.luma(i) < lum_face * 0.6)
        .collect();
    let (_, comps) = components(&mask, w, h);
    comps
        .into_iter()
        .filter(|c| c.len() >= 3)
        .map(|c| Blob::new(c, w))
        .collect()
}

/// Where a region's eye candidates come from, in the order they are tried.
#[derive(Clone, Copy, Debug)]
pub(super) enum EyeSource {
    /// The region's holes.
    Holes,
    /// The holes and the region's notches.
    Notches,
    /// Dark blobs inside the region.
    DarkBlobs,
}

/// Largest share of the picture an eye blob found outside any face region may cover.
const IMAGE_EYE_MAX_SHARE: f32 = 0.02;
/// Fewest analysis pixels such a blob may have: specks of texture or noise are smaller.
const IMAGE_EYE_MIN_PIXELS: usize = 5;
/// Most such blobs a picture may have for a pair among them to count as eyes.
const IMAGE_EYE_MAX_BLOBS: usize = 6;

/// An eye pair among the picture's dark blobs (much darker than its median luminance), with
/// the blobs it was chosen from.
pub(super) fn image_eye_pair(work: &Work, median: [f32; 3]) -> Option<(Vec<Blob>, EyePair)> {
    let (w, h) = (work.w, work.h);
    let lum = luma(median);
    let mask: Vec<bool> = (0..w * h).map(|i| work.luma(i) < lum * 0.6).collect();
    let (_, comps) = components(&mask, w, h);
    let max_area = (IMAGE_EYE_MAX_SHARE * (w * h) as f32) as usize;
    // Compact blobs only (strokes, stripes and slits are not eyes).
    let compact = |c: &Vec<usize>| {
        let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
        for &i in c {
            (x0, y0, x1, y1) = (x0.min(i % w), y0.min(i / w), x1.max(i % w), y1.max(i / w));
        }
        let (bw, bh) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
        c.len() as f32 >= 0.45 * bw * bh && bw.min(bh) >= 0.3 * bw.max(bh)
    };
    let blobs: Vec<Blob> = comps
        .into_iter()
        .filter(|c| c.len() >= IMAGE_EYE_MIN_PIXELS && c.len() <= max_area && compact(c))
        .map(|c| Blob::new(c, w))
        .collect();
    // A picture with more dark specks than this is textured (fur, noise, a patterned dress);
    // a pair among them is chance.
    if blobs.len() > IMAGE_EYE_MAX_BLOBS {
        return None;
    }
    let pair = find_eye_pair(&blobs, (0.0, 0.0, w as f32, h as f32))?;
    // Two of a kind: eyes drawn alike.
    if pair.0.area.max(pair.1.area) > 2.0 * pair.0.area.min(pair.1.area) {
        return None;
    }
    Some((blobs, pair))
}

/// Horizontal and vertical half-extent of an eye around a round iris, in iris radii: the
/// corners lie beyond the iris, the lids close to it.
const ROUND_EYE_EXTENT: (f32, f32) = (1.1, 0.75);

/// The eye around a round iris as a blob: an ellipse of [`ROUND_EYE_EXTENT`].
pub(super) fn eye_blob(eye: &round_eyes::RoundEye, w: usize, h: usize) -> Blob {
    let (a, b) = (
        eye.radius * ROUND_EYE_EXTENT.0,
        eye.radius * ROUND_EYE_EXTENT.1,
    );
    ellipse_blob(eye.centre, a, b, w, h)
}

/// The pixels of an axis-aligned ellipse with centre `c` and half-axes `a`, `b`, clipped to
/// the `w` × `h` picture (its nearest pixel when nothing of it is inside).
fn ellipse_blob(c: Point, a: f32, b: f32, w: usize, h: usize) -> Blob {
    let (a, b) = (a.max(0.5), b.max(0.5));
    let (x0, x1) = (
        (c.x - a).floor().max(0.0) as usize,
        ((c.x + a).ceil() as usize).min(w),
    );
    let (y0, y1) = (
        (c.y - b).floor().max(0.0) as usize,
        ((c.y + b).ceil() as usize).min(h),
    );
    let pixels: Vec<usize> = (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let (dx, dy) = ((x as f32 + 0.5 - c.x) / a, (y as f32 + 0.5 - c.y) / b);
            dx * dx + dy * dy <= 1.0
        })
        .map(|(x, y)| y * w + x)
        .collect();
    if pixels.is_empty() {
        // A disc at the very edge: its nearest pixel stands for it.
        let x = (c.x.max(0.0) as usize).min(w.saturating_sub(1));
        let y = (c.y.max(0.0) as usize).min(h.saturating_sub(1));
        return Blob::new(vec![y * w + x], w);
    }
    Blob::new(pixels, w)
}

/// Whether `eye` (a hole of the face) is a better eye than either blob of `pair`: `margin`
/// times bigger than both and apart from them, or so much bigger that they are specks (a pupil
/// and a speck of the outline).
pub(super) fn outranks(eye: &Blob, pair: &EyePair, margin: f32) -> bool {
    let (a, b) = (&pair.0, &pair.1);
    let apart = |o: &Blob| eye.centre.distance(o.centre) > (eye.area.max(o.area)).sqrt();
    let biggest = a.area.max(b.area);
    eye.area > SPECK_RATIO * biggest || eye.area > margin * biggest && apart(a) && apart(b)
}

/// How many times bigger than both blobs of a pair of holes (of a merged region, or holes and
/// notches) the one eye of [`one_eye`] must be to outrank them: a brow is about an eye's size.
pub(super) const HOLE_PAIR_OUTRANK: f32 = 2.0;

/// Whether the blobs of `pair` lie in two different `holes`, each half the size of the
/// bigger of the two or more: pupils of two big eyes (too big for [`find_eye_pair`]), not a
/// speck beside the one eye a turned head shows.
pub(super) fn pupils_of_two_holes(pair: &EyePair, holes: &[Blob]) -> bool {
    let biggest = holes.iter().map(|h| h.area).fold(0.0, f32::max);
    let home = |b: &Blob| {
        holes.iter().position(|h| {
            h.area >= 0.5 * biggest && h.centre.distance(b.centre) < 0.5 * h.area.sqrt()
        })
    };
    matches!((home(&pair.0), home(&pair.1)), (Some(a), Some(b)) if a != b)
}

/// How many times bigger than a dark blob an eye hole is for the blob to count as a speck.
const SPECK_RATIO: f32 = 4.0;

/// How far (in eye distances) the other eye of a pair found by the picture-wide fallbacks may
/// lie from the mirror image of the one eye the face region shows.
pub(super) const MIRROR_TOLERANCE: f32 = 0.35;

/// Eye candidates of [`one_eye`]: at least this share of the face box's area...
const ONE_EYE_MIN_AREA: f32 = 0.004;
/// ...at most this share (a turned head's box is narrow for its near eye)...
const ONE_EYE_MAX_AREA: f32 = 0.1;
/// ...and at least this far (in face widths) from the midline, so that its mirror image is
/// another place.
const ONE_EYE_MIN_OFFSET: f32 = 0.1;

/// One eye among a region's holes, with the face's midline from the features below it (mouth
/// and nose): a turned head whose far eye merges with the outline is neither a hole nor a
/// notch. The far eye is the near one mirrored horizontally across the midline (an upright
/// head; its height is kept). Returns the left eye, the right eye, the mouth and which of the
/// two eyes (0 left, 1 right) is the mirrored one.
pub(super) fn one_eye(
    r: &FaceRegion,
    w: usize,
    h: usize,
) -> Option<(Blob, Blob, Option<Blob>, usize)> {
    let (x0, y0, x1, y1) = r.bbox;
    let (fw, fh) = (x1 - x0, y1 - y0);
    // The eye: the largest contrasting hole in the upper part of the face, of eye size.
    let (ei, eye) = r
        .holes
        .iter()
        .enumerate()
        .filter(|(_, b)| {
            b.contrast >= EYE_MIN_CONTRAST
                && b.area >= ONE_EYE_MIN_AREA * fw * fh
                && b.area <= ONE_EYE_MAX_AREA * fw * fh
                && b.centre.y < y0 + 0.6 * fh
        })
        .max_by(|a, b| a.1.area.total_cmp(&b.1.area))?;
    // Below it: the mouth (the lowest) and the nose (the one between), each on the midline.
    let mut below: Vec<&Blob> = r
        .holes
        .iter()
        .enumerate()
        .filter(|&(k, b)| k != ei && b.centre.y > eye.centre.y + 0.12 * fh)
        .map(|(_, b)| b)
        .collect();
    below.sort_by(|a, b| a.centre.y.total_cmp(&b.centre.y));
    let mouth = *below.last()?;
    let nose = below.len().checked_sub(2).map(|k| below[k]);
    let mid = nose.map_or(mouth.centre.x, |n| (n.centre.x + mouth.centre.x) * 0.5);
    let offset = eye.centre.x - mid;
    let far = Point::new(mid - offset, eye.centre.y);
    if offset.abs() < ONE_EYE_MIN_OFFSET * fw || far.x < x0 - 0.05 * fw || far.x > x1 + 0.05 * fw {
        return None;
    }
    let r_eq = (eye.area / std::f32::consts::PI).sqrt();
    let mirrored = ellipse_blob(far, r_eq, r_eq, w, h);
    let found = eye.clone();
    Some(if offset > 0.0 {
        (mirrored, found, Some(mouth.clone()), 0)
    } else {
        (found, mirrored, Some(mouth.clone()), 1)
    })
}

/// Colours of a found eye (its k-means centres) that its far twin shares.
const FAR_EYE_COLOURS: usize = 3;
/// Squared RGB distance (0–1 channels) within which a pixel has one of the eye's colours.
const FAR_EYE_COLOUR_DIST2: f32 = 0.012;
/// Size of the far eye against the near one's (a turned head foreshortens it).
const FAR_EYE_AREA: (f32, f32) = (0.1, 1.3);
/// Least share of its bounding box a far eye fills (a foreshortened eye is a thin sliver).
const FAR_EYE_MIN_FILL: f32 = 0.25;

/// The far eye of a turned head whose near eye is `near` and whose mirror image is `guess`:
/// pixels outside the face region with one of the near eye's colours, between the face's
/// midline and a little beyond the mirror image, at the near eye's height; their largest
/// piece with the pieces close to it, if that is eye-sized and compact.
pub(super) fn far_eye_by_colour(
    work: &Work,
    region: &FaceRegion,
    near: &Blob,
    guess: &Blob,
) -> Option<Blob> {
    let (w, h) = (work.w, work.h);
    let samples: Vec<[f32; 3]> = near.pixels.iter().map(|&i| work.rgb[i]).collect();
    let palette = kmeans(&samples, FAR_EYE_COLOURS, 8);
    let r_eq = (near.area / std::f32::consts::PI).sqrt();
    let mid_x = (near.centre.x + guess.centre.x) * 0.5;
    let toward = (guess.centre.x - near.centre.x).signum();
    let (xa, xb) = (mid_x, guess.centre.x + toward * 1.5 * r_eq);
    let (x0, x1) = (
        xa.min(xb).max(0.0) as usize,
        (xa.max(xb).ceil() as usize).min(w),
    );
    let y0 = (near.centre.y - 2.0 * r_eq).max(0.0) as usize;
    let y1 = ((near.centre.y + 2.0 * r_eq).ceil() as usize).min(h);
    let mut mask = vec![false; w * h];
    for y in y0..y1 {
        for x in x0..x1 {
            let i = y * w + x;
            mask[i] = !region.filled[i]
                && palette
                    .iter()
                    .any(|&c| dist2(c, work.rgb[i]) < FAR_EYE_COLOUR_DIST2);
        }
    }
    let (_, pieces) = components(&mask, w, h);
    // The eye may come in pieces (white, iris, pupil split by the outline's stroke): the
    // largest piece with every piece that lies within the near eye's radius of it.
    let pieces: Vec<Blob> = pieces.into_iter().map(|p| Blob::new(p, w)).collect();
    let largest = pieces.iter().max_by(|a, b| a.area.total_cmp(&b.area))?;
    let pixels: Vec<usize> = pieces
        .iter()
        .filter(|b| b.centre.distance(largest.centre) <= r_eq)
        .flat_map(|b| b.pixels.iter().copied())
        .collect();
    let eye = Blob::new(pixels, w);
    let (lo, hi) = eye.extent(w, Point::new(1.0, 0.0));
    let (top, bottom) = eye.extent(w, Point::new(0.0, 1.0));
    let (bw, bh) = (hi.x - lo.x + 1.0, bottom.y - top.y + 1.0);
    (eye.area >= FAR_EYE_AREA.0 * near.area
        && eye.area <= FAR_EYE_AREA.1 * near.area
        && eye.area >= FAR_EYE_MIN_FILL * bw * bh
        && bh < 3.0 * bw
        && bw < 3.0 * bh)
        .then_some(eye)
}
