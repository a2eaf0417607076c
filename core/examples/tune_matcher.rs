//! Compares ways of using a candidate 68-point network in the matcher, on tuning sets only
//! (folders of pictures with ground truth; never the evaluation sets of docs/evaluation.md):
//!
//!     cargo run --release -p faceshot-core --example tune_matcher -- NET.safetensors DIR...
//!
//! `NET` may be `COARSE.safetensors+REFINED.safetensors`: one network for each pass of the
//! learned backend (the refined one also reads the mesh's crops).
//!
//! Per folder and strategy: mean NME and failure rate (NME > 0.1). Strategies: `auto` (the
//! matcher as built), `mesh` (face mesh + the built-in face-api.js net), `mesh+cand` (the mesh
//! blended with the candidate instead), `cand` (the candidate alone: coarse + refined pass),
//! `seeded` (the candidate's refined pass on the crop the mesh's points give; the candidate
//! alone where the mesh finds no face), `structural`, and two ways of choosing per picture:
//! `mesh|cand` (the mesh blended with the candidate where the mesh finds a face, else the
//! candidate when its flip spread says it sees one, else the structural fit) and
//! `seeded|cand` (the same with `seeded` for the mesh's faces); `avg(mesh,seeded)` and
//! `avg(structural,cand)`: the point-wise means of two readings; `fuse(mesh,cand)` and
//! `swap(mesh,cand)`: the candidate's points moved toward the mesh's by their confidence, or
//! replaced by them under ½. On stderr: `auto` simulated over a grid of gate choices (see
//! `GRID`).

use faceshot_core::landmarks::Landmarks;
use faceshot_core::matching::eval::{FAILURE_NME, find_items, nme, read_ground_truth};
use faceshot_core::matching::{
    MESH_ACCEPT, MatchOptions, MeshFace, drawn_face, landmark_net, lean_weight, learned,
    match_face, mesh_face, mesh_face_with, on_white, shape, structural,
};
use faceshot_core::media::load_image;
use faceshot_core::nn::Landmark68Net;
use faceshot_core::nn::layers::Weights;
use faceshot_core::progress::NoProgress;
use std::collections::BTreeMap;
use std::path::Path;

const STRATEGIES: [&str; 12] = [
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
    "fuse(mesh,cand)",
    "swap(mesh,cand)",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [net_path, dirs @ ..] = &args[..] else {
        return Err("usage: tune_matcher NET.safetensors[+REFINED.safetensors] DIR...".into());
    };
    // `COARSE+REFINED`: a network for each pass of the learned backend.
    let load = |p: &str| -> Result<Landmark68Net, Box<dyn std::error::Error>> {
        Ok(Landmark68Net::from_weights(&Weights::load(Path::new(p))?)?)
    };
    let (coarse_net, refined_net) = match net_path.split_once('+') {
        Some((c, r)) => (load(c)?, Some(load(r)?)),
        None => (load(net_path)?, None),
    };
    let nets = learned::PassNets {
        coarse: &coarse_net,
        refined: refined_net.as_ref().unwrap_or(&coarse_net),
    };
    let model = shape::ShapeModel::default_model();
    println!("| set | n | {} |", STRATEGIES.join(" | "));
    println!("|---|---|{}", "---|".repeat(STRATEGIES.len()));
    for dir in dirs {
        let items = find_items(Path::new(dir))?;
        let mut errs: BTreeMap<&str, Vec<f32>> = BTreeMap::new();
        let mut grid_errs: BTreeMap<usize, Vec<f32>> = BTreeMap::new();
        // Where the candidate sees no face: (structural fit's NME, candidate's NME).
        let mut unseen: Vec<(f32, f32)> = Vec::new();
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
            let learned = learned::learned_face_with(&image, nets)?;
            let cand_pts = learned.as_ref().map(|l| l.face.points);
            let cand_searched = learned.as_ref().is_some_and(|l| l.searched);
            let cand_sees = learned
                .as_ref()
                .is_some_and(|l| l.spread <= learned::NO_FACE_SPREAD);
            if let Some(p) = cand_pts {
                got.insert("cand", p);
            }
            let mesh = mesh_face(&image)?.filter(|m| m.presence >= MESH_ACCEPT);
            let mesh_cand =
                mesh_face_with(&image, nets.refined)?.filter(|m| m.presence >= MESH_ACCEPT);
            if let Some(m) = &mesh {
                got.insert("mesh", m.face.points);
            }
            if let Some(m) = &mesh_cand {
                got.insert("mesh+cand", m.face.points);
            }
            let seeded = match &mesh {
                Some(m) => landmark_net::net_points(nets.refined, &rgb, &m.face.points)?,
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
            let cand_conf = learned.as_ref().map(|l| l.face.confidence);
            if let (Some(p), Some(c)) = (cand_pts, cand_conf) {
                let m = mesh.as_ref().map(|m| &m.face.points);
                got.insert("fuse(mesh,cand)", m.map_or(p, |m| fuse(&p, &c, m, false)));
                got.insert("swap(mesh,cand)", m.map_or(p, |m| fuse(&p, &c, m, true)));
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
            if !cand_sees {
                let e = |p: Option<Landmarks>| p.and_then(|p| nme(&p, &truth)).unwrap_or(1.0);
                unseen.push((e(Some(structural_pts)), e(cand_pts)));
            }
            // `auto`'s choice with each mesh–candidate agreement threshold of the grid.
            let drawn_by_structural = mesh.as_ref().is_some_and(|m| drawn_face(&sf, m).is_some());
            let cand = cand_pts.filter(|_| cand_sees);
            let found_nothing = sf.findings.nothing();
            for (k, &(t, mode)) in GRID.iter().enumerate() {
                let drawn = drawn_by_structural && mode & 4 == 0;
                let structural_pts = match cand_pts {
                    Some(c) if mode & 8 != 0 && !cand_sees && !found_nothing => c,
                    _ => structural_pts,
                };
                // A reading of the crop search never overrules the mesh (as in the matcher).
                let agrees = |m: &MeshFace| {
                    cand.filter(|_| !cand_searched)
                        .is_none_or(|c| nme(&m.face.points, &c).is_none_or(|e| e < t))
                };
                let seeded_or = |p: Landmarks| seeded.filter(|_| mesh.is_some()).unwrap_or(p);
                let pts = match (&mesh, cand) {
                    (Some(m), _) if !drawn && agrees(m) && mode & 2 != 0 => {
                        seeded_or(m.face.points)
                    }
                    // Bit 512: the mesh blended with the candidate instead of face-api.js.
                    (Some(m), _) if !drawn && agrees(m) && mode & 512 != 0 => mesh_cand
                        .as_ref()
                        .map_or(m.face.points, |mc| mc.face.points),
                    (Some(m), _) if !drawn && agrees(m) => m.face.points,
                    (Some(_), Some(c)) if !drawn && mode & 1 != 0 => seeded_or(c),
                    // A searched face answers for a drawn one only where it is that face.
                    (Some(m), Some(c))
                        if drawn
                            && cand_searched
                            && nme(&m.face.points, &c).is_none_or(|e| e >= t) =>
                    {
                        structural_pts
                    }
                    (_, Some(c)) => c,
                    _ => structural_pts,
                };
                // Bit 128: the candidate's answer averaged with `seeded` where the mesh
                // stands and the face is not drawn.
                let from_cand = cand_pts.is_some_and(|c| c == pts);
                let pts = match (seeded, &mesh) {
                    (Some(sd), Some(_))
                        if from_cand && !cand_searched && !drawn && mode & 128 != 0 =>
                    {
                        average(&pts, &sd)
                    }
                    _ => pts,
                };
                // Bits 16 / 32: the candidate's answer fused with the mesh's points by
                // confidence (soft / hard) where both read the same face (not a searched one,
                // closer than an eye distance); bit 64: only where the face is not drawn.
                let pts = match (&mesh, cand_conf) {
                    (Some(m), Some(c))
                        if from_cand
                            && !cand_searched
                            && nme(&m.face.points, &pts).is_some_and(|d| d < 1.0)
                            && mode & 48 != 0
                            && (mode & 64 == 0 || !drawn) =>
                    {
                        // Bit 256: weighed by the mesh's confidence too.
                        let c = match mode & 256 != 0 {
                            true => {
                                std::array::from_fn(|i| lean_weight(c[i], m.face.confidence[i]))
                            }
                            false => c,
                        };
                        fuse(&pts, &c, &m.face.points, mode & 32 != 0)
                    }
                    _ => pts,
                };
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
                let (mean, fail) = mean_and_failures(e);
                format!("{mean:.4}, {:.0} %", 100.0 * fail)
            })
            .collect();
        println!("| {dir} | {} | {} |", items.len(), cells.join(" | "));
        let n = unseen.len() as f32;
        if !unseen.is_empty() {
            eprintln!(
                "{dir}: the candidate sees no face in {}: structural {:.4}, candidate {:.4}",
                unseen.len(),
                unseen.iter().map(|e| e.0).sum::<f32>() / n,
                unseen.iter().map(|e| e.1).sum::<f32>() / n
            );
        }
        for (k, (t, mode)) in GRID.iter().enumerate() {
            let e = &grid_errs[&k];
            let (mean, fail) = mean_and_failures(e);
            eprintln!(
                "gate {dir} mesh-agree={t} mode={mode}: {mean:.4} {:.0} %",
                100.0 * fail
            );
        }
    }
    Ok(())
}

/// `auto` simulated with each (mesh–candidate agreement threshold, the matcher's
/// `MESH_LEARNED_AGREE`; mode): mode 0 the gate alone (the shipped `auto` is mode 344); bit 1:
/// where the candidate disagrees with the mesh's reading of a face that is not drawn, the
/// candidate's refined pass on the mesh's crop (`seeded`) instead of the candidate's own
/// reading; bit 2: `seeded` where the mesh stands; bit 4: no structural fit's test for a drawn
/// face; bit 8: the candidate's reading where it sees no face, instead of the structural fit
/// (unless that found nothing: the placeholder stays); bits 16 / 32: the candidate's answer
/// leaning on the mesh's points by its confidence (soft / hard: `fuse`); bit 64: only where
/// the face is not drawn; bit 128: the answer averaged with `seeded`; bit 256: the leaning
/// weighed by the mesh's confidence too (`auto`'s `lean_on_mesh`); bit 512: the mesh blended
/// with the candidate instead of face-api.js where the mesh answers.
const GRID: [(f32, u16); 28] = [
    (0.05, 0),
    (0.08, 0),
    (0.1, 0),
    (0.12, 0),
    (0.15, 0),
    (0.2, 0),
    (0.1, 1),
    (0.1, 2),
    (0.1, 3),
    (0.15, 1),
    (0.1, 4),
    (0.05, 8),
    (0.08, 8),
    (0.1, 8),
    (0.1, 12),
    (0.05, 12),
    (0.05, 8 | 16),
    (0.05, 8 | 32),
    (0.05, 8 | 16 | 64),
    (0.05, 8 | 32 | 64),
    (0.05, 8 | 1),
    (0.05, 8 | 64 | 128),
    (0.05, 8 | 16 | 64 | 128),
    (0.05, 8 | 16 | 256),
    (0.05, 8 | 16 | 64 | 256),
    (0.05, 8 | 32 | 64 | 256),
    (0.05, 8 | 512),
    (0.05, 8 | 16 | 64 | 256 | 512),
];

/// Mean NME and share of failures (NME over [`FAILURE_NME`]) of a set's errors.
fn mean_and_failures(e: &[f32]) -> (f32, f32) {
    let n = e.len().max(1) as f32;
    let failures = e.iter().filter(|&&x| x > FAILURE_NME).count() as f32;
    (e.iter().sum::<f32>() / n, failures / n)
}

/// The candidate's points moved toward the mesh's by their confidence: each point
/// `c·cand + (1 − c)·mesh` (soft), or the mesh's point where `c < ½` (hard).
fn fuse(cand: &Landmarks, conf: &[f32; 68], mesh: &Landmarks, hard: bool) -> Landmarks {
    std::array::from_fn(|i| {
        let c = conf[i].clamp(0.0, 1.0);
        match hard {
            true if c < 0.5 => mesh[i],
            true => cand[i],
            false => mesh[i].lerp(cand[i], c),
        }
    })
}

/// The point-wise mean of two readings of a face.
fn average(a: &Landmarks, b: &Landmarks) -> Landmarks {
    std::array::from_fn(|i| a[i].lerp(b[i], 0.5))
}
