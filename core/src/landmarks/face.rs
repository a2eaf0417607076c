//! One face: 68 landmarks with per-point confidence, and its JSON file format.

use super::error::LandmarkError;
use super::layout::{EYE_RINGS, LANDMARK_COUNT};
use super::point::Point;
use super::validate::validate_points;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Format tag written into face files.
pub const FACE_FORMAT: &str = "faceshot-face";
/// Newest face/track file version this build reads and the one it writes.
pub const FORMAT_VERSION: u32 = 1;

/// The 68 landmark positions of one face.
pub type Landmarks = [Point; LANDMARK_COUNT];

/// Size of the image the landmarks refer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSize {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// One face: 68 points in image pixels and a confidence in [0, 1] for each.
#[derive(Clone, Debug, PartialEq)]
pub struct Face {
    /// Landmark positions, in the iBUG / 300-W order.
    pub points: Landmarks,
    /// Per-point confidence in [0, 1] (1 for hand-placed points).
    pub confidence: [f32; LANDMARK_COUNT],
    /// Size of the image the points belong to, when known.
    pub image: Option<ImageSize>,
    /// Centres of the two pupils (image-left eye first), when known: where the irises are
    /// drawn, or the eye centres for eyes without a visible iris.
    pub pupils: Option<[Point; 2]>,
    /// Radius of the irises in pixels, when known (`None`: the animator measures it).
    pub pupil_radius: Option<f32>,
}

/// On-disk shape of a face file. Only `landmarks` is required.
#[derive(Serialize, Deserialize)]
struct FaceFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image: Option<ImageSize>,
    landmarks: Vec<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    confidence: Option<Vec<f32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pupils: Option<[[f64; 2]; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pupil_radius: Option<f32>,
}

impl Face {
    /// A face with every point fully confident.
    pub fn new(points: Landmarks, image: Option<ImageSize>) -> Self {
        Self {
            points,
            confidence: [1.0; LANDMARK_COUNT],
            image,
            pupils: None,
            pupil_radius: None,
        }
    }

    /// The pupils, or each eye's centre (the mean of its six points) where none are known.
    pub fn pupils_or_eye_centres(&self) -> [Point; 2] {
        self.pupils.unwrap_or_else(|| eye_centres(&self.points))
    }

    /// Check the points are finite and not far outside the image.
    pub fn validate(&self, context: &str) -> Result<(), LandmarkError> {
        validate_points(&self.points, self.image, context)?;
        if let Some(i) = self
            .confidence
            .iter()
            .position(|c| !c.is_finite() || !(0.0..=1.0).contains(c))
        {
            return Err(LandmarkError::Invalid {
                context: context.into(),
                reason: format!(
                    "confidence of point {i} is {}, expected 0..1",
                    self.confidence[i]
                ),
            });
        }
        if let Some(pupils) = &self.pupils {
            validate_points(pupils, self.image, &format!("{context}, pupils"))?;
        }
        if let Some(r) = self.pupil_radius
            && !(r.is_finite() && r > 0.0)
        {
            return Err(LandmarkError::Invalid {
                context: context.into(),
                reason: format!("pupil radius is {r}, expected a positive number of pixels"),
            });
        }
        Ok(())
    }

    /// Parse and validate a face from JSON text; `context` names the source in errors.
    pub fn from_json(text: &str, context: &Path) -> Result<Self, LandmarkError> {
        let file: FaceFile = parse_json(text, context)?;
        check_header(file.format.as_deref(), file.version, FACE_FORMAT, context)?;
        let points = points_from_pairs(&file.landmarks, context)?;
        let mut confidence = [1.0f32; LANDMARK_COUNT];
        if let Some(c) = file.confidence {
            if c.len() != LANDMARK_COUNT {
                return Err(LandmarkError::format(
                    context,
                    format!("{} confidence values, expected {LANDMARK_COUNT}", c.len()),
                ));
            }
            confidence.copy_from_slice(&c);
        }
        let face = Face {
            points,
            confidence,
            image: file.image,
            pupils: file
                .pupils
                .map(|p| p.map(|[x, y]| Point::new(x as f32, y as f32))),
            pupil_radius: file.pupil_radius,
        };
        face.validate(&context.display().to_string())?;
        Ok(face)
    }

    /// Serialise to the JSON face format (pretty-printed).
    pub fn to_json(&self) -> String {
        let file = FaceFile {
            format: Some(FACE_FORMAT.into()),
            version: Some(FORMAT_VERSION),
            image: self.image,
            landmarks: self
                .points
                .iter()
                .map(|p| [f64::from(p.x), f64::from(p.y)])
                .collect(),
            confidence: Some(self.confidence.to_vec()),
            pupils: self
                .pupils
                .map(|p| p.map(|p| [f64::from(p.x), f64::from(p.y)])),
            pupil_radius: self.pupil_radius,
        };
        // A FaceFile of plain numbers and strings always serialises.
        serde_json::to_string_pretty(&file).unwrap_or_default()
    }

    /// Load and validate a face file.
    pub fn load(path: &Path) -> Result<Self, LandmarkError> {
        let text = std::fs::read_to_string(path).map_err(|e| LandmarkError::io(path, e))?;
        Self::from_json(&text, path)
    }

    /// Save as JSON, atomically.
    pub fn save(&self, path: &Path) -> Result<(), LandmarkError> {
        crate::atomic::write_atomic(path, self.to_json().as_bytes())
            .map_err(|e| LandmarkError::io(path, e))
    }
}

/// Each eye's centre, the mean of its six points (image-left eye, points 36–41, first).
pub fn eye_centres(points: &Landmarks) -> [Point; 2] {
    EYE_RINGS.map(|ring| {
        let sum = ring
            .iter()
            .fold(Point::default(), |acc, &i| acc + points[i]);
        sum * (1.0 / ring.len() as f32)
    })
}

/// JSON `text` parsed as `T` (a leading byte-order mark, as Windows editors write, skipped).
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    text: &str,
    context: &Path,
) -> Result<T, LandmarkError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str(text).map_err(|e| LandmarkError::format(context, e.to_string()))
}

/// A file's `format` tag (when given) must be `expected` and its `version` at most
/// [`FORMAT_VERSION`].
pub(crate) fn check_header(
    format: Option<&str>,
    version: Option<u32>,
    expected: &str,
    context: &Path,
) -> Result<(), LandmarkError> {
    if let Some(f) = format
        && f != expected
    {
        return Err(LandmarkError::format(
            context,
            format!("format is \"{f}\", expected \"{expected}\""),
        ));
    }
    if let Some(v) = version
        && v > FORMAT_VERSION
    {
        return Err(LandmarkError::Version {
            path: context.to_path_buf(),
            found: v,
            supported: FORMAT_VERSION,
        });
    }
    Ok(())
}

/// Convert `[x, y]` pairs into exactly 68 points.
pub(crate) fn points_from_pairs(
    pairs: &[[f64; 2]],
    context: &Path,
) -> Result<Landmarks, LandmarkError> {
    if pairs.len() != LANDMARK_COUNT {
        return Err(LandmarkError::format(
            context,
            format!(
                "{} landmarks, expected {LANDMARK_COUNT} (iBUG 68-point layout)",
                pairs.len()
            ),
        ));
    }
    let mut points = [Point::default(); LANDMARK_COUNT];
    for (p, [x, y]) in points.iter_mut().zip(pairs) {
        *p = Point::new(*x as f32, *y as f32);
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landmarks::test_shapes::frontal_face;

    #[test]
    fn json_round_trip_keeps_everything() {
        let mut face = Face::new(frontal_face(256.0, 256.0, 100.0), None);
        face.image = Some(ImageSize {
            width: 512,
            height: 512,
        });
        face.confidence[3] = 0.25;
        face.pupils = Some([Point::new(200.0, 230.0), Point::new(300.5, 231.0)]);
        face.pupil_radius = Some(9.5);
        let back = Face::from_json(&face.to_json(), Path::new("t.json")).unwrap();
        assert_eq!(back, face);
    }

    #[test]
    fn minimal_hand_written_file_loads() {
        let pairs: Vec<String> = (0..68).map(|i| format!("[{i}, {}]", i * 2)).collect();
        let text = format!("{{\"landmarks\": [{}]}}", pairs.join(","));
        let face = Face::from_json(&text, Path::new("hand.json")).unwrap();
        assert_eq!(face.points[10], Point::new(10.0, 20.0));
        assert_eq!(face.confidence[0], 1.0);
        assert_eq!(face.image, None);
    }

    #[test]
    fn wrong_count_is_a_clear_error() {
        let text = "{\"landmarks\": [[1,2],[3,4]]}";
        let err = Face::from_json(text, Path::new("few.json")).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("few.json") && msg.contains("2 landmarks"),
            "{msg}"
        );
    }

    #[test]
    fn newer_version_is_refused() {
        let pairs: Vec<String> = (0..68).map(|_| "[1, 1]".to_string()).collect();
        let text = format!("{{\"version\": 9, \"landmarks\": [{}]}}", pairs.join(","));
        let err = Face::from_json(&text, Path::new("new.json")).unwrap_err();
        assert!(matches!(err, LandmarkError::Version { found: 9, .. }));
    }

    #[test]
    fn far_outside_image_is_refused() {
        let mut face = Face::new(
            frontal_face(50.0, 50.0, 20.0),
            Some(ImageSize {
                width: 100,
                height: 100,
            }),
        );
        face.points[5] = Point::new(5000.0, 10.0);
        let err = Face::from_json(&face.to_json(), Path::new("far.json")).unwrap_err();
        assert!(err.to_string().contains("point 5"), "{err}");
    }

    #[test]
    fn bad_pupils_are_refused() {
        let mut face = Face::new(frontal_face(256.0, 256.0, 100.0), None);
        face.pupils = Some([Point::new(f32::NAN, 1.0), Point::new(2.0, 2.0)]);
        assert!(face.validate("f").is_err());
        face.pupils = None;
        face.pupil_radius = Some(0.0);
        let err = face.validate("f").unwrap_err().to_string();
        assert!(err.contains("pupil radius"), "{err}");
    }

    #[test]
    fn without_pupils_the_eye_centres_stand_in() {
        let face = Face::new(frontal_face(256.0, 256.0, 100.0), None);
        let [l, r] = face.pupils_or_eye_centres();
        assert!(l.x < r.x);
        let ring: Vec<f32> = (36..42).map(|i| face.points[i].x).collect();
        assert!(ring.iter().any(|&x| x < l.x) && ring.iter().any(|&x| x > l.x));
    }

    #[test]
    fn save_and_load_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("face.json");
        let face = Face::new(frontal_face(80.0, 90.0, 40.0), None);
        face.save(&path).unwrap();
        assert_eq!(Face::load(&path).unwrap(), face);
    }
}
