//! Gaze: each character pupil moves within its eye as the driver's iris moves within the
//! driver's eye.
//!
//! A pupil's position is measured in its eye's frame (the upper lid's frame: origin between
//! the corners, x towards the other corner): across in units of half the eye's width, up and
//! down in units of half the eye's opening at rest. The driver's change from its reference
//! frame, in those units, is added to the character's own rest position, so a huge anime eye
//! gets a proportionally large excursion and a narrow eye a small one. Each eye follows its own
//! driver eye (cross-eyed stays cross-eyed).

use super::frame::PartFrame;
use super::parts::{ARCS, LID_PAIRS};
use super::transfer::MIN_EYE_OPENING;
use crate::landmarks::{Landmarks, Point};

/// How far a pupil's centre may go, in the units above: towards a corner…
const MAX_ACROSS: f32 = 0.75;
/// …and towards a lid (further and the iris would vanish under it).
const MAX_UP_DOWN: f32 = 0.8;
/// Driver eyes shut further than this share of their reference opening give no gaze (the iris
/// model guesses under a closed lid); fully open from [`OPEN_GAZE`].
const SHUT_GAZE: f32 = 0.3;
/// See [`SHUT_GAZE`].
const OPEN_GAZE: f32 = 0.6;

/// Half an eye's opening at rest, in units of half its width, floored so that an eye drawn
/// nearly shut still gives the pupil room to move.
fn half_opening(local_opening: f32) -> f32 {
    (0.5 * local_opening).max(0.5 * MIN_EYE_OPENING)
}

/// The driver's half opening is floored higher: a human eye open as usual has about 0.3, so a
/// reference frame caught squinting or blinking must not magnify every vertical iris motion.
const DRIVER_MIN_HALF_OPENING: f32 = 0.25;

/// The eye frame of eye `k` (0: image-left, points 36–41) in `points`.
fn eye_frame(points: &Landmarks, k: usize) -> PartFrame {
    ARCS[LID_PAIRS[k].0].frame(points)
}

/// A pupil in its eye's frame, in gaze units.
fn to_gaze(frame: &PartFrame, half_opening: f32, pupil: Point) -> Point {
    let local = frame.to_local(pupil);
    Point::new(local.x, local.y / half_opening)
}

/// Limit a gaze position to the eye (or to where the character has its pupil drawn, if that
/// is further out).
fn limit(v: Point, rest: Point) -> Point {
    let rho = |p: Point| ((p.x / MAX_ACROSS).powi(2) + (p.y / MAX_UP_DOWN).powi(2)).sqrt();
    let bound = rho(rest).max(1.0);
    let r = rho(v);
    if r > bound { v * (bound / r) } else { v }
}

/// The measured eyes of the character and the driver's reference frame.
#[derive(Clone, Debug)]
pub(super) struct GazeRig {
    /// The character's pupils at rest, in gaze units.
    rest: [Point; 2],
    /// The character's half openings at rest (units of half eye width).
    char_half_opening: [f32; 2],
    /// The driver's pupils in the reference frame, in gaze units, when the driver has pupils.
    reference: Option<[Point; 2]>,
    /// The driver's half openings in the reference frame.
    driver_half_opening: [f32; 2],
}

impl GazeRig {
    /// `*_opening` are each eye's lid openings (units of half eye width), image-left first.
    pub fn new(
        character: &Landmarks,
        pupils: &[Point; 2],
        char_opening: [f32; 2],
        reference: &Landmarks,
        reference_pupils: Option<&[Point; 2]>,
        driver_opening: [f32; 2],
    ) -> Self {
        let char_half_opening = char_opening.map(half_opening);
        let driver_half_opening = driver_opening.map(|o| (0.5 * o).max(DRIVER_MIN_HALF_OPENING));
        let rest = std::array::from_fn(|k| {
            to_gaze(&eye_frame(character, k), char_half_opening[k], pupils[k])
        });
        let reference = reference_pupils.map(|p| {
            std::array::from_fn(|k| to_gaze(&eye_frame(reference, k), driver_half_opening[k], p[k]))
        });
        Self {
            rest,
            char_half_opening,
            reference,
            driver_half_opening,
        }
    }

    /// The character's pupils for the character landmarks `out` (before head motion), given
    /// the driver's stabilised landmarks and pupils (`None`: no gaze, pupils stay put in their
    /// eyes), each driver eye's opening over its reference opening, and the gaze gain.
    pub fn place(
        &self,
        out: &Landmarks,
        driver: Option<(&Landmarks, &[Point; 2])>,
        driver_open_ratio: [f32; 2],
        gain: f32,
    ) -> [Point; 2] {
        std::array::from_fn(|k| {
            let change = match (driver, &self.reference) {
                (Some((points, pupils)), Some(reference)) => {
                    let now = to_gaze(
                        &eye_frame(points, k),
                        self.driver_half_opening[k],
                        pupils[k],
                    );
                    let open = smoothstep(SHUT_GAZE, OPEN_GAZE, driver_open_ratio[k]);
                    (now - reference[k]) * (gain * open)
                }
                _ => Point::default(),
            };
            let v = limit(self.rest[k] + change, self.rest[k]);
            let local = Point::new(v.x, v.y * self.char_half_opening[k]);
            eye_frame(out, k).to_image(local)
        })
    }
}

fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}
