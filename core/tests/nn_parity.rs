//! Parity of the candle networks with the reference runtime (TFLite via MediaPipe 0.10.14).
//!
//! `assets/parity/reference.json` and the input PNGs are written by `tools/parity_reference.py`.
//! The network inputs are 8-bit PNGs, so both runtimes see the same numbers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use candle_core::{Device, Tensor};
use faceshot_core::nn::crop::{Border, Range, RotatedRect, crop_to_tensor};
use faceshot_core::nn::layers::batch_item;
use faceshot_core::nn::{Detection, FaceNets, Landmark68Net};
use serde_json::Value;

fn asset(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/parity")
        .join(name)
}

fn reference() -> Value {
    let text = std::fs::read_to_string(asset("reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn input(name: &str, range: Range) -> Tensor {
    input_mirrored(name, range, false)
}

/// A square fixture as a `1 × n × n × 3` tensor, mirrored horizontally with `flip`.
fn input_mirrored(name: &str, range: Range, flip: bool) -> Tensor {
    let img = image::open(asset(name)).unwrap().to_rgb8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    assert_eq!(w, h);
    let rect = RotatedRect {
        cx: w as f32 / 2.0,
        cy: h as f32 / 2.0,
        width: w as f32,
        height: h as f32,
        angle: 0.0,
    };
    let data = crop_to_tensor(&img, &rect, w, Border::Replicate, range, flip);
    Tensor::from_vec(data, (1, h, w, 3), &Device::Cpu).unwrap()
}

fn f(v: &Value) -> f32 {
    v.as_f64().unwrap() as f32
}

fn detection(v: &Value) -> Detection {
    let mut keypoints = [[0f32; 2]; 6];
    for (k, p) in keypoints.iter_mut().zip(v["keypoints"].as_array().unwrap()) {
        *k = [f(&p[0]), f(&p[1])];
    }
    Detection {
        xmin: f(&v["xmin"]),
        ymin: f(&v["ymin"]),
        width: f(&v["width"]),
        height: f(&v["height"]),
        score: f(&v["score"]),
        keypoints,
    }
}

fn points(v: &Value) -> Vec<[f32; 3]> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| [f(&p[0]), f(&p[1]), f(&p[2])])
        .collect()
}

fn max_xy_error(a: &[[f32; 3]], b: &[[f32; 3]]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(p, q)| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt())
        .fold(0.0, f32::max)
}

fn assert_detections_match(ours: &[Detection], want: &[Detection], what: &str) {
    assert_eq!(ours.len(), want.len(), "{what}: detection count");
    for (o, w) in ours.iter().zip(want) {
        let iou = o.iou(w);
        println!(
            "{what}: IoU {iou:.4}, score {:.4} vs {:.4}",
            o.score, w.score
        );
        assert!(iou >= 0.95, "{what}: IoU {iou} < 0.95 ({o:?} vs {w:?})");
        assert!(
            (o.score - w.score).abs() <= 0.02,
            "{what}: score {} vs {}",
            o.score,
            w.score
        );
    }
}

#[test]
fn networks_match_tflite_on_identical_inputs() {
    let nets = FaceNets::embedded().unwrap();
    let r = reference();
    let n = &r["networks"];

    // Detector: decoded, suppressed boxes in normalised input coordinates.
    let raw = nets
        .detector
        .forward(&input("det_input.png", Range::MinusOneOne))
        .unwrap();
    let ours = nets.detector.decode(&raw[0]);
    let want: Vec<Detection> = n["det_input"]["detections"]
        .as_array()
        .unwrap()
        .iter()
        .map(detection)
        .collect();
    assert!(!want.is_empty());
    assert_detections_match(&ours, &want, "detector network");
    let max_logit = raw[0].logits.iter().copied().fold(f32::MIN, f32::max);
    assert!((max_logit - f(&n["det_input"]["max_logit"])).abs() < 0.05);

    // Face mesh: 468 points within 0.5 px of the 192×192 crop, same presence logit.
    for name in ["mesh_input", "mesh_input_rot"] {
        let out = nets
            .mesh
            .forward(&input(&format!("{name}.png"), Range::ZeroOne))
            .unwrap();
        let err = max_xy_error(&out[0].points, &points(&n[name]["points"]));
        println!("{name}: max landmark error {err:.4} px (192² crop)");
        assert!(err <= 0.5, "{name}: max error {err} px");
        let logit = f(&n[name]["presence_logit"]);
        assert!((out[0].presence_logit - logit).abs() < 0.05);
    }

    // Eye model: 71 contour and 5 iris points within 0.5 px of the 64×64 crop.
    for name in ["eye_input", "eye_input_flipped"] {
        let out = nets
            .eye
            .forward(&input(&format!("{name}.png"), Range::ZeroOne))
            .unwrap();
        let ec = max_xy_error(&out[0].contour, &points(&n[name]["contour"]));
        let ei = max_xy_error(&out[0].iris, &points(&n[name]["iris"]));
        println!("{name}: max contour error {ec:.4} px, iris {ei:.4} px (64² crop)");
        assert!(ec <= 0.5 && ei <= 0.5, "{name}: {ec} / {ei} px");
        // The contour-only path (the tracker's) gives the same points.
        let x = batch_item(&input(&format!("{name}.png"), Range::ZeroOne), 0).unwrap();
        assert_eq!(nets.eye.contours(&[x]).unwrap()[0], out[0].contour);
    }
}

#[test]
fn detector_matches_mediapipe_solution_on_photos() {
    let nets = FaceNets::embedded().unwrap();
    let r = reference();
    for name in ["astronaut", "astronaut_rot"] {
        let img = image::open(asset(&format!("{name}.png")))
            .unwrap()
            .to_rgb8();
        let ours = nets.detector.detect(&img).unwrap();
        let want: Vec<Detection> = r["photos"][name]["detections"]
            .as_array()
            .unwrap()
            .iter()
            .map(detection)
            .collect();
        assert_detections_match(&ours, &want, name);
    }
}

#[test]
fn detector_finds_no_face_in_generated_images() {
    let nets = FaceNets::embedded().unwrap();
    let gradient = image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([(x * 255 / 320) as u8, (y * 255 / 240) as u8, 128])
    });
    assert!(nets.detector.detect(&gradient).unwrap().is_empty());
    let flat = image::RgbImage::from_pixel(64, 200, image::Rgb([200, 180, 160]));
    assert!(nets.detector.detect(&flat).unwrap().is_empty());
}

/// face-api.js's 68-point network against TensorFlow.js (`tools/landmark68_reference.cjs`) on
/// a 112×112 face crop and its mirror image: every point within 0.01 px of the crop.
#[test]
fn landmark68_matches_tensorflow_js() {
    let net = Landmark68Net::embedded().unwrap();
    let text = std::fs::read_to_string(asset("landmark68_reference.json")).unwrap();
    let r: Value = serde_json::from_str(&text).unwrap();
    let map = |flip| {
        batch_item(
            &input_mirrored("landmark68_input.png", Range::ZeroOne, flip),
            0,
        )
        .unwrap()
    };
    for (map, key) in [(map(false), "output"), (map(true), "output_mirrored_input")] {
        let ours = net.forward_map(&map).unwrap();
        let want: Vec<f32> = r[key].as_array().unwrap().iter().map(f).collect();
        let err = ours
            .iter()
            .flatten()
            .zip(&want)
            .map(|(a, b)| (a - b).abs() * 112.0)
            .fold(0f32, f32::max);
        println!("landmark68 {key}: max error {err:.5} px (112² crop)");
        assert!(err <= 0.01, "{key}: max error {err} px");
    }
}
