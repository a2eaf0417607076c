//! A Stable Diffusion U-Net that can stop after any up block and return its output (DIFT
//! features), built from [`super::blocks`] under the diffusers weight names.

use super::blocks::{DownBlock, MidBlock, ResnetSpec, UpBlock};
use super::conv::Conv;
use super::fused::GroupNorm;
use super::transformer::TransformerSpec;
use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::stable_diffusion::embeddings::{TimestepEmbedding, Timesteps};
use candle_transformers::models::stable_diffusion::unet_2d::UNet2DConditionModelConfig;

/// What a forward pass returns.
pub enum UNetOutput {
    /// The model output (noise or v prediction).
    Prediction(Tensor),
    /// The output of up block `index`.
    Features(Tensor),
}

/// The conditional U-Net with an early exit after an up block.
pub struct FeatureUNet {
    conv_in: Conv,
    time_proj: Timesteps,
    time_embedding: TimestepEmbedding,
    down: Vec<DownBlock>,
    mid: MidBlock,
    up: Vec<UpBlock>,
    /// Final norm and conv; absent when the weights were built for features only.
    out: Option<(GroupNorm, Conv)>,
    config: UNet2DConditionModelConfig,
}

/// The Stable Diffusion 2.1 U-Net configuration (public values of the diffusers config).
pub fn sd21_config() -> UNet2DConditionModelConfig {
    use candle_transformers::models::stable_diffusion::unet_2d::BlockConfig;
    let bc = |out_channels, use_cross_attn, attention_head_dim| BlockConfig {
        out_channels,
        use_cross_attn,
        attention_head_dim,
    };
    UNet2DConditionModelConfig {
        blocks: vec![
            bc(320, Some(1), 5),
            bc(640, Some(1), 10),
            bc(1280, Some(1), 20),
            bc(1280, None, 20),
        ],
        center_input_sample: false,
        cross_attention_dim: 1024,
        downsample_padding: 1,
        flip_sin_to_cos: true,
        freq_shift: 0.,
        layers_per_block: 2,
        mid_block_scale_factor: 1.,
        norm_eps: 1e-5,
        norm_num_groups: 32,
        sliced_attention_size: None,
        use_linear_projection: true,
    }
}

impl FeatureUNet {
    /// Build under `vs` (diffusers names: `conv_in`, `time_embedding`, `down_blocks.N`,
    /// `mid_block`, `up_blocks.N`, `conv_norm_out`, `conv_out`). With `with_output` false the
    /// final norm/conv are not loaded (feature extraction up to the last up block only).
    pub fn new(
        vs: VarBuilder,
        in_channels: usize,
        out_channels: usize,
        config: UNet2DConditionModelConfig,
        with_output: bool,
    ) -> Result<Self> {
        let n = config.blocks.len();
        let b0 = config.blocks[0].out_channels;
        let last = config.blocks[n - 1];
        let temb = b0 * 4;
        let conv_in = Conv::new(vs.pp("conv_in"), in_channels, b0, 3, 1, (1, 1))?;
        let time_proj = Timesteps::new(b0, config.flip_sin_to_cos, config.freq_shift);
        let time_embedding = TimestepEmbedding::new(vs.pp("time_embedding"), b0, temb)?;
        let spec = ResnetSpec {
            temb: Some(temb),
            groups: config.norm_num_groups,
            eps: config.norm_eps,
            output_scale: 1.0,
        };
        let attn = |heads: usize, depth: usize| TransformerSpec {
            heads,
            depth,
            groups: config.norm_num_groups,
            context_dim: config.cross_attention_dim,
            linear_projection: config.use_linear_projection,
        };
        // Widths of the skips the down path leaves, in the order it leaves them.
        let mut skips = vec![b0];
        let mut down = Vec::with_capacity(n);
        let mut cin = b0;
        for (i, bc) in config.blocks.iter().enumerate() {
            let cout = bc.out_channels;
            let a = bc.use_cross_attn.map(|d| attn(bc.attention_head_dim, d));
            let downsample = (i + 1 < n).then_some(config.downsample_padding);
            down.push(DownBlock::new(
                vs.pp("down_blocks").pp(i.to_string()),
                cin,
                cout,
                config.layers_per_block,
                spec,
                a.as_ref(),
                downsample,
            )?);
            skips.extend(std::iter::repeat_n(cout, config.layers_per_block));
            if downsample.is_some() {
                skips.push(cout);
            }
            cin = cout;
        }
        let mid_spec = ResnetSpec {
            output_scale: config.mid_block_scale_factor,
            ..spec
        };
        let mid_attn = attn(last.attention_head_dim, last.use_cross_attn.unwrap_or(1));
        let mid = MidBlock::cross(vs.pp("mid_block"), last.out_channels, mid_spec, &mid_attn)?;
        let mut up = Vec::with_capacity(n);
        let mut prev = last.out_channels;
        for i in 0..n {
            let bc = config.blocks[n - 1 - i];
            // Each up block takes the last layers + 1 skips, the most recent first.
            let taken = skips.split_off(skips.len().saturating_sub(config.layers_per_block + 1));
            let consumed: Vec<usize> = taken.into_iter().rev().collect();
            let a = bc.use_cross_attn.map(|d| attn(bc.attention_head_dim, d));
            up.push(UpBlock::new(
                vs.pp("up_blocks").pp(i.to_string()),
                prev,
                &consumed,
                bc.out_channels,
                spec,
                a.as_ref(),
                i + 1 < n,
            )?);
            prev = bc.out_channels;
        }
        let out = if with_output {
            Some((
                GroupNorm::new(
                    config.norm_num_groups,
                    b0,
                    config.norm_eps,
                    vs.pp("conv_norm_out"),
                )?,
                Conv::new(vs.pp("conv_out"), b0, out_channels, 3, 1, (1, 1))?,
            ))
        } else {
            None
        };
        Ok(Self {
            conv_in,
            time_proj,
            time_embedding,
            down,
            mid,
            up,
            out,
            config,
        })
    }

    /// Number of up blocks.
    pub fn up_blocks(&self) -> usize {
        self.up.len()
    }

    /// Run the U-Net on latents `x` (B×C×H×W) at `timestep` with text context `ctx`
    /// (B×77×D). With `stop_after = Some(k)` return up block k's output instead of the
    /// prediction (the blocks after it are not run).
    pub fn forward(
        &self,
        x: &Tensor,
        timestep: f64,
        ctx: &Tensor,
        stop_after: Option<usize>,
    ) -> Result<UNetOutput> {
        let (b, _, h, w) = x.dims4()?;
        let n = self.config.blocks.len();
        let factor = 1usize << (n - 1);
        let forward_size = h % factor != 0 || w % factor != 0;
        let emb = (Tensor::ones(b, x.dtype(), x.device())? * timestep)?;
        let emb = self.time_proj.forward(&emb)?;
        let emb = self.time_embedding.forward(&emb)?;
        let mut xs = self.conv_in.forward(x)?;
        let mut res = vec![xs.clone()];
        for d in &self.down {
            let (y, r) = d.forward(&xs, Some(&emb), Some(ctx))?;
            res.extend(r);
            xs = y;
        }
        xs = self.mid.forward(&xs, Some(&emb), Some(ctx))?;
        let mut upsample_size = None;
        for (i, u) in self.up.iter().enumerate() {
            let r = res.split_off(res.len().saturating_sub(u.skips()));
            if i < n - 1
                && forward_size
                && let Some(last) = res.last()
            {
                let (_, _, hh, ww) = last.dims4()?;
                upsample_size = Some((hh, ww));
            }
            xs = u.forward(&xs, &r, Some(&emb), Some(ctx), upsample_size)?;
            if stop_after == Some(i) {
                return Ok(UNetOutput::Features(xs));
            }
        }
        match &self.out {
            Some((norm, conv)) => {
                let y = norm.forward(&xs, true)?;
                Ok(UNetOutput::Prediction(conv.forward(&y)?))
            }
            None => Err(candle_core::Error::Msg(
                "U-Net built without its output layers cannot predict".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::max_abs;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;
    use candle_transformers::models::stable_diffusion::unet_2d::{
        BlockConfig, UNet2DConditionModel,
    };

    /// A tiny SD-2.1-like configuration with 32 norm groups (candle-transformers' plain down
    /// and up blocks always use 32, so the comparison below needs that value).
    fn tiny() -> UNet2DConditionModelConfig {
        let bc = |out_channels, use_cross_attn, attention_head_dim| BlockConfig {
            out_channels,
            use_cross_attn,
            attention_head_dim,
        };
        UNet2DConditionModelConfig {
            blocks: vec![bc(32, Some(1), 2), bc(64, Some(1), 4), bc(64, None, 4)],
            norm_num_groups: 32,
            cross_attention_dim: 16,
            layers_per_block: 1,
            ..sd21_config()
        }
    }

    #[test]
    fn prediction_matches_candle_transformers_unet() {
        let dev = Device::Cpu;
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &dev);
        let reference = UNet2DConditionModel::new(vb.clone(), 4, 4, false, tiny()).unwrap();
        let before = vm.all_vars().len();
        let ours = FeatureUNet::new(vb, 4, 4, tiny(), true).unwrap();
        // Ours found every variable it needs among the reference's and made no others.
        assert_eq!(vm.all_vars().len(), before);
        // An odd size also exercises the up path's explicit upsampling sizes; at 34 the top
        // level's 3×3 convolutions go through the Winograd path.
        for size in [16, 13, 34] {
            let x = Tensor::randn(0f32, 1.0, (1, 4, size, size), &dev).unwrap();
            let ctx = Tensor::randn(0f32, 1.0, (1, 7, 16), &dev).unwrap();
            let want = reference.forward(&x, 301.0, &ctx).unwrap();
            let Ok(UNetOutput::Prediction(got)) = ours.forward(&x, 301.0, &ctx, None) else {
                panic!("no prediction")
            };
            assert_eq!(got.dims(), want.dims());
            let scale = max_abs(&want);
            assert!(scale > 1e-3, "degenerate output");
            let diff = max_abs(&(got - &want).unwrap());
            // Our transformers use the exact GELU (as diffusers), candle-transformers the tanh
            // form: the outputs differ slightly; a wrong wiring differs by the output's size.
            assert!(
                diff < 0.002 * scale,
                "max difference {diff} (scale {scale})"
            );
        }
    }
}
