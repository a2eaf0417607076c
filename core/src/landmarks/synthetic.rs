//! A parametric 68-point face, used to make fixtures, samples and test data.
//!
//! The shape is a hand-built frontal mean face in normalised units (half face width = 1,
//! eye line slightly above the centre), posed with an [`Expression`].

use super::face::Landmarks;
use super::layout::{EYE_RINGS, LANDMARK_COUNT};
use super::point::Point;

/// Expression and pose of a synthetic face.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Expression {
    /// Mouth opening, 0 (closed) to 1 (wide open).
    pub mouth_open: f32,
    /// Right eye opening, 0 (shut) to 1 (open).
    pub right_eye_open: f32,
    /// Left eye opening, 0 (shut) to 1 (open).
    pub left_eye_open: f32,
    /// Brow raise, -1 (frown) to 1 (raised).
    pub brow_raise: f32,
    /// Mouth width change, -1 (pucker) to 1 (wide smile).
    pub smile: f32,
    /// In-plane head rotation in radians (positive turns clockwise on screen).
    pub roll: f32,
}

impl Default for Expression {
    fn default() -> Self {
        Self {
            mouth_open: 0.0,
            right_eye_open: 1.0,
            left_eye_open: 1.0,
            brow_raise: 0.0,
            smile: 0.0,
            roll: 0.0,
        }
    }
}

/// The neutral shape in normalised units (x right, y down, origin at the face centre).
fn neutral() -> [(f32, f32); LANDMARK_COUNT] {
    let mut p = [(0.0f32, 0.0f32); LANDMARK_COUNT];
    for (k, q) in p.iter_mut().take(17).enumerate() {
        let t = k as f32 / 16.0;
        let a = std::f32::consts::PI * t;
        *q = (-a.cos() * 0.95, -0.1 + a.sin() * 1.0);
    }
    for k in 0..5 {
        let s = k as f32 / 4.0;
        let arch = 0.08 * (std::f32::consts::PI * s).sin();
        p[17 + k] = (-0.75 + 0.6 * s, -0.45 - arch);
        p[26 - k] = (0.75 - 0.6 * s, -0.45 - arch);
    }
    for k in 0..4 {
        p[27 + k] = (0.0, -0.3 + 0.15 * k as f32);
    }
    let nostrils = [
        (-0.2, 0.25),
        (-0.1, 0.27),
        (0.0, 0.28),
        (0.1, 0.27),
        (0.2, 0.25),
    ];
    p[31..36].copy_from_slice(&nostrils);
    let right_eye = [
        (-0.55, -0.25),
        (-0.45, -0.3),
        (-0.35, -0.3),
        (-0.25, -0.25),
        (-0.35, -0.2),
        (-0.45, -0.2),
    ];
    p[36..42].copy_from_slice(&right_eye);
    let left_eye = [
        (0.25, -0.25),
        (0.35, -0.3),
        (0.45, -0.3),
        (0.55, -0.25),
        (0.45, -0.2),
        (0.35, -0.2),
    ];
    p[42..48].copy_from_slice(&left_eye);
    let outer = [
        (-0.35, 0.5),
        (-0.22, 0.44),
        (-0.1, 0.41),
        (0.0, 0.43),
        (0.1, 0.41),
        (0.22, 0.44),
        (0.35, 0.5),
        (0.22, 0.58),
        (0.1, 0.61),
        (0.0, 0.62),
        (-0.1, 0.61),
        (-0.22, 0.58),
    ];
    p[48..60].copy_from_slice(&outer);
    let inner = [
        (-0.3, 0.5),
        (-0.1, 0.485),
        (0.0, 0.49),
        (0.1, 0.485),
        (0.3, 0.5),
        (0.1, 0.515),
        (0.0, 0.51),
        (-0.1, 0.515),
    ];
    p[60..68].copy_from_slice(&inner);
    p
}

/// A frontal neutral face centred at `(cx, cy)` with half face width `scale` pixels.
pub fn frontal_face(cx: f32, cy: f32, scale: f32) -> Landmarks {
    posed_face(cx, cy, scale, &Expression::default())
}

/// A face centred at `(cx, cy)` with half face width `scale` pixels, posed by `expr`.
pub fn posed_face(cx: f32, cy: f32, scale: f32, expr: &Expression) -> Landmarks {
    let mut p = neutral();
    let open = expr.mouth_open.clamp(0.0, 1.0);
    let drop = 0.3 * open;
    // Lower lips and chin follow the jaw down; the lower jaw points move in proportion.
    for i in [55, 56, 57, 58, 59, 65, 66, 67] {
        p[i].1 += drop;
    }
    for (k, q) in p.iter_mut().take(17).enumerate() {
        let weight = (std::f32::consts::PI * k as f32 / 16.0).sin().powi(2);
        q.1 += 0.6 * drop * weight;
    }
    // Smile widens the mouth corners and lifts them.
    let smile = expr.smile.clamp(-1.0, 1.0);
    for (i, sign) in [(48, -1.0), (60, -1.0), (54, 1.0), (64, 1.0)] {
        p[i].0 += sign * 0.08 * smile;
        p[i].1 -= 0.04 * smile.max(0.0) - 0.5 * drop;
    }
    // Lids: upper lid moves towards the lower lid as the eye closes.
    for ([_, u1, u2, _, l2, l1], open) in EYE_RINGS
        .into_iter()
        .zip([expr.right_eye_open, expr.left_eye_open])
    {
        let closed = 1.0 - open.clamp(0.0, 1.0);
        for (u, l) in [(u1, l1), (u2, l2)] {
            p[u].1 += (p[l].1 - p[u].1) * closed * 0.95;
        }
    }
    let raise = expr.brow_raise.clamp(-1.0, 1.0) * 0.08;
    for q in &mut p[17..27] {
        q.1 -= raise;
    }
    let (s, c) = expr.roll.sin_cos();
    let mut out = [Point::default(); LANDMARK_COUNT];
    for (o, (x, y)) in out.iter_mut().zip(p) {
        let (rx, ry) = (c * x - s * y, s * x + c * y);
        *o = Point::new(cx + rx * scale, cy + ry * scale);
    }
    out
}

/// The frame of eye `k` (0: image-left, points 36–41) used for gaze in tests and demos: the
/// middle of its corners, the unit vector towards the far corner, the unit vector across (a
/// quarter turn clockwise on screen, "down" for an upright face), and half the corner distance.
fn eye_axes(points: &Landmarks, k: usize) -> (Point, Point, Point, f32) {
    let ring = EYE_RINGS[k.min(1)];
    let (a, b) = (points[ring[0]], points[ring[3]]);
    let half = (a.distance(b) * 0.5).max(1e-6);
    let x = (b - a) * (1.0 / (2.0 * half));
    (a.lerp(b, 0.5), x, Point::new(-x.y, x.x), half)
}

/// Pupils placed at `(across, down)` for each eye (image-left first), in half eye widths from
/// the middle of its corners.
pub fn pupils_at(points: &Landmarks, offsets: [(f32, f32); 2]) -> [Point; 2] {
    std::array::from_fn(|k| {
        let (mid, x, y, half) = eye_axes(points, k);
        mid + x * (offsets[k].0 * half) + y * (offsets[k].1 * half)
    })
}

/// Where `pupil` sits in eye `k`: `(across, down)` in half eye widths from the middle of its
/// corners (the inverse of [`pupils_at`]).
pub fn pupil_offset(points: &Landmarks, pupil: Point, k: usize) -> (f32, f32) {
    let (mid, x, y, half) = eye_axes(points, k);
    let d = pupil - mid;
    (d.dot(x) / half, d.dot(y) / half)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutral_face_is_symmetric() {
        let f = frontal_face(0.0, 0.0, 1.0);
        for i in 0..LANDMARK_COUNT {
            let m = f[crate::landmarks::MIRROR[i]];
            assert!((f[i].x + m.x).abs() < 1e-5, "x of {i}");
            assert!((f[i].y - m.y).abs() < 1e-5, "y of {i}");
        }
    }

    #[test]
    fn opening_the_mouth_separates_inner_lips() {
        let closed = frontal_face(0.0, 0.0, 100.0);
        let open = posed_face(
            0.0,
            0.0,
            100.0,
            &Expression {
                mouth_open: 1.0,
                ..Default::default()
            },
        );
        let gap = |f: &Landmarks| f[66].y - f[62].y;
        assert!(gap(&open) > gap(&closed) + 25.0);
    }

    #[test]
    fn pupils_placed_in_an_eye_read_back_the_same() {
        let face = posed_face(
            200.0,
            220.0,
            90.0,
            &Expression {
                roll: 0.3,
                ..Default::default()
            },
        );
        let offsets = [(0.3, -0.2), (-0.1, 0.25)];
        let pupils = pupils_at(&face, offsets);
        for (k, (across, down)) in offsets.into_iter().enumerate() {
            let (a, d) = pupil_offset(&face, pupils[k], k);
            assert!(
                (a - across).abs() < 1e-4 && (d - down).abs() < 1e-4,
                "{a} {d}"
            );
        }
        // Straight ahead is the middle of the corners.
        let mid = face[36].lerp(face[39], 0.5);
        assert!(pupils_at(&face, [(0.0, 0.0); 2])[0].distance(mid) < 1e-4);
    }
}
