"""chain: 1000 small elementwise ops on a 3-vector, then a sum; the gradient.

With arrays this small every op costs what the system spends around it (dispatch, tracing,
recording a node, the pullback call), so time per op is the AD overhead per NumPy call.

The ops cycle through sin, ×1.01, tanh, exp, log. That cycle has a weakly attracting fixed
point (the map x → tanh(1.01·sin x) sits just past a pitchfork), so the value stays bounded
and the gradient after 200 cycles is small but far from underflow (about 1e-3 to 1e-5), which
keeps the correctness check meaningful.
"""
import numpy as np

from ..harness import Case
from ..peers import baseline, standard, wengert_compiled

NAME = "chain"
TITLE = "chain: elementwise ops on a 3-vector, gradient (forward + backward)"
UNIT = "op"
SCALE = 1.01


def cycle(xp):
    """The repeating ops, each one call of the namespace ``xp``."""
    return (xp.sin, lambda x: x * SCALE, xp.tanh, xp.exp, xp.log)


def loss(xp, data, x):
    ops = cycle(xp)
    for k in range(data["n_ops"]):
        x = ops[k % len(ops)](x)
    return xp.sum(x)


# --- the hand-written gradient --------------------------------------------------------------------
# d(op)/dx as a function of the op's input x and output y, in the order of ``cycle``.
DERIVATIVES = (
    lambda x, y: np.cos(x),
    lambda x, y: SCALE,
    lambda x, y: 1 - y * y,
    lambda x, y: y,
    lambda x, y: 1 / x,
)


def gradient_by_hand(data, x):
    ops = cycle(np)
    inputs, outputs = [], []
    for k in range(data["n_ops"]):
        inputs.append(x)
        x = ops[k % len(ops)](x)
        outputs.append(x)
    np.sum(x)                            # the value, computed as the AD systems do
    g = np.ones_like(x)
    for k in range(data["n_ops"] - 1, -1, -1):
        g = g * DERIVATIVES[k % len(ops)](inputs[k], outputs[k])
    return (g,)


def cases(quick):
    n_ops = 200 if quick else 1000
    x = np.array([0.3, -0.5, 1.2])
    return [Case(f"{n_ops} ops", {"n_ops": n_ops}, (x,), units=n_ops)]


def contenders(options):
    return [baseline(gradient_by_hand), *standard(loss), wengert_compiled(loss)]
