//! End-to-end: a scripted driver looks left, right and up, rolls its eyes and winks; `faceshot
//! match`, `retarget` and `render` bring it onto a cartoon with round irises, and the irises
//! measured in the rendered pixels move the same way.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cli.rs"]
mod cli;

use cli::{faceshot, ok, s};
use faceshot_core::cartoon::character::{self as cartoon, Background, Style};
use faceshot_core::landmarks::synthetic::{Expression, posed_face, pupils_at};
use faceshot_core::landmarks::{Face, Landmarks, Point, Track};
use faceshot_core::media::save_png;
use image::RgbaImage;
use std::path::Path;

const SIZE: u32 = 256;

fn style() -> Style {
    Style {
        iris_radius: 0.2,
        background: Background::Transparent,
        ..Style::default()
    }
}

/// The scripted driver: straight ahead, left, right, up, a full eye roll, a wink of the
/// image-left eye; its head turns a little all along.
fn driver() -> (Track, Vec<&'static str>) {
    let mut gazes: Vec<(&str, (f32, f32), bool)> = vec![("ahead", (0.0, 0.0), false)];
    gazes.extend([("left", (-0.25, 0.0), false); 3]);
    gazes.extend([("right", (0.25, 0.0), false); 3]);
    gazes.extend([("up", (0.0, -0.12), false); 3]);
    for k in 0..8 {
        let t = std::f32::consts::TAU * k as f32 / 8.0;
        gazes.push(("roll", (0.3 * t.cos(), 0.1 * t.sin()), false));
    }
    gazes.extend([("wink", (0.0, 0.0), true); 3]);
    let mut track = Track::new(30.0, None);
    let mut pupils = Vec::new();
    let mut labels = Vec::new();
    for (t, (label, g, wink)) in gazes.into_iter().enumerate() {
        let e = Expression {
            roll: 0.004 * t as f32,
            right_eye_open: if wink { 0.0 } else { 1.0 },
            ..Default::default()
        };
        let p = posed_face(300.0 + t as f32, 320.0, 110.0, &e);
        let both = if label == "roll" { [g, g] } else { [g; 2] };
        pupils.push(pupils_at(&p, both));
        track.push(p, true);
        labels.push(label);
    }
    track.pupils = Some(pupils);
    (track, labels)
}

/// Centre and size of the iris-blue pixels of eye `k` (0: image-left half).
fn iris(img: &RgbaImage, k: usize) -> (Point, usize) {
    let blue = style().iris;
    let (mut sum, mut n) = (Point::default(), 0usize);
    for (x, y, p) in img.enumerate_pixels() {
        let near = (0..3).all(|c| (i32::from(p[c]) - i32::from(blue[c])).abs() <= 30);
        if near && p[3] == 255 && (x < SIZE / 2) == (k == 0) {
            sum = sum + Point::new(x as f32, y as f32);
            n += 1;
        }
    }
    (sum * (1.0 / n.max(1) as f32), n)
}

fn render(dir: &Path) -> (Vec<RgbaImage>, Vec<&'static str>, Face, Track) {
    let rest = cartoon::big_eyes(posed_face(128.0, 136.0, 90.0, &Expression::default()), 2.2);
    let picture = dir.join("char.png");
    save_png(&cartoon::draw(SIZE, SIZE, &rest, &style()), &picture).unwrap();
    let face_path = dir.join("char.json");
    ok(&faceshot(&["match", s(&picture), "-o", s(&face_path)]));
    let face = Face::load(&face_path).unwrap();
    let (track, labels) = driver();
    let driving = dir.join("driver.json");
    track.save(&driving).unwrap();
    let moved = dir.join("moved.json");
    ok(&faceshot(&[
        "retarget",
        "--character",
        s(&face_path),
        "--driving",
        s(&driving),
        "-o",
        s(&moved),
    ]));
    let frames = dir.join("frames");
    ok(&faceshot(&[
        "render",
        "--character",
        s(&picture),
        "--landmarks",
        s(&face_path),
        "--track",
        s(&moved),
        "-o",
        &format!("{}/", s(&frames)),
    ]));
    let mut pngs: Vec<_> = std::fs::read_dir(&frames)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pngs.sort();
    let images = pngs
        .iter()
        .map(|p| image::open(p).unwrap().to_rgba8())
        .collect();
    (images, labels, face, Track::load(&moved, None).unwrap())
}

/// The middle of eye `k`'s corners in a frame of the character's track.
fn eye_middle(points: &Landmarks, k: usize) -> Point {
    let (a, b) = if k == 0 { (36, 39) } else { (42, 45) };
    points[a].lerp(points[b], 0.5)
}

#[test]
fn the_characters_irises_follow_the_drivers_gaze_and_wink() {
    let dir = tempfile::tempdir().unwrap();
    let (frames, labels, face, moved) = render(dir.path());
    assert_eq!(frames.len(), labels.len());
    // The matcher found the drawn irises: pupils near the eye centres, an iris radius. The pupil
    // is the centroid of the iris pixels inside the matched eye outline, which clips the iris's
    // edge: measured 2.0 px from the drawn centre at most.
    let pupils = face.pupils.expect("the matcher reads the pupils");
    assert!(face.pupil_radius.is_some(), "{face:?}");
    for (k, p) in pupils.iter().enumerate() {
        let (drawn, _) = iris(
            &image::open(dir.path().join("char.png")).unwrap().to_rgba8(),
            k,
        );
        assert!(
            p.distance(drawn) < 2.5,
            "pupil {k} at {p:?}, iris drawn at {drawn:?}"
        );
    }
    // Iris positions relative to the eye's corners (the head moves too).
    let in_eye = |t: usize, k: usize| {
        let (at, n) = iris(&frames[t], k);
        (at - eye_middle(&moved.frames[t], k), n)
    };
    let rest: Vec<(Point, usize)> = (0..2).map(|k| in_eye(0, k)).collect();

    let mut roll = Vec::new();
    for (t, label) in labels.iter().enumerate() {
        let now: Vec<(Point, usize)> = (0..2).map(|k| in_eye(t, k)).collect();
        let d: Vec<Point> = (0..2).map(|k| now[k].0 - rest[k].0).collect();
        let msg = format!("frame {t} ({label}): moved {d:?}, sizes {now:?} vs {rest:?}");
        match *label {
            "left" => assert!(d.iter().all(|d| d.x < -2.0 && d.y.abs() < 1.5), "{msg}"),
            "right" => assert!(d.iter().all(|d| d.x > 2.0 && d.y.abs() < 1.5), "{msg}"),
            // Looking up, the upper lid hides part of the iris (a third or more of its pixels),
            // which shifts the visible part's centre sideways with the lid's slope; the two
            // lids slope as mirror images, so the shifts are opposite (measured +1.6 and
            // -1.0 px, 3.0 and 2.8 px up): each eye moves more up than sideways and at most
            // 2.5 px sideways, the pair barely sideways.
            "up" => {
                let up = |d: &Point| d.y < -1.0 && d.x.abs() < (-d.y).min(2.5);
                assert!(d.iter().all(up), "{msg}");
                assert!(((d[0].x + d[1].x) / 2.0).abs() < 0.5, "{msg}");
            }
            "roll" => roll.push(d[1]),
            "wink" => {
                assert!(now[0].1 * 20 < rest[0].1, "{msg}");
                // (Frame 0 is the picture itself; warped frames lose a few blended edge pixels.)
                assert!(now[1].1 * 10 > rest[1].1 * 6, "{msg}");
            }
            _ => {}
        }
    }
    // The eye roll goes once around: right, down, left, up, in that order of angles.
    let angles: Vec<f32> = roll.iter().map(|d| d.y.atan2(d.x)).collect();
    let turned: f32 = angles
        .windows(2)
        .map(|w| {
            let mut a = w[1] - w[0];
            while a > std::f32::consts::PI {
                a -= std::f32::consts::TAU;
            }
            while a < -std::f32::consts::PI {
                a += std::f32::consts::TAU;
            }
            a
        })
        .sum();
    assert!(
        turned > 1.5 * std::f32::consts::PI,
        "the iris turned {turned} rad over the roll: {roll:?}"
    );
}
