//! Makes `docs/motion.gif`: a scripted driver (left: the test cartoon with human proportions,
//! animated straight from the script) talks, looks left, right and up, rolls its eyes, winks
//! and tilts its head; retargeting carries that onto a big-eyed cartoon (right).
//!
//! Run: `cargo run --release -p faceshot-core --example motion_demo [OUT.gif]`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use faceshot_core::animate::{Animator, WarpAnimator};
use faceshot_core::cartoon::character::{self as cartoon, Background, Style};
use faceshot_core::landmarks::synthetic::{Expression, posed_face, pupils_at};
use faceshot_core::landmarks::{Face, ImageSize, Landmarks, Point, Track};
use faceshot_core::media::{ExportOptions, Exporter};
use faceshot_core::pupils::read_pupils;
use faceshot_core::retarget::{RetargetOptions, retarget};
use image::{Rgba, RgbaImage};
use std::path::PathBuf;

const FPS: f64 = 15.0;
const SIDE: u32 = 192;

/// The script, second by second: talk, look left / right / up, roll the eyes, wink, tilt.
fn scripted_driver() -> Track {
    let frames = (FPS * 6.0) as usize;
    let mut track = Track::new(FPS, None);
    let mut pupils = Vec::new();
    for i in 0..frames {
        let t = i as f32 / FPS as f32;
        let talk = if t < 1.5 {
            0.6 * (0.5 - 0.5 * (t * 4.0 * std::f32::consts::TAU).cos())
        } else {
            0.0
        };
        let ease = |a: f32, b: f32| ((t - a) / (b - a)).clamp(0.0, 1.0);
        let gaze = if t < 1.5 {
            (0.0, 0.0)
        } else if t < 2.5 {
            let s = (ease(1.5, 2.5) * std::f32::consts::TAU).sin();
            (-0.3 * s.max(0.0) + 0.3 * (-s).max(0.0), 0.0)
        } else if t < 3.0 {
            (0.0, -0.12 * (ease(2.5, 3.0) * std::f32::consts::PI).sin())
        } else if t < 4.2 {
            let a = ease(3.0, 4.2) * std::f32::consts::TAU;
            (
                0.28 * a.sin(),
                -0.1 * a.cos() + 0.1 * (1.0 - ease(3.0, 3.2)),
            )
        } else {
            (0.0, 0.0)
        };
        let wink = (1.0 - ((t - 4.7).abs() / 0.3)).clamp(0.0, 1.0);
        let tilt = 0.12 * (ease(5.0, 6.0) * std::f32::consts::PI).sin();
        let e = Expression {
            mouth_open: talk,
            right_eye_open: 1.0 - wink,
            smile: 0.4 * ease(4.4, 4.7) * (1.0 - ease(5.5, 6.0)),
            roll: tilt,
            ..Default::default()
        };
        let p = posed_face(300.0, 300.0, 110.0, &e);
        pupils.push(pupils_at(&p, [gaze; 2]));
        track.push(p, true);
    }
    track.pupils = Some(pupils);
    track
}

/// A test cartoon at `side`² with its pupils read from the picture.
fn cartoon_face(points: Landmarks, style: &Style) -> (RgbaImage, Face) {
    let image = cartoon::draw(SIDE, SIDE, &points, style);
    let mut face = Face::new(
        points,
        Some(ImageSize {
            width: SIDE,
            height: SIDE,
        }),
    );
    let reading = read_pupils(&image, &points);
    face.pupils = Some(reading.centres());
    face.pupil_radius = reading.radius();
    (image, face)
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("docs/motion.gif"));
    let driver = scripted_driver();
    let c = SIDE as f32 * 0.5;
    // The driver drawn as itself: human proportions, its points scaled into the panel.
    let scale = 82.0 / 110.0;
    let to_panel =
        |p: Point| Point::new(c + (p.x - 300.0) * scale, c + 10.0 + (p.y - 300.0) * scale);
    let driver_style = Style {
        iris_radius: 0.22,
        iris: [110, 80, 50],
        skin: [225, 190, 170],
        background: Background::Transparent,
        ..Style::default()
    };
    let rest = driver.frames[0].map(to_panel);
    let (driver_image, driver_face) = cartoon_face(cartoon::big_eyes(rest, 1.6), &driver_style);
    let driver_anim = WarpAnimator::new(&driver_image, &driver_face).unwrap();
    let character_style = Style {
        iris_radius: 0.2,
        skin: [150, 210, 120],
        hair: [60, 40, 120],
        background: Background::Transparent,
        ..Style::default()
    };
    let character_points =
        cartoon::big_eyes(posed_face(c, c + 12.0, 80.0, &Expression::default()), 2.6);
    let (character_image, character_face) = cartoon_face(character_points, &character_style);
    let character_anim = WarpAnimator::new(&character_image, &character_face).unwrap();
    let moved = retarget(&character_face, &driver, &RetargetOptions::default()).unwrap();
    let opts = ExportOptions {
        fps: FPS,
        ..Default::default()
    };
    let mut gif = Exporter::create(&out, SIDE * 2 + 4, SIDE, &opts).unwrap();
    for t in 0..driver.len() {
        let d_points = cartoon::big_eyes(driver.frames[t].map(to_panel), 1.6);
        let d_pupils = driver.pupils_at(t).map(|p| p.map(to_panel));
        let left = driver_anim.render(&d_points, d_pupils.as_ref()).unwrap();
        let right = character_anim
            .render(&moved.frames[t], moved.pupils_at(t))
            .unwrap();
        let mut frame = RgbaImage::from_pixel(SIDE * 2 + 4, SIDE, Rgba([236, 238, 242, 255]));
        image::imageops::overlay(&mut frame, &left, 0, 0);
        image::imageops::overlay(&mut frame, &right, i64::from(SIDE) + 4, 0);
        gif.push(&frame).unwrap();
    }
    let path = gif.finish().unwrap();
    println!("wrote {}", path.display());
}
