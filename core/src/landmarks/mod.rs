//! The 68-point landmark model: layout and parts, one face, a track over time, file I/O.

mod error;
mod face;
mod layout;
mod npy;
mod point;
pub mod synthetic;
mod track;
mod validate;

pub use error::LandmarkError;
pub use face::{FACE_FORMAT, FORMAT_VERSION, Face, ImageSize, Landmarks, eye_centres};
pub use layout::{EYE_RINGS, LANDMARK_COUNT, MIRROR, Part};
pub use npy::{read_npy_f32, write_npy_f32};
pub use point::Point;
pub use track::{TRACK_FORMAT, Track, pupils_path};
pub use validate::{MAX_ABS_COORDINATE, validate_points};

#[cfg(test)]
pub(crate) mod test_shapes {
    pub use super::synthetic::frontal_face;
}
