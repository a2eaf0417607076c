//! The core pipeline stages as the app calls them: matching, retargeting with the app's
//! settings, and the animator.

use super::motion::smooth_track;
use super::settings::{ReferenceSetting, Settings};
use anyhow::Result;
use faceshot_core::animate::{Animator, WarpAnimator};
use faceshot_core::landmarks::{Face, Point, Track};
use faceshot_core::matching::{Backend, MatchOptions, MatchResult, Region, match_face};
use faceshot_core::progress::Progress;
use faceshot_core::retarget::{Reference, RetargetOptions, choose_reference};
use image::RgbaImage;
use std::path::PathBuf;
use std::sync::Arc;

/// Core retargeting options from the app's settings.
pub fn retarget_options(settings: &Settings) -> RetargetOptions {
    RetargetOptions {
        reference: match settings.reference {
            ReferenceSetting::First => Reference::First,
            ReferenceSetting::Auto => Reference::Auto,
            ReferenceSetting::Frame(f) => Reference::Frame(f),
        },
        gains: settings.gains,
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

/// Prepare the animator for `image` with rest landmarks `rest`.
pub fn prepare_animator(image: &RgbaImage, rest: &Face) -> Result<Arc<dyn Animator>> {
    let animator = WarpAnimator::prepare(image, rest)?;
    Ok(Arc::new(animator))
}

/// Find the character's landmarks with the matcher (`backend`; `weights`: the SD 2.1 folder for
/// the diffusion matcher; no downloads from the app),
/// or, given 3–5 clicked `anchors`, with the five-click fit; `region`: only the face in that box.
pub fn match_character(
    image: &RgbaImage,
    backend: Backend,
    weights: Option<PathBuf>,
    anchors: Option<Vec<Point>>,
    region: Option<Region>,
    progress: &dyn Progress,
) -> Result<MatchResult> {
    let diffusion = match anchors {
        Some(_) => None,
        None => faceshot_dift::diffusion_for(
            backend,
            weights.as_deref(),
            false,
            &faceshot_dift::DiftOptions::default(),
            None,
            progress,
        )?,
    };
    let opts = MatchOptions {
        backend,
        diffusion,
        anchors,
        region,
        ..MatchOptions::default()
    };
    Ok(match_face(image, &opts, progress)?)
}
