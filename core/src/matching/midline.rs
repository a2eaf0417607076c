//! Lower-face check along the face midline, for faces the face mesh squeezes into human
//! proportions (caricatures with long chins and low mouths).
//!
//! From the nose (point 33) the image is read along the face's vertical axis (perpendicular to
//! the line through the eye centres) in a strip a fraction of the eye distance wide:
//!
//! - **chin**: the strongest drop from the face's own skin colour (sampled on the nose bridge
//!   and under the eyes) to something else, below the mesh's mouth;
//! - **mouth**: the darkest dip of the strip's brightness between the nose and that chin, in a
//!   band around a third of the way down (the usual nose–mouth–chin proportion).
//!
//! The image border is no evidence: strips stop where they leave the image. When the chin is
//! found with a clear transition, lies well below the mesh's chin, and the face outline either
//! side of it also lies well below the mesh's jaw (a chin, not a collar or a shoulder), the
//! lower face (mouth and the jaw below the nose) is stretched along the axis, piecewise
//! linearly, so the mouth and chin land on the evidence. The stretch is monotone along one
//! axis, so it cannot tangle a contour; should one still be tangled, the shape model's fit is
//! used instead. (Fitting the shape model to every stretched face pulled the caricatures back
//! towards average proportions and cost more than the stretch gained.) Anything less certain
//! keeps the mesh result.

use super::shape::ShapeModel;
use super::structural::tangled;
use crate::landmarks::{Landmarks, Point};
use image::RgbaImage;

/// Profile samples per eye distance along the midline.
const STEPS_PER_EYE: f32 = 40.0;
/// How far below the nose the chin is looked for, in eye distances.
const SEARCH_DEPTH: f32 = 2.8;
/// Half-width of the strip read for the chin, in eye distances.
const CHIN_HALF_WIDTH: f32 = 0.15;
/// Half-width of the strip read for the mouth, in eye distances.
const MOUTH_HALF_WIDTH: f32 = 0.2;
/// Length over which skin-likeness is averaged on either side of a candidate chin, in eye
/// distances.
const CHIN_WINDOW: f32 = 0.25;
/// Skin-likeness drop (fraction of the strip that is skin-coloured, above minus below) a chin
/// needs to count.
pub const CHIN_MIN_DROP: f32 = 0.6;
/// The evidence must put the chin at least this far (eye distances) below the mesh's chin.
pub const MIN_DISAGREEMENT: f32 = 0.2;
/// Offset of the side strips that check the chin is the bottom of a face outline, in eye
/// distances.
pub const CHIN_SIDE: f32 = 0.3;
/// Half-width of those side strips, in eye distances.
const CHIN_SIDE_HALF_WIDTH: f32 = 0.08;
/// Where the mouth line is looked for, as fractions of the nose-to-chin distance.
const MOUTH_BAND: (f32, f32) = (0.2, 0.45);
/// The lower face is stretched by at most this factor.
const MAX_STRETCH: f32 = 2.5;

/// What the midline search found, in eye distances below the nose (point 33).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MidlineEvidence {
    /// The chin: where the strip stops being skin-coloured.
    pub chin: f32,
    /// Skin-likeness drop at the chin (0–1).
    pub chin_drop: f32,
    /// The mouth line, when a dark band was found above the chin.
    pub mouth: Option<f32>,
    /// The face outline's depth and skin-likeness drop either side of the chin (image-left,
    /// image-right), [`CHIN_SIDE`] eye distances off the midline.
    pub sides: [Option<(f32, f32)>; 2],
}

/// The frame the profile is read in: origin at the nose, unit vectors along and across.
struct Frame {
    origin: Point,
    across: Point,
    down: Point,
    eye: f32,
}

impl Frame {
    fn of(points: &Landmarks) -> Option<Self> {
        let mean = |r: std::ops::Range<usize>| {
            let n = r.len() as f32;
            r.fold(Point::default(), |a, i| a + points[i]) * (1.0 / n)
        };
        let (le, re) = (mean(36..42), mean(42..48));
        let eye = le.distance(re);
        if eye.is_nan() || eye <= 4.0 {
            return None;
        }
        let across = (re - le) * (1.0 / eye);
        let down = Point::new(-across.y, across.x);
        Some(Self {
            origin: points[33],
            across,
            down,
            eye,
        })
    }

    /// Position (eye distances below the origin) of `p` along the axis.
    fn depth(&self, p: Point) -> f32 {
        (p - self.origin).dot(self.down) / self.eye
    }

    /// Depth of the mesh's jaw line (points 3–13) where it crosses `side` eye distances off the
    /// midline.
    fn jaw_depth(&self, points: &Landmarks, side: f32) -> Option<f32> {
        (3..13).find_map(|i| {
            let (a, b) = (points[i], points[i + 1]);
            let (sa, sb) = (
                (a - self.origin).dot(self.across) / self.eye,
                (b - self.origin).dot(self.across) / self.eye,
            );
            ((sa - side) * (sb - side) <= 0.0 && sa != sb).then(|| {
                let t = (side - sa) / (sb - sa);
                self.depth(a.lerp(b, t))
            })
        })
    }

    fn at(&self, depth: f32, side: f32) -> Point {
        self.origin + self.down * (depth * self.eye) + self.across * (side * self.eye)
    }
}

fn pixel(img: &RgbaImage, p: Point) -> Option<[f32; 3]> {
    let (w, h) = img.dimensions();
    if !(p.x >= 0.0 && p.y >= 0.0 && p.x < w as f32 && p.y < h as f32) {
        return None;
    }
    let c = img.get_pixel(p.x as u32, p.y as u32).0;
    let a = f32::from(c[3]) / 255.0;
    Some([0, 1, 2].map(|k| f32::from(c[k]) * a + 255.0 * (1.0 - a)))
}

fn dist(a: [f32; 3], b: [f32; 3]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

fn luma(c: [f32; 3]) -> f32 {
    0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
}

fn median(v: &mut [f32]) -> f32 {
    v.sort_by(f32::total_cmp);
    v[v.len() / 2]
}

/// The face's skin colour and how far from it a pixel may be and still count as skin: the
/// median colour of small patches on the nose bridge and under each eye.
fn skin_model(img: &RgbaImage, points: &Landmarks, f: &Frame) -> Option<([f32; 3], f32)> {
    let mean = |r: std::ops::Range<usize>| {
        let n = r.len() as f32;
        r.fold(Point::default(), |a, i| a + points[i]) * (1.0 / n)
    };
    let centres = [
        points[28],
        points[29],
        mean(36..42).lerp(points[31], 0.6),
        mean(42..48).lerp(points[35], 0.6),
    ];
    let r = 0.06 * f.eye;
    let mut samples = Vec::new();
    for c in centres {
        for dy in -2..=2 {
            for dx in -2..=2 {
                let p = c + Point::new(dx as f32 * r / 2.0, dy as f32 * r / 2.0);
                if let Some(px) = pixel(img, p) {
                    samples.push(px);
                }
            }
        }
    }
    if samples.len() < 20 {
        return None;
    }
    let skin = [0, 1, 2].map(|k| median(&mut samples.iter().map(|s| s[k]).collect::<Vec<_>>()));
    let mut d: Vec<f32> = samples.iter().map(|&s| dist(s, skin)).collect();
    let spread = median(&mut d);
    Some((skin, (3.0 * spread).max(35.0)))
}

/// Read the midline below the nose of the face `points` in `img`: where the chin and the mouth
/// are by the image's own evidence. `None` when the face frame is degenerate, the skin colour
/// cannot be sampled, or no clear chin edge lies in reach.
pub fn read_midline(img: &RgbaImage, points: &Landmarks) -> Option<MidlineEvidence> {
    let f = Frame::of(points)?;
    let (skin, tol) = skin_model(img, points, &f)?;
    let n = (SEARCH_DEPTH * STEPS_PER_EYE) as usize;
    let step = 1.0 / STEPS_PER_EYE;
    let strip = |depth: f32, centre: f32, half: f32| -> Vec<[f32; 3]> {
        (-4..=4)
            .filter_map(|k| pixel(img, f.at(depth, centre + half * k as f32 / 4.0)))
            .collect()
    };
    // Fraction of skin-coloured pixels per depth, up to where the strip leaves the image (the
    // image border is no evidence of a chin).
    let skinness = |centre: f32, half: f32| -> Vec<f32> {
        (0..n)
            .map_while(|i| {
                let s = strip(i as f32 * step, centre, half);
                (s.len() == 9)
                    .then(|| s.iter().filter(|&&c| dist(c, skin) < tol).count() as f32 / 9.0)
            })
            .collect()
    };
    let win = ((CHIN_WINDOW * STEPS_PER_EYE) as usize).max(1);
    // The strongest skin → non-skin drop with its index in `lo..hi`.
    let strongest_drop = |sk: &[f32], lo: usize, hi: usize| -> Option<(usize, f32)> {
        let mut best: Option<(usize, f32)> = None;
        for i in lo.max(win)..hi.min(sk.len().saturating_sub(win)) {
            let above = sk[i - win..i].iter().sum::<f32>() / win as f32;
            let below = sk[i..i + win].iter().sum::<f32>() / win as f32;
            if best.is_none_or(|(_, b)| above - below > b) {
                best = Some((i, above - below));
            }
        }
        best
    };
    // Chin: the strongest drop below the mesh's mouth.
    let mouth_mesh = f.depth((points[62] + points[66]) * 0.5).max(0.1);
    let start = ((mouth_mesh + 0.1) * STEPS_PER_EYE) as usize;
    let (ci, drop) = strongest_drop(&skinness(0.0, CHIN_HALF_WIDTH), start, n)?;
    let chin = ci as f32 * step;
    // The face's outline either side of the chin, looked for from the mouth to just below it.
    let side_hi = ci + win / 2;
    let sides = [-CHIN_SIDE, CHIN_SIDE].map(|c| {
        strongest_drop(&skinness(c, CHIN_SIDE_HALF_WIDTH), start, side_hi)
            .map(|(i, d)| (i as f32 * step, d))
    });
    // Mouth: the deepest dark dip between the nose and the chin.
    let bright: Vec<f32> = (0..n)
        .map(|i| {
            let m = strip(i as f32 * step, 0.0, MOUTH_HALF_WIDTH);
            if m.is_empty() {
                f32::NAN
            } else {
                m.iter().map(|&c| luma(c)).sum::<f32>() / m.len() as f32
            }
        })
        .collect();
    let half = ((0.12 * STEPS_PER_EYE) as usize).max(1);
    // The mouth line lies about a third of the way from the nose to the chin (anthropometric
    // norm); the search allows a wide band around that.
    let lo = ((MOUTH_BAND.0 * ci as f32) as usize).max(half);
    let hi = ((MOUTH_BAND.1 * ci as f32) as usize).min(n - half);
    let mut mouth: Option<(usize, f32)> = None;
    for i in lo..hi {
        let (a, b, c) = (bright[i - half], bright[i], bright[i + half]);
        let dip = 0.5 * (a + c) - b;
        if dip.is_finite() && mouth.is_none_or(|(_, m)| dip > m) {
            mouth = Some((i, dip));
        }
    }
    let skin_luma = luma(skin).max(1.0);
    let mouth = mouth
        .filter(|&(_, dip)| dip > 0.12 * skin_luma)
        .map(|(i, _)| i as f32 * step);
    Some(MidlineEvidence {
        chin,
        chin_drop: drop,
        mouth,
        sides,
    })
}

/// Stretch the lower face of `points` along the face's vertical axis so its mouth line and chin
/// land at `mouth` and `chin` (eye distances below point 33); points above the nose stay put.
pub fn stretch_lower_face(points: &Landmarks, mouth: Option<f32>, chin: f32) -> Option<Landmarks> {
    let f = Frame::of(points)?;
    let chin_mesh = f.depth(points[8]);
    let mouth_mesh = f.depth((points[62] + points[66]) * 0.5);
    if !(chin_mesh > 0.05 && chin > chin_mesh) {
        return None;
    }
    let mouth = mouth.filter(|&m| mouth_mesh > 0.02 && m > 0.02 && m < chin - 0.05);
    // Piecewise-linear map of depth below the nose.
    let map = |d: f32| -> f32 {
        match mouth {
            Some(m) if d <= mouth_mesh => d * m / mouth_mesh,
            Some(m) => m + (d - mouth_mesh) * (chin - m) / (chin_mesh - mouth_mesh).max(1e-3),
            None => d * chin / chin_mesh,
        }
    };
    let mut out = *points;
    for (i, p) in out.iter_mut().enumerate() {
        if !(i < 17 || (48..68).contains(&i)) {
            continue;
        }
        let d = f.depth(*p);
        if d > 0.0 {
            *p = *p + f.down * ((map(d) - d) * f.eye);
        }
    }
    Some(out)
}

/// Check a face-mesh result against the midline evidence; returns the corrected points when a
/// clear chin lies well below the mesh's chin and the face outline either side of it
/// ([`CHIN_SIDE`] eye distances off the midline) also lies at least [`MIN_DISAGREEMENT`] below
/// the mesh's jaw there. `None` keeps the mesh result.
pub fn correct_lower_face(img: &RgbaImage, points: &Landmarks) -> Option<Landmarks> {
    let f = Frame::of(points)?;
    let ev = read_midline(img, points)?;
    let chin_mesh = f.depth(points[8]);
    if ev.chin_drop < CHIN_MIN_DROP
        || ev.chin < chin_mesh + MIN_DISAGREEMENT
        || ev.chin > chin_mesh * MAX_STRETCH
    {
        return None;
    }
    for (side, found) in [-CHIN_SIDE, CHIN_SIDE].into_iter().zip(ev.sides) {
        let (depth, _) = found?;
        if depth < f.jaw_depth(points, side)? + MIN_DISAGREEMENT {
            return None;
        }
    }
    let stretched = stretch_lower_face(points, ev.mouth, ev.chin)?;
    if !tangled(&stretched) {
        return Some(stretched);
    }
    let fit = ShapeModel::default_model().fit_points(&stretched, &[1.0; 68], 1.0)?;
    (!tangled(&fit.points)).then_some(fit.points)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landmarks::synthetic::frontal_face;
    use crate::matching::eval::nme;
    use crate::matching::geometry::Similarity;
    use crate::matching::raster::{fill_disc, fill_polygon, solid};

    /// A human-proportioned face (what the mesh would report) with eye centres at fixed places.
    fn mesh_like() -> Landmarks {
        let p = frontal_face(0.0, 0.0, 1.0);
        let mean =
            |r: std::ops::Range<usize>| r.fold(Point::default(), |a, i| a + p[i]) * (1.0 / 6.0);
        let t = Similarity::fit(
            &[mean(36..42), mean(42..48)],
            &[Point::new(130.0, 150.0), Point::new(190.0, 150.0)],
            None,
        )
        .unwrap();
        p.map(|q| t.apply(q))
    }

    /// Draw a face with landmarks `lm`: skin outline (jaw closed by a forehead arc), dark eyes,
    /// a dark mouth, on a dark background.
    fn draw(lm: &Landmarks) -> RgbaImage {
        let mut img = solid(320, 480, [40, 60, 90]);
        let mut outline: Vec<Point> = lm[..17].to_vec();
        let (l, r) = (lm[0], lm[16]);
        let c = (l + r) * 0.5;
        let rad = l.distance(r) * 0.5;
        for k in 1..16 {
            let a = std::f32::consts::PI * k as f32 / 16.0;
            outline.push(c + Point::new(a.cos() * rad, -a.sin() * rad * 1.2));
        }
        fill_polygon(&mut img, &outline, [225, 180, 150]);
        for r in [36..42, 42..48] {
            let e = r.clone().fold(Point::default(), |a, i| a + lm[i]) * (1.0 / 6.0);
            fill_disc(&mut img, e, 7.0, [30, 20, 20]);
        }
        fill_polygon(&mut img, &lm[48..60], [120, 30, 40]);
        img
    }

    #[test]
    fn long_chin_stretches_the_lower_face() {
        let mesh = mesh_like();
        let f = Frame::of(&mesh).unwrap();
        let (chin, mouth) = (f.depth(mesh[8]), f.depth((mesh[62] + mesh[66]) * 0.5));
        // The drawn character: chin 0.7 eye distances lower, mouth a third of the way down.
        let truth = stretch_lower_face(&mesh, Some((chin + 0.7) / 3.0), chin + 0.7).unwrap();
        assert!(mouth < (chin + 0.7) / 3.0);
        let img = draw(&truth);
        let fixed = correct_lower_face(&img, &mesh).expect("a long chin is found");
        let (before, after) = (nme(&mesh, &truth).unwrap(), nme(&fixed, &truth).unwrap());
        assert!(after < 0.5 * before, "nme {before} -> {after}");
        assert!(fixed[8].distance(truth[8]) < 0.1 * f.eye);
        assert!(!tangled(&fixed));
    }

    #[test]
    fn a_face_that_fits_the_mesh_is_kept() {
        let mesh = mesh_like();
        assert_eq!(correct_lower_face(&draw(&mesh), &mesh), None);
        // No evidence at all: a blank image.
        assert_eq!(correct_lower_face(&solid(320, 480, [200; 3]), &mesh), None);
        // Skin colour down to the image border just below the chin: the border is no chin.
        let h = (mesh[8].y + 40.0) as u32;
        assert_eq!(
            correct_lower_face(&solid(320, h, [225, 180, 150]), &mesh),
            None
        );
    }
}
