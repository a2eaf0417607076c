//! `faceshot live CHARACTER --landmarks FACE.json --camera SOURCE`: drive the character in real
//! time from a camera or any FFmpeg input (a file plays at its own frame rate), optionally
//! recording the result; Ctrl-C stops cleanly and keeps the recording whole.

use crate::progress_bar::ctrl_c_flag;
use anyhow::{Context, Result, bail};
use clap::Args;
use faceshot_core::landmarks::{Face, ImageSize};
use faceshot_core::live::{
    Capture, LiveControls, LiveFrame, LiveOptions, LiveRig, list_cameras, run_live_recorded,
    source_path,
};
use faceshot_core::media::{ExportFormat, VirtualCamera, load_image};
use faceshot_core::retarget::{Gains, RetargetOptions};
use faceshot_core::track::Tracker;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `faceshot live`.
#[derive(Args, Debug)]
pub struct LiveArgs {
    /// The character picture.
    #[arg(required_unless_present = "list_cameras")]
    pub character: Option<PathBuf>,
    /// The character's 68 landmarks (face JSON, e.g. from `faceshot match`).
    #[arg(long, required_unless_present = "list_cameras")]
    pub landmarks: Option<PathBuf>,
    /// The driving source: a camera (index or device path) or anything FFmpeg opens (a file
    /// plays in real time, a stream URL).
    #[arg(long, required_unless_present = "list_cameras")]
    pub camera: Option<String>,
    /// Record the character to this MP4 (written atomically when live mode stops).
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Stop after this many seconds.
    #[arg(long, value_parser = |s: &str| super::finite_in(s, 0.1..=86_400.0))]
    pub seconds: Option<f64>,
    /// Also send the character to this V4L2 loopback device (Linux: `sudo modprobe
    /// v4l2loopback` makes one, e.g. /dev/video10), for video-call and streaming apps.
    #[arg(long, value_name = "DEVICE")]
    pub virtual_camera: Option<PathBuf>,
    /// Write the run's figures as JSON (fps, dropped frames, latency percentiles).
    #[arg(long)]
    pub stats: Option<PathBuf>,
    /// Mirror the camera (a selfie view).
    #[arg(long)]
    pub mirror: bool,
    /// Gains in 0..2, e.g. "mouth=1.2,gaze=0"; controls: rotation, translation, eyes, gaze,
    /// brows, mouth, nose.
    #[arg(long, value_name = "NAME=VALUE,...")]
    pub gain: Vec<String>,
    /// Transfer the expression only: the character's head stays where it is drawn.
    #[arg(long)]
    pub expression_only: bool,
    /// List the cameras on this machine and exit.
    #[arg(long)]
    pub list_cameras: bool,
}

/// Run live mode until the source ends, `--seconds` pass or Ctrl-C.
pub fn run(args: &LiveArgs) -> Result<()> {
    if args.list_cameras {
        let cameras = list_cameras();
        if cameras.is_empty() {
            println!("no cameras found");
        }
        for (path, name) in cameras {
            println!("{}\t{name}", path.display());
        }
        return Ok(());
    }
    let (Some(picture), Some(landmarks), Some(camera)) =
        (&args.character, &args.landmarks, &args.camera)
    else {
        bail!("live needs CHARACTER, --landmarks and --camera");
    };
    let source = source_path(camera);
    let mut inputs = vec![
        ("the character picture", picture.as_path()),
        ("--landmarks", landmarks.as_path()),
    ];
    if source.exists() {
        inputs.push(("--camera", source.as_path()));
    }
    let mut outputs = Vec::new();
    if let Some(record) = &args.record {
        outputs.push(("--record", record.as_path()));
        if ExportFormat::from_path(record)? != ExportFormat::Mp4 {
            bail!("--record writes an .mp4");
        }
    }
    if let Some(stats) = &args.stats {
        outputs.push(("--stats", stats.as_path()));
    }
    super::check_paths(&inputs, &outputs)?;
    let mut gains = Gains::default();
    gains.apply_list(&args.gain.join(","))?;
    let image = load_image(picture)?;
    let mut face = Face::load(landmarks)?;
    let size = ImageSize {
        width: image.width(),
        height: image.height(),
    };
    match face.image {
        Some(s) if s != size => bail!(
            "{}: landmarks are for a {}x{} image but {} is {}x{}",
            landmarks.display(),
            s.width,
            s.height,
            picture.display(),
            size.width,
            size.height
        ),
        _ => face.image = Some(size),
    }
    face.validate(&landmarks.display().to_string())?;
    let mut tracker = Tracker::with_defaults().map_err(|e| anyhow::anyhow!("face tracker: {e}"))?;
    let mut capture = Capture::open(source.clone()).with_context(|| format!("opening {camera}"))?;
    let (cw, ch) = capture.size();
    eprintln!(
        "live: {} ({cw}x{ch}, {:.1} fps) driving {}; Ctrl-C stops",
        source.display(),
        capture.fps(),
        picture.display()
    );
    let rig = LiveRig {
        image: std::sync::Arc::new(image),
        face,
        retarget: RetargetOptions {
            gains,
            expression_only: args.expression_only,
            ..Default::default()
        },
    };
    let mut virtual_camera = match &args.virtual_camera {
        Some(device) => Some(VirtualCamera::open(
            device,
            size.width,
            size.height,
            capture.fps(),
            [255, 255, 255],
        )?),
        None => None,
    };
    let options = LiveOptions {
        mirror: args.mirror,
        duration: args.seconds.map(Duration::from_secs_f64),
        ..Default::default()
    };
    let controls = LiveControls::default();
    let cancel = ctrl_c_flag();
    let mut sink = |frame: &LiveFrame<'_>| -> Result<(), String> {
        if cancel.is_cancelled() {
            controls.stop();
        }
        if let Some(cam) = virtual_camera.as_mut() {
            cam.push(frame.image).map_err(|e| e.to_string())?;
        }
        Ok(())
    };
    let (stats, recorded) = run_live_recorded(
        &mut capture,
        rig,
        &mut tracker,
        &options,
        &controls,
        args.record.clone(),
        &mut sink,
    )?;
    if let Some(path) = recorded {
        eprintln!("recorded {} frames to {}", stats.frames_out, path.display());
    }
    eprintln!(
        "{} frames out of {} in ({} dropped), {:.1} fps, latency p50 {:.1} ms, p95 {:.1} ms",
        stats.frames_out,
        stats.frames_in,
        stats.dropped,
        stats.fps,
        stats.latency_ms.p50,
        stats.latency_ms.p95
    );
    if let Some(path) = &args.stats {
        let text = serde_json::to_string_pretty(&stats)?;
        faceshot_core::atomic::write_atomic(path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
