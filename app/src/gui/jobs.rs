//! What the worker does for each request. Runs on the worker thread only.

use super::pipeline;
use super::project::Project;
use super::settings::Settings;
use super::state::DrivingClip;
use anyhow::{Context, Result, bail};
use eframe::egui::ColorImage;
use faceshot_core::animate::Animator;
use faceshot_core::landmarks::{Face, ImageSize, Landmarks, Point, Track};
use faceshot_core::matching::{Backend, Region};
use faceshot_core::media::{ExportOptions, Exporter, VideoReader, load_image};
use faceshot_core::progress::Progress;
use faceshot_dift::hub::{DOWNLOAD_SIZE_TEXT, Hub};
use image::RgbaImage;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Longest side of the driving frames kept for display.
pub const DRIVING_DISPLAY_SIDE: u32 = 480;
/// Longest side of the animated preview; larger pictures are previewed downscaled and
/// exported at full size.
pub const PREVIEW_MAX_SIDE: u32 = 768;
/// Most bytes of decoded driving frames kept in memory for scrubbing.
pub const DRIVING_CACHE_BYTES: u64 = 384 << 20;

/// Recompute the character's motion and the preview frame.
#[derive(Clone, Debug)]
pub struct RefreshRequest {
    /// Document revision this request reflects (echoed in the outputs).
    pub revision: u64,
    /// The character picture.
    pub image: Arc<RgbaImage>,
    /// The character's (edited) landmarks.
    pub face: Face,
    /// The driving landmarks, if loaded.
    pub driving: Option<Arc<Track>>,
    /// Settings.
    pub settings: Settings,
    /// Timeline frame to preview.
    pub frame: usize,
}

/// What to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    /// Animated video: MP4, GIF or a PNG folder, by the path.
    Video,
    /// The character's landmark track as JSON or `.npy`, by the path.
    Landmarks,
}

/// An export job.
#[derive(Clone, Debug)]
pub struct ExportRequest {
    /// What to write.
    pub kind: ExportKind,
    /// Target path.
    pub path: PathBuf,
    /// The character picture (for video).
    pub image: Arc<RgbaImage>,
    /// The character's rest landmarks (for video).
    pub face: Face,
    /// The character's landmark track to write or render.
    pub track: Arc<Track>,
    /// Video options (fps, audio source, GIF size and rate).
    pub options: ExportOptions,
    /// The document's input files (role, path), which the export must not replace.
    pub inputs: Vec<(&'static str, PathBuf)>,
}

/// A project to save, with the track made in the app that goes beside it.
#[derive(Clone, Debug)]
pub struct SaveProjectRequest {
    /// The `.faceshot` file.
    pub path: PathBuf,
    /// What it holds.
    pub project: Box<Project>,
    /// A driving track made in the app, saved as `<project name>.track.json`.
    pub tracked: Option<Arc<Track>>,
    /// The document's input files (role, path), which saving must not replace.
    pub inputs: Vec<(&'static str, PathBuf)>,
}

/// A request to the worker.
#[derive(Clone, Debug)]
pub enum Request {
    /// Decode a character picture (and find its rig file).
    LoadCharacter(PathBuf),
    /// Read a face (landmark) file.
    LoadFace(PathBuf),
    /// Find the character's landmarks with the matcher.
    Match {
        /// The character picture.
        image: Arc<RgbaImage>,
        /// Its file (for the jobs list).
        path: PathBuf,
        /// Which matcher.
        backend: Backend,
        /// Stable Diffusion 2.1 folder (diffusion matcher).
        weights: Option<PathBuf>,
        /// 3 or 5 clicked anchors: fit the shape model to them instead.
        anchors: Option<Vec<Point>>,
        /// Match only the face in this box (drawn on the canvas).
        region: Option<Region>,
        /// Part of loading the picture (not a user's request).
        on_load: bool,
    },
    /// Decode a driving video for display (and find its track file).
    LoadDriving(PathBuf),
    /// Read a driving landmark track (JSON or `.npy`).
    LoadTrack(PathBuf),
    /// Track the face through a driving video.
    TrackFaces(PathBuf),
    /// Read a project file.
    LoadProject(PathBuf),
    /// Write a project file (and, when given, the driving track made in the app beside it).
    SaveProject(SaveProjectRequest),
    /// Retarget and render the preview frame (newest wins).
    Refresh(Box<RefreshRequest>),
    /// Write an output.
    Export(Box<ExportRequest>),
    /// Download Stable Diffusion 2.1 from `hub` into `dest` (resuming a partial download).
    DownloadWeights {
        /// Where from.
        hub: Hub,
        /// The folder to fill.
        dest: PathBuf,
    },
}

impl Request {
    /// A label for the jobs list.
    pub fn label(&self) -> String {
        let name = |p: &Path| super::state::file_name(p);
        match self {
            Request::LoadCharacter(p) => format!("Loading {}", name(p)),
            Request::LoadFace(p) => format!("Reading landmarks {}", name(p)),
            Request::Match { path, .. } => format!("Matching landmarks on {}", name(path)),
            Request::LoadDriving(p) => format!("Decoding {}", name(p)),
            Request::LoadTrack(p) => format!("Reading track {}", name(p)),
            Request::TrackFaces(p) => format!("Tracking the face in {}", name(p)),
            Request::LoadProject(p) => format!("Opening {}", name(p)),
            Request::SaveProject(r) => format!("Saving {}", name(&r.path)),
            Request::Refresh(_) => "Updating preview".into(),
            Request::Export(e) => format!("Exporting {}", name(&e.path)),
            Request::DownloadWeights { .. } => {
                format!("Downloading Stable Diffusion 2.1 ({DOWNLOAD_SIZE_TEXT})")
            }
        }
    }

    /// Whether it runs on a thread of its own (long and waiting on the network, it would
    /// hold up every other job).
    pub fn runs_aside(&self) -> bool {
        matches!(self, Request::DownloadWeights { .. })
    }

    /// Whether its progress counts bytes (shown as MB / GB).
    pub fn counts_bytes(&self) -> bool {
        matches!(self, Request::DownloadWeights { .. })
    }

    /// Whether the jobs list should hide it (frequent, short).
    pub fn is_quiet(&self) -> bool {
        matches!(self, Request::Refresh(_))
    }
}

/// A job's result.
#[derive(Debug)]
pub enum JobOutput {
    /// A decoded character picture.
    Character {
        /// Image file.
        path: PathBuf,
        /// Pixels.
        image: Arc<RgbaImage>,
        /// `<stem>.face.json` beside the image, if present and valid.
        rig: Option<(PathBuf, Face)>,
        /// Why a rig file beside the image was not used.
        rig_error: Option<String>,
    },
    /// Landmarks found by the matcher.
    Matched {
        /// The picture they belong to.
        image: Arc<RgbaImage>,
        /// The landmarks with per-point confidence.
        face: Face,
        /// The matcher's one-line account.
        note: String,
        /// Part of loading the picture (not a user's request).
        on_load: bool,
    },
    /// A face file.
    Face {
        /// File.
        path: PathBuf,
        /// Landmarks.
        face: Face,
    },
    /// A decoded driving video.
    Driving {
        /// Display frames and metadata.
        clip: Arc<DrivingClip>,
        /// `<stem>.track.json` / `.track.npy` beside the video, if present and valid.
        track: Option<(PathBuf, Track)>,
        /// Why a track file beside the video was not used.
        track_error: Option<String>,
    },
    /// A driving track.
    Track {
        /// File.
        path: PathBuf,
        /// Landmarks.
        track: Track,
    },
    /// A driving track made by the face tracker.
    Tracked {
        /// The video.
        video: PathBuf,
        /// Landmarks.
        track: Track,
        /// Frames without a usable face that were filled from their neighbours or held.
        gap_frames: usize,
    },
    /// A project read from disk.
    Project {
        /// File.
        path: PathBuf,
        /// Contents.
        project: Box<Project>,
    },
    /// A project written.
    ProjectSaved(PathBuf),
    /// The character's landmark track for a document revision.
    Retargeted {
        /// Revision.
        revision: u64,
        /// Landmarks over time.
        track: Arc<Track>,
        /// The driving frame used as the reference (neutral) face.
        reference: usize,
    },
    /// A rendered preview frame.
    Preview {
        /// Revision.
        revision: u64,
        /// Timeline frame.
        frame: usize,
        /// Pixels.
        image: Arc<ColorImage>,
        /// Render time in milliseconds.
        millis: f32,
    },
    /// The preview frame could not be rendered.
    PreviewFailed {
        /// Revision.
        revision: u64,
        /// Why.
        message: String,
    },
    /// An output written.
    Exported {
        /// Final path.
        path: PathBuf,
        /// Frames written (video) or landmark frames (track).
        frames: usize,
        /// A note for the user (e.g. audio not copied).
        note: Option<String>,
    },
    /// A complete Stable Diffusion 2.1 folder, downloaded.
    WeightsDownloaded(PathBuf),
}

/// What a job gets besides its request.
pub struct JobContext<'a> {
    /// Progress and cancellation.
    pub progress: &'a dyn Progress,
}

/// Pipeline objects the worker keeps between jobs.
#[derive(Default)]
pub struct WorkerState {
    /// Inputs and output of the last retargeting run.
    retargeted: Option<(RetargetKey, Arc<Track>, usize)>,
    /// The prepared animator and what it was prepared for.
    animator: Option<(AnimatorKey, Arc<dyn Animator>)>,
}

#[derive(Clone, PartialEq)]
struct RetargetKey {
    face: Face,
    driving: SameArc<Track>,
    settings: Settings,
}

#[derive(Clone, PartialEq)]
struct AnimatorKey {
    image: SameArc<RgbaImage>,
    face: Face,
}

/// A cache key part that is equal only for the very same shared value. It holds the value,
/// so its address cannot be reused by another while the key lives.
#[derive(Clone)]
struct SameArc<T>(Arc<T>);

impl<T> PartialEq for SameArc<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Run one request.
pub fn run(
    state: &mut WorkerState,
    request: Request,
    ctx: &JobContext<'_>,
) -> Result<Vec<JobOutput>> {
    Ok(match request {
        Request::LoadCharacter(path) => vec![load_character(path)?],
        Request::LoadFace(path) => {
            let face = Face::load(&path)?;
            vec![JobOutput::Face { path, face }]
        }
        Request::Match {
            image,
            path: _,
            backend,
            weights,
            anchors,
            region,
            on_load,
        } => {
            let result =
                pipeline::match_character(&image, backend, weights, anchors, region, ctx.progress)?;
            let note = if result.placeholder {
                format!(
                    "no face found: the points are a stand-in to drag into place ({})",
                    result.note
                )
            } else {
                result.note
            };
            vec![JobOutput::Matched {
                image,
                face: result.face,
                note,
                on_load,
            }]
        }
        Request::LoadDriving(path) => vec![load_driving(path, ctx.progress)?],
        Request::LoadTrack(path) => {
            let track = Track::load(&path, None)?;
            vec![JobOutput::Track { path, track }]
        }
        Request::TrackFaces(video) => {
            let mut tracker = faceshot_core::track::Tracker::with_defaults()?;
            let result = tracker.track_video(&video, None, ctx.progress)?;
            let gap_frames = result.track.found.iter().filter(|f| !**f).count();
            vec![JobOutput::Tracked {
                video,
                track: result.track,
                gap_frames,
            }]
        }
        Request::LoadProject(path) => {
            let project = Box::new(Project::load(&path)?);
            vec![JobOutput::Project { path, project }]
        }
        Request::SaveProject(req) => vec![save_project(req)?],
        Request::Refresh(req) => refresh(state, &req)?,
        Request::Export(req) => vec![export(state, &req, ctx.progress)?],
        Request::DownloadWeights { hub, dest } => {
            let dir = faceshot_dift::download_weights(&hub, &dest, ctx.progress)?;
            vec![JobOutput::WeightsDownloaded(dir)]
        }
    })
}

/// Save a project, and the track made in the app beside it, without replacing any input or any
/// file that is not this project's own.
fn save_project(req: SaveProjectRequest) -> Result<JobOutput> {
    let SaveProjectRequest {
        path,
        mut project,
        tracked,
        inputs,
    } = req;
    let inputs: Vec<(&str, &Path)> = inputs.iter().map(|(r, p)| (*r, p.as_path())).collect();
    let track_path = tracked.as_ref().map(|_| track_beside(&path));
    let mut outputs = vec![("the project", path.as_path())];
    if let Some(t) = &track_path {
        outputs.push(("the project's track", t.as_path()));
    }
    faceshot_core::output_check::check_outputs(&inputs, &outputs)?;
    if let (Some(track), Some(track_path)) = (tracked, track_path) {
        track.save(&track_path)?;
        project.driving_track = Some(track_path);
    }
    project.save(&path)?;
    Ok(JobOutput::ProjectSaved(path))
}

/// Where a project's own track goes: `<project name>.track.json` beside it, unless a file of
/// that name exists that the project does not already refer to (someone else's); then the
/// first free `<project name>.track-N.json`.
fn track_beside(project_path: &Path) -> PathBuf {
    let stem = project_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "project".into());
    let dir = faceshot_core::atomic::parent_dir(project_path);
    let ours = Project::load(project_path)
        .ok()
        .and_then(|p| p.driving_track)
        .and_then(|p| p.canonicalize().ok());
    let free_or_ours = |p: &PathBuf| !p.exists() || p.canonicalize().ok() == ours;
    let first = dir.join(format!("{stem}.track.json"));
    if free_or_ours(&first) {
        return first;
    }
    (2..)
        .map(|n| dir.join(format!("{stem}.track-{n}.json")))
        .find(free_or_ours)
        .unwrap_or(first)
}

/// `<dir>/<stem><suffix>` for each suffix, the first that exists.
fn sidecar(path: &Path, suffixes: &[&str]) -> Option<PathBuf> {
    let stem = path.file_stem()?.to_string_lossy().into_owned();
    let dir = faceshot_core::atomic::parent_dir(path);
    suffixes
        .iter()
        .map(|s| dir.join(format!("{stem}{s}")))
        .find(|p| p.is_file())
}

fn load_character(path: PathBuf) -> Result<JobOutput> {
    let image = load_image(&path)?;
    let (mut rig, mut rig_error) = (None, None);
    if let Some(face_path) = sidecar(&path, &[".face.json"]) {
        match Face::load(&face_path) {
            Ok(face) => rig = Some((face_path, face)),
            Err(e) => rig_error = Some(e.to_string()),
        }
    }
    Ok(JobOutput::Character {
        path,
        image: Arc::new(image),
        rig,
        rig_error,
    })
}

/// Display scale for `count` frames of `w` × `h` within the side and memory limits.
pub fn display_scale(w: u32, h: u32, count: u64) -> f32 {
    let long = w.max(h).max(1) as f32;
    let by_side = (DRIVING_DISPLAY_SIDE as f32 / long).min(1.0);
    let per_frame_budget = DRIVING_CACHE_BYTES as f64 / count.max(1) as f64 / 4.0;
    let by_memory = (per_frame_budget / (f64::from(w.max(1)) * f64::from(h.max(1)))).sqrt() as f32;
    by_side.min(by_memory).clamp(0.02, 1.0)
}

fn load_driving(path: PathBuf, progress: &dyn Progress) -> Result<JobOutput> {
    let mut reader = VideoReader::open(&path)?;
    let info = reader.info().clone();
    let scale = display_scale(info.width, info.height, info.frame_count);
    let dw = ((info.width as f32 * scale).round() as u32).max(1);
    let dh = ((info.height as f32 * scale).round() as u32).max(1);
    let total = (info.frame_count > 0).then_some(info.frame_count);
    let mut frames = Vec::new();
    while let Some(frame) = reader.next_frame()? {
        if progress.cancelled() {
            bail!("cancelled");
        }
        let small = if (dw, dh) == frame.image.dimensions() {
            frame.image
        } else {
            image::imageops::resize(&frame.image, dw, dh, image::imageops::FilterType::Triangle)
        };
        frames.push(Arc::new(ColorImage::from_rgb(
            [dw as usize, dh as usize],
            small.as_raw(),
        )));
        progress.update("decoding", frames.len() as u64, total);
    }
    if frames.is_empty() {
        bail!("{}: the video has no frames", path.display());
    }
    let (mut track, mut track_error) = (None, None);
    if let Some(track_path) = sidecar(&path, &[".track.json", ".track.npy"]) {
        match Track::load(&track_path, Some(info.fps)) {
            Ok(t) => track = Some((track_path, t)),
            Err(e) => track_error = Some(e.to_string()),
        }
    }
    let clip_scale = dw as f32 / info.width.max(1) as f32;
    Ok(JobOutput::Driving {
        clip: Arc::new(DrivingClip {
            path,
            frames,
            info,
            scale: clip_scale,
        }),
        track,
        track_error,
    })
}

fn refresh(state: &mut WorkerState, req: &RefreshRequest) -> Result<Vec<JobOutput>> {
    let mut out = Vec::new();
    // 1. The character's motion (cached while face, track and settings are unchanged).
    let track = match &req.driving {
        Some(driving) => {
            let key = RetargetKey {
                face: req.face.clone(),
                driving: SameArc(Arc::clone(driving)),
                settings: req.settings.clone(),
            };
            match &state.retargeted {
                Some((k, t, _)) if *k == key => Some(Arc::clone(t)),
                _ => {
                    let (t, reference) = pipeline::retarget(&req.face, driving, &req.settings)?;
                    let t = Arc::new(t);
                    state.retargeted = Some((key, Arc::clone(&t), reference));
                    out.push(JobOutput::Retargeted {
                        revision: req.revision,
                        track: Arc::clone(&t),
                        reference,
                    });
                    Some(t)
                }
            }
        }
        None => None,
    };
    // 2. The preview frame. A failure here is reported as an output so the retargeted
    // motion above still reaches the UI.
    let (target, pupils) = match &track {
        Some(t) if !t.frames.is_empty() => {
            let at = req.frame.min(t.frames.len() - 1);
            (t.frames[at], t.pupils_at(at).copied())
        }
        _ => (req.face.points, req.face.pupils),
    };
    match render_preview(state, req, &target, pupils.as_ref()) {
        Ok((image, millis)) => out.push(JobOutput::Preview {
            revision: req.revision,
            frame: req.frame,
            image,
            millis,
        }),
        Err(e) => out.push(JobOutput::PreviewFailed {
            revision: req.revision,
            message: format!("{e:#}"),
        }),
    }
    Ok(out)
}

/// Preview scale for a picture of `w` × `h`: at most [`PREVIEW_MAX_SIDE`] a side.
pub fn preview_scale(w: u32, h: u32) -> f32 {
    (PREVIEW_MAX_SIDE as f32 / w.max(h).max(1) as f32).min(1.0)
}

/// Render the preview of `target` (full-size image coordinates), preparing the animator for
/// the picture at preview size when the face or picture changed. Returns the frame and the
/// render time in milliseconds.
fn render_preview(
    state: &mut WorkerState,
    req: &RefreshRequest,
    target: &Landmarks,
    pupils: Option<&[Point; 2]>,
) -> Result<(Arc<ColorImage>, f32)> {
    let (w, h) = req.image.dimensions();
    let key = AnimatorKey {
        image: SameArc(Arc::clone(&req.image)),
        face: req.face.clone(),
    };
    let animator = match &state.animator {
        Some((k, a)) if *k == key => Arc::clone(a),
        _ => {
            state.animator = None;
            let a = prepare_preview_animator(&req.image, &req.face, preview_scale(w, h))?;
            state.animator = Some((key, Arc::clone(&a)));
            a
        }
    };
    let (pw, ph) = animator.size();
    let (sx, sy) = (pw as f32 / w as f32, ph as f32 / h as f32);
    let t0 = std::time::Instant::now();
    let pupils = pupils.map(|p| p.map(|q| Point::new(q.x * sx, q.y * sy)));
    let rgba = animator.render(&scale_points(target, sx, sy), pupils.as_ref())?;
    let millis = t0.elapsed().as_secs_f32() * 1000.0;
    let image = Arc::new(ColorImage::from_rgba_unmultiplied(
        [rgba.width() as usize, rgba.height() as usize],
        rgba.as_raw(),
    ));
    Ok((image, millis))
}

/// The animator for `image` with rest face `face`, on the picture downscaled by `scale` (≤ 1).
fn prepare_preview_animator(
    image: &RgbaImage,
    face: &Face,
    scale: f32,
) -> Result<Arc<dyn Animator>> {
    if scale >= 1.0 {
        return pipeline::prepare_animator(image, face);
    }
    let (w, h) = image.dimensions();
    let pw = ((w as f32 * scale).round() as u32).max(1);
    let ph = ((h as f32 * scale).round() as u32).max(1);
    let small = image::imageops::resize(image, pw, ph, image::imageops::FilterType::Triangle);
    let mut face = face.clone();
    let (sx, sy) = (pw as f32 / w as f32, ph as f32 / h as f32);
    face.points = scale_points(&face.points, sx, sy);
    face.pupils = face
        .pupils
        .map(|p| p.map(|q| Point::new(q.x * sx, q.y * sy)));
    face.pupil_radius = face.pupil_radius.map(|r| r * 0.5 * (sx + sy));
    face.image = Some(ImageSize {
        width: pw,
        height: ph,
    });
    pipeline::prepare_animator(&small, &face)
}

fn scale_points(points: &Landmarks, sx: f32, sy: f32) -> Landmarks {
    points.map(|p| Point::new(p.x * sx, p.y * sy))
}

fn export(
    state: &mut WorkerState,
    req: &ExportRequest,
    progress: &dyn Progress,
) -> Result<JobOutput> {
    let inputs: Vec<(&str, &Path)> = req.inputs.iter().map(|(r, p)| (*r, p.as_path())).collect();
    faceshot_core::output_check::check_outputs(&inputs, &[("the export", &req.path)])?;
    let frames = req.track.len();
    match req.kind {
        ExportKind::Landmarks => {
            progress.update("writing landmarks", 0, Some(1));
            req.track.save(&req.path)?;
            progress.update("writing landmarks", 1, Some(1));
            Ok(JobOutput::Exported {
                path: req.path.clone(),
                frames,
                note: None,
            })
        }
        ExportKind::Video => {
            let key = AnimatorKey {
                image: SameArc(Arc::clone(&req.image)),
                face: req.face.clone(),
            };
            // The preview's animator may work on a downscaled picture; export is full size.
            let animator = match &state.animator {
                Some((k, a)) if *k == key && a.size() == req.image.dimensions() => Arc::clone(a),
                _ => pipeline::prepare_animator(&req.image, &req.face)?,
            };
            let (w, h) = animator.size();
            let mut exporter = Exporter::create(&req.path, w, h, &req.options)?;
            for (t, points) in req.track.frames.iter().enumerate() {
                if progress.cancelled() {
                    // Dropping the exporter removes the partial output.
                    bail!("cancelled");
                }
                let frame = animator
                    .render(points, req.track.pupils_at(t))
                    .with_context(|| format!("rendering frame {t}"))?;
                exporter.push(&frame)?;
                progress.update("rendering", t as u64 + 1, Some(frames as u64));
            }
            let note = exporter.note().map(str::to_string);
            progress.update("finishing", frames as u64, Some(frames as u64));
            let path = exporter.finish()?;
            Ok(JobOutput::Exported { path, frames, note })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_projects_track_never_replaces_a_file_the_project_does_not_own() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("hero.faceshot");
        assert_eq!(track_beside(&project), dir.path().join("hero.track.json"));
        // Someone else's file under that name: the next free name.
        std::fs::write(dir.path().join("hero.track.json"), "not ours").unwrap();
        assert_eq!(track_beside(&project), dir.path().join("hero.track-2.json"));
        // A project that already refers to its own track file keeps using it.
        let own = dir.path().join("hero.track-2.json");
        let p = Project {
            character: None,
            driving: None,
            driving_track: Some(own.clone()),
            rig: None,
            settings: Default::default(),
        };
        p.save(&project).unwrap();
        std::fs::write(&own, "{}").unwrap();
        assert_eq!(
            track_beside(&project).canonicalize().unwrap(),
            own.canonicalize().unwrap()
        );
    }

    #[test]
    fn display_scale_respects_side_and_memory() {
        assert_eq!(display_scale(320, 240, 100), 1.0);
        assert!((display_scale(1920, 1080, 10) - 0.25).abs() < 1e-6);
        // 9000 frames of 640x480 must fit the budget.
        let s = display_scale(640, 480, 9000);
        let bytes = 9000.0 * 4.0 * (640.0 * s as f64) * (480.0 * s as f64);
        assert!(bytes <= DRIVING_CACHE_BYTES as f64 * 1.01, "{bytes}");
    }

    #[test]
    fn large_pictures_are_previewed_at_most_preview_max_side() {
        assert_eq!(preview_scale(512, 512), 1.0);
        assert_eq!(preview_scale(768, 300), 1.0);
        assert!((preview_scale(1536, 1024) - 0.5).abs() < 1e-6);
        // A 1536x1024 character: the preview animator works at 768x512 and the landmarks follow.
        let (w, h) = (1536, 1024);
        let image = RgbaImage::from_fn(w, h, |x, y| {
            image::Rgba([(x / 6) as u8, (y / 4) as u8, 128, 255])
        });
        let points = faceshot_core::landmarks::synthetic::frontal_face(768.0, 512.0, 300.0);
        let face = Face::new(
            points,
            Some(ImageSize {
                width: w,
                height: h,
            }),
        );
        let a = prepare_preview_animator(&image, &face, preview_scale(w, h)).unwrap();
        assert_eq!(a.size(), (768, 512));
        let full = prepare_preview_animator(&image, &face, 1.0).unwrap();
        assert_eq!(full.size(), (w, h));
    }

    #[test]
    fn sidecars_are_found_by_stem() {
        let dir = tempfile::tempdir().unwrap();
        let img = dir.path().join("hero.png");
        std::fs::write(dir.path().join("hero.face.json"), "{}").unwrap();
        assert_eq!(
            sidecar(&img, &[".face.json"]),
            Some(dir.path().join("hero.face.json"))
        );
        assert_eq!(sidecar(&img, &[".track.json"]), None);
    }
}
