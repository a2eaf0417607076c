//! The structural offline fit: classical image analysis, no learned weights.
//!
//! 1. Work on a copy at most [`WORK_SIDE`] pixels wide, smoothed; transparent pixels are
//!    composited on white.
//! 2. Background: colours sampled on the image border (k-means); pixels far from all of them are
//!    foreground (a rare border colour between two common ones, an anti-aliased edge, counts
//!    as background only next to them).
//! 3. Face region: the foreground is clustered by colour (k-means); every connected region of a
//!    cluster is scored by size, centrality, compactness, skin-likeness and above all by the
//!    "holes" it encloses that could be a pair of eyes and a mouth.
//! 4. Eyes: a symmetric pair of enclosed blobs in the upper face (else of enclosed blobs and
//!    deep notches in the face's outline, where a turned head's far eye sits; else of dark blobs in
//!    the face; else of compact dark blobs anywhere in the picture; else of round irises found by
//!    radial symmetry, [`round_eyes`](super::round_eyes), on striped fur or pale-on-pale pictures
//!    where no region holds the eyes; eyes not found among a region's holes take the region under
//!    their nose as the face, and the lighter face inside a dark outline ring rather than the
//!    ring); mouth: the best blob below their midpoint among those and the face's holes and dark
//!    notches (a mouth drawn out to the outline). These give the anchors of the five-click fit,
//!    which places the mean shape by a similarity transform and the shape model.
//! 5. Per-part refinement to image evidence: the jaw traced along the face region's outline
//!    (ends level with the placed jaw's, the chin between the mouth's side and the ends'
//!    middle), eye and mouth points to their blob's extremes, brow points to dark strokes above
//!    the eyes; then the shape model is fitted to the refined points (weighted by how sure each
//!    measurement is) and the jaw, eyes and mouth snapped back to their measurements where that
//!    tangles no contour, so the result is always a plausible, untangled face.
//!
//! Each point's confidence says where it came from (image evidence vs. the model's prior).

mod blob;
mod eyes;
mod features;
mod jaw;
mod locate;
mod mouth_nose;
mod regions;
#[cfg(test)]
mod tests;
mod work;

use super::shape::Constraint;
use super::shape::ShapeModel;
use super::shape::fit_anchors;
use crate::geometry::{Similarity, tangled};
use crate::landmarks::Face;
use crate::landmarks::ImageSize;
use crate::landmarks::LANDMARK_COUNT;
use crate::landmarks::Landmarks;
use crate::landmarks::Part;
use crate::landmarks::Point;
use features::measure_features;
use image::RgbaImage;
use jaw::measure_jaw;
use locate::{Located, locate};
use mouth_nose::nose_below;
use work::Work;

/// Longest side of the analysis image.
pub const WORK_SIDE: u32 = 256;

/// What the analysis found (in work pixels), for debugging and tests.
#[derive(Clone, Debug, Default)]
pub struct Findings {
    /// Face region found.
    pub face: bool,
    /// Eye pair found.
    pub eyes: bool,
    /// Mouth found.
    pub mouth: bool,
    /// A drawn nose (a dark blob across the midline between the eyes and the mouth) found.
    pub nose: bool,
    /// The eyes are round irises found by radial symmetry
    /// ([`round_eyes`](super::round_eyes)), not blobs of a face region.
    pub round_eyes: bool,
    /// Only one eye was found; the other is its mirror image across the face's midline (the
    /// far eye of a turned head, merged with the outline).
    pub one_eye: bool,
}

impl Findings {
    /// Neither a face region nor an eye pair: the fit's points are only a mean face placed on the
    /// picture (a placeholder).
    pub fn nothing(&self) -> bool {
        !self.face && !self.eyes
    }
}

/// Measurements the fit has taken of the picture: points it should pass through, and each
/// point's confidence so far.
pub(super) struct Measured {
    /// Where points should lie, with weights.
    pub(super) constraints: Vec<Constraint>,
    /// Each point's confidence (image evidence vs. the shape model's prior).
    pub(super) conf: [f32; LANDMARK_COUNT],
}

/// Result of the structural fit.
pub struct StructuralFit {
    /// The face (points and per-point confidence) in original image pixels.
    pub face: Face,
    /// What was found.
    pub findings: Findings,
}

/// Run the structural fit on an image.
pub fn fit(img: &RgbaImage, model: &ShapeModel) -> StructuralFit {
    let work = Work::new(img);
    let (w, h) = (work.w, work.h);
    let size = Some(ImageSize {
        width: img.width(),
        height: img.height(),
    });
    let mut findings = Findings::default();
    let located = locate(&work, model, &mut findings);
    let scale = work.scale;
    let to_img = |p: Point| p * scale;
    let Some(Located {
        region,
        pair,
        found_eyes,
        region_found,
        mirrored_eye,
    }) = located
    else {
        // Nothing stands out: a centred mean face filling most of the image.
        let (iw, ih) = (img.width() as f32, img.height() as f32);
        let pts = place_in_box(model, (0.15 * iw, 0.1 * ih, 0.85 * iw, 0.95 * ih));
        let mut face = Face::new(pts, size);
        face.confidence = [0.1; LANDMARK_COUNT];
        return StructuralFit { face, findings };
    };
    findings.face = region_found;
    findings.one_eye = mirrored_eye.is_some();
    let (x0, y0, x1, y1) = region.bbox;
    let mut out = Measured {
        constraints: Vec::new(),
        conf: [0.2; LANDMARK_COUNT],
    };
    let base = match &pair {
        Some((le, re, mouth, _)) => {
            findings.eyes = true;
            let mut anchors = vec![le.centre, re.centre];
            if let Some(m) = mouth {
                findings.mouth = true;
                let u = (re.centre - le.centre) * (1.0 / re.centre.distance(le.centre).max(1e-3));
                let (a, b) = m.extent(w, u);
                anchors.push(a);
                anchors.push(b);
            }
            if anchors.len() == 2 {
                // Eyes only: assume the nose tip below the eye midpoint (mean-face proportion).
                anchors.push(nose_below(le.centre, re.centre, model));
            }
            fit_anchors(model, &anchors).map(|f| f.points)
        }
        None => None,
    };
    let mut pts = base.unwrap_or_else(|| place_in_box(model, (x0, y0 + 0.1 * (y1 - y0), x1, y1)));
    // Image evidence: the jaw along the outline, then eyes, mouth, nose and brows.
    let jaw_traced = measure_jaw(&region, &found_eyes, pair.as_ref(), &pts, (w, h), &mut out);
    if let Some(p) = &pair {
        measure_features(
            &work,
            &region,
            p,
            mirrored_eye,
            &pts,
            &mut out,
            &mut findings,
        );
    }
    // Final: shape model fitted to the measurements plus a weak pull to the placed shape.
    let mut cs = out.constraints;
    for (i, p) in pts.iter().enumerate() {
        cs.push(Constraint::point(i, *p, 0.15));
    }
    if let Some(f) = model.fit(&cs, 0.5) {
        pts = f.points;
    }
    // Snap eye and mouth points to strong measurements where that keeps contours untangled.
    let snapped = snap_measured(&pts, &cs, jaw_traced);
    if !tangled(&snapped) {
        pts = snapped;
    }
    let points = pts.map(to_img);
    let mut face = Face::new(points, size);
    face.confidence = out.conf;
    StructuralFit { face, findings }
}

/// Distance from eye midpoint to nose tip, as a fraction of the eye distance, in the model.
fn ratio_nose(model: &ShapeModel) -> f32 {
    let m = &model.mean;
    let centre = |part: Part| Point::mean(part.indices().iter().map(|&i| m[i]));
    let (le, re) = (centre(Part::RightEye), centre(Part::LeftEye));
    let mid = (le + re) * 0.5;
    (m[30] - mid).norm() / le.distance(re).max(1e-6)
}

/// `pts` with the lower nose, eye and mouth points (and the jaw's, when `jaw` is set) moved
/// onto their single-point measurements of weight 1 or more in `cs`.
fn snap_measured(pts: &Landmarks, cs: &[Constraint], jaw: bool) -> Landmarks {
    let mut out = *pts;
    for c in cs {
        if c.indices.len() == 1 && c.weight >= 1.0 {
            let i = c.indices[0];
            if (jaw && i < 17) || (30..68).contains(&i) {
                out[i] = c.target;
            }
        }
    }
    out
}

/// The model's mean face scaled into a box (its jaw and brows spanning it).
fn place_in_box(model: &ShapeModel, b: (f32, f32, f32, f32)) -> Landmarks {
    let m = &model.mean;
    let (mut mx0, mut my0, mut mx1, mut my1) = (f32::INFINITY, f32::INFINITY, f32::MIN, f32::MIN);
    for p in m {
        mx0 = mx0.min(p.x);
        my0 = my0.min(p.y);
        mx1 = mx1.max(p.x);
        my1 = my1.max(p.y);
    }
    let s = ((b.2 - b.0) / (mx1 - mx0)).min((b.3 - b.1) / (my1 - my0));
    let c = Point::new((b.0 + b.2) * 0.5, (b.1 + b.3) * 0.5);
    let mc = Point::new((mx0 + mx1) * 0.5, (my0 + my1) * 0.5);
    let t = Similarity::new(s, 0.0, Point::new(c.x - s * mc.x, c.y - s * mc.y));
    m.map(|p| t.apply(p))
}
