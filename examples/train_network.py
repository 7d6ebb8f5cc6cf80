"""Train a small network on a toy regression task with wg.Params and wengert.optim.

The model is a plain Python object holding NumPy arrays; its forward pass is plain NumPy.
wg.Params(model) collects its float arrays (the integer sizes and the float hyperparameter
are skipped), wg.gradient(loss, ps) differentiates with respect to them, and Adam updates
them in place, so the model object sees the new values. Prints the loss as it trains.

    python3 examples/train_network.py
"""
import numpy as np

import wengert as wg
from wengert import optim


class MLP:
    """Two hidden layers of tanh units."""

    def __init__(self, sizes, rng, weight_decay=1e-4):
        self.sizes = sizes                       # ints: not parameters
        self.weight_decay = weight_decay         # a float hyperparameter: not trained
        self.weights = [rng.standard_normal((m, n)) / np.sqrt(m)
                        for m, n in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.zeros(n) for n in sizes[1:]]

    def __call__(self, x):
        for w, b in zip(self.weights[:-1], self.biases[:-1]):
            x = np.tanh(x @ w + b)
        return x @ self.weights[-1] + self.biases[-1]

    def loss(self, x, y):
        fit = np.mean((self(x) - y) ** 2)
        decay = sum(np.sum(w * w) for w in self.weights)
        return fit + self.weight_decay * decay


def main():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2.0, 2.0, size=(256, 1))
    y = np.sin(2.0 * x) + 0.05 * rng.standard_normal(x.shape)

    model = MLP([1, 32, 32, 1], rng)
    ps = wg.Params(model)
    print(f"training {len(ps)} arrays, {sum(p.size for p in ps)} numbers")
    opt = optim.Adam(lr=0.01)

    first = model.loss(x, y)
    for step in range(1, 601):
        loss, gs = wg.withgradient(lambda: model.loss(x, y), ps)
        opt.step(ps, gs)
        if step % 100 == 0:
            print(f"step {step:4d}   loss {loss:.5f}")
    last = model.loss(x, y)
    print(f"loss {first:.4f} -> {last:.4f}")
    assert last < 0.05 * first, "the network should fit sin(2x) closely"

    # The same gradient against central finite differences, for one weight.
    w = model.weights[1]
    eps = 1e-6
    w[3, 4] += eps
    up = model.loss(x, y)
    w[3, 4] -= 2 * eps
    down = model.loss(x, y)
    w[3, 4] += eps
    by_differences = (up - down) / (2 * eps)
    by_wengert = wg.gradient(lambda: model.loss(x, y), ps)[w][3, 4]
    print(f"d loss / d W[3, 4]: wengert {by_wengert:.8f}, finite differences {by_differences:.8f}")
    assert abs(by_wengert - by_differences) < 1e-6


if __name__ == "__main__":
    main()
