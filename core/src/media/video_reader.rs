//! Streaming video decoding through FFmpeg: metadata, an RGB frame iterator, seeking.
//!
//! Memory stays bounded whatever the length: frames are decoded one packet at a time and handed
//! out as they come; nothing accumulates.

use super::error::MediaError;
use super::ffmpeg_setup::{FfmpegPath, ensure_init};
use super::frame_convert::{rgb_frame_to_image, rotate_clockwise};
use super::video_info::{VideoInfo, rotation_from_display_matrix};
use ffmpeg_next::codec::packet::side_data::Type as SideDataType;
use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::util::error::EAGAIN;
use ffmpeg_next::{Packet, Rational, codec, decoder, format, frame, media};
use image::RgbImage;
use std::path::{Path, PathBuf};

/// One decoded frame.
#[derive(Clone, Debug)]
pub struct Frame {
    /// Index of the frame from the start of the video.
    pub index: u64,
    /// Presentation time in seconds from the start.
    pub time: f64,
    /// Pixels, already rotated for display.
    pub image: RgbImage,
}

/// An open video: metadata plus a streaming decoder. Iterate it for frames.
pub struct VideoReader {
    path: PathBuf,
    input: format::context::Input,
    stream_index: usize,
    time_base: Rational,
    start_pts: i64,
    decoder: decoder::Video,
    scaler: Option<(scaling::Context, (Pixel, u32, u32))>,
    info: VideoInfo,
    next_index: u64,
    skip_before: Option<f64>,
    eof_sent: bool,
    finished: bool,
    /// The first frame, decoded at open to prove the file holds one. It is handed out from
    /// here at the start, since some inputs (a JPEG still) cannot be rewound once read.
    first: Option<Frame>,
    replay_first: bool,
    /// Frames decoded since the last seek (for frames without a timestamp).
    decoded: u64,
    /// The time of the last frame decoded since the last seek.
    last_time: Option<f64>,
    resample: Resampler,
}

/// Puts decoded frames on a constant-rate grid by their timestamps: a variable-frame-rate
/// clip (a phone's) repeats a frame through a gap and drops surplus frames, so that frame `k`
/// is shown at `k / fps` and copied audio stays in sync. A constant-rate clip passes unchanged.
#[derive(Default)]
struct Resampler {
    /// The frame on show, `None` once handed out for the last time.
    current: Option<Frame>,
    /// Its presentation time, `None` before the first frame.
    current_time: Option<f64>,
    /// The next decoded frame.
    lookahead: Option<Frame>,
    source_done: bool,
}

impl std::fmt::Debug for VideoReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoReader")
            .field("path", &self.path)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl VideoReader {
    /// Open a video (mp4, mov, mkv, webm, avi, animated gif, …) and read its metadata.
    ///
    /// Fails with a clear error for a missing file, a file that is not a video, a container
    /// without a video stream, a codec FFmpeg cannot decode, or a stream with no frames.
    pub fn open(path: &Path) -> Result<Self, MediaError> {
        ensure_init();
        let meta = std::fs::metadata(path).map_err(|e| MediaError::io(path, e))?;
        if meta.is_dir() {
            return Err(MediaError::Open {
                path: path.to_path_buf(),
                reason: "is a folder".into(),
            });
        }
        let ffmpeg_path = FfmpegPath::new(path).map_err(|e| MediaError::io(path, e))?;
        let input = format::input(ffmpeg_path.as_str()).map_err(|e| MediaError::Open {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Self::from_input(path, input)
    }

    /// Open a live source that need not be a file: a capture device through FFmpeg's device
    /// layer (`device` names its input, e.g. `v4l2` on Linux, `avfoundation` on macOS, `dshow`
    /// on Windows) or, with `device` `None`, a stream URL or anything else FFmpeg opens.
    pub fn open_source(source: &str, device: Option<&str>) -> Result<Self, MediaError> {
        ensure_init();
        let path = PathBuf::from(source);
        let open_error = |reason: String| MediaError::Open {
            path: path.clone(),
            reason,
        };
        let input = match device {
            Some(name) => {
                let found = ffmpeg_next::device::input::video().find_map(|f| match f {
                    // Names may list aliases: "video4linux2,v4l2".
                    ffmpeg_next::Format::Input(i) if i.name().split(',').any(|n| n == name) => {
                        Some(i)
                    }
                    _ => None,
                });
                let Some(found) = found else {
                    return Err(open_error(format!(
                        "this FFmpeg build has no \"{name}\" capture input"
                    )));
                };
                let context = format::open_with(
                    source,
                    &ffmpeg_next::Format::Input(found),
                    ffmpeg_next::Dictionary::new(),
                )
                .map_err(|e| open_error(e.to_string()))?;
                match context {
                    format::context::Context::Input(input) => input,
                    format::context::Context::Output(_) => {
                        return Err(open_error("opened as an output".into()));
                    }
                }
            }
            None => format::input(source).map_err(|e| open_error(e.to_string()))?,
        };
        Self::from_input(&path, input)
    }

    /// Read an opened input's video stream and prove it has a frame.
    fn from_input(path: &Path, input: format::context::Input) -> Result<Self, MediaError> {
        let stream =
            input
                .streams()
                .best(media::Type::Video)
                .ok_or_else(|| MediaError::NoVideo {
                    path: path.to_path_buf(),
                })?;
        let stream_index = stream.index();
        let time_base = stream.time_base();
        let start_pts = if stream.start_time() == ffmpeg_next::ffi::AV_NOPTS_VALUE {
            0
        } else {
            stream.start_time()
        };
        let params = stream.parameters();
        let codec_id = params.id();
        if decoder::find(codec_id).is_none() {
            return Err(MediaError::UnsupportedCodec {
                path: path.to_path_buf(),
                codec: format!("{codec_id:?}").to_lowercase(),
            });
        }
        let mut ctx = codec::context::Context::from_parameters(params)
            .map_err(|e| MediaError::decode(path, e))?;
        ctx.set_threading(codec::threading::Config {
            kind: codec::threading::Type::Frame,
            count: 0,
            ..Default::default()
        });
        let decoder = ctx
            .decoder()
            .video()
            .map_err(|e| MediaError::UnsupportedCodec {
                path: path.to_path_buf(),
                codec: format!("{codec_id:?} ({e})").to_lowercase(),
            })?;

        let rotation = stream
            .side_data()
            .find(|sd| sd.kind() == SideDataType::DisplayMatrix)
            .and_then(|sd| rotation_from_display_matrix(sd.data()))
            .or_else(|| {
                stream
                    .metadata()
                    .get("rotate")
                    .and_then(|r| r.trim().parse::<i64>().ok())
                    .map(|r| (r.rem_euclid(360) as u32 / 90) * 90)
            })
            .unwrap_or(0);
        let rate = stream.avg_frame_rate();
        let rate = if rate.numerator() > 0 && rate.denominator() > 0 {
            rate
        } else {
            stream.rate()
        };
        let fps = if rate.numerator() > 0 && rate.denominator() > 0 {
            f64::from(rate)
        } else {
            25.0
        };
        let duration = if stream.duration() > 0 {
            stream.duration() as f64 * f64::from(time_base)
        } else if input.duration() > 0 {
            input.duration() as f64 / f64::from(ffmpeg_next::ffi::AV_TIME_BASE)
        } else {
            0.0
        };
        let (frame_count, exact) = if stream.frames() > 0 {
            (stream.frames() as u64, true)
        } else {
            ((duration * fps).round().max(0.0) as u64, false)
        };
        let (cw, ch) = (decoder.width(), decoder.height());
        let (width, height) = if rotation % 180 == 90 {
            (ch, cw)
        } else {
            (cw, ch)
        };
        let audio_codec = input
            .streams()
            .best(media::Type::Audio)
            .map(|s| format!("{:?}", s.parameters().id()).to_lowercase());
        let info = VideoInfo {
            container: input.format().name().to_string(),
            codec: decoder
                .codec()
                .map(|c| c.name().to_string())
                .unwrap_or_else(|| format!("{codec_id:?}").to_lowercase()),
            width,
            height,
            coded_width: cw,
            coded_height: ch,
            rotation,
            fps,
            duration,
            frame_count,
            frame_count_exact: exact,
            audio_codec,
        };
        let mut reader = Self {
            path: path.to_path_buf(),
            input,
            stream_index,
            time_base,
            start_pts,
            decoder,
            scaler: None,
            info,
            next_index: 0,
            skip_before: None,
            eof_sent: false,
            finished: false,
            first: None,
            replay_first: false,
            decoded: 0,
            last_time: None,
            resample: Resampler::default(),
        };
        if cw == 0 || ch == 0 {
            return Err(MediaError::NoFrames {
                path: path.to_path_buf(),
            });
        }
        // Prove there is at least one decodable frame; it is the first one handed out.
        match reader.decode_next()? {
            Some(frame) => {
                reader.first = Some(frame);
                reader.replay_first = true;
            }
            None => {
                return Err(MediaError::NoFrames {
                    path: path.to_path_buf(),
                });
            }
        }
        Ok(reader)
    }

    /// Metadata read at open.
    pub fn info(&self) -> &VideoInfo {
        &self.info
    }

    /// The file this reader decodes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next frame at the video's frame rate ([`VideoInfo::fps`]); `Ok(None)` at the end.
    /// Frame `index` is the picture on show at `index / fps` seconds.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, MediaError> {
        let fps = self.info.fps;
        let half = 0.5 / fps;
        let slot = self.next_index;
        let time = slot as f64 / fps;
        loop {
            if self.resample.lookahead.is_none() && !self.resample.source_done {
                self.resample.lookahead = self.decode_next()?;
                self.resample.source_done = self.resample.lookahead.is_none();
            }
            let advance = match &self.resample.lookahead {
                Some(f) => f.time <= time + half || self.resample.current_time.is_none(),
                None => false,
            };
            if !advance {
                break;
            }
            let frame = self.resample.lookahead.take();
            self.resample.current_time = frame.as_ref().map(|f| f.time);
            self.resample.current = frame;
        }
        let Some(current_time) = self.resample.current_time else {
            return Ok(None);
        };
        if self.resample.lookahead.is_none() && time > current_time + half {
            return Ok(None);
        }
        // Clone only when the next slot shows the same picture again.
        let next_time = time + 1.0 / fps;
        let shown_again = match &self.resample.lookahead {
            Some(f) => f.time > next_time + half,
            None => next_time <= current_time + half,
        };
        let image = if shown_again {
            self.resample.current.as_ref().map(|f| f.image.clone())
        } else {
            self.resample.current.take().map(|f| f.image)
        };
        let Some(image) = image else {
            return Ok(None);
        };
        self.next_index += 1;
        Ok(Some(Frame {
            index: slot,
            time,
            image,
        }))
    }

    /// The next frame as the source delivers it, without the conversion to a constant rate
    /// (for live sources, where waiting for the following frame would add latency).
    pub fn next_decoded(&mut self) -> Result<Option<Frame>, MediaError> {
        self.decode_next()
    }

    /// Decode the next frame as stored; `Ok(None)` at the end of the video.
    fn decode_next(&mut self) -> Result<Option<Frame>, MediaError> {
        if self.replay_first {
            self.replay_first = false;
            if let Some(first) = &self.first {
                self.decoded = 1;
                self.last_time = Some(first.time);
                return Ok(Some(first.clone()));
            }
        }
        let mut decoded = frame::Video::empty();
        loop {
            if self.finished {
                return Ok(None);
            }
            match self.decoder.receive_frame(&mut decoded) {
                Ok(()) => {
                    let time = self.frame_time(&decoded);
                    if let Some(target) = self.skip_before {
                        if time < target {
                            continue;
                        }
                        self.skip_before = None;
                    }
                    // Broken files repeat or reverse timestamps: such a frame is taken to follow
                    // the previous one by a frame interval (as in a constant-rate clip).
                    let time = match self.last_time {
                        Some(last) if time <= last => last + 1.0 / self.info.fps,
                        _ => time,
                    };
                    self.last_time = Some(time);
                    let image = self.convert_to_rgb(&decoded)?;
                    let index = self.decoded;
                    self.decoded += 1;
                    return Ok(Some(Frame { index, time, image }));
                }
                Err(ffmpeg_next::Error::Eof) => {
                    self.finished = true;
                    return Ok(None);
                }
                Err(ffmpeg_next::Error::Other { errno }) if errno == EAGAIN => {
                    self.feed()?;
                }
                Err(e) => return Err(MediaError::decode(&self.path, e)),
            }
        }
    }

    /// Position the reader so that the next frame returned is frame `index` (the nearest one
    /// at or after its time). Seeks to the key frame before it and decodes forward.
    pub fn seek(&mut self, index: u64) -> Result<(), MediaError> {
        let target_time = index as f64 / self.info.fps;
        let ts = (target_time * f64::from(ffmpeg_next::ffi::AV_TIME_BASE)) as i64;
        let start_us = (self.start_pts as f64
            * f64::from(self.time_base)
            * f64::from(ffmpeg_next::ffi::AV_TIME_BASE)) as i64;
        self.input
            .seek(ts + start_us, ..ts + start_us + 1)
            .map_err(|e| MediaError::decode(&self.path, format!("seek to frame {index}: {e}")))?;
        self.decoder.flush();
        self.eof_sent = false;
        self.finished = false;
        self.next_index = index;
        self.decoded = 0;
        self.last_time = None;
        self.resample = Resampler::default();
        match &self.first {
            // The first frame comes from memory; decoding resumes after it.
            Some(first) if index == 0 => {
                self.replay_first = true;
                self.skip_before = Some(first.time + 0.5 / self.info.fps);
            }
            // Accept a frame whose time is within half a frame before the target.
            _ => {
                self.replay_first = false;
                self.skip_before = Some(target_time - 0.5 / self.info.fps);
            }
        }
        Ok(())
    }

    /// Decode frame `index` (for previews): a seek followed by one decoded frame.
    pub fn frame_at(&mut self, index: u64) -> Result<Option<Frame>, MediaError> {
        self.seek(index)?;
        self.next_frame()
    }

    /// Send the next video packet (or end of stream) to the decoder.
    fn feed(&mut self) -> Result<(), MediaError> {
        if self.eof_sent {
            self.finished = true;
            return Ok(());
        }
        let mut packet = Packet::empty();
        loop {
            match packet.read(&mut self.input) {
                Ok(()) => {
                    if packet.stream() != self.stream_index {
                        continue;
                    }
                    return match self.decoder.send_packet(&packet) {
                        Ok(()) => Ok(()),
                        // Corrupt data inside one packet: skip it, as players do.
                        Err(ffmpeg_next::Error::InvalidData) => {
                            tracing::warn!("{}: skipped a corrupt packet", self.path.display());
                            Ok(())
                        }
                        Err(e) => Err(MediaError::decode(&self.path, e)),
                    };
                }
                Err(ffmpeg_next::Error::Eof) => {
                    self.eof_sent = true;
                    self.decoder
                        .send_eof()
                        .map_err(|e| MediaError::decode(&self.path, e))?;
                    return Ok(());
                }
                Err(e) => {
                    // A truncated file ends here: flush what was decoded so far.
                    tracing::warn!("{}: read stopped early: {e}", self.path.display());
                    self.eof_sent = true;
                    let _ = self.decoder.send_eof();
                    return Ok(());
                }
            }
        }
    }

    fn frame_time(&self, frame: &frame::Video) -> f64 {
        match frame.timestamp().or(frame.pts()) {
            Some(pts) => (pts - self.start_pts) as f64 * f64::from(self.time_base),
            None => self.decoded as f64 / self.info.fps,
        }
    }

    fn convert_to_rgb(&mut self, decoded: &frame::Video) -> Result<RgbImage, MediaError> {
        let key = (decoded.format(), decoded.width(), decoded.height());
        if self.scaler.as_ref().map(|(_, k)| *k) != Some(key) {
            let ctx = scaling::Context::get(
                key.0,
                key.1,
                key.2,
                Pixel::RGB24,
                key.1,
                key.2,
                scaling::Flags::BILINEAR,
            )
            .map_err(|e| MediaError::decode(&self.path, format!("pixel conversion: {e}")))?;
            self.scaler = Some((ctx, key));
        }
        let mut rgb = frame::Video::empty();
        if let Some((scaler, _)) = self.scaler.as_mut() {
            scaler
                .run(decoded, &mut rgb)
                .map_err(|e| MediaError::decode(&self.path, format!("pixel conversion: {e}")))?;
        }
        Ok(rotate_clockwise(
            rgb_frame_to_image(&rgb),
            self.info.rotation,
        ))
    }
}

impl Iterator for VideoReader {
    type Item = Result<Frame, MediaError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_frame() {
            Ok(Some(f)) => Some(Ok(f)),
            Ok(None) => None,
            Err(e) => {
                self.finished = true;
                Some(Err(e))
            }
        }
    }
}
