//! PNG-sequence output: numbered RGBA PNGs in a folder, published only when complete.
//!
//! The folder must be new, empty, or hold nothing but the numbered frames of an earlier export
//! (which the new frames replace as a whole); a folder with anything else in it is refused, so
//! an export never deletes a file FaceShot did not write.

use super::error::MediaError;
use image::RgbaImage;
use std::fs;
use std::path::{Path, PathBuf};

/// Writes frames as `frame_000000.png`, … into a hidden staging folder, then publishes them
/// under the target on `finish`; a cancelled export leaves the target untouched.
pub struct PngSequenceWriter {
    staging: tempfile::TempDir,
    target: PathBuf,
    /// Whether the target folder existed (then frames move into it one by one).
    existing: bool,
    width: u32,
    height: u32,
    count: u64,
}

/// Whether `name` is one of the frame files this writer creates (`frame_` + 6+ digits + `.png`).
pub fn is_frame_name(name: &str) -> bool {
    name.strip_prefix("frame_")
        .and_then(|rest| rest.strip_suffix(".png"))
        .is_some_and(|digits| digits.len() >= 6 && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// The frame files of an earlier export in `dir`, or an error naming what else is there.
/// `staging` (our own staging folder inside `dir`) is skipped.
fn earlier_frames(dir: &Path, staging: Option<&Path>) -> Result<Vec<PathBuf>, MediaError> {
    let io = |e| MediaError::io(dir, e);
    let mut frames = Vec::new();
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        if staging.and_then(Path::file_name) == Some(entry.file_name().as_os_str()) {
            continue;
        }
        let ours = entry.file_type().map_err(io)?.is_file()
            && entry.file_name().to_str().is_some_and(is_frame_name);
        if !ours {
            return Err(MediaError::InvalidInput {
                path: dir.to_path_buf(),
                reason: format!(
                    "folder already holds {} (PNG frames go into a new or empty folder, or \
                     one holding only the frame_NNNNNN.png files of an earlier export)",
                    entry.file_name().to_string_lossy()
                ),
            });
        }
        frames.push(path);
    }
    Ok(frames)
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
        let existing = target.is_dir();
        // Stage inside an existing folder (it may be `.` or `/`, which cannot be renamed), else
        // beside the new one.
        let staging_parent = if existing {
            earlier_frames(target, None)?;
            target
        } else {
            crate::atomic::parent_dir(target)
        };
        let staging = crate::atomic::temp_builder(0o777)
            .prefix(&format!(".{}.", crate::atomic::temp_stem(target, "frames")))
            .suffix(".part")
            .tempdir_in(staging_parent)
            .map_err(|e| MediaError::io(target, crate::atomic::folder_error(staging_parent, &e)))?;
        Ok(Self {
            staging,
            target: target.to_path_buf(),
            existing,
            width,
            height,
            count: 0,
        })
    }

    /// Write one frame.
    pub fn push(&mut self, image: &RgbaImage) -> Result<(), MediaError> {
        MediaError::check_frame_size(&self.target, self.count, image, (self.width, self.height))?;
        let path = self.staging.path().join(frame_name(self.count));
        image
            .save_with_format(&path, image::ImageFormat::Png)
            .map_err(|e| MediaError::encode(&self.target, e))?;
        self.count += 1;
        Ok(())
    }

    /// Publish the frames under the target folder, replacing an earlier export's frames there.
    pub fn finish(self) -> Result<PathBuf, MediaError> {
        let target = self.target;
        if self.count == 0 {
            return Err(MediaError::InvalidInput {
                path: target,
                reason: "no frames to write".into(),
            });
        }
        let io = |e| MediaError::io(&target, e);
        if !self.existing {
            // A folder made meanwhile under the same name is never merged into or replaced.
            if target.exists() {
                return Err(MediaError::InvalidInput {
                    path: target,
                    reason: "appeared while the frames were written; they were not published"
                        .into(),
                });
            }
            let staged = self.staging.keep();
            if let Err(e) = fs::rename(&staged, &target) {
                let _ = fs::remove_dir_all(&staged);
                return Err(io(e));
            }
            return Ok(target);
        }
        // Checked again: the folder may have changed since `create`.
        for old in earlier_frames(&target, Some(self.staging.path()))? {
            fs::remove_file(&old).map_err(io)?;
        }
        for i in 0..self.count {
            let name = frame_name(i);
            fs::rename(self.staging.path().join(&name), target.join(&name)).map_err(io)?;
        }
        // The staging folder is empty now; dropping it removes it.
        drop(self.staging);
        Ok(target)
    }
}

fn frame_name(index: u64) -> String {
    format!("frame_{index:06}.png")
}

impl std::fmt::Debug for PngSequenceWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PngSequenceWriter")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use image::Rgba;

    fn write(target: &Path, frames: u64) -> Result<PathBuf, MediaError> {
        let mut w = PngSequenceWriter::create(target, 4, 3)?;
        for _ in 0..frames {
            w.push(&RgbaImage::from_pixel(4, 3, Rgba([1, 2, 3, 255])))?;
        }
        w.finish()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn frame_names_are_recognised() {
        assert!(is_frame_name("frame_000000.png"));
        assert!(is_frame_name("frame_1234567.png"));
        assert!(!is_frame_name("frame_00001.png"));
        assert!(!is_frame_name("frame_00000a.png"));
        assert!(!is_frame_name("thesis.docx"));
    }

    #[test]
    fn a_folder_with_other_files_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        fs::create_dir_all(target.join("sub")).unwrap();
        fs::write(target.join("thesis.docx"), "x").unwrap();
        let err = write(&target, 2).unwrap_err();
        assert!(err.to_string().contains("already holds"), "{err}");
        assert_eq!(names(&target), ["sub", "thesis.docx"]);
        assert_eq!(names(dir.path()), ["out"]);
    }

    #[test]
    fn an_earlier_export_is_replaced_as_a_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        write(&target, 3).unwrap();
        write(&target, 2).unwrap();
        assert_eq!(names(&target), ["frame_000000.png", "frame_000001.png"]);
        assert_eq!(names(dir.path()), ["out"]);
    }

    #[test]
    fn an_empty_existing_folder_keeps_its_identity() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        fs::create_dir(&target).unwrap();
        write(&target, 1).unwrap();
        assert_eq!(names(&target), ["frame_000000.png"]);
    }

    #[test]
    fn a_cancelled_export_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        fs::create_dir(&target).unwrap();
        {
            let mut w = PngSequenceWriter::create(&target, 4, 3).unwrap();
            w.push(&RgbaImage::new(4, 3)).unwrap();
        }
        assert!(names(&target).is_empty());
    }
}
