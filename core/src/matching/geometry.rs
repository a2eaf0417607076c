//! Small geometry toolkit for matching: similarity transforms, circle and ellipse fits,
//! self-intersection tests and a symmetric eigen-solver for the shape model.

use crate::landmarks::Point;

/// A 2-D similarity transform `p ↦ R(θ)·s·p + t`, stored as `a = s cos θ`, `b = s sin θ`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Similarity {
    /// `s cos θ`.
    pub a: f32,
    /// `s sin θ`.
    pub b: f32,
    /// Translation x.
    pub tx: f32,
    /// Translation y.
    pub ty: f32,
}

impl Default for Similarity {
    fn default() -> Self {
        Self::IDENTITY
    }
}

impl Similarity {
    /// The identity transform.
    pub const IDENTITY: Similarity = Similarity {
        a: 1.0,
        b: 0.0,
        tx: 0.0,
        ty: 0.0,
    };

    /// Scale, rotation (radians, clockwise on screen since y points down) and translation.
    pub fn new(scale: f32, angle: f32, tx: f32, ty: f32) -> Self {
        Self {
            a: scale * angle.cos(),
            b: scale * angle.sin(),
            tx,
            ty,
        }
    }

    /// Apply to a point.
    pub fn apply(&self, p: Point) -> Point {
        Point::new(
            self.a * p.x - self.b * p.y + self.tx,
            self.b * p.x + self.a * p.y + self.ty,
        )
    }

    /// Scale factor.
    pub fn scale(&self) -> f32 {
        self.a.hypot(self.b)
    }

    /// Rotation angle in radians.
    pub fn angle(&self) -> f32 {
        self.b.atan2(self.a)
    }

    /// The inverse transform (identity if degenerate).
    pub fn inverse(&self) -> Similarity {
        let d = self.a * self.a + self.b * self.b;
        if d <= f32::EPSILON {
            return Similarity::IDENTITY;
        }
        let (a, b) = (self.a / d, -self.b / d);
        Similarity {
            a,
            b,
            tx: -(a * self.tx - b * self.ty),
            ty: -(b * self.tx + a * self.ty),
        }
    }

    /// Weighted least-squares similarity mapping `src` onto `dst` (Umeyama, no reflection).
    /// Returns `None` with fewer than two distinct weighted points.
    pub fn fit(src: &[Point], dst: &[Point], weights: Option<&[f32]>) -> Option<Similarity> {
        let n = src.len().min(dst.len());
        let w = |i: usize| f64::from(weights.map_or(1.0, |w| w[i].max(0.0)));
        let mut sw = 0.0;
        let (mut msx, mut msy, mut mdx, mut mdy) = (0.0, 0.0, 0.0, 0.0);
        for i in 0..n {
            let wi = w(i);
            sw += wi;
            msx += wi * f64::from(src[i].x);
            msy += wi * f64::from(src[i].y);
            mdx += wi * f64::from(dst[i].x);
            mdy += wi * f64::from(dst[i].y);
        }
        if sw <= 0.0 {
            return None;
        }
        let (msx, msy, mdx, mdy) = (msx / sw, msy / sw, mdx / sw, mdy / sw);
        let (mut sxx, mut sab, mut sba) = (0.0, 0.0, 0.0);
        for i in 0..n {
            let wi = w(i);
            let (x, y) = (f64::from(src[i].x) - msx, f64::from(src[i].y) - msy);
            let (u, v) = (f64::from(dst[i].x) - mdx, f64::from(dst[i].y) - mdy);
            sxx += wi * (x * x + y * y);
            sab += wi * (x * u + y * v);
            sba += wi * (x * v - y * u);
        }
        if sxx <= 1e-12 {
            return None;
        }
        let a = sab / sxx;
        let b = sba / sxx;
        let tx = mdx - (a * msx - b * msy);
        let ty = mdy - (b * msx + a * msy);
        Some(Similarity {
            a: a as f32,
            b: b as f32,
            tx: tx as f32,
            ty: ty as f32,
        })
    }
}

/// A fitted circle.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Circle {
    /// Centre.
    pub centre: Point,
    /// Radius.
    pub radius: f32,
}

/// Algebraic (Kåsa) least-squares circle fit; `None` for fewer than 3 points or collinear ones.
pub fn fit_circle(points: &[Point]) -> Option<Circle> {
    if points.len() < 3 {
        return None;
    }
    let n = points.len() as f64;
    let (mx, my) = points.iter().fold((0.0, 0.0), |(a, b), p| {
        (a + f64::from(p.x) / n, b + f64::from(p.y) / n)
    });
    let (mut suu, mut svv, mut suv, mut suuu, mut svvv, mut suvv, mut svuu) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for p in points {
        let u = f64::from(p.x) - mx;
        let v = f64::from(p.y) - my;
        suu += u * u;
        svv += v * v;
        suv += u * v;
        suuu += u * u * u;
        svvv += v * v * v;
        suvv += u * v * v;
        svuu += v * u * u;
    }
    let det = suu * svv - suv * suv;
    let scale = (suu + svv).max(1e-12);
    if det.abs() <= 1e-9 * scale * scale {
        return None;
    }
    let r1 = 0.5 * (suuu + suvv);
    let r2 = 0.5 * (svvv + svuu);
    let uc = (r1 * svv - r2 * suv) / det;
    let vc = (r2 * suu - r1 * suv) / det;
    let radius = (uc * uc + vc * vc + (suu + svv) / n).sqrt();
    let c = Circle {
        centre: Point::new((uc + mx) as f32, (vc + my) as f32),
        radius: radius as f32,
    };
    (c.centre.is_finite() && c.radius.is_finite()).then_some(c)
}

/// A fitted ellipse: centre, semi-axes and the angle of the first axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ellipse {
    /// Centre.
    pub centre: Point,
    /// Semi-axis along `angle`.
    pub a: f32,
    /// Semi-axis perpendicular to `angle`.
    pub b: f32,
    /// Angle of the `a` axis in radians.
    pub angle: f32,
}

impl Ellipse {
    /// The point at parameter `t` (radians).
    pub fn point(&self, t: f32) -> Point {
        let (s, c) = self.angle.sin_cos();
        let (x, y) = (self.a * t.cos(), self.b * t.sin());
        Point::new(self.centre.x + c * x - s * y, self.centre.y + s * x + c * y)
    }

    /// The parameter of a point (its angle in the ellipse's normalised frame).
    pub fn param(&self, p: Point) -> f32 {
        let (s, c) = self.angle.sin_cos();
        let d = p - self.centre;
        let (x, y) = (c * d.x + s * d.y, -s * d.x + c * d.y);
        (y / self.b).atan2(x / self.a)
    }

    /// Outward unit normal at parameter `t`.
    pub fn normal(&self, t: f32) -> Point {
        let (s, c) = self.angle.sin_cos();
        let (x, y) = (self.b * t.cos(), self.a * t.sin());
        let n = Point::new(c * x - s * y, s * x + c * y);
        let l = n.norm().max(1e-12);
        n * (1.0 / l)
    }
}

/// Direct least-squares ellipse fit (Fitzgibbon, in Halíř & Flusser's stable form).
/// `None` when fewer than 5 points or when the best conic is not an ellipse.
pub fn fit_ellipse(points: &[Point]) -> Option<Ellipse> {
    if points.len() < 5 {
        return None;
    }
    let n = points.len() as f64;
    let (mx, my) = points.iter().fold((0.0, 0.0), |(a, b), p| {
        (a + f64::from(p.x) / n, b + f64::from(p.y) / n)
    });
    let sc = points
        .iter()
        .map(|p| (f64::from(p.x) - mx).hypot(f64::from(p.y) - my))
        .fold(0.0, f64::max)
        .max(1e-9);
    // Scatter blocks S1 (quadratic), S2 (mixed), S3 (linear) of the design matrix.
    let mut s1 = [[0.0f64; 3]; 3];
    let mut s2 = [[0.0f64; 3]; 3];
    let mut s3 = [[0.0f64; 3]; 3];
    for p in points {
        let x = (f64::from(p.x) - mx) / sc;
        let y = (f64::from(p.y) - my) / sc;
        let d1 = [x * x, x * y, y * y];
        let d2 = [x, y, 1.0];
        for i in 0..3 {
            for j in 0..3 {
                s1[i][j] += d1[i] * d1[j];
                s2[i][j] += d1[i] * d2[j];
                s3[i][j] += d2[i] * d2[j];
            }
        }
    }
    let s3inv = invert3(&s3)?;
    // T = -S3^-1 S2^T
    let mut t = [[0.0f64; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            let mut acc = 0.0;
            for k in 0..3 {
                acc += s3inv[i][k] * s2[j][k];
            }
            t[i][j] = -acc;
        }
    }
    // M = S1 + S2 T, then premultiply by C1^-1.
    let mut m = [[0.0f64; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            let mut acc = s1[i][j];
            for k in 0..3 {
                acc += s2[i][k] * t[k][j];
            }
            m[i][j] = acc;
        }
    }
    let m = [
        [m[2][0] / 2.0, m[2][1] / 2.0, m[2][2] / 2.0],
        [-m[1][0], -m[1][1], -m[1][2]],
        [m[0][0] / 2.0, m[0][1] / 2.0, m[0][2] / 2.0],
    ];
    let mut best: Option<[f64; 3]> = None;
    for lambda in real_eigenvalues3(&m) {
        if let Some(v) = null_vector3(&m, lambda) {
            let cond = 4.0 * v[0] * v[2] - v[1] * v[1];
            if cond > 0.0 {
                best = Some(v);
                break;
            }
        }
    }
    let a1 = best?;
    let mut a2 = [0.0f64; 3];
    for i in 0..3 {
        for k in 0..3 {
            a2[i] += t[i][k] * a1[k];
        }
    }
    // Conic A x² + B xy + C y² + D x + E y + F = 0 in normalised coordinates.
    let (a, b, c, d, e, f) = (a1[0], a1[1], a1[2], a2[0], a2[1], a2[2]);
    let den = b * b - 4.0 * a * c;
    if den >= 0.0 {
        return None;
    }
    let x0 = (2.0 * c * d - b * e) / den;
    let y0 = (2.0 * a * e - b * d) / den;
    let f0 = a * x0 * x0 + b * x0 * y0 + c * y0 * y0 + d * x0 + e * y0 + f;
    let theta = 0.5 * b.atan2(a - c);
    let (st, ct) = theta.sin_cos();
    let ap = a * ct * ct + b * ct * st + c * st * st;
    let cp = a * st * st - b * ct * st + c * ct * ct;
    let ra2 = -f0 / ap;
    let rb2 = -f0 / cp;
    if !(ra2 > 0.0 && rb2 > 0.0) {
        return None;
    }
    let el = Ellipse {
        centre: Point::new((x0 * sc + mx) as f32, (y0 * sc + my) as f32),
        a: (ra2.sqrt() * sc) as f32,
        b: (rb2.sqrt() * sc) as f32,
        angle: theta as f32,
    };
    (el.centre.is_finite() && el.a.is_finite() && el.b.is_finite()).then_some(el)
}

#[allow(clippy::needless_range_loop)]
fn invert3(m: &[[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    if det.abs() < 1e-15 {
        return None;
    }
    let mut r = [[0.0f64; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            let (i1, i2) = ((j + 1) % 3, (j + 2) % 3);
            let (j1, j2) = ((i + 1) % 3, (i + 2) % 3);
            r[i][j] = (m[i1][j1] * m[i2][j2] - m[i1][j2] * m[i2][j1]) / det;
        }
    }
    Some(r)
}

/// Real eigenvalues of a 3×3 matrix (roots of its characteristic cubic).
fn real_eigenvalues3(m: &[[f64; 3]; 3]) -> Vec<f64> {
    let tr = m[0][0] + m[1][1] + m[2][2];
    let minors = m[0][0] * m[1][1] - m[0][1] * m[1][0] + m[0][0] * m[2][2] - m[0][2] * m[2][0]
        + m[1][1] * m[2][2]
        - m[1][2] * m[2][1];
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    // λ³ - tr λ² + minors λ - det = 0
    solve_cubic(-tr, minors, -det)
}

/// Real roots of x³ + a x² + b x + c.
fn solve_cubic(a: f64, b: f64, c: f64) -> Vec<f64> {
    let q = (a * a - 3.0 * b) / 9.0;
    let r = (2.0 * a * a * a - 9.0 * a * b + 27.0 * c) / 54.0;
    if r * r < q * q * q {
        let th = (r / (q * q * q).sqrt()).clamp(-1.0, 1.0).acos();
        let s = -2.0 * q.sqrt();
        vec![
            s * (th / 3.0).cos() - a / 3.0,
            s * ((th + 2.0 * std::f64::consts::PI) / 3.0).cos() - a / 3.0,
            s * ((th - 2.0 * std::f64::consts::PI) / 3.0).cos() - a / 3.0,
        ]
    } else {
        let big_a = -r.signum() * (r.abs() + (r * r - q * q * q).sqrt()).cbrt();
        let big_b = if big_a.abs() > 1e-300 { q / big_a } else { 0.0 };
        vec![big_a + big_b - a / 3.0]
    }
}

/// A unit vector in the null space of `m - λI` (cross product of its two best rows).
fn null_vector3(m: &[[f64; 3]; 3], lambda: f64) -> Option<[f64; 3]> {
    let r: Vec<[f64; 3]> = (0..3)
        .map(|i| {
            let mut row = m[i];
            row[i] -= lambda;
            row
        })
        .collect();
    let cross = |u: [f64; 3], v: [f64; 3]| {
        [
            u[1] * v[2] - u[2] * v[1],
            u[2] * v[0] - u[0] * v[2],
            u[0] * v[1] - u[1] * v[0],
        ]
    };
    let cands = [cross(r[0], r[1]), cross(r[0], r[2]), cross(r[1], r[2])];
    let best = cands.into_iter().max_by(|x, y| {
        let nx = x.iter().map(|v| v * v).sum::<f64>();
        let ny = y.iter().map(|v| v * v).sum::<f64>();
        nx.total_cmp(&ny)
    })?;
    let n = best.iter().map(|v| v * v).sum::<f64>().sqrt();
    (n > 1e-300).then(|| [best[0] / n, best[1] / n, best[2] / n])
}

/// Whether segments `p1-p2` and `q1-q2` cross (touching at shared end points does not count).
pub fn segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool {
    let d1 = (p2 - p1).cross(q1 - p1);
    let d2 = (p2 - p1).cross(q2 - p1);
    let d3 = (q2 - q1).cross(p1 - q1);
    let d4 = (q2 - q1).cross(p2 - q1);
    (d1 * d2 < 0.0) && (d3 * d4 < 0.0)
}

/// Whether a polyline (closed if `closed`) crosses itself. Non-adjacent segments only.
pub fn self_intersects(points: &[Point], closed: bool) -> bool {
    let n = points.len();
    if n < 4 {
        return false;
    }
    let segs = if closed { n } else { n - 1 };
    for i in 0..segs {
        for j in (i + 2)..segs {
            if closed && i == 0 && j == segs - 1 {
                continue;
            }
            let (a, b) = (points[i], points[(i + 1) % n]);
            let (c, d) = (points[j], points[(j + 1) % n]);
            if segments_cross(a, b, c, d) {
                return true;
            }
        }
    }
    false
}

/// Eigen-decomposition of a symmetric `n × n` matrix (row-major) by cyclic Jacobi rotations.
/// Returns eigenvalues in decreasing order and the matching unit eigenvectors.
pub fn symmetric_eigen(matrix: &[f64], n: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    let mut a = matrix.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..60 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j] * a[i * n + j])
            .sum();
        let diag: f64 = (0..n).map(|i| a[i * n + i] * a[i * n + i]).sum();
        if off <= 1e-22 * diag.max(1e-300) {
            break;
        }
        for p in 0..n {
            for q in (p + 1)..n {
                let apq = a[p * n + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let app = a[p * n + p];
                let aqq = a[q * n + q];
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let akp = a[k * n + p];
                    let akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let apk = a[p * n + k];
                    let aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let vkp = v[k * n + p];
                    let vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[j * n + j].total_cmp(&a[i * n + i]));
    let vals = order.iter().map(|&i| a[i * n + i]).collect();
    let vecs = order
        .iter()
        .map(|&i| (0..n).map(|k| v[k * n + i]).collect())
        .collect();
    (vals, vecs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_fit_recovers_a_known_transform() {
        let t = Similarity::new(2.5, 0.3, 10.0, -4.0);
        let src: Vec<Point> = (0..10)
            .map(|i| Point::new(i as f32, (i * i) as f32 * 0.1))
            .collect();
        let dst: Vec<Point> = src.iter().map(|&p| t.apply(p)).collect();
        let f = Similarity::fit(&src, &dst, None).unwrap();
        assert!((f.scale() - 2.5).abs() < 1e-4 && (f.angle() - 0.3).abs() < 1e-4);
        let back = f.inverse().apply(dst[7]);
        assert!(back.distance(src[7]) < 1e-3);
    }

    #[test]
    fn circle_and_ellipse_fits_are_exact_on_exact_data() {
        let pts: Vec<Point> = (0..12)
            .map(|i| {
                let a = i as f32 * 0.4;
                Point::new(5.0 + 3.0 * a.cos(), -2.0 + 3.0 * a.sin())
            })
            .collect();
        let c = fit_circle(&pts).unwrap();
        assert!(c.centre.distance(Point::new(5.0, -2.0)) < 1e-3 && (c.radius - 3.0).abs() < 1e-3);
        let truth = Ellipse {
            centre: Point::new(100.0, 50.0),
            a: 40.0,
            b: 15.0,
            angle: 0.4,
        };
        let pts: Vec<Point> = (0..17)
            .map(|i| truth.point(0.2 + i as f32 * 0.15))
            .collect();
        let e = fit_ellipse(&pts).unwrap();
        assert!(e.centre.distance(truth.centre) < 0.05, "{e:?}");
        for p in &pts {
            assert!(e.point(e.param(*p)).distance(*p) < 0.05);
        }
        assert!(fit_ellipse(&pts[..4]).is_none());
    }

    #[test]
    fn self_intersection_detects_a_bow_tie() {
        let square = [
            Point::new(0.0, 0.0),
            Point::new(1.0, 0.0),
            Point::new(1.0, 1.0),
            Point::new(0.0, 1.0),
        ];
        assert!(!self_intersects(&square, true));
        let bow = [square[0], square[2], square[1], square[3]];
        assert!(self_intersects(&bow, true));
    }

    #[test]
    fn jacobi_diagonalises() {
        let m = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 1.0];
        let (vals, vecs) = symmetric_eigen(&m, 3);
        for (l, v) in vals.iter().zip(&vecs) {
            for i in 0..3 {
                let mv: f64 = (0..3).map(|k| m[i * 3 + k] * v[k]).sum();
                assert!((mv - l * v[i]).abs() < 1e-9);
            }
        }
        assert!(vals[0] >= vals[1] && vals[1] >= vals[2]);
    }
}
