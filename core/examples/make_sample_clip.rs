//! Makes `assets/driving/sample_talk.mp4`, the driving clip FaceShot ships: the public-domain
//! astronaut portrait animated by the built-in animator along a scripted motion — talking
//! (syllable-like mouth opening), two blinks, a nod and a slight head sway.
//!
//! Run: `cargo run --release -p faceshot-core --example make_sample_clip [OUT.mp4]`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use faceshot_core::animate::{Animator, WarpAnimator};
use faceshot_core::landmarks::synthetic::{Expression, posed_face};
use faceshot_core::landmarks::{Face, Track};
use faceshot_core::media::{ExportOptions, Exporter, load_image};
use faceshot_core::retarget::{RetargetOptions, retarget};
use std::path::{Path, PathBuf};

const FPS: f64 = 25.0;
const SECONDS: f64 = 4.0;

/// The scripted driver: a synthetic face whose expression and pose follow simple curves.
fn scripted_driver() -> Track {
    let mut track = Track::new(FPS, None);
    let frames = (FPS * SECONDS) as usize;
    for i in 0..frames {
        let t = i as f64 / FPS;
        // Speech: syllables at ~4 Hz inside two phrases, silent in between.
        let phrase = if (0.3..1.8).contains(&t) || (2.3..3.7).contains(&t) {
            1.0
        } else {
            0.0
        };
        let syllable = (0.5 - 0.5 * (t * 4.2 * std::f64::consts::TAU).cos()).powf(1.5);
        let mouth = (0.75 * phrase * syllable) as f32;
        // Blinks: 0.2 s each, at 1.1 s and 2.9 s.
        let blink = |c: f64| (1.0 - ((t - c).abs() / 0.1)).clamp(0.0, 1.0);
        let eyes = (1.0 - blink(1.1).max(blink(2.9))) as f32;
        let nod = (t * std::f64::consts::TAU / 2.0).sin() as f32;
        let sway = (t * std::f64::consts::TAU / 4.0).sin() as f32;
        let expr = Expression {
            mouth_open: mouth,
            right_eye_open: eyes,
            left_eye_open: eyes,
            brow_raise: 0.4 * phrase as f32 * syllable as f32,
            smile: 0.15,
            roll: 0.05 * sway,
        };
        let points = posed_face(256.0 + 4.0 * sway, 256.0 + 5.0 * nod, 100.0, &expr);
        track.push(points, true);
    }
    track
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out: PathBuf = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("assets/driving/sample_talk.mp4"));
    let image = load_image(&root.join("assets/characters/astronaut.png")).unwrap();
    let face = Face::load(&root.join("assets/characters/astronaut.json")).unwrap();
    let driver = scripted_driver();
    let character = retarget(&face, &driver, &RetargetOptions::default()).unwrap();
    let animator = WarpAnimator::prepare(&image, &face).unwrap();
    let opts = ExportOptions {
        fps: FPS,
        quality: 70,
        ..Default::default()
    };
    let mut exporter = Exporter::create(&out, image.width(), image.height(), &opts).unwrap();
    for points in &character.frames {
        exporter
            .push(&animator.render(points, None).unwrap())
            .unwrap();
    }
    let path = exporter.finish().unwrap();
    println!("wrote {} frames to {}", character.len(), path.display());
}
