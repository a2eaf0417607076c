//! Atomic file output: write to a temporary file in the target folder, then rename.
//!
//! A failed or cancelled write never leaves a partial file under the target name, and an
//! existing file at the target is only replaced once the new one is complete.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A file being written next to its final path; becomes visible only on [`AtomicFile::commit`].
///
/// Dropping it without committing removes the temporary file.
#[derive(Debug)]
pub struct AtomicFile {
    temp: tempfile::TempPath,
    target: PathBuf,
}

impl AtomicFile {
    /// Reserve a temporary file beside `target`. `suffix` (e.g. `".mp4"`) lets tools that
    /// look at the extension see the right one.
    pub fn new(target: &Path, suffix: &str) -> io::Result<Self> {
        let dir = parent_dir(target);
        if target.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                format!("{} is a folder; give a file name", target.display()),
            ));
        }
        let temp = temp_builder(0o666)
            .prefix(&format!(".{}.", temp_stem(target, "output")))
            .suffix(&format!(".part{suffix}"))
            .tempfile_in(dir)
            .map_err(|e| folder_error(dir, &e))?
            .into_temp_path();
        keep_permissions(target, &temp)?;
        Ok(Self {
            temp,
            target: target.to_path_buf(),
        })
    }

    /// Path of the temporary file to write into.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// A temporary file beside `target` already holding `bytes`, published on `commit` (how a
    /// command stages several outputs and publishes them together).
    pub fn with_contents(target: &Path, bytes: &[u8]) -> io::Result<Self> {
        let file = Self::new(target, "")?;
        file.write(bytes)?;
        Ok(file)
    }

    /// Fill the temporary file with `bytes` (it appears under the target on `commit`).
    pub fn write(&self, bytes: &[u8]) -> io::Result<()> {
        let mut f = fs::File::create(self.temp_path())?;
        f.write_all(bytes)?;
        f.sync_all()
    }

    /// Move the finished temporary file onto the target path.
    pub fn commit(self) -> io::Result<PathBuf> {
        let target = self.target;
        self.temp.persist(&target).map_err(|e| e.error)?;
        Ok(target)
    }
}

/// Write `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    AtomicFile::with_contents(path, bytes)?.commit().map(|_| ())
}

/// A temporary-file builder whose files get `mode` (0o666 for files, 0o777 for folders) less
/// the umask, as any new file does (tempfile's own default is 0o600).
pub fn temp_builder<'a>(mode: u32) -> tempfile::Builder<'a, 'a> {
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = mode;
    builder
}

/// Give `temp` the permissions of the file `target` it will replace, if there is one.
fn keep_permissions(target: &Path, temp: &Path) -> io::Result<()> {
    match fs::metadata(target) {
        Ok(meta) if meta.is_file() => fs::set_permissions(temp, meta.permissions()),
        _ => Ok(()),
    }
}

/// The target's name shortened for a temporary name beside it, so that the hidden
/// `.NAME.XXXXXX.part.ext` stays within the 255-byte limit of file names.
pub fn temp_stem(target: &Path, fallback: &str) -> String {
    const MAX_BYTES: usize = 200;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| fallback.into());
    let mut end = name.len().min(MAX_BYTES);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_string()
}

/// A short error for a folder that cannot take new files (tempfile's own repeats the path).
pub fn folder_error(dir: &Path, e: &io::Error) -> io::Error {
    let why = match e.kind() {
        io::ErrorKind::NotFound => "folder does not exist".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        io::ErrorKind::ReadOnlyFilesystem => "read-only file system".to_string(),
        kind => kind.to_string(),
    };
    io::Error::new(
        e.kind(),
        format!("cannot write in {}: {why}", dir.display()),
    )
}

/// The folder a path lives in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_file_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bin");
        {
            let f = AtomicFile::new(&target, ".bin").unwrap();
            fs::write(f.temp_path(), b"partial").unwrap();
        }
        assert!(!target.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn commit_replaces_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.txt");
        fs::write(&target, b"old").unwrap();
        write_atomic(&target, b"new").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn missing_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("no/such/dir/out.txt");
        assert!(write_atomic(&target, b"x").is_err());
    }
}
