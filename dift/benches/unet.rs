//! Diffusion matcher benchmark (plain binary, no criterion): one full-size Stable Diffusion 2.1
//! U-Net pass at 512² (64² latent) with randomly initialised weights (same compute as the real
//! ones): to up block 1 (the DIFT feature pass) and the full prediction pass used by each DDIM
//! inversion step, plus the VAE encoder; from these, the default DIFT cost (VAE + 15 inversion
//! passes + 1 feature pass) is estimated. candle-transformers' own `UNet2DConditionModel` on the
//! same weights is timed as the reference for the full pass.
//!
//! Set `FACESHOT_BENCH_DIFT_LOAD=1` to write a diffusers-format SD-2.1 folder of random fp16
//! weights (the downloaded files' names, shapes and dtype; about 2.5 GB in a temporary folder)
//! and time loading it as a match does, `FACESHOT_BENCH_DIFT_FULL=1` to also time the whole
//! default DIFT extraction end to end, `FACESHOT_BENCH_SKIP_SD=1` to skip the U-Net passes, and
//! `FACESHOT_BENCH_SYSTEM_HEAP=1` to run them without
//! [`RetainedHeap`](faceshot_core::heap::RetainedHeap) (the allocator defaults).
//!
//! Run: `cargo bench -p faceshot-dift --bench unet`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use candle_core::{DType, Device, Tensor};
use candle_transformers::models::stable_diffusion::unet_2d::UNet2DConditionModel;
use faceshot_core::matching::feature::Featurizer;
use faceshot_core::progress::NoProgress;
use faceshot_dift::unet::{FeatureUNet, UNetOutput, sd21_config};
use faceshot_dift::vae::{VaeConfig, VaeEncoder};
use faceshot_dift::{Dift, DiftOptions, RandomArch};
use std::time::Instant;

fn main() {
    faceshot_core::heap::single_arena();
    if std::env::var_os("FACESHOT_BENCH_DIFT_LOAD").is_some() {
        dift_load();
    }
    if std::env::var_os("FACESHOT_BENCH_SKIP_SD").is_some() {
        return;
    }

    // Full-size SD-2.1 U-Net with random weights (plain tensors, as loaded weights are).
    let t = Instant::now();
    let tensors = RandomArch::sd21().tensors().unwrap();
    let params: usize = tensors.values().map(|t| t.elem_count()).sum();
    let vb = candle_nn::VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
    let unet = FeatureUNet::new(vb.pp("unet"), 4, 4, sd21_config(), true).unwrap();
    let vae = VaeEncoder::new(vb.pp("vae"), &VaeConfig::sd21()).unwrap();
    println!(
        "SD-2.1 U-Net + VAE encoder, random init: {:.0} M parameters, built in {:.1} s",
        params as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    // The passes run with the heap settings `Dift` runs under (`FACESHOT_BENCH_SYSTEM_HEAP=1`:
    // without them, for comparison).
    let heap = std::env::var_os("FACESHOT_BENCH_SYSTEM_HEAP")
        .is_none()
        .then(faceshot_core::heap::RetainedHeap::enter);
    let ctx = Tensor::randn(0f32, 1.0, (1, 77, 1024), &Device::Cpu).unwrap();
    let z = Tensor::randn(0f32, 1.0, (1, 4, 64, 64), &Device::Cpu).unwrap();
    let img = Tensor::randn(0f32, 0.5, (1, 3, 512, 512), &Device::Cpu).unwrap();

    let t = Instant::now();
    let lat = vae.encode_mean(&img).unwrap();
    let vae_s = t.elapsed().as_secs_f64();
    println!("VAE encoder 512x512 -> {:?}: {vae_s:.2} s", lat.dims());

    let t = Instant::now();
    let UNetOutput::Features(f) = unet.forward(&z, 301.0, &ctx, Some(1)).unwrap() else {
        panic!("expected features")
    };
    let feat_s = t.elapsed().as_secs_f64();
    println!(
        "U-Net to up block 1 (DIFT feature pass), 64x64 latent -> {:?}: {feat_s:.2} s",
        f.dims()
    );

    // Twice: the first pass also grows the heap to its working set, later ones reuse it.
    let mut full_s = [0.0; 2];
    for (i, s) in full_s.iter_mut().enumerate() {
        let t = Instant::now();
        let UNetOutput::Prediction(p) = unet.forward(&z, 281.0, &ctx, None).unwrap() else {
            panic!("expected prediction")
        };
        *s = t.elapsed().as_secs_f64();
        println!(
            "U-Net full pass {} (one DDIM inversion step) -> {:?}: {s:.2} s",
            i + 1,
            p.dims()
        );
    }
    // Reference in the same run: candle-transformers' own U-Net on the same weights.
    let reference = UNet2DConditionModel::new(vb.pp("unet"), 4, 4, false, sd21_config()).unwrap();
    let t = Instant::now();
    let p = reference.forward(&z, 281.0, &ctx).unwrap();
    let ref_s = t.elapsed().as_secs_f64();
    println!(
        "reference: candle-transformers' UNet2DConditionModel, full pass on the same weights -> {:?}: {ref_s:.2} s (ours: {:.2}x its time)",
        p.dims(),
        full_s[1] / ref_s
    );
    drop((reference, p));
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:"))
    {
        println!(
            "peak memory so far: {}",
            line.trim_start_matches("VmHWM:").trim()
        );
    }
    for steps in [50usize, 10] {
        let n_inv = 301 / (1000 / steps);
        println!(
            "estimated DIFT at 512x512, t=301, {steps}-step DDIM schedule ({n_inv} inversion passes + 1 feature pass): {:.1} s",
            vae_s + full_s[0] + (n_inv - 1) as f64 * full_s[1] + feat_s
        );
    }
    println!(
        "estimated original-DIFT noise ensemble of 8 (no inversion): {:.1} s",
        vae_s + 8.0 * feat_s
    );
    drop((unet, vae, vb, heap));

    if std::env::var_os("FACESHOT_BENCH_DIFT_FULL").is_some() {
        let dift = Dift::random(&RandomArch::sd21(), DiftOptions::default(), 1).unwrap();
        let img = image::RgbImage::from_pixel(512, 512, image::Rgb([200, 150, 120]));
        let t = Instant::now();
        let map = dift.extract(&img, &NoProgress).unwrap();
        println!(
            "DIFT default (t=301, 50-step DDIM inversion) end to end at 512x512: {:.1} s -> {}x{}x{}",
            t.elapsed().as_secs_f64(),
            map.channels,
            map.height,
            map.width
        );
    }
}

/// Writes a diffusers-format SD-2.1 folder of random fp16 weights (U-Net, VAE encoder, text
/// encoder, a tokenizer that knows the prompt's letters) and times what a DIFT match spends
/// before its first U-Net pass: checking the folder ([`Dift::lazy`]) and loading it.
fn dift_load() {
    use candle_nn::{VarBuilder, VarMap};
    use candle_transformers::models::stable_diffusion::clip;
    use faceshot_core::matching::gallery::FeatureCache;
    use std::collections::HashMap;
    let dir = tempfile::tempdir().unwrap();
    let save = |rel: &str, tensors: HashMap<String, Tensor>| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let half: HashMap<String, Tensor> = tensors
            .into_iter()
            .map(|(k, t)| (k, t.to_dtype(DType::F16).unwrap()))
            .collect();
        candle_core::safetensors::save(&half, &path).unwrap();
        std::fs::metadata(&path).unwrap().len() as f64 / 1e9
    };
    let t = Instant::now();
    let mut unet = HashMap::new();
    let mut vae = HashMap::new();
    for (name, tensor) in RandomArch::sd21().tensors().unwrap() {
        if let Some(n) = name.strip_prefix("unet.") {
            unet.insert(n.to_string(), tensor);
        } else if let Some(n) = name.strip_prefix("vae.") {
            vae.insert(n.to_string(), tensor);
        }
    }
    let mut gb = save("unet/diffusion_pytorch_model.fp16.safetensors", unet);
    gb += save("vae/diffusion_pytorch_model.fp16.safetensors", vae);
    let vm = VarMap::new();
    clip::ClipTextTransformer::new(
        VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu),
        &clip::Config::v2_1(),
    )
    .unwrap();
    let text: HashMap<String, Tensor> = vm
        .data()
        .lock()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_tensor().detach()))
        .collect();
    gb += save("text_encoder/model.fp16.safetensors", text);
    // Every letter on its own and at a word's end: the prompt encodes without merges.
    let mut vocab = vec!["<|startoftext|>".to_string(), "<|endoftext|>".to_string()];
    for c in ('a'..='z').chain(['!']) {
        vocab.push(c.to_string());
        vocab.push(format!("{c}</w>"));
    }
    let vocab: HashMap<&str, usize> = vocab
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i))
        .collect();
    std::fs::create_dir_all(dir.path().join("tokenizer")).unwrap();
    std::fs::write(
        dir.path().join("tokenizer/vocab.json"),
        serde_json::to_string(&vocab).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.path().join("tokenizer/merges.txt"), "#version: 0.2\n").unwrap();
    println!(
        "random SD-2.1 folder (fp16, {gb:.2} GB) written in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let opts = DiftOptions::default();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = FeatureCache::new(Some(cache_dir.path().to_path_buf()));
    let t = Instant::now();
    let lazy = Dift::lazy(dir.path(), &opts, &cache).unwrap();
    let check_ms = t.elapsed().as_secs_f64() * 1e3;
    let mut load_s = Vec::new();
    for _ in 0..2 {
        let t = Instant::now();
        let dift = Dift::load(dir.path(), &opts, &cache, &NoProgress).unwrap();
        load_s.push(t.elapsed().as_secs_f64());
        assert_eq!(lazy.id(), dift.id());
    }
    // The U-Net file read as f32 by candle's loader and by ours, alternately (best of three).
    let unet_file = dir
        .path()
        .join("unet/diffusion_pytorch_model.fp16.safetensors");
    let (mut candle_s, mut ours_s) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..3 {
        let t = Instant::now();
        let tensors = candle_core::safetensors::load(&unet_file, &Device::Cpu).unwrap();
        let converted: Vec<Tensor> = tensors
            .into_values()
            .map(|t| t.to_dtype(DType::F32).unwrap())
            .collect();
        candle_s = candle_s.min(t.elapsed().as_secs_f64());
        drop(converted);
        let t = Instant::now();
        drop(faceshot_dift::weights::load_f32(&unet_file).unwrap());
        ours_s = ours_s.min(t.elapsed().as_secs_f64());
    }
    println!(
        "DIFT model (files in the page cache): folder checked (a match the caches serve stops \
         here) in {check_ms:.1} ms; loaded in {:.1} s with the text encoder run on the prompt, \
         {:.1} s with the prompt's context from the cache; the fp16 U-Net read as f32 in \
         {ours_s:.2} s against {candle_s:.2} s through candle's loader ({:.2}x)",
        load_s[0],
        load_s[1],
        ours_s / candle_s
    );
}
