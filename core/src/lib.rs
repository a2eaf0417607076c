//! FaceShot core: everything that brings a character to life, without any UI.
//!
//! - [`landmarks`]: the 68-point layout, faces, tracks and their files;
//! - [`media`]: still images, video decoding and MP4 / GIF / PNG-sequence export;
//! - [`progress`]: progress reporting and cancellation for long jobs;
//! - [`retarget`]: driver landmark motion to character landmark motion.

pub mod atomic;
pub mod landmarks;
pub mod media;
pub mod progress;
pub mod retarget;
