"""Fine-tune face-api.js's 68-point net on the generated crops (`make_data.py`) and the real-face
crops (`real_faces.py`), on the CPU.

    python tools/train/train.py --data target/train-data --ckpt target/train-ckpt --steps 4000 \
        --real-share 0.4 --out models/landmark68_stylized.safetensors

Starts from `models/landmark68.safetensors` (the shipped net, which already knows human faces)
and trains every weight with Adam on the normalised mean error (point distance over the outer
eye-corner distance, the NME the evaluation reports). Each batch mixes generated crops
(`DATA/train`) and, when present, real-face crops (`DATA/real`, `--real-share` of the batch) and
crops of the Rust generator's cartoons (`DATA/cartoons`, `--cartoon-share`).
Augmentation on the fly: mirror image (points mirrored and renumbered with the iBUG mirror map),
brightness, contrast, saturation, channel shuffle, grey scale and colour inversion.

Resumable: a checkpoint (weights, optimiser, step, data order) is written to `--ckpt` every
`--ckpt-every` steps and on exit; a rerun with the same arguments continues from it. The
validation crops (`DATA/val`: generated, training styles, seeds apart from the training ones;
`DATA/real-val`: a real clip training never sees, exaggerated and stylised; `DATA/cartoons-val`:
the Rust generator at seeds apart from training) are scored every
`--eval-every` steps and the weights with the best mean validation NME over the sets are
exported.
"""
import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

import faceapi_net as net

ROOT = Path(__file__).resolve().parents[2]
MIRROR = np.array([16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
                   26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 27, 28, 29, 30, 35, 34, 33, 32, 31,
                   45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40,
                   54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65])


def nme(pred, truth):
    """Per-sample NME: mean point distance over the outer eye-corner distance (36–45)."""
    d = tf.norm(pred - truth, axis=-1)
    eyes = tf.maximum(tf.norm(truth[:, 36] - truth[:, 45], axis=-1), 0.02)
    return tf.reduce_mean(d, axis=-1) / eyes


def wing(pred, truth, w=0.05, eps=0.01):
    """Per-sample Wing loss (Feng et al., CVPR 2018) of each point's distance over the outer
    eye-corner distance: logarithmic below `w` (larger gradients for small errors), linear above."""
    d = tf.norm(pred - truth, axis=-1)
    eyes = tf.maximum(tf.norm(truth[:, 36] - truth[:, 45], axis=-1), 0.02)
    dn = d / eyes[:, None]
    c = w - w * np.log(1.0 + w / eps)
    return tf.reduce_mean(tf.where(dn < w, w * tf.math.log(1.0 + dn / eps), dn - c), axis=-1)


def augment(x, y, seed):
    """x: B×112×112×3 uint8, y: B×68×2 fractions → float inputs in [0, 1] and points."""
    r = np.random.default_rng(seed)
    x = x.astype(np.float32) / 255.0
    b = len(x)
    flip = r.random(b) < 0.5
    x[flip] = x[flip, :, ::-1]
    y = y.copy()
    y[flip] = y[flip][:, MIRROR]
    y[flip, :, 0] = (net.SIZE - 1) / net.SIZE - y[flip, :, 0]
    # Photometric: per-sample brightness, contrast, saturation, channel shuffle / grey / invert.
    grey = x.mean(-1, keepdims=True)
    sat = r.uniform(0.3, 1.4, (b, 1, 1, 1))
    x = grey + (x - grey) * sat
    con = r.uniform(0.6, 1.4, (b, 1, 1, 1))
    mean = x.mean((1, 2, 3), keepdims=True)
    x = mean + (x - mean) * con + r.uniform(-0.15, 0.15, (b, 1, 1, 1))
    for i in np.nonzero(r.random(b) < 0.3)[0]:
        x[i] = x[i][..., r.permutation(3)]
    for i in np.nonzero(r.random(b) < 0.1)[0]:
        x[i] = x[i].mean(-1, keepdims=True)
    for i in np.nonzero(r.random(b) < 0.03)[0]:
        x[i] = 1.0 - x[i]
    return np.clip(x, 0, 1).astype(np.float32), y.astype(np.float32)


def load_train(d, kind=None):
    """The training crops: `x.npy`/`y.npy`, or the shards `make_data.py` has finished so far
    (training may start while the data is still being made; see `--rescan`); with `kind`
    (0 refined, 1 coarse), only the crops of that pass."""
    if (d / "x.npy").exists():
        xs, ys, kind_files = np.load(d / "x.npy"), np.load(d / "y.npy"), [d / "kind.npy"]
    else:
        shards = sorted(d.glob("shard*_y.npy"))
        if not shards:
            raise SystemExit(f"{d}: no training data")
        xs = np.concatenate([np.load(str(p).replace("_y.npy", "_x.npy")) for p in shards])
        ys = np.concatenate([np.load(p) for p in shards])
        kind_files = [str(p).replace("_y.npy", "_kind.npy") for p in shards]
    if kind is None:
        return xs, ys
    keep = np.concatenate([np.load(k) for k in kind_files]) == kind
    return xs[keep], ys[keep]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT / "target/train-data"))
    ap.add_argument("--ckpt", default=str(ROOT / "target/train-ckpt"))
    ap.add_argument("--init", default=str(ROOT / "models/landmark68.safetensors"))
    ap.add_argument("--out", default=str(ROOT / "models/landmark68_stylized.safetensors"))
    ap.add_argument("--real", default=None,
                    help="crops of real faces (`real_faces.py`, merged); default DATA/real when it exists")
    ap.add_argument("--real-share", type=float, default=0.4, help="share of each batch drawn from --real")
    ap.add_argument("--cartoons", default=None,
                    help="crops of `faceshot cartoons` pictures (`make_data.py --pictures`, merged); "
                         "default DATA/cartoons when it exists")
    ap.add_argument("--cartoon-share", type=float, default=0.2, help="share of each batch drawn from --cartoons")
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=25)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--ckpt-every", type=int, default=250)
    ap.add_argument("--crops", choices=("all", "refined", "coarse"), default="all",
                    help="train and choose the best weights on the crops of one pass only (a network "
                         "for that pass, the other left to another)")
    ap.add_argument("--loss", choices=("nme", "wing"), default="nme",
                    help="training loss: the NME itself, or Wing loss on the same normalised distances")
    a = ap.parse_args()
    if not (0 <= a.real_share and 0 <= a.cartoon_share and a.real_share + a.cartoon_share < 1):
        ap.error("--real-share and --cartoon-share must be at least 0 and leave part of each batch generated")
    tf.random.set_seed(a.seed)
    data = Path(a.data)
    kind = {"all": None, "refined": 0, "coarse": 1}[a.crops]
    xs, ys = load_train(data / "train", kind)
    real = Path(a.real) if a.real else data / "real"
    rxs, rys = load_train(real, kind) if real.exists() else (None, None)
    real_batch = round(a.batch * a.real_share) if rxs is not None else 0
    cartoons = Path(a.cartoons) if a.cartoons else data / "cartoons"
    cxs, cys = load_train(cartoons, kind) if cartoons.exists() else (None, None)
    cartoon_batch = round(a.batch * a.cartoon_share) if cxs is not None else 0
    # Validation sets: generated faces of the training styles (DATA/val) and, when made, real
    # faces of a clip training never sees, warped and stylised (DATA/real-val). The exported
    # weights are those with the best mean over the sets.
    vals = {}
    for name in ("val", "real-val", "cartoons-val"):
        if (data / name / "y.npy").exists():
            vals[name] = (np.load(data / name / "x.npy").astype(np.float32) / 255.0,
                          np.load(data / name / "y.npy"), np.load(data / name / "kind.npy"))
    print(f"train {len(xs)} generated + {0 if rxs is None else len(rxs)} real + "
          f"{0 if cxs is None else len(cxs)} cartoon crops ({real_batch} real, {cartoon_batch} cartoon "
          f"a batch), validation {[(k, len(v[0])) for k, v in vals.items()]}", flush=True)
    model = net.Landmark68(a.init)
    loss_fn = {"nme": nme, "wing": wing}[a.loss]
    sched = tf.keras.optimizers.schedules.CosineDecay(a.lr, a.steps, alpha=0.01,
                                                      warmup_target=None, warmup_steps=0)
    opt = tf.keras.optimizers.Adam(sched)
    step = tf.Variable(0, dtype=tf.int64)
    best = tf.Variable(np.inf, dtype=tf.float64)
    ckpt = tf.train.Checkpoint(step=step, best=best, opt=opt, **{k.replace("/", "_"): v for k, v in model.vars.items()})
    manager = tf.train.CheckpointManager(ckpt, a.ckpt, max_to_keep=2)
    if manager.latest_checkpoint:
        ckpt.restore(manager.latest_checkpoint)
        print(f"resumed from {manager.latest_checkpoint} at step {int(step.numpy())}", flush=True)
    Path(a.ckpt).mkdir(parents=True, exist_ok=True)
    best_path = Path(a.ckpt) / "best.safetensors"
    log_path = Path(a.ckpt) / "log.jsonl"

    @tf.function(jit_compile=False)
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(loss_fn(model(x), y))
        grads = tape.gradient(loss, model.trainable)
        grads, _ = tf.clip_by_global_norm(grads, 5.0)
        opt.apply_gradients(zip(grads, model.trainable))
        return loss

    @tf.function
    def predict(x):
        return model(x)

    def validate():
        out, means = {}, []
        for name, (vx, vy, vk) in vals.items():
            errs = np.concatenate([nme(predict(vx[i:i + 128]), vy[i:i + 128]).numpy() for i in range(0, len(vx), 128)])
            key = name.replace("-", "_")
            out.update({f"{key}_nme": float(errs.mean()), f"{key}_refined": float(errs[vk == 0].mean()),
                        f"{key}_coarse": float(errs[vk == 1].mean()) if (vk == 1).any() else None,
                        f"{key}_fail": float((errs[vk == 0] > 0.1).mean())})
            if kind is None:
                means.append(float(errs.mean()))
            elif (vk == kind).any():
                means.append(float(errs[vk == kind].mean()))
        out["val_nme"] = float(np.mean(means))
        return out

    if int(step.numpy()) == 0:
        v = validate()
        print("step 0 (shipped net)", json.dumps(v), flush=True)
        with open(log_path, "a") as f:
            f.write(json.dumps({"step": 0, **v}) + "\n")
    t0, losses = time.time(), []
    n = len(xs)
    while int(step.numpy()) < a.steps:
        s = int(step.numpy())
        # The data order is a function of (seed, step): a resumed run sees the same batches.
        pick = np.random.default_rng([a.seed, s])
        idx = np.sort(pick.choice(n, a.batch - real_batch - cartoon_batch, replace=False))
        bx, by = np.asarray(xs[idx]), ys[idx]
        for sx, sy, k in ((rxs, rys, real_batch), (cxs, cys, cartoon_batch)):
            if k:
                sidx = np.sort(pick.choice(len(sx), k, replace=False))
                bx, by = np.concatenate([bx, sx[sidx]]), np.concatenate([by, sy[sidx]])
        x, y = augment(bx, by, [a.seed, s, 1])
        losses.append(float(train_step(x, y).numpy()))
        step.assign_add(1)
        s += 1
        if s % 50 == 0:
            print(f"step {s} loss {np.mean(losses[-50:]):.4f} lr {float(sched(s)):.2e} "
                  f"{(time.time() - t0) / len(losses):.3f} s/step", flush=True)
        if s % a.eval_every == 0 or s == a.steps:
            if not (data / "train/x.npy").exists():
                xs, ys = load_train(data / "train", kind)
                n = len(xs)
                print(f"training crops now {n}", flush=True)
            if real_batch and not (real / "x.npy").exists():
                rxs, rys = load_train(real, kind)
                print(f"real crops now {len(rxs)}", flush=True)
            v = validate()
            print(f"step {s}", json.dumps(v), flush=True)
            with open(log_path, "a") as f:
                f.write(json.dumps({"step": s, "loss": float(np.mean(losses[-a.eval_every:])), **v,
                                    "wall_s": time.time() - t0}) + "\n")
            if v["val_nme"] < best.numpy():
                best.assign(v["val_nme"])
                model.save(str(best_path), {"step": str(s), "val_nme": f"{v['val_nme']:.5f}"})
        if s % a.ckpt_every == 0:
            manager.save()
    manager.save()
    meta = {
        "source": "face-api.js face_landmark_68_model (MIT) fine-tuned by tools/train (FaceShot)",
        "init": os.path.basename(a.init),
        "seed": str(a.seed), "steps": str(a.steps), "batch": str(a.batch), "lr": str(a.lr),
        "real_share": str(a.real_share if real_batch else 0),
        "cartoon_share": str(a.cartoon_share if cartoon_batch else 0),
        "best_val_nme": f"{float(best.numpy()):.5f}",
        "crops": a.crops,
        "loss": a.loss,
    }
    final = net.Landmark68(str(best_path))
    final.save(a.out, meta)
    print("wrote", a.out, meta, flush=True)


if __name__ == "__main__":
    main()
