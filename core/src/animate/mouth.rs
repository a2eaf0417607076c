//! Mouth interior synthesis.
//!
//! When the inner-lip outline opens beyond its rest shape, the warp can only stretch whatever lay
//! between the rest lips (for a closed mouth: the lip line) across the opening. That area is
//! painted over with a synthesised interior built from the character's own colours:
//! - a dark cavity, the lip colour darkened, lighter along the lip walls and darkest in the
//!   middle;
//! - a hint of tongue at the bottom once the mouth is well open;
//! - optionally an upper-teeth band under the upper lip, off-white tinted by the skin.
//!
//! It is blended in with a mask feathered *inwards* from the inner-lip outline, and with a
//! strength that grows with how much wider the opening is than at rest: a closing mouth fades
//! the interior out before the lips meet, so lips that close meet on their own pixels without a
//! smear of cavity between them, and a mouth at rest is left untouched. For a character whose
//! mouth is open at rest, openings up to the rest size keep the character's own interior.

use super::geometry::{ArcFrame, smoothstep};
use super::paint::{blend, for_each_local, mix, scale};
use super::palette::Palette;
use crate::landmarks::Landmarks;
use image::RgbaImage;

/// The inner-lip outline as an arc frame (corners 60 and 64).
pub(crate) fn inner_mouth(points: &Landmarks) -> Option<ArcFrame> {
    ArcFrame::new(
        points[60],
        points[64],
        &[points[61], points[62], points[63]],
        &[points[67], points[66], points[65]],
    )
}

/// Paint the interior into `out` for the inner lips of `effective`, given the mean inner-lip
/// gap at rest (`rest_gap`, pixels at rest scale) and the rest mouth width.
pub(crate) fn draw_mouth(
    out: &mut RgbaImage,
    effective: &Landmarks,
    rest_gap: f32,
    rest_width: f32,
    palette: &Palette,
    teeth: bool,
) {
    let Some(mouth) = inner_mouth(effective) else {
        return;
    };
    let len = mouth.len();
    let k = len / rest_width.max(1e-3);
    let gap = mouth.mean_gap();
    // Strength: 0 at the rest opening (scaled with the mouth), 1 once the opening has grown by
    // 8 % of the mouth width.
    let amount = smoothstep(rest_gap * k, rest_gap * k + 0.08 * len, gap);
    if amount <= 0.0 {
        return;
    }
    let feather = (0.025 * len).clamp(1.0, 6.0);
    let lip = palette.lip;
    let skin = palette.skin;
    let deep = mix(scale(lip, 0.16), scale(skin, 0.05), 0.25);
    let wall = mix(scale(lip, 0.55), scale(skin, 0.3), 0.2);
    let tongue = mix(lip, skin, 0.25);
    let teeth_colour = mix(skin, [250.0, 248.0, 242.0], 0.88);
    let open_ratio = gap / len.max(1.0);
    let table = mouth.table(128);
    for_each_local(out, &mouth, 1.0, |s, v, px| {
        if !(0.0..=1.0).contains(&s) {
            return;
        }
        let (up, lo) = table.at(s);
        let local_gap = up - lo;
        if local_gap <= 0.0 || v > up || v < lo {
            return;
        }
        let edge = (up - v).min(v - lo).min(s * len).min((1.0 - s) * len);
        let mask = smoothstep(0.0, feather, edge);
        if mask <= 0.0 {
            return;
        }
        // 0 at the upper lip, 1 at the lower lip.
        let w = (up - v) / local_gap;
        let depth = smoothstep(0.0, 0.5 * gap.max(1.0), edge);
        let mut colour = mix(wall, deep, depth);
        // Tongue: a soft lobe resting on the lower lip, visible once the mouth is well open.
        let (rs, rw) = ((s - 0.5) / 0.3, (w - 1.05) / 0.5);
        let r = (rs * rs + rw * rw).sqrt();
        let tongue_a = (1.0 - smoothstep(0.7, 1.0, r)) * smoothstep(0.12, 0.3, open_ratio);
        colour = mix(
            colour,
            mix(tongue, deep, 0.35 + 0.4 * (1.0 - w)),
            0.8 * tongue_a,
        );
        if teeth {
            let band = (0.28 * local_gap).min(0.1 * len);
            let visible = smoothstep(1.5, 3.0, band);
            let ends = smoothstep(0.1, 0.2, s) * (1.0 - smoothstep(0.8, 0.9, s));
            let inside = 1.0 - smoothstep(band - 0.75, band + 0.75, up - v);
            let t_a = visible * ends * inside;
            if t_a > 0.0 {
                let shade = 0.74 + 0.26 * (std::f32::consts::PI * s).sin();
                let lower_edge = 1.0 - 0.15 * smoothstep(0.5 * band, band, up - v);
                colour = mix(colour, scale(teeth_colour, shade * lower_edge), t_a);
            }
        }
        blend(px, colour, mask * amount);
    });
}
