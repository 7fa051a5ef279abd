#!/usr/bin/env python3
"""make bench, part 2: this project beside the references a user would pick instead, in one run
on the same machine and threads, as ratios.

| what | reference |
| --- | --- |
| parse train.csv + test.csv | pandas.read_csv |
| seed network, 500 full-batch iterations | numpy, the original notebook's maths |
| MLP 784-800-10, one epoch, batch 128, Adam | PyTorch (shared/bench/torch_reference.py) |
| CNN 32c3-32c3-pool-64c3-64c3-pool-256-10, BN, dropout, one epoch | PyTorch (same) |
| predict 28,000 rows with that CNN | PyTorch inference (bench/torch_predict.py) |

Usage: bench/compare.py [--bench .build/release/digits-bench] [--input input/digit-recognizer.zip]
                        [--torch-python /tmp/torch-ref/bin/python] [--threads 2]
                        [--rounds 3] [--cnn-rounds 1] [--only parse seed mlp cnn]
Each row runs both sides `--rounds` times (the CNN rows `--cnn-rounds`), alternated, and compares
their medians; the note gives the spread of the rounds' own ratios.
The PyTorch side needs a Python with torch and pandas; shared/bench/README.md says how to make one
(`python3 -m venv /tmp/torch-ref && /tmp/torch-ref/bin/pip install torch pandas`). Rows whose
reference is missing are reported as skipped.
"""
import argparse, json, os, re, statistics, subprocess, sys, tempfile, zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_BENCH = os.path.join(HERE, "..", "..", "shared", "bench")


def json_line(command, env):
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(output.strip().splitlines()[-1])


def torch_epoch(torch_python, kind, train_csv, epochs, threads, env):
    output = subprocess.run(
        [torch_python, os.path.join(SHARED_BENCH, "torch_reference.py"), train_csv, kind, str(epochs), str(threads)],
        check=True, capture_output=True, text=True, env=env).stdout
    match = re.search(r"epoch_s_median=([0-9.]+).*val_acc=([0-9.]+)", output)
    return float(match.group(1)), float(match.group(2))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", default=".build/release/digits-bench")
    parser.add_argument("--input", default="input/digit-recognizer.zip")
    parser.add_argument("--torch-python", default="/tmp/torch-ref/bin/python")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per network; the median is compared")
    parser.add_argument("--rounds", type=int, default=3,
                        help="times each of the parse, seed and MLP rows runs on both sides, alternated; medians compared")
    parser.add_argument("--cnn-rounds", type=int, default=1, help="the same for the CNN and predict rows (about 4 minutes a round)")
    parser.add_argument("--only", nargs="*", default=None, help="rows to run: parse seed mlp cnn")
    args = parser.parse_args()

    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads))
    have_torch = os.path.exists(args.torch_python)
    folder = tempfile.mkdtemp(prefix="digits-compare-")
    with zipfile.ZipFile(args.input) as archive:
        archive.extract("train.csv", folder)
        archive.extract("test.csv", folder)
    train_csv, test_csv = os.path.join(folder, "train.csv"), os.path.join(folder, "test.csv")
    ours = [args.bench]

    # What every figure below rests on: the CPU, and the kernels digits-bench runs (it restarts on
    # better ones, as `pipeline run` does, when OpenBLAS fell back to generic kernels).
    machine = json_line(ours + ["doctor"], env)
    print(f"CPU: {machine['cpu']}; {machine['vectorExtensions']}")
    print(f"digits: {machine['openBLAS']}; kernels {machine['kernel']} ({machine['kernelReason']}); "
          f"{machine['threads']} workers; Swift {machine['swift']}, compiled for {machine['compiledFor']}")
    print(f"references: {args.threads} threads; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print()

    rows = []  # (what, ours seconds per round, reference name, reference seconds per round, target ratio, note)
    wanted = set(args.only or ["parse", "seed", "mlp", "cnn"])

    def alternate(rounds, mine, reference, available=have_torch):
        """Each side `rounds` times, alternated, so that a machine that slows down or speeds up
        during the run weighs on both sides alike. Both sides' results, round by round; the
        reference's is None when it is not installed."""
        ours_runs, theirs_runs = [], []
        for _ in range(rounds):
            ours_runs.append(mine())
            if available:
                theirs_runs.append(reference())
        return ours_runs, theirs_runs if available else None

    if "parse" in wanted:
        parse, pandas = alternate(
            args.rounds,
            lambda: json_line(ours + ["parse", train_csv, test_csv], env),
            lambda: json_line([args.torch_python, os.path.join(HERE, "reference_parse.py"), train_csv, test_csv], env))
        rows.append(("parse train.csv + test.csv", [r["seconds"] for r in parse], "pandas.read_csv",
                     [r["seconds"] for r in pandas] if pandas else None, 0.20, ""))

    if "seed" in wanted:
        seed, numpy_seed = alternate(
            args.rounds, lambda: json_line(ours + ["seed", train_csv], env),
            lambda: json_line([sys.executable, os.path.join(HERE, "numpy_seed.py"), train_csv], env), available=True)
        rows.append(("seed network, 500 full-batch iterations", [r["seconds"] for r in seed], "numpy (notebook)",
                     [r["seconds"] for r in numpy_seed], 0.25,
                     f"dev accuracy {seed[0]['validation_accuracy']:.3f} vs {numpy_seed[0]['validation_accuracy']:.3f}"))

    if "mlp" in wanted:
        mlp, theirs = alternate(
            args.rounds, lambda: json_line(ours + ["mlp", train_csv, str(args.epochs)], env),
            lambda: torch_epoch(args.torch_python, "mlp", train_csv, args.epochs, args.threads, env))
        rows.append(("MLP 784-800-10, one epoch, batch 128, Adam", [r["epoch_seconds_median"] for r in mlp], "PyTorch",
                     [t[0] for t in theirs] if theirs else None, 0.50,
                     f"val accuracy {mlp[0]['validation_accuracy']:.4f}" + (f" vs {theirs[0][1]:.4f}" if theirs else "")))

    if "cnn" in wanted:
        cnn, theirs = alternate(
            args.cnn_rounds, lambda: json_line(ours + ["cnn", train_csv, test_csv, str(args.epochs)], env),
            lambda: torch_epoch(args.torch_python, "cnn", train_csv, args.epochs, args.threads, env))
        rows.append(("CNN (reference shape), one epoch, batch 128, Adam", [r["epoch_seconds_median"] for r in cnn],
                     "PyTorch", [t[0] for t in theirs] if theirs else None, 0.70,
                     f"val accuracy {cnn[0]['validation_accuracy']:.4f}" + (f" vs {theirs[0][1]:.4f}" if theirs else "")))
        predict = [json_line([args.torch_python, os.path.join(HERE, "torch_predict.py"), test_csv, str(args.threads)], env)
                   for _ in range(args.cnn_rounds)] if have_torch else None
        rows.append(("predict 28,000 rows with the CNN", [r["predict_seconds"] for r in cnn], "PyTorch inference",
                     [r["seconds"] for r in predict] if predict else None, 0.60, ""))

    print("| what | digits (s) | reference | reference (s) | ratio | must be at most | verdict | note |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for what, mine, name, theirs, target, note in rows:
        if theirs is None:
            print(f"| {what} | {statistics.median(mine):.3f} | {name} | skipped (not installed) | | {target:.2f} | | {note} |")
            continue
        # Medians over the rounds; with more than one round, the spread of the rounds' ratios.
        ratio = statistics.median(mine) / statistics.median(theirs)
        verdict = "ok" if ratio <= target else "MISSED"
        rounds = [m / t for m, t in zip(mine, theirs)]
        spread = f"rounds {min(rounds):.2f}-{max(rounds):.2f}" if len(rounds) > 1 else ""
        note = "; ".join(part for part in (spread, note) if part)
        print(f"| {what} | {statistics.median(mine):.3f} | {name} | {statistics.median(theirs):.3f} | {ratio:.2f} | "
              f"{target:.2f} | {verdict} | {note} |")


if __name__ == "__main__":
    main()
