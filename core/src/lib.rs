//! FaceShot core: everything that brings a character to life, without any UI.
//!
//! - [`animate`]: the animator interface and the built-in real-time warp animator;
//! - [`landmarks`]: the 68-point layout, faces, tracks and their files;
//! - [`media`]: still images, video decoding and MP4 / GIF / PNG-sequence export;
//! - [`nn`]: the candle networks (MediaPipe face detector, face mesh, eye model);
//! - [`track`]: driving-face tracking, 68 landmarks per video frame;
//! - [`retarget`]: driver landmark motion to character landmark motion;
//! - [`pipeline`]: the whole method as jobs for the CLI and the app;
//! - [`live`]: live mode, a camera or stream driving the character in real time;
//! - [`matching`]: find a character's 68 landmarks (structural fit, DIFT, five-click fit);
//! - [`cartoon`]: generated characters with exact landmarks (tests, the shape model, demos);
//! - [`geometry`]: similarity transforms, ellipses, polygons and contour checks;
//! - [`raster`]: the one anti-aliased rasteriser (polygons, strokes, discs) for overlays and
//!   generated pictures;
//! - [`atomic`], [`output_check`]: outputs that appear whole and never replace an input;
//! - [`pupils`]: where a character's pupils are and how big its irises are;
//! - [`progress`]: progress reporting and cancellation for long jobs;
//! - [`heap`]: keeping freed memory for reuse while a diffusion model runs.

pub mod animate;
pub mod atomic;
pub mod cartoon;
pub mod geometry;
pub mod heap;
pub mod landmarks;
pub mod live;
pub mod matching;
pub mod media;
pub mod nn;
pub mod output_check;
pub mod pipeline;
pub mod progress;
pub mod pupils;
pub mod raster;
pub mod retarget;
pub mod track;
