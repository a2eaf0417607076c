//! Landmarks drawn over pictures and video frames, for review: the `match --overlay` picture
//! (points coloured by confidence), the `detect --overlay` video (found or filled frames, pupils)
//! and the `retarget --preview` video (one colour per facial part). All three draw with core's
//! one anti-aliased rasteriser, [`faceshot_core::raster`].

use faceshot_core::landmarks::{Face, Landmarks, Part, Point};
use faceshot_core::raster::{fill_disc, stroke_polyline};
use image::RgbaImage;

/// Stroke every base part's contour (closed for eyes and lips), `width` pixels wide, in the
/// colour `colour(part)` gives.
fn stroke_parts(
    img: &mut RgbaImage,
    points: &Landmarks,
    width: f32,
    colour: impl Fn(Part) -> [u8; 3],
) {
    for part in Part::BASE {
        let pts: Vec<Point> = part.indices().iter().map(|&i| points[i]).collect();
        stroke_polyline(img, &pts, part.is_closed(), width, colour(part));
    }
}

/// The picture with each part's contour in white and every point as a dot whose colour goes
/// from red (confidence 0) to green (confidence 1); line width grows with the picture.
pub fn draw_matched(image: &RgbaImage, face: &Face) -> RgbaImage {
    let mut img = image.clone();
    let side = image.width().max(image.height()) as f32;
    let w = (side / 400.0).max(1.0);
    stroke_parts(&mut img, &face.points, w, |_| [255, 255, 255]);
    for (p, c) in face.points.iter().zip(&face.confidence) {
        let c = c.clamp(0.0, 1.0);
        let col = [(255.0 * (1.0 - c)) as u8, (255.0 * c) as u8, 40];
        fill_disc(&mut img, *p, 2.0 * w, [0, 0, 0]);
        fill_disc(&mut img, *p, 1.4 * w, col);
    }
    img
}

/// Colour of the contours of a tracked frame where a face was found.
const FOUND: [u8; 3] = [40, 230, 90];
/// Colour of the contours of a frame whose points are interpolated or held.
const FILLED: [u8; 3] = [255, 150, 30];

/// A tracked frame: part contours in green where a face was found, orange where the points are
/// interpolated or held, and a white dot per point.
pub fn draw_tracked(img: &mut RgbaImage, points: &Landmarks, found: bool) {
    let colour = if found { FOUND } else { FILLED };
    stroke_parts(img, points, 1.5, |_| colour);
    for p in points {
        fill_disc(img, *p, 1.5, [255, 255, 255]);
    }
}

/// Marks each pupil with a small cyan cross.
pub fn draw_pupils(img: &mut RgbaImage, pupils: &[Point; 2]) {
    let cyan = [60, 220, 255];
    for &p in pupils {
        let (dx, dy) = (Point::new(2.5, 0.0), Point::new(0.0, 2.5));
        stroke_polyline(img, &[p - dx, p + dx], false, 1.0, cyan);
        stroke_polyline(img, &[p - dy, p + dy], false, 1.0, cyan);
    }
}

/// Colour of each base part's contour in the retargeting preview.
fn part_colour(part: Part) -> [u8; 3] {
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

/// The 68-point contours in one colour per part and a dot per point in its part's colour.
/// `thickness` is the line width in pixels.
pub fn draw_parts(img: &mut RgbaImage, points: &Landmarks, thickness: f32) {
    let width = thickness.max(1.0);
    stroke_parts(img, points, width, part_colour);
    for part in Part::BASE {
        for &i in part.indices() {
            fill_disc(img, points[i], 0.9 * width, part_colour(part));
        }
    }
}

/// 3×5 pixel glyphs of the digits 0–9, one row of three bits per line (top first).
const DIGITS: [[u8; 5]; 10] = [
    [0b111, 0b101, 0b101, 0b101, 0b111],
    [0b010, 0b110, 0b010, 0b010, 0b111],
    [0b111, 0b001, 0b111, 0b100, 0b111],
    [0b111, 0b001, 0b111, 0b001, 0b111],
    [0b101, 0b101, 0b111, 0b001, 0b001],
    [0b111, 0b100, 0b111, 0b001, 0b111],
    [0b111, 0b100, 0b111, 0b101, 0b111],
    [0b111, 0b001, 0b010, 0b010, 0b010],
    [0b111, 0b101, 0b111, 0b101, 0b111],
    [0b111, 0b101, 0b111, 0b001, 0b111],
];

/// Writes `n` in white block digits `scale` pixels a glyph pixel on a black box whose top-left
/// corner is at (`x`, `y`); whatever falls outside the picture is clipped.
pub fn draw_number(img: &mut RgbaImage, n: usize, x: u32, y: u32, scale: u32) {
    let text = n.to_string();
    let digits: Vec<usize> = text.bytes().map(|b| usize::from(b - b'0')).collect();
    let (w, h) = ((digits.len() as u32 * 4 + 1) * scale, 7 * scale);
    let mut put = |px: u32, py: u32, c: [u8; 4]| {
        if px < img.width() && py < img.height() {
            img.put_pixel(px, py, image::Rgba(c));
        }
    };
    for dy in 0..h {
        for dx in 0..w {
            put(x + dx, y + dy, [0, 0, 0, 255]);
        }
    }
    for (k, &d) in digits.iter().enumerate() {
        for (row, bits) in DIGITS[d].iter().enumerate() {
            for col in 0..3u32 {
                if bits & (0b100 >> col) == 0 {
                    continue;
                }
                let (gx, gy) = (
                    x + (1 + k as u32 * 4 + col) * scale,
                    y + (1 + row as u32) * scale,
                );
                for sy in 0..scale {
                    for sx in 0..scale {
                        put(gx + sx, gy + sy, [255, 255, 255, 255]);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faceshot_core::landmarks::synthetic::frontal_face;
    use image::Rgba;

    /// The pixel that contains `p`.
    fn pixel(img: &RgbaImage, p: Point) -> [u8; 4] {
        img.get_pixel(p.x as u32, p.y as u32).0
    }

    #[test]
    fn match_overlay_marks_the_points() {
        let img = RgbaImage::from_pixel(200, 200, Rgba([0, 0, 255, 255]));
        let face = Face::new(frontal_face(100.0, 100.0, 60.0), None);
        let out = draw_matched(&img, &face);
        let px = pixel(&out, face.points[30]);
        assert!(px[1] > 150 && px[2] < 100, "{px:?}");
        assert_eq!(out.get_pixel(2, 2), img.get_pixel(2, 2));
    }

    #[test]
    fn tracked_frame_draws_on_the_face_only() {
        let mut img = RgbaImage::from_pixel(200, 200, Rgba([0, 0, 0, 255]));
        let face = frontal_face(100.0, 100.0, 60.0);
        draw_tracked(&mut img, &face, true);
        assert_eq!(pixel(&img, face[8]), [255, 255, 255, 255]);
        assert_eq!(*img.get_pixel(2, 2), Rgba([0, 0, 0, 255]));
        let green = img.pixels().filter(|p| p.0[..3] == FOUND).count();
        assert!(green > 100, "{green} contour pixels");
        draw_tracked(&mut img, &face, false);
        assert!(img.pixels().any(|p| p.0[..3] == FILLED));
    }

    #[test]
    fn pupils_are_crossed() {
        let mut img = RgbaImage::from_pixel(20, 20, Rgba([0, 0, 0, 255]));
        draw_pupils(&mut img, &[Point::new(5.5, 5.5), Point::new(14.5, 5.5)]);
        assert_eq!(&img.get_pixel(5, 5).0[..3], &[60, 220, 255]);
        assert_eq!(&img.get_pixel(7, 5).0[..3], &[60, 220, 255]);
        assert_eq!(img.get_pixel(7, 7).0, [0, 0, 0, 255]);
    }

    #[test]
    fn preview_draws_part_colours_on_the_contours_only() {
        let mut img = RgbaImage::from_pixel(200, 200, Rgba([0, 0, 0, 255]));
        let face = frontal_face(100.0, 100.0, 60.0);
        draw_parts(&mut img, &face, 2.0);
        // The chin point is drawn in the jaw's colour; a corner far from the face is untouched.
        assert_eq!(&pixel(&img, face[8])[..3], &part_colour(Part::Jaw));
        assert_eq!(img.get_pixel(2, 2).0, [0, 0, 0, 255]);
    }

    #[test]
    fn points_outside_the_image_are_clipped() {
        let mut img = RgbaImage::new(10, 10);
        let face = frontal_face(-500.0, 900.0, 30.0);
        draw_parts(&mut img, &face, 3.0);
        draw_tracked(&mut img, &face, true);
        assert!(img.pixels().all(|p| p.0 == [0, 0, 0, 0]));
    }

    #[test]
    fn numbers_are_drawn_in_block_digits() {
        let mut img = RgbaImage::from_pixel(40, 20, Rgba([9, 9, 9, 255]));
        draw_number(&mut img, 17, 0, 0, 2);
        // "1" is a centre column; "7" a full top bar: glyph pixel (col, row) at scale 2 sits at
        // x = (1 + 4k + col) · 2, y = (1 + row) · 2.
        assert_eq!(img.get_pixel(4, 2).0, [255, 255, 255, 255]); // 1: top of the stem
        assert_eq!(img.get_pixel(2, 2).0, [0, 0, 0, 255]); // beside it
        assert_eq!(img.get_pixel(10, 2).0, [255, 255, 255, 255]); // 7: bar's left end
        assert_eq!(img.get_pixel(10, 6).0, [0, 0, 0, 255]); // no left stroke lower down
        assert_eq!(img.get_pixel(39, 19).0, [9, 9, 9, 255]); // outside the box
        // Near the corner: clipped, no panic.
        draw_number(&mut img, 123, 35, 15, 3);
    }
}
