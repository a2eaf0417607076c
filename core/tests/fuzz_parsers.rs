//! Fuzzing the readers of user files: face and track JSON, `.npy` tracks, `.pts` ground truth,
//! gain lists, pictures and videos. Each must return an error, never panic, and whatever it
//! accepts must survive being written and read back.
//!
//! `cargo test -p faceshot-core --test fuzz_parsers` runs a few thousand cases per reader;
//! `FACESHOT_FUZZ_CASES=1000000 cargo test --release -p faceshot-core --test fuzz_parsers --
//! --nocapture` runs a long campaign and prints the figures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mutate.rs"]
mod mutate;

use faceshot_core::landmarks::synthetic::frontal_face;
use faceshot_core::landmarks::{Face, ImageSize, Track};
use faceshot_core::matching::eval::parse_ground_truth;
use faceshot_core::media::{ExportOptions, Exporter, VideoReader, decode_image};
use faceshot_core::retarget::Gains;
use mutate::{assert_no_panics, case_count, fuzz};
use std::path::Path;

/// Cases per reader in the test suite (the env variable overrides it).
const DEFAULT_CASES: u64 = 3000;

fn face_seeds() -> Vec<Vec<u8>> {
    let size = Some(ImageSize {
        width: 200,
        height: 200,
    });
    let mut face = Face::new(frontal_face(100.0, 100.0, 40.0), size);
    let pretty = face.to_json().into_bytes();
    face.image = None;
    let bare = face.to_json().into_bytes();
    let pairs: Vec<String> = frontal_face(50.0, 50.0, 20.0)
        .iter()
        .map(|p| format!("[{},{}]", p.x, p.y))
        .collect();
    let minimal = format!("{{\"landmarks\":[{}]}}", pairs.join(",")).into_bytes();
    vec![pretty, bare, minimal]
}

fn track(frames: usize) -> Track {
    let mut t = Track::new(
        25.0,
        Some(ImageSize {
            width: 160,
            height: 160,
        }),
    );
    for i in 0..frames {
        t.push(frontal_face(80.0 + i as f32, 80.0, 30.0), i % 2 == 0);
    }
    t
}

#[test]
fn face_json_never_panics() {
    let report = fuzz(
        "face json",
        &face_seeds(),
        case_count(DEFAULT_CASES),
        1,
        |bytes| {
            let text = String::from_utf8_lossy(bytes);
            match Face::from_json(&text, Path::new("f.json")) {
                Ok(face) => {
                    Face::from_json(&face.to_json(), Path::new("again.json"))
                        .expect("an accepted face reads back");
                    true
                }
                Err(_) => false,
            }
        },
    );
    assert_no_panics("face json", &report);
    assert!(report.accepted > 0, "no mutated face was valid");
}

#[test]
fn track_json_never_panics() {
    let mut with_pupils = track(3);
    with_pupils.pupils = Some(vec![
        [
            faceshot_core::landmarks::Point::new(70.0, 75.0),
            faceshot_core::landmarks::Point::new(90.0, 75.0)
        ];
        3
    ]);
    let seeds = vec![
        track(2).to_json().into_bytes(),
        with_pupils.to_json().into_bytes(),
        b"{\"frames\":[{\"found\":false},{\"landmarks\":[[1,1]]}]}".to_vec(),
    ];
    let report = fuzz(
        "track json",
        &seeds,
        case_count(DEFAULT_CASES),
        2,
        |bytes| {
            let text = String::from_utf8_lossy(bytes);
            match Track::from_json(&text, Path::new("t.json")) {
                Ok(t) => {
                    Track::from_json(&t.to_json(), Path::new("again.json"))
                        .expect("an accepted track reads back");
                    true
                }
                Err(_) => false,
            }
        },
    );
    assert_no_panics("track json", &report);
    assert!(report.accepted > 0);
}

#[test]
fn npy_tracks_never_panic() {
    let seeds = vec![track(1).to_npy(), track(2).to_npy(), track(3).to_npy()];
    let report = fuzz(
        "npy",
        &seeds,
        case_count(DEFAULT_CASES),
        3,
        |bytes| match Track::from_npy(bytes, 30.0, Path::new("t.npy")) {
            Ok(t) => {
                Track::from_npy(&t.to_npy(), 30.0, Path::new("again.npy"))
                    .expect("an accepted track reads back");
                true
            }
            Err(_) => false,
        },
    );
    assert_no_panics("npy", &report);
    assert!(report.accepted > 0);
}

#[test]
fn pts_ground_truth_never_panics() {
    let body: String = frontal_face(90.0, 90.0, 30.0)
        .iter()
        .map(|p| format!("{} {}\n", p.x, p.y))
        .collect();
    let seeds = vec![
        format!("version: 1\nn_points: 68\n{{\n{body}}}\n").into_bytes(),
        body.clone().into_bytes(),
    ];
    let report = fuzz("pts", &seeds, case_count(DEFAULT_CASES), 4, |bytes| {
        let text = String::from_utf8_lossy(bytes);
        let ext = if bytes.first() == Some(&b'v') {
            "pts"
        } else {
            "txt"
        };
        match parse_ground_truth(&text, ext, Path::new("g.pts")) {
            Ok(points) => {
                assert!(
                    points.iter().all(|p| p.is_finite()),
                    "accepted a point that is not finite"
                );
                true
            }
            Err(_) => false,
        }
    });
    assert_no_panics("pts", &report);
    assert!(report.accepted > 0);
}

#[test]
fn gain_lists_never_panic() {
    let seeds = vec![
        b"mouth=1.2,eyes=0.8".to_vec(),
        b"rotation=0,translation=2,brows=1,nose=0.5".to_vec(),
    ];
    let report = fuzz("gains", &seeds, case_count(DEFAULT_CASES), 5, |bytes| {
        let text = String::from_utf8_lossy(bytes);
        let mut gains = Gains::default();
        gains.apply_list(&text).is_ok() && gains.validate().is_ok()
    });
    assert_no_panics("gains", &report);
    assert!(report.accepted > 0);
}

fn picture_seeds() -> Vec<Vec<u8>> {
    let img = image::RgbaImage::from_fn(12, 9, |x, y| {
        image::Rgba([(x * 20) as u8, (y * 25) as u8, 90, (128 + x * 10) as u8])
    });
    let dynamic = image::DynamicImage::ImageRgba8(img);
    let mut seeds = Vec::new();
    for format in [
        image::ImageFormat::Png,
        image::ImageFormat::Gif,
        image::ImageFormat::WebP,
    ] {
        let mut bytes = Vec::new();
        dynamic
            .write_to(&mut std::io::Cursor::new(&mut bytes), format)
            .unwrap();
        seeds.push(bytes);
    }
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(dynamic.to_rgb8())
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    seeds.push(jpeg);
    seeds
}

#[test]
fn pictures_never_panic() {
    // A small pixel limit keeps each case quick; the limit itself is part of what is tested.
    let report = fuzz(
        "pictures",
        &picture_seeds(),
        case_count(DEFAULT_CASES),
        6,
        |bytes| decode_image(bytes, 1 << 16, Path::new("p.png")).is_ok(),
    );
    assert_no_panics("pictures", &report);
    assert!(report.accepted > 0);
}

#[test]
fn videos_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut seeds = Vec::new();
    for name in ["s.mp4", "s.gif"] {
        let path = dir.path().join(name);
        let opts = ExportOptions {
            fps: 10.0,
            ..Default::default()
        };
        let mut out = Exporter::create(&path, 16, 12, &opts).unwrap();
        for i in 0..3u8 {
            out.push(&image::RgbaImage::from_pixel(
                16,
                12,
                image::Rgba([i * 60, 90, 30, 255]),
            ))
            .unwrap();
        }
        out.finish().unwrap();
        seeds.push(std::fs::read(&path).unwrap());
    }
    // Videos go through FFmpeg, a file at a time: a hundredth of the other readers' cases.
    let cases = (case_count(DEFAULT_CASES) / 100).max(30);
    let path = dir.path().join("case.mp4");
    let report = fuzz("videos", &seeds, cases, 7, |bytes| {
        std::fs::write(&path, bytes).unwrap();
        match VideoReader::open(&path) {
            Ok(reader) => reader.take(8).all(|f| f.is_ok()),
            Err(_) => false,
        }
    });
    assert_no_panics("videos", &report);
    assert!(report.accepted > 0);
}
