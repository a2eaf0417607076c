//! The local frame of a facial part: origin at the midpoint of its end points, x-axis from the
//! first end point to the last, lengths in units of half the end-to-end distance.

use crate::landmarks::Point;
use std::f32::consts::{PI, TAU};

/// A similarity frame attached to a part's two end points.
///
/// Local coordinates are normalised by `half_width`, so the end points are always at
/// `(-1, 0)` and `(1, 0)` and a part's shape can be compared across faces of any size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PartFrame {
    /// Midpoint of the end points, in image pixels.
    pub origin: Point,
    /// Direction of the x-axis in radians (image coordinates, y down).
    pub angle: f32,
    /// Half the distance between the end points, in pixels.
    pub half_width: f32,
    cos: f32,
    sin: f32,
}

impl PartFrame {
    /// The frame spanned by a part's first and last points.
    pub fn from_ends(first: Point, last: Point) -> Self {
        let d = last - first;
        Self::new((first + last) * 0.5, d.y.atan2(d.x), d.norm() * 0.5)
    }

    /// A frame from its origin, x-axis angle and half width.
    pub fn new(origin: Point, angle: f32, half_width: f32) -> Self {
        let (sin, cos) = angle.sin_cos();
        Self {
            origin,
            angle,
            half_width,
            cos,
            sin,
        }
    }

    /// Unit vector along the frame's x-axis.
    pub fn x_axis(&self) -> Point {
        Point::new(self.cos, self.sin)
    }

    /// Unit vector along the frame's y-axis (x-axis turned a quarter turn clockwise on screen).
    pub fn y_axis(&self) -> Point {
        Point::new(-self.sin, self.cos)
    }

    /// Normalised local coordinates of an image point. The caller makes sure `half_width > 0`.
    pub fn to_local(&self, p: Point) -> Point {
        let d = p - self.origin;
        Point::new(d.dot(self.x_axis()), d.dot(self.y_axis())) * (1.0 / self.half_width)
    }

    /// Image point of normalised local coordinates.
    pub fn to_image(&self, u: Point) -> Point {
        self.origin + self.rotate(u) * self.half_width
    }

    /// Express an image-space vector in this frame's axes (no scaling).
    pub fn vector_to_local(&self, v: Point) -> Point {
        Point::new(v.dot(self.x_axis()), v.dot(self.y_axis()))
    }

    /// Turn a vector given in this frame's axes back into image axes (no scaling).
    pub fn rotate(&self, v: Point) -> Point {
        self.x_axis() * v.x + self.y_axis() * v.y
    }
}

/// Rotate a vector by `angle` radians.
pub fn rotate(v: Point, angle: f32) -> Point {
    let (s, c) = angle.sin_cos();
    Point::new(c * v.x - s * v.y, s * v.x + c * v.y)
}

/// The same angle in (-π, π].
pub fn wrap_angle(a: f32) -> f32 {
    let w = a - TAU * (a / TAU).round();
    if w <= -PI { w + TAU } else { w }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_points_sit_at_plus_minus_one() {
        let f = PartFrame::from_ends(Point::new(10.0, 20.0), Point::new(14.0, 23.0));
        assert!((f.half_width - 2.5).abs() < 1e-6);
        let a = f.to_local(Point::new(10.0, 20.0));
        let b = f.to_local(Point::new(14.0, 23.0));
        assert!((a - Point::new(-1.0, 0.0)).norm() < 1e-6, "{a:?}");
        assert!((b - Point::new(1.0, 0.0)).norm() < 1e-6, "{b:?}");
    }

    #[test]
    fn local_round_trip_and_orientation() {
        let f = PartFrame::from_ends(Point::new(0.0, 0.0), Point::new(0.0, 2.0));
        // x-axis points down the screen, so the y-axis points to the screen's left.
        let u = f.to_local(Point::new(-1.0, 1.0));
        assert!((u - Point::new(0.0, 1.0)).norm() < 1e-6, "{u:?}");
        let p = Point::new(3.5, -7.25);
        assert!((f.to_image(f.to_local(p)) - p).norm() < 1e-5);
    }

    #[test]
    fn wrapping_stays_in_half_open_interval() {
        for a in [-7.0f32, -PI, -1.0, 0.0, 1.0, PI, 4.0, 10.0] {
            let w = wrap_angle(a);
            assert!(w > -PI - 1e-6 && w <= PI + 1e-6, "{a} -> {w}");
            assert!(((a - w) / TAU - ((a - w) / TAU).round()).abs() < 1e-5);
        }
        assert!((wrap_angle(-PI) - PI).abs() < 1e-6);
    }
}
