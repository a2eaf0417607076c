//! Softmax attention fused per block of query rows.
//!
//! `softmax(q·kᵀ)·v` materialised whole writes, reads and rewrites an `N × M` score matrix per
//! head: at the U-Net's top level (4096 positions, 5 heads) 335 MB per layer, far beyond the
//! caches. Here each task takes [`BLOCK_ROWS`] query rows of one head, computes their scores,
//! softmax and output on the calling thread, and moves on, so the scores stay in the core's
//! cache. The result is the same up to float rounding.

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::fused::{SoftmaxInPlace, f32_values, vectorized};
use super::matmul::{View, matmul};

/// Query rows per task: their scores against the top level's 4096 keys take 1 MB, one core's
/// L2 cache on the test machine.
pub const BLOCK_ROWS: usize = 64;

/// `softmax(q·kᵀ)·v` per head: `q` is `B × H × N × D` (already scaled), `k` and `v` are
/// `B × H × M × D`; the result is `B × H × N × D`.
pub fn attention(q: &Tensor, k: &Tensor, v: &Tensor) -> Result<Tensor> {
    q.contiguous()?
        .apply_op3_no_bwd(&k.contiguous()?, &v.contiguous()?, &Fused)
}

struct Fused;

impl CustomOp3 for Fused {
    fn name(&self) -> &'static str {
        "faceshot-attention"
    }

    fn cpu_fwd(
        &self,
        qs: &CpuStorage,
        ql: &Layout,
        ks: &CpuStorage,
        kl: &Layout,
        vs: &CpuStorage,
        vl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let name = self.name();
        let (q, k, v) = (
            f32_values(name, qs, ql)?,
            f32_values(name, ks, kl)?,
            f32_values(name, vs, vl)?,
        );
        let (b, h, n, d) = ql.shape().dims4()?;
        let (kb, kh, m, kd) = kl.shape().dims4()?;
        if (kb, kh, kd) != (b, h, d) || vl.shape().dims() != kl.shape().dims() {
            candle_core::bail!(
                "{name}: queries {:?}, keys {:?} and values {:?} do not fit",
                ql.shape(),
                kl.shape(),
                vl.shape()
            );
        }
        let mut out = vec![0f32; b * h * n * d];
        if out.is_empty() {
            return Ok((CpuStorage::F32(out), ql.shape().clone()));
        }
        let failed = std::sync::atomic::AtomicBool::new(false);
        out.par_chunks_mut(n * d)
            .enumerate()
            .for_each(|(head, head_out)| {
                let (q, k, v) = (
                    &q[head * n * d..(head + 1) * n * d],
                    &k[head * m * d..(head + 1) * m * d],
                    &v[head * m * d..(head + 1) * m * d],
                );
                head_out
                    .par_chunks_mut(BLOCK_ROWS * d)
                    .enumerate()
                    .for_each_init(Vec::new, |scores, (block, o)| {
                        let rows = o.len() / d.max(1);
                        let first = block * BLOCK_ROWS;
                        scores.resize(rows * m, 0.0);
                        let qb = View::dense(&q[first * d..], rows, d);
                        let ok = matmul(scores, qb, View::dense(k, m, d).t()) && {
                            vectorized(SoftmaxInPlace {
                                rows: scores.as_mut_slice(),
                                n: m,
                            });
                            matmul(o, View::dense(scores, rows, m), View::dense(v, m, d))
                        };
                        if !ok {
                            failed.store(true, std::sync::atomic::Ordering::Relaxed);
                        }
                    });
            });
        if failed.into_inner() {
            candle_core::bail!("{name}: inconsistent sizes");
        }
        Ok((CpuStorage::F32(out), ql.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn reference(q: &Tensor, k: &Tensor, v: &Tensor) -> Tensor {
        let p = candle_nn::ops::softmax_last_dim(&q.matmul(&k.t().unwrap()).unwrap()).unwrap();
        p.matmul(v).unwrap()
    }

    #[test]
    fn matches_the_unfused_attention() {
        let dev = Device::Cpu;
        // Self-attention with a ragged last block, cross-attention to 77 tokens, batch 2.
        for (b, h, n, m, d) in [
            (1, 3, 2 * BLOCK_ROWS + 5, 2 * BLOCK_ROWS + 5, 16),
            (2, 2, 70, 77, 8),
            (1, 1, 3, 1, 4),
        ] {
            let q = Tensor::randn(0f32, 1.0, (b, h, n, d), &dev).unwrap();
            let k = Tensor::randn(0f32, 1.0, (b, h, m, d), &dev).unwrap();
            let v = Tensor::randn(0f32, 1.0, (b, h, m, d), &dev).unwrap();
            let got = attention(&q, &k, &v).unwrap();
            let want = reference(&q, &k, &v);
            assert_eq!(got.dims(), want.dims());
            let diff = (got - want)
                .unwrap()
                .abs()
                .unwrap()
                .flatten_all()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(diff < 1e-5, "{b}×{h}×{n}×{d} against {m}: {diff}");
        }
    }

    #[test]
    fn non_contiguous_inputs_are_taken() {
        let dev = Device::Cpu;
        let q = Tensor::randn(0f32, 1.0, (1, 8, 2, 4), &dev).unwrap();
        let q = q.transpose(1, 2).unwrap(); // 1 × 2 × 8 × 4, strided
        let k = Tensor::randn(0f32, 1.0, (1, 2, 5, 4), &dev).unwrap();
        let v = Tensor::randn(0f32, 1.0, (1, 2, 5, 4), &dev).unwrap();
        let got = attention(&q, &k, &v).unwrap();
        let want = reference(&q.contiguous().unwrap(), &k, &v);
        let diff = (got - want)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(diff < 1e-5, "{diff}");
    }

    #[test]
    fn mismatched_shapes_are_errors() {
        let dev = Device::Cpu;
        let q = Tensor::zeros((1, 2, 4, 8), candle_core::DType::F32, &dev).unwrap();
        let k = Tensor::zeros((1, 2, 5, 8), candle_core::DType::F32, &dev).unwrap();
        let v = Tensor::zeros((1, 2, 6, 8), candle_core::DType::F32, &dev).unwrap();
        assert!(attention(&q, &k, &v).is_err(), "values of another length");
        let k4 = Tensor::zeros((1, 2, 5, 4), candle_core::DType::F32, &dev).unwrap();
        assert!(attention(&q, &k4, &k4).is_err(), "keys of another width");
        let q3 = Tensor::zeros((2, 4, 8), candle_core::DType::F32, &dev).unwrap();
        assert!(attention(&q3, &k, &k).is_err(), "not four axes");
    }
}
