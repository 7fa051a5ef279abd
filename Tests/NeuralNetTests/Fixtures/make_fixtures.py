#!/usr/bin/env python3
"""Golden fixtures for NeuralNetTests, computed with numpy in float64 from float32 inputs.

Run from anywhere:  python3 Tests/NeuralNetTests/Fixtures/make_fixtures.py
Writes one directory per case next to this script:

  <case>/manifest.json   {"layers": [...ModelSpec layers...], "labels": [...], "loss": float,
                          "learning_rate": float, "arrays": {name: shape}}
  <case>/<name>.bin      raw little-endian float32, row-major, for every name in "arrays"

Array names: "x" (batch, 784), "logits" (batch, 10), "dlogits" (batch, 10),
"layer<i>.weight" (in, out) and "layer<i>.bias" (out) as in Sequential.namedParameters,
"grad.<param>" the gradient of the mean cross-entropy, "sgd.<param>" after one SGD step
p - lr * grad. The "cnn" case adds "input_shape" to the manifest (see make_cnn_case), and
layers/<case>/ holds single-layer cases for conv2d, maxpool2d, batchnorm and globalavgpool (see write_case).
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def mnist_like(rng, n):
    # Pixels scaled to [0, 1) with ~80% background zeros, like normalised MNIST rows.
    x = rng.random((n, 784))
    x[rng.random((n, 784)) < 0.8] = 0.0
    return x.astype(np.float32)


def make_case(name, layers, init, batch, lr, seed):
    rng = np.random.default_rng(seed)
    x = mnist_like(rng, batch)
    labels = rng.integers(0, 10, size=batch)
    params = {}
    width = 784
    for i, layer in enumerate(layers):
        if isinstance(layer, dict):
            units = layer["dense"]
            if init == "uniform":  # the notebook's np.random.rand(..) - 0.5
                w = rng.random((width, units)) - 0.5
                b = rng.random(units) - 0.5
            else:  # Kaiming-uniform, small random biases so the bias path is exercised
                bound = np.sqrt(6.0 / width)
                w = rng.uniform(-bound, bound, (width, units))
                b = rng.uniform(-0.1, 0.1, units)
            params[f"layer{i}.weight"] = w.astype(np.float32)
            params[f"layer{i}.bias"] = b.astype(np.float32)
            width = units

    # Forward in float64, keeping each layer's input.
    h = x.astype(np.float64)
    inputs = []
    for i, layer in enumerate(layers):
        inputs.append(h)
        if isinstance(layer, dict):
            h = h @ params[f"layer{i}.weight"].astype(np.float64) + params[f"layer{i}.bias"]
        else:
            h = np.maximum(h, 0.0)
    logits = h
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -logp[np.arange(batch), labels].mean()
    g = (np.exp(logp) - np.eye(10)[labels]) / batch
    dlogits = g

    grads = {}
    for i in reversed(range(len(layers))):
        layer, a = layers[i], inputs[i]
        if isinstance(layer, dict):
            w = params[f"layer{i}.weight"].astype(np.float64)
            grads[f"layer{i}.weight"] = a.T @ g
            grads[f"layer{i}.bias"] = g.sum(axis=0)
            g = g @ w.T
        else:
            g = g * (a > 0)

    arrays = {"x": x, "logits": logits, "dlogits": dlogits}
    for k, v in params.items():
        arrays[k] = v
        arrays[f"grad.{k}"] = grads[k]
        arrays[f"sgd.{k}"] = v.astype(np.float64) - lr * grads[k]

    out = os.path.join(HERE, name)
    os.makedirs(out, exist_ok=True)
    for k, v in arrays.items():
        np.asarray(v, dtype="<f4").tofile(os.path.join(out, f"{k}.bin"))
    manifest = {
        "layers": layers,
        "init": init,
        "labels": [int(v) for v in labels],
        "loss": float(loss),
        "learning_rate": lr,
        "arrays": {k: list(np.shape(v)) for k, v in arrays.items()},
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


# (a) the seed network of the numpy notebook: 784-10-ReLU-10, uniform init, lr 0.1
make_case("seed", [{"dense": 10}, "relu", {"dense": 10}], "uniform", batch=8, lr=0.1, seed=20240501)
# (b) a two-hidden-layer MLP: 784-32-ReLU-16-ReLU-10
make_case("mlp", [{"dense": 32}, "relu", {"dense": 16}, "relu", {"dense": 10}], "he", batch=8, lr=0.1, seed=20240502)


# ---------------------------------------------------------------------------------------------
# Convolutional layers, computed the slow obvious way: loops over output positions, one window
# at a time, float64 throughout. Layer cases are written as
#
#   layers/<case>/manifest.json  {"layer": LayerSpec JSON, "arrays": {name: shape}}
#   layers/<case>/<name>.bin     raw little-endian float32
#
# with "x", "y" (training forward), "dy" (an arbitrary upstream gradient), "dx" and, per
# parameter, "<param>" and "grad.<param>"; batch norm adds the running statistics before
# ("running_mean", "running_var") and after ("after.running_mean", "after.running_var") the
# training forward, and "y_inference" computed from the running statistics before it.


def conv2d_forward(x, w, b, pad, stride):
    n, c, h, wd = x.shape
    f, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
    y = np.zeros((n, f, ho, wo))
    for i in range(ho):
        for j in range(wo):
            window = xp[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            y[:, :, i, j] = np.einsum("nchw,fchw->nf", window, w) + b
    return y


def conv2d_backward(x, w, pad, stride, dy):
    n, c, h, wd = x.shape
    f, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for i in range(dy.shape[2]):
        for j in range(dy.shape[3]):
            window = xp[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            g = dy[:, :, i, j]
            dw += np.einsum("nf,nchw->fchw", g, window)
            dxp[:, :, i * stride:i * stride + k, j * stride:j * stride + k] += np.einsum("nf,fchw->nchw", g, w)
    return dxp[:, :, pad:pad + h, pad:pad + wd], dw, dy.sum(axis=(0, 2, 3))


def maxpool_forward(x, size):
    n, c, h, w = x.shape
    ho, wo = h // size, w // size
    y = np.zeros((n, c, ho, wo))
    where = {}
    for a in range(n):
        for ch in range(c):
            for i in range(ho):
                for j in range(wo):
                    window = x[a, ch, i * size:(i + 1) * size, j * size:(j + 1) * size]
                    r, s = np.unravel_index(np.argmax(window), window.shape)  # first maximum
                    y[a, ch, i, j] = window[r, s]
                    where[(a, ch, i, j)] = (i * size + r, j * size + s)
    return y, where


def maxpool_backward(x_shape, where, dy):
    dx = np.zeros(x_shape)
    for (a, ch, i, j), (r, s) in where.items():
        dx[a, ch, r, s] += dy[a, ch, i, j]
    return dx


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1, 1)
    mu = x.mean(axis=axes)
    var = ((x - mu.reshape(shape)) ** 2).mean(axis=axes)
    xhat = (x - mu.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return gamma.reshape(shape) * xhat + beta.reshape(shape), (x, mu, var, eps, axes, shape)


def batchnorm_backward(cache, gamma, dy):
    # The chain rule one node at a time (mean, centring, variance, scaling), not the fused formula.
    x, mu, var, eps, axes, shape = cache
    m = x.size // mu.size
    xc = x - mu.reshape(shape)
    std = np.sqrt(var.reshape(shape) + eps)
    xhat = xc / std
    dgamma = (dy * xhat).sum(axis=axes)
    dbeta = dy.sum(axis=axes)
    dxhat = dy * gamma.reshape(shape)
    dstd = -(dxhat * xc / std ** 2).sum(axis=axes).reshape(shape)
    dvar = dstd / (2 * std)
    dxc = dxhat / std + dvar * 2 * xc / m
    dmu = -dxc.sum(axis=axes).reshape(shape)
    return dxc + dmu / m, dgamma, dbeta


def write_case(path, manifest, arrays):
    os.makedirs(path, exist_ok=True)
    for k, v in arrays.items():
        np.asarray(v, dtype="<f4").tofile(os.path.join(path, f"{k}.bin"))
    manifest = dict(manifest, arrays={k: list(np.shape(v)) for k, v in arrays.items()})
    with open(os.path.join(path, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def make_conv_case(name, x_shape, filters, kernel, pad, stride, seed):
    rng = np.random.default_rng(seed)
    x = f32(rng.uniform(-1, 1, x_shape))
    w = f32(rng.uniform(-0.5, 0.5, (filters, x_shape[1], kernel, kernel)))
    b = f32(rng.uniform(-0.1, 0.1, filters))
    y = conv2d_forward(x, w, b, pad, stride)
    dy = f32(rng.uniform(-1, 1, y.shape))
    dx, dw, db = conv2d_backward(x, w, pad, stride, dy)
    layer = {"conv2d": {"filters": filters, "kernel": kernel, "padding": pad, "stride": stride}}
    write_case(os.path.join(HERE, "layers", name), {"layer": layer},
               {"x": x, "weight": w, "bias": b, "y": y, "dy": dy, "dx": dx, "grad.weight": dw, "grad.bias": db})


def make_maxpool_case(name, x_shape, size, seed):
    rng = np.random.default_rng(seed)
    x = f32(rng.permutation(int(np.prod(x_shape))).reshape(x_shape) * 0.01 - 0.5)  # no ties
    y, where = maxpool_forward(x, size)
    dy = f32(rng.uniform(-1, 1, y.shape))
    write_case(os.path.join(HERE, "layers", name), {"layer": {"maxpool2d": size}},
               {"x": x, "y": y, "dy": dy, "dx": maxpool_backward(x.shape, where, dy)})


def make_batchnorm_case(name, x_shape, seed):
    rng = np.random.default_rng(seed)
    c = x_shape[1]
    x = f32(rng.uniform(-1, 3, x_shape))
    gamma, beta = f32(rng.uniform(0.5, 1.5, c)), f32(rng.uniform(-0.5, 0.5, c))
    running_mean, running_var = f32(rng.uniform(-0.2, 0.2, c)), f32(rng.uniform(0.5, 2, c))
    y, cache = batchnorm_forward(x, gamma, beta)
    dy = f32(rng.uniform(-1, 1, y.shape))
    dx, dgamma, dbeta = batchnorm_backward(cache, gamma, dy)
    _, mu, var, eps, _, shape = cache
    m = x.size // c
    after_mean = 0.9 * running_mean + 0.1 * mu
    after_var = 0.9 * running_var + 0.1 * var * m / (m - 1)  # torch: unbiased running estimate
    y_inference = (gamma.reshape(shape) * (x - running_mean.reshape(shape)) / np.sqrt(running_var.reshape(shape) + eps)
                   + beta.reshape(shape))
    write_case(os.path.join(HERE, "layers", name), {"layer": "batchnorm"},
               {"x": x, "weight": gamma, "bias": beta, "running_mean": running_mean, "running_var": running_var,
                "y": y, "dy": dy, "dx": dx, "grad.weight": dgamma, "grad.bias": dbeta,
                "after.running_mean": after_mean, "after.running_var": after_var, "y_inference": y_inference})


def make_global_avgpool_case(name, x_shape, seed):
    rng = np.random.default_rng(seed)
    x = f32(rng.uniform(-1, 1, x_shape))
    n, c, h, w = x_shape
    y = x.astype(np.float64).mean(axis=(2, 3))
    dy = f32(rng.uniform(-1, 1, (n, c)))
    dx = np.broadcast_to(dy.astype(np.float64)[:, :, None, None] / (h * w), x_shape)
    write_case(os.path.join(HERE, "layers", name), {"layer": "globalavgpool"}, {"x": x, "y": y, "dy": dy, "dx": dx})


make_conv_case("conv_same", (2, 3, 7, 7), filters=4, kernel=3, pad=1, stride=1, seed=20240601)
make_conv_case("conv_stride2", (2, 3, 8, 7), filters=5, kernel=3, pad=1, stride=2, seed=20240602)
make_conv_case("conv_valid5", (3, 2, 9, 8), filters=3, kernel=5, pad=0, stride=1, seed=20240603)
make_maxpool_case("maxpool", (2, 3, 6, 7), size=2, seed=20240604)
make_batchnorm_case("batchnorm2d", (4, 3, 5, 5), seed=20240605)
make_batchnorm_case("batchnorm1d", (6, 5), seed=20240606)
make_global_avgpool_case("globalavgpool", (3, 4, 5, 6), seed=20240607)


# A small CNN as a Sequential case (same manifest as "seed"/"mlp" plus input_shape): 1×8×8 images,
# conv(4, 3×3, same) → ReLU → batch norm (training statistics) → 2×2 max pool → flatten → dense 10.
# "running.<name>" are the batch norm's running statistics after the training forward.
def make_cnn_case(name, batch, lr, seed):
    rng = np.random.default_rng(seed)
    x = f32(rng.random((batch, 64)))
    labels = rng.integers(0, 10, size=batch)
    w0 = f32(rng.uniform(-np.sqrt(6 / 9), np.sqrt(6 / 9), (4, 1, 3, 3)))
    b0 = f32(rng.uniform(-0.1, 0.1, 4))
    g2, be2 = f32(rng.uniform(0.5, 1.5, 4)), f32(rng.uniform(-0.2, 0.2, 4))
    rm2, rv2 = np.zeros(4), np.ones(4)
    w5 = f32(rng.uniform(-np.sqrt(6 / 64), np.sqrt(6 / 64), (64, 10)))
    b5 = f32(rng.uniform(-0.1, 0.1, 10))

    a0 = x.reshape(batch, 1, 8, 8)
    z0 = conv2d_forward(a0, w0, b0, 1, 1)
    r1 = np.maximum(z0, 0)
    n2, cache = batchnorm_forward(r1, g2, be2)
    p3, where = maxpool_forward(n2, 2)
    f4 = p3.reshape(batch, -1)
    logits = f4 @ w5 + b5
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -logp[np.arange(batch), labels].mean()
    dlogits = (np.exp(logp) - np.eye(10)[labels]) / batch

    grads = {"layer5.weight": f4.T @ dlogits, "layer5.bias": dlogits.sum(axis=0)}
    df4 = dlogits @ w5.T
    dn2 = maxpool_backward(n2.shape, where, df4.reshape(p3.shape))
    dr1, grads["layer2.weight"], grads["layer2.bias"] = batchnorm_backward(cache, g2, dn2)
    dz0 = dr1 * (z0 > 0)
    _, grads["layer0.weight"], grads["layer0.bias"] = conv2d_backward(a0, w0, 1, 1, dz0)

    _, mu, var, _, _, _ = cache
    m = batch * 64
    params = {"layer0.weight": w0, "layer0.bias": b0, "layer2.weight": g2, "layer2.bias": be2,
              "layer5.weight": w5, "layer5.bias": b5}
    arrays = {"x": x, "logits": logits, "dlogits": dlogits,
              "layer2.running_mean": rm2, "layer2.running_var": rv2,
              "running.layer2.running_mean": 0.9 * rm2 + 0.1 * mu,
              "running.layer2.running_var": 0.9 * rv2 + 0.1 * var * m / (m - 1)}
    for k, v in params.items():
        arrays[k] = v
        arrays[f"grad.{k}"] = grads[k]
        arrays[f"sgd.{k}"] = v - lr * grads[k]
    layers = [{"conv2d": {"filters": 4, "kernel": 3, "padding": 1, "stride": 1}}, "relu", "batchnorm",
              {"maxpool2d": 2}, "flatten", {"dense": 10}]
    write_case(os.path.join(HERE, name),
               {"layers": layers, "init": "he", "input_shape": [1, 8, 8], "labels": [int(v) for v in labels],
                "loss": float(loss), "learning_rate": lr}, arrays)


make_cnn_case("cnn", batch=2, lr=0.1, seed=20240607)
