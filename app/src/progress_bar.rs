//! Terminal progress bars with ETA, and Ctrl-C as a cancel request.

use faceshot_core::progress::{CancelFlag, Progress};
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::OnceLock;

/// A progress bar on stderr that also carries the process-wide Ctrl-C cancel flag.
pub struct BarProgress {
    bar: ProgressBar,
    cancel: CancelFlag,
}

impl BarProgress {
    /// A bar for `total` steps (spinner when unknown); hidden when `quiet`.
    pub fn new(total: Option<u64>, quiet: bool) -> Self {
        let bar = match total {
            Some(n) => ProgressBar::new(n),
            None => ProgressBar::new_spinner(),
        };
        Self::styled(
            bar,
            quiet,
            "{msg:>10} [{bar:32}] {pos}/{len} ({per_sec}, ETA {eta})",
        )
    }

    /// A bar counting bytes (a download), hidden when `quiet`.
    pub fn bytes(quiet: bool) -> Self {
        Self::styled(
            ProgressBar::new(0),
            quiet,
            "{msg} [{bar:32}] {bytes}/{total_bytes} ({bytes_per_sec}, ETA {eta})",
        )
    }

    /// `bar` drawn with `template` (hidden when `quiet`), with the Ctrl-C flag.
    fn styled(bar: ProgressBar, quiet: bool, template: &str) -> Self {
        let bar = if quiet { ProgressBar::hidden() } else { bar };
        let style = ProgressStyle::with_template(template)
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Self {
            bar,
            cancel: ctrl_c_flag(),
        }
    }

    /// Finish and clear the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for BarProgress {
    fn update(&self, stage: &str, done: u64, total: Option<u64>) {
        if let Some(t) = total
            && self.bar.length() != Some(t)
        {
            self.bar.set_length(t);
        }
        if self.bar.message() != stage {
            // A new stage (or file) has its own rate: the ETA starts over.
            self.bar.set_message(stage.to_string());
            self.bar.reset_eta();
        }
        self.bar.set_position(done);
    }

    fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
}

/// The flag that Ctrl-C sets (installed once); long jobs stop and clean up when it is set.
pub fn ctrl_c_flag() -> CancelFlag {
    static FLAG: OnceLock<CancelFlag> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = CancelFlag::default();
        let handler_flag = flag.clone();
        if let Err(e) = ctrlc::set_handler(move || handler_flag.cancel()) {
            tracing::warn!("Ctrl-C handler not installed: {e}");
        }
        flag
    })
    .clone()
}
