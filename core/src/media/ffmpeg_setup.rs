//! One-time FFmpeg initialisation.

use std::sync::Once;

/// Initialise FFmpeg once per process and keep its own logging to errors only.
pub(crate) fn ensure_init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if let Err(e) = ffmpeg_next::init() {
            tracing::warn!("FFmpeg initialisation reported: {e}");
        }
        ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Fatal);
    });
}

/// A path in the form FFmpeg's bindings take: UTF-8 text (they panic on anything else). A path
/// that is not UTF-8 is reached through an open handle to it (`/proc/self/fd/N` on Linux),
/// kept open as long as this value lives.
pub(crate) struct FfmpegPath {
    text: String,
    _handle: Option<std::fs::File>,
}

impl FfmpegPath {
    /// The path as FFmpeg should be given it. `path` must exist.
    pub(crate) fn new(path: &std::path::Path) -> std::io::Result<Self> {
        if let Some(text) = path.to_str() {
            return Ok(Self {
                text: text.to_string(),
                _handle: None,
            });
        }
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let handle = std::fs::File::open(path)?;
            Ok(Self {
                text: format!("/proc/self/fd/{}", handle.as_raw_fd()),
                _handle: Some(handle),
            })
        }
        #[cfg(not(target_os = "linux"))]
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidFilename,
            "the path is not valid Unicode; rename the file or its folder",
        ))
    }

    /// The text to hand to FFmpeg.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }
}
