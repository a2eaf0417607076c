//! The `.faceshot` project file: input paths, the character's edited landmarks (its reusable
//! "rig") and the settings, as JSON written atomically.

use super::settings::Settings;
use anyhow::{Context, Result, bail};
use faceshot_core::landmarks::Face;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Format tag of project files.
pub const PROJECT_FORMAT: &str = "faceshot-project";
/// Newest project version this build reads, and the one it writes.
pub const PROJECT_VERSION: u32 = 1;
/// File extension of projects.
pub const PROJECT_EXTENSION: &str = "faceshot";

/// A project in memory, with absolute (resolved) paths.
#[derive(Clone, Debug, PartialEq)]
pub struct Project {
    /// Character picture.
    pub character: Option<PathBuf>,
    /// Driving video.
    pub driving: Option<PathBuf>,
    /// Driving landmark track file.
    pub driving_track: Option<PathBuf>,
    /// The character's landmarks.
    pub rig: Option<Face>,
    /// Settings.
    pub settings: Settings,
}

#[derive(Serialize, Deserialize)]
struct ProjectFile {
    format: String,
    version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    character: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    driving: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    driving_track: Option<PathBuf>,
    /// A face file's JSON object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rig: Option<serde_json::Value>,
    #[serde(default)]
    settings: Settings,
}

/// `path` relative to `base` when it lies inside it, else unchanged.
fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let base = std::path::absolute(base).unwrap_or_else(|_| base.to_path_buf());
    abs.strip_prefix(&base)
        .map(Path::to_path_buf)
        .unwrap_or(abs)
}

impl Project {
    /// Serialise for saving at `path` (input paths inside its folder are stored relative).
    pub fn to_json(&self, path: &Path) -> Result<String> {
        let base = faceshot_core::atomic::parent_dir(path);
        let rig = match &self.rig {
            Some(face) => Some(
                serde_json::from_str::<serde_json::Value>(&face.to_json())
                    .context("serialising the landmarks")?,
            ),
            None => None,
        };
        let file = ProjectFile {
            format: PROJECT_FORMAT.into(),
            version: PROJECT_VERSION,
            character: self.character.as_deref().map(|p| relative_to(p, base)),
            driving: self.driving.as_deref().map(|p| relative_to(p, base)),
            driving_track: self.driving_track.as_deref().map(|p| relative_to(p, base)),
            rig,
            settings: self.settings.clone(),
        };
        Ok(serde_json::to_string_pretty(&file)?)
    }

    /// Parse project JSON read from `path` (relative input paths resolve against its folder).
    pub fn from_json(text: &str, path: &Path) -> Result<Self> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let file: ProjectFile = serde_json::from_str(text)
            .with_context(|| format!("{} is not a FaceShot project", path.display()))?;
        if file.format != PROJECT_FORMAT {
            bail!(
                "{}: format is \"{}\", expected \"{PROJECT_FORMAT}\"",
                path.display(),
                file.format
            );
        }
        if file.version > PROJECT_VERSION {
            bail!(
                "{}: project version {} is newer than this FaceShot reads ({PROJECT_VERSION}); update FaceShot",
                path.display(),
                file.version
            );
        }
        let base = faceshot_core::atomic::parent_dir(path);
        let resolve =
            |p: Option<PathBuf>| p.map(|p| if p.is_absolute() { p } else { base.join(p) });
        let rig = match file.rig {
            Some(v) => Some(
                Face::from_json(&v.to_string(), path)
                    .with_context(|| format!("the landmarks in {}", path.display()))?,
            ),
            None => None,
        };
        let mut settings = file.settings;
        settings.sanitise();
        Ok(Self {
            character: resolve(file.character),
            driving: resolve(file.driving),
            driving_track: resolve(file.driving_track),
            rig,
            settings,
        })
    }

    /// Read a project file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Self::from_json(&text, path)
    }

    /// Write a project file atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = self.to_json(path)?;
        faceshot_core::atomic::write_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot save {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faceshot_core::landmarks::synthetic::frontal_face;

    #[test]
    fn round_trip_with_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("my.faceshot");
        let mut face = Face::new(frontal_face(40.0, 50.0, 20.0), None);
        face.confidence[2] = 0.5;
        let mut settings = Settings::default();
        settings.gains.mouth = 1.5;
        settings.reference = super::super::settings::ReferenceSetting::Frame(7);
        let p = Project {
            character: Some(dir.path().join("art/char.png")),
            driving: Some(PathBuf::from("/elsewhere/clip.mp4")),
            driving_track: None,
            rig: Some(face),
            settings,
        };
        p.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"art/char.png\""), "{text}");
        assert!(text.contains("/elsewhere/clip.mp4"));
        assert_eq!(Project::load(&path).unwrap(), p);
    }

    #[test]
    fn bad_files_are_refused_with_reasons() {
        let p = Path::new("x.faceshot");
        let err = Project::from_json("{\"format\":\"other\",\"version\":1}", p).unwrap_err();
        assert!(
            err.to_string().contains("expected \"faceshot-project\""),
            "{err}"
        );
        let err =
            Project::from_json("{\"format\":\"faceshot-project\",\"version\":9}", p).unwrap_err();
        assert!(err.to_string().contains("newer"), "{err}");
        assert!(Project::from_json("not json", p).is_err());
        let err = Project::from_json(
            "{\"format\":\"faceshot-project\",\"version\":1,\"rig\":{\"landmarks\":[[1,2]]}}",
            p,
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("1 landmarks"), "{err:#}");
    }

    #[test]
    fn out_of_range_settings_are_clamped() {
        let text = "{\"format\":\"faceshot-project\",\"version\":1,\"settings\":{\"gains\":{\"mouth\":9},\"smoothing\":-1}}";
        let p = Project::from_json(text, Path::new("a.faceshot")).unwrap();
        assert_eq!(p.settings.gains.mouth, 2.0);
        assert_eq!(p.settings.gains.eyes, 1.0);
        assert_eq!(p.settings.smoothing, 0.0);
    }
}
