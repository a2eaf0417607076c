//! End-to-end: no command loses a user's file, panics, or writes something it cannot read back,
//! whatever paths and options it is given.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cli.rs"]
mod cli;

use cli::{assert_clean_failure, assert_option_refused, faceshot, s};

#[path = "support/character.rs"]
mod character;

use character::character;
use faceshot_core::landmarks::{Face, Track};
use faceshot_core::media::{ExportOptions, Exporter, save_png};
use image::{Rgba, RgbaImage};
use std::fs;
use std::path::{Path, PathBuf};

fn sample_talk() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/driving/sample_talk.mp4")
}

fn make_clip(path: &Path, frames: u32, side: u32) {
    let opts = ExportOptions {
        fps: 25.0,
        ..Default::default()
    };
    let mut out = Exporter::create(path, side, side, &opts).unwrap();
    for i in 0..frames {
        let img = RgbaImage::from_fn(side, side, |x, y| {
            Rgba([((x + 3 * i) % 256) as u8, (y % 256) as u8, 90, 255])
        });
        out.push(&img).unwrap();
    }
    out.finish().unwrap();
}

/// Every file under `dir` with a hash of its bytes, to compare before and after a run.
fn snapshot(dir: &Path) -> Vec<(PathBuf, u64)> {
    use std::hash::{Hash, Hasher};
    let hash = |bytes: &[u8]| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut h);
        h.finish()
    };
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.push((p.clone(), 0));
                stack.push(p);
            } else {
                out.push((p.clone(), hash(&fs::read(&p).unwrap())));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_frame_folder_output_never_deletes_what_is_in_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    character(d);
    let clip = d.join("clip.mp4");
    make_clip(&clip, 3, 32);
    let folder = d.join("D");
    fs::create_dir_all(folder.join("sub")).unwrap();
    fs::write(folder.join("thesis.docx"), "years of work").unwrap();
    // The input video inside the output folder.
    let inside = folder.join("talk.mp4");
    fs::copy(&clip, &inside).unwrap();
    let (img, face, track) = (
        d.join("char.png"),
        d.join("char.json"),
        d.join("track.json"),
    );
    let out_json = d.join("out.json");
    let before = snapshot(d);
    let runs: [&[&str]; 4] = [
        &["transcode", s(&clip), s(&folder), "--frames", "2"],
        &["transcode", s(&inside), s(&folder)],
        &[
            "render",
            "--character",
            s(&img),
            "--landmarks",
            s(&face),
            "--track",
            s(&track),
            "-o",
            s(&folder),
        ],
        &[
            "retarget",
            "--character",
            s(&face),
            "--driving",
            s(&track),
            "-o",
            s(&out_json),
            "--preview",
            s(&folder),
            "--image",
            s(&img),
        ],
    ];
    for args in runs {
        let o = faceshot(args);
        assert_clean_failure(&o, "already holds");
        assert_eq!(snapshot(d), before, "{args:?} changed the folder");
    }
    // A folder named like a video is refused as well, not emptied.
    let named = d.join("x.mp4");
    fs::create_dir(&named).unwrap();
    fs::write(named.join("keep.txt"), "x").unwrap();
    assert_clean_failure(
        &faceshot(&["transcode", s(&clip), s(&named)]),
        "is a folder",
    );
    assert!(named.join("keep.txt").exists());
}

#[test]
fn a_frame_folder_takes_an_empty_folder_or_replaces_its_own_frames() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    make_clip(&clip, 4, 32);
    let folder = dir.path().join("frames");
    fs::create_dir(&folder).unwrap();
    let o = faceshot(&["transcode", s(&clip), s(&folder)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(fs::read_dir(&folder).unwrap().count(), 4);
    let o = faceshot(&["transcode", s(&clip), s(&folder), "--frames", "2"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(fs::read_dir(&folder).unwrap().count(), 2);
    // `.` as the output: frames land in the current folder, nothing hidden is left over.
    let here = dir.path().join("here");
    fs::create_dir(&here).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_faceshot"))
        .args(["transcode", s(&clip), ".", "--frames", "1", "--quiet"])
        .current_dir(&here)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let names: Vec<String> = fs::read_dir(&here)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["frame_000000.png"]);
}

#[test]
fn no_command_writes_over_its_own_input_or_another_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    character(d);
    let clip = d.join("clip.mp4");
    make_clip(&clip, 3, 32);
    let (img, face, track) = (
        d.join("char.png"),
        d.join("char.json"),
        d.join("track.json"),
    );
    // The same file spelled another way.
    let img2 = d.join(".").join("char.png");
    let clip2 = d.join("sub/../clip.mp4");
    fs::create_dir(d.join("sub")).unwrap();
    let new = d.join("new.json");
    let before = snapshot(d);
    let runs: Vec<Vec<&str>> = vec![
        vec!["match", s(&img), "-o", s(&img2)],
        vec!["match", s(&img), "-o", s(&new), "--overlay", s(&img2)],
        vec!["match", s(&img), "-o", s(&new), "--overlay", s(&new)],
        vec!["detect", s(&clip), "-o", s(&clip2)],
        vec!["detect", s(&clip), "-o", s(&new), "--overlay", s(&clip2)],
        vec!["detect", s(&clip), "-o", s(&new), "--npy", s(&new)],
        vec!["transcode", s(&clip), s(&clip2)],
        vec![
            "animate",
            s(&img),
            s(&clip),
            "--landmarks",
            s(&face),
            "-o",
            s(&clip2),
        ],
        vec![
            "animate",
            s(&img),
            s(&clip),
            "--landmarks",
            s(&face),
            "-o",
            s(&new),
            "--save-track",
            s(&face),
        ],
        vec![
            "animate",
            s(&img),
            s(&clip),
            "--landmarks",
            s(&face),
            "-o",
            s(&new),
            "--save-track",
            s(&new),
        ],
        vec![
            "render",
            "--character",
            s(&img),
            "--landmarks",
            s(&face),
            "--track",
            s(&track),
            "-o",
            s(&track),
        ],
    ];
    for args in &runs {
        let o = faceshot(args);
        assert_clean_failure(&o, "is also");
        assert_eq!(snapshot(d), before, "{args:?} changed a file");
    }
}

#[test]
fn a_failed_animate_keeps_the_earlier_saved_track() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/characters");
    let saved = d.join("saved.json");
    fs::write(&saved, "the user's earlier track").unwrap();
    let (picture, talk, landmarks) = (
        assets.join("astronaut.png"),
        sample_talk(),
        assets.join("astronaut.face.json"),
    );
    let common = [
        "animate",
        s(&picture),
        s(&talk),
        "--landmarks",
        s(&landmarks),
        "--frames",
        "4",
        "--save-track",
        s(&saved),
    ];
    // A typo in the output folder fails at once; an unknown extension only when rendering.
    for (output, needle) in [
        (d.join("no-such-folder/out.mp4"), "does not exist"),
        (d.join("out.avi"), "out.avi"),
    ] {
        let mut args = common.to_vec();
        args.extend(["-o", s(&output)]);
        assert_clean_failure(&faceshot(&args), needle);
        assert_eq!(
            fs::read_to_string(&saved).unwrap(),
            "the user's earlier track"
        );
        assert_eq!(
            fs::read_dir(d).unwrap().count(),
            1,
            "a temporary file was left"
        );
    }
    let mut args = common.to_vec();
    let out = d.join("out.gif");
    args.extend(["-o", s(&out)]);
    let o = faceshot(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(Track::load(&saved, None).unwrap().len() == 4);
}

#[cfg(target_os = "linux")]
#[test]
fn video_paths_that_are_not_unicode_work() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let name = |b: &[u8]| dir.path().join(std::ffi::OsStr::from_bytes(b));
    let clip = name(b"b\xff.mp4");
    make_clip(&clip, 3, 32);
    let run = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_faceshot"))
            .args(args)
            .arg("--quiet")
            .output()
            .unwrap()
    };
    let o = run(&["probe".as_ref(), clip.as_os_str()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("32x32"));
    let out = name(b"o\xfe.mp4");
    let o = run(&["transcode".as_ref(), clip.as_os_str(), out.as_os_str()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.exists());
}

#[test]
fn a_jpeg_photo_is_a_one_frame_video() {
    let dir = tempfile::tempdir().unwrap();
    // Large enough (noisy, 400 × 300) that the file outgrows FFmpeg's probe buffer: rewinding
    // it after the first read was what failed.
    let photo = dir.path().join("photo.jpg");
    image::RgbImage::from_fn(400, 300, |x, y| {
        let n = (x.wrapping_mul(7919) ^ y.wrapping_mul(104_729)).wrapping_mul(2_654_435_761);
        image::Rgb([(n >> 8) as u8, (n >> 16) as u8, (n >> 24) as u8])
    })
    .save(&photo)
    .unwrap();
    assert!(std::fs::metadata(&photo).unwrap().len() > 64 * 1024);
    let out = dir.path().join("photo.gif");
    let o = faceshot(&["transcode", s(&photo), s(&out)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("wrote 1 frames"));
}

#[cfg(unix)]
#[test]
fn new_files_follow_the_umask_and_replaced_files_keep_their_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    make_clip(&clip, 2, 32);
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let run = |out: &Path| {
        let o = std::process::Command::new("sh")
            .arg("-c")
            .arg("umask 022 && exec \"$0\" \"$@\"")
            .arg(env!("CARGO_BIN_EXE_faceshot"))
            .args(["transcode", s(&clip), s(out), "--quiet"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let (mp4, gif, frames) = (
        dir.path().join("a.mp4"),
        dir.path().join("a.gif"),
        dir.path().join("frames"),
    );
    for out in [&mp4, &gif, &frames] {
        run(out);
    }
    assert_eq!(mode(&mp4), 0o644);
    assert_eq!(mode(&gif), 0o644);
    assert_eq!(mode(&frames), 0o755);
    assert_eq!(mode(&frames.join("frame_000000.png")), 0o644);
    fs::set_permissions(&mp4, fs::Permissions::from_mode(0o640)).unwrap();
    run(&mp4);
    assert_eq!(mode(&mp4), 0o640);
}

#[cfg(unix)]
#[test]
fn sigterm_and_sighup_leave_no_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    make_clip(&clip, 400, 192);
    for signal in ["TERM", "HUP"] {
        let out = dir.path().join(format!("out-{signal}.gif"));
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_faceshot"))
            .args([
                "transcode",
                s(&clip),
                s(&out),
                "--quality",
                "100",
                "--quiet",
            ])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the hidden partial file exists, then signal.
        let partial = || {
            fs::read_dir(dir.path())
                .unwrap()
                .filter_map(|e| e.ok())
                .any(|e| e.file_name().to_string_lossy().contains(".part"))
        };
        let start = std::time::Instant::now();
        while !partial() && start.elapsed().as_secs() < 20 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(partial(), "no partial file seen");
        let killed = std::process::Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "SIG{signal}: {err}");
        assert!(err.contains("cancelled"), "SIG{signal}: {err}");
        assert!(!partial(), "SIG{signal} left a partial file");
        assert!(!out.exists());
    }
}

#[test]
fn absurd_options_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    character(d);
    let clip = d.join("clip.mp4");
    make_clip(&clip, 2, 32);
    let (img, face, track) = (
        d.join("char.png"),
        d.join("char.json"),
        d.join("track.json"),
    );
    let out = d.join("out.json");
    let gif = d.join("out.gif");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["detect", s(&clip), "-o", s(&out), "--beta", "NaN"],
            "--beta",
        ),
        (
            vec!["detect", s(&clip), "-o", s(&out), "--min-cutoff", "NaN"],
            "--min-cutoff",
        ),
        (
            vec!["transcode", s(&clip), s(&gif), "--gif-fps", "1e-9"],
            "--gif-fps",
        ),
        (
            vec!["transcode", s(&clip), s(&gif), "--max-size", "0"],
            "--max-size",
        ),
        (
            vec!["transcode", s(&clip), s(&gif), "--frames", "0"],
            "--frames",
        ),
        (
            vec![
                "render",
                "--character",
                s(&img),
                "--landmarks",
                s(&face),
                "--track",
                s(&track),
                "-o",
                s(&gif),
                "--fps",
                "1e-9",
            ],
            "--fps",
        ),
        (
            vec![
                "animate",
                s(&img),
                s(&clip),
                "--landmarks",
                s(&face),
                "-o",
                s(&gif),
                "--frames",
                "0",
            ],
            "--frames",
        ),
    ];
    for (args, needle) in cases {
        assert_option_refused(&faceshot(&args), needle);
    }
    for steps in ["0", "1000000000000"] {
        let o = faceshot(&["match", s(&img), "-o", s(&out), "--inversion-steps", steps]);
        assert_option_refused(&o, "--inversion-steps");
    }
    // A control given twice, in one list or across two options.
    let twice: [&[&str]; 2] = [
        &["--gain", "mouth=1,mouth=2"],
        &["--gain", "mouth=1", "--gain", "mouth=1.5"],
    ];
    for gains in twice {
        let mut args = vec![
            "retarget",
            "--character",
            s(&face),
            "--driving",
            s(&track),
            "-o",
            s(&out),
        ];
        args.extend_from_slice(gains);
        assert_clean_failure(&faceshot(&args), "given twice");
    }
    for anchors in ["10,10;10,10;10,10", "1e9,1e9;60,50;50,80"] {
        let o = faceshot(&["match", s(&img), "-o", s(&out), "--anchors", anchors]);
        assert_clean_failure(&o, "anchor");
    }
    assert!(!out.exists() && !gif.exists());
}

#[test]
fn a_match_with_anchors_writes_a_face_faceshot_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    character(dir.path());
    let out = dir.path().join("anchored.json");
    let o = faceshot(&[
        "match",
        s(&dir.path().join("char.png")),
        "-o",
        s(&out),
        "--anchors",
        "52,60;76,60;64,72",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Face::load(&out).unwrap();
}

#[test]
fn eval_match_refuses_a_ground_truth_that_is_not_a_number() {
    let dir = tempfile::tempdir().unwrap();
    character(dir.path());
    let face = Face::load(&dir.path().join("char.json")).unwrap();
    let mut body: String = face
        .points
        .iter()
        .map(|p| format!("{} {}\n", p.x, p.y))
        .collect();
    body = body.replacen(&format!("{} ", face.points[0].x), "nan ", 1);
    fs::write(
        dir.path().join("char.pts"),
        format!("version: 1\nn_points: 68\n{{\n{body}}}\n"),
    )
    .unwrap();
    fs::remove_file(dir.path().join("char.json")).unwrap();
    let o = faceshot(&["eval-match", s(dir.path()), "--backend", "structural"]);
    assert_clean_failure(&o, "char.pts");
}

#[test]
fn a_blank_picture_says_no_face_found() {
    let dir = tempfile::tempdir().unwrap();
    let blank = dir.path().join("blank.png");
    save_png(&RgbaImage::from_pixel(96, 96, Rgba([0, 0, 0, 0])), &blank).unwrap();
    let out = dir.path().join("face.json");
    let o = faceshot(&["match", s(&blank), "-o", s(&out), "--backend", "structural"]);
    assert_clean_failure(&o, "no face found");
    assert!(!out.exists());
}

#[test]
fn smaller_rough_edges() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    character(d);
    let clip = d.join("clip.mp4");
    make_clip(&clip, 2, 32);
    let (img, face, track) = (
        d.join("char.png"),
        d.join("char.json"),
        d.join("track.json"),
    );
    // A face file saved with a byte-order mark.
    let bom = d.join("bom.json");
    fs::write(
        &bom,
        format!("\u{feff}{}", fs::read_to_string(&face).unwrap()),
    )
    .unwrap();
    let o = faceshot(&[
        "retarget",
        "--character",
        s(&bom),
        "--driving",
        s(&track),
        "-o",
        s(&d.join("r.json")),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let render = |out: &Path, audio: &Path| {
        faceshot(&[
            "render",
            "--character",
            s(&img),
            "--landmarks",
            s(&face),
            "--track",
            s(&track),
            "-o",
            s(out),
            "--audio",
            s(audio),
        ])
    };
    assert_clean_failure(
        &render(&d.join("a.mp4"), &d.join("missing.mp4")),
        "missing.mp4",
    );
    assert_clean_failure(&render(&d.join("a.gif"), &clip), "--audio");
    assert_clean_failure(&faceshot(&["transcode", s(&clip), "-"]), "standard output");
    assert!(!d.join("-").exists());
    // A name of 250 bytes: the hidden temporary name beside it must still fit.
    let long = d.join(format!("{}.gif", "n".repeat(246)));
    let o = faceshot(&["transcode", s(&clip), s(&long)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(long.exists());
}
