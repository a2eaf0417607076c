//! One door for every output kind: pick MP4, GIF or a PNG sequence from the target path.

use super::error::MediaError;
use super::gif_writer::{GifOptions, GifWriter};
use super::mp4_writer::{Mp4Options, Mp4Writer};
use super::png_sequence::PngSequenceWriter;
use image::RgbaImage;
use std::path::{Path, PathBuf};

/// The kinds of output FaceShot writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// H.264 (or MPEG-4) video in an MP4 container.
    Mp4,
    /// Looping animated GIF.
    Gif,
    /// A folder of numbered RGBA PNG frames.
    PngSequence,
}

impl ExportFormat {
    /// Choose by the path: `.mp4`/`.m4v` → MP4, `.gif` → GIF, an existing folder, a path
    /// ending in `/` or a name without extension → PNG sequence.
    pub fn from_path(path: &Path) -> Result<Self, MediaError> {
        if path.as_os_str() == "-" {
            return Err(MediaError::InvalidInput {
                path: path.to_path_buf(),
                reason: "writing to standard output is not supported; give a file name".into(),
            });
        }
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        if path.is_dir() {
            // A folder named like a video is far more likely a mistake than a frame folder.
            return match extension.as_deref() {
                Some("mp4" | "m4v" | "gif") => Err(MediaError::InvalidInput {
                    path: path.to_path_buf(),
                    reason: "is a folder; give a file name for the video".into(),
                }),
                _ => Ok(Self::PngSequence),
            };
        }
        if path.as_os_str().to_string_lossy().ends_with('/') {
            return Ok(Self::PngSequence);
        }
        match extension.as_deref() {
            Some("mp4" | "m4v") => Ok(Self::Mp4),
            Some("gif") => Ok(Self::Gif),
            None => Ok(Self::PngSequence),
            Some(_) => Err(MediaError::UnsupportedOutput {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// Settings shared by every output kind (each uses the ones that apply to it).
#[derive(Clone, Debug, PartialEq)]
pub struct ExportOptions {
    /// Frames per second of the frames pushed in.
    pub fps: f64,
    /// Quality 0–100 (MP4 compression, GIF palette effort).
    pub quality: u8,
    /// MP4: colour under transparent pixels.
    pub background: [u8; 3],
    /// MP4: copy this file's audio, trimmed to the rendered length.
    pub audio_from: Option<PathBuf>,
    /// GIF: largest side in pixels.
    pub gif_max_side: Option<u32>,
    /// GIF: highest frame rate.
    pub gif_max_fps: Option<f64>,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            fps: 30.0,
            quality: 80,
            background: [255, 255, 255],
            audio_from: None,
            gif_max_side: None,
            gif_max_fps: None,
        }
    }
}

/// An output being written; nothing appears under the target name until [`Exporter::finish`],
/// and dropping it (e.g. on cancel) removes the partial output.
#[derive(Debug)]
pub enum Exporter {
    /// MP4 output.
    Mp4(Box<Mp4Writer>),
    /// GIF output.
    Gif(Box<GifWriter>),
    /// PNG-sequence output.
    Png(PngSequenceWriter),
}

impl Exporter {
    /// Start writing `path` (format from the path) for frames of `width` × `height`.
    pub fn create(
        path: &Path,
        width: u32,
        height: u32,
        opts: &ExportOptions,
    ) -> Result<Self, MediaError> {
        Ok(match ExportFormat::from_path(path)? {
            ExportFormat::Mp4 => Self::Mp4(Box::new(Mp4Writer::create(
                path,
                width,
                height,
                &Mp4Options {
                    fps: opts.fps,
                    quality: opts.quality,
                    background: opts.background,
                    audio_from: opts.audio_from.clone(),
                },
            )?)),
            ExportFormat::Gif => Self::Gif(Box::new(GifWriter::create(
                path,
                width,
                height,
                &GifOptions {
                    fps: opts.fps,
                    max_fps: opts.gif_max_fps,
                    max_side: opts.gif_max_side,
                    quality: opts.quality,
                },
            )?)),
            ExportFormat::PngSequence => Self::Png(PngSequenceWriter::create(path, width, height)?),
        })
    }

    /// Add one frame.
    pub fn push(&mut self, frame: &RgbaImage) -> Result<(), MediaError> {
        match self {
            Self::Mp4(w) => w.push(frame),
            Self::Gif(w) => w.push(frame),
            Self::Png(w) => w.push(frame),
        }
    }

    /// A note for the user about the output (e.g. why the audio was not copied).
    pub fn note(&self) -> Option<&str> {
        match self {
            Self::Mp4(w) => w.audio_note(),
            _ => None,
        }
    }

    /// Complete the output and publish it under its target name.
    pub fn finish(self) -> Result<PathBuf, MediaError> {
        match self {
            Self::Mp4(w) => w.finish(),
            Self::Gif(w) => w.finish(),
            Self::Png(w) => w.finish(),
        }
    }
}
