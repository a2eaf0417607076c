//! The VAE encoder's deterministic path (mean of the latent distribution), written from
//! [`super::blocks`] because candle-transformers' `AutoEncoderKL` keeps the mean private.

use super::blocks::{DownBlock, MidBlock, ResnetSpec};
use super::conv::Conv;
use super::fused::GroupNorm;
use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;

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
    conv_in: Conv,
    down: Vec<DownBlock>,
    mid: MidBlock,
    norm_out: GroupNorm,
    conv_out: Conv,
    quant_conv: Conv,
    latent_channels: usize,
}

impl VaeEncoder {
    /// Build under the VAE root (`encoder.conv_in`, ..., `quant_conv`).
    pub fn new(vs: VarBuilder, cfg: &VaeConfig) -> Result<Self> {
        let enc = vs.pp("encoder");
        let c0 = cfg.block_out_channels[0];
        let conv_in = Conv::new(enc.pp("conv_in"), 3, c0, 3, 1, (1, 1))?;
        let spec = ResnetSpec {
            temb: None,
            groups: cfg.norm_num_groups,
            eps: 1e-6,
            output_scale: 1.0,
        };
        let n = cfg.block_out_channels.len();
        let mut down = Vec::with_capacity(n);
        let mut cin = c0;
        for (i, &out) in cfg.block_out_channels.iter().enumerate() {
            down.push(DownBlock::new(
                enc.pp("down_blocks").pp(i.to_string()),
                cin,
                out,
                cfg.layers_per_block,
                spec,
                None,
                (i + 1 < n).then_some(0),
            )?);
            cin = out;
        }
        let mid = MidBlock::plain(enc.pp("mid_block"), cin, spec)?;
        let norm_out = GroupNorm::new(cfg.norm_num_groups, cin, 1e-6, enc.pp("conv_norm_out"))?;
        let moments = 2 * cfg.latent_channels;
        let conv_out = Conv::new(enc.pp("conv_out"), cin, moments, 3, 1, (1, 1))?;
        let quant_conv = Conv::new(vs.pp("quant_conv"), moments, moments, 1, 1, (0, 0))?;
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
            xs = d.forward(&xs, None, None)?.0;
        }
        let xs = self.mid.forward(&xs, None, None)?;
        let xs = self.norm_out.forward(&xs, true)?;
        let moments = self.quant_conv.forward(&self.conv_out.forward(&xs)?)?;
        moments.narrow(1, 0, self.latent_channels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{max_abs, max_diff};
    use candle_core::{DType, Device};
    use candle_nn::VarMap;
    use candle_transformers::models::stable_diffusion::unet_2d_blocks::{
        DownEncoderBlock2D, DownEncoderBlock2DConfig, UNetMidBlock2D, UNetMidBlock2DConfig,
    };

    /// The mean latent computed with candle-transformers' own blocks on the same weights.
    fn reference(vs: VarBuilder, cfg: &VaeConfig, x: &Tensor) -> Result<Tensor> {
        let enc = vs.pp("encoder");
        let pad1 = candle_nn::Conv2dConfig {
            padding: 1,
            ..Default::default()
        };
        let c = &cfg.block_out_channels;
        let mut xs = candle_nn::conv2d(3, c[0], 3, pad1, enc.pp("conv_in"))?.forward(x)?;
        for i in 0..c.len() {
            let block = DownEncoderBlock2D::new(
                enc.pp("down_blocks").pp(i.to_string()),
                if i > 0 { c[i - 1] } else { c[0] },
                c[i],
                DownEncoderBlock2DConfig {
                    num_layers: cfg.layers_per_block,
                    resnet_groups: cfg.norm_num_groups,
                    add_downsample: i + 1 < c.len(),
                    downsample_padding: 0,
                    ..Default::default()
                },
            )?;
            xs = block.forward(&xs)?;
        }
        let last = c[c.len() - 1];
        let mid = UNetMidBlock2D::new(
            enc.pp("mid_block"),
            last,
            None,
            UNetMidBlock2DConfig {
                attn_num_head_channels: None,
                resnet_groups: Some(cfg.norm_num_groups),
                ..Default::default()
            },
        )?;
        let xs = mid.forward(&xs, None)?;
        let norm = candle_nn::group_norm(cfg.norm_num_groups, last, 1e-6, enc.pp("conv_norm_out"))?;
        let xs = norm.forward(&xs)?.silu()?;
        let m = 2 * cfg.latent_channels;
        let xs = candle_nn::conv2d(last, m, 3, pad1, enc.pp("conv_out"))?.forward(&xs)?;
        let xs =
            candle_nn::conv2d(m, m, 1, Default::default(), vs.pp("quant_conv"))?.forward(&xs)?;
        xs.narrow(1, 0, cfg.latent_channels)
    }

    #[test]
    fn mean_latent_matches_candle_transformers_blocks() {
        let dev = Device::Cpu;
        let cfg = VaeConfig {
            block_out_channels: vec![8, 16, 16, 16],
            layers_per_block: 1,
            norm_num_groups: 4,
            latent_channels: 4,
        };
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &dev);
        let x = Tensor::randn(0f32, 0.5, (1, 3, 40, 24), &dev).unwrap();
        let want = reference(vb.clone(), &cfg, &x).unwrap();
        let before = vm.all_vars().len();
        let ours = VaeEncoder::new(vb, &cfg).unwrap();
        // Ours asks for no weight the reference (the diffusers names) does not have.
        assert_eq!(
            vm.all_vars().len(),
            before,
            "ours made variables of its own"
        );
        let got = ours.encode_mean(&x).unwrap();
        assert_eq!(got.dims(), &[1, 4, 5, 3]);
        assert_eq!(got.dims(), want.dims());
        let diff = max_diff(&got, &want);
        assert!(max_abs(&want) > 1e-4, "degenerate latent");
        assert!(diff < 1e-4, "max difference {diff}");
    }
}
