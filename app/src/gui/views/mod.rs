//! The window's areas. Views read a [`ViewContext`], change the document only through its edit
//! methods and the view state they own, and ask the app for everything else by sending
//! [`UiCommand`]s; they never call the app or the pipeline.

pub mod canvas;
mod context;
pub mod export;
mod media;
mod panel;
mod timeline;

pub use context::{
    CurveCache, TextureCache, ViewContext, ViewState, export_readiness, reference_frame,
};

use super::command::UiCommand;
use super::dialogs::DialogPurpose;
use eframe::egui::{self, Color32, RichText};

/// Lay out one frame of the window.
pub fn layout(cx: &mut ViewContext<'_>, ui: &mut egui::Ui) {
    egui::Panel::top("menu").show(ui, |ui| menu_bar(cx, ui));
    egui::Panel::left("controls")
        .resizable(true)
        .default_size(290.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| panel::controls(cx, ui));
        });
    egui::Panel::bottom("timeline")
        .resizable(true)
        .default_size(210.0)
        .show(ui, |ui| timeline::timeline(cx, ui));
    egui::CentralPanel::default().show(ui, |ui| {
        let full = ui.available_rect_before_wrap();
        let left_w = (full.width() * 0.55).max(200.0);
        let left = egui::Rect::from_min_size(full.min, egui::vec2(left_w, full.height()));
        let right = egui::Rect::from_min_max(egui::pos2(left.max.x + 6.0, full.min.y), full.max);
        let half = right.height() * 0.5;
        let top = egui::Rect::from_min_size(right.min, egui::vec2(right.width(), half - 3.0));
        let bottom =
            egui::Rect::from_min_max(egui::pos2(right.min.x, right.min.y + half + 3.0), right.max);
        ui.scope_builder(egui::UiBuilder::new().max_rect(left), |ui| {
            area_title(ui, "Character", character_subtitle(cx));
            let texture = cx.textures.character(ui.ctx(), cx.doc);
            let mut selected = cx.view.selected_part;
            let mirror = cx.view.mirror;
            let changed = canvas::character_canvas(
                ui,
                &mut cx.view.canvas,
                cx.doc,
                texture.as_ref(),
                mirror,
                &mut selected,
            );
            cx.view.selected_part = selected;
            if changed {
                cx.edited();
            }
            if cx
                .view
                .canvas
                .anchors
                .as_ref()
                .is_some_and(|a| a.len() == canvas::ANCHOR_NAMES.len())
            {
                cx.send(UiCommand::FitToClicks);
            }
            if cx.view.canvas.face_box.as_ref().is_some_and(|b| b.done) {
                cx.send(UiCommand::MatchInBox);
            }
        });
        ui.scope_builder(egui::UiBuilder::new().max_rect(top), |ui| {
            area_title(ui, "Driving", driving_subtitle(cx));
            media::driving_view(cx, ui);
        });
        ui.scope_builder(egui::UiBuilder::new().max_rect(bottom), |ui| {
            area_title(ui, "Preview", preview_subtitle(cx));
            media::preview_view(cx, ui);
        });
    });
    export::export_window(cx, ui.ctx());
    drop_overlay(ui.ctx());
    if cx.live_running && cx.view.live_output_window {
        output_window(cx, ui.ctx());
    }
}

/// An area's title and its one-line account, cut short (full text on hover) so that it never
/// runs into the next area.
fn area_title(ui: &mut egui::Ui, title: &str, subtitle: String) {
    ui.horizontal(|ui| {
        ui.set_max_width(ui.max_rect().width());
        ui.label(RichText::new(title).strong());
        ui.add(egui::Label::new(RichText::new(subtitle.as_str()).small().weak()).truncate())
            .on_hover_text(subtitle);
    });
}

fn character_subtitle(cx: &ViewContext<'_>) -> String {
    match (&cx.doc.character, &cx.doc.rig) {
        (Some(c), Some(r)) => format!(
            "{} · {}×{} · landmarks: {}",
            super::state::file_name(&c.path),
            c.image.width(),
            c.image.height(),
            r.source.describe()
        ),
        _ => "no picture".into(),
    }
}

fn driving_subtitle(cx: &ViewContext<'_>) -> String {
    let video = cx.doc.driving.as_ref().map(|c| {
        format!(
            "{} · {}×{} · {:.2} fps",
            super::state::file_name(&c.path),
            c.info.width,
            c.info.height,
            c.fps()
        )
    });
    let track = cx
        .doc
        .driving_track
        .as_ref()
        .map(|t| format!("landmarks: {}", super::state::file_name(t.source.path())));
    match (video, track) {
        (Some(v), Some(t)) => format!("{v} · {t}"),
        (Some(v), None) => format!("{v} · no landmarks"),
        (None, Some(t)) => format!("no video · {t}"),
        (None, None) => "no video".into(),
    }
}

fn preview_subtitle(cx: &ViewContext<'_>) -> String {
    match &cx.preview {
        Some(p) => format!("frame {} · rendered in {:.1} ms", p.frame, p.millis),
        None => "rendering…".into(),
    }
}

fn menu_bar(cx: &mut ViewContext<'_>, ui: &mut egui::Ui) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            if ui.button("Open character picture…").clicked() {
                cx.open_dialog(DialogPurpose::OpenCharacter);
            }
            if ui.button("Open driving video…").clicked() {
                cx.open_dialog(DialogPurpose::OpenDriving);
            }
            if ui
                .button("Open driving landmarks (.json / .npy)…")
                .clicked()
            {
                cx.open_dialog(DialogPurpose::OpenTrack);
            }
            if ui.button("Open character landmarks (.json)…").clicked() {
                cx.open_dialog(DialogPurpose::OpenFace);
            }
            if ui.button("Save character landmarks…").clicked() {
                cx.open_dialog(DialogPurpose::SaveFace);
            }
            ui.separator();
            if ui.button("Open project…").clicked() {
                cx.open_dialog(DialogPurpose::OpenProject);
            }
            if ui.button("Save project  (Ctrl+S)").clicked() {
                cx.send(UiCommand::SaveProject);
            }
            if ui.button("Save project as…").clicked() {
                cx.open_dialog(DialogPurpose::SaveProject);
            }
            ui.separator();
            if ui.button("Load sample").clicked() {
                cx.send(UiCommand::LoadSample);
            }
            if ui.button("Export…  (Ctrl+E)").clicked() {
                cx.view.export.open = true;
            }
            ui.separator();
            if ui.button("Quit").clicked() {
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            }
        });
        ui.menu_button("Edit", |ui| {
            let undo = cx.doc.undo_label().map(|l| format!("Undo {l}  (Ctrl+Z)"));
            if ui
                .add_enabled(
                    undo.is_some(),
                    egui::Button::new(undo.unwrap_or("Undo".into())),
                )
                .clicked()
            {
                cx.send(UiCommand::Undo);
            }
            let redo = cx
                .doc
                .redo_label()
                .map(|l| format!("Redo {l}  (Ctrl+Shift+Z)"));
            if ui
                .add_enabled(
                    redo.is_some(),
                    egui::Button::new(redo.unwrap_or("Redo".into())),
                )
                .clicked()
            {
                cx.send(UiCommand::Redo);
            }
            ui.separator();
            ui.checkbox(&mut cx.view.mirror, "Mirror editing");
            if ui.button("Reset landmarks").clicked() {
                cx.doc.reset_rig();
                cx.edited();
            }
        });
        ui.menu_button("View", |ui| {
            if ui.button("Zoom to face  (F)").clicked() {
                cx.view.canvas.fit_face();
            }
            if ui.button("Whole picture  (double-click)").clicked() {
                cx.view.canvas.refit();
            }
            let mut perf = cx.view.show_perf;
            if ui.checkbox(&mut perf, "Performance figures").changed() {
                cx.send(UiCommand::TogglePerf);
            }
        });
        if cx.doc.is_dirty() && cx.doc.character.is_some() {
            ui.label(
                RichText::new("* unsaved changes")
                    .small()
                    .color(Color32::from_rgb(230, 180, 60)),
            );
        }
    });
}

fn drop_overlay(ctx: &egui::Context) {
    let hovering = ctx.input(|i| !i.raw.hovered_files.is_empty());
    if !hovering {
        return;
    }
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("drop-overlay"),
    ));
    let rect = ctx.content_rect();
    painter.rect_filled(rect, 0.0, Color32::from_black_alpha(180));
    painter.text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        "Drop a character picture, a driving video, a landmark file or a project",
        egui::FontId::proportional(20.0),
        Color32::WHITE,
    );
}

/// Live mode's output window: the character alone on the chosen background, borderless, so
/// streaming and call apps can capture it as a window.
fn output_window(cx: &mut ViewContext<'_>, ctx: &egui::Context) {
    let texture = cx.live.map(|view| cx.textures.live(ctx, view).1);
    let background = cx.view.live_background;
    let mut close = false;
    ctx.show_viewport_immediate(
        egui::ViewportId::from_hash_of("faceshot live output"),
        egui::ViewportBuilder::default()
            .with_title("FaceShot output")
            .with_inner_size([512.0, 512.0])
            .with_decorations(false),
        |ui, _class| {
            let rect = ui.max_rect();
            let painter = ui.painter();
            painter.rect_filled(rect, egui::CornerRadius::ZERO, background);
            if let Some(texture) = &texture {
                let size = texture.size_vec2();
                let zoom = (rect.width() / size.x).min(rect.height() / size.y);
                let shown = egui::Rect::from_center_size(rect.center(), size * zoom);
                painter.image(
                    texture.id(),
                    shown,
                    egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                    egui::Color32::WHITE,
                );
            }
            close =
                ui.input(|i| i.viewport().close_requested() || i.key_pressed(egui::Key::Escape));
        },
    );
    if close {
        cx.view.live_output_window = false;
    }
}
