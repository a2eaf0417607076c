//! `faceshot match IMG -o char.json`: find a character's 68 landmarks.

use crate::overlay::draw_matched;
use crate::progress_bar::BarProgress;
use anyhow::{Context, Result, bail};
use clap::Args;
use faceshot_core::atomic::AtomicFile;
use faceshot_core::landmarks::Point;
use faceshot_core::matching::{Backend, MIN_REGION_SIDE, MatchOptions, Region, match_face};
use faceshot_core::media::{load_image, save_png};
use faceshot_dift::{DiftOptions, Inversion, diffusion_for};
use std::path::PathBuf;

/// DIFT and backend options shared by `match` and `eval-match`.
#[derive(Args, Debug, Clone)]
pub struct BackendArgs {
    /// Matcher: auto (DIFT when --weights holds SD-2.1, else the face mesh for human-like
    /// faces and the learned network for the rest, its doubtful points flagged; "no face found"
    /// where nothing looks like one), learned (the project's network for stylized faces), mesh,
    /// structural, dift.
    #[arg(long, default_value = "auto")]
    pub backend: String,
    /// Diffusers-format Stable Diffusion 2.1 folder (for dift).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Download SD-2.1 from the Hugging Face hub when --weights is not given and no earlier
    /// download is found (for dift; resumable, SHA-256 checked).
    #[arg(long)]
    pub download: bool,
    /// DIFT feature timestep (0–999).
    #[arg(long, default_value_t = 301, value_parser = clap::value_parser!(u16).range(0..1000))]
    pub timestep: u16,
    /// DDIM schedule length for the inversion, 1–1000 (50 as in the official code; 10 is ~3x
    /// faster).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub inversion_steps: u16,
    /// Use the original DIFT's noise ensemble of this size (1–64) instead of DDIM inversion.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=64))]
    pub noise_ensemble: Option<u8>,
    /// Appearance gallery folder (NAME.png + NAME.json); default: the built-in gallery.
    #[arg(long)]
    pub gallery: Option<PathBuf>,
    /// Folder for cached gallery features (default: ~/.cache/faceshot/gallery-features).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
}

impl BackendArgs {
    /// Build the core options; `features` says whether the match needs the diffusion
    /// features at all (not with anchors). A weights download shows a bar in bytes.
    pub fn options(&self, features: bool, quiet: bool) -> Result<MatchOptions> {
        let backend: Backend = self.backend.parse()?;
        let inversion = match self.noise_ensemble {
            Some(n) => Inversion::Noise {
                ensemble: usize::from(n),
                seed: 42,
            },
            None => Inversion::Ddim {
                steps: usize::from(self.inversion_steps),
            },
        };
        let dift = DiftOptions {
            timestep: usize::from(self.timestep),
            inversion,
            ..DiftOptions::default()
        };
        let diffusion = if features {
            let bar = BarProgress::bytes(quiet);
            let diffusion = diffusion_for(
                backend,
                self.weights.as_deref(),
                self.download,
                &dift,
                self.cache_dir.clone(),
                &bar,
            );
            bar.finish();
            diffusion?
        } else {
            None
        };
        Ok(MatchOptions {
            backend,
            diffusion,
            anchors: None,
            cache_dir: self.cache_dir.clone(),
            gallery: self.gallery.clone(),
            region: None,
        })
    }
}

/// Arguments of `faceshot match`.
#[derive(Args, Debug)]
pub struct MatchArgs {
    /// The character image (png, jpg, webp, gif).
    pub image: PathBuf,
    /// Where to write the landmarks (FaceShot face JSON).
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub backend: BackendArgs,
    /// 3-5 clicked anchors "x,y;x,y;...": eyes (image-left, image-right), then nose tip
    /// (3 anchors), or mouth corners (4), or nose tip and mouth corners (5).
    #[arg(long)]
    pub anchors: Option<String>,
    /// Match the face inside this box, "x,y,width,height" in pixels (a picture with several
    /// faces, or a face the matcher misses in the whole picture).
    #[arg(long, value_name = "X,Y,W,H")]
    pub face_box: Option<String>,
    /// Also write the image with the landmarks drawn on it (PNG).
    #[arg(long)]
    pub overlay: Option<PathBuf>,
}

/// Parse "x,y;x,y;..." into points.
pub fn parse_anchors(text: &str) -> Result<Vec<Point>> {
    let mut out = Vec::new();
    for pair in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let (x, y) = pair
            .split_once(',')
            .with_context(|| format!("anchor \"{pair}\" is not x,y"))?;
        let x: f32 = x
            .trim()
            .parse()
            .with_context(|| format!("anchor \"{pair}\""))?;
        let y: f32 = y
            .trim()
            .parse()
            .with_context(|| format!("anchor \"{pair}\""))?;
        if !x.is_finite() || !y.is_finite() {
            bail!("anchor \"{pair}\" is not finite");
        }
        out.push(Point::new(x, y));
    }
    if !(3..=5).contains(&out.len()) {
        bail!("{} anchors given; give 3, 4 or 5", out.len());
    }
    Ok(out)
}

/// Anchors must lie on the picture and the two eyes must be apart.
fn check_anchors(anchors: &[Point], width: u32, height: u32) -> Result<()> {
    let (w, h) = (width as f32, height as f32);
    for p in anchors {
        if !(0.0..=w).contains(&p.x) || !(0.0..=h).contains(&p.y) {
            bail!(
                "anchor {},{} lies outside the {width}x{height} picture",
                p.x,
                p.y
            );
        }
    }
    if let [left, right, ..] = anchors
        && left.distance(*right) < 2.0
    {
        bail!("the two eye anchors coincide; click each eye's centre");
    }
    Ok(())
}

/// Run the matcher and save the face (and overlay).
pub fn run(args: &MatchArgs, quiet: bool) -> Result<()> {
    let mut outputs = vec![("-o", args.output.as_path())];
    if let Some(overlay) = &args.overlay {
        outputs.push(("--overlay", overlay.as_path()));
    }
    super::check_paths(&[("the input picture", &args.image)], &outputs)?;
    let image = load_image(&args.image)?;
    let anchors = match &args.anchors {
        Some(a) => {
            let anchors = parse_anchors(a)?;
            check_anchors(&anchors, image.width(), image.height())?;
            Some(anchors)
        }
        None => None,
    };
    let region = match &args.face_box {
        Some(b) => {
            let region: Region = b.parse()?;
            if region.crop_in(image.width(), image.height()).is_none() {
                bail!(
                    "--face-box {b} keeps less than {MIN_REGION_SIDE}×{MIN_REGION_SIDE} pixels of \
                     the {}x{} picture",
                    image.width(),
                    image.height()
                );
            }
            Some(region)
        }
        None => None,
    };
    if region.is_some() && anchors.is_some() {
        bail!("--face-box and --anchors both place the face; give one");
    }
    let mut opts = args.backend.options(anchors.is_none(), quiet)?;
    opts.anchors = anchors;
    opts.region = region;
    let bar = BarProgress::new(None, quiet);
    let result = match_face(&image, &opts, &bar);
    bar.finish();
    let result = result.with_context(|| format!("matching {}", args.image.display()))?;
    if result.placeholder {
        bail!(
            "{}: no face found; place the points with --anchors (eyes, nose tip) or in the app",
            args.image.display()
        );
    }
    // Never write a face file that faceshot would refuse to load.
    result
        .face
        .validate(&args.image.display().to_string())
        .with_context(|| format!("matching {}", args.image.display()))?;
    // The face file is published only once the overlay is written too.
    let staged = AtomicFile::with_contents(&args.output, result.face.to_json().as_bytes())
        .with_context(|| format!("writing {}", args.output.display()))?;
    if let Some(o) = &args.overlay {
        save_png(&draw_matched(&image, &result.face), o)?;
    }
    staged
        .commit()
        .with_context(|| format!("writing {}", args.output.display()))?;
    let mean_conf = result.face.confidence.iter().sum::<f32>() / 68.0;
    let weak = faceshot_core::matching::points_to_check(&result.face);
    if !quiet {
        eprintln!(
            "{}: {} (mean confidence {mean_conf:.2}, {weak} points to check) -> {}",
            args.image.display(),
            result.note,
            args.output.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_parse_and_refuse_bad_input() {
        let a = parse_anchors("10,20; 30.5,20;25,40").unwrap();
        assert_eq!(a[1], Point::new(30.5, 20.0));
        assert!(parse_anchors("1,2;3,4").is_err());
        assert!(parse_anchors("1,2;3;4,5").is_err());
        assert!(parse_anchors("a,2;3,4;5,6").is_err());
    }

    #[test]
    fn anchors_off_the_picture_or_on_one_spot_are_refused() {
        let on = parse_anchors("10,20;30,20;20,40").unwrap();
        assert!(check_anchors(&on, 64, 64).is_ok());
        let same = parse_anchors("10,10;10,10;10,10").unwrap();
        assert!(check_anchors(&same, 64, 64).is_err());
        let far = parse_anchors("1e9,1e9;30,20;20,40").unwrap();
        let err = check_anchors(&far, 64, 64).unwrap_err().to_string();
        assert!(err.contains("outside the 64x64 picture"), "{err}");
    }
}
