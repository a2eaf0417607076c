//! Generated cartoon characters with exact landmarks, in one place with one random generator
//! ([`Rng`], SplitMix64) and the crate's drawing primitives ([`crate::geometry`],
//! [`crate::raster`]).
//!
//! - [`CartoonSpec`] and [`Cartoon`]: random characters whose 68 landmarks are exact by
//!   construction. Every landmark lies on a drawn contour: the jaw points are spaced by arc
//!   length along the face outline, the eye points on the drawn lids, the brow points on the
//!   brow stroke, the lip points on the drawn lip curves (splines through them). Faces vary in
//!   outline (round, long, square, pointed chin), eyes (sclera with iris, dots, big anime eyes,
//!   closed arcs), brows, noses, mouths (closed, open, lips or lines, smiling), ears (none,
//!   side, animal), hair, colours, outline strokes, backgrounds, size, position, roll and yaw.
//!   The specs' landmarks are the shape model's training shapes; the drawn characters feed the
//!   tests, the featurizer tests' gallery and `faceshot cartoons`.
//! - [`character`]: one character drawn from a given landmark set in a chosen
//!   [`character::Style`], the animator's test and benchmark subject.
//!
//! It lives in the library rather than in a test-kit crate because the shape model, and so
//! every match, is built from [`CartoonSpec`]'s landmarks, and the unit tests of the structural
//! fit and of the animator draw cartoons while testing private code.

pub mod character;
mod render;
mod rng;
mod spec;

pub use render::catmull_rom;
pub use rng::Rng;
pub use spec::{CartoonSpec, EyeStyle, MouthStyle};

use crate::landmarks::{Face, ImageSize};
use image::RgbaImage;

/// A generated character: the image and its exact landmarks.
pub struct Cartoon {
    /// The rendered image (opaque RGBA).
    pub image: RgbaImage,
    /// The 68 landmarks (confidence 1).
    pub face: Face,
    /// The choices it was drawn from.
    pub spec: CartoonSpec,
}

impl Cartoon {
    /// Generate the cartoon for `seed` with image side `size` pixels.
    pub fn generate(seed: u64, size: u32) -> Self {
        Self::from_spec(CartoonSpec::random(seed, size))
    }

    /// [`Cartoon::generate`]'s character with its head turned by a yaw drawn uniformly from
    /// ±`max_yaw` radians (its own random stream: the other choices stay those of `seed`).
    pub fn generate_turned(seed: u64, size: u32, max_yaw: f32) -> Self {
        let mut spec = CartoonSpec::random(seed, size);
        let mut r = Rng::new(seed ^ 0x7475_726e);
        spec.yaw = r.range(-max_yaw, max_yaw);
        Self::from_spec(spec)
    }

    /// Render `spec` and take its landmarks.
    pub fn from_spec(spec: CartoonSpec) -> Self {
        let size = spec.size;
        let image = spec.render();
        let face = Face::new(
            spec.landmarks(),
            Some(ImageSize {
                width: size,
                height: size,
            }),
        );
        Self { image, face, spec }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::self_intersects;
    use crate::landmarks::{Part, Point};

    #[test]
    fn cartoons_are_reproducible_and_varied() {
        let a = Cartoon::generate(3, 128);
        let b = Cartoon::generate(3, 128);
        assert_eq!(a.image, b.image);
        assert_eq!(a.face, b.face);
        let c = Cartoon::generate(4, 128);
        assert_ne!(a.face.points, c.face.points);
    }

    #[test]
    fn turned_heads_move_their_features_not_their_outline() {
        for seed in 0..20 {
            let frontal = CartoonSpec::random(seed, 256);
            let mut spec = frontal.clone();
            spec.yaw = if seed % 2 == 0 { 0.6 } else { -0.6 };
            let (a, b) = (frontal.normalised_landmarks(), spec.normalised_landmarks());
            let toward = |p: Point, q: Point| (q.x - p.x) * spec.yaw.signum();
            // Features slide the way of the turn and stay inside the outline, which is the
            // same; the chin slides too, the jaw ends stay.
            for i in [30, 33, 36, 45, 48, 54] {
                assert!(toward(a[i], b[i]) > 0.02, "seed {seed} point {i}");
                assert!(
                    b[i].x.abs() <= spec.half_width(b[i].y) + 1e-4,
                    "seed {seed}"
                );
                assert_eq!(a[i].y, b[i].y);
            }
            assert!(toward(a[8], b[8]) > 0.0, "seed {seed}: chin");
            assert!(a[0].distance(b[0]) < 1e-3 && a[16].distance(b[16]) < 1e-3);
            for part in Part::BASE {
                let pts: Vec<Point> = part.indices().iter().map(|&i| b[i]).collect();
                assert!(!self_intersects(&pts, part.is_closed()), "seed {seed}");
            }
        }
    }

    #[test]
    fn landmarks_are_inside_the_image_and_untangled() {
        for seed in 0..40 {
            let spec = CartoonSpec::random(seed, 256);
            let lm = spec.landmarks();
            for p in &lm {
                assert!(
                    p.x > 0.0 && p.y > 0.0 && p.x < 256.0 && p.y < 256.0,
                    "seed {seed}: {p:?}"
                );
            }
            for part in Part::BASE {
                let pts: Vec<Point> = part.indices().iter().map(|&i| lm[i]).collect();
                assert!(
                    !self_intersects(&pts, part.is_closed()),
                    "seed {seed} {}",
                    part.name()
                );
            }
            // Eyes sit inside the face outline.
            let n = spec.normalised_landmarks();
            for i in [36, 45] {
                assert!(
                    n[i].x.abs() < spec.half_width(n[i].y),
                    "seed {seed}: eye outside face"
                );
            }
        }
    }

    #[test]
    fn eye_landmarks_lie_on_dark_drawn_features() {
        // For iris/dot eyes the eye centre pixel differs strongly from the skin.
        let mut checked = 0;
        for seed in 0..30 {
            let c = Cartoon::generate(seed, 192);
            if !matches!(c.spec.eye_style, EyeStyle::Dot) {
                continue;
            }
            let lm = c.face.points;
            let centre = (lm[37] + lm[40]) * 0.5;
            let px = c.image.get_pixel(centre.x as u32, centre.y as u32).0;
            let skin = c.spec.skin;
            let diff: i32 = (0..3)
                .map(|i| (i32::from(px[i]) - i32::from(skin[i])).abs())
                .sum();
            assert!(diff > 60, "seed {seed}: {px:?} vs skin {skin:?}");
            checked += 1;
        }
        assert!(checked > 0);
    }
}
