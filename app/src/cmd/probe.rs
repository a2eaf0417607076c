//! `faceshot probe VIDEO`: print a video's metadata.

use anyhow::Result;
use clap::Args;
use faceshot_core::media::VideoReader;
use std::path::PathBuf;

/// Arguments of `faceshot probe`.
#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// The video file (mp4, mov, mkv, webm, avi, gif, …).
    pub video: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Open the video and print what it is.
pub fn run(args: &ProbeArgs) -> Result<()> {
    let reader = VideoReader::open(&args.video)?;
    let info = reader.info();
    if args.json {
        println!("{}", serde_json::to_string_pretty(info)?);
        return Ok(());
    }
    println!("file:      {}", args.video.display());
    println!("container: {}", info.container);
    println!("codec:     {}", info.codec);
    println!("size:      {}x{}", info.width, info.height);
    if info.rotation != 0 {
        println!(
            "rotation:  {}° clockwise (stored as {}x{})",
            info.rotation, info.coded_width, info.coded_height
        );
    }
    println!("fps:       {:.3}", info.fps);
    println!("duration:  {:.3} s", info.duration);
    println!(
        "frames:    {}{}",
        info.frame_count,
        if info.frame_count_exact {
            ""
        } else {
            " (estimated)"
        }
    );
    println!(
        "audio:     {}",
        info.audio_codec.as_deref().unwrap_or("none")
    );
    Ok(())
}
