//! Gallery matching: per landmark, the mean reference descriptor of the K gallery characters
//! that look most like the character, cosine similarity with every cell of the character's
//! feature map, arg-max with sub-cell refinement (a quadratic fit to the 3×3 neighbourhood),
//! confidence from the margin between the peak and the best score away from it; then the
//! paper's rearrangement.

use super::MatchError;
use super::feature::{FeatureMap, Featurizer, letterbox, unit};
use super::gallery::{EntryFeatures, FeatureCache, Gallery, gallery_features, image_key};
use super::rearrange::rearrange;
use crate::geometry::tangled;
use crate::landmarks::{Face, ImageSize, LANDMARK_COUNT, Point};
use crate::progress::Progress;
use image::RgbaImage;

/// Matching settings.
#[derive(Clone, Debug)]
pub struct MatcherOptions {
    /// How many most-similar gallery characters supply each landmark's descriptor.
    pub k: usize,
    /// Apply the contour rearrangement.
    pub rearrange: bool,
    /// Peak margin (in cosine units) that counts as full confidence.
    pub full_margin: f32,
}

impl Default for MatcherOptions {
    fn default() -> Self {
        Self {
            k: 3,
            rearrange: true,
            full_margin: 0.15,
        }
    }
}

/// One landmark's match in feature-map coordinates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PointMatch {
    /// Position in feature cells (cell centres at `i + 0.5`).
    pub cell: Point,
    /// Peak cosine similarity.
    pub score: f32,
    /// Confidence in [0, 1].
    pub confidence: f32,
}

/// Indices of the `k` gallery entries whose global descriptors are most similar to `global`.
pub fn nearest_entries(global: &[f32], refs: &[EntryFeatures], k: usize) -> Vec<usize> {
    let mut sims: Vec<(f32, usize)> = refs
        .iter()
        .enumerate()
        .map(|(i, r)| (dot(global, &r.global), i))
        .collect();
    sims.sort_by(|a, b| b.0.total_cmp(&a.0));
    sims.into_iter().take(k.max(1)).map(|(_, i)| i).collect()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Match each descriptor against a (not necessarily normalised) feature map.
pub fn match_descriptors(
    map: &FeatureMap,
    descriptors: &[Vec<f32>],
    full_margin: f32,
) -> Vec<PointMatch> {
    let n = map.normalised();
    let (h, w) = (n.height, n.width);
    let hw = h * w;
    descriptors
        .iter()
        .map(|q| {
            let mut sim = vec![0.0f32; hw];
            for (c, qc) in q.iter().enumerate() {
                if *qc == 0.0 {
                    continue;
                }
                let plane = &n.data[c * hw..(c + 1) * hw];
                for (s, v) in sim.iter_mut().zip(plane) {
                    *s += qc * v;
                }
            }
            let (best, &score) = sim
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap_or((0, &0.0));
            let (by, bx) = (best / w, best % w);
            // Sub-cell refinement: vertex of the 1-D parabolas through the neighbours.
            let g = |y: usize, x: usize| sim[y * w + x];
            let refine = |l: Option<f32>, c: f32, r: Option<f32>| match (l, r) {
                (Some(l), Some(r)) => {
                    let den = l - 2.0 * c + r;
                    if den < -1e-9 {
                        (0.5 * (l - r) / den).clamp(-0.5, 0.5)
                    } else {
                        0.0
                    }
                }
                _ => 0.0,
            };
            let dx = refine(
                (bx > 0).then(|| g(by, bx - 1)),
                score,
                (bx + 1 < w).then(|| g(by, bx + 1)),
            );
            let dy = refine(
                (by > 0).then(|| g(by - 1, bx)),
                score,
                (by + 1 < h).then(|| g(by + 1, bx)),
            );
            // Margin: best score at least two cells away from the peak.
            let mut second = f32::NEG_INFINITY;
            for (i, &s) in sim.iter().enumerate() {
                let (y, x) = (i / w, i % w);
                if y.abs_diff(by) > 1 || x.abs_diff(bx) > 1 {
                    second = second.max(s);
                }
            }
            let margin = if second.is_finite() {
                score - second
            } else {
                score
            };
            PointMatch {
                cell: Point::new(bx as f32 + 0.5 + dx, by as f32 + 0.5 + dy),
                score,
                confidence: (margin / full_margin).clamp(0.0, 1.0) * score.clamp(0.0, 1.0).sqrt(),
            }
        })
        .collect()
}

/// Per-landmark reference descriptors: the unit mean over the chosen gallery entries.
pub fn reference_descriptors(refs: &[EntryFeatures], chosen: &[usize]) -> Vec<Vec<f32>> {
    (0..LANDMARK_COUNT)
        .map(|j| {
            let c = refs.first().map_or(0, |r| r.points[j].len());
            let mut acc = vec![0.0f32; c];
            for &i in chosen {
                for (a, v) in acc.iter_mut().zip(&refs[i].points[j]) {
                    *a += v;
                }
            }
            unit(acc)
        })
        .collect()
}

/// The whole path: features of the character, gallery retrieval, matching, rearrangement.
pub fn match_with_gallery(
    image: &RgbaImage,
    featurizer: &dyn Featurizer,
    gallery: &Gallery,
    cache: &FeatureCache,
    opts: &MatcherOptions,
    progress: &dyn Progress,
) -> Result<Face, MatchError> {
    if gallery.entries.is_empty() {
        return Err(MatchError::Options(
            "the appearance gallery is empty".into(),
        ));
    }
    let refs = gallery_features(featurizer, gallery, cache, progress)?;
    let side = featurizer.side();
    let (sq, lb) = letterbox(image, side);
    // The character's own map is kept too: matching it again (other settings, a reset of
    // hand edits) skips the diffusion model.
    let (model, key) = (featurizer.id(), image_key(&sq));
    let map = match cache.get_map(&model, &key) {
        Some(m) => {
            tracing::info!("feature map of this picture from the cache");
            m
        }
        None => {
            let m = featurizer.extract(&sq, progress)?;
            cache.put_map(&model, &key, &m);
            m
        }
    };
    let chosen = nearest_entries(&map.global_descriptor(), &refs, opts.k);
    let descriptors = reference_descriptors(&refs, &chosen);
    let matches = match_descriptors(&map, &descriptors, opts.full_margin);
    let cell = side as f32 / map.width as f32;
    let cell_y = side as f32 / map.height as f32;
    let mut points = [Point::default(); LANDMARK_COUNT];
    let mut confidence = [0.0f32; LANDMARK_COUNT];
    for (i, m) in matches.iter().enumerate() {
        points[i] = lb.to_image(Point::new(m.cell.x * cell, m.cell.y * cell_y));
        confidence[i] = m.confidence;
    }
    if opts.rearrange {
        let r = rearrange(&points);
        if !tangled(&r) || tangled(&points) {
            points = r;
        }
    }
    // Keep the result a plausible face: if a contour still crosses itself, fit the shape model
    // with the match confidences as weights.
    if tangled(&points) {
        let w: Vec<f32> = confidence.iter().map(|c| c.max(0.05)).collect();
        if let Some(f) = super::shape::ShapeModel::default_model().untangled_fit(&points, &w) {
            points = f;
        }
    }
    let mut face = Face::new(
        points,
        Some(ImageSize {
            width: image.width(),
            height: image.height(),
        }),
    );
    face.confidence = confidence;
    Ok(face)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_planted_descriptor_with_sub_cell_accuracy() {
        // Two channels encode a smooth bump centred at (5.3, 2.7) cells.
        let (h, w) = (8, 10);
        let centre = Point::new(5.3, 2.7);
        let mut data = vec![0.0f32; 2 * h * w];
        for y in 0..h {
            for x in 0..w {
                let d = Point::new(x as f32 + 0.5, y as f32 + 0.5).distance(centre);
                let s = (-d * d / 2.0).exp();
                data[y * w + x] = s;
                data[h * w + y * w + x] = 1.0 - s;
            }
        }
        let map = FeatureMap::new(2, h, w, data);
        let m = match_descriptors(&map, &[vec![1.0, 0.0]], 0.15);
        assert!(m[0].cell.distance(centre) < 0.35, "{:?}", m[0]);
        assert!(m[0].confidence > 0.0);
        // A descriptor matching everywhere equally has no margin and so no confidence.
        let flat = FeatureMap::new(1, h, w, vec![1.0; h * w]);
        let m = match_descriptors(&flat, &[vec![1.0]], 0.15);
        assert_eq!(m[0].confidence, 0.0);
    }

    #[test]
    fn nearest_entries_ranks_by_cosine() {
        let e = |g: Vec<f32>| EntryFeatures {
            global: g,
            points: vec![vec![0.0]; LANDMARK_COUNT],
        };
        let refs = vec![e(vec![1.0, 0.0]), e(vec![0.0, 1.0]), e(vec![0.7, 0.7])];
        assert_eq!(nearest_entries(&[0.0, 1.0], &refs, 2), vec![1, 2]);
    }
}
