//! Measuring the eyes, the mouth and a drawn nose from their blobs, and the brows from dark
//! pixels above the eyes.

use super::super::shape::Constraint;
use super::eyes::EyePair;
use super::mouth_nose::{NOSE_SOLID_THICKNESS, best_nose};
use super::regions::FaceRegion;
use super::work::{Work, luma};
use super::{Findings, Measured};
use crate::landmarks::{Landmarks, Point};

/// Measures the eyes, the mouth and a drawn nose of `pair` from their blobs and the brows from
/// dark pixels above the eyes into `out` (`pts`: the placed shape); the eye `mirrored_eye`, a
/// mirror image, is left to the shape model. Records a nose found in `findings`.
pub(super) fn measure_features(
    work: &Work,
    region: &FaceRegion,
    pair: &EyePair,
    mirrored_eye: Option<usize>,
    pts: &Landmarks,
    out: &mut Measured,
    findings: &mut Findings,
) {
    let (w, h) = (work.w, work.h);
    let (le, re, mouth, _) = pair;
    let d = re.centre - le.centre;
    let u = d * (1.0 / d.norm().max(1e-6));
    let v = Point::new(-u.y, u.x);
    for (side, (blob, idx)) in [
        (le, crate::landmarks::EYE_RINGS[0]),
        (re, crate::landmarks::EYE_RINGS[1]),
    ]
    .into_iter()
    .enumerate()
    {
        if mirrored_eye == Some(side) {
            // Nothing measured: the shape model places it around the mirrored centre.
            idx.iter().for_each(|&i| out.conf[i] = 0.3);
            continue;
        }
        let (a, b) = blob.extent(w, u);
        let lids = [
            blob.lid(w, u, v, -1.0 / 3.0, true),
            blob.lid(w, u, v, 1.0 / 3.0, true),
            blob.lid(w, u, v, 1.0 / 3.0, false),
            blob.lid(w, u, v, -1.0 / 3.0, false),
        ];
        out.constraints.push(Constraint::point(idx[0], a, 3.0));
        out.constraints.push(Constraint::point(idx[3], b, 3.0));
        for (k, l) in [1usize, 2, 4, 5].into_iter().zip(lids) {
            if let Some(p) = l {
                out.constraints.push(Constraint::point(idx[k], p, 3.0));
            }
        }
        for &i in &idx {
            out.conf[i] = 0.9;
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
        out.constraints.push(Constraint::point(48, a, 2.0));
        out.constraints.push(Constraint::point(54, b, 2.0));
        out.constraints
            .push(Constraint::point(60, a.lerp(b, 0.06), 1.0));
        out.constraints
            .push(Constraint::point(64, b.lerp(a, 0.06), 1.0));
        // The blob is the whole mouth (lips, opening, teeth): its top and bottom are the
        // outer lip line; the inner lips follow from the shape model.
        for (k, p) in [49usize, 51, 53].into_iter().zip(upper) {
            if let Some(p) = p {
                out.constraints.push(Constraint::point(k, p, 1.0));
            }
        }
        for (k, p) in [55usize, 57, 59].into_iter().zip(lower) {
            if let Some(p) = p {
                out.constraints.push(Constraint::point(k, p, 1.0));
            }
        }
        out.conf[48..68].iter_mut().for_each(|c| *c = 0.6);
        out.conf[48] = 0.85;
        out.conf[54] = 0.85;
        // A drawn nose: its sides are the nostril wings (31, 35), its lowest point the
        // base (33); a solid blob's centre is the tip (30), a stroke's is not.
        if let Some(n) = best_nose(w, le, re, m, region.holes.iter()) {
            findings.nose = true;
            let (a, b) = n.extent(w, u);
            out.constraints.push(Constraint::point(31, a, 2.0));
            out.constraints.push(Constraint::point(35, b, 2.0));
            let lower = [
                n.lid(w, u, v, -0.5, false),
                n.lid(w, u, v, 0.0, false),
                n.lid(w, u, v, 0.5, false),
            ];
            for (k, p) in [32usize, 33, 34].into_iter().zip(lower) {
                if let Some(p) = p {
                    out.constraints.push(Constraint::point(k, p, 2.0));
                }
            }
            let width = a.distance(b).max(1.0);
            if n.area / width > NOSE_SOLID_THICKNESS * width {
                out.constraints.push(Constraint::point(30, n.centre, 1.0));
            }
            out.conf[30..36].iter_mut().for_each(|c| *c = 0.7);
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
                out.constraints
                    .push(Constraint::point(idx + k, start - v * s, 0.8));
                out.conf[idx + k] = 0.5;
            }
        }
    }
}
