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
p - lr * grad.
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
