//! Frames per second of the built-in warp animator (`cargo bench -p faceshot-core --bench
//! animate`).
//!
//! Renders a synthetic talking-head sequence (mouth, blinks, brows, head roll and sway) on a
//! procedurally drawn cartoon at 512×512 — on one thread and on all cores — and at 2048×2048,
//! and prints frames/s with the split between solving the map and drawing.
//!
//! Options (environment variables):
//! - `FACESHOT_BENCH_FRAMES`: frames per measurement (default 240);
//! - `FACESHOT_BENCH_CHARACTER` + `FACESHOT_BENCH_LANDMARKS`: also time a real character image
//!   with its 68 landmarks (a FaceShot face JSON, or 68 lines "x y"), driven by the same motion;
//! - `FACESHOT_BENCH_OUT`: folder to write a few rendered frames of each run into, as PNG;
//! - `FACESHOT_BENCH_OPENCV=1`: run OpenCV's thin-plate-spline warp on the same image and
//!   frames (`benches/opencv_tps.py`, needs python3 with opencv-python and numpy) and print
//!   the speed ratio.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use faceshot_core::animate::{Animator, WarpAnimator};
use faceshot_core::cartoon::character::{self as cartoon, Style};
use faceshot_core::geometry::Similarity;
use faceshot_core::landmarks::synthetic::{Expression, posed_face};
use faceshot_core::landmarks::{Face, Landmarks, Point};
use image::RgbaImage;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The synthetic performance: frame `t` of a looping talking-head motion, as offsets of a
/// unit-scale face (half face width 1) from its neutral pose, plus a head similarity.
fn motion(t: usize) -> (Expression, f32, Point, f32) {
    let f = t as f32;
    let expr = Expression {
        mouth_open: (0.5 + 0.5 * (f * 0.21).sin()).powf(1.5),
        right_eye_open: blink(t),
        left_eye_open: blink(t + 1),
        brow_raise: 0.6 * (f * 0.05).sin(),
        smile: 0.5 * (f * 0.031).sin(),
        roll: 0.0,
    };
    let roll = 0.25 * (f * 0.043).sin();
    let sway = Point::new(0.12 * (f * 0.037).sin(), 0.06 * (f * 0.053).cos());
    let scale = 1.0 + 0.05 * (f * 0.029).sin();
    (expr, roll, sway, scale)
}

fn blink(t: usize) -> f32 {
    match t % 90 {
        0 | 6 => 0.5,
        1..=5 => 0.0,
        _ => 1.0,
    }
}

/// Drive a character whose rest landmarks are `rest` with the synthetic motion: the motion of
/// the unit face relative to its neutral pose, carried onto the character by the similarity
/// that best aligns the neutral unit face with the character.
fn drive(rest: &Landmarks, t: usize) -> Landmarks {
    let neutral = posed_face(0.0, 0.0, 1.0, &Expression::default());
    let align = Similarity::fit(&neutral, rest).expect("a face with extent");
    let (expr, roll, sway, scale) = motion(t);
    let moved = posed_face(0.0, 0.0, 1.0, &expr);
    let (s, c) = roll.sin_cos();
    let mut out = *rest;
    for i in 0..68 {
        let local = neutral[i] + (moved[i] - neutral[i]);
        let turned =
            Point::new(c * local.x - s * local.y, s * local.x + c * local.y) * scale + sway;
        out[i] = rest[i] + align.apply_vector(turned - neutral[i]);
    }
    out
}

struct Timing {
    plan: Duration,
    draw: Duration,
    /// CPU time of the whole process over the run (all threads), when the OS tells it.
    cpu: Option<Duration>,
    /// CPU time of the solve steps alone.
    cpu_plan: Duration,
    frames: usize,
}

impl Timing {
    fn fps(&self) -> f64 {
        self.frames as f64 / (self.plan + self.draw).as_secs_f64()
    }
    fn ms(d: Duration, n: usize) -> f64 {
        d.as_secs_f64() * 1e3 / n as f64
    }
}

/// CPU time used by this process so far (user + system, all threads), from `/proc/self/stat`.
/// Wall-clock figures depend on what else the machine is doing; CPU time per frame does not.
fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // The kernel reports clock ticks; USER_HZ is 100 on every Linux this runs on.
    Some(Duration::from_millis((utime + stime) * 10))
}

fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn run(anim: &WarpAnimator, rest: &Landmarks, frames: usize, out: Option<&Path>) -> Timing {
    let (w, h) = anim.size();
    let mut buf = RgbaImage::new(w, h);
    // Warm up (page faults, thread pool start).
    for t in 0..5 {
        anim.render_into(&drive(rest, t), None, &mut buf).unwrap();
    }
    let targets: Vec<Landmarks> = (0..frames).map(|t| drive(rest, t)).collect();
    let (mut plan_t, mut draw_t) = (Duration::ZERO, Duration::ZERO);
    let cpu0 = process_cpu_time();
    let mut cpu_plan = Duration::ZERO;
    for (t, target) in targets.iter().enumerate() {
        let c0 = process_cpu_time();
        let t0 = Instant::now();
        let plan = anim.plan(target, None).unwrap();
        let t1 = Instant::now();
        let c1 = process_cpu_time();
        anim.draw(&plan, &mut buf).unwrap();
        let t2 = Instant::now();
        plan_t += t1 - t0;
        draw_t += t2 - t1;
        // Tick-resolution readings, unbiased on average over many frames.
        if let (Some(a), Some(b)) = (c0, c1) {
            cpu_plan += b.saturating_sub(a);
        }
        if let Some(dir) = out
            && t % 20 == 3
        {
            buf.save(dir.join(format!("frame{t:04}.png"))).unwrap();
        }
    }
    let cpu = match (cpu0, process_cpu_time()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    Timing {
        plan: plan_t,
        draw: draw_t,
        cpu,
        cpu_plan,
        frames,
    }
}

fn report(label: &str, t: &Timing, threads: usize) {
    let cpu = t.cpu.map_or(String::new(), |c| {
        let per = Timing::ms(c, t.frames);
        format!(
            "; {per:.2} CPU-ms/frame ({:.2} solve) = {:.0} frames/s with {threads} idle core{}",
            Timing::ms(t.cpu_plan, t.frames),
            1e3 * threads as f64 / per,
            if threads == 1 { "" } else { "s" }
        )
    });
    println!(
        "{label:<34} {:>7.1} frames/s wall ({:.2} ms solve + {:.2} ms draw){cpu}",
        t.fps(),
        Timing::ms(t.plan, t.frames),
        Timing::ms(t.draw, t.frames)
    );
}

fn cartoon_character(size: u32) -> (RgbaImage, Face) {
    let c = size as f32 * 0.5;
    let rest = cartoon::big_eyes(
        posed_face(c, c * 1.04, size as f32 * 0.27, &Expression::default()),
        2.2,
    );
    let img = cartoon::draw(size, size, &rest, &Style::default());
    (img, Face::new(rest, None))
}

fn load_character(image: &Path, landmarks: &Path) -> (RgbaImage, Face) {
    let img = image::open(image).expect("character image").to_rgba8();
    let text = std::fs::read_to_string(landmarks).expect("landmark file");
    let face = if text.trim_start().starts_with('{') {
        Face::from_json(&text, landmarks).expect("face JSON")
    } else {
        let pts: Vec<Point> = text
            .lines()
            .filter_map(|l| {
                let v: Vec<f32> = l
                    .split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect();
                (v.len() >= 2).then(|| Point::new(v[0], v[1]))
            })
            .collect();
        assert_eq!(
            pts.len(),
            68,
            "{}: expected 68 lines \"x y\"",
            landmarks.display()
        );
        let mut points = [Point::default(); 68];
        points.copy_from_slice(&pts);
        Face::new(points, None)
    };
    (img, face)
}

fn out_dir(name: &str) -> Option<PathBuf> {
    let base = std::env::var_os("FACESHOT_BENCH_OUT")?;
    let dir = Path::new(&base).join(name);
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir)
}

fn single_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(f)
}

/// Time OpenCV's TPS warp on the same image and frames, via the helper script; ms per frame.
fn opencv_tps(img: &RgbaImage, rest: &Landmarks, frames: usize) -> Option<f64> {
    let dir = tempfile::tempdir().ok()?;
    let image_path = dir.path().join("character.png");
    img.save(&image_path).ok()?;
    let frames_json: Vec<Vec<[f32; 2]>> = (0..frames)
        .map(|t| drive(rest, t).iter().map(|p| [p.x, p.y]).collect())
        .collect();
    let doc = serde_json::json!({
        "rest": rest.iter().map(|p| [p.x, p.y]).collect::<Vec<_>>(),
        "frames": frames_json,
    });
    let json_path = dir.path().join("frames.json");
    std::fs::write(&json_path, doc.to_string()).ok()?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/opencv_tps.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(&image_path)
        .arg(&json_path)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "OpenCV run failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("ms_per_frame ")?.trim().parse().ok())
}

fn main() {
    let frames: usize = std::env::var("FACESHOT_BENCH_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(240);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "warp animator, {frames} frames per run, {cores} cores, load average {}",
        load_average().unwrap_or_else(|| "unknown".into())
    );
    println!(
        "(wall-clock figures include time other processes took; the CPU-time figure assumes \
         the cores to ourselves and, for several threads, perfect scaling)"
    );

    let (img512, face512) = cartoon_character(512);
    let anim512 = WarpAnimator::new(&img512, &face512).unwrap();
    let one = single_thread(|| run(&anim512, &face512.points, frames, None));
    report("cartoon 512x512, 1 thread", &one, 1);
    let all = run(
        &anim512,
        &face512.points,
        frames,
        out_dir("cartoon512").as_deref(),
    );
    report(&format!("cartoon 512x512, {cores} threads"), &all, cores);

    let (img2k, face2k) = cartoon_character(2048);
    let anim2k = WarpAnimator::new(&img2k, &face2k).unwrap();
    let big_frames = (frames / 4).max(10);
    let big = run(
        &anim2k,
        &face2k.points,
        big_frames,
        out_dir("cartoon2048").as_deref(),
    );
    report(&format!("cartoon 2048x2048, {cores} threads"), &big, cores);
    let big_one = single_thread(|| run(&anim2k, &face2k.points, big_frames, None));
    report("cartoon 2048x2048, 1 thread", &big_one, 1);

    if let (Some(image), Some(marks)) = (
        std::env::var_os("FACESHOT_BENCH_CHARACTER"),
        std::env::var_os("FACESHOT_BENCH_LANDMARKS"),
    ) {
        let (img, face) = load_character(Path::new(&image), Path::new(&marks));
        let anim = WarpAnimator::new(&img, &face).unwrap();
        let t = run(&anim, &face.points, frames, out_dir("character").as_deref());
        report(
            &format!(
                "character {}x{}, {cores} threads",
                img.width(),
                img.height()
            ),
            &t,
            cores,
        );
    }

    if std::env::var_os("FACESHOT_BENCH_OPENCV").is_some() {
        let n = 20.min(frames);
        match opencv_tps(&img512, &face512.points, n) {
            Some(ms) => {
                let ours = 1e3 / all.fps();
                println!(
                    "OpenCV TPS (createThinPlateSplineShapeTransformer + warpImage), 512x512: {ms:.1} ms/frame; \
                     warp animator {ours:.2} ms/frame: {:.0}x faster",
                    ms / ours
                );
            }
            None => println!("OpenCV TPS: not run (python3 with cv2 and numpy not available)"),
        }
    } else {
        println!(
            "OpenCV TPS: not run here (set FACESHOT_BENCH_OPENCV=1); the team's note measured \
             ~122 ms/frame at 512x512 on this machine, {:.0}x slower than the figure above",
            122.0 * all.fps() / 1e3
        );
    }
}
