//! The jaw traced along the face region's outline, through a chin placed between the mouth and the
//! silhouette's middle.

use super::work::covers;
use crate::landmarks::Landmarks;
use crate::landmarks::Point;

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
