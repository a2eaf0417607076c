//! Where a character's pupils are and how big its irises are, read from its picture.
//!
//! Inside each eye's outline (points 36–41 and 42–47, pulled in a little so the lash line
//! stays out) the bright, greyish pixels give the sclera's colour, and the pixels that differ clearly
//! from it are the iris (pupil included). An eye with a fair share of both shows an iris on a
//! sclera: the pupil is the iris pixels' centroid and the iris radius half the width of their
//! run through it.
//! Anything else (a dot eye, a closed eye, an eye too small to read) gets the eye's centre and
//! no radius. The matcher stores the result in the face file; the animator uses the same
//! reading for the iris and sclera colours.

use crate::geometry::contains;
use crate::landmarks::{EYE_RINGS, Landmarks, Point, eye_centres};
use image::RgbaImage;

/// Share of the way from each lid point to the line between the eye's corners by which the
/// lids are pulled in before reading (keeps drawn lash lines out).
const INSET: f32 = 0.25;
/// Least colour distance (RGB, 0–255 a channel) between the sclera and the eye's most
/// different pixels for an eye to show an iris on a sclera.
const MIN_CONTRAST: f32 = 60.0;
/// A pixel belongs to the iris when its distance from the sclera colour is more than this
/// share of that contrast (a blue iris on white is as much iris as its black pupil).
const IRIS_SHARE_OF_CONTRAST: f32 = 0.4;
/// Least share of the eye's pixels that must be sclera-white for it to show a sclera.
const MIN_SCLERA_SHARE: f32 = 0.02;
/// Least luminance (0–255) of a sclera pixel…
const MIN_SCLERA_LUMA: f32 = 150.0;
/// …and largest spread between its channels (greyish, not skin).
const MAX_SCLERA_CHROMA: f32 = 70.0;
/// Least share of the eye's pixels in the dark class for it to be an iris.
const MIN_IRIS_SHARE: f32 = 0.06;
/// Fewest pixels inside an eye worth reading.
const MIN_PIXELS: usize = 12;

/// One eye as read from the picture.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EyeReading {
    /// The pupil's centre (the eye's centre when no iris shows).
    pub centre: Point,
    /// The iris radius in pixels, when an iris shows against a sclera.
    pub radius: Option<f32>,
    /// Mean colour of the iris (the dark class), RGB 0–255, when an iris shows.
    pub iris: Option<[f32; 3]>,
    /// Mean colour of the sclera (the bright class), RGB 0–255, when one shows.
    pub sclera: Option<[f32; 3]>,
}

/// Both eyes (image-left first), and the radius to use for both.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PupilReading {
    /// Image-left eye (points 36–41), then image-right (42–47).
    pub eyes: [EyeReading; 2],
}

impl PupilReading {
    /// The two pupil centres.
    pub fn centres(&self) -> [Point; 2] {
        self.eyes.map(|e| e.centre)
    }

    /// One iris radius for both eyes: the mean of those measured, `None` when neither was.
    pub fn radius(&self) -> Option<f32> {
        let found: Vec<f32> = self.eyes.iter().filter_map(|e| e.radius).collect();
        (!found.is_empty()).then(|| found.iter().sum::<f32>() / found.len() as f32)
    }
}

/// Read both eyes of the face `points` in `image`.
pub fn read_pupils(image: &RgbaImage, points: &Landmarks) -> PupilReading {
    let centres = eye_centres(points);
    let eyes = std::array::from_fn(|k| {
        let ring = EYE_RINGS[k].map(|i| points[i]);
        read_eye(image, &ring, centres[k])
    });
    PupilReading { eyes }
}

fn read_eye(image: &RgbaImage, ring: &[Point; 6], centre: Point) -> EyeReading {
    let plain = EyeReading {
        centre,
        radius: None,
        iris: None,
        sclera: None,
    };
    let (a, b) = (ring[0], ring[3]);
    let axis = b - a;
    let len2 = axis.dot(axis);
    if len2 < 1.0 {
        return plain;
    }
    // Lids pulled towards the corner line; the corners (where the sclera shows most) stay.
    let inset = ring.map(|p| p.lerp(a + axis * ((p - a).dot(axis) / len2), INSET));
    let pixels = pixels_inside(image, &inset);
    if pixels.len() < MIN_PIXELS {
        return plain;
    }
    // The sclera is the eye's brightest colour; the iris is whatever differs clearly from it.
    let whites: Vec<&Pixel> = pixels.iter().filter(|p| is_white(p)).collect();
    if whites.len() < 4 || (whites.len() as f32) < MIN_SCLERA_SHARE * pixels.len() as f32 {
        return plain;
    }
    let sclera = mean_rgb(&whites);
    let mut distances: Vec<f32> = pixels.iter().map(|p| rgb_distance(p.rgb, sclera)).collect();
    distances.sort_by(f32::total_cmp);
    let far = distances[(distances.len() * 95) / 100];
    if far < MIN_CONTRAST {
        return plain;
    }
    let (iris, white): (Vec<&Pixel>, Vec<&Pixel>) = pixels
        .iter()
        .partition(|p| rgb_distance(p.rgb, sclera) > IRIS_SHARE_OF_CONTRAST * far);
    let n = pixels.len() as f32;
    if (iris.len() as f32) < MIN_IRIS_SHARE * n || (white.len() as f32) < MIN_SCLERA_SHARE * n {
        return plain;
    }
    let sum = iris.iter().fold(Point::default(), |acc, p| acc + p.at);
    let iris_centre = sum * (1.0 / iris.len() as f32);
    // The iris's width: the run of iris pixels through the centre on its rows, stopping at
    // the sclera (an outline at the corners is not iris).
    let iris_pixels: std::collections::HashSet<(i64, i64)> = iris
        .iter()
        .map(|p| (p.at.x as i64, p.at.y as i64))
        .collect();
    let is_iris = |x: i64, y: i64| iris_pixels.contains(&(x, y));
    let (cx, cy) = (iris_centre.x.round() as i64, iris_centre.y.round() as i64);
    let mut widths = Vec::new();
    for y in cy - 1..=cy + 1 {
        if !is_iris(cx, y) {
            continue;
        }
        let (mut lo, mut hi) = (cx, cx);
        while is_iris(lo - 1, y) {
            lo -= 1;
        }
        while is_iris(hi + 1, y) {
            hi += 1;
        }
        widths.push((hi - lo + 1) as f32);
    }
    if widths.is_empty() {
        return plain;
    }
    let eye_width = ring[0].distance(ring[3]);
    let width = widths.iter().sum::<f32>() / widths.len() as f32;
    let radius = (0.5 * width).clamp(1.0, 0.5 * eye_width);
    EyeReading {
        centre: iris_centre,
        radius: Some(radius),
        iris: Some(mean_rgb(&iris)),
        sclera: Some(mean_rgb(&white)),
    }
}

/// Mean colour of a set of pixels (black when empty).
fn mean_rgb(class: &[&Pixel]) -> [f32; 3] {
    let mut sum = [0.0f32; 3];
    for p in class {
        for (s, c) in sum.iter_mut().zip(p.rgb) {
            *s += c;
        }
    }
    sum.map(|s| s / class.len().max(1) as f32)
}

/// Bright and nearly grey: sclera, not skin or a coloured iris.
fn is_white(p: &Pixel) -> bool {
    let hi = p.rgb.iter().copied().fold(0.0f32, f32::max);
    let lo = p.rgb.iter().copied().fold(255.0f32, f32::min);
    p.luma >= MIN_SCLERA_LUMA && hi - lo <= MAX_SCLERA_CHROMA
}

fn rgb_distance(a: [f32; 3], b: [f32; 3]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// One opaque pixel inside an eye.
struct Pixel {
    at: Point,
    rgb: [f32; 3],
    luma: f32,
}

/// The at least half opaque pixels whose centres lie inside `polygon`.
fn pixels_inside(image: &RgbaImage, polygon: &[Point]) -> Vec<Pixel> {
    let (w, h) = image.dimensions();
    let (mut lo, mut hi) = (polygon[0], polygon[0]);
    for p in polygon {
        lo = Point::new(lo.x.min(p.x), lo.y.min(p.y));
        hi = Point::new(hi.x.max(p.x), hi.y.max(p.y));
    }
    let x0 = lo.x.floor().max(0.0) as u32;
    let y0 = lo.y.floor().max(0.0) as u32;
    let x1 = (hi.x.ceil().max(0.0) as u32).min(w.saturating_sub(1));
    let y1 = (hi.y.ceil().max(0.0) as u32).min(h.saturating_sub(1));
    let mut out = Vec::new();
    if w == 0 || h == 0 || x0 > x1 || y0 > y1 {
        return out;
    }
    for y in y0..=y1 {
        for x in x0..=x1 {
            let at = Point::new(x as f32, y as f32);
            if !contains(polygon, at) {
                continue;
            }
            let [r, g, b, a] = image.get_pixel(x, y).0;
            if a < 128 {
                continue;
            }
            let rgb = [r, g, b].map(f32::from);
            let luma = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
            out.push(Pixel { at, rgb, luma });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cartoon::character::{Style, big_eyes, draw};
    use crate::landmarks::synthetic::frontal_face;

    /// The test cartoon with eyes twice the usual height (30 × 20 px).
    fn cartoon() -> (RgbaImage, Landmarks) {
        let face = big_eyes(frontal_face(128.0, 140.0, 100.0), 2.0);
        (draw(256, 256, &face, &Style::default()), face)
    }

    #[test]
    fn drawn_irises_are_found_where_they_are_drawn() {
        let (img, face) = cartoon();
        let reading = read_pupils(&img, &face);
        let centres = eye_centres(&face);
        for (eye, centre) in reading.eyes.iter().zip(centres) {
            let r = eye.radius.expect("an iris against a white sclera");
            // The test cartoon draws the iris at the eye's centre.
            assert!(eye.centre.distance(centre) < 1.5, "{eye:?} vs {centre:?}");
            let width = face[EYE_RINGS[0][0]].distance(face[EYE_RINGS[0][3]]);
            assert!(r > 0.1 * width && r < 0.5 * width, "radius {r}");
            let [_, _, blue] = eye.iris.unwrap_or_default();
            assert!(blue > 100.0, "iris colour {:?}", eye.iris);
        }
        assert!(reading.radius().is_some());
    }

    #[test]
    fn a_plain_skin_eye_gets_its_centre_and_no_radius() {
        let face = frontal_face(128.0, 140.0, 70.0);
        let img = RgbaImage::from_pixel(256, 256, image::Rgba([230, 190, 160, 255]));
        let reading = read_pupils(&img, &face);
        assert_eq!(reading.centres(), eye_centres(&face));
        assert_eq!(reading.radius(), None);
    }

    #[test]
    fn an_iris_looking_aside_is_found_off_centre() {
        let face = big_eyes(frontal_face(128.0, 140.0, 100.0), 2.0);
        let mut img = RgbaImage::from_pixel(256, 256, image::Rgba([230, 190, 160, 255]));
        let centres = eye_centres(&face);
        for (k, ring) in EYE_RINGS.iter().enumerate() {
            let poly = ring.map(|i| face[i]);
            let iris = centres[k] + Point::new(4.0, 0.0);
            for y in 0..256 {
                for x in 0..256 {
                    let p = Point::new(x as f32, y as f32);
                    if contains(&poly, p) {
                        let c = if p.distance(iris) < 4.0 {
                            [30, 60, 40]
                        } else {
                            [250, 250, 250]
                        };
                        img.put_pixel(x, y, image::Rgba([c[0], c[1], c[2], 255]));
                    }
                }
            }
        }
        let reading = read_pupils(&img, &face);
        for (eye, centre) in reading.eyes.iter().zip(centres) {
            assert!(
                (eye.centre.x - centre.x - 4.0).abs() < 1.0,
                "{eye:?} vs {centre:?}"
            );
            assert!((eye.centre.y - centre.y).abs() < 1.0, "{eye:?}");
        }
    }
}
