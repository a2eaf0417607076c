//! Landmark evaluation: NME normalised by the outer-eye-corner distance (points 36 and 45),
//! failure rate (NME > 0.1), and readers for ground-truth files (`.pts`, `.txt` "x y" lines,
//! or our JSON face format).

use super::MatchError;
use crate::landmarks::{Face, LANDMARK_COUNT, Landmarks, Point};
use std::path::{Path, PathBuf};

/// NME above which a result counts as a failure.
pub const FAILURE_NME: f32 = 0.1;

/// Mean point-to-point error divided by the ground truth's outer-eye-corner distance.
/// `None` when the ground-truth eye corners coincide.
pub fn nme(pred: &Landmarks, truth: &Landmarks) -> Option<f32> {
    let norm = truth[36].distance(truth[45]);
    if norm <= 1e-6 {
        return None;
    }
    let mean = pred
        .iter()
        .zip(truth)
        .map(|(a, b)| a.distance(*b))
        .sum::<f32>()
        / LANDMARK_COUNT as f32;
    Some(mean / norm)
}

/// Face regions for the per-region breakdown ([`nme_by_region`]): name and point range.
pub const REGIONS: [(&str, std::ops::Range<usize>); 5] = [
    ("jaw", 0..17),
    ("brows", 17..27),
    ("nose", 27..36),
    ("eyes", 36..48),
    ("mouth", 48..68),
];

/// Each [`REGIONS`] entry's share of the NME: the sum of its point errors divided by 68 and by
/// the outer-eye-corner distance, so the shares add up to [`nme`]. `None` when the
/// ground-truth eye corners coincide.
pub fn nme_by_region(pred: &Landmarks, truth: &Landmarks) -> Option<[f32; 5]> {
    let norm = truth[36].distance(truth[45]);
    if norm <= 1e-6 {
        return None;
    }
    Some(REGIONS.clone().map(|(_, r)| {
        r.map(|i| pred[i].distance(truth[i])).sum::<f32>() / (LANDMARK_COUNT as f32 * norm)
    }))
}

/// Read ground-truth landmarks from `.pts`, `.txt` (68 lines of "x y") or `.json`.
pub fn read_ground_truth(path: &Path) -> Result<Landmarks, MatchError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext == "json" {
        return Ok(Face::load(path)?.points);
    }
    let text = std::fs::read_to_string(path).map_err(|e| MatchError::io(path, e))?;
    parse_ground_truth(&text, &ext, path)
}

/// Parse `.pts` (`ext` "pts") or plain "x y" lines; `path` names the file in errors.
pub fn parse_ground_truth(text: &str, ext: &str, path: &Path) -> Result<Landmarks, MatchError> {
    let mut pts = Vec::new();
    let mut in_braces = ext != "pts";
    for line in text.lines() {
        let line = line.trim();
        if ext == "pts" {
            if line.starts_with('{') {
                in_braces = true;
                continue;
            }
            if line.starts_with('}') {
                break;
            }
        }
        if !in_braces || line.is_empty() {
            continue;
        }
        let nums: Vec<f32> = line
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|e| MatchError::Format {
                path: path.to_path_buf(),
                reason: format!("bad number in line \"{line}\": {e}"),
            })?;
        if nums.len() < 2 {
            return Err(MatchError::Format {
                path: path.to_path_buf(),
                reason: format!("expected \"x y\" in line \"{line}\""),
            });
        }
        if !(nums[0].is_finite() && nums[1].is_finite()) {
            return Err(MatchError::Format {
                path: path.to_path_buf(),
                reason: format!("point {} is not finite: \"{line}\"", pts.len()),
            });
        }
        pts.push(Point::new(nums[0], nums[1]));
    }
    if pts.len() != LANDMARK_COUNT {
        return Err(MatchError::Format {
            path: path.to_path_buf(),
            reason: format!("{} points, expected {LANDMARK_COUNT}", pts.len()),
        });
    }
    let mut out = [Point::default(); LANDMARK_COUNT];
    out.copy_from_slice(&pts);
    Ok(out)
}

/// One image with ground truth found in a folder.
#[derive(Clone, Debug)]
pub struct EvalItem {
    /// The image.
    pub image: PathBuf,
    /// Its landmark file.
    pub truth: PathBuf,
}

/// Images (png, jpg, jpeg, webp) in `dir` (not recursive) with a landmark file of the same stem
/// (`.pts`, `.txt` or `.json`, in that order of preference), sorted by name.
pub fn find_items(dir: &Path) -> Result<Vec<EvalItem>, MatchError> {
    let rd = std::fs::read_dir(dir).map_err(|e| MatchError::io(dir, e))?;
    let mut items = Vec::new();
    for entry in rd {
        let path = entry.map_err(|e| MatchError::io(dir, e))?.path();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !matches!(ext.as_str(), "png" | "jpg" | "jpeg" | "webp") {
            continue;
        }
        for gt in ["pts", "txt", "json"] {
            let t = path.with_extension(gt);
            if t.is_file() {
                items.push(EvalItem {
                    image: path.clone(),
                    truth: t,
                });
                break;
            }
        }
    }
    items.sort_by(|a, b| a.image.cmp(&b.image));
    Ok(items)
}

/// Summary of an evaluation run.
#[derive(Clone, Debug, Default)]
pub struct EvalSummary {
    /// Per image: name and NME (`None` when matching failed outright).
    pub per_image: Vec<(String, Option<f32>)>,
}

impl EvalSummary {
    /// Mean NME over the images that produced a result.
    pub fn mean_nme(&self) -> Option<f32> {
        let v: Vec<f32> = self.per_image.iter().filter_map(|(_, e)| *e).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f32>() / v.len() as f32)
    }

    /// Fraction of images with NME above [`FAILURE_NME`] or no result.
    pub fn failure_rate(&self) -> f32 {
        if self.per_image.is_empty() {
            return 0.0;
        }
        let f = self
            .per_image
            .iter()
            .filter(|(_, e)| e.is_none_or(|v| v > FAILURE_NME))
            .count();
        f as f32 / self.per_image.len() as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landmarks::synthetic::frontal_face;

    #[test]
    fn nme_is_zero_for_identity_and_scales() {
        let t = frontal_face(100.0, 100.0, 50.0);
        assert_eq!(nme(&t, &t), Some(0.0));
        let shifted = t.map(|p| p + Point::new(3.0, 4.0));
        let d = t[36].distance(t[45]);
        assert!((nme(&shifted, &t).unwrap() - 5.0 / d).abs() < 1e-5);
        let parts = nme_by_region(&shifted, &t).unwrap();
        assert!((parts.iter().sum::<f32>() - 5.0 / d).abs() < 1e-5);
        // The jaw holds 17 of the 68 points.
        assert!((parts[0] - 5.0 / d * 17.0 / 68.0).abs() < 1e-5);
    }

    #[test]
    fn reads_pts_and_txt() {
        let dir = tempfile::tempdir().unwrap();
        let t = frontal_face(100.0, 100.0, 50.0);
        let body: String = t.iter().map(|p| format!("{} {}\n", p.x, p.y)).collect();
        let pts = dir.path().join("a.pts");
        std::fs::write(&pts, format!("version: 1\nn_points: 68\n{{\n{body}}}\n")).unwrap();
        let txt = dir.path().join("b.txt");
        std::fs::write(&txt, &body).unwrap();
        for p in [pts, txt] {
            let r = read_ground_truth(&p).unwrap();
            assert!(r[10].distance(t[10]) < 1e-3);
        }
        let bad = dir.path().join("c.txt");
        std::fs::write(&bad, "1 2\n3 4\n").unwrap();
        assert!(
            read_ground_truth(&bad)
                .unwrap_err()
                .to_string()
                .contains("2 points")
        );
        std::fs::write(dir.path().join("a.png"), b"x").unwrap();
        std::fs::write(dir.path().join("b.jpg"), b"x").unwrap();
        std::fs::write(dir.path().join("z.png"), b"x").unwrap();
        let items = find_items(dir.path()).unwrap();
        assert_eq!(items.len(), 2);
        assert!(items[0].truth.ends_with("a.pts"));
    }

    #[test]
    fn a_point_that_is_not_a_number_is_an_error_naming_the_file() {
        let t = frontal_face(100.0, 100.0, 50.0);
        let mut body: String = t.iter().map(|p| format!("{} {}\n", p.x, p.y)).collect();
        body = body.replacen(&format!("{} ", t[0].x), "nan ", 1);
        let text = format!("{{\n{body}}}\n");
        let err = parse_ground_truth(&text, "pts", Path::new("gt/a.pts")).unwrap_err();
        assert!(err.to_string().contains("a.pts"), "{err}");
        assert!(err.to_string().contains("point 0 is not finite"), "{err}");
        let inf = text.replacen("nan ", "inf ", 1);
        assert!(parse_ground_truth(&inf, "pts", Path::new("a.pts")).is_err());
    }

    #[test]
    fn summary_counts_failures() {
        let s = EvalSummary {
            per_image: vec![
                ("a".into(), Some(0.05)),
                ("b".into(), Some(0.2)),
                ("c".into(), None),
            ],
        };
        assert!((s.mean_nme().unwrap() - 0.125).abs() < 1e-6);
        assert!((s.failure_rate() - 2.0 / 3.0).abs() < 1e-6);
    }
}
