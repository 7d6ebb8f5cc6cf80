"""A short tour of wengert: plain NumPy in, exact derivatives out."""
import numpy as np

import wengert as wg


def loss(w, x, y):
    """A least-squares loss written in ordinary NumPy."""
    residual = np.tanh(x @ w) - y
    return np.mean(residual ** 2)


rng = np.random.default_rng(0)
x = rng.standard_normal((20, 3))
y = rng.standard_normal(20)
w = np.array([0.5, -0.2, 0.1])

# 1. The gradient of a NumPy function, one gradient per argument (x and y get theirs too).
(dw, dx, dy) = wg.gradient(loss, w, x, y)
print("d loss / d w =", dw)

# 2. A pullback: the value, and a function mapping an output cotangent to input cotangents.
value, back = wg.pullback(lambda w: np.sin(w) * w, w)
print("sin(w)·w =", value, "  pulled back ones:", back(np.ones(3))[0])

# 3. Structured arguments: the gradient mirrors the structure.
params = {"scale": 2.0, "weights": [w, np.ones(3)]}
grads = wg.gradient(lambda p: np.sum(p["scale"] * p["weights"][0] * p["weights"][1]), params)[0]
print("gradient of a dict of parameters:", grads)

# 4. Python control flow just works; gradients of gradients too.
def f(t):
    while t < 10:
        t = t * 2
    return t ** 3

print("f'(3.0) =", wg.gradient(f, 3.0)[0], "  f''(3.0) =",
      wg.gradient(lambda t: wg.gradient(f, t)[0], 3.0)[0])
