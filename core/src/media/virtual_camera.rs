//! A virtual camera out: frames written to a V4L2 loopback device (Linux, `v4l2loopback`)
//! through FFmpeg's V4L2 output, as raw yuv420p, so video-call and streaming apps can pick the
//! character up as a camera.

use super::error::MediaError;
use super::ffmpeg_setup::ensure_init;
use super::frame_convert::Yuv420Converter;
use ffmpeg_next::{Dictionary, Packet, Rational, codec, encoder, format};
use image::RgbaImage;
use std::path::{Path, PathBuf};

/// An open V4L2 output device receiving frames.
pub struct VirtualCamera {
    octx: format::context::Output,
    encoder: encoder::Video,
    converter: Yuv420Converter,
    stream_index: usize,
    time_base: Rational,
    width: u32,
    height: u32,
    count: i64,
    device: PathBuf,
}

impl std::fmt::Debug for VirtualCamera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualCamera")
            .field("device", &self.device)
            .field("size", &(self.width, self.height))
            .finish_non_exhaustive()
    }
}

impl VirtualCamera {
    /// Open `device` (e.g. `/dev/video10`, made by `modprobe v4l2loopback`) for frames of
    /// `width` × `height` at `fps`; transparent pixels show `background`.
    pub fn open(
        device: &Path,
        width: u32,
        height: u32,
        fps: f64,
        background: [u8; 3],
    ) -> Result<Self, MediaError> {
        ensure_init();
        let open_err = |reason: String| MediaError::Open {
            path: device.to_path_buf(),
            reason,
        };
        if width == 0 || height == 0 || !(fps.is_finite() && fps > 0.0) {
            return Err(open_err(format!(
                "cannot send {width}x{height} at {fps} fps"
            )));
        }
        let Some(text) = device.to_str() else {
            return Err(open_err("the device path is not Unicode".into()));
        };
        if !device.exists() {
            return Err(open_err(
                "no such device (load v4l2loopback: sudo modprobe v4l2loopback)".into(),
            ));
        }
        let enc_err = |e: ffmpeg_next::Error| MediaError::encode(device, e);
        let mut octx = format::output_as(text, "v4l2").map_err(|e| open_err(e.to_string()))?;
        let codec = encoder::find(codec::Id::RAWVIDEO)
            .ok_or_else(|| open_err("this FFmpeg build has no raw video encoder".into()))?;
        let converter = Yuv420Converter::new(width, height, background).map_err(enc_err)?;
        let rate = Rational::from(fps);
        let time_base = rate.invert();
        let mut ost = octx.add_stream(codec).map_err(enc_err)?;
        let stream_index = ost.index();
        let ctx = converter.encoder_context(codec, rate).map_err(enc_err)?;
        let encoder = ctx.open_with(Dictionary::new()).map_err(enc_err)?;
        ost.set_parameters(&encoder);
        ost.set_time_base(time_base);
        octx.write_header().map_err(|e| open_err(e.to_string()))?;
        Ok(Self {
            octx,
            encoder,
            converter,
            stream_index,
            time_base,
            width,
            height,
            count: 0,
            device: device.to_path_buf(),
        })
    }

    /// Send one frame (of the size given at opening).
    pub fn push(&mut self, image: &RgbaImage) -> Result<(), MediaError> {
        let device = self.device.clone();
        MediaError::check_frame_size(&device, self.count as u64, image, (self.width, self.height))?;
        let mut yuv = self
            .converter
            .convert(image)
            .map_err(|e| MediaError::encode(&device, e))?;
        yuv.set_pts(Some(self.count));
        self.encoder
            .send_frame(&yuv)
            .map_err(|e| MediaError::encode(&device, e))?;
        self.count += 1;
        let out_tb = self
            .octx
            .stream(self.stream_index)
            .map(|s| s.time_base())
            .unwrap_or(self.time_base);
        let mut packet = Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            packet.set_stream(self.stream_index);
            packet.rescale_ts(self.time_base, out_tb);
            packet
                .write(&mut self.octx)
                .map_err(|e| MediaError::encode(&device, e))?;
        }
        Ok(())
    }
}

impl Drop for VirtualCamera {
    fn drop(&mut self) {
        if let Err(e) = self.octx.write_trailer() {
            tracing::debug!("closing the virtual camera: {e}");
        }
    }
}
