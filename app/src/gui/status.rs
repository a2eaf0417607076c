//! What the window reports about its work: jobs in flight with progress and time left,
//! notices, the preview frame on show, and preview timing.

use super::worker::JobId;
use eframe::egui::TextureHandle;
use faceshot_core::progress::CancelFlag;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// A job the UI is waiting for.
#[derive(Debug)]
pub struct JobEntry {
    /// Id.
    pub id: JobId,
    /// What it does.
    pub label: String,
    /// When it was submitted.
    pub started: Instant,
    /// Latest progress: stage, done, total.
    pub progress: Option<(String, u64, Option<u64>)>,
    /// When the current stage's first report arrived, and its `done` then.
    pub(crate) stage_start: Option<(Instant, u64)>,
    /// Cancels it.
    pub cancel: CancelFlag,
    /// Hidden from the jobs list.
    pub quiet: bool,
    /// Its units are bytes (a download).
    pub bytes: bool,
}

impl JobEntry {
    /// Fraction done, when the total is known.
    pub fn fraction(&self) -> Option<f32> {
        match &self.progress {
            Some((_, done, Some(total))) if *total > 0 => {
                Some((*done as f32 / *total as f32).min(1.0))
            }
            _ => None,
        }
    }

    /// Record a progress report; a new stage restarts the rate behind [`Self::eta`].
    pub fn report(&mut self, stage: String, done: u64, total: Option<u64>, now: Instant) {
        let same_stage = self.progress.as_ref().is_some_and(|(s, _, _)| *s == stage);
        if !same_stage {
            self.stage_start = Some((now, done));
        }
        self.progress = Some((stage, done, total));
    }

    /// Estimated time left in the current stage, from its rate so far (none before a second
    /// of it or 1 % of its work).
    pub fn eta(&self) -> Option<Duration> {
        self.eta_at(Instant::now())
    }

    /// [`Self::eta`] as of `now`.
    pub fn eta_at(&self, now: Instant) -> Option<Duration> {
        let (_, done, total) = self.progress.as_ref()?;
        let total = (*total)?;
        let (since, from) = self.stage_start?;
        let elapsed = now.saturating_duration_since(since).as_secs_f64();
        let progressed = done.saturating_sub(from) as f64;
        if elapsed < 1.0 || total == 0 || progressed < total as f64 * 0.01 {
            return None;
        }
        let left = total.saturating_sub(*done) as f64;
        Some(Duration::from_secs_f64(left * elapsed / progressed))
    }
}

/// How serious a notice is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeLevel {
    /// Something finished.
    Info,
    /// Something the user should know.
    Warning,
    /// Something failed.
    Error,
}

/// A message shown to the user until dismissed.
#[derive(Clone, Debug)]
pub struct Notice {
    /// Severity.
    pub level: NoticeLevel,
    /// Text.
    pub text: String,
}

/// The latest rendered preview.
pub struct PreviewFrame {
    /// Document revision it reflects.
    pub revision: u64,
    /// Timeline frame.
    pub frame: usize,
    /// Texture.
    pub texture: TextureHandle,
    /// Render time.
    pub millis: f32,
}

/// UI timing figures, for the performance readout and the bench.
#[derive(Debug, Default)]
pub struct PerfStats {
    /// Recent UI frame build times (ms).
    pub frame_ms: VecDeque<f32>,
    /// Recent edit → updated preview (or retargeted track) latencies (ms).
    pub edit_to_preview_ms: VecDeque<f32>,
    /// When each recent revision was made by an edit.
    edit_times: VecDeque<(u64, Instant)>,
}

impl PerfStats {
    const KEEP: usize = 600;

    pub(crate) fn push(q: &mut VecDeque<f32>, v: f32) {
        if q.len() == Self::KEEP {
            q.pop_front();
        }
        q.push_back(v);
    }

    /// Note that an edit produced `revision` now.
    pub fn edited(&mut self, revision: u64) {
        if self.edit_times.back().is_none_or(|(r, _)| *r != revision) {
            if self.edit_times.len() == 64 {
                self.edit_times.pop_front();
            }
            self.edit_times.push_back((revision, Instant::now()));
        }
    }

    /// A result for `revision` arrived: record the latency from the edit that made it.
    pub(crate) fn arrived(&mut self, revision: u64) {
        if let Some(&(_, t)) = self.edit_times.iter().find(|(r, _)| *r == revision) {
            Self::push(
                &mut self.edit_to_preview_ms,
                t.elapsed().as_secs_f32() * 1000.0,
            );
            self.edit_times.retain(|(r, _)| *r > revision);
        }
    }
}

/// Work in flight: the background worker, the jobs sent to it, and the messages for the user.
pub struct Jobs {
    worker: super::worker::Worker,
    entries: Vec<JobEntry>,
    /// Messages for the user (the newest last, at most [`Jobs::MAX_NOTICES`]).
    pub notices: Vec<Notice>,
    /// The landmark matcher job in progress, if any.
    pub matching: Option<JobId>,
    /// The weights download in progress, if any.
    pub downloading: Option<JobId>,
}

impl Jobs {
    /// Messages kept.
    pub const MAX_NOTICES: usize = 8;

    /// Jobs run by `worker`.
    pub fn new(worker: super::worker::Worker) -> Self {
        Self {
            worker,
            entries: Vec::new(),
            notices: Vec::new(),
            matching: None,
            downloading: None,
        }
    }

    /// Queue a worker request and track it.
    pub fn submit(&mut self, request: super::jobs::Request) -> JobId {
        let label = request.label();
        let quiet = request.is_quiet();
        let bytes = request.counts_bytes();
        let (id, cancel) = self.worker.submit(request);
        self.entries.push(JobEntry {
            id,
            label,
            started: Instant::now(),
            progress: None,
            stage_start: None,
            cancel,
            quiet,
            bytes,
        });
        id
    }

    /// Jobs in progress.
    pub fn entries(&self) -> &[JobEntry] {
        &self.entries
    }

    /// A job in progress.
    pub fn entry_mut(&mut self, id: JobId) -> Option<&mut JobEntry> {
        self.entries.iter_mut().find(|j| j.id == id)
    }

    /// Whether any job (including preview refreshes) is pending.
    pub fn is_busy(&self) -> bool {
        !self.entries.is_empty()
    }

    /// Ask a job to stop.
    pub fn cancel(&self, id: JobId) {
        if let Some(j) = self.entries.iter().find(|j| j.id == id) {
            j.cancel.cancel();
        }
    }

    /// Stop tracking a job that ended; its entry, if it was tracked.
    pub fn finish(&mut self, id: JobId) -> Option<JobEntry> {
        let pos = self.entries.iter().position(|j| j.id == id)?;
        Some(self.entries.remove(pos))
    }

    /// The worker's next event, if one is waiting (never blocks).
    pub fn try_recv(&self) -> Option<super::worker::Event> {
        self.worker.try_recv()
    }

    /// Add a message for the user (and to the log).
    pub fn notify(&mut self, level: NoticeLevel, text: impl Into<String>) {
        let text = text.into();
        match level {
            NoticeLevel::Error => tracing::error!("{text}"),
            NoticeLevel::Warning => tracing::warn!("{text}"),
            NoticeLevel::Info => tracing::info!("{text}"),
        }
        self.notices.push(Notice { level, text });
        if self.notices.len() > Self::MAX_NOTICES {
            self.notices.remove(0);
        }
    }
}
