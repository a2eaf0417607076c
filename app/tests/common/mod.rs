//! Shared helpers for the UI tests: a harness around the real app, waiting for the worker,
//! and generated driving landmarks.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use egui_kittest::Harness;
use faceshot::gui::{FaceShotApp, LaunchOptions};
use faceshot_core::landmarks::synthetic::{Expression, posed_face};
use faceshot_core::landmarks::{ImageSize, Track};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The repository's `assets/` folder.
pub fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("assets")
}

/// The sample character.
pub fn astronaut() -> PathBuf {
    assets().join("characters").join("astronaut.png")
}

/// Window size used by every test (and the screenshots).
pub const SIZE: [f32; 2] = [1280.0, 820.0];

/// A harness over the real app, without a renderer.
pub fn harness(options: LaunchOptions) -> Harness<'static, FaceShotApp> {
    Harness::builder()
        .with_size(SIZE)
        .with_accessibility_check(false)
        .build_eframe(move |cc| FaceShotApp::new(&cc.egui_ctx, &options))
}

/// Launch options of a first start: the shipped sample from this repository's assets.
pub fn sample_launch() -> LaunchOptions {
    LaunchOptions {
        load_sample: true,
        assets: Some(assets()),
        ..Default::default()
    }
}

/// A harness with the sample character loaded (and settled).
pub fn with_character() -> Harness<'static, FaceShotApp> {
    let mut h = harness(LaunchOptions {
        character: Some(astronaut()),
        ..Default::default()
    });
    settle(&mut h);
    assert!(h.state().doc.rig.is_some(), "the character did not load");
    h
}

/// Step the UI until the worker has nothing pending (fails after 5 minutes: a hang guard,
/// generous because tracking the sample clip in a debug build on a loaded machine is slow).
pub fn settle(h: &mut Harness<'static, FaceShotApp>) {
    let start = Instant::now();
    loop {
        h.step();
        if !h.state().is_busy() {
            h.step();
            if !h.state().is_busy() {
                break;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "the worker did not finish"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A talking-face track: the mouth opens and closes, one blink, a little head roll.
pub fn talking_track(frames: usize) -> Track {
    let mut t = Track::new(
        25.0,
        Some(ImageSize {
            width: 640,
            height: 480,
        }),
    );
    for k in 0..frames {
        let phase = k as f32 / 6.0;
        let e = Expression {
            mouth_open: (phase.sin() * 0.5 + 0.5) * 0.8,
            right_eye_open: if (10..13).contains(&k) { 0.1 } else { 1.0 },
            left_eye_open: if (10..13).contains(&k) { 0.1 } else { 1.0 },
            roll: 0.08 * (k as f32 / 20.0).sin(),
            ..Default::default()
        };
        t.push(posed_face(320.0 + k as f32 * 0.5, 240.0, 110.0, &e), true);
    }
    t
}

/// Write a generated driving track to `dir/driving.track.json`.
pub fn write_track(dir: &Path, frames: usize) -> PathBuf {
    let path = dir.join("driving.track.json");
    talking_track(frames).save(&path).expect("write track");
    path
}
