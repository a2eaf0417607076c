//! Quality tests of the built-in animator on a procedurally drawn cartoon.

use super::*;
use crate::cartoon::character::{self as cartoon, Background, Style};
use crate::landmarks::synthetic::{Expression, posed_face};
use crate::landmarks::{Face, ImageSize, LandmarkError, Part, Point};

const SIZE: u32 = 224;
const CX: f32 = 112.0;
const CY: f32 = 116.0;
const SCALE: f32 = 46.0;
/// Cartoon eyes: lids 2.2 times further from the corner line than the synthetic face's.
const EYES: f32 = 2.2;

fn rest_points() -> Landmarks {
    cartoon::big_eyes(posed_face(CX, CY, SCALE, &Expression::default()), EYES)
}

fn character(bg: Background) -> (RgbaImage, Face) {
    let rest = rest_points();
    let style = Style {
        background: bg,
        ..Style::default()
    };
    let img = cartoon::draw(SIZE, SIZE, &rest, &style);
    let face = Face::new(
        rest,
        Some(ImageSize {
            width: SIZE,
            height: SIZE,
        }),
    );
    (img, face)
}

fn animator() -> (RgbaImage, WarpAnimator) {
    let (img, face) = character(Background::Pattern);
    let anim = WarpAnimator::new(&img, &face).unwrap();
    (img, anim)
}

fn pose(dx: f32, dy: f32, scale: f32, expr: Expression) -> Landmarks {
    cartoon::big_eyes(posed_face(CX + dx, CY + dy, SCALE * scale, &expr), EYES)
}

fn expr() -> Expression {
    Expression::default()
}

/// Apply a linear map about the face centre (squash / stretch).
fn deform(mut p: Landmarks, sx: f32, sy: f32) -> Landmarks {
    for q in &mut p {
        *q = Point::new(CX + (q.x - CX) * sx, CY + (q.y - CY) * sy);
    }
    p
}

/// PSNR in dB over the RGBA bytes of the pixels where `keep(x, y)` holds.
fn psnr(a: &RgbaImage, b: &RgbaImage, keep: impl Fn(u32, u32) -> bool) -> f64 {
    let (mut se, mut n) = (0.0f64, 0usize);
    for (x, y, pa) in a.enumerate_pixels() {
        if !keep(x, y) {
            continue;
        }
        let pb = b.get_pixel(x, y);
        for k in 0..4 {
            let d = f64::from(pa[k]) - f64::from(pb[k]);
            se += d * d;
        }
        n += 4;
    }
    assert!(n > 0, "no pixels compared");
    if se == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (255.0f64 * 255.0 / (se / n as f64)).log10()
}

/// The output position whose backward image is `rest` (Newton on the interpolated map).
fn forward(field: &WarpField, rest: Point, guess: Point) -> Point {
    let mut x = guess;
    for _ in 0..30 {
        let r = field.sample(x) - rest;
        if r.norm() < 1e-4 {
            break;
        }
        let [[a, c], [b, d]] = field.jacobian(x);
        // J = [a b; c d] with columns ∂/∂x = (a, c), ∂/∂y = (b, d).
        let det = a * d - b * c;
        x = x - Point::new((d * r.x - b * r.y) / det, (-c * r.x + a * r.y) / det);
    }
    x
}

/// Smallest finite-difference Jacobian determinant of the map at every pixel.
fn dense_min_det(field: &WarpField) -> f32 {
    let (w, h) = field.size();
    let mut worst = f32::INFINITY;
    for y in 0..h {
        for x in 0..w {
            let p = Point::new(x as f32, y as f32);
            let c = field.sample(p);
            let dx = field.sample(p + Point::new(1.0, 0.0)) - c;
            let dy = field.sample(p + Point::new(0.0, 1.0)) - c;
            worst = worst.min(dx.cross(dy));
        }
    }
    worst
}

fn luma(p: &image::Rgba<u8>) -> f32 {
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

fn is_iris(p: &image::Rgba<u8>) -> bool {
    p[2] > 150 && p[0] < 110 && p[1] < 170
}

#[test]
fn forward_mapped_rest_landmarks_land_on_their_targets() {
    let (_, anim) = animator();
    let frames = [
        pose(
            0.0,
            0.0,
            1.0,
            Expression {
                mouth_open: 0.6,
                ..expr()
            },
        ),
        pose(
            0.0,
            0.0,
            1.0,
            Expression {
                smile: 1.0,
                brow_raise: 1.0,
                ..expr()
            },
        ),
        pose(
            6.0,
            -4.0,
            1.08,
            Expression {
                roll: 0.25,
                mouth_open: 0.3,
                ..expr()
            },
        ),
        pose(
            -5.0,
            3.0,
            0.92,
            Expression {
                brow_raise: -1.0,
                smile: -0.8,
                ..expr()
            },
        ),
        // A blink: the lids are pinned, so the map targets are the pinned positions.
        pose(
            0.0,
            0.0,
            1.0,
            Expression {
                right_eye_open: 0.0,
                left_eye_open: 0.4,
                ..expr()
            },
        ),
    ];
    for (k, target) in frames.iter().enumerate() {
        let plan = anim.plan(target, None).unwrap();
        assert_eq!(
            (plan.head_motion, plan.expression),
            (1.0, 1.0),
            "frame {k} should not need limiting"
        );
        assert_eq!(&plan.limited, target, "frame {k}");
        let mut worst = 0.0f32;
        for i in 0..68 {
            let rest = anim.rest_controls()[i];
            let landed = forward(&plan.field, rest, plan.effective[i]);
            let err = landed.distance(plan.effective[i]);
            if err > 0.3 {
                eprintln!("frame {k} point {i}: {err:.3} px");
            }
            worst = worst.max(err);
            if k < 4 {
                // Without a blink the map's targets are the requested landmarks themselves,
                // except that closed inner lips are kept a hair (6 % of the mouth width) apart,
                // and lids may be held by a hundredth of a pixel where the head's scale
                // estimate moves with the jaw.
                let allowed = if (61..68).contains(&i) && i != 64 {
                    0.03 * target[60].distance(target[64]) + 1e-3
                } else if (36..48).contains(&i) {
                    0.02
                } else {
                    1e-4
                };
                let moved = plan.effective[i].distance(target[i]);
                assert!(moved < allowed, "frame {k} point {i} moved {moved}");
            }
        }
        assert!(worst < 0.5, "frame {k}: worst landmark error {worst:.3} px");
    }
}

#[test]
fn zero_motion_reproduces_the_input() {
    for bg in [Background::Pattern, Background::Transparent] {
        let (img, face) = character(bg);
        let anim = WarpAnimator::new(&img, &face).unwrap();
        let out = anim.render(&face.points, None).unwrap();
        let db = psnr(&img, &out, |_, _| true);
        assert!(db > 50.0, "{bg:?}: {db:.1} dB");
    }
}

#[test]
fn pixels_outside_the_head_region_stay_still() {
    let (img, anim) = animator();
    let head = anim.head_region();
    let ring = anim.options().ring;
    let frames = [
        (
            0.0,
            pose(
                0.0,
                0.0,
                1.0,
                Expression {
                    mouth_open: 1.0,
                    right_eye_open: 0.0,
                    ..expr()
                },
            ),
        ),
        (
            0.0,
            pose(
                0.0,
                0.0,
                1.0,
                Expression {
                    roll: 0.52,
                    ..expr()
                },
            ),
        ),
        (14.0, pose(14.0, 0.0, 1.0, expr())),
        (0.0, deform(rest_points(), 1.25, 0.75)),
    ];
    for (k, (shift, target)) in frames.iter().enumerate() {
        let out = anim.render(target, None).unwrap();
        // The soft head region: the head ellipse grown to the still ring (plus half of any
        // head translation, by which the ring follows the head).
        let outside = |x: u32, y: u32| {
            let p = Point::new(x as f32, y as f32);
            let d = p - head.centre;
            let u = d.dot(head.axis) / (head.a * ring + 0.5 * shift + 1.0);
            let v = d.cross(head.axis) / (head.b * ring + 0.5 * shift + 1.0);
            u.hypot(v) > 1.0
        };
        let db = psnr(&img, &out, outside);
        assert!(db >= 45.0, "frame {k}: {db:.1} dB outside the head region");
        // The region is not the whole picture: most of the image is compared.
        let count = (0..SIZE * SIZE)
            .filter(|i| outside(i % SIZE, i / SIZE))
            .count();
        assert!(count > (SIZE * SIZE) as usize / 4, "frame {k}: {count}");
        // And the head itself did move.
        assert!(psnr(&img, &out, |x, y| !outside(x, y)) < 40.0, "frame {k}");
    }
}

#[test]
fn extreme_frames_never_fold() {
    let (_, anim) = animator();
    let mut past_chin = pose(
        0.0,
        0.0,
        1.0,
        Expression {
            mouth_open: 1.0,
            ..expr()
        },
    );
    for i in [55, 56, 57, 58, 59, 65, 66, 67] {
        past_chin[i].y += 0.9 * SCALE;
    }
    let mut upside_down = rest_points();
    for q in &mut upside_down {
        *q = Point::new(2.0 * CX - q.x, 2.0 * CY - q.y);
    }
    let mut mirrored = rest_points();
    for q in &mut mirrored {
        q.x = 2.0 * CX - q.x;
    }
    let collapsed = [Point::new(CX, CY); 68];
    let battery: Vec<(&str, Landmarks, bool)> = vec![
        (
            "mouth wide open",
            pose(
                0.0,
                0.0,
                1.0,
                Expression {
                    mouth_open: 1.0,
                    ..expr()
                },
            ),
            true,
        ),
        (
            "eyes shut",
            pose(
                0.0,
                0.0,
                1.0,
                Expression {
                    right_eye_open: 0.0,
                    left_eye_open: 0.0,
                    ..expr()
                },
            ),
            true,
        ),
        (
            "roll +30°",
            pose(
                0.0,
                0.0,
                1.0,
                Expression {
                    roll: 0.52,
                    ..expr()
                },
            ),
            true,
        ),
        (
            "roll -30°",
            pose(
                0.0,
                0.0,
                1.0,
                Expression {
                    roll: -0.52,
                    mouth_open: 0.7,
                    ..expr()
                },
            ),
            true,
        ),
        ("large translation", pose(22.0, -16.0, 1.0, expr()), false),
        ("squashed", deform(rest_points(), 1.25, 0.65), false),
        ("stretched", deform(rest_points(), 0.75, 1.4), false),
        ("grown", pose(0.0, 0.0, 1.35, expr()), false),
        ("shrunk", pose(0.0, 0.0, 0.6, expr()), false),
        ("mouth past the chin", past_chin, false),
        ("upside down", upside_down, false),
        ("mirrored", mirrored, false),
        ("collapsed", collapsed, false),
    ];
    let mut limited = 0;
    for (name, target, must_be_whole) in &battery {
        let plan = anim.plan(target, None).unwrap();
        assert!(plan.min_jacobian > 0.0, "{name}: {}", plan.min_jacobian);
        let dense = dense_min_det(&plan.field);
        assert!(dense > 0.0, "{name}: dense determinant {dense}");
        if *must_be_whole {
            assert_eq!((plan.head_motion, plan.expression), (1.0, 1.0), "{name}");
        }
        if plan.head_motion < 1.0 || plan.expression < 1.0 {
            limited += 1;
        }
        let mut out = RgbaImage::new(SIZE, SIZE);
        anim.draw(&plan, &mut out).unwrap();
    }
    // The impossible frames (upside down, collapsed, lips through the chin) had to be limited:
    // the guard is live, not a formality.
    assert!(limited >= 3, "only {limited} frames were limited");
}

#[test]
fn a_blink_covers_the_eye_with_the_lid_instead_of_squashing_it() {
    let (img, anim) = animator();
    let rest = rest_points();
    // Box around the right eye.
    let (lo_x, hi_x) = (rest[36].x as u32 - 2, rest[39].x as u32 + 2);
    let (lo_y, hi_y) = (rest[37].y as u32 - 6, rest[41].y as u32 + 6);
    let iris_rows = |im: &RgbaImage| {
        let mut rows = Vec::new();
        for y in lo_y..=hi_y {
            if (lo_x..=hi_x).any(|x| is_iris(im.get_pixel(x, y))) {
                rows.push(y);
            }
        }
        rows
    };
    let at_rest = iris_rows(&img);
    assert!(at_rest.len() >= 3, "{at_rest:?}");
    let half = anim
        .render(
            &pose(
                0.0,
                0.0,
                1.0,
                Expression {
                    right_eye_open: 0.5,
                    ..expr()
                },
            ),
            None,
        )
        .unwrap();
    let half_rows = iris_rows(&half);
    // Half closed: the lid hides the top of the iris; the bottom of the iris stays where it was
    // (a squash would lift it).
    assert!(!half_rows.is_empty());
    assert_eq!(
        half_rows.last(),
        at_rest.last(),
        "{half_rows:?} vs {at_rest:?}"
    );
    assert!(half_rows[0] > at_rest[0], "{half_rows:?} vs {at_rest:?}");
    let shut = anim
        .render(
            &pose(
                0.0,
                0.0,
                1.0,
                Expression {
                    right_eye_open: 0.0,
                    ..expr()
                },
            ),
            None,
        )
        .unwrap();
    assert!(iris_rows(&shut).is_empty(), "{:?}", iris_rows(&shut));
    // What covers it is skin-coloured lid, plus a dark lash line; no white of the eye is left.
    let skin = Style::default().skin;
    let mut lid = 0;
    let mut white = 0;
    for y in rest[37].y as u32..=rest[41].y as u32 {
        for x in rest[37].x as u32..=rest[38].x as u32 {
            let p = shut.get_pixel(x, y);
            let d: i32 = (0..3)
                .map(|k| (i32::from(p[k]) - i32::from(skin[k])).abs())
                .sum();
            lid += usize::from(d < 60);
            white += usize::from(p[0] > 235 && p[1] > 235 && p[2] > 235);
        }
    }
    assert!(lid > 10, "lid pixels {lid}");
    assert_eq!(white, 0);
    // The other eye is untouched.
    let other =
        |x: u32, y: u32| x >= rest[42].x as u32 && x <= rest[45].x as u32 && y >= lo_y && y <= hi_y;
    assert!(psnr(&img, &shut, other) > 40.0);
}

#[test]
fn an_opening_mouth_shows_a_dark_cavity_with_teeth() {
    let (img, anim) = animator();
    let target = pose(
        0.0,
        0.0,
        1.0,
        Expression {
            mouth_open: 1.0,
            ..expr()
        },
    );
    let out = anim.render(&target, None).unwrap();
    let lips = Style::default().lips;
    let lip_luma =
        0.299 * f32::from(lips[0]) + 0.587 * f32::from(lips[1]) + 0.114 * f32::from(lips[2]);
    // The middle of the opening (between points 62 and 66): dark, reddish, not lip colour.
    let (top, bottom) = (target[62], target[66]);
    let mut dark = 0;
    let mut n = 0;
    for k in 3..8 {
        let p = top.lerp(bottom, k as f32 / 10.0);
        let px = out.get_pixel(p.x as u32, p.y as u32);
        n += 1;
        if luma(px) < 0.6 * lip_luma && px[0] >= px[2] {
            dark += 1;
        }
    }
    assert!(dark >= 3, "{dark} of {n} samples dark");
    // Bright teeth just under the upper inner lip.
    let teeth = (0..6).any(|d| {
        let p = top + Point::new(0.0, 1.5 + d as f32);
        luma(out.get_pixel(p.x as u32, p.y as u32)) > 200.0
    });
    assert!(teeth, "no teeth under the upper lip");
    // Without teeth the same spot is dark.
    let (_, face) = character(Background::Pattern);
    let plain = WarpAnimator::prepare_with(
        &img,
        &face,
        WarpOptions {
            teeth: false,
            ..WarpOptions::default()
        },
    )
    .unwrap()
    .render(&target, None)
    .unwrap();
    let p = top + Point::new(0.0, 3.0);
    assert!(luma(plain.get_pixel(p.x as u32, p.y as u32)) < 100.0);
}

#[test]
fn lips_of_an_open_rest_mouth_close_without_a_smear() {
    // A character drawn with its mouth open (dark interior and teeth at rest).
    let rest = pose(
        0.0,
        0.0,
        1.0,
        Expression {
            mouth_open: 0.7,
            ..expr()
        },
    );
    let img = cartoon::draw(SIZE, SIZE, &rest, &Style::default());
    let anim = WarpAnimator::new(&img, &Face::new(rest, None)).unwrap();
    assert!(psnr(&img, &anim.render(&rest, None).unwrap(), |_, _| true) > 50.0);
    let closed = pose(0.0, 0.0, 1.0, expr());
    let out = anim.render(&closed, None).unwrap();
    // Between the closed lips at most a thin line of the old interior is left.
    let (a, b) = (closed[48], closed[54]);
    let mut dark_rows = 0;
    for y in (closed[51].y as u32)..=(closed[57].y as u32) {
        let x = (0.5 * (a.x + b.x)) as u32;
        if luma(out.get_pixel(x, y)) < 60.0 {
            dark_rows += 1;
        }
    }
    assert!(dark_rows <= 3, "{dark_rows} dark rows between closed lips");
    // And the lips are there: red above and below the mouth line.
    let red = |p: Point| {
        let px = out.get_pixel(p.x as u32, p.y as u32);
        px[0] > 150 && px[1] < 110
    };
    assert!(red(closed[51].lerp(closed[62], 0.5)) && red(closed[57].lerp(closed[66], 0.5)));
}

#[test]
fn transparency_is_kept_without_dark_fringes() {
    let (img, face) = character(Background::Transparent);
    let anim = WarpAnimator::new(&img, &face).unwrap();
    let out = anim
        .render(
            &pose(
                3.0,
                -2.0,
                1.0,
                Expression {
                    roll: 0.3,
                    mouth_open: 0.5,
                    ..expr()
                },
            ),
            None,
        )
        .unwrap();
    let (mut clear, mut solid, mut edge) = (0, 0, 0);
    let hair = Style::default().hair;
    for p in out.pixels() {
        match p[3] {
            0 => clear += 1,
            255 => solid += 1,
            _ => {
                edge += 1;
                // Edge pixels keep the hair/outline colours, not a blend with black.
                let ink = Style::default().ink;
                let near =
                    |c: [u8; 3]| (0..3).all(|k| (i32::from(p[k]) - i32::from(c[k])).abs() < 60);
                assert!(near(hair) || near(ink), "fringe colour {:?}", p.0);
            }
        }
    }
    assert!(clear > 5000 && solid > 5000, "{clear} {solid}");
    assert!(
        edge > 0,
        "no soft edge at all: the warp did not move the outline"
    );
    assert_eq!(out.get_pixel(0, 0)[3], 0);
}

#[test]
fn renders_are_stateless_and_deterministic() {
    let (_, anim) = animator();
    let a = pose(
        0.0,
        0.0,
        1.0,
        Expression {
            mouth_open: 0.5,
            ..expr()
        },
    );
    let first = anim.render(&a, None).unwrap();
    let _ = anim
        .render(
            &pose(
                10.0,
                0.0,
                1.1,
                Expression {
                    left_eye_open: 0.0,
                    ..expr()
                },
            ),
            None,
        )
        .unwrap();
    assert_eq!(first, anim.render(&a, None).unwrap());
}

#[test]
fn bad_input_is_a_clear_error() {
    let (img, face) = character(Background::Pattern);
    let big = RgbaImage::new(MAX_SIDE + 1, 8);
    let err = WarpAnimator::new(&big, &Face::new(face.points, None)).unwrap_err();
    assert!(matches!(err, AnimateError::ImageTooLarge { .. }), "{err}");
    assert!(err.to_string().contains("2049x8"), "{err}");
    let tiny = RgbaImage::new(4, 4);
    assert!(matches!(
        WarpAnimator::new(&tiny, &face).unwrap_err(),
        AnimateError::ImageTooSmall { .. } | AnimateError::SizeMismatch { .. }
    ));
    let mut other = face.clone();
    other.image = Some(ImageSize {
        width: 640,
        height: 480,
    });
    let err = WarpAnimator::new(&img, &other).unwrap_err();
    assert!(err.to_string().contains("640x480"), "{err}");
    let mut collapsed = face.clone();
    collapsed.points = [Point::new(50.0, 50.0); 68];
    let err = WarpAnimator::new(&img, &collapsed).unwrap_err();
    assert!(err.to_string().contains("rest landmarks"), "{err}");
    let anim = WarpAnimator::new(&img, &face).unwrap();
    let mut nan = face.points;
    nan[30] = Point::new(f32::NAN, 3.0);
    let err = anim.render(&nan, None).unwrap_err();
    assert!(matches!(
        err,
        AnimateError::Landmarks(LandmarkError::Invalid { .. })
    ));
    assert!(err.to_string().contains("point 30"), "{err}");
    let mut far = face.points;
    far[3] = Point::new(1e7, 0.0);
    assert!(anim.render(&far, None).is_err());
    let mut wrong = RgbaImage::new(10, 10);
    let err = anim
        .render_into(&face.points, None, &mut wrong)
        .unwrap_err();
    assert!(matches!(err, AnimateError::OutputSize { .. }), "{err}");
}

#[test]
fn dot_eyes_render_without_a_panic() {
    // Eyes shrunk to 20 % about their centres: under a pixel of room above the lids.
    let (img, mut face) = character(Background::Pattern);
    for part in [Part::LeftEye, Part::RightEye] {
        let idx = part.indices();
        let centre = Point::mean(idx.iter().map(|&i| face.points[i]));
        for &i in idx {
            face.points[i] = centre + (face.points[i] - centre) * 0.2;
        }
    }
    let anim = WarpAnimator::new(&img, &face).unwrap();
    let mut blink = face.points;
    blink[37].y += 0.3;
    assert_eq!(
        anim.render(&blink, None).unwrap().dimensions(),
        (SIZE, SIZE)
    );
}

#[test]
#[ignore = "writes PNGs for a look by eye"]
fn dump_frames() {
    let dir = std::env::temp_dir().join("animate-dump");
    std::fs::create_dir_all(&dir).unwrap();
    let (img, anim) = animator();
    let frames = [
        (
            "mouth06",
            pose(
                0.0,
                0.0,
                1.0,
                Expression {
                    mouth_open: 0.6,
                    ..expr()
                },
            ),
        ),
        (
            "mouth10",
            pose(
                0.0,
                0.0,
                1.0,
                Expression {
                    mouth_open: 1.0,
                    ..expr()
                },
            ),
        ),
        (
            "blink",
            pose(
                0.0,
                0.0,
                1.0,
                Expression {
                    right_eye_open: 0.0,
                    left_eye_open: 0.5,
                    ..expr()
                },
            ),
        ),
        (
            "roll",
            pose(
                0.0,
                0.0,
                1.0,
                Expression {
                    roll: 0.52,
                    ..expr()
                },
            ),
        ),
        ("shift", pose(14.0, 0.0, 1.0, expr())),
        ("squash", deform(rest_points(), 1.25, 0.65)),
    ];
    // Crop the face and enlarge it 4x, so features can be judged.
    let (k, c0, cw) = (4u32, 50u32, 124u32);
    let mut montage = RgbaImage::new(cw * k * 4, cw * k * 2);
    let mut put = |im: &RgbaImage, slot: u32| {
        let (ox, oy) = ((slot % 4) * cw * k, (slot / 4) * cw * k);
        for y in 0..cw {
            for x in 0..cw {
                let p = *im.get_pixel(c0 + x, c0 + y);
                for dy in 0..k {
                    for dx in 0..k {
                        montage.put_pixel(ox + x * k + dx, oy + y * k + dy, p);
                    }
                }
            }
        }
    };
    put(&img, 0);
    for (slot, (name, t)) in frames.iter().enumerate() {
        let plan = anim.plan(t, None).unwrap();
        eprintln!(
            "{name}: head {} expr {} min {}",
            plan.head_motion, plan.expression, plan.min_jacobian
        );
        let mut out = RgbaImage::new(SIZE, SIZE);
        anim.draw(&plan, &mut out).unwrap();
        put(&out, slot as u32 + 1);
    }
    montage.save(dir.join("montage.png")).unwrap();
}

/// A cartoon with big eyes and small round irises (a white sclera around them), its pupils
/// read from the picture as the matcher does.
fn gaze_character(style: Style) -> (RgbaImage, Face) {
    let rest = cartoon::big_eyes(posed_face(112.0, 116.0, 80.0, &expr()), 2.2);
    let img = cartoon::draw(SIZE, SIZE, &rest, &style);
    let mut face = Face::new(
        rest,
        Some(ImageSize {
            width: SIZE,
            height: SIZE,
        }),
    );
    let reading = crate::pupils::read_pupils(&img, &rest);
    face.pupils = Some(reading.centres());
    face.pupil_radius = reading.radius();
    (img, face)
}

fn small_irises() -> Style {
    Style {
        iris_radius: 0.2,
        background: Background::Transparent,
        ..Style::default()
    }
}

/// Centre and count of the pixels of eye `k` (0: image-left) within `tol` of `colour`.
fn blob(img: &RgbaImage, k: usize, colour: [u8; 3], tol: i32) -> (Point, usize) {
    let (mut sum, mut n) = (Point::default(), 0usize);
    for (x, y, p) in img.enumerate_pixels() {
        let left = x < SIZE / 2;
        let near = (0..3).all(|c| (i32::from(p[c]) - i32::from(colour[c])).abs() <= tol);
        if near && p[3] == 255 && left == (k == 0) && (60..130).contains(&y) {
            sum = sum + Point::new(x as f32, y as f32);
            n += 1;
        }
    }
    (sum * (1.0 / n.max(1) as f32), n)
}

#[test]
fn the_iris_moves_inside_the_eye_and_nothing_else_changes() {
    let style = small_irises();
    let (img, face) = gaze_character(style);
    let pupils = face.pupils.unwrap();
    assert!(face.pupil_radius.is_some(), "the irises are read");
    let anim = WarpAnimator::new(&img, &face).unwrap();
    let plain = anim.render(&face.points, None).unwrap();
    assert_eq!(anim.render(&face.points, Some(&pupils)).unwrap(), plain);
    for shift in [
        Point::new(5.0, 0.0),
        Point::new(-5.0, 0.0),
        Point::new(0.0, -3.0),
    ] {
        let moved = pupils.map(|p| p + shift);
        let out = anim.render(&face.points, Some(&moved)).unwrap();
        for k in 0..2 {
            let (before, n0) = blob(&plain, k, style.iris, 30);
            let (after, n1) = blob(&out, k, style.iris, 30);
            let d = after - before;
            assert!(n0 > 20 && n1 > 10, "eye {k}: {n0} → {n1} iris pixels");
            assert!(
                d.distance(shift) < 1.2,
                "eye {k}: iris moved {d:?} for {shift:?}"
            );
        }
        // Only the insides of the eyes are repainted.
        let eye_box = |x: u32, y: u32| {
            (36..48).any(|i| {
                let p = face.points[i];
                (p.x - x as f32).abs() < 14.0 && (p.y - y as f32).abs() < 10.0
            })
        };
        for (x, y, p) in out.enumerate_pixels() {
            if !eye_box(x, y) {
                assert_eq!(p, plain.get_pixel(x, y), "pixel ({x}, {y}) changed");
            }
        }
    }
}

#[test]
fn a_winking_eye_hides_its_iris_while_the_other_looks_aside() {
    let style = small_irises();
    let (img, face) = gaze_character(style);
    let anim = WarpAnimator::new(&img, &face).unwrap();
    let wink = cartoon::big_eyes(
        posed_face(
            112.0,
            116.0,
            80.0,
            &Expression {
                right_eye_open: 0.0,
                ..expr()
            },
        ),
        2.2,
    );
    let pupils = face.pupils.unwrap().map(|p| p + Point::new(4.0, 0.0));
    let out = anim.render(&wink, Some(&pupils)).unwrap();
    let (_, closed) = blob(&out, 0, style.iris, 30);
    let (open_at, open) = blob(&out, 1, style.iris, 30);
    let (rest_at, _) = blob(&img, 1, style.iris, 30);
    assert!(
        closed < 3,
        "{closed} iris pixels show through the closed lid"
    );
    assert!(
        open > 20 && open_at.x > rest_at.x + 3.0,
        "{open} pixels at {open_at:?}"
    );
}

#[test]
fn a_dot_eye_moves_as_a_whole() {
    let style = Style {
        iris_radius: 1.0,
        iris: Style::default().ink,
        background: Background::Transparent,
        ..Style::default()
    };
    let (img, face) = gaze_character(style);
    assert_eq!(face.pupil_radius, None, "a dot has no iris on a sclera");
    let anim = WarpAnimator::new(&img, &face).unwrap();
    let pupils = face.pupils.unwrap();
    let plain = anim.render(&face.points, None).unwrap();
    let moved = pupils.map(|p| p + Point::new(3.0, 0.0));
    let out = anim.render(&face.points, Some(&moved)).unwrap();
    for k in 0..2 {
        let (before, n0) = blob(&plain, k, style.ink, 20);
        let (after, n1) = blob(&out, k, style.ink, 20);
        assert!(n1 + 10 > n0, "eye {k}: the dot lost pixels ({n0} → {n1})");
        assert!(after.x > before.x + 1.0, "eye {k}: {before:?} → {after:?}");
    }
}
