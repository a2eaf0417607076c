//! Media I/O: still images with size limits, streaming video decoding, and MP4 / GIF /
//! PNG-sequence export with atomic writes.

mod audio_copy;
mod error;
mod export;
mod ffmpeg_setup;
mod frame_convert;
mod gif_writer;
mod image_io;
mod mp4_writer;
mod png_sequence;
mod video_info;
mod video_reader;
mod virtual_camera;

pub use error::MediaError;
pub use export::{ExportFormat, ExportOptions, Exporter};
pub use gif_writer::{GIF_MAX_FPS, GifOptions, GifWriter};
pub use image_io::{DEFAULT_MAX_PIXELS, decode_image, load_image, load_image_limited, save_png};
pub use mp4_writer::{Mp4Options, Mp4Writer};
pub use png_sequence::PngSequenceWriter;
pub use video_info::{VideoInfo, rotation_from_display_matrix};
pub use video_reader::{Frame, VideoReader};
pub use virtual_camera::VirtualCamera;

#[cfg(test)]
mod tests;
