//! `faceshot eval-match DIR`: NME and failure rate of the matcher over images with ground truth.

use super::match_cmd::BackendArgs;
use crate::progress_bar::BarProgress;
use anyhow::{Result, bail};
use clap::Args;
use faceshot_core::matching::eval::{EvalSummary, FAILURE_NME, find_items, nme, read_ground_truth};
use faceshot_core::matching::match_face;
use faceshot_core::media::load_image;
use faceshot_core::progress::{NoProgress, Progress};
use std::path::PathBuf;

/// Arguments of `faceshot eval-match`.
#[derive(Args, Debug)]
pub struct EvalMatchArgs {
    /// Folder of images, each with a landmark file of the same stem (.pts, .txt or .json).
    pub dir: PathBuf,
    #[command(flatten)]
    pub backend: BackendArgs,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Evaluate and print per-image NME, the mean and the failure rate.
pub fn run(args: &EvalMatchArgs, quiet: bool) -> Result<()> {
    let items = find_items(&args.dir)?;
    if items.is_empty() {
        bail!(
            "{}: no images with ground-truth landmarks (.pts, .txt, .json)",
            args.dir.display()
        );
    }
    let opts = args.backend.options()?;
    let bar = BarProgress::new(Some(items.len() as u64), quiet);
    let mut summary = EvalSummary::default();
    let mut used = None;
    for (k, item) in items.iter().enumerate() {
        bar.update("eval-match", k as u64, Some(items.len() as u64));
        if bar.cancelled() {
            bail!("cancelled");
        }
        let name = item
            .image
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let truth = read_ground_truth(&item.truth)?;
        let image = load_image(&item.image)?;
        let err = match match_face(&image, &opts, &NoProgress) {
            Ok(r) => {
                used = Some(r.backend);
                nme(&r.face.points, &truth)
            }
            Err(e) => {
                tracing::warn!("{name}: {e}");
                None
            }
        };
        summary.per_image.push((name, err));
    }
    bar.finish();
    let backend = used.map_or("none", |b| b.name());
    if args.json {
        let per: Vec<serde_json::Value> = summary
            .per_image
            .iter()
            .map(|(n, e)| serde_json::json!({"image": n, "nme": e}))
            .collect();
        let out = serde_json::json!({
            "dir": args.dir.display().to_string(),
            "backend": backend,
            "images": summary.per_image.len(),
            "mean_nme": summary.mean_nme(),
            "failure_rate": summary.failure_rate(),
            "failure_threshold": FAILURE_NME,
            "per_image": per,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for (n, e) in &summary.per_image {
            match e {
                Some(v) => println!("{n:<40} {v:.4}"),
                None => println!("{n:<40} failed"),
            }
        }
        println!(
            "{} images, backend {backend}: mean NME {} (outer-eye-corner normalised), \
             failure rate {:.1}% (NME > {FAILURE_NME})",
            summary.per_image.len(),
            summary
                .mean_nme()
                .map_or("n/a".to_string(), |v| format!("{v:.4}")),
            100.0 * summary.failure_rate()
        );
    }
    Ok(())
}
