//! `faceshot detect VIDEO -o track.json [--npy track.npy] [--overlay overlay.mp4]`: track the
//! driving face and write its 68 landmarks per frame.

use crate::overlay::{draw_pupils, draw_tracked};
use crate::progress_bar::BarProgress;
use anyhow::{Context, Result, bail};
use clap::Args;
use faceshot_core::atomic::AtomicFile;
use faceshot_core::landmarks::{Track, pupils_path};
use faceshot_core::media::{ExportOptions, Exporter, VideoReader};
use faceshot_core::progress::Progress;
use faceshot_core::track::{OneEuro, Tracker, TrackerOptions};
use std::path::{Path, PathBuf};

/// Arguments of `faceshot detect`.
#[derive(Args, Debug)]
pub struct DetectArgs {
    /// Driving video.
    pub video: PathBuf,
    /// Output track (JSON).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Also write the points as a T × 68 × 2 float32 `.npy` array (frames without a face hold
    /// interpolated or repeated points; the JSON keeps the per-frame found flags).
    #[arg(long)]
    pub npy: Option<PathBuf>,
    /// Also write a video with the points and part contours drawn on the frames.
    #[arg(long)]
    pub overlay: Option<PathBuf>,
    /// Stop after this many frames.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub frames: Option<u64>,
    /// No temporal smoothing.
    #[arg(long)]
    pub no_smoothing: bool,
    /// One Euro filter: cut-off at rest in Hz (lower = steadier).
    #[arg(long, default_value_t = OneEuro::default().min_cutoff,
          value_parser = |s: &str| super::finite_in(s, 0.001..=1000.0).map(|v| v as f32))]
    pub min_cutoff: f32,
    /// One Euro filter: speed coefficient (higher = less lag on fast motion).
    #[arg(long, default_value_t = OneEuro::default().beta,
          value_parser = |s: &str| super::finite_in(s, 0.0..=1000.0).map(|v| v as f32))]
    pub beta: f32,
    /// Skip the eye model (eyelids from the face mesh alone; faster).
    #[arg(long)]
    pub no_eyes: bool,
}

/// Track the face, write the track (and optionally `.npy` and an overlay video).
pub fn run(args: &DetectArgs, quiet: bool) -> Result<()> {
    let mut outputs = vec![("-o", args.output.as_path())];
    let pupils = args.npy.as_deref().map(pupils_path);
    if let Some(npy) = &args.npy {
        outputs.push(("--npy", npy.as_path()));
    }
    if let Some(p) = &pupils {
        outputs.push(("the pupils beside --npy", p.as_path()));
    }
    if let Some(overlay) = &args.overlay {
        outputs.push(("--overlay", overlay.as_path()));
    }
    super::check_paths(&[("the input video", &args.video)], &outputs)?;
    let options = TrackerOptions {
        refine_eyes: !args.no_eyes,
        smoothing: (!args.no_smoothing).then_some(OneEuro {
            min_cutoff: args.min_cutoff,
            beta: args.beta,
            ..OneEuro::default()
        }),
        ..TrackerOptions::default()
    };
    let nets = faceshot_core::nn::FaceNets::embedded().context("loading the face networks")?;
    let mut tracker = Tracker::new(nets, options);
    let progress = BarProgress::new(None, quiet);
    let started = std::time::Instant::now();
    let result = tracker.track_video(&args.video, args.frames, &progress);
    progress.finish();
    let result = result.with_context(|| format!("tracking {}", args.video.display()))?;
    let track = &result.track;
    let found = track.found.iter().filter(|&&f| f).count();
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "tracked {} frames in {:.1} s ({:.0} frames/s): face in {found}, detector ran {} times",
        track.len(),
        secs,
        track.len() as f64 / secs.max(1e-9),
        result.detector_runs
    );
    for g in result.long_gaps() {
        eprintln!(
            "warning: no usable face in frames {}..{} ({:.2} s); points held",
            g.start,
            g.end,
            (g.end - g.start) as f64 / track.fps
        );
    }
    // Every output is staged and published together once the last is complete.
    let stage = |path: &Path, bytes: &[u8]| {
        AtomicFile::with_contents(path, bytes)
            .with_context(|| format!("writing {}", path.display()))
    };
    let staged = stage(&args.output, &track.encode_for(&args.output))?;
    let staged_npy = match &args.npy {
        Some(npy) => Some(stage(npy, &track.to_npy())?),
        None => None,
    };
    // The pupils go beside the .npy as NAME.pupils.npy (the JSON track carries them inline).
    let staged_pupils = match (&args.npy, track.pupils_npy()) {
        (Some(npy), Some(bytes)) => Some(stage(&pupils_path(npy), &bytes)?),
        _ => None,
    };
    if let Some(path) = &args.overlay {
        write_overlay(args, track, path, quiet)?;
        eprintln!("wrote {}", path.display());
    }
    for file in std::iter::once(staged)
        .chain(staged_npy)
        .chain(staged_pupils)
    {
        let path = file.commit()?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn write_overlay(args: &DetectArgs, track: &Track, path: &Path, quiet: bool) -> Result<()> {
    let mut reader = VideoReader::open(&args.video)?;
    let info = reader.info().clone();
    let opts = ExportOptions {
        fps: info.fps,
        ..Default::default()
    };
    let mut out = Exporter::create(path, info.width, info.height, &opts)?;
    let progress = BarProgress::new(Some(track.len() as u64), quiet);
    for (i, (points, &found)) in track.frames.iter().zip(&track.found).enumerate() {
        if progress.cancelled() {
            progress.finish();
            bail!("cancelled; {} was not written", path.display());
        }
        let Some(frame) = reader.next_frame()? else {
            break;
        };
        let mut rgba = image::DynamicImage::ImageRgb8(frame.image).into_rgba8();
        draw_tracked(&mut rgba, points, found);
        if let Some(pair) = track.pupils.as_ref().and_then(|p| p.get(i)) {
            draw_pupils(&mut rgba, pair);
        }
        out.push(&rgba)?;
        progress.update("overlay", i as u64 + 1, Some(track.len() as u64));
    }
    progress.finish();
    out.finish()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
