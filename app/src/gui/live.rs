//! Live mode in the app: a camera or stream drives the character in real time.
//!
//! A session runs [`faceshot_core::live::run_live`] on its own thread (not the worker, which
//! stays free for other jobs). Each rendered frame comes back over a one-slot channel as egui
//! images (the UI shows the newest; older ones are simply replaced), with the tracked points
//! and the figures so far. Edits to the landmarks and settings reach the running session
//! through [`LiveControls::update_rig`]; Stop, Set neutral and the recording are handled here.

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use eframe::egui::ColorImage;
use faceshot_core::landmarks::Landmarks;
use faceshot_core::live::{
    Capture, LiveControls, LiveFrame, LiveOptions, LiveRig, LiveStats, run_live_recorded,
};
use faceshot_core::track::Tracker;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The newest live frame, as the views show it.
#[derive(Clone)]
pub struct LiveView {
    /// The camera picture.
    pub camera: Arc<ColorImage>,
    /// The tracked driver points on it, when a face was found.
    pub driver: Option<Landmarks>,
    /// The rendered character.
    pub character: Arc<ColorImage>,
    /// Output frames per second over the last second.
    pub fps: f32,
    /// Capture → frame ready of this frame, milliseconds.
    pub latency_ms: f32,
    /// Frame number since the start.
    pub frame: u64,
}

impl std::fmt::Debug for LiveView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveView")
            .field("fps", &self.fps)
            .field("latency_ms", &self.latency_ms)
            .field("frame", &self.frame)
            .finish_non_exhaustive()
    }
}

/// A running live session.
pub struct LiveSession {
    controls: Arc<LiveControls>,
    frames: Receiver<LiveView>,
    thread: Option<JoinHandle<Result<LiveStats, String>>>,
    /// The source being shown.
    pub source: PathBuf,
    /// Where the recording goes, when recording.
    pub recording: Option<PathBuf>,
    /// The newest frame received.
    pub latest: Option<LiveView>,
}

impl std::fmt::Debug for LiveSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSession")
            .field("source", &self.source)
            .field("recording", &self.recording)
            .finish_non_exhaustive()
    }
}

impl LiveSession {
    /// Open `source` and start animating `rig`, recording to `record` when given. Fails (with
    /// a one-line reason) when the source or the tracker cannot be opened.
    pub fn start(
        source: PathBuf,
        rig: LiveRig,
        options: LiveOptions,
        record: Option<PathBuf>,
    ) -> Result<Self, String> {
        let mut capture = Capture::open(source.clone()).map_err(|e| format!("live source: {e}"))?;
        let mut tracker = Tracker::with_defaults().map_err(|e| format!("face tracker: {e}"))?;
        let controls = Arc::new(LiveControls::default());
        let (tx, rx) = bounded(1);
        let thread = {
            let (controls, record) = (Arc::clone(&controls), record.clone());
            std::thread::Builder::new()
                .name("faceshot-live".into())
                .spawn(move || {
                    // A recording that cannot be created ends the session with its reason.
                    let mut sink = Sink::new(tx);
                    let (stats, _) = run_live_recorded(
                        &mut capture,
                        rig,
                        &mut tracker,
                        &options,
                        &controls,
                        record,
                        &mut |frame: &LiveFrame<'_>| {
                            sink.send(frame);
                            Ok(())
                        },
                    )
                    .map_err(|e| e.to_string())?;
                    Ok(stats)
                })
                .map_err(|e| format!("starting live mode: {e}"))?
        };
        Ok(Self {
            controls,
            frames: rx,
            thread: Some(thread),
            source,
            recording: record,
            latest: None,
        })
    }

    /// Take the newest frame, if one arrived; returns whether one did.
    pub fn poll(&mut self) -> bool {
        let mut got = false;
        while let Ok(view) = self.frames.try_recv() {
            self.latest = Some(view);
            got = true;
        }
        got
    }

    /// Whether the session is still running (its source may have ended).
    pub fn running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Take the next tracked frame as the driver's neutral face.
    pub fn set_neutral(&self) {
        self.controls.set_neutral();
    }

    /// Mirror the camera (or not) from the next frame on.
    pub fn set_mirror(&self, mirror: bool) {
        self.controls.set_mirror(mirror);
    }

    /// Animate `rig` from the next frame on (the landmarks or settings were edited).
    pub fn update(&self, rig: LiveRig) {
        self.controls.update_rig(rig);
    }

    /// Stop, wait for the thread, and return its figures (or why it failed).
    pub fn stop(&mut self) -> Result<LiveStats, String> {
        self.controls.stop();
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| "live mode stopped unexpectedly".to_string())?,
            None => Err("live mode was already stopped".into()),
        }
    }
}

impl Drop for LiveSession {
    fn drop(&mut self) {
        self.controls.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Turns rendered frames into egui images for the UI, with a rolling frame rate.
struct Sink {
    tx: Sender<LiveView>,
    times: std::collections::VecDeque<Instant>,
    frame: u64,
}

impl Sink {
    fn new(tx: Sender<LiveView>) -> Self {
        Self {
            tx,
            times: std::collections::VecDeque::new(),
            frame: 0,
        }
    }

    fn send(&mut self, frame: &LiveFrame<'_>) {
        let now = Instant::now();
        self.times.push_back(now);
        while self
            .times
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1))
        {
            self.times.pop_front();
        }
        self.frame += 1;
        // The UI has not taken the previous frame yet: skip the conversion for this one.
        if self.tx.is_full() {
            return;
        }
        let camera = ColorImage::from_rgb(
            [
                frame.camera.width() as usize,
                frame.camera.height() as usize,
            ],
            frame.camera.as_raw(),
        );
        let character = ColorImage::from_rgba_unmultiplied(
            [frame.image.width() as usize, frame.image.height() as usize],
            frame.image.as_raw(),
        );
        let view = LiveView {
            camera: Arc::new(camera),
            driver: frame.driver.copied(),
            character: Arc::new(character),
            fps: self.times.len() as f32,
            latency_ms: frame.latency.as_secs_f32() * 1000.0,
            frame: self.frame,
        };
        match self.tx.try_send(view) {
            Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {}
        }
    }
}
