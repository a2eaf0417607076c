//! The character canvas: the picture with its 68 landmarks, zoom (scroll) and pan (drag on
//! empty space or with the secondary/middle button), point dragging, part selection with
//! move / rotate / scale handles, pupil dragging, and mirror editing.

use crate::gui::edit::{
    GroupTransform, move_point, move_pupil, part_bounds, part_centre, part_near, point_near,
    pupil_near, transform_part,
};
use crate::gui::state::Document;
use eframe::egui::{
    self, Color32, CornerRadius, Pos2, Rect, Sense, Shape, Stroke, TextureHandle, Vec2, pos2, vec2,
};
use faceshot_core::landmarks::{Landmarks, Part, Point};

/// Points below this confidence are highlighted for checking.
pub use faceshot_core::matching::LOW_CONFIDENCE;
/// Pick radius for points, in screen pixels.
const POINT_PICK: f32 = 7.0;
/// Pick radius for contours, in screen pixels.
const CONTOUR_PICK: f32 = 5.0;
/// Radius of the rotate / scale handles, in screen pixels.
const HANDLE: f32 = 6.0;

/// Image ↔ screen mapping of one frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Xform {
    /// Screen position of image pixel (0, 0).
    pub origin: Pos2,
    /// Screen pixels per image pixel.
    pub zoom: f32,
}

impl Xform {
    /// Image → screen.
    pub fn to_screen(&self, p: Point) -> Pos2 {
        self.origin + vec2(p.x, p.y) * self.zoom
    }

    /// Screen → image.
    pub fn to_image(&self, p: Pos2) -> Point {
        let d = (p - self.origin) / self.zoom;
        Point::new(d.x, d.y)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum DragKind {
    Point(usize),
    /// A pupil (0: image-left eye).
    Pupil(usize),
    PartMove(Part),
    PartRotate(Part),
    PartScale(Part),
    Pan,
}

#[derive(Clone, Debug)]
struct Drag {
    kind: DragKind,
    start_points: Landmarks,
    start_pupils: Option<[Point; 2]>,
    start_image: Point,
    pivot: Point,
}

/// Zoom, pan and gesture state of the canvas.
#[derive(Clone, Debug)]
pub struct CanvasState {
    /// Screen pixels per image pixel (relative to the fitted size when `fitted`).
    zoom: f32,
    /// Offset of the image centre from the canvas centre, in screen pixels.
    pan: Vec2,
    needs_fit: bool,
    needs_face_fit: bool,
    drag: Option<Drag>,
    /// The mapping used in the last frame.
    pub last_xform: Option<Xform>,
    /// Canvas rectangle of the last frame.
    pub last_rect: Option<Rect>,
    /// Point under the pointer.
    pub hovered: Option<usize>,
    /// Placing by clicks: the anchors clicked so far (see [`ANCHOR_NAMES`]); `None` when off.
    pub anchors: Option<Vec<Point>>,
    /// Picking the face to match by dragging a box around it; `None` when off.
    pub face_box: Option<FaceBoxPick>,
}

/// The box being dragged around the face to match (image pixels).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaceBoxPick {
    /// Where the drag started and where it is now; `None` before the drag.
    pub corners: Option<(Point, Point)>,
    /// The drag has ended: the box is ready to match in.
    pub done: bool,
}

/// What each click stands for when placing by clicks, in order (image-left first).
pub const ANCHOR_NAMES: [&str; 5] = [
    "the eye on the left",
    "the eye on the right",
    "the nose tip",
    "the mouth corner on the left",
    "the mouth corner on the right",
];

impl Default for CanvasState {
    fn default() -> Self {
        Self {
            zoom: 1.0,
            pan: Vec2::ZERO,
            needs_fit: false,
            needs_face_fit: true,
            drag: None,
            last_xform: None,
            last_rect: None,
            hovered: None,
            anchors: None,
            face_box: None,
        }
    }
}

impl CanvasState {
    /// Fit the whole picture to the canvas on the next frame.
    pub fn refit(&mut self) {
        self.needs_fit = true;
    }

    /// Zoom to the face (its landmarks with a margin) on the next frame.
    pub fn fit_face(&mut self) {
        self.needs_face_fit = true;
    }

    /// Current zoom (screen pixels per image pixel).
    pub fn zoom(&self) -> f32 {
        self.zoom
    }

    /// Screen position of landmark `i` in the last frame.
    pub fn screen_pos(&self, points: &Landmarks, i: usize) -> Option<Pos2> {
        Some(self.last_xform?.to_screen(*points.get(i)?))
    }

    /// Whether a drag gesture is in progress.
    pub fn dragging(&self) -> bool {
        self.drag.is_some()
    }
}

/// Colour of each base part's contour and points.
pub fn part_colour(part: Part) -> Color32 {
    match part {
        Part::Jaw => Color32::from_rgb(255, 210, 60),
        Part::RightBrow | Part::LeftBrow => Color32::from_rgb(255, 140, 50),
        Part::NoseBridge | Part::Nostrils => Color32::from_rgb(90, 220, 255),
        Part::RightEye | Part::LeftEye => Color32::from_rgb(80, 240, 120),
        Part::OuterLips => Color32::from_rgb(255, 80, 130),
        Part::InnerLips => Color32::from_rgb(200, 110, 255),
        _ => Color32::WHITE,
    }
}

/// Draw landmark contours and dots through `xform`. `confidence` highlights weak points. Dots
/// and lines scale with the face's size on screen; `emphasis` multiplies the dot size.
pub fn paint_landmarks(
    painter: &egui::Painter,
    xform: &Xform,
    points: &Landmarks,
    confidence: Option<&[f32; 68]>,
    selected: Option<Part>,
    hovered: Option<usize>,
    emphasis: f32,
) {
    let face_px = points[0]
        .distance(points[16])
        .max(points[8].distance(points[27]))
        * xform.zoom;
    let dot = (face_px / 50.0).clamp(1.2, 4.0) * emphasis;
    let line = (face_px / 160.0).clamp(0.8, 1.5);
    for part in Part::BASE {
        let colour = part_colour(part);
        let width = if selected == Some(part) {
            line * 2.0
        } else {
            line
        };
        let mut line: Vec<Pos2> = part
            .indices()
            .iter()
            .map(|&i| xform.to_screen(points[i]))
            .collect();
        if part.is_closed()
            && let Some(&first) = line.first()
        {
            line.push(first);
        }
        painter.add(Shape::line(line, Stroke::new(width, colour)));
        for &i in part.indices() {
            let p = xform.to_screen(points[i]);
            let weak = confidence.is_some_and(|c| c[i] < LOW_CONFIDENCE);
            let r = if hovered == Some(i) { dot * 1.7 } else { dot };
            painter.circle(p, r, colour, Stroke::new(0.6, Color32::BLACK));
            if weak {
                painter.circle_stroke(p, r + 2.0, Stroke::new(1.5, Color32::from_rgb(255, 40, 40)));
            }
        }
    }
}

/// Draw the pupils: a cross in a ring of the iris's radius (when known).
fn paint_pupils(
    painter: &egui::Painter,
    xform: &Xform,
    points: &Landmarks,
    pupils: &[Point; 2],
    radius: Option<f32>,
) {
    let face_px = points[0].distance(points[16]) * xform.zoom;
    let arm = (face_px / 60.0).clamp(3.0, 7.0);
    let colour = Color32::from_rgb(60, 220, 255);
    for p in pupils {
        let c = xform.to_screen(*p);
        let stroke = Stroke::new(1.5, colour);
        painter.line_segment([c - vec2(arm, 0.0), c + vec2(arm, 0.0)], stroke);
        painter.line_segment([c - vec2(0.0, arm), c + vec2(0.0, arm)], stroke);
        let ring = radius.map_or(arm * 0.8, |r| (r * xform.zoom).max(arm * 0.8));
        painter.circle_stroke(c, ring, Stroke::new(1.0, colour));
    }
}

/// Handle positions of a selected part: (rotate, scale) in image coordinates.
fn handles(points: &Landmarks, part: Part, zoom: f32) -> (Point, Point) {
    let (lo, hi) = part_bounds(points, part);
    let pad = 8.0 / zoom;
    let centre_x = (lo.x + hi.x) * 0.5;
    let rotate = Point::new(centre_x, lo.y - pad - 18.0 / zoom);
    let scale = Point::new(hi.x + pad, hi.y + pad);
    (rotate, scale)
}

/// The character picture, placed and scaled by `xform`.
fn paint_picture(painter: &egui::Painter, texture: &TextureHandle, xform: &Xform, img_size: Vec2) {
    painter.image(
        texture.id(),
        Rect::from_min_size(xform.origin, img_size * xform.zoom),
        Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
        Color32::WHITE,
    );
}

/// Show the canvas. Edits go through `doc`'s gesture methods (one undo step per drag).
/// Returns true when the landmarks changed this frame.
pub fn character_canvas(
    ui: &mut egui::Ui,
    state: &mut CanvasState,
    doc: &mut Document,
    texture: Option<&TextureHandle>,
    mirror: bool,
    selected: &mut Option<Part>,
) -> bool {
    let (rect, response) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, CornerRadius::ZERO, Color32::from_gray(28));
    state.last_rect = Some(rect);
    let (Some(texture), Some(character)) = (texture, doc.character.as_ref()) else {
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            "Drop a character picture here\nor File > Open character…",
            egui::FontId::proportional(16.0),
            Color32::GRAY,
        );
        state.last_xform = None;
        return false;
    };
    let img_size = vec2(
        character.image.width() as f32,
        character.image.height() as f32,
    );
    let fit = (rect.width() / img_size.x).min(rect.height() / img_size.y) * 0.95;
    if state.needs_fit || !state.zoom.is_finite() || state.zoom <= 0.0 {
        state.zoom = fit.max(1e-3);
        state.pan = Vec2::ZERO;
        state.needs_fit = false;
        state.needs_face_fit = false;
    }
    if state.needs_face_fit {
        state.needs_face_fit = false;
        state.zoom = fit.max(1e-3);
        state.pan = Vec2::ZERO;
        if let Some(rig) = doc.rig.as_ref() {
            // The landmarks' box, grown 2.2× about its centre, fills the canvas.
            let mut lo = vec2(f32::INFINITY, f32::INFINITY);
            let mut hi = vec2(f32::NEG_INFINITY, f32::NEG_INFINITY);
            for p in &rig.face.points {
                lo = lo.min(vec2(p.x, p.y));
                hi = hi.max(vec2(p.x, p.y));
            }
            let size = (hi - lo) * 2.2;
            if size.x > 1.0 && size.y > 1.0 {
                let zoom = (rect.width() / size.x)
                    .min(rect.height() / size.y)
                    .clamp(fit, fit * 40.0);
                let centre = (lo + hi) * 0.5;
                state.zoom = zoom;
                state.pan = -(centre - img_size * 0.5) * zoom;
            }
        }
    }

    // Zoom about the pointer (scroll wheel or pinch).
    if response.hovered() {
        let (scroll, pinch, pointer) = ui.input(|i| {
            (
                i.smooth_scroll_delta.y,
                i.zoom_delta(),
                i.pointer.hover_pos(),
            )
        });
        let factor = (scroll * 0.0025).exp() * pinch;
        if (factor - 1.0).abs() > 1e-4
            && let Some(pointer) = pointer
        {
            let new_zoom = (state.zoom * factor).clamp(fit * 0.2, fit * 40.0);
            let centre = rect.center() + state.pan;
            let rel = pointer - centre;
            state.pan += rel - rel * (new_zoom / state.zoom);
            state.zoom = new_zoom;
        }
    }
    if response.double_clicked() {
        state.needs_fit = true;
    }

    let mut xform = Xform {
        origin: rect.center() + state.pan - img_size * state.zoom * 0.5,
        zoom: state.zoom,
    };

    let Some(rig) = doc.rig.as_ref() else {
        return false;
    };
    let points = rig.face.points;
    let pupils = rig.face.pupils;
    let mut changed = false;

    // Picking the face by a box: a primary drag draws it (secondary drags still pan).
    if let Some(pick) = state.face_box.as_mut() {
        let secondary = ui.input(|i| {
            i.pointer.button_down(egui::PointerButton::Secondary)
                || i.pointer.button_down(egui::PointerButton::Middle)
        });
        if response.dragged() && secondary {
            state.pan += response.drag_delta();
            xform.origin += response.drag_delta();
        } else if response.drag_started()
            && let Some(press) = ui
                .input(|i| i.pointer.press_origin())
                .or(response.interact_pointer_pos())
        {
            let a = xform.to_image(press);
            pick.corners = Some((a, a));
        } else if response.dragged()
            && let (Some((a, _)), Some(pos)) = (pick.corners, response.interact_pointer_pos())
        {
            pick.corners = Some((a, xform.to_image(pos)));
        }
        if response.drag_stopped()
            && let Some((a, b)) = pick.corners
        {
            // A box a few screen pixels across is a slip, not a face.
            let big =
                (a.x - b.x).abs() * xform.zoom >= 8.0 && (a.y - b.y).abs() * xform.zoom >= 8.0;
            if big {
                pick.done = true;
            } else {
                pick.corners = None;
            }
        }
        paint_picture(&painter, texture, &xform, img_size);
        paint_landmarks(&painter, &xform, &points, None, None, None, 0.3);
        if let Some((a, b)) = pick.corners {
            let r = Rect::from_two_pos(xform.to_screen(a), xform.to_screen(b));
            painter.rect_stroke(
                r,
                CornerRadius::ZERO,
                Stroke::new(2.0, Color32::from_rgb(255, 210, 60)),
                egui::StrokeKind::Middle,
            );
        }
        state.last_xform = Some(xform);
        return false;
    }

    // Start of a drag: decide what is being dragged from where the button went down.
    if response.drag_started() {
        let press = ui
            .input(|i| i.pointer.press_origin())
            .or(response.interact_pointer_pos());
        let secondary = ui.input(|i| {
            i.pointer.button_down(egui::PointerButton::Secondary)
                || i.pointer.button_down(egui::PointerButton::Middle)
        });
        if let Some(press) = press {
            let img = xform.to_image(press);
            let pick = POINT_PICK / xform.zoom;
            let nearest_point = point_near(&points, img, pick);
            let nearest_pupil = pupils.and_then(|p| pupil_near(&p, img, pick).map(|k| (k, p[k])));
            let pupil_first = match (nearest_pupil, nearest_point) {
                (Some((_, q)), Some(i)) => q.distance(img) < points[i].distance(img),
                (Some(_), None) => true,
                _ => false,
            };
            let kind = if secondary {
                DragKind::Pan
            } else if let (true, Some((k, _))) = (pupil_first, nearest_pupil) {
                DragKind::Pupil(k)
            } else if let Some(i) = nearest_point {
                DragKind::Point(i)
            } else if let Some(part) = *selected {
                let (rot, scale) = handles(&points, part, xform.zoom);
                let (lo, hi) = part_bounds(&points, part);
                let pad = 8.0 / xform.zoom;
                if rot.distance(img) * xform.zoom <= HANDLE + 3.0 {
                    DragKind::PartRotate(part)
                } else if scale.distance(img) * xform.zoom <= HANDLE + 3.0 {
                    DragKind::PartScale(part)
                } else if img.x >= lo.x - pad
                    && img.x <= hi.x + pad
                    && img.y >= lo.y - pad
                    && img.y <= hi.y + pad
                {
                    DragKind::PartMove(part)
                } else {
                    DragKind::Pan
                }
            } else {
                DragKind::Pan
            };
            let pivot = match kind {
                DragKind::PartMove(p) | DragKind::PartRotate(p) | DragKind::PartScale(p) => {
                    part_centre(&points, p)
                }
                _ => img,
            };
            let label = match kind {
                DragKind::Point(i) => Some(format!("move point {i}")),
                DragKind::Pupil(_) => Some("move pupil".to_string()),
                DragKind::PartMove(p) => Some(format!("move {}", p.name())),
                DragKind::PartRotate(p) => Some(format!("rotate {}", p.name())),
                DragKind::PartScale(p) => Some(format!("scale {}", p.name())),
                DragKind::Pan => None,
            };
            if let Some(label) = label {
                doc.begin_gesture(&label);
            }
            state.drag = Some(Drag {
                kind,
                start_points: points,
                start_pupils: pupils,
                start_image: img,
                pivot,
            });
        }
    }

    if let Some(drag) = state.drag.clone() {
        if (response.dragged() || response.drag_stopped())
            && let Some(pointer) = response
                .interact_pointer_pos()
                .or(ui.input(|i| i.pointer.latest_pos()))
        {
            let cur = xform.to_image(pointer);
            let delta = cur - drag.start_image;
            let start = &drag.start_points;
            let edit = match drag.kind {
                DragKind::Point(i) => Some(move_point(start, i, start[i] + delta, mirror)),
                DragKind::Pupil(k) => {
                    if let Some(p) = drag.start_pupils {
                        let moved = move_pupil(&p, start, k, p[k] + delta, mirror);
                        if Some(moved) != doc.rig.as_ref().and_then(|r| r.face.pupils) {
                            doc.update_gesture_pupils(moved);
                            changed = true;
                        }
                    }
                    None
                }
                DragKind::PartMove(part) => {
                    let mut t = GroupTransform::identity(drag.pivot);
                    t.translate = delta;
                    Some(transform_part(start, part, &t, mirror))
                }
                DragKind::PartRotate(part) => {
                    let a0 = drag.start_image - drag.pivot;
                    let a1 = cur - drag.pivot;
                    let mut t = GroupTransform::identity(drag.pivot);
                    t.angle = a1.y.atan2(a1.x) - a0.y.atan2(a0.x);
                    Some(transform_part(start, part, &t, mirror))
                }
                DragKind::PartScale(part) => {
                    let d0 = drag.start_image.distance(drag.pivot).max(1e-3);
                    let mut t = GroupTransform::identity(drag.pivot);
                    t.scale = (cur.distance(drag.pivot) / d0).clamp(0.05, 20.0);
                    Some(transform_part(start, part, &t, mirror))
                }
                DragKind::Pan => {
                    state.pan += response.drag_delta();
                    xform.origin += response.drag_delta();
                    None
                }
            };
            if let Some((new_points, touched)) = edit
                && new_points
                    != doc
                        .rig
                        .as_ref()
                        .map(|r| r.face.points)
                        .unwrap_or(new_points)
            {
                doc.update_gesture(new_points, &touched);
                changed = true;
            }
        }
        if response.drag_stopped() || !ui.input(|i| i.pointer.any_down()) {
            doc.end_gesture();
            state.drag = None;
        }
    }

    // Placing by clicks: a click adds the next anchor (drags still pan).
    if let Some(anchors) = state.anchors.as_mut() {
        if response.clicked()
            && anchors.len() < ANCHOR_NAMES.len()
            && let Some(pos) = response.interact_pointer_pos()
        {
            anchors.push(xform.to_image(pos));
        }
    }
    // Otherwise a click selects the part whose contour (or point) is under the pointer.
    else if response.clicked()
        && let Some(pos) = response.interact_pointer_pos()
    {
        let img = xform.to_image(pos);
        let points = doc.rig.as_ref().map(|r| r.face.points).unwrap_or(points);
        *selected = point_near(&points, img, POINT_PICK / xform.zoom)
            .and_then(Part::of_index)
            .or_else(|| part_near(&points, img, CONTOUR_PICK / xform.zoom));
    }

    // Paint.
    paint_picture(&painter, texture, &xform, img_size);
    let Some(rig) = doc.rig.as_ref() else {
        return changed;
    };
    let points = rig.face.points;
    if let Some(anchors) = &state.anchors {
        // The current landmarks faintly, the clicks so far numbered.
        paint_landmarks(&painter, &xform, &points, None, None, None, 0.3);
        for (k, a) in anchors.iter().enumerate() {
            let p = xform.to_screen(*a);
            painter.circle(
                p,
                6.0,
                Color32::from_rgb(255, 210, 60),
                Stroke::new(1.5, Color32::BLACK),
            );
            painter.text(
                p + vec2(8.0, -8.0),
                egui::Align2::LEFT_BOTTOM,
                format!("{}", k + 1),
                egui::FontId::proportional(14.0),
                Color32::from_rgb(255, 210, 60),
            );
        }
        state.last_xform = Some(xform);
        return changed;
    }
    state.hovered = response
        .hover_pos()
        .and_then(|p| point_near(&points, xform.to_image(p), POINT_PICK / xform.zoom));
    paint_landmarks(
        &painter,
        &xform,
        &points,
        Some(&rig.face.confidence),
        *selected,
        state.hovered,
        1.0,
    );
    if let Some(pupils) = rig.face.pupils {
        paint_pupils(&painter, &xform, &points, &pupils, rig.face.pupil_radius);
        if let Some(k) = response
            .hover_pos()
            .and_then(|p| pupil_near(&pupils, xform.to_image(p), POINT_PICK / xform.zoom))
        {
            let side = if k == 0 { "left" } else { "right" };
            response
                .clone()
                .on_hover_text(format!("pupil of the eye on the {side} (drag to move)"));
        }
    }
    if let Some(part) = *selected {
        let (lo, hi) = part_bounds(&points, part);
        let pad = 8.0;
        let r = Rect::from_min_max(xform.to_screen(lo), xform.to_screen(hi)).expand(pad);
        painter.rect_stroke(
            r,
            CornerRadius::ZERO,
            Stroke::new(1.0, Color32::from_white_alpha(160)),
            egui::StrokeKind::Outside,
        );
        let (rot, scale) = handles(&points, part, xform.zoom);
        let (rot, scale) = (xform.to_screen(rot), xform.to_screen(scale));
        painter.line_segment(
            [pos2(r.center().x, r.top()), rot],
            Stroke::new(1.0, Color32::WHITE),
        );
        painter.circle(
            rot,
            HANDLE,
            Color32::from_rgb(60, 160, 255),
            Stroke::new(1.0, Color32::WHITE),
        );
        painter.rect_filled(
            Rect::from_center_size(scale, Vec2::splat(HANDLE * 2.0)),
            CornerRadius::ZERO,
            Color32::from_rgb(60, 160, 255),
        );
    }
    if let Some(i) = state.hovered {
        let conf = rig.face.confidence[i];
        let part = Part::of_index(i).map(Part::name).unwrap_or("");
        response
            .clone()
            .on_hover_text(format!("point {i} ({part}), confidence {conf:.2}"));
    }
    state.last_xform = Some(xform);
    changed
}
