//! Property tests of the retargeting: static and rigid drivers, expression ratios, gains,
//! degenerate inputs.

use super::frame::rotate;
use super::measure::{Eye, eye_open_ratio, mouth_open_ratio};
use super::*;
use crate::landmarks::synthetic::{Expression, posed_face};
use crate::landmarks::{Face, LANDMARK_COUNT, Landmarks, Point, Track};
use proptest::prelude::*;
use std::ops::Range;

/// A cartoon character: the synthetic face with its eyes and mouth resized about their own
/// centres, optionally jittered (units of the face half-width), then placed in the image.
#[derive(Clone, Debug)]
struct Shape {
    centre: (f32, f32),
    scale: f32,
    roll: f32,
    eye: (f32, f32),
    mouth: (f32, f32),
    jitter: Vec<(f32, f32)>,
}

impl Shape {
    fn points(&self) -> Landmarks {
        let mut p = posed_face(0.0, 0.0, 1.0, &Expression::default());
        resize(&mut p, 36..42, self.eye);
        resize(&mut p, 42..48, self.eye);
        resize(&mut p, 48..68, self.mouth);
        for (q, (jx, jy)) in p.iter_mut().zip(&self.jitter) {
            *q = *q + Point::new(*jx, *jy);
        }
        let c = Point::new(self.centre.0, self.centre.1);
        p.map(|q| c + rotate(q, self.roll) * self.scale)
    }

    fn face(&self) -> Face {
        Face::new(self.points(), None)
    }
}

fn resize(p: &mut Landmarks, range: Range<usize>, (sx, sy): (f32, f32)) {
    let n = range.len() as f32;
    let c = p[range.clone()]
        .iter()
        .fold(Point::default(), |a, &b| a + b)
        * (1.0 / n);
    for q in &mut p[range] {
        *q = Point::new(c.x + (q.x - c.x) * sx, c.y + (q.y - c.y) * sy);
    }
}

fn shape(jitter: f32) -> impl Strategy<Value = Shape> {
    (
        (100f32..900.0, 100f32..900.0),
        20f32..400.0,
        -0.6f32..0.6,
        (0.6f32..1.6, 0.5f32..3.0),
        (0.4f32..1.5, 0.5f32..2.0),
        prop::collection::vec((-1f32..1.0, -1f32..1.0), LANDMARK_COUNT),
    )
        .prop_map(move |(centre, scale, roll, eye, mouth, j)| Shape {
            centre,
            scale,
            roll,
            eye,
            mouth,
            jitter: j
                .into_iter()
                .map(|(x, y)| (x * jitter, y * jitter))
                .collect(),
        })
}

fn expression() -> impl Strategy<Value = Expression> {
    (0f32..1.0, 0f32..1.0, 0f32..1.0, -1f32..1.0, -1f32..1.0).prop_map(
        |(mouth_open, right_eye_open, left_eye_open, brow_raise, smile)| Expression {
            mouth_open,
            right_eye_open,
            left_eye_open,
            brow_raise,
            smile,
            roll: 0.0,
        },
    )
}

/// Head pose of one driving frame relative to the driver's base pose.
#[derive(Clone, Debug)]
struct Pose {
    shift: (f32, f32),
    roll: f32,
    zoom: f32,
}

fn pose() -> impl Strategy<Value = Pose> {
    ((-150f32..150.0, -150f32..150.0), -0.7f32..0.7, 0.6f32..1.6)
        .prop_map(|(shift, roll, zoom)| Pose { shift, roll, zoom })
}

/// A synthetic driver: frame 0 neutral at the base pose, then the given expressions and poses.
fn driver(base: (f32, f32, f32), frames: &[(Expression, Pose)]) -> Track {
    let (cx, cy, scale) = base;
    let mut t = Track::new(30.0, None);
    t.push(posed_face(cx, cy, scale, &Expression::default()), true);
    for (e, p) in frames {
        let e = Expression { roll: p.roll, ..*e };
        t.push(
            posed_face(cx + p.shift.0, cy + p.shift.1, scale * p.zoom, &e),
            true,
        );
    }
    t
}

fn driver_base() -> impl Strategy<Value = (f32, f32, f32)> {
    (200f32..800.0, 200f32..800.0, 30f32..300.0)
}

fn gains() -> impl Strategy<Value = Gains> {
    prop::array::uniform7(0f32..=2.0).prop_map(|g| Gains {
        head_rotation: g[0],
        head_translation: g[1],
        eyes: g[2],
        brows: g[3],
        mouth: g[4],
        nose: g[5],
        gaze: g[6],
    })
}

fn max_distance(a: &Landmarks, b: &Landmarks) -> f32 {
    a.iter()
        .zip(b)
        .map(|(p, q)| p.distance(*q))
        .fold(0.0, f32::max)
}

/// Similarity frame of the jaw end points: points expressed in it do not see head motion.
fn in_jaw_frame(p: &Landmarks) -> Landmarks {
    let f = PartFrame::from_ends(p[0], p[16]);
    p.map(|q| f.to_local(q))
}

fn jaw_origin(p: &Landmarks) -> Point {
    (p[0] + p[16]) * 0.5
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// A driver who does not move leaves the character exactly as it is, whatever the gains,
    /// the reference choice or the shapes.
    #[test]
    fn static_driver_leaves_character_unchanged(
        character in shape(0.03),
        drv in shape(0.03),
        frames in 1usize..6,
        reference in prop_oneof![Just(Reference::First), Just(Reference::Auto), (0usize..6).prop_map(Reference::Frame)],
        gains in gains(),
        expression_only in any::<bool>(),
    ) {
        let mut track = Track::new(25.0, None);
        for _ in 0..frames {
            track.push(drv.points(), true);
        }
        let reference = match reference {
            Reference::Frame(n) => Reference::Frame(n % frames),
            r => r,
        };
        let opts = RetargetOptions { reference, gains, expression_only };
        let face = character.face();
        let out = retarget(&face, &track, &opts).unwrap();
        prop_assert_eq!(out.len(), frames);
        let tol = 1e-4 * character.scale + 1e-3;
        for f in &out.frames {
            let d = max_distance(f, &face.points);
            prop_assert!(d < tol, "moved by {} px (tolerance {})", d, tol);
        }
    }

    /// A rigid driver motion (rotation about the jaw origin plus a translation) moves the
    /// character rigidly: same rotation about its own jaw origin, translation scaled by the
    /// ratio of face sizes. With head gains, rotation and translation scale by them.
    #[test]
    fn rigid_driver_moves_character_rigidly(
        character in shape(0.03),
        drv in shape(0.03),
        motions in prop::collection::vec((-1.2f32..1.2, (-300f32..300.0, -300f32..300.0)), 1..6),
        head_gains in prop_oneof![Just((1.0f32, 1.0f32)), (0f32..=2.0, 0f32..=2.0)],
        expression_gains in gains(),
    ) {
        let d0 = drv.points();
        let o = jaw_origin(&d0);
        let mut track = Track::new(25.0, None);
        track.push(d0, true);
        for (angle, (dx, dy)) in &motions {
            let shift = Point::new(*dx, *dy);
            track.push(d0.map(|p| o + shift + rotate(p - o, *angle)), true);
        }
        let gains = Gains {
            head_rotation: head_gains.0,
            head_translation: head_gains.1,
            ..expression_gains
        };
        let opts = RetargetOptions { gains, ..Default::default() };
        let face = character.face();
        let out = retarget(&face, &track, &opts).unwrap();
        let c = face.points;
        let oc = jaw_origin(&c);
        let ratio = c[0].distance(c[16]) / d0[0].distance(d0[16]);
        let tol = 2e-4 * (character.scale + 300.0 * ratio) + 2e-3;
        for (t, (angle, (dx, dy))) in motions.iter().enumerate() {
            let shift = Point::new(*dx, *dy) * (ratio * head_gains.1);
            let expected = c.map(|p| oc + shift + rotate(p - oc, angle * head_gains.0));
            let d = max_distance(&out.frames[t + 1], &expected);
            prop_assert!(d < tol, "frame {}: off by {} px (tolerance {})", t + 1, d, tol);
        }
    }

    /// Eye-open ratios change by the driver's factor (within 5 % of the neutral opening), so a
    /// huge eye blinks fully; mouth-open ratios change by the driver's amount (within 5 % of
    /// the driver's change), so a small mouth opens in proportion to its width. Head motion
    /// and other expressions do not disturb either. Part widths change by the driver's factor.
    #[test]
    fn eye_and_mouth_open_ratios_follow_the_driver(
        character in shape(0.0),
        base in driver_base(),
        frames in prop::collection::vec((expression(), pose()), 1..8),
    ) {
        let track = driver(base, &frames);
        let face = character.face();
        let out = retarget(&face, &track, &RetargetOptions::default()).unwrap();
        let (c0, d0) = (&face.points, &track.frames[0]);
        for t in 1..track.len() {
            let (c, d) = (&out.frames[t], &track.frames[t]);
            for eye in [Eye::Right, Eye::Left] {
                let rel_c = eye_open_ratio(c, eye) / eye_open_ratio(c0, eye);
                let rel_d = eye_open_ratio(d, eye) / eye_open_ratio(d0, eye);
                prop_assert!((rel_c - rel_d).abs() <= 0.05,
                    "frame {} {:?} eye: character at {} of its opening, driver at {}", t, eye, rel_c, rel_d);
            }
            // Widths relative to the face: the mouth widens (smile) by the driver's factor.
            let rel_width = |p: &Landmarks, a: usize, b: usize| p[a].distance(p[b]) / p[0].distance(p[16]);
            for (a, b) in [(48, 54), (36, 39)] {
                let w_c = rel_width(c, a, b) / rel_width(c0, a, b);
                let w_d = rel_width(d, a, b) / rel_width(d0, a, b);
                prop_assert!((w_c - w_d).abs() < 1e-3, "frame {}: width {}-{} at {} vs {}", t, a, b, w_c, w_d);
            }
            // Opening wider than the reference: by the driver's amount. Closing: in proportion
            // to the character's own opening (covered by `openings_never_go_below_zero`).
            let change_c = mouth_open_ratio(c) - mouth_open_ratio(c0);
            let change_d = mouth_open_ratio(d) - mouth_open_ratio(d0);
            if change_d >= 0.0 {
                prop_assert!((change_c - change_d).abs() <= 0.05 * change_d.abs() + 1e-3,
                    "frame {}: mouth-open ratio changed by {} for the character, {} for the driver", t, change_c, change_d);
            } else {
                prop_assert!(change_c <= 1e-3, "frame {}: the driver's mouth closed, the character's opened by {}", t, change_c);
            }
        }
    }

    /// Whatever the driver does from an open reference (mouth and eyes open, then closing
    /// fully, smiling, turning), the character's lips and lids never pass through each other,
    /// for every reference mode.
    #[test]
    fn openings_never_go_below_zero(
        character in shape(0.0),
        base in driver_base(),
        open in (0.2f32..1.0, 0.3f32..1.0, 0.3f32..1.0),
        frames in prop::collection::vec((expression(), pose()), 1..8),
        reference in prop_oneof![Just(Reference::First), Just(Reference::Auto), (0usize..8).prop_map(Reference::Frame)],
        gains in gains(),
    ) {
        let mut track = driver(base, &frames);
        let (cx, cy, scale) = base;
        track.frames[0] = posed_face(cx, cy, scale, &Expression {
            mouth_open: open.0,
            right_eye_open: open.1,
            left_eye_open: open.2,
            ..Default::default()
        });
        let reference = match reference {
            Reference::Frame(n) => Reference::Frame(n % track.len()),
            r => r,
        };
        let opts = RetargetOptions { reference, gains, ..Default::default() };
        let out = retarget(&character.face(), &track, &opts).unwrap();
        for (t, c) in out.frames.iter().enumerate() {
            for (name, gap) in signed_gaps(c) {
                prop_assert!(gap >= -1e-4, "frame {}: {} gap {} (lips or lids crossed)", t, name, gap);
            }
        }
    }

    /// Gain 0 freezes a part: relative to the head (the jaw end points' frame) its points stay
    /// where the character has them, whatever the driver and the other gains do.
    #[test]
    fn gain_zero_freezes_a_part(
        character in shape(0.03),
        base in driver_base(),
        frames in prop::collection::vec((expression(), pose()), 1..6),
        frozen in prop::sample::select(vec![Control::Eyes, Control::Brows, Control::Mouth, Control::Nose, Control::HeadRotation, Control::HeadTranslation]),
        mut gains in gains(),
    ) {
        gains.set(frozen, 0.0).unwrap();
        let track = driver(base, &frames);
        let face = character.face();
        let out = retarget(&face, &track, &RetargetOptions { gains, ..Default::default() }).unwrap();
        let rest = in_jaw_frame(&face.points);
        let c = &face.points;
        let points: Vec<usize> = match frozen {
            Control::Eyes => (36..48).collect(),
            Control::Brows => (17..27).collect(),
            Control::Nose => (27..36).collect(),
            Control::Mouth => (0..17).chain(48..68).collect(),
            Control::HeadRotation | Control::HeadTranslation | Control::Gaze => vec![],
        };
        for (t, f) in out.frames.iter().enumerate() {
            let now = in_jaw_frame(f);
            for &i in &points {
                let d = now[i].distance(rest[i]);
                prop_assert!(d < 1e-4, "frame {} point {} moved by {} half-face-widths", t, i, d);
            }
            let angle = |p: &Landmarks| { let v = p[16] - p[0]; v.y.atan2(v.x) };
            match frozen {
                Control::HeadRotation => prop_assert!((angle(f) - angle(c)).abs() < 1e-4),
                Control::HeadTranslation => {
                    prop_assert!(jaw_origin(f).distance(jaw_origin(c)) < 1e-4 * character.scale + 1e-3);
                    prop_assert!((f[0].distance(f[16]) / c[0].distance(c[16]) - 1.0).abs() < 1e-4);
                }
                _ => {}
            }
        }
    }

    /// Garbage in (coincident, collinear or scattered points, for the character or any driving
    /// frame) never gives NaN out: either a one-line error or finite landmarks.
    #[test]
    fn degenerate_inputs_never_produce_nan(
        character in prop::collection::vec((0u8..5, 0u8..5), LANDMARK_COUNT),
        use_garbage_character in any::<bool>(),
        good in shape(0.03),
        frames in prop::collection::vec(prop::collection::vec(prop::option::weighted(0.3, (0u8..3, 0u8..68)), LANDMARK_COUNT), 1..5),
        gains in gains(),
    ) {
        let grid = |(x, y): (u8, u8)| Point::new(100.0 + 37.0 * f32::from(x), 80.0 + 53.0 * f32::from(y));
        let face = if use_garbage_character {
            let mut p = [Point::default(); LANDMARK_COUNT];
            for (q, c) in p.iter_mut().zip(&character) {
                *q = grid(*c);
            }
            Face::new(p, None)
        } else {
            good.face()
        };
        let base = good.points();
        let mut track = Track::new(30.0, None);
        track.push(base, true);
        for edits in &frames {
            let mut p = base;
            for (i, e) in edits.iter().enumerate() {
                match e {
                    None => {}
                    Some((0, j)) => p[i] = base[usize::from(*j)],       // coincident
                    Some((1, j)) => p[i] = Point::new(base[usize::from(*j)].x, 300.0), // collinear
                    Some((_, j)) => p[i] = base[0] + (base[usize::from(*j)] - base[0]) * 0.001, // squashed
                }
            }
            track.push(p, true);
        }
        match retarget(&face, &track, &RetargetOptions { gains, reference: Reference::First, ..Default::default() }) {
            Ok(out) => {
                prop_assert_eq!(out.len(), track.len());
                prop_assert!(out.frames.iter().flatten().all(|p| p.is_finite()));
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(!msg.is_empty() && !msg.contains('\n'), "{}", msg);
                prop_assert!(use_garbage_character, "a good character and reference were refused: {}", msg);
            }
        }
    }
}

/// Each eye's and the mouth's smallest gap between facing points, signed (negative when the
/// lower lid or lip has passed above the upper one), over the part's width.
fn signed_gaps(p: &Landmarks) -> [(&'static str, f32); 3] {
    let gap = |(a, b): (usize, usize), pairs: &[(usize, usize)]| {
        let axis = p[b] - p[a];
        let width = axis.x.hypot(axis.y);
        let down = Point::new(-axis.y, axis.x) * (1.0 / width);
        pairs
            .iter()
            .map(|&(u, l)| (p[l] - p[u]).dot(down) / width)
            .fold(f32::INFINITY, f32::min)
    };
    [
        ("right eye", gap((36, 39), &[(37, 41), (38, 40)])),
        ("left eye", gap((42, 45), &[(43, 47), (44, 46)])),
        ("mouth", gap((60, 64), &[(61, 67), (62, 66), (63, 65)])),
    ]
}

#[test]
fn a_closed_driver_closes_the_character_and_wider_opens_wider() {
    // The driver's reference has the mouth half open and the eyes open; the character is
    // drawn with a closed mouth and wide eyes.
    let face = Face::new(
        posed_face(500.0, 400.0, 150.0, &Expression::default()),
        None,
    );
    let open_ref = Expression {
        mouth_open: 0.5,
        ..Default::default()
    };
    let levels = [0.5f32, 0.3, 0.0, 0.7, 1.0];
    let mut track = Track::new(30.0, None);
    for &m in &levels {
        track.push(
            posed_face(
                300.0,
                300.0,
                100.0,
                &Expression {
                    mouth_open: m,
                    right_eye_open: m.min(1.0),
                    ..open_ref
                },
            ),
            true,
        );
    }
    let out = retarget(&face, &track, &RetargetOptions::default()).unwrap();
    let mouth = |p: &Landmarks| signed_gaps(p)[2].1;
    let eye = |p: &Landmarks| signed_gaps(p)[0].1;
    // The reference gives the character as drawn.
    assert!(max_distance(&out.frames[0], &face.points) < 1e-3);
    // Closing to the driver's closed mouth closes the character's, never past it.
    assert!(
        mouth(&out.frames[2]).abs() < 2e-3,
        "{}",
        mouth(&out.frames[2])
    );
    // The synthetic driver's shut eye keeps 5 % of its full opening, a tenth of the
    // reference's half-open eye: the character keeps a tenth of its own.
    let kept = eye(&out.frames[2]) / eye(&face.points);
    assert!((0.0..0.12).contains(&kept), "{kept}");
    assert!(mouth(&out.frames[1]) >= -1e-4 && mouth(&out.frames[1]) <= mouth(&face.points) + 1e-4);
    // Wider than the reference opens wider, monotonically.
    let order = [2usize, 1, 0, 3, 4];
    for w in order.windows(2) {
        assert!(
            mouth(&out.frames[w[1]]) >= mouth(&out.frames[w[0]]) - 1e-4,
            "mouth not monotonic between driver openings {} and {}",
            levels[w[0]],
            levels[w[1]]
        );
    }
    assert!(mouth(&out.frames[4]) > mouth(&face.points) + 0.1);
}

#[test]
fn a_wink_closes_one_eye_and_one_brow_moves_alone() {
    let face = Face::new(
        posed_face(500.0, 400.0, 150.0, &Expression::default()),
        None,
    );
    let rest = signed_gaps(&face.points);
    let mut wink = posed_face(
        300.0,
        300.0,
        100.0,
        &Expression {
            right_eye_open: 0.0,
            ..Default::default()
        },
    );
    // The left brow (points 22-26) alone goes up by a tenth of the face's half width.
    for q in &mut wink[22..27] {
        q.y -= 10.0;
    }
    let mut track = Track::new(30.0, None);
    track.push(
        posed_face(300.0, 300.0, 100.0, &Expression::default()),
        true,
    );
    track.push(wink, true);
    let out = retarget(&face, &track, &RetargetOptions::default()).unwrap();
    let now = signed_gaps(&out.frames[1]);
    assert!(
        now[0].1 < 0.1 * rest[0].1,
        "right eye still {} open",
        now[0].1
    );
    assert!(
        (now[1].1 - rest[1].1).abs() < 1e-4,
        "left eye moved: {} vs {}",
        now[1].1,
        rest[1].1
    );
    let rise = |range: std::ops::Range<usize>| {
        range
            .map(|i| face.points[i].y - out.frames[1][i].y)
            .sum::<f32>()
            / 5.0
    };
    assert!(rise(22..27) > 10.0, "left brow rose {}", rise(22..27));
    assert!(
        rise(17..22).abs() < 1e-3,
        "right brow moved {}",
        rise(17..22)
    );
}

fn neutral_driver(frames: &[Expression]) -> Track {
    let mut t = Track::new(30.0, None);
    t.push(
        posed_face(300.0, 300.0, 100.0, &Expression::default()),
        true,
    );
    for e in frames {
        t.push(posed_face(300.0, 300.0, 100.0, e), true);
    }
    t
}

#[test]
fn a_huge_eye_blinks_fully_and_a_tiny_mouth_opens_in_proportion() {
    let character = Shape {
        centre: (500.0, 400.0),
        scale: 200.0,
        roll: 0.0,
        eye: (1.5, 3.0),
        mouth: (0.4, 0.5),
        jitter: vec![],
    };
    let face = character.face();
    let track = neutral_driver(&[Expression {
        right_eye_open: 0.0,
        left_eye_open: 0.0,
        mouth_open: 1.0,
        ..Default::default()
    }]);
    let out = retarget(&face, &track, &RetargetOptions::default()).unwrap();
    let (rest, shut) = (&face.points, &out.frames[1]);
    for eye in [Eye::Right, Eye::Left] {
        let r = eye_open_ratio(shut, eye) / eye_open_ratio(rest, eye);
        assert!(r < 0.06, "{eye:?} eye still {r} open");
    }
    let opened = mouth_open_ratio(shut) - mouth_open_ratio(rest);
    let driver_opened = mouth_open_ratio(&track.frames[1]) - mouth_open_ratio(&track.frames[0]);
    assert!(
        (opened - driver_opened).abs() < 1e-3,
        "{opened} vs {driver_opened}"
    );
    let width = |p: &Landmarks| p[60].distance(p[64]);
    let gap = |p: &Landmarks| p[62].distance(p[66]);
    // In pixels the tiny mouth opens much less than the driver's, in proportion to its width.
    let px_ratio = (gap(shut) - gap(rest)) / (gap(&track.frames[1]) - gap(&track.frames[0]));
    let width_ratio = width(rest) / width(&track.frames[0]);
    assert!(
        (px_ratio / width_ratio - 1.0).abs() < 0.01,
        "{px_ratio} vs {width_ratio}"
    );
}

#[test]
fn a_part_never_leaves_the_face() {
    // The character's mouth sits just above its chin: the driver's lip corners drop by 0.15
    // face half-widths when the mouth opens wide, more than the character has room for.
    let mut points = posed_face(400.0, 400.0, 100.0, &Expression::default());
    for q in &mut points[48..68] {
        q.y += 30.0;
    }
    let face = Face::new(points, None);
    let track = neutral_driver(&[Expression {
        mouth_open: 1.0,
        ..Default::default()
    }]);
    let out = retarget(&face, &track, &RetargetOptions::default()).unwrap();
    let corners = |p: &Landmarks| (p[48] + p[54]) * 0.5;
    let drop_c = corners(&out.frames[1]).y - corners(&points).y;
    let drop_d = corners(&track.frames[1]).y - corners(&track.frames[0]).y;
    let room_c = points[8].y - corners(&points).y;
    let room_d = track.frames[0][8].y - corners(&track.frames[0]).y;
    assert!(drop_d > 10.0, "driver corners dropped {drop_d}");
    assert!(
        (drop_c - drop_d * room_c / room_d).abs() < 1e-3,
        "{drop_c} vs {}",
        drop_d * room_c / room_d
    );
    assert!(drop_c < room_c);
    // With room to spare (the plain synthetic face) the corners drop exactly as the driver's.
    let plain = Face::new(
        posed_face(400.0, 400.0, 100.0, &Expression::default()),
        None,
    );
    let out = retarget(&plain, &track, &RetargetOptions::default()).unwrap();
    assert!((corners(&out.frames[1]).y - corners(&plain.points).y - drop_d).abs() < 1e-3);
}

#[test]
fn expression_only_keeps_the_head_still() {
    let face = Face::new(
        posed_face(400.0, 400.0, 120.0, &Expression::default()),
        None,
    );
    let mut track = neutral_driver(&[]);
    track.push(
        posed_face(
            350.0,
            420.0,
            80.0,
            &Expression {
                roll: 0.5,
                mouth_open: 0.7,
                ..Default::default()
            },
        ),
        true,
    );
    let opts = RetargetOptions {
        expression_only: true,
        ..Default::default()
    };
    let out = retarget(&face, &track, &opts).unwrap();
    let f = &out.frames[1];
    assert!(f[0].distance(face.points[0]) < 1e-3 && f[16].distance(face.points[16]) < 1e-3);
    assert!(mouth_open_ratio(f) > 0.3);
}

#[test]
fn the_reference_frame_keeps_the_character_as_drawn() {
    let face = Shape {
        centre: (300.0, 300.0),
        scale: 90.0,
        roll: 0.2,
        eye: (1.2, 2.0),
        mouth: (0.8, 1.3),
        jitter: vec![],
    }
    .face();
    let smile = Expression {
        smile: 0.8,
        ..Default::default()
    };
    let track = neutral_driver(&[smile, Expression::default(), smile]);
    let opts = RetargetOptions {
        reference: Reference::Frame(1),
        ..Default::default()
    };
    let out = retarget(&face, &track, &opts).unwrap();
    // Frames 1 and 3 smile like the reference; frames 0 and 2 are neutral.
    assert!(max_distance(&out.frames[1], &face.points) < 1e-3);
    assert!(max_distance(&out.frames[3], &face.points) < 1e-3);
    assert!(max_distance(&out.frames[0], &face.points) > 1.0);
    assert_eq!(out.frames[0], out.frames[2]);
}

#[test]
fn bad_inputs_are_refused_with_a_clear_message() {
    let good = Face::new(
        posed_face(300.0, 300.0, 100.0, &Expression::default()),
        None,
    );
    let track = neutral_driver(&[Expression::default()]);
    let opts = RetargetOptions::default();

    let mut nan = good.clone();
    nan.points[40].y = f32::NAN;
    let msg = retarget(&nan, &track, &opts).unwrap_err().to_string();
    assert!(
        msg.contains("character") && msg.contains("point 40"),
        "{msg}"
    );

    let mut bad_track = track.clone();
    bad_track.frames[1][3].x = f32::INFINITY;
    let msg = retarget(&good, &bad_track, &opts).unwrap_err().to_string();
    assert!(msg.contains("frame 1") && msg.contains("point 3"), "{msg}");

    let mut flat = good.clone();
    flat.points[39] = flat.points[36];
    let msg = retarget(&flat, &track, &opts).unwrap_err().to_string();
    assert!(
        msg.contains("character") && msg.contains("right upper lid"),
        "{msg}"
    );
    assert!(msg.contains("36") && msg.contains("39"), "{msg}");

    let mut tiny = good.clone();
    tiny.points = [Point::new(5.0, 5.0); LANDMARK_COUNT];
    let msg = retarget(&tiny, &track, &opts).unwrap_err().to_string();
    assert!(msg.contains("jaw"), "{msg}");

    let mut collapsed_ref = track.clone();
    collapsed_ref.frames[1][54] = collapsed_ref.frames[1][48];
    let msg = retarget(
        &good,
        &collapsed_ref,
        &RetargetOptions {
            reference: Reference::Frame(1),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        msg.contains("driving frame 1") && msg.contains("outer upper lip"),
        "{msg}"
    );
    assert!(msg.contains("another reference"), "{msg}");

    let wild = RetargetOptions {
        gains: Gains {
            mouth: 7.0,
            ..Default::default()
        },
        ..Default::default()
    };
    let msg = retarget(&good, &track, &wild).unwrap_err().to_string();
    assert!(msg.contains("mouth=7"), "{msg}");

    let far = RetargetOptions {
        reference: Reference::Frame(9),
        ..Default::default()
    };
    assert!(retarget(&good, &track, &far).is_err());
    assert!(retarget(&good, &Track::new(30.0, None), &opts).is_err());
}

#[test]
fn a_collapsed_driving_frame_is_held_not_nan() {
    let face = Face::new(
        posed_face(300.0, 300.0, 100.0, &Expression::default()),
        None,
    );
    let mut track = neutral_driver(&[
        Expression {
            mouth_open: 0.5,
            ..Default::default()
        },
        Expression::default(),
    ]);
    track.frames[2][45] = track.frames[2][42];
    let out = retarget(&face, &track, &RetargetOptions::default()).unwrap();
    assert_eq!(out.found, vec![true, true, false]);
    assert_eq!(out.frames[2], out.frames[1]);
}

/// Each eye's frame (corners 36-39 and 42-45) and half opening (mean lid gap / 2), in pixels.
fn eye_frames(p: &Landmarks) -> [(PartFrame, f32); 2] {
    [(36, [37, 38], [41, 40], 39), (42, [43, 44], [47, 46], 45)].map(|(a, up, low, b)| {
        let f = PartFrame::from_ends(p[a], p[b]);
        let gap = up
            .iter()
            .zip(low)
            .map(|(&u, l)| f.to_local(p[l]).y - f.to_local(p[u]).y)
            .sum::<f32>()
            * 0.5;
        (f, 0.5 * gap * f.half_width)
    })
}

/// Pupils placed in each eye at `(across, down)`: across in half eye widths, down in half
/// openings, from the eye's middle.
fn pupils_at(p: &Landmarks, offsets: [(f32, f32); 2]) -> [Point; 2] {
    let frames = eye_frames(p);
    std::array::from_fn(|k| {
        let (f, half_open) = frames[k];
        let (across, down) = offsets[k];
        f.origin + f.x_axis() * (across * f.half_width) + f.y_axis() * (down * half_open)
    })
}

/// Where each pupil is in its eye, in the units of [`pupils_at`].
fn pupil_offsets(p: &Landmarks, pupils: &[Point; 2]) -> [(f32, f32); 2] {
    let frames = eye_frames(p);
    std::array::from_fn(|k| {
        let (f, half_open) = frames[k];
        let d = pupils[k] - f.origin;
        (
            d.dot(f.x_axis()) / f.half_width,
            d.dot(f.y_axis()) / half_open,
        )
    })
}

/// A driver at a moving head pose whose eyes look as `gazes` say (frame 0 straight ahead).
fn gaze_driver(gazes: &[[(f32, f32); 2]]) -> Track {
    let mut t = Track::new(30.0, None);
    let mut pupils = Vec::new();
    for (k, g) in std::iter::once(&[(0.0, 0.0); 2]).chain(gazes).enumerate() {
        let e = Expression {
            roll: 0.05 * k as f32,
            ..Default::default()
        };
        let p = posed_face(300.0 + 4.0 * k as f32, 300.0, 100.0 + k as f32, &e);
        pupils.push(pupils_at(&p, *g));
        t.push(p, true);
    }
    t.pupils = Some(pupils);
    t
}

/// A character with big eyes whose pupils are drawn looking a little down and inwards.
fn gaze_character() -> Face {
    let character = Shape {
        centre: (500.0, 400.0),
        scale: 160.0,
        roll: -0.1,
        eye: (1.4, 2.6),
        mouth: (1.0, 1.0),
        jitter: vec![(0.0, 0.0); LANDMARK_COUNT],
    };
    let mut face = character.face();
    face.pupils = Some(pupils_at(&face.points, [(0.1, 0.2), (-0.1, 0.2)]));
    face
}

#[test]
fn pupils_follow_the_drivers_gaze_in_proportion_to_the_eye() {
    let face = gaze_character();
    let rest = pupil_offsets(&face.points, &face.pupils.unwrap());
    // Right, up, cross-eyed, rolled to the lower left.
    let gazes = [
        [(0.4, 0.0), (0.4, 0.0)],
        [(0.0, -0.5), (0.0, -0.5)],
        [(0.3, 0.0), (-0.3, 0.0)],
        [(-0.3, 0.4), (-0.3, 0.4)],
    ];
    let out = retarget(&face, &gaze_driver(&gazes), &RetargetOptions::default()).unwrap();
    let pupils = out.pupils.as_ref().expect("the character has pupils");
    let at_rest = pupil_offsets(&out.frames[0], &pupils[0]);
    for k in 0..2 {
        assert!((at_rest[k].0 - rest[k].0).abs() < 1e-3 && (at_rest[k].1 - rest[k].1).abs() < 1e-3);
    }
    for (t, gaze) in gazes.iter().enumerate() {
        let now = pupil_offsets(&out.frames[t + 1], &pupils[t + 1]);
        for k in 0..2 {
            let moved = (now[k].0 - rest[k].0, now[k].1 - rest[k].1);
            assert!(
                (moved.0 - gaze[k].0).abs() < 0.02 && (moved.1 - gaze[k].1).abs() < 0.02,
                "frame {}: eye {k} moved {moved:?}, driver {:?}",
                t + 1,
                gaze[k]
            );
        }
    }
}

#[test]
fn gaze_gain_freezes_or_exaggerates_and_no_pupils_means_no_gaze() {
    let face = gaze_character();
    let rest = pupil_offsets(&face.points, &face.pupils.unwrap());
    let driver = gaze_driver(&[[(0.2, -0.2), (0.2, -0.2)]]);
    for (gain, expected) in [(0.0, 0.0), (1.0, 0.2), (2.0, 0.4)] {
        let opts = RetargetOptions {
            gains: Gains {
                gaze: gain,
                ..Default::default()
            },
            ..Default::default()
        };
        let out = retarget(&face, &driver, &opts).unwrap();
        let now = pupil_offsets(&out.frames[1], &out.pupils.as_ref().unwrap()[1]);
        for k in 0..2 {
            assert!(
                (now[k].0 - rest[k].0 - expected).abs() < 0.02,
                "gain {gain}: {now:?}"
            );
            assert!(
                (now[k].1 - rest[k].1 + expected).abs() < 0.02,
                "gain {gain}: {now:?}"
            );
        }
    }
    // A driving track without pupils: the pupils ride along with the eyes.
    let mut blind = driver.clone();
    blind.pupils = None;
    let out = retarget(&face, &blind, &RetargetOptions::default()).unwrap();
    let now = pupil_offsets(&out.frames[1], &out.pupils.as_ref().unwrap()[1]);
    for k in 0..2 {
        assert!((now[k].0 - rest[k].0).abs() < 1e-3 && (now[k].1 - rest[k].1).abs() < 1e-3);
    }
    // A character without pupils gets none.
    let plain = Face::new(face.points, None);
    assert!(
        retarget(&plain, &driver, &RetargetOptions::default())
            .unwrap()
            .pupils
            .is_none()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Wherever the driver looks, and however its head moves, the character's pupils stay
    /// inside their eyes (within three quarters of the way to a corner, four fifths of the way
    /// to a lid), and a driver looking straight ahead leaves them where they are drawn.
    #[test]
    fn pupils_stay_inside_their_eyes(
        character in shape(0.0),
        gazes in prop::collection::vec(
            prop::array::uniform2(((-3f32..3.0), (-3f32..3.0))),
            1..6,
        ),
        // Drawn pupils inside the limit the property checks (a rectangle's corners lie outside
        // it, and a straight-ahead driver rightly leaves a pupil where it is drawn).
        rest in prop::array::uniform2(((-0.5f32..0.5), (-0.6f32..0.6))).prop_filter(
            "a drawn pupil inside its eye's limit",
            |r| r.iter().all(|&(x, y)| (x / 0.75).powi(2) + (y / 0.8).powi(2) <= 1.0),
        ),
        gains in gains(),
    ) {
        let mut face = character.face();
        face.pupils = Some(pupils_at(&face.points, rest));
        let opts = RetargetOptions { gains, ..Default::default() };
        let out = retarget(&face, &gaze_driver(&gazes), &opts).unwrap();
        let pupils = out.pupils.as_ref().unwrap();
        for (t, (points, pair)) in out.frames.iter().zip(pupils).enumerate() {
            // In the character's rest opening (lids may close over the pupil, it stays put).
            let half_open = eye_frames(&face.points).map(|(f, h)| h / f.half_width);
            let frames = eye_frames(points);
            for k in 0..2 {
                let (f, _) = frames[k];
                let d = pair[k] - f.origin;
                let across = d.dot(f.x_axis()) / f.half_width;
                let down = d.dot(f.y_axis()) / f.half_width / half_open[k].max(0.125);
                let rho = ((across / 0.75).powi(2) + (down / 0.8).powi(2)).sqrt();
                prop_assert!(rho < 1.0 + 1e-3, "frame {t} eye {k}: ({across}, {down})");
            }
        }
        let still = retarget(&face, &gaze_driver(&[[(0.0, 0.0); 2]]), &opts).unwrap();
        let back = pupil_offsets(&still.frames[1], &still.pupils.as_ref().unwrap()[1]);
        let drawn = pupil_offsets(&face.points, &face.pupils.unwrap());
        for k in 0..2 {
            prop_assert!((back[k].0 - drawn[k].0).abs() < 1e-2 && (back[k].1 - drawn[k].1).abs() < 1e-2,
                "{back:?} vs {drawn:?}");
        }
    }
}
