#!/usr/bin/env python3
"""Runs each shipped pipeline from an empty cache on the real dataset and prints, per pipeline,
the validation accuracy and the seconds each stage took, as a Markdown table.

Usage: bench/pipelines.py [--binary .build/release/pipeline] [--input input/digit-recognizer.zip]
                          [--threads N] [PIPELINE.yaml ...]

Figures come from the cache entries' manifests (each records its stage's run time) and from the
evaluate stage's metrics.json, so they are the pipeline's own measurements, not a wrapper's.
"""
import argparse, glob, json, os, shutil, subprocess, sys, tempfile, time

STAGES = ["unpack", "parse", "split", "normalise", "train", "evaluate", "predict", "report"]


def run(binary, pipeline, data, threads):
    output = tempfile.mkdtemp(prefix="digits-bench-")
    try:
        started = time.monotonic()
        subprocess.run(
            [binary, "run", "--pipeline", pipeline, "--input", data, "--output", output, "--threads", str(threads)],
            check=True, stdout=subprocess.DEVNULL)
        wall = time.monotonic() - started
        seconds = {}
        for stage in STAGES:
            manifests = glob.glob(os.path.join(output, "cache", stage, "*", "manifest.json"))
            seconds[stage] = json.load(open(manifests[0]))["seconds"]
        metrics_path = glob.glob(os.path.join(output, "cache", "evaluate", "*", "metrics.json"))[0]
        accuracy = json.load(open(metrics_path))["accuracy"]
        return accuracy, seconds, wall
    finally:
        shutil.rmtree(output, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=".build/release/pipeline")
    parser.add_argument("--input", default="input/digit-recognizer.zip")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("pipelines", nargs="*",
                        default=["pipelines/seed.yaml", "pipelines/mlp.yaml", "pipelines/default.yaml"])
    args = parser.parse_args()

    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, threads={args.threads}",
          file=sys.stderr)
    header = ["pipeline", "validation accuracy"] + [f"{s} s" for s in STAGES] + ["total s"]
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for pipeline in args.pipelines:
        accuracy, seconds, wall = run(args.binary, pipeline, args.input, args.threads)
        cells = [os.path.basename(pipeline), f"{accuracy * 100:.2f}%"]
        cells += [f"{seconds[s]:.2f}" for s in STAGES] + [f"{wall:.1f}"]
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
