//! What can go wrong when preparing or running an animator.

use crate::landmarks::LandmarkError;

/// Largest character image side the animators accept, in pixels.
pub const MAX_SIDE: u32 = 2048;

/// Smallest character image side the animators accept, in pixels.
pub const MIN_SIDE: u32 = 8;

/// Errors from [`crate::animate`].
#[derive(Debug, thiserror::Error)]
pub enum AnimateError {
    /// The character image is larger than [`MAX_SIDE`] on a side.
    #[error(
        "the character image is {width}x{height} px; at most {MAX_SIDE} px per side is supported (scale it down first)"
    )]
    ImageTooLarge {
        /// Image width.
        width: u32,
        /// Image height.
        height: u32,
    },
    /// The character image is smaller than [`MIN_SIDE`] on a side.
    #[error(
        "the character image is {width}x{height} px; at least {MIN_SIDE} px per side is needed"
    )]
    ImageTooSmall {
        /// Image width.
        width: u32,
        /// Image height.
        height: u32,
    },
    /// Landmarks were made for an image of another size.
    #[error(
        "{what} belong to a {expected_width}x{expected_height} image, but the character image is {width}x{height}"
    )]
    SizeMismatch {
        /// Which landmarks ("the rest landmarks", "the track").
        what: String,
        /// Size recorded with the landmarks.
        expected_width: u32,
        /// Size recorded with the landmarks.
        expected_height: u32,
        /// Actual image width.
        width: u32,
        /// Actual image height.
        height: u32,
    },
    /// Landmarks that cannot drive an animation (not finite, far outside, collapsed).
    #[error(transparent)]
    Landmarks(#[from] LandmarkError),
    /// The output buffer handed to a renderer has the wrong size.
    #[error("output frame is {got_width}x{got_height}, the animator renders {width}x{height}")]
    OutputSize {
        /// Size of the buffer passed in.
        got_width: u32,
        /// Size of the buffer passed in.
        got_height: u32,
        /// Size the animator renders.
        width: u32,
        /// Size the animator renders.
        height: u32,
    },
}
