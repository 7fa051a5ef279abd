#!/usr/bin/env python3
"""Runs each shipped pipeline from an empty cache on the real dataset and prints, per pipeline,
the validation accuracy, the seconds each stage took and the process's peak memory, as a
Markdown table.

Usage: bench/pipelines.py [--binary .build/release/pipeline] [--input input/digit-recognizer.zip]
                          [--threads N] [PIPELINE.yaml ...]

Figures come from the cache entries' manifests (each records its stage's run time) and from the
evaluate stage's metrics.json, so they are the pipeline's own measurements, not a wrapper's (with
cross-validation the accuracy is out of fold, over every labelled row). An ensemble's train stages
(train, train.2, ...) are summed in the train column, and a cross-validation's splits in split. Peak memory is the
pipeline process's maximum resident set size, from wait4(2).
"""
import argparse, glob, json, os, shutil, subprocess, sys, tempfile, time

STAGES = ["unpack", "parse", "split", "normalise", "train", "evaluate", "predict", "report"]


def run(binary, pipeline, data, threads):
    output = tempfile.mkdtemp(prefix="digits-bench-")
    try:
        started = time.monotonic()
        process = subprocess.Popen(
            [binary, "run", "--pipeline", pipeline, "--input", data, "--output", output, "--threads", str(threads)],
            stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        if process.returncode != 0:
            raise SystemExit(f"{pipeline}: pipeline exited with status {process.returncode}")
        seconds = {}
        for stage in STAGES:
            # An ensemble's train.2, … and a cross-validation's split.2, … count with their group.
            folders = [stage] + ([os.path.basename(f) for f in glob.glob(os.path.join(output, "cache", f"{stage}.*"))]
                                 if stage in ("split", "train") else [])
            manifests = [m for f in folders for m in glob.glob(os.path.join(output, "cache", f, "*", "manifest.json"))]
            seconds[stage] = sum(json.load(open(m))["seconds"] for m in manifests)
        metrics_path = glob.glob(os.path.join(output, "cache", "evaluate", "*", "metrics.json"))[0]
        accuracy = json.load(open(metrics_path))["accuracy"]
        peak_megabytes = usage.ru_maxrss / 1024  # Linux reports kilobytes
        return accuracy, seconds, wall, peak_megabytes
    finally:
        shutil.rmtree(output, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=".build/release/pipeline")
    parser.add_argument("--input", default="input/digit-recognizer.zip")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("pipelines", nargs="*",
                        default=["pipelines/seed.yaml", "pipelines/mlp.yaml", "pipelines/cnn.yaml",
                                 "pipelines/default.yaml"])
    args = parser.parse_args()

    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, threads={args.threads}",
          file=sys.stderr)
    header = ["pipeline", "validation accuracy"] + [f"{s} s" for s in STAGES] + ["total s", "peak memory MB"]
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for pipeline in args.pipelines:
        accuracy, seconds, wall, peak = run(args.binary, pipeline, args.input, args.threads)
        cells = [os.path.basename(pipeline), f"{accuracy * 100:.2f}%"]
        cells += [f"{seconds[s]:.2f}" for s in STAGES] + [f"{wall:.1f}", f"{peak:.0f}"]
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
