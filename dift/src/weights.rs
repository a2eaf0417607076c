//! Reading a safetensors weights file straight into f32 tensors.
//!
//! The downloaded Stable Diffusion weights are fp16; the models compute in f32. Loading them
//! through candle copies each tensor into an fp16 tensor and converts it element by element on
//! one thread when the model asks for it. Here each tensor is converted once, from the file's
//! bytes, with the CPU's half-to-single conversion instructions where it has them (F16C), the
//! tensors spread over the threads.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use half::slice::HalfFloatSliceExt;
use rayon::prelude::*;
use safetensors::{Dtype, SafeTensors};

use super::MatchError;

/// Every tensor of the safetensors file at `path`, as f32 (from f32, f16 or bf16).
pub fn load_f32(path: &Path) -> Result<HashMap<String, Tensor>, MatchError> {
    let bytes = std::fs::read(path).map_err(|e| MatchError::io(path, e))?;
    let bad =
        |reason: String| MatchError::Model(format!("cannot read {}: {reason}", path.display()));
    let file = SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
    file.tensors()
        .into_par_iter()
        .map(|(name, view)| {
            let values = to_f32(view.dtype(), view.data())
                .map_err(|reason| bad(format!("tensor {name}: {reason}")))?;
            let tensor = Tensor::from_vec(values, view.shape(), &Device::Cpu)?;
            Ok((name, tensor))
        })
        .collect()
}

/// Little-endian values of type `dtype` in `raw`, as f32.
fn to_f32(dtype: Dtype, raw: &[u8]) -> Result<Vec<f32>, String> {
    match dtype {
        Dtype::F32 => Ok(raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()),
        Dtype::F16 => Ok(halves_to_f32(raw, half::f16::from_bits)),
        Dtype::BF16 => Ok(halves_to_f32(raw, half::bf16::from_bits)),
        other => Err(format!(
            "{other:?} weights are not supported (f32, f16 or bf16 expected)"
        )),
    }
}

/// 16-bit floats (`from_bits` of each little-endian pair of `raw`) as f32, a cache-sized
/// block at a time.
fn halves_to_f32<H: Copy + Default>(raw: &[u8], from_bits: fn(u16) -> H) -> Vec<f32>
where
    [H]: HalfFloatSliceExt,
{
    const BLOCK: usize = 4096;
    let mut out = vec![0f32; raw.len() / 2];
    let mut block = [H::default(); BLOCK];
    for (src, dst) in raw.chunks(2 * BLOCK).zip(out.chunks_mut(BLOCK)) {
        let n = dst.len();
        for (h, b) in block.iter_mut().zip(src.chunks_exact(2)) {
            *h = from_bits(u16::from_le_bytes([b[0], b[1]]));
        }
        block[..n].convert_to_f32_slice(dst);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::DType;

    #[test]
    fn half_and_single_precision_files_load_as_the_same_values() {
        let dir = tempfile::tempdir().unwrap();
        // Values exact in f16 and bf16 too: small integers and halves.
        let values: Vec<f32> = (0..24).map(|i| (i as f32 - 12.0) * 0.5).collect();
        let t = Tensor::from_vec(values.clone(), (2, 3, 4), &Device::Cpu).unwrap();
        for dtype in [DType::F32, DType::F16, DType::BF16] {
            let path = dir.path().join(format!("{dtype:?}.safetensors"));
            let tensors = HashMap::from([("a.b", t.to_dtype(dtype).unwrap())]);
            candle_core::safetensors::save(&tensors, &path).unwrap();
            let loaded = load_f32(&path).unwrap();
            let a = &loaded["a.b"];
            assert_eq!(a.dims(), &[2, 3, 4]);
            assert_eq!(a.dtype(), DType::F32);
            assert_eq!(a.flatten_all().unwrap().to_vec1::<f32>().unwrap(), values);
        }
    }

    #[test]
    fn a_tensor_of_many_blocks_converts_whole() {
        let dir = tempfile::tempdir().unwrap();
        // 10 001 values (two full blocks and a ragged tail), all exact in f16.
        let values: Vec<f32> = (0..10_001).map(|i| (i % 2048) as f32 * 0.25).collect();
        let t = Tensor::from_vec(values.clone(), 10_001, &Device::Cpu).unwrap();
        let path = dir.path().join("big.safetensors");
        let tensors = HashMap::from([("big", t.to_dtype(DType::F16).unwrap())]);
        candle_core::safetensors::save(&tensors, &path).unwrap();
        let loaded = load_f32(&path).unwrap();
        assert_eq!(loaded["big"].to_vec1::<f32>().unwrap(), values);
    }

    #[test]
    fn a_broken_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.safetensors");
        std::fs::write(&path, b"\x10\0\0\0\0\0\0\0{\"a\": not json").unwrap();
        let err = load_f32(&path).unwrap_err();
        assert!(err.to_string().contains("cannot read"), "{err}");
        let err = load_f32(&dir.path().join("missing.safetensors")).unwrap_err();
        assert!(err.to_string().contains("missing.safetensors"), "{err}");
        let ints = dir.path().join("ints.safetensors");
        let t = Tensor::from_vec(vec![1u32, 2], 2, &Device::Cpu).unwrap();
        candle_core::safetensors::save(&HashMap::from([("i", t)]), &ints).unwrap();
        let err = load_f32(&ints).unwrap_err();
        assert!(err.to_string().contains("not supported"), "{err}");
    }
}
