#!/usr/bin/env python3
"""Validation errors of every ensemble that can be made from separately trained networks, so
one can see whether another member (or another kind of member) would pay for its training.

Usage: bench/ensembles.py [--min-members 2] NAME=EVALUATE_DIR ...

Each EVALUATE_DIR is an evaluate stage's cache entry (OUTPUT/cache/evaluate/<fingerprint>) of one
network, made with `pipeline run --model MODEL.npz --stage evaluate` or by a single-network
pipeline; its validation_probabilities.npy holds one row of class probabilities per validation
image. All of them must come from the same split: the validation labels are read from the split
and parse entries in the same cache, and the script refuses members whose cache holds another
split. Prints each network's errors, then for every combination of at least --min-members
networks the errors when their probabilities are averaged (what the pipeline's ensembles do),
when their log-probabilities are summed, and by majority vote (ties to the averaged
probabilities); then how many images defeat every network, and how many defeat at least one.
"""
import argparse, glob, itertools, os, sys

import numpy as np


def only(pattern):
    matches = glob.glob(pattern)
    if len(matches) != 1:
        sys.exit(f"expected one match for {pattern}, found {len(matches)}")
    return matches[0]


def validation_labels(evaluate_dir):
    """The labels of the validation rows, from the parse and split entries beside the member."""
    cache = os.path.dirname(os.path.dirname(os.path.abspath(evaluate_dir)))
    labels = np.load(only(os.path.join(cache, "parse", "*", "train_labels.npy")))
    indices = np.load(only(os.path.join(cache, "split", "*", "validation_indices.npy")))
    return labels[indices]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--min-members", type=int, default=2)
    parser.add_argument("members", nargs="+", metavar="NAME=EVALUATE_DIR")
    args = parser.parse_args()

    probabilities, labels = {}, None
    for member in args.members:
        name, separator, directory = member.partition("=")
        if not separator:
            sys.exit(f"{member}: expected NAME=EVALUATE_DIR")
        member_labels = validation_labels(directory)
        if labels is not None and not np.array_equal(labels, member_labels):
            sys.exit(f"{name}: its validation split differs from the first member's")
        labels = member_labels
        p = np.load(os.path.join(directory, "validation_probabilities.npy"))
        if p.shape != (len(labels), 10):
            sys.exit(f"{name}: validation_probabilities.npy is {p.shape}, expected ({len(labels)}, 10)")
        probabilities[name] = p

    def errors(scores):
        return int((scores.argmax(1) != labels).sum())

    print(f"{len(labels)} validation images")
    for name, p in probabilities.items():
        print(f"{name}: {errors(p)} errors ({100 * (1 - errors(p) / len(labels)):.2f}%)")
    print("members | averaged | log-probabilities summed | majority vote")
    for size in range(max(1, args.min_members), len(probabilities) + 1):
        for combination in itertools.combinations(probabilities, size):
            mean = sum(probabilities[name] for name in combination) / size
            log_sum = sum(np.log(np.maximum(probabilities[name], 1e-30)) for name in combination)
            votes = sum(np.eye(10)[probabilities[name].argmax(1)] for name in combination)
            # Ties in the vote go to the averaged probabilities (always below one vote).
            print(f"{'+'.join(combination)} | {errors(mean)} | {errors(log_sum)} | {errors(votes + mean / 2)}")
    wrong = [set(np.nonzero(p.argmax(1) != labels)[0]) for p in probabilities.values()]
    print(f"defeat every network: {len(set.intersection(*wrong))}; defeat at least one: {len(set.union(*wrong))}")


if __name__ == "__main__":
    main()
