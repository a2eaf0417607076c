//! Room to move: how far each part's origin is from the face boundary, per direction, and the
//! factor that keeps a transferred displacement inside the character's face.
//!
//! A driver's part displacement (driver pixels, head axes) becomes a character displacement by
//! multiplying each component by `min(room_c / room_d, size ratio)`: the character's distance
//! to the boundary over the driver's in that direction, clamped at the ratio of face sizes. In
//! face-relative units that is the paper's ratio of distances clamped at 1, so a part moves in
//! proportion to the face, and less when it has less room, but never out of the face.
//! Directions in which a ray from the origin does not meet the jaw line (usually "up": the 68
//! points stop at the brows) are limited by the size ratio only.

use super::frame::PartFrame;
use crate::landmarks::Point;

/// Room in the four head-frame directions: towards point 0, towards point 16, up, down (for an
/// upright face), in pixels; `None` where the jaw line is not met.
pub type Room = [Option<f32>; 4];

/// Room around `from` inside the face outlined by the jaw polyline `jaw`, along the head axes.
pub fn room(jaw: &[Point], head: &PartFrame, from: Point) -> Room {
    let (x, y) = (head.x_axis(), head.y_axis());
    [x * -1.0, x, y * -1.0, y].map(|dir| ray_to_polyline(from, dir, jaw))
}

/// Distance along the unit vector `dir` from `from` to the nearest crossing of the polyline.
fn ray_to_polyline(from: Point, dir: Point, poly: &[Point]) -> Option<f32> {
    let mut best: Option<f32> = None;
    for seg in poly.windows(2) {
        let (a, b) = (seg[0], seg[1]);
        let e = b - a;
        let denom = dir.cross(e);
        if denom.abs() <= f32::EPSILON * e.norm() {
            continue; // parallel (or a zero-length segment)
        }
        let w = a - from;
        let s = w.cross(e) / denom;
        let t = w.cross(dir) / denom;
        if s >= 0.0 && (0.0..=1.0).contains(&t) && s.is_finite() {
            best = Some(best.map_or(s, |b: f32| b.min(s)));
        }
    }
    best
}

/// Per-direction factors from driver to character displacement for one part.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Clamp {
    factor: [f32; 4],
}

impl Clamp {
    /// No boundary information: scale by the face-size ratio only.
    pub fn uniform(size_ratio: f32) -> Self {
        Self {
            factor: [size_ratio; 4],
        }
    }

    /// Factors from the character's and the driver's room, capped at the face-size ratio.
    pub fn new(character: &Room, driver: &Room, size_ratio: f32) -> Self {
        let mut factor = [size_ratio; 4];
        for (f, (c, d)) in factor.iter_mut().zip(character.iter().zip(driver)) {
            if let (Some(c), Some(d)) = (c, d)
                && *d > 0.0
            {
                let r = c / d;
                if r.is_finite() {
                    *f = r.min(size_ratio);
                }
            }
        }
        Self { factor }
    }

    /// Scale a displacement given in head axes, component by component, by its direction.
    pub fn apply(&self, v: Point) -> Point {
        let fx = if v.x < 0.0 {
            self.factor[0]
        } else {
            self.factor[1]
        };
        let fy = if v.y < 0.0 {
            self.factor[2]
        } else {
            self.factor[3]
        };
        Point::new(v.x * fx, v.y * fy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u_shape() -> Vec<Point> {
        // A box open at the top: left side, bottom, right side.
        vec![
            Point::new(0.0, 0.0),
            Point::new(0.0, 10.0),
            Point::new(20.0, 10.0),
            Point::new(20.0, 0.0),
        ]
    }

    #[test]
    fn rays_find_the_sides_and_miss_the_open_top() {
        let head = PartFrame::from_ends(Point::new(0.0, 0.0), Point::new(20.0, 0.0));
        let r = room(&u_shape(), &head, Point::new(5.0, 4.0));
        assert_eq!(r[0], Some(5.0));
        assert_eq!(r[1], Some(15.0));
        assert_eq!(r[2], None);
        assert_eq!(r[3], Some(6.0));
    }

    #[test]
    fn clamp_never_exceeds_size_ratio() {
        let c = Clamp::new(
            &[Some(1.0), Some(100.0), None, Some(0.0)],
            &[Some(4.0), Some(1.0), Some(3.0), Some(2.0)],
            2.0,
        );
        let v = c.apply(Point::new(-8.0, 3.0));
        assert_eq!(v, Point::new(-2.0, 0.0));
        let w = c.apply(Point::new(1.0, -1.0));
        assert_eq!(w, Point::new(2.0, -2.0));
    }
}
