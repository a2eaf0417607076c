//! Thin-plate spline interpolation of a 2-D displacement field.
//!
//! Given centres `cᵢ` and displacements `dᵢ`, the spline
//! `f(x) = a₀ + a₁x + a₂y + Σ wᵢ U(|x − cᵢ|²)`, with `U(s) = s ln s`, passes through every
//! `(cᵢ, dᵢ)` and has the least bending energy of all maps that do. The system is solved in
//! double precision on coordinates normalised to the centres' extent, then evaluated in single
//! precision with a fast logarithm (relative error below 1e-7, far under a pixel's worth).

use crate::landmarks::Point;

/// Centres closer than this (pixels) are merged before solving: two different values at one
/// place would make the system singular.
const MERGE_DISTANCE: f32 = 0.25;

/// Diagonal regularisation in normalised units: keeps the system well conditioned while moving
/// the interpolated values by far less than a thousandth of a pixel.
const REGULARISATION: f64 = 1e-9;

/// Points evaluated side by side by [`Tps::eval_row`].
const LANES: usize = 8;

/// A solved spline, ready to evaluate.
#[derive(Clone, Debug)]
pub struct Tps {
    origin: Point,
    inv_scale: f32,
    cx: Vec<f32>,
    cy: Vec<f32>,
    wx: Vec<f32>,
    wy: Vec<f32>,
    ax: [f32; 3],
    ay: [f32; 3],
}

/// Natural logarithm for positive normal floats, branch-free; `fast_ln(0)` is a large negative
/// number, so `s * fast_ln(s)` is 0 at `s = 0` as the kernel needs.
#[inline(always)]
pub(crate) fn fast_ln(x: f32) -> f32 {
    const SQRT_2: f32 = std::f32::consts::SQRT_2;
    let bits = x.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let big = m > SQRT_2;
    m = if big { m * 0.5 } else { m };
    e += i32::from(big);
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let series = 1.0 + t2 * (1.0 / 3.0 + t2 * (1.0 / 5.0 + t2 * (1.0 / 7.0 + t2 * (1.0 / 9.0))));
    e as f32 * std::f32::consts::LN_2 + 2.0 * t * series
}

#[inline(always)]
fn kernel(s: f32) -> f32 {
    s * fast_ln(s)
}

fn kernel64(s: f64) -> f64 {
    if s <= 0.0 { 0.0 } else { s * s.ln() }
}

impl Tps {
    /// Solve for the spline through `values[i]` at `centres[i]`.
    ///
    /// Returns `None` when the system cannot be solved (all centres on one line, non-finite
    /// input); callers then fall back to less motion.
    pub fn solve(centres: &[Point], values: &[Point]) -> Option<Tps> {
        let n_in = centres.len().min(values.len());
        // Merge coincident centres (averaging their values).
        let mut pts: Vec<(Point, Point, u32)> = Vec::with_capacity(n_in);
        for (&c, &v) in centres[..n_in].iter().zip(&values[..n_in]) {
            if !c.is_finite() || !v.is_finite() {
                return None;
            }
            match pts.iter_mut().find(|(q, _, _)| {
                let d = *q - c;
                d.dot(d) < MERGE_DISTANCE * MERGE_DISTANCE
            }) {
                Some((_, sum, count)) => {
                    *sum = *sum + v;
                    *count += 1;
                }
                None => pts.push((c, v, 1)),
            }
        }
        let n = pts.len();
        if n < 3 {
            return None;
        }
        let inv_n = 1.0 / n as f32;
        let origin = pts.iter().fold(Point::default(), |a, p| a + p.0) * inv_n;
        let extent = pts
            .iter()
            .map(|p| (p.0 - origin).norm())
            .fold(0.0f32, f32::max);
        if extent < 1e-3 {
            return None;
        }
        let inv_scale = 1.0 / extent;
        let norm: Vec<(f64, f64)> = pts
            .iter()
            .map(|p| {
                let q = (p.0 - origin) * inv_scale;
                (f64::from(q.x), f64::from(q.y))
            })
            .collect();
        let m = n + 3;
        let mut a = vec![0.0f64; m * m];
        let mut rhs = vec![0.0f64; m * 2];
        for i in 0..n {
            for j in 0..i {
                let (dx, dy) = (norm[i].0 - norm[j].0, norm[i].1 - norm[j].1);
                let k = kernel64(dx * dx + dy * dy);
                a[i * m + j] = k;
                a[j * m + i] = k;
            }
            a[i * m + i] = REGULARISATION;
            let row = [1.0, norm[i].0, norm[i].1];
            for (c, &val) in row.iter().enumerate() {
                a[i * m + n + c] = val;
                a[(n + c) * m + i] = val;
            }
            let (_, sum, count) = pts[i];
            let v = sum * (1.0 / count as f32);
            rhs[i * 2] = f64::from(v.x);
            rhs[i * 2 + 1] = f64::from(v.y);
        }
        solve_in_place(&mut a, &mut rhs, m)?;
        let col = |k: usize| -> Vec<f32> { (0..n).map(|i| rhs[i * 2 + k] as f32).collect() };
        let aff = |k: usize| -> [f32; 3] {
            [
                rhs[n * 2 + k] as f32,
                rhs[(n + 1) * 2 + k] as f32,
                rhs[(n + 2) * 2 + k] as f32,
            ]
        };
        let out = Tps {
            origin,
            inv_scale,
            cx: norm.iter().map(|p| p.0 as f32).collect(),
            cy: norm.iter().map(|p| p.1 as f32).collect(),
            wx: col(0),
            wy: col(1),
            ax: aff(0),
            ay: aff(1),
        };
        let finite = out.wx.iter().chain(&out.wy).all(|w| w.is_finite())
            && out.ax.iter().chain(&out.ay).all(|w| w.is_finite());
        finite.then_some(out)
    }

    /// The interpolated values at `(x0 + i·dx, y)` for `i` in `0..out.len()`, written to `out`.
    ///
    /// Evaluates [`LANES`] points side by side per centre, which the compiler turns into SIMD
    /// arithmetic (a spline sum per point would be a sequential reduction it may not reorder).
    pub fn eval_row(&self, x0: f32, dx: f32, y: f32, out: &mut [Point]) {
        let qy = (y - self.origin.y) * self.inv_scale;
        let qdx = dx * self.inv_scale;
        for (chunk_index, chunk) in out.chunks_mut(LANES).enumerate() {
            let first = (x0 - self.origin.x) * self.inv_scale + qdx * (chunk_index * LANES) as f32;
            let mut qx = [0.0f32; LANES];
            for (k, q) in qx.iter_mut().enumerate() {
                *q = first + qdx * k as f32;
            }
            let mut sx = [0.0f32; LANES];
            let mut sy = [0.0f32; LANES];
            for (((&cx, &cy), &wx), &wy) in self.cx.iter().zip(&self.cy).zip(&self.wx).zip(&self.wy)
            {
                let ddy = qy - cy;
                let ddy2 = ddy * ddy;
                for k in 0..LANES {
                    let ddx = qx[k] - cx;
                    let u = kernel(ddx * ddx + ddy2);
                    sx[k] += wx * u;
                    sy[k] += wy * u;
                }
            }
            for (k, o) in chunk.iter_mut().enumerate() {
                *o = Point::new(
                    self.ax[0] + self.ax[1] * qx[k] + self.ax[2] * qy + sx[k],
                    self.ay[0] + self.ay[1] * qx[k] + self.ay[2] * qy + sy[k],
                );
            }
        }
    }

    /// The interpolated value at `p` (the renderer uses [`Tps::eval_row`]).
    #[cfg(test)]
    pub fn eval(&self, p: Point) -> Point {
        let q = (p - self.origin) * self.inv_scale;
        let (mut sx, mut sy) = (0.0f32, 0.0f32);
        for i in 0..self.cx.len() {
            let dx = q.x - self.cx[i];
            let dy = q.y - self.cy[i];
            let k = kernel(dx * dx + dy * dy);
            sx += self.wx[i] * k;
            sy += self.wy[i] * k;
        }
        Point::new(
            self.ax[0] + self.ax[1] * q.x + self.ax[2] * q.y + sx,
            self.ay[0] + self.ay[1] * q.x + self.ay[2] * q.y + sy,
        )
    }
}

/// Gaussian elimination with partial pivoting on the row-major `m × m` matrix `a`, for the two
/// right-hand sides interleaved in `rhs`; the solution replaces `rhs`.
pub(crate) fn solve_in_place(a: &mut [f64], rhs: &mut [f64], m: usize) -> Option<()> {
    let scale = a.iter().fold(0.0f64, |s, v| s.max(v.abs())).max(1.0);
    for col in 0..m {
        let mut pivot = col;
        let mut best = a[col * m + col].abs();
        for r in col + 1..m {
            let v = a[r * m + col].abs();
            if v > best {
                best = v;
                pivot = r;
            }
        }
        // Also refuses NaN pivots.
        if best.is_nan() || best <= 1e-13 * scale {
            return None;
        }
        if pivot != col {
            for c in 0..m {
                a.swap(col * m + c, pivot * m + c);
            }
            rhs.swap(col * 2, pivot * 2);
            rhs.swap(col * 2 + 1, pivot * 2 + 1);
        }
        let inv = 1.0 / a[col * m + col];
        let (top, rest) = a.split_at_mut((col + 1) * m);
        let prow = &top[col * m..];
        let (r0, r1) = (rhs[col * 2], rhs[col * 2 + 1]);
        for (k, row) in rest.chunks_exact_mut(m).enumerate() {
            let f = row[col] * inv;
            if f == 0.0 {
                continue;
            }
            for c in col..m {
                row[c] -= f * prow[c];
            }
            let r = col + 1 + k;
            rhs[r * 2] -= f * r0;
            rhs[r * 2 + 1] -= f * r1;
        }
    }
    for col in (0..m).rev() {
        let (mut s0, mut s1) = (rhs[col * 2], rhs[col * 2 + 1]);
        for c in col + 1..m {
            let v = a[col * m + c];
            s0 -= v * rhs[c * 2];
            s1 -= v * rhs[c * 2 + 1];
        }
        let inv = 1.0 / a[col * m + col];
        rhs[col * 2] = s0 * inv;
        rhs[col * 2 + 1] = s1 * inv;
    }
    rhs.iter().all(|v| v.is_finite()).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_ln_matches_std() {
        let mut worst = 0.0f32;
        let mut x = 1e-6f32;
        while x < 1e6 {
            let err = (fast_ln(x) - x.ln()).abs() / x.ln().abs().max(1.0);
            worst = worst.max(err);
            x *= 1.013;
        }
        assert!(worst < 1e-6, "worst relative error {worst}");
        assert_eq!(kernel(0.0), 0.0);
    }

    #[test]
    fn interpolates_values_and_reproduces_affine_maps() {
        let centres: Vec<Point> = (0..20)
            .map(|i| {
                let t = i as f32 * 0.7;
                Point::new(
                    100.0 + 60.0 * t.cos() * (1.0 + 0.1 * t),
                    80.0 + 50.0 * t.sin(),
                )
            })
            .collect();
        let values: Vec<Point> = centres
            .iter()
            .enumerate()
            .map(|(i, p)| Point::new((i as f32 * 1.3).sin() * 9.0, p.x * 0.05))
            .collect();
        let tps = Tps::solve(&centres, &values).unwrap();
        for (c, v) in centres.iter().zip(&values) {
            assert!(tps.eval(*c).distance(*v) < 1e-3, "{:?}", tps.eval(*c));
        }
        // An affine displacement is reproduced everywhere, not only at the centres.
        let affine = |p: Point| Point::new(0.1 * p.x - 0.2 * p.y + 3.0, 0.05 * p.y - 1.0);
        let values: Vec<Point> = centres.iter().map(|&p| affine(p)).collect();
        let tps = Tps::solve(&centres, &values).unwrap();
        let far = Point::new(10.0, 300.0);
        assert!(tps.eval(far).distance(affine(far)) < 1e-2);
    }

    #[test]
    fn row_evaluation_matches_pointwise() {
        let centres: Vec<Point> = (0..11)
            .map(|i| Point::new((i * 37 % 100) as f32, (i * 53 % 90) as f32))
            .collect();
        let values: Vec<Point> = (0..11)
            .map(|i| Point::new(i as f32, -(i as f32) * 0.5))
            .collect();
        let tps = Tps::solve(&centres, &values).unwrap();
        let mut row = vec![Point::default(); 19];
        tps.eval_row(-3.0, 6.5, 41.0, &mut row);
        for (i, v) in row.iter().enumerate() {
            let p = Point::new(-3.0 + 6.5 * i as f32, 41.0);
            assert!(
                v.distance(tps.eval(p)) < 1e-3,
                "{i}: {v:?} vs {:?}",
                tps.eval(p)
            );
        }
    }

    #[test]
    fn degenerate_input_is_refused_not_a_panic() {
        let line: Vec<Point> = (0..5).map(|i| Point::new(i as f32, i as f32)).collect();
        assert!(Tps::solve(&line, &line).is_none());
        let same = vec![Point::new(3.0, 3.0); 10];
        assert!(Tps::solve(&same, &same).is_none());
        let mut bad = line.clone();
        bad[2] = Point::new(f32::NAN, 0.0);
        assert!(Tps::solve(&bad, &line).is_none());
    }
}
