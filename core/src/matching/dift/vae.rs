//! The VAE encoder's deterministic path (mean of the latent distribution), written from
//! candle-transformers' public blocks because `AutoEncoderKL` keeps the mean private.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, GroupNorm, VarBuilder};
use candle_transformers::models::stable_diffusion::unet_2d_blocks::{
    DownEncoderBlock2D, DownEncoderBlock2DConfig, UNetMidBlock2D, UNetMidBlock2DConfig,
};

/// Encoder shape (the SD-2.1 VAE: 128/256/512/512, two layers per block, 4 latent channels).
#[derive(Clone, Debug)]
pub struct VaeConfig {
    /// Output channels of each down block.
    pub block_out_channels: Vec<usize>,
    /// Resnets per block.
    pub layers_per_block: usize,
    /// Group-norm groups.
    pub norm_num_groups: usize,
    /// Latent channels.
    pub latent_channels: usize,
}

impl VaeConfig {
    /// Stable Diffusion 2.1's VAE.
    pub fn sd21() -> Self {
        Self {
            block_out_channels: vec![128, 256, 512, 512],
            layers_per_block: 2,
            norm_num_groups: 32,
            latent_channels: 4,
        }
    }
}

/// `encoder.*` + `quant_conv`, returning the mean latent.
pub struct VaeEncoder {
    conv_in: Conv2d,
    down: Vec<DownEncoderBlock2D>,
    mid: UNetMidBlock2D,
    norm_out: GroupNorm,
    conv_out: Conv2d,
    quant_conv: Conv2d,
    latent_channels: usize,
}

impl VaeEncoder {
    /// Build under the VAE root (`encoder.conv_in`, ..., `quant_conv`).
    pub fn new(vs: VarBuilder, cfg: &VaeConfig) -> Result<Self> {
        let enc = vs.pp("encoder");
        let pad1 = Conv2dConfig {
            padding: 1,
            ..Default::default()
        };
        let c0 = cfg.block_out_channels[0];
        let conv_in = candle_nn::conv2d(3, c0, 3, pad1, enc.pp("conv_in"))?;
        let mut down = Vec::new();
        let n = cfg.block_out_channels.len();
        for (i, &out) in cfg.block_out_channels.iter().enumerate() {
            let cin = if i > 0 {
                cfg.block_out_channels[i - 1]
            } else {
                c0
            };
            down.push(DownEncoderBlock2D::new(
                enc.pp("down_blocks").pp(i.to_string()),
                cin,
                out,
                DownEncoderBlock2DConfig {
                    num_layers: cfg.layers_per_block,
                    resnet_eps: 1e-6,
                    resnet_groups: cfg.norm_num_groups,
                    add_downsample: i + 1 < n,
                    downsample_padding: 0,
                    ..Default::default()
                },
            )?);
        }
        let last = cfg.block_out_channels[n - 1];
        let mid = UNetMidBlock2D::new(
            enc.pp("mid_block"),
            last,
            None,
            UNetMidBlock2DConfig {
                resnet_eps: 1e-6,
                output_scale_factor: 1.,
                attn_num_head_channels: None,
                resnet_groups: Some(cfg.norm_num_groups),
                ..Default::default()
            },
        )?;
        let norm_out =
            candle_nn::group_norm(cfg.norm_num_groups, last, 1e-6, enc.pp("conv_norm_out"))?;
        let conv_out =
            candle_nn::conv2d(last, 2 * cfg.latent_channels, 3, pad1, enc.pp("conv_out"))?;
        let quant_conv = candle_nn::conv2d(
            2 * cfg.latent_channels,
            2 * cfg.latent_channels,
            1,
            Default::default(),
            vs.pp("quant_conv"),
        )?;
        Ok(Self {
            conv_in,
            down,
            mid,
            norm_out,
            conv_out,
            quant_conv,
            latent_channels: cfg.latent_channels,
        })
    }

    /// Mean latent of images `x` (B×3×H×W in [-1, 1]); B×C×H/8×W/8 for the SD VAE.
    pub fn encode_mean(&self, x: &Tensor) -> Result<Tensor> {
        let mut xs = self.conv_in.forward(x)?;
        for d in &self.down {
            xs = d.forward(&xs)?;
        }
        let xs = self.mid.forward(&xs, None)?;
        let xs = candle_nn::ops::silu(&self.norm_out.forward(&xs)?)?;
        let moments = self.quant_conv.forward(&self.conv_out.forward(&xs)?)?;
        moments.narrow(1, 0, self.latent_channels)
    }
}
