//! End-to-end: `faceshot live` driven by the shipped sample clip as a paced file source.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cli.rs"]
mod cli;

use cli::{faceshot, ok, s, stderr};
use faceshot_core::cartoon::character::{self as cartoon, Background, Style};
use faceshot_core::landmarks::synthetic::{Expression, posed_face};
use faceshot_core::landmarks::{Face, ImageSize};
use faceshot_core::media::{VideoReader, save_png};
use std::path::{Path, PathBuf};

fn sample_clip() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/driving/sample_talk.mp4")
}

/// `live PICTURE --landmarks FACE --camera CAMERA`, to which a test adds its options.
fn live<'a>(picture: &'a Path, face: &'a Path, camera: &'a str) -> Vec<&'a str> {
    vec![
        "live",
        s(picture),
        "--landmarks",
        s(face),
        "--camera",
        camera,
    ]
}

/// A 192² cartoon and its landmarks in `dir`.
fn character(dir: &Path) -> (PathBuf, PathBuf) {
    let rest = cartoon::big_eyes(posed_face(96.0, 100.0, 60.0, &Expression::default()), 2.0);
    let style = Style {
        background: Background::Transparent,
        ..Style::default()
    };
    let picture = dir.join("char.png");
    save_png(&cartoon::draw(192, 192, &rest, &style), &picture).unwrap();
    let face = dir.join("char.json");
    Face::new(
        rest,
        Some(ImageSize {
            width: 192,
            height: 192,
        }),
    )
    .save(&face)
    .unwrap();
    (picture, face)
}

#[test]
fn live_records_a_paced_file_source_and_reports_its_figures() {
    let dir = tempfile::tempdir().unwrap();
    let (picture, face) = character(dir.path());
    let (record, stats) = (dir.path().join("live.mp4"), dir.path().join("stats.json"));
    let clip = sample_clip();
    let started = std::time::Instant::now();
    ok(&faceshot(
        &[
            &live(&picture, &face, s(&clip))[..],
            &[
                "--seconds",
                "3",
                "--record",
                s(&record),
                "--stats",
                s(&stats),
            ],
        ]
        .concat(),
    ));
    // Paced: three seconds of a 25 fps clip take about three seconds.
    assert!(
        started.elapsed().as_secs_f64() > 2.5,
        "{:?}",
        started.elapsed()
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    let num = |k: &str| json[k].as_f64().unwrap_or_else(|| panic!("{k} in {json}"));
    assert!((num("source_fps") - 25.0).abs() < 0.5, "{json}");
    let (frames_in, frames_out, dropped) = (num("frames_in"), num("frames_out"), num("dropped"));
    // About 75 (3 s at 25 fps), plus what arrived while the animator was being prepared.
    assert!((70.0..=85.0).contains(&frames_in), "{json}");
    assert!(
        frames_out >= 10.0 && frames_out + dropped <= frames_in,
        "{json}"
    );
    for k in ["p50", "p95", "max"] {
        let v = json["latency_ms"][k].as_f64().unwrap();
        assert!(v > 0.0 && v < 5000.0, "{json}");
    }
    assert!(num("fps") > 3.0, "{json}");
    // The recording holds every output frame, and the mouth moves in it.
    let mut video = VideoReader::open(&record).unwrap();
    let mut mouths = Vec::new();
    while let Some(f) = video.next_frame().unwrap() {
        let mut sum = 0u64;
        for y in 125..150 {
            for x in 75..120 {
                sum += u64::from(f.image.get_pixel(x, y)[0]);
            }
        }
        mouths.push(sum);
    }
    assert_eq!(mouths.len() as f64, frames_out, "{json}");
    let (lo, hi) = (mouths.iter().min().unwrap(), mouths.iter().max().unwrap());
    assert!(
        *hi > *lo + *lo / 50,
        "the mouth region never changed: {lo}..{hi}"
    );
}

#[test]
fn live_stops_when_the_source_ends_and_keeps_the_recording() {
    let dir = tempfile::tempdir().unwrap();
    let (picture, face) = character(dir.path());
    let record = dir.path().join("live.mp4");
    let o = faceshot(
        &[
            &live(&picture, &face, s(&sample_clip()))[..],
            &["--seconds", "60", "--record", s(&record)],
        ]
        .concat(),
    );
    ok(&o);
    let frames = VideoReader::open(&record).unwrap().info().frame_count;
    assert!(frames > 10, "{frames}: {}", stderr(&o));
}

#[test]
fn a_source_that_is_not_a_video_is_a_clear_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (picture, face) = character(dir.path());
    let bogus = dir.path().join("notes.txt");
    std::fs::write(&bogus, "not a video").unwrap();
    let record = dir.path().join("live.mp4");
    let o = faceshot(
        &[
            &live(&picture, &face, s(&bogus))[..],
            &["--record", s(&record)],
        ]
        .concat(),
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("notes.txt") && err.lines().count() <= 2,
        "{err}"
    );
    assert!(!record.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}

#[test]
fn listing_cameras_works_without_any() {
    let out = ok(&faceshot(&["live", "--list-cameras"]));
    let cameras = std::fs::read_dir("/sys/class/video4linux")
        .map(|d| d.count())
        .unwrap_or(0);
    if cameras == 0 {
        assert_eq!(out.trim(), "no cameras found");
    } else {
        assert_eq!(out.lines().count(), cameras, "{out}");
    }
}

#[test]
fn a_camera_that_is_not_there_is_a_clear_error_from_the_device_layer() {
    if Path::new("/dev/video7").exists() || !cfg!(target_os = "linux") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (picture, face) = character(dir.path());
    let o = faceshot(&live(&picture, &face, "7"));
    assert!(!o.status.success());
    let err = stderr(&o);
    // FFmpeg's V4L2 input was found and tried the device (no "has no capture input").
    assert!(err.contains("/dev/video7"), "{err}");
    assert!(!err.contains("capture input"), "{err}");
    assert!(err.lines().count() <= 2, "{err}");
}

#[test]
fn a_virtual_camera_that_is_not_there_says_how_to_make_one() {
    if Path::new("/dev/video9").exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (picture, face) = character(dir.path());
    let record = dir.path().join("live.mp4");
    let o = faceshot(
        &[
            &live(&picture, &face, s(&sample_clip()))[..],
            &["--record", s(&record), "--virtual-camera", "/dev/video9"],
        ]
        .concat(),
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("/dev/video9") && err.contains("modprobe v4l2loopback"),
        "{err}"
    );
    assert!(!record.exists());
}

#[test]
fn a_source_cut_short_mid_stream_stops_cleanly_and_keeps_the_recording() {
    let dir = tempfile::tempdir().unwrap();
    let (picture, face) = character(dir.path());
    let gif = dir.path().join("clip.gif");
    ok(&faceshot(&[
        "transcode",
        s(&sample_clip()),
        s(&gif),
        "--max-size",
        "160",
    ]));
    // A GIF decodes frame by frame: cut it, and reading fails (or ends) part way through.
    let bytes = std::fs::read(&gif).unwrap();
    let cut = dir.path().join("cut.gif");
    std::fs::write(&cut, &bytes[..bytes.len() * 6 / 10]).unwrap();
    let record = dir.path().join("live.mp4");
    let o = faceshot(
        &[
            &live(&picture, &face, s(&cut))[..],
            &["--record", s(&record)],
        ]
        .concat(),
    );
    ok(&o);
    let frames = VideoReader::open(&record).unwrap().info().frame_count;
    assert!((10..=70).contains(&frames), "{frames}: {}", stderr(&o));
}
