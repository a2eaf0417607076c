//! One module per subcommand: its clap arguments and its `run`.

pub mod animate;
pub mod cartoons;
pub mod contact_sheet;
pub mod detect;
pub mod eval_match;
pub mod live;
pub mod match_cmd;
pub mod probe;
pub mod render;
pub mod retarget;
pub mod transcode;
pub mod weights;

use std::path::Path;

/// Refuse, before any work, an output that is one of the command's inputs or another of its
/// outputs, or whose folder does not exist. `inputs` and `outputs` are (role, path) pairs.
pub fn check_paths(inputs: &[(&str, &Path)], outputs: &[(&str, &Path)]) -> anyhow::Result<()> {
    faceshot_core::output_check::check_outputs(inputs, outputs)?;
    for (role, path) in outputs {
        faceshot_core::output_check::check_output_folder(role, path)?;
    }
    Ok(())
}

/// A finite number in `range`, for an option's value parser.
pub fn finite_in(text: &str, range: std::ops::RangeInclusive<f64>) -> Result<f64, String> {
    let v: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("\"{text}\" is not a number"))?;
    if v.is_finite() && range.contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "{text} is not in [{}, {}]",
            range.start(),
            range.end()
        ))
    }
}
