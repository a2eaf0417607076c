//! Errors from reading, writing and validating landmark files.

use std::path::PathBuf;

/// What went wrong with a landmark file or a landmark set.
#[derive(Debug, thiserror::Error)]
pub enum LandmarkError {
    /// The file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause (part of the message, so not chained again).
        error: std::io::Error,
    },
    /// The file is not valid JSON of the expected shape.
    #[error("{path}: not a FaceShot landmark file: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The file was written by a newer FaceShot.
    #[error("{path}: format version {found} is newer than this FaceShot supports ({supported})")]
    Version {
        /// The file.
        path: PathBuf,
        /// Version in the file.
        found: u32,
        /// Newest version this build reads.
        supported: u32,
    },
    /// The landmarks themselves are unusable.
    #[error("{context}: {reason}")]
    Invalid {
        /// Where (file name, or "landmarks" for in-memory data).
        context: String,
        /// What is wrong.
        reason: String,
    },
}

impl LandmarkError {
    pub(crate) fn io(path: &std::path::Path, error: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            error,
        }
    }

    pub(crate) fn format(path: &std::path::Path, reason: impl Into<String>) -> Self {
        Self::Format {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}
