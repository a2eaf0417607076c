//! The built-in animator: a thin-plate-spline backward warp with fold guard, mouth and eyelid
//! synthesis.
//!
//! # Why a thin-plate spline
//! Three classic ways to turn 68 moved points into a dense map were weighed:
//! - **Triangulated mesh (piecewise affine).** Cheapest, and folds are easy to detect (a flipped
//!   triangle), but the map is only continuous: every straight line of the drawing kinks at
//!   every mesh edge, which shows on the clean lines of cartoons, and the mesh is tied to one
//!   triangulation of the rest pose that a wide-open mouth or a 30° roll strains badly.
//! - **Moving least squares (rigid).** Pleasing, locally rigid, but it is evaluated point by
//!   point with a weighted fit over every control point (more work per pixel than a spline
//!   sum), it does not reproduce a global similarity when anchors are present, and it gives no
//!   handle on injectivity either.
//! - **Thin-plate spline.** Smooth (C¹ at the centres, C^∞ elsewhere), passes exactly through
//!   every control point, reproduces any affine motion exactly, and is the least-bending map
//!   that does so — the motion is spread as evenly as the constraints allow, which keeps
//!   Jacobians away from zero. One small dense solve per frame (≈100 unknowns), then a sum of
//!   `r² ln r²` terms at each node of a coarse grid.
//!
//! The spline is solved **backwards** (centres at the target landmarks, values = where to read
//! in the character image), so no inversion is needed. Its control points are:
//! the 68 landmarks (eyelids and inner lips adjusted, see [`super::targets`]); a dozen points on
//! the crown and temples of a soft head ellipse that follow the head's similarity, so forehead
//! and hair move as one piece with the face; a ring of fixed anchors around the head; and fixed
//! anchors on the image border where that ring reaches it. Beyond the ring the motion is faded
//! to exactly zero with a smooth radial falloff, so the background stays still.
//!
//! The spline is evaluated on a grid (about a tenth of the half face width apart) that covers
//! only the ring's bounding box, bilinearly interpolated to full resolution, and the character
//! image is sampled bilinearly (RGB and alpha, premultiplied). The [fold guard](super::guard)
//! then checks the exact minimum Jacobian determinant of that interpolated map and, when the
//! requested landmarks would fold the image, scales the expression (then the head motion) back
//! until the map is injective.

use super::error::AnimateError;
use super::eyes::draw_eyelids;
use super::field::{GridSpec, WarpField};
use super::gaze::GazeRig;
use super::geometry::{Ellipse, FaceFrame, Similarity};
use super::guard::{Attempt, Motion, limit_motion};
use super::mouth::{draw_mouth, inner_mouth};
use super::palette::Palette;
use super::sample::{Source, remap};
use super::targets::{effective, head_motion, mouth_interior, open_lips};
use super::tps::Tps;
use super::{Animator, check_size};
use crate::landmarks::{Face, LandmarkError, Landmarks, Point, validate_points};
use image::RgbaImage;

/// Settings of the [`WarpAnimator`].
#[derive(Clone, Debug, PartialEq)]
pub struct WarpOptions {
    /// Radius of the still ring around the head, relative to the head ellipse (> 1). Motion
    /// fades from full at the head outline to zero at the ring.
    pub ring: f32,
    /// Grid spacing in pixels for the spline evaluation; `None` picks about a tenth of the half
    /// face width, a multiple of 4 from 4 to 16 px (the mouth gets a patch 4 times finer).
    pub grid_step: Option<u32>,
    /// Smallest Jacobian determinant the fold guard accepts (> 0).
    pub min_jacobian: f32,
    /// Bisection steps of the fold guard when a frame must be limited.
    pub guard_steps: u32,
    /// Synthesise the mouth interior when the mouth opens.
    pub mouth: bool,
    /// Draw an upper-teeth band in the synthesised mouth.
    pub teeth: bool,
    /// Draw closing eyelids instead of warping them.
    pub eyelids: bool,
}

impl Default for WarpOptions {
    fn default() -> Self {
        Self {
            ring: 1.8,
            grid_step: None,
            min_jacobian: 2e-3,
            guard_steps: 6,
            mouth: true,
            teeth: true,
            eyelids: true,
        }
    }
}

/// Everything decided about one frame before any pixel is drawn.
#[derive(Clone, Debug)]
pub struct FramePlan {
    /// The backward map.
    pub field: WarpField,
    /// The landmarks after the fold guard limited the motion (equal to the request when no
    /// limiting was needed); eyelids and mouth are drawn for these.
    pub limited: Landmarks,
    /// The control targets of the map: `limited` with closing lids pinned and inner lips kept
    /// apart. The rest landmark `i` (see [`WarpAnimator::rest_controls`]) maps onto
    /// `effective[i]`.
    pub effective: Landmarks,
    /// Fraction of the head motion (similarity) kept, 0–1.
    pub head_motion: f32,
    /// Fraction of the expression (motion relative to the head) kept, 0–1.
    pub expression: f32,
    /// The map's smallest Jacobian determinant.
    pub min_jacobian: f32,
    /// How far each iris moves inside its eye, in rest pixels, when the character has pupils
    /// and the frame gives them.
    pub iris_shifts: Option<[Point; 2]>,
}

/// Rest-pose data computed once by [`WarpAnimator::prepare_with`].
#[derive(Clone, Debug)]
struct Rig {
    rest: Landmarks,
    controls: Landmarks,
    head: Ellipse,
    crown: Vec<Point>,
    step: u32,
    mouth_width: f32,
    mouth_gap: f32,
}

/// The built-in real-time animator (see the module docs for how it works).
#[derive(Clone, Debug)]
pub struct WarpAnimator {
    src: Source,
    rig: Rig,
    palette: Palette,
    gaze: Option<GazeRig>,
    options: WarpOptions,
}

impl WarpAnimator {
    /// Prepare with default options.
    pub fn new(image: &RgbaImage, rest: &Face) -> Result<Self, AnimateError> {
        Self::prepare_with(image, rest, WarpOptions::default())
    }

    /// Prepare for `image` whose face at rest is `rest`.
    pub fn prepare_with(
        image: &RgbaImage,
        rest: &Face,
        options: WarpOptions,
    ) -> Result<Self, AnimateError> {
        let (width, height) = image.dimensions();
        check_size(width, height)?;
        if let Some(size) = rest.image
            && (size.width, size.height) != (width, height)
        {
            return Err(AnimateError::SizeMismatch {
                what: "the rest landmarks".into(),
                expected_width: size.width,
                expected_height: size.height,
                width,
                height,
            });
        }
        let size = crate::landmarks::ImageSize { width, height };
        validate_points(&rest.points, Some(size), "rest landmarks")?;
        let invalid = |reason: String| {
            AnimateError::Landmarks(LandmarkError::Invalid {
                context: "rest landmarks".into(),
                reason,
            })
        };
        let frame = FaceFrame::of(&rest.points)
            .filter(|f| f.half_width >= 4.0 && f.chin > 0.5 * f.half_width.min(4.0))
            .ok_or_else(|| {
                invalid("the face is too small or collapsed (jaw points 0, 8 and 16)".into())
            })?;
        for (name, a, b) in [
            ("right eye", 36, 39),
            ("left eye", 42, 45),
            ("mouth", 60, 64),
        ] {
            if rest.points[a].distance(rest.points[b]) < 1.0 {
                return Err(invalid(format!(
                    "the {name} corners (points {a} and {b}) coincide"
                )));
            }
        }
        let options = WarpOptions {
            ring: options.ring.clamp(1.2, 4.0),
            min_jacobian: options.min_jacobian.clamp(1e-6, 0.5),
            guard_steps: options.guard_steps.min(16),
            ..options
        };
        let mut controls = rest.points;
        open_lips(&mut controls);
        let head = frame.head();
        // Crown and temples: the upper half of the head outline, away from the jaw ends.
        let across = Point::new(-frame.u.y, frame.u.x);
        let up_sign = if across.dot(frame.down) > 0.0 {
            -1.0
        } else {
            1.0
        };
        let crown = (1..12)
            .map(|k| {
                let t = std::f32::consts::PI * k as f32 / 12.0;
                head.point_at(up_sign * t)
            })
            .collect();
        let step = options
            .grid_step
            .unwrap_or_else(|| 4 * (frame.half_width / 40.0).round() as u32)
            .clamp(4, 16);
        let mouth_frame = inner_mouth(&controls)
            .ok_or_else(|| invalid("the mouth corners (points 60 and 64) coincide".into()))?;
        let src = Source::new(image);
        let palette = Palette::read(&src, &rest.points);
        let gaze = GazeRig::new(image, rest, &palette);
        tracing::debug!(
            width,
            height,
            step,
            half_width = frame.half_width,
            "warp animator prepared"
        );
        Ok(Self {
            src,
            rig: Rig {
                rest: rest.points,
                controls,
                head,
                crown,
                step,
                mouth_width: mouth_frame.len(),
                mouth_gap: mouth_frame.mean_gap(),
            },
            palette,
            gaze,
            options,
        })
    }

    /// The rest landmarks as the map uses them (inner lips kept a hair apart).
    pub fn rest_controls(&self) -> &Landmarks {
        &self.rig.controls
    }

    /// The options in force.
    pub fn options(&self) -> &WarpOptions {
        &self.options
    }

    /// The soft head region at rest (motion is full inside, fading to zero at the ring).
    pub fn head_region(&self) -> Ellipse {
        self.rig.head
    }

    /// Solve the map for one frame (with the fold guard) without drawing anything; `pupils`
    /// (image-left first) move the irises when the character's face has pupils.
    pub fn plan(
        &self,
        target: &Landmarks,
        pupils: Option<&[Point; 2]>,
    ) -> Result<FramePlan, AnimateError> {
        let size = crate::landmarks::ImageSize {
            width: self.src.width,
            height: self.src.height,
        };
        validate_points(target, Some(size), "frame landmarks")?;
        let head = head_motion(&self.rig.rest, target);
        let pivot = self.rig.head.centre;
        let attempt = |m: Motion| -> Option<Attempt<(WarpField, Landmarks, Landmarks)>> {
            let partial = head.partial(m.head, pivot);
            let mut limited = *target;
            for (i, p) in limited.iter_mut().enumerate() {
                let rigid = head.apply(self.rig.rest[i]);
                *p = partial.apply(self.rig.rest[i]) + (*p - rigid) * m.expression;
            }
            let eff = effective(
                &self.rig.rest,
                &limited,
                self.options.eyelids,
                partial.scale(),
            );
            let field = self.solve(&eff, &partial)?;
            let min_det = field.min_jacobian();
            Some(Attempt {
                min_det,
                value: (field, limited, eff),
            })
        };
        let identity = || {
            let mut eff = self.rig.rest;
            open_lips(&mut eff);
            (
                WarpField::identity(self.src.width, self.src.height),
                self.rig.rest,
                eff,
            )
        };
        let (motion, min_det, (field, limited, effective)) = limit_motion(
            self.options.min_jacobian,
            self.options.guard_steps,
            attempt,
            identity,
        );
        if motion.head < 1.0 || motion.expression < 1.0 {
            tracing::debug!(
                head = motion.head,
                expression = motion.expression,
                "fold guard limited the motion"
            );
        }
        let iris_shifts = match (&self.gaze, pupils) {
            (Some(gaze), Some(pupils)) => Some(
                gaze.shifts(&self.rig.rest, target, pupils)
                    .map(|s| s * motion.expression),
            ),
            _ => None,
        };
        Ok(FramePlan {
            field,
            limited,
            effective,
            head_motion: motion.head,
            expression: motion.expression,
            min_jacobian: min_det,
            iris_shifts,
        })
    }

    /// Draw a planned frame into `out` (which must have the image's size).
    pub fn draw(&self, plan: &FramePlan, out: &mut RgbaImage) -> Result<(), AnimateError> {
        self.check_output(out)?;
        remap(&self.src, &plan.field, out);
        if self.options.mouth {
            draw_mouth(
                out,
                &plan.effective,
                self.rig.mouth_gap,
                self.rig.mouth_width,
                &self.palette,
                self.options.teeth,
            );
        }
        if let (Some(gaze), Some(shifts)) = (&self.gaze, &plan.iris_shifts) {
            gaze.draw(out, &self.src, &self.rig.rest, &plan.effective, shifts);
        }
        if self.options.eyelids {
            draw_eyelids(
                out,
                &plan.limited,
                &plan.effective,
                &self.rig.rest,
                &self.palette,
            );
        }
        Ok(())
    }

    fn check_output(&self, out: &RgbaImage) -> Result<(), AnimateError> {
        if out.dimensions() != (self.src.width, self.src.height) {
            return Err(AnimateError::OutputSize {
                got_width: out.width(),
                got_height: out.height(),
                width: self.src.width,
                height: self.src.height,
            });
        }
        Ok(())
    }

    /// Solve the spline for control targets `eff` with the head at `head` and evaluate it on
    /// the grid; `None` when the system cannot be solved.
    fn solve(&self, eff: &Landmarks, head: &Similarity) -> Option<WarpField> {
        let rig = &self.rig;
        let (w, h) = (self.src.width, self.src.height);
        let moved_centre = head.apply(rig.head.centre);
        let shift = moved_centre - rig.head.centre;
        let grow = head.scale().max(1.0);
        let half_shift = shift.norm() * 0.5;
        let ring = Ellipse {
            centre: rig.head.centre.lerp(moved_centre, 0.5),
            axis: rig.head.axis,
            a: self.options.ring * rig.head.a * grow + half_shift,
            b: self.options.ring * rig.head.b * grow + half_shift,
        };
        let target_head = Ellipse {
            centre: moved_centre,
            axis: head.apply_vector(rig.head.axis) * (1.0 / head.scale().max(1e-6)),
            a: rig.head.a * head.scale(),
            b: rig.head.b * head.scale(),
        };
        let n_ring = 20;
        let mut centres: Vec<Point> = Vec::with_capacity(68 + rig.crown.len() + n_ring + 16);
        let mut values: Vec<Point> = Vec::with_capacity(centres.capacity());
        for (t, r) in eff.iter().zip(&rig.controls) {
            centres.push(*t);
            values.push(*r - *t);
        }
        for (t, r) in mouth_interior(&rig.controls, eff) {
            centres.push(t);
            values.push(r - t);
        }
        for &c in &rig.crown {
            let t = head.apply(c);
            centres.push(t);
            values.push(c - t);
        }
        let mut inner = 0.0f32;
        for (&t, &r) in centres.iter().zip(&values) {
            inner = inner.max(ring.rho(t)).max(ring.rho(t + r));
        }
        for k in 0..n_ring {
            let theta = std::f32::consts::TAU * k as f32 / n_ring as f32;
            centres.push(ring.point_at(theta));
            values.push(Point::default());
        }
        // Border anchors where the ring reaches past the image edge, except inside the head.
        let perimeter = std::f32::consts::PI * (ring.a + ring.b);
        let spacing = (perimeter / n_ring as f32).max(8.0);
        let (wf, hf) = ((w - 1) as f32, (h - 1) as f32);
        let mut border = Vec::new();
        for (len, start, dir) in [
            (wf, Point::new(0.0, 0.0), Point::new(1.0, 0.0)),
            (wf, Point::new(0.0, hf), Point::new(1.0, 0.0)),
            (hf, Point::new(0.0, 0.0), Point::new(0.0, 1.0)),
            (hf, Point::new(wf, 0.0), Point::new(0.0, 1.0)),
        ] {
            let n = (len / spacing).ceil().max(1.0) as usize;
            for k in 0..=n {
                border.push(start + dir * (len * k as f32 / n as f32));
            }
        }
        for p in border {
            let clear = target_head.rho(p) > 1.15 && rig.head.rho(p) > 1.15;
            let apart = centres.iter().all(|c| c.distance(p) > 0.5 * spacing);
            if ring.rho(p) < 1.0 && clear && apart {
                centres.push(p);
                values.push(Point::default());
            }
        }
        let tps = Tps::solve(&centres, &values)?;
        let inner = inner.min(0.9);
        let grid = GridSpec::covering(ring.bbox().0, ring.bbox().1, w, h, rig.step)?;
        let mut field = WarpField::from_tps(&tps, &ring, inner, grid, w, h);
        // The fine patch over the mouth (lips are thinner than a coarse cell).
        if let Some(q) = [4, 3, 2].into_iter().find(|q| rig.step.is_multiple_of(*q)) {
            let (mut lo, mut hi) = (eff[48], eff[48]);
            for p in &eff[48..68] {
                lo = Point::new(lo.x.min(p.x), lo.y.min(p.y));
                hi = Point::new(hi.x.max(p.x), hi.y.max(p.y));
            }
            let margin = 0.2 * eff[48].distance(eff[54]) + rig.step as f32;
            let grow = Point::new(margin, margin);
            field.refine(&tps, &ring, inner, (lo - grow, hi + grow), q);
        }
        let pins: Vec<(Point, Point)> = eff
            .iter()
            .zip(&rig.controls)
            .map(|(&t, &r)| (t, r - t))
            .collect();
        field.pin(&pins);
        Some(field)
    }
}

impl Animator for WarpAnimator {
    fn prepare(image: &RgbaImage, rest: &Face) -> Result<Self, AnimateError> {
        Self::new(image, rest)
    }

    fn name(&self) -> &str {
        "warp"
    }

    fn size(&self) -> (u32, u32) {
        (self.src.width, self.src.height)
    }

    fn render_into(
        &self,
        target: &Landmarks,
        pupils: Option<&[Point; 2]>,
        out: &mut RgbaImage,
    ) -> Result<(), AnimateError> {
        self.check_output(out)?;
        let plan = self.plan(target, pupils)?;
        self.draw(&plan, out)
    }
}
