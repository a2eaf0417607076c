//! Animated GIF output: a NeuQuant palette per frame, 1-bit transparency, exact average timing.

use super::error::MediaError;
use crate::atomic::AtomicFile;
use image::RgbaImage;
use image::imageops::FilterType;
use std::borrow::Cow;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// GIF delays are in 1/100 s and browsers slow down anything under 2/100 s, so 50 fps is the
/// fastest rate that plays as written.
pub const GIF_MAX_FPS: f64 = 50.0;

/// Settings of a GIF export.
#[derive(Clone, Debug, PartialEq)]
pub struct GifOptions {
    /// Frame rate of the frames pushed in.
    pub fps: f64,
    /// Play at most this many frames per second (frames are dropped evenly to reach it).
    pub max_fps: Option<f64>,
    /// Scale down so that neither side exceeds this many pixels.
    pub max_side: Option<u32>,
    /// Palette quality from 0 (fastest) to 100 (best).
    pub quality: u8,
}

impl Default for GifOptions {
    fn default() -> Self {
        Self {
            fps: 30.0,
            max_fps: None,
            max_side: None,
            quality: 80,
        }
    }
}

/// Writes RGBA frames to a looping GIF; the file appears under its name only on `finish`.
pub struct GifWriter {
    encoder: gif::Encoder<BufWriter<File>>,
    in_fps: f64,
    out_fps: f64,
    width: u32,
    height: u32,
    out_w: u16,
    out_h: u16,
    speed: i32,
    pushed: u64,
    written: u64,
    file: AtomicFile,
}

impl GifWriter {
    /// Start a GIF at `path` for frames of `width` × `height`.
    pub fn create(
        path: &Path,
        width: u32,
        height: u32,
        opts: &GifOptions,
    ) -> Result<Self, MediaError> {
        let invalid = |reason: String| MediaError::InvalidInput {
            path: path.to_path_buf(),
            reason,
        };
        if width == 0 || height == 0 {
            return Err(invalid(format!("frame size {width}x{height} is empty")));
        }
        if !(opts.fps.is_finite() && opts.fps > 0.0) {
            return Err(invalid(format!("fps {} must be positive", opts.fps)));
        }
        let mut out_fps = opts.fps.min(GIF_MAX_FPS);
        if let Some(m) = opts.max_fps {
            if !(m.is_finite() && m > 0.0) {
                return Err(invalid(format!("max fps {m} must be positive")));
            }
            out_fps = out_fps.min(m);
        }
        let limit = opts.max_side.unwrap_or(u32::from(u16::MAX)).clamp(1, 65535);
        let scale = (f64::from(limit) / f64::from(width.max(height))).min(1.0);
        let out_w = ((f64::from(width) * scale).round() as u32).clamp(1, 65535) as u16;
        let out_h = ((f64::from(height) * scale).round() as u32).clamp(1, 65535) as u16;
        let file = AtomicFile::new(path, ".gif").map_err(|e| MediaError::io(path, e))?;
        let out = File::create(file.temp_path()).map_err(|e| MediaError::io(path, e))?;
        let mut encoder = gif::Encoder::new(BufWriter::new(out), out_w, out_h, &[])
            .map_err(|e| MediaError::encode(path, e))?;
        encoder
            .set_repeat(gif::Repeat::Infinite)
            .map_err(|e| MediaError::encode(path, e))?;
        let speed = (30 - i32::from(opts.quality.min(100)) * 29 / 100).clamp(1, 30);
        Ok(Self {
            encoder,
            in_fps: opts.fps,
            out_fps,
            width,
            height,
            out_w,
            out_h,
            speed,
            pushed: 0,
            written: 0,
            file,
        })
    }

    /// Size of the frames in the GIF (after `max_side`).
    pub fn output_size(&self) -> (u32, u32) {
        (u32::from(self.out_w), u32::from(self.out_h))
    }

    /// Add one frame (must have the size given at creation). Frames that fall between output
    /// frame slots (when `max_fps` is below the input rate) are skipped.
    pub fn push(&mut self, image: &RgbaImage) -> Result<(), MediaError> {
        let path = self.file.target().to_path_buf();
        MediaError::check_frame_size(&path, self.pushed, image, (self.width, self.height))?;
        let i = self.pushed;
        self.pushed += 1;
        let slot = |n: u64| (n as f64 * self.out_fps / self.in_fps + 1e-9).floor() as u64;
        if i > 0 && slot(i) == slot(i - 1) {
            return Ok(());
        }
        let scaled;
        let frame_img = if (u32::from(self.out_w), u32::from(self.out_h)) != image.dimensions() {
            scaled = image::imageops::resize(
                image,
                u32::from(self.out_w),
                u32::from(self.out_h),
                FilterType::Triangle,
            );
            &scaled
        } else {
            image
        };
        let k = self.written;
        let cs = |n: u64| (n as f64 * 100.0 / self.out_fps).round() as u64;
        let delay = (cs(k + 1) - cs(k)).clamp(2, u64::from(u16::MAX)) as u16;
        let mut frame = quantise(frame_img, self.out_w, self.out_h, self.speed);
        frame.delay = delay;
        self.encoder
            .write_frame(&frame)
            .map_err(|e| MediaError::encode(&path, e))?;
        self.written += 1;
        Ok(())
    }

    /// Finish the file and move it to its final name.
    pub fn finish(self) -> Result<PathBuf, MediaError> {
        let path = self.file.target().to_path_buf();
        if self.written == 0 {
            return Err(MediaError::InvalidInput {
                path,
                reason: "no frames to write".into(),
            });
        }
        let GifWriter { encoder, file, .. } = self;
        let writer = encoder
            .into_inner()
            .map_err(|e| MediaError::encode(&path, e))?;
        let file_handle = writer
            .into_inner()
            .map_err(|e| MediaError::io(&path, e.into_error()))?;
        file_handle
            .sync_all()
            .map_err(|e| MediaError::io(&path, e))?;
        drop(file_handle);
        file.commit().map_err(|e| MediaError::io(&path, e))
    }
}

/// One GIF frame: opaque pixels (alpha ≥ 128) quantised to at most 255 colours with NeuQuant,
/// index 255 reserved for transparency when any pixel is transparent.
fn quantise(image: &RgbaImage, w: u16, h: u16, speed: i32) -> gif::Frame<'static> {
    let px = image.as_raw();
    let transparent_any = px.chunks_exact(4).any(|p| p[3] < 128);
    let opaque: Vec<u8> = px
        .chunks_exact(4)
        .filter(|p| p[3] >= 128)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    let colours = if transparent_any { 255 } else { 256 };
    let (palette, indices) = if opaque.is_empty() {
        (vec![0u8; 3], vec![0u8; px.len() / 4])
    } else {
        let nq = color_quant::NeuQuant::new(speed, colours, &opaque);
        let idx = px
            .chunks_exact(4)
            .map(|p| {
                if p[3] < 128 {
                    255
                } else {
                    nq.index_of(&[p[0], p[1], p[2], 255]) as u8
                }
            })
            .collect();
        let mut pal = nq.color_map_rgb();
        pal.resize(256 * 3, 0);
        (pal, idx)
    };
    gif::Frame {
        width: w,
        height: h,
        buffer: Cow::Owned(indices),
        palette: Some(palette),
        transparent: (transparent_any && !opaque.is_empty()).then_some(255),
        dispose: if transparent_any {
            gif::DisposalMethod::Background
        } else {
            gif::DisposalMethod::Keep
        },
        ..gif::Frame::default()
    }
}

impl std::fmt::Debug for GifWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GifWriter")
            .field("target", &self.file.target())
            .finish_non_exhaustive()
    }
}
