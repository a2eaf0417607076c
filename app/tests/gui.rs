//! UI tests: drive the real app through egui_kittest (no window, no GPU) and check the
//! document, the worker's results and the files written.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../tests/support/local_hub.rs"]
mod local_hub;

use common::{astronaut, harness, settle, with_character, write_track};
use eframe::egui::{Key, Modifiers, Pos2, ViewportEvent, ViewportId, vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use faceshot::gui::app::NoticeLevel;
use faceshot::gui::edit::{face_axis, mirror_vector, part_bounds};
use faceshot::gui::project::Project;
use faceshot::gui::state::RigSource;
use faceshot::gui::{FaceShotApp, LaunchOptions};
use faceshot_core::landmarks::{Landmarks, Part, Point};

fn points(h: &Harness<'static, FaceShotApp>) -> Landmarks {
    h.state().doc.rig.as_ref().expect("rig").face.points
}

fn screen(h: &Harness<'static, FaceShotApp>, i: usize) -> Pos2 {
    h.state()
        .view
        .canvas
        .screen_pos(&points(h), i)
        .expect("canvas has been drawn")
}

/// Press at `from`, move in two steps, release at `to` (hovering first, as egui expects).
fn drag(h: &mut Harness<'static, FaceShotApp>, from: Pos2, to: Pos2) {
    h.hover_at(from);
    h.step();
    h.drag_at(from);
    h.step();
    h.hover_at(from + (to - from) * 0.5);
    h.step();
    h.hover_at(to);
    h.step();
    h.drop_at(to);
    h.step();
    h.step();
}

#[test]
fn first_start_loads_the_sample_and_says_what_is_missing() {
    let mut h = harness(common::sample_launch());
    settle(&mut h);
    let app = h.state();
    let c = app.doc.character.as_ref().expect("sample character");
    assert!(c.path.ends_with("astronaut.png"));
    assert_eq!(c.image.dimensions(), (512, 512));
    let rig = app.doc.rig.as_ref().expect("rig");
    let clip = common::assets().join("driving").join("sample_talk.mp4");
    if clip.is_file() {
        assert!(
            app.doc.driving.is_some(),
            "the sample clip is present but did not load"
        );
    } else {
        assert!(
            app.sample_note()
                .is_some_and(|n| n.contains("sample_talk.mp4"))
        );
        h.get_by_label_contains("sample driving clip");
    }
    if rig.source == RigSource::Template {
        // The template is labelled as such and its points are flagged for checking.
        assert!(rig.face.confidence.iter().all(|&c| c == 0.0));
        h.get_by_label_contains("starting template (not a detection)");
    }
    assert!(
        !h.state().doc.is_dirty(),
        "loading the sample is not an edit"
    );
}

#[test]
fn dragging_a_landmark_moves_it_and_undo_redo_restore_it() {
    let mut h = with_character();
    h.state_mut().view.mirror = false;
    h.step();
    let before = points(&h);
    let zoom = h.state().view.canvas.zoom();
    let from = screen(&h, 30);
    drag(&mut h, from, from + vec2(30.0, 20.0));
    let after = points(&h);
    let moved = after[30] - before[30];
    let want = Point::new(30.0 / zoom, 20.0 / zoom);
    assert!(
        moved.distance(want) < 0.6 / zoom + 0.01,
        "moved {moved:?}, want {want:?}"
    );
    for i in (0..68).filter(|&i| i != 30) {
        assert_eq!(after[i], before[i], "point {i} must stay");
    }
    let conf = h.state().doc.rig.as_ref().unwrap().face.confidence;
    assert_eq!(conf[30], 1.0, "a point placed by hand is confident");
    assert_eq!(h.state().doc.undo_depth(), 1, "one drag is one undo step");
    assert!(h.state().doc.is_dirty());

    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.step();
    assert_eq!(points(&h), before, "Ctrl+Z undoes the drag");
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.step();
    assert_eq!(points(&h), after, "Ctrl+Shift+Z redoes it");
}

#[test]
fn mirror_editing_moves_the_counterpart() {
    let mut h = with_character();
    h.state_mut().view.mirror = true;
    h.step();
    let before = points(&h);
    let from = screen(&h, 36);
    drag(&mut h, from, from + vec2(-12.0, -8.0));
    let after = points(&h);
    let d36 = after[36] - before[36];
    let d45 = after[45] - before[45];
    assert!(d36.x < -1.0 && d36.y < -1.0, "{d36:?}");
    // The counterpart moves by the displacement mirrored across the face's axis.
    let (_, axis) = face_axis(&before);
    let want = mirror_vector(d36, axis);
    assert!(d45.distance(want) < 1e-3, "{d36:?} {d45:?} {want:?}");
    // Roughly a horizontal flip for this upright face.
    assert!((d45.x + d36.x).abs() < 0.5 && (d45.y - d36.y).abs() < 0.5);
}

/// A screen position inside `part`'s box at least 12 px from every landmark.
fn free_spot_in_box(h: &Harness<'static, FaceShotApp>, part: Part) -> Pos2 {
    let pts = points(h);
    let (lo, hi) = part_bounds(&pts, part);
    let xf = h.state().view.canvas.last_xform.expect("drawn");
    let (lo, hi) = (xf.to_screen(lo), xf.to_screen(hi));
    let screen_pts: Vec<Pos2> = pts.iter().map(|p| xf.to_screen(*p)).collect();
    let mut best = (0.0f32, lo);
    for i in 1..20 {
        for j in 1..20 {
            let p = Pos2::new(
                lo.x + (hi.x - lo.x) * i as f32 / 20.0,
                lo.y + (hi.y - lo.y) * j as f32 / 20.0,
            );
            let d = screen_pts
                .iter()
                .map(|q| q.distance(p))
                .fold(f32::MAX, f32::min);
            if d > best.0 {
                best = (d, p);
            }
        }
    }
    assert!(best.0 >= 12.0, "no free spot in the box");
    best.1
}

#[test]
fn clicking_a_contour_selects_the_part_and_dragging_its_box_moves_it() {
    let mut h = with_character();
    h.state_mut().view.mirror = false;
    h.step();
    let before = points(&h);
    // Click between two jaw points (on the contour, not on a point).
    let a = screen(&h, 3);
    let b = screen(&h, 4);
    let on_contour = a + (b - a) * 0.5;
    h.hover_at(on_contour);
    h.step();
    h.get_by_label_contains("Click a contour");
    h.event(eframe::egui::Event::PointerButton {
        pos: on_contour,
        button: eframe::egui::PointerButton::Primary,
        pressed: true,
        modifiers: Modifiers::NONE,
    });
    h.step();
    h.event(eframe::egui::Event::PointerButton {
        pos: on_contour,
        button: eframe::egui::PointerButton::Primary,
        pressed: false,
        modifiers: Modifiers::NONE,
    });
    h.step();
    h.step();
    assert_eq!(h.state().view.selected_part, Some(Part::Jaw));

    // Drag from inside the jaw's box, away from any point: the whole jaw moves.
    let inside = free_spot_in_box(&h, Part::Jaw);
    drag(&mut h, inside, inside + vec2(0.0, 15.0));
    let after = points(&h);
    let zoom = h.state().view.canvas.zoom();
    for &i in Part::Jaw.indices() {
        let d = after[i] - before[i];
        assert!(
            (d.y - 15.0 / zoom).abs() < 0.05 && d.x.abs() < 0.05,
            "point {i}: {d:?}"
        );
    }
    assert_eq!(after[30], before[30]);
    assert_eq!(h.state().doc.undo_label(), Some("move jaw"));
}

#[test]
fn reset_returns_to_the_loaded_landmarks_and_is_undoable() {
    let mut h = with_character();
    let before = points(&h);
    let from = screen(&h, 8);
    drag(&mut h, from, from + vec2(0.0, 25.0));
    assert_ne!(points(&h), before);
    h.get_by_label("Reset").click();
    h.step();
    h.step();
    assert_eq!(points(&h), before);
    h.state_mut().undo();
    assert_ne!(points(&h), before);
}

#[test]
fn a_driving_track_fills_the_timeline_and_the_plot_and_scrubbing_moves_the_playhead() {
    let dir = tempfile::tempdir().unwrap();
    let track = write_track(dir.path(), 40);
    let mut h = with_character();
    h.state_mut().open_path(&track);
    settle(&mut h);
    assert_eq!(h.state().frame_count(), 40);
    assert!(
        h.state_mut()
            .driving_curves()
            .is_some_and(|c| c.mouth.len() == 40)
    );
    h.get_by_label_contains("40 frames from driving.track.json");
    // Step with the keyboard and with the frame slider.
    h.key_press(Key::ArrowRight);
    h.step();
    assert_eq!(h.state().view.playhead, 1);
    h.get_by_role_and_label(eframe::egui::accesskit::Role::Slider, "frame")
        .set_value_accesskit(25.0);
    h.step();
    h.step();
    assert_eq!(h.state().view.playhead, 25);
    // Pick it as the reference frame (an undoable settings edit).
    h.get_by_label("Use as reference").click();
    h.step();
    h.step();
    assert_eq!(h.state().reference_frame(), Some(25));
    assert_eq!(h.state().doc.undo_label(), Some("pick reference frame"));
}

#[test]
fn project_save_and_reopen_keeps_the_rig_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let track = write_track(dir.path(), 12);
    let mut h = with_character();
    h.state_mut().open_path(&track);
    settle(&mut h);
    let from = screen(&h, 48);
    drag(&mut h, from, from + vec2(-10.0, 4.0));
    h.state_mut()
        .doc
        .edit_settings("smoothing", |s| s.smoothing = 0.4);
    let edited = points(&h);
    let path = dir.path().join("hero.faceshot");
    h.state_mut().save_project_as(path.clone());
    settle(&mut h);
    assert!(!h.state().doc.is_dirty(), "saved");
    let p = Project::load(&path).unwrap();
    assert_eq!(p.rig.as_ref().unwrap().points, edited);
    assert_eq!(p.settings.smoothing, 0.4);
    assert_eq!(p.character.as_deref(), Some(astronaut().as_path()));
    assert_eq!(p.driving_track.as_deref(), Some(track.as_path()));

    let mut h2 = harness(LaunchOptions {
        project: Some(path.clone()),
        ..Default::default()
    });
    settle(&mut h2);
    let app = h2.state();
    assert_eq!(app.doc.rig.as_ref().unwrap().face.points, edited);
    assert!(matches!(
        app.doc.rig.as_ref().unwrap().source,
        RigSource::Project(_)
    ));
    assert_eq!(app.doc.settings.smoothing, 0.4);
    assert_eq!(app.frame_count(), 12);
    assert!(
        !app.doc.is_dirty(),
        "a freshly opened project has no unsaved changes"
    );
}

#[test]
fn closing_with_unsaved_changes_asks_first() {
    let mut h = with_character();
    let from = screen(&h, 20);
    drag(&mut h, from, from + vec2(5.0, 5.0));
    assert!(h.state().doc.is_dirty());
    h.input_mut()
        .viewports
        .entry(ViewportId::ROOT)
        .or_default()
        .events
        .push(ViewportEvent::Close);
    h.step();
    h.step();
    assert!(h.state().quit_prompt_open());
    h.get_by_label("Save changes before quitting?");
    h.get_by_label("Cancel").click();
    h.step();
    h.step();
    assert!(!h.state().quit_prompt_open());
}

#[test]
fn a_failing_load_shows_a_message_and_the_app_keeps_working() {
    let mut h = with_character();
    h.state_mut()
        .open_path(std::path::Path::new("/no/such/picture.png"));
    settle(&mut h);
    let n = h.state().jobs.notices.last().expect("a message");
    assert!(
        n.text.contains("picture.png") && n.text.contains("failed"),
        "{}",
        n.text
    );
    h.get_by_label_contains("picture.png");
    // Still editable.
    let before = points(&h);
    let from = screen(&h, 8);
    drag(&mut h, from, from + vec2(0.0, 10.0));
    assert_ne!(points(&h), before);
}

#[test]
fn a_face_file_replaces_the_template() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = with_character();
    let mut face = h.state().doc.rig.as_ref().unwrap().face.clone();
    for p in &mut face.points {
        *p = *p + Point::new(7.0, -3.0);
    }
    face.confidence = [0.9; 68];
    face.confidence[5] = 0.2;
    let path = dir.path().join("astronaut.face.json");
    face.save(&path).unwrap();
    h.state_mut().open_path(&path);
    settle(&mut h);
    let rig = h.state().doc.rig.as_ref().unwrap();
    assert_eq!(rig.face.points, face.points);
    assert!(matches!(rig.source, RigSource::File(_)));
    h.get_by_label_contains("1 points to check");
    assert!(
        h.query_by_label_contains("Most points are uncertain")
            .is_none()
    );
}

/// A face whose points are mostly uncertain (a structural fit that found little) points the
/// user to the five-click fit.
#[test]
fn a_mostly_uncertain_face_suggests_placing_it_by_clicks() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = with_character();
    let mut face = h.state().doc.rig.as_ref().unwrap().face.clone();
    face.confidence = [0.9; 68];
    for c in &mut face.confidence[..40] {
        *c = 0.2;
    }
    let path = dir.path().join("astronaut.face.json");
    face.save(&path).unwrap();
    h.state_mut().open_path(&path);
    settle(&mut h);
    h.get_by_label_contains("40 points to check");
    h.get_by_label_contains("Most points are uncertain");
}

/// Open the export dialog with `choice` and `path` typed in, press Export, wait for the worker.
fn export_with_dialog(
    h: &mut Harness<'static, FaceShotApp>,
    choice: faceshot::gui::views::export::ExportChoice,
    path: &std::path::Path,
) {
    use eframe::egui::accesskit::Role;
    {
        let app = h.state_mut();
        app.view.export.open = true;
        app.view.export.choice = choice;
        app.view.export.path = path.display().to_string();
    }
    h.run_steps(3);
    h.get_by_role_and_label(Role::Button, "Export").click();
    h.step();
    settle(h);
}

fn mouth_gap(p: &Landmarks) -> f32 {
    p[66].y - p[62].y
}

#[test]
fn edits_and_gains_rerun_retargeting_and_the_landmarks_export_writes_the_result() {
    use eframe::egui::accesskit::Role;
    use faceshot::gui::views::export::ExportChoice;
    use faceshot_core::landmarks::Track;

    let dir = tempfile::tempdir().unwrap();
    let track = write_track(dir.path(), 30);
    let mut h = with_character();
    h.state_mut().open_path(&track);
    settle(&mut h);
    let rev = h.state().doc.revision();
    let (r, base) = h.state().character_track.clone().expect("retargeted");
    assert_eq!(r, rev);
    assert_eq!(base.len(), 30);
    // At the reference frame (the first) the character keeps its own landmarks.
    assert_eq!(base.frames[0], points(&h));

    // A landmark drag re-runs retargeting.
    let from = screen(&h, 8);
    drag(&mut h, from, from + vec2(0.0, 12.0));
    settle(&mut h);
    let (r, edited) = h.state().character_track.clone().unwrap();
    assert_eq!(r, h.state().doc.revision());
    assert_eq!(edited.frames[0], points(&h));
    assert!(!h.state().perf.edit_to_preview_ms.is_empty());

    // Raise the mouth gain with its slider: the mouth opens wider.
    let widest = (0..30)
        .max_by(|&a, &b| mouth_gap(&edited.frames[a]).total_cmp(&mouth_gap(&edited.frames[b])))
        .unwrap();
    h.get_by_role_and_label(Role::Slider, "mouth gain")
        .set_value_accesskit(2.0);
    h.step();
    settle(&mut h);
    assert_eq!(h.state().doc.settings.gains.mouth, 2.0);
    assert_eq!(h.state().doc.undo_label(), Some("mouth gain"));
    let (_, strong) = h.state().character_track.clone().unwrap();
    assert!(
        mouth_gap(&strong.frames[widest]) > mouth_gap(&edited.frames[widest]) + 1.0,
        "{} vs {}",
        mouth_gap(&strong.frames[widest]),
        mouth_gap(&edited.frames[widest])
    );

    // Export the character's landmarks as .npy through the dialog.
    export_with_dialog(
        &mut h,
        ExportChoice::LandmarksNpy,
        &dir.path().join("motion"),
    );
    let out = dir.path().join("motion.npy");
    assert_eq!(
        h.state().view.export.last_output.as_deref(),
        Some(out.as_path())
    );
    let written = Track::load(&out, Some(strong.fps)).unwrap();
    assert_eq!(written.len(), 30);
    for (a, b) in written.frames.iter().zip(&strong.frames) {
        for (p, q) in a.iter().zip(b) {
            assert!(p.distance(*q) < 1e-3);
        }
    }
    let note = &h.state().jobs.notices.last().expect("a message").text;
    assert!(
        note.starts_with("Exported 30 frames to") && note.contains("motion.npy"),
        "{note}"
    );

    // Undo the gain: retargeting runs again with the old gain.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.step();
    settle(&mut h);
    assert_eq!(h.state().doc.settings.gains.mouth, 1.0);
    let (_, back) = h.state().character_track.clone().unwrap();
    assert_eq!(back.frames, edited.frames);
}

#[test]
fn the_preview_animates_and_the_video_export_writes_mp4_and_gif() {
    use faceshot::gui::jobs::ExportKind;
    use faceshot::gui::views::export::ExportChoice;
    use faceshot_core::media::VideoReader;

    let dir = tempfile::tempdir().unwrap();
    let track = write_track(dir.path(), 12);
    let mut h = with_character();
    h.state_mut().open_path(&track);
    settle(&mut h);
    assert!(h.state().export_readiness(ExportKind::Video).is_ok());

    // The preview is the rendered character, at the picture's size, and it moves.
    let rendered = |h: &mut Harness<'static, FaceShotApp>, frame: usize| {
        h.state_mut().seek(frame);
        settle(h);
        let p = h.state().preview.as_ref().expect("a preview frame");
        assert_eq!(p.frame, frame);
        assert_eq!(p.texture.size(), [512, 512]);
        assert!(h.state().preview_error.is_none());
        p.texture.id()
    };
    rendered(&mut h, 0);
    h.get_by_label_contains("rendered in");

    // MP4 through the dialog: every frame, the picture's size.
    export_with_dialog(&mut h, ExportChoice::Mp4, &dir.path().join("talk"));
    let mp4 = dir.path().join("talk.mp4");
    assert_eq!(
        h.state().view.export.last_output.as_deref(),
        Some(mp4.as_path())
    );
    let mut reader = VideoReader::open(&mp4).unwrap();
    assert_eq!((reader.info().width, reader.info().height), (512, 512));
    let mut frames = Vec::new();
    while let Some(f) = reader.next_frame().unwrap() {
        frames.push(f.image);
    }
    assert_eq!(frames.len(), 12);
    // The mouth opens and closes: frames differ around the mouth, by more than coding noise.
    let rig = points(&h);
    let (x0, x1, y0, y1) = rig[48..68]
        .iter()
        .fold((512, 0, 512, 0), |(a, b, c, d), p| {
            (
                a.min(p.x as u32),
                b.max(p.x as u32),
                c.min(p.y as u32),
                d.max(p.y as u32 + 10),
            )
        });
    let mouth_diff = |a: &image::RgbImage, b: &image::RgbImage| -> f64 {
        let mut sum = 0.0;
        for y in y0..y1 {
            for x in x0..x1 {
                let (p, q) = (a.get_pixel(x, y).0, b.get_pixel(x, y).0);
                sum += (0..3).map(|c| f64::from(p[c].abs_diff(q[c]))).sum::<f64>();
            }
        }
        sum / f64::from((x1 - x0) * (y1 - y0) * 3)
    };
    let most = (1..frames.len())
        .map(|k| mouth_diff(&frames[0], &frames[k]))
        .fold(0.0, f64::max);
    assert!(most > 3.0, "the exported character does not move: {most}");

    // GIF at a smaller size.
    h.state_mut().view.export.gif_side = 256;
    export_with_dialog(&mut h, ExportChoice::Gif, &dir.path().join("talk.gif"));
    let gif = dir.path().join("talk.gif");
    let decoded = image::open(&gif).expect("a readable GIF");
    assert_eq!((decoded.width(), decoded.height()), (256, 256));
    let note = &h.state().jobs.notices.last().expect("a message").text;
    assert!(note.starts_with("Exported 12 frames to"), "{note}");
}

#[test]
fn rematch_replaces_the_landmarks_and_undo_brings_the_edit_back() {
    use eframe::egui::accesskit::Role;
    use faceshot_core::matching::Backend;

    let mut h = with_character();
    let loaded = points(&h);
    // Spoil a point, then re-match with the face mesh (the astronaut is a photo).
    let from = screen(&h, 30);
    drag(&mut h, from, from + vec2(40.0, 0.0));
    settle(&mut h);
    let edited = points(&h);
    assert!(edited[30].distance(loaded[30]) > 10.0);
    h.state_mut().view.match_backend = Backend::Mesh;
    h.get_by_role_and_label(Role::Button, "Re-match").click();
    h.step();
    settle(&mut h);
    let rig = h.state().doc.rig.as_ref().unwrap();
    assert!(
        matches!(&rig.source, RigSource::Matched(_)),
        "{:?}",
        rig.source
    );
    let matched = rig.face.points;
    // The matched face agrees with the hand-placed rig (inter-ocular ~ 60 px here).
    let mean = matched
        .iter()
        .zip(&loaded)
        .map(|(a, b)| a.distance(*b))
        .sum::<f32>()
        / 68.0;
    assert!(mean < 12.0, "matched face is {mean} px from the rig");
    assert!(matched[30].distance(edited[30]) > 10.0);
    assert_eq!(h.state().doc.undo_label(), Some("match landmarks"));
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.step();
    assert_eq!(points(&h), edited);
    // Undo also brings back where the rig came from, and what Reset returns to.
    let rig = h.state().doc.rig.as_ref().unwrap();
    assert!(
        matches!(rig.source, RigSource::Sidecar(_)),
        "{:?}",
        rig.source
    );
    assert_eq!(rig.original.points, loaded);
}

/// Opens a copy of the astronaut with no landmark file beside it (so it is matched as it loads)
/// and checks that it was; the folder lives as long as the returned guard.
fn open_unrigged_picture(h: &mut Harness<'static, FaceShotApp>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pic = dir.path().join("hero.png");
    std::fs::copy(astronaut(), &pic).unwrap();
    h.state_mut().open_path(&pic);
    settle(h);
    let rig = h.state().doc.rig.as_ref().expect("rig");
    assert!(
        matches!(&rig.source, RigSource::Matched(_)),
        "{:?}",
        rig.source
    );
    dir
}

#[test]
fn a_picture_without_landmarks_is_matched_on_load() {
    let mut h = harness(LaunchOptions::default());
    let _dir = open_unrigged_picture(&mut h);
    let rig = h.state().doc.rig.as_ref().expect("rig");
    assert!(rig.face.confidence.iter().any(|&c| c > 0.0));
    h.get_by_label_contains("Landmarks matched:");
    // Matching a fresh picture is part of loading it: nothing to undo, nothing unsaved.
    assert_eq!(h.state().doc.undo_label(), None);
    assert!(!h.state().doc.is_dirty());
}

#[test]
fn placing_by_clicks_fits_all_points_to_five_clicks() {
    use eframe::egui::accesskit::Role;

    let mut h = with_character();
    let rig = points(&h);
    let centre = |idx: &[usize]| {
        let s = idx.iter().fold(Point::new(0.0, 0.0), |a, &i| {
            Point::new(a.x + rig[i].x, a.y + rig[i].y)
        });
        Point::new(s.x / idx.len() as f32, s.y / idx.len() as f32)
    };
    // Where a user would click: the rig's eye centres, nose tip and mouth corners, moved a
    // little so the fit has something to follow.
    let shift = Point::new(6.0, -4.0);
    let clicks: Vec<Point> = [
        centre(Part::RightEye.indices()),
        centre(Part::LeftEye.indices()),
        rig[30],
        rig[48],
        rig[54],
    ]
    .iter()
    .map(|p| Point::new(p.x + shift.x, p.y + shift.y))
    .collect();

    h.get_by_role_and_label(Role::Button, "Place by clicks…")
        .click();
    h.run_steps(2);
    assert!(h.state().view.canvas.anchors.is_some(), "not placing");
    h.get_by_label_contains("Click the eye on the left (1 of 5)");
    for c in &clicks {
        let at = h
            .state()
            .view
            .canvas
            .last_xform
            .expect("canvas")
            .to_screen(*c);
        h.hover_at(at);
        h.step();
        h.drag_at(at);
        h.step();
        h.drop_at(at);
        h.step();
    }
    settle(&mut h);
    assert!(h.state().view.canvas.anchors.is_none(), "still placing");
    let rig_after = h.state().doc.rig.as_ref().unwrap();
    assert!(
        matches!(&rig_after.source, RigSource::Matched(n) if n.contains("five-click")),
        "{:?}",
        rig_after.source
    );
    let fitted = rig_after.face.points;
    let fitted_centre = |idx: &[usize]| {
        let s = idx.iter().fold(Point::new(0.0, 0.0), |a, &i| {
            Point::new(a.x + fitted[i].x, a.y + fitted[i].y)
        });
        Point::new(s.x / idx.len() as f32, s.y / idx.len() as f32)
    };
    let got = [
        fitted_centre(Part::RightEye.indices()),
        fitted_centre(Part::LeftEye.indices()),
        fitted[30],
        fitted[48],
        fitted[54],
    ];
    for (g, c) in got.iter().zip(&clicks) {
        assert!(g.distance(*c) < 4.0, "{g:?} vs clicked {c:?}");
    }
    assert_eq!(h.state().doc.undo_label(), Some("match landmarks"));
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.step();
    assert_eq!(points(&h), rig);
}

#[test]
fn track_faces_tracks_the_driving_video_on_the_worker() {
    use eframe::egui::accesskit::Role;
    use faceshot::gui::state::TrackSource;

    let mut h = harness(common::sample_launch());
    settle(&mut h);
    // The sample clip comes with its landmarks beside it.
    let shipped = h.state().doc.driving_track.clone().expect("sample track");
    assert!(matches!(shipped.source, TrackSource::Sidecar(_)));
    h.get_by_role_and_label(Role::Button, "Track faces").click();
    h.run_steps(2);
    settle(&mut h);
    let tracked = h.state().doc.driving_track.clone().expect("tracked");
    assert!(matches!(tracked.source, TrackSource::Tracked(_)));
    assert_eq!(tracked.track.len(), shipped.track.len());
    assert!(tracked.track.found.iter().all(|&f| f));
    // The same tracker on the same clip: the shipped file's points, up to float noise.
    let worst = tracked
        .track
        .frames
        .iter()
        .zip(&shipped.track.frames)
        .flat_map(|(a, b)| a.iter().zip(b).map(|(p, q)| p.distance(*q)))
        .fold(0.0f32, f32::max);
    assert!(worst < 0.5, "{worst} px from the shipped track");
    h.get_by_label_contains("Tracked the face in 100 frames");
}

/// A folder with every file of a diffusers SD-2.1 folder, none of them a model.
fn fake_sd_folder() -> tempfile::TempDir {
    let fake = tempfile::tempdir().unwrap();
    for (_, variants) in faceshot_dift::REQUIRED {
        let p = fake.path().join(variants[0]);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, b"not a model").unwrap();
    }
    fake
}

#[test]
fn the_weights_folder_is_remembered_while_it_is_complete() {
    let prefs_dir = tempfile::tempdir().unwrap();
    let prefs = prefs_dir.path().join("faceshot").join("prefs.json");
    let launch = || LaunchOptions {
        prefs: Some(prefs.clone()),
        ..Default::default()
    };
    let fake = fake_sd_folder();
    let mut h = harness(launch());
    assert!(h.state().dift_weights.is_none());
    h.state_mut().set_dift_weights(fake.path().to_path_buf());
    assert!(prefs.is_file());
    // The next session has it (the matcher choice itself starts at auto again).
    let h2 = harness(launch());
    assert_eq!(h2.state().dift_weights.as_deref(), Some(fake.path()));
    // A folder that has lost its files is forgotten quietly.
    std::fs::remove_dir_all(fake.path().join("unet")).unwrap();
    let h3 = harness(launch());
    assert!(h3.state().dift_weights.is_none());
    // Unreadable preferences: a warning, and the app starts anyway.
    std::fs::write(&prefs, b"{oops").unwrap();
    let h4 = harness(launch());
    let n = h4.state().jobs.notices.last().expect("a message");
    assert!(n.text.contains("unreadable"), "{}", n.text);
}

#[test]
fn the_diffusion_matcher_needs_a_complete_weights_folder_and_a_broken_one_keeps_the_rig() {
    use eframe::egui::accesskit::Role;
    use faceshot_core::matching::Backend;

    let mut h = with_character();
    let loaded = points(&h);
    // An empty folder: refused, saying what is missing; nothing else changes.
    let empty = tempfile::tempdir().unwrap();
    h.state_mut().set_dift_weights(empty.path().to_path_buf());
    let n = h.state().jobs.notices.last().expect("a message");
    assert!(n.text.contains("unet"), "{}", n.text);
    assert!(h.state().dift_weights.is_none());
    assert_eq!(h.state().view.match_backend, Backend::Auto);
    // A folder with every file present (but not real weights): accepted and selected...
    let fake = fake_sd_folder();
    h.state_mut().set_dift_weights(fake.path().to_path_buf());
    assert_eq!(h.state().view.match_backend, Backend::Dift);
    h.step();
    // ...but matching with it fails with a message and leaves the landmarks as they were.
    h.get_by_role_and_label(Role::Button, "Re-match").click();
    h.step();
    settle(&mut h);
    assert!(h.state().jobs.matching.is_none());
    let n = h.state().jobs.notices.last().expect("a message");
    assert!(n.level == NoticeLevel::Error, "{}", n.text);
    assert_eq!(points(&h), loaded);
    assert!(matches!(
        h.state().doc.rig.as_ref().unwrap().source,
        RigSource::Sidecar(_)
    ));
    // A picture loaded now is still matched by `auto`, not by the diffusion matcher.
    let _dir = open_unrigged_picture(&mut h);
    assert_eq!(h.state().view.match_backend, Backend::Dift);
}

#[test]
fn downloading_the_weights_fills_the_folder_and_selects_the_diffusion_matcher() {
    use eframe::egui::accesskit::Role;
    use faceshot_core::matching::Backend;
    use faceshot_dift::hub::{DEFAULT_REPO, FILES, Hub};

    let models = tempfile::tempdir().unwrap();
    let dest = models.path().join("sd21");
    let mut h = harness(LaunchOptions {
        models_dir: Some(dest.clone()),
        ..Default::default()
    });
    settle(&mut h);
    assert!(h.state().dift_weights.is_none());
    // A hub that cannot be reached: an error that says so, and the button is offered again.
    let port = local_hub::closed_port();
    h.state_mut().hub = Hub::new(&format!("http://127.0.0.1:{port}"), DEFAULT_REPO, None);
    h.get_by_role_and_label(Role::Button, "Download SD 2.1…")
        .click();
    h.step();
    settle(&mut h);
    let n = h.state().jobs.notices.last().expect("a message");
    assert!(
        n.level == NoticeLevel::Error && n.text.contains("cannot reach"),
        "{}",
        n.text
    );
    assert!(h.state().dift_weights.is_none() && h.state().jobs.downloading.is_none());
    // A reachable one: every file arrives and the matcher is ready to use them.
    h.state_mut().hub = Hub::new(&local_hub::local_hub(), DEFAULT_REPO, None);
    h.step();
    h.get_by_role_and_label(Role::Button, "Download SD 2.1…")
        .click();
    h.step();
    settle(&mut h);
    assert_eq!(h.state().dift_weights.as_deref(), Some(dest.as_path()));
    assert_eq!(h.state().view.match_backend, Backend::Dift);
    for f in FILES {
        let body = std::fs::read_to_string(dest.join(f)).unwrap();
        assert!(body.ends_with(f), "{body}");
    }
    h.step();
    assert!(h.query_by_label("Download SD 2.1…").is_none());
    // The next start finds the download without being told where it is.
    let h2 = harness(LaunchOptions {
        models_dir: Some(dest.clone()),
        ..Default::default()
    });
    assert_eq!(h2.state().dift_weights.as_deref(), Some(dest.as_path()));
}

#[test]
fn exports_never_replace_the_documents_files_or_empty_a_folder() {
    use faceshot::gui::views::export::ExportChoice;
    let dir = tempfile::tempdir().unwrap();
    // The character is a copy, so nothing in the repository can be touched.
    let picture = dir.path().join("hero.png");
    std::fs::copy(astronaut(), &picture).unwrap();
    std::fs::copy(
        common::assets()
            .join("characters")
            .join("astronaut.face.json"),
        dir.path().join("hero.face.json"),
    )
    .unwrap();
    let track = write_track(dir.path(), 10);
    let mut h = harness(LaunchOptions {
        character: Some(picture.clone()),
        track: Some(track.clone()),
        ..Default::default()
    });
    settle(&mut h);
    let track_bytes = std::fs::read(&track).unwrap();

    // The landmarks exported over the driving track they were made from.
    export_with_dialog(&mut h, ExportChoice::LandmarksJson, &track);
    let note = &h.state().jobs.notices.last().expect("a message").text;
    assert!(note.contains("is also the driving track"), "{note}");
    assert_eq!(std::fs::read(&track).unwrap(), track_bytes);

    // The landmarks saved over the driving track: refused, with the reason.
    h.state_mut().save_face(track.clone());
    let note = &h.state().jobs.notices.last().expect("a message").text;
    assert!(
        note.starts_with("Not saved") && note.contains("driving track"),
        "{note}"
    );
    assert_eq!(std::fs::read(&track).unwrap(), track_bytes);

    // PNG frames into a folder holding someone's work.
    let folder = dir.path().join("work");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("notes.txt"), "mine").unwrap();
    export_with_dialog(&mut h, ExportChoice::PngSequence, &folder);
    let note = &h.state().jobs.notices.last().expect("a message").text;
    assert!(note.contains("already holds notes.txt"), "{note}");
    let names: Vec<_> = std::fs::read_dir(&folder).unwrap().collect();
    assert_eq!(names.len(), 1);

    // Into an empty folder it works, and the app keeps going.
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    export_with_dialog(&mut h, ExportChoice::PngSequence, &frames);
    assert_eq!(std::fs::read_dir(&frames).unwrap().count(), 10);
    assert!(std::fs::read(&picture).unwrap() == std::fs::read(astronaut()).unwrap());
}

#[test]
fn a_long_character_header_stops_before_the_driving_pane() {
    let dir = tempfile::tempdir().unwrap();
    let name = "a_character_picture_with_a_rather_long_file_name_that_goes_on_and_on.png";
    let picture = dir.path().join(name);
    std::fs::copy(astronaut(), &picture).unwrap();
    let mut h = harness(LaunchOptions {
        character: Some(picture),
        ..Default::default()
    });
    settle(&mut h);
    h.run_steps(2);
    // The Inputs panel names the picture too; the header is the one right of it.
    let header = h
        .query_all_by_label_contains(name)
        .map(|n| n.rect())
        .max_by(|a, b| a.min.x.total_cmp(&b.min.x))
        .expect("the character header");
    let driving = h.get_by_label("Driving").rect();
    assert!(
        header.max.x <= driving.min.x,
        "the character header ends at {} past the Driving title at {}",
        header.max.x,
        driving.min.x
    );
}

#[test]
fn live_mode_runs_from_a_file_source_sets_neutral_applies_edits_and_records() {
    let mut h = with_character();
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("live.mp4");
    let clip = common::assets().join("driving").join("sample_talk.mp4");
    h.state_mut().view.live_source = clip.display().to_string();
    h.state_mut().view.live_record = record.display().to_string();
    // The output window (for OBS window capture) shows too.
    h.state_mut().view.live_output_window = true;
    h.get_by_label("Start live").click();
    h.step();
    assert!(
        h.state().live.is_some(),
        "{:?}",
        h.state().jobs.notices.last()
    );
    // Frames arrive while the UI keeps running.
    let start = std::time::Instant::now();
    let mut seen = 0u64;
    while start.elapsed() < std::time::Duration::from_secs(60) && seen < 15 {
        h.step();
        seen = h
            .state()
            .live
            .as_ref()
            .and_then(|l| l.latest.as_ref())
            .map_or(0, |v| v.frame);
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(seen >= 15, "only {seen} live frames");
    let view = h.state().live.as_ref().unwrap().latest.clone().unwrap();
    assert!(view.driver.is_some(), "the sample clip's face is tracked");
    assert_eq!([view.character.size[0], view.character.size[1]], [512, 512]);
    // Set neutral, and an edit of the settings reaches the running session.
    h.get_by_label("Set neutral").click();
    h.step();
    h.state_mut()
        .doc
        .edit_settings("gain", |s| s.gains.mouth = 2.0);
    for _ in 0..5 {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(h.state().live.is_some(), "live mode stopped early");
    // Mirroring the camera applies to the running session; frames keep coming.
    let before = h
        .state()
        .live
        .as_ref()
        .unwrap()
        .latest
        .as_ref()
        .unwrap()
        .frame;
    h.get_by_label("Mirror").click();
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(30)
        && h.state()
            .live
            .as_ref()
            .unwrap()
            .latest
            .as_ref()
            .unwrap()
            .frame
            < before + 5
    {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(!h.state().view.live_mirror);
    assert!(
        h.state()
            .live
            .as_ref()
            .unwrap()
            .latest
            .as_ref()
            .unwrap()
            .frame
            >= before + 5
    );
    h.get_by_label("Stop live").click();
    h.step();
    assert!(h.state().live.is_none());
    let note = &h.state().jobs.notices.last().expect("a message").text;
    assert!(
        note.starts_with("Live stopped") && note.contains("recorded to"),
        "{note}"
    );
    let frames = faceshot_core::media::VideoReader::open(&record)
        .unwrap()
        .info()
        .frame_count;
    assert!(frames >= 15, "{frames} frames recorded");
}

#[test]
fn live_mode_with_a_bad_source_says_why_and_keeps_the_work() {
    let mut h = with_character();
    h.state_mut().view.live_source = "/nonexistent/camera.mp4".into();
    let before = h.state().doc.rig.clone();
    h.get_by_label("Start live").click();
    h.step();
    assert!(h.state().live.is_none());
    let n = h.state().jobs.notices.last().expect("a message");
    assert_eq!(n.level, NoticeLevel::Error);
    assert!(n.text.contains("camera.mp4"), "{}", n.text);
    assert_eq!(h.state().doc.rig, before);
}

/// Two faces in one picture (the astronaut on the left, a generated cartoon on the right):
/// "Match in a box…" and a box dragged around the cartoon put the landmarks on the cartoon, as
/// one undoable step.
#[test]
fn matching_in_a_dragged_box_picks_the_face_inside_it() {
    use eframe::egui::accesskit::Role;

    let dir = tempfile::tempdir().unwrap();
    let pic = dir.path().join("two_faces.png");
    let left = image::imageops::resize(
        &faceshot_core::media::load_image(&astronaut()).unwrap(),
        256,
        256,
        image::imageops::FilterType::Triangle,
    );
    let right = faceshot_core::cartoon::Cartoon::generate(9, 256);
    let mut pair = image::RgbaImage::new(512, 256);
    image::imageops::replace(&mut pair, &left, 0, 0);
    image::imageops::replace(&mut pair, &right.image, 256, 0);
    pair.save(&pic).unwrap();
    let mut h = harness(LaunchOptions::default());
    h.state_mut().open_path(&pic);
    settle(&mut h);
    let before = points(&h);

    h.get_by_role_and_label(Role::Button, "Match in a box…")
        .click();
    h.run_steps(2);
    assert!(h.state().view.canvas.face_box.is_some(), "not picking");
    h.get_by_label_contains("Drag a box around the face to match");
    let xform = h.state().view.canvas.last_xform.expect("canvas");
    drag(
        &mut h,
        xform.to_screen(Point::new(262.0, 6.0)),
        xform.to_screen(Point::new(506.0, 250.0)),
    );
    settle(&mut h);
    assert!(h.state().view.canvas.face_box.is_none(), "still picking");
    let rig = h.state().doc.rig.as_ref().unwrap();
    assert!(
        matches!(&rig.source, RigSource::Matched(n) if n.contains("in the box")),
        "{:?}",
        rig.source
    );
    let mut truth = right.face.points;
    for p in truth.iter_mut() {
        *p = Point::new(p.x + 256.0, p.y);
    }
    let e = faceshot_core::matching::eval::nme(&rig.face.points, &truth).unwrap();
    assert!(e < 0.04, "NME to the cartoon {e} (measured 0.020)");
    assert_eq!(h.state().doc.undo_label(), Some("match landmarks"));
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.step();
    assert_eq!(points(&h), before);
}
