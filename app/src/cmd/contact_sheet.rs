//! `faceshot contact-sheet PICTURES... -o sheet.png`: match many characters and review them at
//! a glance: one numbered tile per picture with its landmarks drawn (points red to green by
//! confidence), and a table of the numbers, files, backends and notes on stdout.

use super::match_cmd::BackendArgs;
use crate::overlay::{draw_matched, draw_number};
use crate::progress_bar::BarProgress;
use anyhow::{Context, Result, bail};
use clap::Args;
use faceshot_core::atomic::AtomicFile;
use faceshot_core::matching::{MatchOptions, match_face, on_white, points_to_check};
use faceshot_core::media::{load_image, save_png};
use faceshot_core::progress::{NoProgress, Progress};
use image::{Rgba, RgbaImage, imageops};
use std::path::{Path, PathBuf};

/// Arguments of `faceshot contact-sheet`.
#[derive(Args, Debug)]
pub struct ContactSheetArgs {
    /// Character pictures, or folders of them (png, jpg, jpeg, webp, gif; sorted by name).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The sheet to write: PNG, or JPEG (quality 88) when the name ends in .jpg or .jpeg.
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub backend: BackendArgs,
    /// Side of each tile in pixels (32–1024).
    #[arg(long, default_value_t = 192, value_parser = clap::value_parser!(u32).range(32..=1024))]
    pub tile: u32,
    /// Tiles per row (1–64).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub columns: u32,
}

const PICTURE_EXTENSIONS: [&str; 5] = ["png", "jpg", "jpeg", "webp", "gif"];

/// The pictures named: files as given, folders expanded to their pictures sorted by name.
fn pictures(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .with_context(|| format!("reading {}", input.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                            PICTURE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str())
                        })
                })
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(input.clone());
        }
    }
    if out.is_empty() {
        bail!("no pictures (png, jpg, jpeg, webp, gif) in the inputs");
    }
    Ok(out)
}

/// The matched picture drawn on a `side`² tile: fitted inside it on grey, numbered `n`.
fn tile(overlay: &RgbaImage, side: u32, n: usize) -> RgbaImage {
    let (w, h) = overlay.dimensions();
    let scale = side as f32 / w.max(h).max(1) as f32;
    let (tw, th) = (
        ((w as f32 * scale).round() as u32).clamp(1, side),
        ((h as f32 * scale).round() as u32).clamp(1, side),
    );
    let small = imageops::resize(overlay, tw, th, imageops::FilterType::Triangle);
    let mut out = RgbaImage::from_pixel(side, side, Rgba([64, 64, 64, 255]));
    imageops::overlay(
        &mut out,
        &small,
        i64::from((side - tw) / 2),
        i64::from((side - th) / 2),
    );
    draw_number(&mut out, n, 4, 4, (side / 96).max(2));
    out
}

/// A picture with transparency on white (how the matcher sees it), opaque.
fn opaque(image: &RgbaImage) -> RgbaImage {
    image::DynamicImage::ImageRgb8(on_white(image)).to_rgba8()
}

/// One picture matched: the picture with its landmarks drawn, and the table's backend, points
/// to check and note. A picture that cannot be read gets an empty tile and its reason, so the
/// sheet goes on with the others.
fn reviewed(file: &Path, opts: &MatchOptions) -> (RgbaImage, String, usize, String) {
    let image = match load_image(file) {
        Ok(image) => image,
        Err(e) => return (RgbaImage::new(1, 1), "unreadable".into(), 68, e.to_string()),
    };
    match match_face(&image, opts, &NoProgress) {
        Ok(r) if !r.placeholder => (
            draw_matched(&opaque(&image), &r.face),
            r.backend.name().into(),
            points_to_check(&r.face),
            r.note,
        ),
        Ok(_) => (opaque(&image), "none".into(), 68, "no face found".into()),
        Err(e) => (opaque(&image), "failed".into(), 68, e.to_string()),
    }
}

fn name_of(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Match every picture, write the sheet, print the table.
pub fn run(args: &ContactSheetArgs, quiet: bool) -> Result<()> {
    let files = pictures(&args.inputs)?;
    let inputs: Vec<(&str, &Path)> = files
        .iter()
        .map(|f| ("an input picture", f.as_path()))
        .collect();
    super::check_paths(&inputs, &[("-o", args.output.as_path())])?;
    let opts = args.backend.options(true, quiet)?;
    let columns = args.columns.min(files.len() as u32).max(1);
    let rows = (files.len() as u32).div_ceil(columns);
    let side = args.tile;
    let mut sheet = RgbaImage::from_pixel(columns * side, rows * side, Rgba([32, 32, 32, 255]));
    let bar = BarProgress::new(Some(files.len() as u64), quiet);
    let mut table = vec![
        "| # | picture | backend | points to check | note |".to_string(),
        "|---|---|---|---|---|".to_string(),
    ];
    for (k, file) in files.iter().enumerate() {
        bar.update("contact sheet", k as u64, Some(files.len() as u64));
        if bar.cancelled() {
            bail!("cancelled");
        }
        let n = k + 1;
        let name = name_of(file);
        let (drawn, backend, to_check, note) = reviewed(file, &opts);
        let row = format!(
            "| {n} | {name} | {backend} | {to_check} | {} |",
            note.replace('|', "/")
        );
        let t = tile(&drawn, side, n);
        let (x, y) = ((k as u32 % columns) * side, (k as u32 / columns) * side);
        imageops::replace(&mut sheet, &t, i64::from(x), i64::from(y));
        table.push(row);
    }
    bar.finish();
    let jpeg = args
        .output
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg"));
    if jpeg {
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 88)
            .encode_image(&image::DynamicImage::ImageRgba8(sheet).to_rgb8())
            .context("encoding the sheet as JPEG")?;
        AtomicFile::with_contents(&args.output, &bytes)
            .and_then(AtomicFile::commit)
            .with_context(|| format!("writing {}", args.output.display()))?;
    } else {
        save_png(&sheet, &args.output)?;
    }
    println!("{}", table.join("\n"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_expand_to_their_pictures_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.png", "a.JPG", "notes.txt", "c.webp"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let got = pictures(&[dir.path().to_path_buf()]).unwrap();
        let names: Vec<String> = got.iter().map(|p| name_of(p)).collect();
        assert_eq!(names, ["a.JPG", "b.png", "c.webp"]);
        let empty = tempfile::tempdir().unwrap();
        assert!(pictures(&[empty.path().to_path_buf()]).is_err());
    }

    #[test]
    fn a_tile_fits_the_picture_and_keeps_its_aspect() {
        let wide = RgbaImage::from_pixel(200, 100, Rgba([250, 0, 0, 255]));
        let t = tile(&wide, 64, 1);
        assert_eq!(t.dimensions(), (64, 64));
        // Red inside the fitted band (rows 16..48), grey above and below it.
        assert_eq!(t.get_pixel(40, 32).0, [250, 0, 0, 255]);
        assert_eq!(t.get_pixel(40, 5).0, [64, 64, 64, 255]);
        assert_eq!(t.get_pixel(40, 60).0, [64, 64, 64, 255]);
    }
}
