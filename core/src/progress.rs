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

/// A byte count in kB, MB, GB or TB, about three significant digits (download sizes).
pub fn byte_size(n: u64) -> String {
    let n = n as f64;
    let (value, unit) = if n >= 1e12 {
        (n / 1e12, "TB")
    } else if n >= 1e9 {
        (n / 1e9, "GB")
    } else if n >= 1e6 {
        (n / 1e6, "MB")
    } else {
        (n / 1e3, "kB")
    };
    if value >= 100.0 {
        format!("{value:.0} {unit}")
    } else if value >= 10.0 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.2} {unit}")
    }
}

/// A progress sink that ignores updates and never cancels.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&self, _stage: &str, _done: u64, _total: Option<u64>) {}
}

/// Reports a sub-task as part `index` (from 0) of `count` like parts of one outer stage, so
/// that a bar and its time estimate cover the whole stage: the sub-task's `done` of `total`
/// becomes `index·total + done` of `count·total`, under the stage `"{stage}: {its stage}"`.
/// Cancelling the outer progress cancels the sub-task.
pub struct Part<'a> {
    outer: &'a dyn Progress,
    stage: &'a str,
    index: u64,
    count: u64,
}

impl<'a> Part<'a> {
    /// Part `index` of `count` of `stage`, reported to `outer`.
    pub fn new(outer: &'a dyn Progress, stage: &'a str, index: u64, count: u64) -> Self {
        Self {
            outer,
            stage,
            index,
            count,
        }
    }
}

impl Progress for Part<'_> {
    fn update(&self, stage: &str, done: u64, total: Option<u64>) {
        let stage = format!("{}: {stage}", self.stage);
        match total.filter(|&t| t > 0) {
            Some(t) => self.outer.update(
                &stage,
                self.index.saturating_mul(t).saturating_add(done.min(t)),
                Some(self.count.saturating_mul(t)),
            ),
            // Without a count of its own, the part counts as one unit.
            None => self.outer.update(&stage, self.index, Some(self.count)),
        }
    }

    fn cancelled(&self) -> bool {
        self.outer.cancelled()
    }
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

/// A progress that records every update and is cancelled when told (for tests).
#[cfg(test)]
#[derive(Default)]
pub(crate) struct Record(
    pub std::sync::Mutex<Vec<(String, u64, Option<u64>)>>,
    pub AtomicBool,
);

#[cfg(test)]
impl Progress for Record {
    fn update(&self, stage: &str, done: u64, total: Option<u64>) {
        if let Ok(mut v) = self.0.lock() {
            v.push((stage.to_string(), done, total));
        }
    }
    fn cancelled(&self) -> bool {
        self.1.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_reports_its_share_of_the_whole_stage() {
        let outer = Record::default();
        let part = Part::new(&outer, "gallery", 2, 8);
        part.update("inversion", 5, Some(16));
        part.update("inversion", 20, Some(16));
        part.update("loading", 0, None);
        assert_eq!(
            *outer.0.lock().unwrap(),
            vec![
                ("gallery: inversion".to_string(), 37, Some(128)),
                ("gallery: inversion".to_string(), 48, Some(128)),
                ("gallery: loading".to_string(), 2, Some(8)),
            ]
        );
        assert!(!part.cancelled());
        outer.1.store(true, Ordering::SeqCst);
        assert!(part.cancelled());
    }

    #[test]
    fn byte_sizes_keep_about_three_digits() {
        assert_eq!(byte_size(512), "0.51 kB");
        assert_eq!(byte_size(12_345), "12.3 kB");
        assert_eq!(byte_size(3_456_789), "3.46 MB");
        assert_eq!(byte_size(312_400_000), "312 MB");
        assert_eq!(byte_size(2_600_000_000), "2.60 GB");
        assert_eq!(byte_size(30_000_000_000_000), "30.0 TB");
    }
}
