//! FaceShot desktop app: the GUI behind `faceshot` with no subcommand (the `faceshot` binary
//! also carries the headless subcommands). Exposed as a library for the UI tests and benches.

pub mod gui;
