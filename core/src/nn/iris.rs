//! MediaPipe's iris / eye-contour network (64×64 input of one eye, the subject's left eye as
//! seen in the image's right half — a right eye is fed mirrored): 71 eye-region points (eyelid
//! contour first) and 5 iris points.

use std::path::Path;

use candle_core::Tensor;

use super::NnError;
use rayon::prelude::*;

use super::layers::{Block, Conv, Weights, batch_item, prelu, run_blocks};
use super::ops::{Act, FeatureMap, Padding};

/// Input side of the network.
pub const EYE_SIZE: usize = 64;
/// Eye-region points: 16 eyelid contour points, then halos and brow.
pub const EYE_POINTS: usize = 71;
/// Iris points: centre, then four on the iris boundary.
pub const IRIS_POINTS: usize = 5;

/// Output of the eye network for one crop, in input pixels (0..64).
#[derive(Debug, Clone)]
pub struct EyeOutput {
    /// 71 eye-region points `(x, y, z)`.
    pub contour: Vec<[f32; 3]>,
    /// 5 iris points `(x, y, z)`.
    pub iris: Vec<[f32; 3]>,
}

/// The iris / eye-contour network.
pub struct EyeModel {
    stem: (Conv, Act),
    trunk: Vec<Block>,
    contour_blocks: Vec<Block>,
    contour_out: Conv,
    iris_blocks: Vec<Block>,
    iris_out: Conv,
}

fn dw_name(i: usize) -> String {
    if i == 0 {
        "depthwise_conv2d".to_string()
    } else {
        format!("depthwise_conv2d_{i}")
    }
}

/// `count` bottleneck blocks whose expand convs start at `conv2d_{c0}` and depthwise convs at
/// `depthwise_conv2d_{d0}` (each block uses two dense convs and two PReLUs).
fn branch(w: &Weights, c0: usize, d0: usize, count: usize) -> Result<Vec<Block>, NnError> {
    (0..count)
        .map(|m| {
            let pre = c0 + 2 * m;
            Block::load_bottleneck(
                w,
                (&format!("conv2d_{pre}"), &format!("p_re_lu_{pre}")),
                &dw_name(d0 + m),
                (
                    &format!("conv2d_{}", pre + 1),
                    &format!("p_re_lu_{}", pre + 1),
                ),
            )
        })
        .collect()
}

impl EyeModel {
    /// Loads `iris.safetensors`.
    pub fn load(path: &Path) -> Result<Self, NnError> {
        Self::from_weights(&Weights::load(path)?)
    }

    /// Builds the network from loaded weights (TFLite tensor names).
    pub fn from_weights(w: &Weights) -> Result<Self, NnError> {
        Ok(Self {
            stem: (
                Conv::load(w, "conv2d", 2, Padding::Same)?,
                prelu(w, "p_re_lu")?,
            ),
            trunk: branch(w, 1, 0, 10)?,
            contour_blocks: branch(w, 21, 10, 8)?,
            contour_out: Conv::load(w, "conv_eyes_contours_and_brows", 1, Padding::Valid)?,
            iris_blocks: branch(w, 37, 18, 8)?,
            iris_out: Conv::load(w, "conv_iris", 1, Padding::Valid)?,
        })
    }

    /// Runs the network on a batch `N × 64 × 64 × 3` with values in [0, 1].
    pub fn forward(&self, x: &Tensor) -> Result<Vec<EyeOutput>, NnError> {
        let items = (0..x.dims4()?.0)
            .map(|i| batch_item(x, i))
            .collect::<Result<Vec<_>, _>>()?;
        self.forward_maps(&items)
    }

    /// Runs the network on several `64 × 64 × 3` images with values in [0, 1], in parallel.
    pub fn forward_maps(&self, xs: &[FeatureMap]) -> Result<Vec<EyeOutput>, NnError> {
        xs.par_iter().map(|x| self.forward_map(x)).collect()
    }

    /// The eye-region points alone for several `64 × 64 × 3` images, in parallel: the iris head
    /// is skipped (the contour head does not depend on it, so the points equal
    /// [`Self::forward_map`]'s `contour`).
    pub fn contours(&self, xs: &[FeatureMap]) -> Result<Vec<Vec<[f32; 3]>>, NnError> {
        xs.par_iter()
            .map(|x| {
                let trunk = self.trunk(x)?;
                self.contour(&trunk, x)
            })
            .collect()
    }

    /// Runs the network on one `64 × 64 × 3` image with values in [0, 1].
    pub fn forward_map(&self, x: &FeatureMap) -> Result<EyeOutput, NnError> {
        let trunk = self.trunk(x)?;
        let contour = self.contour(&trunk, x)?;
        let i = run_blocks(&self.iris_blocks, &trunk)?;
        let iris = self.iris_out.forward(&i, &Act::None)?.data;
        if iris.len() != IRIS_POINTS * 3 {
            return Err(size_error("iris", iris.len(), x));
        }
        Ok(EyeOutput {
            contour,
            iris: points(&iris),
        })
    }

    /// Stem and shared trunk.
    fn trunk(&self, x: &FeatureMap) -> Result<FeatureMap, NnError> {
        let y = self.stem.0.forward(x, &self.stem.1)?;
        run_blocks(&self.trunk, &y)
    }

    /// The contour head on the trunk's output.
    fn contour(&self, trunk: &FeatureMap, x: &FeatureMap) -> Result<Vec<[f32; 3]>, NnError> {
        let c = run_blocks(&self.contour_blocks, trunk)?;
        let contour = self.contour_out.forward(&c, &Act::None)?.data;
        if contour.len() != EYE_POINTS * 3 {
            return Err(size_error("contour", contour.len(), x));
        }
        Ok(points(&contour))
    }
}

fn points(v: &[f32]) -> Vec<[f32; 3]> {
    v.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect()
}

fn size_error(what: &str, len: usize, x: &FeatureMap) -> NnError {
    NnError::Candle(candle_core::Error::Msg(format!(
        "eye model: {len} {what} values from a {}×{} input",
        x.h, x.w
    )))
}
