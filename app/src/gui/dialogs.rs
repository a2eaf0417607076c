//! Native file dialogs (rfd), run on a helper thread so the UI keeps drawing while one is
//! open. Results come back through a channel that the app polls each frame.

use crossbeam_channel::{Receiver, Sender, unbounded};
use std::path::PathBuf;

/// Why a dialog was opened (decides what happens with the chosen path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogPurpose {
    /// Any supported file, routed by kind.
    OpenAny,
    /// A character picture.
    OpenCharacter,
    /// A driving video.
    OpenDriving,
    /// A driving landmark track.
    OpenTrack,
    /// A face (landmark) file for the character.
    OpenFace,
    /// A project.
    OpenProject,
    /// Where to save the project.
    SaveProject,
    /// Where to save the character's landmarks.
    SaveFace,
    /// Where to export.
    ExportTarget,
    /// The Stable Diffusion 2.1 folder for the diffusion matcher.
    DiftWeights,
}

/// The file-dialog helper.
#[derive(Debug)]
pub struct Dialogs {
    tx: Sender<(DialogPurpose, Option<PathBuf>)>,
    rx: Receiver<(DialogPurpose, Option<PathBuf>)>,
    open: usize,
}

impl Default for Dialogs {
    fn default() -> Self {
        let (tx, rx) = unbounded();
        Self { tx, rx, open: 0 }
    }
}

const PICTURES: &[&str] = &["png", "jpg", "jpeg", "webp"];
const VIDEOS: &[&str] = &["mp4", "m4v", "mov", "mkv", "webm", "avi", "gif"];
const TRACKS: &[&str] = &["json", "npy"];

impl Dialogs {
    /// Whether a dialog is showing.
    pub fn is_open(&self) -> bool {
        self.open > 0
    }

    /// Show a dialog for `purpose`, starting in `dir`.
    pub fn open(&mut self, purpose: DialogPurpose, dir: Option<PathBuf>) {
        let tx = self.tx.clone();
        let spawned = std::thread::Builder::new()
            .name("faceshot-file-dialog".into())
            .spawn(move || {
                let mut d = rfd::FileDialog::new();
                if let Some(dir) = dir {
                    d = d.set_directory(dir);
                }
                let project = [super::project::PROJECT_EXTENSION];
                let path = match purpose {
                    DialogPurpose::OpenAny => {
                        let mut all: Vec<&str> = PICTURES.to_vec();
                        all.extend_from_slice(VIDEOS);
                        all.extend_from_slice(TRACKS);
                        all.extend_from_slice(&project);
                        d.add_filter("FaceShot inputs", &all).pick_file()
                    }
                    DialogPurpose::OpenCharacter => d
                        .set_title("Open character picture")
                        .add_filter("Pictures", PICTURES)
                        .pick_file(),
                    DialogPurpose::OpenDriving => d
                        .set_title("Open driving video")
                        .add_filter("Videos", VIDEOS)
                        .pick_file(),
                    DialogPurpose::OpenTrack => d
                        .set_title("Open driving landmarks")
                        .add_filter("Landmark tracks", TRACKS)
                        .pick_file(),
                    DialogPurpose::OpenFace => d
                        .set_title("Open character landmarks")
                        .add_filter("Face files", &["json"])
                        .pick_file(),
                    DialogPurpose::OpenProject => d
                        .set_title("Open project")
                        .add_filter("FaceShot projects", &project)
                        .pick_file(),
                    DialogPurpose::SaveProject => d
                        .set_title("Save project")
                        .add_filter("FaceShot projects", &project)
                        .set_file_name("untitled.faceshot")
                        .save_file(),
                    DialogPurpose::SaveFace => d
                        .set_title("Save character landmarks")
                        .add_filter("Face files", &["json"])
                        .set_file_name("character.face.json")
                        .save_file(),
                    DialogPurpose::ExportTarget => d.set_title("Export to").save_file(),
                    DialogPurpose::DiftWeights => d
                        .set_title("Stable Diffusion 2.1 folder (diffusers format)")
                        .pick_folder(),
                };
                let _ = tx.send((purpose, path));
            });
        if spawned.is_ok() {
            self.open += 1;
        }
    }

    /// A finished dialog's choice (cancelled dialogs are consumed silently).
    pub fn poll(&mut self) -> Option<(DialogPurpose, PathBuf)> {
        while let Ok((purpose, path)) = self.rx.try_recv() {
            self.open = self.open.saturating_sub(1);
            if let Some(p) = path {
                return Some((purpose, p));
            }
        }
        None
    }
}
