//! Compares ways of using a candidate 68-point network in the matcher, on tuning sets only
//! (folders of pictures with ground truth; never the evaluation sets of docs/evaluation.md):
//!
//!     cargo run --release -p faceshot-core --example tune_matcher -- NET.safetensors DIR...
//!
//! Per folder and strategy: mean NME and failure rate (NME > 0.1). Strategies: `auto` (the
//! matcher as built), `mesh` (face mesh + the built-in face-api.js net), `mesh+cand` (the mesh
//! blended with the candidate instead), `cand` (the candidate alone: coarse + refined pass),
//! `seeded` (the candidate's refined pass on the crop the mesh's points give; the candidate
//! alone where the mesh finds no face), `structural`, and two ways of choosing per picture:
//! `mesh|cand` (the mesh blended with the candidate where the mesh finds a face, else the
//! candidate when its flip spread says it sees one, else the structural fit) and
//! `seeded|cand` (the same with `seeded` for the mesh's faces).

use faceshot_core::landmarks::Landmarks;
use faceshot_core::matching::eval::{FAILURE_NME, find_items, nme, read_ground_truth};
use faceshot_core::matching::{
    MESH_ACCEPT, MatchOptions, landmark_net, learned, match_face, mesh_face, mesh_face_with,
    on_white, shape, structural,
};
use faceshot_core::media::load_image;
use faceshot_core::nn::Landmark68Net;
use faceshot_core::nn::layers::Weights;
use faceshot_core::progress::NoProgress;
use std::collections::BTreeMap;
use std::path::Path;

const STRATEGIES: [&str; 10] = [
    "auto",
    "mesh",
    "mesh+cand",
    "cand",
    "seeded",
    "structural",
    "mesh|cand",
    "seeded|cand",
    "avg(mesh,seeded)",
    "avg(structural,cand)",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [net_path, dirs @ ..] = &args[..] else {
        return Err("usage: tune_matcher NET.safetensors DIR...".into());
    };
    let cand = Landmark68Net::from_weights(&Weights::load(Path::new(net_path))?)?;
    let model = shape::ShapeModel::default_model();
    println!("| set | n | {} |", STRATEGIES.join(" | "));
    println!("|---|---|{}", "---|".repeat(STRATEGIES.len()));
    for dir in dirs {
        let items = find_items(Path::new(dir))?;
        let mut errs: BTreeMap<&str, Vec<f32>> = BTreeMap::new();
        let mut grid_errs: BTreeMap<usize, Vec<f32>> = BTreeMap::new();
        for item in &items {
            let truth = read_ground_truth(&item.truth)?;
            let image = load_image(&item.image)?;
            let rgb = on_white(&image);
            let mut got: BTreeMap<&str, Landmarks> = BTreeMap::new();
            let auto_r = match_face(&image, &MatchOptions::default(), &NoProgress)?;
            got.insert("auto", auto_r.face.points);
            let sf = structural::fit(&image, model);
            let structural_pts = sf.face.points;
            got.insert("structural", structural_pts);
            let learned = learned::learned_face_with(&image, &cand)?;
            let cand_pts = learned.as_ref().map(|l| l.face.points);
            let cand_sees = learned
                .as_ref()
                .is_some_and(|l| l.spread <= learned::NO_FACE_SPREAD);
            if let Some(p) = cand_pts {
                got.insert("cand", p);
            }
            let mesh = mesh_face(&image)?.filter(|m| m.presence >= MESH_ACCEPT);
            let mesh_cand = mesh_face_with(&image, &cand)?.filter(|m| m.presence >= MESH_ACCEPT);
            if let Some(m) = &mesh {
                got.insert("mesh", m.face.points);
            }
            if let Some(m) = &mesh_cand {
                got.insert("mesh+cand", m.face.points);
            }
            let seeded = match &mesh {
                Some(m) => landmark_net::net_points(&cand, &rgb, &m.face.points)?,
                None => cand_pts,
            };
            if let Some(p) = seeded {
                got.insert("seeded", p);
            }
            if let (Some(m), Some(p)) = (&mesh, seeded) {
                got.insert("avg(mesh,seeded)", average(&m.face.points, &p));
            }
            if let Some(p) = cand_pts {
                got.insert("avg(structural,cand)", average(&structural_pts, &p));
            }
            let fallback = if cand_sees {
                cand_pts.unwrap_or(structural_pts)
            } else {
                structural_pts
            };
            got.insert(
                "mesh|cand",
                mesh_cand.as_ref().map_or(fallback, |m| m.face.points),
            );
            got.insert(
                "seeded|cand",
                match (&mesh, seeded) {
                    (Some(_), Some(p)) => p,
                    _ => fallback,
                },
            );
            // Gated choice (see `gate`), for each threshold pair of the grid.
            let mesh_branch = auto_r.note.contains("face mesh");
            let f = &sf.findings;
            let outlined = f.eyes && f.face && !f.round_eyes && !f.one_eye;
            for (k, &(t, t2, mode)) in GRID.iter().enumerate() {
                let pts = gate(
                    &GateInput {
                        auto: auto_r.face.points,
                        auto_is_mesh: auto_r.backend == faceshot_core::matching::Backend::Mesh,
                        auto_is_structural: auto_r.backend
                            == faceshot_core::matching::Backend::Structural,
                        mesh_branch,
                        mesh: mesh.as_ref().map(|m| m.face.points),
                        seeded: seeded.filter(|_| mesh.is_some()),
                        mesh_cand: mesh_cand.as_ref().map(|m| m.face.points),
                        structural: sf.face.points,
                        outlined,
                        cand: cand_pts.filter(|_| cand_sees),
                    },
                    t,
                    t2,
                    mode,
                );
                let e = nme(&pts, &truth).unwrap_or(1.0);
                grid_errs.entry(k).or_default().push(e);
            }
            for s in STRATEGIES {
                // A strategy with no answer counts as a failure at NME 1.
                let e = got.get(s).and_then(|p| nme(p, &truth)).unwrap_or(1.0);
                errs.entry(s).or_default().push(e);
            }
        }
        let cells: Vec<String> = STRATEGIES
            .iter()
            .map(|s| {
                let e = &errs[s];
                let mean = e.iter().sum::<f32>() / e.len().max(1) as f32;
                let fail =
                    e.iter().filter(|&&x| x > FAILURE_NME).count() as f32 / e.len().max(1) as f32;
                format!("{mean:.4}, {:.0} %", 100.0 * fail)
            })
            .collect();
        println!("| {dir} | {} | {} |", items.len(), cells.join(" | "));
        for (k, (t, t2, seeded)) in GRID.iter().enumerate() {
            let e = &grid_errs[&k];
            let mean = e.iter().sum::<f32>() / e.len().max(1) as f32;
            let fail =
                e.iter().filter(|&&x| x > FAILURE_NME).count() as f32 / e.len().max(1) as f32;
            eprintln!(
                "gate {dir} t={t} t2={t2} mode={seeded}: {mean:.4} {:.0} %",
                100.0 * fail
            );
        }
    }
    Ok(())
}

/// Thresholds tried for [`gate`]: (structural–candidate agreement, mesh–candidate agreement,
/// where `auto` keeps the mesh: 0 its points, 1 the candidate's refined pass on the mesh's crop,
/// 2 the mesh blended with the candidate instead of the built-in net, 3 the mean of the mesh's
/// points and the refined pass on its crop, and of the structural fit and the candidate; 4 the
/// candidate where `auto` keeps the structural fit in the mesh's branch, 5 the mean of the two
/// there and in the structural branch).
const GRID: [(f32, f32, u8); 16] = [
    (0.0, 0.15, 0),
    (0.08, 0.15, 0),
    (0.15, 0.15, 0),
    (0.15, 0.25, 0),
    (0.2, 0.3, 0),
    (0.15, 0.15, 1),
    (0.15, 0.25, 1),
    (0.2, 0.3, 1),
    (0.15, 0.15, 2),
    (0.15, 0.25, 2),
    (0.2, 0.3, 2),
    (0.15, 0.15, 3),
    (0.2, 0.3, 3),
    (0.0, 0.15, 4),
    (0.15, 0.15, 5),
    (0.0, 0.15, 5),
];

/// The point-wise mean of two readings of a face.
fn average(a: &Landmarks, b: &Landmarks) -> Landmarks {
    std::array::from_fn(|i| a[i].lerp(b[i], 0.5))
}

struct GateInput {
    auto: Landmarks,
    auto_is_mesh: bool,
    auto_is_structural: bool,
    mesh_branch: bool,
    mesh: Option<Landmarks>,
    seeded: Option<Landmarks>,
    mesh_cand: Option<Landmarks>,
    structural: Landmarks,
    outlined: bool,
    cand: Option<Landmarks>,
}

/// The mesh's branch of `auto` where the mesh found a face and the candidate (when it sees one)
/// agrees with it within `t2`; else the structural fit where it outlined a face and agrees with
/// the candidate within `t`; else the candidate; else the structural fit.
fn gate(g: &GateInput, t: f32, t2: f32, mode: u8) -> Landmarks {
    let agree = |a: &Landmarks, b: &Landmarks, t: f32| nme(a, b).is_some_and(|e| e < t);
    if let Some(m) = &g.mesh
        && g.mesh_branch
        && g.cand.as_ref().is_none_or(|c| agree(m, c, t2))
    {
        return match (g.auto_is_mesh, mode, g.seeded, g.mesh_cand) {
            (true, 1, Some(s), _) => s,
            (true, 2, _, Some(m)) => m,
            (true, 3, Some(s), _) => average(&g.auto, &s),
            (false, 4, _, _) if g.auto_is_structural => g.cand.unwrap_or(g.auto),
            (false, 5, _, _) if g.auto_is_structural => {
                g.cand.map_or(g.auto, |c| average(&g.auto, &c))
            }
            _ => g.auto,
        };
    }
    match &g.cand {
        Some(c) if g.outlined && agree(&g.structural, c, t) && (mode == 3 || mode == 5) => {
            average(&g.structural, c)
        }
        Some(c) if g.outlined && agree(&g.structural, c, t) => g.structural,
        Some(c) => *c,
        None => g.structural,
    }
}
