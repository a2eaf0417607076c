//! A 2-D point in image pixel coordinates.

use serde::{Deserialize, Serialize};
use std::ops::{Add, Mul, Sub};

/// A point in image pixels (x to the right, y down). Serialised as `[x, y]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "[f32; 2]", into = "[f32; 2]")]
pub struct Point {
    /// Horizontal coordinate in pixels.
    pub x: f32,
    /// Vertical coordinate in pixels.
    pub y: f32,
}

impl Point {
    /// A point from its coordinates.
    pub const fn new(x: f32, y: f32) -> Self {
        Self { x, y }
    }

    /// Euclidean length of the vector from the origin.
    pub fn norm(self) -> f32 {
        self.x.hypot(self.y)
    }

    /// Distance to another point.
    pub fn distance(self, other: Point) -> f32 {
        (self - other).norm()
    }

    /// Dot product.
    pub fn dot(self, other: Point) -> f32 {
        self.x * other.x + self.y * other.y
    }

    /// 2-D cross product (z of the 3-D cross product).
    pub fn cross(self, other: Point) -> f32 {
        self.x * other.y - self.y * other.x
    }

    /// Whether both coordinates are finite.
    pub fn is_finite(self) -> bool {
        self.x.is_finite() && self.y.is_finite()
    }

    /// Linear interpolation: `self` at `t = 0`, `other` at `t = 1`.
    pub fn lerp(self, other: Point, t: f32) -> Point {
        self + (other - self) * t
    }

    /// The mean of `points` (the origin when there are none).
    pub fn mean(points: impl IntoIterator<Item = Point>) -> Point {
        let (sum, n) = points
            .into_iter()
            .fold((Point::default(), 0usize), |(s, n), p| (s + p, n + 1));
        if n == 0 {
            Point::default()
        } else {
            sum * (1.0 / n as f32)
        }
    }
}

impl From<[f32; 2]> for Point {
    fn from([x, y]: [f32; 2]) -> Self {
        Self { x, y }
    }
}

impl From<Point> for [f32; 2] {
    fn from(p: Point) -> Self {
        [p.x, p.y]
    }
}

impl Add for Point {
    type Output = Point;
    fn add(self, o: Point) -> Point {
        Point::new(self.x + o.x, self.y + o.y)
    }
}

impl Sub for Point {
    type Output = Point;
    fn sub(self, o: Point) -> Point {
        Point::new(self.x - o.x, self.y - o.y)
    }
}

impl Mul<f32> for Point {
    type Output = Point;
    fn mul(self, s: f32) -> Point {
        Point::new(self.x * s, self.y * s)
    }
}

#[cfg(test)]
mod tests {
    use super::Point;

    #[test]
    fn the_mean_of_points_is_their_centroid_and_of_none_the_origin() {
        let pts = [
            Point::new(0.0, 0.0),
            Point::new(4.0, 0.0),
            Point::new(2.0, 3.0),
        ];
        assert_eq!(Point::mean(pts), Point::new(2.0, 1.0));
        assert_eq!(Point::mean([]), Point::default());
    }
}
