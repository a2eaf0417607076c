//! The animator's face geometry: the face's own frame, the head ellipse, and "arc frames" that
//! describe an eye or a mouth opening as two height profiles. The general types (similarity,
//! ellipse) are the crate's [`crate::geometry`]; they are re-exported here so that the
//! animator's modules take all their geometry from one place.

pub use crate::geometry::{Ellipse, Similarity};
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
