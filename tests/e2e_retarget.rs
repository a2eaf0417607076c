//! End-to-end: `faceshot retarget` on synthetic faces and tracks these tests generate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cli.rs"]
mod cli;

use cli::{assert_clean_failure, faceshot, s, stderr};

use faceshot_core::landmarks::synthetic::{Expression, posed_face};
use faceshot_core::landmarks::{Face, ImageSize, Track};
use faceshot_core::media::{VideoReader, save_png};
use image::{Rgba, RgbaImage};
use std::path::PathBuf;

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    character: PathBuf,
    driving: PathBuf,
    picture: PathBuf,
}

impl Fixture {
    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
}

/// A 160×120 character picture with its face, and a 12-frame driver who opens the mouth,
/// blinks and turns the head a little.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let size = ImageSize {
        width: 160,
        height: 120,
    };
    let character = root.join("char.json");
    Face::new(
        posed_face(80.0, 55.0, 40.0, &Expression::default()),
        Some(size),
    )
    .save(&character)
    .unwrap();
    let picture = root.join("char.png");
    let img = RgbaImage::from_fn(160, 120, |x, y| {
        Rgba([(x * 255 / 160) as u8, 90, (y * 2) as u8, 255])
    });
    save_png(&img, &picture).unwrap();
    let driving = root.join("drive.json");
    let mut track = Track::new(12.0, None);
    for t in 0..12 {
        let k = t as f32 / 11.0;
        let e = Expression {
            mouth_open: k,
            right_eye_open: 1.0 - k,
            left_eye_open: 1.0 - k,
            roll: 0.2 * k,
            ..Default::default()
        };
        track.push(posed_face(300.0 + 20.0 * k, 260.0, 120.0, &e), true);
    }
    track.save(&driving).unwrap();
    Fixture {
        _dir: dir,
        root,
        character,
        driving,
        picture,
    }
}

#[test]
fn retarget_writes_json_npy_and_preview() {
    let f = fixture();
    let (out, npy, preview) = (f.path("out.json"), f.path("out.npy"), f.path("preview.mp4"));
    let o = faceshot(&[
        "retarget",
        "--character",
        s(&f.character),
        "--driving",
        s(&f.driving),
        "-o",
        s(&out),
        "--npy",
        s(&npy),
        "--gain",
        "mouth=1.2,brows=0.5",
        "--gain",
        "eyes=1",
        "--preview",
        s(&preview),
        "--image",
        s(&f.picture),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let track = Track::load(&out, None).unwrap();
    assert_eq!(track.len(), 12);
    assert_eq!(track.fps, 12.0);
    let face = Face::load(&f.character).unwrap();
    assert_eq!(track.image, face.image);
    // Reference = first frame: the character as drawn. Later the mouth opens and it turns.
    let d0: f32 = track.frames[0]
        .iter()
        .zip(&face.points)
        .map(|(a, b)| a.distance(*b))
        .fold(0.0, f32::max);
    assert!(d0 < 1e-3, "{d0}");
    let last = &track.frames[11];
    assert!(last[66].y - last[62].y > face.points[66].y - face.points[62].y + 5.0);
    let from_npy = Track::load(&npy, Some(12.0)).unwrap();
    assert_eq!(from_npy.frames, track.frames);
    let video = VideoReader::open(&preview).unwrap();
    assert_eq!((video.info().width, video.info().height), (160, 120));
    assert_eq!(video.info().frame_count, 12);
}

#[test]
fn auto_reference_and_expression_only() {
    let f = fixture();
    let out = f.path("still.json");
    let o = faceshot(&[
        "retarget",
        "--character",
        s(&f.character),
        "--driving",
        s(&f.driving),
        "-o",
        s(&out),
        "--reference",
        "auto",
        "--expression-only",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("reference: frame 0"), "{}", stderr(&o));
    let track = Track::load(&out, None).unwrap();
    let face = Face::load(&f.character).unwrap();
    // The head does not move: jaw end points stay put.
    for frame in &track.frames {
        assert!(frame[0].distance(face.points[0]) < 1e-3);
        assert!(frame[16].distance(face.points[16]) < 1e-3);
    }
}

#[test]
fn bad_inputs_fail_with_one_clear_line() {
    let f = fixture();
    let out = f.path("o.json");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "retarget",
            "--character",
            s(&f.character),
            "--driving",
            s(&f.driving),
            "-o",
            s(&out),
        ];
        args.extend_from_slice(extra);
        faceshot(&args)
    };
    assert_clean_failure(&run(&["--gain", "mouth=3"]), "mouth=3 is outside 0..2");
    assert_clean_failure(&run(&["--gain", "ears=1"]), "unknown control");
    assert_clean_failure(&run(&["--reference", "40"]), "12 frames");
    assert_clean_failure(&run(&["--npy", s(&f.path("x.bin"))]), "must end in .npy");

    // Files swapped: each is named, with a hint at the mix-up.
    let o = faceshot(&[
        "retarget",
        "--character",
        s(&f.driving),
        "--driving",
        s(&f.character),
        "-o",
        s(&out),
    ]);
    assert_clean_failure(&o, "this is a landmark track");

    let o = faceshot(&[
        "retarget",
        "--character",
        s(&f.character),
        "--driving",
        s(&f.character),
        "-o",
        s(&out),
    ]);
    assert_clean_failure(&o, "this is a single face");

    // Absurd landmarks: a point a million pixels away, a collapsed eye.
    let mut face = Face::load(&f.character).unwrap();
    face.image = None;
    face.points[30].x = 1.0e6;
    let absurd = f.path("absurd.json");
    std::fs::write(&absurd, face.to_json()).unwrap();
    let o = faceshot(&[
        "retarget",
        "--character",
        s(&absurd),
        "--driving",
        s(&f.driving),
        "-o",
        s(&out),
    ]);
    assert_clean_failure(&o, "point 30");

    let mut face = Face::load(&f.character).unwrap();
    face.points[45] = face.points[42];
    let flat = f.path("flat.json");
    face.save(&flat).unwrap();
    let o = faceshot(&[
        "retarget",
        "--character",
        s(&flat),
        "--driving",
        s(&f.driving),
        "-o",
        s(&out),
    ]);
    assert_clean_failure(&o, "left upper lid's end points 42 and 45 coincide");

    // A preview picture that does not match the landmarks' image size.
    let small = f.path("small.png");
    save_png(&RgbaImage::new(40, 30), &small).unwrap();
    let o = run(&["--preview", s(&f.path("p.mp4")), "--image", s(&small)]);
    assert_clean_failure(&o, "160x120 image");
    assert!(!f.path("p.mp4").exists() && !out.exists());

    // Never overwrite an input.
    let o = faceshot(&[
        "retarget",
        "--character",
        s(&f.character),
        "--driving",
        s(&f.driving),
        "-o",
        s(&f.driving),
    ]);
    assert_clean_failure(&o, "is also");
    assert!(Track::load(&f.driving, None).is_ok());
}
