//! A generated cartoon character for end-to-end tests: its picture, rest face and a track.
#![allow(dead_code)]

use faceshot_core::cartoon::character::{self as cartoon, Background, Style};
use faceshot_core::landmarks::synthetic::{Expression, posed_face};
use faceshot_core::landmarks::{Face, ImageSize, Track};
use faceshot_core::media::save_png;
use std::path::Path;

/// Character picture, rest face and an 8-frame track in `dir`.
pub fn character(dir: &Path) {
    let size = ImageSize {
        width: 128,
        height: 128,
    };
    let rest = cartoon::big_eyes(posed_face(64.0, 66.0, 28.0, &Expression::default()), 2.2);
    let style = Style {
        background: Background::Transparent,
        ..Style::default()
    };
    save_png(
        &cartoon::draw(128, 128, &rest, &style),
        &dir.join("char.png"),
    )
    .unwrap();
    Face::new(rest, Some(size))
        .save(&dir.join("char.json"))
        .unwrap();
    let mut track = Track::new(10.0, Some(size));
    for t in 0..8 {
        let k = t as f32 / 7.0;
        let e = Expression {
            mouth_open: k,
            right_eye_open: 1.0 - k,
            roll: 0.2 * k,
            ..Default::default()
        };
        track.push(
            cartoon::big_eyes(posed_face(64.0 + 4.0 * k, 66.0, 28.0, &e), 2.2),
            true,
        );
    }
    track.save(&dir.join("track.json")).unwrap();
}
