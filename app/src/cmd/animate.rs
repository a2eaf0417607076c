//! `faceshot animate IMG DRIVING -o OUT`: the whole method in one command — track the driving
//! video, retarget its motion onto the character's landmarks, render the character, export.

use crate::progress_bar::BarProgress;
use anyhow::{Context, Result, bail};
use clap::Args;
use faceshot_core::animate::{Animator, WarpAnimator};
use faceshot_core::atomic::AtomicFile;
use faceshot_core::landmarks::{Face, ImageSize};
use faceshot_core::media::{ExportFormat, ExportOptions, load_image};
use faceshot_core::pipeline::{render_track, track_driving};
use faceshot_core::retarget::{Gains, Reference, RetargetOptions, retarget};
use std::path::PathBuf;

/// Arguments of `faceshot animate`.
#[derive(Args, Debug)]
pub struct AnimateArgs {
    /// The character picture (PNG with alpha, JPEG, WebP).
    pub image: PathBuf,
    /// The driving video: a human face talking.
    pub driving: PathBuf,
    /// The character's 68 landmarks (face JSON, e.g. from `faceshot match`).
    #[arg(long)]
    pub landmarks: PathBuf,
    /// Output: .mp4, .gif, or a folder of PNG frames.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Copy the driving video's audio into the MP4.
    #[arg(long)]
    pub audio: bool,
    /// The driver's neutral frame: "first", "auto" (most neutral), or a 0-based frame number.
    #[arg(long, default_value = "auto")]
    pub reference: Reference,
    /// Gains in 0..2, e.g. "mouth=1.2,eyes=0.8"; controls: rotation, translation, eyes, brows,
    /// mouth, nose.
    #[arg(long, value_name = "NAME=VALUE,...")]
    pub gain: Vec<String>,
    /// Transfer the expression only: the character's head stays where it is drawn.
    #[arg(long)]
    pub expression_only: bool,
    /// Use only the first N frames of the driving video.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub frames: Option<u64>,
    /// Quality 0–100 (MP4 compression, GIF palette effort).
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub quality: u8,
    /// Also save the character's landmark track (.json or .npy) for other renderers.
    #[arg(long)]
    pub save_track: Option<PathBuf>,
    /// GIF: largest side in pixels.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=65535))]
    pub max_size: Option<u32>,
}

/// Run the pipeline with progress bars; Ctrl-C cancels and leaves no partial output.
pub fn run(args: &AnimateArgs, quiet: bool) -> Result<()> {
    let mut outputs = vec![("-o", args.output.as_path())];
    if let Some(track) = &args.save_track {
        outputs.push(("--save-track", track.as_path()));
    }
    super::check_paths(
        &[
            ("the character picture", &args.image),
            ("the driving video", &args.driving),
            ("--landmarks", &args.landmarks),
        ],
        &outputs,
    )?;
    if args.audio && ExportFormat::from_path(&args.output)? != ExportFormat::Mp4 {
        bail!("--audio needs an .mp4 output; GIF and PNG frames have no sound");
    }
    let mut gains = Gains::default();
    // One list, so that a control named in two --gain options is caught too.
    gains.apply_list(&args.gain.join(","))?;
    let opts = RetargetOptions {
        reference: args.reference,
        gains,
        expression_only: args.expression_only,
    };
    let image = load_image(&args.image)?;
    let mut face = Face::load(&args.landmarks)?;
    let size = ImageSize {
        width: image.width(),
        height: image.height(),
    };
    match face.image {
        Some(s) if s != size => bail!(
            "{}: landmarks are for a {}x{} image but {} is {}x{}",
            args.landmarks.display(),
            s.width,
            s.height,
            args.image.display(),
            size.width,
            size.height
        ),
        _ => face.image = Some(size),
    }
    face.validate(&args.landmarks.display().to_string())?;
    let animator = WarpAnimator::prepare(&image, &face)
        .with_context(|| format!("preparing {}", args.image.display()))?;

    let progress = BarProgress::new(None, quiet);
    let tracked = track_driving(&args.driving, args.frames, &progress)?;
    progress.finish();
    let found = tracked.track.found.iter().filter(|f| **f).count();
    eprintln!(
        "tracked {} frames of {} (face in {found})",
        tracked.track.len(),
        args.driving.display()
    );
    for gap in tracked.long_gaps() {
        eprintln!(
            "note: no face in frames {}..{}: the character holds still there",
            gap.start, gap.end
        );
    }
    let character = retarget(&face, &tracked.track, &opts)?;
    // Staged now, published only once the video is: a failed or cancelled run keeps the old file.
    let saved_track = match &args.save_track {
        Some(path) => {
            let file = AtomicFile::new(path, "")
                .and_then(|f| f.write(&character.encode_for(path)).map(|()| f))
                .with_context(|| format!("writing {}", path.display()))?;
            Some(file)
        }
        None => None,
    };
    let export = ExportOptions {
        quality: args.quality,
        audio_from: args.audio.then(|| args.driving.clone()),
        gif_max_side: args.max_size,
        ..Default::default()
    };
    let progress = BarProgress::new(Some(character.len() as u64), quiet);
    let (path, note) = render_track(&animator, &character, &args.output, &export, &progress)?;
    progress.finish();
    if let Some(file) = saved_track {
        let track_path = file.commit().context("publishing the character's track")?;
        eprintln!("wrote the character's track to {}", track_path.display());
    }
    if let Some(note) = note {
        eprintln!("note: {note}");
    }
    eprintln!(
        "wrote {} frames ({}) to {}",
        character.len(),
        animator.name(),
        path.display()
    );
    Ok(())
}
