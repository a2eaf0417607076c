//! The side panel: inputs, landmark editing, retargeting controls, jobs
//! (progress, ETA, cancel), messages and performance figures.

use super::context::ViewContext;
use crate::gui::command::UiCommand;
use crate::gui::dialogs::DialogPurpose;
use crate::gui::settings::{GainSettings, ReferenceSetting, gain_label};
use crate::gui::state::file_name;
use crate::gui::status::NoticeLevel;
use crate::gui::views::canvas::ANCHOR_NAMES;
use eframe::egui::{self, Color32, RichText};
use faceshot_core::matching::Backend;
use faceshot_core::progress::byte_size;

/// The controls column.
pub fn controls(cx: &mut ViewContext<'_>, ui: &mut egui::Ui) {
    inputs(cx, ui);
    ui.separator();
    editing(cx, ui);
    ui.separator();
    retargeting(cx, ui);
    ui.separator();
    jobs(cx, ui);
    notices(cx, ui);
    if cx.view.show_perf {
        ui.separator();
        perf(cx, ui);
    }
}

fn inputs(cx: &mut ViewContext<'_>, ui: &mut egui::Ui) {
    ui.heading("Inputs");
    let character = cx
        .doc
        .character
        .as_ref()
        .map(|c| file_name(&c.path))
        .unwrap_or_else(|| "none".into());
    ui.horizontal(|ui| {
        ui.label(format!("Character: {character}"));
    });
    ui.horizontal(|ui| {
        if ui.button("Open picture…").clicked() {
            cx.open_dialog(DialogPurpose::OpenCharacter);
        }
        if ui.button("Load landmarks…").clicked() {
            cx.open_dialog(DialogPurpose::OpenFace);
        }
    });
    let video = cx
        .doc
        .driving
        .as_ref()
        .map(|c| file_name(&c.path))
        .unwrap_or_else(|| "none".into());
    ui.label(format!("Driving video: {video}"));
    let track = cx
        .doc
        .driving_track
        .as_ref()
        .map(|t| {
            format!(
                "{} frames from {}",
                t.track.len(),
                file_name(t.source.path())
            )
        })
        .unwrap_or_else(|| "none".into());
    ui.label(format!("Driving landmarks: {track}"));
    ui.horizontal(|ui| {
        if ui.button("Open video…").clicked() {
            cx.open_dialog(DialogPurpose::OpenDriving);
        }
        if ui.button("Load track…").clicked() {
            cx.open_dialog(DialogPurpose::OpenTrack);
        }
    });
    if ui
        .add_enabled(cx.doc.driving.is_some(), egui::Button::new("Track faces"))
        .on_hover_text("Find the driver's 68 landmarks in every frame of the video")
        .on_disabled_hover_text("Open a driving video first")
        .clicked()
    {
        cx.send(UiCommand::TrackFaces);
    }
    if let Some(note) = cx.sample_note {
        ui.label(
            RichText::new(note)
                .small()
                .color(Color32::from_rgb(255, 200, 90)),
        );
    }
    live(cx, ui);
}

/// Live mode: the source, recording, start/stop and set neutral.
fn live(cx: &mut ViewContext<'_>, ui: &mut egui::Ui) {
    ui.separator();
    ui.horizontal(|ui| {
        ui.label("Camera");
        let chosen = cx
            .view
            .cameras
            .iter()
            .find(|(p, _)| p.display().to_string() == cx.view.live_source)
            .map(|(p, name)| format!("{name} ({})", p.display()))
            .unwrap_or_else(|| {
                if cx.view.cameras.is_empty() {
                    "no camera found".into()
                } else {
                    "pick a camera".into()
                }
            });
        ui.add_enabled_ui(!cx.live_running, |ui| {
            egui::ComboBox::from_id_salt("live camera")
                .selected_text(chosen)
                .width(150.0)
                .show_ui(ui, |ui| {
                    for (path, name) in &cx.view.cameras {
                        let text = path.display().to_string();
                        let label = format!("{name} ({text})");
                        ui.selectable_value(&mut cx.view.live_source, text, label);
                    }
                });
            if ui
                .small_button("Refresh")
                .on_hover_text("Look for cameras again")
                .clicked()
            {
                cx.view.cameras = faceshot_core::live::list_cameras();
            }
        });
    });
    let running = cx.live_running;
    live_field(
        ui,
        "Live source",
        &mut cx.view.live_source,
        "camera, video file or URL",
        running,
    );
    live_field(
        ui,
        "Record to",
        &mut cx.view.live_record,
        "optional .mp4",
        running,
    );
    ui.horizontal(|ui| {
        let label = if cx.live_running {
            "Stop live"
        } else {
            "Start live"
        };
        if ui
            .button(label)
            .on_hover_text("Drive the character in real time (Ctrl+L)")
            .clicked()
        {
            cx.send(UiCommand::ToggleLive);
        }
        if ui
            .add_enabled(cx.live_running, egui::Button::new("Set neutral"))
            .on_hover_text("The driver's face now is its neutral face (N)")
            .clicked()
        {
            cx.send(UiCommand::SetNeutral);
        }
        if ui
            .checkbox(&mut cx.view.live_mirror, "Mirror")
            .on_hover_text("Show the camera as a mirror does (a selfie view)")
            .changed()
        {
            cx.send(UiCommand::SetLiveMirror(cx.view.live_mirror));
        }
    });
    ui.horizontal(|ui| {
        ui.checkbox(&mut cx.view.live_output_window, "Output window")
            .on_hover_text(
                "The character alone in a window of its own, on this background: capture it in \
                 OBS (window capture) or share it in a call",
            );
        ui.color_edit_button_srgba(&mut cx.view.live_background);
    });
    if let Some(view) = cx.live {
        ui.label(
            RichText::new(format!(
                "live: {:.0} fps, latency {:.0} ms",
                view.fps, view.latency_ms
            ))
            .small(),
        );
    }
}

/// Points to check beyond which the panel suggests placing the face by clicks instead of
/// correcting the points one by one.
const MOSTLY_UNCERTAIN: usize = faceshot_core::landmarks::LANDMARK_COUNT / 2;

fn editing(cx: &mut ViewContext<'_>, ui: &mut egui::Ui) {
    ui.heading("Landmarks");
    if let Some(rig) = &cx.doc.rig {
        let weak = faceshot_core::matching::points_to_check(&rig.face);
        ui.label(RichText::new(rig.source.describe()).small());
        if weak > 0 {
            ui.label(
                RichText::new(format!("{weak} points to check (red rings)"))
                    .small()
                    .color(Color32::from_rgb(255, 110, 110)),
            );
        }
        if weak > MOSTLY_UNCERTAIN {
            ui.label(
                RichText::new(
                    "Most points are uncertain: \"Place by clicks…\" fits all 68 \
                     to the eyes, nose tip and mouth corners you click",
                )
                .small()
                .color(Color32::from_rgb(255, 110, 110)),
            );
        }
    }
    ui.checkbox(&mut cx.view.mirror, "Mirror editing")
        .on_hover_text("The left/right counterpart follows each edit");
    let selected = cx
        .view
        .selected_part
        .map(|p| format!("Selected: {} — drag inside its box to move, the round handle to rotate, the square to scale", p.name()))
        .unwrap_or_else(|| "Click a contour to select a part".into());
    ui.label(RichText::new(selected).small());
    ui.horizontal(|ui| {
        let can_undo = cx.doc.undo_label().is_some();
        if ui
            .add_enabled(can_undo, egui::Button::new("Undo"))
            .clicked()
        {
            cx.send(UiCommand::Undo);
        }
        let can_redo = cx.doc.redo_label().is_some();
        if ui
            .add_enabled(can_redo, egui::Button::new("Redo"))
            .clicked()
        {
            cx.send(UiCommand::Redo);
        }
        let can_reset = cx.doc.rig.as_ref().is_some_and(|r| r.face != r.original);
        if ui
            .add_enabled(can_reset, egui::Button::new("Reset"))
            .clicked()
        {
            cx.doc.reset_rig();
            cx.edited();
        }
        let matching = cx.matching.is_some();
        if ui
            .add_enabled(
                cx.doc.character.is_some() && !matching,
                egui::Button::new(if matching { "Matching…" } else { "Re-match" }),
            )
            .on_hover_text("Find the landmarks on the picture again (the current ones can be restored with Undo)")
            .clicked()
        {
            cx.send(UiCommand::Rematch);
        }
    });
    place_by_clicks(cx, ui);
    match_in_box(cx, ui);
    ui.horizontal(|ui| {
        ui.label("Matcher");
        let mut backend = cx.view.match_backend;
        let have_weights = cx.dift_weights.is_some();
        egui::ComboBox::from_id_salt("matcher")
            .selected_text(backend_label(backend))
            .show_ui(ui, |ui| {
                for b in [
                    Backend::Auto,
                    Backend::Learned,
                    Backend::Mesh,
                    Backend::Structural,
                ] {
                    ui.selectable_value(&mut backend, b, backend_label(b));
                }
                ui.add_enabled_ui(have_weights, |ui| {
                    ui.selectable_value(&mut backend, Backend::Dift, backend_label(Backend::Dift))
                        .on_disabled_hover_text("Choose the Stable Diffusion 2.1 folder first");
                });
            });
        cx.view.match_backend = backend;
        if ui
            .button("SD 2.1 weights…")
            .on_hover_text(match &cx.dift_weights {
                Some(d) => format!("Diffusion matcher weights: {}", d.display()),
                None => "Choose a diffusers-format Stable Diffusion 2.1 folder for the \
                         diffusion matcher (the paper's method)"
                    .to_string(),
            })
            .clicked()
        {
            cx.open_dialog(DialogPurpose::DiftWeights);
        }
    });
    download_weights(cx, ui);
}

/// "Download SD 2.1": offered while the diffusion matcher has no weights and there is a
/// folder to download into; progress and Cancel are in the jobs list.
fn download_weights(cx: &mut ViewContext<'_>, ui: &mut egui::Ui) {
    use faceshot_dift::hub::DOWNLOAD_SIZE_TEXT;
    if cx.dift_weights.is_some() {
        return;
    }
    let Some(dest) = cx.models_dir else {
        return;
    };
    let idle = cx.downloading.is_none();
    let label = if idle {
        "Download SD 2.1…"
    } else {
        "Downloading SD 2.1…"
    };
    if ui
        .add_enabled(idle, egui::Button::new(label))
        .on_hover_text(format!(
            "Download {} ({DOWNLOAD_SIZE_TEXT}) from the Hugging Face hub into {} \
             for the diffusion matcher. Cancel keeps what arrived; the next download resumes \
             it. Every large file is checked against the hub's SHA-256.",
            cx.hub.repo(),
            dest.display()
        ))
        .clicked()
    {
        cx.send(UiCommand::DownloadWeights);
    }
}

fn retargeting(cx: &mut ViewContext<'_>, ui: &mut egui::Ui) {
    ui.heading("Retargeting");
    ui.scope(|ui| {
        let mut gains = cx.doc.settings.gains;
        let mut any_drag_start = false;
        let mut any_drag_stop = false;
        let mut changed_label = None;
        ui.label(RichText::new("Gains: 0 freezes, 1 follows the driver, 2 exaggerates").small());
        egui::Grid::new("gains").num_columns(1).show(ui, |ui| {
            for (control, value) in gains.each_mut() {
                let label = gain_label(control);
                let r = ui.add(
                    egui::Slider::new(value, GainSettings::MIN..=GainSettings::MAX)
                        .step_by(0.05)
                        .text(format!("{label} gain")),
                );
                any_drag_start |= r.drag_started();
                any_drag_stop |= r.drag_stopped();
                if r.changed() {
                    changed_label = Some(format!("{label} gain"));
                }
                ui.end_row();
            }
        });
        if any_drag_start {
            cx.doc.begin_gesture("gain");
        }
        if let Some(label) = changed_label {
            cx.doc.edit_settings(&label, |s| s.gains = gains);
            cx.edited();
        }
        if any_drag_stop {
            cx.doc.end_gesture();
        }

        ui.horizontal(|ui| {
            ui.label("Reference frame");
            let current = cx.doc.settings.reference;
            let text = match current {
                ReferenceSetting::First => "first".to_string(),
                ReferenceSetting::Auto => "auto (most neutral)".to_string(),
                ReferenceSetting::Frame(f) => format!("frame {f}"),
            };
            let mut choice = current;
            egui::ComboBox::from_id_salt("reference")
                .selected_text(text)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut choice, ReferenceSetting::First, "first");
                    ui.selectable_value(&mut choice, ReferenceSetting::Auto, "auto (most neutral)");
                    let here = ReferenceSetting::Frame(cx.view.playhead);
                    ui.selectable_value(
                        &mut choice,
                        here,
                        format!("frame {} (playhead)", cx.view.playhead),
                    );
                });
            if choice != current {
                cx.doc
                    .edit_settings("reference frame", |s| s.reference = choice);
                cx.edited();
            }
        });
        let mut smoothing = cx.doc.settings.smoothing;
        let r = ui.add(
            egui::Slider::new(&mut smoothing, 0.0..=1.0)
                .step_by(0.05)
                .text("smoothing"),
        );
        if r.drag_started() {
            cx.doc.begin_gesture("smoothing");
        }
        if r.changed() {
            cx.doc
                .edit_settings("smoothing", |s| s.smoothing = smoothing);
            cx.edited();
        }
        if r.drag_stopped() {
            cx.doc.end_gesture();
        }
        let mut expr = cx.doc.settings.expression_only;
        if ui
            .checkbox(&mut expr, "Expression only (keep the head still)")
            .changed()
        {
            cx.doc
                .edit_settings("expression only", |s| s.expression_only = expr);
            cx.edited();
        }
    });
}

/// Placing the landmarks by clicking the eyes, nose tip and mouth corners.
fn place_by_clicks(cx: &mut ViewContext<'_>, ui: &mut egui::Ui) {
    let Some(anchors) = cx.view.canvas.anchors.as_ref() else {
        if ui
            .add_enabled(
                cx.doc.character.is_some() && cx.matching.is_none(),
                egui::Button::new("Place by clicks…"),
            )
            .on_hover_text(
                "Click the eyes, the nose tip and the mouth corners; the other points follow",
            )
            .clicked()
        {
            cx.send(UiCommand::TogglePlaceByClicks);
        }
        return;
    };
    let n = anchors.len();
    let next = ANCHOR_NAMES
        .get(n)
        .map(|name| format!("Click {} ({} of 5)", name, n + 1))
        .unwrap_or_else(|| "Fitting…".into());
    ui.label(
        RichText::new(next)
            .strong()
            .color(Color32::from_rgb(255, 210, 60)),
    );
    ui.horizontal(|ui| {
        if ui
            .add_enabled(n == 3, egui::Button::new("Fit to 3"))
            .on_hover_text("Fit to the eyes and the nose tip only")
            .clicked()
        {
            cx.send(UiCommand::FitToClicks);
        }
        if ui
            .add_enabled(n > 0, egui::Button::new("Undo click"))
            .clicked()
            && let Some(a) = cx.view.canvas.anchors.as_mut()
        {
            a.pop();
        }
        if ui.button("Cancel").clicked() {
            cx.send(UiCommand::TogglePlaceByClicks);
        }
    });
}

/// A labelled one-line text field of the Live section, locked while live mode runs.
fn live_field(ui: &mut egui::Ui, label: &str, text: &mut String, hint: &str, running: bool) {
    ui.horizontal(|ui| {
        ui.label(label);
        ui.add_enabled(
            !running,
            egui::TextEdit::singleline(text)
                .hint_text(hint)
                .desired_width(170.0),
        );
    });
}

/// "Match in a box…": drag a box around the face to match (a picture with several faces, or
/// a face the matcher misses in the whole picture); while on, says what to do and offers Cancel.
fn match_in_box(cx: &mut ViewContext<'_>, ui: &mut egui::Ui) {
    if cx.view.canvas.face_box.is_none() {
        if cx.view.canvas.anchors.is_none()
            && ui
                .add_enabled(
                    cx.doc.character.is_some() && cx.matching.is_none(),
                    egui::Button::new("Match in a box…"),
                )
                .on_hover_text(
                    "Drag a box around the face to match: picks one of several faces, or helps \
                     the matcher find a small one",
                )
                .clicked()
        {
            cx.send(UiCommand::ToggleFaceBox);
        }
        return;
    }
    ui.horizontal(|ui| {
        ui.label(
            RichText::new("Drag a box around the face to match")
                .strong()
                .color(Color32::from_rgb(255, 210, 60)),
        );
        if ui.button("Cancel").clicked() {
            cx.send(UiCommand::ToggleFaceBox);
        }
    });
}

/// How a matcher backend is offered in the UI.
fn backend_label(b: Backend) -> &'static str {
    match b {
        Backend::Auto => "auto (face mesh, learned network, drawn-face fit)",
        Backend::Mesh => "face mesh (human-like faces)",
        Backend::Structural => "drawn-face fit (cartoons)",
        Backend::Dift => "diffusion features (SD 2.1, slow)",
        Backend::Learned => "learned network alone",
    }
}

fn jobs(cx: &mut ViewContext<'_>, ui: &mut egui::Ui) {
    let visible: Vec<_> = cx
        .jobs
        .iter()
        .filter(|j| !j.quiet)
        .map(|j| {
            (
                j.id,
                j.label.clone(),
                j.fraction(),
                j.eta(),
                j.progress.clone(),
                j.bytes,
            )
        })
        .collect();
    if visible.is_empty() {
        return;
    }
    ui.separator();
    ui.heading("Jobs");
    for (id, label, fraction, eta, progress, bytes) in visible {
        ui.label(label);
        // Byte counts are long: their stage (the file) gets a line of its own.
        if bytes && let Some((stage, _, _)) = &progress {
            ui.label(RichText::new(stage).small());
        }
        ui.horizontal(|ui| {
            let mut text = match &progress {
                // A stage without bytes to count (checking a file's SHA-256).
                Some((_, 0, None)) if bytes => "…".into(),
                Some((_, done, total)) if bytes => byte_progress(*done, *total),
                Some((stage, done, Some(total))) => format!("{stage} {done}/{total}"),
                Some((stage, done, None)) => format!("{stage} {done}"),
                None => "waiting".into(),
            };
            if let Some(eta) = eta {
                text.push_str(&format!(" · {} left", duration_text(eta)));
            }
            let bar = egui::ProgressBar::new(fraction.unwrap_or(0.0))
                .desired_width(170.0)
                .text(text)
                .animate(fraction.is_none());
            ui.add(bar);
            if ui.button("Cancel").clicked() {
                cx.send(UiCommand::CancelJob(id));
            }
        });
    }
}

/// "312 MB of 1.73 GB" (decimal units, as download sizes are quoted).
pub fn byte_progress(done: u64, total: Option<u64>) -> String {
    match total {
        Some(t) => format!("{} of {}", byte_size(done), byte_size(t)),
        None => byte_size(done),
    }
}

/// "45 s", "4 min", "1 h 5 min".
pub fn duration_text(d: std::time::Duration) -> String {
    let s = d.as_secs_f32().ceil() as u64;
    match s {
        0..90 => format!("{s} s"),
        90..5400 => format!("{} min", (s + 30) / 60),
        _ => {
            let m = (s + 30) / 60;
            format!("{} h {} min", m / 60, m % 60)
        }
    }
}

fn notices(cx: &mut ViewContext<'_>, ui: &mut egui::Ui) {
    if cx.notices.is_empty() {
        return;
    }
    ui.separator();
    ui.horizontal(|ui| {
        ui.heading("Messages");
        if ui.small_button("Clear").clicked() {
            cx.send(UiCommand::ClearNotices);
        }
    });
    for n in cx.notices.iter().rev() {
        let colour = match n.level {
            NoticeLevel::Info => Color32::from_rgb(150, 210, 150),
            NoticeLevel::Warning => Color32::from_rgb(255, 200, 90),
            NoticeLevel::Error => Color32::from_rgb(255, 110, 110),
        };
        ui.label(RichText::new(&n.text).small().color(colour));
    }
}

fn stats(v: &std::collections::VecDeque<f32>) -> Option<(f32, f32, f32)> {
    if v.is_empty() {
        return None;
    }
    let mut s: Vec<f32> = v.iter().copied().collect();
    s.sort_by(f32::total_cmp);
    let median = s[s.len() / 2];
    let p95 = s[(s.len() * 95 / 100).min(s.len() - 1)];
    let max = s[s.len() - 1];
    Some((median, p95, max))
}

fn perf(cx: &mut ViewContext<'_>, ui: &mut egui::Ui) {
    ui.heading("Performance");
    if let Some((m, p, x)) = stats(&cx.perf.frame_ms) {
        ui.label(format!(
            "UI frame build: median {m:.2} ms, p95 {p:.2} ms, max {x:.2} ms"
        ));
    }
    if let Some((m, p, x)) = stats(&cx.perf.edit_to_preview_ms) {
        ui.label(format!(
            "edit -> preview: median {m:.1} ms, p95 {p:.1} ms, max {x:.1} ms"
        ));
    }
    if let Some(p) = &cx.preview {
        ui.label(format!("last preview render: {:.1} ms", p.millis));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn byte_counts_read_as_download_sizes() {
        assert_eq!(
            byte_progress(45_600_000, Some(1_731_891_240)),
            "45.6 MB of 1.73 GB"
        );
        assert_eq!(byte_progress(2_000, None), "2.00 kB");
    }

    #[test]
    fn durations_read_in_the_largest_sensible_unit() {
        let t = |s: f32| duration_text(Duration::from_secs_f32(s));
        assert_eq!(t(0.2), "1 s");
        assert_eq!(t(89.0), "89 s");
        assert_eq!(t(250.0), "4 min");
        assert_eq!(t(5399.0), "90 min");
        assert_eq!(t(7170.0), "2 h 0 min");
        assert_eq!(t(9000.0), "2 h 30 min");
    }
}
