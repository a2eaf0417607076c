//! A landmark track: 68 points per frame over time, with a per-frame face-found flag.

use super::error::LandmarkError;
use super::face::{
    FORMAT_VERSION, ImageSize, Landmarks, check_header, parse_json, points_from_pairs,
};
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
    /// The driver's two iris centres in each frame (image-left eye first), when tracked.
    pub pupils: Option<Vec<[Point; 2]>>,
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
    /// The two iris centres, image-left eye first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pupils: Option<[[f64; 2]; 2]>,
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
            pupils: None,
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

    /// The pupils of frame `t`, when the track has pupils.
    pub fn pupils_at(&self, t: usize) -> Option<&[Point; 2]> {
        self.pupils.as_ref().and_then(|p| p.get(t))
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
        if let Some(pupils) = &self.pupils {
            if pupils.len() != self.frames.len() {
                return Err(invalid(format!(
                    "{} pupil pairs for {} frames",
                    pupils.len(),
                    self.frames.len()
                )));
            }
            for (t, pair) in pupils.iter().enumerate() {
                validate_points(pair, self.image, &format!("{context}, pupils of frame {t}"))?;
            }
        }
        Ok(())
    }

    /// Parse and validate the JSON track format.
    pub fn from_json(text: &str, context: &Path) -> Result<Self, LandmarkError> {
        let file: TrackFile = parse_json(text, context)?;
        check_header(file.format.as_deref(), file.version, TRACK_FORMAT, context)?;
        let mut frames: Vec<Option<Landmarks>> = Vec::with_capacity(file.frames.len());
        let mut found = Vec::with_capacity(file.frames.len());
        let mut pupils: Vec<Option<[Point; 2]>> = Vec::with_capacity(file.frames.len());
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
            pupils.push(
                entry
                    .pupils
                    .map(|pair| pair.map(|[x, y]| Point::new(x as f32, y as f32))),
            );
        }
        let pupils = if pupils.iter().any(Option::is_some) {
            Some(fill_gaps(pupils, context)?)
        } else {
            None
        };
        let track = Track {
            fps: file.fps.unwrap_or(DEFAULT_FPS),
            image: file.image,
            frames: fill_gaps(frames, context)?,
            found,
            pupils,
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
                .enumerate()
                .map(|(t, (f, &found))| FrameEntry {
                    found,
                    landmarks: Some(f.iter().map(|p| [f64::from(p.x), f64::from(p.y)]).collect()),
                    // Written where a face was found; elsewhere they are only held values.
                    pupils: self
                        .pupils
                        .as_ref()
                        .and_then(|p| p.get(t))
                        .filter(|_| found)
                        .map(|pair| pair.map(|p| [f64::from(p.x), f64::from(p.y)])),
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

    /// The pupils as `.npy` (float32, shape (T, 2, 2)), written beside a track's `.npy` as
    /// `NAME.pupils.npy` ([`pupils_path`]); `None` when the track has none.
    pub fn pupils_npy(&self) -> Option<Vec<u8>> {
        let pupils = self.pupils.as_ref()?;
        let data: Vec<f32> = pupils
            .iter()
            .flat_map(|pair| pair.iter().flat_map(|p| [p.x, p.y]))
            .collect();
        Some(write_npy_f32(&[pupils.len(), 2, 2], &data))
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
            pupils: None,
        };
        track.validate(&context.display().to_string())?;
        Ok(track)
    }

    /// Load a track from `.json` or `.npy` (by extension; `.npy` gets `fps`, default 30, and
    /// the pupils of a `NAME.pupils.npy` beside it).
    pub fn load(path: &Path, npy_fps: Option<f64>) -> Result<Self, LandmarkError> {
        if is_npy(path) {
            let bytes = std::fs::read(path).map_err(|e| LandmarkError::io(path, e))?;
            let mut track = Self::from_npy(&bytes, npy_fps.unwrap_or(DEFAULT_FPS), path)?;
            let sidecar = pupils_path(path);
            if sidecar.is_file() {
                let bytes = std::fs::read(&sidecar).map_err(|e| LandmarkError::io(&sidecar, e))?;
                track.pupils = Some(pupils_from_npy(&bytes, track.len(), &sidecar)?);
                track.validate(&sidecar.display().to_string())?;
            }
            Ok(track)
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

    /// Save as `.npy` or JSON (by extension), atomically; a `.npy` track's pupils go beside it
    /// ([`pupils_path`]).
    pub fn save(&self, path: &Path) -> Result<(), LandmarkError> {
        crate::atomic::write_atomic(path, &self.encode_for(path))
            .map_err(|e| LandmarkError::io(path, e))?;
        if is_npy(path)
            && let Some(bytes) = self.pupils_npy()
        {
            let sidecar = pupils_path(path);
            crate::atomic::write_atomic(&sidecar, &bytes)
                .map_err(|e| LandmarkError::io(&sidecar, e))?;
        }
        Ok(())
    }
}

/// Where a `.npy` track's pupils go: `NAME.pupils.npy` beside `NAME.npy`.
pub fn pupils_path(npy: &Path) -> std::path::PathBuf {
    let stem = npy
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    crate::atomic::parent_dir(npy).join(format!("{stem}.pupils.npy"))
}

/// Decode pupils of shape (T, 2, 2) for a track of `frames` frames.
fn pupils_from_npy(
    bytes: &[u8],
    frames: usize,
    context: &Path,
) -> Result<Vec<[Point; 2]>, LandmarkError> {
    let (shape, data) =
        read_npy_f32(bytes).map_err(|reason| LandmarkError::format(context, reason))?;
    if shape != [frames, 2, 2] {
        return Err(LandmarkError::format(
            context,
            format!("array shape {shape:?}, expected ({frames}, 2, 2)"),
        ));
    }
    Ok(data
        .chunks_exact(4)
        .map(|c| [Point::new(c[0], c[1]), Point::new(c[2], c[3])])
        .collect())
}

fn is_npy(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
}

/// Replace missing frames by the previous present one (the first present one at the start).
fn fill_gaps<const N: usize>(
    frames: Vec<Option<[Point; N]>>,
    context: &Path,
) -> Result<Vec<[Point; N]>, LandmarkError> {
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
    fn pupils_round_trip_through_json_and_a_npy_beside_the_track() {
        let mut t = sample(3);
        t.pupils = Some(
            (0..3)
                .map(|i| [Point::new(90.0 + i as f32, 110.0), Point::new(120.0, 111.0)])
                .collect(),
        );
        let back = Track::from_json(&t.to_json(), Path::new("t.json")).unwrap();
        // Frame 1 was not found: its pupils are not written and come back held from frame 0.
        let pupils = back.pupils.as_ref().unwrap();
        assert_eq!(pupils[0], t.pupils.as_ref().unwrap()[0]);
        assert_eq!(pupils[1], pupils[0]);
        assert_eq!(pupils[2], t.pupils.as_ref().unwrap()[2]);
        let dir = tempfile::tempdir().unwrap();
        let npy = dir.path().join("drive.npy");
        t.save(&npy).unwrap();
        assert!(dir.path().join("drive.pupils.npy").is_file());
        let loaded = Track::load(&npy, Some(25.0)).unwrap();
        assert_eq!(loaded.pupils, t.pupils);
        // A pupils file of another length is refused, naming it.
        let other = sample(2);
        std::fs::write(dir.path().join("drive.pupils.npy"), {
            let mut o = other.clone();
            o.pupils = Some(vec![[Point::new(1.0, 1.0); 2]; 2]);
            o.pupils_npy().unwrap()
        })
        .unwrap();
        let err = Track::load(&npy, Some(25.0)).unwrap_err();
        assert!(err.to_string().contains("drive.pupils.npy"), "{err}");
        // Without pupils the JSON has none and reads back without.
        assert!(!sample(2).to_json().contains("pupils"));
        assert!(
            Track::from_json(&sample(2).to_json(), Path::new("t.json"))
                .unwrap()
                .pupils
                .is_none()
        );
    }

    #[test]
    fn a_byte_order_mark_is_accepted() {
        let t = sample(2);
        let text = format!("\u{feff}{}", t.to_json());
        assert_eq!(Track::from_json(&text, Path::new("b.json")).unwrap(), t);
    }
}
