//! Polygons and polylines: point-in-polygon, distances to segments and polylines, and the
//! self-intersection tests that keep landmark contours untangled.

use crate::landmarks::{Landmarks, Part, Point};

/// Whether `p` lies inside the closed polygon `poly` (even-odd rule).
pub fn contains(poly: &[Point], p: Point) -> bool {
    let Some(&last) = poly.last() else {
        return false;
    };
    let mut odd = false;
    let mut b = last;
    for &a in poly {
        if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
            odd = !odd;
        }
        b = a;
    }
    odd
}

/// Distance from `p` to the segment `a`–`b`.
pub fn segment_distance(p: Point, a: Point, b: Point) -> f32 {
    let ab = b - a;
    let l2 = ab.dot(ab);
    let t = if l2 > 0.0 {
        ((p - a).dot(ab) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    p.distance(a + ab * t)
}

/// Distance from `p` to a polyline (closed if `closed`); infinite for fewer than two points.
pub fn polyline_distance(p: Point, pts: &[Point], closed: bool) -> f32 {
    let mut d = f32::INFINITY;
    for w in pts.windows(2) {
        d = d.min(segment_distance(p, w[0], w[1]));
    }
    if closed && pts.len() > 2 {
        d = d.min(segment_distance(p, pts[pts.len() - 1], pts[0]));
    }
    d
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

/// Whether any base part's contour of a 68-point set crosses itself.
pub fn tangled(points: &Landmarks) -> bool {
    Part::BASE.iter().any(|part| {
        let p: Vec<Point> = part.indices().iter().map(|&i| points[i]).collect();
        self_intersects(&p, part.is_closed())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landmarks::synthetic::frontal_face;

    const SQUARE: [Point; 4] = [
        Point::new(0.0, 0.0),
        Point::new(1.0, 0.0),
        Point::new(1.0, 1.0),
        Point::new(0.0, 1.0),
    ];

    #[test]
    fn self_intersection_detects_a_bow_tie() {
        assert!(!self_intersects(&SQUARE, true));
        let bow = [SQUARE[0], SQUARE[2], SQUARE[1], SQUARE[3]];
        assert!(self_intersects(&bow, true));
    }

    #[test]
    fn a_crossed_eye_is_tangled() {
        let mut face = frontal_face(100.0, 100.0, 60.0);
        assert!(!tangled(&face));
        face.swap(37, 41);
        assert!(tangled(&face));
    }

    #[test]
    fn containment_and_distances() {
        assert!(contains(&SQUARE, Point::new(0.5, 0.5)));
        assert!(!contains(&SQUARE, Point::new(1.5, 0.5)));
        assert!(!contains(&[], Point::new(0.0, 0.0)));
        let p = Point::new(0.5, 2.0);
        assert!((segment_distance(p, SQUARE[2], SQUARE[3]) - 1.0).abs() < 1e-6);
        assert!((polyline_distance(p, &SQUARE, true) - 1.0).abs() < 1e-6);
        assert!((polyline_distance(Point::new(-1.0, 0.5), &SQUARE, false) - 1.118).abs() < 1e-3);
        assert!((polyline_distance(Point::new(-1.0, 0.5), &SQUARE, true) - 1.0).abs() < 1e-6);
    }
}
