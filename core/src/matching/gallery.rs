//! The appearance gallery: reference characters with 68-point annotations, and an on-disk
//! cache of their per-landmark features keyed by featurizer (model + settings) and image hash,
//! which also keeps the feature maps of the last [`MAX_MAPS`] characters matched.
//!
//! The shipped gallery (`assets/gallery/`, built into the binary) holds cartoon characters made
//! by [`crate::cartoon`], so the project owns them and their landmarks are exact.

use super::MatchError;
use super::feature::{FeatureMap, Featurizer, letterbox, unit};
use crate::landmarks::{Face, LANDMARK_COUNT, Landmarks};
use crate::progress::{Part, Progress};
use image::RgbaImage;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// One reference character.
#[derive(Clone, Debug)]
pub struct GalleryEntry {
    /// Name (file stem).
    pub name: String,
    /// The image.
    pub image: RgbaImage,
    /// Its landmarks.
    pub face: Face,
    /// SHA-256 (hex) of the image file and landmark file contents.
    pub hash: String,
}

/// A set of reference characters.
#[derive(Clone, Debug, Default)]
pub struct Gallery {
    /// The entries.
    pub entries: Vec<GalleryEntry>,
}

/// Lower-case hexadecimal of `bytes` (cache keys, file identities).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Gallery {
    /// Generated cartoons of the given seeds at `size` pixels (tests of featurizers).
    pub fn generated(seeds: std::ops::Range<u64>, size: u32) -> Self {
        let entries = seeds
            .enumerate()
            .map(|(k, seed)| {
                let c = crate::cartoon::Cartoon::generate(seed, size);
                GalleryEntry {
                    name: format!("c{k}"),
                    hash: format!("{k:064}"),
                    image: c.image,
                    face: c.face,
                }
            })
            .collect();
        Self { entries }
    }
}

macro_rules! gallery_files {
    ($($name:literal),* $(,)?) => {
        &[$((
            $name,
            include_bytes!(concat!("../../../assets/gallery/", $name, ".png")) as &[u8],
            include_str!(concat!("../../../assets/gallery/", $name, ".json")),
        )),*]
    };
}

/// The shipped gallery files: (name, PNG bytes, landmark JSON).
const EMBEDDED: &[(&str, &[u8], &str)] = gallery_files![
    "cartoon_777000",
    "cartoon_777001",
    "cartoon_777002",
    "cartoon_777003",
    "cartoon_777004",
    "cartoon_777005",
    "cartoon_777006",
    "cartoon_777007"
];

fn entry_from_bytes(name: &str, png: &[u8], json: &str) -> Result<GalleryEntry, MatchError> {
    let context = PathBuf::from(format!("gallery/{name}.json"));
    let face = Face::from_json(json, &context)?;
    let image = image::load_from_memory(png)
        .map_err(|e| MatchError::Format {
            path: PathBuf::from(format!("gallery/{name}.png")),
            reason: e.to_string(),
        })?
        .into_rgba8();
    let mut h = Sha256::new();
    h.update(png);
    h.update(json.as_bytes());
    Ok(GalleryEntry {
        name: name.to_string(),
        image,
        face,
        hash: hex(&h.finalize()),
    })
}

/// The shapes of the shipped gallery (for the shape model); unreadable entries are skipped.
pub fn embedded_shapes() -> Vec<Landmarks> {
    EMBEDDED
        .iter()
        .filter_map(|(name, _, json)| {
            Face::from_json(json, Path::new(name))
                .ok()
                .map(|f| f.points)
        })
        .collect()
}

impl Gallery {
    /// The gallery built into the binary.
    pub fn embedded() -> Result<Self, MatchError> {
        let entries = EMBEDDED
            .iter()
            .map(|(n, png, json)| entry_from_bytes(n, png, json))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { entries })
    }

    /// Every `NAME.png` with a `NAME.json` face file in `dir`, sorted by name.
    pub fn load_dir(dir: &Path) -> Result<Self, MatchError> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map_err(|e| MatchError::io(dir, e))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "png") && p.with_extension("json").is_file()
            })
            .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(String::from))
            .collect();
        names.sort();
        let mut entries = Vec::new();
        for n in names {
            let png_path = dir.join(format!("{n}.png"));
            let json_path = dir.join(format!("{n}.json"));
            let png = std::fs::read(&png_path).map_err(|e| MatchError::io(&png_path, e))?;
            let json =
                std::fs::read_to_string(&json_path).map_err(|e| MatchError::io(&json_path, e))?;
            entries.push(entry_from_bytes(&n, &png, &json)?);
        }
        if entries.is_empty() {
            return Err(MatchError::Options(format!(
                "{}: no gallery entries (NAME.png + NAME.json)",
                dir.display()
            )));
        }
        Ok(Self { entries })
    }
}

/// Features of one gallery entry: a global descriptor and one unit descriptor per landmark.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryFeatures {
    /// Unit-length mean feature of the whole image.
    pub global: Vec<f32>,
    /// Unit-length feature at each landmark.
    pub points: Vec<Vec<f32>>,
}

impl EntryFeatures {
    /// Compute from a feature map of the letterboxed entry.
    pub fn from_map(map: &FeatureMap, landmarks_in_input: &Landmarks, side: u32) -> Self {
        let sx = map.width as f32 / side as f32;
        let sy = map.height as f32 / side as f32;
        let points = landmarks_in_input
            .iter()
            .map(|p| unit(map.sample(p.x * sx, p.y * sy)))
            .collect();
        Self {
            global: map.global_descriptor(),
            points,
        }
    }
}

/// The on-disk feature cache.
#[derive(Clone, Debug)]
pub struct FeatureCache {
    dir: Option<PathBuf>,
}

const MAGIC: &[u8; 4] = b"FSGF";
/// Header of a cached feature map.
const MAP_MAGIC: &[u8; 4] = b"FSFM";

/// Characters' feature maps kept per featurizer (an SD-2.1 map at 512² is 5.2 MB); the least
/// recently used go first.
pub const MAX_MAPS: usize = 32;

fn default_cache_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(x).join("faceshot/gallery-features"));
    }
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(|h| PathBuf::from(h).join(".cache/faceshot/gallery-features"))
}

fn sanitize(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl FeatureCache {
    /// A cache in `dir`, or the user cache folder when `None` (no caching if neither exists).
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self {
            dir: dir.or_else(default_cache_dir),
        }
    }

    /// A cache that never stores anything.
    pub fn disabled() -> Self {
        Self { dir: None }
    }

    fn path(&self, model: &str, hash: &str) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(sanitize(model)).join(format!("{hash}.bin")))
    }

    /// Cached features, if present and well-formed.
    pub fn get(&self, model: &str, hash: &str) -> Option<EntryFeatures> {
        let bytes = std::fs::read(self.path(model, hash)?).ok()?;
        if bytes.len() < 12 || &bytes[..4] != MAGIC {
            return None;
        }
        let (c, n) = (le_u32(&bytes, 4)? as usize, le_u32(&bytes, 8)? as usize);
        if n != LANDMARK_COUNT || bytes.len() != 12 + 4 * c * (n + 1) {
            return None;
        }
        let vals = le_f32s(&bytes[12..]);
        Some(EntryFeatures {
            global: vals[..c].to_vec(),
            points: vals[c..].chunks_exact(c).map(<[f32]>::to_vec).collect(),
        })
    }

    fn map_path(&self, model: &str, key: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| {
            d.join(sanitize(model))
                .join("maps")
                .join(format!("{}.fmap", sanitize(key)))
        })
    }

    /// The cached feature map of the input keyed `key` (see [`image_key`]), if present and
    /// well-formed; a hit counts as a use for [`MAX_MAPS`].
    pub fn get_map(&self, model: &str, key: &str) -> Option<FeatureMap> {
        let path = self.map_path(model, key)?;
        let bytes = std::fs::read(&path).ok()?;
        if bytes.len() < 16 || &bytes[..4] != MAP_MAGIC {
            return None;
        }
        let [c, h, w] = [4, 8, 12].map(|at| le_u32(&bytes, at).map_or(0, |d| d as usize));
        let n = c.checked_mul(h)?.checked_mul(w)?;
        if bytes.len() != 16 + 4 * n {
            return None;
        }
        let data = le_f32s(&bytes[16..]);
        if let Err(e) = std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()))
        {
            tracing::debug!("cannot mark {} as used: {e}", path.display());
        }
        Some(FeatureMap::new(c, h, w, data))
    }

    /// Store a feature map (atomically) and drop the least recently used beyond
    /// [`MAX_MAPS`]; failures are logged, not fatal.
    pub fn put_map(&self, model: &str, key: &str, map: &FeatureMap) {
        self.put_map_keeping(model, key, map, MAX_MAPS);
    }

    fn put_map_keeping(&self, model: &str, key: &str, map: &FeatureMap, keep: usize) {
        let Some(path) = self.map_path(model, key) else {
            return;
        };
        let dims = [map.channels, map.height, map.width].map(u32::try_from);
        let [Ok(c), Ok(h), Ok(w)] = dims else {
            return;
        };
        let mut bytes = Vec::with_capacity(16 + 4 * map.data.len());
        bytes.extend_from_slice(MAP_MAGIC);
        for d in [c, h, w] {
            bytes.extend(d.to_le_bytes());
        }
        for v in &map.data {
            bytes.extend(v.to_le_bytes());
        }
        let dir = crate::atomic::parent_dir(&path);
        let res = std::fs::create_dir_all(dir)
            .and_then(|_| crate::atomic::write_atomic(&path, &bytes))
            .and_then(|_| prune_oldest(dir, "fmap", keep));
        if let Err(e) = res {
            tracing::warn!("cannot cache a feature map in {}: {e}", path.display());
        }
    }

    /// Store features (atomically); failures are logged, not fatal.
    pub fn put(&self, model: &str, hash: &str, f: &EntryFeatures) {
        let Some(path) = self.path(model, hash) else {
            return;
        };
        let c = f.global.len();
        let mut bytes = MAGIC.to_vec();
        bytes.extend((c as u32).to_le_bytes());
        bytes.extend((f.points.len() as u32).to_le_bytes());
        for v in f.global.iter().chain(f.points.iter().flatten()) {
            bytes.extend(v.to_le_bytes());
        }
        let res = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|_| crate::atomic::write_atomic(&path, &bytes));
        if let Err(e) = res {
            tracing::warn!("cannot cache gallery features in {}: {e}", path.display());
        }
    }
}

/// The little-endian `u32` at byte `at`, if `bytes` reach that far.
fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// Little-endian `f32`s, one per four bytes.
fn le_f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Remove the files ending in `.ext` in `dir` beyond the `keep` most recently modified.
fn prune_oldest(dir: &Path, ext: &str, keep: usize) -> std::io::Result<()> {
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .collect();
    files.sort_by_key(|f| std::cmp::Reverse(f.0));
    for (_, p) in files.iter().skip(keep) {
        std::fs::remove_file(p)?;
    }
    Ok(())
}

/// The cache key of a featurizer input: SHA-256 of its size and pixels.
pub fn image_key(img: &image::RgbImage) -> String {
    let mut h = Sha256::new();
    h.update(img.width().to_le_bytes());
    h.update(img.height().to_le_bytes());
    h.update(img.as_raw());
    hex(&h.finalize())
}

/// The stage the gallery's features are computed in (once per model).
pub const GALLERY_STAGE: &str = "gallery features (once per model)";

/// Features of every gallery entry for `featurizer`, from the cache or computed (and cached).
pub fn gallery_features(
    featurizer: &dyn Featurizer,
    gallery: &Gallery,
    cache: &FeatureCache,
    progress: &dyn Progress,
) -> Result<Vec<EntryFeatures>, MatchError> {
    let id = featurizer.id();
    let side = featurizer.side();
    let total = gallery.entries.len() as u64;
    let mut out = Vec::with_capacity(gallery.entries.len());
    for (k, e) in gallery.entries.iter().enumerate() {
        if progress.cancelled() {
            return Err(MatchError::Cancelled);
        }
        if let Some(f) = cache.get(&id, &e.hash) {
            progress.update(GALLERY_STAGE, k as u64 + 1, Some(total));
            out.push(f);
            continue;
        }
        let (sq, lb) = letterbox(&e.image, side);
        // The references' extractions report as parts of one stage, with nothing between
        // them: one bar and one time estimate for them all.
        let part = Part::new(progress, GALLERY_STAGE, k as u64, total);
        let map = featurizer.extract(&sq, &part)?;
        let pts = e.face.points.map(|p| lb.to_input(p));
        let f = EntryFeatures::from_map(&map, &pts, side);
        cache.put(&id, &e.hash, &f);
        out.push(f);
    }
    progress.update(GALLERY_STAGE, total, Some(total));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reports four steps per picture, then a small constant map.
    struct Stepping;

    impl Featurizer for Stepping {
        fn id(&self) -> String {
            "stepping".into()
        }
        fn side(&self) -> u32 {
            64
        }
        fn extract(
            &self,
            _img: &image::RgbImage,
            progress: &dyn Progress,
        ) -> Result<FeatureMap, MatchError> {
            for i in 0..=4 {
                progress.update("pass", i, Some(4));
            }
            Ok(FeatureMap::new(2, 4, 4, vec![1.0; 32]))
        }
    }

    #[test]
    fn the_gallery_is_one_stage_with_one_count_from_start_to_end() {
        let gallery = Gallery::generated(300..303, 64);
        let record = crate::progress::Record::default();
        gallery_features(&Stepping, &gallery, &FeatureCache::disabled(), &record).unwrap();
        let seen = record.0.into_inner().unwrap();
        let inner = format!("{GALLERY_STAGE}: pass");
        let parts: Vec<(u64, Option<u64>)> = seen
            .iter()
            .filter(|(s, ..)| *s == inner)
            .map(|&(_, d, t)| (d, t))
            .collect();
        assert_eq!(parts.len(), 15, "{seen:?}");
        assert_eq!(seen.len(), 16, "nothing else between the parts: {seen:?}");
        assert!(parts.iter().all(|&(_, t)| t == Some(12)), "{parts:?}");
        assert!(parts.windows(2).all(|w| w[0].0 <= w[1].0), "{parts:?}");
        assert_eq!((parts[0].0, parts[14].0), (0, 12));
        assert_eq!(
            seen.last().unwrap(),
            &(GALLERY_STAGE.to_string(), 3, Some(3))
        );
    }

    #[test]
    fn feature_maps_round_trip_and_the_least_recently_used_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FeatureCache::new(Some(dir.path().to_path_buf()));
        let map = |v: f32| FeatureMap::new(2, 3, 4, (0..24).map(|i| v + i as f32).collect());
        assert!(cache.get_map("model/a", "k1").is_none());
        cache.put_map_keeping("model/a", "k1", &map(1.0), 2);
        assert_eq!(cache.get_map("model/a", "k1"), Some(map(1.0)));
        assert!(cache.get_map("model/b", "k1").is_none(), "keyed by model");
        assert!(cache.get_map("model/a", "k2").is_none(), "and by input");
        std::thread::sleep(std::time::Duration::from_millis(20));
        cache.put_map_keeping("model/a", "k2", &map(2.0), 2);
        std::thread::sleep(std::time::Duration::from_millis(20));
        // Using k1 makes k2 the least recently used: a third map pushes k2 out.
        assert!(cache.get_map("model/a", "k1").is_some());
        std::thread::sleep(std::time::Duration::from_millis(20));
        cache.put_map_keeping("model/a", "k3", &map(3.0), 2);
        assert!(cache.get_map("model/a", "k1").is_some());
        assert!(cache.get_map("model/a", "k2").is_none());
        assert_eq!(cache.get_map("model/a", "k3"), Some(map(3.0)));
        // A truncated file is a miss, not an error.
        let path = cache.map_path("model/a", "k3").unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 4]).unwrap();
        assert!(cache.get_map("model/a", "k3").is_none());
        // A disabled cache keeps nothing.
        let off = FeatureCache::disabled();
        off.put_map("m", "k", &map(0.0));
        assert!(off.get_map("m", "k").is_none());
    }

    #[test]
    fn image_keys_follow_pixels_and_size() {
        let a = image::RgbImage::from_pixel(4, 2, image::Rgb([1, 2, 3]));
        let mut b = a.clone();
        assert_eq!(image_key(&a), image_key(&b));
        b.put_pixel(3, 1, image::Rgb([1, 2, 4]));
        assert_ne!(image_key(&a), image_key(&b));
        let c = image::RgbImage::from_pixel(2, 4, image::Rgb([1, 2, 3]));
        assert_ne!(image_key(&a), image_key(&c));
    }

    #[test]
    fn cache_round_trip_and_keying() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FeatureCache::new(Some(dir.path().to_path_buf()));
        let f = EntryFeatures {
            global: vec![1.0, 0.0],
            points: (0..68).map(|i| vec![i as f32, -1.0]).collect(),
        };
        assert!(cache.get("model/a", "h1").is_none());
        cache.put("model/a", "h1", &f);
        assert_eq!(cache.get("model/a", "h1"), Some(f.clone()));
        assert!(cache.get("model/b", "h1").is_none());
        assert!(cache.get("model/a", "h2").is_none());
        assert!(FeatureCache::disabled().get("model/a", "h1").is_none());
    }

    #[test]
    fn embedded_gallery_loads() {
        let g = Gallery::embedded().unwrap();
        for e in &g.entries {
            assert_eq!(e.hash.len(), 64);
            assert!(
                e.face
                    .points
                    .iter()
                    .all(|p| p.x >= 0.0 && (p.x as u32) < e.image.width())
            );
        }
        assert_eq!(embedded_shapes().len(), g.entries.len());
    }
}
