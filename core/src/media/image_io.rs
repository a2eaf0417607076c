//! Still images: loading with a pixel-count limit, and atomic PNG saving.

use super::error::MediaError;
use image::{DynamicImage, ImageDecoder, ImageReader, RgbaImage};
use std::path::Path;

/// Largest image accepted by default: 64 megapixels (e.g. 8192 × 8192).
pub const DEFAULT_MAX_PIXELS: u64 = 64 * 1024 * 1024;

/// Largest picture file read (compressed 64-megapixel pictures are far smaller).
const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// Load PNG (alpha kept), JPEG, WebP or GIF (first frame) as RGBA, refusing images over
/// `max_pixels` before decoding them.
pub fn load_image_limited(path: &Path, max_pixels: u64) -> Result<RgbaImage, MediaError> {
    let size = std::fs::metadata(path)
        .map_err(|e| MediaError::io(path, e))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(MediaError::Image {
            path: path.to_path_buf(),
            reason: format!("{size} bytes is too large for a picture file"),
        });
    }
    let bytes = std::fs::read(path).map_err(|e| MediaError::io(path, e))?;
    decode_image(&bytes, max_pixels, path)
}

/// Decode a picture file's `bytes` as [`load_image_limited`] does; `path` names it in errors.
/// EXIF orientation is applied, so phone portraits come out upright.
pub fn decode_image(bytes: &[u8], max_pixels: u64, path: &Path) -> Result<RgbaImage, MediaError> {
    let image_err = |reason: String| MediaError::Image {
        path: path.to_path_buf(),
        reason,
    };
    let reader = || {
        ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| MediaError::io(path, e))
    };
    let first = reader()?;
    let Some(format) = first.format() else {
        return Err(image_err("unknown image format".into()));
    };
    let (width, height) = first
        .into_dimensions()
        .map_err(|e| image_err(e.to_string()))?;
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(MediaError::TooLarge {
            path: path.to_path_buf(),
            width,
            height,
            limit: max_pixels,
        });
    }
    let mut reader = reader()?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(16));
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| image_err(e.to_string()))?;
    // Phone pictures are often stored sideways with an EXIF note saying how to turn them.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| image_err(e.to_string()))?;
    img.apply_orientation(orientation);
    if format == image::ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        tracing::warn!(
            "{}: the JPEG data ends early; the missing part of the picture is grey",
            path.display()
        );
    }
    Ok(img.into_rgba8())
}

/// Whether JPEG data ends with its end-of-image marker (trailing zero padding allowed); a
/// truncated download decodes without an error but with its lower part missing.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    bytes[..end].ends_with(&[0xFF, 0xD9])
}

/// Load an image with the default limit, [`DEFAULT_MAX_PIXELS`].
pub fn load_image(path: &Path) -> Result<RgbaImage, MediaError> {
    load_image_limited(path, DEFAULT_MAX_PIXELS)
}

/// Save an RGBA image as PNG, atomically.
pub fn save_png(image: &RgbaImage, path: &Path) -> Result<(), MediaError> {
    let file = crate::atomic::AtomicFile::new(path, ".png").map_err(|e| MediaError::io(path, e))?;
    image
        .save_with_format(file.temp_path(), image::ImageFormat::Png)
        .map_err(|e| MediaError::encode(path, e))?;
    file.commit().map_err(|e| MediaError::io(path, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    #[test]
    fn png_with_alpha_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        let mut img = RgbaImage::from_pixel(7, 5, Rgba([10, 20, 30, 255]));
        img.put_pixel(3, 2, Rgba([200, 100, 50, 0]));
        save_png(&img, &path).unwrap();
        assert_eq!(load_image(&path).unwrap(), img);
    }

    #[test]
    fn huge_image_is_refused_before_decoding() {
        // A valid PNG header claiming 30000 x 30000 pixels, with no pixel data at all.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.png");
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&30000u32.to_be_bytes());
        ihdr.extend_from_slice(&30000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
        bytes.extend_from_slice(&13u32.to_be_bytes());
        bytes.extend_from_slice(&ihdr);
        bytes.extend_from_slice(&crc32(&ihdr).to_be_bytes());
        for (kind, data) in [
            (&b"IDAT"[..], &[0x78u8, 0x9c, 0x03, 0x00][..]),
            (b"IEND", &[]),
        ] {
            let mut chunk = kind.to_vec();
            chunk.extend_from_slice(data);
            bytes.extend_from_slice(&(data.len() as u32).to_be_bytes());
            bytes.extend_from_slice(&chunk);
            bytes.extend_from_slice(&crc32(&chunk).to_be_bytes());
        }
        std::fs::write(&path, bytes).unwrap();
        let err = load_image(&path).unwrap_err();
        assert!(
            matches!(err, MediaError::TooLarge { width: 30000, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("bomb.png"));
    }

    #[test]
    fn text_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.png");
        std::fs::write(&path, "just some text, not an image").unwrap();
        let err = load_image(&path).unwrap_err();
        assert!(err.to_string().contains("notes.png"), "{err}");
    }

    #[test]
    fn exif_orientation_is_applied() {
        // A 40 x 20 JPEG, left half dark, tagged "rotate 90° clockwise to display" (6).
        let img = image::RgbImage::from_fn(40, 20, |x, _| {
            if x < 20 {
                image::Rgb([10, 10, 10])
            } else {
                image::Rgb([240, 240, 240])
            }
        });
        let mut jpeg = Vec::new();
        image::DynamicImage::ImageRgb8(img)
            .write_to(
                &mut std::io::Cursor::new(&mut jpeg),
                image::ImageFormat::Jpeg,
            )
            .unwrap();
        let tiff: &[u8] = &[
            b'M', b'M', 0, 42, 0, 0, 0, 8, // big-endian TIFF, first IFD at 8
            0, 1, // one entry
            0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, // Orientation, SHORT, 1, value 6
            0, 0, 0, 0, // no next IFD
        ];
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(tiff);
        let mut bytes = jpeg[..2].to_vec();
        bytes.extend_from_slice(&[0xFF, 0xE1]);
        bytes.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        bytes.extend_from_slice(&app1);
        bytes.extend_from_slice(&jpeg[2..]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("portrait.jpg");
        std::fs::write(&path, bytes).unwrap();
        let loaded = load_image(&path).unwrap();
        assert_eq!(loaded.dimensions(), (20, 40));
        // Turned clockwise, the dark left half is on top.
        assert!(
            loaded.get_pixel(10, 5)[0] < 60,
            "{:?}",
            loaded.get_pixel(10, 5)
        );
        assert!(loaded.get_pixel(10, 35)[0] > 200);
    }

    #[test]
    fn a_truncated_jpeg_is_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jpg");
        let img = image::RgbImage::from_pixel(32, 32, image::Rgb([90, 10, 10]));
        img.save(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(jpeg_is_complete(&bytes));
        assert!(!jpeg_is_complete(&bytes[..bytes.len() / 2]));
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
