//! Prints the tracker's eye-refined 468-point mesh for still images, one JSON object per line:
//! `{"image": PATH, "mesh": [[x, y], …]}` (`"mesh": null` when no face is found).
//! Used by `tools/fit_mesh68.py`. Usage: `cargo run --example dump_mesh -- IMAGE…`

use faceshot_core::track::Tracker;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut tracker = Tracker::with_defaults()?;
    for path in std::env::args().skip(1) {
        let img = image::open(&path)?.to_rgb8();
        let mesh = tracker
            .process_still(&img)?
            .map(|f| f.mesh.iter().map(|p| [p[0], p[1]]).collect::<Vec<_>>());
        println!("{}", serde_json::json!({ "image": path, "mesh": mesh }));
    }
    Ok(())
}
