//! Minimal NumPy `.npy` reading and writing for float arrays (C order, little endian).

const MAGIC: &[u8] = b"\x93NUMPY";

/// Encode a float32 array of the given shape as `.npy` (format 1.0, `<f4`, C order).
pub fn write_npy_f32(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Pad so that magic(6) + version(2) + len(2) + header + '\n' is a multiple of 64.
    let unpadded = MAGIC.len() + 2 + 2 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len() * 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Decode a `.npy` holding little-endian float32 or float64 in C order; returns shape and data.
pub fn read_npy_f32(bytes: &[u8]) -> Result<(Vec<usize>, Vec<f32>), String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("not a NumPy .npy file (bad magic)".into());
    }
    let major = bytes[6];
    let (header_len, start) = match major {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err("truncated .npy header".into());
            }
            let n = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
            (n as usize, 12)
        }
        v => return Err(format!("unsupported .npy version {v}")),
    };
    let header = bytes
        .get(start..start + header_len)
        .ok_or("truncated .npy header")?;
    let header = std::str::from_utf8(header).map_err(|_| "header is not text")?;
    let descr = dict_value(header, "descr").ok_or("header has no 'descr'")?;
    let fortran = dict_value(header, "fortran_order").ok_or("header has no 'fortran_order'")?;
    if fortran.trim() != "False" {
        return Err("Fortran-ordered arrays are not supported".into());
    }
    let shape_text = dict_value(header, "shape").ok_or("header has no 'shape'")?;
    let shape = parse_shape(shape_text)?;
    let count = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or("shape too large")?;
    let body = &bytes[start + header_len..];
    let descr = descr.trim().trim_matches(|c| c == '\'' || c == '"');
    let item_size = match descr {
        "<f4" => 4,
        "<f8" => 8,
        _ => 0,
    };
    if let Some(need) = count.checked_mul(item_size)
        && item_size > 0
        && body.len() > need
    {
        return Err(format!(
            "{} bytes after the array data (a damaged or different file)",
            body.len() - need
        ));
    }
    let data: Vec<f32> = match descr {
        "<f4" => {
            let need = count.checked_mul(4).ok_or("shape too large")?;
            if body.len() < need {
                return Err(format!("data truncated: {} of {need} bytes", body.len()));
            }
            body[..need]
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect()
        }
        "<f8" => {
            let need = count.checked_mul(8).ok_or("shape too large")?;
            if body.len() < need {
                return Err(format!("data truncated: {} of {need} bytes", body.len()));
            }
            body[..need]
                .chunks_exact(8)
                .map(|c| {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(c);
                    f64::from_le_bytes(b) as f32
                })
                .collect()
        }
        other => return Err(format!("unsupported dtype {other} (expected <f4 or <f8)")),
    };
    Ok((shape, data))
}

/// The raw text of a value in the header's Python dict literal.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pos = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))?;
    let rest = &header[pos + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    if rest.starts_with('(') {
        let end = rest.find(')')?;
        Some(&rest[..=end])
    } else {
        let end = rest.find(',').unwrap_or(rest.len());
        Some(&rest[..end])
    }
}

fn parse_shape(text: &str) -> Result<Vec<usize>, String> {
    let inner = text
        .trim()
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .ok_or("malformed shape")?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| format!("bad dimension {s}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_alignment() {
        let data: Vec<f32> = (0..3 * 68 * 2).map(|i| i as f32 * 0.5).collect();
        let bytes = write_npy_f32(&[3, 68, 2], &data);
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0);
        let (shape, back) = read_npy_f32(&bytes).unwrap();
        assert_eq!(shape, vec![3, 68, 2]);
        assert_eq!(back, data);
    }

    #[test]
    fn reads_float64_written_by_numpy() {
        // Header as numpy 1.x writes it for np.zeros((1, 2), dtype='<f8') + values.
        let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }";
        let mut h = header.to_string();
        let pad = (64 - (10 + h.len() + 1) % 64) % 64;
        h.push_str(&" ".repeat(pad));
        h.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(h.len() as u16).to_le_bytes());
        bytes.extend_from_slice(h.as_bytes());
        bytes.extend_from_slice(&1.5f64.to_le_bytes());
        bytes.extend_from_slice(&(-2.0f64).to_le_bytes());
        let (shape, data) = read_npy_f32(&bytes).unwrap();
        assert_eq!(shape, vec![1, 2]);
        assert_eq!(data, vec![1.5, -2.0]);
    }

    #[test]
    fn truncated_data_is_an_error() {
        let bytes = write_npy_f32(&[2, 68, 2], &vec![0.0; 272]);
        let err = read_npy_f32(&bytes[..bytes.len() - 8]).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
        assert!(read_npy_f32(b"hello world").is_err());
    }
}
