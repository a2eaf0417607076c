//! Fuzzing the `.faceshot` project reader: damaged project files are errors, never panics,
//! and whatever it accepts writes back and reads again. `FACESHOT_FUZZ_CASES` sets the count.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../core/tests/support/mutate.rs"]
mod mutate;

use faceshot::gui::project::Project;
use faceshot_core::landmarks::synthetic::frontal_face;
use faceshot_core::landmarks::{Face, ImageSize};
use mutate::{assert_no_panics, case_count, fuzz};
use std::path::Path;

#[test]
fn project_files_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.faceshot");
    let full = Project {
        character: Some(dir.path().join("hero.png")),
        driving: Some("talk.mp4".into()),
        driving_track: Some("talk.track.json".into()),
        rig: Some(Face::new(
            frontal_face(100.0, 100.0, 40.0),
            Some(ImageSize {
                width: 200,
                height: 200,
            }),
        )),
        settings: Default::default(),
    };
    let empty = Project {
        character: None,
        driving: None,
        driving_track: None,
        rig: None,
        settings: Default::default(),
    };
    let seeds = vec![
        full.to_json(&path).unwrap().into_bytes(),
        empty.to_json(&path).unwrap().into_bytes(),
    ];
    let report = fuzz("project", &seeds, case_count(3000), 8, |bytes| {
        let text = String::from_utf8_lossy(bytes);
        match Project::from_json(&text, Path::new("p.faceshot")) {
            Ok(p) => {
                let again = p.to_json(Path::new("p.faceshot")).unwrap();
                Project::from_json(&again, Path::new("p.faceshot"))
                    .expect("an accepted project reads back");
                true
            }
            Err(_) => false,
        }
    });
    assert_no_panics("project", &report);
    assert!(report.accepted > 0);
}
