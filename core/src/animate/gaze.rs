//! Gaze synthesis: the iris (or a dot eye's whole dot) slides inside the eye.
//!
//! The warp carries each eye rigidly with its corners, iris and all. Here the iris disc is moved
//! by the frame's pupil offset: inside the eye, pixels the moved disc covers take the iris's own
//! pixels (read from the rest picture, shifted; where the shift reaches past the drawn eye, its
//! mean colour), and pixels the disc has left take the sclera's colour. Highlights move with the
//! iris: they are part of its picture, and a drawn highlight that stayed behind would be cut by
//! the moving disc's rim. The eye's outline is never repainted (only the lids' inside, pulled
//! in a little, is), and the eyelids are drawn afterwards, so closing lids clip the iris.
//! An eye without a sclera (a dot) moves as a whole within a region a little larger than its
//! outline, uncovering the skin around it.

use super::geometry::{Similarity, smoothstep};
use super::paint::blend;
use super::palette::{Palette, Rgb};
use super::sample::Source;
use crate::geometry::{contains, polyline_distance};
use crate::landmarks::{EYE_RINGS, Face, Landmarks, Point};
use crate::pupils::read_pupils;
use image::RgbaImage;

/// Share of the way from each lid point to the corner line by which the painted region is
/// pulled in, so the drawn outline and lashes stay as they are.
const OUTLINE_INSET: f32 = 0.12;
/// A dot eye moves with its drawn outline: the outline points grown this much about its centre…
const DOT_OUTLINE: f32 = 1.5;
/// …within a region grown this much, so the dot can move without being cut.
const DOT_REGION: f32 = 2.0;
/// Offsets under this many rest pixels are not drawn (the picture is left untouched).
const MIN_SHIFT: f32 = 0.05;

/// One eye's rest iris, measured once.
#[derive(Clone, Debug)]
struct RestIris {
    /// Rest pupil centre.
    centre: Point,
    /// What moves.
    shape: IrisShape,
    /// Mean iris colour (fills where the moved iris reaches past the drawn eye).
    iris: Rgb,
    /// What the iris leaves behind: the sclera, or the skin around a dot eye.
    behind: Rgb,
    /// Rest-space polygon the iris may be painted in.
    region: [Point; 6],
}

/// The part of an eye that moves with the gaze.
#[derive(Clone, Debug)]
enum IrisShape {
    /// A round iris of this radius (rest pixels) on a sclera.
    Disc(f32),
    /// The whole drawn eye (a dot) with its outline, inside this rest polygon.
    Whole([Point; 6]),
}

impl IrisShape {
    /// How much of the moving part covers rest point `q` when it is centred at `centre`
    /// (its rest centre is `rest`): 0–1, anti-aliased. `rim` widens the edge outwards.
    fn covers(&self, q: Point, centre: Point, rest: Point, rim: f32) -> f32 {
        match self {
            IrisShape::Disc(r) => {
                1.0 - smoothstep(r - 0.5 + rim, r + 0.5 + rim, q.distance(centre))
            }
            IrisShape::Whole(ring) => coverage(ring, q - (centre - rest), rim),
        }
    }
}

/// Both eyes' rest irises; only for faces with pupils.
#[derive(Clone, Debug)]
pub(crate) struct GazeRig {
    eyes: [RestIris; 2],
}

impl GazeRig {
    /// Measure the irises of `rest` (which must have pupils) in the character picture.
    pub fn new(image: &RgbaImage, rest: &Face, palette: &Palette) -> Option<GazeRig> {
        let pupils = rest.pupils?;
        let reading = read_pupils(image, &rest.points);
        let radius = rest.pupil_radius.or_else(|| reading.radius());
        let eyes = std::array::from_fn(|k| {
            let ring = EYE_RINGS[k].map(|i| rest.points[i]);
            let eye = &reading.eyes[k];
            match (radius, eye.sclera) {
                (Some(r), Some(sclera)) => RestIris {
                    centre: pupils[k],
                    shape: IrisShape::Disc(r),
                    iris: eye.iris.unwrap_or([40.0, 40.0, 40.0]),
                    behind: sclera,
                    region: inset(&ring),
                },
                _ => {
                    // A dot (or an eye whose iris cannot be told from its surround): the whole
                    // eye moves, uncovering the lid skin.
                    let centre = Point::mean(ring);
                    let grow = |f: f32| ring.map(|p| centre + (p - centre) * f);
                    RestIris {
                        centre: pupils[k],
                        shape: IrisShape::Whole(grow(DOT_OUTLINE)),
                        iris: mean_colour(image, &ring, centre),
                        behind: palette.eyes[k].upper_lid,
                        region: grow(DOT_REGION),
                    }
                }
            }
        });
        Some(GazeRig { eyes })
    }

    /// For each eye, how far the iris must move (rest pixels) to sit where `pupils` asks in
    /// the eye of the requested landmarks `target`.
    pub fn shifts(&self, rest: &Landmarks, target: &Landmarks, pupils: &[Point; 2]) -> [Point; 2] {
        std::array::from_fn(|k| {
            let [a, .., b] = corners(k);
            let to_rest = Similarity::from_two_points(target[a], target[b], rest[a], rest[b]);
            match to_rest {
                Some(s) if pupils[k].is_finite() => s.apply(pupils[k]) - self.eyes[k].centre,
                _ => Point::default(),
            }
        })
    }

    /// Paint both irises moved by `shifts` into `out`, whose eyes the warp put at the
    /// corners of `effective`.
    pub fn draw(
        &self,
        out: &mut RgbaImage,
        src: &Source,
        rest: &Landmarks,
        effective: &Landmarks,
        shifts: &[Point; 2],
    ) {
        for (k, (eye, shift)) in self.eyes.iter().zip(shifts).enumerate() {
            if shift.norm() < MIN_SHIFT {
                continue;
            }
            let [a, .., b] = corners(k);
            let Some(to_rest) =
                Similarity::from_two_points(effective[a], effective[b], rest[a], rest[b])
            else {
                continue;
            };
            let Some(to_frame) =
                Similarity::from_two_points(rest[a], rest[b], effective[a], effective[b])
            else {
                continue;
            };
            draw_eye(out, src, eye, *shift, &to_rest, &to_frame);
        }
    }
}

/// The corner indices of eye `k` (first and fourth of its ring).
fn corners(k: usize) -> [usize; 4] {
    let [a, _, _, b, _, _] = EYE_RINGS[k];
    [a, 0, 0, b]
}

fn draw_eye(
    out: &mut RgbaImage,
    src: &Source,
    eye: &RestIris,
    shift: Point,
    to_rest: &Similarity,
    to_frame: &Similarity,
) {
    let corners = eye.region.map(|p| to_frame.apply(p));
    let (mut lo, mut hi) = (corners[0], corners[0]);
    for p in &corners {
        lo = Point::new(lo.x.min(p.x), lo.y.min(p.y));
        hi = Point::new(hi.x.max(p.x), hi.y.max(p.y));
    }
    let (w, h) = out.dimensions();
    if !(lo.is_finite() && hi.is_finite()) || w == 0 || h == 0 {
        return;
    }
    let x0 = lo.x.floor().max(0.0) as u32;
    let y0 = lo.y.floor().max(0.0) as u32;
    let x1 = (hi.x.ceil().max(0.0) as u32).min(w - 1);
    let y1 = (hi.y.ceil().max(0.0) as u32).min(h - 1);
    let moved = eye.centre + shift;
    for y in y0..=y1 {
        for x in x0..=x1 {
            let q = to_rest.apply(Point::new(x as f32, y as f32));
            let clip = coverage(&eye.region, q, 0.0);
            if clip <= 0.0 {
                continue;
            }
            // A drawn iris's anti-aliased rim may reach a little past its measured radius.
            let old = eye.shape.covers(q, eye.centre, eye.centre, 1.5);
            let new = eye.shape.covers(q, moved, eye.centre, 0.0);
            if old <= 0.0 && new <= 0.0 {
                continue;
            }
            let px = out.get_pixel_mut(x, y);
            let mut rgba = px.0;
            blend(&mut rgba, eye.behind, old * clip);
            if new > 0.0 {
                let from = q - shift;
                let colour = if coverage(&eye.region, from, 0.0) >= 1.0 {
                    let c = src.sample(from.x, from.y);
                    [c[0], c[1], c[2]]
                } else {
                    eye.iris
                };
                blend(&mut rgba, colour, new * clip);
            }
            px.0 = rgba;
        }
    }
}

/// 1 inside `polygon` grown by `rim` pixels, 0 outside, a one-pixel ramp across its edge.
fn coverage(polygon: &[Point; 6], p: Point, rim: f32) -> f32 {
    let d = polyline_distance(p, polygon, true);
    let inside = contains(polygon, p);
    let signed = if inside { d } else { -d };
    smoothstep(-0.5 - rim, 0.5 - rim, signed)
}

/// The eye ring with its lids pulled towards the corner line by [`OUTLINE_INSET`].
fn inset(ring: &[Point; 6]) -> [Point; 6] {
    let (a, b) = (ring[0], ring[3]);
    let axis = b - a;
    let len2 = axis.dot(axis).max(1e-12);
    ring.map(|p| p.lerp(a + axis * ((p - a).dot(axis) / len2), OUTLINE_INSET))
}

/// Mean colour of the opaque pixels inside `ring` (the centre pixel's when none).
fn mean_colour(image: &RgbaImage, ring: &[Point; 6], centre: Point) -> Rgb {
    let (w, h) = image.dimensions();
    let (mut sum, mut n) = ([0.0f32; 3], 0usize);
    let (mut lo, mut hi) = (ring[0], ring[0]);
    for p in ring {
        lo = Point::new(lo.x.min(p.x), lo.y.min(p.y));
        hi = Point::new(hi.x.max(p.x), hi.y.max(p.y));
    }
    let xs = lo.x.floor().max(0.0) as u32..=(hi.x.ceil().max(0.0) as u32).min(w.saturating_sub(1));
    let ys = lo.y.floor().max(0.0) as u32..=(hi.y.ceil().max(0.0) as u32).min(h.saturating_sub(1));
    for y in ys {
        for x in xs.clone() {
            let [r, g, b, a] = image.get_pixel(x, y).0;
            if a >= 128 && contains(ring, Point::new(x as f32, y as f32)) {
                for (s, c) in sum.iter_mut().zip([r, g, b]) {
                    *s += f32::from(c);
                }
                n += 1;
            }
        }
    }
    if n == 0 {
        let cx = (centre.x.round().max(0.0) as u32).min(w.saturating_sub(1));
        let cy = (centre.y.round().max(0.0) as u32).min(h.saturating_sub(1));
        let [r, g, b, _] = image.get_pixel(cx, cy).0;
        return [r, g, b].map(f32::from);
    }
    sum.map(|s| s / n as f32)
}
