#!/usr/bin/env python3
"""Two evaluated runs compared row by row: which labelled rows only one of them gets right.

Usage: bench/compare_rows.py [--cache output/cache] A B

A and B are evaluate entries, named as `pipeline exp show` names runs: a unique prefix (4 hex
digits or more) of the entry's fingerprint, or the entry's folder. Both must have been judged on
the same rows of the same parse entry (two settings of one hold-out split, or two fold runs,
whose out-of-fold rows are all the labelled ones).

Prints each run's errors and per-fold accuracies, the rows gained (B right, A wrong) and lost
(A right, B wrong), and McNemar's z = (gained - lost) / sqrt(gained + lost): of the rows where
the two disagree, how far the split is from even. Two settings differ on few rows, so this tells
more than the two accuracies side by side; |z| near 2 or above is a difference, and after
several looks the best z overstates its setting.
"""
import argparse, math, os, sys

import numpy as np

from evaluated import entry, judged


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", default="output/cache")
    parser.add_argument("a", metavar="A")
    parser.add_argument("b", metavar="B")
    arguments = parser.parse_args()
    runs = []
    for name in (arguments.a, arguments.b):
        path = entry(arguments.cache, name)
        parse, rows, labels, probabilities, metrics = judged(path)
        runs.append((os.path.basename(path)[:12], parse, rows, probabilities.argmax(axis=1) == labels, metrics))
    (name_a, parse_a, rows_a, right_a, metrics_a), (name_b, parse_b, rows_b, right_b, metrics_b) = runs
    if parse_a != parse_b or not np.array_equal(rows_a, rows_b):
        sys.exit(f"{name_a} and {name_b} were judged on different rows; nothing to compare row by row")

    for name, right, metrics in ((name_a, right_a, metrics_a), (name_b, right_b, metrics_b)):
        folds = metrics.get("fold_accuracies")
        per_fold = "  folds " + " ".join(f"{100 * a:.2f}%" for a in folds) if folds else ""
        print(f"{name}  {int((~right).sum())} errors of {len(right)}  {100 * right.mean():.2f}%{per_fold}")
    gained = int((right_b & ~right_a).sum())
    lost = int((right_a & ~right_b).sum())
    z = (gained - lost) / math.sqrt(gained + lost) if gained + lost else 0.0
    print(f"{name_b} against {name_a}: {gained} rows gained, {lost} lost, McNemar z = {z:.1f}")


if __name__ == "__main__":
    main()
