//! The eframe application: owns the document, the worker handle and the view state, routes
//! worker events into the document, and lays out the window.

mod outputs;

pub use super::status::{JobEntry, Jobs, Notice, NoticeLevel, PerfStats, PreviewFrame};

use super::dialogs::{DialogPurpose, Dialogs};
use super::jobs::{ExportKind, ExportRequest, RefreshRequest, Request, SaveProjectRequest};

use super::command::UiCommand;
use super::prefs::Prefs;
use super::project::{PROJECT_EXTENSION, Project};
use super::state::{Document, RigSource, TrackSource};
use super::views::canvas::FaceBoxPick;
use super::views::{self, CurveCache, TextureCache, ViewContext, ViewState};
use super::worker::{Event, JobId, Worker};
use eframe::egui;
use faceshot_core::landmarks::synthetic::frontal_face;
use faceshot_core::landmarks::{Face, ImageSize, Point, Track};
use faceshot_core::matching::{Backend, Region};
use faceshot_dift::hub::Hub;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the app starts.
#[derive(Clone, Debug, Default)]
pub struct LaunchOptions {
    /// Open this project.
    pub project: Option<PathBuf>,
    /// Open this character picture.
    pub character: Option<PathBuf>,
    /// Open this driving video.
    pub driving: Option<PathBuf>,
    /// Open this driving landmark track.
    pub track: Option<PathBuf>,
    /// Load the shipped sample when no project or character is given.
    pub load_sample: bool,
    /// Folder with the shipped samples (default: found next to the binary or the sources).
    pub assets: Option<PathBuf>,
    /// Preferences file to read and update (the binary passes the user's; without one nothing
    /// is remembered between sessions).
    pub prefs: Option<PathBuf>,
    /// Folder "Download SD 2.1" writes Stable Diffusion 2.1 into, and where it is looked for
    /// at start (the binary passes the user's default; without one the app offers no download).
    pub models_dir: Option<PathBuf>,
}

/// The role [`FaceShotApp::input_files`] gives the face file the landmarks were loaded from.
const LANDMARK_FILE: &str = "the landmark file";

/// The FaceShot desktop app.
pub struct FaceShotApp {
    /// The document being edited.
    pub doc: Document,
    /// Work in flight (the worker, its jobs) and the messages for the user.
    pub jobs: Jobs,
    /// The window's own state (playhead, canvas, selection, export dialog).
    pub view: ViewState,
    /// The character's landmark track (retargeted) and the revision it belongs to.
    pub character_track: Option<(u64, Arc<Track>)>,
    curves: CurveCache,
    /// The latest preview frame.
    pub preview: Option<PreviewFrame>,
    /// Why the latest preview could not be rendered, until one is.
    pub preview_error: Option<String>,

    /// The Stable Diffusion 2.1 folder the diffusion matcher loads (checked when chosen).
    pub dift_weights: Option<PathBuf>,
    /// Where "Download SD 2.1" writes to ([`LaunchOptions::models_dir`]).
    pub models_dir: Option<PathBuf>,
    /// The hub and repository "Download SD 2.1" fetches from ([`Hub::from_env`] at start).
    pub hub: Hub,

    prefs_path: Option<PathBuf>,
    textures: TextureCache,
    dialogs: Dialogs,
    quit_prompt: bool,
    allow_close: bool,
    last_refresh: Option<(u64, usize)>,
    pending_rig: Option<(Face, RigSource)>,
    /// Timing figures.
    pub perf: PerfStats,
    assets: Option<PathBuf>,
    sample_note: Option<String>,
    loading_project: bool,
    used_reference: Option<usize>,
    /// The running live session.
    pub live: Option<crate::gui::live::LiveSession>,
    /// The document revision last sent to the live session.
    live_revision: u64,
}

impl FaceShotApp {
    /// Create the app; starts the worker and queues the initial loads.
    pub fn new(ctx: &egui::Context, options: &LaunchOptions) -> Self {
        let repaint = ctx.clone();
        let worker = Worker::spawn(Arc::new(move || repaint.request_repaint()));
        let assets = options.assets.clone().or_else(find_assets);
        let mut app = Self {
            doc: Document::default(),
            jobs: Jobs::new(worker),
            view: ViewState::default(),
            character_track: None,
            curves: CurveCache::default(),
            preview: None,
            preview_error: None,
            dift_weights: None,
            models_dir: options.models_dir.clone(),
            hub: Hub::from_env(),
            prefs_path: options.prefs.clone(),
            textures: TextureCache::default(),
            dialogs: Dialogs::default(),
            quit_prompt: false,
            allow_close: false,
            last_refresh: None,
            pending_rig: None,
            perf: PerfStats::default(),
            assets,
            sample_note: None,
            loading_project: false,
            used_reference: None,
            live: None,
            live_revision: 0,
        };
        app.load_prefs();
        if let Some(p) = &options.project {
            app.submit(Request::LoadProject(p.clone()));
        }
        if let Some(p) = &options.character {
            app.submit(Request::LoadCharacter(p.clone()));
        }
        if let Some(p) = &options.driving {
            app.submit(Request::LoadDriving(p.clone()));
        }
        if let Some(p) = &options.track {
            app.submit(Request::LoadTrack(p.clone()));
        }
        if options.load_sample && options.project.is_none() && options.character.is_none() {
            app.load_sample();
        }
        app
    }

    /// Queue the shipped sample character and, when present, the sample driving clip.
    pub fn load_sample(&mut self) {
        let Some(assets) = self.assets.clone() else {
            self.notify(
                NoticeLevel::Warning,
                "The sample assets folder was not found; open a character picture and a driving video.",
            );
            return;
        };
        let character = assets.join("characters").join("astronaut.png");
        if character.is_file() {
            self.submit(Request::LoadCharacter(character));
        }
        let clip = assets.join("driving").join("sample_talk.mp4");
        if clip.is_file() {
            self.submit(Request::LoadDriving(clip));
            self.sample_note = None;
        } else {
            self.sample_note = Some(format!(
                "The sample driving clip ({}) is not in this checkout yet. Open a driving video \
                 (File > Open driving video…) or drop one here.",
                clip.display()
            ));
        }
    }

    /// Why the sample driving clip did not load, if it did not.
    pub fn sample_note(&self) -> Option<&str> {
        self.sample_note.as_deref()
    }

    /// Queue a worker request and track it.
    pub fn submit(&mut self, request: Request) -> JobId {
        self.jobs.submit(request)
    }

    /// Whether any job (including preview refreshes) is pending.
    pub fn is_busy(&self) -> bool {
        self.jobs.is_busy()
    }

    /// Ask a job to stop.
    pub fn cancel_job(&mut self, id: JobId) {
        self.jobs.cancel(id);
    }

    /// Add a notice.
    pub fn notify(&mut self, level: NoticeLevel, text: impl Into<String>) {
        self.jobs.notify(level, text);
    }

    /// Open a file by its kind (as if dropped on the window): picture → character, video →
    /// driving, `.faceshot` → project, `.npy` → driving track, `.json` → face or track file.
    pub fn open_path(&mut self, path: &Path) {
        match classify(path) {
            FileKind::Project => self.request_open_project(path.to_path_buf()),
            FileKind::Picture => {
                self.submit(Request::LoadCharacter(path.to_path_buf()));
            }
            FileKind::Video => {
                self.submit(Request::LoadDriving(path.to_path_buf()));
            }
            FileKind::Track => {
                self.submit(Request::LoadTrack(path.to_path_buf()));
            }
            FileKind::Face => {
                self.submit(Request::LoadFace(path.to_path_buf()));
            }
            FileKind::Unknown => self.notify(
                NoticeLevel::Error,
                format!(
                    "{}: not a picture, video, landmark file or project",
                    path.display()
                ),
            ),
        }
    }

    fn request_open_project(&mut self, path: PathBuf) {
        self.submit(Request::LoadProject(path));
    }

    /// Number of frames on the timeline.
    pub fn frame_count(&self) -> usize {
        self.doc.frame_count()
    }

    /// Timeline frame rate.
    pub fn fps(&self) -> f64 {
        self.doc.fps()
    }

    /// Move the playhead (clamped).
    pub fn seek(&mut self, frame: usize) {
        let n = self.frame_count();
        self.view.playhead = if n == 0 { 0 } else { frame.min(n - 1) };
    }

    /// Undo the last edit.
    pub fn undo(&mut self) {
        if self.doc.undo() {
            self.perf.edited(self.doc.revision());
        }
    }

    /// Redo the last undone edit.
    pub fn redo(&mut self) {
        if self.doc.redo() {
            self.perf.edited(self.doc.revision());
        }
    }

    /// The project as it would be saved now.
    pub fn project(&self) -> Project {
        Project {
            character: self.doc.character.as_ref().map(|c| c.path.clone()),
            driving: self.doc.driving.as_ref().map(|d| d.path.clone()),
            driving_track: self
                .doc
                .driving_track
                .as_ref()
                .map(|t| t.source.path().to_path_buf()),
            rig: self.doc.rig.as_ref().map(|r| r.face.clone()),
            settings: self.doc.settings.clone(),
        }
    }

    /// The files the document was read from, with what each is: no save or export may
    /// write over one of them.
    pub fn input_files(&self) -> Vec<(&'static str, PathBuf)> {
        let mut inputs = Vec::new();
        if let Some(c) = &self.doc.character {
            inputs.push(("the character picture", c.path.clone()));
        }
        if let Some(rig) = &self.doc.rig
            && let RigSource::File(p) | RigSource::Sidecar(p) = &rig.source
        {
            inputs.push((LANDMARK_FILE, p.clone()));
        }
        if let Some(d) = &self.doc.driving {
            inputs.push(("the driving video", d.path.clone()));
        }
        if let Some(t) = &self.doc.driving_track {
            inputs.push(("the driving track", t.source.path().to_path_buf()));
        }
        inputs
    }

    /// Save the project to `path` (in the background). A driving track made in the app is
    /// saved beside it as `<project name>.track.json`.
    pub fn save_project_as(&mut self, path: PathBuf) {
        let path = with_extension(path, PROJECT_EXTENSION);
        let mut project = Box::new(self.project());
        let tracked = match &self.doc.driving_track {
            Some(t) if matches!(t.source, TrackSource::Tracked(_)) => {
                project.driving_track = None;
                Some(Arc::clone(&t.track))
            }
            _ => None,
        };
        let inputs = self.input_files();
        self.submit(Request::SaveProject(SaveProjectRequest {
            path,
            project,
            tracked,
            inputs,
        }));
    }

    /// Find the character's landmarks with the matcher (in the background); the result
    /// replaces the current landmarks as one undoable step.
    pub fn rematch(&mut self) {
        self.start_match(false, None, None);
    }

    /// Start or stop picking the face to match by dragging a box around it on the canvas.
    pub fn toggle_face_box(&mut self) {
        self.view.canvas.face_box = match self.view.canvas.face_box {
            Some(_) => None,
            None => Some(FaceBoxPick::default()),
        };
        self.view.canvas.anchors = None;
        self.view.selected_part = None;
    }

    /// Match the face inside the box dragged on the canvas (as one undoable step) and leave
    /// box picking.
    pub fn match_in_box(&mut self) {
        let Some(pick) = self.view.canvas.face_box.take() else {
            return;
        };
        if let Some((a, b)) = pick.corners {
            self.start_match(false, None, Some(Region::from_corners(a, b)));
        }
    }

    /// Restore what the preferences file remembers (a weights folder that is still complete);
    /// else use a complete download in [`Self::models_dir`].
    fn load_prefs(&mut self) {
        if let Some(path) = self.prefs_path.clone() {
            match Prefs::load(&path) {
                Ok(prefs) => {
                    self.dift_weights = prefs
                        .dift_weights
                        .filter(|d| faceshot_dift::weights_present(d));
                }
                Err(e) => self.notify(NoticeLevel::Warning, e),
            }
        }
        if self.dift_weights.is_none() {
            self.dift_weights = self
                .models_dir
                .clone()
                .filter(|d| faceshot_dift::weights_present(d));
        }
    }

    /// Download Stable Diffusion 2.1 into [`Self::models_dir`] in the background (resuming
    /// an earlier, cancelled download); when it completes, the diffusion matcher uses it.
    pub fn download_dift_weights(&mut self) {
        if self.jobs.downloading.is_some() {
            return;
        }
        let Some(dest) = self.models_dir.clone() else {
            self.notify(
                NoticeLevel::Error,
                "No folder to download into (HOME is not set): choose a downloaded \
                 Stable Diffusion 2.1 folder with \"SD 2.1 weights…\" instead",
            );
            return;
        };
        let hub = self.hub.clone();
        self.jobs.downloading = Some(self.submit(Request::DownloadWeights { hub, dest }));
    }

    /// Use the Stable Diffusion 2.1 folder `dir` for the diffusion matcher (and select that
    /// matcher), or say which of its files are missing. The choice is remembered.
    pub fn set_dift_weights(&mut self, dir: PathBuf) {
        match faceshot_dift::resolve_weights(
            Some(&dir),
            false,
            &faceshot_core::progress::NoProgress,
        ) {
            Ok(dir) => {
                self.notify(
                    NoticeLevel::Info,
                    format!(
                        "Diffusion matcher: weights in {}; Re-match runs it (minutes on a CPU; \
                         the first run also prepares the gallery, several times longer)",
                        dir.display()
                    ),
                );
                self.dift_weights = Some(dir.clone());
                self.view.match_backend = Backend::Dift;
                if let Some(path) = &self.prefs_path {
                    let prefs = Prefs {
                        dift_weights: Some(dir),
                    };
                    if let Err(e) = prefs.save(path) {
                        self.notify(NoticeLevel::Warning, e);
                    }
                }
            }
            Err(e) => self.notify(NoticeLevel::Error, e.to_string()),
        }
    }

    /// Start or stop placing the landmarks by clicks (eyes, nose tip, mouth corners).
    pub fn toggle_place_by_clicks(&mut self) {
        self.view.canvas.anchors = match self.view.canvas.anchors {
            Some(_) => None,
            None => Some(Vec::new()),
        };
        self.view.canvas.face_box = None;
        self.view.selected_part = None;
    }

    /// Fit the landmarks to the clicked anchors (3: eyes and nose tip, or all 5), as one
    /// undoable step, and leave click placing.
    pub fn fit_to_clicks(&mut self) {
        let Some(anchors) = self.view.canvas.anchors.take() else {
            return;
        };
        let anchors = match anchors.len() {
            3 | 5 => anchors,
            n => {
                self.notify(
                    NoticeLevel::Error,
                    format!("{n} points clicked; fit takes 3 (eyes, nose tip) or all 5"),
                );
                self.view.canvas.anchors = Some(anchors);
                return;
            }
        };
        self.start_match(false, Some(anchors), None);
    }

    fn start_match(&mut self, on_load: bool, anchors: Option<Vec<Point>>, region: Option<Region>) {
        if self.jobs.matching.is_some() {
            return;
        }
        // The (slow) diffusion matcher runs only when asked for, never as a picture loads;
        // and only by name: `auto` given weights would pick it.
        let dift = !on_load && self.view.match_backend == Backend::Dift;
        let backend = match self.view.match_backend {
            Backend::Dift if on_load => Backend::Auto,
            b => b,
        };
        if let Some(c) = &self.doc.character {
            let request = Request::Match {
                image: Arc::clone(&c.image),
                path: c.path.clone(),
                backend,
                weights: self.dift_weights.clone().filter(|_| dift),
                anchors,
                region,
                on_load,
            };
            self.jobs.matching = Some(self.submit(request));
        }
    }

    /// Track the face through the driving video (in the background).
    pub fn track_faces(&mut self) {
        if let Some(clip) = &self.doc.driving {
            let path = clip.path.clone();
            self.submit(Request::TrackFaces(path));
        }
    }

    /// Save to the current project path, or ask for one.
    pub fn save_project(&mut self) {
        match self.doc.project_path.clone() {
            Some(p) => self.save_project_as(p),
            None => self
                .dialogs
                .open(DialogPurpose::SaveProject, self.dialog_dir()),
        }
    }

    fn dialog_dir(&self) -> Option<PathBuf> {
        self.doc
            .project_path
            .as_deref()
            .or(self.doc.character.as_ref().map(|c| c.path.as_path()))
            .map(|p| faceshot_core::atomic::parent_dir(p).to_path_buf())
    }

    /// Open a file dialog (off the UI thread).
    pub fn open_dialog(&mut self, purpose: DialogPurpose) {
        self.dialogs.open(purpose, self.dialog_dir());
    }

    /// Whether an export can run now, or why not.
    pub fn export_readiness(&self, kind: ExportKind) -> Result<(), String> {
        views::export_readiness(
            &self.doc,
            self.jobs.matching.is_some(),
            self.character_track.as_ref().map(|(rev, _)| *rev),
            kind,
        )
    }

    /// Start an export with the dialog's settings.
    pub fn start_export(&mut self) {
        let kind = self.view.export.kind();
        if let Err(why) = self.export_readiness(kind) {
            self.notify(NoticeLevel::Error, format!("Cannot export: {why}"));
            return;
        }
        let path = self.view.export.final_path();
        let Some(path) = path else {
            self.notify(NoticeLevel::Error, "Choose where to export first.");
            return;
        };
        let (Some(character), Some(rig), Some((_, track))) =
            (&self.doc.character, &self.doc.rig, &self.character_track)
        else {
            return;
        };
        let audio = self
            .doc
            .driving
            .as_ref()
            .map(|d| d.path.clone())
            .filter(|_| self.view.export.include_audio());
        let options = self.view.export.options(track.fps, audio);
        let request = ExportRequest {
            kind,
            path,
            image: Arc::clone(&character.image),
            face: rig.face.clone(),
            track: Arc::clone(track),
            options,
            inputs: self.input_files(),
        };
        self.view.export.running = Some(self.submit(Request::Export(Box::new(request))));
    }

    /// Apply worker events (never blocks).
    pub fn poll_worker(&mut self, ctx: &egui::Context) {
        while let Some(event) = self.jobs.try_recv() {
            self.handle_event(ctx, event);
        }
    }

    fn finish_job(&mut self, id: JobId) -> Option<JobEntry> {
        self.jobs.finish(id)
    }

    fn handle_event(&mut self, ctx: &egui::Context, event: Event) {
        match event {
            Event::Progress {
                job,
                stage,
                done,
                total,
            } => {
                if let Some(j) = self.jobs.entry_mut(job) {
                    j.report(stage, done, total, Instant::now());
                }
            }
            Event::Finished { job, outputs } => {
                self.finish_job(job);
                self.job_ended(job);
                for output in outputs {
                    self.apply_output(ctx, output);
                }
            }
            Event::Failed { job, message } => {
                let entry = self.finish_job(job);
                self.job_ended(job);
                if entry.as_ref().is_some_and(|e| e.quiet) {
                    self.preview_failed(message);
                    return;
                }
                let what = entry.map(|e| e.label).unwrap_or_else(|| "A job".into());
                self.notify(NoticeLevel::Error, format!("{what} failed: {message}"));
            }
            Event::Cancelled { job } => {
                let entry = self.finish_job(job);
                self.job_ended(job);
                if let Some(e) = entry
                    && !e.quiet
                {
                    self.notify(NoticeLevel::Info, format!("{}: cancelled", e.label));
                }
            }
            Event::Superseded { job } => {
                self.finish_job(job);
            }
        }
    }

    /// Show why the preview failed: once, not on every scrubbed frame.
    fn preview_failed(&mut self, message: String) {
        if self.preview_error.as_deref() != Some(message.as_str()) {
            self.notify(NoticeLevel::Error, format!("Preview failed: {message}"));
            self.preview_error = Some(message);
        }
    }

    /// Forget a finished job wherever the UI waits for it.
    fn job_ended(&mut self, job: JobId) {
        if self.view.export.running == Some(job) {
            self.view.export.running = None;
        }
        if self.jobs.matching == Some(job) {
            self.jobs.matching = None;
        }
        if self.jobs.downloading == Some(job) {
            self.jobs.downloading = None;
        }
    }

    /// Send a refresh when the document or playhead changed.
    fn maybe_refresh(&mut self) {
        let (Some(character), Some(rig)) = (&self.doc.character, &self.doc.rig) else {
            return;
        };
        let key = (self.doc.revision(), self.view.playhead);
        if self.last_refresh == Some(key) {
            return;
        }
        let request = RefreshRequest {
            revision: key.0,
            image: Arc::clone(&character.image),
            face: rig.face.clone(),
            driving: self
                .doc
                .driving_track
                .as_ref()
                .map(|t| Arc::clone(&t.track)),
            settings: self.doc.settings.clone(),
            frame: key.1,
        };
        self.submit(Request::Refresh(Box::new(request)));
        self.last_refresh = Some(key);
    }

    /// Motion curves of the driving track (what the plot shows).
    pub fn driving_curves(&mut self) -> Option<&super::motion::MotionCurves> {
        let track = Arc::clone(&self.doc.driving_track.as_ref()?.track);
        Some(self.curves.driving(&track))
    }

    /// The reference frame shown on the timeline: the fixed frame, or the one retargeting
    /// chose automatically.
    pub fn reference_frame(&self) -> Option<usize> {
        views::reference_frame(&self.doc, self.used_reference)
    }

    fn handle_shortcuts(&mut self, ctx: &egui::Context) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        let redo = KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
        let redo_y = KeyboardShortcut::new(Modifiers::COMMAND, Key::Y);
        let undo = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
        let save = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
        let open = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
        let export = KeyboardShortcut::new(Modifiers::COMMAND, Key::E);
        if ctx.input_mut(|i| i.consume_shortcut(&redo) || i.consume_shortcut(&redo_y)) {
            self.redo();
        }
        if ctx.input_mut(|i| i.consume_shortcut(&undo)) {
            self.undo();
        }
        if ctx.input_mut(|i| i.consume_shortcut(&save)) {
            self.save_project();
        }
        if ctx.input_mut(|i| i.consume_shortcut(&open)) {
            self.open_dialog(DialogPurpose::OpenAny);
        }
        if ctx.input_mut(|i| i.consume_shortcut(&export)) {
            self.view.export.open = true;
        }
        let live = KeyboardShortcut::new(Modifiers::COMMAND, Key::L);
        if ctx.input_mut(|i| i.consume_shortcut(&live)) {
            self.toggle_live();
        }
        if self.live.is_some() && ctx.input(|i| i.key_pressed(Key::N)) {
            self.run_command(UiCommand::SetNeutral);
        }
        let (space, left, right, escape) = ctx.input(|i| {
            (
                i.key_pressed(Key::Space),
                i.key_pressed(Key::ArrowLeft),
                i.key_pressed(Key::ArrowRight),
                i.key_pressed(Key::Escape),
            )
        });
        if space && self.frame_count() > 1 {
            self.view.playing = !self.view.playing;
        }
        if left {
            self.seek(self.view.playhead.saturating_sub(1));
        }
        if right {
            self.seek(self.view.playhead + 1);
        }
        if escape {
            self.view.selected_part = None;
            self.view.canvas.anchors = None;
            self.view.canvas.face_box = None;
        }
        if ctx.input(|i| i.key_pressed(Key::F)) {
            self.view.canvas.fit_face();
        }
    }

    fn advance_playback(&mut self, ctx: &egui::Context) {
        let n = self.frame_count();
        if !self.view.playing || n < 2 {
            self.view.playing = false;
            return;
        }
        let dt = ctx.input(|i| f64::from(i.stable_dt).min(0.1));
        self.view.play_clock += dt * self.fps();
        let steps = self.view.play_clock.floor();
        if steps >= 1.0 {
            self.view.play_clock -= steps;
            self.view.playhead = (self.view.playhead + steps as usize) % n;
        }
        ctx.request_repaint();
    }

    fn handle_drops(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        for p in dropped {
            self.open_path(&p);
        }
    }

    fn handle_dialog_results(&mut self) {
        while let Some((purpose, path)) = self.dialogs.poll() {
            match purpose {
                DialogPurpose::OpenAny
                | DialogPurpose::OpenCharacter
                | DialogPurpose::OpenDriving
                | DialogPurpose::OpenTrack
                | DialogPurpose::OpenFace => self.open_path(&path),
                DialogPurpose::OpenProject => self.request_open_project(path),
                DialogPurpose::SaveProject => self.save_project_as(path),
                DialogPurpose::SaveFace => self.save_face(path),
                DialogPurpose::ExportTarget => self.view.export.set_path(path),
                DialogPurpose::DiftWeights => self.set_dift_weights(path),
            }
        }
    }

    /// Save the character's current landmarks as a face file (small; written atomically).
    pub fn save_face(&mut self, path: PathBuf) {
        let Some(rig) = &self.doc.rig else { return };
        let path = with_extension(path, "json");
        // Saving edited landmarks over the face file they came from is a save; over any other
        // input it would lose that file.
        let inputs = self.input_files();
        let others: Vec<(&str, &Path)> = inputs
            .iter()
            .filter(|(role, _)| *role != LANDMARK_FILE)
            .map(|(role, p)| (*role, p.as_path()))
            .collect();
        if let Err(e) =
            faceshot_core::output_check::check_outputs(&others, &[("the landmarks", &path)])
        {
            self.notify(NoticeLevel::Error, format!("Not saved: {e}"));
            return;
        }
        match rig.face.save(&path) {
            Ok(()) => self.notify(
                NoticeLevel::Info,
                format!("Saved landmarks to {}", path.display()),
            ),
            Err(e) => self.notify(NoticeLevel::Error, e.to_string()),
        }
    }

    fn handle_close(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.viewport().close_requested()) && !self.allow_close && self.doc.is_dirty()
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.quit_prompt = true;
        }
    }

    /// Whether the "save changes?" prompt is showing.
    pub fn quit_prompt_open(&self) -> bool {
        self.quit_prompt
    }

    fn quit_prompt_ui(&mut self, ui: &mut egui::Ui) {
        if !self.quit_prompt {
            return;
        }
        let modal = egui::Modal::new(egui::Id::unique("unsaved-changes")).show(ui.ctx(), |ui| {
            ui.heading("Save changes before quitting?");
            ui.label("Your landmark edits and settings are not saved in a project.");
            ui.horizontal(|ui| {
                if ui.button("Save").clicked() {
                    self.save_project();
                }
                if ui.button("Discard").clicked() {
                    self.quit_prompt = false;
                    self.allow_close = true;
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
                if ui.button("Cancel").clicked() {
                    self.quit_prompt = false;
                }
            });
        });
        if modal.should_close() {
            self.quit_prompt = false;
        }
    }

    /// Build one frame of UI (the body of [`eframe::App::ui`], callable from tests).
    pub fn frame(&mut self, ui: &mut egui::Ui) {
        let t0 = Instant::now();
        let ctx = ui.ctx().clone();
        self.poll_worker(&ctx);
        self.handle_dialog_results();
        self.handle_drops(&ctx);
        self.handle_close(&ctx);
        self.handle_shortcuts(&ctx);
        self.advance_playback(&ctx);
        self.settle_after_project_load();
        self.poll_live(&ctx);

        let live_running = self.live.is_some();
        let mut cx = ViewContext {
            doc: &mut self.doc,
            view: &mut self.view,
            textures: &mut self.textures,
            curves: &mut self.curves,
            notices: &self.jobs.notices,
            jobs: self.jobs.entries(),
            preview: self.preview.as_ref(),
            preview_error: self.preview_error.as_deref(),
            perf: &self.perf,
            character_track: self.character_track.as_ref(),
            matching: self.jobs.matching,
            downloading: self.jobs.downloading,
            dift_weights: self.dift_weights.as_deref(),
            models_dir: self.models_dir.as_deref(),
            hub: &self.hub,
            sample_note: self.sample_note.as_deref(),
            used_reference: self.used_reference,
            live: self.live.as_ref().and_then(|l| l.latest.as_ref()),
            live_running,
            commands: Vec::new(),
        };
        views::layout(&mut cx, ui);
        for command in std::mem::take(&mut cx.commands) {
            self.run_command(command);
        }

        self.quit_prompt_ui(ui);
        self.maybe_refresh();
        if self.is_busy() || self.dialogs.is_open() {
            ctx.request_repaint_after(Duration::from_millis(30));
        }
        PerfStats::push(&mut self.perf.frame_ms, t0.elapsed().as_secs_f32() * 1000.0);
    }

    /// The character, its landmarks and the retargeting settings as live mode animates them.
    fn live_rig(&self) -> Option<faceshot_core::live::LiveRig> {
        let character = self.doc.character.as_ref()?;
        let rig = self.doc.rig.as_ref()?;
        Some(faceshot_core::live::LiveRig {
            image: Arc::clone(&character.image),
            face: rig.face.clone(),
            retarget: super::pipeline::retarget_options(&self.doc.settings),
        })
    }

    /// Start live mode from the panel's source, or stop it.
    pub fn toggle_live(&mut self) {
        if let Some(mut live) = self.live.take() {
            let recording = live.recording.clone();
            match live.stop() {
                Ok(stats) => {
                    let mut text = format!(
                        "Live stopped: {} frames, {:.1} fps, latency p95 {:.0} ms, {} dropped",
                        stats.frames_out, stats.fps, stats.latency_ms.p95, stats.dropped
                    );
                    if let Some(path) = recording {
                        text.push_str(&format!("; recorded to {}", path.display()));
                    }
                    self.notify(NoticeLevel::Info, text);
                }
                Err(e) => self.notify(NoticeLevel::Error, format!("Live mode: {e}")),
            }
            return;
        }
        let Some(rig) = self.live_rig() else {
            self.notify(
                NoticeLevel::Error,
                "Open a character picture before starting live mode.",
            );
            return;
        };
        let source = self.view.live_source.trim();
        if source.is_empty() {
            self.notify(
                NoticeLevel::Error,
                "Live mode needs a source: a camera, a video file or a stream URL.",
            );
            return;
        }
        let source = faceshot_core::live::source_path(source);
        let record = Some(self.view.live_record.trim())
            .filter(|r| !r.is_empty())
            .map(PathBuf::from);
        if let Some(path) = &record {
            let files = self.input_files();
            let inputs: Vec<(&str, &std::path::Path)> = files
                .iter()
                .map(|(role, p)| (*role, p.as_path()))
                .chain(std::iter::once(("the live source", source.as_path())))
                .collect();
            if let Err(e) = faceshot_core::output_check::check_outputs(
                &inputs,
                &[("the recording", path.as_path())],
            ) {
                self.notify(NoticeLevel::Error, format!("Live mode: {e}"));
                return;
            }
        }
        let options = faceshot_core::live::LiveOptions {
            mirror: self.view.live_mirror,
            ..Default::default()
        };
        match crate::gui::live::LiveSession::start(source, rig, options, record) {
            Ok(session) => {
                self.view.playing = false;
                self.live_revision = self.doc.revision();
                self.live = Some(session);
            }
            Err(e) => self.notify(NoticeLevel::Error, format!("Live mode: {e}")),
        }
    }

    /// Take live mode's newest frame, pass edits on to it, and notice when it has ended.
    fn poll_live(&mut self, ctx: &egui::Context) {
        let Some(live) = self.live.as_mut() else {
            return;
        };
        live.poll();
        if !live.running() {
            // The source ended or failed: stop reports which.
            self.toggle_live();
            return;
        }
        if self.doc.revision() != self.live_revision
            && let Some(rig) = self.live_rig()
        {
            self.live_revision = self.doc.revision();
            if let Some(live) = &self.live {
                live.update(rig);
            }
        }
        ctx.request_repaint_after(Duration::from_millis(10));
    }

    /// Apply what a view asked for.
    pub fn run_command(&mut self, command: UiCommand) {
        match command {
            UiCommand::OpenDialog(purpose) => self.open_dialog(purpose),
            UiCommand::SaveProject => self.save_project(),
            UiCommand::LoadSample => self.load_sample(),
            UiCommand::Undo => self.undo(),
            UiCommand::Redo => self.redo(),
            UiCommand::Edited => self.perf.edited(self.doc.revision()),
            UiCommand::Rematch => self.rematch(),
            UiCommand::TrackFaces => self.track_faces(),
            UiCommand::ToggleLive => self.toggle_live(),
            UiCommand::SetLiveMirror(mirror) => {
                if let Some(live) = &self.live {
                    live.set_mirror(mirror);
                }
            }
            UiCommand::SetNeutral => {
                if let Some(live) = &self.live {
                    live.set_neutral();
                    self.notify(
                        NoticeLevel::Info,
                        "Live: the current face is the neutral face",
                    );
                }
            }
            UiCommand::TogglePlaceByClicks => self.toggle_place_by_clicks(),
            UiCommand::FitToClicks => self.fit_to_clicks(),
            UiCommand::ToggleFaceBox => self.toggle_face_box(),
            UiCommand::MatchInBox => self.match_in_box(),
            UiCommand::DownloadWeights => self.download_dift_weights(),
            UiCommand::CancelJob(id) => self.cancel_job(id),
            UiCommand::StartExport => self.start_export(),
            UiCommand::TogglePerf => self.view.show_perf = !self.view.show_perf,
            UiCommand::ClearNotices => self.jobs.notices.clear(),
        }
    }

    /// Where the shipped samples are, if found.
    pub fn assets_dir(&self) -> Option<&Path> {
        self.assets.as_deref()
    }

    /// Whether a dialog or file chooser is waiting.
    pub fn dialogs(&self) -> &Dialogs {
        &self.dialogs
    }
}

impl eframe::App for FaceShotApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frame(ui);
    }
}

/// The default starting template: a generic frontal face in the middle of the picture, its
/// points marked as unconfirmed (confidence 0) until the user moves them.
pub fn template_face(size: ImageSize) -> Face {
    let (w, h) = (size.width as f32, size.height as f32);
    let scale = 0.28 * w.min(h);
    let mut face = Face::new(frontal_face(w * 0.5, h * 0.5, scale), Some(size));
    face.confidence = [0.0; 68];
    face
}

/// What a dropped or opened file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// `.faceshot`.
    Project,
    /// A still picture (character).
    Picture,
    /// A video (driving).
    Video,
    /// A landmark track.
    Track,
    /// A face (landmark) file.
    Face,
    /// Anything else.
    Unknown,
}

/// Classify by extension (and, for JSON, by a peek at the content).
pub fn classify(path: &Path) -> FileKind {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        e if e == PROJECT_EXTENSION => FileKind::Project,
        "png" | "jpg" | "jpeg" | "webp" => FileKind::Picture,
        "mp4" | "m4v" | "mov" | "mkv" | "webm" | "avi" | "gif" => FileKind::Video,
        "npy" => FileKind::Track,
        "json" => {
            let head: String = std::fs::read_to_string(path)
                .map(|t| t.chars().take(4096).collect())
                .unwrap_or_default();
            if head.contains("faceshot-track") || head.contains("\"frames\"") {
                FileKind::Track
            } else {
                FileKind::Face
            }
        }
        _ => FileKind::Unknown,
    }
}

fn with_extension(path: PathBuf, ext: &str) -> PathBuf {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
    {
        path
    } else {
        let mut s = path.into_os_string();
        s.push(".");
        s.push(ext);
        PathBuf::from(s)
    }
}

/// Find the shipped `assets/` folder: `$FACESHOT_ASSETS`, beside or above the binary, or the
/// source checkout this binary was built from.
pub fn find_assets() -> Option<PathBuf> {
    let ok = |p: &Path| p.join("characters").join("astronaut.png").is_file();
    if let Some(p) = std::env::var_os("FACESHOT_ASSETS").map(PathBuf::from)
        && ok(&p)
    {
        return Some(p);
    }
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1).take(5) {
            let p = dir.join("assets");
            if ok(&p) {
                return Some(p);
            }
        }
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("assets");
    ok(&p).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use faceshot_core::progress::CancelFlag;

    fn entry() -> JobEntry {
        JobEntry {
            id: 1,
            label: "job".into(),
            started: Instant::now(),
            progress: None,
            stage_start: None,
            cancel: CancelFlag::default(),
            quiet: false,
            bytes: true,
        }
    }

    #[test]
    fn the_time_left_follows_the_current_stage_rate() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut j = entry();
        assert_eq!(j.eta_at(t0), None);
        j.report("file 1 of 2".into(), 0, Some(1000), t0);
        // Too early to tell.
        assert_eq!(j.eta_at(t0 + Duration::from_millis(500)), None);
        j.report("file 1 of 2".into(), 250, Some(1000), t0 + s(10));
        assert_eq!(j.eta_at(t0 + s(10)), Some(s(30)));
        // A new stage (the next file) starts its own rate: the first file's time does not
        // count against it.
        j.report("file 2 of 2".into(), 0, Some(100), t0 + s(40));
        assert_eq!(j.eta_at(t0 + s(40)), None);
        j.report("file 2 of 2".into(), 50, Some(100), t0 + s(45));
        assert_eq!(j.eta_at(t0 + s(45)), Some(s(5)));
        // An unknown total has no estimate.
        j.report("verifying".into(), 0, None, t0 + s(50));
        assert_eq!(j.eta_at(t0 + s(60)), None);
    }
}
