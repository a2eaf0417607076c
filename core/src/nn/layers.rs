//! Layers shared by the MediaPipe networks, loaded by TFLite tensor name from safetensors (with
//! candle) into packed f32 weights, and run with the plain-Rust kernels of [`super::ops`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use rayon::prelude::*;

use super::NnError;
use super::ops::{
    Act, DepthwiseKernel, Epilogue, FeatureMap, PackedWeights, Padding, Skip, gemm, im2col_rows,
    maxpool2_rows,
};

/// The tensors of one safetensors file, with the file name kept for error messages.
pub struct Weights {
    path: PathBuf,
    tensors: HashMap<String, Tensor>,
}

impl Weights {
    /// Reads a safetensors file onto the CPU.
    pub fn load(path: &Path) -> Result<Self, NnError> {
        let bytes = std::fs::read(path).map_err(|error| NnError::Io {
            path: path.to_path_buf(),
            error,
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

/// Output pixels per band of rows: large enough for full micro-kernel tiles, small enough for
/// a band's intermediate values to stay in cache.
const BAND_PIXELS: usize = 96;
/// Layers with fewer multiply-adds than this run on one thread.
const PARALLEL_MIN_MACS: usize = 1 << 19;

/// Runs `f(oy0, oy1, out_rows)` over bands of output rows covering `0..h` (`row_len` values per
/// row), in parallel when the layer is worth it.
fn for_bands<F>(out: &mut [f32], h: usize, w: usize, row_len: usize, macs: usize, f: F)
where
    F: Fn(usize, usize, &mut [f32]) + Sync,
{
    if h == 0 || row_len == 0 {
        return;
    }
    let band = BAND_PIXELS.div_ceil(w.max(1)).clamp(1, h);
    let run = |(i, chunk): (usize, &mut [f32])| {
        let oy0 = i * band;
        f(oy0, (oy0 + band).min(h), chunk);
    };
    if macs >= PARALLEL_MIN_MACS && h > band {
        out.par_chunks_mut(band * row_len).enumerate().for_each(run);
    } else {
        out.chunks_mut(band * row_len).enumerate().for_each(run);
    }
}

/// Dense convolution `k × k`, stride `s`, with bias: one product over packed weights (1×1) or
/// over extracted patches.
#[derive(Debug, Clone)]
pub struct Conv {
    weight: PackedWeights,
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
        if kh != kw || stride == 0 {
            return Err(NnError::Format {
                path: w.path.clone(),
                msg: format!("{name}: non-square kernel {kh}×{kw} or zero stride"),
            });
        }
        let values = kernel.flatten_all()?.to_vec1::<f32>()?;
        let weight = PackedWeights::from_out_major(&values, o, kh * kw * i);
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

    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.weight.k() / (self.k * self.k)
    }

    /// Kernel size.
    pub fn kernel(&self) -> usize {
        self.k
    }

    /// `act(conv(x) + bias)`.
    pub fn forward(&self, x: &FeatureMap, act: &Act) -> Result<FeatureMap, NnError> {
        if x.c != self.in_channels() {
            return Err(shape_error(format!(
                "conv: {} input channels, kernel expects {}",
                x.c,
                self.in_channels()
            )));
        }
        let (ho, _) = self.padding.resolve(x.h, self.k, self.stride);
        let (wo, _) = self.padding.resolve(x.w, self.k, self.stride);
        let (kdim, n) = (self.weight.k(), self.out_channels());
        let mut out = FeatureMap::zeros(ho, wo, n);
        let direct = self.k == 1 && self.stride == 1;
        let macs = ho * wo * n * kdim;
        let ep = Epilogue {
            bias: &self.bias,
            skip: None,
            act,
        };
        for_bands(&mut out.data, ho, wo, wo * n, macs, |oy0, oy1, dst| {
            let rows = (oy1 - oy0) * wo;
            if direct {
                let a = &x.data[oy0 * wo * kdim..oy1 * wo * kdim];
                gemm(a, kdim, rows, &self.weight, &ep, dst);
            } else {
                let mut patches = vec![0f32; rows * kdim];
                im2col_rows(x, self.k, self.stride, self.padding, oy0, oy1, &mut patches);
                gemm(&patches, kdim, rows, &self.weight, &ep, dst);
            }
        });
        Ok(out)
    }
}

fn shape_error(msg: String) -> NnError {
    NnError::Candle(candle_core::Error::Msg(msg))
}

/// Loads a PReLU's per-channel slopes (`{name}/Alpha`, shape `1 × 1 × C`).
pub fn prelu(w: &Weights, name: &str) -> Result<Act, NnError> {
    Ok(Act::PRelu(w.vec(&format!("{name}/Alpha"), 3)?))
}

/// Depthwise convolution with bias.
#[derive(Debug, Clone)]
pub struct Depthwise {
    op: DepthwiseKernel,
}

impl Depthwise {
    /// Loads `{name}/Kernel` (`1 × k × k × C`) and `{name}/Bias`; TFLite `SAME` padding.
    pub fn load(w: &Weights, name: &str, stride: usize) -> Result<Self, NnError> {
        let kernel = w.get(&format!("{name}/Kernel"), 4)?;
        let (_, k, _, c) = kernel.dims4()?;
        let bias = w.vec(&format!("{name}/Bias"), 1)?;
        if bias.len() != c || stride == 0 {
            return Err(NnError::Format {
                path: w.path.clone(),
                msg: format!("{name}: {} biases for {c} channels", bias.len()),
            });
        }
        Ok(Self {
            op: DepthwiseKernel {
                weight: kernel.flatten_all()?.to_vec1::<f32>()?,
                bias,
                k,
                stride,
                padding: Padding::Same,
            },
        })
    }

    /// Channels.
    pub fn channels(&self) -> usize {
        self.op.bias.len()
    }

    /// Stride of the convolution.
    pub fn stride(&self) -> usize {
        self.op.stride
    }

    /// Applies the convolution.
    pub fn forward(&self, x: &FeatureMap) -> Result<FeatureMap, NnError> {
        if x.c != self.channels() {
            return Err(shape_error(format!(
                "depthwise: {} channels, kernel has {}",
                x.c,
                self.channels()
            )));
        }
        let (ho, wo) = self.op.out_size(x.h, x.w);
        let mut out = FeatureMap::zeros(ho, wo, x.c);
        self.op.rows(x, 0, ho, &mut out.data);
        Ok(out)
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
///
/// The depthwise and pointwise convolutions run fused, band of rows by band of rows.
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
        Self::checked(
            w,
            Self {
                pre: None,
                dw: Depthwise::load(w, dw, stride)?,
                pw: Conv::load(w, pw, 1, Padding::Valid)?,
                act,
                downsample: stride == 2,
            },
        )
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
        Self::checked(
            w,
            Self {
                pre: Some((
                    Conv::load(w, pre.0, stride, Padding::Valid)?,
                    prelu(w, pre.1)?,
                )),
                dw: Depthwise::load(w, dw, 1)?,
                pw: Conv::load(w, pw.0, 1, Padding::Valid)?,
                act: prelu(w, pw.1)?,
                downsample,
            },
        )
    }

    /// Checks that the layers chain (channels, PReLU sizes).
    fn checked(w: &Weights, b: Self) -> Result<Self, NnError> {
        let mid = b.pre.as_ref().map(|(c, _)| c.out_channels());
        let mut ok = mid.is_none_or(|m| m == b.dw.channels())
            && b.pw.in_channels() == b.dw.channels()
            && b.pw.kernel() == 1;
        for (act, n) in [
            (&b.act, b.pw.out_channels()),
            (
                b.pre.as_ref().map_or(&Act::None, |p| &p.1),
                mid.unwrap_or(0),
            ),
        ] {
            if let Act::PRelu(a) = act {
                ok &= a.len() == n;
            }
        }
        if ok {
            Ok(b)
        } else {
            Err(NnError::Format {
                path: w.path.clone(),
                msg: "block layers do not chain".to_string(),
            })
        }
    }

    /// Applies the block.
    pub fn forward(&self, x: &FeatureMap) -> Result<FeatureMap, NnError> {
        let pre = match &self.pre {
            Some((conv, act)) => Some(conv.forward(x, act)?),
            None => None,
        };
        let y = pre.as_ref().unwrap_or(x);
        if y.c != self.dw.channels() {
            return Err(shape_error(format!(
                "block: {} channels into a {}-channel depthwise conv",
                y.c,
                self.dw.channels()
            )));
        }
        let (ho, wo) = self.dw.op.out_size(y.h, y.w);
        let (skip_h, skip_w) = if self.downsample {
            (x.h / 2, x.w / 2)
        } else {
            (x.h, x.w)
        };
        let (cm, n) = (y.c, self.pw.out_channels());
        if (skip_h, skip_w) != (ho, wo) || x.c > n {
            return Err(shape_error(format!(
                "block: skip {skip_h}×{skip_w}×{} does not fit output {ho}×{wo}×{n}",
                x.c
            )));
        }
        let mut out = FeatureMap::zeros(ho, wo, n);
        let macs = ho * wo * (n * cm + 9 * cm);
        for_bands(&mut out.data, ho, wo, wo * n, macs, |oy0, oy1, dst| {
            let rows = (oy1 - oy0) * wo;
            let mut mid = vec![0f32; rows * cm];
            self.dw.op.rows(y, oy0, oy1, &mut mid);
            let mut pooled = Vec::new();
            let skip = if self.downsample {
                pooled.resize(rows * x.c, 0.0);
                maxpool2_rows(x, oy0, oy1, &mut pooled);
                &pooled[..]
            } else {
                &x.data[oy0 * wo * x.c..oy1 * wo * x.c]
            };
            let ep = Epilogue {
                bias: &self.pw.bias,
                skip: Some(Skip { data: skip, c: x.c }),
                act: &self.act,
            };
            gemm(&mid, cm, rows, &self.pw.weight, &ep, dst);
        });
        Ok(out)
    }
}

/// Runs blocks in sequence.
pub fn run_blocks(blocks: &[Block], x: &FeatureMap) -> Result<FeatureMap, NnError> {
    let Some((first, rest)) = blocks.split_first() else {
        return Ok(x.clone());
    };
    let mut y = first.forward(x)?;
    for b in rest {
        y = b.forward(&y)?;
    }
    Ok(y)
}

/// The image at `index` of an NHWC batch held in a candle tensor, as a feature map.
pub fn batch_item(x: &Tensor, index: usize) -> Result<FeatureMap, NnError> {
    let (_, h, w, c) = x.dims4()?;
    let data = x
        .get(index)?
        .flatten_all()?
        .to_dtype(DType::F32)?
        .to_vec1::<f32>()?;
    FeatureMap::new(h, w, c, data).ok_or_else(|| shape_error("batch item size".to_string()))
}
