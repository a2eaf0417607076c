//! The desktop app (eframe / egui, wgpu renderer).
//!
//! - [`state`]: the document (inputs, edited landmarks, settings) with undo/redo;
//! - [`worker`] and [`jobs`]: the background thread that owns the pipeline;
//! - [`pipeline`]: which core stages this build has;
//! - [`views`]: the window's areas, which read a [`views::ViewContext`] and send
//!   [`command::UiCommand`]s; [`app`]: the eframe app tying them together, which applies them;
//! - [`status`]: jobs in flight, notices, the preview frame and timing;
//! - [`edit`], [`motion`], [`project`], [`settings`], [`dialogs`]: helpers.

pub mod app;
pub mod command;
pub mod dialogs;
pub mod edit;
pub mod jobs;
pub mod live;
pub mod motion;
pub mod pipeline;
pub mod prefs;
pub mod project;
pub mod settings;
pub mod state;
pub mod status;
pub mod views;
pub mod worker;

pub use app::{FaceShotApp, LaunchOptions};

/// Open the window and run until it closes.
pub fn run(options: LaunchOptions) -> anyhow::Result<()> {
    let native = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("FaceShot")
            .with_app_id("faceshot")
            .with_inner_size([1280.0, 820.0])
            .with_min_inner_size([800.0, 560.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "FaceShot",
        native,
        Box::new(move |cc| Ok(Box::new(FaceShotApp::new(&cc.egui_ctx, &options)))),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
