//! Media benchmarks: decode fps (640×480 H.264), encode fps (512×512 MP4), and peak memory of
//! a transcode for a 10-second versus a 5-minute input. Reference figures come from the
//! `ffmpeg` command-line tool on the same files in the same run, when it is installed.
//!
//! Run: `cargo bench -p faceshot-core --bench media` (add `-- --quick` for a short run).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use faceshot_core::media::{ExportOptions, Exporter, VideoReader};
use image::{Rgba, RgbaImage};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// A smooth scene like FaceShot's output: a still gradient background with a disc moving on it.
fn scene(i: u32, w: u32, h: u32) -> RgbaImage {
    let t = i as f32 * 0.2;
    let (cx, cy) = (
        w as f32 * (0.5 + 0.2 * t.cos()),
        h as f32 * (0.5 + 0.2 * t.sin()),
    );
    let r = w.min(h) as f32 * 0.2;
    RgbaImage::from_fn(w, h, |x, y| {
        let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
        if d < r {
            let shade = (255.0 * (1.0 - 0.5 * d / r)) as u8;
            Rgba([shade, shade / 2, 60, 255])
        } else {
            Rgba([(x * 200 / w) as u8 + 30, (y * 200 / h) as u8 + 30, 140, 255])
        }
    })
}

/// A high-entropy pattern: the worst case for the codec (used for the decode figure too).
fn pattern(i: u32, w: u32, h: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        let v = ((x + 2 * i) ^ (y + i)) as u8;
        Rgba([v, (x * 255 / w) as u8, (y * 255 / h) as u8, 255])
    })
}

fn write_clip(
    path: &Path,
    frames: u32,
    w: u32,
    h: u32,
    make: fn(u32, u32, u32) -> RgbaImage,
) -> f64 {
    let imgs: Vec<RgbaImage> = (0..30).map(|i| make(i, w, h)).collect();
    let opts = ExportOptions {
        fps: 30.0,
        ..Default::default()
    };
    let start = Instant::now();
    let mut out = Exporter::create(path, w, h, &opts).unwrap();
    for i in 0..frames {
        out.push(&imgs[(i % 30) as usize]).unwrap();
    }
    out.finish().unwrap();
    start.elapsed().as_secs_f64()
}

fn ffmpeg_available() -> bool {
    Command::new("ffmpeg")
        .arg("-version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let dir = tempfile::tempdir().unwrap();
    let have_ffmpeg = ffmpeg_available();

    // Decode: 640x480 H.264.
    let clip = dir.path().join("decode_640x480.mp4");
    let n = if quick { 150 } else { 600 };
    write_clip(&clip, n, 640, 480, pattern);
    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let mut count = 0;
        for frame in VideoReader::open(&clip).unwrap() {
            frame.unwrap();
            count += 1;
        }
        assert_eq!(count as u32, n);
        best = best.min(start.elapsed().as_secs_f64());
    }
    let ours = f64::from(n) / best;
    println!("decode 640x480 h264 -> RGB: {ours:.0} frames/s ({n} frames, best of 3)");
    if have_ffmpeg {
        let mut best_ref = f64::MAX;
        for _ in 0..3 {
            let start = Instant::now();
            let ok = Command::new("ffmpeg")
                .args(["-v", "error", "-threads", "0", "-i"])
                .arg(&clip)
                // The null muxer: frames converted and dropped, nothing written anywhere.
                .args(["-pix_fmt", "rgb24", "-f", "null", "-"])
                .status()
                .unwrap()
                .success();
            assert!(ok);
            best_ref = best_ref.min(start.elapsed().as_secs_f64());
        }
        let theirs = f64::from(n) / best_ref;
        println!(
            "  reference ffmpeg CLI decode -> rgb24: {theirs:.0} frames/s; ours/ref = {:.2}",
            ours / theirs
        );
    }

    // Encode: 512x512 MP4.
    let n_enc = if quick { 120 } else { 300 };
    let mut best = f64::MAX;
    let mut noisy = f64::MAX;
    for k in 0..3 {
        let out = dir.path().join(format!("enc{k}.mp4"));
        best = best.min(write_clip(&out, n_enc, 512, 512, scene));
        noisy = noisy.min(write_clip(
            &dir.path().join("noise.mp4"),
            n_enc,
            512,
            512,
            pattern,
        ));
    }
    let ours = f64::from(n_enc) / best;
    println!("encode 512x512 MP4 (libx264 veryfast crf 18): {ours:.0} frames/s ({n_enc} frames)");
    println!(
        "  worst case (high-entropy noise frames): {:.0} frames/s",
        f64::from(n_enc) / noisy
    );
    if have_ffmpeg {
        let raw: Vec<u8> = (0..30)
            .flat_map(|i| {
                image::DynamicImage::ImageRgba8(scene(i, 512, 512))
                    .into_rgb8()
                    .into_raw()
            })
            .collect();
        let start = Instant::now();
        let mut child = Command::new("ffmpeg")
            .args([
                "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "512x512", "-r", "30",
                "-i", "-", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt",
                "yuv420p", "-y",
            ])
            .arg(dir.path().join("ref.mp4"))
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        {
            let stdin = child.stdin.as_mut().unwrap();
            let frame_bytes = 512 * 512 * 3;
            for i in 0..n_enc as usize {
                let k = i % 30;
                stdin
                    .write_all(&raw[k * frame_bytes..(k + 1) * frame_bytes])
                    .unwrap();
            }
        }
        assert!(child.wait().unwrap().success());
        let theirs = f64::from(n_enc) / start.elapsed().as_secs_f64();
        println!(
            "  reference ffmpeg CLI encode (same settings): {theirs:.0} frames/s; ours/ref = {:.2}",
            ours / theirs
        );
    }

    // Memory: transcode a 10-second and a 5-minute clip; peak RSS should not grow with length.
    let (short_s, long_s) = if quick { (10, 60) } else { (10, 300) };
    let mut peaks = Vec::new();
    for secs in [short_s, long_s] {
        let src = dir.path().join(format!("mem_{secs}s.mp4"));
        write_clip(&src, secs * 30, 640, 480, scene);
        let dst = dir.path().join(format!("mem_{secs}s_out.mp4"));
        reset_peak_rss();
        let before = peak_rss_kib();
        let reader = VideoReader::open(&src).unwrap();
        let info = reader.info().clone();
        let mut out = Exporter::create(
            &dst,
            info.width,
            info.height,
            &ExportOptions {
                fps: info.fps,
                ..Default::default()
            },
        )
        .unwrap();
        for f in reader {
            let rgba = image::DynamicImage::ImageRgb8(f.unwrap().image).into_rgba8();
            out.push(&rgba).unwrap();
        }
        out.finish().unwrap();
        let peak = peak_rss_kib();
        println!(
            "transcode {secs:>3} s 640x480 clip: peak RSS {:.1} MiB (was {:.1} MiB before)",
            peak as f64 / 1024.0,
            before as f64 / 1024.0
        );
        peaks.push(peak);
    }
    println!(
        "peak RSS difference, {long_s} s vs {short_s} s input: {:+.1} MiB",
        (peaks[1] as f64 - peaks[0] as f64) / 1024.0
    );
}
