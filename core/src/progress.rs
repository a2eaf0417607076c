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

#[cfg(test)]
mod tests {
    use super::*;

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
