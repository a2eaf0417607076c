//! Animation: render a character image for any frame of landmarks.
//!
//! An [`Animator`] is prepared once from the character's RGBA image and its rest landmarks, then
//! renders one RGBA frame (same size, transparency kept) per landmark frame. The built-in
//! [`WarpAnimator`] does this in real time on a CPU: a fold-free thin-plate-spline warp with
//! synthesised mouth interior and eyelids (see [`warp`] for the design and why a spline).
//! Other renderers (e.g. diffusion video models) can either implement [`Animator`] or take the
//! landmark sequence itself, exported with [`crate::landmarks::Track::save`] as JSON or `.npy`.
//!
//! Module map, one job each:
//! - [`warp`]: the animator — rest rig, per-frame plan, drawing;
//! - [`tps`]: thin-plate spline solve and evaluation;
//! - [`field`]: the coarse-grid backward map and its exact minimum Jacobian;
//! - [`guard`]: the fold guard that limits motion instead of folding;
//! - [`targets`]: requested landmarks → warp control targets (lid pinning, lip gap, head motion);
//! - [`sample`]: bilinear, premultiplied resampling of the image;
//! - [`mouth`], [`eyes`], [`gaze`]: mouth interior, eyelid and iris synthesis, with [`palette`] (the
//!   character's own colours) and [`paint`];
//! - [`geometry`]: face frame, head ellipse, arc frames (similarities and ellipses are
//!   [`crate::geometry`]'s; the test character is [`crate::cartoon::character`]).

mod error;
mod eyes;
pub mod field;
mod gaze;
pub mod geometry;
mod guard;
mod mouth;
mod paint;
mod palette;
mod sample;
mod targets;
mod tps;
pub mod warp;

#[cfg(test)]
mod tests;

pub use error::{AnimateError, MAX_SIDE, MIN_SIDE};
pub use field::WarpField;
pub use warp::{FramePlan, WarpAnimator, WarpOptions};

use crate::landmarks::{Face, Landmarks, Point};
use image::RgbaImage;

/// A landmark-driven renderer: prepared once for a character, then asked for frames.
///
/// Implementations must be usable from several threads at once (`render` takes `&self`), so a
/// preview and an export can share one prepared animator.
pub trait Animator: Send + Sync {
    /// Prepare for `image` (RGBA, at most [`MAX_SIDE`] px a side) whose face at rest is `rest`.
    fn prepare(image: &RgbaImage, rest: &Face) -> Result<Self, AnimateError>
    where
        Self: Sized;

    /// Short name for logs and the UI.
    fn name(&self) -> &str;

    /// Size of the frames rendered, which is the character image's size.
    fn size(&self) -> (u32, u32);

    /// Render the frame whose landmarks are `target` into `out` (of size [`Animator::size`]).
    /// `pupils` (image-left first), when given and the character has pupils, say where its
    /// eyes look.
    fn render_into(
        &self,
        target: &Landmarks,
        pupils: Option<&[Point; 2]>,
        out: &mut RgbaImage,
    ) -> Result<(), AnimateError>;

    /// Render the frame whose landmarks are `target` into a new image.
    fn render(
        &self,
        target: &Landmarks,
        pupils: Option<&[Point; 2]>,
    ) -> Result<RgbaImage, AnimateError> {
        let (w, h) = self.size();
        let mut out = RgbaImage::new(w, h);
        self.render_into(target, pupils, &mut out)?;
        Ok(out)
    }
}

/// Check a character image size against [`MIN_SIDE`] and [`MAX_SIDE`].
pub fn check_size(width: u32, height: u32) -> Result<(), AnimateError> {
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(AnimateError::ImageTooLarge { width, height });
    }
    if width < MIN_SIDE || height < MIN_SIDE {
        return Err(AnimateError::ImageTooSmall { width, height });
    }
    Ok(())
}
