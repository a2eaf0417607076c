//! One module per subcommand: its clap arguments and its `run`.

pub mod animate;
pub mod cartoons;
pub mod detect;
pub mod eval_match;
pub mod match_cmd;
pub mod probe;
pub mod render;
pub mod retarget;
pub mod transcode;
pub mod weights;
