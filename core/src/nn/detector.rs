//! MediaPipe's short-range face detector (BlazeFace, 128×128 input): network, SSD anchors,
//! box decoding and weighted non-maximum suppression, as in MediaPipe's
//! `face_detection_short_range` graph (score threshold 0.5, IoU 0.3, weighted NMS).

use std::path::Path;

use candle_core::Tensor;

use super::NnError;
use super::layers::{Block, Conv, Weights, batch_item, run_blocks};
use super::ops::{Act, FeatureMap, Padding};

/// Input side of the network.
pub const DETECTOR_SIZE: usize = 128;
/// Number of SSD anchors (16·16·2 + 8·8·6).
pub const NUM_ANCHORS: usize = 896;

/// Keypoints of a detection, in the detector's order (the subject's right eye first, i.e. the
/// eye on the image's left for a frontal face).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectionKeypoint {
    /// The eye on the image's left (MediaPipe: "left eye" of a mirrored selfie).
    EyeImageLeft = 0,
    /// The eye on the image's right.
    EyeImageRight = 1,
    /// Nose tip.
    NoseTip = 2,
    /// Mouth centre.
    Mouth = 3,
    /// Ear tragion on the image's left.
    TragionImageLeft = 4,
    /// Ear tragion on the image's right.
    TragionImageRight = 5,
}

/// One face found by the detector. Coordinates are in the frame the detector ran on (the
/// 128×128 input, normalised to [0, 1], before letterbox removal; pixels after).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// Left edge.
    pub xmin: f32,
    /// Top edge.
    pub ymin: f32,
    /// Width.
    pub width: f32,
    /// Height.
    pub height: f32,
    /// Sigmoid score in [0, 1].
    pub score: f32,
    /// Six keypoints (see [`DetectionKeypoint`]).
    pub keypoints: [[f32; 2]; 6],
}

impl Detection {
    /// Intersection over union of two boxes.
    pub fn iou(&self, other: &Detection) -> f32 {
        let x0 = self.xmin.max(other.xmin);
        let y0 = self.ymin.max(other.ymin);
        let x1 = (self.xmin + self.width).min(other.xmin + other.width);
        let y1 = (self.ymin + self.height).min(other.ymin + other.height);
        let inter = (x1 - x0).max(0.0) * (y1 - y0).max(0.0);
        let union = self.width * self.height + other.width * other.height - inter;
        if union <= 0.0 { 0.0 } else { inter / union }
    }

    /// Maps every coordinate through `f(x, y)`; `scale` multiplies widths and heights.
    pub fn map(&self, f: impl Fn(f32, f32) -> (f32, f32), scale: (f32, f32)) -> Detection {
        let (xmin, ymin) = f(self.xmin, self.ymin);
        let mut keypoints = self.keypoints;
        for k in keypoints.iter_mut() {
            let (x, y) = f(k[0], k[1]);
            *k = [x, y];
        }
        Detection {
            xmin,
            ymin,
            width: self.width * scale.0,
            height: self.height * scale.1,
            score: self.score,
            keypoints,
        }
    }
}

/// The raw network outputs for one image.
#[derive(Debug, Clone)]
pub struct RawDetections {
    /// 896 × 16 regressors (box centre offset, size, 6 keypoints), in input pixels.
    pub boxes: Vec<[f32; 16]>,
    /// 896 score logits.
    pub logits: Vec<f32>,
}

/// The BlazeFace short-range network plus its decoding.
pub struct FaceDetector {
    stem: Conv,
    blocks16: Vec<Block>,
    blocks8: Vec<Block>,
    cls16: Conv,
    reg16: Conv,
    cls8: Conv,
    reg8: Conv,
    anchors: Vec<[f32; 2]>,
    /// Minimum score kept before suppression (MediaPipe: 0.5).
    pub min_score: f32,
    /// IoU above which boxes are merged (MediaPipe: 0.3).
    pub nms_iou: f32,
}

/// SSD anchor centres for the short-range model: strides 8, 16, 16, 16, two anchors per layer
/// and location, layers with equal strides merged; anchor sizes are fixed at 1.
pub fn ssd_anchors() -> Vec<[f32; 2]> {
    let mut anchors = Vec::with_capacity(NUM_ANCHORS);
    for (stride, per_cell) in [(8usize, 2usize), (16, 6)] {
        let fm = DETECTOR_SIZE.div_ceil(stride);
        for y in 0..fm {
            for x in 0..fm {
                let c = [(x as f32 + 0.5) / fm as f32, (y as f32 + 0.5) / fm as f32];
                anchors.extend(std::iter::repeat_n(c, per_cell));
            }
        }
    }
    anchors
}

impl FaceDetector {
    /// Loads `face_detector.safetensors`.
    pub fn load(path: &Path) -> Result<Self, NnError> {
        Self::from_weights(&Weights::load(path)?)
    }

    /// Builds the network from loaded weights.
    pub fn from_weights(w: &Weights) -> Result<Self, NnError> {
        let dw = |i: usize| {
            if i == 0 {
                "depthwise_conv2d".to_string()
            } else {
                format!("depthwise_conv2d_{i}")
            }
        };
        let mut blocks = Vec::with_capacity(16);
        for i in 0..16 {
            let stride = if matches!(i, 2 | 5 | 11) { 2 } else { 1 };
            blocks.push(Block::load(
                w,
                &dw(i),
                &format!("conv2d_{}", i + 1),
                Act::Relu,
                stride,
            )?);
        }
        let blocks8 = blocks.split_off(11);
        Ok(Self {
            stem: Conv::load(w, "conv2d", 2, Padding::Same)?,
            blocks16: blocks,
            blocks8,
            cls16: Conv::load(w, "classificator_8", 1, Padding::Valid)?,
            reg16: Conv::load(w, "regressor_8", 1, Padding::Valid)?,
            cls8: Conv::load(w, "classificator_16", 1, Padding::Valid)?,
            reg8: Conv::load(w, "regressor_16", 1, Padding::Valid)?,
            anchors: ssd_anchors(),
            min_score: 0.5,
            nms_iou: 0.3,
        })
    }

    /// Runs the network on a batch `N × 128 × 128 × 3` with values in [-1, 1].
    pub fn forward(&self, x: &Tensor) -> Result<Vec<RawDetections>, NnError> {
        (0..x.dims4()?.0)
            .map(|i| self.forward_map(&batch_item(x, i)?))
            .collect()
    }

    /// Runs the network on one `128 × 128 × 3` image with values in [-1, 1].
    pub fn forward_map(&self, x: &FeatureMap) -> Result<RawDetections, NnError> {
        let y = self.stem.forward(x, &Act::Relu)?;
        let f16 = run_blocks(&self.blocks16, &y)?;
        let f8 = run_blocks(&self.blocks8, &f16)?;
        // NHWC outputs flatten in (y, x, anchor) order, the anchor order.
        let mut logits = self.cls16.forward(&f16, &Act::None)?.data;
        logits.extend(self.cls8.forward(&f8, &Act::None)?.data);
        let mut regs = self.reg16.forward(&f16, &Act::None)?.data;
        regs.extend(self.reg8.forward(&f8, &Act::None)?.data);
        if logits.len() != NUM_ANCHORS || regs.len() != NUM_ANCHORS * 16 {
            return Err(NnError::Candle(candle_core::Error::Msg(format!(
                "detector: {} scores and {} box values from a {}×{} input",
                logits.len(),
                regs.len(),
                x.h,
                x.w
            ))));
        }
        Ok(RawDetections {
            boxes: regs
                .chunks_exact(16)
                .map(|c| {
                    let mut b = [0f32; 16];
                    b.copy_from_slice(c);
                    b
                })
                .collect(),
            logits,
        })
    }

    /// Decodes raw outputs into scored boxes in normalised input coordinates, keeping those at
    /// or above `min_score`, then merges overlapping ones (weighted NMS).
    pub fn decode(&self, raw: &RawDetections) -> Vec<Detection> {
        let s = DETECTOR_SIZE as f32;
        let mut dets = Vec::new();
        for ((r, &logit), a) in raw.boxes.iter().zip(&raw.logits).zip(&self.anchors) {
            let score = sigmoid(logit.clamp(-100.0, 100.0));
            if score < self.min_score {
                continue;
            }
            let (cx, cy) = (r[0] / s + a[0], r[1] / s + a[1]);
            let (w, h) = (r[2] / s, r[3] / s);
            let mut keypoints = [[0f32; 2]; 6];
            for (k, kp) in keypoints.iter_mut().enumerate() {
                *kp = [r[4 + 2 * k] / s + a[0], r[5 + 2 * k] / s + a[1]];
            }
            dets.push(Detection {
                xmin: cx - w / 2.0,
                ymin: cy - h / 2.0,
                width: w,
                height: h,
                score,
                keypoints,
            });
        }
        weighted_nms(dets, self.nms_iou)
    }

    /// Detects faces in an RGB image (letterboxed to 128×128); boxes in image pixels, best first.
    pub fn detect(&self, image: &image::RgbImage) -> Result<Vec<Detection>, NnError> {
        let (w, h) = (image.width() as f32, image.height() as f32);
        let side = w.max(h);
        let rect = super::crop::RotatedRect {
            cx: w / 2.0,
            cy: h / 2.0,
            width: side,
            height: side,
            angle: 0.0,
        };
        let input = super::crop::crop_to_tensor(
            image,
            &rect,
            DETECTOR_SIZE,
            super::crop::Border::Zero,
            super::crop::Range::MinusOneOne,
            false,
        );
        let x = FeatureMap::new(DETECTOR_SIZE, DETECTOR_SIZE, 3, input)
            .ok_or_else(|| NnError::Candle(candle_core::Error::Msg("detector input".into())))?;
        let raw = self.forward_map(&x)?;
        let (x0, y0) = (rect.cx - side / 2.0, rect.cy - side / 2.0);
        Ok(self
            .decode(&raw)
            .iter()
            .map(|d| d.map(|x, y| (x0 + x * side, y0 + y * side), (side, side)))
            .collect())
    }
}

/// Logistic function.
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// MediaPipe's weighted non-maximum suppression: repeatedly take the best remaining box, gather
/// every remaining box overlapping it by more than `iou` (itself included), and output their
/// score-weighted average box and keypoints with the best score.
pub fn weighted_nms(mut dets: Vec<Detection>, iou: f32) -> Vec<Detection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out = Vec::new();
    while let Some(best) = dets.first().copied() {
        let (group, rest): (Vec<Detection>, Vec<Detection>) =
            dets.into_iter().partition(|d| best.iou(d) > iou);
        let total: f32 = group.iter().map(|d| d.score).sum();
        let mut merged = best;
        if total > 0.0 && !group.is_empty() {
            let avg = |f: &dyn Fn(&Detection) -> f32| {
                group.iter().map(|d| f(d) * d.score).sum::<f32>() / total
            };
            let xmin = avg(&|d| d.xmin);
            let ymin = avg(&|d| d.ymin);
            let xmax = avg(&|d| d.xmin + d.width);
            let ymax = avg(&|d| d.ymin + d.height);
            merged.xmin = xmin;
            merged.ymin = ymin;
            merged.width = xmax - xmin;
            merged.height = ymax - ymin;
            for k in 0..6 {
                merged.keypoints[k] = [avg(&|d| d.keypoints[k][0]), avg(&|d| d.keypoints[k][1])];
            }
        }
        out.push(merged);
        dets = rest;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_count_and_order() {
        let a = ssd_anchors();
        assert_eq!(a.len(), NUM_ANCHORS);
        assert_eq!(a[0], [0.5 / 16.0, 0.5 / 16.0]);
        assert_eq!(a[1], a[0]);
        assert_eq!(a[2], [1.5 / 16.0, 0.5 / 16.0]);
        assert_eq!(a[512], [0.5 / 8.0, 0.5 / 8.0]);
        assert_eq!(a[512 + 6], [1.5 / 8.0, 0.5 / 8.0]);
    }

    fn det(x: f32, score: f32) -> Detection {
        Detection {
            xmin: x,
            ymin: 0.0,
            width: 1.0,
            height: 1.0,
            score,
            keypoints: [[x, 0.0]; 6],
        }
    }

    #[test]
    fn nms_merges_overlaps_by_score_weight() {
        let out = weighted_nms(vec![det(0.0, 0.9), det(0.1, 0.6), det(5.0, 0.7)], 0.3);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].score, 0.9);
        let want = (0.0 * 0.9 + 0.1 * 0.6) / 1.5;
        assert!((out[0].xmin - want).abs() < 1e-6);
        assert!((out[0].keypoints[3][0] - want).abs() < 1e-6);
        assert_eq!(out[1].xmin, 5.0);
    }
}
