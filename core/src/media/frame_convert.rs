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
    let (w, h) = image.dimensions();
    for y in 0..frame_h {
        let sy = y.min(h - 1);
        let row = &mut data[y as usize * stride..y as usize * stride + frame_w as usize * 3];
        for x in 0..frame_w {
            let p = image.get_pixel(x.min(w - 1), sy).0;
            let a = u32::from(p[3]);
            for c in 0..3 {
                let v = (u32::from(p[c]) * a + u32::from(background[c]) * (255 - a) + 127) / 255;
                row[x as usize * 3 + c] = v as u8;
            }
        }
    }
    frame
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
