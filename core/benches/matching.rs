//! Matching benchmark (plain binary, no criterion): the offline matchers' times.
//!
//! - `match` with the offline default (`auto`: learned network, face mesh, structural fit) on
//!   512² generated cartoons;
//! - the learned network alone on the same cartoons, and loading its two networks; and on a
//!   512×256 picture of two characters, a small character in a larger picture and noise, where
//!   its crop search runs;
//! - the face-mesh path on a photo (the public-domain astronaut of `assets/parity`), and the
//!   share of it that face-api.js's 68-point network (two passes) takes;
//! - the structural fit on a 512² striped-fur picture whose eyes only the round-iris fallback
//!   finds, against the same fit on a 512² cartoon;
//! - storing and reading back a DIFT-sized feature map in the on-disk cache.
//!
//! The diffusion matcher's costs are `cargo bench -p faceshot-dift --bench unet`.
//!
//! Run: `cargo bench -p faceshot-core --bench matching`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use faceshot_core::cartoon::Cartoon;
use faceshot_core::matching::{MatchOptions, landmark_net, match_face, mesh_face};
use faceshot_core::nn::Landmark68Net;
use faceshot_core::progress::NoProgress;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    faceshot_core::heap::single_arena();
    // Offline default on 512² cartoons.
    let cartoons: Vec<Cartoon> = (0..5).map(|s| Cartoon::generate(100 + s, 512)).collect();
    let opts = MatchOptions::default();
    // Warm-up builds the shape model once.
    let _ = match_face(&cartoons[0].image, &opts, &NoProgress).unwrap();
    let mut times = Vec::new();
    for _ in 0..3 {
        for c in &cartoons {
            let t = Instant::now();
            let r = match_face(&c.image, &opts, &NoProgress).unwrap();
            times.push(t.elapsed().as_secs_f64());
            assert_eq!(r.face.points.len(), 68);
        }
    }
    println!(
        "match (offline default: auto = learned network + face mesh + structural fit) on 512x512 cartoons: median {:.1} ms, max {:.1} ms over {} runs",
        1e3 * median(times.clone()),
        1e3 * times.iter().cloned().fold(0.0, f64::max),
        times.len()
    );
    learned_alone(&cartoons);
    mesh_path_on_a_photo();
    round_eye_fallback(&cartoons[0]);
    cached_feature_map();
}

/// The learned network: loading its weights (parsing the safetensors of both passes' networks
/// and building the graphs), and `learned_face` (coarse pass + refined passes, each crop also
/// mirrored) per picture.
fn learned_alone(cartoons: &[Cartoon]) {
    use faceshot_core::matching::learned::learned_face;
    use faceshot_core::nn::layers::Weights;
    let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
    let mut loads = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let nets = [
            "landmark68_stylized.safetensors",
            "landmark68_stylized_refined.safetensors",
        ]
        .map(|f| Landmark68Net::from_weights(&Weights::load(&models.join(f)).unwrap()).unwrap());
        loads.push(t.elapsed().as_secs_f64());
        drop(nets);
    }
    let _ = learned_face(&cartoons[0].image).unwrap();
    let mut times = Vec::new();
    for _ in 0..3 {
        for c in cartoons {
            let t = Instant::now();
            let r = learned_face(&c.image).unwrap();
            times.push(t.elapsed().as_secs_f64());
            assert!(r.is_some());
        }
    }
    println!(
        "learned network alone on 512x512 cartoons: median {:.1} ms over {} runs; loading its two networks {:.1} ms (median of 5)",
        1e3 * median(times.clone()),
        times.len(),
        1e3 * median(loads)
    );
    // Where the whole picture gives no sure reading the crop search reads its windows, largest
    // first: two characters side by side (found among the largest windows), one character small
    // in a photo-sized picture (found among smaller ones) and no face at all (every window read:
    // the worst case).
    let (small, large) = (Cartoon::generate(11, 140), Cartoon::generate(13, 256));
    let mut pair = image::RgbaImage::from_pixel(512, 256, image::Rgba([255, 255, 255, 255]));
    image::imageops::replace(&mut pair, &small.image, 10, 60);
    image::imageops::replace(&mut pair, &large.image, 256, 0);
    let mut lone = image::RgbaImage::from_pixel(640, 480, image::Rgba([200, 220, 235, 255]));
    image::imageops::replace(&mut lone, &Cartoon::generate(17, 110).image, 400, 300);
    let mut state = 0x2545_f491_u32;
    let noise = image::RgbaImage::from_fn(512, 256, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [a, b, c, _] = state.to_le_bytes();
        image::Rgba([a, b, c, 255])
    });
    for (what, picture) in [
        ("two characters, 512x256", &pair),
        ("a 110 px character in 640x480", &lone),
        ("noise, no face, 512x256", &noise),
    ] {
        let mut searched = Vec::new();
        let mut found = None;
        for _ in 0..5 {
            let t = Instant::now();
            let r = learned_face(picture).unwrap();
            searched.push(t.elapsed().as_secs_f64());
            found = r.map(|r| r.searched);
        }
        println!(
            "learned network alone with its crop search ({what}): median {:.1} ms (median of 5); answered by the search: {}",
            1e3 * median(searched),
            found.unwrap_or(false)
        );
    }
}

/// Median time to store and to read back a character's SD-2.1 feature map (1280 × 32 × 32) in
/// the on-disk cache: what a repeated DIFT match costs instead of the extraction.
fn cached_feature_map() {
    use faceshot_core::matching::feature::FeatureMap;
    use faceshot_core::matching::gallery::FeatureCache;
    let dir = tempfile::tempdir().unwrap();
    let cache = FeatureCache::new(Some(dir.path().to_path_buf()));
    let (c, h, w) = (1280, 32, 32);
    let map = FeatureMap::new(c, h, w, (0..c * h * w).map(|i| i as f32 * 1e-3).collect());
    let (mut put, mut get) = (Vec::new(), Vec::new());
    for k in 0..5 {
        let key = format!("k{k}");
        let t = Instant::now();
        cache.put_map("bench", &key, &map);
        put.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let back = cache.get_map("bench", &key).unwrap();
        get.push(t.elapsed().as_secs_f64());
        assert_eq!(back.data.len(), map.data.len());
    }
    println!(
        "DIFT feature map cache ({:.1} MB): store {:.1} ms, read back {:.1} ms (median of 5)",
        (c * h * w * 4) as f64 / 1e6,
        median(put) * 1e3,
        median(get) * 1e3
    );
}

/// Median times of the structural fit on a 512² striped-fur picture with two irises (served by
/// the round-iris fallback) and on `cartoon` (served by the face region's holes).
fn round_eye_fallback(cartoon: &Cartoon) {
    use faceshot_core::matching::{shape::ShapeModel, structural};
    let mut seed = 99u32;
    let mut fur = image::RgbaImage::from_fn(512, 512, |x, y| {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let noise = f32::from((seed >> 24) as u8) / 255.0 - 0.5;
        let stripe = ((x as f32 * 0.06 + y as f32 * 0.025).sin() * 0.5 + 0.5) * 60.0;
        let v = 120.0 + stripe + noise * 70.0;
        image::Rgba([v as u8, (v * 0.8) as u8, (v * 0.55) as u8, 255])
    });
    // Dark specks all over, so that no few dark blobs stand out as eyes, then the irises.
    let mut discs: Vec<(f32, f32, f32, [u8; 3])> = (0..30u32)
        .map(|k| {
            let h = k.wrapping_mul(2_654_435_761);
            let (x, y) = ((h % 512) as f32, ((h >> 9) % 512) as f32);
            (x, y, 4.0 + (h >> 20) as f32 % 4.0, [40, 30, 20])
        })
        .collect();
    for cx in [180.0f32, 340.0] {
        discs.push((cx, 200.0, 40.0, [150, 170, 60]));
        discs.push((cx, 200.0, 18.0, [15, 15, 10]));
    }
    for (cx, cy, r, c) in discs {
        for y in 0..512u32 {
            for x in 0..512u32 {
                if (x as f32 - cx).hypot(y as f32 - cy) <= r {
                    fur.put_pixel(x, y, image::Rgba([c[0], c[1], c[2], 255]));
                }
            }
        }
    }
    let model = ShapeModel::default_model();
    assert!(structural::fit(&fur, model).findings.round_eyes);
    let time = |img: &image::RgbaImage| {
        median(
            (0..9)
                .map(|_| {
                    let t = Instant::now();
                    structural::fit(img, model);
                    t.elapsed().as_secs_f64()
                })
                .collect(),
        )
    };
    let (fallback, holes) = (time(&fur), time(&cartoon.image));
    println!(
        "structural fit on 512x512: striped fur with irises (round-iris fallback) median {:.1} ms; a cartoon (eyes among the face's holes) {:.1} ms ({:.2}x)",
        1e3 * fallback,
        1e3 * holes,
        fallback / holes
    );
}

/// Median times of [`mesh_face`] on the astronaut photo and of the 68-point network's part.
fn mesh_path_on_a_photo() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../assets/parity/astronaut.png"
    );
    let photo = image::open(path).unwrap();
    let (rgba, rgb) = (photo.to_rgba8(), photo.to_rgb8());
    let face = mesh_face(&rgba)
        .unwrap()
        .expect("a face in the astronaut photo")
        .face;
    let net = Landmark68Net::embedded().unwrap();
    let time = |f: &dyn Fn()| {
        median(
            (0..15)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed().as_secs_f64()
                })
                .collect(),
        )
    };
    let whole = time(&|| {
        mesh_face(&rgba).unwrap().unwrap();
    });
    let part = time(&|| {
        landmark_net::net_points(net, &rgb, &face.points)
            .unwrap()
            .unwrap();
    });
    println!(
        "mesh path (detector, mesh over 3 ROI heights, 68-point network) on a {}x{} photo: median {:.1} ms; the 68-point network (crop + mirrored crop): {:.1} ms ({:.0} %)",
        rgb.width(),
        rgb.height(),
        1e3 * whole,
        1e3 * part,
        100.0 * part / whole
    );
}
