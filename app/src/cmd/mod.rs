//! One module per subcommand: its clap arguments and its `run`.

pub mod animate;
pub mod detect;
pub mod probe;
pub mod render;
pub mod retarget;
pub mod transcode;
