//! Makes a live-mode benchmark source: a driving clip scaled to 640×480 and looped to the
//! given length at 30 fps, the camera the live-mode targets are stated for.
//!
//! Run: `cargo run --release -p faceshot-core --example live_source -- IN.mp4 OUT.mp4 [SECONDS]`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use faceshot_core::media::{ExportOptions, Exporter, VideoReader};
use image::imageops::{FilterType, resize};
use image::{DynamicImage, RgbaImage};
use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (input, output) = match (args.first(), args.get(1)) {
        (Some(i), Some(o)) => (PathBuf::from(i), PathBuf::from(o)),
        _ => {
            eprintln!("usage: live_source IN.mp4 OUT.mp4 [SECONDS]");
            std::process::exit(2);
        }
    };
    let seconds: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(60.0);
    let mut frames: Vec<RgbaImage> = Vec::new();
    let mut reader = VideoReader::open(&input).unwrap();
    while let Some(f) = reader.next_frame().unwrap() {
        let rgba = DynamicImage::ImageRgb8(f.image).to_rgba8();
        frames.push(resize(&rgba, 640, 480, FilterType::Triangle));
    }
    let opts = ExportOptions {
        fps: 30.0,
        ..Default::default()
    };
    let mut out = Exporter::create(&output, 640, 480, &opts).unwrap();
    let total = (seconds * 30.0).round() as usize;
    for k in 0..total {
        // Forth and back, so the loop has no jump.
        let n = frames.len();
        let i = k % (2 * n - 1).max(1);
        let i = if i < n { i } else { 2 * n - 2 - i };
        out.push(&frames[i]).unwrap();
    }
    println!("wrote {}", out.finish().unwrap().display());
}
