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
