//! The dense backward map of one frame, stored as displacements on grids.
//!
//! A pixel `x` of the output shows the character image at `x + d(x)`, where `d` is bilinear
//! between grid nodes and exactly zero outside the grids. A coarse grid covers everything that
//! moves; an optional fine patch (aligned to whole coarse cells, its border nodes taken from the
//! coarse interpolation so the map stays continuous) covers the mouth, where the lips — thinner
//! than a coarse cell — turn sharply from their own motion to the squash of an opening.
//!
//! Because the map is bilinear per cell, its Jacobian determinant is an affine function of the
//! position inside the cell, so its minimum over the whole image is attained at a cell corner:
//! [`WarpField::min_jacobian`] certifies the map the renderer actually uses, not an
//! approximation of it.

use super::geometry::{Ellipse, smoothstep};
use super::tps::Tps;
use crate::landmarks::Point;
use rayon::prelude::*;

/// Displacements on one regular grid.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Grid {
    pub x0: i32,
    pub y0: i32,
    pub step: u32,
    pub nx: usize,
    pub ny: usize,
    pub d: Vec<[f32; 2]>,
}

impl Grid {
    fn empty() -> Grid {
        Grid {
            x0: 0,
            y0: 0,
            step: 1,
            nx: 0,
            ny: 0,
            d: Vec::new(),
        }
    }

    /// Whether the grid has at least one cell.
    pub fn has_cells(&self) -> bool {
        self.nx >= 2 && self.ny >= 2
    }

    /// Last node coordinates (inclusive extent).
    pub fn x1(&self) -> i32 {
        self.x0 + (self.nx as i32 - 1) * self.step as i32
    }

    pub fn y1(&self) -> i32 {
        self.y0 + (self.ny as i32 - 1) * self.step as i32
    }

    /// Cell indices and fractions of `p`, or `None` outside the grid.
    fn locate(&self, p: Point) -> Option<(usize, usize, f32, f32)> {
        if !self.has_cells() {
            return None;
        }
        let s = self.step as f32;
        let u = (p.x - self.x0 as f32) / s;
        let v = (p.y - self.y0 as f32) / s;
        if !(u >= 0.0 && v >= 0.0 && u <= (self.nx - 1) as f32 && v <= (self.ny - 1) as f32) {
            return None;
        }
        let i = (u.floor() as usize).min(self.nx - 2);
        let j = (v.floor() as usize).min(self.ny - 2);
        Some((i, j, u - i as f32, v - j as f32))
    }

    fn displacement(&self, p: Point) -> Option<Point> {
        let (i, j, fu, fv) = self.locate(p)?;
        let at = |i: usize, j: usize| self.d[j * self.nx + i];
        let (a, b, c, e) = (at(i, j), at(i + 1, j), at(i, j + 1), at(i + 1, j + 1));
        let lerp2 = |k: usize| {
            let top = a[k] + (b[k] - a[k]) * fu;
            let bot = c[k] + (e[k] - c[k]) * fu;
            top + (bot - top) * fv
        };
        Some(Point::new(lerp2(0), lerp2(1)))
    }

    /// Smallest Jacobian determinant over the cells for which `skip(i, j)` is false.
    fn min_det(&self, skip: impl Fn(usize, usize) -> bool + Sync) -> f32 {
        if !self.has_cells() {
            return f32::INFINITY;
        }
        let s = self.step as f32;
        let nx = self.nx;
        (0..self.ny - 1)
            .into_par_iter()
            .map(|j| {
                let mut worst = f32::INFINITY;
                for i in 0..nx - 1 {
                    if skip(i, j) {
                        continue;
                    }
                    let at = |di: usize, dj: usize| {
                        let d = self.d[(j + dj) * nx + i + di];
                        // Node positions relative to the cell origin, in cell units.
                        Point::new(di as f32 + d[0] / s, dj as f32 + d[1] / s)
                    };
                    let (p00, p10, p01, p11) = (at(0, 0), at(1, 0), at(0, 1), at(1, 1));
                    let e = p10 - p00;
                    let g = p01 - p00;
                    let h = p11 - p10 - p01 + p00;
                    let base = e.cross(g);
                    let du = e.cross(h);
                    let dv = h.cross(g);
                    let corner = base.min(base + du).min(base + dv).min(base + du + dv);
                    worst = worst.min(corner);
                }
                worst
            })
            .reduce(|| f32::INFINITY, f32::min)
    }

    /// Minimum-norm node update that makes the interpolation hit each `(position, wanted)`
    /// exactly; nodes for which `frozen(node)` holds are left alone.
    fn pin(&mut self, points: &[(Point, Point)], frozen: impl Fn(usize, usize) -> bool) {
        let mut taps: Vec<(Vec<(usize, f32)>, Point)> = Vec::with_capacity(points.len());
        for &(p, want) in points {
            let (Some((i, j, fu, fv)), Some(now)) = (self.locate(p), self.displacement(p)) else {
                continue;
            };
            let corners = [
                (i, j, (1.0 - fu) * (1.0 - fv)),
                (i + 1, j, fu * (1.0 - fv)),
                (i, j + 1, (1.0 - fu) * fv),
                (i + 1, j + 1, fu * fv),
            ];
            let free: Vec<(usize, f32)> = corners
                .iter()
                .filter(|&&(ci, cj, w)| w > 0.0 && !frozen(ci, cj))
                .map(|&(ci, cj, w)| (cj * self.nx + ci, w))
                .collect();
            let err = want - now;
            if !free.is_empty() && err.is_finite() {
                taps.push((free, err));
            }
        }
        let n = taps.len();
        if n == 0 {
            return;
        }
        // (A Aᵀ + μI) λ = e, then δ = Aᵀ λ.
        const MU: f64 = 1e-4;
        let mut m = vec![0.0f64; n * n];
        let mut rhs = vec![0.0f64; n * 2];
        for a in 0..n {
            for b in a..n {
                let mut dot = 0.0f64;
                for &(na, wa) in &taps[a].0 {
                    for &(nb, wb) in &taps[b].0 {
                        if na == nb {
                            dot += f64::from(wa * wb);
                        }
                    }
                }
                m[a * n + b] = dot;
                m[b * n + a] = dot;
            }
            m[a * n + a] += MU;
            rhs[a * 2] = f64::from(taps[a].1.x);
            rhs[a * 2 + 1] = f64::from(taps[a].1.y);
        }
        if super::tps::solve_in_place(&mut m, &mut rhs, n).is_none() {
            return;
        }
        for (k, (nodes, _)) in taps.iter().enumerate() {
            let (lx, ly) = (rhs[k * 2] as f32, rhs[k * 2 + 1] as f32);
            for &(node, w) in nodes {
                self.d[node][0] += w * lx;
                self.d[node][1] += w * ly;
            }
        }
    }
}

/// Backward displacements on a coarse grid covering the part of the image that moves, with an
/// optional fine patch.
#[derive(Clone, Debug, PartialEq)]
pub struct WarpField {
    width: u32,
    height: u32,
    coarse: Grid,
    fine: Option<Grid>,
}

/// Where a grid lies: origin, spacing and node counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GridSpec {
    pub x0: i32,
    pub y0: i32,
    pub step: u32,
    pub nx: usize,
    pub ny: usize,
}

impl GridSpec {
    /// The grid with spacing `step` whose nodes cover the box `lo..=hi` clipped to the image.
    /// `None` when the box misses the image.
    pub fn covering(lo: Point, hi: Point, width: u32, height: u32, step: u32) -> Option<GridSpec> {
        let step = step.max(1);
        let s = step as i32;
        let (wmax, hmax) = ((width.max(1) - 1) as f32, (height.max(1) - 1) as f32);
        let bx0 = lo.x.floor().max(0.0) as i32;
        let by0 = lo.y.floor().max(0.0) as i32;
        let bx1 = hi.x.ceil().min(wmax) as i32;
        let by1 = hi.y.ceil().min(hmax) as i32;
        if bx1 <= bx0 || by1 <= by0 {
            return None;
        }
        let x0 = bx0.div_euclid(s) * s;
        let y0 = by0.div_euclid(s) * s;
        let nx = ((bx1 - x0) as usize).div_ceil(step as usize) + 1;
        let ny = ((by1 - y0) as usize).div_ceil(step as usize) + 1;
        Some(GridSpec {
            x0,
            y0,
            step,
            nx,
            ny,
        })
    }
}

/// Evaluate `tps`, faded by `falloff` (full up to normalised radius `inner`, zero from 1 on),
/// at the nodes of `spec`.
fn evaluate(tps: &Tps, falloff: &Ellipse, inner: f32, spec: GridSpec) -> Grid {
    let mut d = vec![[0.0f32; 2]; spec.nx * spec.ny];
    d.par_chunks_mut(spec.nx).enumerate().for_each(|(j, row)| {
        let y = (spec.y0 + (j as i32) * spec.step as i32) as f32;
        let x_at = |i: usize| (spec.x0 + (i as i32) * spec.step as i32) as f32;
        // Only the stretch of the row inside the falloff ellipse needs the spline.
        let inside = |i: &usize| falloff.rho(Point::new(x_at(*i), y)) < 1.0;
        let Some(first) = (0..row.len()).find(inside) else {
            return;
        };
        let last = (first..row.len()).rev().find(inside).unwrap_or(first);
        let mut values = vec![Point::default(); last - first + 1];
        tps.eval_row(x_at(first), spec.step as f32, y, &mut values);
        for (i, v) in (first..=last).zip(values) {
            let rho = falloff.rho(Point::new(x_at(i), y));
            if rho < 1.0 {
                let w = 1.0 - smoothstep(inner, 1.0, rho);
                row[i] = [v.x * w, v.y * w];
            }
        }
    });
    Grid {
        x0: spec.x0,
        y0: spec.y0,
        step: spec.step,
        nx: spec.nx,
        ny: spec.ny,
        d,
    }
}

impl WarpField {
    /// The identity map of a `width × height` image.
    pub fn identity(width: u32, height: u32) -> WarpField {
        WarpField {
            width,
            height,
            coarse: Grid::empty(),
            fine: None,
        }
    }

    /// Evaluate `tps` on the coarse grid `spec`, fading it out with `falloff`: full strength
    /// at normalised radius `inner` and below, zero at 1 and beyond.
    pub(crate) fn from_tps(
        tps: &Tps,
        falloff: &Ellipse,
        inner: f32,
        spec: GridSpec,
        width: u32,
        height: u32,
    ) -> WarpField {
        WarpField {
            width,
            height,
            coarse: evaluate(tps, falloff, inner, spec),
            fine: None,
        }
    }

    /// Add a fine patch over the box `lo..=hi` (grown to whole coarse cells, clipped to the
    /// coarse grid), `subdivisions` fine cells per coarse cell side. Interior nodes come from
    /// `tps`, border nodes from the coarse interpolation. Replaces an earlier patch.
    pub(crate) fn refine(
        &mut self,
        tps: &Tps,
        falloff: &Ellipse,
        inner: f32,
        (lo, hi): (Point, Point),
        subdivisions: u32,
    ) {
        let c = &self.coarse;
        if !c.has_cells() || subdivisions < 2 || !c.step.is_multiple_of(subdivisions) {
            return;
        }
        let s = c.step as f32;
        let i0 = ((lo.x - c.x0 as f32) / s).floor().max(0.0) as usize;
        let j0 = ((lo.y - c.y0 as f32) / s).floor().max(0.0) as usize;
        let i1 = (((hi.x - c.x0 as f32) / s).ceil().max(0.0) as usize).min(c.nx - 1);
        let j1 = (((hi.y - c.y0 as f32) / s).ceil().max(0.0) as usize).min(c.ny - 1);
        if i1 <= i0 || j1 <= j0 {
            return;
        }
        let q = subdivisions as usize;
        let spec = GridSpec {
            x0: c.x0 + (i0 as i32) * c.step as i32,
            y0: c.y0 + (j0 as i32) * c.step as i32,
            step: c.step / subdivisions,
            nx: (i1 - i0) * q + 1,
            ny: (j1 - j0) * q + 1,
        };
        let mut fine = evaluate(tps, falloff, inner, spec);
        for j in 0..spec.ny {
            for i in 0..spec.nx {
                if i == 0 || j == 0 || i == spec.nx - 1 || j == spec.ny - 1 {
                    let p = Point::new(
                        (spec.x0 + (i as i32) * spec.step as i32) as f32,
                        (spec.y0 + (j as i32) * spec.step as i32) as f32,
                    );
                    let d = c.displacement(p).unwrap_or_default();
                    fine.d[j * spec.nx + i] = [d.x, d.y];
                }
            }
        }
        self.fine = Some(fine);
    }

    /// Adjust nodes by the least change that makes the map hit each `(position, wanted
    /// displacement)` exactly.
    ///
    /// Between nodes a grid can only interpolate, and next to a landmark where the spline
    /// turns sharply interpolation can miss the landmark by a fraction of a pixel. Points in
    /// the fine patch are pinned on its inner nodes (its border must keep matching the coarse
    /// grid), the others on the coarse grid outside the patch.
    pub(crate) fn pin(&mut self, points: &[(Point, Point)]) {
        type Pins = Vec<(Point, Point)>;
        let (coarse_pts, fine_pts): (Pins, Pins) = points
            .iter()
            .partition(|(p, _)| self.fine.as_ref().is_none_or(|f| f.locate(*p).is_none()));
        let patch = self.fine.as_ref().map(|f| (f.x0, f.y0, f.x1(), f.y1()));
        let (cx0, cy0, cs) = (self.coarse.x0, self.coarse.y0, self.coarse.step as i32);
        self.coarse.pin(&coarse_pts, |i, j| {
            let (x, y) = (cx0 + i as i32 * cs, cy0 + j as i32 * cs);
            patch.is_some_and(|(x0, y0, x1, y1)| x >= x0 && x <= x1 && y >= y0 && y <= y1)
        });
        if let Some(fine) = &mut self.fine {
            let (nx, ny) = (fine.nx, fine.ny);
            fine.pin(&fine_pts, |i, j| {
                i == 0 || j == 0 || i == nx - 1 || j == ny - 1
            });
        }
    }

    /// Size of the image the field maps.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Whether the field moves nothing.
    pub fn is_identity(&self) -> bool {
        self.coarse.d.iter().all(|v| v[0] == 0.0 && v[1] == 0.0)
    }

    /// The coarse grid and the fine patch, for the renderer.
    pub(crate) fn grids(&self) -> (&Grid, Option<&Grid>) {
        (&self.coarse, self.fine.as_ref())
    }

    /// Backward displacement at any position (bilinear between nodes, zero outside the grids).
    pub fn displacement(&self, p: Point) -> Point {
        self.fine
            .as_ref()
            .and_then(|f| f.displacement(p))
            .or_else(|| self.coarse.displacement(p))
            .unwrap_or_default()
    }

    /// The backward map: the character-image position shown at output position `p`.
    pub fn sample(&self, p: Point) -> Point {
        p + self.displacement(p)
    }

    /// Jacobian of the backward map at `p` by central differences over ±¼ px (columns:
    /// derivative along x, along y).
    pub fn jacobian(&self, p: Point) -> [[f32; 2]; 2] {
        let h = 0.25f32;
        let dx =
            (self.sample(p + Point::new(h, 0.0)) - self.sample(p - Point::new(h, 0.0))) * (0.5 / h);
        let dy =
            (self.sample(p + Point::new(0.0, h)) - self.sample(p - Point::new(0.0, h))) * (0.5 / h);
        [[dx.x, dx.y], [dy.x, dy.y]]
    }

    /// Smallest Jacobian determinant of the backward map over the whole image (1 where the map
    /// is the identity). Positive means the map is locally injective everywhere; with the
    /// identity outside the grid that makes it a bijection of the plane.
    pub fn min_jacobian(&self) -> f32 {
        let patch = self.fine.as_ref().map(|f| (f.x0, f.y0, f.x1(), f.y1()));
        let c = &self.coarse;
        let (cx0, cy0, cs) = (c.x0, c.y0, c.step as i32);
        let coarse = c.min_det(|i, j| {
            let (x, y) = (cx0 + i as i32 * cs, cy0 + j as i32 * cs);
            patch.is_some_and(|(x0, y0, x1, y1)| x >= x0 && x < x1 && y >= y0 && y < y1)
        });
        let fine = self
            .fine
            .as_ref()
            .map_or(f32::INFINITY, |f| f.min_det(|_, _| false));
        coarse.min(fine).min(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_from(nodes: Vec<[f32; 2]>, nx: usize, ny: usize, step: u32) -> WarpField {
        WarpField {
            width: 64,
            height: 64,
            coarse: Grid {
                x0: 0,
                y0: 0,
                step,
                nx,
                ny,
                d: nodes,
            },
            fine: None,
        }
    }

    #[test]
    fn identity_has_unit_jacobian_and_no_motion() {
        let f = WarpField::identity(10, 10);
        assert_eq!(f.min_jacobian(), 1.0);
        assert_eq!(f.sample(Point::new(3.0, 4.0)), Point::new(3.0, 4.0));
        assert!(f.is_identity());
    }

    #[test]
    fn min_jacobian_sees_a_fold_inside_the_grid() {
        // A 3×3 grid whose centre node is pushed past its right neighbour: the map folds.
        let mut nodes = vec![[0.0f32; 2]; 9];
        nodes[4] = [12.0, 0.0];
        let f = field_from(nodes.clone(), 3, 3, 8);
        assert!(f.min_jacobian() < 0.0);
        nodes[4] = [3.0, 0.0];
        let f = field_from(nodes, 3, 3, 8);
        let m = f.min_jacobian();
        assert!(m > 0.0 && m < 1.0, "{m}");
        // The finite-difference Jacobian agrees with the corner bound.
        let j = f.jacobian(Point::new(10.0, 4.0));
        let det = j[0][0] * j[1][1] - j[0][1] * j[1][0];
        assert!(det >= m - 1e-4, "{det} vs {m}");
    }

    #[test]
    fn pinning_hits_the_wanted_values_and_a_patch_stays_continuous() {
        let mut nodes = vec![[0.0f32; 2]; 25];
        for (k, n) in nodes.iter_mut().enumerate() {
            *n = [(k as f32 * 0.7).sin(), (k as f32 * 1.3).cos()];
        }
        let mut f = field_from(nodes, 5, 5, 8);
        let wants = [
            (Point::new(9.0, 11.0), Point::new(2.0, -1.0)),
            (Point::new(21.5, 3.25), Point::new(-0.5, 0.5)),
        ];
        f.pin(&wants);
        for (p, w) in wants {
            assert!(
                f.displacement(p).distance(w) < 1e-3,
                "{:?}",
                f.displacement(p)
            );
        }
        // A patch whose interior is constant: continuous with the coarse grid at its border.
        let centres = [
            Point::new(-50.0, -50.0),
            Point::new(100.0, -50.0),
            Point::new(-50.0, 100.0),
            Point::new(100.0, 100.0),
        ];
        let tps = Tps::solve(&centres, &[Point::new(0.5, 0.0); 4]).unwrap();
        let all = Ellipse {
            centre: Point::new(16.0, 16.0),
            axis: Point::new(1.0, 0.0),
            a: 1000.0,
            b: 1000.0,
        };
        f.refine(
            &tps,
            &all,
            0.9,
            (Point::new(9.0, 9.0), Point::new(15.0, 15.0)),
            4,
        );
        let edge = Point::new(8.0, 12.0);
        let inside = f.displacement(edge + Point::new(0.01, 0.0));
        let outside = f.displacement(edge - Point::new(0.01, 0.0));
        assert!(inside.distance(outside) < 0.01, "{inside:?} {outside:?}");
        assert!(
            f.displacement(Point::new(12.0, 12.0))
                .distance(Point::new(0.5, 0.0))
                < 1e-3
        );
    }

    #[test]
    fn grid_covers_the_box_clipped_to_the_image() {
        let g =
            GridSpec::covering(Point::new(-20.0, 5.5), Point::new(30.2, 200.0), 64, 64, 8).unwrap();
        assert_eq!((g.x0, g.y0), (0, 0));
        assert!(g.x0 + (g.nx as i32 - 1) * 8 >= 31);
        assert!(g.y0 + (g.ny as i32 - 1) * 8 >= 63);
        assert!(
            GridSpec::covering(Point::new(100.0, 0.0), Point::new(200.0, 9.0), 64, 64, 8).is_none()
        );
    }
}
