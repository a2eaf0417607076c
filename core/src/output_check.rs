//! Refusing outputs that would overwrite a command's inputs or one another.
//!
//! Paths are compared by what they point to, not by spelling: existing files by file identity
//! (so `./a.json`, `a.json`, a symlink or a hard link to it all match), outputs that do not
//! exist yet by their resolved folder and name.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// An output that would replace an input or another output.
#[derive(Debug, thiserror::Error)]
#[error("{output_role} {output} is also {other_role} {other}; choose another name", output = output.display(), other = other.display())]
pub struct OutputConflict {
    /// The output's role, e.g. `-o` or `--overlay`.
    pub output_role: String,
    /// The output as given.
    pub output: PathBuf,
    /// The other path's role, e.g. `the input video` or `--npy`.
    pub other_role: String,
    /// The other path as given.
    pub other: PathBuf,
}

/// What a path points to, for comparing paths spelled differently.
#[derive(Debug, PartialEq, Eq)]
enum Identity {
    /// An existing file or folder.
    #[cfg(unix)]
    Inode(u64, u64),
    /// An existing file or folder (non-Unix: its canonical path), or a path that does not exist
    /// yet: its canonical folder joined with its name.
    Path(PathBuf),
}

fn identity(path: &Path) -> Option<Identity> {
    match fs::metadata(path) {
        #[cfg(unix)]
        Ok(meta) => {
            use std::os::unix::fs::MetadataExt;
            Some(Identity::Inode(meta.dev(), meta.ino()))
        }
        #[cfg(not(unix))]
        Ok(_) => path.canonicalize().ok().map(Identity::Path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let folder = crate::atomic::parent_dir(path).canonicalize().ok()?;
            Some(Identity::Path(folder.join(path.file_name()?)))
        }
        Err(_) => None,
    }
}

/// Check that no output is one of the inputs or another output; `inputs` and `outputs` are
/// (role, path) pairs. Paths that cannot be resolved (a folder that does not exist) are left
/// to fail when they are written.
pub fn check_outputs(
    inputs: &[(&str, &Path)],
    outputs: &[(&str, &Path)],
) -> Result<(), OutputConflict> {
    let ids = |list: &[(&str, &Path)]| -> Vec<Option<Identity>> {
        list.iter().map(|(_, p)| identity(p)).collect()
    };
    let (input_ids, output_ids) = (ids(inputs), ids(outputs));
    let conflict = |o: usize, (role, other): (&str, &Path)| OutputConflict {
        output_role: outputs[o].0.to_string(),
        output: outputs[o].1.to_path_buf(),
        other_role: role.to_string(),
        other: other.to_path_buf(),
    };
    for (o, out_id) in output_ids.iter().enumerate() {
        let Some(out_id) = out_id else { continue };
        for (i, in_id) in input_ids.iter().enumerate() {
            if in_id.as_ref() == Some(out_id) {
                return Err(conflict(o, inputs[i]));
            }
        }
        for (p, prev_id) in output_ids.iter().enumerate().take(o) {
            if prev_id.as_ref() == Some(out_id) {
                return Err(conflict(o, outputs[p]));
            }
        }
    }
    Ok(())
}

/// Check that the folder `output` goes into exists, so that a mistyped output fails before
/// any long work rather than after it.
pub fn check_output_folder(role: &str, output: &Path) -> Result<(), OutputFolderError> {
    let folder = crate::atomic::parent_dir(output);
    if folder.is_dir() {
        Ok(())
    } else {
        Err(OutputFolderError {
            role: role.to_string(),
            output: output.to_path_buf(),
            folder: folder.to_path_buf(),
        })
    }
}

/// An output whose folder does not exist.
#[derive(Debug, thiserror::Error)]
#[error("{role} {output}: the folder {folder} does not exist", output = output.display(), folder = folder.display())]
pub struct OutputFolderError {
    /// The output's role, e.g. `-o`.
    pub role: String,
    /// The output as given.
    pub output: PathBuf,
    /// Its folder.
    pub folder: PathBuf,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_output_spelled_differently_from_its_input_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("face.json");
        fs::write(&input, "{}").unwrap();
        let other = dir.path().join("sub/../face.json");
        fs::create_dir(dir.path().join("sub")).unwrap();
        let err = check_outputs(&[("the picture", &input)], &[("-o", &other)]).unwrap_err();
        assert!(err.to_string().contains("is also the picture"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_hard_link_or_symlink_to_an_input_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("a.json");
        fs::write(&input, "{}").unwrap();
        let hard = dir.path().join("b.json");
        fs::hard_link(&input, &hard).unwrap();
        let soft = dir.path().join("c.json");
        std::os::unix::fs::symlink(&input, &soft).unwrap();
        assert!(check_outputs(&[("in", &input)], &[("-o", &hard)]).is_err());
        assert!(check_outputs(&[("in", &input)], &[("-o", &soft)]).is_err());
    }

    #[test]
    fn two_new_outputs_with_the_same_name_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("out.json");
        let b = dir.path().join(".").join("out.json");
        let err = check_outputs(&[], &[("-o", &a), ("--save-track", &b)]).unwrap_err();
        assert!(err.to_string().starts_with("--save-track"), "{err}");
        assert!(check_outputs(&[], &[("-o", &a), ("--npy", &dir.path().join("o.npy"))]).is_ok());
    }

    #[test]
    fn distinct_existing_files_pass() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        fs::write(&a, "1").unwrap();
        fs::write(&b, "2").unwrap();
        assert!(check_outputs(&[("in", &a)], &[("-o", &b)]).is_ok());
    }
}
