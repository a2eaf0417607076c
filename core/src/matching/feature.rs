//! Dense feature maps and the featurizer interface, plus the letterbox that maps any image to
//! the featurizer's square input and back.

use super::MatchError;
use crate::landmarks::Point;
use crate::progress::Progress;
use image::{RgbImage, RgbaImage};

/// A C×H×W feature map (row-major per channel). Feature pixel (i, j) covers the input square
/// `[j·s, (j+1)·s) × [i·s, (i+1)·s)` with `s = side / W`.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureMap {
    /// Channels.
    pub channels: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// Values, channel-major.
    pub data: Vec<f32>,
}

impl FeatureMap {
    /// Wrap values (length must be C·H·W).
    pub fn new(channels: usize, height: usize, width: usize, data: Vec<f32>) -> Self {
        debug_assert_eq!(data.len(), channels * height * width);
        Self {
            channels,
            height,
            width,
            data,
        }
    }

    /// The feature vector at a cell.
    pub fn at(&self, row: usize, col: usize) -> Vec<f32> {
        let hw = self.height * self.width;
        (0..self.channels)
            .map(|c| self.data[c * hw + row * self.width + col])
            .collect()
    }

    /// Bilinear sample at continuous feature coordinates (cell centres at `i + 0.5`).
    pub fn sample(&self, fx: f32, fy: f32) -> Vec<f32> {
        let x = (fx - 0.5).clamp(0.0, (self.width - 1) as f32);
        let y = (fy - 0.5).clamp(0.0, (self.height - 1) as f32);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (ax, ay) = (x - x0 as f32, y - y0 as f32);
        let hw = self.height * self.width;
        (0..self.channels)
            .map(|c| {
                let g = |r: usize, q: usize| self.data[c * hw + r * self.width + q];
                (1.0 - ay) * ((1.0 - ax) * g(y0, x0) + ax * g(y0, x1))
                    + ay * ((1.0 - ax) * g(y1, x0) + ax * g(y1, x1))
            })
            .collect()
    }

    /// Every cell's feature scaled to unit length (zero vectors stay zero).
    pub fn normalised(&self) -> FeatureMap {
        let hw = self.height * self.width;
        let mut out = self.data.clone();
        for i in 0..hw {
            let n = (0..self.channels)
                .map(|c| self.data[c * hw + i].powi(2))
                .sum::<f32>()
                .sqrt();
            if n > 0.0 {
                for c in 0..self.channels {
                    out[c * hw + i] /= n;
                }
            }
        }
        FeatureMap::new(self.channels, self.height, self.width, out)
    }

    /// Mean of the unit-normalised cell features, itself unit-normalised (a global descriptor).
    pub fn global_descriptor(&self) -> Vec<f32> {
        let n = self.normalised();
        let hw = self.height * self.width;
        let v: Vec<f32> = (0..self.channels)
            .map(|c| n.data[c * hw..(c + 1) * hw].iter().sum::<f32>() / hw as f32)
            .collect();
        unit(v)
    }
}

/// Scale a vector to unit length (unchanged if zero).
pub fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
    v
}

/// Turns an image (already letterboxed to `side × side`) into a dense feature map.
pub trait Featurizer {
    /// Identity of model and settings; part of the gallery cache key.
    fn id(&self) -> String;
    /// The square input side in pixels.
    fn side(&self) -> u32;
    /// Compute the features.
    fn extract(&self, img: &RgbImage, progress: &dyn Progress) -> Result<FeatureMap, MatchError>;

    /// Whether a model was loaded to extract (a lazy featurizer whose maps all came from the
    /// caches loads none).
    fn is_loaded(&self) -> bool {
        true
    }
}

/// How a [`Lazy`] featurizer loads its model.
type Loader<F> = Box<dyn Fn(&dyn Progress) -> Result<F, MatchError> + Send + Sync>;

/// A featurizer whose model is loaded on its first extraction. Its identity and input side
/// are known up front, which is all the feature caches need: a match served from them (the
/// gallery's features and the character's map cached) never reads the weights.
pub struct Lazy<F> {
    id: String,
    side: u32,
    load: Loader<F>,
    loaded: std::sync::OnceLock<F>,
}

impl<F> Lazy<F> {
    /// `load` must give a featurizer of identity `id` and input side `side`.
    pub fn new(
        id: String,
        side: u32,
        load: impl Fn(&dyn Progress) -> Result<F, MatchError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            id,
            side,
            load: Box::new(load),
            loaded: std::sync::OnceLock::new(),
        }
    }
}

impl<F: Featurizer> Featurizer for Lazy<F> {
    fn id(&self) -> String {
        self.id.clone()
    }

    fn is_loaded(&self) -> bool {
        self.loaded.get().is_some()
    }

    fn side(&self) -> u32 {
        self.side
    }

    fn extract(&self, img: &RgbImage, progress: &dyn Progress) -> Result<FeatureMap, MatchError> {
        if self.loaded.get().is_none() {
            let model = (self.load)(progress)?;
            if model.id() != self.id || model.side() != self.side {
                return Err(MatchError::Model(format!(
                    "the loaded model is {} at {} px, not the expected {} at {} px",
                    model.id(),
                    model.side(),
                    self.id,
                    self.side
                )));
            }
            // Should another thread have loaded it meanwhile, its model is kept.
            let _ = self.loaded.set(model);
        }
        match self.loaded.get() {
            Some(model) => model.extract(img, progress),
            None => Err(MatchError::Model("the feature model did not load".into())),
        }
    }
}

/// How an image was placed into the square input: `input = image · scale + offset`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Letterbox {
    /// Image pixels to input pixels.
    pub scale: f32,
    /// Offset in input pixels.
    pub offset: Point,
}

impl Letterbox {
    /// Input pixels back to image pixels.
    pub fn to_image(&self, p: Point) -> Point {
        (p - self.offset) * (1.0 / self.scale)
    }

    /// Image pixels to input pixels.
    pub fn to_input(&self, p: Point) -> Point {
        p * self.scale + self.offset
    }
}

/// Fit the whole image into a `side × side` square (aspect kept, centred), padding with the
/// mean border colour; transparency is composited on white.
pub fn letterbox(img: &RgbaImage, side: u32) -> (RgbImage, Letterbox) {
    let (w, h) = img.dimensions();
    let scale = side as f32 / w.max(h).max(1) as f32;
    let (nw, nh) = (
        ((w as f32 * scale).round() as u32).clamp(1, side),
        ((h as f32 * scale).round() as u32).clamp(1, side),
    );
    let flat = image::RgbImage::from_fn(w, h, |x, y| {
        let p = img.get_pixel(x, y).0;
        let a = f32::from(p[3]) / 255.0;
        image::Rgb([0, 1, 2].map(|c| (f32::from(p[c]) * a + 255.0 * (1.0 - a)).round() as u8))
    });
    let resized = image::imageops::resize(&flat, nw, nh, image::imageops::FilterType::Triangle);
    let mut sum = [0u64; 3];
    let mut n = 0u64;
    for (x, y, p) in resized.enumerate_pixels() {
        if x == 0 || y == 0 || x + 1 == nw || y + 1 == nh {
            for (s, v) in sum.iter_mut().zip(p.0) {
                *s += u64::from(v);
            }
            n += 1;
        }
    }
    let fill = sum.map(|s| (s / n.max(1)) as u8);
    let mut out = RgbImage::from_pixel(side, side, image::Rgb(fill));
    let (ox, oy) = ((side - nw) / 2, (side - nh) / 2);
    image::imageops::replace(&mut out, &resized, i64::from(ox), i64::from(oy));
    (
        out,
        Letterbox {
            scale: nw as f32 / w as f32,
            offset: Point::new(ox as f32, oy as f32),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_hits_cell_centres_and_interpolates() {
        let f = FeatureMap::new(1, 2, 2, vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(f.sample(0.5, 0.5), vec![0.0]);
        assert_eq!(f.sample(1.5, 1.5), vec![3.0]);
        assert!((f.sample(1.0, 1.0)[0] - 1.5).abs() < 1e-6);
        let g = FeatureMap::new(2, 1, 1, vec![3.0, 4.0]).global_descriptor();
        assert!((g[0] - 0.6).abs() < 1e-6);
    }

    #[test]
    fn letterbox_round_trips_coordinates() {
        let img = RgbaImage::from_pixel(200, 100, image::Rgba([10, 20, 30, 255]));
        let (sq, lb) = letterbox(&img, 64);
        assert_eq!(sq.dimensions(), (64, 64));
        let p = Point::new(150.0, 40.0);
        assert!(lb.to_image(lb.to_input(p)).distance(p) < 1e-3);
        assert_eq!(lb.to_input(Point::new(0.0, 0.0)), Point::new(0.0, 16.0));
    }
}
