//! End-to-end: `faceshot detect` on short clips made from the shipped test photo.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cli.rs"]
mod cli;

use cli::faceshot;

use faceshot_core::landmarks::Track;
use faceshot_core::media::{ExportOptions, Exporter, VideoReader};
use image::{Rgba, RgbaImage};
use std::path::{Path, PathBuf};

fn photo() -> RgbaImage {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../assets/parity/astronaut.png");
    image::open(p).unwrap().into_rgba8()
}

/// Frames of the photo sliding right by 2 px per frame on a 320×256 canvas, with `blank` frames
/// replaced by a plain background.
fn make_clip(path: &Path, frames: u32, blank: &[u32]) {
    let src = photo();
    let opts = ExportOptions {
        fps: 25.0,
        quality: 95,
        ..Default::default()
    };
    let mut out = Exporter::create(path, 320, 256, &opts).unwrap();
    for i in 0..frames {
        let img = RgbaImage::from_fn(320, 256, |x, y| {
            let sx = x as i64 - 20 - 2 * i as i64;
            if blank.contains(&i) || !(0..256).contains(&sx) {
                Rgba([80, 90, 100, 255])
            } else {
                *src.get_pixel(sx as u32, y)
            }
        });
        out.push(&img).unwrap();
    }
    out.finish().unwrap();
}

#[test]
fn detect_writes_track_npy_and_overlay() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    make_clip(&clip, 6, &[3]);
    let json = dir.path().join("track.json");
    let npy = dir.path().join("track.npy");
    let overlay = dir.path().join("overlay.mp4");
    let o = faceshot(&[
        "detect",
        clip.to_str().unwrap(),
        "-o",
        json.to_str().unwrap(),
        "--npy",
        npy.to_str().unwrap(),
        "--overlay",
        overlay.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let track = Track::load(&json, None).unwrap();
    assert_eq!(track.len(), 6);
    assert_eq!(track.found, vec![true, true, true, false, true, true]);
    assert_eq!(track.fps, 25.0);
    // The face slides right: the nose tip (30) moves by about 2 px per frame.
    let dx = track.frames[5][30].x - track.frames[0][30].x;
    assert!((dx - 10.0).abs() < 3.0, "nose moved {dx} px");
    let from_npy = Track::load(&npy, Some(25.0)).unwrap();
    assert_eq!(from_npy.frames, track.frames);
    // The pupils: in the JSON, and beside the .npy; they slide with the face.
    let pupils = track.pupils.as_ref().expect("pupils in the track");
    let moved = pupils[5][0].x - pupils[0][0].x;
    assert!((moved - 10.0).abs() < 3.0, "pupil moved {moved} px");
    assert!(dir.path().join("track.pupils.npy").is_file());
    // The .npy keeps every frame's (filled) pupils; the JSON only found frames'.
    let beside = from_npy.pupils.as_ref().expect("pupils beside the .npy");
    for t in (0..6).filter(|&t| track.found[t]) {
        assert_eq!(beside[t], pupils[t], "frame {t}");
    }
    let reader = VideoReader::open(&overlay).unwrap();
    assert_eq!((reader.info().width, reader.info().height), (320, 256));
}

#[test]
fn detect_without_a_face_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("empty.mp4");
    make_clip(&clip, 3, &[0, 1, 2]);
    let json = dir.path().join("track.json");
    let o = faceshot(&[
        "detect",
        clip.to_str().unwrap(),
        "-o",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no face found"), "{err}");
    assert!(!json.exists());
}

#[test]
fn a_face_leaving_the_frame_is_reported_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    let blank: Vec<u32> = (4..24).collect();
    make_clip(&clip, 28, &blank);
    let assets = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../assets/characters");
    let out = dir.path().join("out.gif");
    let o = faceshot(&[
        "animate",
        assets.join("astronaut.png").to_str().unwrap(),
        clip.to_str().unwrap(),
        "--landmarks",
        assets.join("astronaut.json").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let note = err
        .lines()
        .find(|l| l.starts_with("note: no face in frames"))
        .unwrap_or_else(|| panic!("no gap note in {err}"));
    assert!(note.contains("4..24"), "{note}");
    assert!(!err.contains("Gap {"), "{err}");
}
