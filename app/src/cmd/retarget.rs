//! `faceshot retarget`: turn a driving landmark track into the character's landmark track,
//! optionally with a preview video of the animated landmarks over the character picture.

use crate::overlay::draw_parts;
use crate::progress_bar::BarProgress;
use anyhow::{Context, Result, bail};
use clap::Args;
use faceshot_core::atomic::AtomicFile;
use faceshot_core::landmarks::{Face, ImageSize, Track, validate_points};
use faceshot_core::media::{ExportOptions, Exporter, load_image};
use faceshot_core::progress::Progress;
use faceshot_core::retarget::{Gains, Reference, RetargetOptions, choose_reference, retarget};
use image::{RgbaImage, imageops};
use std::path::{Path, PathBuf};

/// Largest side of the preview video; bigger character pictures are scaled down for it.
const PREVIEW_MAX_SIDE: u32 = 720;

/// Arguments of `faceshot retarget`.
#[derive(Args, Debug)]
pub struct RetargetArgs {
    /// The character's landmarks (a face JSON file).
    #[arg(long)]
    pub character: PathBuf,
    /// The driver's landmark track (.json, or .npy of shape T×68×2).
    #[arg(long)]
    pub driving: PathBuf,
    /// Frame rate of a .npy driving track (JSON tracks carry their own), 1–240.
    #[arg(long, value_parser = |s: &str| super::finite_in(s, 1.0..=240.0))]
    pub fps: Option<f64>,
    /// Output: the character's track (.json, or .npy by extension).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Also write the character's track as .npy (T×68×2 float32).
    #[arg(long)]
    pub npy: Option<PathBuf>,
    /// The driver's neutral frame: "first", "auto" (most neutral), or a 0-based frame number.
    #[arg(long, default_value = "first")]
    pub reference: Reference,
    /// Gains in 0..2, e.g. "mouth=1.2,eyes=0.8" (repeatable); controls: rotation,
    /// translation, eyes, gaze, brows, mouth, nose (default 1 each).
    #[arg(long, value_name = "NAME=VALUE,...")]
    pub gain: Vec<String>,
    /// Transfer the expression only: the character's head stays where it is drawn.
    #[arg(long)]
    pub expression_only: bool,
    /// Write a preview (.mp4, .gif or a folder of PNGs) of the landmarks over --image.
    #[arg(long, requires = "image")]
    pub preview: Option<PathBuf>,
    /// The character picture, for --preview.
    #[arg(long, requires = "preview")]
    pub image: Option<PathBuf>,
}

/// Load, retarget, save; then draw the preview if asked.
pub fn run(args: &RetargetArgs, quiet: bool) -> Result<()> {
    let mut inputs = vec![
        ("--character", args.character.as_path()),
        ("--driving", args.driving.as_path()),
    ];
    if let Some(image) = &args.image {
        inputs.push(("--image", image.as_path()));
    }
    let mut outputs = vec![("-o", args.output.as_path())];
    if let Some(npy) = &args.npy {
        outputs.push(("--npy", npy.as_path()));
    }
    if let Some(preview) = &args.preview {
        outputs.push(("--preview", preview.as_path()));
    }
    super::check_paths(&inputs, &outputs)?;
    if let Some(npy) = &args.npy
        && !has_extension(npy, "npy")
    {
        bail!("--npy {} must end in .npy", npy.display());
    }
    let mut gains = Gains::default();
    // One list, so that a control named in two --gain options is caught too.
    gains.apply_list(&args.gain.join(","))?;
    let character = load_character(&args.character)?;
    let driving = load_driving(&args.driving, args.fps)?;
    // Check the preview picture before any work, so a mismatch leaves nothing behind.
    let picture = match &args.image {
        Some(image) => Some(preview_picture(image, &character)?),
        None => None,
    };

    let reference = choose_reference(&driving, args.reference)?;
    if args.reference == Reference::Auto {
        eprintln!("reference: frame {reference} (most neutral)");
    }
    let opts = RetargetOptions {
        reference: Reference::Frame(reference),
        gains,
        expression_only: args.expression_only,
    };
    let track = retarget(&character, &driving, &opts)?;
    let held = track
        .found
        .iter()
        .zip(&driving.found)
        .filter(|(out, inp)| **inp && !**out)
        .count();
    if held > 0 {
        eprintln!(
            "note: {held} driving frame(s) had a collapsed face part and repeat the previous pose"
        );
    }
    // Every output is staged and published together once the last is complete.
    let stage = |path: &Path| {
        AtomicFile::with_contents(path, &track.encode_for(path))
            .with_context(|| format!("writing {}", path.display()))
    };
    let staged_track = stage(&args.output)?;
    let staged_npy = match &args.npy {
        Some(npy) => Some(stage(npy)?),
        None => None,
    };
    if let (Some(preview), Some(picture)) = (&args.preview, picture) {
        write_preview(preview, picture, &track, quiet)?;
    }
    staged_track.commit()?;
    eprintln!("wrote {} frames to {}", track.len(), args.output.display());
    if let Some(file) = staged_npy {
        let npy = file.commit()?;
        eprintln!("wrote {}", npy.display());
    }
    Ok(())
}

fn load_character(path: &Path) -> Result<Face> {
    Face::load(path).map_err(|e| {
        let hint = if Track::load(path, None).is_ok() {
            " (this is a landmark track; --character takes one face)"
        } else {
            ""
        };
        anyhow::anyhow!("{e}{hint}")
    })
}

fn load_driving(path: &Path, fps: Option<f64>) -> Result<Track> {
    Track::load(path, fps).map_err(|e| {
        let hint = if Face::load(path).is_ok() {
            " (this is a single face; --driving takes a landmark track)"
        } else {
            ""
        };
        anyhow::anyhow!("{e}{hint}")
    })
}

fn has_extension(path: &Path, ext: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// Load the character picture and check the character's landmarks belong to it.
fn preview_picture(image_path: &Path, character: &Face) -> Result<RgbaImage> {
    let picture = load_image(image_path)?;
    let (w, h) = picture.dimensions();
    if let Some(ImageSize { width, height }) = character.image
        && (width, height) != (w, h)
    {
        bail!(
            "the character's landmarks are for a {width}x{height} image, but {} is {w}x{h}",
            image_path.display()
        );
    }
    let size = Some(ImageSize {
        width: w,
        height: h,
    });
    validate_points(&character.points, size, &image_path.display().to_string())
        .context("the character's landmarks do not fit this picture")?;
    Ok(picture)
}

/// Draw each frame's landmarks over the still picture and export them.
fn write_preview(out: &Path, picture: RgbaImage, track: &Track, quiet: bool) -> Result<()> {
    let (w, h) = picture.dimensions();
    let scale = (PREVIEW_MAX_SIDE as f32 / w.max(h) as f32).min(1.0);
    let (pw, ph) = (
        ((w as f32 * scale).round() as u32).max(1),
        ((h as f32 * scale).round() as u32).max(1),
    );
    let base: RgbaImage = if scale < 1.0 {
        imageops::resize(&picture, pw, ph, imageops::FilterType::Triangle)
    } else {
        picture
    };
    let thickness = (pw.max(ph) as f32 / 300.0).max(1.5);
    let opts = ExportOptions {
        fps: track.fps,
        ..Default::default()
    };
    let mut exporter = Exporter::create(out, pw, ph, &opts)?;
    let progress = BarProgress::new(Some(track.len() as u64), quiet);
    for (t, frame) in track.frames.iter().enumerate() {
        if progress.cancelled() {
            progress.finish();
            bail!("cancelled; {} was not written", out.display());
        }
        let mut img = base.clone();
        draw_parts(&mut img, &frame.map(|p| p * scale), thickness);
        exporter.push(&img)?;
        progress.update("preview", t as u64 + 1, Some(track.len() as u64));
    }
    progress.finish();
    let path = exporter
        .finish()
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote preview {}", path.display());
    Ok(())
}
