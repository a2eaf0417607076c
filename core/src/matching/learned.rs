//! The learned backend: the project's 68-point networks for stylized faces
//! ([`Landmark68Net::stylized`], face-api.js's net fine-tuned on generated characters and
//! exaggerated real faces by `tools/train/`, and [`Landmark68Net::stylized_refined`], the same
//! trained further on refined-pass crops only, for the refined pass; model card in
//! `models/README.md`), on their own, with no face detector.
//!
//! Characters often defeat a human face detector, so the network finds the face itself: a
//! *coarse pass* on the whole picture (a square as large as its long side, zero outside it, as
//! in training) gives rough points, whose crop ([`landmark_net::crop_rect`]: aligned with the
//! eye line, 1.4 × the points' box) feeds a *refined pass*; [`REFINE_PASSES`] of them (one
//! more where the first moves the crop far, [`RECENTRE_MOVE`]), each re-centred on the last,
//! the last on three crops of nearby sizes ([`REFINE_SCALES`]). Every crop is read as it is
//! and mirrored; the mean of the last pass's readings is the answer, the spread between its
//! first crop's two, point by point, the confidence ([`confidence`]), and the first pass's mean
//! spread says whether there is a face ([`NO_FACE_SPREAD`]). Where the whole picture gives no
//! sure reading (a small face, several faces), a *crop search* reads overlapping windows,
//! largest first (each with one refined pass on one crop), and keeps the largest face it is
//! sure of among the windows of the first size that finds one ([`SEARCH_SIDES`],
//! [`SEARCH_SURE_SPREAD`]), read again with all the refined passes.

use image::{RgbImage, RgbaImage};
use rayon::prelude::*;

use super::landmark_net::{self, mean_of, net_points_in};
use super::{MatchError, mesh_path::on_white};
use crate::landmarks::{Face, ImageSize, Landmarks, Point};
use crate::nn::Landmark68Net;
use crate::nn::crop::RotatedRect;

/// Refined passes after the coarse one for an answer (the crop search's windows get one). Each
/// re-centres the crop on the previous pass's points; all but the last read one crop, the last
/// [`REFINE_SCALES`]. With the refined pass's own network, one pass → two lowered the network's
/// mean NME over the six tuning sets from 0.0584 to 0.0511 (faces small in the picture 0.132 →
/// 0.088; no set worse by more than 0.001), for one more flip pair an answer.
pub const REFINE_PASSES: usize = 2;

/// How far the first refined pass moved the crop ([`crop_moved`]) past which one more
/// re-centring pass (on one crop) comes before the last: a face small in the coarse pass's
/// square lands far from where the coarse points put it and needs another pass to settle. On
/// the tuning sets (network alone) faces small in the picture 0.0876 → 0.0840, the six sets'
/// mean 0.0511 → 0.0505, no set worse; 0.3 reads the same, 0.1 (one more pass for a third of
/// the faces filling the picture too) betters the small faces further but worsens those.
pub const RECENTRE_MOVE: f32 = 0.2;

/// Crop sides of the refined pass, relative to [`landmark_net::crop_rect`]'s, the crop itself
/// first: the answer is the mean of the three crops' direct and mirrored readings. On the tuning
/// sets (v4 alone) the mean NME over six sets fell from 0.0700 (one crop) to 0.0688, no set
/// worse by more than 0.0002; it costs the refined pass three times as much.
pub const REFINE_SCALES: [f32; 3] = [1.0, 0.9, 1.1];

/// Spread between the direct and the mirrored result of a point (over the outer-eye-corner
/// distance) at which its confidence is ½ (see [`confidence`]). On the tuning set the 12 % of
/// points it puts under ½ err 2.5× as much as the rest (0.139 against 0.057); a scale of 0.05
/// flags 30 % at 1.8×.
pub const SPREAD_SCALE: f32 = 0.08;

/// Mean flip spread ([`LearnedFace::spread`]) above which the network is taken not to see one
/// face: the crop search then runs, and `auto` flags such a reading as unsure. On the tuning set
/// 95 % of faces spread less (median 0.039); a blank, a gradient and a noise picture spread
/// 0.15–0.38.
pub const NO_FACE_SPREAD: f32 = 0.1;

/// The learned backend's result.
#[derive(Debug, Clone)]
pub struct LearnedFace {
    /// The 68 points with per-point confidence.
    pub face: Face,
    /// Mean spread between the direct and the mirrored reading of the first refined pass's
    /// first crop, over the outer-eye-corner distance (0 when the two coincide, infinite when
    /// the eye corners do): whether there is a face ([`NO_FACE_SPREAD`]).
    pub spread: f32,
    /// Found by the crop search ([`SEARCH_SIDES`]), not on the whole picture.
    pub searched: bool,
    /// Refined passes read: [`REFINE_PASSES`], one more where the crop moved far
    /// ([`RECENTRE_MOVE`]).
    pub passes: usize,
}

/// Per-point confidence from the flip ensemble: `1 / (1 + (d / s)²)`, with `d` the distance
/// between the direct and the mirrored result over the outer-eye-corner distance of their mean
/// and `s` = [`SPREAD_SCALE`]. All ½ when the eye corners coincide (nothing to scale by).
pub fn confidence(direct: &Landmarks, mirrored: &Landmarks) -> [f32; 68] {
    let Some(eyes) = eye_distance(direct, mirrored) else {
        return [0.5; 68];
    };
    std::array::from_fn(|i| {
        let d = (direct[i] - mirrored[i]).norm() / (eyes * SPREAD_SCALE);
        1.0 / (1.0 + d * d)
    })
}

/// The square the coarse pass sees: the whole picture, centred, as large as its long side
/// (pixel `u` of the crop samples `u / 112` of the side, so the centre is at `(w − 1) / 2`
/// less half a pixel's share, exactly as `tools/train/make_data.py` samples it).
pub fn whole_picture(width: u32, height: u32) -> RotatedRect {
    RotatedRect {
        cx: width as f32 / 2.0 - 0.5,
        cy: height as f32 / 2.0 - 0.5,
        width: width.max(height) as f32,
        height: width.max(height) as f32,
        angle: 0.0,
    }
}

/// Sides of the crop search's square windows, as fractions of the picture's short side. Where
/// the whole picture gives no sure reading (a face small in the picture, or several faces), the
/// windows of each side, overlapping by half, are read, largest side first; the first side with
/// sure readings lying inside their window answers with its largest face.
pub const SEARCH_SIDES: [f32; 3] = [1.0, 0.6, 0.35];

/// Mean flip spread at most which the crop search takes a window's reading for a face: stricter
/// than [`NO_FACE_SPREAD`], as each of its many windows is one more chance of a spuriously sure
/// reading (on the tuning sets the network alone: small faces 0.218 without the search, 0.289
/// with it at 0.1, 0.213 at 0.05).
pub const SEARCH_SURE_SPREAD: f32 = 0.05;

/// Smallest window side (pixels) the crop search reads.
pub const MIN_SEARCH_SIDE: f32 = 48.0;

/// Most windows the crop search reads at one side (a 4:3 picture needs at most 35; a panorama
/// would need thousands): bounds its time on any picture, at the cost of gaps between windows
/// along a very long picture.
pub const MAX_SEARCH_WINDOWS: usize = 64;

/// The stylized network's 68 points for the face in `image` (transparent pixels on white): the
/// whole picture's reading when sure, else the crop search's when it finds a face, else the
/// whole picture's. `Ok(None)` when neither the whole picture nor the search gives finite,
/// usable (not degenerate) points.
pub fn learned_face(image: &RgbaImage) -> Result<Option<LearnedFace>, MatchError> {
    learned_face_with(image, PassNets::stylized()?)
}

/// The networks of the two passes: the coarse pass reads whole pictures and the crop search's
/// windows, the refined pass the crops the coarse points place.
#[derive(Clone, Copy)]
pub struct PassNets<'a> {
    /// Reads a face anywhere in its square (the whole picture, a search window).
    pub coarse: &'a Landmark68Net,
    /// Reads a face framed by [`landmark_net::crop_rect`].
    pub refined: &'a Landmark68Net,
}

impl PassNets<'static> {
    /// The project's stylized networks, built into the binary ([`Landmark68Net::stylized`] and
    /// [`Landmark68Net::stylized_refined`]).
    pub fn stylized() -> Result<Self, MatchError> {
        let model = |e| MatchError::Model(format!("stylized 68-point network: {e}"));
        Ok(Self {
            coarse: Landmark68Net::stylized().map_err(model)?,
            refined: Landmark68Net::stylized_refined().map_err(model)?,
        })
    }
}

/// [`learned_face`] with other networks `nets` (for comparing networks).
pub fn learned_face_with(
    image: &RgbaImage,
    nets: PassNets<'_>,
) -> Result<Option<LearnedFace>, MatchError> {
    let rgb = on_white(image);
    let (w, h) = rgb.dimensions();
    let whole = read_in(nets, &rgb, &whole_picture(w, h))?;
    if whole.as_ref().is_some_and(|l| l.spread <= NO_FACE_SPREAD) {
        return Ok(whole);
    }
    Ok(search(nets, &rgb)?.or(whole))
}

/// The largest face among the sure readings of the crop search's windows that lie inside their
/// window (a reading reaching the window's edge may be of a face the window cuts). Window sides
/// are read largest first and the search stops at the first side with a sure face: a face a
/// larger window reads surely is usually the larger one (a large face that every larger window
/// cuts is found only with the smaller windows, after a smaller face alone in a larger one), and
/// a picture with a large face costs a few windows instead of all.
fn search(nets: PassNets<'_>, rgb: &RgbImage) -> Result<Option<LearnedFace>, MatchError> {
    let windows = search_windows(rgb.width() as f32, rgb.height() as f32);
    for side in windows.chunk_by(|a, b| a.2 == b.2) {
        if let Some(found) = largest_sure_face(nets, rgb, side)? {
            return Ok(Some(LearnedFace {
                searched: true,
                ..found
            }));
        }
    }
    Ok(None)
}

/// The largest face among the sure readings of `windows` (left, top, side) lying inside their
/// window, read in parallel and chosen in the windows' order: the same answer on any number of
/// cores. Windows are read with one refined pass on one crop; the chosen one again with
/// [`REFINE_PASSES`], the last on [`REFINE_SCALES`].
fn largest_sure_face(
    nets: PassNets<'_>,
    rgb: &RgbImage,
    windows: &[(f32, f32, f32)],
) -> Result<Option<LearnedFace>, MatchError> {
    let readings = windows
        .par_iter()
        .map(|&(x0, y0, side)| {
            let Some(coarse) = net_points_in(nets.coarse, rgb, &window_rect(x0, y0, side))? else {
                return Ok(None);
            };
            Ok(refine(nets.refined, rgb, coarse, 1, &REFINE_SCALES[..1])?.map(|l| (coarse, l)))
        })
        .collect::<Result<Vec<_>, MatchError>>()?;
    let mut best: Option<(f32, FlipPair)> = None;
    for (&(x0, y0, side), reading) in windows.iter().zip(readings) {
        let Some((coarse, l)) = reading else {
            continue;
        };
        let margin = 0.02 * side;
        let inside = l.face.points.iter().all(|p| {
            p.x >= x0 + margin
                && p.y >= y0 + margin
                && p.x <= x0 + side - margin
                && p.y <= y0 + side - margin
        });
        let eyes = (l.face.points[45] - l.face.points[36]).norm();
        if l.spread <= SEARCH_SURE_SPREAD && inside && best.as_ref().is_none_or(|(e, _)| eyes > *e)
        {
            best = Some((eyes, coarse));
        }
    }
    match best {
        Some((_, coarse)) => refine(nets.refined, rgb, coarse, REFINE_PASSES, &REFINE_SCALES),
        None => Ok(None),
    }
}

/// The square window with top-left corner (`x0`, `y0`) and side `side`.
fn window_rect(x0: f32, y0: f32, side: f32) -> RotatedRect {
    RotatedRect {
        cx: x0 + side / 2.0 - 0.5,
        cy: y0 + side / 2.0 - 0.5,
        width: side,
        height: side,
        angle: 0.0,
    }
}

/// The crop search's windows on a `w` × `h` picture as (left, top, side), largest first.
fn search_windows(w: f32, h: f32) -> Vec<(f32, f32, f32)> {
    let mut windows = Vec::new();
    for fraction in SEARCH_SIDES {
        let side = fraction * w.min(h);
        // The whole picture's square is read already.
        if side < MIN_SEARCH_SIDE || side >= w.max(h) {
            continue;
        }
        // Half-overlapping windows along each axis (the last one against the far edge).
        let count = |len: f32| ((len - side) / (side / 2.0)).ceil().max(0.0) as usize + 1;
        let (mut nx, mut ny) = (count(w), count(h));
        // Past the cap (a very long picture), fewer windows along the long axis, evenly spread:
        // they overlap less, or leave gaps between them.
        let capped = nx * ny > MAX_SEARCH_WINDOWS;
        if capped {
            if w >= h {
                nx = (MAX_SEARCH_WINDOWS / ny).max(1);
            } else {
                ny = (MAX_SEARCH_WINDOWS / nx).max(1);
            }
        }
        let starts = |len: f32, n: usize| {
            let step = match (capped, n) {
                (_, 0 | 1) => 0.0,
                (true, n) => (len - side) / (n - 1) as f32,
                (false, _) => side / 2.0,
            };
            (0..n).map(move |i| (i as f32 * step).min(len - side))
        };
        for y0 in starts(h, ny) {
            windows.extend(starts(w, nx).map(|x0| (x0, y0, side)));
        }
    }
    windows
}

/// The outer-eye-corner distance of the mean of the direct and the mirrored reading, `None`
/// when the corners (nearly) coincide or are not finite: nothing to scale the spread by.
fn eye_distance(direct: &Landmarks, mirrored: &Landmarks) -> Option<f32> {
    let mean = mean_of(direct, mirrored);
    let eyes = (mean[45] - mean[36]).norm();
    (eyes.is_finite() && eyes > 1e-3).then_some(eyes)
}

/// Mean distance between the direct and the mirrored reading's points over their
/// [`eye_distance`]; infinite when the eye corners coincide (no face to be sure of).
fn flip_spread(direct: &Landmarks, mirrored: &Landmarks) -> f32 {
    eye_distance(direct, mirrored).map_or(f32::INFINITY, |eyes| {
        (0..68)
            .map(|i| (direct[i] - mirrored[i]).norm())
            .sum::<f32>()
            / (68.0 * eyes)
    })
}

/// A coarse pass on `rect` of `rgb` and the refined passes after it.
fn read_in(
    nets: PassNets<'_>,
    rgb: &RgbImage,
    rect: &RotatedRect,
) -> Result<Option<LearnedFace>, MatchError> {
    match net_points_in(nets.coarse, rgb, rect)? {
        Some(pair) => refine(nets.refined, rgb, pair, REFINE_PASSES, &REFINE_SCALES),
        None => Ok(None),
    }
}

/// `passes` refined passes (one more where the first moves the crop far: [`RECENTRE_MOVE`])
/// after a coarse pass's direct and mirrored points `coarse`, the last on crops `scales` times
/// as large as [`landmark_net::crop_rect`]'s, the earlier on the first of them: the points are
/// the mean of the last pass's readings, the confidence that of its first crop's flip pair. The
/// spread, which decides whether there is a face, is the first pass's first crop's (the
/// thresholds were measured on one pass of one crop; a further pass locks onto one of two
/// faces and reads it as sure).
fn refine(
    net: &Landmark68Net,
    rgb: &RgbImage,
    coarse: FlipPair,
    passes: usize,
    scales: &[f32],
) -> Result<Option<LearnedFace>, MatchError> {
    let (w, h) = rgb.dimensions();
    let mut points = mean_of(&coarse.0, &coarse.1);
    let (mut direct, mut mirrored) = coarse;
    debug_assert!(passes >= 1 && !scales.is_empty());
    let mut spread = f32::INFINITY;
    let mut passes = passes;
    let mut previous: Option<RotatedRect> = None;
    let mut pass = 0;
    while pass < passes {
        let Some(rect) = landmark_net::crop_rect(&points) else {
            return Ok(None);
        };
        if pass == 1 && previous.is_some_and(|p| crop_moved(&p, &rect) > RECENTRE_MOVE) {
            passes += 1;
        }
        previous = Some(rect);
        // Passes before the last only re-centre the crop: one crop is enough for that.
        let scales = if pass + 1 < passes {
            &scales[..1]
        } else {
            scales
        };
        let Some((mean, pair)) = scale_ensemble(net, rgb, &rect, scales)? else {
            return Ok(None);
        };
        (points, (direct, mirrored)) = (mean, pair);
        if pass == 0 {
            spread = flip_spread(&direct, &mirrored);
        }
        pass += 1;
    }
    let mut face = Face::new(
        points,
        Some(ImageSize {
            width: w,
            height: h,
        }),
    );
    face.confidence = confidence(&direct, &mirrored);
    Ok(Some(LearnedFace {
        face,
        spread,
        searched: false,
        passes,
    }))
}

/// How far crop `b` lies from crop `a`: the distance between their centres over `a`'s side,
/// plus the log of their sides' ratio.
fn crop_moved(a: &RotatedRect, b: &RotatedRect) -> f32 {
    (b.cx - a.cx).hypot(b.cy - a.cy) / a.width.max(1e-6) + (b.width / a.width.max(1e-6)).ln().abs()
}

/// A crop's direct points and its mirror image's, mirrored back.
type FlipPair = (Landmarks, Landmarks);

/// The mean of the direct and the mirrored points over crops `scales` times as large as `rect`
/// (those with finite readings), and the direct and mirrored points of the first; `None` when
/// the first's are not finite.
fn scale_ensemble(
    net: &Landmark68Net,
    rgb: &RgbImage,
    rect: &RotatedRect,
    scales: &[f32],
) -> Result<Option<(Landmarks, FlipPair)>, MatchError> {
    let mut sum = [Point::new(0.0, 0.0); 68];
    let (mut first, mut n) = (None, 0.0);
    for (k, &scale) in scales.iter().enumerate() {
        let scaled = RotatedRect {
            width: rect.width * scale,
            height: rect.height * scale,
            ..*rect
        };
        let Some((d, m)) = net_points_in(net, rgb, &scaled)? else {
            if k == 0 {
                return Ok(None);
            }
            continue;
        };
        for i in 0..68 {
            sum[i] = sum[i] + d[i] + m[i];
        }
        n += 2.0;
        first.get_or_insert((d, m));
    }
    Ok(first.map(|pair| (sum.map(|p| p * (1.0 / n)), pair)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landmarks::Point;
    use crate::landmarks::test_shapes::frontal_face;

    #[test]
    fn the_whole_picture_square_is_centred_and_covers_the_long_side() {
        let r = whole_picture(300, 200);
        assert_eq!((r.cx, r.cy, r.width, r.height), (149.5, 99.5, 300.0, 300.0));
        // Crop pixel 0 samples the picture's left edge (half a pixel outside the first centre).
        let (x, _) = r.to_image(0.0, 56.0, 112.0);
        assert!((x + 0.5).abs() < 1e-4, "{x}");
    }

    #[test]
    fn confidence_falls_with_the_flip_spread() {
        let a = frontal_face(100.0, 100.0, 50.0);
        let eyes = (a[45] - a[36]).norm();
        let mut b = a;
        // A point SPREAD_SCALE eye distances apart: the eye corners stay, confidence ½.
        b[8] = b[8] + Point::new(0.0, SPREAD_SCALE * eyes);
        let c = confidence(&a, &b);
        assert!((c[0] - 1.0).abs() < 1e-6);
        assert!((c[8] - 0.5).abs() < 1e-3, "{}", c[8]);
        let point = [Point::new(1.0, 1.0); 68];
        assert_eq!(confidence(&point, &point), [0.5; 68]);
    }

    /// A generated cartoon (the Rust generator, at a seed training never drew): the learned
    /// backend finds the face by itself; measured NME 0.0207.
    #[test]
    fn the_learned_backend_finds_a_generated_cartoon() {
        let c = crate::cartoon::Cartoon::generate(460_000, 256);
        let r = learned_face(&c.image).unwrap().unwrap();
        let nme = crate::matching::eval::nme(&r.face.points, &c.face.points).unwrap();
        println!("learned NME {nme:.4}, spread {:.4}", r.spread);
        assert!(nme < 0.03, "NME {nme}");
    }

    /// The refined pass on three crops keeps the first crop's flip pair for the confidence and
    /// the spread, and moves the points (the mean over the crops) a little.
    #[test]
    fn three_crops_move_the_points_but_not_the_confidence() {
        let c = crate::cartoon::Cartoon::generate(460_000, 256);
        let rgb = on_white(&c.image);
        let nets = PassNets::stylized().unwrap();
        let coarse = net_points_in(nets.coarse, &rgb, &whole_picture(256, 256))
            .unwrap()
            .unwrap();
        let one = refine(
            nets.refined,
            &rgb,
            coarse,
            REFINE_PASSES,
            &REFINE_SCALES[..1],
        )
        .unwrap()
        .unwrap();
        let three = refine(nets.refined, &rgb, coarse, REFINE_PASSES, &REFINE_SCALES)
            .unwrap()
            .unwrap();
        assert_eq!(one.spread, three.spread);
        assert_eq!(one.face.confidence, three.face.confidence);
        let moved = crate::matching::eval::nme(&one.face.points, &three.face.points).unwrap();
        assert!(moved > 1e-4 && moved < 0.02, "{moved}");
    }

    /// A face filling the picture settles after the refined passes; one small in the picture
    /// moves far in the first and gets one more.
    #[test]
    fn a_crop_that_moves_far_gets_one_more_pass() {
        let c = crate::cartoon::Cartoon::generate(460_000, 256);
        let filling = learned_face(&c.image).unwrap().unwrap();
        assert_eq!(filling.passes, REFINE_PASSES);
        // A character half the picture's side, off centre: the whole picture still reads it.
        let mut scene = RgbaImage::from_pixel(512, 512, image::Rgba([200, 220, 235, 255]));
        image::imageops::replace(
            &mut scene,
            &crate::cartoon::Cartoon::generate(17, 256).image,
            200,
            200,
        );
        let small = learned_face(&scene).unwrap().unwrap();
        assert!(!small.searched);
        assert_eq!(small.passes, REFINE_PASSES + 1);
    }

    /// The windows lie inside the picture, half overlapping on an ordinary one, and stay few on
    /// a panorama.
    #[test]
    fn the_crop_search_reads_few_windows_inside_the_picture() {
        let pair = search_windows(448.0, 256.0);
        assert_eq!(pair.len(), 3 + 15 + 45);
        for (w, h) in [
            (448.0, 256.0),
            (256.0, 448.0),
            (8000.0, 60.0),
            (1024.0, 1024.0),
        ] {
            let windows = search_windows(w, h);
            assert!(windows.len() <= SEARCH_SIDES.len() * MAX_SEARCH_WINDOWS);
            for (x, y, side) in windows {
                assert!(x >= 0.0 && y >= 0.0 && x + side <= w && y + side <= h);
                assert!(side >= MIN_SEARCH_SIDE && side < w.max(h));
            }
        }
        assert!(!search_windows(8000.0, 60.0).is_empty());
    }

    /// Two characters in one picture, a smaller one and a large one: the whole picture gives no
    /// sure reading, and the crop search finds the larger face (measured NME 0.019 with either
    /// smaller one). With the 180-pixel one, a second refined pass on the whole picture's
    /// reading would lock onto the smaller face and read it as sure: the spread that decides
    /// is the first pass's.
    #[test]
    fn the_crop_search_finds_the_larger_of_two_faces() {
        use crate::landmarks::Point;
        for small_side in [140, 180] {
            let (small, large) = (
                crate::cartoon::Cartoon::generate(11, small_side),
                crate::cartoon::Cartoon::generate(13, 256),
            );
            let mut pair = RgbaImage::from_pixel(512, 256, image::Rgba([255, 255, 255, 255]));
            image::imageops::replace(
                &mut pair,
                &small.image,
                10,
                (256 - i64::from(small_side)) / 2,
            );
            image::imageops::replace(&mut pair, &large.image, 256, 0);
            let truth = large.face.points.map(|p| p + Point::new(256.0, 0.0));
            let whole = read_in(
                PassNets::stylized().unwrap(),
                &on_white(&pair),
                &whole_picture(512, 256),
            )
            .unwrap()
            .unwrap();
            assert!(
                whole.spread > NO_FACE_SPREAD,
                "{small_side}: {}",
                whole.spread
            );
            let r = learned_face(&pair).unwrap().unwrap();
            assert!(r.searched, "{small_side}");
            let nme = crate::matching::eval::nme(&r.face.points, &truth).unwrap();
            assert!(nme < 0.03, "{small_side}: NME {nme}");
        }
    }
}
