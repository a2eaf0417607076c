//! `faceshot weights [--download]`: where the diffusion matcher's Stable Diffusion 2.1 weights
//! are, whether they are complete, and their download.

use crate::progress_bar::BarProgress;
use anyhow::{Context, Result, bail};
use clap::Args;
use faceshot_dift::hub::{DOWNLOAD_SIZE_TEXT, Hub, default_dir};
use faceshot_dift::{download_weights, missing_weights};
use std::path::{Path, PathBuf};

/// Arguments of `faceshot weights`.
#[derive(Args, Debug)]
pub struct WeightsArgs {
    /// The folder (default: where `--download` puts them, e.g.
    /// ~/.local/share/faceshot/models/stabilityai--stable-diffusion-2-1).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Download what is missing from the Hugging Face hub (resumes a cancelled download;
    /// HF_ENDPOINT, HF_TOKEN and FACESHOT_SD_REPO are honoured).
    #[arg(long)]
    pub download: bool,
}

/// Report on the folder, downloading into it first when asked; fails when it is incomplete.
pub fn run(args: &WeightsArgs, quiet: bool) -> Result<()> {
    let hub = Hub::from_env();
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => {
            default_dir(hub.repo()).context("no default folder (HOME is not set): pass --dir")?
        }
    };
    if args.download {
        fetch_missing(&hub, &dir, quiet)?;
    }
    let missing = missing_weights(&dir);
    if !missing.is_empty() {
        bail!(
            "{}: Stable Diffusion 2.1 is incomplete, missing {}{}",
            dir.display(),
            missing.join(", "),
            if args.download {
                ""
            } else {
                " (faceshot weights --download fetches it)"
            }
        );
    }
    println!("{}: Stable Diffusion 2.1 complete", dir.display());
    Ok(())
}

/// Download into `dir` what it lacks of SD-2.1 from `hub`, with a byte progress bar.
fn fetch_missing(hub: &Hub, dir: &Path, quiet: bool) -> Result<()> {
    if missing_weights(dir).is_empty() {
        return Ok(());
    }
    if !quiet {
        eprintln!(
            "downloading {} ({DOWNLOAD_SIZE_TEXT}) into {}",
            hub.repo(),
            dir.display()
        );
    }
    let bar = BarProgress::bytes(quiet);
    let done = download_weights(hub, dir, &bar);
    bar.finish();
    done?;
    Ok(())
}
