//! Ellipses and circles: the one [`Ellipse`] type (an axis as a unit vector, so that a caller
//! holding a direction needs no angle), and least-squares circle and ellipse fits.

use crate::landmarks::Point;

/// An ellipse with its first axis along the unit vector `axis`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ellipse {
    /// Centre.
    pub centre: Point,
    /// Unit vector of the first axis.
    pub axis: Point,
    /// Semi-axis along `axis`.
    pub a: f32,
    /// Semi-axis across `axis`.
    pub b: f32,
}

impl Ellipse {
    /// An ellipse whose first axis makes `angle` radians with the x axis.
    pub fn with_angle(centre: Point, a: f32, b: f32, angle: f32) -> Ellipse {
        let (s, c) = angle.sin_cos();
        Ellipse {
            centre,
            axis: Point::new(c, s),
            a,
            b,
        }
    }

    /// A circle as an ellipse (first axis along x).
    pub fn circle(circle: Circle) -> Ellipse {
        Ellipse::with_angle(circle.centre, circle.radius, circle.radius, 0.0)
    }

    /// The point at parameter angle `t` (0 along `axis`).
    pub fn point_at(&self, t: f32) -> Point {
        let (s, c) = (self.axis.y, self.axis.x);
        let (x, y) = (self.a * t.cos(), self.b * t.sin());
        Point::new(self.centre.x + c * x - s * y, self.centre.y + s * x + c * y)
    }

    /// The parameter of a point (its angle in the ellipse's normalised frame).
    pub fn param(&self, p: Point) -> f32 {
        let (s, c) = (self.axis.y, self.axis.x);
        let d = p - self.centre;
        let (x, y) = (c * d.x + s * d.y, -s * d.x + c * d.y);
        (y / self.b).atan2(x / self.a)
    }

    /// Outward unit normal at parameter `t`.
    pub fn normal(&self, t: f32) -> Point {
        let (s, c) = (self.axis.y, self.axis.x);
        let (x, y) = (self.b * t.cos(), self.a * t.sin());
        let n = Point::new(c * x - s * y, s * x + c * y);
        let l = n.norm().max(1e-12);
        n * (1.0 / l)
    }

    /// Normalised radius: < 1 inside, 1 on the ellipse.
    pub fn rho(&self, p: Point) -> f32 {
        let d = p - self.centre;
        let u = d.dot(self.axis) / self.a;
        let v = d.cross(self.axis) / self.b;
        (u * u + v * v).sqrt()
    }

    /// Axis-aligned bounding box `(min, max)`.
    pub fn bbox(&self) -> (Point, Point) {
        let ex = (self.a * self.axis.x).hypot(self.b * self.axis.y);
        let ey = (self.a * self.axis.y).hypot(self.b * self.axis.x);
        (
            Point::new(self.centre.x - ex, self.centre.y - ey),
            Point::new(self.centre.x + ex, self.centre.y + ey),
        )
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
    let el = Ellipse::with_angle(
        Point::new((x0 * sc + mx) as f32, (y0 * sc + my) as f32),
        (ra2.sqrt() * sc) as f32,
        (rb2.sqrt() * sc) as f32,
        theta as f32,
    );
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let truth = Ellipse::with_angle(Point::new(100.0, 50.0), 40.0, 15.0, 0.4);
        let pts: Vec<Point> = (0..17)
            .map(|i| truth.point_at(0.2 + i as f32 * 0.15))
            .collect();
        let e = fit_ellipse(&pts).unwrap();
        assert!(e.centre.distance(truth.centre) < 0.05, "{e:?}");
        for p in &pts {
            assert!(e.point_at(e.param(*p)).distance(*p) < 0.05);
            assert!((e.rho(*p) - 1.0).abs() < 1e-3);
        }
        assert!(fit_ellipse(&pts[..4]).is_none());
    }

    #[test]
    fn bounding_box_holds_the_outline() {
        let e = Ellipse::with_angle(Point::new(10.0, 20.0), 8.0, 3.0, 0.7);
        let (lo, hi) = e.bbox();
        for k in 0..64 {
            let p = e.point_at(k as f32 * 0.1);
            assert!(p.x >= lo.x - 1e-3 && p.x <= hi.x + 1e-3);
            assert!(p.y >= lo.y - 1e-3 && p.y <= hi.y + 1e-3);
        }
    }
}
