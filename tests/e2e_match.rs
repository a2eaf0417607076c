//! End-to-end: `faceshot cartoons`, `match` (structural, anchors, overlay) and `eval-match`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cli.rs"]
mod cli;

use cli::{faceshot, ok};

use faceshot_core::landmarks::{Face, Part};
use std::path::Path;
use std::process::Command;

#[path = "support/local_hub.rs"]
mod local_hub;

#[test]
fn cartoons_match_and_eval() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("set");
    let s = set.to_str().unwrap();
    ok(&faceshot(&[
        "cartoons", s, "--count", "3", "--size", "160", "--seed", "5",
    ]));
    let img = set.join("cartoon_00005.png");
    assert!(img.is_file() && set.join("cartoon_00005.json").is_file());

    let out = dir.path().join("m.json");
    let overlay = dir.path().join("o.png");
    ok(&faceshot(&[
        "match",
        img.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--overlay",
        overlay.to_str().unwrap(),
    ]));
    let face = Face::load(&out).unwrap();
    assert_eq!(face.image.unwrap().width, 160);
    assert!(overlay.is_file());

    // Five-click fit: the eye anchors are honoured.
    let truth = Face::load(&set.join("cartoon_00005.json")).unwrap().points;
    let eye = |part: Part| {
        let idx = part.indices();
        let n = idx.len() as f32;
        let (x, y) = idx
            .iter()
            .fold((0.0, 0.0), |(x, y), &i| (x + truth[i].x, y + truth[i].y));
        (x / n, y / n)
    };
    let (l, r) = (eye(Part::RightEye), eye(Part::LeftEye));
    let anchors = format!(
        "{},{};{},{};{},{}",
        l.0, l.1, r.0, r.1, truth[30].x, truth[30].y
    );
    ok(&faceshot(&[
        "match",
        img.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--anchors",
        &anchors,
    ]));
    let fitted = Face::load(&out).unwrap();
    let fl = Part::RightEye
        .indices()
        .iter()
        .fold(0.0, |a, &i| a + fitted.points[i].x)
        / 6.0;
    assert!((fl - l.0).abs() < 3.0, "{fl} vs {}", l.0);

    let report = ok(&faceshot(&["eval-match", s]));
    assert!(
        report.contains("3 images") && report.contains("mean NME"),
        "{report}"
    );
    let json = ok(&faceshot(&["eval-match", s, "--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["images"], 3);
    // Today 0.049 on these three cartoons.
    assert!(v["mean_nme"].as_f64().unwrap() < 0.06, "{v}");
}

#[test]
fn clear_errors_for_bad_requests() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path();
    ok(&faceshot(&[
        "cartoons",
        set.to_str().unwrap(),
        "--count",
        "1",
        "--size",
        "96",
    ]));
    let img = set.join("cartoon_00000.png");
    let out = set.join("x.json");
    let run = |extra: &[&str]| {
        let mut a = vec!["match", img.to_str().unwrap(), "-o", out.to_str().unwrap()];
        a.extend_from_slice(extra);
        faceshot(&a)
    };
    for (extra, needle) in [
        (&["--backend", "nonsense"][..], "unknown backend"),
        (&["--backend", "dift"][..], "--weights"),
        (
            &["--backend", "dift", "--weights", "/nonexistent"][..],
            "missing",
        ),
        (&["--anchors", "1,2;3,4"][..], "anchors"),
    ] {
        let o = run(extra);
        assert!(!o.status.success(), "{extra:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{extra:?}: {err}");
    }
    assert!(!Path::new(&out).exists());
}

#[test]
fn turned_cartoons_are_generated_and_matched() {
    let dir = tempfile::tempdir().unwrap();
    let (front, turned) = (dir.path().join("front"), dir.path().join("turned"));
    for (d, yaw) in [(&front, "0"), (&turned, "30")] {
        ok(&faceshot(&[
            "cartoons",
            d.to_str().unwrap(),
            "--count",
            "2",
            "--size",
            "192",
            "--seed",
            "12",
            "--yaw",
            yaw,
        ]));
    }
    // Same character, features moved: the nose tip is elsewhere, the jaw ends are not.
    let load = |d: &Path| Face::load(&d.join("cartoon_00012.json")).unwrap().points;
    let (a, b) = (load(&front), load(&turned));
    assert!((a[30].x - b[30].x).abs() > 2.0, "{:?} {:?}", a[30], b[30]);
    assert!(a[0].distance(b[0]) < 0.5 && a[16].distance(b[16]) < 0.5);
    let json = ok(&faceshot(&[
        "eval-match",
        turned.to_str().unwrap(),
        "--json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["images"], 2);
    // Measured 0.028 (0.033 and 0.022).
    assert!(v["mean_nme"].as_f64().unwrap() < 0.035, "{json}");

    let o = faceshot(&["cartoons", dir.path().to_str().unwrap(), "--yaw", "90"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--yaw"));
}

#[test]
fn weights_reports_a_folder_and_downloads_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let sd = dir.path().join("sd21");
    let sd_arg = sd.to_str().unwrap();
    let weights = |endpoint: &str, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_faceshot"))
            .args(["weights", "--dir", sd_arg, "--quiet"])
            .args(extra)
            .env("HF_ENDPOINT", endpoint)
            .env_remove("FACESHOT_SD_REPO")
            .output()
            .expect("run faceshot")
    };
    // Nothing there yet: a failure naming what is missing and how to get it.
    let closed = format!("http://127.0.0.1:{}", local_hub::closed_port());
    let out = weights(&closed, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("missing unet"),
        "{err}"
    );
    assert!(err.contains("faceshot weights --download"), "{err}");
    // An unreachable hub: a clear error, nothing written in place.
    let out = weights(&closed, &["--download"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("cannot reach"),
        "{err}"
    );
    // A reachable one: every file arrives under its name, and the folder is complete.
    let hub = local_hub::local_hub();
    let stdout = ok(&weights(&hub, &["--download"]));
    assert!(stdout.contains("complete"), "{stdout}");
    for f in faceshot_dift::hub::FILES {
        let body = std::fs::read_to_string(sd.join(f)).unwrap();
        assert!(body.ends_with(f), "{body}");
    }
    assert!(ok(&weights(&closed, &[])).contains("complete"));
}

/// `contact-sheet` on a folder: one numbered tile a picture, the landmarks drawn where the
/// generated truth puts them, a table row a picture; it never writes over its inputs.
#[test]
fn contact_sheet_draws_every_picture_in_its_tile() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("set");
    let s = set.to_str().unwrap();
    ok(&faceshot(&[
        "cartoons", s, "--count", "3", "--size", "128", "--seed", "77",
    ]));
    let sheet = dir.path().join("sheet.png");
    let table = ok(&faceshot(&[
        "contact-sheet",
        s,
        "-o",
        sheet.to_str().unwrap(),
        "--tile",
        "128",
        "--columns",
        "2",
    ]));
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("| ")).collect();
    assert_eq!(rows.len(), 4, "{table}"); // header + 3 pictures
    assert!(rows[1].starts_with("| 1 | cartoon_00077.png |"), "{table}");
    let img = image::open(&sheet).unwrap().to_rgba8();
    // 2 columns × 2 rows of 128-pixel tiles; the fourth cell stays empty (dark).
    assert_eq!(img.dimensions(), (256, 256));
    assert_eq!(img.get_pixel(200, 200).0, [32, 32, 32, 255]);
    // The third picture's tile has its drawn points (white contours, coloured dots) near the
    // generated truth: at the truth's chin the tile differs from the bare picture.
    let truth = Face::load(&set.join("cartoon_00079.json")).unwrap();
    let bare = image::open(set.join("cartoon_00079.png"))
        .unwrap()
        .to_rgba8();
    let chin = truth.points[8];
    let (x, y) = (chin.x.round() as u32, chin.y.round() as u32);
    let drawn = img.get_pixel(x, 128 + y).0;
    let plain = bare.get_pixel(x, y).0;
    let diff: i32 = (0..3)
        .map(|c| (i32::from(drawn[c]) - i32::from(plain[c])).abs())
        .sum();
    assert!(diff > 60, "chin tile {drawn:?} vs picture {plain:?}");
    // A file that is not a picture gets its row and an empty tile; the others are still drawn.
    std::fs::write(set.join("broken.png"), b"not a picture").unwrap();
    let with_broken = dir.path().join("with_broken.png");
    let table = ok(&faceshot(&[
        "contact-sheet",
        s,
        "-o",
        with_broken.to_str().unwrap(),
        "--tile",
        "64",
    ]));
    assert!(table.contains("| 1 | broken.png | unreadable |"), "{table}");
    assert!(table.contains("| 2 | cartoon_00077.png |"), "{table}");
    std::fs::remove_file(set.join("broken.png")).unwrap();
    // A .jpg name writes JPEG.
    let jpg = dir.path().join("sheet.jpg");
    ok(&faceshot(&[
        "contact-sheet",
        s,
        "-o",
        jpg.to_str().unwrap(),
        "--tile",
        "64",
    ]));
    let decoded = image::open(&jpg).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (192, 64));
    assert_eq!(
        image::ImageFormat::from_path(&jpg).unwrap(),
        image::ImageFormat::Jpeg
    );
    assert_eq!(&std::fs::read(&jpg).unwrap()[..2], &[0xFF, 0xD8]);
    // An output that is one of the inputs is refused, and the input is left as it was.
    let input = set.join("cartoon_00077.png");
    let before = std::fs::read(&input).unwrap();
    let o = faceshot(&["contact-sheet", s, "-o", input.to_str().unwrap()]);
    assert!(!o.status.success());
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

/// `match --face-box`: the face in the box is matched (two cartoons side by side); a bad box is
/// refused in one line and nothing is written.
#[test]
fn match_in_a_face_box() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("set");
    ok(&faceshot(&[
        "cartoons",
        set.to_str().unwrap(),
        "--count",
        "2",
        "--size",
        "160",
        "--seed",
        "31",
    ]));
    let a = image::open(set.join("cartoon_00031.png"))
        .unwrap()
        .to_rgba8();
    let b = image::open(set.join("cartoon_00032.png"))
        .unwrap()
        .to_rgba8();
    let mut pair = image::RgbaImage::new(320, 160);
    image::imageops::replace(&mut pair, &a, 0, 0);
    image::imageops::replace(&mut pair, &b, 160, 0);
    let pic = dir.path().join("pair.png");
    pair.save(&pic).unwrap();
    let out = dir.path().join("m.json");
    let (p, o) = (pic.to_str().unwrap(), out.to_str().unwrap());
    ok(&faceshot(&[
        "match",
        p,
        "-o",
        o,
        "--face-box",
        "165,5,150,150",
    ]));
    let face = Face::load(&out).unwrap();
    let truth = Face::load(&set.join("cartoon_00032.json")).unwrap();
    let mut shifted = truth.points;
    for q in shifted.iter_mut() {
        q.x += 160.0;
    }
    let e = faceshot_core::matching::eval::nme(&face.points, &shifted).unwrap();
    assert!(e < 0.04, "NME {e} (measured 0.027)");
    assert_eq!(face.image.unwrap().width, 320);
    let refused = dir.path().join("r.json");
    let r = refused.to_str().unwrap();
    for (args, needle) in [
        (vec!["--face-box", "1,2,3"], "not x,y,width,height"),
        (vec!["--face-box", "1000,1000,50,50"], "keeps less than"),
        (
            vec![
                "--face-box",
                "0,0,100,100",
                "--anchors",
                "10,10;30,10;20,20",
            ],
            "give one",
        ),
    ] {
        let mut full = vec!["match", p, "-o", r];
        full.extend(args);
        cli::assert_clean_failure(&faceshot(&full), needle);
        assert!(!refused.exists());
    }
}
