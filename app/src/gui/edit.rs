//! Landmark editing geometry: drag one point, move / rotate / scale a part, mirror editing.
//!
//! Every operation is a pure function from the landmarks at the start of a gesture to the
//! landmarks now, so a drag never accumulates rounding drift and undo needs only the start.

use faceshot_core::geometry::{Similarity, segment_distance};
use faceshot_core::landmarks::{EYE_RINGS, Landmarks, MIRROR, Part, Point};

/// The face's symmetry axis: a point on it and its unit direction (chin towards brows).
///
/// Taken from the chin (8) to the middle of the brows' inner ends (21, 22); falls back to the
/// vertical when those coincide.
pub fn face_axis(points: &Landmarks) -> (Point, Point) {
    let top = (points[21] + points[22]) * 0.5;
    let bottom = points[8];
    let d = top - bottom;
    let n = d.norm();
    let dir = if n > 1e-3 && n.is_finite() {
        d * (1.0 / n)
    } else {
        Point::new(0.0, -1.0)
    };
    (bottom, dir)
}

/// Mirror a displacement across the axis direction `dir` (unit): the component along the axis
/// is kept, the one across it flips.
pub fn mirror_vector(d: Point, dir: Point) -> Point {
    dir * (2.0 * d.dot(dir)) - d
}

/// Mirror a position across the axis through `origin` with direction `dir`.
pub fn mirror_point(p: Point, origin: Point, dir: Point) -> Point {
    origin + mirror_vector(p - origin, dir)
}

/// Move point `index` to `to`. With `mirror`, its left/right counterpart moves by the mirrored
/// displacement (a mid-line point only moves itself). Returns the indices that changed.
pub fn move_point(
    start: &Landmarks,
    index: usize,
    to: Point,
    mirror: bool,
) -> (Landmarks, Vec<usize>) {
    let mut out = *start;
    let Some(from) = start.get(index).copied() else {
        return (out, Vec::new());
    };
    out[index] = to;
    let mut changed = vec![index];
    let partner = MIRROR[index];
    if mirror && partner != index {
        let (_, dir) = face_axis(start);
        out[partner] = start[partner] + mirror_vector(to - from, dir);
        changed.push(partner);
    }
    (out, changed)
}

/// A similarity transform about a pivot: scale, then rotate, then translate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GroupTransform {
    /// Centre of rotation and scaling.
    pub pivot: Point,
    /// Translation applied last.
    pub translate: Point,
    /// Rotation in radians (positive turns clockwise on screen, y down).
    pub angle: f32,
    /// Uniform scale factor.
    pub scale: f32,
}

impl GroupTransform {
    /// The identity about `pivot`.
    pub fn identity(pivot: Point) -> Self {
        Self {
            pivot,
            translate: Point::default(),
            angle: 0.0,
            scale: 1.0,
        }
    }

    /// Apply to one point.
    pub fn apply(&self, p: Point) -> Point {
        let (s, c) = self.angle.sin_cos();
        let d = (p - self.pivot) * self.scale;
        self.pivot + Point::new(c * d.x - s * d.y, s * d.x + c * d.y) + self.translate
    }

    /// The mirror image of this transform across the face axis, about `pivot` (the mirrored
    /// part's own centre): translation mirrored, rotation reversed, same scale.
    pub fn mirrored(&self, dir: Point, pivot: Point) -> Self {
        Self {
            pivot,
            translate: mirror_vector(self.translate, dir),
            angle: -self.angle,
            scale: self.scale,
        }
    }
}

/// The left/right counterpart of a base part, if it has a distinct one.
pub fn mirror_part(part: Part) -> Option<Part> {
    match part {
        Part::RightBrow => Some(Part::LeftBrow),
        Part::LeftBrow => Some(Part::RightBrow),
        Part::RightEye => Some(Part::LeftEye),
        Part::LeftEye => Some(Part::RightEye),
        _ => None,
    }
}

/// Centroid of a part's points.
pub fn part_centre(points: &Landmarks, part: Part) -> Point {
    let idx = part.indices();
    let sum = idx.iter().fold(Point::default(), |acc, &i| acc + points[i]);
    sum * (1.0 / idx.len().max(1) as f32)
}

/// Axis-aligned bounds of a part: (min, max).
pub fn part_bounds(points: &Landmarks, part: Part) -> (Point, Point) {
    let mut lo = Point::new(f32::INFINITY, f32::INFINITY);
    let mut hi = Point::new(f32::NEG_INFINITY, f32::NEG_INFINITY);
    for &i in part.indices() {
        let p = points[i];
        lo = Point::new(lo.x.min(p.x), lo.y.min(p.y));
        hi = Point::new(hi.x.max(p.x), hi.y.max(p.y));
    }
    (lo, hi)
}

/// Transform every point of `part`; with `mirror`, the mirrored transform moves the counterpart
/// part about its own centre. Returns the new landmarks and the indices that changed.
pub fn transform_part(
    start: &Landmarks,
    part: Part,
    t: &GroupTransform,
    mirror: bool,
) -> (Landmarks, Vec<usize>) {
    let mut out = *start;
    let mut changed: Vec<usize> = part.indices().to_vec();
    for &i in part.indices() {
        out[i] = t.apply(start[i]);
    }
    if mirror && let Some(other) = mirror_part(part) {
        let (_, dir) = face_axis(start);
        let m = t.mirrored(dir, part_centre(start, other));
        for &i in other.indices() {
            out[i] = m.apply(start[i]);
        }
        changed.extend_from_slice(other.indices());
    }
    (out, changed)
}

/// The base part whose contour passes nearest to `p`, if within `radius`.
pub fn part_near(points: &Landmarks, p: Point, radius: f32) -> Option<Part> {
    let mut best: Option<(f32, Part)> = None;
    for part in Part::BASE {
        let idx = part.indices();
        let mut segs: Vec<(usize, usize)> = idx.windows(2).map(|w| (w[0], w[1])).collect();
        if part.is_closed()
            && let (Some(&a), Some(&b)) = (idx.last(), idx.first())
        {
            segs.push((a, b));
        }
        for (a, b) in segs {
            let d = segment_distance(p, points[a], points[b]);
            if d <= radius && best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, part));
            }
        }
    }
    best.map(|(_, part)| part)
}

/// The point nearest to `p`, if within `radius`.
pub fn point_near(points: &Landmarks, p: Point, radius: f32) -> Option<usize> {
    points
        .iter()
        .enumerate()
        .map(|(i, q)| (i, q.distance(p)))
        .filter(|(_, d)| *d <= radius)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// Move pupil `k` (0: image-left eye) to `to`; with `mirror`, the other pupil moves by the
/// mirrored displacement across the face axis of `points`.
pub fn move_pupil(
    start: &[Point; 2],
    points: &Landmarks,
    k: usize,
    to: Point,
    mirror: bool,
) -> [Point; 2] {
    let mut out = *start;
    let Some(from) = start.get(k).copied() else {
        return out;
    };
    out[k] = to;
    if mirror {
        let (_, dir) = face_axis(points);
        out[1 - k] = start[1 - k] + mirror_vector(to - from, dir);
    }
    out
}

/// The pupils carried along with their eyes: each keeps its place relative to its eye's corners
/// as they go from `before` to `after` (moving, turning or scaling an eye takes its pupil too).
pub fn pupils_following_eyes(
    pupils: &[Point; 2],
    before: &Landmarks,
    after: &Landmarks,
) -> [Point; 2] {
    std::array::from_fn(|k| {
        let [a, _, _, b, _, _] = EYE_RINGS[k];
        if before[a] == after[a] && before[b] == after[b] {
            return pupils[k];
        }
        Similarity::from_two_points(before[a], before[b], after[a], after[b])
            .map(|s| s.apply(pupils[k]))
            .filter(|p| p.is_finite())
            .unwrap_or(pupils[k])
    })
}

/// The pupil within `radius` of `p`, nearest first.
pub fn pupil_near(pupils: &[Point; 2], p: Point, radius: f32) -> Option<usize> {
    pupils
        .iter()
        .enumerate()
        .map(|(k, q)| (k, q.distance(p)))
        .filter(|(_, d)| *d <= radius)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use faceshot_core::landmarks::synthetic::frontal_face;

    fn close(a: Point, b: Point) -> bool {
        a.distance(b) < 1e-3
    }

    #[test]
    fn moving_a_point_touches_only_it_without_mirror() {
        let f = frontal_face(100.0, 100.0, 50.0);
        let (g, changed) = move_point(&f, 36, Point::new(10.0, 20.0), false);
        assert_eq!(changed, vec![36]);
        assert_eq!(g[36], Point::new(10.0, 20.0));
        for i in (0..68).filter(|&i| i != 36) {
            assert_eq!(g[i], f[i]);
        }
    }

    #[test]
    fn mirror_edit_keeps_a_symmetric_face_symmetric() {
        let f = frontal_face(100.0, 100.0, 50.0);
        // Outer corner of the right eye goes out and up; the left eye's outer corner mirrors it.
        let to = f[36] + Point::new(-6.0, -4.0);
        let (g, changed) = move_point(&f, 36, to, true);
        assert_eq!(changed, vec![36, 45]);
        assert!(close(g[45], f[45] + Point::new(6.0, -4.0)), "{:?}", g[45]);
        // A mid-line point only moves itself.
        let (_, changed) = move_point(&f, 30, f[30] + Point::new(3.0, 0.0), true);
        assert_eq!(changed, vec![30]);
    }

    #[test]
    fn mirror_follows_a_tilted_axis() {
        // Rotate the whole face by 90°: the axis is then horizontal, so a move along y (across
        // the axis) mirrors to the opposite y move.
        let mut f = frontal_face(0.0, 0.0, 50.0);
        for p in &mut f {
            *p = Point::new(-p.y, p.x);
        }
        let (g, _) = move_point(&f, 36, f[36] + Point::new(0.0, 5.0), true);
        assert!(
            close(g[45], f[45] + Point::new(0.0, -5.0)),
            "{:?}",
            g[45] - f[45]
        );
    }

    #[test]
    fn part_transform_rotates_and_scales_about_the_pivot() {
        let f = frontal_face(100.0, 100.0, 50.0);
        let c = part_centre(&f, Part::OuterLips);
        let t = GroupTransform {
            pivot: c,
            translate: Point::new(1.0, 2.0),
            angle: std::f32::consts::FRAC_PI_2,
            scale: 2.0,
        };
        let (g, changed) = transform_part(&f, Part::OuterLips, &t, true);
        assert_eq!(changed.len(), 12, "lips have no mirror partner");
        let d = f[48] - c;
        let expect = c + Point::new(-d.y * 2.0, d.x * 2.0) + Point::new(1.0, 2.0);
        assert!(close(g[48], expect));
        assert_eq!(g[36], f[36]);
        // Centre moves by the translation only.
        assert!(close(
            part_centre(&g, Part::OuterLips),
            c + Point::new(1.0, 2.0)
        ));
    }

    #[test]
    fn mirrored_part_transform_moves_the_other_eye_symmetrically() {
        let f = frontal_face(100.0, 100.0, 50.0);
        let t = GroupTransform {
            pivot: part_centre(&f, Part::RightEye),
            translate: Point::new(-4.0, 3.0),
            angle: 0.2,
            scale: 1.3,
        };
        let (g, changed) = transform_part(&f, Part::RightEye, &t, true);
        assert_eq!(changed.len(), 12);
        // The result is still mirror-symmetric about x = 100.
        for i in 36..48 {
            let m = MIRROR[i];
            assert!((g[i].x - 100.0 + (g[m].x - 100.0)).abs() < 1e-3, "x of {i}");
            assert!((g[i].y - g[m].y).abs() < 1e-3, "y of {i}");
        }
    }

    #[test]
    fn hit_tests_find_points_and_contours() {
        let f = frontal_face(100.0, 100.0, 50.0);
        assert_eq!(point_near(&f, f[30] + Point::new(1.0, 1.0), 4.0), Some(30));
        assert_eq!(point_near(&f, Point::new(-100.0, -100.0), 4.0), None);
        let mid = (f[49] + f[50]) * 0.5;
        assert_eq!(part_near(&f, mid, 2.0), Some(Part::OuterLips));
        let (lo, hi) = part_bounds(&f, Part::Jaw);
        assert!(lo.x < hi.x && lo.y < hi.y);
    }

    #[test]
    fn a_pupil_moves_alone_or_mirrored_and_rides_along_with_its_eye() {
        let face = frontal_face(100.0, 100.0, 50.0);
        let pupils = faceshot_core::landmarks::eye_centres(&face);
        let moved = move_pupil(&pupils, &face, 0, pupils[0] + Point::new(3.0, -1.0), false);
        assert!(close(moved[0], pupils[0] + Point::new(3.0, -1.0)) && close(moved[1], pupils[1]));
        let both = move_pupil(&pupils, &face, 0, pupils[0] + Point::new(3.0, -1.0), true);
        assert!(
            close(both[1], pupils[1] + Point::new(-3.0, -1.0)),
            "{both:?}"
        );
        assert_eq!(
            pupil_near(&pupils, pupils[1] + Point::new(1.0, 1.0), 2.0),
            Some(1)
        );
        assert_eq!(pupil_near(&pupils, Point::new(0.0, 0.0), 2.0), None);

        // The whole image-left eye shifted and scaled about its centre: its pupil follows.
        let mut after = face;
        let c = pupils[0];
        for i in 36..42 {
            after[i] = c + Point::new(5.0, 2.0) + (face[i] - c) * 2.0;
        }
        let follow = pupils_following_eyes(&pupils, &face, &after);
        assert!(close(follow[0], c + Point::new(5.0, 2.0)), "{follow:?}");
        assert!(close(follow[1], pupils[1]));
    }
}
