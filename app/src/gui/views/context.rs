//! What the views see of the app in one frame ([`ViewContext`]): the document they edit, the
//! view state they own, read-only status, caches, and the queue of [`UiCommand`]s they send.

use super::canvas::CanvasState;
use super::export::ExportDialog;
use crate::gui::command::UiCommand;
use crate::gui::dialogs::DialogPurpose;
use crate::gui::jobs::ExportKind;
use crate::gui::motion::MotionCurves;
use crate::gui::settings::ReferenceSetting;
use crate::gui::state::Document;
use crate::gui::status::{JobEntry, Notice, PerfStats, PreviewFrame};
use crate::gui::worker::JobId;
use eframe::egui::{self, ColorImage, TextureHandle, TextureOptions};
use faceshot_core::landmarks::{Part, Track};
use faceshot_core::matching::Backend;
use faceshot_dift::hub::Hub;
use std::path::Path;
use std::sync::Arc;

/// The window's own state: where the playhead is, how the canvas is zoomed, what is selected,
/// the export dialog's settings.
#[derive(Debug)]
pub struct ViewState {
    /// Timeline position (frame index).
    pub playhead: usize,
    /// Whether playback runs.
    pub playing: bool,
    /// Fraction of a frame played since the playhead last moved.
    pub play_clock: f64,
    /// Character canvas view state.
    pub canvas: CanvasState,
    /// Mirror editing: the left/right counterpart follows.
    pub mirror: bool,
    /// The part selected for group editing.
    pub selected_part: Option<Part>,
    /// The matcher backend the "Re-match" button runs.
    pub match_backend: Backend,
    /// Export dialog state.
    pub export: ExportDialog,
    /// Whether the performance readout shows.
    pub show_perf: bool,
    /// Live mode: the source to open (a camera path or index, a file, a stream URL).
    pub live_source: String,
    /// Live mode: the cameras found (device path, name), refreshed on request.
    pub cameras: Vec<(std::path::PathBuf, String)>,
    /// Live mode: record to this MP4 when not empty.
    pub live_record: String,
    /// Live mode: mirror the camera.
    pub live_mirror: bool,
    /// Live mode: show the character alone in a window of its own (for OBS window capture).
    pub live_output_window: bool,
    /// Live mode: the output window's background.
    pub live_background: egui::Color32,
}

impl Default for ViewState {
    fn default() -> Self {
        let cameras = faceshot_core::live::list_cameras();
        Self {
            playhead: 0,
            playing: false,
            play_clock: 0.0,
            canvas: CanvasState::default(),
            mirror: true,
            selected_part: None,
            match_backend: Backend::Auto,
            export: ExportDialog::default(),
            show_perf: false,
            live_source: cameras
                .first()
                .map(|(p, _)| p.display().to_string())
                .unwrap_or_default(),
            cameras,
            live_record: String::new(),
            live_mirror: true,
            live_output_window: false,
            live_background: egui::Color32::from_rgb(0, 177, 64),
        }
    }
}

/// Textures uploaded to the GPU, kept while their picture or frame stays the same.
#[derive(Default)]
pub struct TextureCache {
    character: Option<(usize, TextureHandle)>,
    driving: Option<(usize, TextureHandle)>,
    live: Option<(u64, TextureHandle, TextureHandle)>,
}

impl TextureCache {
    /// The character picture's texture (uploaded once per picture).
    pub fn character(&mut self, ctx: &egui::Context, doc: &Document) -> Option<TextureHandle> {
        let c = doc.character.as_ref()?;
        let key = Arc::as_ptr(&c.image) as usize;
        match &self.character {
            Some((k, t)) if *k == key => Some(t.clone()),
            _ => {
                let img = ColorImage::from_rgba_unmultiplied(
                    [c.image.width() as usize, c.image.height() as usize],
                    c.image.as_raw(),
                );
                let t = ctx.load_texture("character", img, TextureOptions::LINEAR);
                self.character = Some((key, t.clone()));
                Some(t)
            }
        }
    }

    /// The driving video's frame `playhead` as a texture.
    pub fn driving(
        &mut self,
        ctx: &egui::Context,
        doc: &Document,
        playhead: usize,
    ) -> Option<TextureHandle> {
        let clip = doc.driving.as_ref()?;
        let idx = playhead.min(clip.frames.len().saturating_sub(1));
        let image = Arc::clone(clip.frames.get(idx)?);
        match &mut self.driving {
            Some((k, t)) => {
                if *k != idx {
                    t.set(image, TextureOptions::LINEAR);
                    *k = idx;
                }
                Some(t.clone())
            }
            None => {
                let t = ctx.load_texture("driving", image, TextureOptions::LINEAR);
                self.driving = Some((idx, t.clone()));
                Some(t)
            }
        }
    }

    /// The live camera picture and rendered character of `view` as textures.
    pub fn live(
        &mut self,
        ctx: &egui::Context,
        view: &crate::gui::live::LiveView,
    ) -> (TextureHandle, TextureHandle) {
        match &mut self.live {
            Some((frame, camera, character)) => {
                if *frame != view.frame {
                    camera.set(Arc::clone(&view.camera), TextureOptions::LINEAR);
                    character.set(Arc::clone(&view.character), TextureOptions::LINEAR);
                    *frame = view.frame;
                }
                (camera.clone(), character.clone())
            }
            None => {
                let camera = ctx.load_texture(
                    "live camera",
                    Arc::clone(&view.camera),
                    TextureOptions::LINEAR,
                );
                let character = ctx.load_texture(
                    "live character",
                    Arc::clone(&view.character),
                    TextureOptions::LINEAR,
                );
                self.live = Some((view.frame, camera.clone(), character.clone()));
                (camera, character)
            }
        }
    }

    /// Forget the driving video's texture (a new video was loaded).
    pub fn forget_driving(&mut self) {
        self.driving = None;
    }
}

/// Motion curves of the driving and the character's tracks, computed once per track.
#[derive(Default)]
pub struct CurveCache {
    driving: Option<(usize, MotionCurves)>,
    character: Option<(usize, MotionCurves)>,
}

impl CurveCache {
    /// Curves of `track` (the driving track), cached.
    pub fn driving(&mut self, track: &Arc<Track>) -> &MotionCurves {
        cached(&mut self.driving, track)
    }

    /// Curves of the character's track, cached.
    pub fn character(&mut self, track: &Arc<Track>) -> &MotionCurves {
        cached(&mut self.character, track)
    }

    /// Forget both (new inputs).
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Forget the character's (a new picture).
    pub fn clear_character(&mut self) {
        self.character = None;
    }
}

fn cached<'a>(slot: &'a mut Option<(usize, MotionCurves)>, track: &Arc<Track>) -> &'a MotionCurves {
    let key = Arc::as_ptr(track) as usize;
    if slot.as_ref().is_some_and(|(k, _)| *k != key) {
        *slot = None;
    }
    &slot.get_or_insert_with(|| (key, MotionCurves::of(track))).1
}

/// Everything the views read and change in one frame.
pub struct ViewContext<'a> {
    /// The document: views edit it through its edit methods (undoable).
    pub doc: &'a mut Document,
    /// The window's own state.
    pub view: &'a mut ViewState,
    /// GPU textures of the pictures on show.
    pub textures: &'a mut TextureCache,
    /// Motion curves for the plot.
    pub curves: &'a mut CurveCache,
    /// Messages for the user.
    pub notices: &'a [Notice],
    /// Jobs in flight.
    pub jobs: &'a [JobEntry],
    /// The latest preview frame.
    pub preview: Option<&'a PreviewFrame>,
    /// Why the latest preview could not be rendered, until one is.
    pub preview_error: Option<&'a str>,
    /// Timing figures.
    pub perf: &'a PerfStats,
    /// The character's track and the document revision it was computed for.
    pub character_track: Option<&'a (u64, Arc<Track>)>,
    /// The landmark matcher job in progress, if any.
    pub matching: Option<JobId>,
    /// The weights download in progress, if any.
    pub downloading: Option<JobId>,
    /// The diffusion matcher's weights folder, when one is chosen.
    pub dift_weights: Option<&'a Path>,
    /// Where "Download SD 2.1" writes to.
    pub models_dir: Option<&'a Path>,
    /// Where it downloads from.
    pub hub: &'a Hub,
    /// Why the sample driving clip did not load, if it did not.
    pub sample_note: Option<&'a str>,
    /// The reference frame retargeting chose automatically.
    pub used_reference: Option<usize>,
    /// Live mode's newest frame, while live mode runs.
    pub live: Option<&'a crate::gui::live::LiveView>,
    /// Whether live mode runs.
    pub live_running: bool,
    /// What the views ask of the app this frame.
    pub commands: Vec<UiCommand>,
}

impl ViewContext<'_> {
    /// Ask the app for something.
    pub fn send(&mut self, command: UiCommand) {
        self.commands.push(command);
    }

    /// Ask for a file dialog.
    pub fn open_dialog(&mut self, purpose: DialogPurpose) {
        self.send(UiCommand::OpenDialog(purpose));
    }

    /// Say the landmarks or settings were edited in place.
    pub fn edited(&mut self) {
        self.send(UiCommand::Edited);
    }

    /// Move the playhead (clamped to the timeline).
    pub fn seek(&mut self, frame: usize) {
        let n = self.doc.frame_count();
        self.view.playhead = if n == 0 { 0 } else { frame.min(n - 1) };
    }

    /// The reference frame shown on the timeline: the fixed frame, or the one retargeting
    /// chose automatically.
    pub fn reference_frame(&self) -> Option<usize> {
        reference_frame(self.doc, self.used_reference)
    }

    /// Whether an export of `kind` can run now, or why not.
    pub fn export_readiness(&self, kind: ExportKind) -> Result<(), String> {
        export_readiness(
            self.doc,
            self.matching.is_some(),
            self.character_track.map(|(rev, _)| *rev),
            kind,
        )
    }
}

/// The reference frame the timeline marks: the document's fixed frame, or `used` (the one
/// retargeting chose) when it picks automatically.
pub fn reference_frame(doc: &Document, used: Option<usize>) -> Option<usize> {
    match doc.settings.reference {
        ReferenceSetting::First => Some(0),
        ReferenceSetting::Frame(f) => Some(f),
        ReferenceSetting::Auto => used,
    }
}

/// Whether an export of `kind` can run now, or why not: the document, whether the matcher runs,
/// and the revision the character's track was computed for.
pub fn export_readiness(
    doc: &Document,
    matching: bool,
    track_revision: Option<u64>,
    kind: ExportKind,
) -> Result<(), String> {
    if doc.character.is_none() || doc.rig.is_none() {
        return Err("open a character picture first".into());
    }
    if doc.driving_track.is_none() {
        return Err("track the driving video first".into());
    }
    if kind == ExportKind::Video && matching {
        return Err("the landmarks are being matched".into());
    }
    match track_revision {
        Some(rev) if rev == doc.revision() => Ok(()),
        _ => Err("the motion is still being computed".into()),
    }
}
