//! Layers shared by the MediaPipe networks, loaded by TFLite tensor name from safetensors.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};

use super::NnError;
use super::ops::{Act, DepthwiseOp, EpilogueOp, Im2ColOp, MaxPool2Op, Padding, ResidualOp};

/// The tensors of one safetensors file, with the file name kept for error messages.
pub struct Weights {
    path: PathBuf,
    tensors: HashMap<String, Tensor>,
}

impl Weights {
    /// Reads a safetensors file onto the CPU.
    pub fn load(path: &Path) -> Result<Self, NnError> {
        let bytes = std::fs::read(path).map_err(|source| NnError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, path)
    }

    /// Parses safetensors bytes; `path` only names the source in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, NnError> {
        let tensors = candle_core::safetensors::load_buffer(bytes, &Device::Cpu).map_err(|e| {
            NnError::Format {
                path: path.to_path_buf(),
                msg: e.to_string(),
            }
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            tensors,
        })
    }

    /// A tensor as f32 with the expected rank.
    pub fn get(&self, name: &str, rank: usize) -> Result<Tensor, NnError> {
        let t = self.tensors.get(name).ok_or_else(|| NnError::Missing {
            path: self.path.clone(),
            name: name.to_string(),
        })?;
        if t.rank() != rank {
            return Err(NnError::Format {
                path: self.path.clone(),
                msg: format!("{name}: expected rank {rank}, got shape {:?}", t.dims()),
            });
        }
        Ok(t.to_dtype(DType::F32)?)
    }

    /// A tensor flattened into a vector of f32.
    pub fn vec(&self, name: &str, rank: usize) -> Result<Vec<f32>, NnError> {
        Ok(self.get(name, rank)?.flatten_all()?.to_vec1::<f32>()?)
    }
}

/// NHWC shape `(N, H, W, C)`.
type Nhwc = (usize, usize, usize, usize);

/// Dense convolution `k × k`, stride `s`, with bias, as matmul (1×1) or im2col + matmul.
#[derive(Debug, Clone)]
pub struct Conv {
    /// `(k·k·C_in, C_out)` matrix.
    weight: Tensor,
    bias: Vec<f32>,
    k: usize,
    stride: usize,
    padding: Padding,
}

impl Conv {
    /// Loads `{name}/Kernel` (`O × k × k × I`) and `{name}/Bias`.
    pub fn load(w: &Weights, name: &str, stride: usize, padding: Padding) -> Result<Self, NnError> {
        let kernel = w.get(&format!("{name}/Kernel"), 4)?;
        let (o, kh, kw, i) = kernel.dims4()?;
        if kh != kw {
            return Err(NnError::Format {
                path: w.path.clone(),
                msg: format!("{name}: non-square kernel {kh}×{kw}"),
            });
        }
        let weight = kernel.reshape((o, kh * kw * i))?.t()?.contiguous()?;
        let bias = w.vec(&format!("{name}/Bias"), 1)?;
        if bias.len() != o {
            return Err(NnError::Format {
                path: w.path.clone(),
                msg: format!("{name}: {} biases for {o} outputs", bias.len()),
            });
        }
        Ok(Self {
            weight,
            bias,
            k: kh,
            stride,
            padding,
        })
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.bias.len()
    }

    /// Kernel size.
    pub fn kernel(&self) -> usize {
        self.k
    }

    /// Runs the convolution up to the matmul: returns the `(N·Ho·Wo, C_out)` product (no bias)
    /// and the NHWC output shape.
    fn matmul(&self, x: &Tensor) -> Result<(Tensor, Nhwc), NnError> {
        let (n, h, w, c) = x.dims4()?;
        if self.k == 1 && self.stride == 1 {
            let y = x.reshape((n * h * w, c))?.matmul(&self.weight)?;
            return Ok((y, (n, h, w, self.out_channels())));
        }
        let op = Im2ColOp {
            k: self.k,
            stride: self.stride,
            padding: self.padding,
        };
        let (ho, wo) = op.out_size(h, w);
        let patches = x.apply_op1_no_bwd(&op)?;
        let y = patches.matmul(&self.weight)?;
        Ok((y, (n, ho, wo, self.out_channels())))
    }

    /// `act(conv(x) + bias)`.
    pub fn forward(&self, x: &Tensor, act: &Act) -> Result<Tensor, NnError> {
        let (y, shape) = self.matmul(x)?;
        Ok(y.apply_op1_no_bwd(&EpilogueOp {
            bias: self.bias.clone(),
            act: act.clone(),
            shape,
        })?)
    }

    /// `act(conv(x) + bias + pad_c(skip))`.
    pub fn forward_residual(
        &self,
        x: &Tensor,
        skip: &Tensor,
        act: &Act,
    ) -> Result<Tensor, NnError> {
        let (y, _) = self.matmul(x)?;
        Ok(y.apply_op2_no_bwd(
            skip,
            &ResidualOp {
                bias: self.bias.clone(),
                act: act.clone(),
            },
        )?)
    }
}

/// Loads a PReLU's per-channel slopes (`{name}/Alpha`, shape `1 × 1 × C`).
pub fn prelu(w: &Weights, name: &str) -> Result<Act, NnError> {
    Ok(Act::PRelu(w.vec(&format!("{name}/Alpha"), 3)?))
}

/// Depthwise convolution with bias.
#[derive(Debug, Clone)]
pub struct Depthwise {
    op: DepthwiseOp,
}

impl Depthwise {
    /// Loads `{name}/Kernel` (`1 × k × k × C`) and `{name}/Bias`; TFLite `SAME` padding.
    pub fn load(w: &Weights, name: &str, stride: usize) -> Result<Self, NnError> {
        let kernel = w.get(&format!("{name}/Kernel"), 4)?;
        let (_, k, _, _) = kernel.dims4()?;
        Ok(Self {
            op: DepthwiseOp {
                weight: kernel.flatten_all()?.to_vec1::<f32>()?,
                bias: w.vec(&format!("{name}/Bias"), 1)?,
                k,
                stride,
                padding: Padding::Same,
            },
        })
    }

    /// Stride of the convolution.
    pub fn stride(&self) -> usize {
        self.op.stride
    }

    /// Applies the convolution.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor, NnError> {
        Ok(x.apply_op1_no_bwd(&self.op)?)
    }
}

/// One residual block of BlazeFace / the face mesh / the iris model:
///
/// ```text
/// y    = [pre: act_pre(conv(x))]  (iris model only; 1×1, or 2×2 stride 2 when downsampling)
/// y    = dw(y)                     (3×3 depthwise; stride 2 when downsampling, unless `pre` did)
/// out  = act(pw(y) + skip)         (1×1; skip = x, max-pooled 2×2 when downsampling,
///                                   zero-padded in channels when pw widens)
/// ```
#[derive(Debug, Clone)]
pub struct Block {
    pre: Option<(Conv, Act)>,
    dw: Depthwise,
    pw: Conv,
    act: Act,
    downsample: bool,
}

impl Block {
    /// A MobileNet-style block `dw → pw (+ skip) → act` (BlazeFace, face mesh).
    pub fn load(w: &Weights, dw: &str, pw: &str, act: Act, stride: usize) -> Result<Self, NnError> {
        Ok(Self {
            pre: None,
            dw: Depthwise::load(w, dw, stride)?,
            pw: Conv::load(w, pw, 1, Padding::Valid)?,
            act,
            downsample: stride == 2,
        })
    }

    /// A bottleneck block `pre conv → act → dw → pw (+ skip) → act` (iris model); a 2×2 `pre`
    /// kernel means it downsamples with stride 2.
    pub fn load_bottleneck(
        w: &Weights,
        pre: (&str, &str),
        dw: &str,
        pw: (&str, &str),
    ) -> Result<Self, NnError> {
        let kernel = w.get(&format!("{}/Kernel", pre.0), 4)?;
        let downsample = kernel.dims4()?.1 == 2;
        let stride = if downsample { 2 } else { 1 };
        Ok(Self {
            pre: Some((
                Conv::load(w, pre.0, stride, Padding::Valid)?,
                prelu(w, pre.1)?,
            )),
            dw: Depthwise::load(w, dw, 1)?,
            pw: Conv::load(w, pw.0, 1, Padding::Valid)?,
            act: prelu(w, pw.1)?,
            downsample,
        })
    }

    /// Applies the block.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor, NnError> {
        let y = match &self.pre {
            Some((conv, act)) => conv.forward(x, act)?,
            None => x.clone(),
        };
        let y = self.dw.forward(&y)?;
        let skip = if self.downsample {
            x.apply_op1_no_bwd(&MaxPool2Op)?
        } else {
            x.clone()
        };
        self.pw.forward_residual(&y, &skip, &self.act)
    }
}

/// Runs blocks in sequence.
pub fn run_blocks(blocks: &[Block], x: &Tensor) -> Result<Tensor, NnError> {
    let mut y = x.clone();
    for b in blocks {
        y = b.forward(&y)?;
    }
    Ok(y)
}
