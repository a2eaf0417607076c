//! Tests of the structural fit.

use super::work::dist2_to_segment;
use super::*;
use crate::cartoon::Cartoon;
use crate::geometry::tangled;
use crate::matching::eval::nme;

/// A drawn face on a plain background: skin ellipse, black dot eyes at y = 132 (x = 98,
/// 158), a mouth stroke, and `extra` drawn on top.
fn drawn_face(extra: impl Fn(&mut RgbaImage)) -> RgbaImage {
    use crate::raster::{ellipse_points, fill_disc, fill_polygon, solid};
    let mut img = solid(256, 256, [90, 110, 150]);
    let face = ellipse_points(Point::new(128.0, 140.0), 82.0, 100.0, 0.0, 64);
    fill_polygon(&mut img, &face, [236, 200, 170]);
    extra(&mut img);
    for x in [98.0, 158.0] {
        fill_disc(&mut img, Point::new(x, 132.0), 7.0, [20, 20, 20]);
    }
    let mouth = [Point::new(108.0, 192.0), Point::new(148.0, 192.0)];
    crate::raster::stroke_polyline(&mut img, &mouth, false, 6.0, [150, 40, 40]);
    img
}

/// Checks that the fitted eyes are [`drawn_face`]'s dot eyes.
fn assert_eyes_on_the_dots(pts: &Landmarks) {
    let (le, re) = (centre(pts, 36, 42), centre(pts, 42, 48));
    assert!(le.distance(Point::new(98.0, 132.0)) < 6.0, "{le:?}");
    assert!(re.distance(Point::new(158.0, 132.0)) < 6.0, "{re:?}");
}

/// Mean of points `i0..i1`.
fn centre(pts: &Landmarks, i0: usize, i1: usize) -> Point {
    Point::mean(pts[i0..i1].iter().copied())
}

#[test]
fn brows_drawn_just_above_the_eyes_are_not_taken_for_eyes() {
    use crate::raster::stroke_polyline;
    // Thick brows 24 px above the eyes: as dark and nearly as large as the eyes.
    let img = drawn_face(|img| {
        for x in [98.0, 158.0] {
            let brow = [Point::new(x - 14.0, 108.0), Point::new(x + 14.0, 108.0)];
            stroke_polyline(img, &brow, false, 9.0, [40, 30, 20]);
        }
    });
    let r = fit(&img, ShapeModel::default_model());
    assert!(r.findings.eyes);
    assert_eyes_on_the_dots(&r.face.points);
    let brows = centre(&r.face.points, 17, 27);
    assert!(brows.y < 122.0, "brows at {brows:?}");
}

#[test]
fn dark_hair_low_over_the_eyes_is_not_taken_for_brows() {
    use crate::raster::fill_polygon;
    // No brows drawn; dark hair comes down to 27 px above the eyes (eye distance 60 px)
    // and goes on past the top of the brow search.
    let img = drawn_face(|img| {
        let hair = [
            Point::new(40.0, 30.0),
            Point::new(216.0, 30.0),
            Point::new(216.0, 105.0),
            Point::new(40.0, 105.0),
        ];
        fill_polygon(img, &hair, [50, 35, 25]);
    });
    let r = fit(&img, ShapeModel::default_model());
    assert_eyes_on_the_dots(&r.face.points);
    let brows = centre(&r.face.points, 17, 27);
    // The hair's lower edge is at y = 105.
    assert!(brows.y > 104.0, "brows at {brows:?}, in the hair");
}

#[test]
fn a_brow_and_the_other_eye_are_not_a_pair() {
    // Generated cartoons (one turned by up to 35°, one frontal) on which one brow and the
    // other side's eye, tilted but within the pair limits, outscored the two eyes.
    let model = ShapeModel::default_model();
    for c in [
        Cartoon::generate_turned(70083, 256, 35f32.to_radians()),
        Cartoon::generate(40041, 256),
    ] {
        let r = fit(&c.image, model);
        let truth = &c.face.points;
        let iod = centre(truth, 36, 42).distance(centre(truth, 42, 48));
        for (i0, i1) in [(36, 42), (42, 48)] {
            let err = centre(&r.face.points, i0, i1).distance(centre(truth, i0, i1));
            assert!(
                err < 0.15 * iod,
                "eye {i0}: off by {err} (eye distance {iod})"
            );
        }
    }
}

/// The fit of generated cartoon `seed` turned by up to `yaw_deg`, with its NME.
fn fit_turned(seed: u64, yaw_deg: f32) -> (StructuralFit, Option<f32>) {
    let c = Cartoon::generate_turned(seed, 256, yaw_deg.to_radians());
    let r = fit(&c.image, ShapeModel::default_model());
    let nme = crate::matching::eval::nme(&r.face.points, &c.face.points);
    (r, nme)
}

/// [`fit_turned`], with how far the centre of the points `part` lies from the truth, in
/// eye distances (outer corners).
fn part_error_turned(
    seed: u64,
    yaw_deg: f32,
    part: std::ops::Range<usize>,
) -> (StructuralFit, f32, Option<f32>) {
    let c = Cartoon::generate_turned(seed, 256, yaw_deg.to_radians());
    let r = fit(&c.image, ShapeModel::default_model());
    let iod = c.face.points[36].distance(c.face.points[45]);
    let (a, b) = (part.start, part.end);
    let off = centre(&r.face.points, a, b).distance(centre(&c.face.points, a, b)) / iod;
    let nme = crate::matching::eval::nme(&r.face.points, &c.face.points);
    (r, off, nme)
}

#[test]
fn a_far_eye_merged_with_the_outline_is_mirrored_or_found_by_its_colours() {
    // Generated heads turned by up to 35° and 40° whose far eye sits on the outline: neither
    // a hole nor a notch of the face. Without the near eye's mirror image (or, where its
    // colours show it, the far eye itself) the fit assumed both eyes and placed a frontal
    // face (NME 0.41, 0.36 and, on the first region found, which is not the face, 0.70).
    for (seed, yaw) in [(70028, 35f32), (95020, 40.0), (95050, 40.0)] {
        let (r, nme) = fit_turned(seed, yaw);
        assert!(
            r.findings.eyes && r.findings.mouth,
            "{seed}: {:?}",
            r.findings
        );
        // Today 0.043, 0.075 and 0.045; the frontal face placed instead was 0.36 and more.
        assert!(nme.is_some_and(|e| e < 0.1), "{seed}: NME {nme:?}");
        if r.findings.one_eye {
            // The mirrored eye is flagged for checking; the found one is not.
            let (found, mirrored) = if r.face.confidence[36] < r.face.confidence[45] {
                (45, 36)
            } else {
                (36, 45)
            };
            assert!(r.face.confidence[mirrored] < 0.5 && r.face.confidence[found] > 0.5);
        }
    }
}

#[test]
fn an_ear_and_the_mouth_are_no_eye_pair() {
    // Turned by up to 40°, the far eye on the outline: the face merged with its ears paired
    // the mouth with the far ear's inner part (NME 1.44); the near eye, a hole more than
    // twice their size, and its mirror image are the eyes.
    let (r, nme) = fit_turned(95022, 40.0);
    assert!(r.findings.eyes, "{:?}", r.findings);
    // Today 0.123.
    assert!(nme.is_some_and(|e| e < 0.135), "NME {nme:?}");
}

#[test]
fn eyes_found_across_the_picture_keep_the_face_under_them() {
    // Turned by 40°, no eye pair among the face region's holes and notches: the eyes come
    // from the picture's dark blobs, and the face region under them still gives the jaw
    // and mouth (before, the whole picture stood for the face: NME 0.157, 0.124, 0.129).
    for seed in [95069, 95066, 95060] {
        let (r, nme) = fit_turned(seed, 40.0);
        assert!(
            r.findings.face && r.findings.eyes,
            "{seed}: {:?}",
            r.findings
        );
        assert!(nme.is_some_and(|e| e < 0.1), "{seed}: NME {nme:?}");
    }
}

#[test]
fn the_face_inside_a_dark_outline_gives_the_mouth() {
    // Turned by 40°: the eyes are dark blobs of the head's outline ring (which also holds
    // the ears), too dark a region for the mouth to stand out in; the lighter face inside
    // it holds the mouth (before, the nose was taken for it: mouth 0.24 eye distances off,
    // NME 0.229).
    let (r, off, nme) = part_error_turned(95089, 40.0, 48..60);
    assert!(r.findings.face && r.findings.eyes && r.findings.mouth);
    assert!(off < 0.1, "mouth {off} eye distances off");
    // Today 0.081.
    assert!(nme.is_some_and(|e| e < 0.1), "NME {nme:?}");
}

#[test]
fn a_big_near_eye_is_the_one_eye_not_its_brow() {
    // Turned by 40°: the near eye takes 6.5 % of the narrow face box; capped at 6 %, the
    // brow above it was taken for the one eye (NME 0.20).
    let (r, off, nme) = part_error_turned(95038, 40.0, 42..48);
    assert!(r.findings.eyes);
    assert!(off < 0.1, "near eye {off} eye distances off");
    assert!(nme.is_some_and(|e| e < 0.1), "NME {nme:?}");
}

#[test]
fn pupils_in_two_big_eyes_are_no_specks() {
    // Eyes too big for an eye pair of holes: their pupils pair up as dark blobs, and the
    // bigger eye hole must not outrank them as if they were specks beside one eye.
    let (r, nme) = fit_turned(70099, 35.0);
    assert!(r.findings.eyes && !r.findings.one_eye, "{:?}", r.findings);
    assert!(nme.is_some_and(|e| e < 0.06), "NME {nme:?}");
}

#[test]
fn a_turned_heads_mouth_off_the_eyes_bisector_is_found() {
    // Turned by 40°: the mouth lies 0.47 eye distances off the eyes' bisector (the eyes
    // drawn together, the mouth shifted); within 0.35 only the nose qualified (NME 0.20).
    let (_, off, nme) = part_error_turned(95056, 40.0, 48..60);
    assert!(off < 0.15, "mouth {off} eye distances off");
    assert!(nme.is_some_and(|e| e < 0.1), "NME {nme:?}");
}

#[test]
fn dark_specks_do_not_outvote_an_eye_hole() {
    // Turned by up to 40°, far eye beyond the outline: dark blobs paired a piece of the
    // outline's stroke with the mouth (NME 1.24), or the near eye's pupil with a speck
    // (0.16). The eye hole, bigger than both, wins (with its mirror image, or the far eye
    // its colours show).
    for (seed, limit) in [(95010, 0.15), (95078, 0.1)] {
        let (r, nme) = fit_turned(seed, 40.0);
        assert!(
            r.findings.eyes && r.findings.face,
            "{seed}: {:?}",
            r.findings
        );
        assert!(nme.is_some_and(|e| e < limit), "{seed}: NME {nme:?}");
    }
}

#[test]
fn a_picture_wide_pair_must_agree_with_the_eye_the_face_shows() {
    // Turned by up to 40°: the face region shows one eye; round irises (NME 0.60) or dark
    // blobs anywhere in the picture (0.33) paired it with something far from its mirror
    // image. The face region's eye wins, with its mirror image or the far eye its colours
    // show.
    // Today 0.080 and 0.056.
    for (seed, bound) in [(95048, 0.09), (95052, 0.065)] {
        let (r, nme) = fit_turned(seed, 40.0);
        assert!(
            r.findings.face && !r.findings.round_eyes,
            "{seed}: {:?}",
            r.findings
        );
        assert!(nme.is_some_and(|e| e < bound), "{seed}: NME {nme:?}");
    }
}

#[test]
fn faint_patches_are_not_taken_for_eyes() {
    use crate::raster::{ellipse_points, fill_polygon};
    // Two large patches a shade darker than the skin (shading, ears) above the eyes.
    let img = drawn_face(|img| {
        for x in [86.0, 170.0] {
            let patch = ellipse_points(Point::new(x, 84.0), 18.0, 12.0, 0.0, 32);
            fill_polygon(img, &patch, [200, 165, 140]);
        }
    });
    let r = fit(&img, ShapeModel::default_model());
    assert_eyes_on_the_dots(&r.face.points);
}

/// The fit of [`drawn_face`] with part of the head in another `colour`: the polygon of the
/// head outline's points that `keep` keeps, then `extra`.
fn fit_with_shaded_part(
    keep: impl Fn(&Point) -> bool,
    extra: &[Point],
    colour: [u8; 3],
) -> StructuralFit {
    use crate::raster::{ellipse_points, fill_polygon};
    let img = drawn_face(|img| {
        let part: Vec<Point> = ellipse_points(Point::new(128.0, 140.0), 82.0, 100.0, 0.0, 64)
            .into_iter()
            .filter(&keep)
            .chain(extra.iter().copied())
            .collect();
        fill_polygon(img, &part, colour);
    });
    fit(&img, ShapeModel::default_model())
}

#[test]
fn a_head_split_by_shading_is_one_face() {
    // The left half of the head in a much darker shade: two colour regions, one eye each.
    let corners = [Point::new(128.0, 240.0), Point::new(128.0, 40.0)];
    let r = fit_with_shaded_part(|p| p.x <= 128.0, &corners, [200, 120, 60]);
    assert!(r.findings.eyes);
    assert_eyes_on_the_dots(&r.face.points);
}

#[test]
fn eyes_on_the_seam_between_two_shades_are_found() {
    // The upper part of the head in another shade, the seam running through both eyes: each
    // eye touches both colour regions and is a hole of neither, only of their union.
    let r = fit_with_shaded_part(|p| p.y <= 132.0, &[], [245, 170, 90]);
    assert!(r.findings.eyes);
    assert_eyes_on_the_dots(&r.face.points);
}

#[test]
fn a_face_reaching_the_image_edge_is_not_background() {
    use crate::raster::fill_polygon;
    // Ears in the skin colour run off the top edge: a sliver of the border has that colour.
    // (Two background discs keep the rest of the picture from looking blank.)
    let img = drawn_face(|img| {
        crate::raster::fill_disc(img, Point::new(26.0, 226.0), 22.0, [60, 140, 90]);
        crate::raster::fill_disc(img, Point::new(230.0, 226.0), 22.0, [160, 90, 120]);
        for (a, b) in [(60.0, 110.0), (146.0, 196.0)] {
            let ear = [
                Point::new(a, 90.0),
                Point::new(a + 6.0, 0.0),
                Point::new(b - 6.0, 0.0),
                Point::new(b, 90.0),
            ];
            fill_polygon(img, &ear, [236, 200, 170]);
        }
    });
    let r = fit(&img, ShapeModel::default_model());
    assert!(r.findings.eyes);
    assert_eyes_on_the_dots(&r.face.points);
}

/// [`drawn_face`] with a dark 2 px line from the left eye through `line`.
fn fit_with_line_from_the_left_eye(line: &[Point]) -> StructuralFit {
    let img = drawn_face(|img| {
        let path: Vec<Point> = std::iter::once(Point::new(98.0, 132.0))
            .chain(line.iter().copied())
            .collect();
        crate::raster::stroke_polyline(img, &path, false, 2.0, [20, 20, 20]);
    });
    fit(&img, ShapeModel::default_model())
}

#[test]
fn a_nose_line_drawn_from_an_eye_is_no_part_of_it() {
    // Clip art of a turned head: the nose's outline starts at the eye's inner corner.
    let r = fit_with_line_from_the_left_eye(&[Point::new(118.0, 172.0), Point::new(130.0, 172.0)]);
    assert!(r.findings.eyes);
    assert_eyes_on_the_dots(&r.face.points);
    let (outer, inner) = (r.face.points[36], r.face.points[39]);
    assert!(outer.distance(Point::new(91.0, 132.0)) < 4.0, "{outer:?}");
    assert!(inner.distance(Point::new(105.0, 132.0)) < 4.0, "{inner:?}");
}

#[test]
fn the_jaw_runs_along_the_outline_past_a_line_from_an_eye() {
    // A line from the eye out through the face's outline makes the eye a notch in the face
    // region; the jaw must still follow the head's outline, not the line.
    let r = fit_with_line_from_the_left_eye(&[Point::new(40.0, 185.0)]);
    assert!(r.findings.eyes);
    let off_outline = |p: Point| {
        let (dx, dy) = ((p.x - 128.0) / 82.0, (p.y - 140.0) / 100.0);
        ((dx * dx + dy * dy).sqrt() - 1.0).abs() * 82.0
    };
    for (i, &p) in r.face.points[..17].iter().enumerate() {
        assert!(off_outline(p) < 4.0, "jaw point {i} at {p:?}");
    }
}

#[test]
fn a_far_eye_beyond_the_outline_is_found_by_its_colours() {
    // A head turned by 40° whose far eye crosses the outline: no hole, no deep notch, so
    // only the near eye is found by shape; the far one has the near one's colours.
    let c = Cartoon::generate_turned(95052, 256, 40f32.to_radians());
    let r = fit(&c.image, ShapeModel::default_model());
    assert!(r.findings.eyes && !r.findings.one_eye);
    let err = nme(&r.face.points, &c.face.points).unwrap();
    // 0.151 with the far eye mirrored from the near one.
    assert!(err < 0.1, "nme {err}");
}

#[test]
fn a_drawn_nose_places_the_nose_points() {
    use crate::raster::{ellipse_points, fill_polygon};
    // A dark oval nose 28 × 12 px centred at (128, 162), between the eyes (y = 132) and
    // the mouth (y = 192): nothing in the mean face puts the nose base this low.
    let img = drawn_face(|img| {
        let nose = ellipse_points(Point::new(128.0, 162.0), 14.0, 6.0, 0.0, 32);
        fill_polygon(img, &nose, [40, 25, 25]);
    });
    let r = fit(&img, ShapeModel::default_model());
    assert!(r.findings.nose);
    let p = &r.face.points;
    for (i, want) in [
        (31, (114.0, 162.0)),
        (33, (128.0, 168.0)),
        (35, (142.0, 162.0)),
    ] {
        let want = Point::new(want.0, want.1);
        assert!(p[i].distance(want) < 3.0, "point {i} at {:?}", p[i]);
    }
    assert!(
        p[30].distance(Point::new(128.0, 162.0)) < 4.0,
        "tip at {:?}",
        p[30]
    );
}

#[test]
fn a_freckle_beside_the_midline_is_no_nose() {
    // A dark dot where a nostril would be: it does not reach across the midline.
    let img = drawn_face(|img| {
        crate::raster::fill_disc(img, Point::new(118.0, 165.0), 4.0, [40, 25, 25]);
    });
    let r = fit(&img, ShapeModel::default_model());
    assert!(r.findings.eyes && r.findings.mouth);
    assert!(!r.findings.nose);
}

#[test]
fn colour_blends_lie_on_the_segment() {
    let (a, b) = ([0.0, 0.0, 0.0], [1.0, 0.5, 0.0]);
    assert!(dist2_to_segment([0.5, 0.25, 0.0], a, b) < 1e-9);
    assert!((dist2_to_segment([0.0, 0.0, 0.3], a, b) - 0.09).abs() < 1e-6);
    // Beyond an end: the distance to that end.
    assert!((dist2_to_segment([2.0, 0.5, 0.0], a, b) - 1.0).abs() < 1e-6);
}

#[test]
fn the_mouth_is_the_blob_below_the_nose() {
    // A dark nose larger than the mouth line under it.
    let img = drawn_face(|img| {
        crate::raster::fill_disc(img, Point::new(128.0, 160.0), 10.0, [60, 30, 30]);
    });
    let r = fit(&img, ShapeModel::default_model());
    assert!(r.findings.mouth);
    let (a, b) = (r.face.points[48], r.face.points[54]);
    assert!(a.distance(Point::new(108.0, 192.0)) < 8.0, "{a:?}");
    assert!(b.distance(Point::new(148.0, 192.0)) < 8.0, "{b:?}");
}

#[test]
fn a_mouth_far_below_close_set_eyes_is_found() {
    use crate::raster::stroke_polyline;
    use crate::raster::{ellipse_points, fill_disc, fill_polygon, solid};
    // A long cartoon face: eyes 40 px apart, the mouth 2 eye distances below them.
    let mut img = solid(256, 256, [90, 110, 150]);
    let face = ellipse_points(Point::new(128.0, 128.0), 70.0, 110.0, 0.0, 64);
    fill_polygon(&mut img, &face, [236, 200, 170]);
    for x in [108.0, 148.0] {
        fill_disc(&mut img, Point::new(x, 80.0), 6.0, [20, 20, 20]);
    }
    let mouth = [Point::new(110.0, 160.0), Point::new(146.0, 160.0)];
    stroke_polyline(&mut img, &mouth, false, 6.0, [150, 40, 40]);
    let r = fit(&img, ShapeModel::default_model());
    assert!(r.findings.eyes && r.findings.mouth);
    let m = centre(&r.face.points, 48, 68);
    assert!(m.distance(Point::new(128.0, 160.0)) < 6.0, "mouth at {m:?}");
}

/// The fit of [`drawn_face`] with a filled ellipse (centre, radii, colour) drawn on it.
fn fit_with_ellipse(c: (f32, f32), r: (f32, f32), colour: [u8; 3]) -> StructuralFit {
    use crate::raster::{ellipse_points, fill_polygon};
    let img = drawn_face(|img| {
        let e = ellipse_points(Point::new(c.0, c.1), r.0, r.1, 0.0, 48);
        fill_polygon(img, &e, colour);
    });
    fit(&img, ShapeModel::default_model())
}

#[test]
fn an_eye_on_the_outline_of_a_turned_head_is_found() {
    use crate::raster::{ellipse_points, fill_disc, fill_polygon, solid};
    // Clip art on white, the head turned to its right: the far eye's white crosses the
    // face's outline into the white background, so it is no hole of the face (nor of any
    // union of colour regions), only a notch in it.
    let mut img = solid(256, 256, [250, 250, 250]);
    let face = ellipse_points(Point::new(128.0, 140.0), 82.0, 100.0, 0.0, 64);
    fill_polygon(&mut img, &face, [236, 200, 170]);
    for (x, pupil) in [(60.0, 64.0), (150.0, 154.0)] {
        let white = ellipse_points(Point::new(x, 132.0), 17.0, 10.0, 0.0, 32);
        fill_polygon(&mut img, &white, [250, 250, 250]);
        fill_disc(&mut img, Point::new(pupil, 132.0), 6.0, [20, 20, 20]);
    }
    let mouth = [Point::new(90.0, 192.0), Point::new(130.0, 192.0)];
    crate::raster::stroke_polyline(&mut img, &mouth, false, 6.0, [150, 40, 40]);
    let r = fit(&img, ShapeModel::default_model());
    assert!(r.findings.eyes);
    let (le, re) = (
        centre(&r.face.points, 36, 42),
        centre(&r.face.points, 42, 48),
    );
    assert!(le.distance(Point::new(62.0, 132.0)) < 8.0, "{le:?}");
    assert!(re.distance(Point::new(150.0, 132.0)) < 8.0, "{re:?}");
}

#[test]
fn a_grin_reaching_the_outline_is_the_mouth() {
    // A wide open mouth in its own colour that runs past the chin: no hole of the face.
    let r = fit_with_ellipse((128.0, 205.0), (40.0, 40.0), [150, 30, 160]);
    assert!(r.findings.eyes && r.findings.mouth);
    let (a, b) = (r.face.points[48], r.face.points[54]);
    assert!(a.distance(Point::new(88.0, 205.0)) < 10.0, "{a:?}");
    assert!(b.distance(Point::new(168.0, 205.0)) < 10.0, "{b:?}");
}

#[test]
fn the_mouth_blob_gives_the_outer_lip_line() {
    // Full lips: a filled ellipse 24 × 10 around (128, 192), over the mouth stroke.
    let r = fit_with_ellipse((128.0, 192.0), (24.0, 10.0), [170, 50, 60]);
    assert!(r.findings.mouth);
    let (top, bottom) = (r.face.points[51], r.face.points[57]);
    assert!((top.y - 182.0).abs() < 3.0, "upper lip at {top:?}");
    assert!((bottom.y - 202.0).abs() < 3.0, "lower lip at {bottom:?}");
}

#[test]
fn finds_generated_cartoon_faces() {
    let model = ShapeModel::default_model();
    let mut errs = Vec::new();
    for seed in 0..12 {
        let c = Cartoon::generate(9000 + seed, 192);
        let r = fit(&c.image, model);
        assert!(!tangled(&r.face.points), "seed {seed}");
        errs.push(nme(&r.face.points, &c.face.points).unwrap());
    }
    let mean = errs.iter().sum::<f32>() / errs.len() as f32;
    assert!(mean < 0.15, "mean nme {mean}: {errs:?}");
}

#[test]
fn the_jaw_follows_the_outline_of_turned_heads() {
    // Heads turned by up to ±34°: the jaw points lie on the outline, crowding on the far
    // side.
    let model = ShapeModel::default_model();
    let mut errs = Vec::new();
    for seed in 0..12 {
        let c = Cartoon::generate_turned(9100 + seed, 256, 0.6);
        let r = fit(&c.image, model);
        assert!(!tangled(&r.face.points), "seed {seed}");
        let iod = c.face.points[36].distance(c.face.points[45]);
        let jaw: f32 = (0..17)
            .map(|i| r.face.points[i].distance(c.face.points[i]))
            .sum::<f32>()
            / 17.0;
        errs.push(jaw / iod);
    }
    let mean = errs.iter().sum::<f32>() / errs.len() as f32;
    // 0.069 here; moving each point along its normal to the outline instead gives 0.080.
    assert!(mean < 0.075, "mean jaw error {mean}: {errs:?}");
}

#[test]
fn a_turned_heads_chin_lies_between_the_mouth_and_the_silhouettes_middle() {
    // Heads turned by ±34° (seeds the chin's rule was not fitted on): 0.046 eye distances
    // off on average here; the chin where the line from the eyes through the mouth meets
    // the outline was 0.098 off.
    let model = ShapeModel::default_model();
    let errs: Vec<f32> = (0..12)
        .map(|seed| {
            let c = Cartoon::generate_turned(9100 + seed, 256, 0.6);
            let r = fit(&c.image, model);
            let iod = c.face.points[36].distance(c.face.points[45]);
            r.face.points[8].distance(c.face.points[8]) / iod
        })
        .collect();
    let mean = errs.iter().sum::<f32>() / errs.len() as f32;
    assert!(mean < 0.07, "mean chin error {mean}: {errs:?}");
}

#[test]
fn a_face_coloured_between_two_background_colours_is_no_background() {
    use crate::raster::{ellipse_points, fill_disc, fill_polygon, solid};
    // Stripes of pink and brown with anti-aliased edges: the edges' blend is a background
    // colour, and the face's colour lies close to that blend.
    let (a, b) = ([251u8, 223, 240], [112u8, 77, 68]);
    let mix = |t: f32| {
        [0, 1, 2].map(|c| (f32::from(b[c]) + t * (f32::from(a[c]) - f32::from(b[c]))).round() as u8)
    };
    let mut img = solid(256, 256, a);
    for x in 0..256u32 {
        let colour = match x % 48 {
            0..21 => a,
            21..24 | 45..48 => mix(0.35),
            _ => b,
        };
        for y in 0..256 {
            img.put_pixel(x, y, image::Rgba([colour[0], colour[1], colour[2], 255]));
        }
    }
    let face = ellipse_points(Point::new(128.0, 140.0), 82.0, 100.0, 0.0, 64);
    fill_polygon(&mut img, &face, [190, 128, 130]);
    for x in [98.0, 158.0] {
        fill_disc(&mut img, Point::new(x, 132.0), 7.0, [20, 20, 20]);
    }
    let mouth = [Point::new(108.0, 192.0), Point::new(148.0, 192.0)];
    crate::raster::stroke_polyline(&mut img, &mouth, false, 6.0, [150, 40, 40]);
    let r = fit(&img, ShapeModel::default_model());
    assert!(r.findings.face && r.findings.eyes, "{:?}", r.findings);
    assert_eyes_on_the_dots(&r.face.points);
}

#[test]
fn eyes_on_a_face_the_colour_of_the_background_are_found() {
    use crate::raster::{fill_disc, solid, stroke_polyline};
    // No outline and the face the background's colour: no face region, only the features.
    let mut img = solid(256, 256, [236, 220, 200]);
    for x in [98.0, 158.0] {
        fill_disc(&mut img, Point::new(x, 132.0), 7.0, [40, 30, 30]);
    }
    let mouth = [Point::new(108.0, 192.0), Point::new(148.0, 192.0)];
    stroke_polyline(&mut img, &mouth, false, 6.0, [150, 40, 40]);
    let r = fit(&img, ShapeModel::default_model());
    assert!(r.findings.eyes && !r.findings.face);
    assert_eyes_on_the_dots(&r.face.points);
    assert!(!tangled(&r.face.points));
}

#[test]
fn noise_has_no_eyes() {
    // Pixel noise has dark specks everywhere; none of them is an eye.
    let mut rng = crate::cartoon::Rng::new(7);
    for side in [64u32, 128] {
        let img = RgbaImage::from_fn(side, side, |_, _| {
            let v = (rng.unit() * 255.0) as u8;
            image::Rgba([v, v, v, 255])
        });
        let r = fit(&img, ShapeModel::default_model());
        assert!(!r.findings.eyes, "{side}");
        assert!(!tangled(&r.face.points));
    }
}

#[test]
fn round_irises_on_striped_fur_are_the_eyes() {
    // A tabby's face fills the picture: brown stripes and speckle everywhere, no region of
    // its own colour, and two green irises with black pupils.
    use crate::raster::fill_disc;
    let mut rng = crate::cartoon::Rng::new(11);
    let mut img = RgbaImage::from_fn(384, 256, |x, y| {
        let stripe = ((x as f32 * 0.12 + y as f32 * 0.05).sin() * 0.5 + 0.5) * 60.0;
        let v = 120.0 + stripe + (rng.unit() - 0.5) * 70.0;
        image::Rgba([v as u8, (v * 0.8) as u8, (v * 0.55) as u8, 255])
    });
    // Dark specks all over (more than a picture with eyes among its dark blobs has).
    for _ in 0..30 {
        let c = Point::new(rng.unit() * 384.0, rng.unit() * 256.0);
        fill_disc(&mut img, c, 2.0 + rng.unit() * 2.0, [40, 30, 20]);
    }
    let eyes = [Point::new(130.0, 100.0), Point::new(258.0, 104.0)];
    for c in eyes {
        fill_disc(&mut img, c, 22.0, [150, 170, 60]);
        fill_disc(&mut img, c, 10.0, [15, 15, 10]);
        fill_disc(&mut img, c + Point::new(5.0, -6.0), 3.0, [250, 250, 250]);
    }
    let r = fit(&img, ShapeModel::default_model());
    assert!(r.findings.eyes && r.findings.round_eyes, "{:?}", r.findings);
    let (le, re) = (
        centre(&r.face.points, 36, 42),
        centre(&r.face.points, 42, 48),
    );
    assert!(le.distance(eyes[0]) < 10.0, "{le:?}");
    assert!(re.distance(eyes[1]) < 10.0, "{re:?}");
    assert!(!tangled(&r.face.points));
}

#[test]
fn blank_image_still_gives_a_face() {
    let img = RgbaImage::from_pixel(100, 80, image::Rgba([200, 200, 200, 255]));
    let r = fit(&img, ShapeModel::default_model());
    assert!(!r.findings.face);
    assert!(r.face.points.iter().all(|p| p.x >= 0.0 && p.x <= 100.0));
    assert!(r.face.confidence.iter().all(|&c| c < 0.5));
}

/// A generated head turned by up to 40° (seed 120159) on diagonal stripes, one of them close
/// to its colour: the face region runs out along the stripes and the outline traced for the
/// jaw doubles back on itself (NME 0.251). The trace is set aside and the jaw follows the
/// placed shape to the region's edge instead.
#[test]
fn a_jaw_traced_along_background_stripes_is_set_aside() {
    let c = Cartoon::generate_turned(120159, 256, 40f32.to_radians());
    let r = fit(&c.image, ShapeModel::default_model());
    let e = nme(&r.face.points, &c.face.points).unwrap();
    assert!(e < 0.2, "NME {e}");
}
