//! The 68-point iBUG / 300-W landmark layout and its named facial parts.
//!
//! Indices follow the 300-W convention (0-based): jaw 0–16, right brow 17–21 (the subject's
//! right, image left), left brow 22–26, nose bridge 27–30, nostrils 31–35, right eye 36–41,
//! left eye 42–47, outer lips 48–59, inner lips 60–67. The finer arcs used by the FaceShot
//! paper (each eyelid, each lip contour) are listed in [`Part::ARCS`].

/// Number of landmarks in the iBUG / 300-W layout.
pub const LANDMARK_COUNT: usize = 68;

/// A named group of landmarks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// Face boundary, 0–16, from the right ear (image left) under the chin to the left ear.
    Jaw,
    /// Right eyebrow (image left), 17–21.
    RightBrow,
    /// Left eyebrow (image right), 22–26.
    LeftBrow,
    /// Nose bridge, 27–30, from between the eyes to the tip.
    NoseBridge,
    /// Nostrils / lower nose, 31–35.
    Nostrils,
    /// Right eye (image left), 36–41.
    RightEye,
    /// Left eye (image right), 42–47.
    LeftEye,
    /// Outer lip contour, 48–59.
    OuterLips,
    /// Inner lip contour, 60–67.
    InnerLips,
    /// Upper lid of the right eye: 36, 37, 38, 39.
    RightUpperLid,
    /// Lower lid of the right eye: 39, 40, 41, 36.
    RightLowerLid,
    /// Upper lid of the left eye: 42, 43, 44, 45.
    LeftUpperLid,
    /// Lower lid of the left eye: 45, 46, 47, 42.
    LeftLowerLid,
    /// Upper outer lip: 48–54.
    OuterUpperLip,
    /// Lower outer lip: 54–59, 48.
    OuterLowerLip,
    /// Upper inner lip: 60–64.
    InnerUpperLip,
    /// Lower inner lip: 64–67, 60.
    InnerLowerLip,
}

impl Part {
    /// The nine disjoint parts that together cover all 68 points.
    pub const BASE: [Part; 9] = [
        Part::Jaw,
        Part::RightBrow,
        Part::LeftBrow,
        Part::NoseBridge,
        Part::Nostrils,
        Part::RightEye,
        Part::LeftEye,
        Part::OuterLips,
        Part::InnerLips,
    ];

    /// The paper's finer arcs: each eyelid and each lip contour (end points shared).
    pub const ARCS: [Part; 8] = [
        Part::RightUpperLid,
        Part::RightLowerLid,
        Part::LeftUpperLid,
        Part::LeftLowerLid,
        Part::OuterUpperLip,
        Part::OuterLowerLip,
        Part::InnerUpperLip,
        Part::InnerLowerLip,
    ];

    /// Landmark indices of this part, in contour order.
    pub const fn indices(self) -> &'static [usize] {
        match self {
            Part::Jaw => &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
            Part::RightBrow => &[17, 18, 19, 20, 21],
            Part::LeftBrow => &[22, 23, 24, 25, 26],
            Part::NoseBridge => &[27, 28, 29, 30],
            Part::Nostrils => &[31, 32, 33, 34, 35],
            Part::RightEye => &[36, 37, 38, 39, 40, 41],
            Part::LeftEye => &[42, 43, 44, 45, 46, 47],
            Part::OuterLips => &[48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59],
            Part::InnerLips => &[60, 61, 62, 63, 64, 65, 66, 67],
            Part::RightUpperLid => &[36, 37, 38, 39],
            Part::RightLowerLid => &[39, 40, 41, 36],
            Part::LeftUpperLid => &[42, 43, 44, 45],
            Part::LeftLowerLid => &[45, 46, 47, 42],
            Part::OuterUpperLip => &[48, 49, 50, 51, 52, 53, 54],
            Part::OuterLowerLip => &[54, 55, 56, 57, 58, 59, 48],
            Part::InnerUpperLip => &[60, 61, 62, 63, 64],
            Part::InnerLowerLip => &[64, 65, 66, 67, 60],
        }
    }

    /// Whether the contour closes on itself (eyes and lips).
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            Part::RightEye | Part::LeftEye | Part::OuterLips | Part::InnerLips
        )
    }

    /// Human-readable name, as shown in the UI and error messages.
    pub fn name(self) -> &'static str {
        match self {
            Part::Jaw => "jaw",
            Part::RightBrow => "right brow",
            Part::LeftBrow => "left brow",
            Part::NoseBridge => "nose bridge",
            Part::Nostrils => "nostrils",
            Part::RightEye => "right eye",
            Part::LeftEye => "left eye",
            Part::OuterLips => "outer lips",
            Part::InnerLips => "inner lips",
            Part::RightUpperLid => "right upper lid",
            Part::RightLowerLid => "right lower lid",
            Part::LeftUpperLid => "left upper lid",
            Part::LeftLowerLid => "left lower lid",
            Part::OuterUpperLip => "outer upper lip",
            Part::OuterLowerLip => "outer lower lip",
            Part::InnerUpperLip => "inner upper lip",
            Part::InnerLowerLip => "inner lower lip",
        }
    }

    /// The base part a landmark index belongs to.
    pub fn of_index(index: usize) -> Option<Part> {
        Part::BASE
            .into_iter()
            .find(|p| p.indices().contains(&index))
    }
}

/// The left/right counterpart of each landmark (itself for points on the mid-line).
///
/// Used for mirror editing: moving point `i` moves `MIRROR[i]` mirrored about the face axis.
pub const MIRROR: [usize; LANDMARK_COUNT] = [
    16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, // jaw
    26, 25, 24, 23, 22, 21, 20, 19, 18, 17, // brows
    27, 28, 29, 30, // nose bridge (mid-line)
    35, 34, 33, 32, 31, // nostrils
    45, 44, 43, 42, 47, 46, // right eye -> left eye
    39, 38, 37, 36, 41, 40, // left eye -> right eye
    54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, // outer lips
    64, 63, 62, 61, 60, 67, 66, 65, // inner lips
];

/// The two eyes' rings (image-left eye first) as (corner, upper 1, upper 2, corner, lower 2,
/// lower 1), for code that names each point of an eye.
pub const EYE_RINGS: [[usize; 6]; 2] = [
    ring6(Part::RightEye.indices()),
    ring6(Part::LeftEye.indices()),
];

const fn ring6(ring: &[usize]) -> [usize; 6] {
    [ring[0], ring[1], ring[2], ring[3], ring[4], ring[5]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_parts_cover_every_point_once() {
        let mut seen = [0u8; LANDMARK_COUNT];
        for p in Part::BASE {
            for &i in p.indices() {
                seen[i] += 1;
            }
        }
        assert!(seen.iter().all(|&c| c == 1), "{seen:?}");
    }

    #[test]
    fn arcs_share_end_points_with_their_partner() {
        let pairs = [
            (Part::RightUpperLid, Part::RightLowerLid),
            (Part::LeftUpperLid, Part::LeftLowerLid),
            (Part::OuterUpperLip, Part::OuterLowerLip),
            (Part::InnerUpperLip, Part::InnerLowerLip),
        ];
        for (upper, lower) in pairs {
            let u = upper.indices();
            let l = lower.indices();
            assert_eq!(u.last(), l.first(), "{}", upper.name());
            assert_eq!(u.first(), l.last(), "{}", lower.name());
        }
    }

    #[test]
    fn mirror_is_an_involution() {
        for i in 0..LANDMARK_COUNT {
            assert_eq!(MIRROR[MIRROR[i]], i, "point {i}");
            assert!(Part::of_index(i).is_some());
        }
        assert_eq!(MIRROR[8], 8);
        assert_eq!(MIRROR[36], 45);
        assert_eq!(MIRROR[48], 54);
    }
}
