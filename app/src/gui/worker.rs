//! The background worker: one thread that owns the pipeline and talks to the UI over
//! crossbeam-channel.
//!
//! The UI sends [`Request`]s and polls [`Event`]s; it never waits on the worker. Every job
//! reports progress, can be cancelled through its [`CancelFlag`], and ends in exactly one of
//! `Finished`, `Failed` or `Cancelled`. A panic inside a job is caught and reported as
//! `Failed`; the worker keeps running. Refresh requests (retarget + preview) coalesce: when
//! several are waiting, only the newest runs and the others end as `Superseded`. Requests that
//! wait on the network for minutes ([`Request::runs_aside`]) run on a thread of their own, so
//! the pipeline's jobs are not queued behind them.

use super::jobs::{self, JobContext, JobOutput, WorkerState};
use crossbeam_channel::{Receiver, Sender, unbounded};
use faceshot_core::progress::{CancelFlag, Progress};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use super::jobs::Request;

/// Identifies one job.
pub type JobId = u64;

/// What the worker tells the UI.
#[derive(Debug)]
pub enum Event {
    /// Progress of a running job.
    Progress {
        /// The job.
        job: JobId,
        /// Current stage, e.g. "decoding".
        stage: String,
        /// Units done.
        done: u64,
        /// Units in all, when known.
        total: Option<u64>,
    },
    /// The job completed.
    Finished {
        /// The job.
        job: JobId,
        /// Its results (a refresh can yield a retargeted track and a preview frame).
        outputs: Vec<JobOutput>,
    },
    /// The job failed (including a caught panic); the message is for the user.
    Failed {
        /// The job.
        job: JobId,
        /// What went wrong.
        message: String,
    },
    /// The job stopped because it was cancelled.
    Cancelled {
        /// The job.
        job: JobId,
    },
    /// A newer request of the same kind replaced this one before it ran.
    Superseded {
        /// The job.
        job: JobId,
    },
}

impl Event {
    /// The job the event is about.
    pub fn job(&self) -> JobId {
        match self {
            Event::Progress { job, .. }
            | Event::Finished { job, .. }
            | Event::Failed { job, .. }
            | Event::Cancelled { job }
            | Event::Superseded { job } => *job,
        }
    }
}

/// Called from the worker after each event so the UI wakes up (e.g. `request_repaint`).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// The jobs running on threads of their own, with their cancel flags.
type Aside = Arc<Mutex<Vec<(JobId, CancelFlag)>>>;

struct Envelope {
    job: JobId,
    cancel: CancelFlag,
    request: Request,
}

enum Msg {
    Job(Box<Envelope>),
    Shutdown,
}

/// Handle to the worker thread. Dropping it cancels the running job and joins the thread.
pub struct Worker {
    tx: Sender<Msg>,
    rx: Receiver<Event>,
    thread: Option<JoinHandle<()>>,
    next: JobId,
    running: Arc<Mutex<Option<CancelFlag>>>,
    /// The jobs running on threads of their own.
    aside: Aside,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// Start the worker thread.
    pub fn spawn(waker: Waker) -> Self {
        let (tx, job_rx) = unbounded::<Msg>();
        let (event_tx, rx) = unbounded::<Event>();
        let running = Arc::new(Mutex::new(None));
        let aside = Arc::new(Mutex::new(Vec::new()));
        let (running2, aside2) = (Arc::clone(&running), Arc::clone(&aside));
        let thread = std::thread::Builder::new()
            .name("faceshot-worker".into())
            .spawn(move || worker_loop(&job_rx, &event_tx, &waker, &running2, &aside2))
            .ok();
        Self {
            tx,
            rx,
            thread,
            next: 1,
            running,
            aside,
        }
    }

    /// Queue a request; returns its id and the flag that cancels it.
    pub fn submit(&mut self, request: Request) -> (JobId, CancelFlag) {
        let job = self.next;
        self.next += 1;
        let cancel = CancelFlag::default();
        let env = Envelope {
            job,
            cancel: cancel.clone(),
            request,
        };
        // A send only fails when the thread is gone; the job then never reports, which
        // `is_alive` exposes.
        let _ = self.tx.send(Msg::Job(Box::new(env)));
        (job, cancel)
    }

    /// The next event, if any (never blocks).
    pub fn try_recv(&self) -> Option<Event> {
        self.rx.try_recv().ok()
    }

    /// Wait up to `timeout` for the next event (for tests and tools, not the UI thread).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Event> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// Whether the worker thread is still running.
    pub fn is_alive(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Ok(guard) = self.running.lock()
            && let Some(flag) = guard.as_ref()
        {
            flag.cancel();
        }
        if let Ok(aside) = self.aside.lock() {
            aside.iter().for_each(|(_, flag)| flag.cancel());
        }
        let _ = self.tx.send(Msg::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Progress sink for one job: forwards updates (at most every 50 ms, plus the last one) and
/// answers "cancelled?" from the job's flag.
struct JobProgress<'a> {
    job: JobId,
    cancel: CancelFlag,
    tx: &'a Sender<Event>,
    waker: &'a Waker,
    last: Mutex<Option<Instant>>,
}

impl Progress for JobProgress<'_> {
    fn update(&self, stage: &str, done: u64, total: Option<u64>) {
        let now = Instant::now();
        let finished = total.is_some_and(|t| done >= t);
        if let Ok(mut last) = self.last.lock() {
            if let Some(t) = *last
                && now.duration_since(t) < Duration::from_millis(50)
                && !finished
            {
                return;
            }
            *last = Some(now);
        }
        let _ = self.tx.send(Event::Progress {
            job: self.job,
            stage: stage.into(),
            done,
            total,
        });
        (self.waker)();
    }

    fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
}

/// The text of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

/// Run `f`, turning a panic into an error message.
pub fn catch_job<T>(f: impl FnOnce() -> anyhow::Result<T>) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{e:#}")),
        Err(payload) => Err(format!(
            "internal error: {}",
            panic_message(payload.as_ref())
        )),
    }
}

fn worker_loop(
    rx: &Receiver<Msg>,
    tx: &Sender<Event>,
    waker: &Waker,
    running: &Mutex<Option<CancelFlag>>,
    aside: &Aside,
) {
    let mut state = WorkerState::default();
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while let Ok(m) = rx.try_recv() {
            batch.push(m);
        }
        let shutdown = batch.iter().any(|m| matches!(m, Msg::Shutdown));
        if shutdown {
            // Nothing queued runs after shutdown; running jobs were cancelled by the handle.
            break;
        }
        let (run, refresh, superseded) = coalesce(batch);
        for job in superseded {
            let _ = tx.send(Event::Superseded { job });
        }
        for env in run {
            if env.request.runs_aside() {
                run_aside(env, tx, waker, aside);
            } else {
                run_one(&mut state, env, tx, waker, running);
            }
        }
        if let Some(env) = refresh {
            run_one(&mut state, env, tx, waker, running);
        }
        waker();
    }
}

/// Split a batch of waiting messages: the jobs to run in order, the newest refresh (run last),
/// and the refreshes it supersedes.
fn coalesce(batch: Vec<Msg>) -> (Vec<Envelope>, Option<Envelope>, Vec<JobId>) {
    let mut run = Vec::new();
    let mut refresh: Option<Envelope> = None;
    let mut superseded = Vec::new();
    for msg in batch {
        let Msg::Job(env) = msg else { continue };
        if matches!(env.request, Request::Refresh(_)) {
            if let Some(old) = refresh.replace(*env) {
                superseded.push(old.job);
            }
        } else {
            run.push(*env);
        }
    }
    (run, refresh, superseded)
}

/// Run `env` on the worker thread, as the job `Worker::drop` cancels.
fn run_one(
    state: &mut WorkerState,
    env: Envelope,
    tx: &Sender<Event>,
    waker: &Waker,
    running: &Mutex<Option<CancelFlag>>,
) {
    if let Ok(mut r) = running.lock() {
        *r = Some(env.cancel.clone());
    }
    execute(state, env, tx, waker);
    if let Ok(mut r) = running.lock() {
        *r = None;
    }
}

/// Run `env` on a thread of its own, with no pipeline state; `Worker::drop` cancels it.
fn run_aside(env: Envelope, tx: &Sender<Event>, waker: &Waker, aside: &Aside) {
    let job = env.job;
    if let Ok(mut a) = aside.lock() {
        a.push((job, env.cancel.clone()));
    }
    let (tx2, waker2, aside2) = (tx.clone(), Arc::clone(waker), Arc::clone(aside));
    let spawned = std::thread::Builder::new()
        .name("faceshot-aside".into())
        .spawn(move || {
            execute(&mut WorkerState::default(), env, &tx2, &waker2);
            if let Ok(mut a) = aside2.lock() {
                a.retain(|(j, _)| *j != job);
            }
        });
    if let Err(e) = spawned {
        if let Ok(mut a) = aside.lock() {
            a.retain(|(j, _)| *j != job);
        }
        let _ = tx.send(Event::Failed {
            job,
            message: format!("cannot start a thread: {e}"),
        });
    }
}

/// Run one job and report how it ended.
fn execute(state: &mut WorkerState, env: Envelope, tx: &Sender<Event>, waker: &Waker) {
    let Envelope {
        job,
        cancel,
        request,
    } = env;
    if cancel.is_cancelled() {
        let _ = tx.send(Event::Cancelled { job });
        return;
    }
    let progress = JobProgress {
        job,
        cancel: cancel.clone(),
        tx,
        waker,
        last: Mutex::new(None),
    };
    let result = catch_job(|| {
        let ctx = JobContext {
            progress: &progress,
        };
        jobs::run(state, request, &ctx)
    });
    let event = match result {
        Ok(outputs) => Event::Finished { job, outputs },
        Err(_) if cancel.is_cancelled() => Event::Cancelled { job },
        Err(message) => {
            if message.starts_with("internal error") {
                // A panic may have left cached pipeline objects half-updated.
                *state = WorkerState::default();
            }
            Event::Failed { job, message }
        }
    };
    let _ = tx.send(event);
    waker();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gui::jobs::RefreshRequest;
    use faceshot_core::landmarks::Face;
    use faceshot_core::landmarks::synthetic::frontal_face;

    fn refresh(job: JobId, frame: usize) -> Msg {
        Msg::Job(Box::new(Envelope {
            job,
            cancel: CancelFlag::default(),
            request: Request::Refresh(Box::new(RefreshRequest {
                revision: 1,
                image: Arc::new(image::RgbaImage::new(8, 8)),
                face: Face::new(frontal_face(4.0, 4.0, 2.0), None),
                driving: None,
                settings: Default::default(),
                frame,
            })),
        }))
    }

    fn load(job: JobId) -> Msg {
        Msg::Job(Box::new(Envelope {
            job,
            cancel: CancelFlag::default(),
            request: Request::LoadTrack("t.json".into()),
        }))
    }

    #[test]
    fn only_the_newest_refresh_runs_and_other_jobs_keep_their_order() {
        let batch = vec![
            refresh(1, 0),
            load(2),
            refresh(3, 5),
            load(4),
            refresh(5, 9),
        ];
        let (run, newest, superseded) = coalesce(batch);
        assert_eq!(run.iter().map(|e| e.job).collect::<Vec<_>>(), vec![2, 4]);
        assert_eq!(newest.map(|e| e.job), Some(5));
        assert_eq!(superseded, vec![1, 3]);
    }

    #[test]
    fn panics_become_messages() {
        let r: Result<(), String> = catch_job(|| panic!("boom {}", 7));
        assert_eq!(r.unwrap_err(), "internal error: boom 7");
        let r: Result<(), String> = catch_job(|| Err(anyhow::anyhow!("bad input")));
        assert_eq!(r.unwrap_err(), "bad input");
    }

    #[test]
    fn the_worker_reports_failures_and_keeps_running() {
        let mut w = Worker::spawn(Arc::new(|| {}));
        let (bad, _) = w.submit(Request::LoadTrack("/no/such/track.json".into()));
        let ev = w.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(ev.job(), bad);
        match ev {
            Event::Failed { message, .. } => assert!(message.contains("track.json"), "{message}"),
            other => panic!("expected a failure, got {other:?}"),
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        let mut t = faceshot_core::landmarks::Track::new(25.0, None);
        t.push(frontal_face(50.0, 50.0, 20.0), true);
        t.save(&path).unwrap();
        let (good, _) = w.submit(Request::LoadTrack(path));
        match w.recv_timeout(Duration::from_secs(10)).unwrap() {
            Event::Finished { job, outputs } => {
                assert_eq!(job, good);
                assert!(
                    matches!(&outputs[..], [JobOutput::Track { track, .. }] if track.len() == 1)
                );
            }
            other => panic!("expected success, got {other:?}"),
        }
        assert!(w.is_alive());
    }

    #[test]
    fn a_cancelled_job_reports_cancelled() {
        let mut w = Worker::spawn(Arc::new(|| {}));
        // Cancel before the worker picks it up: the job must not run.
        let (job, cancel) = w.submit(Request::LoadTrack("/no/such/file.json".into()));
        cancel.cancel();
        let ev = w.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(
            matches!(ev, Event::Cancelled { job: j } if j == job),
            "{ev:?}"
        );
    }

    #[test]
    fn a_download_waiting_on_the_network_does_not_hold_up_other_jobs() {
        use faceshot_dift::hub::{DEFAULT_REPO, Hub};
        // A hub that accepts connections and never answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let _held: Vec<_> = listener.incoming().collect();
        });
        let dest = tempfile::tempdir().unwrap();
        let mut w = Worker::spawn(Arc::new(|| {}));
        let (download, _) = w.submit(Request::DownloadWeights {
            hub: Hub::new(&endpoint, DEFAULT_REPO, None),
            dest: dest.path().to_path_buf(),
        });
        let (load, _) = w.submit(Request::LoadTrack("/no/such/file.json".into()));
        // The load ends (failing: no such file) while the download still waits (having
        // reported only that it asks the hub).
        let ev = loop {
            match w.recv_timeout(Duration::from_secs(20)).unwrap() {
                Event::Progress { job, .. } if job == download => continue,
                ev => break ev,
            }
        };
        assert!(
            matches!(ev, Event::Failed { job, .. } if job == load),
            "{ev:?}"
        );
        assert!(w.aside.lock().unwrap().iter().any(|(j, _)| *j == download));
        let flags: Vec<CancelFlag> = w
            .aside
            .lock()
            .unwrap()
            .iter()
            .map(|(_, f)| f.clone())
            .collect();
        // Closing the worker cancels it.
        drop(w);
        assert!(flags.iter().all(CancelFlag::is_cancelled));
    }
}
