//! Errors from reading and writing images and videos.

use std::path::{Path, PathBuf};

/// What went wrong with a media file. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The file could not be read, created or renamed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause (part of the message, so not chained again).
        error: std::io::Error,
    },
    /// The file is not a readable video (unknown format, corrupt or truncated header).
    #[error("{path}: cannot open as video: {reason}")]
    Open {
        /// The file.
        path: PathBuf,
        /// The cause.
        reason: String,
    },
    /// The container holds no video stream.
    #[error("{path}: no video stream")]
    NoVideo {
        /// The file.
        path: PathBuf,
    },
    /// The video stream's codec has no decoder in this FFmpeg build.
    #[error("{path}: unsupported video codec {codec}")]
    UnsupportedCodec {
        /// The file.
        path: PathBuf,
        /// Codec name.
        codec: String,
    },
    /// The video stream has no decodable frame.
    #[error("{path}: the video has no frames")]
    NoFrames {
        /// The file.
        path: PathBuf,
    },
    /// Decoding failed part-way.
    #[error("{path}: cannot decode: {reason}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// The cause.
        reason: String,
    },
    /// Encoding or writing the output failed.
    #[error("{path}: cannot write: {reason}")]
    Encode {
        /// The output file.
        path: PathBuf,
        /// The cause.
        reason: String,
    },
    /// An image is larger than the pixel limit (a decompression bomb guard).
    #[error("{path}: image is {width}x{height} pixels, over the limit of {limit} pixels")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Largest accepted pixel count.
        limit: u64,
    },
    /// The file is not a readable image.
    #[error("{path}: cannot read image: {reason}")]
    Image {
        /// The file.
        path: PathBuf,
        /// The cause.
        reason: String,
    },
    /// The output path has an extension FaceShot cannot write.
    #[error("{path}: unsupported output; use .mp4, .gif or a folder for PNG frames")]
    UnsupportedOutput {
        /// The requested output.
        path: PathBuf,
    },
    /// Frame sizes or parameters do not fit the output.
    #[error("{path}: {reason}")]
    InvalidInput {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The job was cancelled; nothing was written under the target name.
    #[error("cancelled")]
    Cancelled,
}

impl MediaError {
    pub(crate) fn io(path: &Path, error: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            error,
        }
    }

    pub(crate) fn encode(path: &Path, reason: impl ToString) -> Self {
        Self::Encode {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }

    /// Refuse frame `index` unless it is `expected` (width, height) in size.
    pub(crate) fn check_frame_size(
        path: &Path,
        index: u64,
        image: &image::RgbaImage,
        expected: (u32, u32),
    ) -> Result<(), Self> {
        if image.dimensions() == expected {
            return Ok(());
        }
        Err(Self::InvalidInput {
            path: path.to_path_buf(),
            reason: format!(
                "frame {index} is {}x{}, expected {}x{}",
                image.width(),
                image.height(),
                expected.0,
                expected.1
            ),
        })
    }

    pub(crate) fn decode(path: &Path, reason: impl ToString) -> Self {
        Self::Decode {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }
}
