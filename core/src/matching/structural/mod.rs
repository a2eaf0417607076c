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
mod jaw;
mod locate;
mod mouth_nose;
mod regions;
#[cfg(test)]
mod tests;
mod work;

use super::geometry::Similarity;
use super::geometry::self_intersects;
use super::shape::Constraint;
use super::shape::ShapeModel;
use super::shape::fit_anchors;
use crate::landmarks::Face;
use crate::landmarks::ImageSize;
use crate::landmarks::LANDMARK_COUNT;
use crate::landmarks::Landmarks;
use crate::landmarks::Part;
use crate::landmarks::Point;
use image::RgbaImage;
use jaw::jaw_along_outline;
use locate::{Located, locate};
use mouth_nose::{NOSE_SOLID_THICKNESS, best_nose};
use regions::hull_mask;
use work::{Work, covers, luma};

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
    let mut conf = [0.2f32; LANDMARK_COUNT];
    let mut measured: Vec<Constraint> = Vec::new();
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
                let mid = (le.centre + re.centre) * 0.5;
                let d = re.centre - le.centre;
                let down = Point::new(-d.y, d.x);
                anchors.push(mid + down * ratio_nose(model));
            }
            fit_anchors(model, &anchors).map(|f| f.points)
        }
        None => None,
    };
    let mut pts = base.unwrap_or_else(|| place_in_box(model, (x0, y0 + 0.1 * (y1 - y0), x1, y1)));
    // Jaw: along the region's outline from one side at the jaw start's height, through the
    // chin where the face's midline meets the outline, to the other side; else each point
    // moved along its normal to the outline.
    let eyes_mouth = pair
        .as_ref()
        .map(|(le, re, m, _)| (le.centre, re.centre, m.as_ref().map(|m| m.centre)));
    // The outline seen from inside the face, past the eyes, the strokes attached to them and
    // the mouth (features that open onto the outline are no part of the region).
    let mut unblocked = region.filled.clone();
    let hull = hull_mask(&region.filled, w, h);
    let features = pair.as_ref().and_then(|(_, _, m, _)| m.as_ref());
    for b in found_eyes.iter().chain(features) {
        for &i in &b.pixels {
            unblocked[i] |= hull[i];
        }
    }
    let traced = jaw_along_outline(&unblocked, w, h, &pts, eyes_mouth);
    let jaw_traced = traced.is_some();
    if let Some(jaw) = traced {
        for (i, p) in jaw.into_iter().enumerate() {
            measured.push(Constraint::point(i, p, 1.0));
            conf[i] = 0.7;
        }
    } else {
        let centre = pts.iter().fold(Point::default(), |a, &p| a + p) * (1.0 / 68.0);
        let face_size = pts[0]
            .distance(pts[16])
            .max(pts[8].distance(pts[27]))
            .max(4.0);
        let inside = |p: Point| covers(&region.filled, w, h, p);
        for i in 0..17usize {
            let prev = pts[i.saturating_sub(1)];
            let next = pts[(i + 1).min(16)];
            let t = next - prev;
            let mut n = Point::new(t.y, -t.x);
            if n.dot(pts[i] - centre) < 0.0 {
                n = n * -1.0;
            }
            let n = n * (1.0 / n.norm().max(1e-6));
            let range = 0.25 * face_size;
            let mut found = None;
            // The inside-to-outside transition nearest the point within the search range.
            let steps = (2.0 * range).ceil() as i32;
            let mut best_d = f32::INFINITY;
            for s in -steps..steps {
                let d0 = s as f32 * 0.5;
                let p0 = pts[i] + n * d0;
                let p1 = pts[i] + n * (d0 + 0.5);
                if inside(p0) && !inside(p1) && d0.abs() < best_d {
                    best_d = d0.abs();
                    found = Some(p0 + n * 0.25);
                }
            }
            if let Some(p) = found {
                measured.push(Constraint::point(i, p, 1.0));
                conf[i] = 0.7;
            }
        }
    }
    // Eyes and mouth from blobs.
    if let Some((le, re, mouth, _)) = &pair {
        let d = re.centre - le.centre;
        let u = d * (1.0 / d.norm().max(1e-6));
        let v = Point::new(-u.y, u.x);
        for (side, (blob, idx)) in [
            (le, [36usize, 37, 38, 39, 40, 41]),
            (re, [42, 43, 44, 45, 46, 47]),
        ]
        .into_iter()
        .enumerate()
        {
            if mirrored_eye == Some(side) {
                // Nothing measured: the shape model places it around the mirrored centre.
                idx.iter().for_each(|&i| conf[i] = 0.3);
                continue;
            }
            let (a, b) = blob.extent(w, u);
            let lids = [
                blob.lid(w, u, v, -1.0 / 3.0, true),
                blob.lid(w, u, v, 1.0 / 3.0, true),
                blob.lid(w, u, v, 1.0 / 3.0, false),
                blob.lid(w, u, v, -1.0 / 3.0, false),
            ];
            measured.push(Constraint::point(idx[0], a, 3.0));
            measured.push(Constraint::point(idx[3], b, 3.0));
            for (k, l) in [1usize, 2, 4, 5].into_iter().zip(lids) {
                if let Some(p) = l {
                    measured.push(Constraint::point(idx[k], p, 3.0));
                }
            }
            for &i in &idx {
                conf[i] = 0.9;
            }
        }
        if let Some(m) = mouth {
            let (a, b) = m.extent(w, u);
            let upper = [
                m.lid(w, u, v, -0.6, true),
                m.lid(w, u, v, 0.0, true),
                m.lid(w, u, v, 0.6, true),
            ];
            let lower = [
                m.lid(w, u, v, 0.6, false),
                m.lid(w, u, v, 0.0, false),
                m.lid(w, u, v, -0.6, false),
            ];
            measured.push(Constraint::point(48, a, 2.0));
            measured.push(Constraint::point(54, b, 2.0));
            measured.push(Constraint::point(60, a.lerp(b, 0.06), 1.0));
            measured.push(Constraint::point(64, b.lerp(a, 0.06), 1.0));
            // The blob is the whole mouth (lips, opening, teeth): its top and bottom are the
            // outer lip line; the inner lips follow from the shape model.
            for (k, p) in [49usize, 51, 53].into_iter().zip(upper) {
                if let Some(p) = p {
                    measured.push(Constraint::point(k, p, 1.0));
                }
            }
            for (k, p) in [55usize, 57, 59].into_iter().zip(lower) {
                if let Some(p) = p {
                    measured.push(Constraint::point(k, p, 1.0));
                }
            }
            conf[48..68].iter_mut().for_each(|c| *c = 0.6);
            conf[48] = 0.85;
            conf[54] = 0.85;
            // A drawn nose: its sides are the nostril wings (31, 35), its lowest point the
            // base (33); a solid blob's centre is the tip (30), a stroke's is not.
            if let Some(n) = best_nose(w, le, re, m, region.holes.iter()) {
                findings.nose = true;
                let (a, b) = n.extent(w, u);
                measured.push(Constraint::point(31, a, 2.0));
                measured.push(Constraint::point(35, b, 2.0));
                let lower = [
                    n.lid(w, u, v, -0.5, false),
                    n.lid(w, u, v, 0.0, false),
                    n.lid(w, u, v, 0.5, false),
                ];
                for (k, p) in [32usize, 33, 34].into_iter().zip(lower) {
                    if let Some(p) = p {
                        measured.push(Constraint::point(k, p, 2.0));
                    }
                }
                let width = a.distance(b).max(1.0);
                if n.area / width > NOSE_SOLID_THICKNESS * width {
                    measured.push(Constraint::point(30, n.centre, 1.0));
                }
                conf[30..36].iter_mut().for_each(|c| *c = 0.7);
            }
        }
        // Brows: dark pixels above each eye.
        let lum_face = luma(region.colour);
        let eye_d = d.norm();
        for (side, (blob, idx)) in [(le, 17usize), (re, 22usize)].into_iter().enumerate() {
            if mirrored_eye == Some(side) {
                continue;
            }
            for k in 0..5 {
                let base_pt = pts[idx + k];
                // Search upward (along -v) from the eye centre's height at this column for the
                // first dark run clear of the eye: the brow (hair or a hat lies further up).
                let along = (base_pt - blob.centre).dot(u);
                let start = blob.centre + u * along;
                let (mut acc, mut wsum, mut gap) = (0.0, 0.0, 0);
                let mut found = None;
                for s in 2..((0.7 * eye_d) as i32).max(3) {
                    let p = start - v * s as f32;
                    let (x, y) = (p.x.floor() as i64, p.y.floor() as i64);
                    if x < 0 || y < 0 || x as usize >= w || y as usize >= h {
                        break;
                    }
                    let i = y as usize * w + x as usize;
                    if blob.pixels.contains(&i) {
                        continue;
                    }
                    let dark = (lum_face - work.luma(i)).max(0.0);
                    if dark > 0.15 && !region.filled[i] || dark > 0.25 {
                        acc += s as f32 * dark;
                        wsum += dark;
                        gap = 0;
                        continue;
                    }
                    gap += 1;
                    // A run ends after two light pixels; keep it if it is clear of the eye.
                    if gap >= 2 && wsum > 0.0 {
                        if wsum > 0.3 && acc / wsum > 0.12 * eye_d {
                            found = Some(acc / wsum);
                            break;
                        }
                        (acc, wsum) = (0.0, 0.0);
                    }
                }
                // A run still going where the search ends is hair or a hat, not a brow (one
                // drawn in a colour no darker than the skin is not seen): the shape model places
                // the brow then.
                if let Some(s) = found {
                    measured.push(Constraint::point(idx + k, start - v * s, 0.8));
                    conf[idx + k] = 0.5;
                }
            }
        }
    }
    // Final: shape model fitted to the measurements plus a weak pull to the placed shape.
    let mut cs = measured;
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
    face.confidence = conf;
    StructuralFit { face, findings }
}

/// Distance from eye midpoint to nose tip, as a fraction of the eye distance, in the model.
fn ratio_nose(model: &ShapeModel) -> f32 {
    let m = &model.mean;
    let le = (36..42).fold(Point::default(), |a, i| a + m[i]) * (1.0 / 6.0);
    let re = (42..48).fold(Point::default(), |a, i| a + m[i]) * (1.0 / 6.0);
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

/// Whether any part's contour crosses itself.
pub fn tangled(pts: &Landmarks) -> bool {
    Part::BASE.iter().any(|part| {
        let p: Vec<Point> = part.indices().iter().map(|&i| pts[i]).collect();
        self_intersects(&p, part.is_closed())
    })
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
    let t = Similarity::new(s, 0.0, c.x - s * mc.x, c.y - s * mc.y);
    m.map(|p| t.apply(p))
}
