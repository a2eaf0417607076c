//! The thirteen arcs the retargeting works on, and which control drives each.

use super::frame::PartFrame;
use super::options::Control;
use crate::landmarks::{LANDMARK_COUNT, Landmarks, Part};

/// A face whose jaw end points are closer than this many pixels has no usable head frame.
pub const MIN_JAW_HALF_WIDTH: f32 = 0.5;
/// A part whose end points are closer than this fraction of the jaw's width has collapsed.
pub const MIN_PART_FRACTION: f32 = 1e-3;

/// One arc: a landmark part with its own frame, driven by one control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartArc {
    /// The landmark part.
    pub part: Part,
    /// The gain that scales this arc's local motion.
    pub control: Control,
}

impl PartArc {
    /// Landmark indices of the arc, end points first and last.
    pub fn indices(&self) -> &'static [usize] {
        self.part.indices()
    }

    /// The arc's first end point.
    pub fn first(&self) -> usize {
        self.indices()[0]
    }

    /// The arc's last end point.
    pub fn last(&self) -> usize {
        self.indices()[self.indices().len() - 1]
    }

    /// The frame of this arc in a set of points.
    pub fn frame(&self, points: &Landmarks) -> PartFrame {
        PartFrame::from_ends(points[self.first()], points[self.last()])
    }

    /// The points strictly between the end points.
    pub fn interior(&self) -> &'static [usize] {
        let i = self.indices();
        &i[1..i.len() - 1]
    }
}

/// The face boundary: its frame is the head's frame. Its own local deformation (the chin
/// dropping as the mouth opens) follows the mouth gain.
pub const JAW: PartArc = PartArc {
    part: Part::Jaw,
    control: Control::Mouth,
};

/// Every arc, the jaw first. Together they cover all 68 points; arcs of one eye or one lip
/// contour share their end points (and therefore their frame, turned half a turn).
pub const ARCS: [PartArc; 13] = [
    JAW,
    arc(Part::RightBrow, Control::Brows),
    arc(Part::LeftBrow, Control::Brows),
    arc(Part::NoseBridge, Control::Nose),
    arc(Part::Nostrils, Control::Nose),
    arc(Part::RightUpperLid, Control::Eyes),
    arc(Part::RightLowerLid, Control::Eyes),
    arc(Part::LeftUpperLid, Control::Eyes),
    arc(Part::LeftLowerLid, Control::Eyes),
    arc(Part::OuterUpperLip, Control::Mouth),
    arc(Part::OuterLowerLip, Control::Mouth),
    arc(Part::InnerUpperLip, Control::Mouth),
    arc(Part::InnerLowerLip, Control::Mouth),
];

/// Index into [`ARCS`] of each eye's (upper lid, lower lid). An eye's opening is transferred
/// as a ratio of the character's own opening, so a huge eye still closes fully.
pub const LID_PAIRS: [(usize, usize); 2] = [(5, 6), (7, 8)];

const fn arc(part: Part, control: Control) -> PartArc {
    PartArc { part, control }
}

/// For each landmark, the arc (index into [`ARCS`]) whose result it takes: the first arc that
/// contains it. Shared end points get the same position from either arc.
pub fn owners() -> [usize; LANDMARK_COUNT] {
    let mut owner = [usize::MAX; LANDMARK_COUNT];
    for (k, arc) in ARCS.iter().enumerate() {
        for &i in arc.indices() {
            if owner[i] == usize::MAX {
                owner[i] = k;
            }
        }
    }
    owner
}

/// The first arc whose end points (nearly) coincide, if any: such a face has no frame for it.
pub fn collapsed_arc(points: &Landmarks) -> Option<PartArc> {
    let jaw = JAW.frame(points).half_width;
    let too_small = |w: f32, min: f32| w.is_nan() || w < min;
    if too_small(jaw, MIN_JAW_HALF_WIDTH) {
        return Some(JAW);
    }
    ARCS.into_iter()
        .find(|a| too_small(a.frame(points).half_width, MIN_PART_FRACTION * jaw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arcs_cover_every_point() {
        assert!(owners().iter().all(|&k| k < ARCS.len()));
    }

    #[test]
    fn collapsed_parts_are_found() {
        let mut p = crate::landmarks::synthetic::frontal_face(100.0, 100.0, 50.0);
        assert_eq!(collapsed_arc(&p), None);
        p[64] = p[60];
        assert_eq!(collapsed_arc(&p).map(|a| a.part), Some(Part::InnerUpperLip));
        p[16] = p[0];
        assert_eq!(collapsed_arc(&p), Some(JAW));
    }

    #[test]
    fn lid_pairs_share_end_points() {
        for (u, l) in LID_PAIRS {
            assert_eq!(ARCS[u].first(), ARCS[l].last());
            assert_eq!(ARCS[u].last(), ARCS[l].first());
            assert_eq!(ARCS[u].control, Control::Eyes);
        }
    }
}
