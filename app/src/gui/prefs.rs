//! The app's preferences between sessions (a small JSON file in the user's config folder),
//! written atomically. Only what is worth remembering lives here: the Stable Diffusion weights
//! folder of the diffusion matcher.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Remembered settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    /// The Stable Diffusion 2.1 folder last chosen for the diffusion matcher.
    pub dift_weights: Option<PathBuf>,
}

impl Prefs {
    /// Reads `path`; a missing file gives the defaults, an unreadable one an error message.
    pub fn load(path: &Path) -> Result<Self, String> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("preferences {} are unreadable: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(format!("preferences {}: {e}", path.display())),
        }
    }

    /// Writes `path` (temp file + rename), creating its folder.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let fail =
            |e: &dyn std::fmt::Display| format!("saving preferences {}: {e}", path.display());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
        }
        let json = serde_json::to_vec_pretty(self).map_err(|e| fail(&e))?;
        faceshot_core::atomic::write_atomic(path, &json).map_err(|e| fail(&e))
    }

    /// `$XDG_CONFIG_HOME/faceshot/prefs.json`, else `~/.config/faceshot/prefs.json`.
    pub fn default_path() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|h| PathBuf::from(h).join(".config"))
            })?;
        Some(base.join("faceshot").join("prefs.json"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_missing_and_corrupt_files() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("sub").join("prefs.json");
        assert_eq!(Prefs::load(&path), Ok(Prefs::default()));
        let p = Prefs {
            dift_weights: Some(PathBuf::from("/models/sd21")),
        };
        p.save(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(Prefs::load(&path), Ok(p));
        std::fs::write(&path, b"{not json").unwrap_or_else(|e| panic!("{e}"));
        assert!(Prefs::load(&path).is_err_and(|e| e.contains("unreadable")));
    }
}
