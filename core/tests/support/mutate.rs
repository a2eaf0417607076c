//! A small mutation fuzzer for the parsers of user files: valid seed files are damaged at
//! random (bit flips, cut, repeated and spliced ranges, numbers swapped for NaN, huge or
//! negative values) and each result is handed to a parser, which must return, never panic.
//!
//! Short runs are part of the test suite; `FACESHOT_FUZZ_CASES=1000000` runs long ones.
#![allow(dead_code)]

pub use faceshot_core::cartoon::Rng;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Tokens that break parsers: special numbers, JSON punctuation, other types.
const TOKENS: &[&str] = &[
    "NaN",
    "nan",
    "inf",
    "-inf",
    "1e999",
    "-1e999",
    "1e308",
    "-0",
    "0",
    "1e-45",
    "-100000",
    "100001",
    "99999999999999999999",
    "4294967296",
    "-1",
    "null",
    "true",
    "\"x\"",
    "[]",
    "{}",
    "[[0,0]]",
    ",",
    "]",
    "}",
    "\"",
    "\\u0000",
    "\u{feff}",
    "é",
];

/// Bytes that often mean something to binary formats.
const BYTES: &[u8] = &[
    0, 1, 0x7f, 0x80, 0xff, b'"', b'[', b']', b'{', b'}', b',', b'-', b'.', b'e',
];

/// One to four random damages applied to `seed`; `other` may be spliced in.
pub fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let len = data.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = BYTES[rng.below(BYTES.len())];
            }
            2 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                data.drain(a..b);
            }
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(256)).min(len);
                let chunk = data[a..b].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, chunk);
            }
            4 => data.truncate(rng.below(len + 1)),
            5 => {
                let at = rng.below(len + 1);
                let junk: Vec<u8> = (0..1 + rng.below(16))
                    .map(|_| rng.next_u64() as u8)
                    .collect();
                data.splice(at..at, junk);
            }
            6 => replace_number(rng, &mut data),
            7 if !other.is_empty() => {
                let a = rng.below(other.len());
                let b = (a + 1 + rng.below(512)).min(other.len());
                let at = rng.below(len + 1);
                data.splice(at..at, other[a..b].iter().copied());
            }
            _ => {
                // A whole token at a random place (text formats) or a big field value.
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let at = rng.below(len + 1);
                data.splice(at..at, token.iter().copied());
            }
        }
    }
    data
}

/// Swap one run of number characters for a troublesome token.
fn replace_number(rng: &mut Rng, data: &mut Vec<u8>) {
    let is_num = |b: u8| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'e';
    let starts: Vec<usize> = (0..data.len())
        .filter(|&i| is_num(data[i]) && (i == 0 || !is_num(data[i - 1])))
        .collect();
    if starts.is_empty() {
        return;
    }
    let a = starts[rng.below(starts.len())];
    let mut b = a;
    while b < data.len() && is_num(data[b]) {
        b += 1;
    }
    let token = TOKENS[rng.below(16)].as_bytes();
    data.splice(a..b, token.iter().copied());
}

/// What a fuzzing run found.
#[derive(Debug, Default)]
pub struct Report {
    /// Inputs tried.
    pub cases: u64,
    /// Inputs the parser accepted.
    pub accepted: u64,
    /// Inputs that made the parser panic.
    pub panic_count: u64,
    /// The first few panics: the message and the input that caused it.
    pub panics: Vec<(String, Vec<u8>)>,
}

/// How many cases to run: `FACESHOT_FUZZ_CASES`, else `default`.
pub fn case_count(default: u64) -> u64 {
    std::env::var("FACESHOT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Feed `cases` mutations of `seeds` to `parse` (which returns whether it accepted the input),
/// catching panics. The same `rng_seed` gives the same inputs.
pub fn fuzz(
    name: &str,
    seeds: &[Vec<u8>],
    cases: u64,
    rng_seed: u64,
    mut parse: impl FnMut(&[u8]) -> bool,
) -> Report {
    let mut rng = Rng::new(rng_seed);
    let mut report = Report::default();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let started = std::time::Instant::now();
    for case in 0..cases {
        let seed = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())];
        // Every 16th case is an unmutated seed or pure noise, to keep both ends covered.
        let input = match case % 16 {
            0 => seed.clone(),
            1 => (0..rng.below(256)).map(|_| rng.next_u64() as u8).collect(),
            _ => mutate(&mut rng, seed, other),
        };
        match catch_unwind(AssertUnwindSafe(|| parse(&input))) {
            Ok(accepted) => report.accepted += u64::from(accepted),
            Err(payload) => {
                let message = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                report.panic_count += 1;
                if report.panics.len() < 5 {
                    report.panics.push((message, input));
                }
            }
        }
        report.cases += 1;
    }
    std::panic::set_hook(hook);
    eprintln!(
        "fuzz {name}: {} cases in {:.1} s, {} accepted, {} panics",
        report.cases,
        started.elapsed().as_secs_f64(),
        report.accepted,
        report.panic_count
    );
    report
}

/// Fail with the first panic's message and input (escaped) if there were any.
pub fn assert_no_panics(name: &str, report: &Report) {
    if let Some((message, input)) = report.panics.first() {
        panic!(
            "{name}: {} panic(s) in {} cases; first: {message}\ninput: {}",
            report.panic_count,
            report.cases,
            input.escape_ascii()
        );
    }
}
