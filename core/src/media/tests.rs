//! Round trips and bad-input cases for the media module, on clips the tests make themselves.

use super::*;
use image::{Rgba, RgbaImage};
use std::path::Path;

/// A gradient with a bright square moving right: easy to compare after lossy coding.
pub(crate) fn synthetic_frame(i: u32, w: u32, h: u32) -> RgbaImage {
    let mut img = RgbaImage::from_fn(w, h, |x, y| {
        Rgba([(x * 255 / w) as u8, (y * 255 / h) as u8, 96, 255])
    });
    let side = (w.min(h) / 4).max(2);
    let x0 = (i * 3) % (w - side);
    for y in h / 3..(h / 3 + side).min(h) {
        for x in x0..x0 + side {
            img.put_pixel(x, y, Rgba([250, 250, 250, 255]));
        }
    }
    img
}

fn write_clip(path: &Path, frames: u32, w: u32, h: u32, fps: f64) {
    let opts = ExportOptions {
        fps,
        quality: 90,
        ..Default::default()
    };
    let mut out = Exporter::create(path, w, h, &opts).unwrap();
    for i in 0..frames {
        out.push(&synthetic_frame(i, w, h)).unwrap();
    }
    out.finish().unwrap();
}

fn mean_abs_diff(a: &image::RgbImage, b: &RgbaImage) -> f64 {
    let mut sum = 0u64;
    for (p, q) in a.pixels().zip(b.pixels()) {
        for c in 0..3 {
            sum += u64::from(p[c].abs_diff(q[c]));
        }
    }
    sum as f64 / (a.width() * a.height() * 3) as f64
}

#[test]
fn mp4_round_trip_keeps_frames_rate_and_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.mp4");
    write_clip(&path, 24, 96, 64, 24.0);
    let reader = VideoReader::open(&path).unwrap();
    let info = reader.info().clone();
    assert_eq!((info.width, info.height), (96, 64));
    assert!((info.fps - 24.0).abs() < 1e-6, "fps {}", info.fps);
    assert_eq!(info.frame_count, 24);
    assert!(
        (info.duration - 1.0).abs() < 0.05,
        "duration {}",
        info.duration
    );
    assert_eq!(info.rotation, 0);
    let frames: Vec<_> = reader.map(|f| f.unwrap()).collect();
    assert_eq!(frames.len(), 24);
    for f in &frames {
        let err = mean_abs_diff(&f.image, &synthetic_frame(f.index as u32, 96, 64));
        assert!(err < 6.0, "frame {} differs by {err}", f.index);
    }
    assert!((frames[12].time - 0.5).abs() < 1e-6);
    // Nothing but the finished file in the folder.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn seek_returns_the_same_frame_as_streaming() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seek.mp4");
    write_clip(&path, 40, 64, 48, 30.0);
    let mut reader = VideoReader::open(&path).unwrap();
    let streamed: Vec<_> = reader.by_ref().map(|f| f.unwrap().image).collect();
    for idx in [33u64, 5, 0, 39] {
        let f = reader.frame_at(idx).unwrap().unwrap();
        assert_eq!(f.index, idx);
        assert_eq!(f.image, streamed[idx as usize], "frame {idx}");
    }
    assert!(reader.frame_at(400).unwrap().is_none());
}

#[test]
fn odd_sizes_are_padded_to_even() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.mp4");
    write_clip(&path, 5, 63, 47, 25.0);
    let reader = VideoReader::open(&path).unwrap();
    assert_eq!((reader.info().width, reader.info().height), (64, 48));
}

#[test]
fn gif_round_trip_with_delays_size_limit_and_transparency() {
    use image::AnimationDecoder;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("anim.gif");
    let opts = GifOptions {
        fps: 30.0,
        max_fps: Some(15.0),
        max_side: Some(40),
        quality: 80,
    };
    let mut gif = GifWriter::create(&path, 80, 60, &opts).unwrap();
    assert_eq!(gif.output_size(), (40, 30));
    for i in 0..10 {
        let mut f = synthetic_frame(i, 80, 60);
        for (x, y) in (0..6).flat_map(|x| (0..6).map(move |y| (x, y))) {
            f.put_pixel(x, y, Rgba([0, 0, 0, 0]));
        }
        gif.push(&f).unwrap();
    }
    gif.finish().unwrap();
    let decoder = image::codecs::gif::GifDecoder::new(std::io::BufReader::new(
        std::fs::File::open(&path).unwrap(),
    ))
    .unwrap();
    let frames = decoder.into_frames().collect_frames().unwrap();
    assert_eq!(frames.len(), 5, "10 frames at 30 fps capped to 15 fps");
    let total_ms: u32 = frames
        .iter()
        .map(|f| {
            let (n, d) = f.delay().numer_denom_ms();
            n / d
        })
        .sum();
    assert_eq!(total_ms, 330, "5 frames at 15 fps in whole centiseconds");
    let first = frames[0].buffer();
    assert_eq!(first.dimensions(), (40, 30));
    assert_eq!(first.get_pixel(0, 0)[3], 0, "transparent corner survives");
    assert_eq!(first.get_pixel(20, 29)[3], 255);
}

#[test]
fn png_sequence_keeps_alpha_and_replaces_old_export() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("frames");
    std::fs::create_dir(&target).unwrap();
    // An earlier, longer export's frame: replaced with the rest of that export.
    std::fs::write(target.join("frame_000009.png"), "old").unwrap();
    let mut out = Exporter::create(&target, 16, 8, &ExportOptions::default()).unwrap();
    for i in 0..3 {
        let mut f = synthetic_frame(i, 16, 8);
        f.put_pixel(1, 1, Rgba([9, 9, 9, 77]));
        out.push(&f).unwrap();
    }
    out.finish().unwrap();
    let mut names: Vec<_> = std::fs::read_dir(&target)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["frame_000000.png", "frame_000001.png", "frame_000002.png"]
    );
    let back = load_image(&target.join("frame_000002.png")).unwrap();
    assert_eq!(back.get_pixel(1, 1), &Rgba([9, 9, 9, 77]));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no staging left"
    );
}

#[test]
fn cancelled_exports_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.mp4", "b.gif", "c"] {
        let target = dir.path().join(name);
        let mut out = Exporter::create(&target, 32, 32, &ExportOptions::default()).unwrap();
        out.push(&synthetic_frame(0, 32, 32)).unwrap();
        drop(out);
        assert!(!target.exists(), "{name}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn mp4_copies_audio_trimmed_to_video_length() {
    let dir = tempfile::tempdir().unwrap();
    let with_audio = dir.path().join("talk.mp4");
    write_test_clip_with_audio(&with_audio, 2.0);
    let out = dir.path().join("out.mp4");
    let opts = ExportOptions {
        fps: 25.0,
        audio_from: Some(with_audio.clone()),
        ..Default::default()
    };
    let mut exp = Exporter::create(&out, 32, 32, &opts).unwrap();
    assert_eq!(exp.note(), None);
    for i in 0..25 {
        exp.push(&synthetic_frame(i, 32, 32)).unwrap();
    }
    exp.finish().unwrap();
    let input = ffmpeg_next::format::input(&out).unwrap();
    let audio = input
        .streams()
        .best(ffmpeg_next::media::Type::Audio)
        .expect("audio stream copied");
    let secs = audio.duration() as f64 * f64::from(audio.time_base());
    assert!(
        (secs - 1.0).abs() < 0.1,
        "audio trimmed to ~1 s, got {secs}"
    );
}

#[test]
fn audio_request_without_audio_gives_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let silent = dir.path().join("silent.mp4");
    write_clip(&silent, 3, 32, 32, 25.0);
    let opts = ExportOptions {
        audio_from: Some(silent),
        ..Default::default()
    };
    let exp = Exporter::create(&dir.path().join("o.mp4"), 32, 32, &opts).unwrap();
    assert!(exp.note().unwrap().contains("no audio"));
}

/// An MP4 with a 440 Hz AAC tone and a few video frames, written with FFmpeg directly.
fn write_test_clip_with_audio(path: &Path, seconds: f64) {
    use ffmpeg_next::{ChannelLayout, Packet, codec, encoder, format, frame};
    super::ffmpeg_setup::ensure_init();
    let mut octx = format::output(path).unwrap();
    let codec = encoder::find(codec::Id::AAC).unwrap();
    let global = octx.format().flags().contains(format::Flags::GLOBAL_HEADER);
    let mut ost = octx.add_stream(codec).unwrap();
    let mut ctx = codec::context::Context::new_with_codec(codec)
        .encoder()
        .audio()
        .unwrap();
    let rate = 44100;
    ctx.set_rate(rate);
    ctx.set_channel_layout(ChannelLayout::MONO);
    ctx.set_format(ffmpeg_next::format::Sample::F32(
        ffmpeg_next::format::sample::Type::Planar,
    ));
    ctx.set_bit_rate(64000);
    ctx.set_time_base((1, rate));
    if global {
        ctx.set_flags(codec::Flags::GLOBAL_HEADER);
    }
    let mut enc = ctx.open().unwrap();
    ost.set_parameters(&enc);
    octx.write_header().unwrap();
    let tb = octx.stream(0).unwrap().time_base();
    let n = enc.frame_size() as usize;
    let total = (seconds * f64::from(rate)) as usize;
    let mut written = 0usize;
    let drain = |enc: &mut ffmpeg_next::encoder::Audio, octx: &mut format::context::Output| {
        let mut p = Packet::empty();
        while enc.receive_packet(&mut p).is_ok() {
            p.set_stream(0);
            p.rescale_ts((1, rate), tb);
            p.write_interleaved(octx).unwrap();
        }
    };
    while written < total {
        let mut f = frame::Audio::new(
            ffmpeg_next::format::Sample::F32(ffmpeg_next::format::sample::Type::Planar),
            n,
            ChannelLayout::MONO,
        );
        f.set_rate(rate as u32);
        for (k, s) in f.plane_mut::<f32>(0).iter_mut().enumerate() {
            let t = (written + k) as f32 / rate as f32;
            *s = 0.3 * (t * 440.0 * std::f32::consts::TAU).sin();
        }
        f.set_pts(Some(written as i64));
        enc.send_frame(&f).unwrap();
        drain(&mut enc, &mut octx);
        written += n;
    }
    enc.send_eof().unwrap();
    drain(&mut enc, &mut octx);
    octx.write_trailer().unwrap();
}

mod bad_input {
    use super::*;

    #[test]
    fn text_renamed_mp4() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.mp4");
        std::fs::write(&path, "this is a shopping list, not a video\n").unwrap();
        let err = VideoReader::open(&path).unwrap_err();
        assert!(matches!(err, MediaError::Open { .. }), "{err}");
        assert!(err.to_string().contains("notes.mp4"));
    }

    #[test]
    fn missing_file() {
        let err = VideoReader::open(Path::new("no/such/clip.mp4")).unwrap_err();
        assert!(err.to_string().contains("clip.mp4"), "{err}");
    }

    #[test]
    fn truncated_and_corrupted_clips_fail_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.mp4");
        write_clip(&good, 30, 64, 48, 30.0);
        let bytes = std::fs::read(&good).unwrap();

        let cut = dir.path().join("cut.mp4");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        // The index sits at the end of the file: a cut file cannot be opened.
        let err = VideoReader::open(&cut).unwrap_err();
        assert!(err.to_string().contains("cut.mp4"), "{err}");

        // Garbage in the middle of the frame data: opening works, decoding never panics.
        let mut noisy = bytes.clone();
        let mid = noisy.len() / 2;
        for (k, b) in noisy[mid..mid + 400].iter_mut().enumerate() {
            *b = (k * 37 % 251) as u8;
        }
        let noisy_path = dir.path().join("noisy.mp4");
        std::fs::write(&noisy_path, &noisy).unwrap();
        if let Ok(reader) = VideoReader::open(&noisy_path) {
            let decoded = reader.take(100).filter(|f| f.is_ok()).count();
            assert!(decoded <= 30);
        }
    }

    #[test]
    fn gif_without_frames() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.gif");
        {
            let f = std::fs::File::create(&path).unwrap();
            let enc = gif::Encoder::new(f, 8, 8, &[0; 6]).unwrap();
            drop(enc);
        }
        let err = VideoReader::open(&path).unwrap_err();
        assert!(err.to_string().contains("empty.gif"), "{err}");
        assert!(
            matches!(err, MediaError::NoFrames { .. } | MediaError::Open { .. }),
            "{err}"
        );
    }

    #[test]
    fn unwritable_output_and_unknown_extension() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("missing-folder/out.mp4");
        let err = Exporter::create(&bad, 16, 16, &ExportOptions::default()).unwrap_err();
        assert!(err.to_string().contains("out.mp4"), "{err}");
        let txt = dir.path().join("out.txt");
        let err = Exporter::create(&txt, 16, 16, &ExportOptions::default()).unwrap_err();
        assert!(matches!(err, MediaError::UnsupportedOutput { .. }));
    }

    #[test]
    fn wrong_frame_size_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut out =
            Exporter::create(&dir.path().join("x.mp4"), 16, 16, &ExportOptions::default()).unwrap();
        let err = out.push(&synthetic_frame(0, 32, 16)).unwrap_err();
        assert!(err.to_string().contains("expected 16x16"), "{err}");
    }
}

/// Overwrite the first track header's display matrix in an MP4 (what phones write for
/// portrait clips): `[0, 1, 0; -1, 0, 0; 0, 0, 1]` asks players to turn the picture clockwise.
fn set_mp4_rotation_90(bytes: &mut [u8]) {
    let i = bytes.windows(4).position(|w| w == b"tkhd").unwrap();
    let start = i - 4;
    let version = bytes[i + 4];
    let (times, duration) = if version == 0 { (8, 4) } else { (16, 8) };
    let matrix = start + 8 + 4 + times + 4 + 4 + duration + 8 + 8;
    let values: [i32; 9] = [0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30];
    for (k, v) in values.iter().enumerate() {
        bytes[matrix + 4 * k..matrix + 4 * k + 4].copy_from_slice(&v.to_be_bytes());
    }
}

#[test]
fn rotation_metadata_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portrait.mp4");
    write_clip(&path, 3, 64, 48, 25.0);
    let mut bytes = std::fs::read(&path).unwrap();
    set_mp4_rotation_90(&mut bytes);
    std::fs::write(&path, bytes).unwrap();
    let mut reader = VideoReader::open(&path).unwrap();
    let info = reader.info().clone();
    assert_eq!(info.rotation, 90);
    assert_eq!((info.width, info.height), (48, 64));
    assert_eq!((info.coded_width, info.coded_height), (64, 48));
    let frame = reader.next_frame().unwrap().unwrap();
    assert_eq!(frame.image.dimensions(), (48, 64));
    let expected = image::imageops::rotate90(&synthetic_frame(0, 64, 48));
    assert!(mean_abs_diff(&frame.image, &expected) < 6.0);
}

/// A GIF whose frames are shown for `delays` hundredths of a second each, frame `k` filled
/// with grey level `40 * k`.
fn write_timed_gif(path: &Path, delays: &[u16]) {
    let file = std::fs::File::create(path).unwrap();
    let mut enc = gif::Encoder::new(file, 16, 16, &[]).unwrap();
    for (k, &delay) in delays.iter().enumerate() {
        let level = (40 * k) as u8;
        let pixels = vec![level; 16 * 16 * 3];
        let mut frame = gif::Frame::from_rgb(16, 16, &pixels);
        frame.delay = delay;
        enc.write_frame(&frame).unwrap();
    }
}

#[test]
fn variable_frame_rate_frames_follow_their_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vfr.gif");
    // 0.1 s, then a picture held for 1 s, then two more of 0.1 s: 1.3 s in all.
    write_timed_gif(&path, &[10, 100, 10, 10]);
    let reader = VideoReader::open(&path).unwrap();
    let fps = reader.info().fps;
    let frames: Vec<Frame> = reader.map(Result::unwrap).collect();
    let level = |f: &Frame| f.image.get_pixel(8, 8)[0];
    // Each output frame shows the picture on screen at its time.
    for f in &frames {
        assert_eq!(f.time, f.index as f64 / fps);
        let expected = match f.time {
            t if t < 0.1 - 0.5 / fps => 0,
            t if t < 1.1 - 0.5 / fps => 40,
            t if t < 1.2 - 0.5 / fps => 80,
            _ => 120,
        };
        assert!(
            level(f).abs_diff(expected) <= 4,
            "frame {} at {:.3} s shows {}, expected {expected} (fps {fps})",
            f.index,
            f.time,
            level(f)
        );
    }
    let held = frames.iter().filter(|f| level(f).abs_diff(40) <= 4).count();
    assert!(
        (held as f64 - fps).abs() <= 1.0,
        "the 1 s picture fills {held} frames at {fps} fps"
    );
}

#[test]
fn a_jpeg_still_is_a_one_frame_video() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.jpg");
    // Noisy and 400 × 300: larger than FFmpeg's probe buffer, so it cannot be rewound in memory.
    image::RgbImage::from_fn(400, 300, |x, y| {
        let n = (x.wrapping_mul(7919) ^ y.wrapping_mul(104_729)).wrapping_mul(2_654_435_761);
        image::Rgb([(n >> 8) as u8, (n >> 16) as u8, (n >> 24) as u8])
    })
    .save(&path)
    .unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() > 64 * 1024);
    let mut reader = VideoReader::open(&path).unwrap();
    let frames: Vec<Frame> = reader.by_ref().map(Result::unwrap).collect();
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].image.dimensions(), (400, 300));
    // And again after a rewind, as the app's preview does.
    assert!(reader.frame_at(0).unwrap().is_some());
}

#[cfg(target_os = "linux")]
#[test]
fn a_path_that_is_not_unicode_opens() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"clip\xff.mp4");
    let path = dir.path().join(name);
    write_clip(&path, 3, 32, 32, 25.0);
    let reader = VideoReader::open(&path).unwrap();
    assert_eq!(reader.count(), 3);
}
