//! `faceshot render`: animate a character picture with its landmark track using the built-in
//! warp animator, and write the frames as MP4, GIF or a folder of PNGs.

use crate::progress_bar::BarProgress;
use anyhow::{Context, Result, bail};
use clap::Args;
use faceshot_core::animate::{Animator, WarpAnimator, WarpOptions};
use faceshot_core::landmarks::{Face, ImageSize, Track};
use faceshot_core::media::{ExportFormat, ExportOptions, Exporter, load_image};
use faceshot_core::progress::Progress;
use image::RgbaImage;
use std::path::PathBuf;

/// Arguments of `faceshot render`.
#[derive(Args, Debug)]
pub struct RenderArgs {
    /// The character picture (PNG keeps transparency; at most 2048 px a side).
    #[arg(long)]
    pub character: PathBuf,
    /// The character's rest landmarks (a face JSON file).
    #[arg(long)]
    pub landmarks: PathBuf,
    /// The character's landmark track, e.g. from `faceshot retarget` (.json, or .npy T×68×2).
    #[arg(long)]
    pub track: PathBuf,
    /// Frame rate of a .npy track (JSON tracks carry their own), 1–240.
    #[arg(long, value_parser = |s: &str| super::finite_in(s, 1.0..=240.0))]
    pub fps: Option<f64>,
    /// Output: .mp4, .gif, or a folder for RGBA PNG frames.
    #[arg(short, long)]
    pub output: PathBuf,
    /// MP4 only: colour under transparent pixels, as RRGGBB hex.
    #[arg(long, default_value = "ffffff", value_parser = parse_colour)]
    pub background: [u8; 3],
    /// Quality 0–100 (MP4 compression, GIF palette effort).
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub quality: u8,
    /// MP4 only: copy the audio of this file (e.g. the driving video).
    #[arg(long)]
    pub audio: Option<PathBuf>,
    /// Draw no teeth in an opening mouth.
    #[arg(long)]
    pub no_teeth: bool,
}

fn parse_colour(text: &str) -> Result<[u8; 3], String> {
    let hex = text.trim_start_matches('#');
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("\"{text}\" is not a colour like ffffff or #20a0c0"));
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|e| e.to_string());
    Ok([byte(0)?, byte(2)?, byte(4)?])
}

/// Load everything, check it fits together, render every frame and export.
pub fn run(args: &RenderArgs, quiet: bool) -> Result<()> {
    let mut inputs = vec![
        ("--character", args.character.as_path()),
        ("--landmarks", args.landmarks.as_path()),
        ("--track", args.track.as_path()),
    ];
    if let Some(audio) = &args.audio {
        inputs.push(("--audio", audio.as_path()));
        if ExportFormat::from_path(&args.output)? != ExportFormat::Mp4 {
            bail!("--audio needs an .mp4 output; GIF and PNG frames have no sound");
        }
        std::fs::File::open(audio).with_context(|| format!("--audio {}", audio.display()))?;
    }
    super::check_paths(&inputs, &[("-o", &args.output)])?;
    let picture = load_image(&args.character)?;
    let (w, h) = picture.dimensions();
    let face = Face::load(&args.landmarks)?;
    let track = Track::load(&args.track, args.fps)?;
    let options = WarpOptions {
        teeth: !args.no_teeth,
        ..WarpOptions::default()
    };
    let animator = WarpAnimator::prepare_with(&picture, &face, options)
        .with_context(|| format!("preparing {}", args.character.display()))?;
    if let Some(ImageSize { width, height }) = track.image
        && (width, height) != (w, h)
    {
        bail!(
            "the track {} is for a {width}x{height} image, but {} is {w}x{h}",
            args.track.display(),
            args.character.display()
        );
    }
    // Check every frame before writing anything.
    for (t, frame) in track.frames.iter().enumerate() {
        faceshot_core::landmarks::validate_points(
            frame,
            Some(ImageSize {
                width: w,
                height: h,
            }),
            &format!("{}, frame {t}", args.track.display()),
        )?;
    }
    let opts = ExportOptions {
        fps: track.fps,
        quality: args.quality,
        background: args.background,
        audio_from: args.audio.clone(),
        ..Default::default()
    };
    let mut exporter = Exporter::create(&args.output, w, h, &opts)?;
    let progress = BarProgress::new(Some(track.len() as u64), quiet);
    let mut frame_img = RgbaImage::new(w, h);
    let mut limited = 0usize;
    for (t, frame) in track.frames.iter().enumerate() {
        if progress.cancelled() {
            progress.finish();
            bail!("cancelled; {} was not written", args.output.display());
        }
        let plan = animator.plan(frame, track.pupils_at(t))?;
        if plan.head_motion < 1.0 || plan.expression < 1.0 {
            limited += 1;
        }
        animator.draw(&plan, &mut frame_img)?;
        exporter.push(&frame_img)?;
        progress.update("render", t as u64 + 1, Some(track.len() as u64));
    }
    progress.finish();
    if let Some(note) = exporter.note() {
        eprintln!("note: {note}");
    }
    let path = exporter
        .finish()
        .with_context(|| format!("writing {}", args.output.display()))?;
    if limited > 0 {
        eprintln!(
            "note: {limited} frame(s) asked for motion that would fold the picture; it was limited"
        );
    }
    eprintln!(
        "wrote {} frames ({}x{}, {} animator) to {}",
        track.len(),
        w,
        h,
        animator.name(),
        path.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_parse_with_or_without_hash() {
        assert_eq!(parse_colour("#20a0C0").unwrap(), [0x20, 0xa0, 0xc0]);
        assert_eq!(parse_colour("000000").unwrap(), [0, 0, 0]);
        assert!(parse_colour("red").is_err());
        assert!(parse_colour("#12345").is_err());
    }
}
