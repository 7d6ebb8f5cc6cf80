"""mlp: a 3-layer tanh perceptron, 512 wide, batch 256, float64, MSE loss; the gradient with
respect to all weights and biases.

Here the time goes into three matrix products forward and six backward, so this measures
whether an AD system adds anything to the BLAS calls a hand-written backprop makes.
"""
import numpy as np

from ..harness import Case
from ..peers import baseline, standard, wengert_compiled

NAME = "mlp"
TITLE = "mlp: 3 tanh layers, float64, MSE loss, gradient w.r.t. all weights and biases"
UNIT = None


def loss(xp, data, w1, b1, w2, b2, w3, b3):
    h1 = xp.tanh(data["x"] @ w1 + b1)
    h2 = xp.tanh(h1 @ w2 + b2)
    residual = h2 @ w3 + b3 - data["y"]
    return xp.mean(residual ** 2)


def gradient_by_hand(data, w1, b1, w2, b2, w3, b3):
    x, y = data["x"], data["y"]
    h1 = np.tanh(x @ w1 + b1)
    h2 = np.tanh(h1 @ w2 + b2)
    residual = h2 @ w3 + b3 - y
    np.mean(residual ** 2)               # the value, computed as the AD systems do
    d_out = residual * (2 / residual.size)
    d_a2 = (d_out @ w3.T) * (1 - h2 * h2)
    d_a1 = (d_a2 @ w2.T) * (1 - h1 * h1)
    return (x.T @ d_a1, d_a1.sum(axis=0),
            h1.T @ d_a2, d_a2.sum(axis=0),
            h2.T @ d_out, d_out.sum(axis=0))


def make_case(batch, width, inputs, outputs, seed=0):
    rng = np.random.default_rng(seed)
    sizes = [inputs, width, width, outputs]
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params.append(rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in))
        params.append(0.1 * rng.standard_normal(fan_out))
    data = {"x": rng.standard_normal((batch, inputs)), "y": rng.standard_normal((batch, outputs))}
    label = f"batch {batch}, {inputs}→{width}→{width}→{outputs}"
    return Case(label, data, tuple(params))


def cases(quick):
    if quick:
        return [make_case(batch=32, width=64, inputs=64, outputs=10)]
    return [make_case(batch=256, width=512, inputs=512, outputs=10)]


def contenders(options):
    return [baseline(gradient_by_hand), *standard(loss), wengert_compiled(loss)]
