//! Motion curves for the plot (mouth and eye opening, head roll and translation over time)
//! and temporal smoothing of a landmark track.

use faceshot_core::landmarks::{Landmarks, Point, Track};

/// Mean gap between facing points over the distance between the two corners.
fn gap_ratio(p: &Landmarks, (a, b): (usize, usize), pairs: &[(usize, usize)]) -> f32 {
    let width = p[a].distance(p[b]);
    let gap = pairs.iter().map(|&(i, j)| p[i].distance(p[j])).sum::<f32>() / pairs.len() as f32;
    if width > 0.0 { gap / width } else { 0.0 }
}

/// Mouth opening: inner-lip gap over inner-mouth width (≈0 closed, ≈0.5 wide open).
pub fn mouth_open(p: &Landmarks) -> f32 {
    gap_ratio(p, (60, 64), &[(61, 67), (62, 66), (63, 65)])
}

/// Right eye (image left) opening: lid gap over eye width (≈0.3 open, 0 shut).
pub fn right_eye_open(p: &Landmarks) -> f32 {
    gap_ratio(p, (36, 39), &[(37, 41), (38, 40)])
}

/// Left eye (image right) opening.
pub fn left_eye_open(p: &Landmarks) -> f32 {
    gap_ratio(p, (42, 45), &[(43, 47), (44, 46)])
}

/// Head roll in degrees: angle of the line from jaw point 0 to jaw point 16.
pub fn roll_degrees(p: &Landmarks) -> f32 {
    let d = p[16] - p[0];
    d.y.atan2(d.x).to_degrees()
}

fn centre(p: &Landmarks) -> Point {
    p.iter().fold(Point::default(), |a, &q| a + q) * (1.0 / p.len() as f32)
}

/// The curves drawn in the motion plot, as (frame, value) pairs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MotionCurves {
    /// Mouth opening ratio.
    pub mouth: Vec<[f64; 2]>,
    /// Right-eye opening ratio.
    pub right_eye: Vec<[f64; 2]>,
    /// Left-eye opening ratio.
    pub left_eye: Vec<[f64; 2]>,
    /// Roll in degrees / 45 (so ±45° spans ±1 like the ratios).
    pub roll: Vec<[f64; 2]>,
    /// Horizontal face-centre offset from frame 0, in face widths.
    pub shift_x: Vec<[f64; 2]>,
    /// Vertical face-centre offset from frame 0, in face widths.
    pub shift_y: Vec<[f64; 2]>,
}

impl MotionCurves {
    /// Curves for every frame of `track`.
    pub fn of(track: &Track) -> Self {
        let mut c = MotionCurves::default();
        let Some(first) = track.frames.first() else {
            return c;
        };
        let c0 = centre(first);
        let width = first[0].distance(first[16]).max(1e-3);
        for (t, p) in track.frames.iter().enumerate() {
            let x = t as f64;
            c.mouth.push([x, f64::from(mouth_open(p))]);
            c.right_eye.push([x, f64::from(right_eye_open(p))]);
            c.left_eye.push([x, f64::from(left_eye_open(p))]);
            c.roll.push([x, f64::from(roll_degrees(p) / 45.0)]);
            let d = centre(p) - c0;
            c.shift_x.push([x, f64::from(d.x / width)]);
            c.shift_y.push([x, f64::from(d.y / width)]);
        }
        c
    }
}

/// Zero-phase temporal smoothing: a forward and a backward one-pole low-pass over every
/// coordinate, the pupils' included. `strength` 0 returns the track unchanged; 1 is the strongest (a time constant of
/// about a quarter second at 30 fps).
pub fn smooth_track(track: &Track, strength: f32) -> Track {
    let s = if strength.is_finite() {
        strength.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mut out = track.clone();
    if s <= 0.0 || track.frames.len() < 3 {
        return out;
    }
    // Pole from the time constant: tau = s * 0.25 s.
    let tau = f64::from(s) * 0.25;
    let dt = 1.0 / track.fps.max(1.0);
    let a = (-dt / tau).exp() as f32;
    let n = out.frames.len();
    for i in 0..out.frames[0].len() {
        let mut series: Vec<Point> = out.frames.iter().map(|f| f[i]).collect();
        smooth_series(&mut series, a);
        for (f, p) in out.frames.iter_mut().zip(series) {
            f[i] = p;
        }
    }
    if let Some(pupils) = out.pupils.as_mut().filter(|p| p.len() == n) {
        for k in 0..2 {
            let mut series: Vec<Point> = pupils.iter().map(|f| f[k]).collect();
            smooth_series(&mut series, a);
            for (f, p) in pupils.iter_mut().zip(series) {
                f[k] = p;
            }
        }
    }
    out
}

/// One forward and one backward pass of the one-pole low-pass with pole `a` over `series`.
fn smooth_series(series: &mut [Point], a: f32) {
    let Some(&first) = series.first() else {
        return;
    };
    let mut prev = first;
    for cur in series.iter_mut().skip(1) {
        prev = *cur + (prev - *cur) * a;
        *cur = prev;
    }
    let mut next = series[series.len() - 1];
    for cur in series.iter_mut().rev().skip(1) {
        next = *cur + (next - *cur) * a;
        *cur = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faceshot_core::landmarks::synthetic::{Expression, posed_face};

    fn track_of(exprs: &[Expression]) -> Track {
        let mut t = Track::new(30.0, None);
        for e in exprs {
            t.push(posed_face(200.0, 200.0, 80.0, e), true);
        }
        t
    }

    #[test]
    fn curves_follow_the_synthetic_expressions() {
        let t = track_of(&[
            Expression::default(),
            Expression {
                mouth_open: 1.0,
                right_eye_open: 0.0,
                roll: 0.3,
                ..Default::default()
            },
        ]);
        let c = MotionCurves::of(&t);
        assert_eq!(c.mouth.len(), 2);
        assert!(c.mouth[1][1] > c.mouth[0][1] + 0.3);
        assert!(c.right_eye[1][1] < 0.05 && c.left_eye[1][1] > 0.25);
        assert!((c.roll[1][1] * 45.0 - 0.3f64.to_degrees()).abs() < 0.5);
        assert!(c.shift_x[0][1].abs() < 1e-9);
    }

    #[test]
    fn smoothing_reduces_jitter_and_zero_is_identity() {
        let mut t = Track::new(30.0, None);
        for k in 0..60 {
            let jitter = if k % 2 == 0 { 3.0 } else { -3.0 };
            t.push(
                posed_face(200.0 + jitter, 200.0, 80.0, &Expression::default()),
                true,
            );
        }
        assert_eq!(smooth_track(&t, 0.0), t);
        let s = smooth_track(&t, 0.5);
        let swing = |tr: &Track| {
            (10..50)
                .map(|k| (tr.frames[k][30].x - tr.frames[k + 1][30].x).abs())
                .fold(0.0f32, f32::max)
        };
        assert!(
            swing(&s) < swing(&t) * 0.5,
            "{} vs {}",
            swing(&s),
            swing(&t)
        );
        // The mean position is kept.
        let mean = |tr: &Track| tr.frames.iter().map(|f| f[30].x).sum::<f32>() / 60.0;
        assert!((mean(&s) - mean(&t)).abs() < 0.5);
    }
}
