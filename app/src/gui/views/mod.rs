//! The window's areas. Views read the app state and change it only through the document's
//! edit methods and the app's actions; they never call the pipeline.

pub mod canvas;
pub mod export;
mod media;
mod panel;
mod timeline;

use super::app::FaceShotApp;
use super::dialogs::DialogPurpose;
use eframe::egui::{self, Color32, RichText};

/// Lay out one frame of the window.
pub fn layout(app: &mut FaceShotApp, ui: &mut egui::Ui) {
    egui::Panel::top("menu").show(ui, |ui| menu_bar(app, ui));
    egui::Panel::left("controls")
        .resizable(true)
        .default_size(290.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| panel::controls(app, ui));
        });
    egui::Panel::bottom("timeline")
        .resizable(true)
        .default_size(210.0)
        .show(ui, |ui| timeline::timeline(app, ui));
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
            area_title(ui, "Character", character_subtitle(app));
            let texture = app.character_texture(ui.ctx());
            let mut selected = app.selected_part;
            let mirror = app.mirror;
            let changed = canvas::character_canvas(
                ui,
                &mut app.canvas,
                &mut app.doc,
                texture.as_ref(),
                mirror,
                &mut selected,
            );
            app.selected_part = selected;
            if changed {
                app.perf.edited(app.doc.revision());
            }
            if app
                .canvas
                .anchors
                .as_ref()
                .is_some_and(|a| a.len() == canvas::ANCHOR_NAMES.len())
            {
                app.fit_to_clicks();
            }
        });
        ui.scope_builder(egui::UiBuilder::new().max_rect(top), |ui| {
            area_title(ui, "Driving", driving_subtitle(app));
            media::driving_view(app, ui);
        });
        ui.scope_builder(egui::UiBuilder::new().max_rect(bottom), |ui| {
            area_title(ui, "Preview", preview_subtitle(app));
            media::preview_view(app, ui);
        });
    });
    export::export_window(app, ui.ctx());
    drop_overlay(ui.ctx());
}

fn area_title(ui: &mut egui::Ui, title: &str, subtitle: String) {
    ui.horizontal(|ui| {
        ui.label(RichText::new(title).strong());
        ui.label(RichText::new(subtitle).small().weak());
    });
}

fn character_subtitle(app: &FaceShotApp) -> String {
    match (&app.doc.character, &app.doc.rig) {
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

fn driving_subtitle(app: &FaceShotApp) -> String {
    let video = app.doc.driving.as_ref().map(|c| {
        format!(
            "{} · {}×{} · {:.2} fps",
            super::state::file_name(&c.path),
            c.info.width,
            c.info.height,
            c.fps()
        )
    });
    let track = app
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

fn preview_subtitle(app: &FaceShotApp) -> String {
    match &app.preview {
        Some(p) => format!("frame {} · rendered in {:.1} ms", p.frame, p.millis),
        None => "rendering…".into(),
    }
}

fn menu_bar(app: &mut FaceShotApp, ui: &mut egui::Ui) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            if ui.button("Open character picture…").clicked() {
                app.open_dialog(DialogPurpose::OpenCharacter);
            }
            if ui.button("Open driving video…").clicked() {
                app.open_dialog(DialogPurpose::OpenDriving);
            }
            if ui
                .button("Open driving landmarks (.json / .npy)…")
                .clicked()
            {
                app.open_dialog(DialogPurpose::OpenTrack);
            }
            if ui.button("Open character landmarks (.json)…").clicked() {
                app.open_dialog(DialogPurpose::OpenFace);
            }
            if ui.button("Save character landmarks…").clicked() {
                app.open_dialog(DialogPurpose::SaveFace);
            }
            ui.separator();
            if ui.button("Open project…").clicked() {
                app.open_dialog(DialogPurpose::OpenProject);
            }
            if ui.button("Save project  (Ctrl+S)").clicked() {
                app.save_project();
            }
            if ui.button("Save project as…").clicked() {
                app.open_dialog(DialogPurpose::SaveProject);
            }
            ui.separator();
            if ui.button("Load sample").clicked() {
                app.load_sample();
            }
            if ui.button("Export…  (Ctrl+E)").clicked() {
                app.export.open = true;
            }
            ui.separator();
            if ui.button("Quit").clicked() {
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            }
        });
        ui.menu_button("Edit", |ui| {
            let undo = app.doc.undo_label().map(|l| format!("Undo {l}  (Ctrl+Z)"));
            if ui
                .add_enabled(
                    undo.is_some(),
                    egui::Button::new(undo.unwrap_or("Undo".into())),
                )
                .clicked()
            {
                app.undo();
            }
            let redo = app
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
                app.redo();
            }
            ui.separator();
            ui.checkbox(&mut app.mirror, "Mirror editing");
            if ui.button("Reset landmarks").clicked() {
                app.doc.reset_rig();
                app.perf.edited(app.doc.revision());
            }
        });
        ui.menu_button("View", |ui| {
            if ui.button("Zoom to face  (F)").clicked() {
                app.canvas.fit_face();
            }
            if ui.button("Whole picture  (double-click)").clicked() {
                app.canvas.refit();
            }
            let mut perf = app.perf_visible();
            if ui.checkbox(&mut perf, "Performance figures").changed() {
                app.toggle_perf();
            }
        });
        if app.doc.is_dirty() && app.doc.character.is_some() {
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
