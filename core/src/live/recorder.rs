//! Recording a live session on a thread of its own, so encoding never holds up the pipeline.
//!
//! Frames go to the encoder thread over a short bounded queue: a recording keeps every frame,
//! and only when the encoder stays slower than the pipeline for that many frames does the
//! pipeline wait for it. The file appears whole when the recording finishes.

use crate::media::{ExportOptions, Exporter, MediaError};
use image::RgbaImage;
use std::path::PathBuf;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Frames that may wait for the encoder before the pipeline waits for it.
const QUEUE: usize = 8;

/// A recording in progress.
pub struct Recorder {
    frames: Option<SyncSender<RgbaImage>>,
    thread: Option<JoinHandle<Result<PathBuf, MediaError>>>,
    path: PathBuf,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// Start recording `width` × `height` frames at `fps` to `path` (MP4, GIF or a PNG folder,
    /// by the path). Fails at once when the output cannot be created.
    pub fn start(path: PathBuf, width: u32, height: u32, fps: f64) -> Result<Self, MediaError> {
        let (tx, rx) = sync_channel::<RgbaImage>(QUEUE);
        let (opened_tx, opened_rx) = std::sync::mpsc::channel();
        let target = path.clone();
        let thread = std::thread::Builder::new()
            .name("faceshot-record".into())
            .spawn(move || {
                let opts = ExportOptions {
                    fps,
                    ..Default::default()
                };
                let mut out = match Exporter::create(&target, width, height, &opts) {
                    Ok(out) => {
                        let _ = opened_tx.send(Ok(()));
                        out
                    }
                    Err(e) => {
                        let _ = opened_tx.send(Err(e.to_string()));
                        return Err(e);
                    }
                };
                for frame in rx {
                    // Dropping the exporter on an error removes the partial file.
                    out.push(&frame)?;
                }
                out.finish()
            })
            .map_err(|e| MediaError::Io {
                path: path.clone(),
                error: e,
            })?;
        match opened_rx.recv() {
            Ok(Ok(())) => Ok(Self {
                frames: Some(tx),
                thread: Some(thread),
                path,
            }),
            Ok(Err(_)) | Err(_) => match thread.join() {
                Ok(Err(e)) => Err(e),
                _ => Err(MediaError::InvalidInput {
                    path,
                    reason: "the recording thread stopped before starting".into(),
                }),
            },
        }
    }

    /// Queue one frame; fails when the encoder has stopped (its error comes from
    /// [`Recorder::finish`]).
    pub fn push(&self, frame: &RgbaImage) -> Result<(), String> {
        match &self.frames {
            Some(tx) => tx
                .send(frame.clone())
                .map_err(|_| format!("{}: the recording stopped", self.path.display())),
            None => Err("the recording is finished".into()),
        }
    }

    /// Encode what is queued, finish the file and publish it; returns its path.
    pub fn finish(mut self) -> Result<PathBuf, MediaError> {
        self.frames = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            _ => Err(MediaError::InvalidInput {
                path: self.path.clone(),
                reason: "the recording thread stopped unexpectedly".into(),
            }),
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Closing the queue lets the thread finish; an unfinished recording is published too,
        // so that stopping on an error keeps what was recorded.
        self.frames = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
