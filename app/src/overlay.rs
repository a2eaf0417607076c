//! Drawing landmarks over an image: one colour per facial part, anti-aliased lines and dots.

use faceshot_core::landmarks::{Landmarks, Part, Point};
use image::{Rgba, RgbaImage};

/// Colour of each base part's contour.
fn colour(part: Part) -> [u8; 3] {
    match part {
        Part::Jaw => [255, 210, 60],
        Part::RightBrow | Part::LeftBrow => [255, 120, 40],
        Part::NoseBridge | Part::Nostrils => [90, 220, 255],
        Part::RightEye | Part::LeftEye => [80, 255, 120],
        Part::OuterLips => [255, 70, 120],
        Part::InnerLips => [200, 90, 255],
        _ => [255, 255, 255],
    }
}

/// Draw the 68-point contours (closed for eyes and lips) and a dot per point. `thickness` is
/// the line width in pixels.
pub fn draw_landmarks(img: &mut RgbaImage, points: &Landmarks, thickness: f32) {
    let r = (thickness * 0.5).max(0.5);
    for part in Part::BASE {
        let c = colour(part);
        let idx = part.indices();
        for w in idx.windows(2) {
            segment(img, points[w[0]], points[w[1]], r, c);
        }
        if part.is_closed()
            && let (Some(&a), Some(&b)) = (idx.last(), idx.first())
        {
            segment(img, points[a], points[b], r, c);
        }
        for &i in idx {
            segment(img, points[i], points[i], r * 1.8, c);
        }
    }
}

/// Blend a capsule from `a` to `b` of radius `r` (a dot when `a == b`), with one pixel of
/// anti-aliasing. Parts outside the image are clipped.
fn segment(img: &mut RgbaImage, a: Point, b: Point, r: f32, rgb: [u8; 3]) {
    if !(a.is_finite() && b.is_finite()) {
        return;
    }
    let (w, h) = (img.width() as f32, img.height() as f32);
    let x0 = (a.x.min(b.x) - r - 1.0).floor().clamp(0.0, w);
    let x1 = (a.x.max(b.x) + r + 1.0).ceil().clamp(0.0, w);
    let y0 = (a.y.min(b.y) - r - 1.0).floor().clamp(0.0, h);
    let y1 = (a.y.max(b.y) + r + 1.0).ceil().clamp(0.0, h);
    let ab = b - a;
    let len2 = ab.dot(ab);
    for y in y0 as u32..y1 as u32 {
        for x in x0 as u32..x1 as u32 {
            let p = Point::new(x as f32 + 0.5, y as f32 + 0.5);
            let t = if len2 > 0.0 {
                ((p - a).dot(ab) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let d = p.distance(a + ab * t);
            let cover = (r + 0.5 - d).clamp(0.0, 1.0);
            if cover > 0.0 {
                let px = img.get_pixel_mut(x, y);
                blend(px, rgb, cover);
            }
        }
    }
}

fn blend(px: &mut Rgba<u8>, rgb: [u8; 3], alpha: f32) {
    for (c, s) in px.0.iter_mut().zip(rgb) {
        *c = (f32::from(*c) * (1.0 - alpha) + f32::from(s) * alpha).round() as u8;
    }
    px.0[3] = px.0[3].max((alpha * 255.0) as u8);
}

#[cfg(test)]
mod tests {
    use super::*;
    use faceshot_core::landmarks::synthetic::frontal_face;

    #[test]
    fn draws_part_colours_on_the_contours_only() {
        let mut img = RgbaImage::from_pixel(200, 200, Rgba([0, 0, 0, 255]));
        let face = frontal_face(100.0, 100.0, 60.0);
        draw_landmarks(&mut img, &face, 2.0);
        // The chin point is drawn in the jaw's colour; a corner far from the face is untouched.
        let chin = img.get_pixel(face[8].x as u32, face[8].y as u32);
        assert_eq!(&chin.0[..3], &colour(Part::Jaw));
        assert_eq!(img.get_pixel(2, 2).0, [0, 0, 0, 255]);
    }

    #[test]
    fn points_outside_the_image_are_clipped() {
        let mut img = RgbaImage::new(10, 10);
        let face = frontal_face(-500.0, 900.0, 30.0);
        draw_landmarks(&mut img, &face, 3.0);
        assert!(img.pixels().all(|p| p.0 == [0, 0, 0, 0]));
    }
}
