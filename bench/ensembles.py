#!/usr/bin/env python3
"""Validation errors of every ensemble that can be made from separately trained networks, so
one can see whether another member (or another kind of member) would pay for its training.

Usage: bench/ensembles.py [--min-members 2] NAME=EVALUATE_DIR ...

Each EVALUATE_DIR is an evaluate stage's cache entry (OUTPUT/cache/evaluate/<fingerprint>) of one
network, made with `pipeline run --model MODEL.npz --stage evaluate` or by a single-network
pipeline; its validation_probabilities.npy holds one row of class probabilities per validation
image. All of them must have been judged on the same rows: each entry's labels are read from
the parse entry it read (in the same cache) through its validation_rows.npy, and the script
refuses members judged on other rows. Prints each network's errors, then for every combination
of at least --min-members networks the errors when their probabilities are averaged (what the
pipeline's ensembles do), when their log-probabilities are summed, and by majority vote (ties to
the averaged probabilities); then how many images defeat every network, and how many defeat at
least one.
"""
import argparse, itertools, sys

import numpy as np

from evaluated import judged


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--min-members", type=int, default=2)
    parser.add_argument("members", nargs="+", metavar="NAME=EVALUATE_DIR")
    args = parser.parse_args()

    probabilities, first = {}, None
    for member in args.members:
        name, separator, directory = member.partition("=")
        if not separator:
            sys.exit(f"{member}: expected NAME=EVALUATE_DIR")
        run = judged(directory)
        first = first or run
        if not run.same_rows(first):
            sys.exit(f"{name}: judged on other rows than the first member")
        probabilities[name] = run.probabilities
    labels = first.labels

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
