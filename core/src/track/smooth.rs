//! Temporal clean-up of a landmark track: One Euro smoothing and gap filling.

use crate::landmarks::{Landmarks, Point};

/// One Euro filter settings (Casiez et al., CHI 2012). Velocities are measured in face sizes
/// per second (the inter-ocular distance), so one setting suits small and large faces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OneEuro {
    /// Cut-off frequency at rest, Hz: lower = steadier when still.
    pub min_cutoff: f32,
    /// Speed coefficient: higher = less lag when moving.
    pub beta: f32,
    /// Cut-off frequency of the velocity estimate, Hz.
    pub d_cutoff: f32,
}

impl Default for OneEuro {
    fn default() -> Self {
        Self {
            min_cutoff: 1.0,
            beta: 40.0,
            d_cutoff: 1.0,
        }
    }
}

fn alpha(cutoff: f32, dt: f32) -> f32 {
    let tau = 1.0 / (std::f32::consts::TAU * cutoff);
    1.0 / (1.0 + tau / dt)
}

#[derive(Debug, Clone, Copy)]
struct Channel {
    x: f32,
    dx: f32,
}

/// One Euro filter over a fixed set of points (the 68 landmarks, or the two pupils), x and y
/// filtered independently.
#[derive(Debug, Clone)]
pub struct LandmarkFilter {
    params: OneEuro,
    state: Option<Vec<Channel>>,
}

impl LandmarkFilter {
    /// A filter with the given settings.
    pub fn new(params: OneEuro) -> Self {
        Self {
            params,
            state: None,
        }
    }

    /// Forgets the past (call after a long gap).
    pub fn reset(&mut self) {
        self.state = None;
    }

    /// Filters one frame; `dt` is the time since the previous frame in seconds, `scale` the
    /// face size in pixels used to normalise speed.
    pub fn filter<const N: usize>(
        &mut self,
        points: &[Point; N],
        dt: f32,
        scale: f32,
    ) -> [Point; N] {
        let flat: Vec<f32> = points.iter().flat_map(|p| [p.x, p.y]).collect();
        let scale = scale.max(1e-3);
        let state = match &mut self.state {
            Some(s) if dt > 0.0 => s,
            _ => {
                self.state = Some(flat.iter().map(|&x| Channel { x, dx: 0.0 }).collect());
                return *points;
            }
        };
        let a_d = alpha(self.params.d_cutoff, dt);
        let mut out = *points;
        for (i, (ch, &x)) in state.iter_mut().zip(&flat).enumerate() {
            let dx = (x - ch.x) / dt;
            let dx_hat = ch.dx + a_d * (dx - ch.dx);
            let cutoff = self.params.min_cutoff + self.params.beta * dx_hat.abs() / scale;
            let x_hat = ch.x + alpha(cutoff, dt) * (x - ch.x);
            *ch = Channel {
                x: x_hat,
                dx: dx_hat,
            };
            let p = &mut out[i / 2];
            if i % 2 == 0 {
                p.x = x_hat;
            } else {
                p.y = x_hat;
            }
        }
        out
    }
}

/// Inter-ocular distance (outer eye corners 36–45), the usual face scale.
pub fn interocular(points: &Landmarks) -> f32 {
    points[36].distance(points[45])
}

/// A run of frames without a face.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// First frame of the gap.
    pub start: usize,
    /// One past the last frame.
    pub end: usize,
    /// Whether it was filled by interpolation (short, between two found frames); otherwise
    /// the nearest found frame's points were repeated.
    pub interpolated: bool,
}

/// Fills frames without a face: gaps of at most `max_interp` frames between two found frames
/// are linearly interpolated; longer gaps and the ends hold the nearest found frame. Returns the
/// filled frames and the gaps, or `None` if no frame has a face. `N` points a frame: the 68
/// landmarks, or the two pupils.
pub fn fill_gaps<const N: usize>(
    frames: &[Option<[Point; N]>],
    max_interp: usize,
) -> Option<(Vec<[Point; N]>, Vec<Gap>)> {
    let first = frames.iter().position(Option::is_some)?;
    let mut out = Vec::with_capacity(frames.len());
    let mut gaps = Vec::new();
    let mut last: Option<(usize, [Point; N])> = None;
    let mut i = 0;
    while i < frames.len() {
        if let Some(p) = frames[i] {
            out.push(p);
            last = Some((i, p));
            i += 1;
            continue;
        }
        let start = i;
        while i < frames.len() && frames[i].is_none() {
            i += 1;
        }
        let next = frames.get(i).copied().flatten();
        let interpolated = matches!((last, next), (Some(_), Some(_))) && i - start <= max_interp;
        for t in start..i {
            let p = match (last, next) {
                (Some((a, pa)), Some(pb)) if interpolated => {
                    let f = (t - a) as f32 / (i - a) as f32;
                    let mut q = pa;
                    for (k, v) in q.iter_mut().enumerate() {
                        *v = pa[k].lerp(pb[k], f);
                    }
                    q
                }
                (Some((_, pa)), _) => pa,
                (None, _) => frames[first].unwrap_or([Point::new(0.0, 0.0); N]),
            };
            out.push(p);
        }
        gaps.push(Gap {
            start,
            end: i,
            interpolated,
        });
    }
    Some((out, gaps))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landmarks::synthetic::frontal_face;

    fn shifted(base: &Landmarks, dx: f32) -> Landmarks {
        let mut p = *base;
        p.iter_mut().for_each(|q| q.x += dx);
        p
    }

    #[test]
    fn filter_damps_noise_and_follows_motion() {
        let base = frontal_face(256.0, 256.0, 200.0);
        let io = interocular(&base);
        let mut f = LandmarkFilter::new(OneEuro::default());
        // Still face with ±0.5 px alternating noise: the output moves far less.
        let mut spread: f32 = 0.0;
        for t in 0..60 {
            let noisy = shifted(&base, if t % 2 == 0 { 0.5 } else { -0.5 });
            let out = f.filter(&noisy, 1.0 / 30.0, io);
            if t > 30 {
                spread = spread.max((out[30].x - base[30].x).abs());
            }
        }
        assert!(spread < 0.25, "residual jitter {spread}");
        // A fast move of 100 px/frame is followed within a few frames.
        let mut out = base;
        for t in 1..=5 {
            out = f.filter(&shifted(&base, 100.0 * t as f32), 1.0 / 30.0, io);
        }
        assert!(
            (out[30].x - (base[30].x + 500.0)).abs() < 30.0,
            "{}",
            out[30].x
        );
    }

    #[test]
    fn gaps_are_interpolated_or_held() {
        let a = frontal_face(256.0, 256.0, 200.0);
        let b = shifted(&a, 10.0);
        let frames = vec![
            None,
            Some(a),
            None,
            None,
            Some(b),
            None,
            None,
            None,
            None,
            Some(a),
        ];
        let (filled, gaps) = fill_gaps(&frames, 2).unwrap();
        assert_eq!(filled.len(), 10);
        assert_eq!(filled[0], a); // leading gap holds the first face
        assert!((filled[2][0].x - (a[0].x + 10.0 / 3.0)).abs() < 1e-4);
        assert_eq!(filled[6], b); // long gap holds the last face
        assert_eq!(
            gaps,
            vec![
                Gap {
                    start: 0,
                    end: 1,
                    interpolated: false
                },
                Gap {
                    start: 2,
                    end: 4,
                    interpolated: true
                },
                Gap {
                    start: 5,
                    end: 9,
                    interpolated: false
                },
            ]
        );
        assert!(fill_gaps::<68>(&[None, None], 3).is_none());
    }
}
