//! face-api.js's 68-point face landmark network (MIT; converted by `tools/convert_faceapi.py`,
//! see `models/README.md`): a 112×112 face crop in, the 68 iBUG points out, as fractions of the
//! crop. Four dense blocks of depthwise-separable convolutions (each halving the resolution,
//! 112 → 7 px, 32 → 256 channels), a global average and one fully connected layer.
//!
//! The matcher runs it next to the face mesh: the mesh was trained on 468 surface vertices and
//! its 68 points come from a fitted map, this network was trained on the 68 points themselves.

use std::path::Path;
use std::sync::OnceLock;

use rayon::prelude::*;

use super::NnError;
use super::layers::{Conv, Depthwise, Weights};
use super::ops::{Act, FeatureMap, Padding};

/// Input side of the network.
pub const LANDMARK68_SIZE: usize = 112;
/// Per-channel RGB mean subtracted from the 0..255 input before it is divided by 255.
pub const MEAN_RGB: [f32; 3] = [122.782, 117.001, 104.298];
/// Weights file name under `models/`.
pub const LANDMARK68_FILE: &str = "landmark68.safetensors";
/// The same network fine-tuned by the project on stylized faces (`tools/train/`, model card in
/// `models/README.md`): same graph, same tensor names and layouts.
pub const LANDMARK68_STYLIZED_FILE: &str = "landmark68_stylized.safetensors";

/// The network of the learned backend's refined pass ([`LANDMARK68_STYLIZED_FILE`] trained on
/// refined-pass crops only): same graph, same tensor names and layouts.
pub const LANDMARK68_STYLIZED_REFINED_FILE: &str = "landmark68_stylized_refined.safetensors";

static LANDMARK68_BYTES: &[u8] = include_bytes!("../../../models/landmark68.safetensors");
static LANDMARK68_STYLIZED_BYTES: &[u8] =
    include_bytes!("../../../models/landmark68_stylized.safetensors");
static LANDMARK68_STYLIZED_REFINED_BYTES: &[u8] =
    include_bytes!("../../../models/landmark68_stylized_refined.safetensors");

/// A depthwise 3×3 followed by a pointwise 1×1 convolution with bias.
struct Separable {
    depthwise: Depthwise,
    pointwise: Conv,
}

impl Separable {
    fn load(w: &Weights, name: &str, stride: usize) -> Result<Self, NnError> {
        Ok(Self {
            depthwise: Depthwise::load(w, &format!("{name}/depthwise"), stride)?,
            pointwise: Conv::load(w, &format!("{name}/pointwise"), 1, Padding::Same)?,
        })
    }

    fn forward(&self, x: &FeatureMap, act: &Act) -> Result<FeatureMap, NnError> {
        self.pointwise.forward(&self.depthwise.forward(x)?, act)
    }
}

/// The first layer of a dense block: a dense 3×3 convolution (first block) or a separable one.
enum Entry {
    Dense(Conv),
    Separable(Separable),
}

/// `o1 = relu(entry(x))` (stride 2), then three separable convolutions, each fed the ReLU of
/// the sum of all earlier outputs: `out = relu(o1 + o2 + o3 + o4)`.
struct DenseBlock {
    entry: Entry,
    convs: [Separable; 3],
}

impl DenseBlock {
    fn load(w: &Weights, k: usize) -> Result<Self, NnError> {
        let p = format!("dense{k}");
        let entry = if k == 0 {
            Entry::Dense(Conv::load(w, &format!("{p}/conv0"), 2, Padding::Same)?)
        } else {
            Entry::Separable(Separable::load(w, &format!("{p}/conv0"), 2)?)
        };
        let conv = |j: usize| Separable::load(w, &format!("{p}/conv{j}"), 1);
        Ok(Self {
            entry,
            convs: [conv(1)?, conv(2)?, conv(3)?],
        })
    }

    fn forward(&self, x: &FeatureMap) -> Result<FeatureMap, NnError> {
        let o1 = match &self.entry {
            Entry::Dense(c) => c.forward(x, &Act::Relu)?,
            Entry::Separable(s) => s.forward(x, &Act::Relu)?,
        };
        // `sum` holds o1 + … + o_j; each convolution reads relu(sum) (o1 itself is already ≥ 0).
        let mut sum = o1.clone();
        let mut input = o1;
        for conv in &self.convs {
            let o = conv.forward(&input, &Act::None)?;
            for (s, v) in sum.data.iter_mut().zip(&o.data) {
                *s += v;
            }
            input = FeatureMap {
                h: sum.h,
                w: sum.w,
                c: sum.c,
                data: sum.data.iter().map(|v| v.max(0.0)).collect(),
            };
        }
        Ok(input)
    }
}

/// The 68-point landmark network.
pub struct Landmark68Net {
    blocks: [DenseBlock; 4],
    fc: Conv,
}

impl Landmark68Net {
    /// face-api.js's network built into the binary, loaded once per process.
    pub fn embedded() -> Result<&'static Self, NnError> {
        static NET: OnceLock<Result<Landmark68Net, String>> = OnceLock::new();
        Self::embedded_once(&NET, LANDMARK68_BYTES, LANDMARK68_FILE)
    }

    /// The project's fine-tuned network for stylized faces ([`LANDMARK68_STYLIZED_FILE`]),
    /// built into the binary, loaded once per process.
    pub fn stylized() -> Result<&'static Self, NnError> {
        static NET: OnceLock<Result<Landmark68Net, String>> = OnceLock::new();
        Self::embedded_once(&NET, LANDMARK68_STYLIZED_BYTES, LANDMARK68_STYLIZED_FILE)
    }

    /// The project's network for the learned backend's refined pass
    /// ([`LANDMARK68_STYLIZED_REFINED_FILE`]), built into the binary, loaded once per process.
    pub fn stylized_refined() -> Result<&'static Self, NnError> {
        static NET: OnceLock<Result<Landmark68Net, String>> = OnceLock::new();
        Self::embedded_once(
            &NET,
            LANDMARK68_STYLIZED_REFINED_BYTES,
            LANDMARK68_STYLIZED_REFINED_FILE,
        )
    }

    fn embedded_once(
        cell: &'static OnceLock<Result<Landmark68Net, String>>,
        bytes: &'static [u8],
        file: &str,
    ) -> Result<&'static Self, NnError> {
        let path = Path::new("<embedded>").join(file);
        cell.get_or_init(|| {
            Weights::from_bytes(bytes, &path)
                .and_then(|w| Self::from_weights(&w))
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|msg| NnError::Format {
            path,
            msg: msg.clone(),
        })
    }

    /// Builds the network from loaded weights (names written by `tools/convert_faceapi.py`).
    pub fn from_weights(w: &Weights) -> Result<Self, NnError> {
        Ok(Self {
            blocks: [
                DenseBlock::load(w, 0)?,
                DenseBlock::load(w, 1)?,
                DenseBlock::load(w, 2)?,
                DenseBlock::load(w, 3)?,
            ],
            fc: Conv::load(w, "fc", 1, Padding::Valid)?,
        })
    }

    /// The 68 points `(x, y)` as fractions of the input for one `112 × 112 × 3` RGB image with
    /// values in [0, 1].
    pub fn forward_map(&self, x: &FeatureMap) -> Result<[[f32; 2]; 68], NnError> {
        if (x.h, x.w, x.c) != (LANDMARK68_SIZE, LANDMARK68_SIZE, 3) {
            return Err(NnError::Candle(candle_core::Error::Msg(format!(
                "landmark68: input {}×{}×{}, expected {LANDMARK68_SIZE}×{LANDMARK68_SIZE}×3",
                x.h, x.w, x.c
            ))));
        }
        let mut y = FeatureMap {
            h: x.h,
            w: x.w,
            c: 3,
            data: x
                .data
                .chunks_exact(3)
                .flat_map(|p| [0, 1, 2].map(|c| p[c] - MEAN_RGB[c] / 255.0))
                .collect(),
        };
        for b in &self.blocks {
            y = b.forward(&y)?;
        }
        // A 7×7 average pool over the 7×7 map: the mean of every position.
        let n = (y.h * y.w) as f32;
        let mut pooled = vec![0f32; y.c];
        for px in y.data.chunks_exact(y.c) {
            for (s, v) in pooled.iter_mut().zip(px) {
                *s += v / n;
            }
        }
        let pooled = FeatureMap {
            h: 1,
            w: 1,
            c: y.c,
            data: pooled,
        };
        let out = self.fc.forward(&pooled, &Act::None)?.data;
        if out.len() != 136 {
            return Err(NnError::Candle(candle_core::Error::Msg(format!(
                "landmark68: {} outputs, expected 136",
                out.len()
            ))));
        }
        Ok(std::array::from_fn(|i| [out[2 * i], out[2 * i + 1]]))
    }

    /// [`Self::forward_map`] over several inputs, in parallel.
    pub fn forward_maps(&self, xs: &[FeatureMap]) -> Result<Vec<[[f32; 2]; 68]>, NnError> {
        xs.par_iter().map(|x| self.forward_map(x)).collect()
    }
}
