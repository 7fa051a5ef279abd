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

from evaluated import entry, judged


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", default="output/cache")
    parser.add_argument("a", metavar="A")
    parser.add_argument("b", metavar="B")
    arguments = parser.parse_args()
    names, runs = [], []
    for name in (arguments.a, arguments.b):
        path = entry(arguments.cache, name)
        names.append(os.path.basename(path)[:12])
        runs.append(judged(path))
    if not runs[0].same_rows(runs[1]):
        sys.exit(f"{names[0]} and {names[1]} were judged on different rows; nothing to compare row by row")

    for name, run in zip(names, runs):
        folds = run.metrics.get("fold_accuracies")
        per_fold = "  folds " + " ".join(f"{100 * a:.2f}%" for a in folds) if folds else ""
        print(f"{name}  {int((~run.right).sum())} errors of {len(run.rows)}  {100 * run.right.mean():.2f}%{per_fold}")
    right_a, right_b = runs[0].right, runs[1].right
    gained = int((right_b & ~right_a).sum())
    lost = int((right_a & ~right_b).sum())
    z = (gained - lost) / math.sqrt(gained + lost) if gained + lost else 0.0
    print(f"{names[1]} against {names[0]}: {gained} rows gained, {lost} lost, McNemar z = {z:.1f}")

if __name__ == "__main__":
    main()
