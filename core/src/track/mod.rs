//! Driving-face tracking: 68 landmarks per video frame.
//!
//! Per frame, as MediaPipe's face mesh graph does it: the face detector runs on the first
//! frame and whenever the face is lost; otherwise the face-mesh ROI comes from the previous
//! frame's mesh (its box, rotated so the eye line is level, ×1.5). The eye model then refines
//! both eyes' contours (so blinks register) and the refined mesh is mapped to the 68-point
//! layout ([`mapping`]). Over the whole clip, frames without a usable face are flagged, short
//! gaps interpolated, long gaps reported, and a One Euro filter removes jitter ([`smooth`]).

use std::path::Path;

use image::RgbImage;

use crate::landmarks::{ImageSize, Landmarks, Point, Track};
use crate::media::{MediaError, VideoReader};
use crate::nn::crop::{Border, Range, RotatedRect, crop_to_tensor};
use crate::nn::detector::sigmoid;
use crate::nn::iris::{EYE_POINTS, EYE_SIZE};
use crate::nn::mesh::MESH_SIZE;
use crate::nn::ops::FeatureMap;
use crate::nn::{Detection, FaceNets, NnError};
use crate::progress::Progress;

pub mod mapping;
pub mod roi;
pub mod smooth;

pub use mapping::Mesh68Map;
pub use smooth::{Gap, LandmarkFilter, OneEuro};

/// Mesh vertices replaced by the eye model's 71 points, image-left eye then image-right eye
/// (MediaPipe's `UpdateFaceLandmarks` order: lower lid, upper lid, halos, brow).
pub const EYE_VERTICES: [[usize; EYE_POINTS]; 2] = [
    [
        33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173, 130, 25, 110,
        24, 23, 22, 26, 112, 243, 247, 30, 29, 27, 28, 56, 190, 226, 31, 228, 229, 230, 231, 232,
        233, 244, 113, 225, 224, 223, 222, 221, 189, 35, 124, 46, 53, 52, 65, 143, 111, 117, 118,
        119, 120, 121, 128, 245, 156, 70, 63, 105, 66, 107, 55, 193,
    ],
    [
        263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398, 359, 255,
        339, 254, 253, 252, 256, 341, 463, 467, 260, 259, 257, 258, 286, 414, 446, 261, 448, 449,
        450, 451, 452, 453, 464, 342, 445, 444, 443, 442, 441, 413, 265, 353, 276, 283, 282, 295,
        372, 340, 346, 347, 348, 349, 350, 357, 465, 383, 300, 293, 334, 296, 336, 285, 417,
    ],
];
/// How many of the eye model's points (the eyelid contour) replace mesh vertices.
pub const EYELID_POINTS: usize = 16;

/// Errors of the tracker.
#[derive(Debug, thiserror::Error)]
pub enum TrackError {
    /// No frame of the input shows a usable face.
    #[error("no face found in any of the {frames} frames of {input}")]
    NoFace {
        /// The input.
        input: String,
        /// Frames examined.
        frames: usize,
    },
    /// A network failed.
    #[error(transparent)]
    Nn(#[from] NnError),
    /// The video could not be read.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// The caller cancelled.
    #[error("tracking cancelled")]
    Cancelled,
}

/// Tracker settings.
#[derive(Debug, Clone)]
pub struct TrackerOptions {
    /// Minimum detector score (MediaPipe: 0.5).
    pub min_detection_score: f32,
    /// Minimum face-presence probability of the mesh to keep tracking (MediaPipe: 0.5).
    pub min_presence: f32,
    /// Run the eye model to refine eyelids.
    pub refine_eyes: bool,
    /// Also run the eye model's iris head for the two pupils (needs `refine_eyes`).
    pub pupils: bool,
    /// Faces whose outer eye corners are closer than this (pixels) are flagged as too small.
    pub min_interocular_px: f32,
    /// Faces turned further than this from frontal (degrees, from the mesh depth) are flagged.
    pub max_yaw_deg: f32,
    /// Temporal smoothing; `None` keeps the raw points.
    pub smoothing: Option<OneEuro>,
    /// Gaps up to this long (seconds) between found frames are interpolated.
    pub max_interp_gap_s: f64,
    /// The 468 → 68 map.
    pub map: Mesh68Map,
}

impl Default for TrackerOptions {
    fn default() -> Self {
        Self {
            min_detection_score: 0.5,
            min_presence: 0.5,
            refine_eyes: true,
            pupils: true,
            min_interocular_px: 12.0,
            max_yaw_deg: 60.0,
            smoothing: Some(OneEuro::default()),
            max_interp_gap_s: 0.3,
            map: Mesh68Map::fitted(),
        }
    }
}

/// What the tracker saw in one frame.
#[derive(Debug, Clone)]
pub struct FrameFace {
    /// The 468 mesh vertices in image pixels (x, y, relative depth), eyes refined.
    pub mesh: Vec<[f32; 3]>,
    /// The 68 points (unsmoothed).
    pub landmarks: Landmarks,
    /// Face-presence probability from the mesh network.
    pub presence: f32,
    /// The ROI the mesh ran on.
    pub roi: RotatedRect,
    /// Whether the detector ran for this frame.
    pub detected: bool,
    /// Estimated head yaw, degrees (0 = frontal).
    pub yaw_deg: f32,
    /// Whether the face passes the presence, size and pose checks.
    pub usable: bool,
    /// The two iris centres (image-left eye first), from the eye model.
    pub pupils: Option<[Point; 2]>,
}

/// One mesh run: the 468 vertices, the face score and, when asked for, the two pupils.
type MeshResult = (Vec<[f32; 3]>, f32, Option<[Point; 2]>);

/// Frame-by-frame face tracker.
pub struct Tracker {
    nets: FaceNets,
    options: TrackerOptions,
    roi: Option<RotatedRect>,
    last_centre: Option<[f32; 2]>,
}

impl Tracker {
    /// A tracker over the given networks.
    pub fn new(nets: FaceNets, options: TrackerOptions) -> Self {
        Self {
            nets,
            options,
            roi: None,
            last_centre: None,
        }
    }

    /// A tracker over the built-in networks.
    pub fn with_defaults() -> Result<Self, NnError> {
        Ok(Self::new(FaceNets::embedded()?, TrackerOptions::default()))
    }

    /// The settings.
    pub fn options(&self) -> &TrackerOptions {
        &self.options
    }

    /// The networks.
    pub fn nets(&self) -> &FaceNets {
        &self.nets
    }

    /// Forgets the tracked face (the next frame runs the detector).
    pub fn reset(&mut self) {
        self.roi = None;
        self.last_centre = None;
    }

    /// Detects faces and picks the one to follow: the detection nearest the last tracked face,
    /// or, on the first detection, the largest and most central.
    fn pick_detection(&self, image: &RgbImage) -> Result<Option<Detection>, NnError> {
        let dets: Vec<Detection> = self
            .nets
            .detector
            .detect(image)?
            .into_iter()
            .filter(|d| d.score >= self.options.min_detection_score)
            .collect();
        let centre = |d: &Detection| [d.xmin + d.width / 2.0, d.ymin + d.height / 2.0];
        let (w, h) = (image.width() as f32, image.height() as f32);
        let diag = (w * w + h * h).sqrt();
        let key = |d: &Detection| -> f32 {
            let c = centre(d);
            match self.last_centre {
                Some(l) => -((c[0] - l[0]).powi(2) + (c[1] - l[1]).powi(2)),
                None => {
                    let off = ((c[0] - w / 2.0).powi(2) + (c[1] - h / 2.0).powi(2)).sqrt() / diag;
                    d.width * d.height / (1.0 + 4.0 * off)
                }
            }
        };
        Ok(dets.into_iter().max_by(|a, b| key(a).total_cmp(&key(b))))
    }

    /// Runs the mesh (and eye model) in `roi`.
    fn mesh_in(
        &self,
        image: &RgbImage,
        roi: &RotatedRect,
        want_pupils: bool,
    ) -> Result<MeshResult, NnError> {
        let input = crop_to_tensor(
            image,
            roi,
            MESH_SIZE,
            Border::Replicate,
            Range::ZeroOne,
            false,
        );
        let x = FeatureMap::new(MESH_SIZE, MESH_SIZE, 3, input)
            .ok_or_else(|| NnError::Candle(candle_core::Error::Msg("mesh input size".into())))?;
        let out = self.nets.mesh.forward_map(&x)?;
        let zscale = roi.width / MESH_SIZE as f32;
        let n = MESH_SIZE as f32;
        let mut mesh: Vec<[f32; 3]> = out
            .points
            .iter()
            .map(|p| {
                let (x, y) = roi.to_image(p[0], p[1], n);
                [x, y, p[2] * zscale]
            })
            .collect();
        let pupils = if self.options.refine_eyes {
            self.refine_eyes(image, &mut mesh, want_pupils)?
        } else {
            None
        };
        Ok((mesh, sigmoid(out.presence_logit), pupils))
    }

    /// The mesh (eyes refined when the options say so) and its face score in a given ROI, with
    /// no tracking state used or kept.
    pub fn mesh_at(
        &self,
        image: &RgbImage,
        roi: &RotatedRect,
    ) -> Result<(Vec<[f32; 3]>, f32), NnError> {
        self.mesh_in(image, roi, false)
            .map(|(mesh, presence, _)| (mesh, presence))
    }

    /// Replaces the eyelid vertices with the eye model's contour (both eyes at once, in parallel;
    /// the image-right eye is mirrored, as the model expects the image-left one), and with
    /// `want_pupils` returns the two iris centres (image-left first) from its iris head.
    fn refine_eyes(
        &self,
        image: &RgbImage,
        mesh: &mut [[f32; 3]],
        want_pupils: bool,
    ) -> Result<Option<[Point; 2]>, NnError> {
        let rois = [
            roi::eye_roi(mesh[roi::EYE_A_CORNERS.0], mesh[roi::EYE_A_CORNERS.1]),
            roi::eye_roi(mesh[roi::EYE_B_CORNERS.0], mesh[roi::EYE_B_CORNERS.1]),
        ];
        let mut crops = Vec::with_capacity(2);
        for (k, r) in rois.iter().enumerate() {
            let data = crop_to_tensor(
                image,
                r,
                EYE_SIZE,
                Border::Replicate,
                Range::ZeroOne,
                k == 1,
            );
            crops.push(FeatureMap::new(EYE_SIZE, EYE_SIZE, 3, data).ok_or_else(|| {
                NnError::Candle(candle_core::Error::Msg("eye input size".into()))
            })?);
        }
        // The iris head runs only when the pupils are wanted (the contour does not need it).
        let (contours, irises): (Vec<_>, Vec<_>) = if want_pupils {
            self.nets
                .eye
                .forward_maps(&crops)?
                .into_iter()
                .map(|o| (o.contour, o.iris.first().copied()))
                .unzip()
        } else {
            let contours = self.nets.eye.contours(&crops)?;
            let none = vec![None; contours.len()];
            (contours, none)
        };
        let n = EYE_SIZE as f32;
        // Crop pixels to image pixels (the image-right eye's crop is mirrored).
        let to_image = |k: usize, r: &RotatedRect, p: [f32; 3]| {
            let px = if k == 1 { n - 1.0 - p[0] } else { p[0] };
            r.to_image(px, p[1], n)
        };
        for (k, (contour, r)) in contours.iter().zip(&rois).enumerate() {
            for (j, p) in contour.iter().take(EYELID_POINTS).enumerate() {
                let (x, y) = to_image(k, r, *p);
                let v = EYE_VERTICES[k][j];
                mesh[v] = [x, y, mesh[v][2]];
            }
        }
        let centre = |k: usize| {
            let (x, y) = to_image(k, &rois[k], irises.get(k).copied().flatten()?);
            let p = Point::new(x, y);
            p.is_finite().then_some(p)
        };
        Ok(match (centre(0), centre(1)) {
            (Some(a), Some(b)) => Some([a, b]),
            _ => None,
        })
    }

    /// Estimated head yaw in degrees, from the depth of the two cheek vertices.
    fn yaw_deg(mesh: &[[f32; 3]]) -> f32 {
        let (a, b) = (mesh[234], mesh[454]);
        let len = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
        (b[2] - a[2]).atan2(len).to_degrees()
    }

    /// Tracks one frame. `None` when no face was found.
    pub fn process(&mut self, image: &RgbImage) -> Result<Option<FrameFace>, NnError> {
        let mut detected = false;
        let mut attempt = 0;
        let (roi, mesh, presence, pupils) = loop {
            attempt += 1;
            let roi = match self.roi {
                Some(r) => r,
                None => {
                    detected = true;
                    match self.pick_detection(image)? {
                        Some(d) => roi::face_roi_from_detection(&d),
                        None => return Ok(None),
                    }
                }
            };
            let (mesh, presence, pupils) = self.mesh_in(image, &roi, self.options.pupils)?;
            if presence >= self.options.min_presence {
                break (roi, mesh, presence, pupils);
            }
            self.roi = None;
            if detected || attempt > 1 {
                return Ok(None);
            }
        };
        let landmarks = self.options.map.apply(&mesh);
        let yaw_deg = Self::yaw_deg(&mesh);
        let io = smooth::interocular(&landmarks);
        let usable = io >= self.options.min_interocular_px
            && yaw_deg.abs() <= self.options.max_yaw_deg
            && landmarks.iter().all(|p| p.is_finite());
        let next = roi::face_roi_from_mesh(&mesh);
        self.roi = Some(next);
        self.last_centre = Some([next.cx, next.cy]);
        Ok(Some(FrameFace {
            mesh,
            landmarks,
            presence,
            roi,
            detected,
            yaw_deg,
            usable,
            pupils,
        }))
    }

    /// Detector + mesh on a still image (no tracking state used or kept).
    pub fn process_still(&mut self, image: &RgbImage) -> Result<Option<FrameFace>, NnError> {
        let saved = (self.roi.take(), self.last_centre.take());
        let r = self.process(image);
        (self.roi, self.last_centre) = saved;
        r
    }

    /// Tracks a whole video into a [`TrackResult`].
    pub fn track_video(
        &mut self,
        path: &Path,
        max_frames: Option<u64>,
        progress: &dyn Progress,
    ) -> Result<TrackResult, TrackError> {
        let mut reader = VideoReader::open(path)?;
        let info = reader.info().clone();
        let total = info.frame_count.min(max_frames.unwrap_or(u64::MAX));
        let mut acc = TrackBuilder::new(info.fps);
        self.reset();
        while (acc.len() as u64) < max_frames.unwrap_or(u64::MAX) {
            if progress.cancelled() {
                return Err(TrackError::Cancelled);
            }
            let Some(frame) = reader.next_frame()? else {
                break;
            };
            acc.set_size(frame.image.width(), frame.image.height());
            let face = self.process(&frame.image)?;
            acc.push(face.as_ref());
            progress.update("track", acc.len() as u64, Some(total.max(acc.len() as u64)));
        }
        acc.finish(&self.options, &path.display().to_string())
    }
}

/// A finished track with its report.
#[derive(Debug, Clone)]
pub struct TrackResult {
    /// The smoothed, gap-filled 68-point track with per-frame found flags.
    pub track: Track,
    /// Runs of frames without a usable face.
    pub gaps: Vec<Gap>,
    /// How many frames ran the detector.
    pub detector_runs: usize,
}

impl TrackResult {
    /// Gaps that were too long to interpolate (the nearest face was held).
    pub fn long_gaps(&self) -> impl Iterator<Item = &Gap> {
        self.gaps.iter().filter(|g| !g.interpolated)
    }
}

/// Collects per-frame results and turns them into a [`TrackResult`].
#[derive(Debug, Clone)]
pub struct TrackBuilder {
    fps: f64,
    size: Option<ImageSize>,
    frames: Vec<Option<Landmarks>>,
    pupils: Vec<Option<[Point; 2]>>,
    detector_runs: usize,
}

impl TrackBuilder {
    /// An empty builder for a clip at `fps`.
    pub fn new(fps: f64) -> Self {
        Self {
            fps: if fps.is_finite() && fps > 0.0 {
                fps
            } else {
                30.0
            },
            size: None,
            frames: Vec::new(),
            pupils: Vec::new(),
            detector_runs: 0,
        }
    }

    /// Records the frame size.
    pub fn set_size(&mut self, width: u32, height: u32) {
        self.size = Some(ImageSize { width, height });
    }

    /// Frames so far.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether no frame was pushed.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Adds one frame's result (`None` or an unusable face count as "not found").
    pub fn push(&mut self, face: Option<&FrameFace>) {
        if face.is_some_and(|f| f.detected) {
            self.detector_runs += 1;
        }
        let usable = face.filter(|f| f.usable);
        self.frames.push(usable.map(|f| f.landmarks));
        self.pupils.push(usable.and_then(|f| f.pupils));
    }

    /// Fills gaps, smooths, and builds the track.
    pub fn finish(self, options: &TrackerOptions, input: &str) -> Result<TrackResult, TrackError> {
        let max_interp = (options.max_interp_gap_s * self.fps).round() as usize;
        let Some((mut filled, gaps)) = smooth::fill_gaps(&self.frames, max_interp) else {
            return Err(TrackError::NoFace {
                input: input.to_string(),
                frames: self.frames.len(),
            });
        };
        // Pupils are filled over their own gaps (frames whose eye model gave none), then
        // smoothed with the landmarks' settings, on the same face scale.
        let mut pupils = smooth::fill_gaps(&self.pupils, max_interp).map(|(p, _)| p);
        if let Some(params) = options.smoothing {
            let mut filter = LandmarkFilter::new(params);
            let mut pupil_filter = LandmarkFilter::new(params);
            let dt = (1.0 / self.fps) as f32;
            for (t, p) in filled.iter_mut().enumerate() {
                if gaps.iter().any(|g| !g.interpolated && g.end == t) {
                    filter.reset();
                    pupil_filter.reset();
                }
                let scale = smooth::interocular(p);
                *p = filter.filter(p, dt, scale);
                if let Some(pair) = pupils.as_mut().and_then(|v| v.get_mut(t)) {
                    *pair = pupil_filter.filter(pair, dt, scale);
                }
            }
        }
        for g in gaps.iter().filter(|g| !g.interpolated) {
            tracing::warn!(
                "{input}: no usable face in frames {}..{} ({:.2} s); points held",
                g.start,
                g.end,
                (g.end - g.start) as f64 / self.fps
            );
        }
        let mut track = Track::new(self.fps, self.size);
        for (p, f) in filled.into_iter().zip(&self.frames) {
            track.push(p, f.is_some());
        }
        track.pupils = pupils;
        Ok(TrackResult {
            track,
            gaps,
            detector_runs: self.detector_runs,
        })
    }
}

#[cfg(test)]
mod tests;
