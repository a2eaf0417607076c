//! Tracking benchmark: frames/s on a 640×480 clip (median of three passes), jitter on a still
//! face, and (optionally) the reference runtime's speed (median of three runs) and agreement.
//!
//!     cargo bench -p faceshot-core --bench track
//!
//! `-- --speed-only` stops after the frame rates (for profiling the tracker alone).
//!
//! Environment:
//! - `FACESHOT_PYTHON`: a Python with `mediapipe==0.10.14` and `opencv-python`; when set, the
//!   same clip is run through MediaPipe's face mesh (`tools/mediapipe_track.py`) in the same run
//!   and the time ratio is printed.
//! - `FACESHOT_DRIVING_DIR`: a folder of real driving clips (`*.mp4`); with `FACESHOT_PYTHON`
//!   too, prints the mean distance of our 68 points to MediaPipe's 468 points mapped by the same
//!   468 → 68 map, in % of the inter-ocular distance.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use faceshot_core::landmarks::{Landmarks, Point};
use faceshot_core::media::{ExportOptions, Exporter, VideoReader};
use faceshot_core::nn::FaceNets;
use faceshot_core::track::smooth::interocular;
use faceshot_core::track::{LandmarkFilter, OneEuro, Tracker, TrackerOptions};
use image::{Rgb, RgbImage};

const W: u32 = 640;
const H: u32 = 480;
const FRAMES: usize = 150;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Deterministic noise in [-1, 1].
fn noise(seed: u64) -> f32 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    (x >> 40) as f32 / (1u64 << 23) as f32 - 1.0
}

/// The astronaut photo scaled by `scale`, rotated by `angle` and centred at (cx, cy) on a
/// 640×480 canvas; `grain` adds per-pixel noise (different for each `seed`).
fn compose(
    photo: &RgbImage,
    cx: f32,
    cy: f32,
    scale: f32,
    angle: f32,
    grain: f32,
    seed: u64,
) -> RgbImage {
    let (s, c) = angle.sin_cos();
    let (pw, ph) = (photo.width() as f32, photo.height() as f32);
    RgbImage::from_fn(W, H, |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let u = (c * dx + s * dy) / scale + pw / 2.0;
        let v = (-s * dx + c * dy) / scale + ph / 2.0;
        let mut px = if u >= 0.0 && v >= 0.0 && u < pw - 1.0 && v < ph - 1.0 {
            let (x0, y0) = (u.floor(), v.floor());
            let (fx, fy) = (u - x0, v - y0);
            let p = |xx: u32, yy: u32| photo.get_pixel(xx, yy).0;
            let (a, b) = (p(x0 as u32, y0 as u32), p(x0 as u32 + 1, y0 as u32));
            let (cc, d) = (p(x0 as u32, y0 as u32 + 1), p(x0 as u32 + 1, y0 as u32 + 1));
            let mut o = [0f32; 3];
            for k in 0..3 {
                let top = a[k] as f32 + (b[k] as f32 - a[k] as f32) * fx;
                let bot = cc[k] as f32 + (d[k] as f32 - cc[k] as f32) * fx;
                o[k] = top + (bot - top) * fy;
            }
            o
        } else {
            [70.0, 80.0, 90.0]
        };
        if grain > 0.0 {
            for (k, v) in px.iter_mut().enumerate() {
                *v += grain * noise(seed * 1_000_003 + ((y * W + x) * 3) as u64 + k as u64);
            }
        }
        Rgb(px.map(|v| v.round().clamp(0.0, 255.0) as u8))
    })
}

fn moving_clip(photo: &RgbImage) -> Vec<RgbImage> {
    (0..FRAMES)
        .map(|t| {
            let a = t as f32 / FRAMES as f32 * std::f32::consts::TAU;
            compose(
                photo,
                320.0 + 60.0 * a.sin(),
                240.0 + 25.0 * (2.0 * a).sin(),
                1.6,
                0.2 * a.sin(),
                0.0,
                0,
            )
        })
        .collect()
}

fn write_clip(frames: &[RgbImage], path: &Path) {
    let opts = ExportOptions {
        fps: 30.0,
        quality: 95,
        ..Default::default()
    };
    let mut out = Exporter::create(path, W, H, &opts).unwrap();
    for f in frames {
        out.push(&image::DynamicImage::ImageRgb8(f.clone()).into_rgba8())
            .unwrap();
    }
    out.finish().unwrap();
}

/// Passes over the clip per configuration; the median rate is reported (this kind of shared
/// virtual machine drifts between runs).
const PASSES: usize = 3;

/// Median of a few values.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time_tracker(frames: &[RgbImage], refine_eyes: bool, pupils: bool) -> (f64, usize) {
    let options = TrackerOptions {
        refine_eyes,
        pupils,
        ..TrackerOptions::default()
    };
    let mut t = Tracker::new(FaceNets::embedded().unwrap(), options);
    t.process(&frames[0]).unwrap(); // warm-up (allocations, first detection)
    let mut rates = Vec::new();
    let mut found = 0;
    for _ in 0..PASSES {
        t.reset();
        let start = Instant::now();
        found = 0;
        for f in frames {
            found += usize::from(t.process(f).unwrap().is_some_and(|f| f.usable));
        }
        rates.push(frames.len() as f64 / start.elapsed().as_secs_f64());
    }
    (median(rates), found)
}

fn mediapipe(python: &str, video: &Path, out: &Path, refine: bool) -> Option<serde_json::Value> {
    let status = Command::new(python)
        .arg(root().join("tools/mediapipe_track.py"))
        .arg(video)
        .arg(out)
        .args(refine.then_some("--refine"))
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    if !status.success() {
        eprintln!("mediapipe_track.py failed on {}", video.display());
        return None;
    }
    serde_json::from_str(&std::fs::read_to_string(out).ok()?).ok()
}

/// RMS distance of each point to its mean over the frames, averaged over the 68 points.
fn rms_jitter(frames: &[Landmarks]) -> f32 {
    let n = frames.len() as f32;
    let mut total = 0.0;
    for k in 0..68 {
        let mx = frames.iter().map(|f| f[k].x).sum::<f32>() / n;
        let my = frames.iter().map(|f| f[k].y).sum::<f32>() / n;
        let var = frames
            .iter()
            .map(|f| (f[k].x - mx).powi(2) + (f[k].y - my).powi(2))
            .sum::<f32>()
            / n;
        total += var.sqrt();
    }
    total / 68.0
}

fn jitter(photo: &RgbImage) {
    // A still face with sensor-like noise (σ ≈ 3 grey levels): only noise moves the points.
    let frames: Vec<RgbImage> = (0..90)
        .map(|t| compose(photo, 320.0, 240.0, 1.6, 0.0, 5.0, t + 1))
        .collect();
    let mut t = Tracker::new(FaceNets::embedded().unwrap(), TrackerOptions::default());
    let raw: Vec<Landmarks> = frames
        .iter()
        .map(|f| t.process(f).unwrap().unwrap().landmarks)
        .collect();
    let width = raw[0][16].x - raw[0][0].x;
    let mut filter = LandmarkFilter::new(OneEuro::default());
    let smoothed: Vec<Landmarks> = raw
        .iter()
        .map(|p| filter.filter(p, 1.0 / 30.0, interocular(p)))
        .collect();
    let (jr, js) = (rms_jitter(&raw[10..]), rms_jitter(&smoothed[10..]));
    println!(
        "jitter, still face {width:.0} px wide, per-pixel noise: raw {jr:.3} px RMS, smoothed {js:.3} px RMS \
         (scaled to a 512 px face: raw {:.3}, smoothed {:.3})",
        jr * 512.0 / width,
        js * 512.0 / width
    );
}

fn driving_agreement(python: &str, dir: &Path, tmp: &Path) {
    let map = TrackerOptions::default().map;
    let mut clips: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "mp4"))
        .collect();
    clips.sort();
    for clip in clips {
        let Some(reference) = mediapipe(python, &clip, &tmp.join("ref.json"), false) else {
            continue;
        };
        let mut reader = VideoReader::open(&clip).unwrap();
        let dt = (1.0 / reader.info().fps) as f32;
        let options = TrackerOptions {
            refine_eyes: false,
            smoothing: None,
            ..TrackerOptions::default()
        };
        let mut plain = Tracker::new(FaceNets::embedded().unwrap(), options);
        let mut full = Tracker::with_defaults().unwrap();
        let mut filter = LandmarkFilter::new(OneEuro::default());
        let (mut d_plain, mut d_full, mut n) = (0.0f64, 0.0f64, 0usize);
        let frames = reference["frames"].as_array().unwrap();
        let mut i = 0;
        while let Some(frame) = reader.next_frame().unwrap() {
            let ours = plain.process(&frame.image).unwrap();
            let ours_full = full.process(&frame.image).unwrap();
            let smoothed = ours_full
                .as_ref()
                .map(|f| filter.filter(&f.landmarks, dt, interocular(&f.landmarks)));
            if let (Some(o), Some(s), Some(r)) =
                (&ours, smoothed, frames.get(i).filter(|r| !r.is_null()))
            {
                let mesh: Vec<[f32; 3]> = r
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        [
                            p[0].as_f64().unwrap() as f32,
                            p[1].as_f64().unwrap() as f32,
                            0.0,
                        ]
                    })
                    .collect();
                let want = map.apply(&mesh);
                let io = interocular(&want) as f64;
                let dist = |a: &Landmarks| {
                    a.iter()
                        .zip(&want)
                        .map(|(p, q): (&Point, &Point)| p.distance(*q) as f64)
                        .sum::<f64>()
                        / 68.0
                        / io
                };
                d_plain += dist(&o.landmarks);
                d_full += dist(&s);
                n += 1;
            }
            i += 1;
        }
        println!(
            "{}: {n}/{i} frames compared; mean distance to MediaPipe (same map): {:.2} % IOD \
             (same networks: mesh only, unsmoothed), {:.2} % IOD (eyes refined + smoothed)",
            clip.file_name().unwrap().to_string_lossy(),
            100.0 * d_plain / n.max(1) as f64,
            100.0 * d_full / n.max(1) as f64
        );
    }
}

fn main() {
    let photo = image::open(root().join("assets/parity/astronaut.png"))
        .unwrap()
        .to_rgb8();
    let frames = moving_clip(&photo);
    let (fps_eyes, found) = time_tracker(&frames, true, true);
    let (fps_lids, _) = time_tracker(&frames, true, false);
    let (fps_mesh, _) = time_tracker(&frames, false, false);
    println!(
        "track {W}x{H} ({FRAMES} frames, moving face, detector on loss only): \
         {fps_eyes:.1} frames/s with eye model and pupils (the default), {fps_lids:.1} without \
         the iris head ({:.2}x), {fps_mesh:.1} frames/s mesh only; face in {found}/{FRAMES}",
        fps_lids / fps_eyes
    );
    let tmp = tempfile::tempdir().unwrap();
    let python = std::env::var("FACESHOT_PYTHON").ok();
    if let Some(py) = &python {
        let clip = tmp.path().join("clip.mp4");
        write_clip(&frames, &clip);
        let fps = |refine| {
            median(
                (0..PASSES)
                    .map(|_| {
                        mediapipe(py, &clip, &tmp.path().join("mp.json"), refine)
                            .and_then(|r| r["fps_tracking"].as_f64())
                            .unwrap_or(f64::NAN)
                    })
                    .collect(),
            )
        };
        let (mp_mesh, mp_eyes) = (fps(false), fps(true));
        println!(
            "MediaPipe 0.10.14 face mesh (Python, XNNPACK) on the same clip: {mp_mesh:.1} frames/s \
             (refine_landmarks=False), {mp_eyes:.1} frames/s (refine_landmarks=True, attention mesh \
             with eyes); ours takes {:.2}x its time mesh only vs mesh only, {:.2}x with eyes vs refined",
            mp_mesh / fps_mesh,
            mp_eyes / fps_eyes
        );
    } else {
        println!("(set FACESHOT_PYTHON to a Python with mediapipe to time the reference runtime)");
    }
    if std::env::args().any(|a| a == "--speed-only") {
        return;
    }
    jitter(&photo);
    if let (Some(py), Ok(dir)) = (&python, std::env::var("FACESHOT_DRIVING_DIR")) {
        driving_agreement(py, Path::new(&dir), tmp.path());
    }
}
