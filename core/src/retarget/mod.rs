//! Coordinate-based landmark retargeting (the paper's CLR): turn a driver's landmark motion
//! into the character's landmark motion.
//!
//! Every facial part gets a local frame from its end points; the jaw's frame carries the head
//! motion, the other parts' frames and local coordinates carry the expression, transferred in
//! proportion to the character's own part sizes and kept inside its face. See
//! [`Retargeter`] for the method and [`retarget`] for the one-call entry.
//!
//! Deliberate departures from the official implementation: the head's translation is scaled
//! by the ratio of face sizes (the official code moves the character by the driver's raw
//! pixels) and the head's scale change is transferred; the boundary clamp compares distances
//! in face-relative units, measured along the head axes to the jaw line; local shapes move in
//! units of the part's width (eyelids: of the eye's opening) instead of per-point coordinate
//! ratios with special cases and outlier smoothing; the nostrils use their own frame.

mod boundary;
mod error;
mod frame;
mod gaze;
pub mod measure;
mod options;
mod parts;
mod reference;
mod transfer;

#[cfg(test)]
mod tests;

pub use error::RetargetError;
pub use frame::PartFrame;
pub use options::{Control, Gains, Reference, RetargetOptions};
pub use reference::{choose_reference, neutrality_scores};
pub use transfer::{MIN_EYE_OPENING, RetargetedFrame, Retargeter};

use crate::landmarks::{Face, Track};

/// The character's landmark track driven by `driving`.
///
/// The output has the driving track's length and frame rate and the character's image size.
/// At the reference frame the character keeps its own landmarks. A driving frame that cannot
/// be used (a part collapsed to a point) repeats the previous output frame (the character's
/// own landmarks if it is the first) and is marked not found; other frames copy the driver's
/// found flag. When the character's face has pupils, the output has pupils too, following the
/// driver's (or staying put in the eyes when the driving track has none).
pub fn retarget(
    character: &Face,
    driving: &Track,
    opts: &RetargetOptions,
) -> Result<Track, RetargetError> {
    opts.gains.validate()?;
    character.validate("character")?;
    driving.validate("driving track")?;
    let reference = choose_reference(driving, opts.reference)?;
    let label = format!("driving frame {reference} (the reference)");
    let driver_pupils = |t: usize| driving.pupils_at(t);
    let retargeter = Retargeter::with_label(
        character,
        &driving.frames[reference],
        driver_pupils(reference),
        &label,
        opts,
    )?;
    let mut out = Track::new(driving.fps, character.image);
    let mut pupils = character.pupils.map(|_| Vec::with_capacity(driving.len()));
    let mut last = RetargetedFrame {
        points: character.points,
        pupils: character.pupils,
    };
    let mut held = 0usize;
    for (t, (frame, &found)) in driving.frames.iter().zip(&driving.found).enumerate() {
        let found = match retargeter.frame_with_pupils(frame, driver_pupils(t)) {
            Some(now) => {
                last = now;
                found
            }
            None => {
                held += 1;
                false
            }
        };
        out.push(last.points, found);
        if let (Some(all), Some(now)) = (pupils.as_mut(), last.pupils) {
            all.push(now);
        }
    }
    out.pupils = pupils;
    if held > 0 {
        tracing::warn!("{held} driving frame(s) had a collapsed face part; held the previous pose");
    }
    tracing::debug!(reference, frames = out.len(), "retargeted");
    Ok(out)
}
