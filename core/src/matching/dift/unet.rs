//! A Stable Diffusion U-Net that can stop after any up block and return its output (DIFT
//! features), built from candle-transformers' public blocks under the diffusers weight names.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, GroupNorm, VarBuilder};
use candle_transformers::models::stable_diffusion::embeddings::{TimestepEmbedding, Timesteps};
use candle_transformers::models::stable_diffusion::unet_2d::UNet2DConditionModelConfig;
use candle_transformers::models::stable_diffusion::unet_2d_blocks::{
    CrossAttnDownBlock2D, CrossAttnDownBlock2DConfig, CrossAttnUpBlock2D, CrossAttnUpBlock2DConfig,
    DownBlock2D, DownBlock2DConfig, UNetMidBlock2DCrossAttn, UNetMidBlock2DCrossAttnConfig,
    UpBlock2D, UpBlock2DConfig,
};

enum Down {
    Basic(DownBlock2D),
    Cross(CrossAttnDownBlock2D),
}

enum Up {
    Basic(UpBlock2D),
    Cross(CrossAttnUpBlock2D),
}

/// What a forward pass returns.
pub enum UNetOutput {
    /// The model output (noise or v prediction).
    Prediction(Tensor),
    /// The output of up block `index`.
    Features(Tensor),
}

/// The conditional U-Net with an early exit after an up block.
pub struct FeatureUNet {
    conv_in: Conv2d,
    time_proj: Timesteps,
    time_embedding: TimestepEmbedding,
    down: Vec<Down>,
    mid: UNetMidBlock2DCrossAttn,
    up: Vec<Up>,
    /// Final norm and conv; absent when the weights were built for features only.
    out: Option<(GroupNorm, Conv2d)>,
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
        let conv_cfg = Conv2dConfig {
            padding: 1,
            ..Default::default()
        };
        let conv_in = candle_nn::conv2d(in_channels, b0, 3, conv_cfg, vs.pp("conv_in"))?;
        let time_proj = Timesteps::new(b0, config.flip_sin_to_cos, config.freq_shift);
        let time_embedding = TimestepEmbedding::new(vs.pp("time_embedding"), b0, temb)?;
        let mut down = Vec::with_capacity(n);
        for i in 0..n {
            let bc = config.blocks[i];
            let cin = if i > 0 {
                config.blocks[i - 1].out_channels
            } else {
                b0
            };
            let db = DownBlock2DConfig {
                num_layers: config.layers_per_block,
                resnet_eps: config.norm_eps,
                resnet_groups: config.norm_num_groups,
                add_downsample: i < n - 1,
                downsample_padding: config.downsample_padding,
                ..Default::default()
            };
            let vb = vs.pp("down_blocks").pp(i.to_string());
            down.push(match bc.use_cross_attn {
                Some(layers) => Down::Cross(CrossAttnDownBlock2D::new(
                    vb,
                    cin,
                    bc.out_channels,
                    Some(temb),
                    false,
                    CrossAttnDownBlock2DConfig {
                        downblock: db,
                        attn_num_head_channels: bc.attention_head_dim,
                        cross_attention_dim: config.cross_attention_dim,
                        sliced_attention_size: config.sliced_attention_size,
                        use_linear_projection: config.use_linear_projection,
                        transformer_layers_per_block: layers,
                    },
                )?),
                None => Down::Basic(DownBlock2D::new(vb, cin, bc.out_channels, Some(temb), db)?),
            });
        }
        let mid = UNetMidBlock2DCrossAttn::new(
            vs.pp("mid_block"),
            last.out_channels,
            Some(temb),
            false,
            UNetMidBlock2DCrossAttnConfig {
                resnet_eps: config.norm_eps,
                output_scale_factor: config.mid_block_scale_factor,
                cross_attn_dim: config.cross_attention_dim,
                attn_num_head_channels: last.attention_head_dim,
                resnet_groups: Some(config.norm_num_groups),
                use_linear_projection: config.use_linear_projection,
                transformer_layers_per_block: last.use_cross_attn.unwrap_or(1),
                ..Default::default()
            },
        )?;
        let mut up = Vec::with_capacity(n);
        for i in 0..n {
            let bc = config.blocks[n - 1 - i];
            let prev = if i > 0 {
                config.blocks[n - i].out_channels
            } else {
                last.out_channels
            };
            let cin = config.blocks[if i == n - 1 { 0 } else { n - i - 2 }].out_channels;
            let ub = UpBlock2DConfig {
                num_layers: config.layers_per_block + 1,
                resnet_eps: config.norm_eps,
                resnet_groups: config.norm_num_groups,
                add_upsample: i < n - 1,
                ..Default::default()
            };
            let vb = vs.pp("up_blocks").pp(i.to_string());
            up.push(match bc.use_cross_attn {
                Some(layers) => Up::Cross(CrossAttnUpBlock2D::new(
                    vb,
                    cin,
                    prev,
                    bc.out_channels,
                    Some(temb),
                    false,
                    CrossAttnUpBlock2DConfig {
                        upblock: ub,
                        attn_num_head_channels: bc.attention_head_dim,
                        cross_attention_dim: config.cross_attention_dim,
                        sliced_attention_size: config.sliced_attention_size,
                        use_linear_projection: config.use_linear_projection,
                        transformer_layers_per_block: layers,
                    },
                )?),
                None => Up::Basic(UpBlock2D::new(
                    vb,
                    cin,
                    prev,
                    bc.out_channels,
                    Some(temb),
                    ub,
                )?),
            });
        }
        let out = if with_output {
            Some((
                candle_nn::group_norm(
                    config.norm_num_groups,
                    b0,
                    config.norm_eps,
                    vs.pp("conv_norm_out"),
                )?,
                candle_nn::conv2d(b0, out_channels, 3, conv_cfg, vs.pp("conv_out"))?,
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
            let (y, r) = match d {
                Down::Basic(m) => m.forward(&xs, Some(&emb))?,
                Down::Cross(m) => m.forward(&xs, Some(&emb), Some(ctx))?,
            };
            res.extend(r);
            xs = y;
        }
        xs = self.mid.forward(&xs, Some(&emb), Some(ctx))?;
        let mut upsample_size = None;
        for (i, u) in self.up.iter().enumerate() {
            let k = match u {
                Up::Basic(m) => m.resnets.len(),
                Up::Cross(m) => m.upblock.resnets.len(),
            };
            let r = res.split_off(res.len() - k);
            if i < n - 1
                && forward_size
                && let Some(last) = res.last()
            {
                let (_, _, hh, ww) = last.dims4()?;
                upsample_size = Some((hh, ww));
            }
            xs = match u {
                Up::Basic(m) => m.forward(&xs, &r, Some(&emb), upsample_size)?,
                Up::Cross(m) => m.forward(&xs, &r, Some(&emb), upsample_size, Some(ctx))?,
            };
            if stop_after == Some(i) {
                return Ok(UNetOutput::Features(xs));
            }
        }
        match &self.out {
            Some((norm, conv)) => {
                let y = candle_nn::ops::silu(&norm.forward(&xs)?)?;
                Ok(UNetOutput::Prediction(conv.forward(&y)?))
            }
            None => Err(candle_core::Error::Msg(
                "U-Net built without its output layers cannot predict".into(),
            )),
        }
    }
}
