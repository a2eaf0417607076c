//! PNG-sequence output: numbered RGBA PNGs in a folder, published atomically.

use super::error::MediaError;
use image::RgbaImage;
use std::fs;
use std::path::{Path, PathBuf};

/// Writes frames as `frame_000000.png`, … into a hidden folder beside the target, then renames
/// it into place on `finish`; a cancelled export leaves the target untouched.
pub struct PngSequenceWriter {
    staging: tempfile::TempDir,
    target: PathBuf,
    width: u32,
    height: u32,
    count: u64,
}

impl PngSequenceWriter {
    /// Start a sequence that will become the folder `target`.
    pub fn create(target: &Path, width: u32, height: u32) -> Result<Self, MediaError> {
        if target.is_file() {
            return Err(MediaError::InvalidInput {
                path: target.to_path_buf(),
                reason: "is a file; a PNG sequence needs a folder".into(),
            });
        }
        let parent = crate::atomic::parent_dir(target);
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "frames".into());
        let staging = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".part")
            .tempdir_in(parent)
            .map_err(|e| MediaError::io(target, crate::atomic::folder_error(parent, &e)))?;
        Ok(Self {
            staging,
            target: target.to_path_buf(),
            width,
            height,
            count: 0,
        })
    }

    /// Write one frame.
    pub fn push(&mut self, image: &RgbaImage) -> Result<(), MediaError> {
        MediaError::check_frame_size(&self.target, self.count, image, (self.width, self.height))?;
        let path = self
            .staging
            .path()
            .join(format!("frame_{:06}.png", self.count));
        image
            .save_with_format(&path, image::ImageFormat::Png)
            .map_err(|e| MediaError::encode(&self.target, e))?;
        self.count += 1;
        Ok(())
    }

    /// Publish the folder under its target name (replacing an earlier export there).
    pub fn finish(self) -> Result<PathBuf, MediaError> {
        let target = self.target;
        if self.count == 0 {
            return Err(MediaError::InvalidInput {
                path: target,
                reason: "no frames to write".into(),
            });
        }
        let staged = self.staging.keep();
        let io = |e| MediaError::io(&target, e);
        if target.exists() {
            let parent = crate::atomic::parent_dir(&target);
            let old = tempfile::Builder::new()
                .prefix(".old-frames.")
                .tempdir_in(parent)
                .map_err(io)?
                .keep();
            fs::remove_dir(&old).map_err(io)?;
            fs::rename(&target, &old).map_err(io)?;
            if let Err(e) = fs::rename(&staged, &target) {
                let _ = fs::rename(&old, &target);
                let _ = fs::remove_dir_all(&staged);
                return Err(io(e));
            }
            fs::remove_dir_all(&old).map_err(io)?;
        } else if let Err(e) = fs::rename(&staged, &target) {
            let _ = fs::remove_dir_all(&staged);
            return Err(io(e));
        }
        Ok(target)
    }
}

impl std::fmt::Debug for PngSequenceWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PngSequenceWriter")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}
