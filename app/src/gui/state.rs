//! The document: inputs, the character's (edited) landmarks, settings, and undo/redo.
//!
//! Views never change the document directly; they call the edit methods here, which record
//! an undo step and bump the revision that tells the app to re-run retargeting and refresh
//! the preview.

use super::settings::Settings;
use eframe::egui::ColorImage;
use faceshot_core::landmarks::{Face, Track};
use faceshot_core::media::VideoInfo;
use image::RgbaImage;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the character's current landmarks came from.
#[derive(Clone, Debug, PartialEq)]
pub enum RigSource {
    /// A face file the user loaded.
    File(PathBuf),
    /// The `<image stem>.face.json` found next to the character image.
    Sidecar(PathBuf),
    /// Saved in a `.faceshot` project.
    Project(PathBuf),
    /// A generic frontal face placed in the middle of the image: a starting template for the
    /// user to drag into place, not a detection.
    Template,
    /// Found by the landmark matcher (its one-line account).
    Matched(String),
}

impl RigSource {
    /// A short description for the UI.
    pub fn describe(&self) -> String {
        match self {
            RigSource::File(p) => format!("loaded from {}", file_name(p)),
            RigSource::Sidecar(p) => format!("rig file {}", file_name(p)),
            RigSource::Project(p) => format!("from project {}", file_name(p)),
            RigSource::Template => {
                "starting template (not a detection): drag the points onto the face".into()
            }
            RigSource::Matched(note) => format!("matched: {note}"),
        }
    }
}

/// The last component of a path, for short labels.
pub fn file_name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// The character picture.
#[derive(Clone, Debug)]
pub struct Character {
    /// Image file.
    pub path: PathBuf,
    /// Decoded pixels.
    pub image: Arc<RgbaImage>,
}

/// The character's landmarks and the version to go back to on "reset".
#[derive(Clone, Debug, PartialEq)]
pub struct Rig {
    /// Current (edited) landmarks.
    pub face: Face,
    /// Where [`Rig::original`] came from.
    pub source: RigSource,
    /// The landmarks as loaded or placed, before any edit.
    pub original: Face,
}

/// Decoded driving video, downscaled for display.
#[derive(Debug)]
pub struct DrivingClip {
    /// Video file.
    pub path: PathBuf,
    /// Metadata.
    pub info: VideoInfo,
    /// Display frames (scaled by [`DrivingClip::scale`]).
    pub frames: Vec<Arc<ColorImage>>,
    /// Display size over video size.
    pub scale: f32,
}

impl DrivingClip {
    /// Frame rate, defaulting to 30 when the container gives none.
    pub fn fps(&self) -> f64 {
        if self.info.fps.is_finite() && self.info.fps > 0.0 {
            self.info.fps
        } else {
            30.0
        }
    }
}

/// Where the driving landmarks came from.
#[derive(Clone, Debug, PartialEq)]
pub enum TrackSource {
    /// A track file (JSON or `.npy`) the user loaded.
    File(PathBuf),
    /// `<video stem>.track.json` / `.track.npy` found next to the video.
    Sidecar(PathBuf),
    /// Tracked in the app from this video (not saved in a file yet).
    Tracked(PathBuf),
}

impl TrackSource {
    /// The file the track was read from (the video, for a track made in the app).
    pub fn path(&self) -> &std::path::Path {
        match self {
            TrackSource::File(p) | TrackSource::Sidecar(p) | TrackSource::Tracked(p) => p,
        }
    }
}

/// The driving face's landmarks over time.
#[derive(Clone, Debug)]
pub struct DrivingTrack {
    /// Landmarks per frame.
    pub track: Arc<Track>,
    /// Origin.
    pub source: TrackSource,
}

/// The part of the document that undo/redo restores.
#[derive(Clone, Debug, PartialEq)]
struct Snapshot {
    /// The whole rig: undoing a load or a match also restores where the points came from and
    /// what "reset" returns to.
    rig: Option<Rig>,
    settings: Settings,
}

#[derive(Clone, Debug)]
struct Step {
    label: String,
    before: Snapshot,
}

/// Everything the user works on.
#[derive(Debug, Default)]
pub struct Document {
    /// The character picture.
    pub character: Option<Character>,
    /// Its landmarks.
    pub rig: Option<Rig>,
    /// The driving video.
    pub driving: Option<Arc<DrivingClip>>,
    /// The driving landmarks.
    pub driving_track: Option<DrivingTrack>,
    /// Retargeting and preview settings.
    pub settings: Settings,
    /// The `.faceshot` file this document was loaded from or last saved to.
    pub project_path: Option<PathBuf>,
    undo: Vec<Step>,
    redo: Vec<Step>,
    /// Open gesture: the snapshot from before it started, pushed when it ends with a change.
    gesture: Option<Step>,
    /// Bumped by every change that needs re-computation (edits and inputs).
    revision: u64,
    /// Bumped by every edit of the landmarks or settings (what saving preserves).
    edit_revision: u64,
    saved_edit_revision: u64,
    /// Inputs changed since the project was saved (only tracked once there is a project).
    inputs_changed: bool,
}

/// Most undo steps kept.
const UNDO_LIMIT: usize = 500;

impl Document {
    /// Number of frames on the timeline.
    pub fn frame_count(&self) -> usize {
        if let Some(t) = &self.driving_track {
            t.track.len()
        } else if let Some(c) = &self.driving {
            c.frames.len()
        } else {
            0
        }
    }

    /// Timeline frame rate.
    pub fn fps(&self) -> f64 {
        if let Some(c) = &self.driving {
            c.fps()
        } else if let Some(t) = &self.driving_track {
            t.track.fps
        } else {
            30.0
        }
    }

    /// Changes whenever the landmarks, settings or inputs change (drives re-computation).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Whether there are unsaved edits (or, in a saved project, changed inputs).
    pub fn is_dirty(&self) -> bool {
        self.edit_revision != self.saved_edit_revision || self.inputs_changed
    }

    /// Mark the current state as saved.
    pub fn mark_saved(&mut self) {
        self.saved_edit_revision = self.edit_revision;
        self.inputs_changed = false;
    }

    /// Note an input change (not undoable).
    pub fn touch(&mut self) {
        self.revision += 1;
        if self.project_path.is_some() {
            self.inputs_changed = true;
        }
    }

    fn edited(&mut self) {
        self.revision += 1;
        self.edit_revision += 1;
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            rig: self.rig.clone(),
            settings: self.settings.clone(),
        }
    }

    fn restore(&mut self, s: Snapshot) {
        if self.rig.is_some() && s.rig.is_some() {
            self.rig = s.rig;
        }
        self.settings = s.settings;
        self.edited();
    }

    /// Set a new character picture and its rig; clears undo history (old steps refer to the
    /// old picture).
    pub fn set_character(&mut self, character: Character, rig: Rig) {
        self.character = Some(character);
        self.rig = Some(rig);
        self.undo.clear();
        self.redo.clear();
        self.gesture = None;
        self.touch();
    }

    /// Take `face` as the landmarks the picture was loaded with: no undo step, not an edit.
    pub fn adopt_rig(&mut self, face: Face, source: RigSource) {
        let Some(rig) = self.rig.as_mut() else { return };
        rig.face = face.clone();
        rig.original = face;
        rig.source = source;
        self.revision += 1;
    }

    /// Replace the landmarks with a loaded face (undoable).
    pub fn replace_rig(&mut self, face: Face, source: RigSource) {
        self.replace_rig_with("load landmarks", face, source);
    }

    /// Replace the landmarks with `face` from `source` as one undoable step named `label`;
    /// "reset" then returns to them.
    pub fn replace_rig_with(&mut self, label: &str, face: Face, source: RigSource) {
        let before = self.snapshot();
        let Some(rig) = self.rig.as_mut() else { return };
        rig.face = face.clone();
        rig.original = face;
        rig.source = source;
        self.push_step(label, before);
        self.edited();
    }

    /// Start a gesture (a drag): later [`Document::update_gesture`] calls change the face and
    /// [`Document::end_gesture`] records one undo step for the whole gesture.
    pub fn begin_gesture(&mut self, label: &str) {
        if self.gesture.is_none() {
            self.gesture = Some(Step {
                label: label.into(),
                before: self.snapshot(),
            });
        }
    }

    /// Whether a gesture is open.
    pub fn in_gesture(&self) -> bool {
        self.gesture.is_some()
    }

    /// Set the landmarks during a gesture; points in `touched` become fully confident (placed
    /// by hand). The pupils move with their eyes' corners.
    pub fn update_gesture(
        &mut self,
        points: faceshot_core::landmarks::Landmarks,
        touched: &[usize],
    ) {
        let start = self
            .gesture
            .as_ref()
            .and_then(|g| g.before.rig.as_ref())
            .map(|r| (r.face.points, r.face.pupils));
        let Some(rig) = self.rig.as_mut() else { return };
        if rig.face.points == points {
            return;
        }
        // Pupils keep their place in their eyes (relative to the gesture's start: no drift).
        if let Some((before, Some(pupils))) = start {
            rig.face.pupils = Some(crate::gui::edit::pupils_following_eyes(
                &pupils, &before, &points,
            ));
        }
        rig.face.points = points;
        for &i in touched {
            if let Some(c) = rig.face.confidence.get_mut(i) {
                *c = 1.0;
            }
        }
        self.edited();
    }

    /// Set the pupils during a gesture.
    pub fn update_gesture_pupils(&mut self, pupils: [faceshot_core::landmarks::Point; 2]) {
        let Some(rig) = self.rig.as_mut() else { return };
        if rig.face.pupils == Some(pupils) {
            return;
        }
        rig.face.pupils = Some(pupils);
        self.edited();
    }

    /// Close the gesture; records an undo step if anything changed.
    pub fn end_gesture(&mut self) {
        if let Some(step) = self.gesture.take()
            && step.before != self.snapshot()
        {
            self.push_step(&step.label, step.before);
        }
    }

    /// Apply a one-shot edit of the settings (undoable). No-op when unchanged.
    pub fn edit_settings(&mut self, label: &str, f: impl FnOnce(&mut Settings)) {
        let before = self.snapshot();
        f(&mut self.settings);
        if before.settings != self.settings {
            // Inside an open gesture (a slider drag) the step is recorded when it ends.
            if self.gesture.is_none() {
                self.push_step(label, before);
            }
            self.edited();
        }
    }

    /// Back to the landmarks as loaded or placed (undoable).
    pub fn reset_rig(&mut self) {
        let Some(rig) = self.rig.as_ref() else { return };
        if rig.face == rig.original {
            return;
        }
        let before = self.snapshot();
        if let Some(rig) = self.rig.as_mut() {
            rig.face = rig.original.clone();
        }
        self.push_step("reset landmarks", before);
        self.edited();
    }

    fn push_step(&mut self, label: &str, before: Snapshot) {
        self.undo.push(Step {
            label: label.into(),
            before,
        });
        if self.undo.len() > UNDO_LIMIT {
            self.undo.remove(0);
        }
        self.redo.clear();
    }

    /// Label of the step [`Document::undo`] would revert.
    pub fn undo_label(&self) -> Option<&str> {
        self.undo.last().map(|s| s.label.as_str())
    }

    /// Label of the step [`Document::redo`] would re-apply.
    pub fn redo_label(&self) -> Option<&str> {
        self.redo.last().map(|s| s.label.as_str())
    }

    /// Revert the last step. Returns whether there was one.
    pub fn undo(&mut self) -> bool {
        self.end_gesture();
        let Some(step) = self.undo.pop() else {
            return false;
        };
        let now = self.snapshot();
        self.redo.push(Step {
            label: step.label.clone(),
            before: now,
        });
        self.restore(step.before);
        true
    }

    /// Re-apply the last undone step. Returns whether there was one.
    pub fn redo(&mut self) -> bool {
        self.end_gesture();
        let Some(step) = self.redo.pop() else {
            return false;
        };
        let now = self.snapshot();
        self.undo.push(Step {
            label: step.label.clone(),
            before: now,
        });
        self.restore(step.before);
        true
    }

    /// Number of undo steps available.
    pub fn undo_depth(&self) -> usize {
        self.undo.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faceshot_core::landmarks::Point;
    use faceshot_core::landmarks::synthetic::frontal_face;

    fn doc() -> Document {
        let mut d = Document::default();
        let face = Face::new(frontal_face(50.0, 50.0, 20.0), None);
        d.set_character(
            Character {
                path: "c.png".into(),
                image: Arc::new(RgbaImage::new(100, 100)),
            },
            Rig {
                face: face.clone(),
                source: RigSource::Template,
                original: face,
            },
        );
        d.mark_saved();
        d
    }

    fn drag(d: &mut Document, i: usize, to: Point) {
        d.begin_gesture("move point");
        let mut p = d.rig.as_ref().unwrap().face.points;
        p[i] = to;
        d.update_gesture(p, &[i]);
        d.end_gesture();
    }

    #[test]
    fn a_gesture_is_one_undo_step_and_redo_restores_it() {
        let mut d = doc();
        let start = d.rig.as_ref().unwrap().face.points;
        d.begin_gesture("move point");
        for k in 0..10 {
            let mut p = start;
            p[3] = Point::new(k as f32, 0.0);
            d.update_gesture(p, &[3]);
        }
        d.end_gesture();
        assert_eq!(d.undo_depth(), 1);
        assert!(d.is_dirty());
        assert!(d.undo());
        assert_eq!(d.rig.as_ref().unwrap().face.points, start);
        assert!(d.redo());
        assert_eq!(d.rig.as_ref().unwrap().face.points[3], Point::new(9.0, 0.0));
        assert!(!d.redo());
    }

    #[test]
    fn pupils_are_dragged_undone_and_ride_along_with_their_eyes() {
        let mut d = doc();
        let points = d.rig.as_ref().unwrap().face.points;
        let pupils = faceshot_core::landmarks::eye_centres(&points);
        d.rig.as_mut().unwrap().face.pupils = Some(pupils);
        d.begin_gesture("move pupil");
        d.update_gesture_pupils([pupils[0] + Point::new(1.0, 0.0), pupils[1]]);
        d.end_gesture();
        assert_eq!(d.undo_depth(), 1);
        // Moving the whole image-left eye takes its pupil along.
        d.begin_gesture("move right eye");
        let mut p = points;
        for q in &mut p[36..42] {
            *q = *q + Point::new(0.0, 2.0);
        }
        d.update_gesture(p, &[]);
        d.end_gesture();
        let now = d.rig.as_ref().unwrap().face.pupils.unwrap();
        assert!(
            now[0].distance(pupils[0] + Point::new(1.0, 2.0)) < 1e-4,
            "{now:?}"
        );
        assert_eq!(now[1], pupils[1]);
        assert!(d.undo() && d.undo());
        assert_eq!(d.rig.as_ref().unwrap().face.pupils, Some(pupils));
    }

    #[test]
    fn a_gesture_without_change_leaves_no_step() {
        let mut d = doc();
        d.begin_gesture("nothing");
        d.end_gesture();
        assert_eq!(d.undo_depth(), 0);
        assert!(!d.is_dirty());
    }

    #[test]
    fn settings_and_reset_are_undoable_and_new_edits_clear_redo() {
        let mut d = doc();
        drag(&mut d, 5, Point::new(1.0, 1.0));
        d.edit_settings("mouth gain", |s| s.gains.mouth = 1.5);
        d.reset_rig();
        assert_eq!(
            d.rig.as_ref().unwrap().face.points[5],
            frontal_face(50.0, 50.0, 20.0)[5]
        );
        assert_eq!(d.undo_label(), Some("reset landmarks"));
        assert!(d.undo());
        assert_eq!(d.rig.as_ref().unwrap().face.points[5], Point::new(1.0, 1.0));
        assert!(d.undo());
        assert_eq!(d.settings.gains.mouth, 1.0);
        drag(&mut d, 6, Point::new(2.0, 2.0));
        assert!(d.redo_label().is_none());
    }

    #[test]
    fn edited_points_become_confident() {
        let mut d = doc();
        if let Some(r) = d.rig.as_mut() {
            r.face.confidence = [0.0; 68];
        }
        drag(&mut d, 7, Point::new(3.0, 3.0));
        let c = d.rig.as_ref().unwrap().face.confidence;
        assert_eq!(c[7], 1.0);
        assert_eq!(c[8], 0.0);
    }
}
