//! `faceshot animate IMG DRIVING -o OUT`: the whole method in one command — track the driving
//! video, retarget its motion onto the character's landmarks, render the character, export.

use crate::progress_bar::BarProgress;
use anyhow::{Context, Result, bail};
use clap::Args;
use faceshot_core::animate::{Animator, WarpAnimator};
use faceshot_core::atomic::AtomicFile;
use faceshot_core::landmarks::{Face, ImageSize};
use faceshot_core::matching::{MatchOptions, match_face, points_to_check};
use faceshot_core::media::{ExportFormat, ExportOptions, load_image};
use faceshot_core::pipeline::{render_track, track_driving};
use faceshot_core::retarget::{Gains, Reference, RetargetOptions, retarget};
use std::path::PathBuf;

/// More uncertain points than this earn a warning when animate matches the character itself.
const UNCERTAIN_POINTS: usize = 10;

/// Arguments of `faceshot animate`.
#[derive(Args, Debug)]
pub struct AnimateArgs {
    /// The character picture (PNG with alpha, JPEG, WebP).
    pub image: PathBuf,
    /// The driving video: a human face talking.
    pub driving: PathBuf,
    /// The character's 68 landmarks (face JSON, e.g. from `faceshot match`); without it the
    /// character is matched first (the default matcher of `faceshot match`).
    #[arg(long)]
    pub landmarks: Option<PathBuf>,
    /// Save the landmarks the character was matched with (face JSON), to check or edit them.
    #[arg(long, conflicts_with = "landmarks")]
    pub save_landmarks: Option<PathBuf>,
    /// Output: .mp4, .gif, or a folder of PNG frames.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Copy the driving video's audio into the MP4.
    #[arg(long)]
    pub audio: bool,
    /// The driver's neutral frame: "first", "auto" (most neutral), or a 0-based frame number.
    #[arg(long, default_value = "auto")]
    pub reference: Reference,
    /// Gains in 0..2, e.g. "mouth=1.2,eyes=0.8"; controls: rotation, translation, eyes, gaze,
    /// brows, mouth, nose.
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
    if let Some(face) = &args.save_landmarks {
        outputs.push(("--save-landmarks", face.as_path()));
    }
    let mut inputs = vec![
        ("the character picture", args.image.as_path()),
        ("the driving video", args.driving.as_path()),
    ];
    if let Some(face) = &args.landmarks {
        inputs.push(("--landmarks", face.as_path()));
    }
    super::check_paths(&inputs, &outputs)?;
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
    let size = ImageSize {
        width: image.width(),
        height: image.height(),
    };
    let (mut face, face_name) = match &args.landmarks {
        Some(path) => (Face::load(path)?, path.display().to_string()),
        None => (
            match_character(args, &image, quiet)?,
            "the matched landmarks".into(),
        ),
    };
    match face.image {
        Some(s) if s != size => bail!(
            "{face_name}: landmarks are for a {}x{} image but {} is {}x{}",
            s.width,
            s.height,
            args.image.display(),
            size.width,
            size.height
        ),
        _ => face.image = Some(size),
    }
    face.validate(&face_name)?;
    // Staged now, published with the video (a failed run keeps an earlier file).
    let saved_face = match &args.save_landmarks {
        Some(path) => Some(
            AtomicFile::with_contents(path, face.to_json().as_bytes())
                .with_context(|| format!("writing {}", path.display()))?,
        ),
        None => None,
    };
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
            let file = AtomicFile::with_contents(path, &character.encode_for(path))
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
    if let Some(file) = saved_face {
        let face_path = file.commit().context("publishing the matched landmarks")?;
        eprintln!("wrote the matched landmarks to {}", face_path.display());
    }
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

/// Find the character's landmarks with the default matcher, saying so, and warning when many
/// points are uncertain.
fn match_character(args: &AnimateArgs, image: &image::RgbaImage, quiet: bool) -> Result<Face> {
    let progress = BarProgress::new(None, quiet);
    let result = match_face(image, &MatchOptions::default(), &progress);
    progress.finish();
    let result = result.with_context(|| format!("matching {}", args.image.display()))?;
    if result.placeholder {
        bail!(
            "{}: no face found; place the points with `faceshot match --anchors` or in the app, \
             then pass them with --landmarks",
            args.image.display()
        );
    }
    let weak = points_to_check(&result.face);
    eprintln!("matched {}: {}", args.image.display(), result.note);
    if weak > UNCERTAIN_POINTS {
        eprintln!(
            "warning: {weak} of 68 points are uncertain; check them with --save-landmarks (or \
             in the app) and pass them back with --landmarks"
        );
    }
    Ok(result.face)
}
