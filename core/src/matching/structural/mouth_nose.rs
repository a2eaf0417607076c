//! Choosing the mouth and the drawn nose among blobs below the eyes.

use super::super::shape::ShapeModel;
use super::blob::Blob;
use super::eyes::EYE_MIN_CONTRAST;
use super::ratio_nose;
use crate::landmarks::Point;

/// Mouth distance below the eye line, in eye distances: a cartoon's can sit twice as far
/// below close-set eyes (a monkey's muzzle).
const MOUTH_BELOW_EYES: (f32, f32) = (0.4, 2.2);

/// Farthest a mouth's centre may lie off the eyes' perpendicular bisector, in eye distances
/// (a turned head's mouth shifts sideways while its eyes draw together).
const MOUTH_ACROSS: f32 = 0.5;

/// The most mouth-like of `candidates` (index, blob) for eyes at `le` and `re`: below the
/// middle of the eyes, central, big and low (a nose sits between the eyes and the mouth).
pub(super) fn best_mouth<'a>(
    le: Point,
    re: Point,
    candidates: impl Iterator<Item = (usize, &'a Blob)>,
) -> Option<(f32, usize)> {
    let d = re - le;
    let dist = d.norm().max(1e-3);
    let mid = (le + re) * 0.5;
    let down = Point::new(-d.y, d.x) * (1.0 / dist);
    let mut mouth: Option<(f32, usize)> = None;
    for (k, m) in candidates {
        let rel = m.centre - mid;
        let along = rel.dot(down);
        let across = rel.dot(d * (1.0 / dist));
        if along < MOUTH_BELOW_EYES.0 * dist
            || along > MOUTH_BELOW_EYES.1 * dist
            || across.abs() > MOUTH_ACROSS * dist
        {
            continue;
        }
        let s = m.area.sqrt() / (1.0 + across.abs() / dist) * (along / dist);
        if mouth.is_none_or(|(bs, _)| s > bs) {
            mouth = Some((s, k));
        }
    }
    mouth
}

/// Where a drawn nose may lie between the eyes and the mouth, as fractions of the depth of
/// the mouth's top below the eyes' midpoint (its centre, and its lowest point).
const NOSE_DEPTH: (f32, f32) = (0.2, 1.0);
/// Width of a drawn nose across the face, as fractions of the eye distance.
const NOSE_WIDTH: (f32, f32) = (0.12, 0.9);
/// Mean thickness (area over width), as a fraction of the width, from which a drawn nose is
/// a solid shape whose centre is the tip rather than a stroke.
pub(super) const NOSE_SOLID_THICKNESS: f32 = 0.3;

/// The drawn nose among `holes` for eyes `le`, `re` and mouth `mouth`: the largest blob that
/// is neither, whose centre lies between the eyes and the mouth, that reaches across the
/// face's midline (one nostril does not) and is as wide as a nose.
pub(super) fn best_nose<'a>(
    w: usize,
    le: &Blob,
    re: &Blob,
    mouth: &Blob,
    holes: impl Iterator<Item = &'a Blob>,
) -> Option<&'a Blob> {
    let eye_mid = (le.centre + re.centre) * 0.5;
    let d = re.centre - le.centre;
    let eye_d = d.norm().max(1e-3);
    let u = d * (1.0 / eye_d);
    let v = Point::new(-u.y, u.x);
    let (mouth_top, _) = mouth.extent(w, v);
    let depth = (mouth_top - eye_mid).dot(v);
    // The midline: from the eyes' midpoint to the mouth's centre.
    let to_mouth = mouth.centre - eye_mid;
    let midline_at = |along: f32| eye_mid + to_mouth * (along / to_mouth.dot(v).max(1e-3));
    let is_feature = |b: &Blob| {
        [le, re, mouth]
            .iter()
            .any(|f| f.centre.distance(b.centre) < 0.5 * f.area.sqrt())
    };
    holes
        .filter(|b| b.contrast >= EYE_MIN_CONTRAST && !is_feature(b))
        .filter(|b| {
            let along = (b.centre - eye_mid).dot(v);
            let (lo, hi) = b.extent(w, u);
            let (_, bottom) = b.extent(w, v);
            let mid = midline_at(along);
            let (a, z) = ((lo - mid).dot(u), (hi - mid).dot(u));
            let width = z - a;
            along > NOSE_DEPTH.0 * depth
                && (bottom - eye_mid).dot(v) < NOSE_DEPTH.1 * depth
                && a < -0.05 * width
                && z > 0.05 * width
                && width > NOSE_WIDTH.0 * eye_d
                && width < NOSE_WIDTH.1 * eye_d
        })
        .max_by(|a, b| a.area.total_cmp(&b.area))
}

/// The mean shape's nose tip for eyes at `left` and `right`: below their midpoint.
pub(super) fn nose_below(left: Point, right: Point, model: &ShapeModel) -> Point {
    let d = right - left;
    (left + right) * 0.5 + Point::new(-d.y, d.x) * ratio_nose(model)
}
