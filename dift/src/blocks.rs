//! The diffusion models' building blocks (resnets, down/up/mid blocks) on [`Conv`] and
//! [`SpatialTransformer`], under the diffusers weight names; the VAE's single-head attention is
//! candle-transformers' own.

use super::conv::Conv;
use super::fused::GroupNorm;
use super::transformer::{SpatialTransformer, TransformerSpec};
use candle_core::{Module, Result, Tensor};
use candle_nn::{Linear, VarBuilder};
use candle_transformers::models::stable_diffusion::attention::{
    AttentionBlock, AttentionBlockConfig,
};

/// Settings every resnet of a block shares.
#[derive(Debug, Clone, Copy)]
pub struct ResnetSpec {
    /// Time-embedding width (`None`: the block takes no time embedding, as in the VAE).
    pub temb: Option<usize>,
    /// Group-norm groups.
    pub groups: usize,
    /// Group-norm epsilon.
    pub eps: f64,
    /// The output is divided by this.
    pub output_scale: f64,
}

/// Residual block: norm, SiLU, 3×3 conv, plus the time embedding, norm, SiLU, 3×3 conv, plus
/// the (1×1-projected where the width changes) input.
#[derive(Debug)]
pub struct Resnet {
    norm1: GroupNorm,
    conv1: Conv,
    norm2: GroupNorm,
    conv2: Conv,
    time_emb_proj: Option<Linear>,
    shortcut: Option<Conv>,
    output_scale: f64,
}

impl Resnet {
    /// Build under `vs` (`norm1`, `conv1`, `time_emb_proj`, `norm2`, `conv2`, `conv_shortcut`).
    pub fn new(vs: VarBuilder, cin: usize, cout: usize, spec: ResnetSpec) -> Result<Self> {
        Ok(Self {
            norm1: GroupNorm::new(spec.groups, cin, spec.eps, vs.pp("norm1"))?,
            conv1: Conv::new(vs.pp("conv1"), cin, cout, 3, 1, (1, 1))?,
            norm2: GroupNorm::new(spec.groups, cout, spec.eps, vs.pp("norm2"))?,
            conv2: Conv::new(vs.pp("conv2"), cout, cout, 3, 1, (1, 1))?,
            time_emb_proj: match spec.temb {
                Some(t) => Some(candle_nn::linear(t, cout, vs.pp("time_emb_proj"))?),
                None => None,
            },
            shortcut: if cin != cout {
                Some(Conv::new(vs.pp("conv_shortcut"), cin, cout, 1, 1, (0, 0))?)
            } else {
                None
            },
            output_scale: spec.output_scale,
        })
    }

    /// Apply to `x` with the time embedding `temb` (B × width).
    pub fn forward(&self, x: &Tensor, temb: Option<&Tensor>) -> Result<Tensor> {
        let skip = match &self.shortcut {
            Some(conv) => conv.forward(x)?,
            None => x.clone(),
        };
        let mut y = self.conv1.forward(&self.norm1.forward(x, true)?)?;
        if let (Some(t), Some(proj)) = (temb, &self.time_emb_proj) {
            let t = proj.forward(&t.silu()?)?.unsqueeze(2)?.unsqueeze(3)?;
            y = y.broadcast_add(&t)?;
        }
        let y = self.conv2.forward(&self.norm2.forward(&y, true)?)?;
        let out = (skip + y)?;
        if self.output_scale == 1.0 {
            Ok(out)
        } else {
            out / self.output_scale
        }
    }
}

/// Attention inside a block: the U-Net's text-conditioned transformers or the VAE's
/// single-head self-attention.
#[derive(Debug)]
pub enum Attention {
    /// Spatial transformer with cross-attention to the context.
    Cross(SpatialTransformer),
    /// Self-attention only.
    Plain(AttentionBlock),
}

impl Attention {
    fn forward(&self, x: &Tensor, ctx: Option<&Tensor>) -> Result<Tensor> {
        match self {
            Attention::Cross(t) => match ctx {
                Some(ctx) => t.forward(x, ctx),
                None => candle_core::bail!("cross-attention without a context"),
            },
            Attention::Plain(a) => a.forward(x),
        }
    }
}

fn cross_attentions(
    vs: VarBuilder,
    channels: usize,
    layers: usize,
    spec: &TransformerSpec,
) -> Result<Vec<Attention>> {
    (0..layers)
        .map(|i| {
            SpatialTransformer::new(vs.pp(i.to_string()), channels, spec).map(Attention::Cross)
        })
        .collect()
}

/// Down block: resnets (each followed by a transformer when cross-attention is on), then an
/// optional stride-2 conv.
#[derive(Debug)]
pub struct DownBlock {
    resnets: Vec<Resnet>,
    attentions: Vec<Attention>,
    downsampler: Option<Conv>,
}

impl DownBlock {
    /// Build under `vs` (`resnets.N`, `attentions.N`, `downsamplers.0.conv`).
    /// `downsample_padding`: `Some(1)` pads all sides, `Some(0)` (the VAE) adds one zero row
    /// and column after the input; `None` keeps the resolution.
    pub fn new(
        vs: VarBuilder,
        cin: usize,
        cout: usize,
        layers: usize,
        spec: ResnetSpec,
        attn: Option<&TransformerSpec>,
        downsample_padding: Option<usize>,
    ) -> Result<Self> {
        let resnets = (0..layers)
            .map(|i| {
                let c = if i == 0 { cin } else { cout };
                Resnet::new(vs.pp("resnets").pp(i.to_string()), c, cout, spec)
            })
            .collect::<Result<Vec<_>>>()?;
        let attentions = match attn {
            Some(a) => cross_attentions(vs.pp("attentions"), cout, layers, a)?,
            None => Vec::new(),
        };
        let downsampler = match downsample_padding {
            Some(p) => {
                let pads = if p == 0 { (0, 1) } else { (p, p) };
                let vs = vs.pp("downsamplers").pp("0").pp("conv");
                Some(Conv::new(vs, cout, cout, 3, 2, pads)?)
            }
            None => None,
        };
        Ok(Self {
            resnets,
            attentions,
            downsampler,
        })
    }

    /// Apply; also returns every intermediate output the up path takes as a skip.
    pub fn forward(
        &self,
        x: &Tensor,
        temb: Option<&Tensor>,
        ctx: Option<&Tensor>,
    ) -> Result<(Tensor, Vec<Tensor>)> {
        let mut x = x.clone();
        let mut skips = Vec::with_capacity(self.resnets.len() + 1);
        for (i, resnet) in self.resnets.iter().enumerate() {
            x = resnet.forward(&x, temb)?;
            if let Some(a) = self.attentions.get(i) {
                x = a.forward(&x, ctx)?;
            }
            skips.push(x.clone());
        }
        if let Some(conv) = &self.downsampler {
            x = conv.forward(&x)?;
            skips.push(x.clone());
        }
        Ok((x, skips))
    }
}

/// Up block: for each resnet, the next skip is concatenated to the input first; an optional
/// nearest ×2 upsampling and 3×3 conv at the end.
#[derive(Debug)]
pub struct UpBlock {
    resnets: Vec<Resnet>,
    attentions: Vec<Attention>,
    upsampler: Option<Conv>,
}

impl UpBlock {
    /// Build under `vs`. `skip_channels` lists the widths of the skips in the order they are
    /// consumed, `prev` is the input width.
    pub fn new(
        vs: VarBuilder,
        prev: usize,
        skip_channels: &[usize],
        cout: usize,
        spec: ResnetSpec,
        attn: Option<&TransformerSpec>,
        upsample: bool,
    ) -> Result<Self> {
        let resnets = skip_channels
            .iter()
            .enumerate()
            .map(|(i, &skip)| {
                let c = if i == 0 { prev } else { cout };
                Resnet::new(vs.pp("resnets").pp(i.to_string()), c + skip, cout, spec)
            })
            .collect::<Result<Vec<_>>>()?;
        let attentions = match attn {
            Some(a) => cross_attentions(vs.pp("attentions"), cout, skip_channels.len(), a)?,
            None => Vec::new(),
        };
        let upsampler = if upsample {
            let vs = vs.pp("upsamplers").pp("0").pp("conv");
            Some(Conv::new(vs, cout, cout, 3, 1, (1, 1))?)
        } else {
            None
        };
        Ok(Self {
            resnets,
            attentions,
            upsampler,
        })
    }

    /// Number of skips this block consumes.
    pub fn skips(&self) -> usize {
        self.resnets.len()
    }

    /// Apply, taking skips from the end of `skips` (last first); `size` overrides the ×2
    /// upsampling's output size.
    pub fn forward(
        &self,
        x: &Tensor,
        skips: &[Tensor],
        temb: Option<&Tensor>,
        ctx: Option<&Tensor>,
        size: Option<(usize, usize)>,
    ) -> Result<Tensor> {
        if skips.len() < self.resnets.len() {
            candle_core::bail!("up block: {} skips for {}", skips.len(), self.resnets.len());
        }
        let mut x = x.clone();
        for (i, resnet) in self.resnets.iter().enumerate() {
            let skip = &skips[skips.len() - 1 - i];
            x = resnet.forward(&Tensor::cat(&[&x, skip], 1)?, temb)?;
            if let Some(a) = self.attentions.get(i) {
                x = a.forward(&x, ctx)?;
            }
        }
        if let Some(conv) = &self.upsampler {
            let (_, _, h, w) = x.dims4()?;
            let (h, w) = size.unwrap_or((2 * h, 2 * w));
            x = conv.forward(&x.upsample_nearest2d(h, w)?)?;
        }
        Ok(x)
    }
}

/// Middle block: resnet, then (attention, resnet) pairs.
#[derive(Debug)]
pub struct MidBlock {
    first: Resnet,
    layers: Vec<(Attention, Resnet)>,
}

impl MidBlock {
    /// The U-Net's: one cross-attention transformer between two resnets.
    pub fn cross(
        vs: VarBuilder,
        channels: usize,
        spec: ResnetSpec,
        attn: &TransformerSpec,
    ) -> Result<Self> {
        let mut attentions = cross_attentions(vs.pp("attentions"), channels, 1, attn)?;
        let mut block = Self::resnets_only(&vs, channels, spec)?;
        if let Some(a) = attentions.pop() {
            let r = Resnet::new(vs.pp("resnets").pp("1"), channels, channels, spec)?;
            block.layers.push((a, r));
        }
        Ok(block)
    }

    /// The VAE's: one single-head self-attention between two resnets.
    pub fn plain(vs: VarBuilder, channels: usize, spec: ResnetSpec) -> Result<Self> {
        let cfg = AttentionBlockConfig {
            num_head_channels: None,
            num_groups: spec.groups,
            rescale_output_factor: spec.output_scale,
            eps: spec.eps,
        };
        let attn = AttentionBlock::new(vs.pp("attentions").pp("0"), channels, cfg)?;
        let mut block = Self::resnets_only(&vs, channels, spec)?;
        let r = Resnet::new(vs.pp("resnets").pp("1"), channels, channels, spec)?;
        block.layers.push((Attention::Plain(attn), r));
        Ok(block)
    }

    fn resnets_only(vs: &VarBuilder, channels: usize, spec: ResnetSpec) -> Result<Self> {
        Ok(Self {
            first: Resnet::new(vs.pp("resnets").pp("0"), channels, channels, spec)?,
            layers: Vec::new(),
        })
    }

    /// Apply.
    pub fn forward(
        &self,
        x: &Tensor,
        temb: Option<&Tensor>,
        ctx: Option<&Tensor>,
    ) -> Result<Tensor> {
        let mut x = self.first.forward(x, temb)?;
        for (attn, resnet) in &self.layers {
            x = resnet.forward(&attn.forward(&x, ctx)?, temb)?;
        }
        Ok(x)
    }
}
