//! NHWC kernels for the MediaPipe networks, as candle custom ops (CPU).
//!
//! The MediaPipe graphs are NHWC throughout. Keeping that layout makes every 1×1 convolution a
//! plain `(N·H·W, C_in) × (C_in, C_out)` matmul (candle's gemm) and leaves four small kernels
//! that candle has no fast NHWC form of: depthwise convolution, patch extraction (im2col) for the
//! few k×k dense convolutions, 2×2 max pooling, and the fused "bias + residual + activation"
//! epilogue of every block.
//!
//! Padding follows TFLite: `SAME` pads `max((ceil(in/s) − 1)·s + k − in, 0)` in total, the smaller
//! half before; `VALID` pads nothing.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, bail};

/// TFLite padding mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// Output size `ceil(in / stride)`, zero padding split as TFLite does.
    Same,
    /// No padding: output size `(in − k) / stride + 1`.
    Valid,
}

impl Padding {
    /// Output size and padding before, for one spatial axis.
    pub fn resolve(self, input: usize, k: usize, stride: usize) -> (usize, usize) {
        match self {
            Padding::Same => {
                let out = input.div_ceil(stride);
                let total = ((out - 1) * stride + k).saturating_sub(input);
                (out, total / 2)
            }
            Padding::Valid => ((input.saturating_sub(k)) / stride + 1, 0),
        }
    }
}

/// Activation applied by the fused epilogue.
#[derive(Debug, Clone)]
pub enum Act {
    /// Identity.
    None,
    /// max(x, 0).
    Relu,
    /// x if x ≥ 0 else α_c·x, one α per channel.
    PRelu(Vec<f32>),
}

fn f32_slice<'a>(storage: &'a CpuStorage, layout: &Layout, op: &str) -> Result<&'a [f32]> {
    let data = match storage {
        CpuStorage::F32(v) => v.as_slice(),
        _ => bail!("{op}: expected f32 input"),
    };
    match layout.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => bail!("{op}: input must be contiguous"),
    }
}

fn dims4(layout: &Layout, op: &str) -> Result<(usize, usize, usize, usize)> {
    match layout.dims() {
        &[n, h, w, c] => Ok((n, h, w, c)),
        d => bail!("{op}: expected an NHWC tensor, got shape {d:?}"),
    }
}

/// Depthwise k×k convolution with bias, NHWC.
#[derive(Debug, Clone)]
pub struct DepthwiseOp {
    /// Kernel, `k × k × C` (TFLite's `1 × k × k × C` without the leading 1).
    pub weight: Vec<f32>,
    /// Bias, `C`.
    pub bias: Vec<f32>,
    /// Kernel size.
    pub k: usize,
    /// Stride (both axes).
    pub stride: usize,
    /// Padding mode.
    pub padding: Padding,
}

impl CustomOp1 for DepthwiseOp {
    fn name(&self) -> &'static str {
        "depthwise-nhwc"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32_slice(storage, layout, self.name())?;
        let (n, h, w, c) = dims4(layout, self.name())?;
        if self.bias.len() != c || self.weight.len() != self.k * self.k * c {
            bail!("depthwise: weight/bias do not match {c} channels");
        }
        let (ho, pt) = self.padding.resolve(h, self.k, self.stride);
        let (wo, pl) = self.padding.resolve(w, self.k, self.stride);
        let mut out = vec![0f32; n * ho * wo * c];
        for b in 0..n {
            let xin = &x[b * h * w * c..(b + 1) * h * w * c];
            for oy in 0..ho {
                for ox in 0..wo {
                    let o = ((b * ho + oy) * wo + ox) * c;
                    let acc = &mut out[o..o + c];
                    acc.copy_from_slice(&self.bias);
                    for ky in 0..self.k {
                        let iy = (oy * self.stride + ky) as isize - pt as isize;
                        if iy < 0 || iy >= h as isize {
                            continue;
                        }
                        for kx in 0..self.k {
                            let ix = (ox * self.stride + kx) as isize - pl as isize;
                            if ix < 0 || ix >= w as isize {
                                continue;
                            }
                            let i = (iy as usize * w + ix as usize) * c;
                            let src = &xin[i..i + c];
                            let wk =
                                &self.weight[(ky * self.k + kx) * c..(ky * self.k + kx + 1) * c];
                            for ((a, s), wv) in acc.iter_mut().zip(src).zip(wk) {
                                *a += s * wv;
                            }
                        }
                    }
                }
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((n, ho, wo, c))))
    }
}

/// Patch extraction for a dense k×k convolution: NHWC → `(N·Ho·Wo, k·k·C)`, rows ordered
/// `(ky, kx, c)` to match TFLite's `O × kh × kw × I` kernels.
#[derive(Debug, Clone, Copy)]
pub struct Im2ColOp {
    /// Kernel size.
    pub k: usize,
    /// Stride.
    pub stride: usize,
    /// Padding mode.
    pub padding: Padding,
}

impl Im2ColOp {
    /// Output spatial size for an input of `h × w`.
    pub fn out_size(&self, h: usize, w: usize) -> (usize, usize) {
        (
            self.padding.resolve(h, self.k, self.stride).0,
            self.padding.resolve(w, self.k, self.stride).0,
        )
    }
}

impl CustomOp1 for Im2ColOp {
    fn name(&self) -> &'static str {
        "im2col-nhwc"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32_slice(storage, layout, self.name())?;
        let (n, h, w, c) = dims4(layout, self.name())?;
        let (ho, pt) = self.padding.resolve(h, self.k, self.stride);
        let (wo, pl) = self.padding.resolve(w, self.k, self.stride);
        let row = self.k * self.k * c;
        let mut out = vec![0f32; n * ho * wo * row];
        for b in 0..n {
            for oy in 0..ho {
                for ox in 0..wo {
                    let r = ((b * ho + oy) * wo + ox) * row;
                    for ky in 0..self.k {
                        let iy = (oy * self.stride + ky) as isize - pt as isize;
                        if iy < 0 || iy >= h as isize {
                            continue;
                        }
                        for kx in 0..self.k {
                            let ix = (ox * self.stride + kx) as isize - pl as isize;
                            if ix < 0 || ix >= w as isize {
                                continue;
                            }
                            let i = ((b * h + iy as usize) * w + ix as usize) * c;
                            let d = r + (ky * self.k + kx) * c;
                            out[d..d + c].copy_from_slice(&x[i..i + c]);
                        }
                    }
                }
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((n * ho * wo, row))))
    }
}

/// 2×2 max pooling with stride 2 (VALID), NHWC.
#[derive(Debug, Clone, Copy)]
pub struct MaxPool2Op;

impl CustomOp1 for MaxPool2Op {
    fn name(&self) -> &'static str {
        "maxpool2-nhwc"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32_slice(storage, layout, self.name())?;
        let (n, h, w, c) = dims4(layout, self.name())?;
        let (ho, wo) = (h / 2, w / 2);
        let mut out = vec![0f32; n * ho * wo * c];
        for b in 0..n {
            for oy in 0..ho {
                for ox in 0..wo {
                    let o = ((b * ho + oy) * wo + ox) * c;
                    let i00 = ((b * h + 2 * oy) * w + 2 * ox) * c;
                    let i10 = i00 + w * c;
                    for ch in 0..c {
                        out[o + ch] = x[i00 + ch]
                            .max(x[i00 + c + ch])
                            .max(x[i10 + ch])
                            .max(x[i10 + c + ch]);
                    }
                }
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((n, ho, wo, c))))
    }
}

/// Fused epilogue: `act(y + bias)` on a `(rows, C)` matmul output, reshaped to NHWC.
#[derive(Debug, Clone)]
pub struct EpilogueOp {
    /// Bias, `C`.
    pub bias: Vec<f32>,
    /// Activation.
    pub act: Act,
    /// Output NHWC shape (`N·H·W` must equal the rows of the input).
    pub shape: (usize, usize, usize, usize),
}

fn activate(act: &Act, row: &mut [f32]) {
    match act {
        Act::None => {}
        Act::Relu => row.iter_mut().for_each(|v| *v = v.max(0.0)),
        Act::PRelu(alpha) => {
            for (v, a) in row.iter_mut().zip(alpha) {
                if *v < 0.0 {
                    *v *= a;
                }
            }
        }
    }
}

impl CustomOp1 for EpilogueOp {
    fn name(&self) -> &'static str {
        "bias-act"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let y = f32_slice(storage, layout, self.name())?;
        let c = self.bias.len();
        let (n, h, w, cc) = self.shape;
        if cc != c || y.len() != n * h * w * c {
            bail!("bias-act: {} values do not fit {:?}", y.len(), self.shape);
        }
        let mut out = y.to_vec();
        for row in out.chunks_exact_mut(c) {
            for (v, b) in row.iter_mut().zip(&self.bias) {
                *v += b;
            }
            activate(&self.act, row);
        }
        Ok((CpuStorage::F32(out), Shape::from(self.shape)))
    }
}

/// Fused residual epilogue: `act(y + bias + pad_c(skip))`, where `y` is the `(rows, C)` matmul
/// output and `skip` an NHWC tensor with `C_skip ≤ C` channels (TFLite's channel zero-padding).
#[derive(Debug, Clone)]
pub struct ResidualOp {
    /// Bias, `C`.
    pub bias: Vec<f32>,
    /// Activation.
    pub act: Act,
}

impl CustomOp2 for ResidualOp {
    fn name(&self) -> &'static str {
        "residual-act"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let y = f32_slice(s1, l1, self.name())?;
        let skip = f32_slice(s2, l2, self.name())?;
        let (n, h, w, cs) = dims4(l2, self.name())?;
        let c = self.bias.len();
        if cs > c || y.len() != n * h * w * c {
            bail!(
                "residual: {} values / {cs} skip channels do not fit {c} channels",
                y.len()
            );
        }
        let mut out = y.to_vec();
        for (row, srow) in out.chunks_exact_mut(c).zip(skip.chunks_exact(cs)) {
            for (v, b) in row.iter_mut().zip(&self.bias) {
                *v += b;
            }
            for (v, s) in row.iter_mut().zip(srow) {
                *v += s;
            }
            activate(&self.act, row);
        }
        Ok((CpuStorage::F32(out), Shape::from((n, h, w, c))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    #[test]
    fn same_padding_matches_tflite() {
        // 128 → 64 with a 5×5 stride-2 kernel: 3 pixels of padding, 1 before and 2 after.
        assert_eq!(Padding::Same.resolve(128, 5, 2), (64, 1));
        // 6 → 3 with 3×3 stride 2: one pixel after only.
        assert_eq!(Padding::Same.resolve(6, 3, 2), (3, 0));
        assert_eq!(Padding::Same.resolve(96, 3, 1), (96, 1));
        assert_eq!(Padding::Valid.resolve(3, 3, 3), (1, 0));
        assert_eq!(Padding::Valid.resolve(64, 2, 2), (32, 0));
    }

    #[test]
    fn depthwise_matches_direct_sum() {
        // 1×4×4×2 input, 3×3 stride-2 SAME: output 2×2; check one value by hand.
        let x: Vec<f32> = (0..32).map(|v| v as f32).collect();
        let t = Tensor::from_vec(x.clone(), (1, 4, 4, 2), &Device::Cpu).unwrap();
        let weight: Vec<f32> = (0..18).map(|v| (v as f32) * 0.1).collect();
        let op = DepthwiseOp {
            weight: weight.clone(),
            bias: vec![1.0, -1.0],
            k: 3,
            stride: 2,
            padding: Padding::Same,
        };
        let y = t.apply_op1_no_bwd(&op).unwrap();
        assert_eq!(y.dims(), &[1, 2, 2, 2]);
        let y = y.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        // Output (1,1), channel 1: rows 2..=3 and cols 2..=3 of the input (pad after only).
        let mut want = -1.0;
        for ky in 0..3 {
            for kx in 0..3 {
                let (iy, ix) = (2 + ky, 2 + kx);
                if iy < 4 && ix < 4 {
                    want += x[(iy * 4 + ix) * 2 + 1] * weight[(ky * 3 + kx) * 2 + 1];
                }
            }
        }
        assert!(
            (y[(2 + 1) * 2 + 1] - want).abs() < 1e-4,
            "{} vs {want}",
            y[7]
        );
    }

    #[test]
    fn residual_pads_channels_and_applies_prelu() {
        let y = Tensor::from_vec(vec![-2f32, 1.0, -4.0, 0.5], (1, 4), &Device::Cpu).unwrap();
        let skip = Tensor::from_vec(vec![1f32, 1.0], (1, 1, 1, 2), &Device::Cpu).unwrap();
        let op = ResidualOp {
            bias: vec![0.0; 4],
            act: Act::PRelu(vec![0.5; 4]),
        };
        let out = y.apply_op2_no_bwd(&skip, &op).unwrap();
        let v = out.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(v, vec![-0.5, 2.0, -2.0, 0.5]);
    }

    #[test]
    fn maxpool_takes_window_max() {
        let x: Vec<f32> = vec![
            1., 5., 2., 0., 3., 4., 9., 7., 0., 0., 0., 0., 6., 1., 1., 8.,
        ];
        let t = Tensor::from_vec(x, (1, 4, 4, 1), &Device::Cpu).unwrap();
        let y = t.apply_op1_no_bwd(&MaxPool2Op).unwrap();
        let v = y.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(v, vec![5., 9., 6., 8.]);
    }
}
