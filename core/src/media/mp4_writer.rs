//! MP4 output: H.264 (libx264) in yuv420p when available, MPEG-4 Part 2 otherwise.

use super::audio_copy::AudioCopier;
use super::error::MediaError;
use super::ffmpeg_setup::{FfmpegPath, ensure_init};
use super::frame_convert::Yuv420Converter;
use crate::atomic::AtomicFile;
use ffmpeg_next::{Dictionary, Packet, Rational, codec, encoder, format};
use image::RgbaImage;
use std::path::{Path, PathBuf};

/// Settings of an MP4 export.
#[derive(Clone, Debug, PartialEq)]
pub struct Mp4Options {
    /// Frames per second.
    pub fps: f64,
    /// Quality from 0 (smallest file) to 100 (near lossless); 80 is visually clean.
    pub quality: u8,
    /// Colour under transparent pixels (MP4 has no alpha).
    pub background: [u8; 3],
    /// Copy this file's audio, trimmed to the video's length.
    pub audio_from: Option<PathBuf>,
}

impl Default for Mp4Options {
    fn default() -> Self {
        Self {
            fps: 30.0,
            quality: 80,
            background: [255, 255, 255],
            audio_from: None,
        }
    }
}

/// Writes RGBA frames to an MP4 file; the file appears under its name only after
/// [`Mp4Writer::finish`].
pub struct Mp4Writer {
    octx: format::context::Output,
    encoder: encoder::Video,
    converter: Yuv420Converter,
    stream_index: usize,
    encoder_time_base: Rational,
    width: u32,
    height: u32,
    fps: f64,
    count: i64,
    audio: Option<AudioCopier>,
    audio_note: Option<String>,
    codec_name: String,
    // Last, so the output context closes the file before the temporary path is removed.
    file: AtomicFile,
}

impl Mp4Writer {
    /// Start an MP4 at `path` for frames of `width` × `height` (odd sizes are padded by one
    /// pixel of edge colour, since yuv420p needs even sizes).
    pub fn create(
        path: &Path,
        width: u32,
        height: u32,
        opts: &Mp4Options,
    ) -> Result<Self, MediaError> {
        ensure_init();
        if width == 0 || height == 0 || width > 8192 || height > 8192 {
            return Err(MediaError::InvalidInput {
                path: path.to_path_buf(),
                reason: format!("frame size {width}x{height} is not in 1..=8192"),
            });
        }
        if !(opts.fps.is_finite() && opts.fps > 0.0 && opts.fps <= 240.0) {
            return Err(MediaError::InvalidInput {
                path: path.to_path_buf(),
                reason: format!("fps {} is not in (0, 240]", opts.fps),
            });
        }
        let file = AtomicFile::new(path, ".mp4").map_err(|e| MediaError::io(path, e))?;
        let enc_err = |e: ffmpeg_next::Error| MediaError::encode(path, e);
        let temp_path = FfmpegPath::new(file.temp_path()).map_err(|e| MediaError::io(path, e))?;
        let mut octx = format::output_as(temp_path.as_str(), "mp4").map_err(enc_err)?;
        let global_header = octx.format().flags().contains(format::Flags::GLOBAL_HEADER);

        let (codec, is_x264) = match encoder::find_by_name("libx264") {
            Some(c) => (c, true),
            None => {
                tracing::info!("libx264 not available; falling back to MPEG-4 Part 2");
                let c = encoder::find(codec::Id::MPEG4)
                    .ok_or_else(|| MediaError::encode(path, "no H.264 or MPEG-4 encoder"))?;
                (c, false)
            }
        };
        let converter = Yuv420Converter::new(width, height, opts.background).map_err(enc_err)?;
        let rate = Rational::from(opts.fps);
        let encoder_time_base = rate.invert();

        let mut ost = octx.add_stream(codec).map_err(enc_err)?;
        let stream_index = ost.index();
        let mut ctx = converter.encoder_context(codec, rate).map_err(enc_err)?;
        if global_header {
            ctx.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let q = f64::from(opts.quality.min(100));
        let mut options = Dictionary::new();
        if is_x264 {
            let crf = (40.0 - q * 0.28).round().clamp(0.0, 51.0);
            options.set("crf", &format!("{crf}"));
            options.set("preset", "veryfast");
        } else {
            let qscale = (31.0 - q * 0.29).round().clamp(1.0, 31.0) as i32;
            ctx.set_flags(
                codec::Flags::QSCALE
                    | if global_header {
                        codec::Flags::GLOBAL_HEADER
                    } else {
                        codec::Flags::empty()
                    },
            );
            ctx.set_global_quality(qscale * 118);
        }
        let encoder = ctx.open_with(options).map_err(enc_err)?;
        ost.set_parameters(&encoder);
        ost.set_time_base(encoder_time_base);
        ost.set_avg_frame_rate(rate);

        let (audio, audio_note) = match &opts.audio_from {
            Some(src) => match AudioCopier::add_to(src, &mut octx) {
                Ok(Ok(a)) => (Some(a), None),
                Ok(Err(note)) => (None, Some(note)),
                Err(e) => (
                    None,
                    Some(format!("{}: audio not copied: {e}", src.display())),
                ),
            },
            None => (None, None),
        };
        if let Some(note) = &audio_note {
            tracing::info!("{note}");
        }
        octx.write_header().map_err(enc_err)?;
        Ok(Self {
            octx,
            encoder,
            converter,
            stream_index,
            encoder_time_base,
            width,
            height,
            fps: opts.fps,
            count: 0,
            audio,
            audio_note,
            codec_name: codec.name().to_string(),
            file,
        })
    }

    /// Name of the video encoder in use (`libx264` or `mpeg4`).
    pub fn codec_name(&self) -> &str {
        &self.codec_name
    }

    /// Why the driving audio is not in the output, when it was asked for and could not be.
    pub fn audio_note(&self) -> Option<&str> {
        self.audio_note.as_deref()
    }

    /// Encode one frame (must have the size given at creation).
    pub fn push(&mut self, image: &RgbaImage) -> Result<(), MediaError> {
        let path = self.file.target().to_path_buf();
        MediaError::check_frame_size(&path, self.count as u64, image, (self.width, self.height))?;
        let mut yuv = self
            .converter
            .convert(image)
            .map_err(|e| MediaError::encode(&path, e))?;
        yuv.set_pts(Some(self.count));
        self.encoder
            .send_frame(&yuv)
            .map_err(|e| MediaError::encode(&path, e))?;
        self.count += 1;
        self.drain_packets()?;
        let until = self.count as f64 / self.fps;
        if let Some(audio) = self.audio.as_mut() {
            audio
                .pump(&mut self.octx, until)
                .map_err(|e| MediaError::encode(&path, e))?;
        }
        Ok(())
    }

    /// Flush the encoder, finish the file and move it to its final name.
    pub fn finish(mut self) -> Result<PathBuf, MediaError> {
        let path = self.file.target().to_path_buf();
        if self.count == 0 {
            return Err(MediaError::InvalidInput {
                path,
                reason: "no frames to write".into(),
            });
        }
        self.encoder
            .send_eof()
            .map_err(|e| MediaError::encode(&path, e))?;
        self.drain_packets()?;
        let until = self.count as f64 / self.fps;
        if let Some(audio) = self.audio.as_mut() {
            audio
                .pump(&mut self.octx, until)
                .map_err(|e| MediaError::encode(&path, e))?;
        }
        self.octx
            .write_trailer()
            .map_err(|e| MediaError::encode(&path, e))?;
        let Mp4Writer { octx, file, .. } = self;
        drop(octx);
        file.commit().map_err(|e| MediaError::io(&path, e))
    }

    fn drain_packets(&mut self) -> Result<(), MediaError> {
        let out_tb = self
            .octx
            .stream(self.stream_index)
            .map(|s| s.time_base())
            .unwrap_or(self.encoder_time_base);
        let mut packet = Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            packet.set_stream(self.stream_index);
            packet.set_duration(1);
            packet.rescale_ts(self.encoder_time_base, out_tb);
            packet
                .write_interleaved(&mut self.octx)
                .map_err(|e| MediaError::encode(self.file.target(), e))?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Mp4Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mp4Writer")
            .field("target", &self.file.target())
            .finish_non_exhaustive()
    }
}
