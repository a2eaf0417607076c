//! How faithfully retargeting carries a driver's motion onto a character: tracks each driving
//! video, retargets it onto a generated cartoon with round irises under each reference mode
//! (first frame, auto, the middle frame), and prints the Pearson correlation between driver
//! and character of the mouth opening, each eye's opening, the gaze (across and up/down, both
//! eyes pooled, each about its own mean, over the frames where the driver's eyes are open) and
//! the head roll, as a Markdown table.
//!
//! Run: `cargo run --release -p faceshot-core --example motion_fidelity -- DRIVING.mp4...`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use faceshot_core::cartoon::character::{self as cartoon, Background, Style};
use faceshot_core::landmarks::synthetic::{Expression, posed_face, pupil_offset};
use faceshot_core::landmarks::{Face, ImageSize, Landmarks, Point, Track};
use faceshot_core::progress::NoProgress;
use faceshot_core::pupils::read_pupils;
use faceshot_core::retarget::measure::{Eye, eye_open_ratio, mouth_open_ratio, roll};
use faceshot_core::retarget::{Reference, RetargetOptions, retarget};
use std::path::Path;

/// The character: the test cartoon with big eyes and small round irises, pupils read from it.
fn character() -> Face {
    let rest = cartoon::big_eyes(posed_face(256.0, 272.0, 180.0, &Expression::default()), 2.0);
    let style = Style {
        iris_radius: 0.2,
        background: Background::Transparent,
        ..Style::default()
    };
    let image = cartoon::draw(512, 512, &rest, &style);
    let mut face = Face::new(
        rest,
        Some(ImageSize {
            width: 512,
            height: 512,
        }),
    );
    let reading = read_pupils(&image, &rest);
    face.pupils = Some(reading.centres());
    face.pupil_radius = reading.radius();
    face
}

fn pearson(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len()) as f64;
    let mean = |v: &[f32]| v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let (ma, mb) = (mean(a), mean(b));
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (dx, dy) = (f64::from(x) - ma, f64::from(y) - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    (sab / (saa * sbb).sqrt()) as f32
}

/// The signals compared, each as (driver, character) series.
fn signals(driver: &Track, character: &Track) -> Vec<(&'static str, Vec<f32>, Vec<f32>)> {
    let series = |t: &Track, f: &dyn Fn(&Landmarks, usize) -> f32| -> Vec<f32> {
        t.frames.iter().enumerate().map(|(i, p)| f(p, i)).collect()
    };
    let mut out = vec![
        (
            "mouth",
            series(driver, &|p, _| mouth_open_ratio(p)),
            series(character, &|p, _| mouth_open_ratio(p)),
        ),
        (
            "right eye (image-left)",
            series(driver, &|p, _| eye_open_ratio(p, Eye::Right)),
            series(character, &|p, _| eye_open_ratio(p, Eye::Right)),
        ),
        (
            "left eye",
            series(driver, &|p, _| eye_open_ratio(p, Eye::Left)),
            series(character, &|p, _| eye_open_ratio(p, Eye::Left)),
        ),
    ];
    // Gaze is compared where the driver's eyes are open (at least 60 % of their median
    // opening): under a closing lid the iris model guesses and the character's gaze rests.
    let openness: Vec<f32> = driver
        .frames
        .iter()
        .map(|p| eye_open_ratio(p, Eye::Right).min(eye_open_ratio(p, Eye::Left)))
        .collect();
    let mut sorted = openness.clone();
    sorted.sort_by(f32::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    let open: Vec<bool> = openness.iter().map(|&o| o >= 0.6 * median).collect();
    if let (Some(dp), Some(cp)) = (&driver.pupils, &character.pupils) {
        for (name, axis) in [("gaze across", 0), ("gaze up/down", 1)] {
            // Each eye's series about its own mean: the eyes' constant offsets (an iris that
            // sits a little off the corners' middle) are not motion.
            let pooled = |t: &Track, pupils: &[[Point; 2]]| -> Vec<f32> {
                (0..2)
                    .flat_map(|k| {
                        let one: Vec<f32> = t
                            .frames
                            .iter()
                            .zip(pupils)
                            .zip(&open)
                            .filter(|(_, o)| **o)
                            .map(|((p, pp), _)| {
                                let g = pupil_offset(p, pp[k], k);
                                if axis == 0 { g.0 } else { g.1 }
                            })
                            .collect();
                        let mean = one.iter().sum::<f32>() / one.len().max(1) as f32;
                        one.into_iter().map(move |v| v - mean)
                    })
                    .collect()
            };
            out.push((name, pooled(driver, dp), pooled(character, cp)));
        }
    }
    out.push((
        "roll",
        series(driver, &|p, _| roll(p)),
        series(character, &|p, _| roll(p)),
    ));
    out
}

fn main() {
    let clips: Vec<String> = std::env::args().skip(1).collect();
    if clips.is_empty() {
        eprintln!("usage: motion_fidelity DRIVING.mp4...");
        std::process::exit(2);
    }
    let face = character();
    println!(
        "| clip | reference | mouth | right eye | left eye | gaze across | gaze up/down | roll |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for clip in &clips {
        let tracked = faceshot_core::pipeline::track_driving(Path::new(clip), None, &NoProgress)
            .unwrap_or_else(|e| panic!("{clip}: {e}"));
        let driver = tracked.track;
        let name = Path::new(clip)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (label, reference) in [
            ("first", Reference::First),
            ("auto", Reference::Auto),
            ("middle", Reference::Frame(driver.len() / 2)),
        ] {
            let opts = RetargetOptions {
                reference,
                ..Default::default()
            };
            let character = retarget(&face, &driver, &opts).unwrap();
            let cells: Vec<String> = signals(&driver, &character)
                .iter()
                .map(|(_, d, c)| {
                    let r = pearson(d, c);
                    if r.is_finite() {
                        format!("{r:.3}")
                    } else {
                        "—".into()
                    }
                })
                .collect();
            println!("| {name} | {label} | {} |", cells.join(" | "));
        }
    }
}
