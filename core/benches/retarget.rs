//! Retargeting speed: 1,000 driving frames onto one character, median of several runs.
//! Run with `cargo bench -p faceshot-core --bench retarget` (target: under 50 ms).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use faceshot_core::landmarks::synthetic::{Expression, posed_face};
use faceshot_core::landmarks::{Face, Track};
use faceshot_core::retarget::{Reference, RetargetOptions, retarget};
use std::hint::black_box;
use std::time::Instant;

const FRAMES: usize = 1000;
const RUNS: usize = 21;

fn main() {
    // A talking, blinking, moving driver and a big-eyed character.
    let mut driving = Track::new(30.0, None);
    for t in 0..FRAMES {
        let s = t as f32 / 30.0;
        let expr = Expression {
            mouth_open: (0.5 + 0.5 * (s * 7.0).sin()).clamp(0.0, 1.0),
            right_eye_open: if t % 90 < 6 { 0.1 } else { 1.0 },
            left_eye_open: if t % 90 < 6 { 0.1 } else { 1.0 },
            brow_raise: (s * 1.3).sin() * 0.5,
            smile: (s * 0.7).sin() * 0.6,
            roll: (s * 0.9).sin() * 0.3,
        };
        let (cx, cy) = (
            320.0 + 40.0 * (s * 0.5).sin(),
            240.0 + 20.0 * (s * 0.8).cos(),
        );
        driving.push(posed_face(cx, cy, 110.0 + 10.0 * s.sin(), &expr), true);
    }
    let mut points = posed_face(256.0, 256.0, 150.0, &Expression::default());
    for q in &mut points[36..48] {
        q.y = 256.0 - 0.25 * 150.0 + (q.y - (256.0 - 0.25 * 150.0)) * 2.5;
    }
    let character = Face::new(points, None);

    for (name, reference) in [("first", Reference::First), ("auto", Reference::Auto)] {
        let opts = RetargetOptions {
            reference,
            ..Default::default()
        };
        // Warm up once, then time.
        black_box(retarget(&character, &driving, &opts).expect("retarget"));
        let mut times: Vec<f64> = (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                let out =
                    retarget(black_box(&character), black_box(&driving), &opts).expect("retarget");
                let ms = start.elapsed().as_secs_f64() * 1e3;
                black_box(out);
                ms
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let median = times[RUNS / 2];
        println!(
            "retarget {FRAMES} frames (reference {name}): median {median:.3} ms, min {:.3} ms, \
             max {:.3} ms over {RUNS} runs ({:.2} µs/frame; target < 50 ms)",
            times[0],
            times[RUNS - 1],
            median * 1e3 / FRAMES as f64
        );
    }
}
