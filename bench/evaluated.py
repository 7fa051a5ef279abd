"""Reading an evaluate stage's cache entry back, for the scripts beside this one."""
import json, os, sys
from typing import NamedTuple

import numpy as np


def entry(cache, name):
    """The evaluate entry's folder: `name` is the folder itself, or a unique prefix (4 hex digits
    or more) of its fingerprint in `cache`, as `pipeline exp show` names runs."""
    if os.path.isdir(name):
        return name
    folder = os.path.join(cache, "evaluate")
    if len(name) < 4 or not os.path.isdir(folder):
        sys.exit(f"{name}: not an evaluate entry of {cache} (give 4 or more hex digits, or the entry's folder)")
    matches = [d for d in sorted(os.listdir(folder)) if d.startswith(name.lower())]
    if len(matches) != 1:
        sys.exit(f"{name}: {len(matches)} evaluate entries of {cache} start so; expected one")
    return os.path.join(folder, matches[0])


class Judged(NamedTuple):
    """What one evaluate entry judged, its rows in increasing order."""
    parse: str  # the fingerprint of the parse entry whose labels these are
    rows: np.ndarray  # the labelled rows, as indices into train.csv
    labels: np.ndarray
    probabilities: np.ndarray  # one row of class probabilities per judged row
    metrics: dict  # the entry's metrics.json

    @property
    def right(self):
        return self.probabilities.argmax(axis=1) == self.labels

    def same_rows(self, other):
        return self.parse == other.parse and np.array_equal(self.rows, other.rows)


def judged(path):
    """The entry at `path`, judged; the labels come from the parse entry it read, in the same
    cache, through its validation_rows.npy."""
    with open(os.path.join(path, "manifest.json")) as f:
        manifest = json.load(f)
    with open(os.path.join(path, "metrics.json")) as f:
        metrics = json.load(f)
    parse = manifest["inputs"]["parse"]
    cache = os.path.dirname(os.path.dirname(os.path.abspath(path)))
    labels = np.load(os.path.join(cache, "parse", parse, "train_labels.npy"))
    rows = np.load(os.path.join(path, "validation_rows.npy"))
    probabilities = np.load(os.path.join(path, "validation_probabilities.npy"))
    if probabilities.shape != (len(rows), 10):
        sys.exit(f"{path}: validation_probabilities.npy is {probabilities.shape}, expected ({len(rows)}, 10)")
    order = np.argsort(rows, kind="stable")
    return Judged(parse, rows[order], labels[rows[order]], probabilities[order], metrics)
