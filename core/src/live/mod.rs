//! Live mode: drive a character from a camera or any FFmpeg input in real time.
//!
//! Threads: [`capture`] decodes the source on its own thread into a latest-frame slot (never
//! a queue; frames the pipeline has not taken are dropped and counted). The caller's thread
//! runs the pipeline on the newest frame: track → causal One Euro smoothing → retargeting →
//! the animator → the caller's sink (a recording, a window, a virtual camera). Each output
//! frame carries its latency: from capture to "frame ready".
//!
//! The driver's neutral face is the most neutral frame of the first second (mouth closed, eyes
//! open, head frontal; [`crate::retarget::neutrality_scores`]), and [`LiveControls::set_neutral`]
//! takes the current frame at any time. Without a face the character holds its last pose and
//! eases back to rest.

pub mod capture;
mod recorder;

use crate::animate::{AnimateError, Animator, WarpAnimator};
use crate::landmarks::{Face, Landmarks, Point, Track};
use crate::media::MediaError;
use crate::nn::NnError;
use crate::retarget::{RetargetError, RetargetOptions, Retargeter, neutrality_scores};
use crate::track::{LandmarkFilter, OneEuro, Tracker};
pub use capture::{Capture, CaptureCounts, CaptureEnd, Captured, Next};
use image::RgbaImage;
pub use recorder::Recorder;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long the first-second search for a neutral face lasts.
const NEUTRAL_WINDOW: Duration = Duration::from_secs(1);
/// Time constant of the ease back to rest while no face is seen.
const EASE_BACK: f32 = 0.5;

/// Why live mode stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The source could not be opened or read.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// The character's landmarks are invalid.
    #[error(transparent)]
    Landmarks(#[from] crate::landmarks::LandmarkError),
    /// The tracker's networks failed.
    #[error("face tracker: {0}")]
    Tracker(#[from] NnError),
    /// The character or a driving frame cannot be retargeted.
    #[error(transparent)]
    Retarget(#[from] RetargetError),
    /// Rendering failed.
    #[error(transparent)]
    Animate(#[from] AnimateError),
    /// The sink (recording, output) failed.
    #[error("{0}")]
    Sink(String),
}

/// The character a live run animates, and how: replaceable while running
/// ([`LiveControls::update_rig`]), so edits apply live.
#[derive(Clone, Debug)]
pub struct LiveRig {
    /// The character picture.
    pub image: Arc<RgbaImage>,
    /// Its landmarks (and pupils).
    pub face: Face,
    /// Gains, expression-only; the reference choice is live's own (first second, set neutral).
    pub retarget: RetargetOptions,
}

/// Settings of a live run.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Causal smoothing of the tracked points (`None`: raw).
    pub smoothing: Option<OneEuro>,
    /// Mirror the camera picture (a selfie view): the tracker sees, and the character follows,
    /// the mirror image.
    pub mirror: bool,
    /// Stop after this long (`None`: until the source ends or [`LiveControls::stop`]).
    pub duration: Option<Duration>,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            smoothing: Some(OneEuro::default()),
            mirror: false,
            duration: None,
        }
    }
}

/// Requests to a running session from other threads (Ctrl-C, the UI).
#[derive(Debug, Default)]
pub struct LiveControls {
    stop: AtomicBool,
    set_neutral: AtomicBool,
    mirror: Mutex<Option<bool>>,
    rig: Mutex<Option<LiveRig>>,
}

impl LiveControls {
    /// Ask the session to stop after the current frame.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Whether a stop was asked for.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Take the next tracked frame as the driver's neutral face.
    pub fn set_neutral(&self) {
        self.set_neutral.store(true, Ordering::Relaxed);
    }

    /// Mirror the camera (or stop mirroring it) from the next frame on.
    pub fn set_mirror(&self, mirror: bool) {
        *self.mirror.lock().unwrap_or_else(PoisonError::into_inner) = Some(mirror);
    }

    fn take_mirror(&self) -> Option<bool> {
        self.mirror
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Animate `rig` from the next frame on (the latest update wins).
    pub fn update_rig(&self, rig: LiveRig) {
        *self.rig.lock().unwrap_or_else(PoisonError::into_inner) = Some(rig);
    }

    fn take_rig(&self) -> Option<LiveRig> {
        self.rig
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// One output frame as the sink sees it.
#[derive(Debug)]
pub struct LiveFrame<'a> {
    /// The rendered character.
    pub image: &'a RgbaImage,
    /// The camera picture it was made from.
    pub camera: &'a image::RgbImage,
    /// The tracked driver points on the camera picture, when a face was found.
    pub driver: Option<&'a Landmarks>,
    /// The character's points.
    pub character: &'a Landmarks,
    /// Capture → frame ready.
    pub latency: Duration,
}

/// Figures of a live run (`--stats`).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct LiveStats {
    /// The source's frame rate.
    pub source_fps: f64,
    /// Frames captured.
    pub frames_in: u64,
    /// Frames rendered and handed to the sink.
    pub frames_out: u64,
    /// Frames captured but never processed (a newer one came first).
    pub dropped: u64,
    /// Output frames per second of wall time.
    pub fps: f64,
    /// Capture → frame ready, in milliseconds.
    pub latency_ms: LatencyStats,
    /// Median time of each stage per frame, in milliseconds: where the time goes.
    pub stages_ms: StageStats,
}

/// Median per-frame time of each pipeline stage, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct StageStats {
    /// Tracking the camera picture (detector, mesh, eyes).
    pub track: f64,
    /// Smoothing and retargeting.
    pub retarget: f64,
    /// Rendering the character.
    pub render: f64,
    /// The sink (recording, display).
    pub output: f64,
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct LatencyStats {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Largest.
    pub max: f64,
}

/// Milliseconds per histogram bin, and the bins kept: times up to 2 s are told apart to 0.05 ms,
/// longer ones count as 2 s (the largest is kept exactly). A live run's figures take the same
/// memory however long it runs.
const BIN_MS: f64 = 0.05;
const BINS: usize = 40_000;

/// A fixed-size histogram of times in milliseconds, for percentiles over a whole run.
struct Histogram {
    bins: Vec<u32>,
    count: u64,
    max: f64,
}

impl Histogram {
    fn new() -> Self {
        Self {
            bins: vec![0; BINS],
            count: 0,
            max: 0.0,
        }
    }

    fn push(&mut self, ms: f64) {
        let ms = if ms.is_finite() { ms.max(0.0) } else { 0.0 };
        let bin = ((ms / BIN_MS) as usize).min(BINS - 1);
        self.bins[bin] = self.bins[bin].saturating_add(1);
        self.count += 1;
        self.max = self.max.max(ms);
    }

    /// The `q` quantile (0–1), at the middle of its bin; 0 when empty.
    fn quantile(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let rank = ((self.count - 1) as f64 * q.clamp(0.0, 1.0)).round() as u64;
        let mut seen = 0u64;
        for (bin, &n) in self.bins.iter().enumerate() {
            seen += u64::from(n);
            if seen > rank {
                return ((bin as f64 + 0.5) * BIN_MS).min(self.max);
            }
        }
        self.max
    }
}

/// The driver's neutral face: the most neutral frame seen in the first second, or the frame
/// the user picked.
struct Neutral {
    started: Option<Instant>,
    /// Still searching the first second (false once it is over or the user picked a frame).
    searching: bool,
    seen: Track,
    seen_pupils: Vec<Option<[Point; 2]>>,
    chosen: Option<(Landmarks, Option<[Point; 2]>)>,
}

impl Neutral {
    fn new() -> Self {
        Self {
            started: None,
            searching: true,
            seen: Track::new(30.0, None),
            seen_pupils: Vec::new(),
            chosen: None,
        }
    }

    /// Offer a tracked frame; returns the reference to use now and whether it changed.
    fn offer(
        &mut self,
        points: &Landmarks,
        pupils: Option<[Point; 2]>,
        now: Instant,
        pick_this: bool,
    ) -> (Landmarks, Option<[Point; 2]>, bool) {
        let started = *self.started.get_or_insert(now);
        if pick_this {
            self.chosen = Some((*points, pupils));
            self.seen = Track::new(30.0, None);
            self.seen_pupils.clear();
            self.searching = false;
            return (*points, pupils, true);
        }
        self.searching &= now.duration_since(started) <= NEUTRAL_WINDOW;
        if self.searching {
            self.seen.push(*points, true);
            self.seen_pupils.push(pupils);
            let best = neutrality_scores(&self.seen)
                .into_iter()
                .enumerate()
                .filter_map(|(t, s)| s.map(|s| (t, s)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(t, _)| t);
            if let Some(t) = best {
                let pick = (self.seen.frames[t], self.seen_pupils[t]);
                let changed = self.chosen.map(|c| c.0) != Some(pick.0);
                self.chosen = Some(pick);
                return (pick.0, pick.1, changed);
            }
        }
        match self.chosen {
            Some((p, q)) => (p, q, false),
            None => {
                self.chosen = Some((*points, pupils));
                (*points, pupils, true)
            }
        }
    }
}

/// [`run_live`] recording the rendered frames to `record` when given (encoded on a thread of its
/// own, so the pipeline never waits for the encoder), then stops `capture`. The recording is
/// finished (published whole) even when live mode stopped on an error; a recording that cannot
/// be started fails before anything runs. Returns the figures and the recording's path.
pub fn run_live_recorded(
    capture: &mut Capture,
    rig: LiveRig,
    tracker: &mut Tracker,
    options: &LiveOptions,
    controls: &LiveControls,
    record: Option<PathBuf>,
    sink: &mut dyn FnMut(&LiveFrame<'_>) -> Result<(), String>,
) -> Result<(LiveStats, Option<PathBuf>), LiveError> {
    let (width, height) = rig.image.dimensions();
    let recorder = record
        .map(|path| Recorder::start(path, width, height, capture.fps()))
        .transpose()?;
    let stats = run_live(capture, rig, tracker, options, controls, &mut |frame| {
        if let Some(rec) = &recorder {
            rec.push(frame.image)?;
        }
        sink(frame)
    });
    capture.stop();
    let recorded = recorder.map(Recorder::finish).transpose();
    let stats = stats?;
    Ok((stats, recorded?))
}

/// Run live mode on `capture` until it ends, `options.duration` passes or `controls` asks to
/// stop, animating `rig` (or the latest [`LiveControls::update_rig`]) with the built-in
/// animator. `sink` receives every rendered frame (a recording, a preview). Returns the figures.
pub fn run_live(
    capture: &mut Capture,
    rig: LiveRig,
    tracker: &mut Tracker,
    options: &LiveOptions,
    controls: &LiveControls,
    sink: &mut dyn FnMut(&LiveFrame<'_>) -> Result<(), String>,
) -> Result<LiveStats, LiveError> {
    let mut rig = rig;
    let mut mirror = options.mirror;
    rig.face.validate("character")?;
    let mut animator = WarpAnimator::prepare(&rig.image, &rig.face)?;
    let (w, h) = animator.size();
    let mut out = RgbaImage::new(w, h);
    let mut filter = options.smoothing.map(LandmarkFilter::new);
    let mut pupil_filter = options.smoothing.map(LandmarkFilter::new);
    let mut neutral = Neutral::new();
    let mut retargeter: Option<Retargeter> = None;
    let mut pose = (rig.face.points, rig.face.pupils);
    let mut latencies = Histogram::new();
    let mut stages: [Histogram; 4] = std::array::from_fn(|_| Histogram::new());
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
    let mut frames_out = 0u64;
    let mut last_seen: Option<Instant> = None;
    let mut last_time: Option<Instant> = None;
    let start = Instant::now();
    let end = loop {
        if controls.stopping() {
            break CaptureEnd::Stopped;
        }
        if options.duration.is_some_and(|d| start.elapsed() >= d) {
            break CaptureEnd::Stopped;
        }
        if let Some(m) = controls.take_mirror()
            && m != mirror
        {
            // The face jumps to the other side: track afresh.
            mirror = m;
            tracker.reset();
            if let Some(f) = filter.as_mut() {
                f.reset();
            }
            if let Some(f) = pupil_filter.as_mut() {
                f.reset();
            }
        }
        if let Some(new) = controls.take_rig() {
            let size = (new.image.width(), new.image.height());
            if new.face != rig.face || size != animator.size() {
                new.face.validate("character")?;
                animator = WarpAnimator::prepare(&new.image, &new.face)?;
                if animator.size() != (out.width(), out.height()) {
                    out = RgbaImage::new(animator.size().0, animator.size().1);
                }
                pose = (new.face.points, new.face.pupils);
            }
            rig = new;
            retargeter = None;
        }
        let frame = match capture.next(Duration::from_millis(100)) {
            Next::Frame(f) => f,
            Next::Waiting => continue,
            Next::Ended(end) => break end,
        };
        let camera = if mirror {
            image::imageops::flip_horizontal(&frame.image)
        } else {
            frame.image
        };
        let dt = last_time.map_or(0.0, |t| frame.at.duration_since(t).as_secs_f32());
        last_time = Some(frame.at);
        let t_track = Instant::now();
        let found = tracker.process(&camera)?.filter(|f| f.usable);
        stages[0].push(ms(t_track));
        let t_retarget = Instant::now();
        let mut driver = None;
        if let Some(face) = found {
            let scale = crate::track::smooth::interocular(&face.landmarks);
            let points = match filter.as_mut() {
                Some(f) => f.filter(&face.landmarks, dt, scale),
                None => face.landmarks,
            };
            let pupils = match (face.pupils, pupil_filter.as_mut()) {
                (Some(p), Some(f)) => Some(f.filter(&p, dt, scale)),
                (p, _) => p,
            };
            let pick = controls.set_neutral.swap(false, Ordering::Relaxed);
            let (reference, reference_pupils, changed) =
                neutral.offer(&points, pupils, frame.at, pick);
            if changed || retargeter.is_none() {
                retargeter = Some(Retargeter::with_pupils(
                    &rig.face,
                    &reference,
                    reference_pupils.as_ref(),
                    &rig.retarget,
                )?);
            }
            if let Some(moved) = retargeter
                .as_ref()
                .and_then(|r| r.frame_with_pupils(&points, pupils.as_ref()))
            {
                pose = (moved.points, moved.pupils);
                last_seen = Some(frame.at);
            }
            driver = Some(points);
        } else {
            // No face: hold the last pose, then ease back to rest.
            if let Some(f) = filter.as_mut() {
                f.reset();
            }
            if let Some(f) = pupil_filter.as_mut() {
                f.reset();
            }
            let away =
                last_seen.map_or(f32::INFINITY, |t| frame.at.duration_since(t).as_secs_f32());
            let k = 1.0 - (-(dt / EASE_BACK)).exp();
            if away > 0.2 && k > 0.0 {
                let ease = |a: Point, b: Point| a + (b - a) * k;
                for (p, r) in pose.0.iter_mut().zip(&rig.face.points) {
                    *p = ease(*p, *r);
                }
                if let (Some(p), Some(r)) = (pose.1.as_mut(), rig.face.pupils) {
                    for (q, s) in p.iter_mut().zip(r) {
                        *q = ease(*q, s);
                    }
                }
            }
        }
        let (points, pupils) = pose;
        stages[1].push(ms(t_retarget));
        let t_render = Instant::now();
        animator.render_into(&points, pupils.as_ref(), &mut out)?;
        stages[2].push(ms(t_render));
        let latency = frame.at.elapsed();
        let t_output = Instant::now();
        sink(&LiveFrame {
            image: &out,
            camera: &camera,
            driver: driver.as_ref(),
            character: &points,
            latency,
        })
        .map_err(LiveError::Sink)?;
        stages[3].push(ms(t_output));
        latencies.push(latency.as_secs_f64() * 1000.0);
        frames_out += 1;
    };
    if let CaptureEnd::Failed(reason) = &end {
        tracing::warn!("the source stopped: {reason}");
    }
    let counts = capture.counts();
    let elapsed = start.elapsed().as_secs_f64().max(1e-9);
    Ok(LiveStats {
        source_fps: capture.fps(),
        frames_in: counts.frames_in,
        frames_out,
        dropped: counts.dropped,
        fps: frames_out as f64 / elapsed,
        latency_ms: LatencyStats {
            p50: latencies.quantile(0.5),
            p95: latencies.quantile(0.95),
            max: latencies.max,
        },
        stages_ms: StageStats {
            track: stages[0].quantile(0.5),
            retarget: stages[1].quantile(0.5),
            render: stages[2].quantile(0.5),
            output: stages[3].quantile(0.5),
        },
    })
}

/// The source path for `--camera`: a device index (`0` → `/dev/video0` on Linux) or anything
/// FFmpeg opens (a file, a URL, a device path).
pub fn source_path(spec: &str) -> PathBuf {
    match spec.parse::<u32>() {
        Ok(n) if cfg!(target_os = "linux") => PathBuf::from(format!("/dev/video{n}")),
        _ => PathBuf::from(spec),
    }
}

/// Video capture devices on this machine as (path, name); empty where there are none or the
/// platform offers no listing.
pub fn list_cameras() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/sys/class/video4linux") else {
        return out;
    };
    for entry in entries.flatten() {
        let name = std::fs::read_to_string(entry.path().join("name"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        out.push((PathBuf::from("/dev").join(entry.file_name()), name));
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landmarks::synthetic::{Expression, posed_face};

    #[test]
    fn histogram_percentiles_are_within_a_bin_and_memory_is_fixed() {
        let mut h = Histogram::new();
        assert_eq!(h.quantile(0.5), 0.0);
        for ms in 1..=100 {
            h.push(f64::from(ms));
        }
        h.push(f64::NAN);
        h.push(5000.0);
        assert!(
            (h.quantile(0.5) - 51.0).abs() <= BIN_MS,
            "{}",
            h.quantile(0.5)
        );
        assert!(
            (h.quantile(0.95) - 96.0).abs() <= BIN_MS,
            "{}",
            h.quantile(0.95)
        );
        assert_eq!(h.max, 5000.0);
        assert_eq!(h.bins.len(), BINS);
    }

    #[test]
    fn the_neutral_face_is_the_first_seconds_most_neutral_unless_one_is_set() {
        let face = |open: f32| {
            posed_face(
                200.0,
                200.0,
                80.0,
                &Expression {
                    mouth_open: open,
                    ..Default::default()
                },
            )
        };
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut n = Neutral::new();
        assert!(n.offer(&face(0.6), None, at(0), false).2);
        let (pick, _, changed) = n.offer(&face(0.0), None, at(300), false);
        assert!(changed && pick == face(0.0));
        // Later frames do not replace it once the first second is over.
        n.offer(&face(0.3), None, at(800), false);
        let (pick, _, changed) = n.offer(&face(0.0), None, at(1500), false);
        assert!(!changed && pick == face(0.0));
        let (pick, _, _) = n.offer(&face(0.8), None, at(1600), false);
        assert_eq!(pick, face(0.0));
        // Set neutral takes the frame it is given, and keeps it.
        let (pick, _, changed) = n.offer(&face(0.5), None, at(1700), true);
        assert!(changed && pick == face(0.5));
        assert_eq!(n.offer(&face(0.0), None, at(1800), false).0, face(0.5));
    }
}
