//! The timeline (play, step, scrub, pick the reference frame) and the motion plot.

use super::context::ViewContext;
use crate::gui::settings::ReferenceSetting;
use eframe::egui::{self, Color32, RichText};
use egui_plot::{Legend, Line, Plot, PlotPoints, VLine};
use std::sync::Arc;

/// Timeline controls and the motion plot.
pub fn timeline(cx: &mut ViewContext<'_>, ui: &mut egui::Ui) {
    let n = cx.doc.frame_count();
    ui.horizontal(|ui| {
        let play_label = if cx.view.playing { "Pause" } else { "Play" };
        if ui
            .add_enabled(n > 1, egui::Button::new(play_label))
            .on_hover_text("Space")
            .clicked()
        {
            cx.view.playing = !cx.view.playing;
        }
        if ui
            .add_enabled(n > 1, egui::Button::new("|<"))
            .on_hover_text("First frame")
            .clicked()
        {
            cx.seek(0);
        }
        if ui
            .add_enabled(n > 1, egui::Button::new("<"))
            .on_hover_text("Previous frame (Left)")
            .clicked()
        {
            cx.seek(cx.view.playhead.saturating_sub(1));
        }
        if ui
            .add_enabled(n > 1, egui::Button::new(">"))
            .on_hover_text("Next frame (Right)")
            .clicked()
        {
            cx.seek(cx.view.playhead + 1);
        }
        let mut frame = cx.view.playhead;
        let width = (ui.available_width() - 330.0).max(120.0);
        ui.spacing_mut().slider_width = width;
        let slider = egui::Slider::new(&mut frame, 0..=n.saturating_sub(1))
            .text("frame")
            .clamping(egui::SliderClamping::Always);
        if ui.add_enabled(n > 0, slider).changed() {
            cx.seek(frame);
            cx.view.playing = false;
        }
        let fps = cx.doc.fps();
        ui.label(format!(
            "{:.2} s / {:.2} s",
            cx.view.playhead as f64 / fps,
            n as f64 / fps
        ));
        let is_ref = cx.doc.settings.reference == ReferenceSetting::Frame(cx.view.playhead);
        if ui
            .add_enabled(n > 0 && !is_ref, egui::Button::new("Use as reference"))
            .on_hover_text(
                "Take this driving frame as the neutral face the character's picture shows",
            )
            .clicked()
        {
            let f = cx.view.playhead;
            cx.doc.edit_settings("pick reference frame", |s| {
                s.reference = ReferenceSetting::Frame(f)
            });
            cx.edited();
        }
    });
    motion_plot(cx, ui);
}

fn motion_plot(cx: &mut ViewContext<'_>, ui: &mut egui::Ui) {
    let playhead = cx.view.playhead as f64;
    let reference = cx.reference_frame();
    let driving = cx.doc.driving_track.as_ref().map(|t| Arc::clone(&t.track));
    let Some(curves) = driving.map(|t| cx.curves.driving(&t).clone()) else {
        ui.centered_and_justified(|ui| {
            ui.label(
                RichText::new("The motion plot appears once the driving landmarks are loaded.")
                    .weak(),
            );
        });
        return;
    };
    let character = cx
        .character_track
        .map(|(_, t)| cx.curves.character(t).clone());
    let response = Plot::new("motion")
        .legend(
            Legend::default()
                .position(egui_plot::Corner::LeftTop)
                .background_alpha(0.6),
        )
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_boxed_zoom(false)
        .include_y(0.0)
        .include_y(0.6)
        .x_axis_label("frame")
        .show(ui, |plot| {
            let series: [(&str, &Vec<[f64; 2]>, Color32); 6] = [
                ("mouth open", &curves.mouth, Color32::from_rgb(255, 80, 130)),
                (
                    "right eye open",
                    &curves.right_eye,
                    Color32::from_rgb(80, 240, 120),
                ),
                (
                    "left eye open",
                    &curves.left_eye,
                    Color32::from_rgb(40, 170, 90),
                ),
                ("roll (÷45°)", &curves.roll, Color32::from_rgb(90, 200, 255)),
                (
                    "shift x (face widths)",
                    &curves.shift_x,
                    Color32::from_rgb(255, 210, 60),
                ),
                (
                    "shift y (face widths)",
                    &curves.shift_y,
                    Color32::from_rgb(200, 150, 40),
                ),
            ];
            for (name, pts, colour) in series {
                plot.line(
                    Line::new(name, PlotPoints::from(pts.clone()))
                        .color(colour)
                        .width(1.5),
                );
            }
            if let Some(c) = &character {
                plot.line(
                    Line::new("character mouth open", PlotPoints::from(c.mouth.clone()))
                        .color(Color32::from_rgb(255, 170, 200))
                        .style(egui_plot::LineStyle::dashed_loose())
                        .width(1.5),
                );
            }
            plot.vline(
                VLine::new("playhead", playhead)
                    .color(Color32::WHITE)
                    .width(1.5),
            );
            if let Some(r) = reference {
                plot.vline(
                    VLine::new("reference", r as f64)
                        .color(Color32::from_rgb(255, 120, 40))
                        .style(egui_plot::LineStyle::dashed_dense())
                        .width(1.5),
                );
            }
        });
    // Clicking or dragging on the plot moves the playhead.
    let r = &response.response;
    if (r.clicked() || r.dragged())
        && let Some(p) = response.response.interact_pointer_pos()
    {
        let x = response.transform.value_from_position(p).x;
        if x.is_finite() {
            cx.seek(x.round().max(0.0) as usize);
            cx.view.playing = false;
        }
    }
}
