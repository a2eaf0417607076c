//! The face-mesh path: the tracker's detector and face mesh on a still image (on crops when
//! the whole picture shows no face), averaged over ROIs of several heights and blended with
//! face-api.js's 68-point network ([`landmark_net`]).

use super::{MatchError, eval, landmark_net, rearrange};
use crate::landmarks::{Face, Landmarks, Point};
use image::RgbaImage;

/// Face-mesh score a face found in a crop must reach.
pub const CROP_ACCEPT: f32 = 0.9;
/// Crop sides tried when the whole image gives no face, as fractions of the image's short
/// side, coarse to fine: a face filling a tenth of a large photo fills half of the finest crop.
pub const CROP_SCALES: [f32; 3] = [0.6, 0.4, 0.25];
/// Crops smaller than this (pixels) are not tried: upscaled crops give false faces on drawings.
pub const MIN_CROP_SIDE: u32 = 128;

/// Heights of the mesh's ROI, relative to the tracker's square one, whose results
/// [`mesh_face`] averages. The mesh, trained on human faces, squeezes a caricature's long lower
/// face into human proportions; a taller ROI shows it a vertically squashed face. The average
/// over three heights gains most of what a taller ROI gives drawn faces without costing
/// photographs.
pub const MESH_ROI_HEIGHTS: [f32; 3] = [1.0, 1.15, 1.3];

/// The mean of the mesh's 68 points over ROIs of [`MESH_ROI_HEIGHTS`] around the face `f`
/// found in `img` (same width and centre as the square ROI its mesh gives).
fn mesh_points_over_heights(
    tracker: &crate::track::Tracker,
    img: &image::RgbImage,
    f: &crate::track::FrameFace,
) -> Result<Landmarks, MatchError> {
    let base = crate::track::roi::face_roi_from_mesh(&f.mesh);
    let mut sum = [Point::new(0.0, 0.0); 68];
    for k in MESH_ROI_HEIGHTS {
        let roi = crate::nn::crop::RotatedRect {
            height: base.height * k,
            ..base
        };
        let (mesh, _) = tracker
            .mesh_at(img, &roi)
            .map_err(|e| MatchError::Model(format!("face mesh: {e}")))?;
        for (s, p) in sum.iter_mut().zip(tracker.options().map.apply(&mesh)) {
            *s = *s + p;
        }
    }
    let n = MESH_ROI_HEIGHTS.len() as f32;
    let mean = sum.map(|p| Point::new(p.x / n, p.y / n));
    if mean.iter().all(|p| p.is_finite()) {
        Ok(mean)
    } else {
        Ok(f.landmarks)
    }
}

/// `image` composited on white (the networks take RGB; a transparent background reads as paper).
pub fn on_white(image: &RgbaImage) -> image::RgbImage {
    let (w, h) = image.dimensions();
    image::RgbImage::from_fn(w, h, |x, y| {
        let p = image.get_pixel(x, y).0;
        let a = f32::from(p[3]) / 255.0;
        image::Rgb([0, 1, 2].map(|c| (f32::from(p[c]) * a + 255.0 * (1.0 - a)).round() as u8))
    })
}

/// Top-left corners of square crops of side `side` covering `w` × `h` with half-side overlap.
fn crop_grid(w: u32, h: u32, side: u32) -> Vec<(u32, u32)> {
    let steps = |len: u32| -> Vec<u32> {
        let span = len.saturating_sub(side);
        let n = (2 * span).div_ceil(side.max(1)).max(1);
        let mut v: Vec<u32> = (0..=n).map(|k| span * k / n).collect();
        v.dedup();
        v
    };
    let (xs, ys) = (steps(w), steps(h));
    ys.iter()
        .flat_map(|&y| xs.iter().map(move |&x| (x, y)))
        .collect()
}

/// The face-mesh path's result on a still image.
#[derive(Debug, Clone)]
pub struct MeshFace {
    /// The 68 points; each point's confidence is the mesh's face score times the two networks'
    /// agreement on it ([`landmark_net::agreement`]).
    pub face: Face,
    /// The mesh's face score.
    pub presence: f32,
    /// NME between the mesh's and the 68-point network's points (`None` when the network gave
    /// none).
    pub disagreement: Option<f32>,
}

/// The tracker's detector + face mesh on a still image, blended with face-api.js's 68-point
/// network on a crop the mesh's points place ([`landmark_net`]), or `None` when no face is
/// found. When the whole image gives no face (the short-range detector wants a face filling
/// much of the frame), square crops at [`CROP_SCALES`] of the short side are tried on an
/// overlapping grid, coarse to fine; the best confident face of the first scale that has one
/// is kept.
pub fn mesh_face(image: &RgbaImage) -> Result<Option<MeshFace>, MatchError> {
    let net = crate::nn::Landmark68Net::embedded()
        .map_err(|e| MatchError::Model(format!("68-point network: {e}")))?;
    mesh_face_with(image, net)
}

/// [`mesh_face`] with another 68-point network `net` beside the mesh (for comparing networks).
pub fn mesh_face_with(
    image: &RgbaImage,
    net: &crate::nn::Landmark68Net,
) -> Result<Option<MeshFace>, MatchError> {
    let (w, h) = image.dimensions();
    let rgb = on_white(image);
    let mut tracker = crate::track::Tracker::with_defaults()
        .map_err(|e| MatchError::Model(format!("face mesh: {e}")))?;
    let mut run = |img: &image::RgbImage| -> Result<Option<crate::track::FrameFace>, MatchError> {
        let f = tracker
            .process_still(img)
            .map_err(|e| MatchError::Model(format!("face mesh: {e}")))?;
        Ok(f.filter(|f| f.landmarks.iter().all(|p| p.is_finite())))
    };
    // The face found, the crop it was found in (`None`: the whole image) and that crop's corner.
    let mut best = run(&rgb)?.map(|f| (f, None, (0, 0)));
    for scale in CROP_SCALES {
        if best.is_some() {
            break;
        }
        let side = (w.min(h) as f32 * scale).round() as u32;
        if side < MIN_CROP_SIDE {
            break;
        }
        for (x0, y0) in crop_grid(w, h, side) {
            let crop = image::imageops::crop_imm(&rgb, x0, y0, side, side).to_image();
            // Crops see less context: only a confident face counts.
            if let Some(f) = run(&crop)?
                && f.presence >= CROP_ACCEPT
                && best.as_ref().is_none_or(|(b, ..)| f.presence > b.presence)
            {
                best = Some((f, Some(crop), (x0, y0)));
            }
        }
    }
    let Some((f, crop, (x0, y0))) = best else {
        return Ok(None);
    };
    let view = crop.unwrap_or(rgb);
    let offset = Point::new(x0 as f32, y0 as f32);
    let mut mean = mesh_points_over_heights(&tracker, &view, &f)?;
    let mut agreement = [1.0; 68];
    let mut disagreement = None;
    if let Some(second) = landmark_net::net_points(net, &view, &mean)? {
        agreement = landmark_net::agreement(&mean, &second);
        disagreement = eval::nme(&second, &mean);
        mean = landmark_net::blend(&mean, &second);
    } else {
        tracing::debug!("68-point network: no finite result; the mesh's points stand alone");
    }
    // No contour rearrangement here: the networks space the points better than the fitted
    // curves do.
    let points = rearrange::uncross_lids(&mean.map(|p| p + offset));
    let mut face = Face::new(
        points,
        Some(crate::landmarks::ImageSize {
            width: w,
            height: h,
        }),
    );
    let c = f.presence.clamp(0.0, 1.0) * if f.usable { 1.0 } else { 0.5 };
    face.confidence = agreement.map(|a| c * a);
    Ok(Some(MeshFace {
        face,
        presence: f.presence,
        disagreement,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_grid_covers_the_image_with_half_side_steps() {
        let side = 200;
        let grid = crop_grid(817, 1024, side);
        for &(x, y) in &grid {
            assert!(x + side <= 817 && y + side <= 1024);
        }
        for (px, py) in [(0, 0), (816, 1023), (400, 500), (120, 900)] {
            assert!(
                grid.iter()
                    .any(|&(x, y)| px >= x && px < x + side && py >= y && py < y + side)
            );
        }
        let xs: std::collections::BTreeSet<u32> = grid.iter().map(|g| g.0).collect();
        let gaps: Vec<u32> = xs
            .iter()
            .zip(xs.iter().skip(1))
            .map(|(a, b)| b - a)
            .collect();
        assert!(gaps.iter().all(|&g| g <= side / 2), "{gaps:?}");
        // A crop as large as the image is the image.
        assert_eq!(crop_grid(300, 300, 300), vec![(0, 0)]);
    }

    /// On a photo the two networks agree: every point of the mesh path keeps a confidence
    /// above the GUI's "check this point" mark (0.5) and below the face score.
    #[test]
    fn mesh_confidence_follows_the_networks_agreement() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/parity/astronaut.png");
        let img = image::open(path).unwrap().to_rgba8();
        let m = mesh_face(&img).unwrap().unwrap();
        assert!(m.disagreement.unwrap() < 0.06);
        let c = m.face.confidence;
        assert!(
            c.iter().all(|&c| c > 0.5 && c <= m.presence.min(1.0)),
            "{c:?}"
        );
        assert!(c.iter().any(|&c| c < 0.99 * m.presence.min(1.0)));
    }
}
