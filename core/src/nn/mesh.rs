//! MediaPipe's face landmark network ("face mesh", 192×192 input, 468 points with depth, plus a
//! face-presence logit).

use std::path::Path;

use candle_core::Tensor;

use super::NnError;
use super::layers::{Block, Conv, Weights, batch_item, prelu, run_blocks};
use super::ops::{Act, FeatureMap, Padding};

/// Input side of the network.
pub const MESH_SIZE: usize = 192;
/// Number of mesh vertices.
pub const MESH_POINTS: usize = 468;

/// Output of the face mesh network for one crop.
#[derive(Debug, Clone)]
pub struct MeshOutput {
    /// 468 points `(x, y, z)` in input pixels (0..192); z is relative depth in the same unit.
    pub points: Vec<[f32; 3]>,
    /// Face-presence logit (sigmoid gives MediaPipe's face flag).
    pub presence_logit: f32,
}

/// The face landmark network.
pub struct FaceMesh {
    stem: (Conv, Act),
    trunk: Vec<Block>,
    mesh_blocks: Vec<Block>,
    mesh_reduce: (Conv, Act),
    mesh_block: Block,
    mesh_out: Conv,
    flag_block: Block,
    flag_reduce: (Conv, Act),
    flag_block2: Block,
    flag_out: Conv,
}

impl FaceMesh {
    /// Loads `face_mesh.safetensors`.
    pub fn load(path: &Path) -> Result<Self, NnError> {
        Self::from_weights(&Weights::load(path)?)
    }

    /// Builds the network from loaded weights (TFLite tensor names).
    pub fn from_weights(w: &Weights) -> Result<Self, NnError> {
        let block = |j: usize, stride: usize| {
            Block::load(
                w,
                &format!("depthwise_conv2d_{j}"),
                &format!("conv2d_{}", j + 1),
                prelu(w, &format!("p_re_lu_{}", j + 1))?,
                stride,
            )
        };
        // Shared trunk: blocks 1..=14 (stride 2 at 3, 6, 9, 12), 192 → 6 px, 128 channels.
        let trunk = (1..=14)
            .map(|j| block(j, if j % 3 == 0 { 2 } else { 1 }))
            .collect::<Result<Vec<_>, _>>()?;
        // Landmark head: blocks 15 (stride 2), 16, 17 → 3×3×128.
        let mesh_blocks = (15..=17)
            .map(|j| block(j, if j == 15 { 2 } else { 1 }))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            stem: (
                Conv::load(w, "conv2d_1", 2, Padding::Same)?,
                prelu(w, "p_re_lu_1")?,
            ),
            trunk,
            mesh_blocks,
            mesh_reduce: (
                Conv::load(w, "conv2d_19", 1, Padding::Valid)?,
                prelu(w, "p_re_lu_19")?,
            ),
            mesh_block: Block::load(
                w,
                "depthwise_conv2d_18",
                "conv2d_20",
                prelu(w, "p_re_lu_20")?,
                1,
            )?,
            mesh_out: Conv::load(w, "conv2d_21", 3, Padding::Valid)?,
            flag_block: Block::load(
                w,
                "depthwise_conv2d_23",
                "conv2d_28",
                prelu(w, "p_re_lu_26")?,
                2,
            )?,
            flag_reduce: (
                Conv::load(w, "conv2d_29", 1, Padding::Valid)?,
                prelu(w, "p_re_lu_27")?,
            ),
            flag_block2: Block::load(
                w,
                "depthwise_conv2d_24",
                "conv2d_30",
                prelu(w, "p_re_lu_28")?,
                1,
            )?,
            flag_out: Conv::load(w, "conv2d_31", 3, Padding::Valid)?,
        })
    }

    /// Runs the network on a batch `N × 192 × 192 × 3` with values in [0, 1].
    pub fn forward(&self, x: &Tensor) -> Result<Vec<MeshOutput>, NnError> {
        (0..x.dims4()?.0)
            .map(|i| self.forward_map(&batch_item(x, i)?))
            .collect()
    }

    /// Runs the network on one `192 × 192 × 3` image with values in [0, 1].
    pub fn forward_map(&self, x: &FeatureMap) -> Result<MeshOutput, NnError> {
        let y = self.stem.0.forward(x, &self.stem.1)?;
        let trunk = run_blocks(&self.trunk, &y)?;

        let m = run_blocks(&self.mesh_blocks, &trunk)?;
        let m = self.mesh_reduce.0.forward(&m, &self.mesh_reduce.1)?;
        let m = self.mesh_block.forward(&m)?;
        let points = self.mesh_out.forward(&m, &Act::None)?.data;

        let f = self.flag_block.forward(&trunk)?;
        let f = self.flag_reduce.0.forward(&f, &self.flag_reduce.1)?;
        let f = self.flag_block2.forward(&f)?;
        let flag = self.flag_out.forward(&f, &Act::None)?.data;

        if points.len() != MESH_POINTS * 3 || flag.len() != 1 {
            return Err(NnError::Candle(candle_core::Error::Msg(format!(
                "face mesh: {} point values and {} flags from a {}×{} input",
                points.len(),
                flag.len(),
                x.h,
                x.w
            ))));
        }
        Ok(MeshOutput {
            points: points.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect(),
            presence_logit: flag[0],
        })
    }
}
