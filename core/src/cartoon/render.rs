//! Drawing a [`CartoonSpec`] with the crate's rasteriser.

use super::{CartoonSpec, EyeStyle, MouthStyle, Rng};
use crate::landmarks::Point;
use crate::raster::{
    ellipse_points, fill_disc, fill_polygon, fill_polygon_alpha, solid, stroke_polyline,
};
use image::RgbaImage;
use std::f32::consts::PI;

fn shade(c: [u8; 3], k: f32) -> [u8; 3] {
    [
        (f32::from(c[0]) * k).clamp(0.0, 255.0) as u8,
        (f32::from(c[1]) * k).clamp(0.0, 255.0) as u8,
        (f32::from(c[2]) * k).clamp(0.0, 255.0) as u8,
    ]
}

impl CartoonSpec {
    /// Render the image.
    pub fn render(&self) -> RgbaImage {
        let n = self.size;
        let mut rng = Rng::new(self.seed.wrapping_mul(31).wrapping_add(7));
        let mut img = solid(n, n, self.bg[0]);
        let px = |q: Point| self.pose.apply(q);
        let map = |v: &[Point]| v.iter().map(|&q| px(q)).collect::<Vec<_>>();
        // Features turn with the head; the outline, ears and hair do not.
        let fpx = |q: Point| px(self.turn(q));
        let fmap = |v: &[Point]| v.iter().map(|&q| fpx(q)).collect::<Vec<_>>();
        let s = self.pose.scale();
        let nf = n as f32;
        match self.background {
            1 => {
                for y in 0..n {
                    let t = y as f32 / nf;
                    let c = [0, 1, 2].map(|i| {
                        (f32::from(self.bg[0][i]) * (1.0 - t) + f32::from(self.bg[1][i]) * t) as u8
                    });
                    for x in 0..n {
                        img.put_pixel(x, y, image::Rgba([c[0], c[1], c[2], 255]));
                    }
                }
            }
            2 => {
                let k = rng.range(8.0, 30.0);
                let a = rng.range(0.0, PI);
                let (sa, ca) = a.sin_cos();
                for y in 0..n {
                    for x in 0..n {
                        let v = ((x as f32 * ca + y as f32 * sa) / k).floor() as i64;
                        if v.rem_euclid(2) == 1 {
                            let c = self.bg[1];
                            img.put_pixel(x, y, image::Rgba([c[0], c[1], c[2], 255]));
                        }
                    }
                }
            }
            3 => {
                for _ in 0..12 {
                    let c = Point::new(rng.range(0.0, nf), rng.range(0.0, nf));
                    let r = rng.range(0.03, 0.15) * nf;
                    let col = shade(self.bg[1], rng.range(0.7, 1.3));
                    fill_disc(&mut img, c, r, col);
                }
            }
            _ => {}
        }
        let dark = shade(self.skin, 0.35);
        let line_w = (0.025 * s).max(1.0);
        // Ears behind the face.
        match self.ears {
            1 => {
                for sign in [-1.0f32, 1.0] {
                    let c = px(Point::new(sign * 0.98, self.eye_y + 0.15));
                    let e = ellipse_points(c, 0.2 * s, 0.28 * s, self.pose.angle(), 40);
                    fill_polygon(&mut img, &e, self.skin);
                    if self.outline {
                        stroke_polyline(&mut img, &e, true, line_w, dark);
                    }
                }
            }
            2 => {
                for sign in [-1.0f32, 1.0] {
                    let tri = [
                        Point::new(sign * 0.25, -self.top_h * 0.95),
                        Point::new(sign * 0.95, -self.top_h * 1.45),
                        Point::new(sign * 0.9, -self.top_h * 0.35),
                    ];
                    let tri = map(&tri);
                    fill_polygon(&mut img, &tri, shade(self.skin, 0.85));
                    if self.outline {
                        stroke_polyline(&mut img, &tri, true, line_w, dark);
                    }
                }
            }
            _ => {}
        }
        let outline = map(&self.outline(240));
        fill_polygon(&mut img, &outline, self.skin);
        if self.outline {
            stroke_polyline(&mut img, &outline, true, line_w, dark);
        }
        if self.hair {
            let hl = self.hair_line.min(self.brow_y - 0.1);
            let a0 = self.outline_angle(hl, PI / 2.0, 1.5 * PI);
            let a1 = self.outline_angle(hl, 1.5 * PI, 2.5 * PI);
            let mut cap: Vec<Point> = (0..=60)
                .map(|i| {
                    let t = a0 + (a1 - a0) * i as f32 / 60.0;
                    let q = self.outline_at(t);
                    Point::new(q.x * 1.06, q.y * 1.04 - 0.04)
                })
                .collect();
            // A wavy fringe line back across the forehead.
            let w = self.half_width(hl) * 1.06;
            cap.extend((0..=20).map(|i| {
                let t = i as f32 / 20.0;
                Point::new(w - 2.0 * w * t, hl + 0.04 * (t * 6.0 * PI).sin())
            }));
            fill_polygon(&mut img, &map(&cap), self.hair_color);
        }
        // Brows.
        for right in [false, true] {
            let b = fmap(&self.brow_points(right));
            stroke_polyline(
                &mut img,
                &b,
                false,
                self.brow_thick * s,
                shade(self.hair_color, 0.6),
            );
        }
        // Eyes.
        for right in [false, true] {
            let (poly, _) = self.eye_points(right);
            let poly = fmap(&poly);
            let centre = fpx(Point::new(
                if right { self.eye_x } else { -self.eye_x },
                self.eye_y + 0.25 * (self.eye_low - self.eye_up),
            ));
            match self.eye_style {
                EyeStyle::Iris => {
                    fill_polygon(&mut img, &poly, [250, 250, 250]);
                    let r = 0.8 * self.eye_up.min(self.eye_low) * s;
                    fill_disc(&mut img, centre, r, self.iris_color);
                    fill_disc(&mut img, centre, 0.5 * r, [15, 15, 20]);
                    stroke_polyline(&mut img, &poly, true, line_w, [20, 20, 25]);
                }
                EyeStyle::Dot => fill_polygon(&mut img, &poly, [20, 20, 25]),
                EyeStyle::Anime => {
                    fill_polygon(&mut img, &poly, [250, 250, 250]);
                    let inner: Vec<Point> =
                        poly.iter().map(|&q| centre + (q - centre) * 0.8).collect();
                    fill_polygon(&mut img, &inner, self.iris_color);
                    let pupil: Vec<Point> =
                        poly.iter().map(|&q| centre + (q - centre) * 0.4).collect();
                    fill_polygon(&mut img, &pupil, [15, 15, 20]);
                    fill_disc(
                        &mut img,
                        centre + Point::new(-0.25, -0.35) * (self.eye_w * s),
                        0.18 * self.eye_w * s,
                        [255, 255, 255],
                    );
                    stroke_polyline(&mut img, &poly[..25], false, 2.5 * line_w, [15, 15, 20]);
                    stroke_polyline(&mut img, &poly, true, line_w, [20, 20, 25]);
                }
                EyeStyle::Closed => {
                    stroke_polyline(&mut img, &poly[..25], false, 2.0 * line_w, [20, 20, 25]);
                }
            }
        }
        // Nose.
        let lm = self.normalised_landmarks();
        let nose_col = shade(self.skin, 0.6);
        match self.nose_style {
            0 => {
                let path = map(&[
                    lm[28], lm[29], lm[30], lm[31], lm[32], lm[33], lm[34], lm[35],
                ]);
                stroke_polyline(&mut img, &path[2..], false, line_w, nose_col);
                stroke_polyline(
                    &mut img,
                    &path[..3],
                    false,
                    0.6 * line_w,
                    shade(self.skin, 0.8),
                );
            }
            1 => {
                let c = fpx(Point::new(0.0, self.nose_tip + 0.02));
                let e = ellipse_points(c, self.nose_w * s, 0.06 * s, self.pose.angle(), 32);
                fill_polygon(&mut img, &e, shade(self.skin, 0.8));
                stroke_polyline(&mut img, &map(&lm[31..36]), false, line_w, nose_col);
            }
            2 => {
                let tri = [
                    fpx(Point::new(-self.nose_w, self.nose_tip - 0.03)),
                    fpx(Point::new(self.nose_w, self.nose_tip - 0.03)),
                    px(lm[33]),
                ];
                fill_polygon(&mut img, &tri, [30, 25, 25]);
                let mid = (lm[33] + lm[51]) * 0.5;
                stroke_polyline(&mut img, &map(&[lm[33], mid]), false, line_w, [30, 25, 25]);
            }
            _ => {
                for i in [32, 34] {
                    fill_disc(&mut img, px(lm[i]), 0.25 * self.nose_w * s, nose_col);
                }
                stroke_polyline(&mut img, &map(&lm[29..31]), false, 0.6 * line_w, nose_col);
            }
        }
        // Mouth: splines through the landmarks, so the points lie on what is drawn.
        let (outer, inner) = self.mouth_points();
        let outer_c = catmull_rom(&fmap(&outer), true, 6);
        let inner_c = catmull_rom(&fmap(&inner), true, 6);
        let mouth_dark = [60, 15, 25];
        if self.mouth_style == MouthStyle::Lips {
            fill_polygon(&mut img, &outer_c, self.lip_color);
            stroke_polyline(
                &mut img,
                &outer_c,
                true,
                0.6 * line_w,
                shade(self.lip_color, 0.6),
            );
        }
        if self.mouth_open > 0.0 {
            fill_polygon(&mut img, &inner_c, mouth_dark);
            // Teeth band along the upper inner lip.
            let teeth: Vec<Point> = catmull_rom(&fmap(&inner[..5]), false, 6);
            stroke_polyline(
                &mut img,
                &teeth,
                false,
                0.3 * self.mouth_open * s,
                [245, 245, 240],
            );
            let tongue = fpx(Point::new(0.0, self.mouth_y + self.mouth_open * 0.8));
            let e = ellipse_points(
                tongue,
                0.3 * self.mouth_w * s,
                0.3 * self.mouth_open * s,
                self.pose.angle(),
                24,
            );
            fill_polygon_alpha(&mut img, &e, [200, 80, 90], 0.8);
            stroke_polyline(&mut img, &inner_c, true, line_w, mouth_dark);
        } else {
            let lip_line = catmull_rom(&fmap(&inner[..5]), false, 6);
            stroke_polyline(&mut img, &lip_line, false, 1.2 * line_w, mouth_dark);
        }
        img
    }
}

/// A Catmull-Rom spline through `pts` with `per` samples per span (passes through every point).
pub fn catmull_rom(pts: &[Point], closed: bool, per: usize) -> Vec<Point> {
    let n = pts.len();
    if n < 3 {
        return pts.to_vec();
    }
    let get = |i: isize| -> Point {
        if closed {
            pts[i.rem_euclid(n as isize) as usize]
        } else {
            pts[i.clamp(0, n as isize - 1) as usize]
        }
    };
    let spans = if closed { n } else { n - 1 };
    let mut out = Vec::with_capacity(spans * per + 1);
    for i in 0..spans as isize {
        let (p0, p1, p2, p3) = (get(i - 1), get(i), get(i + 1), get(i + 2));
        for k in 0..per {
            let t = k as f32 / per as f32;
            let (t2, t3) = (t * t, t * t * t);
            let f = |a: f32, b: f32, c: f32, d: f32| {
                0.5 * (2.0 * b
                    + (-a + c) * t
                    + (2.0 * a - 5.0 * b + 4.0 * c - d) * t2
                    + (-a + 3.0 * b - 3.0 * c + d) * t3)
            };
            out.push(Point::new(
                f(p0.x, p1.x, p2.x, p3.x),
                f(p0.y, p1.y, p2.y, p3.y),
            ));
        }
    }
    if !closed {
        out.push(pts[n - 1]);
    }
    out
}
