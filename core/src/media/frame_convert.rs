//! Conversions between FFmpeg frames and `image` buffers.

use ffmpeg_next::format::Pixel;
use ffmpeg_next::frame::Video as VideoFrame;
use image::{RgbImage, RgbaImage};

/// Copy a packed RGB24 FFmpeg frame into an `RgbImage` (drops the row padding).
pub(crate) fn rgb_frame_to_image(frame: &VideoFrame) -> RgbImage {
    let (w, h) = (frame.width(), frame.height());
    let stride = frame.stride(0);
    let row = w as usize * 3;
    let data = frame.data(0);
    let mut out = Vec::with_capacity(row * h as usize);
    for y in 0..h as usize {
        out.extend_from_slice(&data[y * stride..y * stride + row]);
    }
    // The buffer has exactly w*h*3 bytes, so this cannot fail.
    RgbImage::from_raw(w, h, out).unwrap_or_else(|| RgbImage::new(w, h))
}

/// Composite RGBA over `background` into a packed RGB24 FFmpeg frame of size
/// `(frame_w, frame_h)`; extra columns/rows (padding to even sizes) repeat the edge pixels.
pub(crate) fn rgba_to_rgb_frame(
    image: &RgbaImage,
    background: [u8; 3],
    frame_w: u32,
    frame_h: u32,
) -> VideoFrame {
    let mut frame = VideoFrame::new(Pixel::RGB24, frame_w, frame_h);
    let stride = frame.stride(0);
    let data = frame.data_mut(0);
    let (w, h) = (image.width() as usize, image.height() as usize);
    let (fw, fh) = (frame_w as usize, frame_h as usize);
    let raw = image.as_raw();
    for y in 0..fh {
        let src = &raw[y.min(h - 1) * w * 4..][..w * 4];
        let dst = &mut data[y * stride..][..fw * 3];
        for (d, s) in dst.chunks_exact_mut(3).zip(src.chunks_exact(4)) {
            if s[3] == 255 {
                d.copy_from_slice(&s[..3]);
            } else {
                let a = u32::from(s[3]);
                for c in 0..3 {
                    let v = u32::from(s[c]) * a + u32::from(background[c]) * (255 - a);
                    d[c] = ((v + 127) / 255) as u8;
                }
            }
        }
        // Padding columns repeat the last pixel of the row.
        if fw > w {
            let (body, pad) = dst.split_at_mut(w * 3);
            let last = [body[w * 3 - 3], body[w * 3 - 2], body[w * 3 - 1]];
            for p in pad.chunks_exact_mut(3) {
                p.copy_from_slice(&last);
            }
        }
    }
    frame
}

/// Turns RGBA pictures into the even-sized yuv420p frames the video encoders take: transparent
/// pixels over a background colour, odd sizes padded by one edge pixel.
pub(crate) struct Yuv420Converter {
    scaler: ffmpeg_next::software::scaling::Context,
    frame_w: u32,
    frame_h: u32,
    background: [u8; 3],
}

impl Yuv420Converter {
    /// A converter for `width` × `height` pictures.
    pub(crate) fn new(
        width: u32,
        height: u32,
        background: [u8; 3],
    ) -> Result<Self, ffmpeg_next::Error> {
        let (frame_w, frame_h) = (width + width % 2, height + height % 2);
        let scaler = ffmpeg_next::software::scaling::Context::get(
            Pixel::RGB24,
            frame_w,
            frame_h,
            Pixel::YUV420P,
            frame_w,
            frame_h,
            ffmpeg_next::software::scaling::Flags::BILINEAR,
        )?;
        Ok(Self {
            scaler,
            frame_w,
            frame_h,
            background,
        })
    }

    /// An encoder context for `codec` taking this converter's frames (the picture's size rounded
    /// up to even) at `rate` frames a second
    /// (time base 1 / `rate`), not yet opened: the caller adds its flags and options.
    pub(crate) fn encoder_context(
        &self,
        codec: ffmpeg_next::Codec,
        rate: ffmpeg_next::Rational,
    ) -> Result<ffmpeg_next::encoder::video::Video, ffmpeg_next::Error> {
        let mut ctx = ffmpeg_next::codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()?;
        ctx.set_width(self.frame_w);
        ctx.set_height(self.frame_h);
        ctx.set_format(Pixel::YUV420P);
        ctx.set_time_base(rate.invert());
        ctx.set_frame_rate(Some(rate));
        Ok(ctx)
    }

    /// One picture as a yuv420p frame.
    pub(crate) fn convert(&mut self, image: &RgbaImage) -> Result<VideoFrame, ffmpeg_next::Error> {
        let rgb = rgba_to_rgb_frame(image, self.background, self.frame_w, self.frame_h);
        let mut yuv = VideoFrame::empty();
        self.scaler.run(&rgb, &mut yuv)?;
        Ok(yuv)
    }
}

/// Rotate an image clockwise by 0, 90, 180 or 270 degrees.
pub(crate) fn rotate_clockwise(image: RgbImage, degrees: u32) -> RgbImage {
    match degrees {
        90 => image::imageops::rotate90(&image),
        180 => image::imageops::rotate180(&image),
        270 => image::imageops::rotate270(&image),
        _ => image,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    #[test]
    fn composites_alpha_and_pads_with_edge_pixels() {
        crate::media::ffmpeg_setup::ensure_init();
        let mut img = RgbaImage::from_pixel(3, 1, Rgba([10, 20, 30, 255]));
        img.put_pixel(1, 0, Rgba([200, 200, 200, 0]));
        img.put_pixel(2, 0, Rgba([255, 0, 0, 128]));
        let f = rgba_to_rgb_frame(&img, [0, 0, 255], 4, 2);
        let stride = f.stride(0);
        let px = |x: usize, y: usize| {
            let d = f.data(0);
            [
                d[y * stride + 3 * x],
                d[y * stride + 3 * x + 1],
                d[y * stride + 3 * x + 2],
            ]
        };
        assert_eq!(px(0, 0), [10, 20, 30]);
        assert_eq!(px(1, 0), [0, 0, 255], "transparent shows the background");
        assert_eq!(px(2, 0), [128, 0, 127]);
        assert_eq!(px(3, 0), px(2, 0), "padding column repeats the edge");
        assert_eq!(px(1, 1), px(1, 0), "padding row repeats the edge");
    }
}
