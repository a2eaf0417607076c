//! A cartoon character drawn from a given landmark set, for the animator's tests, benchmarks
//! and demos.
//!
//! The drawing follows a 68-point landmark set exactly: skin inside the jaw line and a forehead
//! arc, hair on the rest of a head ellipse, outlined white eyes with a blue iris (larger than
//! the opening, as in most cartoons) and a dark upper lash line, brows, a nose line, red lips
//! and — where the inner lips are apart — a dark mouth with teeth. The background is either a
//! smooth colour pattern (so that any stray motion shows) or transparent.

use crate::animate::geometry::FaceFrame;
use crate::geometry::{contains, polyline_distance};
use crate::landmarks::{Landmarks, Part, Point};
use image::{Rgba, RgbaImage};

/// What lies behind the character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Background {
    /// A smooth, everywhere-different colour pattern.
    Pattern,
    /// Fully transparent.
    Transparent,
}

/// Colours of the cartoon.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Style {
    /// Face skin.
    pub skin: [u8; 3],
    /// Hair.
    pub hair: [u8; 3],
    /// Iris.
    pub iris: [u8; 3],
    /// Lips.
    pub lips: [u8; 3],
    /// Outlines, lashes, pupils.
    pub ink: [u8; 3],
    /// Background.
    pub background: Background,
    /// Iris radius, as a share of the eye's width.
    pub iris_radius: f32,
}

impl Default for Style {
    fn default() -> Self {
        Self {
            skin: [240, 196, 160],
            hair: [92, 58, 40],
            iris: [40, 110, 230],
            lips: [200, 60, 70],
            ink: [25, 20, 30],
            background: Background::Pattern,
            iris_radius: 0.3,
        }
    }
}

/// Colour of the background pattern at a pixel.
pub fn pattern(x: u32, y: u32) -> [u8; 3] {
    let (x, y) = (x as f32, y as f32);
    [
        (110.0 + 60.0 * (x / 9.0).sin() + 20.0 * (y / 23.0).cos()) as u8,
        (150.0 + 50.0 * (y / 7.0).cos()) as u8,
        (170.0 + 40.0 * ((x + y) / 13.0).sin() + 20.0 * (x / 31.0).cos()) as u8,
    ]
}

/// Cartoon proportions: every eye opened `factor` times wider than the landmarks say
/// (lid heights above and below the corner line scaled, corners kept).
pub fn big_eyes(mut face: Landmarks, factor: f32) -> Landmarks {
    for [a, u1, u2, b, l2, l1] in crate::landmarks::EYE_RINGS {
        let (pa, pb) = (face[a], face[b]);
        let axis = pb - pa;
        let len2 = axis.dot(axis);
        if len2 <= 0.0 {
            continue;
        }
        for i in [u1, u2, l2, l1] {
            let d = face[i] - pa;
            let along = axis * (d.dot(axis) / len2);
            face[i] = pa + along + (d - along) * factor;
        }
    }
    face
}

/// Draw the cartoon for `face` on a `width × height` canvas.
pub fn draw(width: u32, height: u32, face: &Landmarks, style: &Style) -> RgbaImage {
    let bg = |x: u32, y: u32| match style.background {
        Background::Pattern => {
            let [r, g, b] = pattern(x, y);
            Rgba([r, g, b, 255])
        }
        Background::Transparent => Rgba([0, 0, 0, 0]),
    };
    let mut img = RgbaImage::from_fn(width, height, bg);
    let Some(frame) = FaceFrame::of(face) else {
        return img;
    };
    let hw = frame.half_width;
    let mut head = frame.head();
    head.a *= 0.92;
    head.b *= 0.92;
    let up = frame.down * -1.0;
    // The points of these parts, in contour order.
    let points = |parts: &[Part]| -> Vec<Point> {
        parts
            .iter()
            .flat_map(|part| part.indices().iter().map(|&i| face[i]))
            .collect()
    };
    // Skin: the jaw line closed by a forehead arc a little above the brows.
    let mut skin_poly = points(&[Part::Jaw]);
    let top = frame.brow * 1.6 + 0.1 * hw;
    for k in 0..=8 {
        let t = std::f32::consts::PI * k as f32 / 8.0;
        let across = frame.u * (hw * t.cos());
        skin_poly.push(frame.origin + across + up * (top * t.sin()));
    }
    let eyes = [points(&[Part::RightEye]), points(&[Part::LeftEye])];
    let uppers = [
        points(&[Part::RightUpperLid]),
        points(&[Part::LeftUpperLid]),
    ];
    let brows = [points(&[Part::RightBrow]), points(&[Part::LeftBrow])];
    let nose = points(&[Part::NoseBridge, Part::Nostrils]);
    let outer = &points(&[Part::OuterLips]);
    let inner = &points(&[Part::InnerLips]);
    let inner_upper = points(&[Part::InnerUpperLip]);
    let line = (0.035 * hw).max(1.0);
    let (lo, hi) = head.bbox();
    let ink = Rgba([style.ink[0], style.ink[1], style.ink[2], 255]);
    let c = |rgb: [u8; 3]| Rgba([rgb[0], rgb[1], rgb[2], 255]);
    let x0 = lo.x.floor().max(0.0) as u32;
    let y0 = lo.y.floor().max(0.0) as u32;
    let x1 = (hi.x.ceil().max(0.0) as u32).min(width.saturating_sub(1));
    let y1 = (hi.y.ceil().max(0.0) as u32).min(height.saturating_sub(1));
    for y in y0..=y1 {
        for x in x0..=x1 {
            let p = Point::new(x as f32, y as f32);
            let rho = head.rho(p);
            let in_skin = contains(&skin_poly, p);
            if rho > 1.0 && !in_skin {
                continue;
            }
            let mut col = c(style.hair);
            if rho > 1.0 - line / head.a.min(head.b) && !in_skin {
                col = ink;
            }
            if in_skin {
                col = if polyline_distance(p, &skin_poly, true) < line {
                    ink
                } else {
                    c(style.skin)
                };
            }
            for (k, eye) in eyes.iter().enumerate() {
                let centre = eye.iter().fold(Point::default(), |a, &q| a + q) * (1.0 / 6.0);
                let ew = eye[0].distance(eye[3]);
                if contains(eye, p) {
                    let r = p.distance(centre);
                    col = if r < 0.13 / 0.3 * style.iris_radius * ew {
                        ink
                    } else if r < style.iris_radius * ew {
                        c(style.iris)
                    } else {
                        Rgba([250, 250, 250, 255])
                    };
                }
                if polyline_distance(p, eye, true) < 0.6 * line {
                    col = ink;
                }
                if polyline_distance(p, &uppers[k], false) < 1.3 * line {
                    col = ink;
                }
            }
            for brow in &brows {
                if polyline_distance(p, brow, false) < 1.6 * line {
                    col = c(style.hair);
                }
            }
            if polyline_distance(p, &nose, false) < 0.6 * line {
                col = Rgba([
                    (f32::from(style.skin[0]) * 0.7) as u8,
                    (f32::from(style.skin[1]) * 0.6) as u8,
                    (f32::from(style.skin[2]) * 0.6) as u8,
                    255,
                ]);
            }
            if contains(outer, p) {
                col = c(style.lips);
                if contains(inner, p) {
                    // Open mouth: teeth under the upper lip, dark below.
                    let upper = polyline_distance(p, &inner_upper, false);
                    col = if upper < 0.08 * hw {
                        Rgba([245, 245, 240, 255])
                    } else {
                        Rgba([70, 15, 25, 255])
                    };
                }
                if polyline_distance(p, inner, true) < 0.5 * line {
                    col = Rgba([120, 30, 40, 255]);
                }
            }
            img.put_pixel(x, y, col);
        }
    }
    img
}
