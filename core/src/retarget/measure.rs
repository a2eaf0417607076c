//! Scale- and pose-free measurements of a face's expression, used to pick a neutral frame and
//! to check that expressions transfer.

use crate::landmarks::{Landmarks, Point};

/// Which eye (the subject's right eye is on the image's left).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eye {
    /// Points 36–41.
    Right,
    /// Points 42–47.
    Left,
}

/// Eye-open ratio: mean gap between facing lid points over the eye's width (corner to corner).
/// About 0.3 for an open human eye, 0 for a closed one.
pub fn eye_open_ratio(p: &Landmarks, eye: Eye) -> f32 {
    let (corners, pairs) = match eye {
        Eye::Right => ((36, 39), [(37, 41), (38, 40)]),
        Eye::Left => ((42, 45), [(43, 47), (44, 46)]),
    };
    gap_ratio(p, corners, &pairs)
}

/// Mouth-open ratio: mean gap between facing inner-lip points over the inner mouth's width.
/// Near 0 with the lips together, about 0.5 wide open.
pub fn mouth_open_ratio(p: &Landmarks) -> f32 {
    gap_ratio(p, (60, 64), &[(61, 67), (62, 66), (63, 65)])
}

fn gap_ratio(p: &Landmarks, (a, b): (usize, usize), pairs: &[(usize, usize)]) -> f32 {
    let width = p[a].distance(p[b]);
    let gap: f32 =
        pairs.iter().map(|&(i, j)| p[i].distance(p[j])).sum::<f32>() / pairs.len() as f32;
    if width > 0.0 { gap / width } else { 0.0 }
}

/// Yaw cue: how much closer the nose tip is to one end of the jaw than to the other, over the
/// jaw's width (0 for a frontal face).
pub fn yaw_asymmetry(p: &Landmarks) -> f32 {
    let width = p[0].distance(p[16]);
    if width > 0.0 {
        (p[30].distance(p[0]) - p[30].distance(p[16])) / width
    } else {
        0.0
    }
}

/// Roll: angle of the line from jaw point 0 to jaw point 16, in radians.
pub fn roll(p: &Landmarks) -> f32 {
    let d: Point = p[16] - p[0];
    d.y.atan2(d.x)
}

/// Pitch cue: nose-bridge length over jaw width (shrinks as the head tips up or down).
pub fn nose_length_ratio(p: &Landmarks) -> f32 {
    let width = p[0].distance(p[16]);
    if width > 0.0 {
        p[27].distance(p[30]) / width
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landmarks::synthetic::{Expression, posed_face};

    #[test]
    fn ratios_follow_the_synthetic_expression() {
        let neutral = posed_face(100.0, 100.0, 50.0, &Expression::default());
        let blink = posed_face(
            100.0,
            100.0,
            50.0,
            &Expression {
                right_eye_open: 0.0,
                mouth_open: 1.0,
                ..Default::default()
            },
        );
        assert!((eye_open_ratio(&neutral, Eye::Right) - 1.0 / 3.0).abs() < 1e-4);
        assert!(eye_open_ratio(&blink, Eye::Right) < 0.02);
        assert!((eye_open_ratio(&blink, Eye::Left) - 1.0 / 3.0).abs() < 1e-4);
        assert!(mouth_open_ratio(&neutral) < 0.05);
        assert!(mouth_open_ratio(&blink) > 0.5);
        assert!(yaw_asymmetry(&neutral).abs() < 1e-5);
        assert!(roll(&neutral).abs() < 1e-6);
    }
}
