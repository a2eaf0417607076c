//! `faceshot eval-match DIR`: NME and failure rate of the matcher over images with ground truth.

use super::match_cmd::BackendArgs;
use crate::progress_bar::BarProgress;
use anyhow::{Result, bail};
use clap::Args;
use faceshot_core::matching::eval::{
    EvalSummary, FAILURE_NME, REGIONS, find_items, nme, nme_by_region, read_ground_truth,
};
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
    /// Also print each image's backend, time and per-region share of the NME (jaw, brows,
    /// nose, eyes, mouth; the shares add up to the NME), and the mean shares.
    #[arg(long)]
    pub parts: bool,
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
    let opts = args.backend.options(true, quiet)?;
    let bar = BarProgress::new(Some(items.len() as u64), quiet);
    let mut summary = EvalSummary::default();
    // Per image: backend, seconds, per-region shares.
    let mut details: Vec<(String, f64, Option<[f32; 5]>)> = Vec::new();
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
        let start = std::time::Instant::now();
        let result = match_face(&image, &opts, &NoProgress);
        let secs = start.elapsed().as_secs_f64();
        let err = match result {
            Ok(r) => {
                details.push((
                    r.backend.name().to_string(),
                    secs,
                    nme_by_region(&r.face.points, &truth),
                ));
                nme(&r.face.points, &truth)
            }
            Err(e) => {
                tracing::warn!("{name}: {e}");
                details.push(("failed".to_string(), secs, None));
                None
            }
        };
        summary.per_image.push((name, err));
    }
    bar.finish();
    // Which backend served how many images (`auto` picks per image).
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for (b, _, _) in &details {
        *counts.entry(b.as_str()).or_default() += 1;
    }
    let backends = counts
        .iter()
        .map(|(b, n)| format!("{b} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    if args.json {
        let per: Vec<serde_json::Value> = summary
            .per_image
            .iter()
            .map(|(n, e)| serde_json::json!({"image": n, "nme": e}))
            .collect();
        let mut out = serde_json::json!({
            "dir": args.dir.display().to_string(),
            "backends": counts,
            "images": summary.per_image.len(),
            "mean_nme": summary.mean_nme(),
            "failure_rate": summary.failure_rate(),
            "failure_threshold": FAILURE_NME,
            "per_image": per,
        });
        if args.parts {
            out["details"] = details
                .iter()
                .map(|(b, t, p)| serde_json::json!({"backend": b, "seconds": t, "regions": p}))
                .collect();
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        if args.parts {
            let names: Vec<&str> = REGIONS.iter().map(|(n, _)| *n).collect();
            println!(
                "{:<40} {:>7} {:<10} {:>6} {}",
                "image",
                "nme",
                "backend",
                "sec",
                names.iter().map(|n| format!("{n:>7}")).collect::<String>()
            );
        }
        let mut sums = [0.0f32; 5];
        let mut counted = 0usize;
        for ((n, e), (b, t, p)) in summary.per_image.iter().zip(&details) {
            let v = e.map_or("failed".to_string(), |v| format!("{v:.4}"));
            if args.parts {
                let shares = p.map_or(String::new(), |p| {
                    p.iter().map(|s| format!("{s:>7.4}")).collect::<String>()
                });
                println!("{n:<40} {v:>7} {b:<10} {t:>6.2} {shares}");
                if let Some(p) = p {
                    sums.iter_mut().zip(p).for_each(|(s, v)| *s += v);
                    counted += 1;
                }
            } else {
                println!("{n:<40} {v}");
            }
        }
        if args.parts && counted > 0 {
            let total: f64 = details.iter().map(|d| d.1).sum();
            println!(
                "{:<40} {:>7} {:<10} {:>6.2} {}",
                "mean",
                "",
                "",
                total / details.len() as f64,
                sums.iter()
                    .map(|s| format!("{:>7.4}", s / counted as f32))
                    .collect::<String>()
            );
        }
        println!(
            "{} images ({backends}): mean NME {} (outer-eye-corner normalised), \
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
