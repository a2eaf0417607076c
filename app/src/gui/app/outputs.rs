//! Applying what the worker sends back (pictures, rigs, tracks, previews, exports, projects)
//! to the document and the view state.

use super::{FaceShotApp, NoticeLevel, PreviewFrame, template_face};
use crate::gui::jobs::{JobOutput, Request};
use crate::gui::project::Project;
use crate::gui::state::{
    Character, Document, DrivingTrack, Rig, RigSource, TrackSource, file_name,
};
use crate::gui::views;
use crate::gui::views::TextureCache;
use eframe::egui::{self, TextureOptions};
use faceshot_core::landmarks::{ImageSize, Track};
use std::path::PathBuf;
use std::sync::Arc;

impl FaceShotApp {
    pub(super) fn apply_output(&mut self, ctx: &egui::Context, output: JobOutput) {
        match output {
            JobOutput::Character {
                path,
                image,
                rig,
                rig_error,
            } => {
                let size = ImageSize {
                    width: image.width(),
                    height: image.height(),
                };
                let mut match_now = false;
                if let Some(e) = rig_error {
                    self.notify(NoticeLevel::Warning, format!("Rig file not used: {e}"));
                }
                let (face, source) = if let Some((face, source)) = self.pending_rig.take() {
                    (face, source)
                } else if let Some((p, face)) = rig {
                    (face, RigSource::Sidecar(p))
                } else {
                    // No landmarks for this picture yet: the template shows at once and the
                    // matcher replaces it when done.
                    match_now = true;
                    (template_face(size), RigSource::Template)
                };
                let mut face = face;
                face.image = Some(size);
                if !matches!(source, RigSource::Template) {
                    read_missing_pupils(&mut face, &image);
                }
                self.doc.set_character(
                    Character { path, image },
                    Rig {
                        original: face.clone(),
                        face,
                        source,
                    },
                );
                self.view.selected_part = None;
                self.view.canvas.fit_face();
                self.preview = None;
                self.preview_error = None;
                // A match still running for the previous picture is of no use now.
                if let Some(old) = self.jobs.matching.take() {
                    self.cancel_job(old);
                }
                self.view.canvas.anchors = None;
                if match_now {
                    self.start_match(true, None, None);
                }
            }
            JobOutput::Matched {
                image,
                face,
                note,
                on_load,
            } => {
                let current = self
                    .doc
                    .character
                    .as_ref()
                    .is_some_and(|c| Arc::ptr_eq(&c.image, &image));
                if current {
                    let weak = face
                        .confidence
                        .iter()
                        .filter(|&&c| c < views::canvas::LOW_CONFIDENCE)
                        .count();
                    let source = RigSource::Matched(note.clone());
                    let untouched = self.doc.rig.as_ref().is_some_and(|r| r.face == r.original);
                    if on_load && untouched {
                        // Part of loading the picture, like a rig file beside it.
                        self.doc.adopt_rig(face, source);
                    } else {
                        self.doc.replace_rig_with("match landmarks", face, source);
                    }
                    self.perf.edited(self.doc.revision());
                    let mut text = format!("Landmarks matched: {note}");
                    if weak > 0 {
                        text.push_str(&format!("; {weak} points to check"));
                    }
                    self.notify(NoticeLevel::Info, text);
                }
            }
            JobOutput::Face { path, mut face } => {
                if let Some(c) = &self.doc.character {
                    let size = ImageSize {
                        width: c.image.width(),
                        height: c.image.height(),
                    };
                    if let Some(fs) = face.image
                        && fs != size
                    {
                        self.notify(
                            NoticeLevel::Warning,
                            format!(
                                "{} was made for a {}×{} picture; this one is {}×{}",
                                file_name(&path),
                                fs.width,
                                fs.height,
                                size.width,
                                size.height
                            ),
                        );
                    }
                    face.image = Some(size);
                    if let Some(c) = &self.doc.character {
                        read_missing_pupils(&mut face, &c.image);
                    }
                    self.doc.replace_rig(face, RigSource::File(path));
                    self.perf.edited(self.doc.revision());
                } else {
                    self.notify(
                        NoticeLevel::Error,
                        "Open a character picture before loading its landmarks.",
                    );
                }
            }
            JobOutput::Driving {
                clip,
                track,
                track_error,
            } => {
                if let Some(e) = track_error {
                    self.notify(NoticeLevel::Warning, format!("Track file not used: {e}"));
                }
                let had_track_from_file = matches!(
                    self.doc.driving_track.as_ref().map(|t| &t.source),
                    Some(TrackSource::File(_))
                );
                let clip_path = clip.path.clone();
                self.doc.driving = Some(clip);
                self.sample_note = None;
                let video = clip_path.clone();
                if let Some((p, t)) = track {
                    self.set_track(t, TrackSource::Sidecar(p));
                } else if !had_track_from_file && !self.loading_project {
                    self.doc.driving_track = None;
                    self.character_track = None;
                    // No landmarks for this video yet: track them right away.
                    self.submit(Request::TrackFaces(video));
                }
                self.textures.forget_driving();
                self.doc.touch();
                self.seek(0);
            }
            JobOutput::Track { path, track } => self.set_track(track, TrackSource::File(path)),
            JobOutput::Tracked {
                video,
                track,
                gap_frames,
            } => {
                let n = track.len();
                self.set_track(track, TrackSource::Tracked(video));
                let mut text = format!("Tracked the face in {n} frames");
                if gap_frames > 0 {
                    text.push_str(&format!(
                        " ({gap_frames} without a usable face were filled)"
                    ));
                }
                self.notify(NoticeLevel::Info, text);
            }
            JobOutput::Project { path, project } => self.apply_project(path, *project),
            JobOutput::ProjectSaved(path) => {
                self.doc.project_path = Some(path.clone());
                self.doc.mark_saved();
                self.notify(NoticeLevel::Info, format!("Saved {}", path.display()));
                if self.quit_prompt {
                    self.quit_prompt = false;
                    self.allow_close = true;
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            }
            JobOutput::Retargeted {
                revision,
                track,
                reference,
            } => {
                // The preview frame that follows closes the latency measurement.
                self.used_reference = Some(reference);
                self.character_track = Some((revision, track));
                self.curves.clear_character();
            }
            JobOutput::Preview {
                revision,
                frame,
                image,
                millis,
            } => {
                self.perf.arrived(revision);
                self.preview_error = None;
                match &mut self.preview {
                    Some(p) => {
                        p.texture.set(image, TextureOptions::LINEAR);
                        p.revision = revision;
                        p.frame = frame;
                        p.millis = millis;
                    }
                    None => {
                        let texture = ctx.load_texture("preview", image, TextureOptions::LINEAR);
                        self.preview = Some(PreviewFrame {
                            revision,
                            frame,
                            texture,
                            millis,
                        });
                    }
                }
            }
            JobOutput::PreviewFailed { revision, message } => {
                self.perf.arrived(revision);
                self.preview_failed(message);
            }
            JobOutput::Exported { path, frames, note } => {
                let mut text = format!("Exported {frames} frames to {}", path.display());
                if let Some(n) = note {
                    text.push_str(&format!(" ({n})"));
                }
                self.view.export.last_output = Some(path);
                self.notify(NoticeLevel::Info, text);
            }
            JobOutput::WeightsDownloaded(dir) => self.set_dift_weights(dir),
        }
    }

    pub(super) fn set_track(&mut self, track: Track, source: TrackSource) {
        if let Some(c) = &self.doc.driving
            && c.frames.len() != track.len()
        {
            self.notify(
                NoticeLevel::Warning,
                format!(
                    "The track has {} frames and the video {}; the timeline follows the track",
                    track.len(),
                    c.frames.len()
                ),
            );
        }
        self.doc.driving_track = Some(DrivingTrack {
            track: Arc::new(track),
            source,
        });
        self.curves.clear();
        self.character_track = None;
        self.doc.touch();
        let n = self.frame_count();
        if let super::super::settings::ReferenceSetting::Frame(f) = self.doc.settings.reference
            && f >= n
        {
            self.doc.settings.reference = super::super::settings::ReferenceSetting::First;
        }
        self.seek(self.view.playhead);
    }

    pub(super) fn apply_project(&mut self, path: PathBuf, project: Project) {
        self.doc = Document::default();
        self.character_track = None;
        self.preview = None;
        self.curves.clear();
        self.textures = TextureCache::default();
        self.view.playhead = 0;
        self.doc.settings = project.settings;
        self.pending_rig = project
            .rig
            .map(|face| (face, RigSource::Project(path.clone())));
        if let Some(c) = project.character {
            self.submit(Request::LoadCharacter(c));
        }
        if let Some(d) = project.driving {
            self.submit(Request::LoadDriving(d));
        }
        if let Some(t) = project.driving_track {
            self.submit(Request::LoadTrack(t));
        }
        self.doc.project_path = Some(path);
        self.loading_project = true;
        self.sample_note = None;
        self.notify(NoticeLevel::Info, "Project opened");
    }

    /// The loads a project triggers leave the document "changed"; once they are done, the
    /// document counts as saved again.
    pub(super) fn settle_after_project_load(&mut self) {
        if self.loading_project
            && self.pending_rig.is_none()
            && self.jobs.entries().iter().all(|j| j.quiet)
        {
            self.doc.mark_saved();
            self.loading_project = false;
        }
    }
}

/// A face file without pupils (written before FaceShot had them, or by hand) gets them read
/// from the picture, as the matcher would, so the character's eyes follow the driver's gaze.
fn read_missing_pupils(face: &mut faceshot_core::landmarks::Face, image: &image::RgbaImage) {
    if face.pupils.is_none() {
        let reading = faceshot_core::pupils::read_pupils(image, &face.points);
        face.pupils = Some(reading.centres());
        face.pupil_radius = reading.radius();
    }
}
