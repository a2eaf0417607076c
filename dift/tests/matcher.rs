//! The whole DIFT matching path on a tiny random U-Net: gallery features, the character's map,
//! the caches, and the lazy model that loads only when the caches cannot serve.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use faceshot_core::geometry::tangled;
use faceshot_core::matching::MatchError;
use faceshot_core::matching::feature::{FeatureMap, Featurizer};
use faceshot_core::matching::gallery::{FeatureCache, Gallery};
use faceshot_core::matching::matcher::{MatcherOptions, match_with_gallery};
use faceshot_core::progress::Progress;

/// A featurizer that counts its extractions.
struct Counting<'a>(&'a dyn Featurizer, std::cell::Cell<usize>);

impl Featurizer for Counting<'_> {
    fn id(&self) -> String {
        self.0.id()
    }
    fn side(&self) -> u32 {
        self.0.side()
    }
    fn extract(
        &self,
        img: &image::RgbImage,
        progress: &dyn Progress,
    ) -> Result<FeatureMap, MatchError> {
        self.1.set(self.1.get() + 1);
        self.0.extract(img, progress)
    }
}
use faceshot_core::progress::NoProgress;
use faceshot_dift::{Dift, DiftOptions, Inversion, RandomArch};

/// A quick DIFT setting for the tiny model: 10-step schedule, 128-pixel input.
fn quick() -> DiftOptions {
    DiftOptions {
        inversion: Inversion::Ddim { steps: 10 },
        side: 128,
        ..Default::default()
    }
}

#[test]
fn tiny_dift_matches_a_gallery_character_to_itself() {
    let dift = Dift::random(&RandomArch::tiny(), quick(), 11).unwrap();
    let gallery = Gallery::generated(70..73, 128);
    let dir = tempfile::tempdir().unwrap();
    let cache = FeatureCache::new(Some(dir.path().to_path_buf()));
    let mo = MatcherOptions {
        k: 1,
        rearrange: false,
        ..Default::default()
    };
    let query = &gallery.entries[1];
    let counted = Counting(&dift, std::cell::Cell::new(0));
    let face =
        match_with_gallery(&query.image, &counted, &gallery, &cache, &mo, &NoProgress).unwrap();
    assert_eq!(
        counted.1.get(),
        4,
        "three gallery entries and the character"
    );
    let cell = 128.0 / 16.0;
    let mean = face
        .points
        .iter()
        .zip(&query.face.points)
        .map(|(a, b)| a.distance(*b))
        .sum::<f32>()
        / 68.0;
    assert!(mean < cell, "mean error {mean} px");
    assert!(face.confidence.iter().all(|c| (0.0..=1.0).contains(c)));
    // The gallery features are now cached and give the same answer.
    assert!(std::fs::read_dir(dir.path()).unwrap().count() > 0);
    let again =
        match_with_gallery(&query.image, &counted, &gallery, &cache, &mo, &NoProgress).unwrap();
    assert_eq!(again.points, face.points);
    assert_eq!(
        counted.1.get(),
        4,
        "the character's map came from the cache too"
    );
    let off = FeatureCache::disabled();
    let uncached =
        match_with_gallery(&query.image, &counted, &gallery, &off, &mo, &NoProgress).unwrap();
    assert_eq!(uncached.points, face.points);
    assert_eq!(counted.1.get(), 8);
    // With rearrangement the result stays untangled.
    let r = match_with_gallery(
        &gallery.entries[2].image,
        &dift,
        &gallery,
        &cache,
        &MatcherOptions::default(),
        &NoProgress,
    )
    .unwrap();
    assert!(!tangled(&r.points));
}

#[test]
fn a_match_the_caches_serve_loads_no_model() {
    use faceshot_core::matching::feature::Lazy;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let opts = quick();
    let id = Dift::random(&RandomArch::tiny(), opts.clone(), 11)
        .unwrap()
        .id();
    let loads = Arc::new(AtomicUsize::new(0));
    // A fresh lazy model per match, as `match_face` makes one, counting its loads.
    let lazy = |id: &str| {
        let (loads, opts) = (loads.clone(), opts.clone());
        Lazy::new(id.to_string(), 128, move |_| {
            loads.fetch_add(1, Ordering::SeqCst);
            Dift::random(&RandomArch::tiny(), opts.clone(), 11)
        })
    };
    let gallery = Gallery::generated(70..72, 128);
    let dir = tempfile::tempdir().unwrap();
    let cache = FeatureCache::new(Some(dir.path().to_path_buf()));
    let mo = MatcherOptions::default();
    let query = &gallery.entries[0].image;
    let first = lazy(&id);
    let a = match_with_gallery(query, &first, &gallery, &cache, &mo, &NoProgress).unwrap();
    assert!(first.is_loaded());
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    let second = lazy(&id);
    let b = match_with_gallery(query, &second, &gallery, &cache, &mo, &NoProgress).unwrap();
    assert!(!second.is_loaded(), "everything came from the caches");
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    assert_eq!(a.points, b.points);
    // Another picture needs the model again.
    let third = lazy(&id);
    match_with_gallery(
        &gallery.entries[1].image,
        &third,
        &gallery,
        &FeatureCache::disabled(),
        &mo,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(loads.load(Ordering::SeqCst), 2);
    // A model that is not the one announced is refused, not used under the wrong name.
    let wrong = lazy("dift-some-other-model");
    let err = match_with_gallery(
        query,
        &wrong,
        &gallery,
        &FeatureCache::disabled(),
        &mo,
        &NoProgress,
    )
    .unwrap_err();
    assert!(matches!(err, MatchError::Model(_)), "{err}");
}
