"""The reference for parsing: pandas.read_csv on train.csv and test.csv, timed in-process.

Usage: python bench/reference_parse.py TRAIN_CSV TEST_CSV   (a Python with pandas)
"""
import json, sys, time
import pandas as pd

start = time.perf_counter()
rows = len(pd.read_csv(sys.argv[1])) + len(pd.read_csv(sys.argv[2]))
print(json.dumps({"task": "parse", "seconds": time.perf_counter() - start, "rows": rows}))
