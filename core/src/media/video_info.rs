//! Metadata of a video: size, rate, length, rotation.

use serde::Serialize;

/// What [`super::VideoReader::open`] learns about a video.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VideoInfo {
    /// Container format name (e.g. `mov,mp4,m4a,3gp,3g2,mj2`).
    pub container: String,
    /// Video codec name (e.g. `h264`).
    pub codec: String,
    /// Width of the frames as delivered (after rotation).
    pub width: u32,
    /// Height of the frames as delivered (after rotation).
    pub height: u32,
    /// Width as stored in the stream (before rotation).
    pub coded_width: u32,
    /// Height as stored in the stream (before rotation).
    pub coded_height: u32,
    /// Clockwise rotation applied to every frame for display: 0, 90, 180 or 270 degrees.
    pub rotation: u32,
    /// Frames per second (average rate).
    pub fps: f64,
    /// Duration in seconds.
    pub duration: f64,
    /// Number of frames (from the container when it records it, else duration × fps).
    pub frame_count: u64,
    /// Whether `frame_count` comes from the container rather than an estimate.
    pub frame_count_exact: bool,
    /// Audio codec name of the first audio stream, if there is one.
    pub audio_codec: Option<String>,
}

/// Clockwise display rotation in degrees, snapped to a multiple of 90, from an FFmpeg display
/// matrix (nine 32-bit integers, 16.16 fixed point for the first two columns).
pub fn rotation_from_display_matrix(bytes: &[u8]) -> Option<u32> {
    if bytes.len() < 36 {
        return None;
    }
    let m = |i: usize| {
        let b = [
            bytes[4 * i],
            bytes[4 * i + 1],
            bytes[4 * i + 2],
            bytes[4 * i + 3],
        ];
        f64::from(i32::from_ne_bytes(b)) / 65536.0
    };
    let (a, b, c, d) = (m(0), m(1), m(3), m(4));
    let sx = a.hypot(c);
    let sy = b.hypot(d);
    if sx == 0.0 || sy == 0.0 {
        return None;
    }
    // FFmpeg's av_display_rotation_get is the counter-clockwise angle -atan2(b/sy, a/sx);
    // players turn the picture clockwise by its negation.
    let clockwise = (b / sy).atan2(a / sx).to_degrees();
    let snapped = ((clockwise / 90.0).round() as i64).rem_euclid(4) as u32 * 90;
    Some(snapped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(deg: f64) -> Vec<u8> {
        // av_display_rotation_set(matrix, angle) with angle = counter-clockwise degrees.
        let r = deg.to_radians();
        let (s, c) = r.sin_cos();
        let fixed = |v: f64| (v * 65536.0).round() as i32;
        let vals = [fixed(c), fixed(-s), 0, fixed(s), fixed(c), 0, 0, 0, 1 << 30];
        vals.iter().flat_map(|v| v.to_ne_bytes()).collect()
    }

    #[test]
    fn snaps_matrix_angles() {
        assert_eq!(rotation_from_display_matrix(&matrix(0.0)), Some(0));
        // A counter-clockwise -90 matrix is what a "rotate=90" (clockwise) file carries.
        assert_eq!(rotation_from_display_matrix(&matrix(-90.0)), Some(90));
        assert_eq!(rotation_from_display_matrix(&matrix(180.0)), Some(180));
        assert_eq!(rotation_from_display_matrix(&matrix(90.0)), Some(270));
        assert_eq!(rotation_from_display_matrix(&[0u8; 8]), None);
    }
}
