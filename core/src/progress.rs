//! Progress reporting and cancellation shared by the CLI and the GUI worker.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Receives progress from a long job and tells it whether to stop.
pub trait Progress: Send + Sync {
    /// `done` units of work finished out of `total` (when known), in the named stage.
    fn update(&self, stage: &str, done: u64, total: Option<u64>);
    /// Whether the job should stop as soon as possible.
    fn cancelled(&self) -> bool {
        false
    }
}

/// A progress sink that ignores updates and never cancels.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&self, _stage: &str, _done: u64, _total: Option<u64>) {}
}

/// A shared cancel flag; clone it into the job and call [`CancelFlag::cancel`] from elsewhere.
#[derive(Clone, Debug, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// Ask the job to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`CancelFlag::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
