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
The PyTorch side needs a Python with torch and pandas; shared/bench/README.md says how to make one
(`python3 -m venv /tmp/torch-ref && /tmp/torch-ref/bin/pip install torch pandas`). Rows whose
reference is missing are reported as skipped.
"""
import argparse, json, os, re, subprocess, sys, tempfile, zipfile

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

    rows = []  # (what, ours seconds, reference name, reference seconds, target ratio, note)
    wanted = set(args.only or ["parse", "seed", "mlp", "cnn"])

    if "parse" in wanted:
        parse = json_line(ours + ["parse", train_csv, test_csv], env)
        pandas = json_line([args.torch_python, os.path.join(HERE, "reference_parse.py"), train_csv, test_csv],
                           env) if have_torch else None
        rows.append(("parse train.csv + test.csv", parse["seconds"], "pandas.read_csv",
                     pandas["seconds"] if pandas else None, 0.20, ""))

    if "seed" in wanted:
        seed = json_line(ours + ["seed", train_csv], env)
        numpy_seed = json_line([sys.executable, os.path.join(HERE, "numpy_seed.py"), train_csv], env)
        rows.append(("seed network, 500 full-batch iterations", seed["seconds"], "numpy (notebook)",
                     numpy_seed["seconds"], 0.25,
                     f"dev accuracy {seed['validation_accuracy']:.3f} vs {numpy_seed['validation_accuracy']:.3f}"))

    if "mlp" in wanted:
        mlp = json_line(ours + ["mlp", train_csv, str(args.epochs)], env)
        theirs = torch_epoch(args.torch_python, "mlp", train_csv, args.epochs, args.threads, env) if have_torch else (None, None)
        rows.append(("MLP 784-800-10, one epoch, batch 128, Adam", mlp["epoch_seconds_median"], "PyTorch", theirs[0], 0.50,
                     f"val accuracy {mlp['validation_accuracy']:.4f}" + (f" vs {theirs[1]:.4f}" if theirs[1] else "")))

    if "cnn" in wanted:
        cnn = json_line(ours + ["cnn", train_csv, test_csv, str(args.epochs)], env)
        theirs = torch_epoch(args.torch_python, "cnn", train_csv, args.epochs, args.threads, env) if have_torch else (None, None)
        rows.append(("CNN (reference shape), one epoch, batch 128, Adam", cnn["epoch_seconds_median"], "PyTorch",
                     theirs[0], 0.70,
                     f"val accuracy {cnn['validation_accuracy']:.4f}" + (f" vs {theirs[1]:.4f}" if theirs[1] else "")))
        predict = json_line([args.torch_python, os.path.join(HERE, "torch_predict.py"), test_csv, str(args.threads)],
                            env) if have_torch else None
        rows.append(("predict 28,000 rows with the CNN", cnn["predict_seconds"], "PyTorch inference",
                     predict["seconds"] if predict else None, 0.60, ""))

    print("| what | digits (s) | reference | reference (s) | ratio | must be at most | verdict | note |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for what, mine, name, theirs, target, note in rows:
        if theirs is None:
            print(f"| {what} | {mine:.3f} | {name} | skipped (not installed) | | {target:.2f} | | {note} |")
            continue
        ratio = mine / theirs
        verdict = "ok" if ratio <= target else "MISSED"
        print(f"| {what} | {mine:.3f} | {name} | {theirs:.3f} | {ratio:.2f} | {target:.2f} | {verdict} | {note} |")


if __name__ == "__main__":
    main()
