//! 2-D convolution for the diffusion models on the CPU: an im2col in the weights' own
//! (channel, row, column) order, then one matrix product whose result is already NCHW.
//!
//! candle 0.11's CPU convolution converts every input to NHWC, re-orders the whole kernel on
//! every call and scatters its output one value at a time (stride H·W); in an SD-2.1 U-Net pass
//! that scatter alone took about a seventh of the time. Here the kernel is reshaped once at load,
//! the patch matrix is written row by row with contiguous copies, and large inputs are processed
//! in bands of output rows so the patch matrix stays small (the VAE's first layers at 512²
//! would otherwise need 1.2 GB).
//!
//! 3×3, stride-1 convolutions with a large enough output go through [`super::winograd`]
//! instead, which needs a quarter of the multiply-adds.

use std::sync::{Arc, OnceLock};

use candle_core::{CpuStorage, CustomOp1, DType, Layout, Module, Result, Shape, Tensor};
use candle_nn::VarBuilder;
use rayon::prelude::*;

use super::winograd::{WinogradConv, WinogradKernel};

/// Largest patch matrix built at once, in elements (64 MB of f32).
const BAND_ELEMS: usize = 16 << 20;

/// Fewest 4×4 output tiles (over the batch) for which a 3×3, stride-1 convolution goes through
/// Winograd. Below it the 4× larger transformed kernel costs more memory traffic than the
/// saved arithmetic (the U-Net's 8×8 and 16×16 levels with 1280 channels).
const WINOGRAD_MIN_TILES: usize = 64;

/// A convolution with square kernel, no dilation, one group and zero padding
/// (`pad_before` on the top and left, `pad_after` on the bottom and right).
#[derive(Debug, Clone)]
pub struct Conv {
    /// Kernel as `out × (in·k·k)`, in the layout of the stored `out × in × k × k` weights.
    weight: Tensor,
    /// Bias as `out × 1`.
    bias: Option<Tensor>,
    in_channels: usize,
    k: usize,
    stride: usize,
    pad_before: usize,
    pad_after: usize,
    /// The kernel in the Winograd domain, made on the first input large enough to use it.
    winograd: OnceLock<Arc<WinogradKernel>>,
}

impl Conv {
    /// Load `weight` (`out × in × k × k`) and `bias` (`out`) under `vs` (diffusers names);
    /// `pads` is (before, after).
    pub fn new(
        vs: VarBuilder,
        in_channels: usize,
        out_channels: usize,
        k: usize,
        stride: usize,
        pads: (usize, usize),
    ) -> Result<Self> {
        // Through candle-nn's loader: the same names and, for fresh variables, the same
        // initialisation as candle-nn's own convolution.
        let conv = candle_nn::conv2d(in_channels, out_channels, k, Default::default(), vs)?;
        Self::from_weights(conv.weight(), conv.bias(), stride, pads.0, pads.1)
    }

    /// From an `out × in × k × k` kernel and optional `out` bias.
    pub fn from_weights(
        weight: &Tensor,
        bias: Option<&Tensor>,
        stride: usize,
        pad_before: usize,
        pad_after: usize,
    ) -> Result<Self> {
        let (out_channels, in_channels, k, kw) = weight.dims4()?;
        if k != kw || k == 0 || stride == 0 {
            candle_core::bail!("conv: need a square non-empty kernel and a stride ≥ 1");
        }
        let weight = weight
            .to_dtype(DType::F32)?
            .reshape((out_channels, in_channels * k * k))?
            .contiguous()?;
        let bias = match bias {
            Some(b) => Some(b.to_dtype(DType::F32)?.reshape((out_channels, 1))?),
            None => None,
        };
        Ok(Self {
            weight,
            bias,
            in_channels,
            k,
            stride,
            pad_before,
            pad_after,
            winograd: OnceLock::new(),
        })
    }

    /// Whether an output of `oh × ow` (batch `b`) goes through the Winograd path.
    fn use_winograd(&self, b: usize, oh: usize, ow: usize) -> bool {
        self.k == 3 && self.stride == 1 && b * oh.div_ceil(4) * ow.div_ceil(4) >= WINOGRAD_MIN_TILES
    }

    /// Winograd convolution of a contiguous f32 input.
    fn forward_winograd(&self, x: &Tensor) -> Result<Tensor> {
        let kernel = match self.winograd.get() {
            Some(k) => k.clone(),
            None => {
                let (co, ci) = (self.weight.dim(0)?, self.in_channels);
                let weight = self.weight.reshape((co, ci, 3, 3))?;
                let bias = match &self.bias {
                    Some(b) => Some(b.flatten_all()?),
                    None => None,
                };
                let made = Arc::new(WinogradKernel::new(&weight, bias.as_ref())?);
                self.winograd.get_or_init(|| made).clone()
            }
        };
        x.apply_op1_no_bwd(&WinogradConv::new(kernel, self.pad_before, self.pad_after))
    }

    /// Output size along one axis for input size `n`.
    fn out_len(&self, n: usize) -> Result<usize> {
        let padded = n + self.pad_before + self.pad_after;
        if padded < self.k {
            candle_core::bail!("conv: input {n} smaller than the kernel {}", self.k);
        }
        Ok((padded - self.k) / self.stride + 1)
    }
}

impl Module for Conv {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, c, h, w) = x.dims4()?;
        if c != self.in_channels {
            candle_core::bail!("conv: {c} input channels, expected {}", self.in_channels);
        }
        let (oh, ow) = (self.out_len(h)?, self.out_len(w)?);
        let x = x.to_dtype(DType::F32)?.contiguous()?;
        if self.use_winograd(b, oh, ow) {
            return self.forward_winograd(&x);
        }
        // A 1×1 kernel with stride 1 and no padding is a plain matrix product.
        let pointwise =
            self.k == 1 && self.stride == 1 && self.pad_before == 0 && self.pad_after == 0;
        let y = if pointwise {
            self.weight.broadcast_matmul(&x.reshape((b, c, h * w))?)?
        } else {
            let rows_per_band = (BAND_ELEMS / (c * self.k * self.k * ow).max(1)).clamp(1, oh);
            let mut bands = Vec::with_capacity(oh.div_ceil(rows_per_band));
            let mut row = 0;
            while row < oh {
                let rows = rows_per_band.min(oh - row);
                let col = x.apply_op1_no_bwd(&Im2Col {
                    k: self.k,
                    stride: self.stride,
                    pad: self.pad_before,
                    out_w: ow,
                    first_row: row,
                    rows,
                })?;
                bands.push(self.weight.broadcast_matmul(&col)?);
                row += rows;
            }
            Tensor::cat(&bands, 2)?
        };
        let y = match &self.bias {
            Some(bias) => y.broadcast_add(bias)?,
            None => y,
        };
        y.reshape((b, self.weight.dim(0)?, oh, ow))
    }
}

/// Patch matrix of output rows `first_row..first_row + rows`: `B × (C·k·k) × (rows·out_w)`,
/// row `(c·k + i)·k + j` holding input channel `c` at kernel offset `(i, j)` for each output pixel.
struct Im2Col {
    k: usize,
    stride: usize,
    pad: usize,
    out_w: usize,
    first_row: usize,
    rows: usize,
}

impl CustomOp1 for Im2Col {
    fn name(&self) -> &'static str {
        "faceshot-im2col"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let data = super::fused::f32_values(self.name(), storage, layout)?;
        let (b, c, h, w) = layout.shape().dims4()?;
        let (k, n) = (self.k, self.rows * self.out_w);
        let mut col = vec![0f32; b * c * k * k * n];
        // One chunk per (image, channel): its k·k rows of n values.
        col.par_chunks_mut(k * k * n)
            .enumerate()
            .for_each(|(bc, chunk)| {
                let plane = &data[bc * h * w..(bc + 1) * h * w];
                for i in 0..k {
                    for j in 0..k {
                        let dst_row = &mut chunk[(i * k + j) * n..(i * k + j + 1) * n];
                        self.fill_row(plane, h, w, i, j, dst_row);
                    }
                }
            });
        Ok((CpuStorage::F32(col), Shape::from((b, c * k * k, n))))
    }
}

impl Im2Col {
    /// Input values seen by kernel offset `(i, j)` for every output pixel of the band (zeros
    /// where the kernel reaches into the padding; `dst` starts zeroed).
    fn fill_row(&self, plane: &[f32], h: usize, w: usize, i: usize, j: usize, dst: &mut [f32]) {
        let ow = self.out_w;
        // Output columns whose input column lies inside the image: ox·s + j − pad ∈ [0, w).
        let first = self.pad.saturating_sub(j).div_ceil(self.stride);
        let last = match (w + self.pad).checked_sub(j + 1) {
            Some(span) => (span / self.stride + 1).min(ow),
            None => 0,
        };
        for r in 0..self.rows {
            let iy = (self.first_row + r) * self.stride + i;
            if iy < self.pad || iy - self.pad >= h || first >= last {
                continue;
            }
            let src = &plane[(iy - self.pad) * w..(iy - self.pad + 1) * w];
            let out = &mut dst[r * ow..(r + 1) * ow];
            let x0 = first * self.stride + j - self.pad;
            if self.stride == 1 {
                out[first..last].copy_from_slice(&src[x0..x0 + (last - first)]);
            } else {
                for (o, s) in out[first..last]
                    .iter_mut()
                    .zip(src[x0..].iter().step_by(self.stride))
                {
                    *o = *s;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::max_diff;
    use candle_core::Device;

    /// candle's own convolution (symmetric padding) plus bias, as the reference.
    fn reference(x: &Tensor, w: &Tensor, b: &Tensor, stride: usize, pad: usize) -> Tensor {
        let co = w.dim(0).unwrap_or(0);
        x.conv2d(w, pad, stride, 1, 1)
            .and_then(|y| y.broadcast_add(&b.reshape((1, co, 1, 1))?))
            .unwrap_or_else(|e| panic!("reference conv: {e}"))
    }

    #[test]
    fn matches_candle_for_kernels_strides_and_paddings() {
        let dev = Device::Cpu;
        for &(c, co, h, w, k, stride, pad) in &[
            (3usize, 5usize, 9usize, 7usize, 3usize, 1usize, 1usize),
            (4, 6, 8, 8, 3, 2, 1),
            (4, 6, 9, 11, 3, 2, 1),
            (5, 3, 6, 7, 1, 1, 0),
            (2, 4, 7, 5, 3, 1, 0),
            (3, 2, 5, 6, 5, 1, 2),
        ] {
            let x = Tensor::randn(0f32, 1.0, (2, c, h, w), &dev).unwrap();
            let wt = Tensor::randn(0f32, 0.3, (co, c, k, k), &dev).unwrap();
            let b = Tensor::randn(0f32, 0.3, co, &dev).unwrap();
            let conv = Conv::from_weights(&wt, Some(&b), stride, pad, pad).unwrap();
            let got = conv.forward(&x).unwrap();
            let want = reference(&x, &wt, &b, stride, pad);
            assert_eq!(got.dims(), want.dims(), "k{k} s{stride} p{pad}");
            assert!(max_diff(&got, &want) < 1e-4, "k{k} s{stride} p{pad}");
        }
    }

    #[test]
    fn bands_and_asymmetric_padding_match_a_padded_input() {
        let dev = Device::Cpu;
        // Many output rows with many channels force several bands.
        let (c, h, w) = (64, 40, 1100);
        let x = Tensor::randn(0f32, 1.0, (1, c, h, w), &dev).unwrap();
        let wt = Tensor::randn(0f32, 0.1, (3, c, 3, 3), &dev).unwrap();
        let b = Tensor::randn(0f32, 0.1, 3, &dev).unwrap();
        assert!(
            BAND_ELEMS / (c * 9 * w) < h,
            "the test must span several bands"
        );
        let conv = Conv::from_weights(&wt, Some(&b), 1, 1, 1).unwrap();
        // Outputs spread about 2.4 here; Winograd's f32 rounding differs from the direct sum
        // by up to ~1e-4 on some random draws, so the bound leaves room above that.
        let d = max_diff(&conv.forward(&x).unwrap(), &reference(&x, &wt, &b, 1, 1));
        assert!(d < 5e-4, "largest difference {d}");
        // The VAE's downsampler: zero row and column after the input, stride 2, no padding.
        let small = x.narrow(3, 0, 30).unwrap();
        let conv = Conv::from_weights(&wt, Some(&b), 2, 0, 1).unwrap();
        let padded = small
            .pad_with_zeros(3, 0, 1)
            .and_then(|p| p.pad_with_zeros(2, 0, 1))
            .unwrap();
        let want = reference(&padded, &wt, &b, 2, 0);
        let got = conv.forward(&small).unwrap();
        assert_eq!(got.dims(), want.dims());
        assert!(max_diff(&got, &want) < 1e-4);
    }

    #[test]
    fn strided_input_and_bad_shapes() {
        let dev = Device::Cpu;
        let x = Tensor::randn(0f32, 1.0, (1, 6, 5, 4), &dev).unwrap();
        let xt = x.transpose(2, 3).unwrap(); // not contiguous
        let wt = Tensor::randn(0f32, 0.3, (2, 6, 3, 3), &dev).unwrap();
        let conv = Conv::from_weights(&wt, None, 1, 1, 1).unwrap();
        let want = xt.conv2d(&wt, 1, 1, 1, 1).unwrap();
        assert!(max_diff(&conv.forward(&xt).unwrap(), &want) < 1e-4);
        // Wrong channel count and an input smaller than the kernel are errors, not panics.
        assert!(conv.forward(&x.narrow(1, 0, 5).unwrap()).is_err());
        let conv = Conv::from_weights(&wt, None, 1, 0, 0).unwrap();
        assert!(conv.forward(&x.narrow(2, 0, 2).unwrap()).is_err());
    }
}
