//! Measuring the jaw: traced along the face region's outline, through a chin placed between the
//! mouth and the silhouette's middle.

use super::super::shape::Constraint;
use super::Measured;
use super::blob::Blob;
use super::eyes::EyePair;
use super::regions::{FaceRegion, hull_mask};
use super::work::covers;
use crate::landmarks::{Landmarks, Point};

/// Share of the mouth's offset across the face (from the eyes' midpoint, along the eye line)
/// in the chin's, and...
const CHIN_FROM_MOUTH: f32 = 0.6;
/// ...share of the offset of the jaw ends' midpoint: fitted to the true chins of generated
/// heads turned by 30–40° (left over: 0.04 eye distances, against 0.19 for a chin straight
/// below the mouth).
const CHIN_FROM_SILHOUETTE: f32 = 0.4;

/// Rays cast from the face's centre to its outline, one per half degree.
const OUTLINE_RAYS: usize = 720;

/// The 17 jaw points on the outline of the region `filled` (`w` × `h`): the two ends where
/// the outline is level with the placed shape `pts`' jaw ends, the chin below the eyes between
/// the mouth's side and the middle of the two ends ([`CHIN_FROM_MOUTH`]), and 7 points spaced
/// evenly by arc length between each end and the chin, so a turned head's jaw points crowd on
/// its far side.
/// `None` when the outline does not give a plausible jaw.
pub(super) fn jaw_along_outline(
    filled: &[bool],
    w: usize,
    h: usize,
    pts: &Landmarks,
    eyes_mouth: Option<(Point, Point, Option<Point>)>,
) -> Option<[Point; 17]> {
    let (le, re, mouth) = eyes_mouth?;
    let eye_d = le.distance(re);
    if eye_d < 2.0 {
        return None;
    }
    let u = (re - le) * (1.0 / eye_d);
    let v = Point::new(-u.y, u.x);
    let eye_mid = (le + re) * 0.5;
    let mouth = mouth.unwrap_or(pts[66]);
    let down = (mouth - eye_mid) * (1.0 / mouth.distance(eye_mid).max(1e-3));
    if down.dot(v) < 0.5 {
        tracing::debug!("structural: no jaw along the outline (the mouth is not below the eyes)");
        return None;
    }
    let c = eye_mid.lerp(mouth, 0.5);
    let inside = |p: Point| covers(filled, w, h, p);
    if !inside(c) {
        tracing::debug!("structural: no jaw along the outline (the face centre is off the region)");
        return None;
    }
    // Ray k leaves at angle φ = −π/2 + 2πk/N from u towards v: up, right (φ = 0), down
    // (φ = π/2), left (φ = π). Each ray stops at its first step outside.
    let reach = (w + h) as f32;
    let outline: Vec<Point> = (0..OUTLINE_RAYS)
        .map(|k| {
            let phi = -std::f32::consts::FRAC_PI_2
                + std::f32::consts::TAU * k as f32 / OUTLINE_RAYS as f32;
            let dir = u * phi.cos() + v * phi.sin();
            let mut t = 0.0;
            while t < reach && inside(c + dir * (t + 0.5)) {
                t += 0.5;
            }
            c + dir * (t + 0.25)
        })
        .collect();
    let quarter = OUTLINE_RAYS / 4;
    let level = |k: usize, p: Point| ((outline[k] - p).dot(v)).abs();
    // Right side: rays up to φ = π/2 (k < N/2); left side: k > N/2.
    let right =
        (1..2 * quarter).min_by(|&a, &b| level(a, pts[16]).total_cmp(&level(b, pts[16])))?;
    let left = (2 * quarter + 1..OUTLINE_RAYS)
        .min_by(|&a, &b| level(a, pts[0]).total_cmp(&level(b, pts[0])))?;
    // Chin: the lower outline point whose offset across the face (along the eye line, from
    // the eyes' midpoint) is CHIN_FROM_MOUTH of the mouth's plus CHIN_FROM_SILHOUETTE of the
    // jaw ends' midpoint's: on a turned head the chin lies between the mouth's side and the
    // silhouette's middle, not on the line from the eyes through the mouth.
    let across = |p: Point| (p - eye_mid).dot(u);
    let target = CHIN_FROM_MOUTH * across(mouth)
        + CHIN_FROM_SILHOUETTE * across(outline[left].lerp(outline[right], 0.5));
    let off_mid = |k: usize| (across(outline[k]) - target).abs();
    let chin = (right + 1..left).min_by(|&a, &b| off_mid(a).total_cmp(&off_mid(b)))?;
    let depth = (outline[chin] - eye_mid).dot(down);
    let span = outline[left].distance(outline[right]);
    if depth < (mouth - eye_mid).dot(down) + 0.1 * eye_d || span < 1.2 * eye_d {
        tracing::debug!(
            "structural: no jaw along the outline (chin depth {depth:.1}, span {span:.1}, eye distance {eye_d:.1})"
        );
        return None;
    }
    // Even arc-length spacing along the outline from ray `from` to ray `to` (descending).
    let spaced = |from: usize, to: usize| -> [Point; 9] {
        let path: Vec<Point> = (to..=from).rev().map(|k| outline[k]).collect();
        let mut cum = vec![0.0f32];
        for s in path.windows(2) {
            cum.push(cum[cum.len() - 1] + s[0].distance(s[1]));
        }
        let total = cum[cum.len() - 1];
        let mut j = 0;
        std::array::from_fn(|n| {
            let target = total * n as f32 / 8.0;
            while j + 2 < cum.len() && cum[j + 1] < target {
                j += 1;
            }
            if path.len() < 2 {
                return path[0];
            }
            let seg = (cum[j + 1] - cum[j]).max(1e-6);
            path[j].lerp(path[j + 1], ((target - cum[j]) / seg).clamp(0.0, 1.0))
        })
    };
    let (a, b) = (spaced(left, chin), spaced(chin, right));
    let mut jaw = [Point::default(); 17];
    jaw[..9].copy_from_slice(&a);
    jaw[8..].copy_from_slice(&b);
    Some(jaw)
}

/// Measures the jaw into `out`: traced along the face region's outline (see
/// [`jaw_along_outline`]), seen past the eyes and the mouth, else each placed jaw point of `pts`
/// moved along its normal to the nearest edge of the region. Returns whether it was traced.
pub(super) fn measure_jaw(
    region: &FaceRegion,
    found_eyes: &[Blob],
    pair: Option<&EyePair>,
    pts: &Landmarks,
    (w, h): (usize, usize),
    out: &mut Measured,
) -> bool {
    // Jaw: along the region's outline from one side at the jaw start's height, through the
    // chin where the face's midline meets the outline, to the other side; else each point
    // moved along its normal to the outline.
    let eyes_mouth =
        pair.map(|(le, re, m, _)| (le.centre, re.centre, m.as_ref().map(|m| m.centre)));
    // The outline seen from inside the face, past the eyes, the strokes attached to them and
    // the mouth (features that open onto the outline are no part of the region).
    let mut unblocked = region.filled.clone();
    let hull = hull_mask(&region.filled, w, h);
    let features = pair.and_then(|(_, _, m, _)| m.as_ref());
    for b in found_eyes.iter().chain(features) {
        for &i in &b.pixels {
            unblocked[i] |= hull[i];
        }
    }
    // A trace that doubles back (an outline running along background stripes of the face's
    // colour) is no jaw: the placed points are then moved to the region's edge instead.
    let traced = jaw_along_outline(&unblocked, w, h, pts, eyes_mouth).filter(|j| bends_one_way(j));
    let jaw_traced = traced.is_some();
    if let Some(jaw) = traced {
        for (i, p) in jaw.into_iter().enumerate() {
            out.constraints.push(Constraint::point(i, p, 1.0));
            out.conf[i] = 0.7;
        }
    } else {
        let centre = Point::mean(pts.iter().copied());
        let face_size = pts[0]
            .distance(pts[16])
            .max(pts[8].distance(pts[27]))
            .max(4.0);
        let inside = |p: Point| covers(&region.filled, w, h, p);
        for i in 0..17usize {
            let prev = pts[i.saturating_sub(1)];
            let next = pts[(i + 1).min(16)];
            let t = next - prev;
            let mut n = Point::new(t.y, -t.x);
            if n.dot(pts[i] - centre) < 0.0 {
                n = n * -1.0;
            }
            let n = n * (1.0 / n.norm().max(1e-6));
            let range = 0.25 * face_size;
            let mut found = None;
            // The inside-to-outside transition nearest the point within the search range.
            let steps = (2.0 * range).ceil() as i32;
            let mut best_d = f32::INFINITY;
            for s in -steps..steps {
                let d0 = s as f32 * 0.5;
                let p0 = pts[i] + n * d0;
                let p1 = pts[i] + n * (d0 + 0.5);
                if inside(p0) && !inside(p1) && d0.abs() < best_d {
                    best_d = d0.abs();
                    found = Some(p0 + n * 0.25);
                }
            }
            if let Some(p) = found {
                out.constraints.push(Constraint::point(i, p, 1.0));
                out.conf[i] = 0.7;
            }
        }
    }
    jaw_traced
}

/// Largest turn against the jaw's bend between two of its segments, in radians (86°): a trace
/// that doubles back has run along something else (background stripes); the true jaws of
/// turned heads bend back less than this.
const JAW_MAX_COUNTER_TURN: f32 = 1.5;

/// Whether the jaw `jaw` bends one way from end to end, as a jaw does: no segment turns
/// against the overall bend by more than [`JAW_MAX_COUNTER_TURN`].
fn bends_one_way(jaw: &[Point]) -> bool {
    let turns: Vec<f32> = jaw
        .windows(3)
        .filter_map(|t| {
            let (a, b) = (t[1] - t[0], t[2] - t[1]);
            (a.norm() > 1e-3 && b.norm() > 1e-3).then(|| a.cross(b).atan2(a.dot(b)))
        })
        .collect();
    let bend: f32 = turns.iter().sum();
    turns
        .iter()
        .all(|&t| t * bend.signum() > -JAW_MAX_COUNTER_TURN)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points along an arc of `r` around `c` from angle `a0` to `a1` (radians, y down).
    fn arc(c: Point, r: f32, a0: f32, a1: f32) -> Vec<Point> {
        (0..17)
            .map(|k| {
                let a = a0 + (a1 - a0) * k as f32 / 16.0;
                c + Point::new(a.cos(), a.sin()) * r
            })
            .collect()
    }

    #[test]
    fn a_jaw_bends_one_way_and_a_trace_that_doubles_back_does_not() {
        let jaw = arc(Point::new(100.0, 100.0), 60.0, 3.3, -0.15);
        assert!(bends_one_way(&jaw));
        // Either direction of travel, and a turned head's lopsided jaw.
        let back: Vec<Point> = jaw.iter().rev().copied().collect();
        assert!(bends_one_way(&back));
        let lopsided: Vec<Point> = jaw.iter().map(|p| Point::new(p.x * 0.6, p.y)).collect();
        assert!(bends_one_way(&lopsided));
        // A point pulled far out past its neighbours: the trace turns back there.
        let mut zigzag = jaw.clone();
        zigzag[10] = zigzag[10] + Point::new(0.0, 80.0);
        assert!(!bends_one_way(&zigzag));
    }
}
