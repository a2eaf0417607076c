//! Statistical shape model: generalised Procrustes alignment and PCA of 68-point shapes, a
//! regularised constrained fit (any landmark or mean of landmarks as a constraint) and the
//! five-click anchor fit built on it.

use crate::cartoon::{CartoonSpec, Rng};
use crate::geometry::{Similarity, symmetric_eigen, tangled};
use crate::landmarks::{LANDMARK_COUNT, Landmarks, MIRROR, Point};
use std::sync::OnceLock;

const D: usize = LANDMARK_COUNT * 2;

/// A PCA shape model in a normalised frame (centroid 0, RMS radius 1, upright).
#[derive(Clone, Debug)]
pub struct ShapeModel {
    /// Mean shape.
    pub mean: Landmarks,
    /// Principal modes, each of length 136 (x0, y0, x1, y1, ...), unit norm.
    pub modes: Vec<Vec<f32>>,
    /// Variance of each mode.
    pub variances: Vec<f32>,
}

/// A constraint for [`ShapeModel::fit`]: the mean of some landmarks should be at `target`.
#[derive(Clone, Debug)]
pub struct Constraint {
    /// Landmark indices averaged into this constraint.
    pub indices: Vec<usize>,
    /// Where the average should lie (image pixels).
    pub target: Point,
    /// Weight (e.g. the matcher's confidence).
    pub weight: f32,
}

impl Constraint {
    /// A single-landmark constraint.
    pub fn point(index: usize, target: Point, weight: f32) -> Self {
        Self {
            indices: vec![index],
            target,
            weight,
        }
    }
}

/// A fitted model instance.
#[derive(Clone, Debug)]
pub struct ShapeFit {
    /// The 68 points in image pixels.
    pub points: Landmarks,
    /// Model frame to image.
    pub pose: Similarity,
    /// Mode coefficients.
    pub params: Vec<f32>,
}

fn normalise(shape: &Landmarks) -> Landmarks {
    let n = LANDMARK_COUNT as f32;
    let c = shape.iter().fold(Point::default(), |a, &p| a + p) * (1.0 / n);
    let rms = (shape.iter().map(|&p| (p - c).dot(p - c)).sum::<f32>() / n)
        .sqrt()
        .max(1e-6);
    shape.map(|p| (p - c) * (1.0 / rms))
}

/// Mirror a shape left/right (x ↦ -x, with the landmark indices swapped).
pub fn mirror_shape(shape: &Landmarks) -> Landmarks {
    let mut out = [Point::default(); LANDMARK_COUNT];
    for i in 0..LANDMARK_COUNT {
        let p = shape[MIRROR[i]];
        out[i] = Point::new(-p.x, p.y);
    }
    out
}

impl ShapeModel {
    /// Build from training shapes (in any pose), keeping modes up to `variance_kept` of the
    /// total variance and at most `max_modes`.
    pub fn build(shapes: &[Landmarks], variance_kept: f32, max_modes: usize) -> Option<Self> {
        if shapes.len() < 2 {
            return None;
        }
        let mut aligned: Vec<Landmarks> = shapes.iter().map(normalise).collect();
        let mut mean = aligned[0];
        for _ in 0..5 {
            for s in aligned.iter_mut() {
                let t = Similarity::fit_weighted(s, &mean, None)?;
                *s = s.map(|p| t.apply(p));
            }
            let mut m = [Point::default(); LANDMARK_COUNT];
            for s in &aligned {
                for (a, &p) in m.iter_mut().zip(s) {
                    *a = *a + p * (1.0 / aligned.len() as f32);
                }
            }
            // Keep the mean upright: eyes level, chin down.
            let m = normalise(&m);
            let eye_l = (m[36] + m[39]) * 0.5;
            let eye_r = (m[42] + m[45]) * 0.5;
            let ang = (eye_r.y - eye_l.y).atan2(eye_r.x - eye_l.x);
            let rot = Similarity::new(1.0, -ang, Point::default());
            mean = m.map(|p| rot.apply(p));
        }
        let n = aligned.len() as f64;
        let mut cov = vec![0.0f64; D * D];
        let flat = |s: &Landmarks| -> Vec<f64> {
            s.iter()
                .zip(&mean)
                .flat_map(|(p, m)| [f64::from(p.x - m.x), f64::from(p.y - m.y)])
                .collect()
        };
        for s in &aligned {
            let v = flat(s);
            for i in 0..D {
                if v[i] == 0.0 {
                    continue;
                }
                for j in i..D {
                    cov[i * D + j] += v[i] * v[j] / n;
                }
            }
        }
        for i in 0..D {
            for j in 0..i {
                cov[i * D + j] = cov[j * D + i];
            }
        }
        let (vals, vecs) = symmetric_eigen(&cov, D);
        let total: f64 = vals.iter().map(|v| v.max(0.0)).sum();
        let mut kept = 0.0;
        let mut modes = Vec::new();
        let mut variances = Vec::new();
        for (v, e) in vals.iter().zip(vecs) {
            if modes.len() >= max_modes || kept >= f64::from(variance_kept) * total || *v <= 1e-12 {
                break;
            }
            kept += v;
            modes.push(e.iter().map(|&x| x as f32).collect());
            variances.push(*v as f32);
        }
        Some(Self {
            mean,
            modes,
            variances,
        })
    }

    /// The default model: PCA of generated cartoon shapes (frontal and turned heads) and their
    /// mirror images, plus the shipped gallery's shapes. Built once per process.
    pub fn default_model() -> &'static ShapeModel {
        static MODEL: OnceLock<ShapeModel> = OnceLock::new();
        MODEL.get_or_init(|| {
            let mut shapes: Vec<Landmarks> = (0..300u64)
                .map(|s| CartoonSpec::random(1_000_000 + s, 256).normalised_landmarks())
                .collect();
            // Turned heads (up to ±34°), so the model also spans the features' sideways slide.
            shapes.extend((0..150u64).map(|s| {
                let mut spec = CartoonSpec::random(2_000_000 + s, 256);
                spec.yaw = Rng::new(s).range(-0.6, 0.6);
                spec.normalised_landmarks()
            }));
            shapes.extend(super::gallery::embedded_shapes());
            let mirrored: Vec<Landmarks> = shapes.iter().map(mirror_shape).collect();
            shapes.extend(mirrored);
            // Built from hundreds of valid shapes, this cannot fail; fall back to the mean face.
            ShapeModel::build(&shapes, 0.98, 24).unwrap_or_else(|| ShapeModel {
                mean: normalise(&crate::landmarks::synthetic::frontal_face(0.0, 0.0, 1.0)),
                modes: Vec::new(),
                variances: Vec::new(),
            })
        })
    }

    /// The shape for mode coefficients `params` (normalised frame).
    pub fn instance(&self, params: &[f32]) -> Landmarks {
        let mut out = self.mean;
        for (b, mode) in params.iter().zip(&self.modes) {
            for (i, p) in out.iter_mut().enumerate() {
                p.x += b * mode[2 * i];
                p.y += b * mode[2 * i + 1];
            }
        }
        out
    }

    /// Fit pose and shape to constraints. `shape_reg` scales the prior on the modes (1 = a
    /// Gaussian prior of unit weight); coefficients are clamped to ±3 standard deviations.
    pub fn fit(&self, constraints: &[Constraint], shape_reg: f32) -> Option<ShapeFit> {
        let k = self.modes.len();
        let mut params = vec![0.0f32; k];
        let mut pose = Similarity::IDENTITY;
        for iter in 0..8 {
            let shape = self.instance(&params);
            let src: Vec<Point> = constraints
                .iter()
                .map(|c| avg(&shape, &c.indices))
                .collect();
            let dst: Vec<Point> = constraints.iter().map(|c| c.target).collect();
            let w: Vec<f32> = constraints.iter().map(|c| c.weight).collect();
            pose = Similarity::fit_weighted(&src, &dst, Some(&w))?;
            if k == 0 || (iter == 7) {
                break;
            }
            let inv = pose.inverse();
            // Weighted ridge regression for the mode coefficients in the model frame.
            let s2 = pose.scale() * pose.scale();
            let mut a = vec![0.0f64; k * k];
            let mut rhs = vec![0.0f64; k];
            for c in constraints {
                let t = inv.apply(c.target);
                let m = avg(&self.mean, &c.indices);
                let r = [f64::from(t.x - m.x), f64::from(t.y - m.y)];
                let inv_n = 1.0 / c.indices.len() as f32;
                let row = |axis: usize, mode: &Vec<f32>| -> f64 {
                    c.indices
                        .iter()
                        .map(|&i| f64::from(mode[2 * i + axis] * inv_n))
                        .sum()
                };
                let w = f64::from(c.weight * s2);
                for (axis, r_axis) in r.iter().enumerate() {
                    let jr: Vec<f64> = self.modes.iter().map(|m| row(axis, m)).collect();
                    for p in 0..k {
                        rhs[p] += w * jr[p] * r_axis;
                        for q in 0..k {
                            a[p * k + q] += w * jr[p] * jr[q];
                        }
                    }
                }
            }
            let scale_w: f64 = constraints
                .iter()
                .map(|c| f64::from(c.weight * s2))
                .sum::<f64>()
                / constraints.len().max(1) as f64;
            for p in 0..k {
                a[p * k + p] +=
                    f64::from(shape_reg) * scale_w / f64::from(self.variances[p]) * 1e-3 + 1e-9;
            }
            let b = solve(&mut a, &mut rhs, k)?;
            for (p, v) in params.iter_mut().zip(b) {
                *p = v as f32;
            }
            for (p, var) in params.iter_mut().zip(&self.variances) {
                let lim = 3.0 * var.sqrt();
                *p = p.clamp(-lim, lim);
            }
        }
        let shape = self.instance(&params);
        Some(ShapeFit {
            points: shape.map(|p| pose.apply(p)),
            pose,
            params,
        })
    }

    /// The shape-model fit to `points` (per-point `weights`) with the weakest prior, of
    /// 1, 10, 100 and 10⁴, that leaves no contour crossing itself (coefficients at the edges of
    /// their ±3 σ box can tangle a lid or a lip); the last if all do. `None` only when no pose
    /// fits.
    pub fn untangled_fit(&self, points: &Landmarks, weights: &[f32]) -> Option<Landmarks> {
        let mut last = None;
        for reg in [1.0, 10.0, 100.0, 1e4] {
            let f = self.fit_points(points, weights, reg)?;
            if !tangled(&f.points) {
                return Some(f.points);
            }
            last = Some(f.points);
        }
        last
    }

    /// Fit all 68 points to per-point targets with weights.
    pub fn fit_points(
        &self,
        points: &Landmarks,
        weights: &[f32],
        shape_reg: f32,
    ) -> Option<ShapeFit> {
        let cs: Vec<Constraint> = (0..LANDMARK_COUNT)
            .map(|i| Constraint::point(i, points[i], weights.get(i).copied().unwrap_or(1.0)))
            .collect();
        self.fit(&cs, shape_reg)
    }
}

fn avg(shape: &Landmarks, idx: &[usize]) -> Point {
    Point::mean(idx.iter().map(|&i| shape[i]))
}

/// Gaussian elimination with partial pivoting; `a` is `n × n` row-major.
fn solve(a: &mut [f64], b: &mut [f64], n: usize) -> Option<Vec<f64>> {
    for col in 0..n {
        let piv =
            (col..n).max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs()))?;
        if a[piv * n + col].abs() < 1e-300 {
            return None;
        }
        if piv != col {
            for k in 0..n {
                a.swap(col * n + k, piv * n + k);
            }
            b.swap(col, piv);
        }
        for r in (col + 1)..n {
            let f = a[r * n + col] / a[col * n + col];
            for k in col..n {
                a[r * n + k] -= f * a[col * n + k];
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = ((r + 1)..n).map(|k| a[r * n + k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r * n + r];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// The landmark groups behind the five anchors, in click order: image-left eye centre,
/// image-right eye centre, nose tip, image-left mouth corner, image-right mouth corner.
pub const ANCHOR_GROUPS: [&[usize]; 5] = [
    crate::landmarks::Part::RightEye.indices(),
    crate::landmarks::Part::LeftEye.indices(),
    &[30],
    &[48],
    &[54],
];

/// Which anchor groups `n` clicks stand for: 3 = both eyes and the nose tip; 4 = both eyes
/// and both mouth corners; 5 = all five.
pub fn anchor_layout(n: usize) -> Option<&'static [usize]> {
    match n {
        3 => Some(&[0, 1, 2]),
        4 => Some(&[0, 1, 3, 4]),
        5 => Some(&[0, 1, 2, 3, 4]),
        _ => None,
    }
}

/// Five-click fit: 3–5 anchors (see [`anchor_layout`]) to 68 points under the shape model.
pub fn fit_anchors(model: &ShapeModel, anchors: &[Point]) -> Option<ShapeFit> {
    let layout = anchor_layout(anchors.len())?;
    let cs: Vec<Constraint> = layout
        .iter()
        .zip(anchors)
        .map(|(&g, &t)| Constraint {
            indices: ANCHOR_GROUPS[g].to_vec(),
            target: t,
            weight: 1.0,
        })
        .collect();
    model.fit(&cs, 30.0)
}

/// The anchors of a known face, in the layout for `n` clicks.
pub fn anchors_of(points: &Landmarks, n: usize) -> Option<Vec<Point>> {
    Some(
        anchor_layout(n)?
            .iter()
            .map(|&g| avg(points, ANCHOR_GROUPS[g]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::eval::nme;

    #[test]
    fn untangled_fit_never_crosses_a_contour() {
        let model = ShapeModel::default_model();
        let mut rng = Rng::new(3);
        let mut raw_tangled = 0;
        for _ in 0..40 {
            // The mean face with wild per-point noise (a failed match).
            let pts = model
                .mean
                .map(|p| p * 100.0 + Point::new(rng.normal() * 25.0, rng.normal() * 25.0));
            let w = [1.0f32; 68];
            if tangled(&model.fit_points(&pts, &w, 1.0).unwrap().points) {
                raw_tangled += 1;
            }
            assert!(!tangled(&model.untangled_fit(&pts, &w).unwrap()));
        }
        assert!(
            raw_tangled > 0,
            "the plain fit never tangled: the test shows nothing"
        );
    }

    #[test]
    fn model_reconstructs_a_training_like_shape() {
        let m = ShapeModel::default_model();
        assert!(m.modes.len() >= 5, "{}", m.modes.len());
        let truth = CartoonSpec::random(42, 256).landmarks();
        let fit = m.fit_points(&truth, &[1.0; 68], 0.1).unwrap();
        let e = nme(&fit.points, &truth).unwrap();
        assert!(e < 0.05, "nme {e}");
    }

    #[test]
    fn anchor_fit_places_a_plausible_face() {
        let m = ShapeModel::default_model();
        let mut errs = Vec::new();
        for seed in 0..10 {
            let truth = CartoonSpec::random(500 + seed, 256).landmarks();
            for n in [3, 5] {
                let anchors = anchors_of(&truth, n).unwrap();
                let fit = fit_anchors(m, &anchors).unwrap();
                // The fitted anchors land where they were clicked.
                let back = anchors_of(&fit.points, n).unwrap();
                for (a, b) in anchors.iter().zip(&back) {
                    assert!(
                        a.distance(*b) < 0.1 * truth[36].distance(truth[45]),
                        "seed {seed}"
                    );
                }
                errs.push(nme(&fit.points, &truth).unwrap());
            }
        }
        let mean = errs.iter().sum::<f32>() / errs.len() as f32;
        assert!(mean < 0.12, "mean nme {mean}");
        assert!(fit_anchors(m, &[Point::new(1.0, 1.0); 2]).is_none());
    }
}
