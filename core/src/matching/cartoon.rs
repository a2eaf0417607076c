//! A generator of cartoon characters whose 68 landmarks are exact by construction.
//!
//! Every landmark lies on a drawn contour: the jaw points are spaced by arc length along the face
//! outline, the eye points on the drawn lids, the brow points on the brow stroke, the lip points
//! on the drawn lip curves (which are splines through them). Faces vary in outline (round, long,
//! square, pointed chin), eyes (sclera with iris, dots, big anime eyes, closed arcs), brows,
//! noses, mouths (closed, open, lips or lines, smiling), ears (none, side, animal), hair,
//! colours, outline strokes, backgrounds, size, position and roll. Used for tests, the
//! appearance gallery and evaluation.

use crate::geometry::Similarity;
use crate::landmarks::{Face, ImageSize, LANDMARK_COUNT, Landmarks, Point};
use crate::raster::{
    ellipse_points, fill_disc, fill_polygon, fill_polygon_alpha, solid, stroke_polyline,
};
use image::RgbaImage;
use std::f32::consts::{FRAC_PI_2, PI};

/// A small deterministic random generator (SplitMix64), so cartoons are reproducible.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform integer in 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f32) -> bool {
        self.unit() < p
    }

    /// Standard normal sample (Box–Muller).
    pub fn normal(&mut self) -> f32 {
        let u1 = self.unit().max(1e-7);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
    }
}

/// How the eyes are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EyeStyle {
    /// White sclera, coloured iris, black pupil, dark lid outline.
    Iris,
    /// A filled dark dot.
    Dot,
    /// A tall anime eye: big coloured iris, thick upper lash line, highlight.
    Anime,
    /// A closed, happy arc.
    Closed,
}

/// How the mouth is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MouthStyle {
    /// Coloured lips; dark interior when open.
    Lips,
    /// A dark line; dark interior when open.
    Line,
}

/// The random choices behind one cartoon, in normalised face units (half face width = 1,
/// origin at the widest line of the face, y down).
#[derive(Clone, Debug)]
pub struct CartoonSpec {
    /// Image side in pixels.
    pub size: u32,
    /// Face placement: normalised face units to pixels.
    pub pose: Similarity,
    top_h: f32,
    bot_h: f32,
    square: f32,
    taper: f32,
    jaw_y: f32,
    eye_x: f32,
    eye_y: f32,
    eye_w: f32,
    eye_up: f32,
    eye_low: f32,
    eye_tilt: f32,
    eye_style: EyeStyle,
    brow_y: f32,
    brow_w: f32,
    brow_arch: f32,
    brow_thick: f32,
    nose_tip: f32,
    nose_w: f32,
    nose_style: usize,
    mouth_y: f32,
    mouth_w: f32,
    upper_lip: f32,
    lower_lip: f32,
    mouth_open: f32,
    smile: f32,
    mouth_style: MouthStyle,
    ears: usize,
    hair: bool,
    hair_line: f32,
    outline: bool,
    skin: [u8; 3],
    hair_color: [u8; 3],
    iris_color: [u8; 3],
    lip_color: [u8; 3],
    background: usize,
    bg: [[u8; 3]; 2],
    /// Head turn in radians (positive: the features move to the viewer's right), 0 = frontal.
    pub yaw: f32,
    seed: u64,
}

/// A generated character: the image and its exact landmarks.
pub struct Cartoon {
    /// The rendered image (opaque RGBA).
    pub image: RgbaImage,
    /// The 68 landmarks (confidence 1).
    pub face: Face,
    /// The choices it was drawn from.
    pub spec: CartoonSpec,
}

fn hsv(h: f32, s: f32, v: f32) -> [u8; 3] {
    let h = h.rem_euclid(1.0) * 6.0;
    let i = h.floor();
    let f = h - i;
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
    let (r, g, b) = match i as i32 {
        0 => (v, t, p),
        1 => (q, v, p),
        2 => (p, v, t),
        3 => (p, q, v),
        4 => (t, p, v),
        _ => (v, p, q),
    };
    [(r * 255.0) as u8, (g * 255.0) as u8, (b * 255.0) as u8]
}

fn shade(c: [u8; 3], k: f32) -> [u8; 3] {
    [
        (f32::from(c[0]) * k).clamp(0.0, 255.0) as u8,
        (f32::from(c[1]) * k).clamp(0.0, 255.0) as u8,
        (f32::from(c[2]) * k).clamp(0.0, 255.0) as u8,
    ]
}

impl CartoonSpec {
    /// Draw the random choices for `seed` at image side `size`.
    pub fn random(seed: u64, size: u32) -> Self {
        let mut r = Rng::new(seed);
        let top_h = r.range(0.9, 1.3);
        let bot_h = r.range(0.95, 1.5);
        let square = r.range(2.0, 3.6);
        let taper = r.range(0.0, 0.4);
        let eye_y = r.range(-0.3, 0.05);
        let eye_style = match r.below(10) {
            0..=3 => EyeStyle::Iris,
            4..=5 => EyeStyle::Dot,
            6..=8 => EyeStyle::Anime,
            _ => EyeStyle::Closed,
        };
        let (eye_w, eye_up, eye_low) = match eye_style {
            EyeStyle::Iris => {
                let w = r.range(0.13, 0.24);
                let round = r.chance(0.4);
                let up = if round { w } else { w * r.range(0.45, 0.8) };
                (w, up, if round { w } else { up * r.range(0.6, 1.0) })
            }
            EyeStyle::Dot => {
                let w = r.range(0.05, 0.1);
                let h = w * r.range(1.0, 1.6);
                (w, h, h)
            }
            EyeStyle::Anime => {
                let w = r.range(0.15, 0.24);
                (w, w * r.range(0.9, 1.4), w * r.range(0.6, 1.0))
            }
            EyeStyle::Closed => {
                let w = r.range(0.12, 0.2);
                (w, w * r.range(0.4, 0.7), w * 0.08)
            }
        };
        let eye_x = r.range(0.3, 0.52).max(eye_w + 0.1);
        let brow_y = eye_y - eye_up - r.range(0.08, 0.22);
        let nose_tip = eye_y + eye_low + r.range(0.15, 0.38);
        let mouth_open = if r.chance(0.45) {
            r.range(0.03, 0.22)
        } else {
            0.0
        };
        let upper_lip = r.range(0.025, 0.08);
        let lower_lip = r.range(0.03, 0.1);
        let bottom_room = bot_h * (1.0 - taper * 0.3) - 0.15;
        let mut mouth_y = nose_tip + r.range(0.14, 0.32) + upper_lip;
        let max_mouth = bottom_room - mouth_open - lower_lip;
        if mouth_y > max_mouth {
            mouth_y = max_mouth.max(nose_tip + 0.1 + upper_lip);
        }
        let half = size as f32;
        let scale = half * r.range(0.2, 0.3);
        let roll = r.range(-0.3, 0.3);
        let cx = half * (0.5 + r.range(-0.08, 0.08));
        let top = top_h * scale;
        let bottom = bot_h * scale;
        let cy = (half * (0.5 + r.range(-0.05, 0.08))).clamp(
            top + 0.04 * half,
            (half * 0.97 - bottom).max(top + 0.04 * half),
        );
        let hue = r.unit();
        let skin = if r.chance(0.5) {
            hsv(r.range(0.02, 0.1), r.range(0.2, 0.6), r.range(0.6, 1.0))
        } else {
            hsv(hue, r.range(0.2, 0.8), r.range(0.5, 1.0))
        };
        let bg_hue = (hue + r.range(0.25, 0.75)).rem_euclid(1.0);
        Self {
            size,
            pose: Similarity::new(scale, roll, Point::new(cx, cy)),
            top_h,
            bot_h,
            square,
            taper,
            jaw_y: eye_y + r.range(-0.05, 0.15),
            eye_x,
            eye_y,
            eye_w,
            eye_up,
            eye_low,
            eye_tilt: r.range(-0.25, 0.25),
            eye_style,
            brow_y,
            brow_w: eye_w * r.range(1.0, 1.6) + 0.05,
            brow_arch: r.range(0.0, 0.09),
            brow_thick: r.range(0.025, 0.09),
            nose_tip,
            nose_w: r.range(0.06, 0.17),
            nose_style: r.below(4),
            mouth_y,
            mouth_w: r.range(0.18, 0.45),
            upper_lip,
            lower_lip,
            mouth_open,
            smile: r.range(-0.05, 0.12),
            mouth_style: if r.chance(0.5) {
                MouthStyle::Lips
            } else {
                MouthStyle::Line
            },
            ears: r.below(3),
            hair: r.chance(0.6),
            hair_line: brow_y - r.range(0.12, 0.3),
            outline: r.chance(0.7),
            skin,
            hair_color: hsv(r.unit(), r.range(0.2, 0.9), r.range(0.1, 0.8)),
            iris_color: hsv(r.unit(), r.range(0.4, 1.0), r.range(0.3, 0.9)),
            lip_color: hsv(r.range(-0.05, 0.05), r.range(0.4, 0.8), r.range(0.5, 0.9)),
            background: r.below(4),
            bg: [
                hsv(bg_hue, r.range(0.0, 0.6), r.range(0.3, 1.0)),
                hsv(
                    bg_hue + r.range(-0.2, 0.2),
                    r.range(0.0, 0.6),
                    r.range(0.3, 1.0),
                ),
            ],
            yaw: 0.0,
            seed,
        }
    }

    /// A feature point (brows, eyes, nose, mouth) of the frontal face as seen with the head
    /// turned by [`CartoonSpec::yaw`]: each row of the face is a half cylinder as wide as the
    /// outline there, so the features slide sideways and crowd against the far side of the
    /// outline, which itself does not change.
    fn turn(&self, q: Point) -> Point {
        if self.yaw == 0.0 {
            return q;
        }
        let y = q.y.clamp(-0.95 * self.top_h, 0.95 * self.bot_h);
        let r = self.half_width(y).max(0.3);
        let a = (q.x / r).clamp(-1.0, 1.0).asin() + self.yaw;
        Point::new(r * a.clamp(-FRAC_PI_2, FRAC_PI_2).sin(), q.y)
    }

    /// A point of the face outline at angle `t` (0 = right, π/2 = chin), normalised units.
    fn outline_at(&self, t: f32) -> Point {
        let (s, c) = t.sin_cos();
        if s >= 0.0 {
            let e = 2.0 / self.square;
            Point::new(
                c.signum() * c.abs().powf(e) * (1.0 - self.taper * s * s),
                self.bot_h * s.powf(e),
            )
        } else {
            Point::new(c, self.top_h * s)
        }
    }

    /// The closed face outline, normalised units.
    fn outline(&self, n: usize) -> Vec<Point> {
        (0..n)
            .map(|i| self.outline_at(i as f32 / n as f32 * 2.0 * PI))
            .collect()
    }

    /// Angle on the outline where the height is `y`, searching `lo..hi` (y monotonic there).
    fn outline_angle(&self, y: f32, lo: f32, hi: f32) -> f32 {
        let (mut a, mut b) = (lo, hi);
        let ya = self.outline_at(a).y;
        for _ in 0..60 {
            let m = 0.5 * (a + b);
            if (self.outline_at(m).y - y) * (ya - y) > 0.0 {
                a = m;
            } else {
                b = m;
            }
        }
        0.5 * (a + b)
    }

    /// Half width of the face outline at height `y` (normalised units).
    fn half_width(&self, y: f32) -> f32 {
        let t = self.outline_angle(y, -PI / 2.0, PI / 2.0);
        self.outline_at(t).x
    }

    fn eye_points(&self, right_side: bool) -> (Vec<Point>, [Point; 6]) {
        let sign = if right_side { 1.0 } else { -1.0 };
        let centre = Point::new(sign * self.eye_x, self.eye_y);
        let tilt = -sign * self.eye_tilt;
        let (s, c) = tilt.sin_cos();
        let k = match self.eye_style {
            EyeStyle::Iris | EyeStyle::Dot => 0.5,
            EyeStyle::Anime => 0.65,
            EyeStyle::Closed => 0.8,
        };
        let local = |u: f32, upper: bool| {
            let f = (1.0 - u * u).max(0.0).powf(k);
            let y = if upper {
                -self.eye_up * f
            } else {
                self.eye_low * f
            };
            let x = u * self.eye_w;
            Point::new(centre.x + c * x - s * y, centre.y + s * x + c * y)
        };
        let n = 24;
        let mut poly: Vec<Point> = (0..=n)
            .map(|i| local(-1.0 + 2.0 * i as f32 / n as f32, true))
            .collect();
        poly.extend((1..n).map(|i| local(1.0 - 2.0 * i as f32 / n as f32, false)));
        let third = 1.0 / 3.0;
        let lm = [
            local(-1.0, true),
            local(-third, true),
            local(third, true),
            local(1.0, true),
            local(third, false),
            local(-third, false),
        ];
        (poly, lm)
    }

    fn brow_points(&self, right_side: bool) -> [Point; 5] {
        let sign = if right_side { 1.0 } else { -1.0 };
        let mut out = [Point::default(); 5];
        for (k, o) in out.iter_mut().enumerate() {
            let t = k as f32 / 4.0;
            let x = sign * self.eye_x + (t - 0.5) * self.brow_w;
            let arch = self.brow_arch * (PI * t).sin();
            // Outer end a little lower than the inner end.
            let slope = if right_side { t } else { 1.0 - t } * 0.03;
            *o = Point::new(x, self.brow_y - arch + slope);
        }
        out
    }

    fn mouth_points(&self) -> ([Point; 12], [Point; 8]) {
        let (w, y, s) = (self.mouth_w, self.mouth_y, self.smile);
        let (ul, ll, o) = (self.upper_lip, self.lower_lip, self.mouth_open);
        let bow = 0.25 * ul;
        let outer = [
            Point::new(-w, y - s),
            Point::new(-0.6 * w, y - 0.8 * ul - 0.5 * s),
            Point::new(-0.25 * w, y - ul - 0.1 * s),
            Point::new(0.0, y - ul + bow),
            Point::new(0.25 * w, y - ul - 0.1 * s),
            Point::new(0.6 * w, y - 0.8 * ul - 0.5 * s),
            Point::new(w, y - s),
            Point::new(0.6 * w, y + o + 0.8 * ll - 0.4 * s),
            Point::new(0.25 * w, y + o + ll - 0.1 * s),
            Point::new(0.0, y + o + ll),
            Point::new(-0.25 * w, y + o + ll - 0.1 * s),
            Point::new(-0.6 * w, y + o + 0.8 * ll - 0.4 * s),
        ];
        let wi = 0.85 * w;
        let inner = [
            Point::new(-wi, y - 0.9 * s),
            Point::new(-0.4 * w, y - 0.35 * s),
            Point::new(0.0, y),
            Point::new(0.4 * w, y - 0.35 * s),
            Point::new(wi, y - 0.9 * s),
            Point::new(0.4 * w, y + o - 0.25 * s),
            Point::new(0.0, y + o),
            Point::new(-0.4 * w, y + o - 0.25 * s),
        ];
        (outer, inner)
    }

    /// The 68 landmarks in normalised face units.
    pub fn normalised_landmarks(&self) -> Landmarks {
        let mut p = [Point::default(); LANDMARK_COUNT];
        // Jaw: 17 points equally spaced by arc length from the left to the right jaw start.
        let tl = self.outline_angle(self.jaw_y, PI / 2.0, 1.5 * PI);
        let tr = self.outline_angle(self.jaw_y, -PI / 2.0, PI / 2.0);
        let dense: Vec<Point> = (0..=400)
            .map(|i| self.outline_at(tl + (tr - tl) * i as f32 / 400.0))
            .collect();
        let mut cum = vec![0.0f32];
        for w in dense.windows(2) {
            let last = cum[cum.len() - 1];
            cum.push(last + w[0].distance(w[1]));
        }
        let total = cum[cum.len() - 1];
        // The chin (point 8) halves the arc; a turned head's chin follows its midline, so the
        // jaw points crowd on the far side and spread on the near one.
        let chin = (self.yaw != 0.0).then(|| {
            let mid = self.turn(Point::new(0.0, 0.9 * self.bot_h)).x;
            let lower = dense.iter().enumerate().filter(|(_, q)| q.y > self.jaw_y);
            lower
                .min_by(|a, b| (a.1.x - mid).abs().total_cmp(&(b.1.x - mid).abs()))
                .map_or(0.5 * total, |(i, _)| cum[i])
        });
        let mut j = 0;
        for (k, q) in p.iter_mut().take(17).enumerate() {
            let target = match chin {
                None => total * k as f32 / 16.0,
                Some(c) if k <= 8 => c * k as f32 / 8.0,
                Some(c) => c + (total - c) * (k - 8) as f32 / 8.0,
            };
            while j + 1 < cum.len() - 1 && cum[j + 1] < target {
                j += 1;
            }
            let seg = (cum[j + 1] - cum[j]).max(1e-9);
            *q = dense[j].lerp(dense[j + 1], ((target - cum[j]) / seg).clamp(0.0, 1.0));
        }
        p[17..22].copy_from_slice(&self.brow_points(false));
        p[22..27].copy_from_slice(&self.brow_points(true));
        let top = self.eye_y - 0.02;
        for k in 0..4 {
            p[27 + k] = Point::new(0.0, top + (self.nose_tip - top) * k as f32 / 3.0);
        }
        let (nw, nt) = (self.nose_w, self.nose_tip);
        p[31] = Point::new(-nw, nt + 0.015);
        p[32] = Point::new(-0.5 * nw, nt + 0.045);
        p[33] = Point::new(0.0, nt + 0.06);
        p[34] = Point::new(0.5 * nw, nt + 0.045);
        p[35] = Point::new(nw, nt + 0.015);
        p[36..42].copy_from_slice(&self.eye_points(false).1);
        p[42..48].copy_from_slice(&self.eye_points(true).1);
        let (outer, inner) = self.mouth_points();
        p[48..60].copy_from_slice(&outer);
        p[60..68].copy_from_slice(&inner);
        for q in &mut p[17..] {
            *q = self.turn(*q);
        }
        p
    }

    /// The 68 landmarks in image pixels.
    pub fn landmarks(&self) -> Landmarks {
        self.normalised_landmarks().map(|q| self.pose.apply(q))
    }

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
    use crate::landmarks::Part;

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
