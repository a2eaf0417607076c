//! `faceshot transcode IN OUT`: decode a video and write MP4, GIF or PNG frames.

use crate::progress_bar::BarProgress;
use anyhow::{Context, Result, bail};
use clap::Args;
use faceshot_core::media::{ExportFormat, ExportOptions, Exporter, VideoReader};
use faceshot_core::progress::Progress;
use std::path::PathBuf;

/// Arguments of `faceshot transcode`.
#[derive(Args, Debug)]
pub struct TranscodeArgs {
    /// Input video.
    pub input: PathBuf,
    /// Output: `.mp4`, `.gif`, or a folder (PNG frames).
    pub output: PathBuf,
    /// Quality 0–100 (MP4 compression; GIF palette effort).
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub quality: u8,
    /// Copy the input's audio into the MP4.
    #[arg(long)]
    pub audio: bool,
    /// Stop after this many frames.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub frames: Option<u64>,
    /// GIF: largest side in pixels.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=65535))]
    pub max_size: Option<u32>,
    /// GIF: highest frame rate (0.1–50).
    #[arg(long, value_parser = |s: &str| super::finite_in(s, 0.1..=50.0))]
    pub gif_fps: Option<f64>,
}

/// Stream frames from the input into the exporter; Ctrl-C cancels without leaving a file.
pub fn run(args: &TranscodeArgs, quiet: bool) -> Result<()> {
    super::check_paths(
        &[("the input", &args.input)],
        &[("the output", &args.output)],
    )?;
    if args.audio && ExportFormat::from_path(&args.output)? != ExportFormat::Mp4 {
        bail!("--audio needs an .mp4 output; GIF and PNG frames have no sound");
    }
    let mut reader = VideoReader::open(&args.input)?;
    let info = reader.info().clone();
    let opts = ExportOptions {
        fps: info.fps,
        quality: args.quality,
        audio_from: args.audio.then(|| args.input.clone()),
        gif_max_side: args.max_size,
        gif_max_fps: args.gif_fps,
        ..Default::default()
    };
    let mut out = Exporter::create(&args.output, info.width, info.height, &opts)?;
    if let Some(note) = out.note() {
        eprintln!("note: {note}");
    }
    let limit = args.frames.unwrap_or(u64::MAX);
    let total = info.frame_count.min(limit);
    let progress = BarProgress::new(Some(total), quiet);
    let mut written = 0u64;
    while written < limit {
        if progress.cancelled() {
            progress.finish();
            bail!("cancelled; {} was not written", args.output.display());
        }
        let Some(frame) = reader.next_frame()? else {
            break;
        };
        let rgba = image::DynamicImage::ImageRgb8(frame.image).into_rgba8();
        out.push(&rgba)?;
        written += 1;
        progress.update("transcode", written, Some(total.max(written)));
    }
    progress.finish();
    let path = out
        .finish()
        .with_context(|| format!("writing {}", args.output.display()))?;
    eprintln!("wrote {} frames to {}", written, path.display());
    Ok(())
}
