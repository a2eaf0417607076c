//! Appearance-guided landmark matching: find a character's 68 landmarks.
//!
//! Backends:
//! - **structural** ([`structural`]): offline classical image analysis + a statistical shape
//!   model; needs nothing downloaded.
//! - **dift**: the paper's method — diffusion features ([`Diffusion`], made by the
//!   `faceshot-dift` crate from Stable Diffusion 2.1 weights), matched against an appearance
//!   gallery ([`gallery`], [`matcher`]), then the contour rearrangement ([`rearrange`]).
//! - **learned** ([`learned`]): the project's 68-point network for stylized faces, which finds
//!   the face itself (a coarse pass on the whole picture, then refined passes on the crop of its
//!   points) and rates each point by the spread of a flip ensemble.
//! - **anchors**: the five-click fit ([`shape::fit_anchors`]) from 3–5 user-placed points.
//! - **mesh** ([`mesh_face`]): the tracker's face mesh on the character (human-like faces),
//!   averaged over ROIs of several heights ([`MESH_ROI_HEIGHTS`]) so that drawn faces with long
//!   lower faces are not squeezed into human proportions, then blended with a second network
//!   trained on the 68 points themselves ([`landmark_net`]).
//!
//! [`match_face`] is the one door: it picks a backend (`auto`) and always returns a face with
//! per-point confidence. [`crate::cartoon`] generates characters with exact landmarks for tests,
//! the gallery and evaluation; [`eval`] computes NME.

pub mod eval;
pub mod feature;
pub mod gallery;
pub mod landmark_net;
pub mod learned;
pub mod matcher;
mod mesh_path;
pub mod rearrange;
pub mod round_eyes;
pub mod shape;
pub mod structural;

use crate::geometry::tangled;
use crate::landmarks::{Face, LandmarkError, Landmarks, Part, Point};
use crate::media::MediaError;
use crate::progress::Progress;
use image::RgbaImage;
use std::path::{Path, PathBuf};

pub use mesh_path::{
    CROP_ACCEPT, CROP_SCALES, MESH_ROI_HEIGHTS, MIN_CROP_SIDE, MeshFace, mesh_face, mesh_face_with,
    on_white,
};

/// What can go wrong while matching.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    /// A file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause (part of the message, so not chained again).
        error: std::io::Error,
    },
    /// A file has the wrong content.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A landmark file problem.
    #[error(transparent)]
    Landmarks(#[from] LandmarkError),
    /// An image problem.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// Model weights are missing or do not fit.
    #[error("model: {0}")]
    Model(String),
    /// Downloading weights failed.
    #[error("download: {0}")]
    Download(String),
    /// A tensor operation failed.
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// Bad options (e.g. a wrong number of anchors).
    #[error("{0}")]
    Options(String),
    /// The job was cancelled.
    #[error("cancelled")]
    Cancelled,
}

impl MatchError {
    /// A file could not be read or written.
    pub fn io(path: &Path, error: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            error,
        }
    }
}

/// Which matcher to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Diffusion features when weights are given; otherwise the face mesh when it finds a
    /// confident face, else the structural fit.
    Auto,
    /// The tracker's face detector and 468-point mesh, mapped to 68 points.
    Mesh,
    /// Classical image analysis and the shape model.
    Structural,
    /// Stable Diffusion features (DIFT) against the appearance gallery.
    Dift,
    /// The project's 68-point network for stylized faces alone ([`learned`]).
    Learned,
}

impl Backend {
    /// Name as used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::Mesh => "mesh",
            Backend::Structural => "structural",
            Backend::Dift => "dift",
            Backend::Learned => "learned",
        }
    }
}

impl std::str::FromStr for Backend {
    type Err = MatchError;
    fn from_str(s: &str) -> Result<Self, MatchError> {
        match s {
            "auto" => Ok(Backend::Auto),
            "mesh" => Ok(Backend::Mesh),
            "structural" => Ok(Backend::Structural),
            "dift" => Ok(Backend::Dift),
            "learned" => Ok(Backend::Learned),
            _ => Err(MatchError::Options(format!(
                "unknown backend \"{s}\" (auto, mesh, structural, dift, learned)"
            ))),
        }
    }
}

/// Options for [`match_face`].
#[derive(Clone, Debug)]
pub struct MatchOptions {
    /// Backend choice.
    pub backend: Backend,
    /// Diffusion features for `dift` (and for `auto`, which uses them when given).
    pub diffusion: Option<Diffusion>,
    /// 3–5 user-placed anchors (see [`shape::anchor_layout`]); when set, the anchor fit runs.
    pub anchors: Option<Vec<Point>>,
    /// Where per-model gallery features are cached (default: the user cache folder).
    pub cache_dir: Option<PathBuf>,
    /// Gallery folder (default: the gallery built into the binary).
    pub gallery: Option<PathBuf>,
    /// Match only the face inside this box (a picture with several faces, or a face the
    /// matchers miss in the whole picture); ignored with `anchors`.
    pub region: Option<Region>,
}

/// A box on the picture, in pixels (top-left corner and size).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Region {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub width: f32,
    /// Height.
    pub height: f32,
}

/// The box is grown by this share of its size on every side before matching in it: a box drawn
/// tight around a face still shows the matchers its outline.
pub const REGION_MARGIN: f32 = 0.15;

/// Smallest side, in pixels, of the part of the picture a region keeps.
pub const MIN_REGION_SIDE: u32 = 16;

impl Region {
    /// The box from two opposite corners (in any order).
    pub fn from_corners(a: Point, b: Point) -> Self {
        Self {
            x: a.x.min(b.x),
            y: a.y.min(b.y),
            width: (a.x - b.x).abs(),
            height: (a.y - b.y).abs(),
        }
    }

    /// The pixels the matchers see for this box on a `width`×`height` picture: the box grown
    /// by [`REGION_MARGIN`] and clipped to the picture, as (x, y, width, height); `None` when
    /// the box is not finite or keeps less than [`MIN_REGION_SIDE`] pixels a side.
    pub fn crop_in(&self, width: u32, height: u32) -> Option<(u32, u32, u32, u32)> {
        let v = [self.x, self.y, self.width, self.height];
        if v.iter().any(|c| !c.is_finite()) || self.width <= 0.0 || self.height <= 0.0 {
            return None;
        }
        let (mx, my) = (self.width * REGION_MARGIN, self.height * REGION_MARGIN);
        let x0 = (self.x - mx).floor().clamp(0.0, width as f32) as u32;
        let y0 = (self.y - my).floor().clamp(0.0, height as f32) as u32;
        let x1 = (self.x + self.width + mx).ceil().clamp(0.0, width as f32) as u32;
        let y1 = (self.y + self.height + my).ceil().clamp(0.0, height as f32) as u32;
        let (w, h) = (x1.saturating_sub(x0), y1.saturating_sub(y0));
        (w >= MIN_REGION_SIDE && h >= MIN_REGION_SIDE).then_some((x0, y0, w, h))
    }
}

impl std::str::FromStr for Region {
    type Err = MatchError;

    /// "x,y,width,height" in pixels.
    fn from_str(s: &str) -> Result<Self, MatchError> {
        let bad = || MatchError::Options(format!("box \"{s}\" is not x,y,width,height in pixels"));
        let v: Vec<f32> = s
            .split(',')
            .map(|t| t.trim().parse::<f32>().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        let [x, y, width, height] = v[..] else {
            return Err(bad());
        };
        if !v.iter().all(|c| c.is_finite()) || width <= 0.0 || height <= 0.0 {
            return Err(bad());
        }
        Ok(Self {
            x,
            y,
            width,
            height,
        })
    }
}

impl Default for MatchOptions {
    fn default() -> Self {
        Self {
            backend: Backend::Auto,
            diffusion: None,
            anchors: None,
            cache_dir: None,
            gallery: None,
            region: None,
        }
    }
}

/// The diffusion featurizer the `dift` backend matches with (the `faceshot-dift` crate makes
/// one for a Stable Diffusion 2.1 folder; its model loads only when the caches cannot serve).
#[derive(Clone)]
pub struct Diffusion {
    /// The feature extractor.
    pub featurizer: std::sync::Arc<dyn feature::Featurizer + Send + Sync>,
    /// Its settings in words, for the match's account (e.g. "t = 301, 50-step DDIM").
    pub settings: String,
}

impl std::fmt::Debug for Diffusion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Diffusion")
            .field("featurizer", &self.featurizer.id())
            .field("settings", &self.settings)
            .finish()
    }
}

/// A matched face and how it was obtained.
#[derive(Clone, Debug)]
pub struct MatchResult {
    /// 68 points with per-point confidence.
    pub face: Face,
    /// The backend that produced it.
    pub backend: Backend,
    /// A one-line human-readable account (what was found, what was assumed).
    pub note: String,
    /// Nothing face-like was found: the points are a mean face placed on the picture for the
    /// user to move (the command line reports "no face found").
    pub placeholder: bool,
}

/// Confidence below which a point deserves the user's check: the app rings it, `faceshot
/// match` counts it.
pub const LOW_CONFIDENCE: f32 = 0.5;

/// How many of `face`'s points have a confidence below [`LOW_CONFIDENCE`].
pub fn points_to_check(face: &Face) -> usize {
    face.confidence
        .iter()
        .filter(|&&c| c < LOW_CONFIDENCE)
        .count()
}

/// Face-mesh score above which `auto` considers the mesh result.
pub const MESH_ACCEPT: f32 = 0.5;
/// `auto` keeps the structural fit when it found eyes in a face region and lies within this
/// NME of the mesh result (the two agree: a drawn face the mesh also reads, where the
/// structural fit follows the drawn contours more closely); otherwise the mesh result wins.
pub const AGREE_NME: f32 = 0.2;
/// [`AGREE_NME`] where the structural fit sees a strongly turned head (its jaw ends' middle at
/// least [`TURNED_OFFSET`] eye distances to one side of its eyes' middle): the mesh, trained
/// on photographs, misreads drawn heads turned that far.
pub const AGREE_NME_TURNED: f32 = 0.3;
/// How far (in eye distances) the middle of the jaw's ends lies to one side of the eyes'
/// middle on a head [`AGREE_NME_TURNED`] counts as strongly turned (frontal faces: about 0).
pub const TURNED_OFFSET: f32 = 0.3;

/// How far the middle of the jaw's ends (points 0 and 16) lies to one side of the eyes'
/// middle, along the eye line, in eye distances (centres of 36–41 and 42–47): 0 for a frontal
/// face, growing as the head turns.
pub fn turn_offset(points: &Landmarks) -> f32 {
    let centre = |part: Part| Point::mean(part.indices().iter().map(|&i| points[i]));
    let (le, re) = (centre(Part::RightEye), centre(Part::LeftEye));
    let eyes = le.distance(re);
    if !eyes.is_finite() || eyes <= 1e-3 {
        return 0.0;
    }
    let u = (re - le) * (1.0 / eyes);
    ((points[0].lerp(points[16], 0.5) - le.lerp(re, 0.5)).dot(u) / eyes).abs()
}

/// `auto` doubts the mesh result, and keeps a structural fit that found eyes in a face region
/// however far it lies, when the face mesh and the 68-point network ([`landmark_net`]) disagree
/// by more than this NME: they do not see the same face. On the shared caricatures, photos and
/// characters and on generated cartoons they disagree by at most 0.16, except on one generated
/// turned head whose mesh result was wrong (0.40, mesh NME 0.66).
pub const NETS_DOUBT_NME: f32 = 0.25;

/// `auto` trusts the face mesh only where the learned network, when it sees a face, places it
/// within this NME of the mesh's reading (both read the same face). Chosen on the tuning sets
/// only (`core/examples/tune_matcher.rs`; docs/evaluation.md): the best mean over the six sets
/// among 0.05–0.2.
pub const MESH_LEARNED_AGREE: f32 = 0.05;

/// Find the 68 landmarks of the character in `image`. Whatever the backend, the result has
/// no self-intersecting contour: crossed eyelids or lips are merged, and anything still
/// tangled is replaced by the shape model's fit to it. The pupils are read from the picture
/// inside the matched eyes ([`crate::pupils`]), except on a placeholder face.
pub fn match_face(
    image: &RgbaImage,
    opts: &MatchOptions,
    progress: &dyn Progress,
) -> Result<MatchResult, MatchError> {
    let mut r = match (&opts.region, &opts.anchors) {
        (Some(region), None) => match_in_region(image, region, opts, progress)?,
        _ => match_face_raw(image, opts, progress)?,
    };
    if tangled(&r.face.points) {
        let u = rearrange::uncross_lids(&r.face.points);
        if !tangled(&u) {
            r.face.points = u;
        } else if let Some(f) = shape::ShapeModel::default_model()
            .untangled_fit(&r.face.points, &r.face.confidence.map(|c| c.max(0.05)))
            && !tangled(&f)
        {
            r.face.points = f;
            r.note.push_str("; untangled by the shape model");
        }
    }
    if !r.placeholder {
        let reading = crate::pupils::read_pupils(image, &r.face.points);
        r.face.pupils = Some(reading.centres());
        r.face.pupil_radius = reading.radius();
    }
    Ok(r)
}

/// [`match_face_raw`] on the part of the picture `region` keeps ([`Region::crop_in`]), the
/// points moved back into the whole picture.
fn match_in_region(
    image: &RgbaImage,
    region: &Region,
    opts: &MatchOptions,
    progress: &dyn Progress,
) -> Result<MatchResult, MatchError> {
    let (w, h) = image.dimensions();
    let (x0, y0, cw, ch) = region.crop_in(w, h).ok_or_else(|| {
        MatchError::Options(format!(
            "the box {:.0},{:.0} {:.0}×{:.0} keeps less than {MIN_REGION_SIDE}×{MIN_REGION_SIDE} \
             pixels of the {w}×{h} picture",
            region.x, region.y, region.width, region.height
        ))
    })?;
    let crop = image::imageops::crop_imm(image, x0, y0, cw, ch).to_image();
    let mut r = match_face_raw(&crop, opts, progress)?;
    let offset = Point::new(x0 as f32, y0 as f32);
    for p in r.face.points.iter_mut() {
        *p = *p + offset;
    }
    r.face.image = Some(crate::landmarks::ImageSize {
        width: w,
        height: h,
    });
    r.note
        .push_str(&format!("; in the box {x0},{y0} {cw}×{ch}"));
    Ok(r)
}

/// The face mesh's result.
fn mesh_result(m: MeshFace) -> MatchResult {
    let note = match m.disagreement {
        Some(d) => format!(
            "face mesh (face score {:.2}) + 68-point network (NME between them {d:.3})",
            m.presence
        ),
        None => format!("face mesh (face score {:.2})", m.presence),
    };
    MatchResult {
        face: m.face,
        backend: Backend::Mesh,
        note,
        placeholder: false,
    }
}

fn match_face_raw(
    image: &RgbaImage,
    opts: &MatchOptions,
    progress: &dyn Progress,
) -> Result<MatchResult, MatchError> {
    let model = shape::ShapeModel::default_model();
    if let Some(anchors) = &opts.anchors {
        let fit = shape::fit_anchors(model, anchors).ok_or_else(|| {
            MatchError::Options(format!(
                "{} anchors given; the five-click fit takes 3, 4 or 5 \
                 (eyes + nose tip; eyes + mouth corners; all five)",
                anchors.len()
            ))
        })?;
        let mut face = Face::new(
            fit.points,
            Some(crate::landmarks::ImageSize {
                width: image.width(),
                height: image.height(),
            }),
        );
        // Anchored points are certain; the rest follow the model.
        face.confidence = [0.5; 68];
        if let Some(layout) = shape::anchor_layout(anchors.len()) {
            for &g in layout {
                for &i in shape::ANCHOR_GROUPS[g] {
                    face.confidence[i] = 1.0;
                }
            }
        }
        return Ok(MatchResult {
            face,
            backend: opts.backend,
            note: format!("five-click fit from {} anchors", anchors.len()),
            placeholder: false,
        });
    }
    let backend = match opts.backend {
        Backend::Auto if opts.diffusion.is_some() => Backend::Dift,
        Backend::Auto => return auto_match(image, model, progress),
        b => b,
    };
    match backend {
        Backend::Learned => learned_result(image, progress)?
            .map(|(r, _)| r)
            .ok_or_else(|| MatchError::Model("the learned network gave no usable points".into())),
        Backend::Mesh => match mesh_face(image)? {
            Some(m) => Ok(mesh_result(m)),
            None => Err(MatchError::Options(
                "the face mesh found no face; try --backend structural or dift".into(),
            )),
        },
        Backend::Dift => {
            let diffusion = opts.diffusion.as_ref().ok_or_else(|| {
                MatchError::Model(
                    "DIFT needs Stable Diffusion 2.1 weights: pass --weights DIR (a diffusers \
                     folder) or --download"
                        .into(),
                )
            })?;
            let cache = gallery::FeatureCache::new(opts.cache_dir.clone());
            let featurizer = diffusion.featurizer.as_ref();
            let gallery = match &opts.gallery {
                Some(g) => gallery::Gallery::load_dir(g)?,
                None => gallery::Gallery::embedded()?,
            };
            let face = matcher::match_with_gallery(
                image,
                featurizer,
                &gallery,
                &cache,
                &matcher::MatcherOptions::default(),
                progress,
            )?;
            Ok(MatchResult {
                face,
                backend,
                note: format!(
                    "DIFT ({}{}) against {} gallery characters",
                    diffusion.settings,
                    if featurizer.is_loaded() {
                        ""
                    } else {
                        "; all features from the cache"
                    },
                    gallery.entries.len()
                ),
                placeholder: false,
            })
        }
        Backend::Structural | Backend::Auto => {
            progress.update("structural fit", 0, Some(1));
            let r = structural::fit(image, model);
            progress.update("structural fit", 1, Some(1));
            Ok(structural_result(r))
        }
    }
}

/// The structural fit's result, its note saying what it found and what it assumed.
fn structural_result(r: structural::StructuralFit) -> MatchResult {
    let f = &r.findings;
    let note = format!(
        "structural fit: face region {}, eyes {}, mouth {}, nose {}",
        if f.face { "found" } else { "not found" },
        match (f.eyes, f.round_eyes, f.one_eye) {
            (true, true, _) => "found (round irises)",
            (true, false, true) => "found (one; the other mirrored across the midline)",
            (true, false, false) => "found",
            (false, ..) => "assumed",
        },
        if f.mouth { "found" } else { "assumed" },
        if f.nose { "found" } else { "assumed" },
    );
    let placeholder = f.nothing();
    MatchResult {
        face: r.face,
        backend: Backend::Structural,
        note,
        placeholder,
    }
}

/// Whether the structural fit outlined the face itself: eyes in a face region, not round irises
/// or one mirrored eye (its last resorts for faces it cannot outline).
fn outlined(f: &structural::Findings) -> bool {
    f.eyes && f.face && !f.round_eyes && !f.one_eye
}

/// Why `auto` takes a face the mesh reads for a drawn one ([`drawn_face`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DrawnFace {
    /// The structural fit outlined it, and the mesh and face-api.js's 68-point network disagree
    /// by this NME (more than [`NETS_DOUBT_NME`]).
    NetsDisagree(f32),
    /// The structural fit outlined it this close (NME) to the mesh's reading: within
    /// [`AGREE_NME`], or [`AGREE_NME_TURNED`] on a strongly turned head.
    Outlined(f32),
}

/// Whether the structural fit `s` takes the face the mesh read (`m`) for a drawn one, and why;
/// `None` for a face the mesh reads well.
pub fn drawn_face(s: &structural::StructuralFit, m: &MeshFace) -> Option<DrawnFace> {
    if !outlined(&s.findings) {
        return None;
    }
    if let Some(d) = m.disagreement.filter(|&d| d > NETS_DOUBT_NME) {
        return Some(DrawnFace::NetsDisagree(d));
    }
    let mutual = eval::nme(&s.face.points, &m.face.points)?;
    let agree = if turn_offset(&s.face.points) >= TURNED_OFFSET {
        AGREE_NME_TURNED
    } else {
        AGREE_NME
    };
    (mutual < agree).then_some(DrawnFace::Outlined(mutual))
}

/// `auto` without diffusion features. Three readings of the picture: the learned network
/// ([`learned`], which finds the face itself), the face mesh blended with face-api.js's network
/// ([`mesh_face`]; its human annotation conventions, which the learned network's teacher labels
/// do not carry) and the structural fit. The mesh's reading stands where the mesh finds a
/// face that the learned network (when it sees one) places within [`MESH_LEARNED_AGREE`] and
/// the structural fit does not take it for a drawn face (an outlined fit that agrees with the
/// mesh, as before the learned network existed); a drawn face, and any face the mesh does not
/// read, is the learned network's when it sees one (a face only its crop search found answers
/// but never overrules the mesh). Where the network is not sure of a face, its reading still
/// answers (its points' confidences show the doubt) unless the structural fit found nothing
/// face-like either: then the structural fit's placeholder says "no face found". Where the
/// network's whole-picture reading answers and the mesh reads the same face, not a drawn one,
/// the points the network is unsure of lean on the mesh's ([`lean_on_mesh`]). The structural
/// fit's own reading answers only where the network gives no usable points, or where its only
/// sure face came from the crop search and is not the drawn face the mesh read.
fn auto_match(
    image: &RgbaImage,
    model: &shape::ShapeModel,
    progress: &dyn Progress,
) -> Result<MatchResult, MatchError> {
    // The three readings are independent: they run side by side (each also splits its own
    // layers over the cores), which overlaps their serial stretches. Progress counts the
    // readings finished.
    const STAGE: &str = "learned network, face mesh, structural fit";
    let finished = std::sync::atomic::AtomicU64::new(0);
    let done = || {
        let n = finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        progress.update(STAGE, n, Some(3));
    };
    progress.update(STAGE, 0, Some(3));
    let (learned, (mesh, s)) = rayon::join(
        || {
            let r = learned_result(image, &crate::progress::NoProgress);
            done();
            r
        },
        || {
            rayon::join(
                || {
                    let m = mesh_face(image);
                    done();
                    m
                },
                || {
                    let s = structural::fit(image, model);
                    done();
                    s
                },
            )
        },
    );
    let (learned, unsure) = match learned? {
        Some((r, how)) if how.sure => (Some((r, how)), None),
        other => (None, other),
    };
    // A face the crop search found may be another face than the mesh's (or a part of one): it
    // answers where the mesh does not stand but never overrules the mesh.
    let whole_picture = learned
        .as_ref()
        .filter(|(_, how)| !how.searched)
        .map(|(r, _)| r);
    let mesh = mesh?.filter(|m| m.presence >= MESH_ACCEPT);
    // Whether the structural fit takes the mesh's face for a drawn one.
    let drawn = mesh.as_ref().and_then(|m| drawn_face(&s, m));
    // The mesh's reading of a face that is not drawn: the network's whole-picture answer
    // leans on it where it is unsure of a point.
    let lean_on = mesh
        .as_ref()
        .filter(|_| drawn.is_none())
        .map(|m| m.face.clone());
    let mut note = None;
    // The mesh's reading of a face the structural fit takes for a drawn one.
    let mut drawn_mesh = None;
    if let Some(m) = mesh {
        let d = whole_picture.and_then(|l| eval::nme(&m.face.points, &l.face.points));
        if d.is_some_and(|d| d >= MESH_LEARNED_AGREE) {
            note = d.map(|d| format!("; the face mesh read it otherwise (NME to this one {d:.3})"));
        } else {
            let Some(drawn) = drawn else {
                return Ok(mesh_result(m));
            };
            let presence = m.presence;
            drawn_mesh = Some(m.face.points);
            note = Some(match drawn {
                DrawnFace::NetsDisagree(d) => format!(
                    "; a drawn face: the face mesh (score {presence:.2}) and the 68-point \
                     network disagree (NME between them {d:.3})"
                ),
                DrawnFace::Outlined(mutual) => format!(
                    "; a drawn face: the structural fit outlined it, in agreement with the face \
                     mesh (score {presence:.2}, NME between them {mutual:.3})"
                ),
            });
        }
    }
    // A face only the crop search found answers for the drawn face only where it is that face.
    let learned = learned.filter(|(l, how)| {
        !how.searched
            || drawn_mesh.is_none_or(|m| {
                eval::nme(&m, &l.face.points).is_some_and(|d| d < MESH_LEARNED_AGREE)
            })
    });
    // The mesh's "read it otherwise" note needs a sure learned reading, so a note on the others is
    // always the drawn face's.
    let mut r = match (learned, unsure) {
        (Some((r, how)), _) => lean_on_mesh(r, how, lean_on.as_ref()),
        (None, Some((mut u, how))) if !s.findings.nothing() => {
            u.note.push_str(&format!(
                "; not sure of a face (flip spread over {})",
                learned::NO_FACE_SPREAD
            ));
            lean_on_mesh(u, how, lean_on.as_ref())
        }
        _ => structural_result(s),
    };
    if let Some(n) = note {
        r.note.push_str(&n);
    }
    Ok(r)
}

/// The weight of the network's point against the mesh's where `auto` leans on the mesh
/// ([`lean_on_mesh`]): `n / (n + (1 − n)·m)` for the network's confidence `n` and the mesh's
/// `m` in that point; `n` where the mesh is sure, 1 where it is not (unless the network is not
/// at all sure either).
pub fn lean_weight(network: f32, mesh: f32) -> f32 {
    let (n, m) = (network.clamp(0.0, 1.0), mesh.clamp(0.0, 1.0));
    n / (n + (1.0 - n) * m).max(f32::EPSILON)
}

/// The learned network's whole-picture answer `r` with each point moved toward the mesh's
/// reading `mesh` of the same face where the network is unsure of it and the mesh is not:
/// `w·network + (1 − w)·mesh` with `w` from [`lean_weight`]. Chosen on the tuning sets only
/// (`core/examples/tune_matcher.rs`, mode 344; docs/evaluation.md). A face the crop search
/// found, or one an eye distance or more from the mesh's, may be another face: it stays as
/// read.
fn lean_on_mesh(mut r: MatchResult, how: LearnedReading, mesh: Option<&Face>) -> MatchResult {
    let Some(mesh) = mesh.filter(|_| !how.searched) else {
        return r;
    };
    if !eval::nme(&mesh.points, &r.face.points).is_some_and(|d| d < 1.0) {
        return r;
    }
    let network = r.face.confidence;
    let mut mostly_mesh = 0;
    for (i, p) in r.face.points.iter_mut().enumerate() {
        let w = lean_weight(network[i], mesh.confidence[i]);
        *p = mesh.points[i].lerp(*p, w);
        mostly_mesh += usize::from(w < 0.5);
    }
    r.note.push_str(&match mostly_mesh {
        0 => "; its unsure points lean a little on the face mesh's".to_string(),
        n => format!("; its unsure points lean on the face mesh's ({n} taken mostly from it)"),
    });
    r
}

/// The learned backend's result ([`learned::learned_face`]) and how it was read, `None` when
/// it gives no usable points.
fn learned_result(
    image: &RgbaImage,
    progress: &dyn Progress,
) -> Result<Option<(MatchResult, LearnedReading)>, MatchError> {
    progress.update("learned network", 0, Some(1));
    let r = learned::learned_face(image)?;
    progress.update("learned network", 1, Some(1));
    Ok(r.map(|l| {
        let how = if l.searched {
            "found by the crop search"
        } else {
            "on the whole picture"
        };
        let result = MatchResult {
            note: format!(
                "learned 68-point network ({how}: coarse pass + {} refined; flip spread {:.3})",
                l.passes, l.spread
            ),
            face: l.face,
            backend: Backend::Learned,
            placeholder: false,
        };
        let reading = LearnedReading {
            sure: l.spread <= learned::NO_FACE_SPREAD,
            searched: l.searched,
        };
        (result, reading)
    }))
}

/// How the learned network read a picture.
#[derive(Debug, Clone, Copy)]
struct LearnedReading {
    /// Its flip spread says it sees a face ([`learned::NO_FACE_SPREAD`]).
    sure: bool,
    /// The face came from the crop search, not the whole picture.
    searched: bool,
}

#[cfg(test)]
mod auto_tests {
    use super::*;
    use crate::cartoon;
    use crate::progress::NoProgress;

    #[test]
    fn a_box_parses_grows_and_clips_to_the_picture() {
        let r: Region = " 10, 20,100,50".parse().unwrap();
        assert_eq!(
            r,
            Region::from_corners(Point::new(110.0, 70.0), Point::new(10.0, 20.0))
        );
        for bad in [
            "1,2,3",
            "1,2,3,4,5",
            "a,2,3,4",
            "1,2,0,4",
            "1,2,-3,4",
            "1,2,inf,4",
        ] {
            assert!(bad.parse::<Region>().is_err(), "{bad}");
        }
        // Grown by 15 % a side (15 px, 7.5 px), clipped at the picture's right edge.
        assert_eq!(r.crop_in(100, 200), Some((0, 12, 100, 66)));
        // Off the picture, or too small once clipped: refused.
        let off = Region::from_corners(Point::new(500.0, 500.0), Point::new(600.0, 600.0));
        assert_eq!(off.crop_in(100, 100), None);
        let tiny = Region::from_corners(Point::new(5.0, 5.0), Point::new(10.0, 10.0));
        assert_eq!(tiny.crop_in(100, 100), None);
    }

    /// Two characters side by side: a box around the right one matches it, not the other,
    /// in the whole picture's coordinates.
    #[test]
    fn a_box_picks_which_face_to_match() {
        let (a, b) = (
            cartoon::Cartoon::generate(5, 192),
            cartoon::Cartoon::generate(9, 192),
        );
        let mut pair = RgbaImage::new(384, 192);
        image::imageops::replace(&mut pair, &a.image, 0, 0);
        image::imageops::replace(&mut pair, &b.image, 192, 0);
        let mut truth = b.face.points;
        for p in truth.iter_mut() {
            *p = *p + Point::new(192.0, 0.0);
        }
        let opts = MatchOptions {
            region: Some(Region::from_corners(
                Point::new(200.0, 10.0),
                Point::new(380.0, 185.0),
            )),
            ..MatchOptions::default()
        };
        let r = match_face(&pair, &opts, &NoProgress).unwrap();
        let e = eval::nme(&r.face.points, &truth).unwrap();
        // Measured 0.022.
        assert!(e < 0.04, "NME {e} ({})", r.note);
        assert_eq!(r.face.image.map(|s| (s.width, s.height)), Some((384, 192)));
        assert!(r.note.contains("in the box"), "{}", r.note);
        let pupils = r.face.pupils.unwrap();
        assert!(pupils.iter().all(|p| p.x > 192.0), "{pupils:?}");
    }

    /// A generated cartoon the mesh does not read: `auto` gives it to the learned network
    /// (measured NME 0.018).
    #[test]
    fn auto_gives_a_face_the_mesh_does_not_read_to_the_learned_network() {
        let c = cartoon::Cartoon::generate(5, 256);
        assert!(
            mesh_face(&c.image)
                .unwrap()
                .is_none_or(|m| m.presence < MESH_ACCEPT)
        );
        let r = match_face(&c.image, &MatchOptions::default(), &NoProgress).unwrap();
        assert_eq!(r.backend, Backend::Learned, "{}", r.note);
        let e = eval::nme(&r.face.points, &c.face.points).unwrap();
        assert!(e < 0.035, "NME {e}");
    }

    /// A file error says its cause once: in its message, not again as a chained source
    /// (`{:#}` at the binaries prints both).
    #[test]
    fn a_file_error_names_its_cause_once() {
        use std::error::Error;
        let cause = std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8");
        let e = MatchError::io(Path::new("vocab.json"), cause);
        assert_eq!(e.to_string(), "vocab.json: not UTF-8");
        assert!(e.source().is_none());
    }

    /// A generated cartoon the face mesh reads within NME 0.034 of the learned network and the
    /// structural fit outlines in agreement with it: a drawn face, which `auto` gives to the
    /// learned network (measured NME 0.025; the mesh's 0.047).
    #[test]
    fn auto_gives_a_drawn_face_the_mesh_reads_to_the_learned_network() {
        let c = cartoon::Cartoon::generate(25, 256);
        let m = mesh_face(&c.image).unwrap().unwrap();
        assert!(m.presence >= MESH_ACCEPT);
        let r = match_face(&c.image, &MatchOptions::default(), &NoProgress).unwrap();
        assert_eq!(r.backend, Backend::Learned, "{}", r.note);
        assert!(r.note.contains("a drawn face"), "{}", r.note);
        let e = eval::nme(&r.face.points, &c.face.points).unwrap();
        let mesh = eval::nme(&m.face.points, &c.face.points).unwrap();
        assert!(e < 0.04 && e < mesh, "NME {e}, mesh {mesh}");
    }

    /// A generated turned head (seed 70060, 256 px, yaw up to 35°) on which the face mesh reads
    /// a wrong face (NME 0.66) far from the learned network's reading (0.68 apart): `auto`
    /// keeps the learned network's (measured NME 0.023).
    #[test]
    fn auto_doubts_a_mesh_the_68_point_network_disagrees_with() {
        let c = cartoon::Cartoon::generate_turned(70060, 256, 35f32.to_radians());
        let m = mesh_face(&c.image).unwrap().unwrap();
        let d = m.disagreement.unwrap();
        assert!(m.presence >= MESH_ACCEPT && d > NETS_DOUBT_NME, "{d}");
        let r = match_face(&c.image, &MatchOptions::default(), &NoProgress).unwrap();
        assert_eq!(r.backend, Backend::Learned, "{}", r.note);
        let nme = eval::nme(&r.face.points, &c.face.points).unwrap();
        assert!(nme < 0.04, "auto NME {nme} ({})", r.note);
        assert!(r.note.contains("read it otherwise"), "{}", r.note);
    }

    /// Generated heads turned by 40° whose mesh reading (NME 0.158 and 0.159) lies well past the
    /// 0.05 agreement from the learned network's: `auto` keeps the learned network's (measured
    /// NME 0.020 and 0.043).
    #[test]
    fn auto_keeps_the_learned_reading_of_a_strongly_turned_drawn_head() {
        for seed in [95029, 95058] {
            let c = cartoon::Cartoon::generate_turned(seed, 256, 40f32.to_radians());
            let r = match_face(&c.image, &MatchOptions::default(), &NoProgress).unwrap();
            assert_eq!(r.backend, Backend::Learned, "{seed}: {}", r.note);
            let nme = eval::nme(&r.face.points, &c.face.points).unwrap();
            assert!(nme < 0.06, "{seed}: auto NME {nme} ({})", r.note);
        }
    }

    /// A blank picture: nothing for the mesh or the structural fit, and the learned network's
    /// flip spread says it sees no face either, so `auto` still answers "no face found".
    #[test]
    fn auto_finds_no_face_on_a_blank_picture() {
        let blank = RgbaImage::from_pixel(256, 256, image::Rgba([255, 255, 255, 255]));
        let l = learned::learned_face(&blank).unwrap().unwrap();
        assert!(l.spread > learned::NO_FACE_SPREAD, "{}", l.spread);
        let r = match_face(&blank, &MatchOptions::default(), &NoProgress).unwrap();
        assert!(r.placeholder, "{}", r.note);
    }

    /// The top 120 rows of a 256-pixel generated cartoon (its face cut across the nose): the
    /// learned network is not sure of a face, but the structural fit finds something face-like,
    /// so `auto` answers with the network's reading, says it is unsure and flags most points.
    #[test]
    fn auto_answers_with_an_unsure_reading_and_flags_its_points() {
        let c = cartoon::Cartoon::generate(460_000, 256);
        let cut = image::imageops::crop_imm(&c.image, 0, 0, 256, 120).to_image();
        let l = learned::learned_face(&cut).unwrap().unwrap();
        assert!(l.spread > learned::NO_FACE_SPREAD, "{}", l.spread);
        let r = match_face(&cut, &MatchOptions::default(), &NoProgress).unwrap();
        assert_eq!(r.backend, Backend::Learned, "{}", r.note);
        assert!(
            !r.placeholder && r.note.contains("not sure of a face"),
            "{}",
            r.note
        );
        assert!(points_to_check(&r.face) > 34, "{}", r.note);
    }

    #[test]
    fn turn_offset_is_zero_for_a_frontal_face_and_grows_as_the_jaw_shifts() {
        let mut face = crate::landmarks::test_shapes::frontal_face(200.0, 220.0, 100.0);
        assert!(turn_offset(&face) < 0.02, "{}", turn_offset(&face));
        let eyes = {
            let c = |part: Part| Point::mean(part.indices().iter().map(|&i| face[i]));
            c(Part::RightEye).distance(c(Part::LeftEye))
        };
        for i in [0, 16] {
            face[i].x -= 0.4 * eyes;
        }
        let t = turn_offset(&face);
        assert!((t - 0.4).abs() < 0.03, "{t}");
    }

    #[test]
    fn the_network_leans_on_the_mesh_only_where_it_is_unsure_and_reads_the_same_face() {
        let net = crate::landmarks::synthetic::frontal_face(100.0, 100.0, 60.0);
        let mesh_points = net.map(|p| p + Point::new(4.0, 0.0));
        let mut mesh = Face::new(mesh_points, None);
        // The mesh unsure of point 31: the network keeps it however unsure it is.
        mesh.confidence[31] = 0.0;
        let mut face = Face::new(net, None);
        face.confidence[30] = 0.0;
        face.confidence[31] = 0.1;
        face.confidence[48] = 0.5;
        let result = MatchResult {
            face,
            backend: Backend::Learned,
            note: String::new(),
            placeholder: false,
        };
        let whole = LearnedReading {
            sure: true,
            searched: false,
        };
        let leant = lean_on_mesh(result.clone(), whole, Some(&mesh));
        assert_eq!(leant.face.points[30], mesh_points[30]);
        assert_eq!(leant.face.points[31], net[31]);
        assert_eq!(leant.face.points[48], mesh_points[48].lerp(net[48], 0.5));
        assert_eq!(leant.face.points[0], net[0]);
        assert!(
            leant.note.contains("(1 taken mostly from it)"),
            "{}",
            leant.note
        );
        // A face the crop search found, or one far from the mesh's, may be another face.
        let searched = LearnedReading {
            searched: true,
            ..whole
        };
        assert_eq!(
            lean_on_mesh(result.clone(), searched, Some(&mesh))
                .face
                .points,
            net
        );
        let far = Face::new(net.map(|p| p + Point::new(500.0, 0.0)), None);
        assert_eq!(
            lean_on_mesh(result.clone(), whole, Some(&far)).face.points,
            net
        );
        assert_eq!(lean_on_mesh(result, whole, None).face.points, net);
    }
}
