//! End-to-end: the `faceshot` binary on clips these tests generate themselves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cli.rs"]
mod cli;

use cli::{assert_clean_failure, faceshot, stderr};

use faceshot_core::media::{ExportOptions, Exporter, VideoReader};
use image::{Rgba, RgbaImage};
use std::path::Path;

fn frame(i: u32, w: u32, h: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        let on = (x + 4 * i) % 32 < 16;
        Rgba([if on { 230 } else { 30 }, (y * 255 / h) as u8, 120, 255])
    })
}

fn make_clip(path: &Path, frames: u32, w: u32, h: u32, fps: f64) {
    let opts = ExportOptions {
        fps,
        ..Default::default()
    };
    let mut out = Exporter::create(path, w, h, &opts).unwrap();
    for i in 0..frames {
        out.push(&frame(i, w, h)).unwrap();
    }
    out.finish().unwrap();
}

#[test]
fn probe_reports_metadata_as_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    make_clip(&clip, 20, 80, 60, 20.0);
    let o = faceshot(&["probe", clip.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("80x60") && text.contains("frames:    20"),
        "{text}"
    );

    let o = faceshot(&["probe", "--json", clip.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["width"], 80);
    assert_eq!(v["frame_count"], 20);
    assert_eq!(v["fps"], 20.0);
}

#[test]
fn transcode_to_gif_png_folder_and_mp4() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("in.mp4");
    make_clip(&clip, 12, 64, 48, 24.0);
    let clip_s = clip.to_str().unwrap();

    let gif = dir.path().join("out.gif");
    let o = faceshot(&[
        "transcode",
        clip_s,
        gif.to_str().unwrap(),
        "--max-size",
        "32",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let g = VideoReader::open(&gif).unwrap();
    assert_eq!((g.info().width, g.info().height), (32, 24));
    assert_eq!(g.count(), 12);

    let pngs = dir.path().join("frames");
    let o = faceshot(&["transcode", clip_s, pngs.to_str().unwrap(), "--frames", "5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(&pngs).unwrap().count(), 5);

    let mp4 = dir.path().join("again.mp4");
    let o = faceshot(&["transcode", clip_s, mp4.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = VideoReader::open(&mp4).unwrap();
    assert_eq!(r.info().frame_count, 12);
    assert!((r.info().fps - 24.0).abs() < 1e-6);
}

#[test]
fn bad_inputs_fail_with_one_line_and_no_partial_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n);

    std::fs::write(d("letter.mp4"), "Dear Sir, this is not a video.").unwrap();
    let o = faceshot(&["probe", d("letter.mp4").to_str().unwrap()]);
    assert_clean_failure(&o, "letter.mp4");

    let o = faceshot(&["probe", d("absent.mov").to_str().unwrap()]);
    assert_clean_failure(&o, "absent.mov");

    make_clip(&d("whole.mp4"), 30, 64, 48, 30.0);
    let bytes = std::fs::read(d("whole.mp4")).unwrap();
    std::fs::write(d("cut.mp4"), &bytes[..bytes.len() * 2 / 3]).unwrap();
    let o = faceshot(&[
        "transcode",
        d("cut.mp4").to_str().unwrap(),
        d("cut.gif").to_str().unwrap(),
    ]);
    assert_clean_failure(&o, "cut.mp4");
    assert!(!d("cut.gif").exists());

    // A GIF with a header and no frames.
    {
        let f = std::fs::File::create(d("empty.gif")).unwrap();
        drop(gif::Encoder::new(f, 4, 4, &[0; 6]).unwrap());
    }
    let o = faceshot(&["probe", d("empty.gif").to_str().unwrap()]);
    assert_clean_failure(&o, "empty.gif");

    let target = d("no-such-folder/out.mp4");
    let o = faceshot(&[
        "transcode",
        d("whole.mp4").to_str().unwrap(),
        target.to_str().unwrap(),
    ]);
    assert_clean_failure(&o, "out.mp4");

    let o = faceshot(&[
        "transcode",
        d("whole.mp4").to_str().unwrap(),
        d("out.avi").to_str().unwrap(),
    ]);
    assert_clean_failure(&o, "out.avi");

    // Only the inputs the test made are left: no partial outputs anywhere.
    let mut left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["cut.mp4", "empty.gif", "letter.mp4", "whole.mp4"]);
}
