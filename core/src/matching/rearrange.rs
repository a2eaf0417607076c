//! The paper's "rearrangement" of matched points: fit each contour group to an ellipse (more
//! than 15 points, i.e. the jaw), a circle, or failing that the line through its end points,
//! and re-space the interior points uniformly along it, keeping each point's signed offset
//! from the curve, the order and both end points. The nose bridge is re-spaced on a line fit.

use crate::geometry::{Ellipse, fit_circle, fit_ellipse};
use crate::landmarks::{Landmarks, Part, Point};
use std::f32::consts::{PI, TAU};

/// The contour groups, as in the official code: jaw, brows, lower nose, each eyelid and
/// each lip arc.
pub const GROUPS: [&[usize]; 13] = [
    Part::Jaw.indices(),
    Part::RightBrow.indices(),
    Part::LeftBrow.indices(),
    Part::Nostrils.indices(),
    Part::RightUpperLid.indices(),
    Part::RightLowerLid.indices(),
    Part::LeftUpperLid.indices(),
    Part::LeftLowerLid.indices(),
    Part::OuterUpperLip.indices(),
    Part::OuterLowerLip.indices(),
    Part::InnerUpperLip.indices(),
    Part::InnerLowerLip.indices(),
    Part::NoseBridge.indices(),
];

/// Unwrap angle `a` to lie within π of `reference`.
fn unwrap_near(a: f32, reference: f32) -> f32 {
    let mut d = (a - reference).rem_euclid(TAU);
    if d > PI {
        d -= TAU;
    }
    reference + d
}

fn respace_on_ellipse(pts: &[Point], e: &Ellipse) -> Option<Vec<Point>> {
    let n = pts.len();
    // Parameters along the contour, unwrapped so they run monotonically.
    let mut t = vec![e.param(pts[0])];
    for p in &pts[1..] {
        let prev = t[t.len() - 1];
        t.push(unwrap_near(e.param(*p), prev));
    }
    let (t0, t1) = (t[0], t[n - 1]);
    if !(t1 - t0).is_finite() || (t1 - t0).abs() < 1e-4 || (t1 - t0).abs() > 1.9 * PI {
        return None;
    }
    let mut out = pts.to_vec();
    for i in 1..n - 1 {
        let offset = (pts[i] - e.point_at(t[i])).dot(e.normal(t[i]));
        let ti = t0 + (t1 - t0) * i as f32 / (n - 1) as f32;
        out[i] = e.point_at(ti) + e.normal(ti) * offset;
    }
    Some(out)
}

fn respace_on_line(pts: &[Point]) -> Vec<Point> {
    let n = pts.len();
    let (a, b) = (pts[0], pts[n - 1]);
    let d = b - a;
    let len = d.norm().max(1e-6);
    let normal = Point::new(-d.y / len, d.x / len);
    let mut out = pts.to_vec();
    for i in 1..n - 1 {
        let offset = (pts[i] - a).dot(normal);
        out[i] = a.lerp(b, i as f32 / (n - 1) as f32) + normal * offset;
    }
    out
}

/// Re-space one group; returns the new points of the group in order.
pub fn rearrange_group(pts: &[Point]) -> Vec<Point> {
    if pts.len() < 3 {
        return pts.to_vec();
    }
    let span = pts[0].distance(pts[pts.len() - 1]);
    let curve = if pts.len() > 15 {
        fit_ellipse(pts)
    } else {
        fit_circle(pts).map(Ellipse::circle)
    };
    // A huge radius means the points are nearly straight: use the line.
    let usable = curve.filter(|e| e.a.max(e.b) < 20.0 * span.max(1.0) && e.a.min(e.b) > 1e-3);
    usable
        .and_then(|e| respace_on_ellipse(pts, &e))
        .unwrap_or_else(|| respace_on_line(pts))
}

/// Rearrange all contour groups and the nose bridge. Shared corner points are end points of
/// their groups, so they never move.
pub fn rearrange(points: &Landmarks) -> Landmarks {
    let mut out = *points;
    for g in &GROUPS[..12] {
        let pts: Vec<Point> = g.iter().map(|&i| points[i]).collect();
        let new = rearrange_group(&pts);
        for (&i, p) in g.iter().zip(new) {
            out[i] = p;
        }
    }
    // Nose bridge: 27 fixed, 28..30 evenly spaced towards the tip on the least-squares line
    // through 27..30 and 33 that passes through 33.
    let anchor = points[33];
    let idx = [27usize, 28, 29, 30];
    let (mut sxx, mut sxy, mut syy) = (0.0f32, 0.0f32, 0.0f32);
    for &i in &idx {
        let d = points[i] - anchor;
        sxx += d.x * d.x;
        sxy += d.x * d.y;
        syy += d.y * d.y;
    }
    // Principal direction of the points about the anchor.
    let ang = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    let dir = Point::new(ang.cos(), ang.sin());
    let along = |p: Point| (p - anchor).dot(dir);
    let (s27, s30) = (along(points[27]), along(points[30]));
    if (s27 - s30).abs() > 1e-3 {
        out[27] = anchor + dir * s27;
        for (k, &i) in idx.iter().enumerate().skip(1) {
            let s = s27 + (s30 - s27) * k as f32 / 3.0;
            out[i] = anchor + dir * s;
        }
    }
    out
}

/// Upper/lower point pairs of the closed contours, with the two corner points: where a lower
/// point lies above its upper partner (a closed mouth or eye drawn crossed), both move to
/// their midpoint.
type LidPairs = ((usize, usize), &'static [(usize, usize)]);
const LID_PAIRS: [LidPairs; 4] = [
    ((36, 39), &[(37, 41), (38, 40)]),
    ((42, 45), &[(43, 47), (44, 46)]),
    (
        (48, 54),
        &[(49, 59), (50, 58), (51, 57), (52, 56), (53, 55)],
    ),
    ((60, 64), &[(61, 67), (62, 66), (63, 65)]),
];

/// Remove crossings of upper and lower arcs of the eyes and lips (see [`LID_PAIRS`]).
pub fn uncross_lids(points: &Landmarks) -> Landmarks {
    let mut out = *points;
    for ((a, b), pairs) in LID_PAIRS {
        let axis = out[b] - out[a];
        let len = axis.norm();
        if len <= 1e-6 {
            continue;
        }
        // "Down" is the axis normal pointing away from the brows (y grows downwards).
        let mut down = Point::new(-axis.y / len, axis.x / len);
        if down.y < 0.0 {
            down = down * -1.0;
        }
        for &(u, l) in pairs {
            if (out[l] - out[u]).dot(down) < 0.0 {
                let m = out[u].lerp(out[l], 0.5);
                out[u] = m;
                out[l] = m;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn crossed_inner_lips_are_merged() {
        let mut f = frontal_face(100.0, 100.0, 50.0);
        // Lower inner lip above the upper one.
        f[66].y = f[62].y - 3.0;
        let out = uncross_lids(&f);
        assert_eq!(out[62], out[66]);
        assert_eq!(out[61], f[61]);
    }

    use super::*;
    use crate::landmarks::synthetic::frontal_face;

    #[test]
    fn end_points_stay_and_interior_is_evenly_spaced() {
        // Points on a circle with uneven spacing.
        let angles = [0.2f32, 0.3, 0.9, 1.0, 1.1, 2.0];
        let pts: Vec<Point> = angles
            .iter()
            .map(|a| Point::new(50.0 + 20.0 * a.cos(), 50.0 + 20.0 * a.sin()))
            .collect();
        let out = rearrange_group(&pts);
        assert_eq!(out[0], pts[0]);
        assert_eq!(out[5], pts[5]);
        let gaps: Vec<f32> = out.windows(2).map(|w| w[0].distance(w[1])).collect();
        for g in &gaps {
            assert!((g - gaps[0]).abs() < 0.05, "{gaps:?}");
        }
        for p in &out {
            assert!((p.distance(Point::new(50.0, 50.0)) - 20.0).abs() < 0.01);
        }
    }

    #[test]
    fn straight_groups_use_the_line_and_keep_order() {
        let pts: Vec<Point> = [0.0f32, 1.0, 7.0, 9.0, 10.0]
            .iter()
            .map(|&x| Point::new(x, 3.0))
            .collect();
        let out = rearrange_group(&pts);
        for (k, p) in out.iter().enumerate() {
            assert!((p.x - 2.5 * k as f32).abs() < 1e-3 && (p.y - 3.0).abs() < 1e-3);
        }
    }

    #[test]
    fn a_regular_face_barely_moves() {
        let f = frontal_face(256.0, 256.0, 100.0);
        let out = rearrange(&f);
        let worst = f
            .iter()
            .zip(&out)
            .map(|(a, b)| a.distance(*b))
            .fold(0.0, f32::max);
        assert!(worst < 6.0, "{worst}");
        for i in [0, 16, 36, 39, 45, 48, 54, 60, 64, 33] {
            assert_eq!(out[i], f[i], "end point {i}");
        }
    }
}
