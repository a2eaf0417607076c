//! Still images: loading with a pixel-count limit, and atomic PNG saving.

use super::error::MediaError;
use image::{ImageReader, RgbaImage};
use std::path::Path;

/// Largest image accepted by default: 64 megapixels (e.g. 8192 × 8192).
pub const DEFAULT_MAX_PIXELS: u64 = 64 * 1024 * 1024;

/// Load PNG (alpha kept), JPEG, WebP or GIF (first frame) as RGBA, refusing images over
/// `max_pixels` before decoding them.
pub fn load_image_limited(path: &Path, max_pixels: u64) -> Result<RgbaImage, MediaError> {
    let image_err = |reason: String| MediaError::Image {
        path: path.to_path_buf(),
        reason,
    };
    let reader = ImageReader::open(path)
        .map_err(|e| MediaError::io(path, e))?
        .with_guessed_format()
        .map_err(|e| MediaError::io(path, e))?;
    if reader.format().is_none() {
        return Err(image_err("unknown image format".into()));
    }
    let (width, height) = reader
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
    let mut reader = ImageReader::open(path)
        .map_err(|e| MediaError::io(path, e))?
        .with_guessed_format()
        .map_err(|e| MediaError::io(path, e))?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(16));
    reader.limits(limits);
    let img = reader.decode().map_err(|e| image_err(e.to_string()))?;
    Ok(img.into_rgba8())
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
