//! The retargeting itself: global head motion from the jaw frame, local motion per part.

use super::boundary::{Clamp, room};
use super::error::RetargetError;
use super::frame::{PartFrame, rotate, wrap_angle};
use super::gaze::GazeRig;
use super::options::{Gains, RetargetOptions};
use super::parts::{ARCS, JAW, LID_PAIRS, collapsed_arc, owners};
use crate::landmarks::{Face, LANDMARK_COUNT, Landmarks, Point, validate_points};

/// Driver eye openings below this (lid gap over half the eye width, i.e. a gap under 12.5 % of
/// the width) are raised to it before dividing, so a half-shut reference eye cannot blow the
/// character's lid motion up without bound.
pub const MIN_EYE_OPENING: f32 = 0.25;

/// The same floor for the mouth's inner lips (a gap of a tenth of the mouth's width): a
/// reference frame with the lips just parted cannot make the character's lips jump.
pub const MIN_MOUTH_OPENING: f32 = 0.2;

/// A pair of arcs that open and close against each other (an eye's lids, the inner lips), with
/// how the driver's opening maps onto the character's.
///
/// Openings are measured in the arcs' own units (half the part's width). Below the driver's
/// reference opening the character's opening is scaled down in proportion, so a closed driver
/// closes it and it never goes below zero; above it, the character's opening grows by the
/// driver's change times `widening`. The reference gives the character's own drawn state.
#[derive(Clone, Copy, Debug)]
struct OpeningPair {
    /// Index into [`ARCS`] of the upper arc.
    upper: usize,
    /// Index into [`ARCS`] of the lower arc.
    lower: usize,
    /// Other arcs that move with this pair (the outer lips with the inner ones).
    followers: [Option<usize>; 2],
    /// The driver's opening in the reference frame.
    reference: f32,
    /// Character opening over driver opening, for closing.
    closing: f32,
    /// Multiplier of the driver's change, for opening wider than the reference.
    widening: f32,
    /// Least gap allowed between opposite interior points (0, or less where the character
    /// is drawn with them crossed), in units of half the upper arc's width.
    min_gaps: [f32; 3],
}

/// Index into [`ARCS`] of the inner lips and of the outer lips.
const INNER_LIPS: (usize, usize) = (11, 12);
const OUTER_LIPS: (usize, usize) = (9, 10);

/// A prepared retargeting: character and driver reference measured once, then any number of
/// driving frames mapped to character frames.
///
/// For a driving frame `D` with driver reference `D0` and character `C`:
///
/// 1. **Head motion.** The jaw frame (points 0 and 16) of `D` against that of `D0` gives a
///    rotation `dθ`, a scale `σ` (the face growing as the head nears the camera) and a
///    translation `dO` of its origin. Undoing it yields a *stabilised* driver frame `D̃`
///    that lines up with `D0` wherever the head went.
/// 2. **Local motion**, per part (13 arcs: jaw, brows, nose bridge, nostrils, each eyelid,
///    each lip contour), from `D̃` against `D0`:
///    - the part frame's residual rotation `φ` and width ratio `ρ` carry over as they are;
///    - its origin displacement, taken in head axes, is scaled per direction by the room
///      the character's part has to the face boundary against the driver's, never more
///      than the ratio of face sizes (a part cannot be pushed out of the face);
///    - each point's normalised local coordinates (units of the part's half width) move by the
///      driver's change, so a small mouth opens in proportion to its width. Eyelids move
///      vertically in units of the eye's opening instead: the character's lids move by the
///      driver's change times (character opening / driver opening), so the eye-open ratio
///      changes by the same factor and a huge eye blinks fully.
/// 3. **Head motion re-applied** to the character about its own jaw origin: the same rotation
///    and scale, and the translation times the ratio of face sizes.
///
/// Each part's gain `g` scales its `φ`, `log ρ`, origin displacement and local change; the
/// head gains scale `dθ`, `log σ` and `dO`. With a static driver every change is zero, so the
/// character is returned as it is; a rigid driver motion leaves `D̃ = D0` and moves the
/// character rigidly.
#[derive(Clone, Debug)]
pub struct Retargeter {
    gains: Gains,
    ref_head: PartFrame,
    ref_frames: [PartFrame; ARCS.len()],
    /// Driver reference points in their owning arc's normalised frame.
    ref_local: Landmarks,
    char_head: PartFrame,
    char_frames: [PartFrame; ARCS.len()],
    char_local: Landmarks,
    /// Character face width over driver face width.
    size_ratio: f32,
    clamps: [Clamp; ARCS.len()],
    /// The two eyes' lids and the lips, whose openings map onto the character's.
    pairs: [OpeningPair; 3],
    owner: [usize; LANDMARK_COUNT],
    /// Where the character's pupils go, when it has pupils.
    gaze: Option<GazeRig>,
}

/// One retargeted frame: the character's landmarks and, when it has pupils, where they look.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetargetedFrame {
    /// The character's 68 landmarks.
    pub points: Landmarks,
    /// The character's pupils (image-left eye first), when its face has pupils.
    pub pupils: Option<[Point; 2]>,
}

impl Retargeter {
    /// Measure the character and the driver's reference frame.
    ///
    /// Fails on invalid gains, non-finite or absurd points, or a part whose end points
    /// coincide in either face.
    pub fn new(
        character: &Face,
        reference: &Landmarks,
        opts: &RetargetOptions,
    ) -> Result<Self, RetargetError> {
        Self::with_label(character, reference, None, "driving reference frame", opts)
    }

    /// [`Retargeter::new`] with the driver's pupils in the reference frame, so that the
    /// character's pupils (if its face has them) follow the driver's gaze.
    pub fn with_pupils(
        character: &Face,
        reference: &Landmarks,
        reference_pupils: Option<&[Point; 2]>,
        opts: &RetargetOptions,
    ) -> Result<Self, RetargetError> {
        Self::with_label(
            character,
            reference,
            reference_pupils,
            "driving reference frame",
            opts,
        )
    }

    /// [`Retargeter::with_pupils`], naming the reference frame `label` in errors.
    pub(crate) fn with_label(
        character: &Face,
        reference: &Landmarks,
        reference_pupils: Option<&[Point; 2]>,
        label: &str,
        opts: &RetargetOptions,
    ) -> Result<Self, RetargetError> {
        opts.gains.validate()?;
        character.validate("character")?;
        validate_points(reference, None, label)?;
        for (points, whose, hint) in [
            (&character.points, "character", ""),
            (reference, label, ", or pick another reference frame"),
        ] {
            if let Some(arc) = collapsed_arc(points) {
                return Err(RetargetError::DegeneratePart {
                    whose: whose.into(),
                    part: arc.part.name(),
                    first: arc.first(),
                    last: arc.last(),
                    hint,
                });
            }
        }
        let owner = owners();
        let frames = |p: &Landmarks| ARCS.map(|a| a.frame(p));
        let local = |p: &Landmarks, f: &[PartFrame; ARCS.len()]| {
            std::array::from_fn(|i| f[owner[i]].to_local(p[i]))
        };
        let ref_frames = frames(reference);
        let char_frames = frames(&character.points);
        let ref_local: Landmarks = local(reference, &ref_frames);
        let char_local: Landmarks = local(&character.points, &char_frames);
        let ref_head = JAW.frame(reference);
        let char_head = JAW.frame(&character.points);
        let size_ratio = char_head.half_width / ref_head.half_width;

        let ref_jaw: Vec<Point> = JAW.indices().iter().map(|&i| reference[i]).collect();
        let char_jaw: Vec<Point> = JAW.indices().iter().map(|&i| character.points[i]).collect();
        let clamps = std::array::from_fn(|k| {
            if k == 0 {
                Clamp::uniform(size_ratio)
            } else {
                Clamp::new(
                    &room(&char_jaw, &char_head, char_frames[k].origin),
                    &room(&ref_jaw, &ref_head, ref_frames[k].origin),
                    size_ratio,
                )
            }
        });

        let pair = |(upper, lower): (usize, usize), floor: f32, followers| {
            let c = opening(&char_local, upper, lower).max(0.0);
            let d = opening(&ref_local, upper, lower);
            let closing = c / d.max(floor);
            OpeningPair {
                upper,
                lower,
                followers,
                min_gaps: gaps(&character.points, upper, lower).map(|g| g.min(0.0)),
                reference: d,
                closing,
                // Eyes keep their size ratio both ways (a huge eye opens wide); a mouth
                // opens by the driver's change in units of its own width.
                widening: if floor == MIN_EYE_OPENING {
                    closing
                } else {
                    1.0
                },
            }
        };
        let eye_openings =
            |local: &Landmarks| LID_PAIRS.map(|(upper, lower)| opening(local, upper, lower));
        let gaze = character.pupils.as_ref().map(|pupils| {
            GazeRig::new(
                &character.points,
                pupils,
                eye_openings(&char_local),
                reference,
                reference_pupils,
                eye_openings(&ref_local),
            )
        });
        let pairs = [
            pair(LID_PAIRS[0], MIN_EYE_OPENING, [None; 2]),
            pair(LID_PAIRS[1], MIN_EYE_OPENING, [None; 2]),
            pair(
                INNER_LIPS,
                MIN_MOUTH_OPENING,
                [Some(OUTER_LIPS.0), Some(OUTER_LIPS.1)],
            ),
        ];

        Ok(Self {
            gains: opts.effective_gains(),
            ref_head,
            ref_frames,
            ref_local,
            char_head,
            char_frames,
            char_local,
            size_ratio,
            clamps,
            pairs,
            owner,
            gaze,
        })
    }

    /// The character's landmarks for one driving frame, or `None` when that frame cannot be
    /// used (its jaw or another part has collapsed to a point, or a coordinate is not finite);
    /// [`retarget`](super::retarget) then repeats the previous output frame.
    pub fn frame(&self, driving: &Landmarks) -> Option<Landmarks> {
        self.frame_with_pupils(driving, None).map(|f| f.points)
    }

    /// [`Retargeter::frame`] with the driver's pupils in this frame (`None`: the character's
    /// pupils stay where they are in its eyes).
    pub fn frame_with_pupils(
        &self,
        driving: &Landmarks,
        driving_pupils: Option<&[Point; 2]>,
    ) -> Option<RetargetedFrame> {
        if driving.iter().any(|p| !p.is_finite()) || collapsed_arc(driving).is_some() {
            return None;
        }
        let driving_pupils = driving_pupils.filter(|p| p.iter().all(|q| q.is_finite()));
        // 1. Head motion, and the driver frame with it undone.
        let head = JAW.frame(driving);
        let d_angle = wrap_angle(head.angle - self.ref_head.angle);
        let scale = head.half_width / self.ref_head.half_width;
        let shift = head.origin - self.ref_head.origin;
        let stabilise =
            |p: Point| self.ref_head.origin + rotate(p - head.origin, -d_angle) * (1.0 / scale);
        let stable: Landmarks = driving.map(stabilise);

        // 2. Local motion of every arc, in the character's rest pose.
        let mut vertical = [1.0f32; ARCS.len()];
        let mut now_local = [Point::default(); LANDMARK_COUNT];
        for arc in &ARCS {
            let frame = arc.frame(&stable);
            for &i in arc.interior() {
                now_local[i] = frame.to_local(stable[i]);
            }
        }
        let mut open_ratio = [1.0f32; 3];
        for (pair, ratio) in self.pairs.iter().zip(&mut open_ratio) {
            let now = opening(&now_local, pair.upper, pair.lower);
            *ratio = now / pair.reference.max(1e-6);
            let scale = if now < pair.reference {
                pair.closing
            } else {
                pair.widening
            };
            for k in [Some(pair.upper), Some(pair.lower)]
                .into_iter()
                .chain(pair.followers)
                .flatten()
            {
                vertical[k] = scale;
            }
        }
        let mut out = [Point::default(); LANDMARK_COUNT];
        for (k, arc) in ARCS.iter().enumerate() {
            let g = self.gains.get(arc.control);
            let now = arc.frame(&stable);
            let was = &self.ref_frames[k];
            let turn = wrap_angle(now.angle - was.angle);
            let stretch = now.half_width / was.half_width;
            let moved = self.ref_head.vector_to_local(now.origin - was.origin);
            let moved = self.char_head.rotate(self.clamps[k].apply(moved));
            let rest = &self.char_frames[k];
            let target = PartFrame::new(
                rest.origin + moved * g,
                rest.angle + turn * g,
                rest.half_width * stretch.powf(g),
            );
            for &i in arc.indices() {
                if self.owner[i] != k {
                    continue;
                }
                let change = now.to_local(stable[i]) - self.ref_local[i];
                let change = Point::new(change.x, change.y * vertical[k]);
                out[i] = target.to_image(self.char_local[i] + change * g);
            }
        }

        // Lids and lips never pass through each other, whatever the shapes.
        for pair in &self.pairs {
            uncross(&mut out, pair);
        }

        let stable_pupils = driving_pupils.map(|p| p.map(stabilise));
        let mut pupils = self.gaze.as_ref().map(|gaze| {
            gaze.place(
                &out,
                stable_pupils.as_ref().map(|p| (&stable, p)),
                [open_ratio[0], open_ratio[1]],
                self.gains.gaze,
            )
        });

        // 3. Head motion, re-applied about the character's jaw origin.
        let angle = d_angle * self.gains.head_rotation;
        let scale = scale.powf(self.gains.head_translation);
        let shift = shift * (self.size_ratio * self.gains.head_translation);
        let centre = self.char_head.origin;
        let place = |p: Point| centre + shift + rotate(p - centre, angle) * scale;
        for p in out.iter_mut().chain(pupils.iter_mut().flatten()) {
            *p = place(*p);
        }
        let finite = out
            .iter()
            .chain(pupils.iter().flatten())
            .all(|p| p.is_finite());
        finite.then_some(RetargetedFrame {
            points: out,
            pupils,
        })
    }
}

/// The opening between two arcs that share their end points: how far their interior points
/// lie outward, in the arcs' own local coordinates (`local`, units of half the part's width).
fn opening(local: &Landmarks, upper: usize, lower: usize) -> f32 {
    [upper, lower]
        .iter()
        .map(|&k| {
            let inner = ARCS[k].interior();
            -inner.iter().map(|&i| local[i].y).sum::<f32>() / inner.len() as f32
        })
        .sum()
}

/// The gaps between opposite interior points of two arcs (the upper arc's first interior
/// point faces the lower arc's last), across the upper arc's frame, in its units.
fn gaps(points: &Landmarks, upper: usize, lower: usize) -> [f32; 3] {
    let frame = ARCS[upper].frame(points);
    let mut out = [0.0; 3];
    let opposite = ARCS[upper]
        .interior()
        .iter()
        .zip(ARCS[lower].interior().iter().rev());
    for (g, (&u, &l)) in out.iter_mut().zip(opposite) {
        // The upper arc's interior lies at negative y, the lower arc's at positive y.
        *g = frame.to_local(points[l]).y - frame.to_local(points[u]).y;
    }
    out
}

/// Where opposite interior points of a pair have come closer than the pair allows (passed
/// through each other), move both apart about their midpoint to the least allowed gap.
fn uncross(points: &mut Landmarks, pair: &OpeningPair) {
    let frame = ARCS[pair.upper].frame(points);
    let ups = ARCS[pair.upper].interior();
    let lows = ARCS[pair.lower].interior();
    for ((&u, &l), &min_gap) in ups.iter().zip(lows.iter().rev()).zip(&pair.min_gaps) {
        let (a, b) = (frame.to_local(points[u]), frame.to_local(points[l]));
        if b.y - a.y < min_gap {
            let mid = (a.y + b.y) * 0.5;
            points[u] = frame.to_image(Point::new(a.x, mid - 0.5 * min_gap));
            points[l] = frame.to_image(Point::new(b.x, mid + 0.5 * min_gap));
        }
    }
}
