//! Eyelid synthesis: a blink brings the upper lid down over the (unsquashed) eye.
//!
//! The warp carries each eye rigidly while its lid closes (see [`super::targets`]), so after
//! warping the eye still shows its full rest opening. Here the part of that opening that the
//! requested lids no longer leave open is painted over with the character's own lid skin
//! colour, slightly darker towards the lid edge, and a lash line in the colour of the rest upper
//! lid's outline is drawn along the new lid edge. The old lash line (now hidden under the lid)
//! is covered too. With the lids at rest nothing is painted at all.

use super::geometry::{ArcFrame, smoothstep};
use super::paint::{blend, for_each_local, mix, scale};
use super::palette::{EyePalette, Palette};
use super::targets::EYES;
use crate::landmarks::Landmarks;
use image::RgbaImage;

/// Paint both eyelids. `requested` holds the lids the frame asks for, `effective` the pinned
/// lids the warp used, `rest_scale` the warp's local scale at each eye (target/rest length).
pub(crate) fn draw_eyelids(
    out: &mut RgbaImage,
    requested: &Landmarks,
    effective: &Landmarks,
    rest: &Landmarks,
    palette: &Palette,
) {
    for (eye, pal) in EYES.iter().zip(&palette.eyes) {
        draw_one(out, requested, effective, rest, *eye, pal);
    }
}

fn draw_one(
    out: &mut RgbaImage,
    requested: &Landmarks,
    effective: &Landmarks,
    rest: &Landmarks,
    eye: [usize; 6],
    pal: &EyePalette,
) {
    let [a, u1, u2, b, l2, l1] = eye;
    let Some(open) = ArcFrame::new(
        effective[a],
        effective[b],
        &[effective[u1], effective[u2]],
        &[effective[l1], effective[l2]],
    ) else {
        return;
    };
    let asked = open.with_arcs(
        &[requested[u1], requested[u2]],
        &[requested[l1], requested[l2]],
    );
    // How far the lids are closed (fraction of the open height), to fade the drawn lash in.
    let samples = [0.3f32, 0.5, 0.7];
    let mut closure = 0.0f32;
    let mut lowered = 0.0f32;
    for &s in &samples {
        let (ue, le) = (open.upper(s), open.lower(s));
        let height = (ue - le).max(1e-3);
        let (ur, lr) = clamp_lids(ue, le, asked.upper(s), asked.lower(s));
        closure = closure.max(((ue - ur) + (lr - le)) / height);
        lowered = lowered.max(ue - ur);
    }
    if lowered < 0.05 && closure < 0.01 {
        return;
    }
    let rest_len = rest[a].distance(rest[b]).max(1e-3);
    let k = open.len() / rest_len;
    let fade = smoothstep(0.0, 0.15, closure);
    let lash_above = pal.lash_above * k * fade;
    let lash_w = (pal.lash_width * k).max(1.0);
    let margin = lash_above + lash_w + 2.0;
    let lid_dark = scale(pal.upper_lid, 0.86);
    let (open_t, asked_t) = (open.table(64), asked.table(64));
    for_each_local(out, &open, margin, |s_raw, v, px| {
        if !(-0.05..=1.05).contains(&s_raw) {
            return;
        }
        let s = s_raw.clamp(0.0, 1.0);
        let (ue, le) = open_t.at(s);
        let (ar, al) = asked_t.at(s);
        let (ur, lr) = clamp_lids(ue, le, ar, al);
        // Fade everything out just beyond the corners.
        let ends = smoothstep(-0.05, 0.02, s_raw) * (1.0 - smoothstep(0.98, 1.05, s_raw));
        // Lower lid rising.
        let lower_amt = smoothstep(0.0, 1.0, lr - le);
        if lower_amt > 0.0 {
            let a = smoothstep(le - 0.5, le + 0.5, v) * (1.0 - smoothstep(lr - 0.5, lr + 0.5, v));
            blend(px, pal.lower_lid, a * lower_amt * ends);
        }
        // Upper lid coming down; when nearly shut the lid reaches the lower lid.
        let upper_amt = smoothstep(0.0, 1.0, ue - ur);
        if upper_amt > 0.0 {
            let shut = 1.0 - smoothstep(0.5, 2.0, ur - lr);
            let bottom = ur - (ur - lr) * shut;
            let top = ue + lash_above + 0.5;
            let a = smoothstep(bottom - 0.5, bottom + 0.5, v)
                * (1.0 - smoothstep(top - 0.5, top + 0.5, v));
            let shade = smoothstep(ur, ur + 0.6 * (ue - ur).max(1.0), v);
            blend(
                px,
                mix(lid_dark, pal.upper_lid, shade),
                a * upper_amt * ends,
            );
            // The lash line along the new lid edge, thinner towards the corners.
            let taper = 0.45 + 0.55 * (std::f32::consts::PI * s).sin();
            let w = lash_w * taper;
            let (lo, hi) = (ur - 0.35 * w, ur + 0.65 * w);
            let line =
                smoothstep(lo - 0.5, lo + 0.5, v) * (1.0 - smoothstep(hi - 0.5, hi + 0.5, v));
            blend(px, pal.lash, line * pal.lash_strength * fade * ends);
        }
    });
}

/// Requested lid heights limited to closing only (opening is warped, not painted), and never
/// crossing: crossed lids meet half way.
fn clamp_lids(ue: f32, le: f32, ur: f32, lr: f32) -> (f32, f32) {
    let ur = ur.min(ue);
    let lr = lr.max(le);
    if ur < lr {
        let mid = 0.5 * (ur + lr);
        (mid, mid)
    } else {
        (ur, lr)
    }
}
