//! The U-Net's spatial transformer (diffusers `Transformer2DModel`: group norm, projection in,
//! blocks of self-attention, cross-attention to the text and a GEGLU feed-forward, projection
//! out, residual), on the fused attention of [`super::attention`] and GEGLU of [`super::fused`].

use super::attention::attention;
use super::conv::Conv;
use super::fused::{self, GroupNorm};
use super::linear::FusedLinear;
use candle_core::{Module, Result, Tensor};
use candle_nn::{LayerNorm, VarBuilder};

/// Shape of a spatial transformer.
#[derive(Debug, Clone, Copy)]
pub struct TransformerSpec {
    /// Attention heads (the head width is the channels divided by this).
    pub heads: usize,
    /// Transformer blocks.
    pub depth: usize,
    /// Group-norm groups.
    pub groups: usize,
    /// Width of the text context.
    pub context_dim: usize,
    /// Linear projections in and out (SD 2.x) instead of 1×1 convolutions (SD 1.x).
    pub linear_projection: bool,
}

/// Multi-head attention of the queries' sequence to a context sequence (itself when `None`).
#[derive(Debug)]
struct Attention {
    to_q: FusedLinear,
    to_k: FusedLinear,
    to_v: FusedLinear,
    to_out: FusedLinear,
    heads: usize,
}

impl Attention {
    fn new(vs: VarBuilder, dim: usize, context_dim: usize, heads: usize) -> Result<Self> {
        Ok(Self {
            to_q: FusedLinear::new(vs.pp("to_q"), dim, dim, false)?,
            to_k: FusedLinear::new(vs.pp("to_k"), context_dim, dim, false)?,
            to_v: FusedLinear::new(vs.pp("to_v"), context_dim, dim, false)?,
            to_out: FusedLinear::new(vs.pp("to_out").pp("0"), dim, dim, true)?,
            heads,
        })
    }

    /// The attention of `x` to `context` (itself when `None`), plus `residual`.
    fn forward(&self, x: &Tensor, context: Option<&Tensor>, residual: &Tensor) -> Result<Tensor> {
        let c = x.dim(2)?;
        let context = context.unwrap_or(x);
        let scale = 1.0 / ((c / self.heads) as f32).sqrt();
        let q = self.to_q.forward_with(x, scale, None)?;
        let k = self.to_k.forward(context)?;
        let v = self.to_v.forward(context)?;
        let heads = attention(&q, &k, &v, self.heads)?;
        self.to_out.forward_with(&heads, 1.0, Some(residual))
    }
}

/// Self-attention, cross-attention and feed-forward, each on a layer-normed input and added.
#[derive(Debug)]
struct Block {
    norm1: LayerNorm,
    attn1: Attention,
    norm2: LayerNorm,
    attn2: Attention,
    norm3: LayerNorm,
    ff_in: FusedLinear,
    ff_out: FusedLinear,
}

impl Block {
    fn new(vs: VarBuilder, dim: usize, spec: &TransformerSpec) -> Result<Self> {
        Ok(Self {
            norm1: candle_nn::layer_norm(dim, 1e-5, vs.pp("norm1"))?,
            attn1: Attention::new(vs.pp("attn1"), dim, dim, spec.heads)?,
            norm2: candle_nn::layer_norm(dim, 1e-5, vs.pp("norm2"))?,
            attn2: Attention::new(vs.pp("attn2"), dim, spec.context_dim, spec.heads)?,
            norm3: candle_nn::layer_norm(dim, 1e-5, vs.pp("norm3"))?,
            ff_in: FusedLinear::new(vs.pp("ff").pp("net").pp("0").pp("proj"), dim, 8 * dim, true)?,
            ff_out: FusedLinear::new(vs.pp("ff").pp("net").pp("2"), 4 * dim, dim, true)?,
        })
    }

    fn forward(&self, x: &Tensor, context: &Tensor) -> Result<Tensor> {
        let x = self.attn1.forward(&self.norm1.forward(x)?, None, x)?;
        let x = self
            .attn2
            .forward(&self.norm2.forward(&x)?, Some(context), &x)?;
        let h = fused::geglu(&self.ff_in.forward(&self.norm3.forward(&x)?)?)?;
        self.ff_out.forward_with(&h, 1.0, Some(&x))
    }
}

/// Input and output projections: per-pixel linear maps on `B × HW × C` or 1×1 convolutions.
#[derive(Debug)]
enum Proj {
    Linear(FusedLinear),
    Conv(Conv),
}

/// Spatial transformer over a `B × C × H × W` feature map.
#[derive(Debug)]
pub struct SpatialTransformer {
    norm: GroupNorm,
    proj_in: Proj,
    blocks: Vec<Block>,
    proj_out: Proj,
}

impl SpatialTransformer {
    /// Build under `vs` (`norm`, `proj_in`, `transformer_blocks.N.*`, `proj_out`).
    pub fn new(vs: VarBuilder, channels: usize, spec: &TransformerSpec) -> Result<Self> {
        let proj = |name: &str| -> Result<Proj> {
            Ok(if spec.linear_projection {
                Proj::Linear(FusedLinear::new(vs.pp(name), channels, channels, true)?)
            } else {
                Proj::Conv(Conv::new(vs.pp(name), channels, channels, 1, 1, (0, 0))?)
            })
        };
        let blocks = (0..spec.depth)
            .map(|i| {
                Block::new(
                    vs.pp("transformer_blocks").pp(i.to_string()),
                    channels,
                    spec,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            norm: GroupNorm::new(spec.groups, channels, 1e-6, vs.pp("norm"))?,
            proj_in: proj("proj_in")?,
            blocks,
            proj_out: proj("proj_out")?,
        })
    }

    /// Apply to `x` attending to `context` (`B × tokens × context_dim`).
    pub fn forward(&self, x: &Tensor, context: &Tensor) -> Result<Tensor> {
        let (b, c, h, w) = x.dims4()?;
        let y = self.norm.forward(x, false)?;
        let to_tokens = |t: Tensor| t.flatten_from(2)?.transpose(1, 2)?.contiguous();
        let mut y = match &self.proj_in {
            Proj::Linear(l) => l.forward(&to_tokens(y)?)?,
            Proj::Conv(conv) => to_tokens(conv.forward(&y)?)?,
        };
        for block in &self.blocks {
            y = block.forward(&y, context)?;
        }
        let to_map = |t: Tensor| t.transpose(1, 2)?.reshape((b, c, h, w));
        let y = match &self.proj_out {
            Proj::Linear(l) => to_map(l.forward(&y)?)?,
            Proj::Conv(conv) => conv.forward(&to_map(y)?)?,
        };
        y + x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::max_diff;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;
    use candle_transformers::models::stable_diffusion::attention as upstream;

    #[test]
    fn matches_candle_transformers_up_to_the_gelu_form() {
        let dev = Device::Cpu;
        for linear_projection in [true, false] {
            let vm = VarMap::new();
            let vb = VarBuilder::from_varmap(&vm, DType::F32, &dev);
            let cfg = upstream::SpatialTransformerConfig {
                depth: 2,
                num_groups: 4,
                context_dim: Some(12),
                sliced_attention_size: None,
                use_linear_projection: linear_projection,
            };
            let reference =
                upstream::SpatialTransformer::new(vb.clone(), 16, 2, 8, false, cfg).unwrap();
            let before = vm.all_vars().len();
            let spec = TransformerSpec {
                heads: 2,
                depth: 2,
                groups: 4,
                context_dim: 12,
                linear_projection,
            };
            let ours = SpatialTransformer::new(vb, 16, &spec).unwrap();
            assert_eq!(
                vm.all_vars().len(),
                before,
                "ours made variables of its own"
            );
            let x = Tensor::randn(0f32, 1.0, (1, 16, 5, 7), &dev).unwrap();
            let ctx = Tensor::randn(0f32, 1.0, (1, 9, 12), &dev).unwrap();
            let want = reference.forward(&x, Some(&ctx)).unwrap();
            let got = ours.forward(&x, &ctx).unwrap();
            assert_eq!(got.dims(), want.dims());
            let diff = max_diff(&got, &want);
            let change = max_diff(&got, &x);
            // candle-transformers uses the tanh form of GELU, diffusers (and we) the exact one;
            // the two differ by at most 5e-4 per value.
            assert!(change > 0.05, "the transformer changed nothing");
            assert!(
                diff < 0.002 * change,
                "max difference {diff}, change {change}"
            );
        }
    }
}
