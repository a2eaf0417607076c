//! `faceshot cartoons OUTDIR`: generate cartoon characters with exact landmarks.

use anyhow::{Result, bail};
use clap::Args;
use faceshot_core::cartoon::Cartoon;
use faceshot_core::media::save_png;
use std::path::PathBuf;

/// Arguments of `faceshot cartoons`.
#[derive(Args, Debug)]
pub struct CartoonsArgs {
    /// Output folder (created); writes cartoon_SEED.png and cartoon_SEED.json.
    pub out_dir: PathBuf,
    /// How many characters.
    #[arg(long, default_value_t = 20)]
    pub count: u64,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Image side in pixels.
    #[arg(long, default_value_t = 256)]
    pub size: u32,
    /// Turn each head by a random yaw of up to this many degrees either way (0: frontal).
    #[arg(long, default_value_t = 0.0)]
    pub yaw: f32,
}

/// Generate and write the set.
pub fn run(args: &CartoonsArgs) -> Result<()> {
    if !(32..=4096).contains(&args.size) {
        bail!("--size must be 32..4096");
    }
    if !(0.0..=60.0).contains(&args.yaw) {
        bail!("--yaw must be 0..60 degrees");
    }
    std::fs::create_dir_all(&args.out_dir)?;
    for s in args.seed..args.seed + args.count {
        let c = if args.yaw > 0.0 {
            Cartoon::generate_turned(s, args.size, args.yaw.to_radians())
        } else {
            Cartoon::generate(s, args.size)
        };
        save_png(&c.image, &args.out_dir.join(format!("cartoon_{s:05}.png")))?;
        c.face
            .save(&args.out_dir.join(format!("cartoon_{s:05}.json")))?;
    }
    println!(
        "{} cartoons written to {}",
        args.count,
        args.out_dir.display()
    );
    Ok(())
}
