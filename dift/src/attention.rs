//! Softmax attention fused per block of query rows.
//!
//! `softmax(q·kᵀ)·v` materialised whole writes, reads and rewrites an `N × M` score matrix per
//! head: at the U-Net's top level (4096 positions, 5 heads) 335 MB per layer, far beyond the
//! caches. Here each task takes [`BLOCK_ROWS`] query rows and, one head after the other,
//! computes their scores, softmax and output on the calling thread, so the scores stay in the
//! cache. Heads are read and written in place as strided matrices, with no copies to
//! split them out or merge them back. The result is the same up to float rounding.

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::fused::{SoftmaxInPlace, f32_values};
use super::matmul::{View, matmul};
use faceshot_core::nn::simd::vectorized;

/// Query rows per task. The product kernel packs the keys and values anew for each block, so
/// larger blocks amortise that; their scores (4 MB against the top level's 4096 keys) still
/// stay in the shared cache. Measured at the top level (4096 positions, 5 heads): 0.17 s per
/// layer with 256 rows, 0.21–0.23 s with 64.
pub const BLOCK_ROWS: usize = 256;

/// Multi-head `softmax(q·kᵀ)·v`: `q` is `B × N × C` (already scaled), `k` and `v` are
/// `B × M × C`; head `h` is channels `h·C/heads..(h+1)·C/heads` of each. The result is
/// `B × N × C`, heads side by side as they came, so no head needs to be split out or merged.
pub fn attention(q: &Tensor, k: &Tensor, v: &Tensor, heads: usize) -> Result<Tensor> {
    q.contiguous()?
        .apply_op3_no_bwd(&k.contiguous()?, &v.contiguous()?, &Fused { heads })
}

struct Fused {
    heads: usize,
}

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
        let (b, n, c) = ql.shape().dims3()?;
        let (kb, m, kc) = kl.shape().dims3()?;
        if (kb, kc) != (b, c) || vl.shape().dims() != kl.shape().dims() {
            candle_core::bail!(
                "{name}: queries {:?}, keys {:?} and values {:?} do not fit",
                ql.shape(),
                kl.shape(),
                vl.shape()
            );
        }
        if m == 0 {
            candle_core::bail!("{name}: no keys to attend to");
        }
        let heads = self.heads;
        if heads == 0 || c % heads != 0 {
            candle_core::bail!("{name}: {c} channels do not split into {heads} heads");
        }
        let d = c / heads;
        let mut out = vec![0f32; b * n * c];
        if out.is_empty() {
            return Ok((CpuStorage::F32(out), ql.shape().clone()));
        }
        let failed = std::sync::atomic::AtomicBool::new(false);
        // One task per block of query rows of one image, all heads in turn.
        out.par_chunks_mut(n * c)
            .enumerate()
            .for_each(|(image, image_out)| {
                let q = &q[image * n * c..(image + 1) * n * c];
                let k = &k[image * m * c..(image + 1) * m * c];
                let v = &v[image * m * c..(image + 1) * m * c];
                image_out
                    .par_chunks_mut(BLOCK_ROWS * c)
                    .enumerate()
                    .for_each_init(Vec::new, |scores, (block, o)| {
                        let rows = o.len() / c;
                        scores.resize(rows * m, 0.0);
                        let q = &q[block * BLOCK_ROWS * c..];
                        for h in 0..heads {
                            let (qh, kh, vh) = (
                                head(q, rows, h, d, c),
                                head(k, m, h, d, c),
                                head(v, m, h, d, c),
                            );
                            let ok = matmul(scores, m, qh, kh.t()) && {
                                vectorized(SoftmaxInPlace {
                                    rows: scores.as_mut_slice(),
                                    n: m,
                                });
                                matmul(&mut o[h * d..], c, View::dense(scores, rows, m), vh)
                            };
                            if !ok {
                                failed.store(true, std::sync::atomic::Ordering::Relaxed);
                            }
                        }
                    });
            });
        if failed.into_inner() {
            candle_core::bail!("{name}: inconsistent sizes");
        }
        Ok((CpuStorage::F32(out), ql.shape().clone()))
    }
}

/// Head `h` of a matrix of `rows` rows of `c` values: its `d` columns from `h·d` (an empty
/// view's slice when `data` is shorter, which [`matmul`] then refuses).
fn head(data: &[f32], rows: usize, h: usize, d: usize, c: usize) -> View<'_> {
    View {
        data: data.get(h * d..).unwrap_or(&[]),
        rows,
        cols: d,
        row_stride: c,
        col_stride: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// The unfused multi-head attention, heads split out and merged back.
    fn reference(q: &Tensor, k: &Tensor, v: &Tensor, heads: usize) -> Tensor {
        let split = |x: &Tensor| {
            let (b, n, c) = x.dims3().unwrap();
            x.reshape((b, n, heads, c / heads))
                .unwrap()
                .transpose(1, 2)
                .unwrap()
                .contiguous()
                .unwrap()
        };
        let (q4, k4, v4) = (split(q), split(k), split(v));
        let p = candle_nn::ops::softmax_last_dim(&q4.matmul(&k4.t().unwrap()).unwrap()).unwrap();
        let y = p.matmul(&v4).unwrap().transpose(1, 2).unwrap();
        y.reshape(q.dims()).unwrap()
    }

    fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
    }

    #[test]
    fn matches_the_unfused_attention() {
        let dev = Device::Cpu;
        // Self-attention with a ragged last block, cross-attention to 77 tokens, batch 2, one
        // head, fewer rows than a block.
        for (b, n, m, c, heads) in [
            (1, 2 * BLOCK_ROWS + 5, 2 * BLOCK_ROWS + 5, 48, 3),
            (2, 70, 77, 16, 2),
            (1, 3, 1, 4, 1),
        ] {
            let q = Tensor::randn(0f32, 1.0, (b, n, c), &dev).unwrap();
            let k = Tensor::randn(0f32, 1.0, (b, m, c), &dev).unwrap();
            let v = Tensor::randn(0f32, 1.0, (b, m, c), &dev).unwrap();
            let got = attention(&q, &k, &v, heads).unwrap();
            assert_eq!(got.dims(), q.dims());
            let diff = max_abs_diff(&got, &reference(&q, &k, &v, heads));
            assert!(
                diff < 1e-5,
                "{b}×{n}×{c} ({heads} heads) against {m}: {diff}"
            );
        }
    }

    #[test]
    fn non_contiguous_inputs_are_taken() {
        let dev = Device::Cpu;
        let q = Tensor::randn(0f32, 1.0, (1, 8, 6), &dev).unwrap();
        let q = q.transpose(1, 2).unwrap(); // 1 × 6 × 8, strided
        let k = Tensor::randn(0f32, 1.0, (1, 5, 8), &dev).unwrap();
        let v = Tensor::randn(0f32, 1.0, (1, 5, 8), &dev).unwrap();
        let got = attention(&q, &k, &v, 2).unwrap();
        let diff = max_abs_diff(&got, &reference(&q.contiguous().unwrap(), &k, &v, 2));
        assert!(diff < 1e-5, "{diff}");
    }

    #[test]
    fn mismatched_shapes_are_errors() {
        let dev = Device::Cpu;
        let z = |shape: &[usize]| Tensor::zeros(shape, candle_core::DType::F32, &dev).unwrap();
        let (q, k) = (z(&[1, 4, 8]), z(&[1, 5, 8]));
        assert!(attention(&q, &k, &k, 2).is_ok());
        assert!(
            attention(&q, &k, &z(&[1, 6, 8]), 2).is_err(),
            "values of another length"
        );
        assert!(
            attention(&q, &z(&[1, 5, 4]), &z(&[1, 5, 4]), 2).is_err(),
            "keys of another width"
        );
        assert!(
            attention(&z(&[1, 2, 4, 8]), &k, &k, 2).is_err(),
            "not three axes"
        );
        assert!(attention(&q, &k, &k, 3).is_err(), "8 channels in 3 heads");
        assert!(attention(&q, &k, &k, 0).is_err(), "no heads");
        let none = z(&[1, 0, 8]);
        assert!(attention(&q, &none, &none, 2).is_err(), "no keys");
    }
}
