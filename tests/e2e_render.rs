//! End-to-end: `faceshot render` on a procedurally drawn cartoon and a synthetic track.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cli.rs"]
mod cli;

use cli::{assert_clean_failure, faceshot, s};

#[path = "support/character.rs"]
mod character;

use character::character as fixture;

use faceshot_core::landmarks::{Face, ImageSize, Point, Track};
use faceshot_core::media::save_png;
use image::RgbaImage;

#[test]
fn render_writes_gif_and_png_frames_with_alpha() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fixture(d);
    let (png, json, trk) = (
        d.join("char.png"),
        d.join("char.json"),
        d.join("track.json"),
    );
    let base = [
        "render",
        "--character",
        s(&png),
        "--landmarks",
        s(&json),
        "--track",
        s(&trk),
    ];
    let gif = d.join("out.gif");
    let o = faceshot(&[&base[..], &["-o", s(&gif)]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::metadata(&gif).unwrap().len() > 1000);
    let frames = d.join("frames");
    let o = faceshot(&[&base[..], &["-o", &format!("{}/", s(&frames))]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut pngs: Vec<_> = std::fs::read_dir(&frames)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pngs.sort();
    assert_eq!(pngs.len(), 8);
    let first = image::open(&pngs[0]).unwrap().to_rgba8();
    let last: RgbaImage = image::open(&pngs[7]).unwrap().to_rgba8();
    let original = image::open(d.join("char.png")).unwrap().to_rgba8();
    // Frame 0 is the rest pose: the picture itself. The last frame moved, kept its transparent
    // corners, and has a dark open mouth between the inner lips.
    assert_eq!(first, original);
    assert_ne!(last, original);
    assert_eq!(last.get_pixel(0, 0)[3], 0);
    let track = Track::load(&d.join("track.json"), None).unwrap();
    let m: Point = track.frames[7][62].lerp(track.frames[7][66], 0.5);
    let px = last.get_pixel(m.x as u32, m.y as u32);
    assert!(px[0] < 120 && px[1] < 80, "{px:?}");
}

#[test]
fn render_refuses_mismatched_and_oversized_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fixture(d);
    // Landmarks recorded for another image size.
    let mut face = Face::load(&d.join("char.json")).unwrap();
    face.image = Some(ImageSize {
        width: 640,
        height: 480,
    });
    face.save(&d.join("other.json")).unwrap();
    let out = d.join("out.gif");
    let o = faceshot(&[
        "render",
        "--character",
        s(&d.join("char.png")),
        "--landmarks",
        s(&d.join("other.json")),
        "--track",
        s(&d.join("track.json")),
        "-o",
        s(&out),
    ]);
    assert_clean_failure(&o, "640x480");
    assert!(!out.exists());
    // A picture over 2048 px a side.
    save_png(&RgbaImage::new(2100, 16), &d.join("wide.png")).unwrap();
    let o = faceshot(&[
        "render",
        "--character",
        s(&d.join("wide.png")),
        "--landmarks",
        s(&d.join("char.json")),
        "--track",
        s(&d.join("track.json")),
        "-o",
        s(&out),
    ]);
    assert_clean_failure(&o, "2048");
    assert!(!out.exists());
}
