//! Whole-pipeline jobs shared by the command line and the desktop app: track a driving video,
//! retarget its motion onto a character, render the character, export.
//!
//! Every stage streams: the driving video is decoded frame by frame while tracking, and rendered
//! frames go straight to the exporter, so memory does not grow with the clip's length.

use crate::animate::{AnimateError, Animator};
use crate::landmarks::{Face, Track};
use crate::media::{ExportOptions, Exporter, MediaError};
use crate::progress::Progress;
use crate::retarget::{RetargetError, RetargetOptions, retarget};
use crate::track::{TrackError, TrackResult, Tracker};
use std::path::{Path, PathBuf};

/// Why a pipeline job stopped.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Reading or writing media failed.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// Tracking the driving video failed.
    #[error(transparent)]
    Track(#[from] TrackError),
    /// Retargeting failed.
    #[error(transparent)]
    Retarget(#[from] RetargetError),
    /// Rendering failed.
    #[error(transparent)]
    Animate(#[from] AnimateError),
    /// Loading the tracker's networks failed.
    #[error("face tracker: {0}")]
    Tracker(String),
    /// The user cancelled; nothing was written under the output name.
    #[error("cancelled")]
    Cancelled,
}

/// Track the face through `driving` (68 points a frame, smoothed, gaps filled).
pub fn track_driving(
    driving: &Path,
    max_frames: Option<u64>,
    progress: &dyn Progress,
) -> Result<TrackResult, PipelineError> {
    let mut tracker =
        Tracker::with_defaults().map_err(|e| PipelineError::Tracker(e.to_string()))?;
    match tracker.track_video(driving, max_frames, progress) {
        Err(TrackError::Cancelled) => Err(PipelineError::Cancelled),
        other => Ok(other?),
    }
}

/// Render every frame of `track` with `animator` and write them to `output`.
///
/// Returns the published path and a note for the user (e.g. why audio was not copied).
pub fn render_track(
    animator: &dyn Animator,
    track: &Track,
    output: &Path,
    export: &ExportOptions,
    progress: &dyn Progress,
) -> Result<(PathBuf, Option<String>), PipelineError> {
    let (w, h) = animator.size();
    let opts = ExportOptions {
        fps: track.fps,
        ..export.clone()
    };
    let mut out = Exporter::create(output, w, h, &opts)?;
    let note = out.note().map(str::to_owned);
    let mut frame = image::RgbaImage::new(w, h);
    let total = track.len() as u64;
    for (i, points) in track.frames.iter().enumerate() {
        if progress.cancelled() {
            // Dropping the exporter removes the partial output.
            return Err(PipelineError::Cancelled);
        }
        animator.render_into(points, track.pupils_at(i), &mut frame)?;
        out.push(&frame)?;
        progress.update("render", i as u64 + 1, Some(total));
    }
    Ok((out.finish()?, note))
}

/// What [`animate_video`] did.
#[derive(Debug, Clone)]
pub struct AnimateReport {
    /// The driver's tracked landmarks, with the tracking report.
    pub driving: TrackResult,
    /// The character's landmark track that was rendered.
    pub character: Track,
    /// Where the video was written.
    pub output: PathBuf,
    /// A note for the user, if any.
    pub note: Option<String>,
}

/// The whole method: track `driving`, retarget onto `face`, render with `animator`, export.
pub fn animate_video(
    animator: &dyn Animator,
    face: &Face,
    driving: &Path,
    retarget_opts: &RetargetOptions,
    output: &Path,
    export: &ExportOptions,
    progress: &dyn Progress,
) -> Result<AnimateReport, PipelineError> {
    let tracked = track_driving(driving, None, progress)?;
    let character = retarget(face, &tracked.track, retarget_opts)?;
    let (output, note) = render_track(animator, &character, output, export, progress)?;
    Ok(AnimateReport {
        driving: tracked,
        character,
        output,
        note,
    })
}
