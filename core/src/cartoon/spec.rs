//! The random choices behind a generated cartoon and its exact 68 landmarks: what the shape
//! model trains on, and what [`super::Cartoon`] draws.

use super::Rng;
use crate::geometry::Similarity;
use crate::landmarks::{LANDMARK_COUNT, Landmarks, Point};
use std::f32::consts::{FRAC_PI_2, PI};

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
    pub(super) top_h: f32,
    pub(super) bot_h: f32,
    pub(super) square: f32,
    pub(super) taper: f32,
    pub(super) jaw_y: f32,
    pub(super) eye_x: f32,
    pub(super) eye_y: f32,
    pub(super) eye_w: f32,
    pub(super) eye_up: f32,
    pub(super) eye_low: f32,
    pub(super) eye_tilt: f32,
    pub(super) eye_style: EyeStyle,
    pub(super) brow_y: f32,
    pub(super) brow_w: f32,
    pub(super) brow_arch: f32,
    pub(super) brow_thick: f32,
    pub(super) nose_tip: f32,
    pub(super) nose_w: f32,
    pub(super) nose_style: usize,
    pub(super) mouth_y: f32,
    pub(super) mouth_w: f32,
    pub(super) upper_lip: f32,
    pub(super) lower_lip: f32,
    pub(super) mouth_open: f32,
    pub(super) smile: f32,
    pub(super) mouth_style: MouthStyle,
    pub(super) ears: usize,
    pub(super) hair: bool,
    pub(super) hair_line: f32,
    pub(super) outline: bool,
    pub(super) skin: [u8; 3],
    pub(super) hair_color: [u8; 3],
    pub(super) iris_color: [u8; 3],
    pub(super) lip_color: [u8; 3],
    pub(super) background: usize,
    pub(super) bg: [[u8; 3]; 2],
    /// Head turn in radians (positive: the features move to the viewer's right), 0 = frontal.
    pub yaw: f32,
    pub(super) seed: u64,
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
    pub(super) fn turn(&self, q: Point) -> Point {
        if self.yaw == 0.0 {
            return q;
        }
        let y = q.y.clamp(-0.95 * self.top_h, 0.95 * self.bot_h);
        let r = self.half_width(y).max(0.3);
        let a = (q.x / r).clamp(-1.0, 1.0).asin() + self.yaw;
        Point::new(r * a.clamp(-FRAC_PI_2, FRAC_PI_2).sin(), q.y)
    }

    /// A point of the face outline at angle `t` (0 = right, π/2 = chin), normalised units.
    pub(super) fn outline_at(&self, t: f32) -> Point {
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
    pub(super) fn outline(&self, n: usize) -> Vec<Point> {
        (0..n)
            .map(|i| self.outline_at(i as f32 / n as f32 * 2.0 * PI))
            .collect()
    }

    /// Angle on the outline where the height is `y`, searching `lo..hi` (y monotonic there).
    pub(super) fn outline_angle(&self, y: f32, lo: f32, hi: f32) -> f32 {
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
    pub(super) fn half_width(&self, y: f32) -> f32 {
        let t = self.outline_angle(y, -PI / 2.0, PI / 2.0);
        self.outline_at(t).x
    }

    pub(super) fn eye_points(&self, right_side: bool) -> (Vec<Point>, [Point; 6]) {
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

    pub(super) fn brow_points(&self, right_side: bool) -> [Point; 5] {
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

    pub(super) fn mouth_points(&self) -> ([Point; 12], [Point; 8]) {
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
}
