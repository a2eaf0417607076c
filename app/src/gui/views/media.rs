//! The driving view (video frame with its tracked landmarks) and the preview (the animated
//! character, or the retargeted landmarks on the picture while the animator is missing).

use super::canvas::{Xform, paint_landmarks};
use super::context::ViewContext;
use eframe::egui::{self, Color32, CornerRadius, Rect, Sense, TextureHandle, pos2, vec2};
use faceshot_core::landmarks::Point;

/// Fit an image of `size` into `rect`, centred; returns the mapping.
fn fit(rect: Rect, size: egui::Vec2) -> Xform {
    let zoom = (rect.width() / size.x)
        .min(rect.height() / size.y)
        .max(1e-3);
    let origin = rect.center() - size * zoom * 0.5;
    Xform { origin, zoom }
}

fn message(painter: &egui::Painter, rect: Rect, text: &str) {
    let galley = painter.layout(
        text.to_string(),
        egui::FontId::proportional(14.0),
        Color32::GRAY,
        rect.width() - 24.0,
    );
    let pos = rect.center() - galley.size() * 0.5;
    painter.galley(pos, galley, Color32::GRAY);
}

fn image(painter: &egui::Painter, texture: &TextureHandle, xform: &Xform, size: egui::Vec2) {
    painter.image(
        texture.id(),
        Rect::from_min_size(xform.origin, size * xform.zoom),
        Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
        Color32::WHITE,
    );
}

/// The driving video at the playhead with its landmarks.
pub fn driving_view(cx: &mut ViewContext<'_>, ui: &mut egui::Ui) {
    let (rect, _) = ui.allocate_exact_size(ui.available_size(), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, CornerRadius::ZERO, Color32::from_gray(20));
    if cx.live_running {
        match cx.live {
            Some(view) => {
                let (camera, _) = cx.textures.live(ui.ctx(), view);
                let size = camera.size_vec2();
                let xform = fit(rect, size);
                image(&painter, &camera, &xform, size);
                if let Some(points) = &view.driver {
                    paint_landmarks(&painter, &xform, points, None, None, None, 0.7);
                }
            }
            None => message(&painter, rect, "Starting live mode…"),
        }
        return;
    }
    let texture = cx.textures.driving(ui.ctx(), cx.doc, cx.view.playhead);
    let frame = cx.view.playhead;
    let track_points = cx.doc.driving_track.as_ref().and_then(|t| {
        t.track
            .frames
            .get(frame)
            .map(|p| (*p, t.track.found[frame]))
    });
    match (&cx.doc.driving, texture) {
        (Some(clip), Some(texture)) => {
            let size = texture.size_vec2();
            let xform = fit(rect, size);
            image(&painter, &texture, &xform, size);
            if let Some((points, found)) = track_points {
                // Track coordinates are in video pixels; the display frames are scaled.
                let s = clip.scale;
                let scaled = points.map(|p| Point::new(p.x * s, p.y * s));
                paint_landmarks(&painter, &xform, &scaled, None, None, None, 0.7);
                if !found {
                    painter.text(
                        rect.left_top() + vec2(6.0, 6.0),
                        egui::Align2::LEFT_TOP,
                        "no face in this frame (held)",
                        egui::FontId::proportional(12.0),
                        Color32::from_rgb(255, 120, 80),
                    );
                }
            } else {
                let note = "Track the faces to see the driving landmarks.";
                painter.text(
                    rect.left_bottom() + vec2(6.0, -6.0),
                    egui::Align2::LEFT_BOTTOM,
                    note,
                    egui::FontId::proportional(12.0),
                    Color32::from_rgb(255, 200, 90),
                );
            }
        }
        _ => {
            if let Some((points, _)) = track_points {
                // Landmarks without video: draw them on their own, fitted to the area.
                let t = cx.doc.driving_track.as_ref().and_then(|t| t.track.image);
                let size = t
                    .map(|s| vec2(s.width as f32, s.height as f32))
                    .unwrap_or(vec2(640.0, 480.0));
                let xform = fit(rect, size);
                paint_landmarks(&painter, &xform, &points, None, None, None, 0.7);
            } else {
                let text = cx.sample_note.map(str::to_string).unwrap_or_else(|| {
                    "Drop a driving video (a human face talking) here\nor File > Open driving video…"
                        .to_string()
                });
                message(&painter, rect, &text);
            }
        }
    }
}

/// The animated character at the playhead.
pub fn preview_view(cx: &mut ViewContext<'_>, ui: &mut egui::Ui) {
    let (rect, _) = ui.allocate_exact_size(ui.available_size(), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, CornerRadius::ZERO, Color32::from_gray(20));
    if cx.doc.character.is_none() {
        message(
            &painter,
            rect,
            "Open a character picture to see the preview.",
        );
        return;
    }
    if let (true, Some(view)) = (cx.live_running, cx.live) {
        let (_, character) = cx.textures.live(ui.ctx(), view);
        let size = character.size_vec2();
        let xform = fit(rect, size);
        image(&painter, &character, &xform, size);
        return;
    }
    if let Some(p) = &cx.preview {
        let size = p.texture.size_vec2();
        let xform = fit(rect, size);
        image(&painter, &p.texture, &xform, size);
        return;
    }
    // Until the first frame is rendered (or when rendering failed): the character picture,
    // dimmed, with the retargeted landmarks.
    let Some(texture) = cx.textures.character(ui.ctx(), cx.doc) else {
        return;
    };
    let size = texture.size_vec2();
    let xform = fit(rect, size);
    painter.image(
        texture.id(),
        Rect::from_min_size(xform.origin, size * xform.zoom),
        Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
        Color32::from_gray(110),
    );
    let frame = cx.view.playhead;
    let points = match &cx.character_track {
        Some((_, t)) if !t.frames.is_empty() => Some(t.frames[frame.min(t.frames.len() - 1)]),
        _ => None,
    };
    let note = match (&cx.preview_error, &cx.doc.driving_track, points) {
        (Some(e), _, _) => format!("Preview failed: {e}"),
        (None, None, _) => "Rendering… (load or track driving landmarks to see it move)".into(),
        (None, Some(_), None) => "Retargeting…".into(),
        (None, Some(_), Some(_)) => "Rendering…".into(),
    };
    if let Some(points) = points {
        paint_landmarks(&painter, &xform, &points, None, None, None, 0.8);
    }
    let galley = painter.layout(
        note,
        egui::FontId::proportional(12.0),
        Color32::from_rgb(255, 200, 90),
        rect.width() - 12.0,
    );
    painter.galley(
        rect.left_bottom() + vec2(6.0, -6.0 - galley.size().y),
        galley,
        Color32::WHITE,
    );
}
