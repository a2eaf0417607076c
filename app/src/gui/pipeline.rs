//! The core pipeline stages as the app uses them, and whether each exists in this build.
//!
//! This is the one place that knows which stages have landed in `faceshot-core`; the UI asks
//! [`Stage::available`] and shows a missing stage as unavailable, never a stand-in result.

use super::motion::smooth_track;
use super::settings::{ReferenceSetting, Settings};
use anyhow::{Result, bail};
use faceshot_core::landmarks::{Face, Landmarks, Track};
use faceshot_core::retarget::{Gains, Reference, RetargetOptions, choose_reference};
use image::RgbaImage;
use std::sync::Arc;

/// A pipeline stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Driving-face tracking (`faceshot detect`).
    Tracker,
    /// Character landmark matching (`faceshot match`).
    Matcher,
    /// Landmark retargeting (`faceshot retarget`).
    Retarget,
    /// Landmark-driven animation (`faceshot render`).
    Animator,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 4] = [
        Stage::Tracker,
        Stage::Matcher,
        Stage::Retarget,
        Stage::Animator,
    ];

    /// Display name.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Tracker => "face tracker",
            Stage::Matcher => "landmark matcher",
            Stage::Retarget => "retargeting",
            Stage::Animator => "animator",
        }
    }

    /// Whether this build has the stage.
    pub fn available(self) -> bool {
        match self {
            Stage::Retarget | Stage::Tracker => true,
            Stage::Matcher | Stage::Animator => false,
        }
    }

    /// What the user can do while the stage is missing.
    pub fn missing_note(self) -> &'static str {
        match self {
            Stage::Tracker => {
                "not in this build yet: load the driving landmarks from a track file (.json / .npy)"
            }
            Stage::Matcher => {
                "not in this build yet: load a face file or drag the starting template into place"
            }
            Stage::Retarget => "not in this build yet: no retargeted motion can be computed",
            Stage::Animator => {
                "not in this build yet: the preview shows landmarks only and video export is off"
            }
        }
    }
}

/// Core retargeting options from the app's settings.
pub fn retarget_options(settings: &Settings) -> RetargetOptions {
    let g = &settings.gains;
    RetargetOptions {
        reference: match settings.reference {
            ReferenceSetting::First => Reference::First,
            ReferenceSetting::Auto => Reference::Auto,
            ReferenceSetting::Frame(f) => Reference::Frame(f),
        },
        gains: Gains {
            head_rotation: g.head_rotation,
            head_translation: g.head_translation,
            eyes: g.eyes,
            brows: g.brows,
            mouth: g.mouth,
            nose: g.nose,
        },
        expression_only: settings.expression_only,
    }
}

/// The character's landmark track driven by `driving` under `settings` (the driving track is
/// smoothed first), and the reference frame used.
pub fn retarget(face: &Face, driving: &Track, settings: &Settings) -> Result<(Track, usize)> {
    let driving = smooth_track(driving, settings.smoothing);
    let opts = retarget_options(settings);
    let reference = choose_reference(&driving, opts.reference)?;
    let track = faceshot_core::retarget::retarget(face, &driving, &opts)?;
    Ok((track, reference))
}

/// A prepared renderer for one character and rig.
pub trait Render: Send + Sync {
    /// Output frame size.
    fn size(&self) -> (u32, u32);
    /// Render the frame for `target` landmarks.
    fn render(&self, target: &Landmarks) -> Result<RgbaImage>;
}

/// Prepare the animator for `image` with rest landmarks `rest`.
pub fn prepare_animator(image: &RgbaImage, rest: &Face) -> Result<Arc<dyn Render>> {
    let _ = (image, rest);
    bail!("the animator is {}", Stage::Animator.missing_note())
}
