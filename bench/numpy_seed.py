"""The reference for the seed network: the original numpy notebook's maths, as it was written
(float64, X stored as (784, m), one-hot rebuilt every iteration, the bias gradient summed over
all units as the notebook did), timed over 500 full-batch gradient-descent iterations.

Usage: python3 bench/numpy_seed.py TRAIN_CSV
Prints one JSON line: seconds for the 500 iterations and the dev-set accuracy.
"""
import json, sys, time
import numpy as np

# Loading is not timed; numpy's C number parser is just quicker to wait for than loadtxt.
with open(sys.argv[1]) as f:
    header = f.readline().split(",")
    data = np.fromstring(f.read().replace("\n", ","), sep=",").reshape(-1, len(header))
np.random.seed(0)
np.random.shuffle(data)
m, n = data.shape
data_dev = data[0:1000].T
Y_dev, X_dev = data_dev[0].astype(int), data_dev[1:n] / 255.
data_train = data[1000:m].T
Y_train, X_train = data_train[0].astype(int), data_train[1:n] / 255.


def init_params():
    W1 = np.random.rand(10, 784) - 0.5
    b1 = np.random.rand(10, 1) - 0.5
    W2 = np.random.rand(10, 10) - 0.5
    b2 = np.random.rand(10, 1) - 0.5
    return W1, b1, W2, b2


def ReLU(Z):
    return np.maximum(Z, 0)


def softmax(Z):
    return np.exp(Z) / sum(np.exp(Z))


def forward_prop(W1, b1, W2, b2, X):
    Z1 = W1.dot(X) + b1
    A1 = ReLU(Z1)
    Z2 = W2.dot(A1) + b2
    A2 = softmax(Z2)
    return Z1, A1, Z2, A2


def one_hot(Y):
    one_hot_Y = np.zeros((Y.size, Y.max() + 1))
    one_hot_Y[np.arange(Y.size), Y] = 1
    return one_hot_Y.T


def backward_prop(Z1, A1, Z2, A2, W1, W2, X, Y):
    m = Y.size
    dZ2 = A2 - one_hot(Y)
    dW2 = 1 / m * dZ2.dot(A1.T)
    db2 = 1 / m * np.sum(dZ2)
    dZ1 = W2.T.dot(dZ2) * (Z1 > 0)
    dW1 = 1 / m * dZ1.dot(X.T)
    db1 = 1 / m * np.sum(dZ1)
    return dW1, db1, dW2, db2


def update_params(W1, b1, W2, b2, dW1, db1, dW2, db2, alpha):
    return W1 - alpha * dW1, b1 - alpha * db1, W2 - alpha * dW2, b2 - alpha * db2


W1, b1, W2, b2 = init_params()
start = time.perf_counter()
for i in range(500):
    Z1, A1, Z2, A2 = forward_prop(W1, b1, W2, b2, X_train)
    dW1, db1, dW2, db2 = backward_prop(Z1, A1, Z2, A2, W1, W2, X_train, Y_train)
    W1, b1, W2, b2 = update_params(W1, b1, W2, b2, dW1, db1, dW2, db2, 0.10)
elapsed = time.perf_counter() - start
accuracy = float((np.argmax(forward_prop(W1, b1, W2, b2, X_dev)[3], 0) == Y_dev).mean())
print(json.dumps({"task": "seed", "seconds": elapsed, "validation_accuracy": accuracy}))
