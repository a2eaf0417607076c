//! Plane geometry shared by matching, the animator and the drawing code, in the manner of
//! egui's `emath`: one [`Similarity`], one [`Ellipse`] (with circle and ellipse fits), polygon
//! and contour helpers (point-in-polygon, distances, self-intersection) and the symmetric
//! eigen-solver of the shape model. Points are [`crate::landmarks::Point`]s in image pixels
//! (y down) unless a caller says otherwise.

mod eigen;
mod ellipse;
mod polygon;
mod similarity;

pub use eigen::symmetric_eigen;
pub use ellipse::{Circle, Ellipse, fit_circle, fit_ellipse};
pub use polygon::{
    contains, polyline_distance, segment_distance, segments_cross, self_intersects, tangled,
};
pub use similarity::Similarity;
