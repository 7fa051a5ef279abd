"""The reference for prediction: the reference CNN in PyTorch (eval mode, no grad) on test.csv,
28,000 rows in batches of 1,000, timed in-process. Weights are random: the arithmetic is the same.

Usage: python bench/torch_predict.py TEST_CSV [THREADS]   (a Python with torch and pandas)
"""
import json, sys, time
import numpy as np, pandas as pd, torch, torch.nn as nn

threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
torch.set_num_threads(threads); torch.manual_seed(0)
X = torch.tensor(pd.read_csv(sys.argv[1]).to_numpy(np.float32) / 255.0).view(-1, 1, 28, 28)
model = nn.Sequential(
    nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(32),
    nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(32), nn.MaxPool2d(2), nn.Dropout(0.25),
    nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(64),
    nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(64), nn.MaxPool2d(2), nn.Dropout(0.25),
    nn.Flatten(), nn.Linear(64 * 7 * 7, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))
model.eval()
start = time.perf_counter()
with torch.no_grad():
    probabilities = torch.cat([torch.softmax(model(X[i:i + 1000]), 1) for i in range(0, len(X), 1000)])
print(json.dumps({"task": "predict", "seconds": time.perf_counter() - start, "rows": len(probabilities)}))
