"""face-api.js's 68-point landmark net in TensorFlow, on the tensors of
`models/landmark68.safetensors`.

The graph is the one `core/src/nn/landmark68.rs` runs (read that file for the why): input a
112×112 RGB crop in [0, 1] minus face-api.js's per-channel mean, four dense blocks (an entry
convolution of stride 2, then three depthwise-separable convolutions each fed the ReLU of the
sum of all earlier outputs), a global average and one fully connected layer giving the 68 points
as fractions of the crop. Padding is TensorFlow's SAME, as in the Rust kernels.

Variables are held in TensorFlow's layouts (HWIO, depthwise HWC1, fc I×O) and converted from and
to the Rust layouts (conv O×kh×kw×I, depthwise 1×kh×kw×C, fc 136×1×1×256) by `load`/`save`,
so a fine-tuned file loads into the Rust net unchanged (same names, shapes and dtypes).
"""
import numpy as np
import tensorflow as tf
from safetensors.numpy import load_file, save_file

SIZE = 112
MEAN_RGB = np.array([122.782, 117.001, 104.298], np.float32) / 255.0


def _to_tf(name, v):
    if name == "fc/Kernel":
        return v.reshape(v.shape[0], -1).T  # 136×1×1×256 → 256×136
    if name.endswith("depthwise/Kernel"):
        return v.transpose(1, 2, 3, 0)  # 1×kh×kw×C → kh×kw×C×1
    if name.endswith("Kernel"):
        return v.transpose(1, 2, 3, 0)  # O×kh×kw×I → kh×kw×I×O
    return v


def _to_rust(name, v):
    if name == "fc/Kernel":
        return v.T.reshape(v.shape[1], 1, 1, v.shape[0])
    if name.endswith("Kernel"):
        return v.transpose(3, 0, 1, 2)
    return v


class Landmark68(tf.Module):
    """The network; `self.vars[name]` are the trainable variables under their Rust names."""

    def __init__(self, path):
        super().__init__()
        raw = load_file(path)
        self.names = sorted(raw)
        self.vars = {
            k: tf.Variable(_to_tf(k, raw[k].astype(np.float32)), name=k.replace("/", "_"))
            for k in self.names
        }

    @property
    def trainable(self):
        # Depthwise biases are zero in the original (face-api.js has none) and the Rust layer
        # loads them; training them too is harmless and keeps the file's layout.
        return [self.vars[k] for k in self.names]

    def _sep(self, name, x, stride):
        v = self.vars
        y = tf.nn.depthwise_conv2d(x, v[f"{name}/depthwise/Kernel"], [1, stride, stride, 1], "SAME")
        y = y + v[f"{name}/depthwise/Bias"]
        y = tf.nn.conv2d(y, v[f"{name}/pointwise/Kernel"], 1, "SAME")
        return y + v[f"{name}/pointwise/Bias"]

    def features(self, x):
        """The 256-channel 7×7 map for a batch `x` (N×112×112×3 in [0, 1])."""
        v = self.vars
        y = x - MEAN_RGB
        for k in range(4):
            pre = f"dense{k}"
            if k == 0:
                o = tf.nn.conv2d(y, v[f"{pre}/conv0/Kernel"], 2, "SAME") + v[f"{pre}/conv0/Bias"]
            else:
                o = self._sep(f"{pre}/conv0", y, 2)
            o = tf.nn.relu(o)
            total, inp = o, o
            for j in (1, 2, 3):
                total = total + self._sep(f"{pre}/conv{j}", inp, 1)
                inp = tf.nn.relu(total)
            y = inp
        return y

    def __call__(self, x):
        """The 68 points (N×68×2, fractions of the crop)."""
        pooled = tf.reduce_mean(self.features(x), axis=[1, 2])
        out = tf.matmul(pooled, self.vars["fc/Kernel"]) + self.vars["fc/Bias"]
        return tf.reshape(out, [-1, 68, 2])

    def save(self, path, metadata=None):
        """Writes the variables under their Rust names and layouts (f32)."""
        arrays = {
            k: np.ascontiguousarray(_to_rust(k, self.vars[k].numpy().astype(np.float32)))
            for k in self.names
        }
        save_file(arrays, path, metadata=metadata or {})
