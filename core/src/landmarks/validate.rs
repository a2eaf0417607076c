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
    Ok(())
}
