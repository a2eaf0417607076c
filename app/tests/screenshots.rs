//! Screenshots of the main window states, rendered on the CPU (wgpu on Mesa lavapipe or
//! llvmpipe) and compared with the images in `screenshots/` (shown in the README).
//!
//! Regenerate them with `UPDATE_SNAPSHOTS=1 WGPU_BACKEND=vulkan cargo test -p faceshot --test
//! screenshots` (see the README).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{SIZE, settle};
use eframe::egui::Pos2;
use egui_kittest::{Harness, SnapshotOptions};
use faceshot::gui::FaceShotApp;
use std::path::{Path, PathBuf};

fn screenshots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("screenshots")
}

fn options() -> SnapshotOptions {
    // Small tolerance: text anti-aliasing differs by a few pixels between Mesa drivers.
    SnapshotOptions::new()
        .output_path(screenshots_dir())
        .threshold(1.5)
        .max_failed_pixels(1500)
}

fn point(h: &Harness<'static, FaceShotApp>, i: usize) -> Pos2 {
    let points = h.state().doc.rig.as_ref().expect("rig").face.points;
    h.state().view.canvas.screen_pos(&points, i).expect("drawn")
}

#[test]
fn main_window_states() {
    // The shipped sample, as a new user sees it: the astronaut and the sample clip with its
    // shipped landmarks (a file, so the pictures do not depend on float details of tracking).
    let mut h = Harness::builder()
        .with_size(SIZE)
        .with_accessibility_check(false)
        .wgpu()
        .build_eframe(move |cc| FaceShotApp::new(&cc.egui_ctx, &common::sample_launch()));
    settle(&mut h);
    assert!(
        h.state().doc.driving_track.is_some(),
        "the sample clip has no landmarks"
    );
    h.state_mut().seek(18);
    // Zoom to the face on the settled layout: the first fit happens while the sample still
    // loads, when the jobs list may change the canvas's size, and would depend on timing.
    h.state_mut().view.canvas.fit_face();
    settle(&mut h);
    h.snapshot_options("main_window", &options());

    // Select the jaw: the part's box with its rotate and scale handles.
    let a = point(&h, 3);
    let b = point(&h, 4);
    let on_contour = a + (b - a) * 0.5;
    h.hover_at(on_contour);
    h.step();
    h.drag_at(on_contour);
    h.step();
    h.drop_at(on_contour);
    h.step();
    h.remove_cursor();
    settle(&mut h);
    assert!(h.state().view.selected_part.is_some());
    h.snapshot_options("part_selected", &options());

    h.state_mut().view.export.open = true;
    h.state_mut().view.export.path = "talk.mp4".into();
    settle(&mut h);
    h.snapshot_options("export_dialog", &options());
}
