//! The `faceshot` binary: headless subcommands for scripts, batch work and tests.

mod cmd;
mod overlay;
mod progress_bar;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// FaceShot: bring any character to life from one picture and a talking-face video.
#[derive(Parser, Debug)]
#[command(name = "faceshot", version, about, long_about = None)]
struct Cli {
    /// More log output (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// No progress bars.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print a video's metadata (size, rotation, fps, duration, frames, audio).
    Probe(cmd::probe::ProbeArgs),
    /// Decode a video and write it as MP4, GIF or a PNG-frame folder.
    Transcode(cmd::transcode::TranscodeArgs),
    /// Drive the character's landmarks with a driving track (coordinate-based retargeting).
    Retarget(cmd::retarget::RetargetArgs),
    /// Track the face in a driving video: 68 landmarks per frame (JSON, optional .npy, overlay).
    Detect(cmd::detect::DetectArgs),
    /// Animate a character picture with its landmark track (built-in real-time animator).
    Render(cmd::render::RenderArgs),
    /// Run the whole method: track the driving video, retarget, render, export.
    Animate(cmd::animate::AnimateArgs),
    /// Drive the character live from a camera or stream (a file plays in real time).
    Live(cmd::live::LiveArgs),
    /// Find a character's 68 landmarks (structural fit, DIFT, or five-click anchors).
    Match(cmd::match_cmd::MatchArgs),
    /// Landmark accuracy (NME, failure rate) over a folder of images with ground truth.
    EvalMatch(cmd::eval_match::EvalMatchArgs),
    /// Match many character pictures and draw them numbered on one sheet for review.
    ContactSheet(cmd::contact_sheet::ContactSheetArgs),
    /// Generate cartoon characters with exact landmarks (tests, gallery, evaluation).
    Cartoons(cmd::cartoons::CartoonsArgs),
    /// Where the diffusion matcher's Stable Diffusion 2.1 weights are; --download fetches them.
    Weights(cmd::weights::WeightsArgs),
    /// Open the desktop app (the default with no subcommand).
    Gui(GuiArgs),
}

/// Desktop app options.
#[derive(clap::Args, Debug, Default)]
struct GuiArgs {
    /// A `.faceshot` project, character picture, driving video or landmark file to open.
    files: Vec<std::path::PathBuf>,
    /// Start empty instead of loading the shipped sample.
    #[arg(long)]
    no_sample: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before any thread starts, where the diffusion matcher may run: lets it keep its memory
    // on worker threads (see `faceshot_core::heap`).
    if matches!(
        cli.command,
        None | Some(
            Command::Gui(_) | Command::Match(_) | Command::EvalMatch(_) | Command::ContactSheet(_)
        )
    ) {
        faceshot_core::heap::single_arena();
    }
    init_logging(cli.verbose);
    // Commands that poll for cancellation stop cleanly on Ctrl-C, SIGTERM and SIGHUP from the
    // very start, not only once their first progress bar exists (a signal in between would
    // kill them outright and leave a partial file).
    if !matches!(
        cli.command,
        None | Some(Command::Gui(_) | Command::Probe(_) | Command::Cartoons(_))
    ) {
        progress_bar::ctrl_c_flag();
    }
    let result = match &cli.command {
        Some(Command::Probe(args)) => cmd::probe::run(args),
        Some(Command::Transcode(args)) => cmd::transcode::run(args, cli.quiet),
        Some(Command::Retarget(args)) => cmd::retarget::run(args, cli.quiet),
        Some(Command::Detect(args)) => cmd::detect::run(args, cli.quiet),
        Some(Command::Render(args)) => cmd::render::run(args, cli.quiet),
        Some(Command::Animate(args)) => cmd::animate::run(args, cli.quiet),
        Some(Command::Match(args)) => cmd::match_cmd::run(args, cli.quiet),
        Some(Command::Live(args)) => cmd::live::run(args),
        Some(Command::EvalMatch(args)) => cmd::eval_match::run(args, cli.quiet),
        Some(Command::ContactSheet(args)) => cmd::contact_sheet::run(args, cli.quiet),
        Some(Command::Cartoons(args)) => cmd::cartoons::run(args),
        Some(Command::Weights(args)) => cmd::weights::run(args, cli.quiet),
        Some(Command::Gui(args)) => run_gui(args),
        None => run_gui(&GuiArgs::default()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_gui(args: &GuiArgs) -> anyhow::Result<()> {
    use faceshot::gui::app::{FileKind, classify};
    let mut options = faceshot::gui::LaunchOptions {
        load_sample: !args.no_sample && args.files.is_empty(),
        prefs: faceshot::gui::prefs::Prefs::default_path(),
        models_dir: faceshot_dift::hub::default_dir(faceshot_dift::hub::Hub::from_env().repo()),
        ..Default::default()
    };
    for f in &args.files {
        let slot = match classify(f) {
            FileKind::Project => &mut options.project,
            FileKind::Picture => &mut options.character,
            FileKind::Video => &mut options.driving,
            FileKind::Track => &mut options.track,
            FileKind::Face | FileKind::Unknown => {
                anyhow::bail!(
                    "{}: open a project, a picture, a video or a track file",
                    f.display()
                )
            }
        };
        *slot = Some(f.clone());
    }
    faceshot::gui::run(options)
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("FACESHOT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
