//! Choosing the driver's reference (neutral) frame.

use super::error::RetargetError;
use super::frame::wrap_angle;
use super::measure::{
    Eye, eye_open_ratio, mouth_open_ratio, nose_length_ratio, roll, yaw_asymmetry,
};
use super::options::Reference;
use super::parts::collapsed_arc;
use crate::landmarks::Track;

/// The frame index `reference` designates in `track`.
///
/// [`Reference::Auto`] takes the frame with the lowest [`neutrality_scores`] (the earliest on
/// ties); frames without a detected face or with a collapsed part are never chosen.
pub fn choose_reference(track: &Track, reference: Reference) -> Result<usize, RetargetError> {
    let len = track.len();
    match reference {
        Reference::First if len > 0 => Ok(0),
        Reference::First => Err(RetargetError::NoUsableReference),
        Reference::Frame(index) if index < len => Ok(index),
        Reference::Frame(index) => Err(RetargetError::ReferenceOutOfRange { index, len }),
        Reference::Auto => neutrality_scores(track)
            .into_iter()
            .enumerate()
            .filter_map(|(t, s)| s.map(|s| (t, s)))
            .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
            .map(|(t, _)| t)
            .ok_or(RetargetError::NoUsableReference),
    }
}

/// How far each frame is from a neutral face (lower is more neutral); `None` for frames that
/// cannot be a reference (face not found, or a collapsed part).
///
/// The score adds: twice the mouth-open ratio; how far the eyes are below their usual
/// opening (the track's 75th percentile), as a fraction of it; the yaw asymmetry; the roll away
/// from the track's median roll (radians); and the pitch cue's log-distance from its median.
/// Medians make the choice independent of a tilted camera or a person's face shape.
pub fn neutrality_scores(track: &Track) -> Vec<Option<f32>> {
    let usable: Vec<bool> = track
        .frames
        .iter()
        .zip(&track.found)
        .map(|(f, &found)| found && collapsed_arc(f).is_none())
        .collect();
    let pick = |f: &dyn Fn(usize) -> f32| -> Vec<f32> {
        (0..track.len()).filter(|&t| usable[t]).map(f).collect()
    };
    let eyes = |t: usize| {
        let p = &track.frames[t];
        0.5 * (eye_open_ratio(p, Eye::Right) + eye_open_ratio(p, Eye::Left))
    };
    let eye_usual = percentile(pick(&eyes), 0.75);
    let roll_median = percentile(pick(&|t| roll(&track.frames[t])), 0.5);
    let nose_median = percentile(pick(&|t| nose_length_ratio(&track.frames[t])), 0.5);
    (0..track.len())
        .map(|t| {
            if !usable[t] {
                return None;
            }
            let p = &track.frames[t];
            let mouth = mouth_open_ratio(p).max(0.0);
            let eyes_shut = if eye_usual > 0.0 {
                ((eye_usual - eyes(t)) / eye_usual).max(0.0)
            } else {
                0.0
            };
            let yaw = yaw_asymmetry(p).abs();
            let tilt = wrap_angle(roll(p) - roll_median).abs();
            let nose = nose_length_ratio(p);
            let pitch = if nose > 0.0 && nose_median > 0.0 {
                (nose / nose_median).ln().abs()
            } else {
                0.0
            };
            Some(2.0 * mouth + eyes_shut + yaw + tilt + pitch)
        })
        .collect()
}

/// The `q`-quantile (nearest rank) of some values; 0 when there are none.
fn percentile(mut v: Vec<f32>, q: f32) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f32::total_cmp);
    let i = ((v.len() - 1) as f32 * q).round() as usize;
    v[i.min(v.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landmarks::synthetic::{Expression, posed_face};

    fn track(exprs: &[Expression]) -> Track {
        let mut t = Track::new(25.0, None);
        for e in exprs {
            t.push(posed_face(200.0, 200.0, 80.0, e), true);
        }
        t
    }

    #[test]
    fn auto_prefers_the_neutral_frame() {
        let open = Expression {
            mouth_open: 0.8,
            ..Default::default()
        };
        let blink = Expression {
            right_eye_open: 0.1,
            left_eye_open: 0.2,
            ..Default::default()
        };
        let tilted = Expression {
            roll: 0.4,
            ..Default::default()
        };
        let t = track(&[open, blink, tilted, Expression::default(), open, tilted]);
        assert_eq!(choose_reference(&t, Reference::Auto).unwrap(), 3);
        assert_eq!(choose_reference(&t, Reference::First).unwrap(), 0);
        assert_eq!(choose_reference(&t, Reference::Frame(4)).unwrap(), 4);
        let err = choose_reference(&t, Reference::Frame(6)).unwrap_err();
        assert!(err.to_string().contains("6 frames"), "{err}");
    }

    #[test]
    fn auto_skips_frames_without_a_face() {
        let mut t = track(&[
            Expression::default(),
            Expression {
                mouth_open: 0.3,
                ..Default::default()
            },
        ]);
        t.found[0] = false;
        assert_eq!(choose_reference(&t, Reference::Auto).unwrap(), 1);
        t.found[1] = false;
        assert!(matches!(
            choose_reference(&t, Reference::Auto),
            Err(RetargetError::NoUsableReference)
        ));
    }
}
