//! Draw matched landmarks over the character for review.

use super::raster::{fill_disc, stroke_polyline};
use crate::landmarks::{Face, Part, Point};
use image::RgbaImage;

/// The image with each part's contour and every point drawn; point colour goes from red
/// (confidence 0) to green (confidence 1).
pub fn draw_overlay(image: &RgbaImage, face: &Face) -> RgbaImage {
    let mut img = image.clone();
    let side = image.width().max(image.height()) as f32;
    let w = (side / 400.0).max(1.0);
    for part in Part::BASE {
        let pts: Vec<Point> = part.indices().iter().map(|&i| face.points[i]).collect();
        stroke_polyline(&mut img, &pts, part.is_closed(), w, [255, 255, 255]);
    }
    for (p, c) in face.points.iter().zip(&face.confidence) {
        let c = c.clamp(0.0, 1.0);
        let col = [(255.0 * (1.0 - c)) as u8, (255.0 * c) as u8, 40];
        fill_disc(&mut img, *p, 2.0 * w, [0, 0, 0]);
        fill_disc(&mut img, *p, 1.4 * w, col);
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landmarks::synthetic::frontal_face;

    #[test]
    fn overlay_marks_the_points() {
        let img = RgbaImage::from_pixel(200, 200, image::Rgba([0, 0, 255, 255]));
        let face = Face::new(frontal_face(100.0, 100.0, 60.0), None);
        let out = draw_overlay(&img, &face);
        let p = face.points[30];
        let px = out.get_pixel(p.x as u32, p.y as u32).0;
        assert!(px[1] > 150 && px[2] < 100, "{px:?}");
        assert_eq!(out.get_pixel(2, 2), img.get_pixel(2, 2));
    }
}
