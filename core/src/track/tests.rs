use std::path::PathBuf;

use super::*;
use crate::landmarks::Point;

fn asset(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/parity")
        .join(name)
}

fn photo(name: &str) -> RgbImage {
    image::open(asset(name)).unwrap().to_rgb8()
}

fn reference_mesh(name: &str) -> Vec<[f32; 2]> {
    let text = std::fs::read_to_string(asset("reference.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["photos"][name]["mesh"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| [p[0].as_f64().unwrap() as f32, p[1].as_f64().unwrap() as f32])
        .collect()
}

fn tracker(refine_eyes: bool) -> Tracker {
    let options = TrackerOptions {
        refine_eyes,
        ..TrackerOptions::default()
    };
    Tracker::new(FaceNets::embedded().unwrap(), options)
}

/// Our detector → ROI → mesh pipeline against MediaPipe's face mesh solution (static image,
/// no refinement): errors in pixels of the 192×192 crop.
#[test]
fn still_image_mesh_matches_mediapipe_solution() {
    let mut t = tracker(false);
    for name in ["astronaut", "astronaut_rot"] {
        let face = t
            .process_still(&photo(&format!("{name}.png")))
            .unwrap()
            .unwrap();
        assert!(face.detected && face.usable && face.presence > 0.9);
        let want = reference_mesh(name);
        let to_crop = MESH_SIZE as f32 / face.roi.width;
        let errs: Vec<f32> = face
            .mesh
            .iter()
            .zip(&want)
            .map(|(p, q)| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt() * to_crop)
            .collect();
        let mean = errs.iter().sum::<f32>() / errs.len() as f32;
        let max = errs.iter().copied().fold(0.0, f32::max);
        println!("{name}: mesh vs MediaPipe, crop px: mean {mean:.3}, max {max:.3}");
        assert!(mean <= 0.25 && max <= 0.5, "{name}: mean {mean}, max {max}");
    }
}

/// Shifts the photo by (dx, dy) pixels on a larger grey canvas.
fn shifted(img: &RgbImage, dx: i64, dy: i64) -> RgbImage {
    RgbImage::from_fn(320, 300, |x, y| {
        let (sx, sy) = (x as i64 - 32 - dx, y as i64 - 22 - dy);
        if sx >= 0 && sy >= 0 && sx < img.width() as i64 && sy < img.height() as i64 {
            *img.get_pixel(sx as u32, sy as u32)
        } else {
            image::Rgb([90, 90, 90])
        }
    })
}

#[test]
fn tracker_follows_a_moving_face_without_redetecting() {
    let base = photo("astronaut.png");
    let mut t = tracker(true);
    let mut acc = TrackBuilder::new(30.0);
    let mut first: Option<Landmarks> = None;
    let steps = [(0, 0), (3, 1), (6, 2), (9, 3), (12, 4), (15, 5)];
    for (k, &(dx, dy)) in steps.iter().enumerate() {
        let face = t.process(&shifted(&base, dx, dy)).unwrap().unwrap();
        assert_eq!(face.detected, k == 0, "frame {k}");
        assert!(face.usable);
        let first = *first.get_or_insert(face.landmarks);
        // The 68 points move with the image (mean error under 1 px).
        let err: f32 = face
            .landmarks
            .iter()
            .zip(&first)
            .map(|(p, q)| p.distance(Point::new(q.x + dx as f32, q.y + dy as f32)))
            .sum::<f32>()
            / 68.0;
        assert!(err < 1.0, "frame {k}: mean error {err}");
        acc.push(Some(&face));
    }
    let r = acc.finish(t.options(), "test").unwrap();
    assert_eq!(r.detector_runs, 1);
    assert!(r.track.found.iter().all(|&f| f));
    assert!(r.gaps.is_empty());
}

#[test]
fn eye_model_moves_eyelids_only() {
    let img = photo("astronaut.png");
    let plain = tracker(false).process_still(&img).unwrap().unwrap();
    let refined = tracker(true).process_still(&img).unwrap().unwrap();
    let lid: Vec<usize> = EYE_VERTICES
        .iter()
        .flat_map(|e| e[..EYELID_POINTS].to_vec())
        .collect();
    let mut moved = 0.0f32;
    for (v, (a, b)) in plain.mesh.iter().zip(&refined.mesh).enumerate() {
        let d = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
        if lid.contains(&v) {
            moved = moved.max(d);
            assert!(d < 4.0, "vertex {v} moved {d} px");
        } else {
            assert_eq!(d, 0.0, "vertex {v} is not an eyelid vertex");
        }
    }
    assert!(moved > 0.05, "the eye model changed nothing");
}

#[test]
fn no_face_is_an_error_and_gaps_are_flagged() {
    let mut t = tracker(false);
    let blank = RgbImage::from_fn(200, 160, |x, y| {
        image::Rgb([(x / 2) as u8, (y / 2) as u8, 60])
    });
    assert!(t.process(&blank).unwrap().is_none());
    let mut acc = TrackBuilder::new(25.0);
    acc.push(None);
    acc.push(None);
    match acc.finish(t.options(), "blank.mp4") {
        Err(TrackError::NoFace { frames: 2, .. }) => {}
        other => panic!("expected NoFace, got {other:?}"),
    }

    // face, blank, face: the blank frame is flagged and interpolated.
    let face = photo("astronaut.png");
    let mut acc = TrackBuilder::new(25.0);
    for img in [&face, &blank, &face] {
        let f = t.process(img).unwrap();
        acc.push(f.as_ref());
    }
    let r = acc.finish(t.options(), "mixed").unwrap();
    assert_eq!(r.track.found, vec![true, false, true]);
    assert_eq!(r.gaps.len(), 1);
    assert!(r.gaps[0].interpolated);
    assert_eq!(r.detector_runs, 2);
}

/// The eye model's iris head gives each eye's pupil, image-left eye first, inside that eye.
#[test]
fn pupils_lie_inside_their_eyes() {
    let mut t = tracker(true);
    let face = t.process_still(&photo("astronaut.png")).unwrap().unwrap();
    let pupils = face.pupils.expect("pupils with the eye model");
    for (pupil, eye) in pupils.iter().zip([36..42, 42..48]) {
        let pts = &face.landmarks[eye.clone()];
        let (x0, x1) = pts
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p.x), b.max(p.x)));
        let (y0, y1) = pts
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p.y), b.max(p.y)));
        assert!(
            (x0..=x1).contains(&pupil.x) && (y0 - 2.0..=y1 + 2.0).contains(&pupil.y),
            "pupil {pupil:?} outside eye {eye:?} box x {x0}..{x1}, y {y0}..{y1}"
        );
    }
    let no_pupils = Tracker::new(
        FaceNets::embedded().unwrap(),
        TrackerOptions {
            pupils: false,
            ..TrackerOptions::default()
        },
    )
    .process_still(&photo("astronaut.png"))
    .unwrap()
    .unwrap();
    assert!(no_pupils.pupils.is_none());
    // The iris head does not change the eyelids.
    assert_eq!(no_pupils.landmarks, face.landmarks);
}
