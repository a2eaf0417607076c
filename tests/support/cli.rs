//! Running the built `faceshot` binary from end-to-end tests, and judging a failed run.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Run `faceshot ARGS --quiet` and wait for it.
pub fn faceshot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faceshot"))
        .args(args)
        .arg("--quiet")
        .output()
        .expect("run faceshot")
}

/// What the run printed on stderr.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A successful run's stdout (fails with its stderr otherwise).
pub fn ok(o: &Output) -> String {
    assert!(o.status.success(), "stderr: {}", stderr(o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A path as a test argument (test paths are always Unicode).
pub fn s(p: &Path) -> &str {
    p.to_str().expect("a Unicode test path")
}

/// A failed run: exit code 1, exactly one `error:` line containing `needle`, no panic.
pub fn assert_clean_failure(o: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains(needle), "want {needle:?}: {}", lines[0]);
}

/// An option refused while parsing the command line: exit code 2, no panic, nothing run.
pub fn assert_option_refused(o: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(needle), "want {needle:?}: {err}");
}
