//! Appearance-guided landmark matching: find a character's 68 landmarks.
//!
//! Backends:
//! - **structural** ([`structural`]): offline classical image analysis + a statistical shape
//!   model; needs nothing downloaded.
//! - **dift** ([`dift`]): the paper's method — Stable Diffusion 2.1 U-Net features after DDIM
//!   inversion, matched against an appearance gallery ([`gallery`], [`matcher`]), then the
//!   contour rearrangement ([`rearrange`]). Needs SD-2.1 weights (a local diffusers folder or a
//!   download).
//! - **anchors**: the five-click fit ([`shape::fit_anchors`]) from 3–5 user-placed points.
//!
//! [`match_face`] is the one door: it picks a backend (`auto`) and always returns a face with
//! per-point confidence. [`cartoon`] generates characters with exact landmarks for tests, the
//! gallery and evaluation; [`eval`] computes NME.

pub mod cartoon;
pub mod dift;
pub mod eval;
pub mod feature;
pub mod gallery;
pub mod geometry;
pub mod matcher;
pub mod overlay;
pub mod raster;
pub mod rearrange;
pub mod shape;
pub mod structural;

use crate::landmarks::{Face, LandmarkError, Point};
use crate::media::MediaError;
use crate::progress::Progress;
use image::RgbaImage;
use std::path::{Path, PathBuf};

/// What can go wrong while matching.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file has the wrong content.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A landmark file problem.
    #[error(transparent)]
    Landmarks(#[from] LandmarkError),
    /// An image problem.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// Model weights are missing or do not fit.
    #[error("model: {0}")]
    Model(String),
    /// Downloading weights failed.
    #[error("download: {0}")]
    Download(String),
    /// A tensor operation failed.
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// Bad options (e.g. a wrong number of anchors).
    #[error("{0}")]
    Options(String),
    /// The job was cancelled.
    #[error("cancelled")]
    Cancelled,
}

impl MatchError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Which matcher to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Diffusion features when weights are available locally, otherwise the structural fit.
    Auto,
    /// The tracker's face mesh (not available in this build: see the crate notes).
    Mesh,
    /// Classical image analysis and the shape model.
    Structural,
    /// Stable Diffusion features (DIFT) against the appearance gallery.
    Dift,
}

impl Backend {
    /// Name as used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::Mesh => "mesh",
            Backend::Structural => "structural",
            Backend::Dift => "dift",
        }
    }
}

impl std::str::FromStr for Backend {
    type Err = MatchError;
    fn from_str(s: &str) -> Result<Self, MatchError> {
        match s {
            "auto" => Ok(Backend::Auto),
            "mesh" => Ok(Backend::Mesh),
            "structural" => Ok(Backend::Structural),
            "dift" => Ok(Backend::Dift),
            _ => Err(MatchError::Options(format!(
                "unknown backend \"{s}\" (auto, mesh, structural, dift)"
            ))),
        }
    }
}

/// Options for [`match_face`].
#[derive(Clone, Debug)]
pub struct MatchOptions {
    /// Backend choice.
    pub backend: Backend,
    /// Diffusers-format Stable Diffusion 2.1 folder (for `dift`).
    pub weights: Option<PathBuf>,
    /// Download the weights from the Hugging Face hub when no folder is given (for `dift`).
    pub download: bool,
    /// 3–5 user-placed anchors (see [`shape::anchor_layout`]); when set, the anchor fit runs.
    pub anchors: Option<Vec<Point>>,
    /// DIFT settings.
    pub dift: dift::DiftOptions,
    /// Where per-model gallery features are cached (default: the user cache folder).
    pub cache_dir: Option<PathBuf>,
    /// Gallery folder (default: the gallery built into the binary).
    pub gallery: Option<PathBuf>,
}

impl Default for MatchOptions {
    fn default() -> Self {
        Self {
            backend: Backend::Auto,
            weights: None,
            download: false,
            anchors: None,
            dift: dift::DiftOptions::default(),
            cache_dir: None,
            gallery: None,
        }
    }
}

/// A matched face and how it was obtained.
#[derive(Clone, Debug)]
pub struct MatchResult {
    /// 68 points with per-point confidence.
    pub face: Face,
    /// The backend that produced it.
    pub backend: Backend,
    /// A one-line human-readable account (what was found, what was assumed).
    pub note: String,
}

/// Find the 68 landmarks of the character in `image`.
pub fn match_face(
    image: &RgbaImage,
    opts: &MatchOptions,
    progress: &dyn Progress,
) -> Result<MatchResult, MatchError> {
    let model = shape::ShapeModel::default_model();
    if let Some(anchors) = &opts.anchors {
        let fit = shape::fit_anchors(model, anchors).ok_or_else(|| {
            MatchError::Options(format!(
                "{} anchors given; the five-click fit takes 3, 4 or 5 \
                 (eyes + nose tip; eyes + mouth corners; all five)",
                anchors.len()
            ))
        })?;
        let mut face = Face::new(
            fit.points,
            Some(crate::landmarks::ImageSize {
                width: image.width(),
                height: image.height(),
            }),
        );
        // Anchored points are certain; the rest follow the model.
        face.confidence = [0.5; 68];
        if let Some(layout) = shape::anchor_layout(anchors.len()) {
            for &g in layout {
                for &i in shape::ANCHOR_GROUPS[g] {
                    face.confidence[i] = 1.0;
                }
            }
        }
        return Ok(MatchResult {
            face,
            backend: opts.backend,
            note: format!("five-click fit from {} anchors", anchors.len()),
        });
    }
    let backend = match opts.backend {
        Backend::Auto => {
            if opts.weights.as_deref().is_some_and(dift::weights_present) {
                Backend::Dift
            } else {
                Backend::Structural
            }
        }
        b => b,
    };
    match backend {
        Backend::Mesh => Err(MatchError::Options(
            "the face-mesh backend is not part of this build yet; use --backend structural or dift"
                .into(),
        )),
        Backend::Dift => {
            let dir = dift::resolve_weights(opts.weights.as_deref(), opts.download, progress)?;
            let featurizer = dift::Dift::load(&dir, &opts.dift, progress)?;
            let gallery = match &opts.gallery {
                Some(g) => gallery::Gallery::load_dir(g)?,
                None => gallery::Gallery::embedded()?,
            };
            let cache = gallery::FeatureCache::new(opts.cache_dir.clone());
            let face = matcher::match_with_gallery(
                image,
                &featurizer,
                &gallery,
                &cache,
                &matcher::MatcherOptions::default(),
                progress,
            )?;
            Ok(MatchResult {
                face,
                backend,
                note: format!("DIFT ({}) against {} gallery characters", featurizer.describe(), gallery.entries.len()),
            })
        }
        Backend::Structural | Backend::Auto => {
            progress.update("structural fit", 0, Some(1));
            let r = structural::fit(image, model);
            progress.update("structural fit", 1, Some(1));
            let f = &r.findings;
            let note = format!(
                "structural fit: face region {}, eyes {}, mouth {}",
                if f.face { "found" } else { "not found" },
                if f.eyes { "found" } else { "assumed" },
                if f.mouth { "found" } else { "assumed" },
            );
            Ok(MatchResult {
                face: r.face,
                backend: Backend::Structural,
                note,
            })
        }
    }
}
