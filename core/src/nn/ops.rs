//! Plain-Rust NHWC kernels for the MediaPipe networks (CPU, f32).
//!
//! The MediaPipe graphs are NHWC throughout. Keeping that layout makes every 1×1 convolution a
//! `(H·W, C_in) × (C_in, C_out)` matrix product and every k×k dense convolution the same product
//! over extracted patches ([`im2col_rows`]). The product ([`gemm`]) runs on weights packed once at
//! load time ([`PackedWeights`]) in a register-blocked micro-kernel, and fuses the epilogue of
//! every block: bias, the residual (zero-padded in channels, as TFLite
//! does) and the activation. Depthwise convolution ([`DepthwiseKernel::rows`]) and 2×2 max pooling
//! ([`maxpool2_rows`]) work on output row ranges so that a block can run depthwise → pointwise
//! band by band while the data is still in cache.
//!
//! Where the CPU has AVX2 and FMA (checked once at run time, dispatched safely through `pulp`),
//! the micro-kernels use 256-bit fused multiply-adds; elsewhere the same loops in plain Rust,
//! which the compiler vectorises for the baseline instruction set.
//!
//! Padding follows TFLite: `SAME` pads `max((ceil(in/s) − 1)·s + k − in, 0)` in total, the smaller
//! half before; `VALID` pads nothing.

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

/// An NHWC feature map of one image (`h × w × c`, channels fastest).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMap {
    /// Height.
    pub h: usize,
    /// Width.
    pub w: usize,
    /// Channels.
    pub c: usize,
    /// `h·w·c` values.
    pub data: Vec<f32>,
}

impl FeatureMap {
    /// Wraps `data` (`h·w·c` values, NHWC order); `None` when the length does not match.
    pub fn new(h: usize, w: usize, c: usize, data: Vec<f32>) -> Option<Self> {
        (data.len() == h * w * c).then_some(Self { h, w, c, data })
    }

    /// A zero-filled map.
    pub fn zeros(h: usize, w: usize, c: usize) -> Self {
        Self {
            h,
            w,
            c,
            data: vec![0.0; h * w * c],
        }
    }

    /// Values of one row (`w·c`).
    pub fn row(&self, y: usize) -> &[f32] {
        let n = self.w * self.c;
        &self.data[y * n..(y + 1) * n]
    }
}

/// Columns of one packed weight panel (two 256-bit vectors).
const NR: usize = 16;
/// Rows of the micro-kernel's output tile: 6 × 2 accumulators leave AVX2 registers for the
/// weights and the broadcast input.
const MR: usize = 6;

/// One row of a weight panel.
type PanelRow = [f32; NR];

/// A `(K, N)` weight matrix packed for [`gemm`]: column panels of 16 columns, each stored
/// row by row (`K × 16`), the last panel zero-padded.
#[derive(Debug, Clone)]
pub struct PackedWeights {
    k: usize,
    n: usize,
    panels: Vec<PanelRow>,
}

impl PackedWeights {
    /// Packs a row-major `(N, K)` matrix (TFLite's `O × kh × kw × I` kernels flattened per output
    /// channel), i.e. the transpose of the `(K, N)` product operand.
    pub fn from_out_major(weights: &[f32], n: usize, k: usize) -> Self {
        assert_eq!(weights.len(), n * k, "packed weights: {n}×{k} expected");
        let np = n.div_ceil(NR);
        let mut panels = vec![[0f32; NR]; np * k];
        for o in 0..n {
            let (p, j) = (o / NR, o % NR);
            for (kk, &v) in weights[o * k..(o + 1) * k].iter().enumerate() {
                panels[p * k + kk][j] = v;
            }
        }
        Self { k, n, panels }
    }

    /// Inner dimension (input values per output).
    pub fn k(&self) -> usize {
        self.k
    }

    /// Output columns.
    pub fn n(&self) -> usize {
        self.n
    }
}

/// The residual input of an epilogue: `rows × c` values, added to the first `c` output channels
/// (the rest are zero padding).
#[derive(Debug, Clone, Copy)]
pub struct Skip<'a> {
    /// Values, `rows × c`.
    pub data: &'a [f32],
    /// Channels per row (at most the output's).
    pub c: usize,
}

/// What [`gemm`] adds to the product before storing it: `act(· + bias + pad_c(skip))`.
#[derive(Debug, Clone, Copy)]
pub struct Epilogue<'a> {
    /// Bias, one per output column.
    pub bias: &'a [f32],
    /// Residual input, if any.
    pub skip: Option<Skip<'a>>,
    /// Activation.
    pub act: &'a Act,
}

/// The arithmetic the kernels are built from, in plain Rust or with AVX2/FMA.
trait Lanes: Copy {
    /// Rows of the largest output tile that fits this instruction set's registers.
    const MAX_ROWS: usize;

    /// `ROWS × NR` block of `A · B` for rows `a[i·lda ..][..k]`, `i < ROWS`, and one weight
    /// panel (`k` rows).
    fn tile<const ROWS: usize>(self, a: &[f32], lda: usize, panel: &[PanelRow])
    -> [PanelRow; ROWS];

    /// `acc + x · w`, 16 lanes.
    fn madd16(self, acc: [f32; 16], x: &[f32; 16], w: &[f32; 16]) -> [f32; 16];
}

/// Plain Rust, vectorised by the compiler for the baseline target.
#[derive(Debug, Clone, Copy)]
struct Plain;

impl Lanes for Plain {
    /// 2 × 16 accumulators fill half of SSE's sixteen registers.
    const MAX_ROWS: usize = 2;

    #[inline(always)]
    fn tile<const ROWS: usize>(
        self,
        a: &[f32],
        lda: usize,
        panel: &[PanelRow],
    ) -> [PanelRow; ROWS] {
        let k = panel.len();
        let rows: [&[f32]; ROWS] = std::array::from_fn(|i| &a[i * lda..i * lda + k]);
        let mut acc = [[0f32; NR]; ROWS];
        for (kk, b) in panel.iter().enumerate() {
            for i in 0..ROWS {
                let av = rows[i][kk];
                for j in 0..NR {
                    acc[i][j] += av * b[j];
                }
            }
        }
        acc
    }

    #[inline(always)]
    fn madd16(self, mut acc: [f32; 16], x: &[f32; 16], w: &[f32; 16]) -> [f32; 16] {
        for l in 0..16 {
            acc[l] += x[l] * w[l];
        }
        acc
    }
}

#[cfg(target_arch = "x86_64")]
impl Lanes for pulp::x86::V3 {
    const MAX_ROWS: usize = MR;

    #[inline(always)]
    fn tile<const ROWS: usize>(
        self,
        a: &[f32],
        lda: usize,
        panel: &[PanelRow],
    ) -> [PanelRow; ROWS] {
        use pulp::f32x8;
        let k = panel.len();
        let rows: [&[f32]; ROWS] = std::array::from_fn(|i| &a[i * lda..i * lda + k]);
        let zero = self.splat_f32x8(0.0);
        let mut acc = [[zero; 2]; ROWS];
        for (kk, b) in panel.iter().enumerate() {
            let [b0, b1]: [f32x8; 2] = pulp::cast(*b);
            for i in 0..ROWS {
                let av = self.splat_f32x8(rows[i][kk]);
                acc[i][0] = self.mul_add_f32x8(av, b0, acc[i][0]);
                acc[i][1] = self.mul_add_f32x8(av, b1, acc[i][1]);
            }
        }
        acc.map(pulp::cast)
    }

    #[inline(always)]
    fn madd16(self, acc: [f32; 16], x: &[f32; 16], w: &[f32; 16]) -> [f32; 16] {
        use pulp::f32x8;
        let [a0, a1]: [f32x8; 2] = pulp::cast(acc);
        let [x0, x1]: [f32x8; 2] = pulp::cast(*x);
        let [w0, w1]: [f32x8; 2] = pulp::cast(*w);
        pulp::cast([
            self.mul_add_f32x8(x0, w0, a0),
            self.mul_add_f32x8(x1, w1, a1),
        ])
    }
}

/// Runs `f` with the best [`Lanes`] this CPU has (AVX2 + FMA, else plain Rust); `f` is
/// compiled for those instructions ([`super::simd::vectorized`]).
#[inline(always)]
fn with_lanes<R>(f: impl LanesFn<Output = R>) -> R {
    super::simd::vectorized(WithLanes(f))
}

/// `f` as a [`Kernel`](super::simd::Kernel): inside the AVX2/FMA context it gets the V3 lanes.
struct WithLanes<F>(F);

impl<F: LanesFn> super::simd::Kernel for WithLanes<F> {
    type Output = F::Output;

    #[inline(always)]
    fn run(self) -> F::Output {
        #[cfg(target_arch = "x86_64")]
        if let Some(v3) = pulp::x86::V3::try_new() {
            return self.0.call(v3);
        }
        self.0.call(Plain)
    }
}

/// A computation generic over [`Lanes`] (closures cannot be generic).
trait LanesFn {
    /// Result.
    type Output;
    /// Runs with `lanes`.
    fn call<L: Lanes>(self, lanes: L) -> Self::Output;
}

/// `NR` values of `v` starting at `col0`, zero-padded past its end.
#[inline(always)]
fn lane(v: &[f32], col0: usize) -> [f32; NR] {
    let mut out = [0f32; NR];
    // A whole lane is a fixed-size copy (register moves); only a ragged end needs a `memcpy`.
    match v.get(col0..col0 + NR) {
        Some(src) => out.copy_from_slice(src),
        None => {
            let src = &v[col0..];
            out[..src.len()].copy_from_slice(src);
        }
    }
    out
}

/// Adds bias and skip, applies the activation and stores one tile; the arithmetic runs on whole
/// `NR`-wide rows so that it vectorises.
#[inline(always)]
fn store<const ROWS: usize>(
    mut acc: [[f32; NR]; ROWS],
    (r0, col0): (usize, usize),
    ep: &Epilogue<'_>,
    out: &mut [f32],
    n: usize,
) {
    let width = NR.min(n - col0);
    let bias = lane(ep.bias, col0);
    for row in acc.iter_mut() {
        for (v, b) in row.iter_mut().zip(&bias) {
            *v += b;
        }
    }
    if let Some(s) = ep.skip
        && col0 < s.c
    {
        let m = width.min(s.c - col0);
        for (i, row) in acc.iter_mut().enumerate() {
            let at = (r0 + i) * s.c + col0;
            if m == NR {
                let src = lane(&s.data[at..at + NR], 0);
                for (v, x) in row.iter_mut().zip(&src) {
                    *v += x;
                }
            } else {
                for (v, x) in row.iter_mut().zip(&s.data[at..at + m]) {
                    *v += x;
                }
            }
        }
    }
    match ep.act {
        Act::None => {}
        Act::Relu => acc.iter_mut().flatten().for_each(|x| *x = x.max(0.0)),
        Act::PRelu(alpha) => {
            let alpha = lane(alpha, col0);
            for row in acc.iter_mut() {
                for (x, a) in row.iter_mut().zip(&alpha) {
                    // Branch-free form of `if x < 0 { x·α }`, identical in value.
                    *x = x.max(0.0) + a * x.min(0.0);
                }
            }
        }
    }
    for (i, row) in acc.iter().enumerate() {
        let at = (r0 + i) * n + col0;
        if width == NR {
            out[at..at + NR].copy_from_slice(row);
        } else {
            out[at..at + width].copy_from_slice(&row[..width]);
        }
    }
}

/// `out = act(A · W + bias + pad_c(skip))` (see [`Epilogue`]) for `rows` rows of `A` (row `r` at `a[r·lda..][..K]`),
/// writing `rows × N` values to `out` (row-major, `N` = `w.n()`).
pub fn gemm(
    a: &[f32],
    lda: usize,
    rows: usize,
    w: &PackedWeights,
    ep: &Epilogue<'_>,
    out: &mut [f32],
) {
    let (k, n) = (w.k, w.n);
    assert!(ep.bias.len() == n && out.len() >= rows * n, "gemm: shapes");
    assert!(
        rows == 0 || a.len() >= (rows - 1) * lda + k,
        "gemm: input too short"
    );
    if let Some(s) = ep.skip {
        assert!(s.c <= n && s.data.len() >= rows * s.c, "gemm: skip shape");
    }
    with_lanes(Gemm {
        a,
        lda,
        rows,
        w,
        ep,
        out,
    });
}

/// The arguments of [`gemm`], run by [`with_lanes`].
struct Gemm<'a, 'e> {
    a: &'a [f32],
    lda: usize,
    rows: usize,
    w: &'a PackedWeights,
    ep: &'a Epilogue<'e>,
    out: &'a mut [f32],
}

impl LanesFn for Gemm<'_, '_> {
    type Output = ();

    #[inline(always)]
    fn call<L: Lanes>(self, lanes: L) {
        let Gemm {
            a,
            lda,
            rows,
            w,
            ep,
            out,
        } = self;
        let (k, n) = (w.k, w.n);
        let mut r0 = 0;
        while r0 < rows {
            let m = (rows - r0).min(L::MAX_ROWS);
            let a0 = &a[r0 * lda..];
            for (p, panel) in w.panels.chunks_exact(k).enumerate() {
                let col0 = p * NR;
                macro_rules! run {
                    ($m:literal) => {{
                        let acc = lanes.tile::<$m>(a0, lda, panel);
                        store::<$m>(acc, (r0, col0), ep, out, n);
                    }};
                }
                match m {
                    1 => run!(1),
                    2 => run!(2),
                    3 => run!(3),
                    4 => run!(4),
                    5 => run!(5),
                    _ => run!(6),
                }
            }
            r0 += m;
        }
    }
}

/// Depthwise k×k convolution with bias (no activation), NHWC, for output rows `oy0..oy1`,
/// written to `out` (`(oy1 − oy0) × Wo × C`).
#[derive(Debug, Clone)]
pub struct DepthwiseKernel {
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

impl DepthwiseKernel {
    /// Output size for an `h × w` input.
    pub fn out_size(&self, h: usize, w: usize) -> (usize, usize) {
        (
            self.padding.resolve(h, self.k, self.stride).0,
            self.padding.resolve(w, self.k, self.stride).0,
        )
    }

    /// Computes output rows `oy0..oy1` of the convolution of `x` into `out`.
    pub fn rows(&self, x: &FeatureMap, oy0: usize, oy1: usize, out: &mut [f32]) {
        with_lanes(DepthwiseRows {
            op: self,
            x,
            oy0,
            oy1,
            out,
        });
    }
}

/// The arguments of [`DepthwiseKernel::rows`], run by [`with_lanes`].
struct DepthwiseRows<'a> {
    op: &'a DepthwiseKernel,
    x: &'a FeatureMap,
    oy0: usize,
    oy1: usize,
    out: &'a mut [f32],
}

impl LanesFn for DepthwiseRows<'_> {
    type Output = ();

    #[inline(always)]
    fn call<L: Lanes>(self, lanes: L) {
        let DepthwiseRows {
            op,
            x,
            oy0,
            oy1,
            out,
        } = self;
        let c = x.c;
        assert!(
            op.bias.len() == c && op.weight.len() == op.k * op.k * c,
            "depthwise: weight/bias do not match {c} channels"
        );
        let (_, pt) = op.padding.resolve(x.h, op.k, op.stride);
        let (wo, pl) = op.padding.resolve(x.w, op.k, op.stride);
        let (k, s) = (op.k, op.stride);
        // Taps of one output pixel, as (input offset, weight offset) pairs; `inner` holds the
        // taps of a row's pixels whose window lies inside the image horizontally, relative to
        // the window's left column, so that they are worked out once per row.
        let mut taps: Vec<(usize, usize)> = Vec::with_capacity(k * k);
        let mut inner: Vec<(usize, usize)> = Vec::with_capacity(k * k);
        for (row, oy) in (oy0..oy1).enumerate() {
            inner.clear();
            for ky in 0..k {
                if let Some(iy) = (oy * s + ky).checked_sub(pt).filter(|&v| v < x.h) {
                    inner.extend((0..k).map(|kx| ((iy * x.w + kx) * c, (ky * k + kx) * c)));
                }
            }
            let dst_row = &mut out[row * wo * c..(row + 1) * wo * c];
            for (ox, dst) in dst_row.chunks_exact_mut(c).enumerate() {
                if let Some(x0) = (ox * s).checked_sub(pl).filter(|&v| v + k <= x.w) {
                    depthwise_pixel(lanes, &x.data[x0 * c..], &op.weight, &op.bias, &inner, dst);
                    continue;
                }
                taps.clear();
                for ky in 0..k {
                    let Some(iy) = (oy * s + ky).checked_sub(pt).filter(|&v| v < x.h) else {
                        continue;
                    };
                    for kx in 0..k {
                        let Some(ix) = (ox * s + kx).checked_sub(pl).filter(|&v| v < x.w) else {
                            continue;
                        };
                        taps.push(((iy * x.w + ix) * c, (ky * k + kx) * c));
                    }
                }
                depthwise_pixel(lanes, &x.data, &op.weight, &op.bias, &taps, dst);
            }
        }
    }
}

/// One output pixel of a depthwise convolution: `dst = bias + Σ x[i..i+C] · w[j..j+C]`.
#[inline(always)]
fn depthwise_pixel<L: Lanes>(
    lanes: L,
    x: &[f32],
    w: &[f32],
    bias: &[f32],
    taps: &[(usize, usize)],
    dst: &mut [f32],
) {
    const B: usize = 16;
    let c = dst.len();
    let full = c / B * B;
    // Channel blocks of 16 stay in registers across the taps.
    for c0 in (0..full).step_by(B) {
        let mut acc = [0f32; B];
        acc.copy_from_slice(&bias[c0..c0 + B]);
        for &(i, j) in taps {
            let (xs, _) = x[i + c0..i + c0 + B].as_chunks::<B>();
            let (ws, _) = w[j + c0..j + c0 + B].as_chunks::<B>();
            acc = lanes.madd16(acc, &xs[0], &ws[0]);
        }
        dst[c0..c0 + B].copy_from_slice(&acc);
    }
    if full < c {
        let d = &mut dst[full..];
        d.copy_from_slice(&bias[full..]);
        for &(i, j) in taps {
            for ((a, xv), wv) in d
                .iter_mut()
                .zip(&x[i + full..i + c])
                .zip(&w[j + full..j + c])
            {
                *a += xv * wv;
            }
        }
    }
}

/// Patches of a dense k×k convolution for output rows `oy0..oy1`: one row of `k·k·C` values per
/// output pixel, ordered `(ky, kx, c)` to match TFLite's `O × kh × kw × I` kernels; padding reads
/// as zero.
pub fn im2col_rows(
    x: &FeatureMap,
    k: usize,
    stride: usize,
    padding: Padding,
    oy0: usize,
    oy1: usize,
    out: &mut [f32],
) {
    let c = x.c;
    let (_, pt) = padding.resolve(x.h, k, stride);
    let (wo, pl) = padding.resolve(x.w, k, stride);
    let row = k * k * c;
    for (r, oy) in (oy0..oy1).enumerate() {
        for ox in 0..wo {
            let dst = &mut out[(r * wo + ox) * row..(r * wo + ox + 1) * row];
            for ky in 0..k {
                let iy = (oy * stride + ky).checked_sub(pt).filter(|&v| v < x.h);
                for kx in 0..k {
                    let d = &mut dst[(ky * k + kx) * c..(ky * k + kx + 1) * c];
                    let ix = (ox * stride + kx).checked_sub(pl).filter(|&v| v < x.w);
                    match (iy, ix) {
                        (Some(iy), Some(ix)) => {
                            let i = (iy * x.w + ix) * c;
                            // An element loop: a memcpy call costs more than 3 RGB values.
                            for (v, s) in d.iter_mut().zip(&x.data[i..i + c]) {
                                *v = *s;
                            }
                        }
                        _ => d.fill(0.0),
                    }
                }
            }
        }
    }
}

/// 2×2 max pooling with stride 2 (VALID) for output rows `oy0..oy1`, written to `out`
/// (`(oy1 − oy0) × ⌊W/2⌋ × C`).
pub fn maxpool2_rows(x: &FeatureMap, oy0: usize, oy1: usize, out: &mut [f32]) {
    let (w, c) = (x.w, x.c);
    let wo = w / 2;
    for (r, oy) in (oy0..oy1).enumerate() {
        let top = x.row(2 * oy);
        let bottom = x.row(2 * oy + 1);
        for ox in 0..wo {
            let o = &mut out[(r * wo + ox) * c..(r * wo + ox + 1) * c];
            let i = 2 * ox * c;
            let (t0, t1) = (&top[i..i + c], &top[i + c..i + 2 * c]);
            let (b0, b1) = (&bottom[i..i + c], &bottom[i + c..i + 2 * c]);
            for ch in 0..c {
                o[ch] = t0[ch].max(t1[ch]).max(b0[ch]).max(b1[ch]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // 4×4×2 input, 3×3 stride-2 SAME: output 2×2; check one value by hand.
        let x: Vec<f32> = (0..32).map(|v| v as f32).collect();
        let map = FeatureMap::new(4, 4, 2, x.clone()).unwrap();
        let weight: Vec<f32> = (0..18).map(|v| (v as f32) * 0.1).collect();
        let op = DepthwiseKernel {
            weight: weight.clone(),
            bias: vec![1.0, -1.0],
            k: 3,
            stride: 2,
            padding: Padding::Same,
        };
        assert_eq!(op.out_size(4, 4), (2, 2));
        let mut y = vec![0f32; 8];
        op.rows(&map, 0, 2, &mut y);
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
        // Computing only the second output row gives the same values.
        let mut tail = vec![0f32; 4];
        op.rows(&map, 1, 2, &mut tail);
        assert_eq!(tail, y[4..]);
    }

    #[test]
    fn depthwise_wide_channels_match_direct_sum() {
        // 37 channels: two 16-channel register blocks and a 5-channel tail.
        let (h, w, c) = (5, 6, 37);
        let x: Vec<f32> = (0..h * w * c)
            .map(|v| ((v * 7) % 23) as f32 - 11.0)
            .collect();
        let map = FeatureMap::new(h, w, c, x.clone()).unwrap();
        let weight: Vec<f32> = (0..9 * c)
            .map(|v| ((v * 5) % 13) as f32 * 0.1 - 0.6)
            .collect();
        let bias: Vec<f32> = (0..c).map(|v| v as f32 * 0.01).collect();
        let op = DepthwiseKernel {
            weight: weight.clone(),
            bias: bias.clone(),
            k: 3,
            stride: 1,
            padding: Padding::Same,
        };
        let mut y = vec![0f32; h * w * c];
        op.rows(&map, 0, h, &mut y);
        // The plain kernel computes the same values (up to fused multiply-add rounding).
        let mut plain = vec![0f32; h * w * c];
        DepthwiseRows {
            op: &op,
            x: &map,
            oy0: 0,
            oy1: h,
            out: &mut plain,
        }
        .call(Plain);
        for (a, b) in y.iter().zip(&plain) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        for oy in 0..h {
            for ox in 0..w {
                for ch in 0..c {
                    let mut want = bias[ch];
                    for ky in 0..3 {
                        for kx in 0..3 {
                            let (iy, ix) = (oy as isize + ky - 1, ox as isize + kx - 1);
                            if iy >= 0 && ix >= 0 && iy < h as isize && ix < w as isize {
                                let i = (iy as usize * w + ix as usize) * c + ch;
                                want += x[i] * weight[(ky as usize * 3 + kx as usize) * c + ch];
                            }
                        }
                    }
                    let got = y[(oy * w + ox) * c + ch];
                    assert!(
                        (got - want).abs() < 1e-4,
                        "({oy},{ox},{ch}): {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn gemm_matches_naive_product_with_epilogue() {
        // 13 rows (two 6-row tiles and a 1-row tail), 37 outputs (two full panels and a padded
        // one), a 21-channel skip and a PReLU; the dispatched kernel (AVX2/FMA where the CPU has
        // it) and the plain one.
        let (rows, k, n, lda, sc) = (13, 9, 37, 10, 21);
        let a: Vec<f32> = (0..rows * lda)
            .map(|v| ((v * 3) % 17) as f32 * 0.1 - 0.8)
            .collect();
        let wt: Vec<f32> = (0..n * k)
            .map(|v| ((v * 11) % 19) as f32 * 0.1 - 0.9)
            .collect();
        let bias: Vec<f32> = (0..n).map(|v| v as f32 * 0.05 - 0.2).collect();
        let alpha: Vec<f32> = (0..n).map(|v| 0.1 + v as f32 * 0.02).collect();
        let skip: Vec<f32> = (0..rows * sc).map(|v| (v % 5) as f32 - 2.0).collect();
        let packed = PackedWeights::from_out_major(&wt, n, k);
        let act = Act::PRelu(alpha.clone());
        let s = Skip { data: &skip, c: sc };
        let ep = Epilogue {
            bias: &bias,
            skip: Some(s),
            act: &act,
        };
        for plain in [false, true] {
            let mut out = vec![0f32; rows * n];
            if plain {
                Gemm {
                    a: &a,
                    lda,
                    rows,
                    w: &packed,
                    ep: &ep,
                    out: &mut out,
                }
                .call(Plain);
            } else {
                gemm(&a, lda, rows, &packed, &ep, &mut out);
            }
            for r in 0..rows {
                for o in 0..n {
                    let mut v = bias[o];
                    for kk in 0..k {
                        v += a[r * lda + kk] * wt[o * k + kk];
                    }
                    if o < sc {
                        v += skip[r * sc + o];
                    }
                    if v < 0.0 {
                        v *= alpha[o];
                    }
                    let got = out[r * n + o];
                    assert!(
                        (got - v).abs() < 1e-4,
                        "plain {plain} ({r},{o}): {got} vs {v}"
                    );
                }
            }
        }
    }

    #[test]
    fn im2col_orders_patches_like_tflite_kernels() {
        // 3×3×2 input, 2×2 VALID stride 1: output (1,1) reads pixels (1,1),(1,2),(2,1),(2,2).
        let x: Vec<f32> = (0..18).map(|v| v as f32).collect();
        let map = FeatureMap::new(3, 3, 2, x).unwrap();
        let mut out = vec![0f32; 4 * 8];
        im2col_rows(&map, 2, 1, Padding::Valid, 0, 2, &mut out);
        assert_eq!(&out[24..32], &[8., 9., 10., 11., 14., 15., 16., 17.]);
        // SAME 3×3 at the corner: the first row of taps is padding.
        let mut same = vec![0f32; 9 * 18];
        im2col_rows(&map, 3, 1, Padding::Same, 0, 3, &mut same);
        assert_eq!(&same[..6], &[0.0; 6]);
        assert_eq!(&same[8..10], &[0., 1.]);
    }

    #[test]
    fn maxpool_takes_window_max() {
        let x: Vec<f32> = vec![
            1., 5., 2., 0., 3., 4., 9., 7., 0., 0., 0., 0., 6., 1., 1., 8.,
        ];
        let map = FeatureMap::new(4, 4, 1, x).unwrap();
        let mut v = vec![0f32; 4];
        maxpool2_rows(&map, 0, 2, &mut v);
        assert_eq!(v, vec![5., 9., 6., 8.]);
    }
}
