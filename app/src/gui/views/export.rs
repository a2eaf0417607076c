//! The export dialog: MP4 (with or without the driver's audio), GIF (size, fps), PNG sequence,
//! and the character's landmark track as JSON or `.npy`.

use super::context::ViewContext;
use crate::gui::command::UiCommand;
use crate::gui::dialogs::DialogPurpose;
use crate::gui::jobs::ExportKind;
use crate::gui::worker::JobId;
use eframe::egui::{self, Color32, RichText};
use faceshot_core::media::ExportOptions;
use std::path::PathBuf;

/// Output kinds offered in the dialog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportChoice {
    /// H.264 MP4.
    Mp4,
    /// Looping GIF.
    Gif,
    /// Folder of PNG frames.
    PngSequence,
    /// Landmark track as JSON.
    LandmarksJson,
    /// Landmark track as `.npy` (T × 68 × 2 float32).
    LandmarksNpy,
}

impl ExportChoice {
    /// Every choice, in display order.
    pub const ALL: [ExportChoice; 5] = [
        ExportChoice::Mp4,
        ExportChoice::Gif,
        ExportChoice::PngSequence,
        ExportChoice::LandmarksJson,
        ExportChoice::LandmarksNpy,
    ];

    /// Label in the dialog.
    pub fn label(self) -> &'static str {
        match self {
            ExportChoice::Mp4 => "MP4 video",
            ExportChoice::Gif => "GIF",
            ExportChoice::PngSequence => "PNG sequence (folder)",
            ExportChoice::LandmarksJson => "Landmarks (JSON)",
            ExportChoice::LandmarksNpy => "Landmarks (.npy)",
        }
    }

    /// File extension the path gets (none for a folder).
    pub fn extension(self) -> Option<&'static str> {
        match self {
            ExportChoice::Mp4 => Some("mp4"),
            ExportChoice::Gif => Some("gif"),
            ExportChoice::PngSequence => None,
            ExportChoice::LandmarksJson => Some("json"),
            ExportChoice::LandmarksNpy => Some("npy"),
        }
    }

    /// Video or landmarks.
    pub fn kind(self) -> ExportKind {
        match self {
            ExportChoice::Mp4 | ExportChoice::Gif | ExportChoice::PngSequence => ExportKind::Video,
            ExportChoice::LandmarksJson | ExportChoice::LandmarksNpy => ExportKind::Landmarks,
        }
    }
}

/// Export dialog state.
#[derive(Clone, Debug)]
pub struct ExportDialog {
    /// Whether the dialog shows.
    pub open: bool,
    /// Output kind.
    pub choice: ExportChoice,
    /// Target path as typed.
    pub path: String,
    /// MP4: copy the driving video's audio.
    pub audio: bool,
    /// MP4 quality 0–100.
    pub quality: u8,
    /// GIF: largest side in pixels.
    pub gif_side: u32,
    /// GIF: frame rate cap.
    pub gif_fps: f64,
    /// The export job running, if any.
    pub running: Option<JobId>,
    /// Where the last export went.
    pub last_output: Option<PathBuf>,
}

impl Default for ExportDialog {
    fn default() -> Self {
        Self {
            open: false,
            choice: ExportChoice::Mp4,
            path: String::new(),
            audio: true,
            quality: 80,
            gif_side: 384,
            gif_fps: 15.0,
            running: None,
            last_output: None,
        }
    }
}

impl ExportDialog {
    /// Video or landmarks.
    pub fn kind(&self) -> ExportKind {
        self.choice.kind()
    }

    /// Whether the driver's audio goes into the MP4.
    pub fn include_audio(&self) -> bool {
        self.choice == ExportChoice::Mp4 && self.audio
    }

    /// Take a path chosen in a file dialog.
    pub fn set_path(&mut self, path: PathBuf) {
        self.path = path.display().to_string();
    }

    /// The target path with the choice's extension (or none, for a PNG folder).
    pub fn final_path(&self) -> Option<PathBuf> {
        let text = self.path.trim();
        if text.is_empty() {
            return None;
        }
        let p = PathBuf::from(text);
        Some(match self.choice.extension() {
            Some(ext) if !p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext)) => {
                let mut s = p.into_os_string();
                s.push(".");
                s.push(ext);
                PathBuf::from(s)
            }
            Some(_) => p,
            None => p.with_extension(""),
        })
    }

    /// Core export options for frames at `fps`.
    pub fn options(&self, fps: f64, audio_from: Option<PathBuf>) -> ExportOptions {
        ExportOptions {
            fps,
            quality: self.quality,
            audio_from,
            gif_max_side: (self.choice == ExportChoice::Gif).then_some(self.gif_side),
            gif_max_fps: (self.choice == ExportChoice::Gif).then_some(self.gif_fps),
            ..ExportOptions::default()
        }
    }
}

/// The export window.
pub fn export_window(cx: &mut ViewContext<'_>, ctx: &egui::Context) {
    let mut open = cx.view.export.open;
    egui::Window::new("Export")
        .open(&mut open)
        .resizable(false)
        .collapsible(false)
        .default_width(380.0)
        .show(ctx, |ui| {
            ui.label("Output");
            for c in ExportChoice::ALL {
                ui.radio_value(&mut cx.view.export.choice, c, c.label());
            }
            ui.separator();
            match cx.view.export.choice {
                ExportChoice::Mp4 => {
                    let has_audio = cx
                        .doc
                        .driving
                        .as_ref()
                        .is_some_and(|d| d.info.audio_codec.is_some());
                    ui.add_enabled(
                        has_audio,
                        egui::Checkbox::new(&mut cx.view.export.audio, "Include the driving video's audio"),
                    )
                    .on_disabled_hover_text("The driving video has no audio track");
                    ui.add(egui::Slider::new(&mut cx.view.export.quality, 10..=100).text("quality"));
                }
                ExportChoice::Gif => {
                    ui.add(egui::Slider::new(&mut cx.view.export.gif_side, 64..=1024).text("largest side (px)"));
                    ui.add(egui::Slider::new(&mut cx.view.export.gif_fps, 5.0..=50.0).text("frames per second"));
                }
                ExportChoice::PngSequence => {
                    ui.label(RichText::new("Numbered RGBA PNG frames in a new folder.").small());
                }
                ExportChoice::LandmarksJson | ExportChoice::LandmarksNpy => {
                    ui.label(
                        RichText::new(
                            "The character's retargeted landmarks per frame, for other landmark-driven renderers.",
                        )
                        .small(),
                    );
                }
            }
            ui.separator();
            ui.horizontal(|ui| {
                ui.label("Save to");
                ui.add(
                    egui::TextEdit::singleline(&mut cx.view.export.path)
                        .desired_width(220.0)
                        .hint_text("path"),
                )
                .labelled_by(ui.label("").id);
                if ui.button("Browse…").clicked() {
                    cx.open_dialog(DialogPurpose::ExportTarget);
                }
            });
            if let Some(p) = cx.view.export.final_path() {
                ui.label(RichText::new(format!("-> {}", p.display())).small().weak());
            }
            let ready = cx.export_readiness(cx.view.export.kind());
            if let Err(why) = &ready {
                ui.label(RichText::new(format!("Not ready: {why}")).small().color(Color32::from_rgb(255, 200, 90)));
            }
            let busy = cx.view.export.running.is_some();
            ui.horizontal(|ui| {
                let can = ready.is_ok() && !busy && cx.view.export.final_path().is_some();
                if ui.add_enabled(can, egui::Button::new("Export")).clicked() {
                    cx.send(UiCommand::StartExport);
                }
                if busy {
                    ui.spinner();
                    ui.label("exporting…");
                }
            });
            if let Some(p) = &cx.view.export.last_output {
                ui.label(RichText::new(format!("Last export: {}", p.display())).small());
            }
        });
    cx.view.export.open = open;
}
