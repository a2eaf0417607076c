//! Locating the face before any point is placed: the face region, its eyes and its mouth.

use super::super::round_eyes;
use super::super::shape::ShapeModel;
use super::Findings;
use super::blob::Blob;
use super::eyes::{
    EYE_MIN_CONTRAST, EYE_STROKE_RADIUS, EyePair, EyeSource, HOLE_PAIR_OUTRANK, MIRROR_TOLERANCE,
    dark_blobs, eye_blob, far_eye_by_colour, find_eye_pair, image_eye_pair, one_eye, outranks,
    pupils_of_two_holes,
};
use super::mouth_nose::best_mouth;
use super::regions::{
    FaceRegion, face_regions, inner_region, merge_regions, notches, region_under_nose,
};
use super::work::{Work, dist2, median_colour};
use crate::landmarks::Point;

/// What [`locate`] found.
pub(super) struct Located {
    /// The face region (the whole picture when no region holds the eyes).
    pub(super) region: FaceRegion,
    /// The eyes and the mouth, when eyes were found.
    pub(super) pair: Option<EyePair>,
    /// The eyes as found, before strokes were cut off them (a mirrored eye left out).
    pub(super) found_eyes: Vec<Blob>,
    /// Whether a face region, not the whole picture, holds the face.
    pub(super) region_found: bool,
    /// Which eye (0 image-left, 1 image-right), if any, is the other's mirror image rather
    /// than a finding.
    pub(super) mirrored_eye: Option<usize>,
}

/// Finds the face region, its eyes and its mouth in `work`, or `None` when the picture has no
/// foreground region at all. Records in `findings` whether the eyes are round irises.
pub(super) fn locate(work: &Work, model: &ShapeModel, findings: &mut Findings) -> Option<Located> {
    let (w, h) = (work.w, work.h);
    let regions = face_regions(work);
    // Shading can split one head into two colour regions, each with one eye: after the regions
    // themselves, try the union of each two that touch.
    let mut merged: Vec<FaceRegion> = (0..regions.len())
        .flat_map(|a| (a + 1..regions.len()).map(move |b| (a, b)))
        .filter_map(|(a, b)| merge_regions(&regions[a].1, &regions[b].1, work))
        .collect();
    // And all three (face_regions keeps at most three) when they make one piece.
    if let [a, b, c] = &regions[..]
        && let Some(all) = merge_regions(&a.1, &b.1, work)
            .and_then(|ab| merge_regions(&ab, &c.1, work))
            .or_else(|| {
                merge_regions(&a.1, &c.1, work).and_then(|ac| merge_regions(&ac, &b.1, work))
            })
    {
        merged.insert(0, all);
    }
    // Each colour region as a blob: a mouth drawn in its own colour that reaches the face's
    // outline (a wide open grin) is no hole of the face.
    let region_blobs: Vec<(Blob, [f32; 3])> = regions
        .iter()
        .map(|(_, r)| {
            let pixels = (0..w * h).filter(|&i| r.filled[i]).collect();
            (Blob::new(pixels, w), r.colour)
        })
        .collect();
    let primary = regions.len();
    let candidates: Vec<FaceRegion> = regions.into_iter().map(|(_, r)| r).chain(merged).collect();
    for r in &candidates {
        tracing::debug!(
            "structural: region {:?} colour {:?}, holes at {:?}",
            r.bbox,
            r.colour,
            r.holes
                .iter()
                .map(|b| (b.centre, b.area))
                .collect::<Vec<_>>()
        );
    }
    // Eye candidates: the colour regions' holes, then their holes with their notches (features
    // opening onto the outline); the same for the merged regions; then everyone's dark blobs.
    let all = 0..candidates.len();
    let passes = [
        (EyeSource::Holes, 0..primary),
        (EyeSource::Notches, 0..primary),
        (EyeSource::Holes, primary..candidates.len()),
        (EyeSource::Notches, primary..candidates.len()),
        (EyeSource::DarkBlobs, all),
    ];
    // The region, the eye candidates, the pair and whether they were the region's dark blobs.
    let mut found: Option<(usize, Vec<Blob>, EyePair, bool)> = None;
    // Which eye (0 left, 1 right) is a mirror image rather than a finding.
    let mut mirrored_eye: Option<usize> = None;
    'sources: for (source, range) in passes {
        for k in range {
            let r = &candidates[k];
            let blobs = match source {
                EyeSource::Holes => r.holes.clone(),
                EyeSource::Notches => r.holes.iter().cloned().chain(notches(r, work)).collect(),
                EyeSource::DarkBlobs => dark_blobs(work, r),
            };
            if let Some(pair) = find_eye_pair(&blobs, r.bbox) {
                tracing::debug!(
                    "structural: eye pair at {:?} and {:?} from {source:?} of region {k}",
                    pair.0.centre,
                    pair.1.centre
                );
                // Dark blobs also pair the outline's stroke with the mouth on a turned head
                // whose far eye lies beyond the outline, and a merged region its mouth with an
                // ear's inner part: a bigger eye hole of the region that is neither of the two
                // outranks them, with its mirror image. Only a colour region's own holes go
                // unchecked.
                let margin = match source {
                    EyeSource::DarkBlobs => 1.0,
                    _ => HOLE_PAIR_OUTRANK,
                };
                if !(matches!(source, EyeSource::Holes) && k < primary)
                    && let Some((le, re, mouth, side)) = one_eye(r, w, h)
                    && outranks(if side == 0 { &re } else { &le }, &pair, margin)
                    && !pupils_of_two_holes(&pair, &r.holes)
                {
                    mirrored_eye = Some(side);
                    found = Some((k, r.holes.clone(), (le, re, mouth, 0.0), false));
                } else {
                    let dark = matches!(source, EyeSource::DarkBlobs);
                    found = Some((k, blobs, pair, dark));
                }
                break 'sources;
            }
        }
    }
    let mut region_found = true;
    let mut chosen: Option<(FaceRegion, Option<EyePair>)> = match found {
        Some((k, blobs, pair, dark)) => {
            // Dark blobs of a region darker than another under the eyes' nose (a head's outline
            // ring, which also encloses its ears): the face is that lighter region.
            let inner = dark
                .then(|| inner_region(&candidates, k, &pair, model, w, h))
                .flatten();
            match inner {
                Some(j) => candidates.into_iter().nth(j).map(|r| (r, Some(pair))),
                None => candidates.into_iter().nth(k).map(|mut r| {
                    r.holes = blobs;
                    (r, Some(pair))
                }),
            }
        }
        None => {
            // The face region may show one eye, its far eye lying beyond the outline: a pair
            // found by the fallbacks below must be that eye and one near its mirror image.
            let one = candidates.first().and_then(|r| one_eye(r, w, h));
            let agrees = |a: Point, b: Point| {
                one.as_ref().is_none_or(|(le, re, _, side)| {
                    let (eye, far) = if *side == 0 { (re, le) } else { (le, re) };
                    let (reach, span) = (eye.area.sqrt(), eye.centre.distance(far.centre));
                    let matches = |p: Point, q: Point| {
                        p.distance(eye.centre) < reach
                            && q.distance(far.centre) < MIRROR_TOLERANCE * span
                    };
                    matches(a, b) || matches(b, a)
                })
            };
            // No face region holds eyes (a face the colour of the background, a textured
            // photo): distinct dark blobs anywhere in the picture, the region left empty.
            let median = median_colour(work);
            let image_pair =
                image_eye_pair(work, median).filter(|(_, p)| agrees(p.0.centre, p.1.centre));
            let round_pair = || {
                round_eyes::find_pair(&work.luma_plane(), w, h)
                    .filter(|p| agrees(p.left.centre, p.right.centre))
            };
            match image_pair {
                Some((blobs, (le, re, mouth, score))) => {
                    tracing::debug!(
                        "structural: eye pair at {:?} and {:?} from dark blobs of the picture",
                        le.centre,
                        re.centre
                    );
                    // Eyes that are no holes of a face region (the far eye of a turned head on
                    // its outline) may still lie on one: the region under the nose, if any,
                    // gives the outline, and its holes compete for the mouth (below).
                    match region_under_nose(&candidates, le.centre, re.centre, model, w, h) {
                        Some(k) => {
                            let region = candidates.into_iter().nth(k).unwrap_or_else(|| {
                                FaceRegion::whole_picture(work, median, Vec::new())
                            });
                            Some((region, Some((le, re, mouth, score))))
                        }
                        None => {
                            region_found = false;
                            let pair = (le, re, mouth, score);
                            Some((FaceRegion::whole_picture(work, median, blobs), Some(pair)))
                        }
                    }
                }
                None => match round_pair() {
                    Some(pair) => {
                        // Round irises where no region holds eyes (striped fur, a pale face on
                        // a pale picture). The face is the region under the nose, if any (hair
                        // may hang between the eyes).
                        findings.round_eyes = true;
                        let k = region_under_nose(
                            &candidates,
                            pair.left.centre,
                            pair.right.centre,
                            model,
                            w,
                            h,
                        );
                        region_found = k.is_some();
                        let region = k
                            .and_then(|k| candidates.into_iter().nth(k))
                            .unwrap_or_else(|| FaceRegion::whole_picture(work, median, Vec::new()));
                        let (le, re) = (eye_blob(&pair.left, w, h), eye_blob(&pair.right, w, h));
                        let others = region.holes.iter().enumerate().filter(|(_, b)| {
                            b.centre.distance(le.centre) > pair.left.radius * 1.5
                                && b.centre.distance(re.centre) > pair.right.radius * 1.5
                        });
                        let mouth = best_mouth(le.centre, re.centre, others)
                            .map(|(_, k)| region.holes[k].clone());
                        Some((region, Some((le, re, mouth, pair.score))))
                    }
                    None => {
                        // The first region with one eye, a nose and a mouth, else the first.
                        let one = one.map(|e| (0, e)).or_else(|| {
                            candidates
                                .iter()
                                .enumerate()
                                .skip(1)
                                .find_map(|(k, r)| one_eye(r, w, h).map(|e| (k, e)))
                        });
                        match one {
                            Some((k, (le, re, mouth, side))) => {
                                mirrored_eye = Some(side);
                                candidates
                                    .into_iter()
                                    .nth(k)
                                    .map(|r| (r, Some((le, re, mouth, 0.0))))
                            }
                            None => candidates.into_iter().next().map(|r| (r, None)),
                        }
                    }
                },
            }
        }
    };
    // A mirrored far eye: look for the near eye's colours around the mirror image first.
    if let (Some(side), Some((region, Some((le, re, _, _))))) = (mirrored_eye, &mut chosen) {
        let (near, far) = if side == 0 { (&*re, le) } else { (&*le, re) };
        if let Some(eye) = far_eye_by_colour(work, region, near, far) {
            tracing::debug!("structural: far eye found by colour at {:?}", eye.centre);
            *far = eye;
            mirrored_eye = None;
        }
    }
    // A stroke running into an eye (a nose line from its inner corner) would drag its corner
    // and lids along.
    let mut found_eyes: Vec<Blob> = Vec::new();
    if let Some((_, Some((le, re, _, _)))) = &mut chosen {
        for (side, eye) in [le, re].into_iter().enumerate() {
            if mirrored_eye != Some(side) {
                found_eyes.push(eye.clone());
            }
            if let Some(core) = eye.without_strokes(w, EYE_STROKE_RADIUS) {
                *eye = core;
            }
        }
    }
    if let Some((region, Some((le, re, mouth, _)))) = &mut chosen
        && mouth.is_none()
    {
        let face_area = region.filled.iter().filter(|&&f| f).count();
        let others = region_blobs
            .iter()
            .enumerate()
            .filter(|(_, (b, colour))| {
                let inside = b.pixels.iter().filter(|&&i| region.filled[i]).count();
                2 * inside < b.pixels.len()
                    && 3 * b.pixels.len() < face_area
                    && dist2(*colour, region.colour) > 0.02
            })
            .map(|(k, (b, _))| (k, b));
        *mouth = best_mouth(le.centre, re.centre, others).map(|(_, k)| region_blobs[k].0.clone());
    }
    // The face's holes and dark notches compete with the mouth found with the eyes: a mouth
    // drawn as a line out to the outline (a turned head's smile) is neither a hole nor a dark
    // blob of the face but a dark notch, and eyes found elsewhere than among the face's holes
    // came with the nose for a mouth, or none.
    if let Some((region, Some((le, re, mouth, _)))) = &mut chosen {
        let mut options: Vec<Blob> = notches(region, work)
            .into_iter()
            .filter(|b| b.contrast >= EYE_MIN_CONTRAST)
            .chain(region.holes.iter().cloned())
            .filter(|b| {
                [&*le, &*re]
                    .iter()
                    .all(|e| b.centre.distance(e.centre) > e.area.sqrt())
            })
            .collect();
        let found = mouth.take();
        options.extend(found.iter().cloned());
        *mouth = best_mouth(le.centre, re.centre, options.iter().enumerate())
            .map(|(_, k)| options[k].clone())
            .or(found);
    }
    let (region, pair) = chosen?;
    Some(Located {
        region,
        pair,
        found_eyes,
        region_found,
        mirrored_eye,
    })
}
