//! Linear layers as one fused op: `y = scale·(x·Wᵀ) + bias (+ residual)`.
//!
//! candle's `Linear` fills its output with zeros, multiplies, then adds the bias in a second
//! pass over memory; a scaled query or a residual connection takes another. Here blocks of
//! [`BLOCK_ROWS`] rows are multiplied in parallel tasks on [`super::matmul`] and each task adds
//! the bias and the residual to its rows while they are still in the cache.

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Module, Result, Shape, Tensor};
use candle_nn::{Linear, VarBuilder};
use rayon::prelude::*;

use super::fused::f32_values;
use super::matmul::{View, matmul, matmul_parallel};

/// Rows per task: enough for the product to amortise packing the weights, few enough that the
/// top level's 4096 positions make 16 tasks. With fewer than two blocks per thread the whole
/// product is shared among the threads instead (by columns, inside the kernel).
pub const BLOCK_ROWS: usize = 256;

/// A linear layer (`out × in` weights, optional bias) run by the fused op.
#[derive(Debug)]
pub struct FusedLinear {
    /// `out × in`, contiguous f32.
    weight: Tensor,
    bias: Option<Vec<f32>>,
}

impl FusedLinear {
    /// Load `weight` (and `bias` when `with_bias`) under `vs`, as `candle_nn::linear` does.
    pub fn new(vs: VarBuilder, inputs: usize, outputs: usize, with_bias: bool) -> Result<Self> {
        let layer = if with_bias {
            candle_nn::linear(inputs, outputs, vs)?
        } else {
            candle_nn::linear_no_bias(inputs, outputs, vs)?
        };
        Self::from_linear(&layer)
    }

    /// The same layer as candle's `layer`.
    pub fn from_linear(layer: &Linear) -> Result<Self> {
        let weight = layer
            .weight()
            .to_dtype(candle_core::DType::F32)?
            .contiguous()?;
        weight.dims2()?;
        let bias = match layer.bias() {
            Some(b) => Some(b.to_dtype(candle_core::DType::F32)?.to_vec1::<f32>()?),
            None => None,
        };
        Ok(Self { weight, bias })
    }

    /// `scale·(x·Wᵀ) + bias (+ residual)` for `x` of shape `… × in`; `residual` has the
    /// output's shape (`… × out`).
    pub fn forward_with(
        &self,
        x: &Tensor,
        scale: f32,
        residual: Option<&Tensor>,
    ) -> Result<Tensor> {
        let op = LinearOp {
            bias: self.bias.as_deref(),
            scale,
        };
        let x = x.contiguous()?;
        match residual {
            Some(r) => x.apply_op3_no_bwd(&self.weight, &r.contiguous()?, &op),
            None => x.apply_op2_no_bwd(&self.weight, &op),
        }
    }
}

impl Module for FusedLinear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_with(x, 1.0, None)
    }
}

struct LinearOp<'a> {
    bias: Option<&'a [f32]>,
    scale: f32,
}

impl LinearOp<'_> {
    const NAME: &'static str = "faceshot-linear";

    fn run(
        &self,
        (x, lx): (&CpuStorage, &Layout),
        (w, lw): (&CpuStorage, &Layout),
        residual: Option<(&CpuStorage, &Layout)>,
    ) -> Result<(CpuStorage, Shape)> {
        let x = f32_values(Self::NAME, x, lx)?;
        let w = f32_values(Self::NAME, w, lw)?;
        let (outputs, inputs) = lw.shape().dims2()?;
        let mut dims = lx.shape().dims().to_vec();
        match dims.last_mut() {
            Some(last) if *last == inputs => *last = outputs,
            _ => candle_core::bail!("linear: input {:?}, weights {outputs}×{inputs}", lx.shape()),
        }
        if self.bias.is_some_and(|b| b.len() != outputs) {
            candle_core::bail!("linear: bias of the wrong length for {outputs} outputs");
        }
        let residual = match residual {
            Some((r, lr)) => {
                if lr.shape().dims() != dims.as_slice() {
                    candle_core::bail!("linear: residual {:?}, output {dims:?}", lr.shape());
                }
                Some(f32_values(Self::NAME, r, lr)?)
            }
            None => None,
        };
        let rows = x.len().checked_div(inputs).unwrap_or(0);
        let mut out = vec![0f32; rows * outputs];
        if rows == 0 || outputs == 0 {
            return Ok((CpuStorage::F32(out), Shape::from(dims)));
        }
        let weights_t = View::dense(w, outputs, inputs).t();
        // Too few blocks to keep the threads busy: one product shared among them, then the
        // blocks only add.
        let shared = rows.div_ceil(BLOCK_ROWS) < 2 * rayon::current_num_threads();
        if shared && !matmul_parallel(&mut out, outputs, View::dense(x, rows, inputs), weights_t) {
            candle_core::bail!("linear: inconsistent product sizes");
        }
        let failed = std::sync::atomic::AtomicBool::new(false);
        out.par_chunks_mut(BLOCK_ROWS * outputs)
            .enumerate()
            .for_each(|(block, dst)| {
                let first = block * BLOCK_ROWS;
                let n = dst.len() / outputs;
                let a = View::dense(&x[first * inputs..(first + n) * inputs], n, inputs);
                if !shared && !matmul(dst, outputs, a, weights_t) {
                    failed.store(true, std::sync::atomic::Ordering::Relaxed);
                    return;
                }
                let res = residual.map(|r| &r[first * outputs..(first + n) * outputs]);
                self.epilogue(dst, outputs, res);
            });
        if failed.into_inner() {
            candle_core::bail!("linear: inconsistent product sizes");
        }
        Ok((CpuStorage::F32(out), Shape::from(dims)))
    }

    /// `row = scale·row + bias (+ residual row)` for each row of `dst`.
    fn epilogue(&self, dst: &mut [f32], outputs: usize, residual: Option<&[f32]>) {
        for (r, row) in dst.chunks_exact_mut(outputs).enumerate() {
            if self.scale != 1.0 {
                row.iter_mut().for_each(|v| *v *= self.scale);
            }
            if let Some(b) = self.bias {
                row.iter_mut().zip(b).for_each(|(v, b)| *v += b);
            }
            if let Some(res) = residual {
                let res = &res[r * outputs..(r + 1) * outputs];
                row.iter_mut().zip(res).for_each(|(v, s)| *v += s);
            }
        }
    }
}

impl CustomOp2 for LinearOp<'_> {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        lx: &Layout,
        w: &CpuStorage,
        lw: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        self.run((x, lx), (w, lw), None)
    }
}

impl CustomOp3 for LinearOp<'_> {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        lx: &Layout,
        w: &CpuStorage,
        lw: &Layout,
        r: &CpuStorage,
        lr: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        self.run((x, lx), (w, lw), Some((r, lr)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::max_diff;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    fn layer(inputs: usize, outputs: usize, bias: bool) -> (Linear, FusedLinear) {
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
        let fused = FusedLinear::new(vb.clone(), inputs, outputs, bias).unwrap();
        let plain = if bias {
            candle_nn::linear(inputs, outputs, vb).unwrap()
        } else {
            candle_nn::linear_no_bias(inputs, outputs, vb).unwrap()
        };
        (plain, fused)
    }

    /// Both paths: with one thread the 3 blocks below run as separate products, with 8
    /// threads one product is shared.
    #[test]
    fn matches_candle_with_scale_bias_and_residual() {
        for threads in [1, 8] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(matches_candle);
        }
    }

    fn matches_candle() {
        let dev = Device::Cpu;
        // 600 rows: two full blocks and a ragged one; a batch of 2.
        let x = Tensor::randn(0f32, 1.0, (2, 300, 48), &dev).unwrap();
        let r = Tensor::randn(0f32, 1.0, (2, 300, 40), &dev).unwrap();
        let (plain, fused) = layer(48, 40, true);
        let want = plain.forward(&x).unwrap();
        assert!(max_diff(&fused.forward(&x).unwrap(), &want) < 1e-5);
        // scale·(x·Wᵀ) + b + r = scale·(x·Wᵀ + b) + (1 − scale)·b + r.
        let b = plain.bias().unwrap().broadcast_as((2, 300, 40)).unwrap();
        let want_all = ((want * 0.5).unwrap() + (b * 0.5).unwrap() + &r).unwrap();
        let got = fused.forward_with(&x, 0.5, Some(&r)).unwrap();
        assert_eq!(got.dims(), &[2, 300, 40]);
        assert!(max_diff(&got, &want_all) < 1e-5);
        // Without a bias, a strided input is taken too.
        let (plain, fused) = layer(40, 24, false);
        let xt = Tensor::randn(0f32, 1.0, (40, 7), &dev)
            .unwrap()
            .t()
            .unwrap();
        let got = fused.forward(&xt).unwrap();
        assert!(max_diff(&got, &plain.forward(&xt.contiguous().unwrap()).unwrap()) < 1e-5);
    }

    #[test]
    fn mismatched_shapes_are_errors() {
        let dev = Device::Cpu;
        let (_, fused) = layer(8, 4, true);
        let x = Tensor::zeros((3, 9), DType::F32, &dev).unwrap();
        assert!(fused.forward(&x).is_err());
        let x = Tensor::zeros((3, 8), DType::F32, &dev).unwrap();
        let r = Tensor::zeros((3, 5), DType::F32, &dev).unwrap();
        assert!(fused.forward_with(&x, 1.0, Some(&r)).is_err());
        let empty = Tensor::zeros((0, 8), DType::F32, &dev).unwrap();
        assert_eq!(fused.forward(&empty).unwrap().dims(), &[0, 4]);
    }
}
