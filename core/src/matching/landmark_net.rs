//! A second opinion on the face mesh's 68 points: face-api.js's 68-point network
//! ([`crate::nn::Landmark68Net`]) on a square crop placed by the mesh's points, run on the crop
//! and on its mirror image. The two networks err differently (the mesh's 68 points come from a
//! map of its 468 surface vertices and squeeze drawn faces into human proportions; this network
//! regresses the 68 points themselves), so [`mesh_face`](super::mesh_face) averages them.

use image::RgbImage;

use super::MatchError;
use crate::landmarks::{Landmarks, MIRROR, Point};
use crate::nn::Landmark68Net;
use crate::nn::crop::{Border, Range, RotatedRect, crop_to_tensor};
use crate::nn::landmark68::LANDMARK68_SIZE;
use crate::nn::ops::FeatureMap;

/// Side of the network's crop over the larger side of the points' box (in the face's frame).
/// face-api.js feeds the network detector boxes, which reach past the 68 points; of 1.0–1.8,
/// 1.3–1.4 measured best on the shared caricatures and photos.
pub const CROP_SCALE: f32 = 1.4;
/// Downward shift of the crop's centre, as a fraction of the points' box height. The mesh's
/// points squeeze a caricature's long lower face, so a lower crop shows the network more of it.
pub const CROP_SHIFT: f32 = 0.1;
/// Weight of the network's points in [`blend`] for the jaw and nose (the mesh's get the
/// rest): an even blend beats either network alone on drawn faces and on photographs.
pub const NET_WEIGHT: f32 = 0.5;
/// Weight of the network's points for the eyes and brows (36–47, 17–26), where the mesh, refined
/// by its eye model, is the better of the two.
pub const NET_WEIGHT_EYES_BROWS: f32 = 0.25;
/// Weight of the network's points for the mouth (48–67), whose size the network follows better
/// than the mesh on drawn faces.
pub const NET_WEIGHT_MOUTH: f32 = 0.75;

/// The square crop the network sees for a face whose points are `around`: aligned with the
/// eye line (outer corners 36 → 45), [`CROP_SCALE`] times the points' box, shifted down by
/// [`CROP_SHIFT`] of its height. `None` for degenerate points.
pub fn crop_rect(around: &Landmarks) -> Option<RotatedRect> {
    let (a, b) = (around[36], around[45]);
    let angle = crate::track::roi::roll_angle([a.x, a.y], [b.x, b.y]);
    let (s, c) = angle.sin_cos();
    let n = around.len() as f32;
    let centre = around.iter().fold(Point::new(0.0, 0.0), |a, &p| a + p);
    let centre = Point::new(centre.x / n, centre.y / n);
    // The points in the face's frame (x along the eye line).
    let local = around.map(|p| {
        let d = p - centre;
        Point::new(c * d.x + s * d.y, -s * d.x + c * d.y)
    });
    let (mut lo, mut hi) = (local[0], local[0]);
    for p in &local {
        lo = Point::new(lo.x.min(p.x), lo.y.min(p.y));
        hi = Point::new(hi.x.max(p.x), hi.y.max(p.y));
    }
    let (w, h) = (hi.x - lo.x, hi.y - lo.y);
    let side = w.max(h) * CROP_SCALE;
    if !(side.is_finite() && side > 1.0) {
        return None;
    }
    // The box centre, shifted down, back in image pixels.
    let (u, v) = ((lo.x + hi.x) / 2.0, (lo.y + hi.y) / 2.0 + CROP_SHIFT * h);
    Some(RotatedRect {
        cx: centre.x + c * u - s * v,
        cy: centre.y + s * u + c * v,
        width: side,
        height: side,
        angle,
    })
}

/// The network's 68 points for the face whose approximate points are `around` in `img`: the
/// mean of its result on the crop and (mirrored back) on the crop's mirror image. `None` when
/// `around` is degenerate or the result is not finite.
pub fn net_points(
    net: &Landmark68Net,
    img: &RgbImage,
    around: &Landmarks,
) -> Result<Option<Landmarks>, MatchError> {
    let Some(rect) = crop_rect(around) else {
        return Ok(None);
    };
    Ok(net_points_in(net, img, &rect)?.map(|(direct, mirrored)| mean_of(&direct, &mirrored)))
}

/// The point-by-point mean of two sets of points.
pub fn mean_of(a: &Landmarks, b: &Landmarks) -> Landmarks {
    std::array::from_fn(|i| Point::new((a[i].x + b[i].x) / 2.0, (a[i].y + b[i].y) / 2.0))
}

/// The network's points on the crop `rect` of `img` and, mirrored back, on the crop's mirror
/// image, both in image pixels; `None` when a result is not finite.
pub fn net_points_in(
    net: &Landmark68Net,
    img: &RgbImage,
    rect: &RotatedRect,
) -> Result<Option<(Landmarks, Landmarks)>, MatchError> {
    let n = LANDMARK68_SIZE;
    let inputs = [false, true].map(|flip| {
        let data = crop_to_tensor(img, rect, n, Border::Zero, Range::ZeroOne, flip);
        FeatureMap {
            h: n,
            w: n,
            c: 3,
            data,
        }
    });
    let outs = net
        .forward_maps(&inputs)
        .map_err(|e| MatchError::Model(format!("68-point network: {e}")))?;
    let size = n as f32;
    let to_image = |x: f32, y: f32| {
        let (x, y) = rect.to_image(x, y, size);
        Point::new(x, y)
    };
    let direct: Landmarks = std::array::from_fn(|i| {
        let [x, y] = outs[0][i];
        to_image(x * size, y * size)
    });
    // Column u of the mirrored crop shows column (size − 1 − u) of the crop; the mirror's
    // point MIRROR[i] is point i.
    let mirrored: Landmarks = std::array::from_fn(|i| {
        let [xm, ym] = outs[1][MIRROR[i]];
        to_image(size - 1.0 - xm * size, ym * size)
    });
    let finite = direct.iter().chain(&mirrored).all(|p| p.is_finite());
    Ok(finite.then_some((direct, mirrored)))
}

/// Distance between the two networks' points (over the mesh's outer-eye-corner distance) at
/// which a point's agreement is ½. On the shared caricatures the points beyond it (22 %) err
/// 2.4× as much as the rest (0.183 against 0.077 NME), on the photos (9 %) 1.9× as much.
pub const AGREEMENT_SCALE: f32 = 0.1;

/// How much the two networks agree on each point, in (0, 1]: `1 / (1 + (d / s)²)` with `d` the
/// distance between their points over the mesh's outer-eye-corner distance and `s` =
/// [`AGREEMENT_SCALE`]. All ones when the mesh's eye corners coincide.
pub fn agreement(mesh: &Landmarks, net: &Landmarks) -> [f32; 68] {
    let eyes = (mesh[45] - mesh[36]).norm();
    if !eyes.is_finite() || eyes <= 1e-3 {
        return [1.0; 68];
    }
    std::array::from_fn(|i| {
        let d = (mesh[i] - net[i]).norm() / (eyes * AGREEMENT_SCALE);
        1.0 / (1.0 + d * d)
    })
}

/// `(1 − w)·mesh + w·net`, point by point, with `w` = [`NET_WEIGHT_EYES_BROWS`] for the eyes
/// and brows, [`NET_WEIGHT_MOUTH`] for the mouth and [`NET_WEIGHT`] for the jaw and nose.
pub fn blend(mesh: &Landmarks, net: &Landmarks) -> Landmarks {
    std::array::from_fn(|i| {
        let (a, b) = (mesh[i], net[i]);
        let w = if (17..27).contains(&i) || (36..48).contains(&i) {
            NET_WEIGHT_EYES_BROWS
        } else if i >= 48 {
            NET_WEIGHT_MOUTH
        } else {
            NET_WEIGHT
        };
        Point::new(a.x + w * (b.x - a.x), a.y + w * (b.y - a.y))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landmarks::test_shapes::frontal_face;

    #[test]
    fn the_crop_is_aligned_with_the_eye_line_and_covers_the_face() {
        let face = frontal_face(200.0, 220.0, 100.0);
        let r = crop_rect(&face).unwrap();
        assert!(r.angle.abs() < 1e-3, "level eyes, angle {}", r.angle);
        // Every point lies inside the crop, with margin.
        for p in &face {
            assert!(
                (p.x - r.cx).abs() < r.width / 2.0 * 0.8,
                "{p:?} outside {r:?}"
            );
            assert!(
                (p.y - r.cy).abs() < r.height / 2.0 * 0.8,
                "{p:?} outside {r:?}"
            );
        }
        // Turned by 30°: the crop turns with it and keeps its size.
        let a = 30f32.to_radians();
        let turned = face.map(|p| {
            let d = p - Point::new(200.0, 220.0);
            Point::new(
                200.0 + a.cos() * d.x - a.sin() * d.y,
                220.0 + a.sin() * d.x + a.cos() * d.y,
            )
        });
        let t = crop_rect(&turned).unwrap();
        assert!((t.angle - a).abs() < 1e-3);
        assert!((t.width - r.width).abs() < 0.01 * r.width);
    }

    /// On the public-domain astronaut photo, upright and turned by 25°, the network (placed by
    /// the face mesh's points) agrees with the mesh: a wrong crop angle, scale or mirror map
    /// would put its points far off.
    #[test]
    fn the_network_agrees_with_the_face_mesh_on_a_photo() {
        let net = Landmark68Net::embedded().unwrap();
        let mut tracker = crate::track::Tracker::with_defaults().unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/parity");
        for name in ["astronaut.png", "astronaut_rot.png"] {
            let img = image::open(dir.join(name)).unwrap().to_rgb8();
            let mesh = tracker.process_still(&img).unwrap().unwrap().landmarks;
            let ours = net_points(net, &img, &mesh).unwrap().unwrap();
            let d = crate::matching::eval::nme(&ours, &mesh).unwrap();
            println!("{name}: network vs mesh NME {d:.4}");
            assert!(d < 0.08, "{name}: the network is {d} NME from the mesh");
        }
    }

    #[test]
    fn degenerate_points_give_no_crop() {
        assert!(crop_rect(&[Point::new(5.0, 5.0); 68]).is_none());
        assert!(crop_rect(&[Point::new(f32::NAN, 5.0); 68]).is_none());
    }

    #[test]
    fn agreement_falls_with_the_distance_between_the_networks() {
        let mesh = crate::landmarks::test_shapes::frontal_face(100.0, 100.0, 50.0);
        let eyes = (mesh[45] - mesh[36]).norm();
        let mut net = mesh;
        net[8] = net[8] + Point::new(0.0, AGREEMENT_SCALE * eyes);
        net[30] = net[30] + Point::new(3.0 * AGREEMENT_SCALE * eyes, 0.0);
        let a = agreement(&mesh, &net);
        assert!((a[0] - 1.0).abs() < 1e-6);
        assert!((a[8] - 0.5).abs() < 1e-4, "{}", a[8]);
        assert!((a[30] - 0.1).abs() < 1e-4, "{}", a[30]);
        assert_eq!(agreement(&[Point::new(1.0, 1.0); 68], &net), [1.0; 68]);
    }

    #[test]
    fn blend_is_the_weighted_mean() {
        let a = [Point::new(0.0, 10.0); 68];
        let b = [Point::new(10.0, 0.0); 68];
        let m = blend(&a, &b);
        assert!((m[7].x - 10.0 * NET_WEIGHT).abs() < 1e-6);
        assert!((m[7].y - 10.0 * (1.0 - NET_WEIGHT)).abs() < 1e-6);
        assert!((m[40].x - 10.0 * NET_WEIGHT_EYES_BROWS).abs() < 1e-6);
        assert!((m[20].x - 10.0 * NET_WEIGHT_EYES_BROWS).abs() < 1e-6);
        assert!((m[30].x - 10.0 * NET_WEIGHT).abs() < 1e-6);
        assert!((m[48].x - 10.0 * NET_WEIGHT_MOUTH).abs() < 1e-6);
        assert!((m[67].x - 10.0 * NET_WEIGHT_MOUTH).abs() < 1e-6);
    }
}
