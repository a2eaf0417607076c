//! Similarity transforms: rotation, uniform scale and translation.

use crate::landmarks::Point;

/// A 2-D similarity transform `p ↦ [a −b; b a]·p + t`, that is rotation by `θ`, uniform scale
/// `s` and translation `t`, stored as `a = s cos θ`, `b = s sin θ` (θ is clockwise on screen
/// since y points down).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Similarity {
    /// `s cos θ`.
    pub a: f32,
    /// `s sin θ`.
    pub b: f32,
    /// Translation.
    pub t: Point,
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
        t: Point::new(0.0, 0.0),
    };

    /// Scale, rotation (radians) and translation.
    pub fn new(scale: f32, angle: f32, t: Point) -> Self {
        Self {
            a: scale * angle.cos(),
            b: scale * angle.sin(),
            t,
        }
    }

    /// Apply to a point.
    pub fn apply(&self, p: Point) -> Point {
        Point::new(
            self.a * p.x - self.b * p.y + self.t.x,
            self.b * p.x + self.a * p.y + self.t.y,
        )
    }

    /// Apply the linear part only (to a vector).
    pub fn apply_vector(&self, v: Point) -> Point {
        Point::new(self.a * v.x - self.b * v.y, self.b * v.x + self.a * v.y)
    }

    /// Uniform scale factor.
    pub fn scale(&self) -> f32 {
        self.a.hypot(self.b)
    }

    /// Rotation angle in radians.
    pub fn angle(&self) -> f32 {
        self.b.atan2(self.a)
    }

    /// The inverse transform (the identity if this one is degenerate).
    pub fn inverse(&self) -> Similarity {
        let d = self.a * self.a + self.b * self.b;
        if d <= f32::EPSILON {
            return Similarity::IDENTITY;
        }
        let (a, b) = (self.a / d, -self.b / d);
        Similarity {
            a,
            b,
            t: Point::new(
                -(a * self.t.x - b * self.t.y),
                -(b * self.t.x + a * self.t.y),
            ),
        }
    }

    /// The similarity taking `a0 → a1` and `b0 → b1`; `None` when `a0` and `b0` coincide.
    pub fn from_two_points(a0: Point, b0: Point, a1: Point, b1: Point) -> Option<Similarity> {
        let s = b0 - a0;
        let d = b1 - a1;
        let n2 = s.dot(s);
        if n2 < 1e-8 {
            return None;
        }
        let (a, b) = (s.dot(d) / n2, s.cross(d) / n2);
        let t = a1 - Self::linear(a, b).apply(a0);
        let out = Similarity { a, b, t };
        out.is_finite().then_some(out)
    }

    /// Least-squares similarity taking `src[i]` towards `dst[i]`, summed in `f32` (the
    /// animator's per-frame head motion); `None` when `src` has no extent.
    pub fn fit(src: &[Point], dst: &[Point]) -> Option<Similarity> {
        let n = src.len().min(dst.len());
        if n < 2 {
            return None;
        }
        let inv = 1.0 / n as f32;
        let ms = src[..n].iter().fold(Point::default(), |acc, &p| acc + p) * inv;
        let md = dst[..n].iter().fold(Point::default(), |acc, &p| acc + p) * inv;
        let (mut sxx, mut sdot, mut scross) = (0.0f32, 0.0f32, 0.0f32);
        for (&s, &d) in src[..n].iter().zip(&dst[..n]) {
            let (x, y) = (s - ms, d - md);
            sxx += x.dot(x);
            sdot += x.dot(y);
            scross += x.cross(y);
        }
        if sxx < 1e-8 {
            return None;
        }
        let (a, b) = (sdot / sxx, scross / sxx);
        let out = Similarity {
            a,
            b,
            t: md - Self::linear(a, b).apply(ms),
        };
        out.is_finite().then_some(out)
    }

    /// Weighted least-squares similarity mapping `src` onto `dst` (Umeyama, no reflection),
    /// summed in `f64` (the shape model's alignments); negative weights count as zero. `None`
    /// with fewer than two distinct weighted points.
    pub fn fit_weighted(
        src: &[Point],
        dst: &[Point],
        weights: Option<&[f32]>,
    ) -> Option<Similarity> {
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
            t: Point::new(tx as f32, ty as f32),
        })
    }

    /// The fraction `s` of this motion, for points near `centre`: the identity at `s = 0`,
    /// `self` at `s = 1`, scale and angle interpolated geometrically, `centre`'s path straight.
    pub fn partial(&self, s: f32, centre: Point) -> Similarity {
        if s >= 1.0 {
            return *self;
        }
        let scale = self.scale().max(1e-6).powf(s);
        let angle = self.angle() * s;
        let (sin, cos) = angle.sin_cos();
        let (a, b) = (scale * cos, scale * sin);
        let moved = centre.lerp(self.apply(centre), s);
        Similarity {
            a,
            b,
            t: moved - Self::linear(a, b).apply(centre),
        }
    }

    /// The transform with linear part `[a −b; b a]` and no translation.
    fn linear(a: f32, b: f32) -> Similarity {
        Similarity {
            a,
            b,
            t: Point::default(),
        }
    }

    fn is_finite(&self) -> bool {
        self.a.is_finite() && self.b.is_finite() && self.t.is_finite()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landmarks::synthetic::frontal_face;

    fn close(a: Point, b: Point) -> bool {
        a.distance(b) < 1e-3
    }

    #[test]
    fn weighted_fit_recovers_a_known_transform() {
        let t = Similarity::new(2.5, 0.3, Point::new(10.0, -4.0));
        let src: Vec<Point> = (0..10)
            .map(|i| Point::new(i as f32, (i * i) as f32 * 0.1))
            .collect();
        let dst: Vec<Point> = src.iter().map(|&p| t.apply(p)).collect();
        let f = Similarity::fit_weighted(&src, &dst, None).unwrap();
        assert!((f.scale() - 2.5).abs() < 1e-4 && (f.angle() - 0.3).abs() < 1e-4);
        let back = f.inverse().apply(dst[7]);
        assert!(back.distance(src[7]) < 1e-3);
    }

    #[test]
    fn from_two_points_maps_both() {
        let (a0, b0) = (Point::new(1.0, 2.0), Point::new(4.0, -1.0));
        let (a1, b1) = (Point::new(-3.0, 5.0), Point::new(2.0, 9.0));
        let s = Similarity::from_two_points(a0, b0, a1, b1).unwrap();
        assert!(close(s.apply(a0), a1) && close(s.apply(b0), b1));
        assert!(Similarity::from_two_points(a0, a0, a1, b1).is_none());
    }

    #[test]
    fn fit_recovers_a_similarity_and_partial_interpolates() {
        let truth = Similarity {
            a: 0.9,
            b: 0.4,
            t: Point::new(10.0, -7.0),
        };
        let src: Vec<Point> = frontal_face(50.0, 60.0, 30.0).to_vec();
        let dst: Vec<Point> = src.iter().map(|&p| truth.apply(p)).collect();
        let fit = Similarity::fit(&src, &dst).unwrap();
        for (&s, &d) in src.iter().zip(&dst) {
            assert!(close(fit.apply(s), d));
        }
        let c = Point::new(50.0, 60.0);
        assert!(close(fit.partial(0.0, c).apply(src[3]), src[3]));
        assert!(close(fit.partial(1.0, c).apply(src[3]), dst[3]));
        let half = fit.partial(0.5, c);
        assert!((half.angle() - truth.angle() * 0.5).abs() < 1e-4);
        assert!(close(half.apply(c), c.lerp(truth.apply(c), 0.5)));
    }
}
