//! Plane geometry shared by the animator: similarity transforms, the face's own frame, the head
//! ellipse, and "arc frames" that describe an eye or a mouth opening as two height profiles.

use crate::landmarks::{Landmarks, Point};

/// Smooth 0→1 ramp between `e0` and `e1` (Hermite); a step when the edges coincide.
pub(crate) fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    if e1 <= e0 {
        return if x < e0 { 0.0 } else { 1.0 };
    }
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Unit vector in the direction of `p`, or `None` for a (near) zero vector.
pub(crate) fn unit(p: Point) -> Option<Point> {
    let n = p.norm();
    (n > 1e-6 && n.is_finite()).then(|| p * (1.0 / n))
}

/// `p` turned a quarter turn so that, for an axis pointing right on screen, it points up.
pub(crate) fn up_normal(axis: Point) -> Point {
    Point::new(axis.y, -axis.x)
}

/// A similarity transform `x ↦ [a −b; b a]·x + t` (rotation, uniform scale, translation).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Similarity {
    /// Scale times the cosine of the angle.
    pub a: f32,
    /// Scale times the sine of the angle.
    pub b: f32,
    /// Translation.
    pub t: Point,
}

impl Similarity {
    /// The identity.
    pub const IDENTITY: Similarity = Similarity {
        a: 1.0,
        b: 0.0,
        t: Point::new(0.0, 0.0),
    };

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

    /// The similarity taking `a0 → a1` and `b0 → b1`; `None` when `a0` and `b0` coincide.
    pub fn from_two_points(a0: Point, b0: Point, a1: Point, b1: Point) -> Option<Similarity> {
        let s = b0 - a0;
        let d = b1 - a1;
        let n2 = s.dot(s);
        if n2 < 1e-8 {
            return None;
        }
        let a = s.dot(d) / n2;
        let b = s.cross(d) / n2;
        let lin = Similarity {
            a,
            b,
            t: Point::default(),
        };
        let t = a1 - lin.apply(a0);
        let out = Similarity { a, b, t };
        out.is_finite().then_some(out)
    }

    /// Least-squares similarity taking `src[i]` towards `dst[i]`; `None` when `src` has no extent.
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
        let lin = Similarity {
            a,
            b,
            t: Point::default(),
        };
        let out = Similarity {
            a,
            b,
            t: md - lin.apply(ms),
        };
        out.is_finite().then_some(out)
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
        let lin = Similarity {
            a,
            b,
            t: Point::default(),
        };
        Similarity {
            a,
            b,
            t: moved - lin.apply(centre),
        }
    }

    fn is_finite(&self) -> bool {
        self.a.is_finite() && self.b.is_finite() && self.t.is_finite()
    }
}

/// An ellipse with one axis along the unit vector `axis`.
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
    /// Normalised radius: < 1 inside, 1 on the ellipse.
    pub fn rho(&self, p: Point) -> f32 {
        let d = p - self.centre;
        let u = d.dot(self.axis) / self.a;
        let v = d.cross(self.axis) / self.b;
        (u * u + v * v).sqrt()
    }

    /// The point at parameter angle `theta` (0 along `axis`).
    pub fn point_at(&self, theta: f32) -> Point {
        let (s, c) = theta.sin_cos();
        let across = Point::new(-self.axis.y, self.axis.x);
        self.centre + self.axis * (self.a * c) + across * (self.b * s)
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

/// The face's own frame: origin between the ear ends of the jaw, `u` towards the subject's left
/// (image right), `down` towards the chin; distances in pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaceFrame {
    /// Midpoint of jaw points 0 and 16.
    pub origin: Point,
    /// Unit vector from jaw point 0 to 16.
    pub u: Point,
    /// Unit vector towards the chin.
    pub down: Point,
    /// Half the distance between jaw points 0 and 16.
    pub half_width: f32,
    /// Distance of the chin (point 8) below the origin.
    pub chin: f32,
    /// Height of the highest brow point above the origin.
    pub brow: f32,
}

impl FaceFrame {
    /// The frame of a landmark set; `None` when the jaw has no width.
    pub fn of(points: &Landmarks) -> Option<FaceFrame> {
        let (l, r) = (points[0], points[16]);
        let u = unit(r - l)?;
        let origin = l.lerp(r, 0.5);
        let mut down = Point::new(-u.y, u.x);
        if (points[8] - origin).dot(down) < 0.0 {
            down = down * -1.0;
        }
        let chin = (points[8] - origin).dot(down);
        let brow = points[17..27]
            .iter()
            .map(|&p| -(p - origin).dot(down))
            .fold(0.0f32, f32::max);
        Some(FaceFrame {
            origin,
            u,
            down,
            half_width: l.distance(r) * 0.5,
            chin,
            brow,
        })
    }

    /// The soft head region: an ellipse around jaw, brows and an estimated forehead/crown.
    ///
    /// Every landmark lies well inside it for ordinary faces; the crown is put at least 2.2 brow
    /// heights (and 0.9 half face widths) above the jaw ends, which covers cartoon foreheads too.
    pub fn head(&self) -> Ellipse {
        let hw = self.half_width.max(1.0);
        let below = (self.chin.max(0.5 * hw)) * 1.12;
        let above = (2.2 * self.brow).max(0.9 * hw);
        let centre = self.origin + self.down * ((below - above) * 0.5);
        Ellipse {
            centre,
            axis: self.u,
            a: 1.15 * hw,
            b: 0.5 * (below + above),
        }
    }
}

/// Local coordinates of an opening bounded by two arcs between two corners (an eye, the mouth):
/// `s` runs 0→1 from corner `a` to corner `b`, `v` is the height above the corner line in pixels
/// (positive towards the upper arc). Each arc is kept as heights over `s` (piecewise linear).
#[derive(Clone, Debug)]
pub struct ArcFrame {
    a: Point,
    axis: Point,
    normal: Point,
    len: f32,
    upper: Vec<(f32, f32)>,
    lower: Vec<(f32, f32)>,
}

impl ArcFrame {
    /// A frame from corner `a` to corner `b` with the inner points of the upper and lower arcs
    /// (in any order); `None` when the corners coincide. `up` picks which side is "upper":
    /// the side the `upper` points lie on on average (falls back to screen up).
    pub fn new(a: Point, b: Point, upper: &[Point], lower: &[Point]) -> Option<ArcFrame> {
        let axis = unit(b - a)?;
        let len = a.distance(b);
        let mut normal = up_normal(axis);
        let side: f32 = upper.iter().map(|&p| (p - a).dot(normal)).sum::<f32>()
            - lower.iter().map(|&p| (p - a).dot(normal)).sum::<f32>();
        if side < 0.0 {
            normal = normal * -1.0;
        }
        let bare = ArcFrame {
            a,
            axis,
            normal,
            len,
            upper: Vec::new(),
            lower: Vec::new(),
        };
        Some(bare.with_arcs(upper, lower))
    }

    /// The same frame (corners, axis and "up" side) with other arcs, e.g. the requested lids
    /// of an eye measured in the frame of its open outline.
    pub fn with_arcs(&self, upper: &[Point], lower: &[Point]) -> ArcFrame {
        let arc = |pts: &[Point]| {
            let mut arc: Vec<(f32, f32)> = vec![(0.0, 0.0), (1.0, 0.0)];
            arc.extend(pts.iter().map(|&p| self.local(p)));
            arc.sort_by(|x, y| x.0.total_cmp(&y.0));
            arc
        };
        ArcFrame {
            a: self.a,
            axis: self.axis,
            normal: self.normal,
            len: self.len,
            upper: arc(upper),
            lower: arc(lower),
        }
    }

    /// Heights of the upper and lower arc at `n` evenly spaced `s` from 0 to 1, for fast
    /// lookup with [`ArcTable::at`].
    pub fn table(&self, n: usize) -> ArcTable {
        let n = n.max(2);
        let rows = (0..n)
            .map(|k| {
                let s = k as f32 / (n - 1) as f32;
                (self.upper(s), self.lower(s))
            })
            .collect();
        ArcTable { rows }
    }

    /// How `(s, v)` change per pixel step in x and in y: `((ds/dx, dv/dx), (ds/dy, dv/dy))`.
    pub fn gradients(&self) -> ((f32, f32), (f32, f32)) {
        (
            (self.axis.x / self.len, self.normal.x),
            (self.axis.y / self.len, self.normal.y),
        )
    }

    /// `(s, v)` of an image point.
    pub fn local(&self, p: Point) -> (f32, f32) {
        let d = p - self.a;
        (d.dot(self.axis) / self.len, d.dot(self.normal))
    }

    /// The image point at `(s, v)`.
    pub fn point(&self, s: f32, v: f32) -> Point {
        self.a + self.axis * (s * self.len) + self.normal * v
    }

    /// Corner-to-corner distance in pixels.
    pub fn len(&self) -> f32 {
        self.len
    }

    /// Unit normal pointing towards the upper arc.
    pub fn normal(&self) -> Point {
        self.normal
    }

    /// Height of the upper arc at `s` (clamped to the corners).
    pub fn upper(&self, s: f32) -> f32 {
        profile(&self.upper, s)
    }

    /// Height of the lower arc at `s`.
    pub fn lower(&self, s: f32) -> f32 {
        profile(&self.lower, s)
    }

    /// Mean opening (upper minus lower height) over the middle of the span, in pixels.
    pub fn mean_gap(&self) -> f32 {
        let samples = [0.25f32, 0.375, 0.5, 0.625, 0.75];
        samples
            .iter()
            .map(|&s| self.upper(s) - self.lower(s))
            .sum::<f32>()
            / samples.len() as f32
    }

    /// Axis-aligned bounding box of the corners and both arcs, grown by `margin` pixels.
    pub fn bbox(&self, margin: f32) -> (Point, Point) {
        let mut lo = Point::new(f32::INFINITY, f32::INFINITY);
        let mut hi = Point::new(f32::NEG_INFINITY, f32::NEG_INFINITY);
        for &(s, v) in self.upper.iter().chain(&self.lower) {
            let p = self.point(s, v);
            lo = Point::new(lo.x.min(p.x), lo.y.min(p.y));
            hi = Point::new(hi.x.max(p.x), hi.y.max(p.y));
        }
        (
            Point::new(lo.x - margin, lo.y - margin),
            Point::new(hi.x + margin, hi.y + margin),
        )
    }
}

/// Arc heights sampled over `s` (see [`ArcFrame::table`]).
#[derive(Clone, Debug)]
pub struct ArcTable {
    rows: Vec<(f32, f32)>,
}

impl ArcTable {
    /// `(upper, lower)` heights at `s` (clamped to 0..1), linearly interpolated.
    #[inline]
    pub fn at(&self, s: f32) -> (f32, f32) {
        let last = self.rows.len() - 1;
        let x = s.clamp(0.0, 1.0) * last as f32;
        let i = (x as usize).min(last - 1);
        let t = x - i as f32;
        let (a, b) = (self.rows[i], self.rows[i + 1]);
        (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)
    }
}

/// Piecewise-linear profile through `(s, v)` knots sorted by `s`.
fn profile(knots: &[(f32, f32)], s: f32) -> f32 {
    let Some(&(s0, v0)) = knots.first() else {
        return 0.0;
    };
    if s <= s0 {
        return v0;
    }
    for w in knots.windows(2) {
        let ((sa, va), (sb, vb)) = (w[0], w[1]);
        if s <= sb {
            let span = sb - sa;
            return if span > 1e-6 {
                va + (vb - va) * (s - sa) / span
            } else {
                vb
            };
        }
    }
    knots.last().map_or(0.0, |k| k.1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landmarks::synthetic::frontal_face;

    fn close(a: Point, b: Point) -> bool {
        a.distance(b) < 1e-3
    }

    #[test]
    fn similarity_from_two_points_maps_both() {
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

    #[test]
    fn head_ellipse_contains_every_landmark() {
        let face = frontal_face(100.0, 100.0, 40.0);
        let head = FaceFrame::of(&face).unwrap().head();
        for (i, &p) in face.iter().enumerate() {
            assert!(head.rho(p) < 0.97, "point {i} rho {}", head.rho(p));
        }
        let (lo, hi) = head.bbox();
        assert!(lo.x < 60.0 && hi.x > 140.0 && hi.y > 140.0);
    }

    #[test]
    fn arc_frame_heights_follow_the_arcs() {
        let face = frontal_face(100.0, 100.0, 100.0);
        let eye = ArcFrame::new(
            face[36],
            face[39],
            &[face[37], face[38]],
            &[face[41], face[40]],
        )
        .unwrap();
        assert!((eye.len() - 30.0).abs() < 1e-3);
        // Points 37/38 sit 5 px above the corner line, 40/41 5 px below.
        assert!((eye.upper(0.5) - 5.0).abs() < 1e-3, "{}", eye.upper(0.5));
        assert!((eye.lower(0.5) + 5.0).abs() < 1e-3);
        // Heights 5 at s = 1/3 and 2/3, falling to 0 at the corners: 7.5 at s = 1/4 and 3/4.
        assert!((eye.mean_gap() - 9.0).abs() < 1e-3, "{}", eye.mean_gap());
        let (s, v) = eye.local(eye.point(0.3, 2.0));
        assert!((s - 0.3).abs() < 1e-5 && (v - 2.0).abs() < 1e-4);
        assert_eq!(smoothstep(0.0, 1.0, 0.5), 0.5);
    }
}
