//! Sanity checks on landmark coordinates.

use super::error::LandmarkError;
use super::face::ImageSize;
use super::point::Point;

/// Largest absolute coordinate accepted when the image size is unknown.
pub const MAX_ABS_COORDINATE: f32 = 100_000.0;

/// Points must be finite; with a known image they may lie at most one image size outside it
/// (a face partly out of frame is fine, a point a kilometre away is not).
pub fn validate_points(
    points: &[Point],
    image: Option<ImageSize>,
    context: &str,
) -> Result<(), LandmarkError> {
    let invalid = |reason: String| LandmarkError::Invalid {
        context: context.into(),
        reason,
    };
    for (i, p) in points.iter().enumerate() {
        if !p.is_finite() {
            return Err(invalid(format!(
                "point {i} is not a finite number ({}, {})",
                p.x, p.y
            )));
        }
        match image {
            Some(ImageSize { width, height }) => {
                let (w, h) = (width as f32, height as f32);
                let margin = w.max(h);
                if p.x < -margin || p.y < -margin || p.x > w + margin || p.y > h + margin {
                    return Err(invalid(format!(
                        "point {i} at ({:.1}, {:.1}) is far outside the {width}x{height} image",
                        p.x, p.y
                    )));
                }
            }
            None => {
                if p.x.abs() > MAX_ABS_COORDINATE || p.y.abs() > MAX_ABS_COORDINATE {
                    return Err(invalid(format!(
                        "point {i} at ({}, {}) is beyond ±{MAX_ABS_COORDINATE} px",
                        p.x, p.y
                    )));
                }
            }
        }
    }
    if let Some(i) = stray_point(points) {
        let p = points[i];
        return Err(invalid(format!(
            "point {i} at ({}, {}) lies far away from the other points",
            p.x, p.y
        )));
    }
    Ok(())
}

/// A point more than 50 times the face's typical radius from the middle of the points (a typo
/// or a stray drag), which later checks would blame on whichever part it collapses.
fn stray_point(points: &[Point]) -> Option<usize> {
    if points.len() < 3 {
        return None;
    }
    let median = |mut v: Vec<f32>| {
        v.sort_by(f32::total_cmp);
        v[v.len() / 2]
    };
    let centre = Point::new(
        median(points.iter().map(|p| p.x).collect()),
        median(points.iter().map(|p| p.y).collect()),
    );
    let radius = median(points.iter().map(|p| p.distance(centre)).collect());
    let limit = 50.0 * radius + 10.0;
    points.iter().position(|p| p.distance(centre) > limit)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::landmarks::synthetic::frontal_face;

    #[test]
    fn a_stray_point_is_named() {
        let mut face = frontal_face(100.0, 100.0, 40.0);
        assert!(validate_points(&face, None, "f").is_ok());
        face[20] = Point::new(-100_000.0, 100.0);
        let err = validate_points(&face, None, "f").unwrap_err().to_string();
        assert!(err.contains("point 20"), "{err}");
    }
}
