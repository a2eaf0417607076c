//! From requested landmarks to the control targets of the warp.
//!
//! Two parts of a face must not be driven by warping alone:
//! - **Eyelids.** Pulling the upper-lid landmarks down would squash the iris into a line. A
//!   closing lid is therefore *pinned*: the eye moves rigidly with its corners (a similarity),
//!   and the lid is drawn over it later ([`super::eyes`]). Lids that open wider than at rest are
//!   still warped.
//! - **Inner lips.** Hand-placed closed mouths often put the upper and lower inner lip on the
//!   same pixel; a map that must send one point to two places cannot be injective. Both the
//!   rest and the target inner lips are kept at least a hair apart (see [`min_lip_gap`]).
//!
//! The head's overall motion is a least-squares similarity over points that expressions barely
//! move; the fold guard scales that part and the residual (expression) part separately.

use super::geometry::{Similarity, unit, up_normal};
use crate::landmarks::{Landmarks, Point};

/// Landmarks that follow the skull rather than the expression: the jaw near the ears (the
/// lower jaw moves with the mouth), nose, eye corners.
pub(crate) const STABLE: [usize; 19] = [
    0, 1, 2, 14, 15, 16, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45,
];

/// The eyes as (corner a, upper inner 1, upper inner 2, corner b, lower inner 2, lower inner 1).
pub(crate) const EYES: [[usize; 6]; 2] = crate::landmarks::EYE_RINGS;

/// Pairs of facing inner-lip points (upper, lower).
pub(crate) const LIP_PAIRS: [(usize, usize); 3] = [(61, 67), (62, 66), (63, 65)];

/// Smallest distance kept between facing inner-lip points: 6 % of the mouth width, at least
/// one pixel. The strip this keeps between closed lips is what an opening mouth stretches; the
/// wider it is, the gentler the squash the map must make across an open mouth.
pub(crate) fn min_lip_gap(points: &Landmarks) -> f32 {
    (0.06 * points[60].distance(points[64])).max(1.0)
}

/// The head similarity from `rest` to `target` (identity when it cannot be fitted).
pub(crate) fn head_motion(rest: &Landmarks, target: &Landmarks) -> Similarity {
    let src: Vec<Point> = STABLE.iter().map(|&i| rest[i]).collect();
    let dst: Vec<Point> = STABLE.iter().map(|&i| target[i]).collect();
    Similarity::fit(&src, &dst).unwrap_or(Similarity::IDENTITY)
}

/// Push facing inner-lip points apart to at least [`min_lip_gap`] (symmetrically).
pub(crate) fn open_lips(points: &mut Landmarks) {
    let Some(axis) = unit(points[64] - points[60]) else {
        return;
    };
    let mut n = up_normal(axis);
    // "Up" is the side of the outer upper lip.
    let upper_mid = points[51];
    let lower_mid = points[57];
    if (upper_mid - lower_mid).dot(n) < 0.0 {
        n = n * -1.0;
    }
    let g = min_lip_gap(points);
    for (u, l) in LIP_PAIRS {
        let gap = (points[u] - points[l]).dot(n);
        if gap < g {
            let push = (g - gap) * 0.5;
            points[u] = points[u] + n * push;
            points[l] = points[l] - n * push;
        }
    }
}

/// Extra control pairs `(target, rest)` inside the mouth opening, between facing inner-lip
/// points. Without them the spline, free between the lips, concentrates the whole squash of an
/// opening mouth in a thin band (a near-zero or negative Jacobian). With them the opening maps
/// smoothly onto the rest gap: evenly spaced in the opening, eased in the rest gap so that the
/// squash is milder next to the lips (where the spline has to turn from the lips' own motion)
/// and strongest in the middle, which the mouth synthesis paints over. None for gaps too thin
/// to hold them apart.
pub(crate) fn mouth_interior(rest: &Landmarks, target: &Landmarks) -> Vec<(Point, Point)> {
    const EASE: f32 = 0.5;
    let mut out = Vec::new();
    for (u, l) in LIP_PAIRS {
        let gap = target[u].distance(target[l]);
        let rest_gap = rest[u].distance(rest[l]);
        let count = ((gap / 2.5).floor() as usize).min(5);
        // Ease only an opening beyond the rest gap; at rest the points sit where the identity
        // puts them.
        let ease = EASE * ((gap - rest_gap) / gap.max(1e-3)).clamp(0.0, 1.0);
        for k in 1..=count {
            let t = k as f32 / (count + 1) as f32;
            let tau = std::f32::consts::TAU;
            let r = t + ease * (tau * t).sin() / tau;
            out.push((target[u].lerp(target[l], t), rest[u].lerp(rest[l], r)));
        }
    }
    out
}

/// Where eye `eye`'s rest lids go when carried rigidly: along the corner line they keep their
/// place between the target corners; across it their rest height times `scale` (the head's
/// scale — not the corner distance, so a widened or squashed eye keeps a head-sized opening).
/// Returns the carried lid points `[u1, u2, l2, l1]` and the target's unit normal towards the
/// upper lid; `None` for collapsed corners.
pub(crate) fn carried_lids(
    rest: &Landmarks,
    target: &Landmarks,
    eye: [usize; 6],
    scale: f32,
) -> Option<([Point; 4], Point)> {
    let [a, u1, u2, b, l2, l1] = eye;
    let rest_axis = unit(rest[b] - rest[a])?;
    let axis = unit(target[b] - target[a])?;
    let (rest_len, len) = (rest[a].distance(rest[b]), target[a].distance(target[b]));
    let mut rest_n = up_normal(rest_axis);
    let up = (rest[u1] + rest[u2]) - (rest[l1] + rest[l2]);
    let flip = if up.dot(rest_n) < 0.0 { -1.0 } else { 1.0 };
    rest_n = rest_n * flip;
    let n = up_normal(axis) * flip;
    let carry = |i: usize| {
        let d = rest[i] - rest[a];
        let s = d.dot(rest_axis) / rest_len;
        let v = d.dot(rest_n);
        target[a] + axis * (s * len) + n * (v * scale)
    };
    Some(([carry(u1), carry(u2), carry(l2), carry(l1)], n))
}

/// Replace closing lids by their rigidly carried rest positions (see the module docs).
pub(crate) fn pin_lids(rest: &Landmarks, target: &mut Landmarks, scale: f32) {
    for eye in EYES {
        let Some((carried, n)) = carried_lids(rest, target, eye, scale) else {
            continue;
        };
        let [_, u1, u2, _, l2, l1] = eye;
        for (k, i) in [u1, u2, l2, l1].into_iter().enumerate() {
            let q = carried[k];
            let h = (target[i] - q).dot(n);
            // Upper lids may rise (warped), not fall; lower lids may fall, not rise.
            let h = if k < 2 { h.max(0.0) } else { h.min(0.0) };
            target[i] = q + n * h;
        }
    }
}

/// The warp's control targets for the requested (already motion-limited) landmarks.
///
/// `head_scale` is the scale of the head's similarity motion (1 for none).
pub(crate) fn effective(
    rest: &Landmarks,
    requested: &Landmarks,
    pin: bool,
    head_scale: f32,
) -> Landmarks {
    let mut out = *requested;
    if pin {
        pin_lids(rest, &mut out, head_scale);
    }
    open_lips(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landmarks::synthetic::{Expression, frontal_face, posed_face};

    #[test]
    fn rest_is_its_own_effective_target() {
        let rest = frontal_face(100.0, 100.0, 60.0);
        let mut rest_eff = rest;
        open_lips(&mut rest_eff);
        let eff = effective(&rest_eff, &rest_eff, true, 1.0);
        for i in 0..68 {
            assert!(eff[i].distance(rest_eff[i]) < 1e-4, "point {i}");
        }
    }

    #[test]
    fn a_blink_pins_the_upper_lid_but_an_eye_roll_moves_it() {
        let rest = frontal_face(100.0, 100.0, 60.0);
        let shut = posed_face(
            110.0,
            95.0,
            60.0,
            &Expression {
                right_eye_open: 0.0,
                roll: 0.2,
                ..Default::default()
            },
        );
        let eff = effective(&rest, &shut, true, 1.0);
        // The shut right eye keeps its rest opening, moved and turned with the head.
        let gap = |p: &Landmarks| p[37].distance(p[41]);
        assert!(
            (gap(&eff) - gap(&rest)).abs() < 0.1,
            "{} vs {}",
            gap(&eff),
            gap(&rest)
        );
        assert!(gap(&shut) < 0.3 * gap(&rest));
        // The open left eye is followed exactly.
        for i in 42..48 {
            assert!(eff[i].distance(shut[i]) < 1e-3);
        }
    }

    #[test]
    fn touching_inner_lips_are_pulled_apart() {
        let mut face = frontal_face(100.0, 100.0, 60.0);
        for (u, l) in LIP_PAIRS {
            face[l] = face[u];
        }
        open_lips(&mut face);
        let g = min_lip_gap(&face);
        for (u, l) in LIP_PAIRS {
            assert!(face[l].y - face[u].y >= g - 1e-3);
        }
    }
}
