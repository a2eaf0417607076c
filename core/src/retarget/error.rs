//! Why a retargeting request was refused.

use crate::landmarks::LandmarkError;

/// What is wrong with the inputs or the options of a retargeting request.
#[derive(Debug, thiserror::Error)]
pub enum RetargetError {
    /// The character's or the driver's landmarks failed validation (non-finite, far outside
    /// the image, empty track, bad frame rate).
    #[error(transparent)]
    Invalid(#[from] LandmarkError),
    /// A part has (nearly) coincident end points, so it has no size and no direction.
    #[error(
        "{whose}: the {part}'s end points {first} and {last} coincide, so the part has no size \
         (fix the landmarks{hint})"
    )]
    DegeneratePart {
        /// "character" or "driving frame N".
        whose: String,
        /// Name of the part.
        part: &'static str,
        /// Index of the part's first end point.
        first: usize,
        /// Index of the part's last end point.
        last: usize,
        /// Extra advice (e.g. to pick another reference frame), starting with ", " or empty.
        hint: &'static str,
    },
    /// The requested reference frame does not exist.
    #[error(
        "reference frame {index} is out of range: the driving track has {len} frames (0..{len})"
    )]
    ReferenceOutOfRange {
        /// Requested frame.
        index: usize,
        /// Number of frames in the track.
        len: usize,
    },
    /// A reference choice could not be parsed.
    #[error("bad reference \"{text}\": expected \"auto\", \"first\" or a frame number")]
    BadReference {
        /// The offending text.
        text: String,
    },
    /// No frame of the driving track can serve as the reference.
    #[error("no usable reference frame: every driving frame has a collapsed face part")]
    NoUsableReference,
    /// A gain is outside [0, 2] or not a number.
    #[error("gain {control}={value} is outside 0..2")]
    GainOutOfRange {
        /// Name of the control.
        control: &'static str,
        /// The rejected value.
        value: f32,
    },
    /// A `name=value` gain list could not be parsed.
    #[error("bad gain \"{text}\": {reason}")]
    BadGain {
        /// The offending item.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
}
