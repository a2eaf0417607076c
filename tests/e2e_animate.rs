//! End-to-end: `faceshot animate` runs the whole method on the samples the project ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use faceshot_core::landmarks::Track;
use faceshot_core::media::VideoReader;
use std::path::{Path, PathBuf};
use std::process::Command;

fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets")
}

#[test]
fn animate_tracks_retargets_renders_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("talk.mp4");
    let track = dir.path().join("char.json");
    let a = assets();
    let o = Command::new(env!("CARGO_BIN_EXE_faceshot"))
        .arg("animate")
        .arg(a.join("characters/astronaut.png"))
        .arg(a.join("driving/sample_talk.mp4"))
        .arg("--landmarks")
        .arg(a.join("characters/astronaut.json"))
        .args(["--frames", "12", "--quiet", "-o"])
        .arg(&out)
        .arg("--save-track")
        .arg(&track)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let reader = VideoReader::open(&out).unwrap();
    assert_eq!((reader.info().width, reader.info().height), (512, 512));
    assert_eq!(reader.info().frame_count, 12);
    let t = Track::load(&track, None).unwrap();
    assert_eq!(t.len(), 12);
    assert!((t.fps - 25.0).abs() < 1e-6);
    // The sample talks: the character's mouth must open somewhere in the first 12 frames.
    let gap = |f: &faceshot_core::landmarks::Landmarks| f[66].y - f[62].y;
    let widest = t.frames.iter().map(gap).fold(f32::MIN, f32::max);
    assert!(
        widest > gap(&t.frames[0]) + 2.0,
        "mouth never opened: {widest}"
    );
}

#[test]
fn animate_refuses_landmarks_for_another_image_size() {
    let dir = tempfile::tempdir().unwrap();
    let a = assets();
    let o = Command::new(env!("CARGO_BIN_EXE_faceshot"))
        .arg("animate")
        .arg(a.join("characters/chelsea.png"))
        .arg(a.join("driving/sample_talk.mp4"))
        .arg("--landmarks")
        .arg(a.join("characters/astronaut.json"))
        .args(["--quiet", "-o"])
        .arg(dir.path().join("x.mp4"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("astronaut.json") && err.contains("512x512"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn animate_without_landmarks_matches_the_character_itself() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("talk.gif");
    let face = dir.path().join("matched.json");
    let a = assets();
    let o = Command::new(env!("CARGO_BIN_EXE_faceshot"))
        .arg("animate")
        .arg(a.join("characters/astronaut.png"))
        .arg(a.join("driving/sample_talk.mp4"))
        .args(["--frames", "4", "--quiet", "-o"])
        .arg(&out)
        .arg("--save-landmarks")
        .arg(&face)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("matched"), "{err}");
    assert!(out.exists());
    // The saved points are the ones the match found (NME 0.025 against the shipped ones when
    // written; a stand-in template would be far off).
    let matched = faceshot_core::landmarks::Face::load(&face).unwrap();
    let shipped =
        faceshot_core::landmarks::Face::load(&a.join("characters/astronaut.json")).unwrap();
    let nme = faceshot_core::matching::eval::nme(&matched.points, &shipped.points).unwrap();
    assert!(nme < 0.05, "NME {nme} against the shipped landmarks");
}
