//! Regions of interest for the face mesh and the eye model, computed as MediaPipe's graphs do
//! (`DetectionsToRects` + `RectTransformation`: rotation from two reference points, square on
//! the long side, scaled), in image pixels.

use crate::nn::Detection;
use crate::nn::crop::RotatedRect;

/// Face-mesh ROI scale around the face box (MediaPipe: 1.5).
pub const FACE_ROI_SCALE: f32 = 1.5;
/// Eye ROI scale around the eye corners (MediaPipe: 2.3).
pub const EYE_ROI_SCALE: f32 = 2.3;

/// Mesh vertices at the image-left eye's outer and inner corners (MediaPipe "left eye").
pub const EYE_A_CORNERS: (usize, usize) = (33, 133);
/// Mesh vertices at the image-right eye's inner and outer corners.
pub const EYE_B_CORNERS: (usize, usize) = (362, 263);
/// Mesh vertices whose line gives the face roll (outer eye corners).
pub const ROLL_VERTICES: (usize, usize) = (33, 263);

/// Angle that rotates the vector `from → to` onto the +x axis (MediaPipe's
/// `target_angle − atan2(−dy, dx)` with a target of 0), wrapped to (−π, π].
pub fn roll_angle(from: [f32; 2], to: [f32; 2]) -> f32 {
    let a = -(-(to[1] - from[1])).atan2(to[0] - from[0]);
    wrap_angle(a)
}

/// Wraps an angle to (−π, π].
pub fn wrap_angle(a: f32) -> f32 {
    let tau = std::f32::consts::TAU;
    let mut a = a % tau;
    if a > std::f32::consts::PI {
        a -= tau;
    } else if a <= -std::f32::consts::PI {
        a += tau;
    }
    a
}

/// A square rect of side `scale · max(width, height)` centred on the box, rotated by `angle`.
fn square(cx: f32, cy: f32, w: f32, h: f32, angle: f32, scale: f32) -> RotatedRect {
    let side = w.max(h) * scale;
    RotatedRect {
        cx,
        cy,
        width: side,
        height: side,
        angle,
    }
}

/// The face-mesh ROI for a detection (pixels): box centre, rotation from the two eye
/// keypoints, square on the long side, ×1.5.
pub fn face_roi_from_detection(d: &Detection) -> RotatedRect {
    let angle = roll_angle(d.keypoints[0], d.keypoints[1]);
    square(
        d.xmin + d.width / 2.0,
        d.ymin + d.height / 2.0,
        d.width,
        d.height,
        angle,
        FACE_ROI_SCALE,
    )
}

/// The face-mesh ROI for the next frame from this frame's mesh (pixels): the axis-aligned box of
/// all points, rotation from the outer eye corners, square on the long side, ×1.5.
pub fn face_roi_from_mesh(mesh: &[[f32; 3]]) -> RotatedRect {
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for p in mesh {
        x0 = x0.min(p[0]);
        y0 = y0.min(p[1]);
        x1 = x1.max(p[0]);
        y1 = y1.max(p[1]);
    }
    let a = mesh[ROLL_VERTICES.0];
    let b = mesh[ROLL_VERTICES.1];
    let angle = roll_angle([a[0], a[1]], [b[0], b[1]]);
    square(
        (x0 + x1) / 2.0,
        (y0 + y1) / 2.0,
        x1 - x0,
        y1 - y0,
        angle,
        FACE_ROI_SCALE,
    )
}

/// The eye-model ROI from two eye corners given left-to-right in the image: centre of their
/// box, rotation of the corner line, square on the long side of the box, ×2.3.
pub fn eye_roi(left: [f32; 3], right: [f32; 3]) -> RotatedRect {
    let angle = roll_angle([left[0], left[1]], [right[0], right[1]]);
    square(
        (left[0] + right[0]) / 2.0,
        (left[1] + right[1]) / 2.0,
        (right[0] - left[0]).abs(),
        (right[1] - left[1]).abs(),
        angle,
        EYE_ROI_SCALE,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roll_is_zero_for_level_eyes_and_positive_when_the_right_eye_is_lower() {
        assert_eq!(roll_angle([0.0, 0.0], [10.0, 0.0]), 0.0);
        let a = roll_angle([0.0, 0.0], [10.0, 10.0]);
        assert!((a - std::f32::consts::FRAC_PI_4).abs() < 1e-6);
        // A crop rotated by that angle has its x axis along the eye line.
        let r = RotatedRect {
            cx: 0.0,
            cy: 0.0,
            width: 2.0,
            height: 2.0,
            angle: a,
        };
        let (x, y) = r.to_image(2.0, 1.0, 2.0);
        assert!((x - y).abs() < 1e-6 && x > 0.0);
    }

    #[test]
    fn wrap_keeps_angles_in_range() {
        assert!((wrap_angle(3.5 * std::f32::consts::PI) + 0.5 * std::f32::consts::PI).abs() < 1e-5);
        assert_eq!(wrap_angle(0.25), 0.25);
    }

    #[test]
    fn eye_roi_is_square_and_scaled() {
        let r = eye_roi([10.0, 20.0, 0.0], [30.0, 20.0, 0.0]);
        assert_eq!((r.cx, r.cy), (20.0, 20.0));
        assert!((r.width - 46.0).abs() < 1e-5 && r.width == r.height);
    }
}
