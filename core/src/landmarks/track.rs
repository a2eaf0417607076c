//! A landmark track: 68 points per frame over time, with a per-frame face-found flag.

use super::error::LandmarkError;
use super::face::{FORMAT_VERSION, ImageSize, Landmarks, points_from_pairs};
use super::layout::LANDMARK_COUNT;
use super::npy::{read_npy_f32, write_npy_f32};
use super::point::Point;
use super::validate::validate_points;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Format tag written into track files.
pub const TRACK_FORMAT: &str = "faceshot-track";

/// Frame rate assumed for inputs that carry none (hand-written JSON, `.npy`).
pub const DEFAULT_FPS: f64 = 30.0;

/// Landmarks over time: `frames[t]` holds frame `t`'s 68 points; `found[t]` says whether a face
/// was actually seen there (frames without one hold interpolated or repeated points).
#[derive(Clone, Debug, PartialEq)]
pub struct Track {
    /// Frames per second.
    pub fps: f64,
    /// Size of the video the points belong to, when known.
    pub image: Option<ImageSize>,
    /// Points of each frame.
    pub frames: Vec<Landmarks>,
    /// Whether a face was found in each frame (same length as `frames`).
    pub found: Vec<bool>,
}

#[derive(Serialize, Deserialize)]
struct TrackFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fps: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image: Option<ImageSize>,
    frames: Vec<FrameEntry>,
}

#[derive(Serialize, Deserialize)]
struct FrameEntry {
    #[serde(default = "yes")]
    found: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    landmarks: Option<Vec<[f64; 2]>>,
}

fn yes() -> bool {
    true
}

impl Track {
    /// An empty track at `fps`.
    pub fn new(fps: f64, image: Option<ImageSize>) -> Self {
        Self {
            fps,
            image,
            frames: Vec::new(),
            found: Vec::new(),
        }
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether the track has no frames.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Append one frame.
    pub fn push(&mut self, points: Landmarks, found: bool) {
        self.frames.push(points);
        self.found.push(found);
    }

    /// Duration in seconds.
    pub fn duration(&self) -> f64 {
        self.len() as f64 / self.fps
    }

    /// Check fps, lengths and every frame's points.
    pub fn validate(&self, context: &str) -> Result<(), LandmarkError> {
        let invalid = |reason: String| LandmarkError::Invalid {
            context: context.into(),
            reason,
        };
        if !(self.fps.is_finite() && self.fps > 0.0 && self.fps <= 1000.0) {
            return Err(invalid(format!("fps {} is not in (0, 1000]", self.fps)));
        }
        if self.frames.len() != self.found.len() {
            return Err(invalid("found flags and frames differ in length".into()));
        }
        if self.frames.is_empty() {
            return Err(invalid("the track has no frames".into()));
        }
        for (t, frame) in self.frames.iter().enumerate() {
            validate_points(frame, self.image, &format!("{context}, frame {t}"))?;
        }
        Ok(())
    }

    /// Parse and validate the JSON track format.
    pub fn from_json(text: &str, context: &Path) -> Result<Self, LandmarkError> {
        // Editors on Windows may start UTF-8 files with a byte-order mark.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let file: TrackFile = serde_json::from_str(text)
            .map_err(|e| LandmarkError::format(context, e.to_string()))?;
        if let Some(f) = &file.format
            && f != TRACK_FORMAT
        {
            return Err(LandmarkError::format(
                context,
                format!("format is \"{f}\", expected \"{TRACK_FORMAT}\""),
            ));
        }
        if let Some(v) = file.version
            && v > FORMAT_VERSION
        {
            return Err(LandmarkError::Version {
                path: context.to_path_buf(),
                found: v,
                supported: FORMAT_VERSION,
            });
        }
        let mut frames: Vec<Option<Landmarks>> = Vec::with_capacity(file.frames.len());
        let mut found = Vec::with_capacity(file.frames.len());
        for (t, entry) in file.frames.iter().enumerate() {
            let points = match &entry.landmarks {
                Some(pairs) => Some(points_from_pairs(pairs, context).map_err(|e| match e {
                    LandmarkError::Format { path, reason } => LandmarkError::Format {
                        path,
                        reason: format!("frame {t}: {reason}"),
                    },
                    other => other,
                })?),
                None if entry.found => {
                    return Err(LandmarkError::format(
                        context,
                        format!("frame {t} is marked found but has no landmarks"),
                    ));
                }
                None => None,
            };
            frames.push(points);
            found.push(entry.found);
        }
        let track = Track {
            fps: file.fps.unwrap_or(DEFAULT_FPS),
            image: file.image,
            frames: fill_gaps(frames, context)?,
            found,
        };
        track.validate(&context.display().to_string())?;
        Ok(track)
    }

    /// Serialise to the JSON track format.
    pub fn to_json(&self) -> String {
        let file = TrackFile {
            format: Some(TRACK_FORMAT.into()),
            version: Some(FORMAT_VERSION),
            fps: Some(self.fps),
            image: self.image,
            frames: self
                .frames
                .iter()
                .zip(&self.found)
                .map(|(f, &found)| FrameEntry {
                    found,
                    landmarks: Some(f.iter().map(|p| [f64::from(p.x), f64::from(p.y)]).collect()),
                })
                .collect(),
        };
        serde_json::to_string(&file).unwrap_or_default()
    }

    /// Encode as `.npy`: float32, shape (T, 68, 2), the layout landmark-driven renderers read.
    pub fn to_npy(&self) -> Vec<u8> {
        let data: Vec<f32> = self
            .frames
            .iter()
            .flat_map(|f| f.iter().flat_map(|p| [p.x, p.y]))
            .collect();
        write_npy_f32(&[self.len(), LANDMARK_COUNT, 2], &data)
    }

    /// Decode a `.npy` of shape (T, 68, 2) or (68, 2). Frames holding NaN are marked not found
    /// and filled from the nearest found frame. `.npy` has no frame rate: `fps` supplies it.
    pub fn from_npy(bytes: &[u8], fps: f64, context: &Path) -> Result<Self, LandmarkError> {
        let (shape, data) =
            read_npy_f32(bytes).map_err(|reason| LandmarkError::format(context, reason))?;
        let frames_count = match shape.as_slice() {
            [t, LANDMARK_COUNT, 2] => *t,
            [LANDMARK_COUNT, 2] => 1,
            other => {
                return Err(LandmarkError::format(
                    context,
                    format!("array shape {other:?}, expected (T, 68, 2)"),
                ));
            }
        };
        let mut frames = Vec::with_capacity(frames_count);
        let mut found = Vec::with_capacity(frames_count);
        for (t, chunk) in data.chunks_exact(LANDMARK_COUNT * 2).enumerate() {
            let mut pts = [Point::default(); LANDMARK_COUNT];
            for (i, (p, xy)) in pts.iter_mut().zip(chunk.chunks_exact(2)).enumerate() {
                *p = Point::new(xy[0], xy[1]);
                if p.x.is_infinite() || p.y.is_infinite() {
                    return Err(LandmarkError::format(
                        context,
                        format!("frame {t}, point {i} is infinite (NaN marks a missing frame)"),
                    ));
                }
            }
            // NaN marks a frame without a face.
            let ok = pts.iter().all(|p| p.is_finite());
            frames.push(ok.then_some(pts));
            found.push(ok);
        }
        let track = Track {
            fps,
            image: None,
            frames: fill_gaps(frames, context)?,
            found,
        };
        track.validate(&context.display().to_string())?;
        Ok(track)
    }

    /// Load a track from `.json` or `.npy` (by extension; `.npy` gets `fps`, default 30).
    pub fn load(path: &Path, npy_fps: Option<f64>) -> Result<Self, LandmarkError> {
        if is_npy(path) {
            let bytes = std::fs::read(path).map_err(|e| LandmarkError::io(path, e))?;
            Self::from_npy(&bytes, npy_fps.unwrap_or(DEFAULT_FPS), path)
        } else {
            let text = std::fs::read_to_string(path).map_err(|e| LandmarkError::io(path, e))?;
            Self::from_json(&text, path)
        }
    }

    /// The file's bytes for `path`: `.npy` or JSON, by its extension.
    pub fn encode_for(&self, path: &Path) -> Vec<u8> {
        if is_npy(path) {
            self.to_npy()
        } else {
            self.to_json().into_bytes()
        }
    }

    /// Save as `.npy` or JSON (by extension), atomically.
    pub fn save(&self, path: &Path) -> Result<(), LandmarkError> {
        crate::atomic::write_atomic(path, &self.encode_for(path))
            .map_err(|e| LandmarkError::io(path, e))
    }
}

fn is_npy(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
}

/// Replace missing frames by the nearest present one (earlier wins on ties).
fn fill_gaps(
    frames: Vec<Option<Landmarks>>,
    context: &Path,
) -> Result<Vec<Landmarks>, LandmarkError> {
    let Some(first) = frames.iter().flatten().next().copied() else {
        return Err(LandmarkError::Invalid {
            context: context.display().to_string(),
            reason: "no frame has landmarks".into(),
        });
    };
    let mut last = first;
    Ok(frames
        .into_iter()
        .map(|f| {
            if let Some(f) = f {
                last = f;
            }
            last
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landmarks::test_shapes::frontal_face;

    fn sample(n: usize) -> Track {
        let mut t = Track::new(25.0, None);
        for i in 0..n {
            t.push(frontal_face(100.0 + i as f32, 120.0, 50.0), i % 3 != 1);
        }
        t
    }

    #[test]
    fn json_round_trip() {
        let t = sample(5);
        let back = Track::from_json(&t.to_json(), Path::new("t.json")).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn npy_round_trip_and_save_load() {
        let dir = tempfile::tempdir().unwrap();
        let t = sample(4);
        let npy = dir.path().join("track.npy");
        t.save(&npy).unwrap();
        let back = Track::load(&npy, Some(25.0)).unwrap();
        assert_eq!(back.frames, t.frames);
        assert!(
            back.found.iter().all(|&f| f),
            "npy has no flags: all present"
        );
        let json = dir.path().join("track.json");
        t.save(&json).unwrap();
        assert_eq!(Track::load(&json, None).unwrap(), t);
    }

    #[test]
    fn nan_frames_in_npy_become_not_found() {
        let t = sample(3);
        let mut data: Vec<f32> = t
            .frames
            .iter()
            .flat_map(|f| f.iter().flat_map(|p| [p.x, p.y]))
            .collect();
        data[136 + 7] = f32::NAN;
        let bytes = write_npy_f32(&[3, 68, 2], &data);
        let back = Track::from_npy(&bytes, 30.0, Path::new("n.npy")).unwrap();
        assert_eq!(back.found, vec![true, false, true]);
        assert_eq!(back.frames[1], back.frames[0]);
    }

    #[test]
    fn hand_written_minimal_track() {
        let pts: Vec<String> = (0..68).map(|i| format!("[{i},{i}]")).collect();
        let frame = format!("{{\"landmarks\":[{}]}}", pts.join(","));
        let text = format!("{{\"frames\":[{frame},{{\"found\":false}},{frame}]}}");
        let t = Track::from_json(&text, Path::new("m.json")).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t.fps, DEFAULT_FPS);
        assert_eq!(t.found, vec![true, false, true]);
    }

    #[test]
    fn bad_tracks_are_refused() {
        let empty = "{\"frames\": []}";
        assert!(Track::from_json(empty, Path::new("e.json")).is_err());
        let bad_shape = write_npy_f32(&[2, 5, 2], &[0.0; 20]);
        let err = Track::from_npy(&bad_shape, 30.0, Path::new("b.npy")).unwrap_err();
        assert!(err.to_string().contains("expected (T, 68, 2)"), "{err}");
        let mut t = sample(2);
        t.fps = 0.0;
        assert!(t.validate("t").is_err());
    }

    #[test]
    fn infinite_npy_points_and_trailing_bytes_are_refused() {
        let t = sample(2);
        let mut data: Vec<f32> = t
            .frames
            .iter()
            .flat_map(|f| f.iter().flat_map(|p| [p.x, p.y]))
            .collect();
        let mut bytes = write_npy_f32(&[2, 68, 2], &data);
        bytes.extend_from_slice(&[0, 0, 0, 0]);
        let err = Track::from_npy(&bytes, 30.0, Path::new("t.npy")).unwrap_err();
        assert!(err.to_string().contains("4 bytes after"), "{err}");
        data[68 * 2 + 2 * 9 + 1] = f32::INFINITY;
        let bytes = write_npy_f32(&[2, 68, 2], &data);
        let err = Track::from_npy(&bytes, 30.0, Path::new("t.npy")).unwrap_err();
        assert!(
            err.to_string().contains("frame 1, point 9 is infinite"),
            "{err}"
        );
    }

    #[test]
    fn a_byte_order_mark_is_accepted() {
        let t = sample(2);
        let text = format!("\u{feff}{}", t.to_json());
        assert_eq!(Track::from_json(&text, Path::new("b.json")).unwrap(), t);
    }
}
