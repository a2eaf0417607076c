//! The MediaPipe face networks, loaded from safetensors.
//!
//! The three MediaPipe face networks (Apache-2.0, converted by `tools/convert_mediapipe.py`, see
//! `models/README.md`) are written out as explicit model structs: [`FaceDetector`] (BlazeFace
//! short range), [`FaceMesh`] (468 landmarks) and [`EyeModel`] (eye contour and iris). They run
//! NHWC on the CPU in plain Rust ([`ops`]): weights are read with candle and packed once, each
//! block runs depthwise → pointwise fused with bias, residual and activation, on AVX2/FMA
//! micro-kernels where the CPU has them (chosen at run time).
//! The weights ship inside the binary ([`FaceNets::embedded`]) and can also be read from a
//! folder ([`FaceNets::load_dir`]). The matcher also runs face-api.js's 68-point network
//! ([`Landmark68Net`], MIT, converted by `tools/convert_faceapi.py`) on still images.

use std::path::{Path, PathBuf};

pub mod crop;
pub mod detector;
pub mod iris;
pub mod landmark68;
pub mod layers;
pub mod mesh;
pub mod ops;
pub mod simd;

pub use detector::{Detection, FaceDetector};
pub use iris::{EyeModel, EyeOutput};
pub use landmark68::Landmark68Net;
pub use mesh::{FaceMesh, MeshOutput};

/// Errors from loading or running a network.
#[derive(Debug, thiserror::Error)]
pub enum NnError {
    /// A weights file could not be read.
    #[error("cannot read weights {path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause (part of the message, so not chained again).
        error: std::io::Error,
    },
    /// A weights file is malformed or does not fit the network.
    #[error("bad weights {path}: {msg}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// A tensor the network needs is absent.
    #[error("weights {path} lack tensor {name}")]
    Missing {
        /// The file.
        path: PathBuf,
        /// The tensor name.
        name: String,
    },
    /// A tensor operation failed.
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
}

/// File names of the converted weights under `models/`.
pub const DETECTOR_FILE: &str = "face_detector.safetensors";
/// Face mesh weights file name.
pub const MESH_FILE: &str = "face_mesh.safetensors";
/// Eye model weights file name.
pub const EYE_FILE: &str = "iris.safetensors";

static DETECTOR_BYTES: &[u8] = include_bytes!("../../../models/face_detector.safetensors");
static MESH_BYTES: &[u8] = include_bytes!("../../../models/face_mesh.safetensors");
static EYE_BYTES: &[u8] = include_bytes!("../../../models/iris.safetensors");

/// The three face networks together.
pub struct FaceNets {
    /// Face detector.
    pub detector: FaceDetector,
    /// Face mesh.
    pub mesh: FaceMesh,
    /// Eye contour / iris model.
    pub eye: EyeModel,
}

impl FaceNets {
    /// The networks built into the binary.
    pub fn embedded() -> Result<Self, NnError> {
        let w = |bytes: &[u8], name: &str| {
            layers::Weights::from_bytes(bytes, Path::new(&format!("<embedded>/{name}")))
        };
        Ok(Self {
            detector: FaceDetector::from_weights(&w(DETECTOR_BYTES, DETECTOR_FILE)?)?,
            mesh: FaceMesh::from_weights(&w(MESH_BYTES, MESH_FILE)?)?,
            eye: EyeModel::from_weights(&w(EYE_BYTES, EYE_FILE)?)?,
        })
    }

    /// Loads the networks from a folder holding the three safetensors files.
    pub fn load_dir(dir: &Path) -> Result<Self, NnError> {
        Ok(Self {
            detector: FaceDetector::load(&dir.join(DETECTOR_FILE))?,
            mesh: FaceMesh::load(&dir.join(MESH_FILE))?,
            eye: EyeModel::load(&dir.join(EYE_FILE))?,
        })
    }
}
