//! UI timing: frame time while scrubbing, and landmark drag → updated preview latency.
//!
//! `cargo bench -p faceshot --bench gui` (add `-- --render` to include CPU rendering of every
//! frame through wgpu on Mesa, which a real GPU would do instead). Prints the figures; asserts
//! nothing. Uses the sample character and a generated 512×512 driving video and track.

#![allow(clippy::expect_used)] // a measurement tool: stop loudly when its setup fails

use eframe::egui::vec2;
use egui_kittest::Harness;
use faceshot::gui::{FaceShotApp, LaunchOptions};
use faceshot_core::landmarks::synthetic::{Expression, posed_face};
use faceshot_core::landmarks::{ImageSize, Track};
use faceshot_core::media::{ExportOptions, Exporter};
use image::{Rgba, RgbaImage};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const FRAMES: usize = 150;
const SIDE: u32 = 512;

fn summary(name: &str, v: &mut [f64]) {
    if v.is_empty() {
        println!("{name}: no samples");
        return;
    }
    v.sort_by(f64::total_cmp);
    let median = v[v.len() / 2];
    let p95 = v[(v.len() * 95 / 100).min(v.len() - 1)];
    let max = v[v.len() - 1];
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    println!(
        "{name}: n={} mean {mean:.2} ms, median {median:.2} ms, p95 {p95:.2} ms, max {max:.2} ms",
        v.len()
    );
}

fn make_inputs(dir: &Path) -> (PathBuf, PathBuf) {
    let video = dir.join("bench_drive.mp4");
    let mut ex = Exporter::create(
        &video,
        SIDE,
        SIDE,
        &ExportOptions {
            fps: 25.0,
            ..Default::default()
        },
    )
    .expect("create video");
    let mut track = Track::new(
        25.0,
        Some(ImageSize {
            width: SIDE,
            height: SIDE,
        }),
    );
    for k in 0..FRAMES {
        let e = Expression {
            mouth_open: ((k as f32 / 5.0).sin() * 0.5 + 0.5) * 0.8,
            roll: 0.1 * (k as f32 / 17.0).sin(),
            ..Default::default()
        };
        let pts = posed_face(256.0, 256.0, 120.0, &e);
        let mut img = RgbaImage::from_fn(SIDE, SIDE, |x, y| {
            Rgba([(x / 2) as u8, (y / 2) as u8, (k * 3 % 255) as u8, 255])
        });
        for p in pts {
            let (x, y) = (p.x as u32, p.y as u32);
            if x < SIDE && y < SIDE {
                img.put_pixel(x, y, Rgba([255, 255, 255, 255]));
            }
        }
        ex.push(&img).expect("push");
        track.push(pts, true);
    }
    ex.finish().expect("finish video");
    let track_path = dir.join("bench_drive.track.json");
    track.save(&track_path).expect("save track");
    (video, track_path)
}

fn settle(h: &mut Harness<'static, FaceShotApp>) {
    let start = Instant::now();
    while h.state().is_busy() && start.elapsed() < Duration::from_secs(120) {
        h.step();
        std::thread::sleep(Duration::from_millis(1));
    }
    h.step();
}

fn main() {
    let render = std::env::args().any(|a| a == "--render");
    let dir = tempfile::tempdir().expect("temp dir");
    let (video, _track) = make_inputs(dir.path());
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets");
    let character = assets.join("characters/astronaut.png");
    let options = LaunchOptions {
        character: Some(character),
        driving: Some(video),
        ..Default::default()
    };
    let builder = Harness::builder()
        .with_size([1280.0, 820.0])
        .with_accessibility_check(false);
    let builder = if render { builder.wgpu() } else { builder };
    let mut h = builder.build_eframe(move |cc| FaceShotApp::new(&cc.egui_ctx, &options));
    settle(&mut h);
    println!(
        "frames {}; renderer: {}",
        h.state().frame_count(),
        if render {
            "wgpu (CPU, Mesa)"
        } else {
            "none (UI logic + tessellation)"
        }
    );

    // Scrubbing: move the playhead one frame per UI frame, as dragging the slider does.
    let mut step_ms = Vec::new();
    let mut render_ms = Vec::new();
    h.state_mut().perf.frame_ms.clear();
    for k in 0..h.state().frame_count() {
        h.state_mut().seek(k);
        let t = Instant::now();
        h.step();
        step_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if render {
            let t = Instant::now();
            let _ = h.render();
            render_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let mut build: Vec<f64> = h
        .state()
        .perf
        .frame_ms
        .iter()
        .map(|&v| f64::from(v))
        .collect();
    summary("scrub: app frame build (FaceShotApp::frame)", &mut build);
    summary(
        "scrub: whole egui step (input, layout, tessellation)",
        &mut step_ms,
    );
    if render {
        summary("scrub: CPU render of the frame (lavapipe)", &mut render_ms);
    }
    settle(&mut h);

    // Drag → preview: move a landmark a little each UI frame; time each edit until the worker's
    // rendered preview frame for it arrives.
    let points = h
        .state()
        .doc
        .rig
        .as_ref()
        .map(|r| r.face.points)
        .expect("rig");
    let start = h
        .state()
        .view
        .canvas
        .screen_pos(&points, 57)
        .expect("canvas");
    h.state_mut().perf.edit_to_preview_ms.clear();
    h.hover_at(start);
    h.step();
    h.drag_at(start);
    h.step();
    let mut latencies = Vec::new();
    for k in 1..=40 {
        let pos = start + vec2(0.0, k as f32 * 0.5);
        h.hover_at(pos);
        let t = Instant::now();
        h.step();
        let rev = h.state().doc.revision();
        loop {
            let done = h
                .state()
                .preview
                .as_ref()
                .is_some_and(|p| p.revision >= rev);
            if done || t.elapsed() > Duration::from_secs(10) {
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
            h.step();
        }
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    h.drop_at(start + vec2(0.0, 20.0));
    h.step();
    summary(
        "drag → updated result, measured by the bench loop",
        &mut latencies,
    );
    let mut inner: Vec<f64> = h
        .state()
        .perf
        .edit_to_preview_ms
        .iter()
        .map(|&v| f64::from(v))
        .collect();
    summary("drag → updated result, measured inside the app", &mut inner);

    live(&mut h, dir.path());
}

/// Live mode in the app: a paced source (`FACESHOT_BENCH_LIVE_SOURCE`, e.g. a 640×480 clip made
/// by the core's `live_source` example; else the generated 512² clip) drives the sample
/// character for `FACESHOT_BENCH_LIVE_SECONDS` (default 20) while the UI steps continuously,
/// recording; prints the UI's frame times and the session's figures.
fn live(h: &mut Harness<'static, FaceShotApp>, dir: &Path) {
    let source = std::env::var("FACESHOT_BENCH_LIVE_SOURCE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| dir.join("bench_drive.mp4"));
    let seconds: f64 = std::env::var("FACESHOT_BENCH_LIVE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20.0);
    h.state_mut().view.live_source = source.display().to_string();
    h.state_mut().view.live_record = dir.join("live.mp4").display().to_string();
    h.state_mut().toggle_live();
    h.state_mut().perf.frame_ms.clear();
    let start = Instant::now();
    let mut step_ms = Vec::new();
    while start.elapsed().as_secs_f64() < seconds && h.state().live.is_some() {
        let t = Instant::now();
        h.step();
        step_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(5));
    }
    let stats = h.state_mut().live.take().map(|mut l| l.stop());
    let mut build: Vec<f64> = h
        .state()
        .perf
        .frame_ms
        .iter()
        .map(|&v| f64::from(v))
        .collect();
    println!("live: source {}", source.display());
    summary("live: app frame build (FaceShotApp::frame)", &mut build);
    summary("live: whole egui step", &mut step_ms);
    match stats {
        Some(Ok(s)) => println!(
            "live: {} frames out of {} in ({} dropped), {:.2} fps, latency p50 {:.1} ms, \
             p95 {:.1} ms, max {:.1} ms",
            s.frames_out,
            s.frames_in,
            s.dropped,
            s.fps,
            s.latency_ms.p50,
            s.latency_ms.p95,
            s.latency_ms.max
        ),
        Some(Err(e)) => println!("live: failed: {e}"),
        None => println!("live: ended before the time was up"),
    }
}
