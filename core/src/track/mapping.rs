//! 468 mesh vertices → the 68-point iBUG layout.
//!
//! Two maps: the widely used single-vertex table ([`Mesh68Map::single_vertex`]) and a fitted one
//! ([`Mesh68Map::fitted`]) where each of the 68 points is an affine combination (weights summing
//! to one) of a few nearby mesh vertices, fitted by `tools/fit_mesh68.py` on real faces read by
//! face-api.js's network (trained on human annotations) and stored in `models/mesh68.json`. Mesh
//! vertices do not sit where the 300-W jaw and brow points are defined (the 300-W jaw follows the
//! visible outline, the brows their lower-middle line), so a combination lands closer than any
//! one vertex. The eye model's eyelid contour replaces the mesh's eye vertices before mapping,
//! so the eyelid points come from the eye model.

use serde::Deserialize;

use crate::landmarks::{LANDMARK_COUNT, Landmarks, Point};
use crate::nn::mesh::MESH_POINTS;

/// The commonly used single-vertex correspondence, in 68-point order.
pub const SINGLE_VERTEX: [usize; LANDMARK_COUNT] = [
    // jaw 0–16, image left to image right
    127, 234, 93, 132, 58, 172, 136, 150, 152, 379, 365, 397, 288, 361, 323, 454, 356,
    // brows 17–21, 22–26
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300, // nose bridge 27–30
    168, 197, 5, 4, // nostrils 31–35
    75, 97, 2, 326, 305, // eyes 36–41, 42–47
    33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380, // outer lips 48–59
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181, // inner lips 60–67
    78, 82, 13, 312, 308, 317, 14, 87,
];

static FITTED_JSON: &str = include_str!("../../../models/mesh68.json");

/// A linear map from mesh vertices to the 68 points.
#[derive(Debug, Clone, PartialEq)]
pub struct Mesh68Map {
    /// For each of the 68 points, `(vertex, weight)` pairs.
    pub terms: Vec<Vec<(usize, f32)>>,
}

#[derive(Deserialize)]
struct MapFile {
    landmarks: Vec<Vec<(usize, f32)>>,
}

impl Mesh68Map {
    /// The single-vertex table.
    pub fn single_vertex() -> Self {
        Self {
            terms: SINGLE_VERTEX.iter().map(|&v| vec![(v, 1.0)]).collect(),
        }
    }

    /// The fitted map shipped in `models/mesh68.json`.
    pub fn fitted() -> Self {
        // The embedded file is checked by a unit test; fall back to the table if it were broken.
        Self::from_json(FITTED_JSON).unwrap_or_else(|e| {
            tracing::error!("models/mesh68.json is invalid ({e}); using the single-vertex table");
            Self::single_vertex()
        })
    }

    /// Parses a map file `{"landmarks": [[[vertex, weight], …], … 68 entries]}`.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let f: MapFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if f.landmarks.len() != LANDMARK_COUNT {
            return Err(format!("{} entries, expected 68", f.landmarks.len()));
        }
        for (i, t) in f.landmarks.iter().enumerate() {
            let sum: f32 = t.iter().map(|(_, w)| w).sum();
            if t.is_empty() || t.iter().any(|&(v, _)| v >= MESH_POINTS) || (sum - 1.0).abs() > 1e-3
            {
                return Err(format!(
                    "entry {i}: bad vertices or weights not summing to 1"
                ));
            }
        }
        Ok(Self { terms: f.landmarks })
    }

    /// Applies the map to a mesh (x, y of each vertex).
    pub fn apply(&self, mesh: &[[f32; 3]]) -> Landmarks {
        let mut out = [Point::new(0.0, 0.0); LANDMARK_COUNT];
        for (o, terms) in out.iter_mut().zip(&self.terms) {
            let (mut x, mut y) = (0.0, 0.0);
            for &(v, w) in terms {
                x += w * mesh[v][0];
                y += w * mesh[v][1];
            }
            *o = Point::new(x, y);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitted_map_parses_and_differs_from_the_table() {
        let f = Mesh68Map::from_json(FITTED_JSON).unwrap();
        assert_eq!(f.terms.len(), 68);
        assert_ne!(f, Mesh68Map::single_vertex());
    }

    #[test]
    fn single_vertex_picks_vertices() {
        let mesh: Vec<[f32; 3]> = (0..MESH_POINTS)
            .map(|i| [i as f32, 2.0 * i as f32, 0.0])
            .collect();
        let l = Mesh68Map::single_vertex().apply(&mesh);
        assert_eq!(l[8], Point::new(152.0, 304.0));
        assert_eq!(l[36], Point::new(33.0, 66.0));
    }

    #[test]
    fn rejects_weights_not_summing_to_one() {
        let mut entries = vec!["[[1, 1.0]]".to_string(); 68];
        entries[5] = "[[1, 0.5]]".to_string();
        let text = format!("{{\"landmarks\": [{}]}}", entries.join(","));
        assert!(Mesh68Map::from_json(&text).is_err());
        entries[5] = "[[1, 0.5], [2, 0.5]]".to_string();
        let text = format!("{{\"landmarks\": [{}]}}", entries.join(","));
        assert!(Mesh68Map::from_json(&text).is_ok());
    }
}
