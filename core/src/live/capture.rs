//! Capture on its own thread into a latest-frame slot.
//!
//! The slot holds one frame: a frame the consumer has not taken when the next one arrives is
//! dropped and counted, so the consumer always works on the newest picture and latency never
//! builds up behind a queue. A file plays at its own frame rate (real-time pacing), as a camera
//! would deliver it; cameras (FFmpeg's device layer) and streams deliver at their own pace.

use crate::media::{MediaError, VideoReader};
use image::RgbImage;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One captured picture.
#[derive(Debug)]
pub struct Captured {
    /// The picture.
    pub image: RgbImage,
    /// When it was captured (decoded and due).
    pub at: Instant,
    /// Its number since capture started.
    pub index: u64,
}

/// Counts kept by the capture thread.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CaptureCounts {
    /// Frames captured.
    pub frames_in: u64,
    /// Frames overwritten before the consumer took them.
    pub dropped: u64,
}

/// How the capture ended.
#[derive(Clone, Debug, PartialEq)]
pub enum CaptureEnd {
    /// The source has no more frames.
    Finished,
    /// Reading failed (the message says why).
    Failed(String),
    /// Stopped by [`Capture::stop`].
    Stopped,
}

#[derive(Default)]
struct Slot {
    frame: Option<Captured>,
    counts: CaptureCounts,
    end: Option<CaptureEnd>,
}

/// What [`Capture::next`] returns.
#[derive(Debug)]
pub enum Next {
    /// The newest frame.
    Frame(Captured),
    /// No new frame within the wait.
    Waiting,
    /// The capture is over.
    Ended(CaptureEnd),
}

/// A running capture: a thread decoding a source into the slot.
pub struct Capture {
    shared: Arc<(Mutex<Slot>, Condvar)>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    fps: f64,
    size: (u32, u32),
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("fps", &self.fps)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Capture {
    /// Open `source` and start delivering its frames: a video file at its own frame rate, a
    /// capture device (`/dev/videoN` on Linux, an index on macOS, `video=NAME` on Windows)
    /// through FFmpeg's device layer, or a stream URL, as they come.
    pub fn open(source: PathBuf) -> Result<Self, MediaError> {
        let shared = Arc::new((Mutex::new(Slot::default()), Condvar::new()));
        let stop = Arc::new(AtomicBool::new(false));
        // The decoder lives on the capture thread; it reports the source's rate and size (or
        // why it cannot open) before delivering frames.
        let (opened_tx, opened_rx) = std::sync::mpsc::channel();
        let thread = {
            let (shared, stop, path) = (Arc::clone(&shared), Arc::clone(&stop), source.clone());
            std::thread::Builder::new()
                .name("faceshot-capture".into())
                .spawn(move || {
                    let (reader, paced) = match open_reader(&path) {
                        Ok(r) => r,
                        Err(e) => {
                            let _ = opened_tx.send(Err(e));
                            return;
                        }
                    };
                    let info = reader.info();
                    let fps = if info.fps.is_finite() && info.fps > 0.0 {
                        info.fps
                    } else {
                        30.0
                    };
                    let _ = opened_tx.send(Ok((fps, (info.width, info.height))));
                    run(reader, fps, paced, &shared, &stop);
                })
                .map_err(|e| MediaError::Io {
                    path: source.clone(),
                    error: e,
                })?
        };
        let opened = opened_rx.recv().map_err(|_| MediaError::InvalidInput {
            path: source.clone(),
            reason: "the capture thread stopped before opening the source".into(),
        });
        let (fps, size) = match opened {
            Ok(Ok(v)) => v,
            Ok(Err(e)) | Err(e) => {
                let _ = thread.join();
                return Err(e);
            }
        };
        Ok(Self {
            shared,
            stop,
            thread: Some(thread),
            fps,
            size,
        })
    }

    /// The source's frame rate.
    pub fn fps(&self) -> f64 {
        self.fps
    }

    /// The source's frame size.
    pub fn size(&self) -> (u32, u32) {
        self.size
    }

    /// The newest frame not yet taken, waiting up to `wait` for one.
    pub fn next(&self, wait: Duration) -> Next {
        let (lock, ready) = &*self.shared;
        let mut slot = lock.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.frame.is_none() && slot.end.is_none() {
            slot = ready
                .wait_timeout(slot, wait)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        match (slot.frame.take(), &slot.end) {
            (Some(frame), _) => Next::Frame(frame),
            (None, Some(end)) => Next::Ended(end.clone()),
            (None, None) => Next::Waiting,
        }
    }

    /// Counts so far.
    pub fn counts(&self) -> CaptureCounts {
        let (lock, _) = &*self.shared;
        lock.lock().unwrap_or_else(PoisonError::into_inner).counts
    }

    /// Stop capturing and wait for the thread.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The FFmpeg device-layer input for a capture device path on this platform, if it is one.
fn device_input(source: &std::path::Path) -> Option<&'static str> {
    let text = source.to_str()?;
    if cfg!(target_os = "linux") && text.starts_with("/dev/") {
        Some("v4l2")
    } else if cfg!(target_os = "macos") && text.parse::<u32>().is_ok() {
        Some("avfoundation")
    } else if cfg!(target_os = "windows") && text.starts_with("video=") {
        Some("dshow")
    } else {
        None
    }
}

/// Open `source`: a regular file plays paced at its own rate; a device or a stream delivers
/// frames as they come.
fn open_reader(source: &std::path::Path) -> Result<(VideoReader, bool), MediaError> {
    if source.is_file() {
        return Ok((VideoReader::open(source)?, true));
    }
    let Some(text) = source.to_str() else {
        return VideoReader::open(source).map(|r| (r, true));
    };
    let device = device_input(source);
    if device.is_none() && !text.contains("://") {
        // Neither a device nor a URL: the file error says what is wrong.
        return VideoReader::open(source).map(|r| (r, true));
    }
    Ok((VideoReader::open_source(text, device)?, false))
}

fn run(
    mut reader: VideoReader,
    fps: f64,
    paced: bool,
    shared: &(Mutex<Slot>, Condvar),
    stop: &AtomicBool,
) {
    let (lock, ready) = shared;
    let start = Instant::now();
    let mut index = 0u64;
    let end = loop {
        if stop.load(Ordering::Relaxed) {
            break CaptureEnd::Stopped;
        }
        let next = if paced {
            reader.next_frame()
        } else {
            reader.next_decoded()
        };
        let frame = match next {
            Ok(Some(frame)) => frame,
            Ok(None) => break CaptureEnd::Finished,
            Err(e) => break CaptureEnd::Failed(e.to_string()),
        };
        if paced {
            // Real-time pacing: frame k is due k / fps after the start.
            let due = start + Duration::from_secs_f64(index as f64 / fps);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        let mut slot = lock.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.frame.is_some() {
            slot.counts.dropped += 1;
        }
        slot.counts.frames_in += 1;
        slot.frame = Some(Captured {
            image: frame.image,
            at: Instant::now(),
            index,
        });
        ready.notify_one();
        index += 1;
    };
    let mut slot = lock.lock().unwrap_or_else(PoisonError::into_inner);
    slot.end = Some(end);
    ready.notify_all();
}
