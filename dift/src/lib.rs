//! DIFT: diffusion features from Stable Diffusion 2.1, as in the FaceShot code.
//!
//! The character (letterboxed to 512×512, in [-1, 1]) is VAE-encoded (the latent mean; the
//! official code samples the latent with seed 42), scaled by 0.18215, inverted with DDIM along
//! the 50-step schedule (timesteps 1, 21, …) up to t = 301 — 15 inversion passes of the full
//! U-Net with the prompt "a photo of a face" — and the U-Net is run once more at t = 301 up to
//! up block 1, whose output (1280 channels at 1/16 of the image) is the feature map.
//! Options: any timestep on the schedule, fewer schedule steps (e.g. 10: t = 1, 101, 201, 301,
//! three inversion passes), or the original DIFT's noise ensemble (no inversion).

pub mod attention;
pub mod blocks;
pub mod conv;
pub mod fused;
#[cfg(feature = "download")]
pub mod hub;
pub mod linear;
mod matmul;
pub mod scheduler;
pub mod tokenizer;
pub mod transformer;
pub mod unet;
pub mod vae;
pub mod weights;
pub mod winograd;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use candle_transformers::models::stable_diffusion::clip;
use candle_transformers::models::stable_diffusion::unet_2d::{
    BlockConfig, UNet2DConditionModelConfig,
};
use faceshot_core::cartoon::Rng;
#[cfg(feature = "download")]
use faceshot_core::matching::Backend;
use faceshot_core::matching::feature::{FeatureMap, Featurizer, Lazy};
use faceshot_core::matching::gallery::{FeatureCache, hex};
use faceshot_core::matching::{Diffusion, MatchError};
use faceshot_core::progress::Progress;
use image::RgbImage;
use scheduler::Schedule;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use unet::{FeatureUNet, UNetOutput};
use vae::{VaeConfig, VaeEncoder};

/// SD's latent scaling factor.
pub const VAE_SCALE: f64 = 0.18215;
/// The official prompt.
pub const DEFAULT_PROMPT: &str = "a photo of a face";

/// How the clean latent is brought to the feature timestep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inversion {
    /// DDIM inversion along a schedule of `steps` steps (official: 50).
    Ddim {
        /// Schedule length; the feature timestep must be on it.
        steps: usize,
    },
    /// The original DIFT: add Gaussian noise at the timestep, average `ensemble` passes.
    Noise {
        /// Number of noisy copies.
        ensemble: usize,
        /// Noise seed.
        seed: u64,
    },
}

/// DIFT settings.
#[derive(Clone, Debug, PartialEq)]
pub struct DiftOptions {
    /// Feature timestep (official FaceShot: 301; original DIFT: 261).
    pub timestep: usize,
    /// Up block whose output is the feature (1 = 1280 channels at 1/16 resolution).
    pub up_index: usize,
    /// Inversion mode.
    pub inversion: Inversion,
    /// Text prompt.
    pub prompt: String,
    /// Square input side in pixels (multiple of 64).
    pub side: u32,
}

impl Default for DiftOptions {
    fn default() -> Self {
        Self {
            timestep: 301,
            up_index: 1,
            inversion: Inversion::Ddim { steps: 50 },
            prompt: DEFAULT_PROMPT.into(),
            side: 512,
        }
    }
}

impl DiftOptions {
    /// Short description for logs and cache keys.
    pub fn describe(&self) -> String {
        let inv = match self.inversion {
            Inversion::Ddim { steps } => format!("ddim{steps}"),
            Inversion::Noise { ensemble, seed } => format!("noise{ensemble}s{seed}"),
        };
        format!(
            "t{}-up{}-{inv}-{}px",
            self.timestep, self.up_index, self.side
        )
    }
}

/// The DIFT featurizer: VAE encoder, U-Net (to up block `up_index`), prompt context, schedule.
pub struct Dift {
    unet: FeatureUNet,
    vae: VaeEncoder,
    context: Tensor,
    schedule: Schedule,
    opts: DiftOptions,
    model_id: String,
}

/// Files of a diffusers Stable Diffusion folder, each with acceptable variants.
pub const REQUIRED: [(&str, &[&str]); 5] = [
    (
        "unet",
        &[
            "unet/diffusion_pytorch_model.safetensors",
            "unet/diffusion_pytorch_model.fp16.safetensors",
        ],
    ),
    (
        "vae",
        &[
            "vae/diffusion_pytorch_model.safetensors",
            "vae/diffusion_pytorch_model.fp16.safetensors",
        ],
    ),
    (
        "text encoder",
        &[
            "text_encoder/model.safetensors",
            "text_encoder/model.fp16.safetensors",
        ],
    ),
    ("tokenizer vocabulary", &["tokenizer/vocab.json"]),
    ("tokenizer merges", &["tokenizer/merges.txt"]),
];

fn find_file(dir: &Path, variants: &[&str]) -> Option<PathBuf> {
    variants.iter().map(|v| dir.join(v)).find(|p| p.is_file())
}

#[cfg(feature = "download")]
/// The diffusion features a match with `backend` needs, if any: for `dift`, DIFT on `weights`
/// (else an earlier download, else a download when `download` allows it); for `auto`, DIFT
/// only when `weights` holds a complete folder; none for the other backends.
pub fn diffusion_for(
    backend: Backend,
    weights: Option<&Path>,
    download: bool,
    opts: &DiftOptions,
    cache_dir: Option<PathBuf>,
    progress: &dyn Progress,
) -> Result<Option<Diffusion>, MatchError> {
    let dir = match (backend, weights) {
        (Backend::Dift, w) => resolve_weights(w, download, progress)?,
        (Backend::Auto, Some(w)) if weights_present(w) => w.to_path_buf(),
        _ => return Ok(None),
    };
    diffusion(&dir, opts, &FeatureCache::new(cache_dir)).map(Some)
}

/// The diffusion features core's `dift` backend matches with: DIFT on the Stable Diffusion 2.1
/// folder `dir`, whose model loads only if a feature map is not already in `cache`.
pub fn diffusion(
    dir: &Path,
    opts: &DiftOptions,
    cache: &FeatureCache,
) -> Result<Diffusion, MatchError> {
    Ok(Diffusion {
        featurizer: std::sync::Arc::new(Dift::lazy(dir, opts, cache)?),
        settings: opts.describe(),
    })
}

/// Whether `dir` holds every file DIFT needs.
pub fn weights_present(dir: &Path) -> bool {
    REQUIRED.iter().all(|(_, v)| find_file(dir, v).is_some())
}

/// What `dir` lacks of a Stable Diffusion 2.1 folder, as "part (file)" (empty: complete).
pub fn missing_weights(dir: &Path) -> Vec<String> {
    REQUIRED
        .iter()
        .filter(|(_, v)| find_file(dir, v).is_none())
        .map(|(name, v)| format!("{name} ({})", v[0]))
        .collect()
}

#[cfg(feature = "download")]
/// The weights folder to use: `dir` if given (checked); else the download folder
/// ([`hub::default_dir`]) when it holds the weights; else a download into it when allowed.
pub fn resolve_weights(
    dir: Option<&Path>,
    download: bool,
    progress: &dyn Progress,
) -> Result<PathBuf, MatchError> {
    if let Some(d) = dir {
        let missing = missing_weights(d);
        if !missing.is_empty() {
            return Err(MatchError::Model(format!(
                "{} is not a diffusers Stable Diffusion 2.1 folder: missing {}",
                d.display(),
                missing.join(", ")
            )));
        }
        return Ok(d.to_path_buf());
    }
    let source = hub::Hub::from_env();
    let cached = hub::default_dir(source.repo());
    if let Some(d) = cached.as_deref().filter(|d| weights_present(d)) {
        return Ok(d.to_path_buf());
    }
    if download {
        let dest = cached.ok_or_else(|| {
            MatchError::Download(
                "no folder to download into: set FACESHOT_MODELS_DIR or HOME, or pass --weights"
                    .into(),
            )
        })?;
        return download_weights(&source, &dest, progress);
    }
    Err(MatchError::Model(
        "DIFT needs Stable Diffusion 2.1 weights: pass --weights DIR (a diffusers folder) or \
         --download"
            .into(),
    ))
}

#[cfg(feature = "download")]
/// Download SD-2.1 ([`hub::FILES`] of `hub`'s repository) into `dest`,
/// resuming a cancelled download, and check the folder is complete.
pub fn download_weights(
    hub: &hub::Hub,
    dest: &Path,
    progress: &dyn Progress,
) -> Result<PathBuf, MatchError> {
    let root = hub.download(&hub::FILES, dest, progress)?;
    if !weights_present(&root) {
        return Err(MatchError::Download(format!(
            "{} is incomplete after the download",
            root.display()
        )));
    }
    Ok(root)
}

fn load_safetensors(path: &Path) -> Result<VarBuilder<'static>, MatchError> {
    Ok(VarBuilder::from_tensors(
        weights::load_f32(path)?,
        DType::F32,
        &Device::Cpu,
    ))
}

/// A cheap identity of a weights file: sha256 of its size and safetensors header.
fn file_identity(path: &Path) -> Result<String, MatchError> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| MatchError::io(path, e))?;
    let len = f.metadata().map_err(|e| MatchError::io(path, e))?.len();
    let mut head = [0u8; 8];
    f.read_exact(&mut head)
        .map_err(|e| MatchError::io(path, e))?;
    let n = u64::from_le_bytes(head).min(100 << 20);
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header)
        .map_err(|e| MatchError::io(path, e))?;
    let mut h = Sha256::new();
    h.update(len.to_le_bytes());
    h.update(&header);
    Ok(hex(&h.finalize()[..8]))
}

/// The text context for a prompt (1×77×1024) from the SD-2.1 CLIP text encoder.
pub fn encode_prompt(dir: &Path, prompt: &str) -> Result<Tensor, MatchError> {
    let read = |rel: &str| {
        let p = dir.join(rel);
        std::fs::read_to_string(&p).map_err(|e| MatchError::io(&p, e))
    };
    let tok = tokenizer::ClipTokenizer::from_strings(
        &read("tokenizer/vocab.json")?,
        &read("tokenizer/merges.txt")?,
    )
    .map_err(MatchError::Model)?;
    let cfg = clip::Config::v2_1();
    let ids = tok
        .encode_padded(prompt, cfg.max_position_embeddings, cfg.pad_with.as_deref())
        .map_err(MatchError::Model)?;
    let path = find_file(dir, REQUIRED[2].1)
        .ok_or_else(|| MatchError::Model("text encoder missing".into()))?;
    let vb = load_safetensors(&path)?;
    let model = clip::ClipTextTransformer::new(vb, &cfg)?;
    let ids = Tensor::new(ids.as_slice(), &Device::Cpu)?.unsqueeze(0)?;
    Ok(candle_core::Module::forward(&model, &ids)?)
}

/// [`encode_prompt`] through `cache`: the context depends only on the text encoder, the
/// tokenizer and the prompt, so after the first run with a model the text encoder is not read.
pub fn encode_prompt_cached(
    dir: &Path,
    prompt: &str,
    cache: &FeatureCache,
) -> Result<Tensor, MatchError> {
    let (model, key) = prompt_cache_key(dir, prompt)?;
    // The 1 × 77 × D context is kept as a one-channel map of 77 rows.
    if let Some(m) = cache.get_map(&model, &key) {
        return Ok(Tensor::from_vec(
            m.data,
            (1, m.height, m.width),
            &Device::Cpu,
        )?);
    }
    let context = encode_prompt(dir, prompt)?;
    let (_, n, d) = context.dims3()?;
    let data = context.flatten_all()?.to_vec1::<f32>()?;
    cache.put_map(&model, &key, &FeatureMap::new(1, n, d, data));
    Ok(context)
}

/// Where [`encode_prompt_cached`] keeps the context of `prompt`: the text encoder's
/// [`file_identity`] as the model, a hash of the tokenizer's files and the prompt as the key.
fn prompt_cache_key(dir: &Path, prompt: &str) -> Result<(String, String), MatchError> {
    let encoder = find_file(dir, REQUIRED[2].1)
        .ok_or_else(|| MatchError::Model("text encoder missing".into()))?;
    let mut h = Sha256::new();
    for rel in ["tokenizer/vocab.json", "tokenizer/merges.txt"] {
        let p = dir.join(rel);
        h.update(std::fs::read(&p).map_err(|e| MatchError::io(&p, e))?);
    }
    h.update(prompt.as_bytes());
    Ok((
        format!("clip-text-{}", file_identity(&encoder)?),
        hex(&h.finalize()[..16]),
    ))
}

/// Shapes of a randomly initialised DIFT (tests and benchmarks).
#[derive(Clone, Debug)]
pub struct RandomArch {
    /// U-Net configuration.
    pub unet: UNet2DConditionModelConfig,
    /// VAE encoder configuration.
    pub vae: VaeConfig,
}

impl RandomArch {
    /// A tiny network: 2 down/up levels of 32/64 channels, 8-channel VAE, 16-d context.
    pub fn tiny() -> Self {
        let bc = |out_channels, use_cross_attn, attention_head_dim| BlockConfig {
            out_channels,
            use_cross_attn,
            attention_head_dim,
        };
        Self {
            unet: UNet2DConditionModelConfig {
                blocks: vec![bc(32, Some(1), 2), bc(64, Some(1), 4), bc(64, None, 4)],
                center_input_sample: false,
                cross_attention_dim: 16,
                downsample_padding: 1,
                flip_sin_to_cos: true,
                freq_shift: 0.,
                layers_per_block: 1,
                mid_block_scale_factor: 1.,
                norm_eps: 1e-5,
                norm_num_groups: 8,
                sliced_attention_size: None,
                use_linear_projection: true,
            },
            vae: VaeConfig {
                block_out_channels: vec![8, 16, 16, 16],
                layers_per_block: 1,
                norm_num_groups: 4,
                latent_channels: 4,
            },
        }
    }

    /// The full Stable Diffusion 2.1 shapes (same compute as the real weights).
    pub fn sd21() -> Self {
        Self {
            unet: unet::sd21_config(),
            vae: VaeConfig::sd21(),
        }
    }

    /// Randomly initialised weights for these shapes (candle's initialisers), under `unet.*`
    /// and `vae.*`, as plain tensors like loaded weights: built from a `VarMap`'s variables,
    /// every op would record its inputs for backpropagation and a forward pass would keep all
    /// its intermediate tensors alive (about 16 GB for the SD-2.1 U-Net at 512²).
    pub fn weights(&self) -> Result<VarBuilder<'static>, MatchError> {
        Ok(VarBuilder::from_tensors(
            self.tensors()?,
            DType::F32,
            &Device::Cpu,
        ))
    }

    /// The tensors of [`RandomArch::weights`] by name.
    pub fn tensors(&self) -> Result<std::collections::HashMap<String, Tensor>, MatchError> {
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
        FeatureUNet::new(vb.pp("unet"), 4, 4, self.unet.clone(), true)?;
        VaeEncoder::new(vb.pp("vae"), &self.vae)?;
        let vars = vm.data().lock().unwrap_or_else(|e| e.into_inner());
        Ok(vars
            .iter()
            .map(|(name, var)| (name.clone(), var.as_tensor().detach()))
            .collect())
    }
}

fn random_tensor(shape: &[usize], seed: u64, std: f32) -> Result<Tensor, MatchError> {
    let n: usize = shape.iter().product();
    let mut r = Rng::new(seed);
    let v: Vec<f32> = (0..n).map(|_| r.normal() * std).collect();
    Ok(Tensor::from_vec(v, shape, &Device::Cpu)?)
}

impl Dift {
    /// Load from a diffusers folder (see [`REQUIRED`]); the prompt's text context comes from
    /// `cache` when an earlier load put it there.
    pub fn load(
        dir: &Path,
        opts: &DiftOptions,
        cache: &FeatureCache,
        progress: &dyn Progress,
    ) -> Result<Self, MatchError> {
        progress.update("loading DIFT weights", 0, Some(4));
        let (unet_path, vae_path) = model_files(dir)?;
        let schedule = read_schedule(dir)?;
        let context = encode_prompt_cached(dir, &opts.prompt, cache)?;
        progress.update("loading DIFT weights", 1, Some(4));
        let unet = FeatureUNet::new(
            load_safetensors(&unet_path)?,
            4,
            4,
            unet::sd21_config(),
            true,
        )?;
        progress.update("loading DIFT weights", 2, Some(4));
        let vae = VaeEncoder::new(load_safetensors(&vae_path)?, &VaeConfig::sd21())?;
        progress.update("loading DIFT weights", 3, Some(4));
        let model_id = model_id(&unet_path, &vae_path)?;
        progress.update("loading DIFT weights", 4, Some(4));
        Self::from_parts(unet, vae, context, schedule, opts.clone(), model_id)
    }

    /// The model of a diffusers folder as a featurizer that reads its weights on its first
    /// extraction ([`Lazy`]): a match the feature caches serve never loads them. The files,
    /// the scheduler configuration and the options are checked now.
    pub fn lazy(
        dir: &Path,
        opts: &DiftOptions,
        cache: &FeatureCache,
    ) -> Result<Lazy<Dift>, MatchError> {
        let (unet_path, vae_path) = model_files(dir)?;
        check_options(opts, &read_schedule(dir)?, unet::sd21_config().blocks.len())?;
        let id = featurizer_id(&model_id(&unet_path, &vae_path)?, opts);
        let (dir, opts, cache) = (dir.to_path_buf(), opts.clone(), cache.clone());
        Ok(Lazy::new(id, opts.side, move |progress| {
            Dift::load(&dir, &opts, &cache, progress)
        }))
    }

    /// Assemble from parts (checks the options fit the schedule).
    pub fn from_parts(
        unet: FeatureUNet,
        vae: VaeEncoder,
        context: Tensor,
        schedule: Schedule,
        opts: DiftOptions,
        model_id: String,
    ) -> Result<Self, MatchError> {
        check_options(&opts, &schedule, unet.up_blocks())?;
        Ok(Self {
            unet,
            vae,
            context,
            schedule,
            opts,
            model_id,
        })
    }

    /// A randomly initialised model of the given shapes (weights drawn by candle's
    /// initialisers; the prompt context is drawn from `seed`).
    pub fn random(arch: &RandomArch, opts: DiftOptions, seed: u64) -> Result<Self, MatchError> {
        let vb = arch.weights()?;
        let unet = FeatureUNet::new(vb.pp("unet"), 4, 4, arch.unet.clone(), true)?;
        let vae = VaeEncoder::new(vb.pp("vae"), &arch.vae)?;
        let context = random_tensor(&[1, 77, arch.unet.cross_attention_dim], seed, 1.0)?;
        Self::from_parts(
            unet,
            vae,
            context,
            Schedule::sd21(),
            opts,
            format!("random-{seed}"),
        )
    }

    /// Run on an image tensor (1×3×S×S in [-1, 1]); returns 1×C×h×w features.
    pub fn features_tensor(
        &self,
        x: &Tensor,
        progress: &dyn Progress,
    ) -> Result<Tensor, MatchError> {
        // Every op allocates tensors of up to a gigabyte: keep freed memory for the next one.
        let _heap = faceshot_core::heap::RetainedHeap::enter();
        let z0 = (self.vae.encode_mean(x)? * VAE_SCALE)?;
        let t = self.opts.timestep;
        let up = Some(self.opts.up_index);
        match self.opts.inversion {
            Inversion::Ddim { steps } => {
                let ts = self.schedule.inverse_timesteps(steps);
                let total = ts.iter().position(|&s| s == t).unwrap_or(0) as u64 + 1;
                let mut z = z0;
                for (k, &ti) in ts.iter().enumerate() {
                    if progress.cancelled() {
                        return Err(MatchError::Cancelled);
                    }
                    progress.update("DIFT inversion", k as u64, Some(total));
                    if ti == t {
                        if let UNetOutput::Features(f) =
                            self.unet.forward(&z, ti as f64, &self.context, up)?
                        {
                            progress.update("DIFT inversion", total, Some(total));
                            return Ok(f);
                        }
                        break;
                    }
                    let UNetOutput::Prediction(out) =
                        self.unet.forward(&z, ti as f64, &self.context, None)?
                    else {
                        break;
                    };
                    let (cx, co) = self.schedule.inverse_step_coeffs(ti, steps);
                    z = ((z * cx)? + (out * co)?)?;
                }
                Err(MatchError::Options(format!("timestep {t} not reached")))
            }
            Inversion::Noise { ensemble, seed } => {
                let (a, b) = self.schedule.noise_coeffs(t);
                let mut acc: Option<Tensor> = None;
                let n = ensemble.max(1);
                for k in 0..n {
                    if progress.cancelled() {
                        return Err(MatchError::Cancelled);
                    }
                    progress.update("DIFT ensemble", k as u64, Some(n as u64));
                    let noise = random_tensor(z0.dims(), seed.wrapping_add(k as u64), 1.0)?;
                    let zt = ((&z0 * a)? + (noise * b)?)?;
                    if let UNetOutput::Features(f) =
                        self.unet.forward(&zt, t as f64, &self.context, up)?
                    {
                        acc = Some(match acc {
                            Some(s) => (s + f)?,
                            None => f,
                        });
                    }
                }
                progress.update("DIFT ensemble", n as u64, Some(n as u64));
                let s = acc.ok_or_else(|| MatchError::Options("no features".into()))?;
                Ok((s / n as f64)?)
            }
        }
    }
}

/// Checks that `opts` fit a U-Net of `up_blocks` up blocks and the `schedule`.
fn check_options(
    opts: &DiftOptions,
    schedule: &Schedule,
    up_blocks: usize,
) -> Result<(), MatchError> {
    if !opts.side.is_multiple_of(64) || opts.side == 0 {
        return Err(MatchError::Options(format!(
            "DIFT input side {} is not a positive multiple of 64",
            opts.side
        )));
    }
    if opts.up_index >= up_blocks {
        return Err(MatchError::Options(format!(
            "up block {} does not exist (the U-Net has {})",
            opts.up_index, up_blocks
        )));
    }
    if let Inversion::Ddim { steps } = opts.inversion
        && !schedule.inverse_timesteps(steps).contains(&opts.timestep)
    {
        return Err(MatchError::Options(format!(
            "timestep {} is not on the {steps}-step DDIM schedule ({}, {}, …)",
            opts.timestep,
            schedule
                .inverse_timesteps(steps)
                .first()
                .copied()
                .unwrap_or(0),
            schedule
                .inverse_timesteps(steps)
                .get(1)
                .copied()
                .unwrap_or(0)
        )));
    }
    Ok(())
}

/// The U-Net's and the VAE's weights files in `dir`.
fn model_files(dir: &Path) -> Result<(PathBuf, PathBuf), MatchError> {
    let unet = find_file(dir, REQUIRED[0].1)
        .ok_or_else(|| MatchError::Model("U-Net weights missing".into()))?;
    let vae = find_file(dir, REQUIRED[1].1)
        .ok_or_else(|| MatchError::Model("VAE weights missing".into()))?;
    Ok((unet, vae))
}

/// The scheduler configuration of `dir` (SD-2.1's when the folder has none).
fn read_schedule(dir: &Path) -> Result<Schedule, MatchError> {
    let path = dir.join("scheduler/scheduler_config.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => Schedule::from_json(&text).map_err(|e| MatchError::Format { path, reason: e }),
        Err(_) => Ok(Schedule::sd21()),
    }
}

/// The model's identity: its U-Net's and VAE's [`file_identity`].
fn model_id(unet: &Path, vae: &Path) -> Result<String, MatchError> {
    Ok(format!(
        "sd21-{}-{}",
        file_identity(unet)?,
        file_identity(vae)?
    ))
}

/// A DIFT featurizer's identity (the feature caches' key): model and settings.
fn featurizer_id(model_id: &str, opts: &DiftOptions) -> String {
    // "v2": since the exact GELU replaced candle's tanh form, features differ slightly from
    // earlier builds', so their cached gallery features are not reused.
    format!("dift-v2-{model_id}-{}", opts.describe())
}

/// An RGB image as a 1×3×H×W tensor in [-1, 1].
pub fn image_tensor(img: &RgbImage) -> Result<Tensor, MatchError> {
    let (w, h) = img.dimensions();
    let (w, h) = (w as usize, h as usize);
    let mut v = vec![0f32; 3 * w * h];
    for (i, p) in img.pixels().enumerate() {
        for c in 0..3 {
            v[c * w * h + i] = f32::from(p.0[c]) / 127.5 - 1.0;
        }
    }
    Ok(Tensor::from_vec(v, (1, 3, h, w), &Device::Cpu)?)
}

impl Featurizer for Dift {
    fn id(&self) -> String {
        featurizer_id(&self.model_id, &self.opts)
    }

    fn side(&self) -> u32 {
        self.opts.side
    }

    fn extract(&self, img: &RgbImage, progress: &dyn Progress) -> Result<FeatureMap, MatchError> {
        let x = image_tensor(img)?;
        let f = self.features_tensor(&x, progress)?.squeeze(0)?;
        let (c, h, w) = f.dims3()?;
        let data = f.flatten_all()?.to_vec1::<f32>()?;
        Ok(FeatureMap::new(c, h, w, data))
    }
}

/// Largest absolute value of `t` (infinite if it cannot be computed); for tests.
#[cfg(test)]
pub(crate) fn max_abs(t: &Tensor) -> f32 {
    t.abs()
        .and_then(|a| a.flatten_all())
        .and_then(|a| a.max(0))
        .and_then(|a| a.to_scalar::<f32>())
        .unwrap_or(f32::INFINITY)
}

/// Largest absolute difference between `a` and `b`; for tests.
#[cfg(test)]
pub(crate) fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b).map_or(f32::INFINITY, |d| max_abs(&d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use faceshot_core::progress::NoProgress;
    use std::collections::HashMap;

    fn tiny(inversion: Inversion) -> Dift {
        let opts = DiftOptions {
            timestep: 301,
            up_index: 1,
            inversion,
            prompt: DEFAULT_PROMPT.into(),
            side: 64,
        };
        Dift::random(&RandomArch::tiny(), opts, 7).unwrap()
    }

    fn test_image() -> RgbImage {
        RgbImage::from_fn(64, 64, |x, y| {
            image::Rgb([(x * 4) as u8, (y * 4) as u8, 128])
        })
    }

    #[test]
    fn tiny_dift_shapes_and_determinism() {
        let d = tiny(Inversion::Ddim { steps: 10 });
        let a = d.extract(&test_image(), &NoProgress).unwrap();
        // Latent 8×8; up block 0 upsamples to 4×4 → up block 1 upsamples to 8×8... with 3
        // levels: mid at 2×2, up0 → 4×4, up1 → 8×8; channels of up block 1 = 64.
        assert_eq!((a.channels, a.height, a.width), (64, 8, 8));
        let b = d.extract(&test_image(), &NoProgress).unwrap();
        assert_eq!(a.data, b.data);
        assert!(a.data.iter().all(|v| v.is_finite()));
        let other = RgbImage::from_pixel(64, 64, image::Rgb([10, 200, 30]));
        let c = d.extract(&other, &NoProgress).unwrap();
        assert_ne!(a.data, c.data);
    }

    /// Random weights behave like loaded ones: no backpropagation graph, so a pass frees
    /// its intermediate tensors as it goes.
    #[test]
    fn random_weights_record_no_graph() {
        let d = tiny(Inversion::Ddim { steps: 10 });
        let x = image_tensor(&test_image()).unwrap();
        let f = d.features_tensor(&x, &NoProgress).unwrap();
        assert!(!f.track_op());
    }

    #[test]
    fn noise_ensemble_is_seeded() {
        let d = tiny(Inversion::Noise {
            ensemble: 2,
            seed: 3,
        });
        let a = d.extract(&test_image(), &NoProgress).unwrap();
        let b = d.extract(&test_image(), &NoProgress).unwrap();
        assert_eq!(a.data, b.data);
    }

    #[test]
    fn bad_options_are_refused() {
        let opts = DiftOptions {
            timestep: 300,
            side: 64,
            ..Default::default()
        };
        let err = Dift::random(&RandomArch::tiny(), opts, 1).err().unwrap();
        assert!(err.to_string().contains("not on the 50-step"), "{err}");
        let opts = DiftOptions {
            side: 100,
            ..Default::default()
        };
        assert!(Dift::random(&RandomArch::tiny(), opts, 1).is_err());
        let dir = tempfile::tempdir().unwrap();
        assert!(!weights_present(dir.path()));
        assert!(
            missing_weights(dir.path())
                .iter()
                .any(|m| m.contains("unet"))
        );
    }

    #[cfg(feature = "download")]
    #[test]
    fn weights_are_resolved_from_a_complete_folder_only() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolve_weights(Some(dir.path()), false, &NoProgress).unwrap_err();
        assert!(err.to_string().contains("unet"), "{err}");
        // Without a folder or a download: an error, unless this machine has downloaded them.
        if !hub::default_dir(hub::Hub::from_env().repo()).is_some_and(|d| weights_present(&d)) {
            assert!(resolve_weights(None, false, &NoProgress).is_err());
        }
    }

    #[test]
    fn the_prompt_context_comes_from_the_cache_once_there() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = tempfile::tempdir().unwrap();
        let cache = FeatureCache::new(Some(cache_dir.path().to_path_buf()));
        // A text encoder file that is no encoder: running it fails, so any context returned
        // came from the cache.
        let tiny = Tensor::zeros(2, DType::F32, &Device::Cpu).unwrap();
        let path = dir.path().join("text_encoder/model.safetensors");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        candle_core::safetensors::save(&HashMap::from([("w", tiny)]), &path).unwrap();
        std::fs::create_dir_all(dir.path().join("tokenizer")).unwrap();
        let vocab = r#"{"<|startoftext|>": 0, "<|endoftext|>": 1, "a</w>": 2}"#;
        std::fs::write(dir.path().join("tokenizer/vocab.json"), vocab).unwrap();
        std::fs::write(dir.path().join("tokenizer/merges.txt"), "#version: 0.2\n").unwrap();
        assert!(encode_prompt_cached(dir.path(), "a", &cache).is_err());
        let (model, key) = prompt_cache_key(dir.path(), "a").unwrap();
        let data: Vec<f32> = (0..77 * 4).map(|i| i as f32).collect();
        cache.put_map(&model, &key, &FeatureMap::new(1, 77, 4, data.clone()));
        let context = encode_prompt_cached(dir.path(), "a", &cache).unwrap();
        assert_eq!(context.dims(), &[1, 77, 4]);
        assert_eq!(
            context.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            data
        );
        // Another prompt, or other tokenizer files, is another key.
        assert!(encode_prompt_cached(dir.path(), "a a", &cache).is_err());
        std::fs::write(dir.path().join("tokenizer/merges.txt"), "#version: 0.3\n").unwrap();
        assert!(encode_prompt_cached(dir.path(), "a", &cache).is_err());
    }

    #[test]
    fn a_lazy_model_checks_files_and_options_now_and_loads_later() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FeatureCache::disabled();
        let err = Dift::lazy(dir.path(), &DiftOptions::default(), &cache)
            .err()
            .unwrap();
        assert!(err.to_string().contains("U-Net weights missing"), "{err}");
        // Weights files with valid headers (tiny tensors), no text encoder.
        let tiny = Tensor::zeros(2, DType::F32, &Device::Cpu).unwrap();
        for part in ["unet", "vae"] {
            let path = dir
                .path()
                .join(part)
                .join("diffusion_pytorch_model.safetensors");
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            candle_core::safetensors::save(&HashMap::from([("w", tiny.clone())]), &path).unwrap();
        }
        let bad = DiftOptions {
            timestep: 300,
            ..Default::default()
        };
        let err = Dift::lazy(dir.path(), &bad, &cache).err().unwrap();
        assert!(err.to_string().contains("not on the 50-step"), "{err}");
        let lazy = Dift::lazy(dir.path(), &DiftOptions::default(), &cache).unwrap();
        assert!(lazy.id().starts_with("dift-v2-sd21-"), "{}", lazy.id());
        assert_eq!(lazy.side(), 512);
        assert!(!lazy.is_loaded());
        // Only extracting reads the rest, and says what is missing.
        let err = lazy.extract(&test_image(), &NoProgress).err().unwrap();
        assert!(err.to_string().contains("text encoder missing"), "{err}");
        assert!(!lazy.is_loaded());
    }
}
